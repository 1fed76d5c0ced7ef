"""Testing rounds: who sees a round, pooled tubes (one tube per resident per round, the
tube size, the round's regions), coverage, the door-to-door list, the retest list, the
API and the sampler's phone page.

The people come from conftest's `lu_an`: in 城南镇 王秀英 (安康小区 1栋, elderly alone),
李强 and 李小红 (安康小区 2栋, one household), 赵建国 (创业小区 1栋, disabled); outside it
孙丽 (丽景苑小区, 金安区).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from rest_framework.test import APIClient

from frontline.accounts.services import user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.health import testing
from frontline.health.models import RiskZone, Sample, TestingRound, Tube, TubeResult
from frontline.people.models import Resident
from frontline.territory.models import Region

from . import factories as f
from .conftest import ANKANG, CHUANGYE

TOWN = "裕安区/城南镇"
APRIL_12 = dt.date(2022, 4, 12)


def person(name: str) -> Resident:
    return Resident.objects.get(name=name)


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")
    return client


@pytest.fixture
def town_round(town_staff):
    return testing.round_create(
        name="城南镇第1轮", date=APRIL_12, regions=[Region.objects.get(path=TOWN)], actor=town_staff
    )


# --- creating a round -----------------------------------------------------------------------


def test_a_round_covers_its_regions_and_is_audited(town_round, town_staff):
    assert town_round.tube_size == 10
    assert [r.path for r in testing.round_regions(town_round)] == [TOWN]
    event = AuditEvent.objects.get(action="round_create")
    assert event.object_id == str(town_round.pk) and event.actor_name == "town_staff"


@pytest.mark.parametrize("size", [0, 21, -1, "x"])
def test_the_tube_size_is_one_to_twenty(town_staff, size):
    with override("en"), pytest.raises(DomainError, match="from 1 to 20"):
        testing.round_create(
            name="x", date=APRIL_12, regions=[f.region(TOWN)], tube_size=size, actor=town_staff
        )
    assert not TestingRound.objects.exists()


@pytest.mark.parametrize("size", [1, 20])
def test_the_tube_size_bounds_are_allowed(town_staff, size):
    made = testing.round_create(
        name="x", date=APRIL_12, regions=[f.region(TOWN)], tube_size=size, actor=town_staff
    )
    assert made.tube_size == size


def test_a_round_outside_the_jurisdiction_is_refused(community_staff):
    with pytest.raises(NotFound):
        testing.round_create(
            name="x", date=APRIL_12, regions=[f.region(CHUANGYE)], actor=community_staff
        )
    assert not TestingRound.objects.exists()


def test_a_grid_worker_may_not_create_a_round(grid_worker):
    with pytest.raises(PermissionDenied):
        testing.round_create(name="x", date=APRIL_12, regions=[f.region(ANKANG)], actor=grid_worker)


# --- who sees a round -------------------------------------------------------------------------


def test_a_round_is_seen_inside_and_around_its_regions(
    town_round, grid_worker, community_staff, city_admin, outsider
):
    building = testing.round_create(
        name="1栋", date=APRIL_12, regions=[f.region(f"{ANKANG}/1栋")], actor=community_staff
    )
    assert set(testing.rounds_visible_to(grid_worker)) == {town_round, building}
    assert set(testing.rounds_visible_to(city_admin)) == {town_round, building}
    assert list(testing.rounds_visible_to(outsider)) == []
    with pytest.raises(NotFound):
        testing.round_for(outsider, town_round.pk)
    assert testing.round_for(grid_worker, town_round.pk) == town_round


def test_a_round_over_the_whole_city_is_seen_by_everyone(city_admin, outsider):
    from frontline.territory.services import city

    whole = testing.round_create(name="全市", date=APRIL_12, regions=[city()], actor=city_admin)
    assert list(testing.rounds_visible_to(outsider)) == [whole]


# --- tubes ---------------------------------------------------------------------------------


def test_a_pooled_tube_holds_the_ticked_residents(town_round, grid_worker):
    tube = testing.tube_record(
        round=town_round,
        code="CN-0001",
        residents=[person("王秀英").pk, person("李强").pk],
        actor=grid_worker,
    )
    assert set(Sample.objects.filter(tube=tube).values_list("resident__name", flat=True)) == {
        "王秀英",
        "李强",
    }
    # Located at the deepest region both share: the compound, not a building.
    tube.refresh_from_db()
    assert tube.compound.path == ANKANG and tube.building_id is None
    assert AuditEvent.objects.filter(action="tube_record", object_id=str(tube.pk)).exists()


def test_residents_of_one_building_locate_the_tube_at_the_building(town_round, grid_worker):
    tube = testing.tube_record(
        round=town_round,
        code="CN-0002",
        residents=[person("李强").pk, person("李小红").pk],
        actor=grid_worker,
    )
    tube.refresh_from_db()
    assert tube.building.path == f"{ANKANG}/2栋"


def test_a_resident_in_two_tubes_is_a_conflict_naming_them(town_round, grid_worker, volunteer):
    testing.tube_record(
        round=town_round, code="CN-0001", residents=[person("王秀英").pk], actor=grid_worker
    )
    with override("en"), pytest.raises(Conflict) as refused:
        testing.tube_record(
            round=town_round,
            code="CN-0002",
            residents=[person("李强").pk, person("王秀英").pk],
            actor=volunteer,
        )
    message = str(refused.value)
    assert "王秀英" in message and "CN-0001" in message and "李强" not in message
    # The volunteer sees ID numbers masked: only the last four digits are named.
    assert person("王秀英").id_number not in message
    assert person("王秀英").id_number[-4:] in message
    assert not Tube.objects.filter(code="CN-0002").exists()
    assert Sample.objects.count() == 1


def test_the_same_resident_twice_in_one_list_counts_once(town_round, grid_worker):
    tube = testing.tube_record(
        round=town_round,
        code="CN-0001",
        residents=[person("李强").pk, person("李强").pk],
        actor=grid_worker,
    )
    assert tube.samples.count() == 1


def test_the_database_constraint_turns_a_lost_race_into_the_same_conflict(
    town_round, grid_worker, monkeypatch
):
    """Two phones pass the check at once: the second insert breaks the unique constraint,
    which must read as the same 409, with nothing of the second tube written."""
    testing.tube_record(
        round=town_round, code="CN-0001", residents=[person("王秀英").pk], actor=grid_worker
    )
    real = testing._already
    calls = []

    def blind_first(*args):
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(testing, "_already", blind_first)
    with pytest.raises(Conflict, match="王秀英"):
        testing.tube_record(
            round=town_round,
            code="CN-0002",
            residents=[person("李强").pk, person("王秀英").pk],
            actor=grid_worker,
        )
    assert not Tube.objects.filter(code="CN-0002").exists()
    assert Sample.objects.count() == 1


def test_more_residents_than_the_tube_size_are_refused(town_staff, grid_worker):
    small = testing.round_create(
        name="x", date=APRIL_12, regions=[f.region(TOWN)], tube_size=2, actor=town_staff
    )
    three = [person(n).pk for n in ("王秀英", "李强", "李小红")]
    with override("en"), pytest.raises(DomainError, match="at most 2"):
        testing.tube_record(round=small, code="T1", residents=three, actor=grid_worker)
    assert not Tube.objects.exists()


def test_a_tube_fills_up_to_its_size_and_no_further(town_staff, grid_worker):
    small = testing.round_create(
        name="x", date=APRIL_12, regions=[f.region(TOWN)], tube_size=2, actor=town_staff
    )
    testing.tube_record(round=small, code="T1", residents=[person("王秀英").pk], actor=grid_worker)
    with override("en"), pytest.raises(DomainError, match="1 place left"):
        testing.tube_record(
            round=small,
            code="T1",
            residents=[person("李强").pk, person("李小红").pk],
            actor=grid_worker,
        )
    tube = testing.tube_record(
        round=small, code="T1", residents=[person("李强").pk], actor=grid_worker
    )
    assert tube.samples.count() == 2 and testing.tube_places_left(tube) == 0


def test_a_resident_outside_the_rounds_regions_is_refused(community_staff, town_staff):
    ankang_only = testing.round_create(
        name="安康", date=APRIL_12, regions=[f.region(ANKANG)], actor=community_staff
    )
    with pytest.raises(DomainError, match="赵建国") as refused:
        testing.tube_record(
            round=ankang_only, code="T1", residents=[person("赵建国").pk], actor=town_staff
        )
    assert refused.value.code == "invalid"
    assert not Tube.objects.exists()


def test_a_resident_outside_the_jurisdiction_is_not_found(town_round, grid_worker):
    with pytest.raises(NotFound):
        testing.tube_record(
            round=town_round, code="T1", residents=[person("赵建国").pk], actor=grid_worker
        )
    with pytest.raises(NotFound):
        testing.tube_record(
            round=town_round, code="T1", residents=[person("孙丽").pk], actor=grid_worker
        )
    assert not Tube.objects.exists()


def test_an_outsider_cannot_record_into_a_round_they_do_not_see(town_round, outsider):
    with pytest.raises(NotFound):
        testing.tube_record(
            round=town_round, code="T1", residents=[person("孙丽").pk], actor=outsider
        )


@pytest.mark.parametrize("code", ["", "  ", "a b", "x" * 41, "=HYPERLINK()"])
def test_bad_tube_codes_are_refused(town_round, grid_worker, code):
    with pytest.raises(DomainError):
        testing.tube_record(
            round=town_round, code=code, residents=[person("李强").pk], actor=grid_worker
        )


def test_nobody_ticked_is_refused(town_round, grid_worker):
    with pytest.raises(DomainError):
        testing.tube_record(round=town_round, code="T1", residents=[], actor=grid_worker)


# --- coverage ---------------------------------------------------------------------------------


def test_coverage_counts_the_expected_sampled_and_missing(town_round, town_staff, grid_worker):
    away = f.resident(
        Resident.objects.get(name="李强").household, "李远", away=True, birth=dt.date(1990, 1, 1)
    )
    testing.tube_record(
        round=town_round,
        code="T1",
        residents=[person("王秀英").pk, person("李强").pk],
        actor=grid_worker,
    )
    # 城南镇: 王秀英, 李强, 李小红, 赵建国 (李远 is away; 孙丽 lives in 金安区).
    whole = testing.coverage(town_round, town_staff)
    assert (whole.expected, whole.sampled, whole.missing) == (4, 2, 2)
    # The grid worker's jurisdiction is 安康小区: 王秀英, 李强, 李小红.
    mine = testing.coverage(town_round, grid_worker)
    assert (mine.expected, mine.sampled, mine.missing) == (3, 2, 1)
    missing = [r.name for r in testing.missing_residents(town_round, town_staff)]
    assert sorted(missing) == ["李小红", "赵建国"] and away.name not in missing


def test_the_board_is_per_compound_and_building(town_round, town_staff, grid_worker):
    testing.tube_record(
        round=town_round, code="T1", residents=[person("李强").pk], actor=grid_worker
    )
    board = testing.coverage_board(town_round, town_staff)
    figures = {
        c.region.name: (
            c.expected,
            c.sampled,
            [(b.region.name, b.expected, b.sampled) for b in c.parts],
        )
        for c in board.compounds
    }
    assert figures == {
        "安康小区": (3, 1, [("1栋", 1, 0), ("2栋", 2, 1)]),
        "创业小区": (1, 0, [("1栋", 1, 0)]),
    }
    assert (board.total.expected, board.total.sampled) == (4, 1)


def test_the_board_costs_the_same_few_queries_however_many_buildings(
    town_round, town_staff, django_assert_max_num_queries
):
    for n in range(3, 13):
        f.resident(f.household(f"{ANKANG}/{n}栋"), f"住户{n}")
    town_round = TestingRound.objects.get(pk=town_round.pk)  # no cached regions
    with django_assert_max_num_queries(3):
        board = testing.coverage_board(town_round, town_staff)
    assert len(board.compounds[0].parts) + len(board.compounds[1].parts) == 13


def test_the_board_page_has_a_query_bound(town_round, town_staff, django_assert_max_num_queries):
    for n in range(3, 13):
        f.resident(f.household(f"{ANKANG}/{n}栋"), f"住户{n}")
    client = Client()
    client.force_login(town_staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("testing_round", args=[town_round.pk]))
    assert response.status_code == 200 and "12栋" in response.content.decode()


def test_the_missing_list_is_paginated(town_round, town_staff):
    building = f"{ANKANG}/9栋"
    for n in range(60):
        f.resident(f.household(building, room=str(100 + n)), f"缺{n}")
    client = api(town_staff)
    url = reverse("api:testing-missing", args=[town_round.pk])
    first = client.get(url, {"region": building, "page_size": 50}).json()
    assert first["count"] == 60 and len(first["results"]) == 50 and first["next"]


# --- door to door -----------------------------------------------------------------------------


def _seal(region_path: str, *, lifted: bool = False) -> RiskZone:
    region = f.region(region_path)
    zone = RiskZone(
        region=region,
        level="sealed",
        since=timezone.now() - dt.timedelta(days=2),
        reason="阳性病例",
        lifted_at=timezone.now() - dt.timedelta(hours=1) if lifted else None,
    )
    zone.locate(region)
    zone.save()
    return zone


def test_door_to_door_lists_sealed_buildings_and_the_elderly_and_disabled(town_round, town_staff):
    assert {r.name for r in testing.door_to_door(town_round, town_staff)} == {"王秀英", "赵建国"}
    _seal(f"{ANKANG}/2栋")
    listed = {r.name: r for r in testing.door_to_door(town_round, town_staff)}
    assert set(listed) == {"王秀英", "赵建国", "李强", "李小红"}
    assert listed["李强"].in_sealed and not listed["李强"].needs_care
    assert listed["王秀英"].needs_care and not listed["王秀英"].in_sealed


def test_a_sealed_compound_seals_its_buildings_and_a_lifted_zone_does_not(town_round, town_staff):
    _seal(CHUANGYE, lifted=True)
    assert {r.name for r in testing.door_to_door(town_round, town_staff)} == {"王秀英", "赵建国"}
    _seal(ANKANG)
    assert {r.name for r in testing.door_to_door(town_round, town_staff)} == {
        "王秀英",
        "赵建国",
        "李强",
        "李小红",
    }


# --- results and retests -----------------------------------------------------------------------


def test_an_abnormal_tube_puts_its_residents_and_households_on_the_retest_list(
    town_round, town_staff, grid_worker
):
    tube = testing.tube_record(
        round=town_round,
        code="T1",
        residents=[person("李强").pk, person("王秀英").pk],
        actor=grid_worker,
    )
    testing.tube_record(
        round=town_round, code="T2", residents=[person("赵建国").pk], actor=town_staff
    )
    assert list(testing.retest_list(town_round, town_staff)) == []
    testing.result_set(tube=tube, result=TubeResult.POSITIVE, actor=town_staff)
    listed = {r.name: (r.in_tube, r.tube_code) for r in testing.retest_list(town_round, town_staff)}
    assert listed == {"李强": (True, "T1"), "王秀英": (True, "T1"), "李小红": (False, None)}
    assert AuditEvent.objects.filter(action="result_set", object_id=str(tube.pk)).exists()


def test_a_grid_worker_may_not_enter_results(town_round, grid_worker):
    tube = testing.tube_record(
        round=town_round, code="T1", residents=[person("李强").pk], actor=grid_worker
    )
    with pytest.raises(PermissionDenied):
        testing.result_set(tube=tube, result=TubeResult.POSITIVE, actor=grid_worker)


# --- the API ---------------------------------------------------------------------------------


def test_api_creates_a_round_and_records_tubes(town_staff, grid_worker):
    created = api(town_staff).post(
        reverse("api:testing-round-list"),
        {"name": "城南镇第2轮", "date": "2022-04-13", "regions": [TOWN]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    tubes = reverse("api:testing-tubes", args=[pk])
    worker = api(grid_worker)
    ok = worker.post(tubes, {"code": "A1", "residents": [person("王秀英").pk]}, format="json")
    assert ok.status_code == 201 and ok.json()["places_left"] == 9
    again = worker.post(
        tubes,
        {"code": "A2", "residents": [person("王秀英").pk]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert again.status_code == 409 and "王秀英" in again.json()["detail"]
    too_many = worker.post(tubes, {"code": "A3", "residents": list(range(1, 12))}, format="json")
    assert too_many.status_code == 400
    outside = worker.post(tubes, {"code": "A4", "residents": [person("孙丽").pk]}, format="json")
    assert outside.status_code == 404
    assert Tube.objects.filter(round_id=pk).count() == 1
    coverage = worker.get(reverse("api:testing-coverage", args=[pk])).json()
    assert (coverage["expected"], coverage["sampled"], coverage["missing"]) == (3, 1, 2)
    coverage = (
        api(town_staff).get(reverse("api:testing-coverage", args=[pk]), {"region": CHUANGYE}).json()
    )
    assert (coverage["expected"], coverage["sampled"], coverage["missing"]) == (1, 0, 1)
    listed = worker.get(reverse("api:testing-round-list")).json()
    assert [r["id"] for r in listed["results"]] == [pk]
    assert worker.get(reverse("api:testing-round-detail", args=[pk])).json()["regions"] == [TOWN]


def test_api_refuses_a_bad_tube_size_and_outside_regions(town_staff, community_staff):
    bad = api(town_staff).post(
        reverse("api:testing-round-list"),
        {"name": "x", "date": "2022-04-13", "regions": [TOWN], "tube_size": 21},
        format="json",
    )
    assert bad.status_code == 400
    outside = api(community_staff).post(
        reverse("api:testing-round-list"),
        {"name": "x", "date": "2022-04-13", "regions": [CHUANGYE]},
        format="json",
    )
    assert outside.status_code == 404
    assert not TestingRound.objects.exists()


def test_api_retest_and_result(town_round, town_staff, grid_worker):
    testing.tube_record(
        round=town_round, code="T1", residents=[person("李强").pk], actor=grid_worker
    )
    client = api(town_staff)
    entered = client.post(
        reverse("api:testing-result", args=[town_round.pk]),
        {"code": "T1", "result": "positive"},
        format="json",
    )
    assert entered.status_code == 200 and entered.json()["result"] == "positive"
    retest = client.get(reverse("api:testing-retest", args=[town_round.pk])).json()
    assert {(r["name"], r["in_tube"]) for r in retest["results"]} == {
        ("李强", True),
        ("李小红", False),
    }


def test_api_outsider_is_refused_everywhere(town_round, outsider):
    client = api(outsider)
    for name in ("testing-round-detail", "testing-coverage", "testing-missing", "testing-retest"):
        assert client.get(reverse(f"api:{name}", args=[town_round.pk])).status_code == 404
    posted = client.post(
        reverse("api:testing-tubes", args=[town_round.pk]),
        {"code": "X", "residents": [person("孙丽").pk]},
        format="json",
    )
    assert posted.status_code == 404


# --- the sampler's phone page --------------------------------------------------------------------


def test_the_sampler_ticks_a_household_into_a_tube(town_round, grid_worker):
    client = Client()
    client.force_login(grid_worker)
    client.cookies["django_language"] = "en"
    url = reverse("testing_sample", args=[town_round.pk])
    building = Region.objects.get(path=f"{ANKANG}/2栋")
    picker = client.get(url).content.decode()
    assert "2栋" in picker and "创业小区" not in picker
    page = client.get(url, {"building": building.pk}).content.decode()
    assert "李强" in page and "李小红" in page and 'inputmode="text"' in page
    saved = client.post(
        url,
        {
            "building": building.pk,
            "code": "T9",
            "resident": [person("李强").pk, person("李小红").pk],
        },
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = saved.content.decode()
    assert saved.status_code == 200 and "8 places left" in body and "in tube T9" in body
    refused = client.post(
        url,
        {"building": building.pk, "code": "T10", "resident": [person("李强").pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 409 and "李强" in refused.content.decode()
    assert Sample.objects.filter(round=town_round).count() == 2


def test_the_sampler_page_has_a_query_bound(town_round, grid_worker, django_assert_max_num_queries):
    building = f"{ANKANG}/2栋"
    for n in range(20):
        f.resident(f.household(building, room=str(500 + n)), f"住户{n}")
    client = Client()
    client.force_login(grid_worker)
    with django_assert_max_num_queries(12):
        page = client.get(
            reverse("testing_sample", args=[town_round.pk]),
            {"building": Region.objects.get(path=building).pk},
        )
    assert page.status_code == 200 and "住户19" in page.content.decode()


def test_a_building_outside_the_round_is_not_found(community_staff, grid_worker):
    one = testing.round_create(
        name="1栋", date=APRIL_12, regions=[f.region(f"{ANKANG}/1栋")], actor=community_staff
    )
    client = Client()
    client.force_login(grid_worker)
    response = client.get(
        reverse("testing_sample", args=[one.pk]),
        {"building": Region.objects.get(path=f"{ANKANG}/2栋").pk},
    )
    assert response.status_code == 404


def test_pages_serve_their_own_people(town_round, town_staff, grid_worker):
    testing.tube_record(
        round=town_round, code="T1", residents=[person("李强").pk], actor=grid_worker
    )
    testing.result_set(
        tube=Tube.objects.get(code="T1"), result=TubeResult.POSITIVE, actor=town_staff
    )
    client = Client()
    client.force_login(town_staff)
    for name in ("testing_round", "testing_missing", "testing_door", "testing_retest"):
        response = client.get(reverse(name, args=[town_round.pk]))
        assert response.status_code == 200, name
    assert "李小红" in client.get(reverse("testing_retest", args=[town_round.pk])).content.decode()
    assert "城南镇第1轮" in client.get(reverse("testing_rounds")).content.decode()
    worker = Client()
    worker.force_login(grid_worker)
    assert worker.get(reverse("testing_retest", args=[town_round.pk])).status_code == 403


def test_staff_create_a_round_on_the_page(town_staff):
    client = Client()
    client.force_login(town_staff)
    response = client.post(
        reverse("testing_rounds"),
        {
            "name": "页面轮",
            "date": "2022-04-14",
            "regions": f"{ANKANG}\n{CHUANGYE}",
            "tube_size": 5,
        },
    )
    made = TestingRound.objects.get(name="页面轮")
    assert response.status_code == 302 and made.tube_size == 5
    assert {r.path for r in testing.round_regions(made)} == {ANKANG, CHUANGYE}


@pytest.mark.django_db(transaction=True)
def test_two_phones_ticking_the_same_person_at_once_make_one_sample(lu_an, town_staff, grid_worker):
    """Only PostgreSQL runs writers at once; SQLite queues them (BEGIN IMMEDIATE)."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")

    from django.db import connections

    made = testing.round_create(
        name="并发", date=APRIL_12, regions=[f.region(TOWN)], actor=town_staff
    )
    target = person("李强").pk
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def phone(code: str) -> None:
        try:
            barrier.wait()
            testing.tube_record(round=made, code=code, residents=[target], actor=grid_worker)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=phone, args=(f"R{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]
    assert Sample.objects.filter(round=made, resident_id=target).count() == 1
    assert Tube.objects.filter(round=made).count() == 1


# --- the demo -----------------------------------------------------------------------------------


def test_load_demo_records_pooled_tubes_and_one_abnormal_tube_idempotently(
    lu_an, town_staff, grid_worker
):
    from frontline.health.models import SamplingPoint

    # 安康小区 gets 72 more residents (two to a household in 3栋) to make 7 full tubes.
    for n in range(36):
        household = f.household(f"{ANKANG}/3栋", room=str(101 + n))
        f.resident(household, f"甲{n}")
        f.resident(household, f"乙{n}", sex=f.FEMALE)
    users = {"township_staff": town_staff, "grid_worker": grid_worker}
    testing.load_demo(users, lambda _m: None)
    made = TestingRound.objects.get(name=testing.DEMO_ROUND)
    # 75 expected in 安康小区: seven tubes of ten, five left for the sampler.
    assert made.tubes.count() == 7 and made.samples.count() == 70
    assert set(made.tubes.values_list("result", flat=True)) == {"negative", "positive"}
    assert made.tubes.get(result="positive").code == testing.DEMO_POSITIVE
    retest = list(testing.retest_list(made, town_staff))
    assert sum(r.in_tube for r in retest) == 10
    events = AuditEvent.objects.count()
    testing.load_demo(users, lambda _m: None)
    assert TestingRound.objects.count() == 1 and Sample.objects.count() == 70
    assert SamplingPoint.objects.count() == 2 and AuditEvent.objects.count() == events
