"""Isolation points, transfer teams and transfers (隔离点, 转运专班, 隔离转运).

A transfer opens a `Stay` of a resident at a point; its release (home, hospital, another
point) ends it. A point's occupancy is always the number of its open stays, counted when
asked, never a stored counter that could drift from the stays.

The capacity check is a read-then-write, so it takes the point's row first: on PostgreSQL
`select_for_update()` holds the row until the transaction commits, on SQLite the write
transaction already opened with `BEGIN IMMEDIATE` (docs/architecture.md, "Transactions on
SQLite"). Two transfers for the last bed therefore queue on the point and the second one
counts the first one's stay: exactly one wins, the other gets `Conflict` and writes nothing.

Jurisdiction: a point (or team) is usually run by the district and serves every township
under it, so transfers go into any active point the actor *reaches*
(`policy.reaches`: inside the jurisdiction or at a region above it); the resident must
be inside. Creating or editing a point needs it inside (`MANAGE_TRANSFERS` on its region).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for, refusal
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.people.models import Resident
from frontline.territory.models import Level, Region

from .checks import clean_text as _text
from .checks import require as _require
from .models import DisinfectionLog, IsolationCase, IsolationPoint, Stay, TransferTeam

NAME_MAX = 100
TEXT_MAX = 200
CAPACITY_MAX = 5000
# A transfer records a move that happened (or is happening): a time further ahead than
# this is a typing mistake, not a plan.
FUTURE_SLACK = dt.timedelta(minutes=10)


# --- helpers -------------------------------------------------------------------------------


def _capacity(value: Any) -> int:
    try:
        capacity = int(value)
    except (TypeError, ValueError):
        capacity = -1
    if not 1 <= capacity <= CAPACITY_MAX:
        raise DomainError(
            _("The capacity is a whole number from 1 to %(n)d.") % {"n": CAPACITY_MAX}
        )
    return capacity


def _aware(at: Any, what: str) -> dt.datetime:
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise DomainError(_("The %(what)s needs a date, a time and a time zone.") % {"what": what})
    if at > timezone.now() + FUTURE_SLACK:
        raise DomainError(_("The %(what)s cannot be in the future.") % {"what": what})
    return at


def _audit(actor: Any, action: str, obj: Any, region: Any, detail: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        region=region,
        detail=detail,
    )


def _account_inside(actor: Any, user: Any) -> None:
    """An account added to a team or a point's staff: active, and one the actor can see."""
    if user is None or not getattr(user, "is_active", False):
        raise DomainError(_("Choose an active account."))
    if actor is not None and not policy_for(actor).contains(user.region):
        raise NotFound(_("No such account."))


# --- reads ---------------------------------------------------------------------------------


def open_stays() -> QuerySet[Stay]:
    return Stay.objects.filter(end__isnull=True)


def occupancy(point: IsolationPoint) -> int:
    """The number of people at the point now: its open stays."""
    return open_stays().filter(point=point).count()


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def with_figures(points: QuerySet[IsolationPoint], day: dt.date | None = None) -> QuerySet:
    """Points with `occupancy` (open stays) and `disinfected` (a log on `day`, default
    today) in the same query: one grouped query whatever the number of points."""
    start, end = day_window(day or timezone.localdate())
    return points.annotate(
        occupancy=Count("stays", filter=Q(stays__end__isnull=True)),
        disinfected=Exists(
            DisinfectionLog.objects.filter(point=OuterRef("pk"), at__gte=start, at__lt=end)
        ),
    )


def points_for(user: Any, region: Region | None = None) -> QuerySet[IsolationPoint]:
    """The points `user` reaches (inside or above the jurisdiction), under `region` if
    given, with their figures, by name."""
    points = policy_for(user).reachable_rows(IsolationPoint.objects.all())
    if region is not None:
        points = points.within(region)  # type: ignore[attr-defined]
    return with_figures(points.select_related("region")).order_by("name", "id")


