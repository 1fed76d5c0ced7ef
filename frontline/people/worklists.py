"""Worklists: the residents or households behind every figure, for a worker in the field.

"Who do I need to see today": the residents of a care group, the households where nobody
can order online, the residents away, the party members, the empty households, and the
care-group residents with nobody to call. A worklist is scoped like everything else (the
viewer's jurisdiction, then a region, a building or a grid point inside it) and sorted by
building and room in natural order (2栋 before 10栋, 302 before 1101).

Pages and the API read the same functions here, so a figure and the list behind it can
never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from frontline.territory.models import LEVEL_FIELDS, Grid, Level, Region
from frontline.territory.queries import natural_key

from .labels import CARE_GROUP_LABELS
from .models import CareGroup, Household, Resident, ResidentCareGroup

# Kinds of list beside the eight care groups (whose kind is the group's code).
AWAY = "away"
PARTY = "party"
OFFLINE = "offline"
EMPTY = "empty"
NO_CONTACT = "no_contact"

RESIDENT_KINDS = (*CareGroup.values, AWAY, PARTY, NO_CONTACT)
HOUSEHOLD_KINDS = (OFFLINE, EMPTY)
KINDS = (*RESIDENT_KINDS, *HOUSEHOLD_KINDS)

_TITLES = {
    AWAY: _("Residents away"),
    PARTY: _("Party members"),
    OFFLINE: _("Households where nobody can order online"),
    EMPTY: _("Empty households"),
    NO_CONTACT: pgettext_lazy("worklist", "Care-group residents with nobody to call"),
}


def title(kind: str) -> str:
    if kind in CareGroup.values:
        return str(CareGroup(kind).label)
    return str(_TITLES[kind])


def is_household_kind(kind: str) -> bool:
    return kind in HOUSEHOLD_KINDS


# --- scope -------------------------------------------------------------------------------


def grid_condition(grid: Grid, prefix: str = "") -> Q:
    """Rows inside the regions a grid covers: an OR over indexed ancestor columns."""
    condition = Q(pk__in=[])
    for region in grid.coverage.all():
        if region.level == Level.CITY:
            return Q()
        condition |= Q(**{f"{prefix}{LEVEL_FIELDS[region.level]}_id": region.pk})
    return condition


@dataclass(frozen=True)
class Scope:
    """Where a list looks: a region (inside the jurisdiction), optionally one grid point."""

    region: Region
    grid: Grid | None = None

    def apply(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.within(self.region)  # type: ignore[attr-defined]
        if self.grid is not None:
            queryset = queryset.filter(grid_condition(self.grid))
        return queryset


def residents_in(scope: Scope, kind: str) -> QuerySet[Resident]:
    residents: QuerySet[Resident] = scope.apply(Resident.objects.all())
    if kind in CareGroup.values:
        return residents.filter(care_groups__group=kind)
    if kind == AWAY:
        return residents.filter(away=True)
    if kind == PARTY:
        return residents.filter(is_party_member=True)
    if kind == NO_CONTACT:
        in_groups = scope.apply(ResidentCareGroup.objects.all()).values("resident_id")
        return residents.filter(pk__in=in_groups, phone="", emergency_phone="").filter(
            household__phone=""
        )
    raise ValueError(kind)


def households_in(scope: Scope, kind: str) -> QuerySet[Household]:
    households: QuerySet[Household] = scope.apply(Household.objects.all())
    if kind == OFFLINE:
        return households.filter(online_members=0)
    if kind == EMPTY:
        # Nobody lives there now: every member away, or no member recorded at all.
        return households.filter(members__lte=F("members_away"))
    raise ValueError(kind)


def worklist_counts(scope: Scope) -> dict[str, int]:
    """The figures that are not in the census stats: empty households, nobody to call."""
    return {
        EMPTY: households_in(scope, EMPTY).count(),
        NO_CONTACT: residents_in(scope, NO_CONTACT).count(),
    }


# --- order ---------------------------------------------------------------------------------


def _room_key(building: str, unit: str, room: str, pk: int) -> tuple:
    return (natural_key(building or ""), natural_key(unit or ""), natural_key(room or ""), pk)


class RoomOrder(Sequence):
    """A list in building, unit and room order, fetched one page at a time.

    One narrow query reads the ids and the address parts of the whole list; a slice (a
    page) fetches its own rows with the queryset's select_related and prefetch_related.
    A page costs the same whatever the list's length.
    """

    def __init__(self, queryset: QuerySet, *, via_household: bool) -> None:
        self.queryset = queryset
        h = "household__" if via_household else ""
        rows = queryset.order_by().values_list("pk", "building__name", f"{h}unit", f"{h}room")
        self.ids = [row[0] for row in sorted(rows, key=lambda r: _room_key(r[1], r[2], r[3], r[0]))]

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
        return iter(self[:])


def resident_rows(scope: Scope, kind: str) -> RoomOrder:
    residents = (
        residents_in(scope, kind)
        .select_related("household__building")
        .prefetch_related("care_groups")
        .distinct()
    )
    return RoomOrder(residents, via_household=True)


def household_rows(scope: Scope, kind: str) -> RoomOrder:
    households = households_in(scope, kind).select_related("building")
    return RoomOrder(households, via_household=False)


# --- how a row reads --------------------------------------------------------------------


def relative_address(household: Household, where: Region | None) -> str:
    """The household's address from where the viewer stands: "2栋 1单元 302室" inside a
    compound, "1单元 302室" inside its building, never the whole path."""
    building = household.building
    place = ""
    if building is not None and (where is None or where.pk != building.pk):
        path, base = building.path, (where.path if where is not None else "")
        place = path[len(base) + 1 :] if base and path.startswith(base + "/") else path
        place = place.replace("/", " ")
    return " ".join(p for p in (place, household.unit_label, household.room_label) if p)


@dataclass(frozen=True)
class CallTarget:
    number: str
    whom: str  # "resident", "household", "emergency"


def call_target(policy: Any, resident: Resident) -> CallTarget | None:
    """Whom a call button dials for a resident: the resident, else the household's
    contact, else the emergency contact; only numbers the viewer sees in full."""
    for number, whom in (
        (resident.phone, "resident"),
        (resident.household.phone, "household"),
        (resident.emergency_phone, "emergency"),
    ):
        if number:
            dial = policy.dial(number)
            return CallTarget(dial, whom) if dial else None
    return None


def group_labels(resident: Resident) -> list[str]:
    return [CARE_GROUP_LABELS[m.group] for m in resident.care_groups.all()]


def grid_figures(grid: Grid) -> dict[str, Any]:
    """A grid point's own figures, each the count of a worklist: five grouped queries."""
    from django.db.models import Count

    scope = Scope(region=grid.region, grid=grid)
    households = scope.apply(Household.objects.all())
    by_group = dict(
        scope.apply(ResidentCareGroup.objects.all())
        .values_list("group")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "households": households.count(),
        "cannot_order_online": households.filter(online_members=0).count(),
        "no_contact": residents_in(scope, NO_CONTACT).count(),
        "care_groups": [(code, by_group.get(code, 0)) for code in CARE_GROUP_LABELS],
    }
