"""The demo city: the Lu'an of the seed article, generated deterministically.

Every place the article names is where the article puts it, with the article's counts
(安康小区: 26 buildings, 453 households, 1,453 residents; 丽景苑小区: 1,500+ households,
nearly 4,000 residents; 创业小区: 41 households that cannot order online and 5 dialysis
patients; 玫瑰园小区: 12 elderly living alone; 金安区: 5 sub-districts and 17 townships);
the rest is generated plausibly from one seeded random stream.

The residents go in through the real census import, as a CSV sheet: the demo exercises
the path communities use, and because the import updates residents by ID number, a
second run changes nothing. Grids and accounts are looked up before they are created
for the same reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from frontline.people.idnumber import FEMALE, MALE, make_id_number

if TYPE_CHECKING:
    from frontline.people.census import ImportResult

DEMO_PASSWORD = "frontline-demo"
SEED = 20220404
# Ages are computed against a fixed day, never today: the same run next year must
# produce the same birth dates, hence the same ID numbers, hence no duplicates.
REFERENCE_DATE = dt.date(2026, 1, 1)

YES, NO = "是", "否"
CARE_SEPARATOR = "、"

# Area codes (GB/T 2260) of where people were born: mostly the district they live in,
# some from Lu'an's counties and from Hefei.
AREA_JINAN = "341502"
AREA_YUAN = "341503"
AREA_ZONE = "341500"
_OTHER_AREAS = ("341521", "341522", "341523", "341524", "341525", "340104", "340111")

ANKANG = ("裕安区", "城南镇", "陡步河社区", "安康小区")
CHUANGYE = ("裕安区", "城南镇", "城南社区", "创业小区")
LIJINGYUAN = ("金安区", "鼓楼街道", "鼓楼社区", "丽景苑小区")
MEIGUIYUAN = ("六安经济技术开发区", "城东街道", "远大社区", "玫瑰园小区")
LUSHICI = ("裕安区", "苏埠镇", "卢氏祠村")
# The article's four sealed buildings of 安康小区 with 90 households between them, for
# the risk zones to seal.
ANKANG_SEALED_BUILDINGS = {"3栋": 22, "8栋": 23, "15栋": 22, "21栋": 23}

JINAN_SUBDISTRICTS = ("鼓楼街道", "中市街道", "东市街道", "三里桥街道", "清水河街道")
JINAN_TOWNSHIPS = (
    "木厂镇",
    "马头镇",
    "东桥镇",
    "张店镇",
    "毛坦厂镇",
    "东河口镇",
    "双河镇",
    "施桥镇",
    "孙岗镇",
    "三十铺镇",
    "椿树镇",
    "横塘岗乡",
    "翁墩乡",
    "淠东乡",
    "中店乡",
    "先生店乡",
    "城北乡",
)

# Anhui's common surnames, roughly by frequency (the earlier, the likelier).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严武戴孔汤鲍匡梁"
)
# Given-name characters by generation: names follow the fashions of their decade. The
# oldest often carry one of the era's set names.
_OLD_NAMES = {
    MALE: ("建国", "国庆", "建华", "德胜", "明华", "永福", "金山", "传海", "学文", "志刚", "守仁"),
    FEMALE: (
        "秀英",
        "桂兰",
        "玉兰",
        "凤英",
        "桂珍",
        "秀兰",
        "翠花",
        "素云",
        "春梅",
        "玉珍",
        "淑琴",
    ),
}
_GIVEN = {
    (MALE, "old"): "德福成贵发忠学仁义文宝庆山林海根生友富春传",
    (FEMALE, "old"): "秀英桂兰玉凤珍芳梅翠花淑琴素云金春荣",
    (MALE, "mid"): "伟强军勇斌杰涛磊峰超波辉刚明华鹏飞俊龙健兵亮平林东",
    (FEMALE, "mid"): "丽芳敏静艳娟霞燕红萍玲婷丹琴莉娜颖慧洁雪琳晶",
    (MALE, "young"): "浩宇轩辰然泽俊博文涵睿子豪毅晨阳逸凡皓航一诺铭宸瑞",
    (FEMALE, "young"): "欣怡梓涵诗雨萱可馨悦彤语嫣若曦佳琪紫晴心怡子墨沐雪依",
}

_WORK_UNITS = (
    "六安市人民医院",
    "六安市第二人民医院",
    "六安市中医院",
    "六安市第一中学",
    "六安市第二中学",
    "皖西学院",
    "六安职业技术学院",
    "国网六安供电公司",
    "中国移动六安分公司",
    "安徽六安农村商业银行",
    "中国银行六安分行",
    "六安市公安局",
    "六安市城市管理局",
    "六安市市场监督管理局",
    "裕安区人民政府",
    "金安区教育局",
    "应流集团",
    "六安钢铁控股集团",
    "江淮电机",
    "六安市公交公司",
    "皖西大别山供销超市",
    "六安市邮政分公司",
    "个体经营",
    "个体经营",
    "自由职业",
    "务农",
)
_MIGRANT_UNITS = ("在合肥务工", "在上海务工", "在杭州务工", "在苏州务工", "在南京务工")

_PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]


# --- the shape of the city -----------------------------------------------------------


@dataclass(frozen=True)
class FixedHousehold:
    """A household the article describes, placed exactly where it says."""

    building: str
    unit: str
    room: str
    # (surname, sex, age, can order online, care group labels)
    members: tuple[tuple[str, str, int, str, tuple[str, ...]], ...]


@dataclass
class CompoundSpec:
    path: tuple[str, ...]  # district, township, community, compound
    area: str
    buildings: list[tuple[str, int]]  # (name, households)
    residents: int
    units: int = 2
    floors: int = 6
    rooms_per_floor: int = 2
    rural: bool = False
    # Share of households that are 低保/五保/特困 (the head of the household carries it).
    hardship: float = 0.02
    elderly_share: float = 1.0  # multiplies the odds of elderly households
    elderly_alone_rate: float = 0.6  # of single elderly (70+) households
    dialysis_rate: float = 0.001
    fixed: tuple[FixedHousehold, ...] = ()
    # Exact counts the article gives: "offline_households", "dialysis".
    exact: dict[str, int] = field(default_factory=dict)
    surname_bias: str = ""


def _spread(total: int, parts: int, rng: random.Random, jitter: int = 0) -> list[int]:
    """`total` split into `parts` near-equal positive counts (sum exact)."""
    base, extra = divmod(total, parts)
    counts = [base + (1 if i < extra else 0) for i in range(parts)]
    for _ in range(jitter * parts):
        i, j = rng.randrange(parts), rng.randrange(parts)
        if i != j and counts[i] > 1:
            counts[i] -= 1
            counts[j] += 1
    return counts


def city_spec() -> list[CompoundSpec]:
    """Every compound of the demo city, in a fixed order."""
    rng = random.Random(SEED)
    specs: list[CompoundSpec] = []

    # 安康小区: 26 buildings, 453 households, 1,453 residents.
    sealed = {int(name.removesuffix("栋")): n for name, n in ANKANG_SEALED_BUILDINGS.items()}
    others = _spread(453 - sum(sealed.values()), 26 - len(sealed), rng, jitter=2)
    counts = iter(others)
    specs.append(
        CompoundSpec(
            path=ANKANG,
            area=AREA_YUAN,
            buildings=[(f"{n}栋", sealed.get(n) or next(counts)) for n in range(1, 27)],
            residents=1453,
        )
    )
    # 创业小区: resettlement housing, mostly subsistence households, many elderly.
    specs.append(
        CompoundSpec(
            path=CHUANGYE,
            area=AREA_YUAN,
            buildings=[(f"{n}栋", c) for n, c in enumerate(_spread(168, 8, rng, 1), 1)],
            residents=352,
            hardship=0.85,
            elderly_share=2.5,
            dialysis_rate=0.0,
            exact={"offline_households": 41, "dialysis": 5},
        )
    )
    specs.append(
        CompoundSpec(
            path=("裕安区", "城南镇", "陡步河社区", "陡步河花园"),
            area=AREA_YUAN,
            buildings=[(f"{n}栋", c) for n, c in enumerate(_spread(72, 4, rng, 1), 1)],
            residents=221,
        )
    )
    # Villages: a natural village (自然村) stands where a compound stands in town, and
    # each house is a "building" with one household.
    for village_path, hamlets, area in (
        (LUSHICI, ("东庄自然村", "西庄自然村", "卢圩自然村"), AREA_YUAN),
        (("裕安区", "罗集乡", "罗集村"), ("罗集街自然村", "河湾自然村"), AREA_YUAN),
    ):
        for hamlet in hamlets:
            houses = rng.randint(14, 22)
            specs.append(
                CompoundSpec(
                    path=(*village_path, hamlet),
                    area=area,
                    buildings=[(f"{n}号", 1) for n in range(1, houses + 1)],
                    residents=round(houses * 2.9),
                    rural=True,
                    hardship=0.06,
                    elderly_share=1.8,
                    surname_bias="卢" if village_path == LUSHICI else "",
                )
            )

    # 丽景苑小区: 1,500+ households, nearly 4,000 residents, high-rises.
    specs.append(
        CompoundSpec(
            path=LIJINGYUAN,
            area=AREA_JINAN,
            buildings=[(f"{n}号楼", c) for n, c in enumerate(_spread(1512, 24, rng, 2), 1)],
            residents=3968,
            floors=18,
        )
    )
    # Every other sub-district and township of 金安区: one community or village with one
    # small compound, so that the district's rollups and grids have 22 branches.
    for name in JINAN_SUBDISTRICTS[1:]:
        stem = name.removesuffix("街道")
        specs.append(
            CompoundSpec(
                path=("金安区", name, f"{stem}社区", f"{stem}花园小区"),
                area=AREA_JINAN,
                buildings=[
                    (f"{n}栋", c) for n, c in enumerate(_spread(rng.randint(24, 36), 3, rng), 1)
                ],
                residents=0,
            )
        )
    for name in JINAN_TOWNSHIPS:
        stem = name.removesuffix("镇").removesuffix("乡")
        if name.endswith("镇"):
            path = ("金安区", name, f"{stem}社区", f"{stem}新村小区")
            buildings = [
                (f"{n}栋", c) for n, c in enumerate(_spread(rng.randint(18, 28), 2, rng), 1)
            ]
            rural = False
        else:
            path = ("金安区", name, f"{stem}村", f"{stem}中心自然村")
            buildings = [(f"{n}号", 1) for n in range(1, rng.randint(10, 16) + 1)]
            rural = True
        specs.append(
            CompoundSpec(
                path=path,
                area=AREA_JINAN,
                buildings=buildings,
                residents=0,
                rural=rural,
                elderly_share=1.6 if rural else 1.0,
            )
        )

    # 玫瑰园小区 (远大玫瑰园) in the development zone: 12 elderly living alone, among them
    # 孙奶奶 (85) in 4号楼 and the couple in 15号楼 304 who wrote the thank-you letter.
    alone = ("独居老人",)
    fixed = [
        FixedHousehold("4号楼", "1", "502", (("孙", FEMALE, 85, NO, alone),)),
        FixedHousehold(
            "15号楼", "1", "304", (("周", MALE, 83, NO, alone), ("吴", FEMALE, 80, NO, alone))
        ),
    ]
    for building, unit, room, sex, age in (
        ("2号楼", "2", "101", FEMALE, 78),
        ("3号楼", "1", "601", MALE, 81),
        ("6号楼", "1", "202", FEMALE, 76),
        ("7号楼", "2", "401", FEMALE, 88),
        ("9号楼", "1", "102", MALE, 74),
        ("11号楼", "2", "302", FEMALE, 79),
        ("12号楼", "1", "501", FEMALE, 83),
        ("16号楼", "2", "201", MALE, 77),
        ("18号楼", "1", "402", FEMALE, 90),
    ):
        fixed.append(FixedHousehold(building, unit, room, (("", sex, age, NO, alone),)))
    specs.append(
        CompoundSpec(
            path=MEIGUIYUAN,
            area=AREA_ZONE,
            buildings=[(f"{n}号楼", c) for n, c in enumerate(_spread(306, 18, rng, 1), 1)],
            residents=812,
            rooms_per_floor=4,
            elderly_alone_rate=0.0,
            fixed=tuple(fixed),
        )
    )
    specs.append(
        CompoundSpec(
            path=("六安经济技术开发区", "城东街道", "远大社区", "远大新城"),
            area=AREA_ZONE,
            buildings=[(f"{n}号楼", c) for n, c in enumerate(_spread(96, 6, rng, 1), 1)],
            residents=0,
        )
    )
    return specs


# --- people --------------------------------------------------------------------------


@dataclass
class Person:
    surname: str
    sex: str
    age: int
    name: str = ""
    birth: dt.date = REFERENCE_DATE
    id_number: str = ""
    phone: str = ""
    work_unit: str = ""
    party: bool = False
    online: str = ""  # 是, 否, or "" (not recorded)
    care: list[str] = field(default_factory=list)
    away: bool = False


@dataclass
class DemoHousehold:
    path: tuple[str, ...]
    building: str
    unit: str
    room: str
    members: list[Person]


class _Generator:
    def __init__(self, seed: int | str = SEED) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.sequence = 0

    # People are built in composition (ages and sexes first), then given names and ids.
    def surname(self, bias: str = "") -> str:
        if bias and self.rng.random() < 0.6:
            return bias
        # A triangular pick favours the frequent surnames at the front of the list.
        i = int(self.rng.triangular(0, len(_SURNAMES), 0))
        return _SURNAMES[min(i, len(_SURNAMES) - 1)]

    def given_name(self, sex: str, age: int) -> str:
        era = "old" if age >= 55 else "mid" if age >= 25 else "young"
        chars = _GIVEN[(sex, era)]
        if era == "old" and self.rng.random() < 0.5:
            return self.rng.choice(_OLD_NAMES[sex])
        n = 1 if self.rng.random() < 0.3 else 2
        return "".join(self.rng.choice(chars) for _ in range(n))

    def composition(self, size: int, spec: CompoundSpec) -> list[Person]:
        rng = self.rng
        s = self.surname(spec.surname_bias)

        def adult(lo: int, hi: int, sex: str | None = None, surname: str | None = None) -> Person:
            sex = sex or rng.choice((MALE, FEMALE))
            return Person(surname or self.surname(spec.surname_bias), sex, rng.randint(lo, hi))

        def couple(lo: int, hi: int) -> list[Person]:
            husband = adult(lo, hi, MALE, s)
            wife = adult(max(20, husband.age - 6), husband.age + 2, FEMALE)
            wife.age = min(max(wife.age, 20), 99)
            return [husband, wife]

        def children(parent_age: int, n: int) -> list[Person]:
            kids = []
            for _ in range(n):
                age = max(0, parent_age - rng.randint(22, 34))
                kids.append(Person(s, rng.choice((MALE, FEMALE)), age))
            return kids

        elderly_odds = min(0.9, 0.35 * spec.elderly_share)
        if size == 1:
            if rng.random() < elderly_odds:
                ceiling = 95 if spec.elderly_alone_rate else 69
                return [Person(s, rng.choice((MALE, FEMALE)), rng.randint(62, ceiling))]
            return [adult(22, 45, surname=s)]
        if size == 2:
            roll = rng.random()
            if roll < elderly_odds:
                return couple(60, 86)
            if roll < 0.85:
                return couple(24, 58)
            parent = adult(28, 45, surname=s)
            return [parent, *children(parent.age, 1)]
        if size == 3:
            if rng.random() < 0.2 * spec.elderly_share:
                old = couple(56, 78)
                return [*old, *children(old[0].age, 1)]
            parents = couple(26, 52)
            return [*parents, *children(parents[0].age, 1)]
        if size == 4:
            if rng.random() < 0.6:
                parents = couple(28, 46)
                return [*parents, *children(parents[0].age, 2)]
            parents = couple(27, 40)
            grandmother = Person(s, FEMALE, parents[0].age + rng.randint(24, 32))
            return [grandmother, *parents, *children(parents[0].age, 1)]
        # Three generations under one roof: grandparents, a couple, their children.
        grandparents = couple(58, 82)
        son = Person(s, MALE, max(24, grandparents[0].age - rng.randint(24, 32)))
        daughter_in_law = adult(max(22, son.age - 5), son.age + 2, FEMALE)
        family = [*grandparents, son, daughter_in_law]
        family += children(son.age, size - 4)
        return family

    def household_sizes(self, households: int, residents: int, spec: CompoundSpec) -> list[int]:
        rng = self.rng
        if residents <= 0:
            weights = (0.14, 0.30, 0.30, 0.17, 0.07, 0.02)
            if spec.rural:
                weights = (0.10, 0.30, 0.22, 0.18, 0.14, 0.06)
            return rng.choices(range(1, 7), weights=weights, k=households)
        sizes = [1] * households
        remaining = residents - households
        if remaining < 0:
            raise ValueError("fewer residents than households")
        # Fill towards an average around the target, then settle the exact total.
        while remaining > 0:
            i = rng.randrange(households)
            if sizes[i] < 6:
                sizes[i] += 1
                remaining -= 1
        return sizes

    def phone(self) -> str:
        return self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def finish(self, person: Person, spec: CompoundSpec) -> None:
        """Name, birth date, ID number, phone, work, party, online, care groups."""
        rng = self.rng
        person.age = max(0, min(person.age, 99))
        person.name = person.surname + self.given_name(person.sex, person.age)
        birth_year = REFERENCE_DATE.year - person.age - 1
        person.birth = dt.date(birth_year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        area = spec.area if rng.random() < 0.8 else rng.choice(_OTHER_AREAS)
        while True:
            self.sequence += 1
            number = make_id_number(area, person.birth, self.sequence * 7 + 10, person.sex)
            if number not in self.used_ids:
                break
        self.used_ids.add(number)
        person.id_number = number

        age = person.age
        if age >= 16 and rng.random() < (0.95 if age < 70 else 0.6):
            person.phone = self.phone()
        if 20 <= age < 60:
            if spec.rural and rng.random() < 0.35:
                person.work_unit = rng.choice(_MIGRANT_UNITS)
                person.away = rng.random() < 0.6
            elif rng.random() < 0.85:
                person.work_unit = rng.choice(_WORK_UNITS)
        elif 60 <= age < 75 and rng.random() < 0.5:
            person.work_unit = "退休"
        elif 6 <= age < 18:
            person.work_unit = "在校学生"
        if 18 <= age < 60 and not person.away and rng.random() < 0.03:
            person.away = True
        party_rate = 0.0 if age < 18 else 0.06 if age < 35 else 0.09 if age < 60 else 0.12
        person.party = rng.random() < party_rate

        roll = rng.random()
        if age < 14:
            person.online = NO if roll < 0.7 else ""
        elif age < 55:
            person.online = YES if roll < 0.93 else NO if roll < 0.97 else ""
        elif age < 70:
            person.online = YES if roll < 0.55 else NO if roll < 0.88 else ""
        else:
            person.online = YES if roll < 0.12 else NO if roll < 0.85 else ""

        if age < 3:
            person.care.append("婴幼儿")
        if person.sex == FEMALE and 22 <= age <= 38 and rng.random() < 0.025:
            person.care.append("孕妇")
        if rng.random() < (0.012 if age < 60 else 0.03):
            person.care.append("残疾人")
        if age >= 40 and rng.random() < spec.dialysis_rate:
            person.care.append("透析")

    def compound(self, spec: CompoundSpec) -> list[DemoHousehold]:
        rng = self.rng
        households: list[DemoHousehold] = []
        taken: set[tuple[str, str, str]] = set()
        for fixed in spec.fixed:
            members = []
            for surname, sex, age, online, care in fixed.members:
                person = Person(surname or self.surname(), sex, age)
                self.finish(person, spec)
                person.online, person.care, person.away = online, list(care), False
                person.work_unit = "退休"
                members.append(person)
            households.append(
                DemoHousehold(spec.path, fixed.building, fixed.unit, fixed.room, members)
            )
            taken.add((fixed.building, fixed.unit, fixed.room))

        total = sum(n for _, n in spec.buildings)
        fixed_residents = sum(len(h.members) for h in households)
        target = spec.residents - fixed_residents if spec.residents else 0
        sizes = iter(self.household_sizes(total - len(households), target, spec))

        for building, count in spec.buildings:
            if spec.rural:
                rooms = [("", "1")]
            else:
                rooms = [
                    (str(u), f"{floor}{r:02d}")
                    for u in range(1, spec.units + 1)
                    for floor in range(1, spec.floors + 1)
                    for r in range(1, spec.rooms_per_floor + 1)
                ]
            rooms = [r for r in rooms if (building, *r) not in taken]
            already = sum(1 for h in households if h.building == building)
            for unit, room in sorted(rng.sample(rooms, count - already)):
                members = self.composition(next(sizes), spec)
                for person in members:
                    self.finish(person, spec)
                households.append(DemoHousehold(spec.path, building, unit, room, members))

        for household in households[len(spec.fixed) :]:
            head = max(household.members, key=lambda p: p.age)
            alone = len(household.members) == 1 and head.age >= 70
            if alone and rng.random() < spec.elderly_alone_rate:
                head.care.append("独居老人")
            if rng.random() < spec.hardship:
                if len(household.members) == 1 and head.age >= 60 and spec.rural:
                    head.care.append("五保")
                else:
                    head.care.append(rng.choice(("低保", "低保", "低保", "特困", "五保")))
        self._settle_exact(households, spec)
        return households

    def _settle_exact(self, households: list[DemoHousehold], spec: CompoundSpec) -> None:
        """Make the article's exact figures hold, whatever the random draw gave."""
        rng = self.rng
        if "dialysis" in spec.exact:
            people = [p for h in households for p in h.members]
            for p in people:
                if "透析" in p.care:
                    p.care.remove("透析")
            candidates = [p for p in people if 40 <= p.age <= 85]
            for p in rng.sample(candidates, spec.exact["dialysis"]):
                p.care.append("透析")
        if "offline_households" in spec.exact:
            wanted = spec.exact["offline_households"]
            offline = [h for h in households if not any(p.online == YES for p in h.members)]
            online = [h for h in households if any(p.online == YES for p in h.members)]
            if len(offline) > wanted:
                # Someone in the family learns: the youngest adult orders for everyone.
                for h in rng.sample(offline, len(offline) - wanted):
                    adults = [p for p in h.members if p.age >= 14] or h.members
                    min(adults, key=lambda p: p.age).online = YES
            elif len(offline) < wanted:
                for h in rng.sample(online, wanted - len(offline)):
                    for p in h.members:
                        if p.online == YES:
                            p.online = NO

    def city(self) -> list[DemoHousehold]:
        return [h for spec in city_spec() for h in self.compound(spec)]


