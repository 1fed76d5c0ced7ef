"""Care for people with special needs (重点人群服务): scheduled services, their records,
missed occurrences, and medical staff assigned to controlled compounds.

A service repeats on ISO weekdays (1 = Monday … 7 = Sunday) at a local time between a
start and an optional end: a dialysis patient's closed-loop trip (闭环转运) Mon/Wed/Fri
07:30 with a vehicle and an escort, an elderly person's daily visit, a pregnant woman's
check-ups. Occurrences are computed from the schedule, never stored ahead; what is stored
is what happened: a `CareRecord` done (with a note) or, past the grace period with nothing
recorded, missed (written by the sweep, which tells the keeper and the grid chief).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError
from frontline.requests.notify import notify
from frontline.requests.supervision import chiefs_of, grid_of

from .checks import clean_text as _text
from .isolation import check_keeper
from .models import CareRecord, CareService, MedicalAssignment

TEXT_MAX = 100
NOTE_MAX = 200
SWEEP_LOOKBACK_DAYS = 2


def _name(user: Any) -> str:
    if user is None:
        return ""
    return (user.get_full_name() or user.username)[:150]


def parse_weekdays(value: str | Iterable[int]) -> str:
    """ "1,3,5" (or [1, 3, 5]) → "1,3,5": ISO weekdays, sorted, each once."""
    parts = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
    days: set[int] = set()
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        if not text.isdigit() or not 1 <= int(text) <= 7:
            raise DomainError(_("Weekdays are numbers from 1 (Monday) to 7 (Sunday), e.g. 1,3,5."))
        days.add(int(text))
    if not days:
        raise DomainError(_("Choose at least one weekday."))
    return ",".join(str(d) for d in sorted(days))


def parse_time(value: str | dt.time) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat((value or "").strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise DomainError(_("Give the time as HH:MM, e.g. 07:30.")) from None


def weekdays_of(service: CareService) -> set[int]:
    return {int(d) for d in service.weekdays.split(",") if d}


# Short weekday names, ISO order (1 = Monday): "周一" in Chinese, "Mon" in English.
WEEKDAY_NAMES = [
    pgettext_lazy("short weekday", "Mon"),
    pgettext_lazy("short weekday", "Tue"),
    pgettext_lazy("short weekday", "Wed"),
    pgettext_lazy("short weekday", "Thu"),
    pgettext_lazy("short weekday", "Fri"),
    pgettext_lazy("short weekday", "Sat"),
    pgettext_lazy("short weekday", "Sun"),
]


def weekday_names(weekdays: str) -> str:
    """ "1,3,5" → "周一、周三、周五" (Mon, Wed, Fri); all seven → "每天" (every day)."""
    days = sorted({int(d) for d in (weekdays or "").split(",") if d.strip().isdigit()})
    days = [d for d in days if 1 <= d <= 7]
    if len(days) == 7:
        return pgettext("weekdays", "every day")
    return pgettext("list separator", ", ").join(str(WEEKDAY_NAMES[d - 1]) for d in days)


def active_on(service: CareService, day: dt.date) -> bool:
    return service.start <= day and (service.end is None or day <= service.end)


def occurrence(service: CareService, day: dt.date) -> dt.datetime | None:
    """When the service is due on `day` (local time), or None if it is not due that day."""
    if not active_on(service, day) or day.isoweekday() not in weekdays_of(service):
        return None
    return timezone.make_aware(dt.datetime.combine(day, service.time))


def expected(service: CareService, due: dt.datetime) -> bool:
    """Whether anyone owed the occurrence `due`: one due before the service was set up
    (a service created at noon with a 07:30 trip) is not shown, counted or swept as missed."""
    return due > service.created_at


def occurrences(service: CareService, first: dt.date, last: dt.date) -> list[dt.datetime]:
    out = []
    day = first
    while day <= last:
        due = occurrence(service, day)
        if due is not None:
            out.append(due)
        day += dt.timedelta(days=1)
    return out


def _audit(service: CareService, *, actor, action, detail, ip) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="care_service",
        object_id=service.pk,
        region=service.resident.household.building,
        detail=detail,
        ip=ip,
    )


# --- services and records ------------------------------------------------------------------

KEEPER_CHOICES_MAX = 200


def keeper_candidates(resident: Any, on: dt.date | None = None) -> list[Any]:
    """The active accounts who may keep a service of `resident`, as `check_keeper` decides
    (a role that records health visits, a jurisdiction holding the resident): those placed
    at the resident's building or one of its ancestors (or the city). Fewest running
    services first, then by name; each carries `open_services`. One query."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from frontline.accounts.policy import roles_with
    from frontline.territory.models import ANCESTOR_FIELDS, Level, Region

    on = on or timezone.localdate()
    places = [getattr(resident, f"{name}_id", None) for name in ANCESTOR_FIELDS]
    running = Q(care_services__end__isnull=True) | Q(care_services__end__gte=on)
    users = (
        get_user_model()
        .objects.filter(is_active=True, role__in=roles_with(Action.RECORD_HEALTH_VISIT))
        .filter(
            Q(region_id__in=[p for p in places if p is not None])
            | Q(region__in=Region.objects.filter(level=Level.CITY))
        )
        .select_related("region")
        .annotate(open_services=Count("care_services", filter=running))
        .order_by("open_services", "first_name", "username")[:KEEPER_CHOICES_MAX]
    )
    return [u for u in users if policy_for(u).can(Action.RECORD_HEALTH_VISIT, resident)]


