"""The `health` figures of a region: the same numbers for the CLI, the API and pages.

Each figure is one aggregate under `within(region)` on indexed columns. Zones are few (a
township has dozens, not thousands), so the zones in force are read first and turned into
one CASE over the ancestor columns: "the strictest zone over this building" is then a
column of the grouped count, not a query per building.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.people.models import Resident
from frontline.territory.models import LEVEL_FIELDS, Level, Region

from .care import care_figures
from .isolation import isolation_figures
from .models import (
    ZONE_SEVERITY,
    RiskZone,
    RoundRegion,
    Sample,
    TestingRound,
    Tube,
    TubeResult,
    ZoneLevel,
)
from .transfers import transfer_figures
from .zones import place_filter, zones_in_force

# Strictest first: a CASE takes the first WHEN that matches.
_LEVELS = sorted(ZoneLevel, key=lambda level: -ZONE_SEVERITY[level])


def zone_case(zones: list[RiskZone], *, prefix: str = "") -> Case | Value:
    """A column: the level of the strictest of `zones` over the row ("" when none)."""
    whens = []
    for level in _LEVELS:
        places = [z.region for z in zones if z.level == level]
        if places:
            condition = Q()
            for place in places:
                condition |= place_filter(place, prefix=prefix)
            whens.append(When(condition, then=Value(str(level))))
    if not whens:
        return Value("")
    return Case(*whens, default=Value(""))


def _by_zone(counts: dict) -> dict[str, int]:
    return {str(level): counts.get(str(level), 0) for level in ZoneLevel}


def _ancestor_ids(region: Region) -> list[int]:
    ids = [getattr(region, f"{name}_id") for name in LEVEL_FIELDS.values()]
    return [i for i in ids if i is not None] + [region.pk]


def current_round(region: Region, today: dt.date) -> TestingRound | None:
    """The latest round on or before `today` that covers part of `region` (a round region
    inside it) or all of it (a round region above it)."""
    meets = RoundRegion.objects.filter(round=OuterRef("pk")).filter(
        place_filter(region) | Q(region_id__in=_ancestor_ids(region))
    )
    return (
        TestingRound.objects.filter(date__lte=today)
        .filter(Exists(meets))
        .order_by("-date", "-id")
        .first()
    )


def _testing(region: Region, today: dt.date) -> dict[str, Any]:
    testing_round = current_round(region, today)
    figures: dict[str, Any] = {
        "round": None,
        "expected": 0,
        "sampled": 0,
        "missing": 0,
        "abnormal_tubes": 0,
        "awaiting_retest": 0,
    }
    if testing_round is None:
        return figures
    covered = Q(pk__in=[])
    for place in Region.objects.filter(
        pk__in=RoundRegion.objects.filter(round=testing_round).values("region_id")
    ).only("id", "level"):
        covered |= place_filter(place)
    sampled = Sample.objects.filter(round=testing_round, resident=OuterRef("pk"))
    coverage = (
        Resident.objects.within(region)
        .filter(covered, away=False)
        .aggregate(expected=Count("id"), sampled=Count("id", filter=Exists(sampled)))
    )
    abnormal = Tube.objects.within(region).filter(round=testing_round, result=TubeResult.POSITIVE)
    figures.update(
        round={
            "id": testing_round.pk,
            "name": testing_round.name,
            "date": testing_round.date.isoformat(),
        },
        expected=coverage["expected"],
        sampled=coverage["sampled"],
        missing=coverage["expected"] - coverage["sampled"],
        abnormal_tubes=abnormal.count(),
        awaiting_retest=Sample.objects.within(region)
        .filter(round=testing_round, tube__result=TubeResult.POSITIVE)
        .values("resident")
        .distinct()
        .count(),
    )
    return figures


def health_stats(region: Region, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    zones = list(zones_in_force(region, now))
    case = zone_case(zones)
    places = dict.fromkeys((Level.COMPOUND, Level.BUILDING), None)
    grouped: dict[int, dict[str, int]] = {level: {} for level in places}
    for level, zone, n in (
        Region.objects.within(region)
        .filter(level__in=list(places))
        .annotate(zone=case)
        .values_list("level", "zone")
        .annotate(n=Count("id"))
        .order_by()
    ):
        grouped[level][zone] = n
    residents = dict(
        Resident.objects.within(region)
        .annotate(zone=case)
        .values_list("zone")
        .annotate(n=Count("id"))
        .order_by()
    )
    # Each part counts its own figures (one definition each, shared with its pages).
    isolation = isolation_figures(region, today)
    points = transfer_figures(region, today)
    care = care_figures(region, today)
    return {
        "zones_in_force": len(zones),
        "compounds_by_zone": _by_zone(grouped[Level.COMPOUND]),
        "buildings_by_zone": _by_zone(grouped[Level.BUILDING]),
        "residents_by_zone": _by_zone(residents),
        "testing": _testing(region, today),
        "home_isolation": isolation["home_isolation"],
        "visits_missed_today": isolation["visits_missed_today"],
        "isolation_points": points["isolation_points"],
        "isolation_capacity": points["capacity"],
        # A point's occupancy is the number of its open stays (models.Stay).
        "isolation_occupancy": points["occupancy"],
        "transfers_today": points["transfers_today"],
        "care_due_today": care["care_due_today"],
        "care_missed_today": care["care_missed_today"],
    }


def health_labels(figures: dict) -> list[tuple[str, Any]]:
    """The figures as (label, number) lines for `frontline stats`."""
    levels = {str(level): level.label for level in ZoneLevel}
    lines: list[tuple[str, Any]] = []
    for key, what in (
        ("compounds_by_zone", _("Compounds")),
        ("buildings_by_zone", _("Buildings")),
        ("residents_by_zone", _("Residents")),
    ):
        lines += [
            (_("%(what)s in %(zone)s zones") % {"what": what, "zone": levels[code]}, n)
            for code, n in figures[key].items()
        ]
    testing = figures["testing"]
    name = testing["round"]["name"] if testing["round"] else "—"
    lines += [
        (_("Testing round: %(name)s: expected") % {"name": name}, testing["expected"]),
        (_("Testing round: %(name)s: sampled") % {"name": name}, testing["sampled"]),
        (_("Testing round: %(name)s: missing") % {"name": name}, testing["missing"]),
        (_("Abnormal tubes"), testing["abnormal_tubes"]),
        (_("Residents awaiting a retest"), testing["awaiting_retest"]),
        (_("People in home isolation"), figures["home_isolation"]),
        (_("Isolation visits missed today"), figures["visits_missed_today"]),
        (_("Isolation points"), figures["isolation_points"]),
        (_("Isolation points: capacity"), figures["isolation_capacity"]),
        (_("Isolation points: occupancy"), figures["isolation_occupancy"]),
        (_("Transfers today"), figures["transfers_today"]),
        (_("Care services due today"), figures["care_due_today"]),
        (_("Care services missed today"), figures["care_missed_today"]),
    ]
    return lines
