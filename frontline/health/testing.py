"""Testing rounds (核酸检测): rounds over regions, pooled tubes, coverage, results, retests.

A round covers a set of regions on a day; every resident living there and not away is
expected (应检尽检). Samplers put residents into (pooled) tubes of up to `tube_size`
(混管, 1–20); a resident is in at most one tube of a round, which the database enforces
too (`Sample(round, resident)` is unique), so two phones ticking the same person at once
cannot both win: the loser gets the same 409 as if it had asked a second later.

A round is not `Located` (it may span several compounds worked by different people): it
is visible to whoever's jurisdiction meets one of its regions (`rounds_visible_to`), and
everything inside it (expected residents, tubes, coverage, retests) is confined to the
caller's jurisdiction as usual.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError, NotFound
from frontline.people.models import CareGroup, Resident, ResidentCareGroup
from frontline.territory.models import ANCESTOR_FIELDS, LEVEL_FIELDS, Level, Region

from .models import (
    RiskZone,
    RoundRegion,
    Sample,
    SamplingPoint,
    TestingRound,
    Tube,
    TubeResult,
    ZoneLevel,
)

TUBE_SIZE_MIN = 1
TUBE_SIZE_MAX = 20
TUBE_SIZE_DEFAULT = 10
CODE_MAX = 40
NAME_MAX = 100
# Tube codes come from a scanner or a thumb: letters, digits and the separators labels use.
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_./]*$")
# Those sampled at home rather than at a point (上门): bedridden and elderly people.
DOOR_CARE_GROUPS = (CareGroup.ELDERLY_ALONE, CareGroup.DISABLED)


# --- which rounds, which residents ---------------------------------------------------------


def _region_q(region: Region, prefix: str = "") -> Q:
    """Rows located within `region` (an empty Q, everything, for the city)."""
    if region.level == Level.CITY:
        return Q()
    return Q(**{f"{prefix}{LEVEL_FIELDS[region.level]}_id": region.pk})


def _within_any(regions: Iterable[Region], prefix: str = "") -> Q:
    """Rows located within any of `regions`; matches nothing for none."""
    q = Q(pk__in=[])
    for region in regions:
        if region.level == Level.CITY:
            return Q()
        q |= _region_q(region, prefix)
    return q


def rounds_visible_to(user: Any) -> QuerySet[TestingRound]:
    """The rounds one of whose regions lies inside the jurisdiction or contains it."""
    policy = policy_for(user)
    home = policy.jurisdiction
    if home is None or not policy.can(Action.VIEW):
        return TestingRound.objects.none()
    if home.level == Level.CITY:
        return TestingRound.objects.all()
    around = [getattr(home, f"{name}_id") for name in ANCESTOR_FIELDS]
    meets = RoundRegion.objects.filter(
        Q(round=OuterRef("pk"))
        & (
            _region_q(home)
            | Q(region_id__in=[pk for pk in around if pk])
            | Q(region__level=Level.CITY)
        )
    )
    return TestingRound.objects.filter(Exists(meets))


def round_for(user: Any, pk: Any) -> TestingRound:
    """One round the user may see; NotFound (a 404) otherwise, like an id that is not."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    found = rounds_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Not found."))
    return found


def round_regions(round: TestingRound) -> list[Region]:
    cached = getattr(round, "_regions_cache", None)
    if cached is None:
        cached = [rr.region for rr in round.regions.select_related("region").order_by("id")]
        round._regions_cache = cached  # type: ignore[attr-defined]
    return cached


def round_regions_for(round: TestingRound, user: Any) -> list[Region]:
    """The round's regions the user may know of: inside the jurisdiction or around it."""
    policy = policy_for(user)
    home = policy.jurisdiction
    if home is None:
        return []
    return [r for r in round_regions(round) if policy.contains(r) or home.is_within(r)]


def _in_round(round: TestingRound, prefix: str = "") -> Q:
    return _within_any(round_regions(round), prefix)


def region_in_round(round: TestingRound, region: Region) -> bool:
    return any(region.is_within(r) for r in round_regions(round))


def expected_residents(
    round: TestingRound, user: Any, region: Region | None = None
) -> QuerySet[Resident]:
    """应检尽检: residents living in the round's regions (within `region`), not away, that
    the user may see."""
    residents = Resident.objects.visible_to(user).filter(_in_round(round)).filter(away=False)
    if region is not None:
        residents = residents.within(region)
    return residents