def keeper_label(user: Any) -> str:
    """ "陈志强（chenzq）": the name people know, and the username the API takes."""
    name = user.get_full_name() or user.username
    return _("%(name)s (%(username)s)") % {"name": name, "username": user.username}


def service_create(
    *,
    resident: Any,
    kind: str,
    weekdays: str | Iterable[int],
    time: str | dt.time,
    destination: str = "",
    vehicle: str = "",
    escort: str = "",
    keeper: Any = None,
    start: dt.date,
    end: dt.date | None = None,
    note: str = "",
    actor: Any,
    ip: str | None = None,
) -> CareService:
    """Set up a scheduled service for one resident, kept by `keeper` (optional)."""
    policy_for(actor).require(Action.MANAGE_ISOLATION, resident)
    if kind not in CareService.Kind.values:
        raise DomainError(
            _("The kind is one of: %(choices)s.") % {"choices": ", ".join(CareService.Kind.values)}
        )
    days = parse_weekdays(weekdays)
    at = parse_time(time)
    if start is None:
        raise DomainError(_("Give the start."))
    if end is not None and end < start:
        raise DomainError(_("The end cannot be before the start."))
    if keeper is not None:
        check_keeper(keeper, resident)
    if resident.household.building is None:
        raise DomainError(_("This household has no building."))
    service = CareService(
        resident=resident,
        kind=kind,
        weekdays=days,
        time=at,
        destination=_text(destination, TEXT_MAX, _("destination")),
        vehicle=_text(vehicle, 32, _("vehicle")),
        escort=_text(escort, 32, _("escort")),
        keeper=keeper,
        start=start,
        end=end,
        note=_text(note, NOTE_MAX, _("note")),
    )
    service.locate(resident.household.building)
    with transaction.atomic():
        service.save()
        _audit(
            service,
            actor=actor,
            action=AuditAction.CARE_SERVICE,
            detail={
                "resident": resident.pk,
                "kind": kind,
                "weekdays": days,
                "time": at.strftime("%H:%M"),
                "keeper": keeper.username if keeper else None,
            },
            ip=ip,
        )
    return service