def demo_households() -> list[DemoHousehold]:
    """The whole demo city's households, identical on every call."""
    return _Generator().city()


def census_rows(households: list[DemoHousehold] | None = None) -> Iterator[dict[str, str]]:
    """One census-sheet row per resident, keyed by the sheet's Chinese header."""
    if households is None:
        households = demo_households()
    contacts = _emergency_contacts(households)
    for h in households:
        district, township, community, compound = h.path
        for p in h.members:
            contact_name, relation, contact_phone = contacts.get(p.id_number, ("", "", ""))
            yield {
                "区县": district,
                "乡镇街道": township,
                "村社区": community,
                "小区": compound,
                "楼栋": h.building,
                "单元": h.unit,
                "房号": h.room,
                "姓名": p.name,
                "性别": "男" if p.sex == MALE else "女",
                "身份证号": p.id_number,
                "联系电话": p.phone,
                "工作单位": p.work_unit,
                "党员": YES if p.party else NO,
                "会网购": p.online,
                "重点人群": CARE_SEPARATOR.join(p.care),
                "在外": YES if p.away else NO,
                "紧急联系人": f"{contact_name}（{relation}）" if relation else contact_name,
                "紧急联系电话": contact_phone,
            }


def write_census_csv(path: Path, rows: Iterator[dict[str, str]] | None = None) -> int:
    """The demo census as a UTF-8 CSV sheet; returns the number of residents."""
    from frontline.people.labels import CENSUS_COLUMNS, EMERGENCY_COLUMNS

    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*CENSUS_COLUMNS, *EMERGENCY_COLUMNS])
        writer.writeheader()
        for row in rows if rows is not None else census_rows():
            writer.writerow(row)
            n += 1
    return n


