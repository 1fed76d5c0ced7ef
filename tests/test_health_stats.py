"""The `health` figures (issue 9, "Stats"): the rows are inserted directly here (the other
health services are built elsewhere), and every expected number is counted by hand from
the rows below, not from the code under test.

The world (tests/conftest.py `lu_an`): 安康小区 1栋 王秀英; 2栋 李强 (made away here),
李小红; 创业小区 1栋 赵建国; 丽景苑小区 (金安区) 5栋 孙丽.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from frontline.accounts.services import user_token
from frontline.health.models import (
    CareRecord,
    CareService,
    IsolationCase,
    IsolationPoint,
    MissedVisit,
    RoundRegion,
    Sample,
    Stay,
    TestingRound,
    Tube,
)
from frontline.health.stats import health_stats
from frontline.health.zones import zone_lift, zone_set
from frontline.people.models import Resident
from frontline.territory.models import Region
from frontline.territory.services import city

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN

TOWN = "裕安区/城南镇"
ZEROS = {"sealed": 0, "controlled": 0, "precaution": 0}


def region(path: str) -> Region:
    return Region.objects.get(path=path)


def person(name: str) -> Resident:
    return Resident.objects.get(name=name)


def located(row, place):
    row.locate(place)
    row.save()
    return row


@pytest.fixture
def now():
    # Noon today, local: "today" and "yesterday" are unambiguous whenever the test runs.
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))


@pytest.fixture
def health(lu_an, town_staff, now):
    today = timezone.localdate(now)
    past = now - dt.timedelta(days=30)
    # Zones now: 城南镇 precaution, 安康小区 controlled, 安康/1栋 sealed; 创业/1栋 was sealed
    # and is lifted (it counts as what its ancestors make it: precaution).
    zone_set(region=region(TOWN), level="precaution", since=past, reason="r")
    zone_set(region=region(ANKANG), level="controlled", since=past, reason="r")
    zone_set(region=region(f"{ANKANG}/1栋"), level="sealed", since=past, reason="r")
    lifted = zone_set(region=region(f"{CHUANGYE}/1栋"), level="sealed", since=past, reason="r")
    zone_lift(zone=lifted, at=past + dt.timedelta(days=1), reason="r")
    # A zone that starts tomorrow is not in force now.
    zone_set(
        region=region(f"{ANKANG}/2栋"), level="sealed", since=now + dt.timedelta(days=1), reason="r"
    )

    lee = person("李强")
    lee.away = True
    lee.save(update_fields=["away"])

    # An older round over the whole town, and today's round over 安康小区 (the current one).
    old = TestingRound.objects.create(name="第一轮", date=today - dt.timedelta(days=2))
    located(RoundRegion(round=old, region=region(TOWN)), region(TOWN))
    old_tube = located(Tube(round=old, code="OLD-1", result="positive"), region(f"{CHUANGYE}/1栋"))
    located(Sample(round=old, tube=old_tube, resident=person("赵建国")), region(f"{CHUANGYE}/1栋"))
    current = TestingRound.objects.create(name="第二轮", date=today)
    located(RoundRegion(round=current, region=region(ANKANG)), region(ANKANG))
    positive = located(Tube(round=current, code="T-1", result="positive"), region(ANKANG))
    negative = located(Tube(round=current, code="T-2", result="negative"), region(ANKANG))
    located(
        Sample(round=current, tube=positive, resident=person("王秀英")), region(f"{ANKANG}/1栋")
    )
    located(Sample(round=current, tube=positive, resident=lee), region(f"{ANKANG}/2栋"))
    # A round in the future is not current.
    later = TestingRound.objects.create(name="第三轮", date=today + dt.timedelta(days=1))
    located(RoundRegion(round=later, region=region(TOWN)), region(TOWN))
    assert negative.pk

    # Home isolation: 王秀英 open, 赵建国 released. Missed visits: one today, one yesterday.
    case = located(
        IsolationCase(
            resident=person("王秀英"),
            category="home_isolation",
            reason="返乡",
            start=today - dt.timedelta(days=3),
            planned_end=today + dt.timedelta(days=4),
            keeper=town_staff,
        ),
        region(f"{ANKANG}/1栋"),
    )
    located(
        IsolationCase(
            resident=person("赵建国"),
            category="home_monitoring",
            reason="密接",
            start=today - dt.timedelta(days=10),
            planned_end=today - dt.timedelta(days=3),
            keeper=town_staff,
            status="released",
        ),
        region(f"{CHUANGYE}/1栋"),
    )
    located(MissedVisit(case=case, day=today, slot="am"), region(f"{ANKANG}/1栋"))
    located(
        MissedVisit(case=case, day=today - dt.timedelta(days=1), slot="pm"),
        region(f"{ANKANG}/1栋"),
    )

    # Points: 创业小区's in use (10 beds), 安康小区's closed (5 beds); 金安区's elsewhere.
    hotel = located(
        IsolationPoint(name="城南宾馆", region=region(CHUANGYE), capacity=10), region(CHUANGYE)
    )
    located(
        IsolationPoint(name="安康驿站", region=region(ANKANG), capacity=5, active=False),
        region(ANKANG),
    )
    located(
        IsolationPoint(name="鼓楼酒店", region=region(LIJINGYUAN), capacity=50),
        region(LIJINGYUAN),
    )
    # 赵建国 transferred today and still there; 李强 three days ago and released.
    located(
        Stay(resident=person("赵建国"), point=hotel, start=now - dt.timedelta(hours=2)),
        region(f"{CHUANGYE}/1栋"),
    )
    located(
        Stay(
            resident=lee,
            point=hotel,
            start=now - dt.timedelta(days=3),
            end=now - dt.timedelta(days=1),
            outcome="released",
        ),
        region(f"{ANKANG}/2栋"),
    )

    # Care: 王秀英 visited every day; 李小红 on a weekday that is not today; 赵建国's
    # service ended yesterday. Today: one record missed (王秀英's), one done (another time).
    weekday = today.isoweekday()
    other = weekday % 7 + 1
    every_day = located(
        CareService(
            resident=person("王秀英"),
            kind="elderly_visit",
            weekdays="1,2,3,4,5,6,7",
            time=dt.time(9),
            start=today - dt.timedelta(days=7),
        ),
        region(f"{ANKANG}/1栋"),
    )
    located(
        CareService(
            resident=person("李小红"),
            kind="other",
            weekdays=str(other),
            time=dt.time(9),
            start=today - dt.timedelta(days=7),
        ),
        region(f"{ANKANG}/2栋"),
    )
    located(
        CareService(
            resident=person("赵建国"),
            kind="dialysis",
            weekdays=str(weekday),
            time=dt.time(7),
            start=today - dt.timedelta(days=30),
            end=today - dt.timedelta(days=1),
        ),
        region(f"{CHUANGYE}/1栋"),
    )
    located(
        CareRecord(service=every_day, due=now - dt.timedelta(hours=3), status="missed"),
        region(f"{ANKANG}/1栋"),
    )
    located(
        CareRecord(service=every_day, due=now - dt.timedelta(hours=1), status="done"),
        region(f"{ANKANG}/1栋"),
    )
    located(
        CareRecord(service=every_day, due=now - dt.timedelta(days=1), status="missed"),
        region(f"{ANKANG}/1栋"),
    )
    return {"current": current}


def test_town_figures_are_the_hand_counts(health, now):
    figures = health_stats(region(TOWN), now)

    assert figures["compounds_by_zone"] == {"sealed": 0, "controlled": 1, "precaution": 1}
    assert figures["buildings_by_zone"] == {"sealed": 1, "controlled": 1, "precaution": 1}
    # 王秀英 sealed; 李强 and 李小红 controlled; 赵建国 precaution.
    assert figures["residents_by_zone"] == {"sealed": 1, "controlled": 2, "precaution": 1}
    testing = figures["testing"]
    assert testing["round"]["id"] == health["current"].pk
    # Expected: 王秀英 and 李小红 (李强 is away). Sampled: 王秀英.
    assert (testing["expected"], testing["sampled"], testing["missing"]) == (2, 1, 1)
    assert testing["abnormal_tubes"] == 1
    assert testing["awaiting_retest"] == 2  # 王秀英 and 李强, in the positive tube
    assert figures["home_isolation"] == 1
    assert figures["visits_missed_today"] == 1
    assert (
        figures["isolation_points"],
        figures["isolation_capacity"],
        figures["isolation_occupancy"],
    ) == (1, 10, 1)
    assert figures["transfers_today"] == 1
    assert figures["care_due_today"] == 1
    assert figures["care_missed_today"] == 1


def test_a_building_rolls_up_only_its_own(health, now):
    figures = health_stats(region(f"{ANKANG}/2栋"), now)

    assert figures["buildings_by_zone"] == {**ZEROS, "controlled": 1}
    assert figures["compounds_by_zone"] == ZEROS
    assert figures["residents_by_zone"] == {**ZEROS, "controlled": 2}
    # 李小红 expected and missing; the tube is located at the compound, so not counted here.
    testing = figures["testing"]
    assert (testing["expected"], testing["sampled"], testing["missing"]) == (1, 0, 1)
    assert (testing["abnormal_tubes"], testing["awaiting_retest"]) == (0, 1)
    assert figures["home_isolation"] == figures["transfers_today"] == 0
    assert figures["care_due_today"] == 0


def test_the_old_round_is_current_where_todays_does_not_reach(health, now):
    figures = health_stats(region(CHUANGYE), now)

    testing = figures["testing"]
    assert testing["round"]["name"] == "第一轮"
    assert (testing["expected"], testing["sampled"], testing["missing"]) == (1, 1, 0)
    assert (testing["abnormal_tubes"], testing["awaiting_retest"]) == (1, 1)
    assert figures["residents_by_zone"] == {**ZEROS, "precaution": 1}
    assert figures["buildings_by_zone"] == {**ZEROS, "precaution": 1}


def test_elsewhere_sees_only_its_own(health, now):
    figures = health_stats(region(LIJINGYUAN), now)

    assert figures["residents_by_zone"] == ZEROS
    assert figures["testing"]["round"] is None
    assert (figures["isolation_points"], figures["isolation_capacity"]) == (1, 50)
    assert figures["isolation_occupancy"] == figures["home_isolation"] == 0


def test_the_city_adds_up(health, now):
    figures = health_stats(city(), now)

    assert figures["compounds_by_zone"] == {"sealed": 0, "controlled": 1, "precaution": 1}
    assert figures["isolation_points"] == 2 and figures["isolation_capacity"] == 60


def test_no_zones_no_rounds_is_all_zeros(lu_an):
    figures = health_stats(region(TOWN))

    assert figures["residents_by_zone"] == ZEROS
    assert figures["testing"] == {
        "round": None,
        "expected": 0,
        "sampled": 0,
        "missing": 0,
        "abnormal_tubes": 0,
        "awaiting_retest": 0,
    }


@pytest.mark.parametrize("more", [0, 5])
def test_one_query_per_figure_whatever_the_size(
    health, now, more, django_assert_num_queries, town_staff
):
    for n in range(more):
        zone_set(
            region=f.region(f"{ANKANG}/{10 + n}栋"),
            level="sealed",
            since=now - dt.timedelta(days=40 + n),
            reason="r",
        )
    place = region(TOWN)

    # zones; regions by level and zone; residents by zone; the current round, its
    # regions, coverage, abnormal tubes, retests; isolation; missed visits; points;
    # occupancy; transfers; care due; care missed.
    with django_assert_num_queries(15):
        health_stats(place, now)


def test_the_cli_and_the_api_carry_the_figures(health, now, town_staff):
    out = StringIO()
    call_command("stats", region=TOWN, json=True, stdout=out)
    cli = json.loads(out.getvalue())["health"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=town_staff)}")
    api = client.get("/api/v1/stats", {"region": TOWN}).json()["health"]

    assert (
        cli["residents_by_zone"]
        == api["residents_by_zone"]
        == {
            "sealed": 1,
            "controlled": 2,
            "precaution": 1,
        }
    )
    assert cli["testing"]["expected"] == api["testing"]["expected"] == 2
    text = StringIO()
    call_command("stats", region=TOWN, stdout=text)
    assert "第二轮" in text.getvalue()