def service_end(
    *,
    service: CareService,
    end: dt.date,
    reason: str = "",
    actor: Any,
    ip: str | None = None,
) -> CareService:
    """End a service (the person moved, the treatment ended): its last day is `end`.

    An end before the start, or before an occurrence already recorded done, is refused;
    a service already ended on or before `end` is a Conflict (ending it later would
    revive it; set up a new one instead). One conditional UPDATE, audited."""
    policy_for(actor).require(Action.MANAGE_ISOLATION, service)
    if end is None:
        raise DomainError(_("Give the last day of the service."))
    if end < service.start:
        raise DomainError(_("The end cannot be before the start."))
    reason = _text(reason, NOTE_MAX, _("reason"))
    after = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    done_after = CareRecord.objects.filter(
        service=OuterRef("pk"), status=CareRecord.Status.DONE, due__gte=after
    )
    with transaction.atomic():
        # One statement decides: still running past `end`, nothing done after it.
        won = (
            CareService.objects.filter(pk=service.pk)
            .filter(Q(end__isnull=True) | Q(end__gt=end))
            .exclude(Exists(done_after))
            .update(end=end)
        )
        if won != 1:
            last = (
                CareRecord.objects.filter(
                    service=service, status=CareRecord.Status.DONE, due__gte=after
                )
                .order_by("-due")
                .values_list("due", flat=True)
                .first()
            )
            if last is not None:
                raise DomainError(
                    _("The service was done on %(day)s: it cannot end before that day.")
                    % {"day": timezone.localdate(last).isoformat()}
                )
            # Quote the end it really has, not the day asked for.
            ends = CareService.objects.filter(pk=service.pk).values_list("end", flat=True).first()
            raise Conflict(
                _("This service already ends on %(day)s. Nothing was changed.")
                % {"day": ends.isoformat() if ends else end.isoformat()}
            )
        _audit(
            service,
            actor=actor,
            action=AuditAction.CARE_SERVICE_END,
            detail={
                "resident": service.resident_id,
                "from": service.end.isoformat() if service.end else None,
                "end": end.isoformat(),
                "reason": reason,
            },
            ip=ip,
        )
    service.end = end
    return service