def point_for(user: Any, pk: Any) -> IsolationPoint:
    """One point `user` reaches, with its figures; NotFound otherwise (no probing)."""
    try:
        return points_for(user).get(pk=pk)
    except (IsolationPoint.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Not found.")) from None


def teams_for(user: Any, region: Region | None = None) -> QuerySet[TransferTeam]:
    teams = policy_for(user).reachable_rows(TransferTeam.objects.all())
    if region is not None:
        teams = teams.within(region)  # type: ignore[attr-defined]
    return teams.select_related("region").order_by("name", "id")


def team_for(user: Any, pk: Any) -> TransferTeam:
    try:
        return teams_for(user).get(pk=pk)
    except (TransferTeam.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Not found.")) from None


def stays_for(user: Any) -> QuerySet[Stay]:
    """Stays of residents inside the jurisdiction, for those who may see transfers."""
    if not policy_for(user).sees_transfers:
        return Stay.objects.none()
    return Stay.objects.visible_to(user)  # type: ignore[attr-defined]


def stay_for(user: Any, pk: Any) -> Stay:
    """A stay the user may end: of a resident inside, or at a point they manage."""
    policy = policy_for(user)
    stay = (
        Stay.objects.select_related("point__region", "resident").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if stay is None or not (policy.contains(stay) or policy.contains(stay.point.region)):
        raise NotFound(_("Not found."))
    return stay


def transfers_on(user: Any, day: dt.date, region: Region | None = None) -> QuerySet[Stay]:
    """The transfers (stays opened) on a local day, of residents inside (under `region`)."""
    start, end = day_window(day)
    stays = stays_for(user).filter(start__gte=start, start__lt=end)
    if region is not None:
        stays = stays.within(region)  # type: ignore[attr-defined]
    return stays.select_related("resident", "point", "team").order_by("start", "id")


def transfer_figures(region: Region, day: dt.date | None = None) -> dict[str, int]:
    """For the health stats (CLI and API) of `region`: its isolation points in use, their
    capacity and occupancy (open stays), and the transfers of its residents on `day`
    (default today). Three aggregate queries whatever the size."""
    points = IsolationPoint.objects.within(region).filter(active=True)  # type: ignore[attr-defined]
    totals = points.aggregate(n=Count("id"), capacity=Sum("capacity"))
    start, end = day_window(day or timezone.localdate())
    return {
        "isolation_points": totals["n"] or 0,
        "capacity": totals["capacity"] or 0,
        "occupancy": open_stays().filter(point__in=points).count(),
        "transfers_today": Stay.objects.within(region)  # type: ignore[attr-defined]
        .filter(start__gte=start, start__lt=end)
        .count(),
    }


# --- isolation points ----------------------------------------------------------------------


def point_create(
    *,
    name: str,
    region: Region,
    capacity: Any,
    address: str = "",
    contact: str = "",
    phone: str = "",
    actor: Any,
) -> IsolationPoint:
    """A new isolation point at `region` (usually a district or township)."""
    _require(actor, Action.MANAGE_TRANSFERS, region)
    name = _text(name, NAME_MAX, _("name"), required=True)
    if region.level > Level.COMMUNITY:
        raise DomainError(_("An isolation point belongs to a district, township or community."))
    point = IsolationPoint(
        name=name,
        region=region,
        capacity=_capacity(capacity),
        address=_text(address, TEXT_MAX, _("address")),
        contact=_text(contact, 32, _("contact")),
        phone=_text(phone, 20, _("phone")),
    )
    point.locate(region)
    with transaction.atomic():
        if IsolationPoint.objects.filter(region=region, name=name).exists():
            raise Conflict(
                _("There is already an isolation point “%(name)s” at %(region)s.")
                % {"name": name, "region": region.display_path}
            )
        point.save()
        _audit(
            actor,
            AuditAction.POINT_CHANGE,
            point,
            region,
            {"op": "create", "name": name, "capacity": point.capacity},
        )
    return point


def point_set_capacity(*, point: IsolationPoint, capacity: Any, actor: Any) -> IsolationPoint:
    """Change the capacity; never below the people there now (they would have no bed)."""
    _require(actor, Action.MANAGE_TRANSFERS, point.region)
    capacity = _capacity(capacity)
    with transaction.atomic():
        # The row lock orders this against transfers into the point (see the module).
        locked = IsolationPoint.objects.select_for_update().get(pk=point.pk)
        now_there = occupancy(locked)
        if capacity < now_there:
            raise Conflict(
                _(
                    "%(point)s has %(n)d people now: its capacity cannot be %(capacity)d. "
                    "Release people first. Nothing was changed."
                )
                % {"point": locked.name, "n": now_there, "capacity": capacity}
            )
        old = locked.capacity
        IsolationPoint.objects.filter(pk=point.pk).update(capacity=capacity)
        _audit(
            actor,
            AuditAction.POINT_CHANGE,
            locked,
            point.region,
            {"op": "capacity", "from": old, "to": capacity},
        )
    point.capacity = capacity
    return point


def point_set_active(*, point: IsolationPoint, active: bool, actor: Any) -> IsolationPoint:
    """Take a point out of use (no new transfers; people there stay) or back into use."""
    _require(actor, Action.MANAGE_TRANSFERS, point.region)
    with transaction.atomic():
        IsolationPoint.objects.filter(pk=point.pk).update(active=bool(active))
        _audit(actor, AuditAction.POINT_CHANGE, point, point.region, {"active": bool(active)})
    point.active = bool(active)
    return point


def point_staff_add(*, point: IsolationPoint, user: Any, actor: Any) -> IsolationPoint:
    _require(actor, Action.MANAGE_TRANSFERS, point.region)
    _account_inside(actor, user)
    with transaction.atomic():
        point.staff.add(user)
        _audit(actor, AuditAction.POINT_CHANGE, point, point.region, {"staff_add": user.username})
    return point


def point_staff_remove(*, point: IsolationPoint, user: Any, actor: Any) -> IsolationPoint:
    _require(actor, Action.MANAGE_TRANSFERS, point.region)
    with transaction.atomic():
        point.staff.remove(user)
        _audit(
            actor, AuditAction.POINT_CHANGE, point, point.region, {"staff_remove": user.username}
        )
    return point


def disinfection_record(
    *,
    point: IsolationPoint,
    areas: str,
    note: str = "",
    at: dt.datetime | None = None,
    actor: Any,
) -> DisinfectionLog:
    """One disinfection (消杀) of a point: by its managers or its own staff."""
    if actor is not None and not policy_for(actor).can_record_disinfection(point):
        if not policy_for(actor).reaches(point):
            raise NotFound(_("Not found."))
        raise PermissionDenied(_("Only the point's staff or who manages it may record this."))
    log = DisinfectionLog(
        point=point,
        at=_aware(at or timezone.now(), _("time")),
        by=actor if getattr(actor, "pk", None) else None,
        areas=_text(areas, TEXT_MAX, _("areas"), required=True),
        note=_text(note, TEXT_MAX, _("note")),
    )
    log.locate(point.region)
    with transaction.atomic():
        log.save()
        _audit(
            actor,
            AuditAction.DISINFECTION,
            log,
            point.region,
            {"point": point.pk, "areas": log.areas},
        )
    return log


# --- transfer teams ------------------------------------------------------------------------


def team_create(
    *,
    name: str,
    region: Region,
    vehicle: str = "",
    leader: str = "",
    phone: str = "",
    members: tuple | list = (),
    other_members: str = "",
    actor: Any,
) -> TransferTeam:
    """A transfer team (转运专班) with its vehicle, leader and members: accounts, and the
    names of people without one (drivers, medical escorts)."""
    _require(actor, Action.MANAGE_TRANSFERS, region)
    name = _text(name, NAME_MAX, _("name"), required=True)
    for member in members:
        _account_inside(actor, member)
    team = TransferTeam(
        name=name,
        region=region,
        vehicle=_text(vehicle, 32, _("vehicle")),
        leader=_text(leader, 32, _("leader")),
        phone=_text(phone, 20, _("phone")),
        other_members=_text(other_members, TEXT_MAX, _("other members")),
    )
    team.locate(region)
    with transaction.atomic():
        if TransferTeam.objects.filter(region=region, name=name).exists():
            raise Conflict(
                _("There is already a transfer team “%(name)s” at %(region)s.")
                % {"name": name, "region": region.display_path}
            )
        team.save()
        if members:
            team.members.add(*members)
        _audit(
            actor,
            AuditAction.TEAM_CHANGE,
            team,
            region,
            {"op": "create", "name": name, "members": [m.username for m in members]},
        )
    return team


# --- transfers and stays -------------------------------------------------------------------


def _full(point: IsolationPoint) -> Conflict:
    return Conflict(
        _(
            "%(point)s is full: all %(capacity)d places are taken. Choose another point; "
            "nothing was written."
        )
        % {"point": point.name, "capacity": point.capacity}
    )


def _already_in(resident: Resident, point: IsolationPoint | None) -> Conflict:
    if point is None:
        return Conflict(
            _("%(name)s is already at an isolation point; nothing was written.")
            % {"name": resident.name}
        )
    return Conflict(
        _("%(name)s is already at %(point)s; end that stay first. Nothing was written.")
        % {"name": resident.name, "point": point.name}
    )


def transfer_create(
    *,
    resident: Resident,
    point: IsolationPoint,
    at: dt.datetime,
    team: TransferTeam | None = None,
    reason: str = "",
    actor: Any,
) -> Stay:
    """转运: move `resident` to `point` (with `team`) at `at`, opening a stay.

    Refuses with Conflict (409) when the point is full or the resident already has an open
    stay; then nothing is written. An open home-isolation case of the resident ends as
    `transferred` in the same transaction.
    """
    policy = policy_for(actor) if actor is not None else None
    if policy is not None:
        policy.require(Action.MANAGE_TRANSFERS, resident)
        if not policy.reaches(point):
            raise NotFound(_("Not found."))
        if team is not None and not policy.reaches(team):
            raise NotFound(_("Not found."))
    at = _aware(at, _("transfer time"))
    reason = _text(reason, TEXT_MAX, _("reason"))
    if resident.household.building is None:  # pragma: no cover - every household has one
        raise DomainError(_("This household has no building."))
    try:
        with transaction.atomic():
            # The point's row first: everything below is counted under its lock.
            locked = IsolationPoint.objects.select_for_update().get(pk=point.pk)
            if not locked.active:
                raise Conflict(
                    _("%(point)s is not in use; choose another point. Nothing was written.")
                    % {"point": locked.name}
                )
            current = open_stays().filter(resident=resident).select_related("point").first()
            if current is not None:
                raise _already_in(resident, current.point)
            if occupancy(locked) >= locked.capacity:
                raise _full(locked)
            stay = Stay(
                resident=resident,
                point=locked,
                team=team,
                reason=reason,
                start=at,
                transferred_by=actor if getattr(actor, "pk", None) else None,
            )
            stay.locate(resident.household.building)
            stay.save()
            closed = _close_home_isolation(resident, at=at, point=locked, actor=actor)
            _audit(
                actor,
                AuditAction.ISOLATION_TRANSFER,
                stay,
                resident.household.building,
                {
                    "resident": resident.pk,
                    "point": locked.pk,
                    "team": team.pk if team else None,
                    "at": at.isoformat(),
                    "home_isolation_closed": closed,
                },
            )
    except IntegrityError:
        # Another transfer of the same person into another point committed first (their
        # point locks are different rows): the one-open-stay constraint refused this one.
        raise _already_in(resident, None) from None
    return stay


def _close_home_isolation(
    resident: Resident, *, at: dt.datetime, point: IsolationPoint, actor: Any
) -> list[int]:
    """End the resident's open home-isolation case as transferred: a conditional UPDATE,
    so a case released meanwhile is left as it is."""
    cases = IsolationCase.objects.filter(resident=resident, status=IsolationCase.Status.OPEN)
    ids = list(cases.values_list("pk", flat=True))
    if not ids:
        return []
    cases.filter(pk__in=ids).update(
        status=IsolationCase.Status.TRANSFERRED,
        ended_at=at,
        ended_by=actor if getattr(actor, "pk", None) else None,
        end_note=(_("Transferred to %(point)s") % {"point": point.name})[:TEXT_MAX],
    )
    return ids


def stay_end(
    *,
    stay: Stay,
    at: dt.datetime,
    outcome: str,
    note: str = "",
    actor: Any,
) -> Stay:
    """Release from the point: home, to hospital, or moved to another point.

    A conditional `UPDATE ... WHERE end IS NULL`: a stay ended meanwhile by someone else is
    a Conflict and nothing changes.
    """
    if actor is not None:
        policy = policy_for(actor)
        if not (policy.contains(stay) or policy.contains(stay.point.region)):
            raise NotFound(_("Not found."))
        if not policy.can_end_stay(stay):
            raise PermissionDenied(refusal(Action.MANAGE_TRANSFERS))
    if outcome not in Stay.Outcome.values:
        raise DomainError(
            _("The outcome is one of: %(choices)s.") % {"choices": ", ".join(Stay.Outcome.values)}
        )
    at = _aware(at, _("time"))
    if at < stay.start:
        raise DomainError(_("A stay cannot end before it started."))
    note = _text(note, TEXT_MAX, _("note"))
    by = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        won = Stay.objects.filter(pk=stay.pk, end__isnull=True).update(
            end=at, outcome=outcome, end_note=note, ended_by=by
        )
        if won != 1:
            raise Conflict(
                _("%(name)s's stay has already ended; nothing was changed.")
                % {"name": stay.resident.name}
            )
        _audit(
            actor,
            AuditAction.STAY_END,
            stay,
            stay.building,
            {"point": stay.point_id, "outcome": outcome, "at": at.isoformat()},
        )
    stay.end, stay.outcome, stay.end_note, stay.ended_by = at, outcome, note, by
    return stay


# --- the demo city -------------------------------------------------------------------------

# The seed: "22 party transfer teams moved close contacts to 15 isolation points, each
# disinfected daily". Hotels and schools of 裕安区 and 金安区; (name, region path,
# address, capacity).
DEMO_POINTS: tuple[tuple[str, str, str, int], ...] = (
    ("裕安区皖西大酒店隔离点", "裕安区", "裕安区解放南路88号", 120),
    ("城南镇城南宾馆隔离点", "裕安区/城南镇", "城南镇城南大道126号", 60),
    ("裕安区职业技术学校隔离点", "裕安区", "裕安区高皇路19号", 200),
    ("苏埠镇苏埠中学隔离点", "裕安区/苏埠镇", "苏埠镇老街东侧", 150),
    ("裕安区锦江之星酒店隔离点", "裕安区", "裕安区梅山南路211号", 80),
    ("裕安区如家酒店隔离点", "裕安区", "裕安区佛子岭路36号", 70),
    ("罗集乡中心学校隔离点", "裕安区/罗集乡", "罗集乡罗集街", 100),
    ("城南镇城南中学隔离点", "裕安区/城南镇", "城南镇育才路5号", 180),
    ("鼓楼街道鼓楼宾馆隔离点", "金安区/鼓楼街道", "鼓楼街道人民路42号", 90),
    ("金安区皖西学院东校区隔离点", "金安区", "金安区月亮岛路1号", 300),
    ("金安区格林豪泰酒店隔离点", "金安区", "金安区皖西大道300号", 80),
    ("东市街道东市中学隔离点", "金安区/东市街道", "东市街道淠河路17号", 160),
    ("金安区汉庭酒店隔离点", "金安区", "金安区长江东路66号", 75),
    ("三里桥街道三里桥小学隔离点", "金安区/三里桥街道", "三里桥街道望城路8号", 120),
    ("木厂镇中心学校隔离点", "金安区/木厂镇", "木厂镇中心街", 110),
)
DEMO_TEAMS = (("裕安区", 12), ("金安区", 10))
_NUMERALS = "一二三四五六七八九十"
_LEADERS = (
    "张立军", "王春生", "李德明", "刘国庆", "陈志刚", "杨建华", "赵永红", "黄卫东",
    "周晓峰", "吴海涛", "徐长青", "孙文斌", "胡振宇", "朱玉林", "高明亮", "林国栋",
    "何建平", "郭新民", "马骏", "罗永胜", "梁洪波", "宋立新",
)  # fmt: skip
_ESCORTS = ("司机", "医护")
DEMO_DAY = dt.date(2026, 4, 6)
DEMO_CLOSE_CONTACT_BUILDING = "裕安区/城南镇/陡步河社区/安康小区/3栋"


def _numeral(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    return "十" + (_NUMERALS[n - 11] if n > 10 else "")


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def load_demo(users: dict, say: Any) -> None:
    """15 isolation points, 22 transfer teams, disinfection logs, and close contacts of
    安康小区 transferred to 城南镇's hotel on 6 April. Idempotent: what exists is kept."""
    from frontline.territory.models import Region

    admin = users.get("city_admin")
    regions = {
        r.path: r
        for r in Region.objects.filter(
            path__in={path for _n, path, _a, _c in DEMO_POINTS} | {p for p, _n in DEMO_TEAMS}
        )
    }
    points: dict[str, IsolationPoint] = {}
    created = 0
    for name, path, address, capacity in DEMO_POINTS:
        region = regions.get(path)
        if region is None:
            continue
        point = IsolationPoint.objects.filter(region=region, name=name).first()
        if point is None:
            point = point_create(
                name=name,
                region=region,
                capacity=capacity,
                address=address,
                contact=_LEADERS[len(points) % len(_LEADERS)],
                phone=f"1385564{len(points) + 1:04d}",
                actor=admin,
            )
            created += 1
        points[name] = point
    teams: list[TransferTeam] = []
    for path, count in DEMO_TEAMS:
        region = regions.get(path)
        if region is None:
            continue
        for n in range(1, count + 1):
            name = f"{path}党员转运{_numeral(n)}队"
            team = TransferTeam.objects.filter(region=region, name=name).first()
            if team is None:
                i = len(teams)
                members = (
                    [users["cadre"]] if path == "裕安区" and n == 1 and "cadre" in users else []
                )
                team = team_create(
                    name=name,
                    region=region,
                    vehicle=f"皖N{'ABDK'[i % 4]}{(i * 7919) % 9000 + 1000}",
                    leader=_LEADERS[i],
                    phone=f"1395564{i + 1:04d}",
                    members=members,
                    other_members=f"{_ESCORTS[0]}：{_LEADERS[-1 - i][0]}师傅；"
                    f"{_ESCORTS[1]}：{_LEADERS[(i + 5) % 22][0]}医生",
                    actor=admin,
                )
            teams.append(team)
    say(f"isolation points: {len(points)} ({created} new), transfer teams: {len(teams)}")
    # Daily disinfection (消杀) for three days around the transfers.
    for i, point in enumerate(points.values()):
        for day_offset in (-1, 0, 1):
            at = _local(DEMO_DAY + dt.timedelta(days=day_offset), 8, i * 3)
            if not DisinfectionLog.objects.filter(point=point, at=at).exists():
                disinfection_record(
                    point=point, areas="公共区域、走廊、电梯、房间门把手", at=at, actor=admin
                )
    hotel = points.get("城南镇城南宾馆隔离点")
    if hotel is None or not teams:
        return
    staff = users.get("community_staff")
    if staff is not None and not hotel.staff.filter(pk=staff.pk).exists():
        point_staff_add(point=hotel, user=staff, actor=admin)
    # A close contact's household of 安康小区's sealed 3栋: its adults are moved to the
    # hotel by the first team; the point then reports them as its occupancy.
    contacts = list(
        Resident.objects.filter(
            household__building__path=DEMO_CLOSE_CONTACT_BUILDING, away=False
        ).order_by("household__room", "household_id", "id")[:2]
    )
    actor = users.get("township_staff") or admin
    for k, resident in enumerate(contacts):
        if Stay.objects.filter(resident=resident, point=hotel).exists():
            continue
        transfer_create(
            resident=resident,
            point=hotel,
            at=_local(DEMO_DAY, 10, 30 + k),
            team=teams[0],
            reason="密切接触者",
            actor=actor,
        )
    say(f"transfers: {len(contacts)} close contacts of 安康小区 at {hotel.name}")