def _sampled(round: TestingRound) -> Exists:
    return Exists(Sample.objects.filter(round=round, resident=OuterRef("pk")))


def missing_residents(
    round: TestingRound, user: Any, region: Region | None = None
) -> QuerySet[Resident]:
    """Expected and not in any tube of the round yet, in building and room order."""
    return (
        expected_residents(round, user, region)
        .exclude(_sampled(round))
        .select_related("household", "building")
        .order_by("building__path", "household__unit", "household__room", "birth_date", "id")
    )


# --- coverage ------------------------------------------------------------------------------


@dataclass
class Coverage:
    region: Region | None
    expected: int = 0
    sampled: int = 0
    # A compound's buildings on the progress board.
    parts: list[Coverage] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.expected - self.sampled

    @property
    def percent(self) -> int:
        return round(100 * self.sampled / self.expected) if self.expected else 0


@dataclass
class Board:
    """A round's progress within a region: the total, per compound and per building."""

    total: Coverage
    compounds: list[Coverage] = field(default_factory=list)


def coverage(round: TestingRound, user: Any, region: Region | None = None) -> Coverage:
    """Expected, sampled, missing: one aggregate query."""
    figures = expected_residents(round, user, region).aggregate(
        expected=Count("id"), sampled=Count("id", filter=_sampled(round))
    )
    return Coverage(region, figures["expected"] or 0, figures["sampled"] or 0)


def coverage_board(round: TestingRound, user: Any, region: Region | None = None) -> Board:
    """Coverage per compound and building: one grouped query and one for the names."""
    rows = list(
        expected_residents(round, user, region)
        .order_by()
        .values("compound_id", "building_id")
        .annotate(expected=Count("id"), sampled=Count("id", filter=_sampled(round)))
    )
    ids = {r["compound_id"] for r in rows} | {r["building_id"] for r in rows}
    names = Region.objects.in_bulk([i for i in ids if i])
    total = Coverage(region)
    compounds: dict[int, Coverage] = {}
    for row in rows:
        total.expected += row["expected"]
        total.sampled += row["sampled"]
        compound = compounds.setdefault(row["compound_id"], Coverage(names.get(row["compound_id"])))
        compound.expected += row["expected"]
        compound.sampled += row["sampled"]
        compound.parts.append(
            Coverage(names.get(row["building_id"]), row["expected"], row["sampled"])
        )
    from frontline.territory.queries import natural_key

    def key(c: Coverage) -> tuple:
        return natural_key(c.region.path if c.region is not None else "")

    ordered = sorted(compounds.values(), key=key)
    for compound in ordered:
        compound.parts.sort(key=key)
    return Board(total, ordered)


# --- door to door --------------------------------------------------------------------------


def sealed_now(at: dt.datetime | None = None) -> QuerySet[RiskZone]:
    at = at or timezone.now()
    return RiskZone.objects.filter(level=ZoneLevel.SEALED, since__lte=at).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gt=at)
    )


def door_to_door(round: TestingRound, user: Any, region: Region | None = None):
    """Residents sampled at home: those in sealed buildings (a sealed zone in force on the
    building or a place around it) and the bedridden and elderly (care groups)."""
    zones = sealed_now()
    regions = zones.values("region_id")
    sealed = Q(pk__in=[])
    for name in ANCESTOR_FIELDS:
        sealed |= Q(**{f"{name}_id__in": regions})
    in_sealed: Any = ExpressionWrapper(sealed, output_field=BooleanField())
    if zones.filter(region__level=Level.CITY).exists():
        in_sealed = Value(True)
    care = Exists(
        ResidentCareGroup.objects.filter(resident=OuterRef("pk"), group__in=DOOR_CARE_GROUPS)
    )
    return (
        expected_residents(round, user, region)
        .annotate(in_sealed=in_sealed, needs_care=care, sampled=_sampled(round))
        .filter(Q(in_sealed=True) | Q(needs_care=True))
        .select_related("household", "building")
        .order_by("building__path", "household__unit", "household__room", "birth_date", "id")
    )


