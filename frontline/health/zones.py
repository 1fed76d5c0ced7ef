"""Risk zones (风险分区): set a region sealed, controlled or precaution from a time, lift it
later, and answer what any place is on any date.

The `RiskZone` rows are the history: a row is written when a zone is set (who, when, why)
and changed once, by the lift (who, when, why), through a conditional
`UPDATE ... WHERE lifted_at IS NULL` so that two people lifting the same zone at once
cannot both succeed. Nothing else edits or deletes a row.

What a place is at `t`: the strictest zone in force at `t` on the place or on any of its
ancestors (a sealed building inside a controlled compound is sealed; the rest of the
compound is controlled). A zone is in force at `t` when `since <= t` and it is not lifted
at or before `t`. The ancestors are the `Located` columns of the place, so the answer is
one query on indexed columns, never a walk up the tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError
from frontline.territory.models import LEVEL_FIELDS, Level, Region

from .checks import require as _require
from .models import ZONE_SEVERITY, RiskZone, ZoneLevel

REASON_MAX_LENGTH = 200


# --- reading -------------------------------------------------------------------------------


def in_force_at(at: dt.datetime) -> Q:
    """The zones in force at `at`: started, and not lifted at or before it."""
    return Q(since__lte=at) & (Q(lifted_at__isnull=True) | Q(lifted_at__gt=at))


def place_filter(place: Any, *, prefix: str = "") -> Q:
    """Rows located in the subtree of `place` (a Region): the `within` filter as a Q, so
    that several places can be OR-ed into one condition. `prefix` reaches the columns of
    a related row."""
    if place.level == Level.CITY:
        return Q(**{f"{prefix}pk__isnull": False})
    return Q(**{f"{prefix}{LEVEL_FIELDS[place.level]}_id": place.pk})


def _ancestry(place: Any) -> Q:
    """Zones set on `place` (a Region or any located row) or on one of its ancestors.

    A located row carries its region's ancestors as columns, the region itself included
    for a Region. A zone on the city is located nowhere below it (all columns empty).
    """
    ids = [getattr(place, f"{name}_id") for name in LEVEL_FIELDS.values()]
    ids = [i for i in ids if i is not None]
    if isinstance(place, Region):
        ids.append(place.pk)
    return Q(region_id__in=ids) | Q(district__isnull=True)


def strictest(zones: Iterable[RiskZone]) -> RiskZone | None:
    """The strictest of `zones`; among equals the one that started first (it has been
    in force longest, which is what a notice names)."""
    best = None
    for zone in zones:
        if best is None or (ZONE_SEVERITY[zone.level], -zone.since.timestamp()) > (
            ZONE_SEVERITY[best.level],
            -best.since.timestamp(),
        ):
            best = zone
    return best


def zone_in_force(place: Any, at: dt.datetime | None = None) -> RiskZone | None:
    """What `place` (a Region, a household, a resident: anything located) is at `at`
    (now by default): the strictest zone in force on it or its ancestors, or None."""
    if place is None:
        return None
    at = at or timezone.now()
    zones = RiskZone.objects.filter(_ancestry(place) & in_force_at(at)).select_related("region")
    return strictest(zones)


def zones_in_force(region: Region, at: dt.datetime | None = None) -> QuerySet[RiskZone]:
    """The zones in force at `at` in `region`'s subtree and on its ancestors: what bears
    on the place at that moment. One query."""
    at = at or timezone.now()
    return (
        RiskZone.objects.filter((place_filter(region) | _ancestry(region)) & in_force_at(at))
        .select_related("region")
        .order_by("region__level", "region__path", "-since", "-id")
    )


def zone_history(region: Region) -> QuerySet[RiskZone]:
    """Every zone ever set in `region`'s subtree or on its ancestors, newest first."""
    return (
        RiskZone.objects.filter(place_filter(region) | _ancestry(region))
        .select_related("region", "set_by", "lifted_by")
        .order_by("-since", "-id")
    )


def zones_for(user: Any, region: Region | None = None) -> QuerySet[RiskZone]:
    """The zones inside `user`'s jurisdiction (under `region` if given)."""
    zones = RiskZone.objects.visible_to(user)
    if region is not None:
        zones = zones.within(region)
    return zones.select_related("region", "set_by", "lifted_by")


# --- writing -------------------------------------------------------------------------------


def _aware(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise DomainError(
            _("“%(field)s” is a date and time with an offset, e.g. 2022-04-04T08:00:00+08:00.")
            % {"field": field}
        )
    return value


def _reason(value: Any, field: str) -> str:
    reason = " ".join(str(value or "").split())
    if not reason:
        raise DomainError(_("“%(field)s”: say why.") % {"field": field})
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            _("“%(field)s” is at most %(n)d characters.") % {"field": field, "n": REASON_MAX_LENGTH}
        )
    return reason


