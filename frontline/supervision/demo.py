"""The demo's supervision (督查), after the seed: "目前已开展督查49次，通报干部落实防控措施不到位
等方面问题300余个", and market inspections of two supermarkets on 26 April.

49 inspections from 4 to 26 April 2022: 47 of townships across the demo city (mostly
unannounced, 四不两直; every third routine) with 307 problems notified to their
communities, and the two market inspections of 26 April with 5 more: 312 problems. Most are
verified (销号), a few after a rejection and a few reported late; the last 22 of the ordinary
inspections are still open (notified, rectifying, reported) and, their dates in April 2022
being long past, overdue, so the worker's sweep escalates them as soon as it starts.

Deterministic (fixed dates, a fixed order over the regions, no randomness) and idempotent:
an inspection is found by its place, date and team before it is made, and each demo
inspection is made with all its steps in the demo's one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from frontline.accounts.policy import Action, policy_for
from frontline.requests.models import Supplier
from frontline.territory.models import Level, Region
from frontline.territory.services import city

from . import services
from .models import Inspection, Problem

TZ = dt.timezone(dt.timedelta(hours=8))
FIRST_DAY = dt.date(2022, 4, 4)
MARKET_DAY = dt.date(2022, 4, 26)
ORDINARY = 47
PROBLEMS = 307  # over the 47 ordinary inspections; 5 more at the markets: 312
OPEN = 22  # the last problems notified, still open
CHENGNAN = "裕安区/城南镇"

DESCRIPTIONS = {
    "measures": (
        "小区卡口未严格落实扫码、测温、登记",
        "外来人员登记信息不全",
        "封控楼栋门磁未按要求安装",
        "重点人员健康监测台账缺失",
    ),
    "on_duty": (
        "卡口值守人员脱岗",
        "包保干部未按要求在岗履职",
        "网格员上岗未佩戴工作证",
        "夜间值守人员不足",
    ),
    "supplies": ("防护物资储备不足", "消毒用品出入库台账不清", "生活物资配送不及时"),
    "hygiene": ("垃圾清运不及时", "公共区域未按要求消杀", "消杀记录不全"),
    "service": (
        "独居老人未按要求每日联系",
        "居民诉求回复不及时",
        "特殊群体就医需求未及时登记",
    ),
    "other": ("防控宣传标语未及时更新", "工作群通知未及时传达到户"),
}
CATEGORIES = tuple(DESCRIPTIONS)

MARKETS = (
    # (supplier, kind, area path ("" = the city), inspected region path, problems)
    (
        "六安市保供超市",
        Supplier.Kind.ENTERPRISE,
        "",
        "金安区",
        (
            ("measures", "入口扫码测温登记不严"),
            ("supplies", "部分民生商品价格未明码标价"),
            ("hygiene", "冷链食品消杀记录不全"),
        ),
    ),
    (
        "皖西大别山供销超市",
        Supplier.Kind.STORE,
        "裕安区/城南镇",
        "裕安区/城南镇",
        (
            ("on_duty", "从业人员未按要求每日核酸检测"),
            ("measures", "顾客未佩戴口罩未予劝导"),
        ),
    ),
)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=TZ)


def _rectifier(place: Region, users: dict) -> Any:
    """The most local demo account that may rectify at the place, else the superuser."""
    for name in ("community_staff", "township_staff", "district_staff"):
        user = users.get(name)
        if user is not None and policy_for(user).can(Action.RECTIFY, place):
            return user
    return users.get("admin")


def _suppliers() -> dict[str, Supplier]:
    made = {}
    for name, kind, area_path, _region, _problems in MARKETS:
        supplier = Supplier.objects.filter(name=name).first()
        if supplier is None:
            area = Region.objects.get(path=area_path) if area_path else city()
            supplier = Supplier(name=name, kind=kind, area=area, supplies="米面粮油、蔬菜、肉蛋奶")
            supplier.locate(area)
            supplier.save()
        made[name] = supplier
    return made


def _plan() -> list[dict[str, Any]]:
    """The 47 ordinary inspections: township, date, kind, team, and each problem's place."""
    townships = list(Region.objects.filter(level=Level.TOWNSHIP).order_by("path"))
    communities: dict[int, list[Region]] = {}
    for c in Region.objects.filter(level=Level.COMMUNITY).order_by("path"):
        communities.setdefault(c.township_id, []).append(c)  # type: ignore[arg-type]
    plan = []
    k = 0
    days = (MARKET_DAY - FIRST_DAY).days  # 4-25 April: 22 days
    chengnan = next((t for t in townships if t.path == CHENGNAN), None)
    for i in range(ORDINARY):
        township = townships[(i * 7) % len(townships)]
        if i == ORDINARY - 1 and chengnan is not None:
            # The last one, whose problems are still open, is of 城南镇: the demo accounts
            # (城南镇, 陡步河社区) have overdue problems to rectify and verify.
            township = chengnan
        day = FIRST_DAY + dt.timedelta(days=i * days // ORDINARY)
        n = PROBLEMS // ORDINARY + (1 if i < PROBLEMS % ORDINARY else 0)
        places = communities.get(township.pk) or [township]
        problems = []
        for j in range(n):
            category = CATEGORIES[k % len(CATEGORIES)]
            texts = DESCRIPTIONS[category]
            problems.append(
                {
                    "place": places[(i + j) % len(places)],
                    "category": category,
                    "severity": "serious" if k % 9 == 4 else "normal",
                    "description": texts[(k // len(CATEGORIES)) % len(texts)],
                    "rectify_by": _at(day + dt.timedelta(days=1 if k % 9 == 4 else 2), 18),
                }
            )
            k += 1
        plan.append(
            {
                "region": township,
                "date": day,
                "kind": "routine" if i % 3 == 2 else "unannounced",
                "team": f"市综合督查组第{i % 6 + 1}组",
                "problems": problems,
            }
        )
    return plan


def _rectify(problem: Problem, k: int, total: int, users: dict) -> None:
    """Take problem number `k` (of `total`) through its demo steps."""
    inspector = users.get("city_admin") or users.get("admin")
    rectifier = _rectifier(problem.place, users)
    start = problem.notified_at
    open_from = total - OPEN
    if k >= open_from:
        # The last ones notified: still open, in a mix of states.
        stage = (k - open_from) % 4  # 0 notified, 1 rectifying, 2 and 3 rectifying/reported
        if stage == 0:
            return
        services.problem_acknowledge(
            problem=problem, actor=rectifier, at=start + dt.timedelta(hours=2)
        )
        if stage == 3:
            services.problem_report(
                problem=problem,
                actor=rectifier,
                note="已整改，请核查",
                at=problem.rectify_by + dt.timedelta(hours=20),
            )
        return
    late = k % 13 == 5
    rejected = k % 17 == 3
    acknowledged = start + dt.timedelta(hours=2)
    services.problem_acknowledge(problem=problem, actor=rectifier, at=acknowledged)
    reported = problem.rectify_by + (dt.timedelta(hours=10) if late else -dt.timedelta(hours=8))
    if rejected:
        services.problem_report(
            problem=problem, actor=rectifier, note="已整改", at=acknowledged + dt.timedelta(hours=1)
        )
        services.problem_reject(
            problem=problem,
            actor=inspector,
            reason="复查仍未整改到位",
            at=acknowledged + dt.timedelta(hours=3),
        )
    services.problem_report(
        problem=problem, actor=rectifier, note="已立行立改，建立台账", at=reported
    )
    services.problem_verify(
        problem=problem,
        actor=inspector,
        note="复查属实，予以销号",
        at=reported + dt.timedelta(hours=12),
    )


def load_demo(users: dict, say: Callable[[str], None]) -> None:
    inspector = users.get("city_admin") or users.get("admin")
    if inspector is None or not Region.objects.filter(level=Level.TOWNSHIP).exists():
        return
    suppliers = _suppliers()
    made = 0
    specs = _plan()
    for name, _kind, _area, region_path, problems in MARKETS:
        region = Region.objects.get(path=region_path)
        specs.append(
            {
                "region": region,
                "date": MARKET_DAY,
                "kind": "market",
                "supplier": suppliers[name],
                "team": "市场监管督查组",
                "problems": [
                    {
                        "place": region,
                        "category": category,
                        "severity": "normal",
                        "description": text,
                        "rectify_by": _at(MARKET_DAY + dt.timedelta(days=1), 18),
                    }
                    for category, text in problems
                ],
            }
        )
    total = sum(len(s["problems"]) for s in specs)
    # Markets last in the plan, but their problems are all verified: number them first.
    order = specs[-len(MARKETS) :] + specs[: -len(MARKETS)]
    k = 0
    for spec in order:
        found = Inspection.objects.filter(
            region=spec["region"], date=spec["date"], team=spec["team"]
        ).exists()
        if found:
            k += len(spec["problems"])
            continue
        inspection = services.inspection_create(
            region=spec["region"],
            kind=spec["kind"],
            date=spec["date"],
            team=spec["team"],
            supplier=spec.get("supplier"),
            summary="采取“四不两直”方式，随机抽查小区卡口、楼栋和包保干部在岗履职情况"
            if spec["kind"] == "unannounced"
            else "",
            inspectors=[inspector],
            problems=spec["problems"],
            actor=inspector,
            notified_at=_at(spec["date"], 17),
        )
        made += 1
        for problem in inspection.problems.select_related("place").order_by("id"):
            _rectify(problem, k, total, users)
            k += 1
    say(f"supervision: {made} inspections recorded ({total} problems in the plan)")