# --- writes --------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the round a name."))
    if len(name) > NAME_MAX:
        raise DomainError(_("The name is at most %(n)d characters.") % {"n": NAME_MAX})
    return name


def check_tube_size(size: Any) -> int:
    try:
        value = int(size)
    except (TypeError, ValueError):
        value = 0
    if not TUBE_SIZE_MIN <= value <= TUBE_SIZE_MAX:
        raise DomainError(
            _("A tube holds from %(min)d to %(max)d residents.")
            % {"min": TUBE_SIZE_MIN, "max": TUBE_SIZE_MAX}
        )
    return value


def round_create(
    *,
    name: str,
    date: dt.date,
    regions: Sequence[Region],
    tube_size: int = TUBE_SIZE_DEFAULT,
    actor: Any,
) -> TestingRound:
    """A round over `regions` (each inside the actor's jurisdiction) on `date`."""
    policy = policy_for(actor)
    policy.require(Action.MANAGE_TESTING)
    name = _clean_name(name)
    size = check_tube_size(tube_size)
    if not isinstance(date, dt.date):
        raise DomainError(_("The date is not a date."))
    unique: dict[int, Region] = {}
    for region in regions:
        if not policy.contains(region):
            raise NotFound(_("Not found."))
        unique[region.pk] = region
    if not unique:
        raise DomainError(_("Name at least one region the round covers."))
    with transaction.atomic():
        new = TestingRound.objects.create(
            name=name, date=date, tube_size=size, created_by=actor if actor else None
        )
        links = []
        for region in unique.values():
            link = RoundRegion(round=new, region=region)
            link.locate(region)
            links.append(link)
        RoundRegion.objects.bulk_create(links)
        audit_record(
            actor=actor,
            action=AuditAction.ROUND_CREATE,
            object_type="testing_round",
            object_id=new.pk,
            region=policy.jurisdiction,
            detail={
                "name": name,
                "date": date.isoformat(),
                "regions": [r.path for r in unique.values()],
                "tube_size": size,
            },
        )
    return new


def _point_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise DomainError(_("Give the sampling point a name of at most 100 characters."))
    return name


def _point_kind(kind: str) -> str:
    if kind not in SamplingPoint.Kind.values:
        raise DomainError(_("Unknown kind of sampling point."))
    return kind


def check_hours(opens: dt.time | None, closes: dt.time | None) -> None:
    """Opening hours are both given or neither, and it opens before it closes."""
    if (opens is None) != (closes is None):
        raise DomainError(_("Give both the opening and the closing time, or neither."))
    if opens is not None and closes is not None and opens >= closes:
        raise DomainError(_("A sampling point opens before it closes."))


def _point_round(round: TestingRound, policy: Any, actor: Any) -> None:
    """The round is one the actor may see, and still open."""
    if actor is not None and not rounds_visible_to(actor).filter(pk=round.pk).exists():
        raise NotFound(_("Not found."))
    if round.closed_at is not None:
        raise DomainError(_("This round is closed."))


def _point_place(round: TestingRound, region: Region, policy: Any, actor: Any) -> None:
    if actor is not None:
        policy.require(Action.MANAGE_TESTING, region)
    if not region_in_round(round, region):
        raise DomainError(_("This place is not in the round's regions."))


def _point_audit(point: SamplingPoint, *, actor: Any, detail: dict, ip: str | None) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.SAMPLING_POINT,
        object_type="sampling_point",
        object_id=point.pk,
        region=point.region.path,
        detail={"round": point.round_id, **detail},
        ip=ip,
    )


def _point_fields(point: SamplingPoint) -> dict[str, Any]:
    return {
        "name": point.name,
        "kind": point.kind,
        "region": point.region_id,
        "opens": point.opens.strftime("%H:%M") if point.opens else None,
        "closes": point.closes.strftime("%H:%M") if point.closes else None,
    }