def _level(value: Any) -> ZoneLevel:
    if value not in ZoneLevel.values:
        raise DomainError(
            _("“level” is one of: %(choices)s.") % {"choices": ", ".join(ZoneLevel.values)}
        )
    return ZoneLevel(value)


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def zone_set(
    *,
    region: Region,
    level: str,
    since: dt.datetime,
    reason: str,
    actor: Any = None,
    ip: str | None = None,
) -> RiskZone:
    """Put `region` (any level) under `level` from `since`.

    Refused with Conflict when a zone of the same level on the same region is in force at
    `since` or after it (an open one, or one lifted later): two rows would then say the
    same thing for the same time, and lifting one would leave the other.
    """
    _require(actor, Action.MANAGE_ZONES, region)
    level = _level(level)
    since = _aware(since, "since")
    reason = _reason(reason, "reason")
    with transaction.atomic():
        # Two people setting the same zone at once: the region's row is the lock on
        # PostgreSQL; SQLite's BEGIN IMMEDIATE serialises the whole transaction.
        Region.objects.select_for_update().filter(pk=region.pk).first()
        clash = (
            RiskZone.objects.filter(region=region, level=level)
            .filter(Q(lifted_at__isnull=True) | Q(lifted_at__gt=since))
            .order_by("since", "id")
            .first()
        )
        if clash is not None:
            raise Conflict(
                _(
                    "%(region)s is already %(level)s from %(since)s (zone %(id)s); lift it "
                    "first or set a different level."
                )
                % {
                    "region": region.display_path,
                    "level": ZoneLevel(clash.level).label,
                    "since": _when(clash.since),
                    "id": clash.pk,
                }
            )
        zone = RiskZone(
            region=region,
            level=level,
            since=since,
            reason=reason,
            set_by=_actor(actor),
            set_at=timezone.now(),
        )
        zone.locate(region)
        zone.save()
        audit_record(
            actor=actor,
            action=AuditAction.ZONE_SET,
            object_type="risk_zone",
            object_id=zone.pk,
            region=region,
            detail={"level": str(level), "since": since.isoformat(), "reason": reason},
            ip=ip,
        )
    return zone


def zone_lift(
    *,
    zone: RiskZone,
    at: dt.datetime,
    reason: str,
    actor: Any = None,
    ip: str | None = None,
) -> RiskZone:
    """Lift (解封) `zone` at `at`. Conflict when it is lifted already (by someone else
    meanwhile too: the UPDATE only matches a row not yet lifted)."""
    _require(actor, Action.MANAGE_ZONES, zone)
    at = _aware(at, "at")
    reason = _reason(reason, "reason")
    if at <= zone.since:
        raise DomainError(
            _("“at”: a zone is lifted after it starts (%(since)s).") % {"since": _when(zone.since)}
        )
    with transaction.atomic():
        won = RiskZone.objects.filter(pk=zone.pk, lifted_at__isnull=True).update(
            lifted_at=at, lift_reason=reason, lifted_by=_actor(actor)
        )
        if won != 1:
            lifted = RiskZone.objects.filter(pk=zone.pk).values_list("lifted_at", flat=True)
            when = next(iter(lifted), None)
            raise Conflict(
                _("This zone was already lifted at %(at)s.") % {"at": _when(when) if when else "—"}
            )
        audit_record(
            actor=actor,
            action=AuditAction.ZONE_LIFT,
            object_type="risk_zone",
            object_id=zone.pk,
            region=zone.region,
            detail={"level": zone.level, "at": at.isoformat(), "reason": reason},
            ip=ip,
        )
    zone.lifted_at, zone.lift_reason, zone.lifted_by = at, reason, _actor(actor)
    return zone


# --- the demo ------------------------------------------------------------------------------

DEMO_TZ = dt.timezone(dt.timedelta(hours=8))
DEMO_SEALED_SINCE = dt.datetime(2022, 4, 4, 0, 0, tzinfo=DEMO_TZ)
DEMO_SEALED_LIFTED = dt.datetime(2022, 4, 20, 10, 0, tzinfo=DEMO_TZ)


def load_demo(users: dict, say: Callable[[str], None]) -> None:
    """安康小区's four sealed buildings (90 households) sealed from 4 April 2022 and
    lifted on 20 April, the rest of 安康小区 controlled and the rest of 城南镇 under
    precaution from the same day (still in force, so the pages show them). Idempotent:
    each zone is found by region, level and start before it is set."""
    from frontline.core.demo import ANKANG, ANKANG_SEALED_BUILDINGS

    compound = Region.objects.filter(path="/".join(ANKANG)).first()
    township = Region.objects.filter(path="/".join(ANKANG[:2])).first()
    if compound is None or township is None:
        return
    actor = users.get("township_staff")
    buildings = list(Region.objects.filter(parent=compound, name__in=list(ANKANG_SEALED_BUILDINGS)))
    plan: list[tuple[Region, str, str, str]] = [
        (
            b,
            ZoneLevel.SEALED,
            "出现阳性感染者，楼栋封控，足不出户、上门服务",
            "连续核酸阴性，解除封控",
        )
        for b in sorted(buildings, key=lambda r: r.path)
    ]
    plan.append((compound, ZoneLevel.CONTROLLED, "封控楼栋所在小区，人不出小区、严禁聚集", ""))
    plan.append((township, ZoneLevel.PRECAUTION, "全镇静态管理，强化社会面管控", ""))
    created = 0
    for region, level, reason, lift_reason in plan:
        zone = RiskZone.objects.filter(region=region, level=level, since=DEMO_SEALED_SINCE).first()
        if zone is None:
            zone = zone_set(
                region=region, level=level, since=DEMO_SEALED_SINCE, reason=reason, actor=actor
            )
            created += 1
        if lift_reason and zone.lifted_at is None:
            zone_lift(zone=zone, at=DEMO_SEALED_LIFTED, reason=lift_reason, actor=actor)
    say(f"risk zones: {created} set ({len(buildings)} sealed buildings of 安康小区)")
