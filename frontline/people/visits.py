"""Door visits (走访): recording them, and the day's progress per place.

A visit is a located fact like every other: stamped with its household's ancestors, so
"visited today in 安康小区" is one indexed filter, and confined to the visitor's
jurisdiction by the policy. "Visited" means a visit with the outcome *visited* on that
day: a door nobody opened still waits on the list of households not yet visited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError
from frontline.territory.models import LEVEL_FIELDS, Grid, GridLevel, Level, Region
from frontline.territory.queries import natural_sorted

from .models import Household, Visit
from .worklists import Scope, grid_condition

NOTE_MAX = 1000


def visit_record(
    *,
    actor: Any,
    household: Household,
    outcome: str,
    purpose: str,
    note: str = "",
    needs: str = "",
    at: dt.datetime | None = None,
    channel: str = "page",
    ip: str | None = None,
) -> Visit:
    """Record one visit to a household inside the actor's jurisdiction."""
    policy_for(actor).require(Action.RECORD_VISIT, household)
    if outcome not in Visit.Outcome.values:
        raise DomainError(
            _("The outcome is one of: %(choices)s.") % {"choices": ", ".join(Visit.Outcome.values)}
        )
    if purpose not in Visit.Purpose.values:
        raise DomainError(
            _("The purpose is one of: %(choices)s.") % {"choices": ", ".join(Visit.Purpose.values)}
        )
    note, needs = (note or "").strip(), (needs or "").strip()
    if len(note) > NOTE_MAX or len(needs) > NOTE_MAX:
        raise DomainError(_("A note is at most %(n)d characters.") % {"n": NOTE_MAX})
    at = at or timezone.now()
    name = ""
    if actor is not None:
        name = (actor.get_full_name() or actor.username)[:150]
    visit = Visit(
        household=household,
        at=at,
        day=timezone.localdate(at),
        outcome=outcome,
        purpose=purpose,
        note=note,
        needs=needs,
        visitor=actor,
        visitor_name=name,
    )
    if household.building is None:
        raise DomainError(_("This household has no building."))
    visit.locate(household.building)
    with transaction.atomic():
        visit.save()
    return visit


def visits_for(user: Any, *, region: Region | None = None, day: dt.date | None = None):
    """Visits inside the user's jurisdiction, under `region` and on `day` if given."""
    visits = Visit.objects.visible_to(user)
    if region is not None:
        visits = visits.within(region)
    if day is not None:
        visits = visits.filter(day=day)
    return visits


def visited_households(queryset: QuerySet[Visit]) -> QuerySet:
    return (
        queryset.filter(outcome=Visit.Outcome.VISITED).values("household_id").distinct().order_by()
    )


def visit_stats(region: Region, day: dt.date | None = None) -> dict:
    """For `frontline stats` and the API: households visited on the day, visits by outcome."""
    day = day or timezone.localdate()
    visits = Visit.objects.within(region).filter(day=day)
    by_outcome = dict(visits.values_list("outcome").annotate(n=Count("id")).order_by())
    return {
        "visits_today": visited_households(visits).count(),
        "visits": {code: by_outcome.get(code, 0) for code in Visit.Outcome.values},
    }


def not_visited(scope: Scope, day: dt.date) -> QuerySet[Household]:
    """Households in scope without a *visited* visit on the day."""
    done = scope.apply(Visit.objects.filter(day=day, outcome=Visit.Outcome.VISITED))
    return scope.apply(Household.objects.all()).exclude(pk__in=done.values("household_id"))


@dataclass
class ProgressRow:
    label: str
    households: int
    visited: int
    region: Region | None = None
    grid: Grid | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.visited / self.households) if self.households else 0


def _by_building(scope: Scope, day: dt.date) -> tuple[dict[int, int], dict[int, int]]:
    totals = dict(
        scope.apply(Household.objects.all())
        .values_list("building_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    done = dict(
        scope.apply(Visit.objects.filter(day=day, outcome=Visit.Outcome.VISITED))
        .values_list("building_id")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    return totals, done


def progress_rows(user: Any, scope: Scope, day: dt.date) -> list[ProgressRow]:
    """Visited / households for the scope, then its grid points, then its parts.

    At most five queries whatever the number of buildings: two grouped counts by building
    (or by the next level down, above a compound), the parts' names, the grid points.
    """
    region = scope.region
    rows: list[ProgressRow] = []
    if region.level >= Level.COMPOUND:
        totals, done = _by_building(scope, day)
        whole = ProgressRow(
            scope.grid.name if scope.grid else region.name,
            sum(totals.values()),
            sum(done.values()),
            region=region,
            grid=scope.grid,
        )
        rows.append(whole)
        compound_id = region.compound_id
        if region.level == Level.COMPOUND and scope.grid is None:
            points = (
                Grid.objects.visible_to(user)
                .filter(compound_id=compound_id, level=GridLevel.POINT)
                .prefetch_related("coverage")
            )
            for point in natural_sorted(points, key=lambda g: g.name):
                ids = _covered_buildings(point, totals)
                rows.append(
                    ProgressRow(
                        point.name,
                        sum(totals.get(i, 0) for i in ids),
                        sum(done.get(i, 0) for i in ids),
                        region=region,
                        grid=point,
                    )
                )
        if region.level == Level.COMPOUND:
            names = Region.objects.in_bulk([i for i in totals if i is not None])
            for building in natural_sorted(names.values(), key=lambda r: r.name):
                rows.append(
                    ProgressRow(
                        building.name,
                        totals.get(building.pk, 0),
                        done.get(building.pk, 0),
                        region=building,
                        grid=scope.grid,
                    )
                )
        return rows
    field = LEVEL_FIELDS[region.level + 1]
    totals = dict(
        scope.apply(Household.objects.all()).values_list(field).annotate(n=Count("id")).order_by()
    )
    done = dict(
        scope.apply(Visit.objects.filter(day=day, outcome=Visit.Outcome.VISITED))
        .values_list(field)
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    rows.append(ProgressRow(region.name, sum(totals.values()), sum(done.values()), region=region))
    parts = Region.objects.in_bulk([i for i in totals if i is not None])
    for part in natural_sorted(parts.values(), key=lambda r: r.name):
        rows.append(
            ProgressRow(part.name, totals.get(part.pk, 0), done.get(part.pk, 0), region=part)
        )
    return rows


def _covered_buildings(grid: Grid, buildings: dict) -> list[int]:
    """The buildings (among those counted) a grid point covers."""
    ids = []
    covered = list(grid.coverage.all())
    by_id = {r.pk: r for r in covered}
    for building_id in buildings:
        if building_id in by_id or any(r.level == Level.COMPOUND for r in covered):
            ids.append(building_id)
    return ids


def grid_progress(grid: Grid, day: dt.date) -> ProgressRow:
    """Visited / households of one grid point on a day: two counts."""
    households = Household.objects.filter(grid_condition(grid)).count()
    visited = visited_households(Visit.objects.filter(grid_condition(grid), day=day)).count()
    return ProgressRow(grid.name, households, visited, region=grid.region, grid=grid)