def point_create(
    *,
    round: TestingRound,
    region: Region,
    name: str,
    kind: str = SamplingPoint.Kind.POINT,
    opens: dt.time | None = None,
    closes: dt.time | None = None,
    actor: Any,
    ip: str | None = None,
) -> SamplingPoint:
    """A sampling point (or a door-to-door team) of an open round the actor may see, in a
    region of the round inside the actor's jurisdiction; audited."""
    policy = policy_for(actor)
    if actor is not None:
        policy.require(Action.MANAGE_TESTING)
    _point_round(round, policy, actor)
    _point_place(round, region, policy, actor)
    name = _point_name(name)
    kind = _point_kind(kind)
    check_hours(opens, closes)
    point = SamplingPoint(round=round, region=region, name=name, kind=kind, opens=opens)
    point.closes = closes
    point.locate(region)
    with transaction.atomic():
        point.save()
        _point_audit(point, actor=actor, detail={"step": "create", **_point_fields(point)}, ip=ip)
    return point


def point_update(
    *,
    point: SamplingPoint,
    region: Region,
    name: str,
    kind: str,
    opens: dt.time | None = None,
    closes: dt.time | None = None,
    actor: Any,
    ip: str | None = None,
) -> SamplingPoint:
    """Correct a sampling point set up wrongly: its name, kind, place or hours. The
    point and its new place must both lie inside the actor's jurisdiction."""
    policy = policy_for(actor)
    if actor is not None:
        policy.require(Action.MANAGE_TESTING, point)
    round = point.round
    _point_round(round, policy, actor)
    _point_place(round, region, policy, actor)
    name = _point_name(name)
    kind = _point_kind(kind)
    check_hours(opens, closes)
    before = _point_fields(point)
    point.region, point.name, point.kind = region, name, kind
    point.opens, point.closes = opens, closes
    point.locate(region)
    after = _point_fields(point)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changed:
        return point
    with transaction.atomic():
        point.save()
        _point_audit(point, actor=actor, detail={"step": "change", "changed": changed}, ip=ip)
    return point


def point_remove(*, point: SamplingPoint, actor: Any, ip: str | None = None) -> None:
    """Remove a sampling point set up by mistake. One at which tubes were recorded stays
    (the tubes name it): change it instead. Conflict then, and nothing is changed."""
    policy = policy_for(actor)
    if actor is not None:
        policy.require(Action.MANAGE_TESTING, point)
    _point_round(point.round, policy, actor)
    fields = _point_fields(point)
    with transaction.atomic():
        removed, _counts = (
            SamplingPoint.objects.filter(pk=point.pk)
            .exclude(Exists(Tube.objects.filter(point=OuterRef("pk"))))
            .delete()
        )
        if not removed:
            if SamplingPoint.objects.filter(pk=point.pk).exists():
                raise Conflict(
                    _(
                        "Tubes were recorded at this sampling point, so it stays; change it "
                        "instead. Nothing was changed."
                    )
                )
            raise Conflict(_("This sampling point was already removed."))
        _point_audit(point, actor=actor, detail={"step": "remove", **fields}, ip=ip)


def points_for(round: TestingRound, user: Any) -> QuerySet[SamplingPoint]:
    """The round's sampling points inside the user's jurisdiction."""
    return (
        round.points.visible_to(user)  # type: ignore[attr-defined]
        .select_related("region")
        .order_by("region__path", "name", "id")
    )


def point_places(round: TestingRound, user: Any) -> QuerySet[Region]:
    """Where the user may set up a point of the round: the round's regions and the
    communities and compounds in them, inside the jurisdiction."""
    inside = Region.objects.visible_to(user).filter(_in_round(round))
    return inside.filter(
        Q(level__in=[Level.COMMUNITY, Level.COMPOUND])
        | Q(pk__in=[r.pk for r in round_regions(round)])
    ).order_by("path")


def _clean_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise DomainError(_("Scan or type the tube code."))
    if len(code) > CODE_MAX or not _CODE.match(code):
        raise DomainError(
            _("A tube code is letters, digits and - _ . / (at most %(n)d).") % {"n": CODE_MAX}
        )
    return code


def _shared_place(rows: Iterable[Any]) -> dict[str, int | None]:
    """The ancestor columns all `rows` share, down to the deepest shared level."""
    place: dict[str, int | None] = {}
    rows = list(rows)
    diverged = False
    for name in ANCESTOR_FIELDS:
        values = {getattr(row, f"{name}_id") for row in rows}
        if diverged or len(values) != 1:
            diverged = True
            place[f"{name}_id"] = None
        else:
            place[f"{name}_id"] = values.pop()
    return place


