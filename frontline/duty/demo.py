"""The demo city's mobilisation: the seed's citywide figures as plausible people.

127 city units with 9,236 cadres, all deployed (238 of them first to 金安区 and 裕安区 on
the responsibility chain, 44 正处级 and 53 副处级 among them; 181 to the headquarters'
13 groups and 2 task forces; 90 to inspection; 7,520 as grid workers in 金安区; the rest
on duty in 裕安区 and the development zone); a standing branch at every compound and 53
temporary branches in 裕安区 with 3,000+ members and their five functional groups; 196
responsibility zones, 356 commando teams, 868 party posts; 3,126 resident party members
and 12,740 others reported and confirmed; the membership pipeline 3,262 / 800 / 2,029 /
543 / 108. And 安康小区's gate: a post with tomorrow's roster, a gap at 4 a.m.

Bulk inserts, seeded, and idempotent: the generated part is written once (the first unit
is the marker), the roster of 安康小区 only while its post has no shifts.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from frontline.people.idnumber import FEMALE, MALE, make_id_number
from frontline.territory.models import Level, Region

from .models import (
    Branch,
    BranchMember,
    Cadre,
    ChainLevel,
    CommandoTeam,
    Deployment,
    MemberKind,
    OrgUnit,
    Pairing,
    PartyGroup,
    PartyPost,
    PipelineEntry,
    Post,
    Rank,
    Report,
    ResponsibilityZone,
    RoleAssignment,
    Shift,
    TenRole,
)

SEED = 20220404
START = dt.date(2025, 12, 20)
ANKANG = "裕安区/城南镇/陡步河社区/安康小区"

UNITS = 127
CADRES = 9236
CHAIN = (44, 53, 141)  # 正处级 over townships, 副处级 over communities, others over compounds
TASK_FORCE = 181
INSPECTION = 90
JINAN_GRID_WORKERS = 7520
TEMPORARY_BRANCHES = 53
TEMPORARY_MEMBERS = 3074
ZONES = 196
TEAMS = 356
PARTY_POSTS = 868
PARTY_MEMBERS_REPORTED = 3126
OTHERS_REPORTED = 12740
PIPELINE = {"activist": 3262, "development": 800, "probationary": 2029, "application": 543}
NEW_ACTIVISTS = 108

_BUREAUS = [
    "市委办公室",
    "市政府办公室",
    "市委组织部",
    "市委宣传部",
    "市委统战部",
    "市委政法委",
    "市纪委监委",
    "市委编办",
    "市直机关工委",
    "市委党校",
    "市人大常委会办公室",
    "市政协办公室",
    "市中级人民法院",
    "市人民检察院",
    "市发展和改革委员会",
    "市教育体育局",
    "市科学技术局",
    "市经济和信息化局",
    "市公安局",
    "市民政局",
    "市司法局",
    "市财政局",
    "市人力资源和社会保障局",
    "市自然资源和规划局",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水利局",
    "市农业农村局",
    "市商务局",
    "市文化和旅游局",
    "市卫生健康委员会",
    "市退役军人事务局",
    "市应急管理局",
    "市审计局",
    "市国有资产监督管理委员会",
    "市市场监督管理局",
    "市统计局",
    "市医疗保障局",
    "市城市管理局",
    "市林业局",
    "市数据资源管理局",
    "市信访局",
    "市机关事务管理局",
    "市人民防空办公室",
    "市供销合作社",
    "市总工会",
    "团市委",
    "市妇联",
    "市科协",
    "市文联",
    "市残联",
    "市红十字会",
    "市工商联",
    "市侨联",
    "市档案馆",
    "市地方志研究室",
    "市公共资源交易中心",
    "市住房公积金管理中心",
    "市气象局",
    "市税务局",
    "市疾病预防控制中心",
    "市人民医院",
    "市中医院",
    "市第二人民医院",
    "市广播电视台",
]  # noqa: SIM905 - a list of names reads better as one string
_SUFFIXES = ("事务服务中心", "综合执法支队", "信息中心", "机关服务中心", "后勤服务中心")
_GROUPS = [
    "综合协调组",
    "疫情研判组",
    "流调溯源组",
    "核酸检测组",
    "社区防控组",
    "隔离管控组",
    "医疗救治组",
    "物资保障组",
    "交通管控组",
    "宣传舆情组",
    "督查考核组",
    "市场保供组",
    "安全稳定组",
    "隔离转运专班",
    "物资保供专班",
]  # noqa: SIM905 - a list of names reads better as one string
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉宁鹏飞亮宇浩凯晨琳雪梅婷佳欣子轩雨涵俊峰海燕春霞卫东立新永胜德华光明"
_PREFIXES = ("139", "138", "137", "136", "135", "158", "159", "182", "187", "188", "150", "151")


class _People:
    def __init__(self, seed: str) -> None:
        self.rng = random.Random(f"{SEED}:{seed}")
        self.sequence = 0
        self.used: set[str] = set()

    def name(self) -> str:
        rng = self.rng
        i = int(rng.triangular(0, len(_SURNAMES), 0))
        given = "".join(rng.choice(_GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))
        return _SURNAMES[min(i, len(_SURNAMES) - 1)] + given

    def phone(self) -> str:
        return self.rng.choice(_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self, area: str, lo: int = 22, hi: int = 58) -> tuple[str, str]:
        """A valid, unique (per generator) ID number and the sex it encodes."""
        while True:
            self.sequence += 1
            sex = self.rng.choice((MALE, FEMALE))
            age = self.rng.randint(lo, hi)
            birth = dt.date(2026 - age, self.rng.randint(1, 12), self.rng.randint(1, 28))
            # The parity of the sequence's last digit carries the sex; only three digits of
            # it fit, so a number drawn twice is drawn again.
            number = make_id_number(area, birth, self.sequence * 2 + (sex == MALE), sex)
            if number not in self.used:
                self.used.add(number)
                return number, sex


def _located(row: Any, region: Region | None) -> Any:
    if region is not None:
        row.locate(region)
    return row


def _spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` uneven whole shares."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    shares = [int(total * w / sum(weights)) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


def load_mobilisation(users: dict[str, Any], say: Callable[[str], None] = lambda m: None) -> None:
    """Write the demo's mobilisation (once) and 安康小区's roster (while it has none)."""
    with transaction.atomic():
        if not OrgUnit.objects.filter(name=_unit_names()[0]).exists():
            _generate(users, say)
        _ankang_roster(users)


def _unit_names() -> list[str]:
    names = [f"六安{b}" for b in _BUREAUS]
    i = 0
    while len(names) < UNITS:
        names.append(f"六安{_BUREAUS[i % len(_BUREAUS)]}{_SUFFIXES[i // len(_BUREAUS)]}")
        i += 1
    return names[:UNITS]


def _generate(users: dict[str, Any], say: Callable[[str], None]) -> None:
    rng = random.Random(SEED)
    people = _People("cadres")
    regions = list(Region.objects.filter(level__in=(2, 3, 4)).order_by("path"))
    by_level = {lvl: [r for r in regions if r.level == lvl] for lvl in (2, 3, 4)}

    def in_district(level: int, *names: str) -> list[Region]:
        return [r for r in by_level[level] if r.path.split("/")[0] in names]

    city = Region.objects.get(level=Level.CITY)
    units = OrgUnit.objects.bulk_create(
        [OrgUnit(name=n, kind=OrgUnit.Kind.CITY) for n in _unit_names()]
    )
    say(f"mobilisation: {len(units)} units")
    # Cadres: one 正处级 head per unit, the rest by rank; nearly all party members.
    counts = _spread(CADRES, UNITS, rng)
    cadres: list[Cadre] = []
    for unit, n in zip(units, counts, strict=True):
        for i in range(n):
            rank = (
                Rank.DIVISION
                if i == 0
                else Rank.DEPUTY_DIVISION
                if i < 3
                else Rank.SECTION
                if i < 12
                else Rank.STAFF
            )
            number, sex = people.id_number("341501")
            cadres.append(
                Cadre(
                    org_unit=unit,
                    name=people.name(),
                    sex=sex,
                    id_number=number,
                    phone=people.phone(),
                    rank=rank,
                    is_party_member=rng.random() < 0.96,
                )
            )
    cadre_account = users.get("cadre")
    if cadre_account is not None:
        cadres[12].name, cadres[12].phone = cadre_account.first_name, cadre_account.phone
        cadres[12].user = cadre_account
    Cadre.objects.bulk_create(cadres, batch_size=2000)
    say(f"mobilisation: {len(cadres)} cadres")

    # Deployments: the chain first (by rank), then task forces, inspection, grid, duty.
    pool = {r: [c for c in cadres if c.rank == r] for r in Rank.values}
    rng.shuffle(pool[Rank.STAFF])
    rng.shuffle(pool[Rank.SECTION])
    both = ("金安区", "裕安区")
    deployments: list[Deployment] = []

    def deploy(cadre, region, role, **extra):
        deployments.append(
            _located(
                Deployment(cadre=cadre, region=region, role=role, start=START, **extra), region
            )
        )

    towns, communities, compounds = (in_district(lvl, *both) for lvl in (2, 3, 4))
    ankang = next(r for r in compounds if r.path == ANKANG)
    chain_cadres = (pool[Rank.DIVISION][: CHAIN[0]], pool[Rank.DEPUTY_DIVISION][: CHAIN[1]])
    for i, c in enumerate(chain_cadres[0]):
        deploy(c, towns[i % len(towns)], "coverage", chain_level=ChainLevel.DISTRICT_LEADER)
    for i, c in enumerate(chain_cadres[1]):
        deploy(
            c, communities[i % len(communities)], "coverage", chain_level=ChainLevel.SECTION_CADRE
        )
    chain_staff = [
        cadres[12],
        *[c for c in pool[Rank.SECTION] if c is not cadres[12]][: CHAIN[2] - 1],
    ]
    for i, c in enumerate(chain_staff):
        place = ankang if c is cadres[12] else compounds[i % len(compounds)]
        deploy(c, place, "coverage", chain_level=ChainLevel.CADRE)
    used = {id(c) for c in (*chain_cadres[0], *chain_cadres[1], *chain_staff)}
    rest = [c for c in cadres if id(c) not in used]
    rng.shuffle(rest)
    for i, c in enumerate(rest[:TASK_FORCE]):
        deploy(c, city, "task_force", task_force=_GROUPS[i % len(_GROUPS)])
    rest = rest[TASK_FORCE:]
    for c in rest[:INSPECTION]:
        deploy(c, city, "inspection", task_force="督查组")
    rest = rest[INSPECTION:]
    jinan = in_district(4, "金安区")
    for i, c in enumerate(rest[:JINAN_GRID_WORKERS]):
        deploy(c, jinan[i % len(jinan)], "grid_worker")
    elsewhere = in_district(4, "裕安区", "六安经济技术开发区")
    for i, c in enumerate(rest[JINAN_GRID_WORKERS:]):
        deploy(c, elsewhere[i % len(elsewhere)], "duty")
    Deployment.objects.bulk_create(deployments, batch_size=2000)
    all_communities = by_level[3]
    Pairing.objects.bulk_create(
        [
            _located(
                Pairing(
                    org_unit=u, community=all_communities[i % len(all_communities)], since=START
                ),
                all_communities[i % len(all_communities)],
            )
            for i, u in enumerate(units)
        ]
    )
    say(f"mobilisation: {len(deployments)} deployments")
    _organisations(rng, by_level, users)


def _organisations(rng: random.Random, by_level: dict[int, list[Region]], users) -> None:
    people = _People("party")
    compounds = by_level[4]
    yuan_compounds = [r for r in compounds if r.path.startswith("裕安区/")]
    yuan_communities = [r for r in by_level[3] if r.path.startswith("裕安区/")]
    branches: list[Branch] = [
        _located(
            Branch(
                name=f"{r.name}党支部", kind="standing", setting="compound", region=r, start=START
            ),
            r,
        )
        for r in compounds
    ]
    temporary: list[Branch] = [
        _located(
            Branch(
                name=f"{r.name}临时党支部",
                kind="temporary",
                setting="compound",
                region=r,
                start=START,
            ),
            r,
        )
        for r in yuan_compounds
    ]
    points = TEMPORARY_BRANCHES - len(temporary)
    for i in range(points):
        community = yuan_communities[i % len(yuan_communities)]
        isolation = i < points * 2 // 3
        name = (
            f"裕安区第{i + 1}隔离点临时党支部"
            if isolation
            else f"裕安区转运专班第{i + 1}临时党支部"
        )
        temporary.append(
            _located(
                Branch(
                    name=name,
                    kind="temporary",
                    setting="isolation_point" if isolation else "transfer_team",
                    region=community,
                    start=START,
                ),
                community,
            )
        )
    Branch.objects.bulk_create(branches + temporary)
    all_branches = branches + temporary
    # Members of the temporary branches: deployed cadres, resident party members, volunteers.
    members: list[BranchMember] = []
    kinds = (
        MemberKind.CADRE,
        MemberKind.PARTY_MEMBER,
        MemberKind.PARTY_MEMBER,
        MemberKind.VOLUNTEER,
    )
    for branch, n in zip(temporary, _spread(TEMPORARY_MEMBERS, len(temporary), rng), strict=True):
        for _ in range(n):
            members.append(
                _like(
                    BranchMember(
                        branch=branch,
                        kind=rng.choice(kinds),
                        name=people.name(),
                        phone=people.phone(),
                        joined=START,
                    ),
                    branch,
                )
            )
    cadre = users.get("cadre")
    ankang_branch = next(b for b in temporary if b.region.path == ANKANG)
    if cadre is not None:
        members.append(
            _like(
                BranchMember(
                    branch=ankang_branch,
                    kind=MemberKind.CADRE,
                    name=cadre.first_name,
                    phone=cadre.phone,
                    user=cadre,
                    joined=START,
                ),
                ankang_branch,
            )
        )
    BranchMember.objects.bulk_create(members, batch_size=2000)
    first: dict[int, BranchMember] = {}
    for m in members:
        if m.user_id or m.branch_id not in first:
            first[m.branch_id] = m
    for branch in temporary:
        branch.secretary = first.get(branch.pk)
    Branch.objects.bulk_update(temporary, ["secretary"])
    PartyGroup.objects.bulk_create(
        [
            _like(PartyGroup(branch=b, function=f, leader=people.name()), b)
            for b in temporary
            for f in PartyGroup.Function.values
        ]
    )
    # Responsibility zones over runs of buildings, commando teams and party posts.
    buildings: dict[int | None, list[Region]] = {}
    for b in Region.objects.filter(level=Level.BUILDING).order_by("path"):
        buildings.setdefault(b.compound_id, []).append(b)
    standing = {b.region_id: b for b in branches}
    zones = []
    zone_buildings = []
    for i in range(ZONES):
        compound = compounds[i % len(compounds)]
        own = buildings.get(compound.pk, [])
        branch = standing[compound.pk]
        zone = _like(
            ResponsibilityZone(
                branch=branch, name=f"党员责任区{i // len(compounds) + 1}", keeper=people.name()
            ),
            branch,
        )
        zones.append(zone)
        k = i // len(compounds)
        zone_buildings.append(own[k * 3 : k * 3 + 3] if own else [])
    ResponsibilityZone.objects.bulk_create(zones)
    through = ResponsibilityZone.buildings.through
    through.objects.bulk_create(
        [
            through(responsibilityzone_id=z.pk, region_id=b.pk)
            for z, bs in zip(zones, zone_buildings, strict=True)
            for b in bs
        ]
    )
    CommandoTeam.objects.bulk_create(
        [
            _like(
                CommandoTeam(
                    branch=all_branches[i % len(all_branches)],
                    name=f"党员突击队第{i + 1}队" if i % 4 else f"攻坚小组第{i + 1}组",
                    kind="commando" if i % 4 else "task_group",
                    leader=people.name(),
                    size=rng.randint(6, 20),
                ),
                all_branches[i % len(all_branches)],
            )
            for i in range(TEAMS)
        ]
    )
    post_kinds = PartyPost.Kind.values
    PartyPost.objects.bulk_create(
        [
            _located(
                PartyPost(
                    region=compounds[i % len(compounds)],
                    name=f"{compounds[i % len(compounds)].name}{PartyPost.Kind(post_kinds[i % 3]).label}{i // len(compounds) + 1}",
                    kind=post_kinds[i % 3],
                    holder=people.name(),
                ),
                compounds[i % len(compounds)],
            )
            for i in range(PARTY_POSTS)
        ]
    )
    # Reports, all confirmed, to every branch; two waiting at 安康小区's.
    now = timezone.now()
    reports = []
    other_kinds = (
        MemberKind.YOUTH_LEAGUE,
        MemberKind.ENTERPRISE,
        MemberKind.VOLUNTEER,
        MemberKind.VOLUNTEER,
    )
    for total, kind in ((PARTY_MEMBERS_REPORTED, None), (OTHERS_REPORTED, "other")):
        for branch, n in zip(all_branches, _spread(total, len(all_branches), rng), strict=True):
            for _ in range(n):
                number, _sex = people.id_number("341503", 18, 70)
                reports.append(
                    _like(
                        Report(
                            branch=branch,
                            kind=MemberKind.PARTY_MEMBER
                            if kind is None
                            else rng.choice(other_kinds),
                            name=people.name(),
                            id_number=number,
                            phone=people.phone(),
                            state=Report.State.CONFIRMED,
                            reported_at=now,
                            decided_at=now,
                        ),
                        branch,
                    )
                )
    for _ in range(2):
        number, _sex = people.id_number("341503", 25, 60)
        reports.append(
            _like(
                Report(
                    branch=ankang_branch,
                    kind=MemberKind.PARTY_MEMBER,
                    name=people.name(),
                    id_number=number,
                    phone=people.phone(),
                    skills="会开车，能搬运物资",
                    reported_at=now,
                ),
                ankang_branch,
            )
        )
    Report.objects.bulk_create(reports, batch_size=2000)
    entries = []
    for stage, total in PIPELINE.items():
        for branch, n in zip(all_branches, _spread(total, len(all_branches), rng), strict=True):
            for _ in range(n):
                entries.append(
                    _like(
                        PipelineEntry(
                            branch=branch, name=people.name(), stage=stage, assessed_on=START
                        ),
                        branch,
                    )
                )
    flagged = [e for e in entries if e.stage == "activist"]
    for e in rng.sample(flagged, NEW_ACTIVISTS):
        e.identified_in_frontline = True
    PipelineEntry.objects.bulk_create(entries, batch_size=2000)
    # Two checkpoints at every compound's gates.
    Post.objects.bulk_create(
        [
            _located(Post(region=r, name=f"{r.name}{gate}卡点", kind="checkpoint"), r)
            for r in compounds
            for gate in ("南门", "北门")
        ]
    )


def _like(row: Any, other: Any) -> Any:
    for name in ("district", "township", "community", "compound", "building"):
        setattr(row, f"{name}_id", getattr(other, f"{name}_id"))
    return row


# 安康小区's volunteers on the gate roster (accounts without a password: they are people on
# the roster, not demo sign-ins).
_ANKANG_VOLUNTEERS = (
    ("ankang_v1", "胡晓峰"),
    ("ankang_v2", "程丽娟"),
    ("ankang_v3", "余建军"),
    ("ankang_v4", "戴春梅"),
)
_ANKANG_DRIVER = ("ankang_driver", "邵师傅")


def _ankang_roster(users: dict[str, Any]) -> None:
    """Tomorrow at 安康小区's south gate: covered but for 04:00–05:00 and the night from
    20:00, which waits for a reporter to take it; today's day shifts too."""
    from frontline.accounts.models import User
    from frontline.accounts.services import user_create

    ankang = Region.objects.get(path=ANKANG)
    post = Post.objects.filter(region=ankang, name=f"{ankang.name}南门卡点").first()
    if post is None:
        post = _located(
            Post(region=ankang, name=f"{ankang.name}南门卡点", kind="checkpoint"), ankang
        )
        post.save()
    people = []
    for username, name in _ANKANG_VOLUNTEERS:
        user = User.objects.filter(username=username).first() or user_create(
            username=username, role="volunteer", region=ankang, full_name=name
        )
        people.append(user)
    # The compound's driver (配送员): the one suggested for a dialysis run (issue 7's demo).
    driver = User.objects.filter(username=_ANKANG_DRIVER[0]).first() or user_create(
        username=_ANKANG_DRIVER[0], role="volunteer", region=ankang, full_name=_ANKANG_DRIVER[1]
    )
    roles = (
        (TenRole.DELIVERY, driver),
        (TenRole.DUTY, people[0]),
        (TenRole.PATROL, people[1]),
        (TenRole.TESTING, people[2]),
        (TenRole.PUBLICITY, people[3]),
        *(
            (role, users[u])
            for role, u in (
                (TenRole.INFORMATION, "grid_worker"),
                (TenRole.COORDINATION, "cadre"),
                (TenRole.PURCHASING, "volunteer"),
            )
            if u in users
        ),
    )
    for role, person in roles:
        RoleAssignment.objects.get_or_create(
            region=ankang,
            role=role,
            person=person,
            defaults={
                "since": START,
                **{
                    f"{n}_id": getattr(ankang, f"{n}_id")
                    for n in ("district", "township", "community", "compound")
                },
            },
        )
    if Shift.objects.filter(post=post).exists():
        return
    today = timezone.localdate()
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time.min))

    def at(day: int, hour: int) -> dt.datetime:
        return midnight + dt.timedelta(days=day, hours=hour)

    plan = [
        (people[2], at(0, 8), at(0, 14)),
        (people[3], at(0, 14), at(0, 20)),
        (people[0], at(1, 0), at(1, 4)),
        (people[1], at(1, 5), at(1, 8)),
        (users.get("cadre") or people[2], at(1, 8), at(1, 14)),
        (users.get("grid_worker") or people[3], at(1, 14), at(1, 20)),
    ]
    Shift.objects.bulk_create(
        [_like(Shift(post=post, person=p, start=s, end=e), post) for p, s, e in plan]
    )