# --- loading -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    path: str  # "" for the city
    full_name: str
    phone: str
    superuser: bool = False


_ANKANG = "/".join(ANKANG)
_CHUANGYE = "/".join(CHUANGYE)

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "city_admin", "", "系统管理员", "", superuser=True),
    DemoAccount("city_admin", "city_admin", "", "李卫东", "13805640101"),
    DemoAccount("district_staff", "district_staff", "裕安区", "王德华", "13805640202"),
    DemoAccount("township_staff", "township_staff", "裕安区/城南镇", "陈立新", "13805640303"),
    DemoAccount(
        "community_staff", "community_staff", "裕安区/城南镇/陡步河社区", "杨丽萍", "13805640404"
    ),
    DemoAccount("grid_chief", "grid_chief", _ANKANG, "陶春华", "13805640505"),
    DemoAccount("grid_worker", "grid_worker", _ANKANG, "许晓燕", "13805640606"),
    DemoAccount("grid_worker_chuangye", "grid_worker", _CHUANGYE, "吴春玲", "13805640707"),
    # The article's deployed cadre who knocked on every door of 安康小区.
    DemoAccount("cadre", "cadre", _ANKANG, "钟鸣", "13805640808"),
    DemoAccount("volunteer", "volunteer", _ANKANG, "刘志远", "13805640909"),
    # Outside 城南镇: a community's staff in 金安区, who keep 丽景苑小区's duty and see none
    # of 裕安区 (what another township's view of the same pages looks like).
    DemoAccount(
        "gulou_staff", "community_staff", "/".join(LIJINGYUAN[:3]), "周海燕", "13805641010"
    ),
)