def _resident_ids(residents: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for item in residents:
        value = item.pk if isinstance(item, Resident) else item
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise DomainError(_("Residents are given by their ids.")) from None
        if pk not in ids:
            ids.append(pk)
    return ids


def _already(round: TestingRound, ids: list[int], policy: Any) -> Conflict | None:
    taken = list(
        Sample.objects.filter(round=round, resident_id__in=ids)
        .select_related("resident", "tube")
        .order_by("resident_id")
    )
    if not taken:
        return None
    names = "、".join(
        f"{s.resident.name}（{policy.id_number(s.resident.id_number)[-4:]}，{s.tube.code}）"
        for s in taken
    )
    return Conflict(
        ngettext(
            "Already in a tube of this round: %(names)s. Nothing was saved.",
            "Already in tubes of this round: %(names)s. Nothing was saved.",
            len(taken),
        )
        % {"names": names}
    )


def tube_record(
    *,
    round: TestingRound,
    code: str,
    residents: Sequence[Any],
    actor: Any,
    point: SamplingPoint | None = None,
) -> Tube:
    """Put `residents` (ids or Residents) into the tube `code` of the round, a new tube
    or one with places left. All or nothing.

    Conflict (409) when one of them is in a tube of this round already (named, masked as
    the actor's policy shows identifiers); DomainError (400) when the tube would hold
    more than the round's tube size or a resident is outside the round's regions;
    NotFound (404) for a resident (or the round) outside the actor's jurisdiction.
    """
    policy = policy_for(actor)
    if actor is not None:
        policy.require(Action.RECORD_SAMPLE)
        if not rounds_visible_to(actor).filter(pk=round.pk).exists():
            raise NotFound(_("Not found."))
    if round.closed_at is not None:
        raise DomainError(_("This round is closed."))
    code = _clean_code(code)
    ids = _resident_ids(residents)
    if not ids:
        raise DomainError(_("Tick at least one resident."))
    if len(ids) > round.tube_size:
        raise DomainError(
            ngettext(
                "A tube of this round holds at most %(n)d resident.",
                "A tube of this round holds at most %(n)d residents.",
                round.tube_size,
            )
            % {"n": round.tube_size}
        )
    scope = Resident.objects.visible_to(actor) if actor is not None else Resident.objects.all()
    people = {r.pk: r for r in scope.filter(pk__in=ids)}
    if len(people) != len(ids):
        raise NotFound(_("No such resident."))
    outside = [r.name for r in people.values() if not _resident_in_round(round, r)]
    if outside:
        raise DomainError(
            _("Not in the round's regions: %(names)s.") % {"names": "、".join(outside)}
        )
    if point is not None and point.round_id != round.pk:
        raise DomainError(_("This sampling point belongs to another round."))
    if point is not None and actor is not None and not policy.contains(point):
        raise NotFound(_("No such sampling point."))
    if conflict := _already(round, ids, policy):
        raise conflict
    now = timezone.now()
    try:
        with transaction.atomic():
            tube = Tube.objects.select_for_update().filter(round=round, code=code).first()
            if tube is None:
                tube = Tube(
                    round=round,
                    code=code,
                    collected_by=actor if actor else None,
                    collected_at=now,
                    point=point,
                )
                held: list[Any] = []
            else:
                if not policy.contains(tube) and policy.jurisdiction is not None:
                    raise Conflict(
                        _("The tube %(code)s is already used elsewhere in this round.")
                        % {"code": code}
                    )
                if tube.result != TubeResult.PENDING:
                    raise Conflict(
                        _("The tube %(code)s has its result already; use a new tube.")
                        % {"code": code}
                    )
                held = list(
                    Resident.objects.filter(samples__tube=tube).only(
                        "id", *[f"{n}_id" for n in ANCESTOR_FIELDS]
                    )
                )
                if len(held) + len(ids) > round.tube_size:
                    left = max(round.tube_size - len(held), 0)
                    raise DomainError(
                        ngettext(
                            "The tube %(code)s has %(left)d place left; you ticked %(n)d.",
                            "The tube %(code)s has %(left)d places left; you ticked %(n)d.",
                            left,
                        )
                        % {"code": code, "left": left, "n": len(ids)}
                    )
            for name, value in _shared_place([*held, *people.values()]).items():
                setattr(tube, name, value)
            tube.save()
            samples = []
            for pk in ids:
                resident = people[pk]
                sample = Sample(round=round, tube=tube, resident=resident, collected_at=now)
                for name in ANCESTOR_FIELDS:
                    setattr(sample, f"{name}_id", getattr(resident, f"{name}_id"))
                samples.append(sample)
            Sample.objects.bulk_create(samples)
            audit_record(
                actor=actor,
                action=AuditAction.TUBE_RECORD,
                object_type="tube",
                object_id=tube.pk,
                region=_place_path(tube),
                detail={"round": round.pk, "code": code, "residents": ids},
            )
    except IntegrityError:
        # Another phone won the race for one of these residents (or for a new code):
        # the database's constraint says so; answer as if we had asked a moment later.
        if conflict := _already(round, ids, policy):
            raise conflict from None
        raise Conflict(
            _("The tube %(code)s was just recorded by someone else; try again.") % {"code": code}
        ) from None
    tube.held = len(held) + len(ids)  # type: ignore[attr-defined]
    return tube


def _resident_in_round(round: TestingRound, resident: Resident) -> bool:
    for region in round_regions(round):
        if region.level == Level.CITY:
            return True
        if getattr(resident, f"{LEVEL_FIELDS[region.level]}_id") == region.pk:
            return True
    return False


def _place_path(row: Any) -> str:
    for name in reversed(ANCESTOR_FIELDS):
        if (pk := getattr(row, f"{name}_id")) is not None:
            region = Region.objects.filter(pk=pk).only("path").first()
            return region.path if region else ""
    return ""


def tube_places_left(tube: Tube) -> int:
    held = getattr(tube, "held", None)
    if held is None:
        held = tube.samples.count()
    return max(tube.round.tube_size - held, 0)


def tube_by_code(round: TestingRound, user: Any, code: str) -> Tube:
    tube = (
        Tube.objects.visible_to(user).filter(round=round, code=(code or "").strip()).first()
        if user is not None
        else Tube.objects.filter(round=round, code=(code or "").strip()).first()
    )
    if tube is None:
        raise NotFound(_("No tube with this code in this round."))
    return tube


def result_set(*, tube: Tube, result: str, actor: Any) -> Tube:
    """Enter one tube's lab result (a lab may correct it later; each entry is audited)."""
    policy = policy_for(actor)
    if actor is not None:
        policy.require(Action.MANAGE_TESTING, tube)
    if result not in (TubeResult.NEGATIVE, TubeResult.POSITIVE):
        raise DomainError(_("The result is negative or positive."))
    old = tube.result
    now = timezone.now()
    with transaction.atomic():
        Tube.objects.filter(pk=tube.pk).update(result=result, result_at=now)
        audit_record(
            actor=actor,
            action=AuditAction.RESULT_SET,
            object_type="tube",
            object_id=tube.pk,
            region=_place_path(tube),
            detail={"round": tube.round_id, "code": tube.code, "from": old, "to": result},
        )
    tube.result, tube.result_at = result, now
    return tube


# --- retest and control --------------------------------------------------------------------


def retest_list(round: TestingRound, user: Any, region: Region | None = None):
    """Everyone in an abnormal (positive) tube of the round, and the people of their
    households (control), that the user may see; `in_tube` tells them apart."""
    positive = Sample.objects.filter(round=round, tube__result=TubeResult.POSITIVE)
    in_tube = positive.filter(resident=OuterRef("pk"))
    residents = Resident.objects.visible_to(user).filter(
        household_id__in=positive.values("resident__household_id")
    )
    if region is not None:
        residents = residents.within(region)
    from django.db.models import Subquery

    return (
        residents.annotate(
            in_tube=Exists(in_tube),
            tube_code=Subquery(in_tube.values("tube__code")[:1]),
        )
        .select_related("household", "building")
        .order_by("building__path", "household__unit", "household__room", "-in_tube", "id")
    )


# --- the sampler's page --------------------------------------------------------------------


def round_buildings(round: TestingRound, user: Any) -> QuerySet[Region]:
    """The buildings of the round the user may work in."""
    return (
        Region.objects.visible_to(user)
        .filter(level=Level.BUILDING)
        .filter(_in_round(round))
        .order_by("path")
    )


def building_households(round: TestingRound, user: Any, building: Region):
    """The building's households with their members not away, each marked with the tube
    that holds them in this round (or None): three queries."""
    from django.db.models import Prefetch, Subquery

    from frontline.people.models import Household
    from frontline.territory.queries import natural_key

    tube_of = Sample.objects.filter(round=round, resident=OuterRef("pk")).values("tube__code")[:1]
    members = Resident.objects.filter(away=False).annotate(tube_code=Subquery(tube_of))
    households = list(
        Household.objects.visible_to(user)
        .filter(building=building)
        .prefetch_related(Prefetch("residents", queryset=members.order_by("birth_date", "id")))
    )
    households.sort(key=lambda h: (natural_key(h.unit), natural_key(h.room)))
    return [h for h in households if h.residents.all()]


# --- demo ----------------------------------------------------------------------------------

DEMO_ROUND = "城南镇第3轮全员核酸检测"
DEMO_TOWNSHIP = "裕安区/城南镇"
DEMO_COMPOUND = "裕安区/城南镇/陡步河社区/安康小区"
DEMO_DATE = dt.date(2022, 4, 12)
DEMO_TUBES = 24
DEMO_POSITIVE = "CN0412-0007"


def load_demo(users: dict, say: Any) -> None:
    """A round for 城南镇 on 12 April 2022: part of 安康小区 in pooled tubes of ten, the
    lab's results imported from a generated file, one tube abnormal. Idempotent."""
    import tempfile
    from pathlib import Path

    from .results import import_results

    if TestingRound.objects.filter(name=DEMO_ROUND).exists():
        return
    town = Region.objects.filter(path=DEMO_TOWNSHIP).first()
    compound = Region.objects.filter(path=DEMO_COMPOUND).first()
    staff = users.get("township_staff")
    worker = users.get("grid_worker")
    if town is None or compound is None or staff is None or worker is None:
        return
    testing_round = round_create(
        name=DEMO_ROUND, date=DEMO_DATE, regions=[town], tube_size=10, actor=staff
    )
    point_create(
        round=testing_round,
        region=compound,
        name="安康小区南门采样点",
        opens=dt.time(7, 0),
        closes=dt.time(11, 0),
        actor=staff,
    )
    point_create(
        round=testing_round,
        region=compound,
        name="安康小区上门采样组",
        kind=SamplingPoint.Kind.DOOR_TO_DOOR,
        actor=staff,
    )
    from frontline.territory.queries import natural_key

    rows = Resident.objects.within(compound).filter(away=False)
    # Building by building as a sampler walks them (1栋 before 10栋), ten to a tube; a
    # family goes into one tube or two.
    residents = sorted(
        rows.values_list(
            "pk", "building__name", "household__unit", "household__room", "birth_date"
        ),
        key=lambda r: (natural_key(r[1]), natural_key(r[2]), natural_key(r[3]), r[4], r[0]),
    )
    tubes = 0
    batch: list[int] = []
    for pk, *_place in residents:
        batch.append(pk)
        if len(batch) == 10:
            tubes += 1
            tube_record(
                round=testing_round,
                code=f"CN0412-{tubes:04d}",
                residents=batch,
                actor=worker,
            )
            batch = []
            if tubes == DEMO_TUBES:
                break
    if tubes == 0:
        return
    # Sampled on the round's day, as the phones recorded it then (not when the demo loads).
    sampled_at = timezone.make_aware(dt.datetime.combine(DEMO_DATE, dt.time(8, 0)))
    Tube.objects.filter(round=testing_round).update(collected_at=sampled_at)
    Sample.objects.filter(round=testing_round).update(collected_at=sampled_at)
    lines = ["管码,结果"] + [
        f"CN0412-{n:04d},{'阳性' if f'CN0412-{n:04d}' == DEMO_POSITIVE else '阴性'}"
        for n in range(1, tubes + 1)
    ]
    with tempfile.TemporaryDirectory(prefix="frontline-lab-") as tmp:
        path = Path(tmp) / "城南镇检测结果.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        imported = import_results(path, round=testing_round, filename=path.name, actor=staff)
    if not imported.ok:
        raise DomainError("; ".join(str(e) for e in imported.errors[:10]))
    say(f"testing round: {tubes} tubes of 10, 1 abnormal ({DEMO_POSITIVE})")
