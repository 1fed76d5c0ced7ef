"""Reads that are more than one queryset, shared by the pages and the API."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db.models import Count, QuerySet

from frontline.people.models import Household

from .models import LEVEL_FIELDS, Grid, Level

T = TypeVar("T")

# --- natural order -----------------------------------------------------------------------
#
# Places are numbered, in digits (2栋, 10栋) or in Chinese ordinals (第二网格, 第十网格).
# Sorted by character code those read 10栋, 2栋 and 第三, 第二, 第十, 第一; people expect
# the order they count in. One key for every list a person reads, pages and API alike.

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER = re.compile(r"(\d+|第[零〇一二两三四五六七八九十百千]+)")


def _chinese_int(numeral: str) -> int:
    total = current = 0
    for ch in numeral:
        if ch in _CN_UNITS:
            # 十二 is 12: a unit with no digit before it counts once.
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key reading digit runs and 第-ordinals as numbers: 2栋 < 10栋, 第二 < 第十."""
    parts: list[tuple[int, int, str]] = []
    for i, piece in enumerate(_NUMBER.split(text)):
        if not piece:
            continue
        if i % 2 == 0:
            parts.append((1, 0, piece))
        elif piece.startswith("第"):
            parts.append((0, _chinese_int(piece[1:]), ""))
        else:
            parts.append((0, int(piece), ""))
    return tuple(parts)


def natural_sorted(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """Already-fetched rows (a prefetched coverage, a grid's children) in natural order."""
    return sorted(items, key=lambda item: natural_key(key(item)))


class NaturalOrder(Sequence):
    """A queryset in natural order of one text field, fetched a slice at a time.

    SQL cannot order by natural_key, so only the primary keys and the sorting fields of
    the whole queryset are read (one narrow query); a slice, such as one page of a
    Paginator or of the API's pagination, then fetches just its rows with the queryset's
    own select_related/prefetch_related. Pages cost the same whatever the list's length.
    """

    def __init__(self, queryset: QuerySet, field: str, *, first: Sequence[str] = ()):
        self.queryset = queryset
        rows = queryset.order_by().values_list("pk", *first, field)
        self.ids: list[Any] = [
            row[0]
            for row in sorted(rows, key=lambda row: (*row[1:-1], natural_key(row[-1]), row[0]))
        ]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            ids = self.ids[index]
            if not ids:
                return []
            rows = {row.pk: row for row in self.queryset.filter(pk__in=ids)}
            return [rows[pk] for pk in ids if pk in rows]
        return self[index : index + 1 or None][0]

    def __iter__(self):
        # Sequence's own __iter__ would index one row (one query) at a time.
        return iter(self[:])


def natural_order(queryset: QuerySet, field: str, *, first: Sequence[str] = ()) -> NaturalOrder:
    """`queryset` ordered by `first` fields, then naturally by `field` (see natural_key)."""
    return NaturalOrder(queryset, field, first=first)


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
