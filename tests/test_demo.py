"""The demo city: the seed's places and counts, four-level grids, accounts, idempotence.

The city is built once for the module (it takes seconds) and flushed afterwards, so the
other modules start from an empty database as usual. Every test here only reads it or
changes it inside its own rolled-back transaction.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Exists, OuterRef

from frontline.accounts.models import Role, User
from frontline.core import demo
from frontline.people.idnumber import parse_id_number
from frontline.people.models import CareGroup, Household, Resident, ResidentCareGroup
from frontline.people.stats import census_stats
from frontline.territory.models import Grid, GridLevel, GridMember, Level, Region
from frontline.territory.services import grid_households, region_by_path

ANKANG = "裕安区/城南镇/陡步河社区/安康小区"
CHUANGYE = "裕安区/城南镇/城南社区/创业小区"
LIJINGYUAN = "金安区/鼓楼街道/鼓楼社区/丽景苑小区"
MEIGUIYUAN = "六安经济技术开发区/城东街道/远大社区/玫瑰园小区"


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """The demo is built once per module with the real hasher; keep it for the logins."""


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("demo", "--no-serve", stdout=out)
        yield out.getvalue()
        # The demo was committed outside any test transaction: empty the database again
        # exactly as pytest-django does after a transactional test.
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def city(demo_output, db):
    return demo_output


def stats_json(path: str) -> dict:
    out = StringIO()
    call_command("stats", "--region", path, "--json", stdout=out)
    return json.loads(out.getvalue())


# --- the generator on its own ----------------------------------------------------------


def test_generator_is_deterministic():
    first = list(demo.census_rows())
    assert first == list(demo.census_rows())
    assert len(first) > 8000


def test_generated_rows_are_valid_census_rows():
    rows = list(demo.census_rows())
    ids = [r["身份证号"] for r in rows]
    assert len(set(ids)) == len(ids)
    for r in rows:
        info = parse_id_number(r["身份证号"], today=demo.REFERENCE_DATE)
        assert r["性别"] == ("男" if info.sex == "M" else "女")
        assert r["联系电话"] == "" or re.fullmatch(r"1[3-9]\d{9}", r["联系电话"])
        assert r["党员"] in ("是", "否") and r["在外"] in ("是", "否")
        assert r["会网购"] in ("是", "否", "")
        assert r["姓名"] and len(r["姓名"]) <= 4
    party = sum(r["党员"] == "是" for r in rows) / len(rows)
    assert 0.05 < party < 0.11


# --- the seed's places and counts, by independent ORM counts --------------------------


def test_ankang_has_the_seed_counts(city):
    ankang = region_by_path(ANKANG)
    buildings = Region.objects.filter(parent=ankang, level=Level.BUILDING)
    assert sorted(buildings.values_list("name", flat=True)) == sorted(
        f"{n}栋" for n in range(1, 27)
    )
    assert Household.objects.filter(compound=ankang).count() == 453
    assert Resident.objects.filter(compound=ankang).count() == 1453
    assert Resident.objects.filter(household__building__parent=ankang).count() == 1453


def test_chuangye_has_the_seed_counts(city):
    chuangye = region_by_path(CHUANGYE)
    households = Household.objects.filter(compound=chuangye)
    orders = Resident.objects.filter(household=OuterRef("pk"), can_order_online=True)
    assert households.exclude(Exists(orders)).count() == 41
    assert (
        ResidentCareGroup.objects.filter(compound=chuangye, group=CareGroup.DIALYSIS).count() == 5
    )
    hardship = ResidentCareGroup.objects.filter(
        resident__household=OuterRef("pk"),
        group__in=[CareGroup.SUBSISTENCE, CareGroup.FIVE_GUARANTEES, CareGroup.EXTREME_HARDSHIP],
    )
    assert households.filter(Exists(hardship)).count() > households.count() * 0.7


def test_meiguiyuan_has_twelve_elderly_living_alone(city):
    meiguiyuan = region_by_path(MEIGUIYUAN)
    alone = Resident.objects.filter(compound=meiguiyuan, care_groups__group=CareGroup.ELDERLY_ALONE)
    assert alone.count() == 12
    assert alone.filter(building__name="4号楼").count() == 1
    assert alone.filter(building__name="15号楼", household__room="304").count() == 2
    assert all(r.age >= 70 for r in alone)


def test_lijingyuan_is_the_size_the_seed_gives(city):
    lijingyuan = region_by_path(LIJINGYUAN)
    assert 1500 < Household.objects.filter(compound=lijingyuan).count() < 1600
    assert 3800 < Resident.objects.filter(compound=lijingyuan).count() <= 4000


def test_jinan_has_five_subdistricts_and_seventeen_townships(city):
    jinan = region_by_path("金安区")
    townships = Region.objects.filter(parent=jinan, level=Level.TOWNSHIP)
    names = list(townships.values_list("name", flat=True))
    assert len(names) == 22
    assert sum(n.endswith("街道") for n in names) == 5
    assert sum(n.endswith(("乡", "镇")) for n in names) == 17
    assert "鼓楼街道" in names
    for township in townships:
        assert Household.objects.filter(township=township).exists(), township.path


def test_villages_and_the_development_zone(city):
    zone = region_by_path("六安经济技术开发区")
    assert (zone.level, zone.kind) == (Level.DISTRICT, "开发区")
    lushici = region_by_path("裕安区/苏埠镇/卢氏祠村")
    hamlets = Region.objects.filter(parent=lushici)
    assert hamlets.exists()
    assert {h.kind for h in hamlets} == {"自然村"}
    assert Resident.objects.filter(community=lushici).exists()
    assert Region.objects.filter(parent=region_by_path("裕安区/罗集乡"), kind="村").exists()


@pytest.mark.parametrize(
    ("path", "households", "residents", "buildings", "elderly_alone"),
    [
        (ANKANG, 453, 1453, 26, None),
        (MEIGUIYUAN, None, None, 18, 12),
    ],
)
def test_stats_command_reports_the_seed_counts(
    city, path, households, residents, buildings, elderly_alone
):
    stats = stats_json(path)
    region = region_by_path(path)
    assert stats["households"] == (households or Household.objects.within(region).count())
    assert stats["residents"] == (residents or Resident.objects.within(region).count())
    assert stats["buildings"] == buildings
    if elderly_alone is not None:
        assert stats["care_groups"]["独居老人"] == elderly_alone


def test_stats_command_matches_independent_counts_for_a_district(city):
    stats = stats_json("金安区")
    jinan = region_by_path("金安区")
    assert stats["households"] == Household.objects.filter(district=jinan).count()
    assert stats["residents"] == Resident.objects.filter(district=jinan).count()
    assert stats["compounds"] == Region.objects.filter(district=jinan, level=Level.COMPOUND).count()
    chuangye = stats_json(CHUANGYE)
    assert chuangye["cannot_order_online"] == 41
    assert chuangye["care_groups"]["透析"] == 5
    assert stats_json("")["residents"] == Resident.objects.count()


# --- grids ----------------------------------------------------------------------------


def test_every_place_has_its_four_level_grid(city):
    for level, region_level in (
        (GridLevel.DISTRICT, Level.DISTRICT),
        (GridLevel.TOWNSHIP, Level.TOWNSHIP),
        (GridLevel.COMMUNITY, Level.COMMUNITY),
        (GridLevel.POINT, Level.COMPOUND),
    ):
        anchored = set(Grid.objects.filter(level=level).values_list("region_id", flat=True))
        regions = set(Region.objects.filter(level=region_level).values_list("id", flat=True))
        assert anchored == regions, level
    for grid in Grid.objects.exclude(level=GridLevel.DISTRICT).select_related("parent"):
        assert grid.parent.level == grid.level - 1
        assert grid.region.is_within(grid.parent.region)
    chiefless = Grid.objects.exclude(members__role=GridMember.Role.CHIEF)
    assert not chiefless.exists()
    assert not Grid.objects.filter(duties="").exists()
    assert not Grid.objects.exclude(members__role=GridMember.Role.WORKER).exists()


def test_ankang_grid_points_cover_every_building_once(city):
    ankang = region_by_path(ANKANG)
    points = Grid.objects.filter(region=ankang, level=GridLevel.POINT)
    assert points.count() == 6
    covered = [r.name for p in points for r in p.coverage.all()]
    assert sorted(covered) == sorted(f"{n}栋" for n in range(1, 27))
    assert sum(grid_households(p).count() for p in points) == 453


def test_grid_accounts_are_linked_to_their_grid_members(city):
    for username, path in (
        ("grid_chief", ANKANG),
        ("grid_worker", ANKANG),
        ("grid_worker_chuangye", CHUANGYE),
    ):
        user = User.objects.get(username=username)
        member = GridMember.objects.get(user=user)
        assert member.grid.region == region_by_path(path)
        assert member.name == user.first_name
    chief = GridMember.objects.get(user__username="grid_chief")
    assert chief.role == GridMember.Role.CHIEF


# --- accounts -------------------------------------------------------------------------


def test_one_demo_account_per_role(city):
    roles = set(
        User.objects.filter(username__in=[a.username for a in demo.DEMO_ACCOUNTS]).values_list(
            "role", flat=True
        )
    )
    assert roles == set(Role.values)
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.filter(is_superuser=True).count() == 1
    for account in demo.DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.region.path == account.path
        assert user.role == account.role


@pytest.mark.parametrize("account", demo.DEMO_ACCOUNTS, ids=lambda a: a.username)
def test_demo_accounts_log_in_with_the_printed_password(city, client, account):
    assert account.username in city
    assert client.login(username=account.username, password=demo.DEMO_PASSWORD)


def test_the_demo_prints_the_accounts_and_their_password(city):
    lines = city.splitlines()
    for account in demo.DEMO_ACCOUNTS:
        row = next(line for line in lines if line.startswith(account.username + " "))
        assert demo.DEMO_PASSWORD in row
        assert account.role in row


def test_demo_accounts_see_only_their_jurisdiction(city):
    chuangye_worker = User.objects.get(username="grid_worker_chuangye")
    visible = Household.objects.visible_to(chuangye_worker)
    assert visible.count() == Household.objects.filter(compound=region_by_path(CHUANGYE)).count()
    assert not visible.filter(compound=region_by_path(ANKANG)).exists()


# --- idempotence ----------------------------------------------------------------------


def _snapshot() -> dict:
    return {
        "regions": sorted(Region.objects.values_list("path", "kind")),
        "households": Household.objects.count(),
        "residents": sorted(
            Resident.objects.values_list(
                "id_number",
                "name",
                "household_id",
                "phone",
                "can_order_online",
                "away",
                "emergency_name",
                "emergency_relation",
                "emergency_phone",
            )
        ),
        "care": ResidentCareGroup.objects.count(),
        "grids": sorted(Grid.objects.values_list("region_id", "name", "parent_id", "duties")),
        "members": sorted(GridMember.objects.values_list("grid_id", "name", "phone", "user_id")),
        "users": sorted(User.objects.values_list("username", "password", "role", "region_id")),
        "stats": census_stats(region_by_path("")),
    }


def test_running_the_demo_again_changes_nothing(city, monkeypatch):
    before = _snapshot()
    served = []
    monkeypatch.setattr("waitress.serve", lambda app, **kw: served.append(kw))
    out = StringIO()
    # Without --no-serve: loads, then serves (here: records the call and returns).
    call_command("demo", "--port", "8765", stdout=out)
    assert _snapshot() == before
    assert served == [{"host": "127.0.0.1", "port": 8765, "threads": 8, "ident": "frontline"}]
    assert "http://127.0.0.1:8765/" in out.getvalue()


def test_ankang_sealed_buildings_hold_ninety_households(city):
    ankang = region_by_path(ANKANG)
    sealed = Household.objects.filter(
        compound=ankang, building__name__in=list(demo.ANKANG_SEALED_BUILDINGS)
    )
    assert len(demo.ANKANG_SEALED_BUILDINGS) == 4
    assert sealed.count() == 90


def test_most_elderly_alone_have_an_emergency_contact_and_the_gap_shows(city):
    from frontline.people.worklists import NO_CONTACT, Scope, residents_in

    ankang = region_by_path(ANKANG)
    alone = list(Resident.objects.filter(compound=ankang, care_groups__group="elderly_alone"))
    with_contact = [r for r in alone if r.emergency_phone]

    assert len(alone) == 8
    assert 4 < len(with_contact) < len(alone)
    assert all(r.emergency_name and r.emergency_relation for r in with_contact)
    nobody = residents_in(Scope(region=ankang), NO_CONTACT).filter(
        care_groups__group="elderly_alone"
    )
    assert nobody.exists()
    # ...and in the first grid point (1—5栋), the grid worker's own.
    assert nobody.filter(building__name__in=[f"{n}栋" for n in range(1, 6)]).exists()


# --- mobilisation ----------------------------------------------------------------------


def _mobilisation(path: str) -> dict:
    return stats_json(path)["mobilisation"]


def test_the_city_mobilisation_reproduces_the_seed(city):
    figures = _mobilisation("")

    assert figures["units_deployed"] == 127
    assert figures["cadres_deployed"] >= 9200
    assert figures["party_members_reported"] >= 3000
    assert figures["others_reported"] >= 12700
    assert figures["responsibility_zones"] == 196
    assert figures["commando_teams"] >= 350
    assert figures["party_posts"] >= 860
    assert figures["pipeline"] == {
        "applications": 543,
        "activists": 3262,
        "new_activists": 108,
        "development_objects": 800,
        "probationary_members": 2029,
    }


def test_yuan_has_53_temporary_branches_and_jinan_7500_grid_workers(city):
    yuan, jinan = _mobilisation("裕安区"), _mobilisation("金安区")

    assert yuan["temporary_branches"] == 53
    assert yuan["temporary_branch_members"] >= 3000
    assert yuan["functional_groups"] == 53 * 5
    assert jinan["grid_workers"] >= 7500
    assert jinan["temporary_branches"] == 0


def test_the_first_wave_on_the_chain_has_44_and_53_senior_cadres(city):
    from frontline.duty.models import Deployment

    chain = Deployment.objects.exclude(chain_level="")
    assert chain.count() == 238
    assert chain.filter(cadre__rank="division").count() == 44
    assert chain.filter(cadre__rank="deputy_division").count() == 53


def test_ankangs_gate_shows_a_gap_at_four_tomorrow(city):
    import datetime as dt

    from django.utils import timezone

    from frontline.duty.models import Post
    from frontline.duty.roster import post_gaps

    post = Post.objects.get(name="安康小区南门卡点")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time.min))

    gaps = post_gaps(post, start, start + dt.timedelta(days=1))

    assert [(timezone.localtime(g.start).hour, timezone.localtime(g.end).hour) for g in gaps] == [
        (4, 5),
        (20, 0),
    ]


def test_loading_the_mobilisation_again_changes_nothing(city):
    from frontline.duty import models as m
    from frontline.duty.demo import load_mobilisation

    tables = [m.OrgUnit, m.Cadre, m.Deployment, m.Branch, m.BranchMember, m.Report, m.Shift]
    before = [t.objects.count() for t in tables]
    users = {u.username: u for u in User.objects.all()}

    load_mobilisation(users)

    assert [t.objects.count() for t in tables] == before


# --- the chain's words and a duty manager outside 城南镇 ----------------------------------


def test_the_grid_duties_say_the_chain_in_the_seeds_words(city):
    from django.utils import translation

    from frontline.duty.models import ChainLevel

    # The seed: 细分“区级领导包乡镇、科级干部包社区、普通干部包小区”的三级责任体系.
    seed = ["区级领导包乡镇", "科级干部包社区", "普通干部包小区"]
    duties = {
        level: set(Grid.objects.filter(level=level).values_list("duties", flat=True))
        for level in (GridLevel.DISTRICT, GridLevel.TOWNSHIP, GridLevel.POINT)
    }
    for phrase, level in zip(seed, duties, strict=True):
        assert duties[level] and all(phrase in text for text in duties[level]), phrase
    with translation.override("zh-hans"):
        assert [str(level.label) for level in ChainLevel] == seed


def test_a_demo_account_outside_chengnan_manages_duty_there_only(city):
    from django.test import Client
    from django.urls import reverse

    from frontline.accounts.policy import Action, policy_for

    gulou = User.objects.get(username="gulou_staff")
    policy = policy_for(gulou)
    assert policy.can(Action.MANAGE_DUTY, region_by_path("金安区/鼓楼街道/鼓楼社区/丽景苑小区"))
    assert not policy.contains(region_by_path("裕安区/城南镇"))
    client = Client()
    client.force_login(gulou)
    page = client.get(reverse("duty_posts")).content.decode()
    assert "丽景苑小区" in page and "城南镇" not in page


# --- health: risk zones (h-zones) ---------------------------------------------------------


def test_the_demo_seals_ankangs_four_buildings_of_90_households_then_lifts_them(city):
    import datetime as dt

    from frontline.health.models import RiskZone
    from frontline.health.zones import load_demo as load_zones
    from frontline.health.zones import zone_in_force

    cst = dt.timezone(dt.timedelta(hours=8))
    sealed = RiskZone.objects.filter(level="sealed", region__parent__path=ANKANG)
    assert sorted(z.region.name for z in sealed) == ["15栋", "21栋", "3栋", "8栋"]
    assert Household.objects.filter(building__in=sealed.values("region")).count() == 90
    assert {z.since for z in sealed} == {dt.datetime(2022, 4, 4, tzinfo=cst)}
    assert all(z.lifted_at == dt.datetime(2022, 4, 20, 10, tzinfo=cst) for z in sealed)
    building_3 = region_by_path(f"{ANKANG}/3栋")
    assert zone_in_force(building_3, dt.datetime(2022, 4, 10, tzinfo=cst)).level == "sealed"
    assert zone_in_force(building_3).level == "controlled"
    assert zone_in_force(region_by_path(CHUANGYE)).level == "precaution"
    assert zone_in_force(region_by_path(LIJINGYUAN)) is None
    before = list(RiskZone.objects.order_by("id").values_list("id", "lifted_at"))

    load_zones({u.username: u for u in User.objects.all()}, lambda message: None)

    assert list(RiskZone.objects.order_by("id").values_list("id", "lifted_at")) == before


def test_a_dialysis_run_at_ankang_suggests_the_compounds_driver(city):
    from frontline.accounts.models import User
    from frontline.people.models import Household
    from frontline.requests.queries import dispatch_suggestions
    from frontline.requests.services import request_create

    worker = User.objects.get(username="grid_worker")
    household = Household.objects.filter(
        building__path__startswith="裕安区/城南镇/陡步河社区/安康小区/"
    ).first()
    req = request_create(
        actor=worker, household=household, category="medical", description="透析，周三上午"
    )

    first = dispatch_suggestions(worker, req).people[0]

    assert first.username == "ankang_driver" and first.roles == ("delivery",)


# --- supervision (督查) ---------------------------------------------------------------------


def test_the_demo_has_49_inspections_and_312_problems_as_the_seed_says(city):
    from django.db.models import Count

    from frontline.supervision.models import Inspection, Problem

    assert Inspection.objects.count() == 49
    assert Problem.objects.count() == 312
    by_status = dict(Problem.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert by_status == {"notified": 6, "rectifying": 11, "reported": 5, "verified": 290}
    # The open ones were due in April 2022: all overdue.
    assert Problem.objects.overdue().count() == 22
    # Spread over the city: every district, many townships.
    assert Inspection.objects.values("district").distinct().count() == 3
    assert Inspection.objects.values("township").distinct().count() > 20
    markets = Inspection.objects.filter(kind="market").select_related("supplier")
    assert sorted((m.date.isoformat(), m.supplier.name) for m in markets) == [
        ("2022-04-26", "六安市保供超市"),
        ("2022-04-26", "皖西大别山供销超市"),
    ]
    stats = stats_json("")["supervision"]
    assert stats["inspections"] == 49 and stats["problems"] == 312 and stats["overdue"] == 22


def test_loading_the_supervision_demo_again_changes_nothing(city):
    from frontline.supervision import demo as supervision
    from frontline.supervision.models import Inspection, Problem, ProblemEvent

    def snapshot():
        return (
            sorted(Inspection.objects.values_list("region_id", "date", "kind", "team")),
            sorted(Problem.objects.values_list("place_id", "status", "rectify_by", "reported_at")),
            ProblemEvent.objects.count(),
        )

    before = snapshot()
    users = {u.username: u for u in User.objects.all()}
    supervision.load_demo(users, lambda message: None)
    assert snapshot() == before