def care_record(
    *,
    service: CareService,
    due: dt.datetime,
    status: str = CareRecord.Status.DONE,
    note: str = "",
    actor: Any,
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> CareRecord:
    """Record an occurrence as done. One already marked missed becomes done (the trip
    happened late); one already done is a conflict."""
    policy_for(actor).require_health_visit(service)
    if status != CareRecord.Status.DONE:
        raise DomainError(_("Only a done service can be recorded; missed ones are flagged."))
    note = _text(note, NOTE_MAX, _("note"))
    if due is None or timezone.is_naive(due):
        raise DomainError(_("Give the time it was due, with its time zone."))
    day = timezone.localdate(due)
    if occurrence(service, day) != due:
        raise DomainError(
            _("The service is not due at %(due)s: its schedule is weekdays %(days)s at %(time)s.")
            % {
                "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
                "days": weekday_names(service.weekdays),
                "time": service.time.strftime("%H:%M"),
            }
        )
    if day > timezone.localdate():
        raise DomainError(_("A service cannot be recorded for a day still to come."))
    at = at or timezone.now()
    by = actor if getattr(actor, "pk", None) else None
    record = CareRecord(service=service, due=due, status=CareRecord.Status.DONE, at=at, by=by)
    record.note = note
    record.locate(service.resident.household)
    with transaction.atomic():
        late = CareRecord.objects.filter(
            service=service, due=due, status=CareRecord.Status.MISSED
        ).update(status=CareRecord.Status.DONE, at=at, by=by, note=note)
        if late:
            record = CareRecord.objects.get(service=service, due=due)
        else:
            try:
                with transaction.atomic():
                    record.save()
            except IntegrityError:
                raise Conflict(
                    _("This occurrence (%(due)s) is already recorded. Nothing was changed.")
                    % {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
                ) from None
        _audit(
            service,
            actor=actor,
            action=AuditAction.CARE_RECORD,
            detail={"due": due.isoformat(), "late": bool(late)},
            ip=ip,
        )
    return record


def services_for(user: Any, region: Any = None) -> QuerySet:
    qs = CareService.objects.visible_to(user)
    if region is not None:
        qs = qs.within(region)
    return qs.select_related("resident__household__building", "keeper")


def services_running(user: Any, region: Any, on: dt.date) -> QuerySet:
    """The services of `region` inside the user's jurisdiction not ended before `on`."""
    return (
        services_for(user, region)
        .filter(Q(end__isnull=True) | Q(end__gte=on))
        .order_by("resident__household__building__path", "resident__name", "kind", "id")
    )


def schedule(services: Iterable[CareService], day: dt.date, now: dt.datetime) -> list[dict]:
    """The day's occurrences of `services`, in time order, each done / due / missed (one
    query for the records of all of them)."""
    due: list[tuple[CareService, dt.datetime]] = []
    for s in services:
        if (d := occurrence(s, day)) is not None:
            due.append((s, d))
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    records = {
        (r.service_id, r.due): r
        for r in CareRecord.objects.filter(
            service_id__in=[s.pk for s, _d in due],
            due__gte=start,
            due__lt=start + dt.timedelta(days=1),
        )
    }
    grace = dt.timedelta(minutes=settings.FRONTLINE_CARE_GRACE_MINUTES)
    rows: list[dict[str, Any]] = []
    for service, at in due:
        record = records.get((service.pk, at))
        if record is None and not expected(service, at):
            continue  # due before the service existed: nobody owed it
        if record is not None:
            state = record.status
        elif at + grace <= now:
            state = CareRecord.Status.MISSED
        else:
            state = "due"
        rows.append({"service": service, "due": at, "record": record, "state": state})
    rows.sort(key=lambda r: (r["due"], r["service"].kind, r["service"].pk))
    return rows


# --- the sweep -----------------------------------------------------------------------------


def care_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark occurrences past their grace period with nothing recorded as missed, and tell
    the keeper and the grid chief."""
    now = now or timezone.now()
    counts = {"care_missed": 0, "care_notified": 0}
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=SWEEP_LOOKBACK_DAYS)
    grace = dt.timedelta(minutes=settings.FRONTLINE_CARE_GRACE_MINUTES)
    services = list(
        CareService.objects.filter(start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=first))
        .select_related("resident__household__building", "keeper")
    )
    recorded = set(
        CareRecord.objects.filter(
            service_id__in=[s.pk for s in services],
            due__gte=timezone.make_aware(dt.datetime.combine(first, dt.time.min)),
        ).values_list("service_id", "due")
    )
    for service in services:
        for due in occurrences(service, first, today):
            # Due before the service existed, or still within its grace: not missed.
            if not expected(service, due) or due + grace > now:
                continue
            if (service.pk, due) in recorded:
                continue
            record = CareRecord(service=service, due=due, status=CareRecord.Status.MISSED, at=now)
            record.locate(service.resident.household)
            try:
                with transaction.atomic():
                    record.save()
            except IntegrityError:
                continue  # recorded or flagged a moment ago
            counts["care_missed"] += 1
            counts["care_notified"] += _notify_missed(service, due)
    return counts


def _notify_missed(service: CareService, due: dt.datetime) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Missed: %(kind)s for %(name)s, due %(due)s") % {
            "kind": service.get_kind_display(),
            "name": service.resident.name,
            "due": timezone.localtime(due).strftime("%m-%d %H:%M"),
        }
        body = service.resident.household.address
    compound_id = service.resident.compound_id
    return notify(
        recipients=[service.keeper, *chiefs_of(grid_of(service))],  # type: ignore[arg-type]
        subject=subject,
        body=body,
        url=reverse("care_schedule")
        + f"?region={compound_id}&day={timezone.localdate(due).isoformat()}",
    )


# --- medical staff (医护人员) ---------------------------------------------------------------


def assignment_create(
    *,
    region: Any,
    name: str,
    organisation: str = "",
    phone: str = "",
    user: Any = None,
    start: dt.date,
    end: dt.date | None = None,
    actor: Any,
    ip: str | None = None,
) -> MedicalAssignment:
    policy_for(actor).require(Action.MANAGE_ISOLATION, region)
    name = _text(name, 32, _("name"))
    if not name:
        raise DomainError(_("Give the name."))
    if start is None:
        raise DomainError(_("Give the start."))
    if end is not None and end < start:
        raise DomainError(_("The end cannot be before the start."))
    assignment = MedicalAssignment(
        region=region,
        name=name,
        organisation=_text(organisation, TEXT_MAX, _("hospital or clinic")),
        phone=_text(phone, 20, _("phone")),
        user=user,
        start=start,
        end=end,
    )
    assignment.locate(region)
    with transaction.atomic():
        assignment.save()
        audit_record(
            actor=actor,
            action=AuditAction.MEDICAL_ASSIGNMENT,
            object_type="medical_assignment",
            object_id=assignment.pk,
            region=region,
            detail={"step": "assign", "name": name, "start": start.isoformat()},
            ip=ip,
        )
    return assignment


def assignment_end(
    *, assignment: MedicalAssignment, end: dt.date, actor: Any, ip: str | None = None
) -> MedicalAssignment:
    policy_for(actor).require(Action.MANAGE_ISOLATION, assignment)
    if end < assignment.start:
        raise DomainError(_("The end cannot be before the start."))
    with transaction.atomic():
        won = MedicalAssignment.objects.filter(pk=assignment.pk, end__isnull=True).update(end=end)
        if won != 1:
            raise Conflict(_("This assignment has already ended. Nothing was changed."))
        audit_record(
            actor=actor,
            action=AuditAction.MEDICAL_ASSIGNMENT,
            object_type="medical_assignment",
            object_id=assignment.pk,
            region=assignment.region,
            detail={"step": "end", "end": end.isoformat()},
            ip=ip,
        )
    assignment.end = end
    return assignment


def assignments_for(user: Any, region: Any = None, on: dt.date | None = None) -> QuerySet:
    qs = MedicalAssignment.objects.visible_to(user)
    if region is not None:
        qs = qs.within(region)
    if on is not None:
        qs = qs.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gte=on))
    return qs.select_related("region")


# --- demo ----------------------------------------------------------------------------------

DEMO_START = dt.date(2026, 4, 4)
DEMO_DAYS = 7
# The two hospitals of the seed's closed loop, and a vehicle and escort per pair of patients.
_DIALYSIS = [
    ("六安市人民医院血液透析中心", "皖N·D0101", "胡医生"),
    ("六安市人民医院血液透析中心", "皖N·D0101", "胡医生"),
    ("六安市中医院肾病科", "皖N·D0102", "邵护士"),
    ("六安市中医院肾病科", "皖N·D0102", "邵护士"),
    ("六安市人民医院血液透析中心", "皖N·D0103", "丁医生"),
]
_MEDICAL = [
    ("裕安区/城南镇/陡步河社区/安康小区", "周红梅", "城南镇卫生院", "13905640111"),
    ("裕安区/城南镇/陡步河社区/安康小区", "黄建军", "城南镇卫生院", "13905640112"),
    ("裕安区/城南镇/城南社区/创业小区", "程丽", "城南镇卫生院", "13905640113"),
    ("六安经济技术开发区/城东街道/远大社区/玫瑰园小区", "魏晓东", "城东街道社区卫生服务中心", ""),
]


def load_demo(users: dict, say) -> None:
    """创业小区's 5 dialysis patients on closed-loop trips (Mon/Wed/Fri 07:30), 玫瑰园小区's
    elderly living alone visited daily, medical staff at the controlled compounds; with
    the first week's records. Idempotent: a service is found by resident and kind, a record
    by its occurrence, an assignment by place and name."""
    from frontline.people.models import CareGroup, Resident
    from frontline.territory.models import Region

    manager = users.get("township_staff")
    admin = users.get("city_admin")
    if manager is None or admin is None:
        return
    created = records = 0

    def ensure(resident, kind, weekdays, time, keeper, actor, **extra):
        nonlocal created
        service = CareService.objects.filter(resident=resident, kind=kind).first()
        if service is None:
            service = service_create(
                resident=resident,
                kind=kind,
                weekdays=weekdays,
                time=time,
                keeper=keeper,
                start=DEMO_START,
                actor=actor,
                **extra,
            )
            # Set up before the first trip, not when the demo happens to load.
            when = timezone.make_aware(dt.datetime.combine(DEMO_START, dt.time(0, 0)))
            CareService.objects.filter(pk=service.pk).update(created_at=when)
            service.created_at = when
            created += 1
        return service

    def record_week(service, by, note):
        nonlocal records
        for due in occurrences(service, DEMO_START, DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)):
            if due.date() > timezone.localdate():
                break
            if CareRecord.objects.filter(service=service, due=due).exists():
                continue
            care_record(service=service, due=due, note=note, actor=by, at=due)
            records += 1

    def residents(path: str, group: str):
        return list(
            Resident.objects.filter(
                household__building__path__startswith=path + "/", care_groups__group=group
            )
            .select_related("household__building")
            .order_by("household__building__path", "household__room", "id")
        )

    dialysis_keeper = users.get("grid_worker_chuangye")
    for resident, (hospital, vehicle, escort) in zip(
        residents("裕安区/城南镇/城南社区/创业小区", CareGroup.DIALYSIS), _DIALYSIS, strict=False
    ):
        service = ensure(
            resident,
            CareService.Kind.DIALYSIS,
            "1,3,5",
            "07:30",
            dialysis_keeper,
            manager,
            destination=hospital,
            vehicle=vehicle,
            escort=escort,
            note="闭环转运：专车接送，点对点，往返不停留",
        )
        record_week(service, dialysis_keeper or manager, "已接送，透析后送返")

    for resident in residents(
        "六安经济技术开发区/城东街道/远大社区/玫瑰园小区", CareGroup.ELDERLY_ALONE
    ):
        service = ensure(
            resident,
            CareService.Kind.ELDERLY_VISIT,
            "1,2,3,4,5,6,7",
            "09:00",
            None,
            admin,
            note="每日上门或电话问候，代购药品和生活物资",
        )
        record_week(service, admin, "已上门，身体状况良好")

    pregnant = residents("裕安区/城南镇/陡步河社区/安康小区", CareGroup.PREGNANT)[:1]
    for resident in pregnant:
        ensure(
            resident,
            CareService.Kind.PRENATAL,
            "2",
            "09:00",
            users.get("grid_worker"),
            manager,
            destination="六安市妇幼保健院",
            vehicle="皖N·D0104",
            escort="城南镇卫生院 周红梅",
        )

    assigned = 0
    for path, name, organisation, phone in _MEDICAL:
        region = Region.objects.filter(path=path).first()
        if region is None or MedicalAssignment.objects.filter(region=region, name=name).exists():
            continue
        assignment_create(
            region=region,
            name=name,
            organisation=organisation,
            phone=phone,
            start=DEMO_START,
            actor=admin,
        )
        assigned += 1
    say(f"care services: {created} set up, {records} records; medical staff: {assigned} assigned")


def care_figures(region: Any, day: dt.date | None = None) -> dict[str, int]:
    """For the health stats (h-zones): care occurrences due on `day` (default today) in
    `region`, and how many of them are missed (recorded missed, or past the grace)."""
    day = day or timezone.localdate()
    services = (
        CareService.objects.within(region)
        .filter(start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gte=day))
        .filter(weekdays__contains=str(day.isoweekday()))
    )
    rows = schedule(services, day, timezone.now())
    return {
        "care_due_today": len(rows),
        "care_missed_today": sum(1 for r in rows if r["state"] == CareRecord.Status.MISSED),
    }
