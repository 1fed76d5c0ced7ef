"""The building's room chart (楼栋户情图): rooms drawn as the building stands.

Per unit entrance, floors are rows (top floor first, as one looks at the building) and
room positions are columns: room 1102 is floor 11, position 02. Each cell says at a
glance whether the household is lived in, its members and those away, its care groups
and today's visit. Three queries per building whatever its size: the households, their
care groups, the day's visits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from frontline.territory.models import Region
from frontline.territory.queries import natural_key

from .labels import CARE_GROUP_LABELS
from .models import Household, ResidentCareGroup, Visit

_ROOM = re.compile(r"^(\d{1,3})(\d{2})$")

# The order a visit's outcome wins in a cell when a door was knocked on more than once.
_OUTCOME_RANK: dict[str, int] = {
    Visit.Outcome.VISITED.value: 3,
    Visit.Outcome.REFUSED.value: 2,
    Visit.Outcome.NOBODY_HOME.value: 1,
}


@dataclass
class Cell:
    household: Household
    groups: list[str] = field(default_factory=list)  # care group codes, in label order
    visit: str = ""  # today's outcome, "" when not yet visited

    @property
    def visit_label(self) -> str:
        return str(Visit.Outcome(self.visit).label) if self.visit else ""


@dataclass
class Floor:
    label: str
    cells: list[Cell | None]


@dataclass
class Unit:
    label: str
    positions: list[str]
    floors: list[Floor]


def _split(room: str) -> tuple[str, str]:
    """(floor, position) of a room number: 1102 → (11, 02); anything else is one row."""
    match = _ROOM.match(room)
    if match:
        return str(int(match.group(1))), match.group(2)
    return "", room


def room_chart(building: Region, day: dt.date) -> list[Unit]:
    households = list(Household.objects.filter(building=building).order_by("unit", "room"))
    groups: dict[int, set[str]] = defaultdict(set)
    for household_id, group in ResidentCareGroup.objects.filter(building=building).values_list(
        "resident__household_id", "group"
    ):
        groups[household_id].add(group)
    visits: dict[int, str] = {}
    for household_id, outcome in Visit.objects.filter(building=building, day=day).values_list(
        "household_id", "outcome"
    ):
        if _OUTCOME_RANK[outcome] > _OUTCOME_RANK.get(visits.get(household_id, ""), 0):
            visits[household_id] = outcome

    by_unit: dict[str, list[Household]] = defaultdict(list)
    for household in households:
        by_unit[household.unit].append(household)
    units = []
    for unit in sorted(by_unit, key=natural_key):
        cells: dict[tuple[str, str], Cell] = {}
        for household in by_unit[unit]:
            floor, position = _split(household.room)
            codes = [code for code in CARE_GROUP_LABELS if code in groups[household.pk]]
            cells[(floor, position)] = Cell(household, codes, visits.get(household.pk, ""))
        positions = sorted({p for _f, p in cells}, key=natural_key)
        floors = sorted({f for f, _p in cells}, key=natural_key, reverse=True)
        label = by_unit[unit][0].unit_label
        units.append(
            Unit(
                label,
                positions,
                [Floor(floor, [cells.get((floor, p)) for p in positions]) for floor in floors],
            )
        )
    return units
