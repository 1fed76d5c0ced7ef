"""Reads over grids that are more than one queryset, shared by the pages and the API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Count

from frontline.people.models import Household

from .models import LEVEL_FIELDS, Grid, Level


def grid_household_counts(grids: Sequence[Grid]) -> dict[int, int]:
    """Households covered by each grid, for a whole page of grids in at most six queries.

    `grid_households(grid).count()` per grid would be one query per row; here the
    coverage regions of every grid are grouped by level and counted with one indexed
    GROUP BY per level. Expects `coverage` prefetched.
    """
    outermost: dict[int, list] = {}
    wanted: dict[int, set[int]] = defaultdict(set)
    for grid in grids:
        regions = list(grid.coverage.all())
        # A compound and one of its buildings both in the coverage must not count the
        # building's households twice: keep only regions not inside another one.
        outermost[grid.pk] = [
            r for r in regions if not any(o.pk != r.pk and r.is_within(o) for o in regions)
        ]
        for region in outermost[grid.pk]:
            wanted[region.level].add(region.pk)

    per_region: dict[int, int] = {}
    for level, ids in wanted.items():
        if level == Level.CITY:
            total = Household.objects.count()
            per_region.update(dict.fromkeys(ids, total))
            continue
        field = LEVEL_FIELDS[level]
        per_region.update(
            Household.objects.filter(**{f"{field}__in": ids})
            .values_list(field)
            .annotate(n=Count("id"))
            .values_list(field, "n")
        )
    return {pk: sum(per_region.get(r.pk, 0) for r in regions) for pk, regions in outermost.items()}