# Which demo accounts are members of which grid point: (compound, point number) → role.
_LINKED_MEMBERS: dict[tuple[tuple[str, ...], int], dict[str, str]] = {
    (ANKANG, 1): {"chief": "grid_chief", "worker": "grid_worker"},
    (CHUANGYE, 1): {"worker": "grid_worker_chuangye"},
}

_CN_NUMERALS = "一二三四五六七八九十"

_DUTIES = {
    1: "统筹全区疫情防控和网格运行；区级领导包乡镇（街道），调度下沉干部和应急防控队伍，"
    "每日例会研判数据。",
    2: "科级干部包社区（村）；落实静态管理、核酸检测组织、物资保供和隔离转运衔接，督办居民诉求。",
    3: "组织扫楼摸底和核酸检测；管理小区卡点值守；按接单、派单、送单、交单、消单“五单”"
    "程序办理居民诉求。",
    4: "普通干部包小区、楼栋：每日巡查，通知核酸检测，走访独居老人等重点人群，统一订购并"
    "无接触配送生活物资，登记在外人员。",
}


@dataclass
class DemoResult:
    residents: int = 0
    import_result: ImportResult | None = None
    grids_created: int = 0
    members: int = 0
    accounts_created: list[str] = field(default_factory=list)
    seconds: float = 0.0


