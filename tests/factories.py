"""Builders for test data: valid ID numbers, households placed in the tree."""

from __future__ import annotations

import datetime as dt
import itertools

from frontline.people.idnumber import FEMALE, MALE, make_id_number
from frontline.people.labels import CARE_GROUP_BY_LABEL
from frontline.people.models import Household, Resident, ResidentCareGroup
from frontline.territory.models import Region
from frontline.territory.services import region_ensure_path, split_path

_seq = itertools.count(1)


def region(path: str) -> Region:
    return region_ensure_path(split_path(path))


def id_number(*, birth: dt.date = dt.date(1980, 5, 17), sex: str = MALE) -> str:
    # An even sequence for women and odd for men, so make_id_number never has to bump it
    # onto the next number (which would hand out the same ID twice).
    return make_id_number("341502", birth, next(_seq) * 2 + (sex == MALE), sex)


def household(building_path: str, room: str = "101", unit: str = "1", **fields) -> Household:
    building = region(building_path)
    hh = Household(building=building, unit=unit, room=room, **fields)
    hh.locate(building)
    hh.save()
    return hh


def resident(
    hh: Household,
    name: str = "张三",
    *,
    sex: str = MALE,
    birth: dt.date = dt.date(1980, 5, 17),
    care_groups: tuple[str, ...] = (),
    **fields,
) -> Resident:
    r = Resident(
        household=hh,
        name=name,
        sex=sex,
        birth_date=birth,
        id_number=fields.pop("id_number", None) or id_number(birth=birth, sex=sex),
        **fields,
    )
    r.phone_tail = r.phone[-4:]
    r.locate(hh.building)
    r.save()
    for label in care_groups:
        g = ResidentCareGroup(resident=r, group=CARE_GROUP_BY_LABEL[label])
        g.locate(hh.building)
        g.save()
    hh.members = hh.residents.count()
    hh.members_away = hh.residents.filter(away=True).count()
    hh.online_members = hh.residents.filter(can_order_online=True).count()
    hh.save(update_fields=["members", "members_away", "online_members"])
    return r


__all__ = ["FEMALE", "MALE", "household", "id_number", "region", "resident"]