def load_demo(*, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Load (or re-load, changing nothing) the demo city: census, grids, accounts."""
    from frontline.core.errors import DomainError
    from frontline.people.census import import_census

    say = progress or (lambda message: None)
    started = time.perf_counter()
    result = DemoResult()
    with tempfile.TemporaryDirectory(prefix="frontline-demo-") as tmp:
        sheet = Path(tmp) / "六安市示范普查.csv"
        result.residents = write_census_csv(sheet)
        say(f"census sheet: {result.residents} residents")
        imported = import_census(sheet, filename=sheet.name)
    if not imported.ok:
        raise DomainError("; ".join(str(e) for e in imported.errors[:10]))
    result.import_result = imported
    with transaction.atomic():
        users = _ensure_accounts(result)
        _ensure_grids(result, users)
        from frontline.duty.demo import load_mobilisation
        from frontline.health import care, isolation, testing, transfers, zones

        load_mobilisation(users, say)
        # Zones first: the testing round's door-to-door lists read the sealed buildings.
        for part in (zones, transfers, isolation, care, testing):
            part.load_demo(users, say)
        from frontline.supervision import demo as supervision

        supervision.load_demo(users, say)
    result.seconds = time.perf_counter() - started
    return result


_RELATIONS = ("女儿", "儿子", "邻居", "女儿", "侄子", "邻居")


def _emergency_contacts(households: list[DemoHousehold]) -> dict[str, tuple[str, str, str]]:
    """ID number → (name, relation, phone): the emergency contacts the census sheet gives.

    Most elderly people living alone get a child or a neighbour to call; the second of
    every four of a compound (in building and room order) does not, so that the gap shows
    on the "nobody to call" worklist, in 安康小区's first grid point too. Deterministic
    (seeded by the resident's ID number).
    """
    from frontline.people.labels import CARE_GROUP_LABELS
    from frontline.territory.queries import natural_key

    alone_label = CARE_GROUP_LABELS["elderly_alone"]
    alone = sorted(
        (
            (h.path, natural_key(h.building), natural_key(h.unit), natural_key(h.room), p)
            for h in households
            for p in h.members
            if alone_label in p.care
        ),
        key=lambda item: (item[0], item[1], item[2], item[3], item[4].id_number),
    )
    contacts: dict[str, tuple[str, str, str]] = {}
    position: dict[tuple[str, ...], int] = {}
    for compound, _building, _unit, _room, person in alone:
        i = position[compound] = position.get(compound, -1) + 1
        if i % 4 == 1:
            continue
        gen = _Generator(seed=f"{SEED}:contact:{person.id_number}")
        relation = _RELATIONS[gen.rng.randrange(len(_RELATIONS))]
        surname = person.name[0] if relation in ("女儿", "儿子", "侄子") else gen.surname()
        sex = (
            FEMALE
            if relation == "女儿"
            else MALE
            if relation in ("儿子", "侄子")
            else gen.rng.choice((MALE, FEMALE))
        )
        name = surname + gen.given_name(sex, gen.rng.randint(35, 60))
        contacts[person.id_number] = (name, relation, gen.phone())
    return contacts


def _ensure_accounts(result: DemoResult) -> dict:
    from django.contrib.auth.hashers import make_password

    from frontline.accounts.models import User
    from frontline.accounts.services import user_create
    from frontline.territory.services import city, region_by_path

    # One hash for every demo account: a password hash costs most of a second by design,
    # and ten of them would be half the demo's load time. They share one public password
    # anyway.
    encoded = None
    users = {}
    for account in DEMO_ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        if user is None:
            encoded = encoded or make_password(DEMO_PASSWORD)
            region = region_by_path(account.path) if account.path else city()
            user = user_create(
                username=account.username,
                role=account.role,
                region=region,
                full_name=account.full_name,
                phone=account.phone,
            )
            user.password = encoded
            user.is_superuser = user.is_staff = account.superuser
            user.save(update_fields=["password", "is_superuser", "is_staff"])
            result.accounts_created.append(account.username)
        users[account.username] = user
    return users


def _ensure_grids(result: DemoResult, users: dict) -> None:
    from frontline.territory.models import Grid, GridMember, Region
    from frontline.territory.services import grid_add_member, grid_create

    specs = city_spec()
    paths = {s.path for s in specs}
    regions = {
        tuple(r.path.split("/")): r
        for r in Region.objects.filter(level__in=(1, 2, 3, 4)).only(
            "id", "path", "name", "level", "district", "township", "community", "compound"
        )
    }
    accounts = {a.username: a for a in DEMO_ACCOUNTS}

    def ensure(key: tuple[str, ...], name: str, parent, coverage=(), members=(2, 2), link=None):
        region = regions[key]
        grid = Grid.objects.filter(region=region, name=name).first()
        if grid is None:
            grid = grid_create(
                region=region,
                name=name,
                parent=parent,
                coverage=list(coverage),
                duties=_DUTIES[len(key)],
            )
            result.grids_created += 1
        # Seeded by the grid's own name and place: the same people whatever else changed.
        gen = _Generator(seed=f"{SEED}:{'/'.join(key)}:{name}")
        link = link or {}
        chiefs, workers = members
        for role, count in ((GridMember.Role.CHIEF, chiefs), (GridMember.Role.WORKER, workers)):
            for i in range(count):
                sex = gen.rng.choice((MALE, FEMALE))
                name_ = gen.surname() + gen.given_name(sex, gen.rng.randint(26, 55))
                phone = gen.phone()
                user = None
                if i == 0 and role in link:
                    account = accounts[link[role]]
                    name_, phone, user = account.full_name, account.phone, users[account.username]
                grid_add_member(grid=grid, role=role, name=name_, phone=phone, user=user)
                result.members += 1
        return grid

    district_grids: dict[str, Grid] = {}
    township_grids: dict[tuple[str, ...], Grid] = {}
    community_grids: dict[tuple[str, ...], Grid] = {}
    for path in sorted(paths):
        district, township, community, compound = path
        if district not in district_grids:
            district_grids[district] = ensure((district,), f"{district}网格", None, members=(1, 3))
        t_key = (district, township)
        if t_key not in township_grids:
            township_grids[t_key] = ensure(
                t_key, f"{township}网格", district_grids[district], members=(1, 3)
            )
        c_key = (district, township, community)
        if c_key not in community_grids:
            community_grids[c_key] = ensure(
                c_key, f"{community}网格", township_grids[t_key], members=(1, 3)
            )
        compound_region = regions[path]
        if path == ANKANG:
            # 安康小区 is split into six combat units, each a run of buildings.
            buildings = {
                r.name: r for r in Region.objects.filter(parent=compound_region).only("id", "name")
            }
            runs = ((1, 5), (6, 10), (11, 14), (15, 18), (19, 22), (23, 26))
            for number, (first, last) in enumerate(runs, 1):
                ensure(
                    path,
                    f"{compound}第{_CN_NUMERALS[number - 1]}网格点（{first}—{last}栋）",
                    community_grids[c_key],
                    coverage=[buildings[f"{n}栋"] for n in range(first, last + 1)],
                    members=(1, 3),
                    link=_LINKED_MEMBERS.get((path, number)),
                )
        else:
            ensure(
                path,
                f"{compound}网格点",
                community_grids[c_key],
                members=(1, 2),
                link=_LINKED_MEMBERS.get((path, 1)),
            )
