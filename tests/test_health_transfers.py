"""Isolation points, transfer teams and transfers (issue 9): capacity refusals with nothing
written, one open stay per person, occupancy always the open stays, capacity edits, the
race for the last bed on PostgreSQL, jurisdiction (points reached from below), home
isolation closed on transfer, the pages and the pinned API, and the demo."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from frontline.accounts.services import user_create, user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.health import transfers
from frontline.health.models import (
    DisinfectionLog,
    IsolationCase,
    IsolationPoint,
    Stay,
    TransferTeam,
)
from frontline.people.models import Resident
from frontline.territory.models import Region

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN, PASSWORD

CST = dt.timezone(dt.timedelta(hours=8))
AT = dt.datetime(2026, 4, 6, 10, 30, tzinfo=CST)


def _api(user, lang="zh-hans"):
    return Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}", HTTP_ACCEPT_LANGUAGE=lang)


def _resident(name):
    return Resident.objects.select_related("household__building").get(name=name)


def _point(actor, path="裕安区/城南镇", name="城南宾馆隔离点", capacity=2):
    return transfers.point_create(name=name, region=f.region(path), capacity=capacity, actor=actor)


def _open_count(point) -> int:
    """Counted here, independently of the code under test: stays with no end."""
    return sum(1 for s in Stay.objects.filter(point_id=point.pk) if s.end is None)


@pytest.fixture
def district_staff(lu_an):
    return user_create(
        username="district_staff",
        role="district_staff",
        region=f.region("裕安区"),
        password=PASSWORD,
    )


@pytest.fixture
def outside_staff(lu_an):
    """Staff of 鼓楼社区 (金安区): may manage transfers, but not 城南镇's."""
    return user_create(
        username="outside_staff",
        role="community_staff",
        region=f.region(LIJINGYUAN).parent,
        password=PASSWORD,
    )


# --- capacity and stays --------------------------------------------------------------------


def test_a_full_point_refuses_with_409_naming_it_and_writes_nothing(town_staff, lu_an):
    point = _point(town_staff, capacity=1)
    client = _api(town_staff, "en")
    url = reverse("api:transfer-list")
    first = client.post(
        url,
        {"resident": _resident("王秀英").pk, "point": point.pk, "at": AT.isoformat()},
        content_type="application/json",
    )
    assert first.status_code == 201, first.content
    audit_before = AuditEvent.objects.count()

    second = client.post(
        url,
        {"resident": _resident("李强").pk, "point": point.pk, "at": AT.isoformat()},
        content_type="application/json",
    )

    assert second.status_code == 409
    detail = second.json()["detail"]
    assert "城南宾馆隔离点" in detail and "1" in detail and "full" in detail
    assert Stay.objects.count() == 1
    assert AuditEvent.objects.count() == audit_before
    assert not Stay.objects.filter(resident__name="李强").exists()


def test_one_open_stay_per_resident(town_staff, lu_an):
    a = _point(town_staff, name="甲隔离点", capacity=5)
    b = _point(town_staff, name="乙隔离点", capacity=5)
    person = _resident("李强")
    stay = transfers.transfer_create(resident=person, point=a, at=AT, actor=town_staff)

    with override("en"), pytest.raises(Conflict) as refused:
        transfers.transfer_create(resident=person, point=b, at=AT, actor=town_staff)
    assert "李强" in str(refused.value) and "甲隔离点" in str(refused.value)
    assert Stay.objects.filter(resident=person).count() == 1

    transfers.stay_end(
        stay=stay, at=AT + dt.timedelta(days=7), outcome="moved", note="", actor=town_staff
    )
    again = transfers.transfer_create(
        resident=person, point=b, at=AT + dt.timedelta(days=7), actor=town_staff
    )
    assert again.point_id == b.pk
    assert Stay.objects.filter(resident=person).count() == 2


def test_occupancy_is_the_open_stays_after_transfers_and_releases(town_staff, lu_an):
    point = _point(town_staff, capacity=3)
    people = [_resident(n) for n in ("王秀英", "李强", "李小红", "赵建国")]
    client = _api(town_staff)
    stays = {}
    expected_open: set[str] = set()

    def check():
        shown = client.get(reverse("api:isolation-point-detail", args=[point.pk])).json()
        assert shown["occupancy"] == len(expected_open) == _open_count(point)
        assert shown["capacity"] == 3 and shown["free"] == 3 - len(expected_open)

    for k, person in enumerate(people[:3]):
        stays[person.name] = transfers.transfer_create(
            resident=person, point=point, at=AT + dt.timedelta(minutes=k), actor=town_staff
        )
        expected_open.add(person.name)
        check()
    with pytest.raises(Conflict):
        transfers.transfer_create(resident=people[3], point=point, at=AT, actor=town_staff)
    check()
    ended = client.post(
        reverse("api:stay-end", args=[stays["李强"].pk]),
        {"at": (AT + dt.timedelta(days=1)).isoformat(), "outcome": "hospital"},
        content_type="application/json",
    )
    assert ended.status_code == 200, ended.content
    expected_open.discard("李强")
    check()
    transfers.transfer_create(
        resident=people[3], point=point, at=AT + dt.timedelta(days=1), actor=town_staff
    )
    expected_open.add("赵建国")
    check()
    # Ending a stay twice: the second is a conflict and changes nothing.
    again = client.post(
        reverse("api:stay-end", args=[stays["李强"].pk]),
        {"at": (AT + dt.timedelta(days=2)).isoformat(), "outcome": "released"},
        content_type="application/json",
    )
    assert again.status_code == 409
    assert Stay.objects.get(pk=stays["李强"].pk).outcome == "hospital"
    check()


def test_capacity_cannot_go_below_the_people_there(town_staff, lu_an):
    point = _point(town_staff, capacity=3)
    for name in ("王秀英", "李强"):
        transfers.transfer_create(resident=_resident(name), point=point, at=AT, actor=town_staff)

    with override("en"), pytest.raises(Conflict) as refused:
        transfers.point_set_capacity(point=point, capacity=1, actor=town_staff)
    assert "2 people" in str(refused.value) and "城南宾馆隔离点" in str(refused.value)
    assert IsolationPoint.objects.get(pk=point.pk).capacity == 3

    transfers.point_set_capacity(point=point, capacity=2, actor=town_staff)
    assert IsolationPoint.objects.get(pk=point.pk).capacity == 2
    with pytest.raises(DomainError):
        transfers.point_set_capacity(point=point, capacity=0, actor=town_staff)


def test_an_inactive_point_takes_nobody(town_staff, lu_an):
    point = _point(town_staff)
    transfers.point_set_active(point=point, active=False, actor=town_staff)
    with pytest.raises(Conflict):
        transfers.transfer_create(resident=_resident("李强"), point=point, at=AT, actor=town_staff)
    assert not Stay.objects.exists()


def test_times_need_a_zone_and_not_the_future(town_staff, lu_an):
    point = _point(town_staff)
    person = _resident("李强")
    with pytest.raises(DomainError):
        transfers.transfer_create(
            resident=person, point=point, at=dt.datetime(2026, 4, 6, 10), actor=town_staff
        )
    with pytest.raises(DomainError):
        transfers.transfer_create(
            resident=person,
            point=point,
            at=timezone.now() + dt.timedelta(days=1),
            actor=town_staff,
        )
    stay = transfers.transfer_create(resident=person, point=point, at=AT, actor=town_staff)
    with pytest.raises(DomainError):
        transfers.stay_end(
            stay=stay, at=AT - dt.timedelta(hours=1), outcome="released", actor=town_staff
        )
    with pytest.raises(DomainError):
        transfers.stay_end(stay=stay, at=AT, outcome="escaped", actor=town_staff)


# --- the race for the last bed -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_transfers_for_the_last_bed_exactly_one_wins(lu_an, town_staff, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite serialises every writer on one file lock, so the race cannot happen; "
            "run with `make test-pg` to prove it on PostgreSQL"
        )
    point = _point(town_staff, capacity=2)
    transfers.transfer_create(resident=_resident("赵建国"), point=point, at=AT, actor=town_staff)
    # Widen the window between counting and writing: without the point's row lock both
    # would count one person and both would write.
    counted = transfers.occupancy

    def slow_occupancy(p):
        n = counted(p)
        time.sleep(0.3)
        return n

    monkeypatch.setattr(transfers, "occupancy", slow_occupancy)
    people = [_resident("王秀英"), _resident("李强")]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def transfer(person):
        try:
            copy = IsolationPoint.objects.get(pk=point.pk)
            barrier.wait()
            try:
                transfers.transfer_create(resident=person, point=copy, at=AT, actor=town_staff)
                outcomes.append("won")
            except Conflict:
                outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=transfer, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["409", "won"]
    assert _open_count(point) == 2


@pytest.mark.django_db(transaction=True)
def test_two_transfers_of_one_person_into_two_points_exactly_one_wins(lu_an, town_staff):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises every writer; run with `make test-pg`")
    points = [_point(town_staff, name=n, capacity=5) for n in ("甲隔离点", "乙隔离点")]
    person = _resident("李强")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def transfer(point):
        try:
            barrier.wait()
            try:
                transfers.transfer_create(resident=person, point=point, at=AT, actor=town_staff)
                outcomes.append("won")
            except Conflict:
                outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=transfer, args=(p,)) for p in points]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["409", "won"]
    assert Stay.objects.filter(resident=person).count() == 1


# --- home isolation ------------------------------------------------------------------------


def _case(resident, keeper, status="open"):
    case = IsolationCase(
        resident=resident,
        category="home_isolation",
        reason="密接",
        start=dt.date(2026, 4, 4),
        planned_end=dt.date(2026, 4, 18),
        keeper=keeper,
        status=status,
    )
    case.locate(resident.household.building)
    case.save()
    return case


def test_a_transfer_closes_the_open_home_isolation_case(town_staff, grid_worker, lu_an):
    person = _resident("李强")
    released = _case(person, grid_worker, status="released")
    case = _case(person, grid_worker)
    other = _case(_resident("王秀英"), grid_worker)
    point = _point(town_staff)

    transfers.transfer_create(resident=person, point=point, at=AT, actor=town_staff)

    case.refresh_from_db()
    assert case.status == "transferred" and case.ended_at == AT
    assert case.ended_by_id == town_staff.pk and "城南宾馆隔离点" in case.end_note
    released.refresh_from_db()
    other.refresh_from_db()
    assert released.status == "released" and other.status == "open"
    event = AuditEvent.objects.get(action="isolation_transfer")
    assert event.detail["home_isolation_closed"] == [case.pk]


# --- jurisdiction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point_path", "reached"),
    [
        ("裕安区/城南镇", True),  # the township's own
        ("裕安区", True),  # the district's hotel serves its townships
        ("裕安区/城南镇/陡步河社区", True),  # a community's, inside
        ("裕安区/苏埠镇", False),  # a sibling township's
        ("金安区", False),  # another district's
        ("金安区/鼓楼街道", False),
    ],
)
def test_township_staff_transfer_into_points_inside_or_above(
    point_path, reached, town_staff, city_admin, lu_an
):
    point = _point(city_admin, path=point_path, capacity=5)
    client = _api(town_staff)
    response = client.post(
        reverse("api:transfer-list"),
        {"resident": _resident("李强").pk, "point": point.pk, "at": AT.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == (201 if reached else 404)
    detail = client.get(reverse("api:isolation-point-detail", args=[point.pk]))
    assert detail.status_code == (200 if reached else 404)
    listed = {p["id"] for p in client.get(reverse("api:isolation-point-list")).json()["results"]}
    assert (point.pk in listed) is reached


def test_reaching_a_district_point_is_not_managing_it(town_staff, district_staff, lu_an):
    point = _point(district_staff, path="裕安区", capacity=5)
    with pytest.raises(NotFound):
        transfers.point_set_capacity(point=point, capacity=9, actor=town_staff)
    with pytest.raises(NotFound):
        transfers.point_create(name="x", region=f.region("裕安区"), capacity=1, actor=town_staff)
    # A township's staff may still end the stay of their own resident there.
    stay = transfers.transfer_create(
        resident=_resident("李强"), point=point, at=AT, actor=town_staff
    )
    transfers.stay_end(stay=stay, at=AT, outcome="released", actor=town_staff)
    # And the district's staff, who run the point, see it and may end stays there too.
    assert transfers.point_for(district_staff, point.pk).occupancy == 0


def test_residents_outside_and_roles_without_the_action_are_refused(
    town_staff, grid_worker, outside_staff, city_admin, lu_an
):
    yuan = _point(city_admin, path="裕安区", capacity=5)
    jinan = _point(city_admin, path="金安区", name="金安区酒店隔离点", capacity=5)
    # A grid worker's role may not transfer at all.
    with pytest.raises(PermissionDenied):
        transfers.transfer_create(resident=_resident("李强"), point=yuan, at=AT, actor=grid_worker)
    # 鼓楼社区's staff reach 金安区's point, not 城南镇's residents.
    with pytest.raises(NotFound):
        transfers.transfer_create(
            resident=_resident("李强"), point=jinan, at=AT, actor=outside_staff
        )
    stay = transfers.transfer_create(
        resident=_resident("李强"), point=yuan, at=AT, actor=town_staff
    )
    with pytest.raises(NotFound):
        transfers.stay_end(stay=stay, at=AT, outcome="released", actor=outside_staff)
    assert not Stay.objects.filter(resident__name="李强", end__isnull=False).exists()


def test_policy_reaches_walks_up_not_sideways(town_staff, community_staff, lu_an):
    from frontline.accounts.policy import policy_for

    city = Region.objects.get(level=0)
    for who, path, expected in [
        (community_staff, "裕安区", True),
        (community_staff, "裕安区/城南镇", True),
        (community_staff, "裕安区/城南镇/陡步河社区", True),
        (community_staff, "裕安区/城南镇/城南社区", False),
        (town_staff, ANKANG, True),
        (town_staff, "金安区", False),
    ]:
        assert policy_for(who).reaches(f.region(path)) is expected, (who, path)
    assert policy_for(town_staff).reaches(city)


# --- disinfection, staff, teams, audit ------------------------------------------------------


def test_disinfection_by_managers_and_point_staff_only(town_staff, grid_worker, volunteer, lu_an):
    point = _point(town_staff)
    with pytest.raises(PermissionDenied):
        transfers.disinfection_record(point=point, areas="走廊", actor=volunteer)
    transfers.point_staff_add(point=point, user=volunteer, actor=town_staff)
    log = transfers.disinfection_record(point=point, areas="走廊", actor=volunteer)
    assert log.by_id == volunteer.pk and log.township_id == point.township_id
    assert transfers.points_for(town_staff).get(pk=point.pk).disinfected is True
    transfers.point_staff_remove(point=point, user=volunteer, actor=town_staff)
    with pytest.raises(PermissionDenied):
        transfers.disinfection_record(point=point, areas="走廊", actor=volunteer)
    yesterday = timezone.now() - dt.timedelta(days=1)
    DisinfectionLog.objects.all().update(at=yesterday)
    assert transfers.points_for(town_staff).get(pk=point.pk).disinfected is False


def test_team_with_accounts_and_other_names(town_staff, volunteer, outsider, lu_an):
    team = transfers.team_create(
        name="城南镇转运一队",
        region=f.region("裕安区/城南镇"),
        vehicle="皖NA1234",
        leader="张立军",
        members=[volunteer],
        other_members="司机：李师傅",
        actor=town_staff,
    )
    assert list(team.members.all()) == [volunteer] and team.other_members == "司机：李师傅"
    with pytest.raises(NotFound):
        transfers.team_create(
            name="二队", region=f.region("裕安区/城南镇"), members=[outsider], actor=town_staff
        )
    with pytest.raises(Conflict):
        transfers.team_create(
            name="城南镇转运一队", region=f.region("裕安区/城南镇"), actor=town_staff
        )
    stay = transfers.transfer_create(
        resident=_resident("李强"), point=_point(town_staff), at=AT, team=team, actor=town_staff
    )
    assert stay.team_id == team.pk


def test_every_write_leaves_an_audit_row(town_staff, volunteer, lu_an):
    point = _point(town_staff)
    transfers.point_set_capacity(point=point, capacity=4, actor=town_staff)
    transfers.point_set_active(point=point, active=True, actor=town_staff)
    transfers.point_staff_add(point=point, user=volunteer, actor=town_staff)
    transfers.disinfection_record(point=point, areas="大厅", actor=town_staff)
    team = transfers.team_create(name="一队", region=f.region("裕安区/城南镇"), actor=town_staff)
    stay = transfers.transfer_create(
        resident=_resident("李强"), point=point, at=AT, team=team, actor=town_staff
    )
    transfers.stay_end(stay=stay, at=AT, outcome="released", actor=town_staff)
    actions = list(
        AuditEvent.objects.filter(actor=town_staff).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "point_change",
        "point_change",
        "point_change",
        "point_change",
        "disinfection",
        "team_change",
        "isolation_transfer",
        "stay_end",
    ]
    moved = AuditEvent.objects.get(action="isolation_transfer")
    assert moved.region == f"{ANKANG}/2栋" and moved.detail["point"] == point.pk


# --- API ------------------------------------------------------------------------------------


def test_api_creates_a_point_by_region_path(town_staff, grid_worker, lu_an):
    url = reverse("api:isolation-point-list")
    body = {"name": "城南中学隔离点", "region": "裕安区/城南镇", "capacity": 180}
    created = _api(town_staff).post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
    shown = created.json()
    assert shown["occupancy"] == 0 and shown["free"] == 180 and shown["capacity"] == 180
    assert IsolationPoint.objects.get(pk=shown["id"]).township_id == f.region("裕安区/城南镇").pk
    assert _api(grid_worker).post(url, body, content_type="application/json").status_code == 403
    outside = {**body, "region": "金安区"}
    assert _api(town_staff).post(url, outside, content_type="application/json").status_code == 404
    bad = {**body, "name": "x", "capacity": 0}
    assert _api(town_staff).post(url, bad, content_type="application/json").status_code == 400


def test_api_lists_transfers_of_a_day_and_region(town_staff, city_admin, lu_an):
    point = _point(town_staff, capacity=5)
    transfers.transfer_create(resident=_resident("李强"), point=point, at=AT, actor=town_staff)
    transfers.transfer_create(
        resident=_resident("赵建国"), point=point, at=AT - dt.timedelta(days=1), actor=town_staff
    )
    client = _api(town_staff)
    url = reverse("api:transfer-list")
    on_day = client.get(url + "?date=2026-04-06").json()
    assert [r["resident_name"] for r in on_day["results"]] == ["李强"]
    assert client.get(url + "?date=2026-04-05&region=" + ANKANG).json()["count"] == 0
    assert client.get(url + "?date=2026-04-05").json()["count"] == 1
    assert client.get(url + "?date=nonsense").status_code == 400
    assert client.get(url + "?date=2026-04-06&region=" + LIJINGYUAN).status_code == 404


def test_the_point_list_costs_the_same_queries_for_one_or_ten(town_staff, lu_an):
    client = _api(town_staff)
    page = Client()
    page.force_login(town_staff)
    # Warm up: the token's first use of the minute is recorded once.
    client.get(reverse("api:isolation-point-list"))
    counts = []
    for n in (1, 9):
        for i in range(n):
            point = _point(town_staff, name=f"隔离点{n}-{i}", capacity=3)
            transfers.disinfection_record(point=point, areas="走廊", actor=town_staff)
        if n == 1:
            transfers.transfer_create(
                resident=_resident("李强"), point=point, at=AT, actor=town_staff
            )
        with CaptureQueriesContext(connection) as api_queries:
            assert client.get(reverse("api:isolation-point-list")).status_code == 200
        with CaptureQueriesContext(connection) as page_queries:
            assert page.get(reverse("point_list")).status_code == 200
        counts.append((len(api_queries), len(page_queries)))
    assert counts[0] == counts[1]
    assert counts[0][0] <= 8 and counts[0][1] <= 12


# --- pages ----------------------------------------------------------------------------------


def test_transfer_from_the_resident_page(town_staff, lu_an):
    point = _point(town_staff, capacity=1)
    team = transfers.team_create(name="一队", region=f.region("裕安区/城南镇"), actor=town_staff)
    client = Client()
    client.force_login(town_staff)
    person = _resident("李强")
    household = client.get(reverse("household_detail", args=[person.household_id]))
    assert reverse("transfer_create", args=[person.pk]) in household.content.decode()
    form = client.get(reverse("transfer_create", args=[person.pk]))
    assert form.status_code == 200 and "城南宾馆隔离点" in form.content.decode()

    done = client.post(
        reverse("transfer_create", args=[person.pk]),
        {"point": point.pk, "team": team.pk, "at": "2026-04-06T10:30", "reason": "密切接触者"},
    )
    assert done.status_code == 302
    stay = Stay.objects.get(resident=person)
    assert stay.start == AT and stay.team_id == team.pk

    shown = client.get(reverse("point_detail", args=[point.pk])).content.decode()
    assert "李强" in shown and person.id_number not in shown
    client.cookies["django_language"] = "en"
    full = client.post(
        reverse("transfer_create", args=[_resident("王秀英").pk]),
        {"point": point.pk, "at": "2026-04-06T11:00"},
    )
    assert full.status_code == 200 and "is full" in full.content.decode()
    assert Stay.objects.count() == 1

    board = client.get(reverse("transfer_board") + "?date=2026-04-06").content.decode()
    assert "李强" in board and "城南宾馆隔离点" in board
    ended = client.post(
        reverse("stay_end", args=[stay.pk]), {"outcome": "released", "at": "2026-04-12T09:00"}
    )
    assert ended.status_code == 302 and Stay.objects.get(pk=stay.pk).outcome == "released"


def test_points_page_marks_points_not_disinfected_today(town_staff, lu_an):
    clean = _point(town_staff, name="已消杀隔离点")
    _point(town_staff, name="未消杀隔离点")
    transfers.disinfection_record(point=clean, areas="走廊", actor=town_staff)
    client = Client()
    client.force_login(town_staff)
    client.cookies["django_language"] = "en"
    body = client.get(reverse("point_list")).content.decode()
    assert body.count("Not disinfected today") == 1 and "Disinfected today" in body


def test_pages_of_points_and_teams_serve_their_own_people(town_staff, volunteer, lu_an):
    point = _point(town_staff)
    team = transfers.team_create(name="一队", region=f.region("裕安区/城南镇"), actor=town_staff)
    client = Client()
    client.force_login(town_staff)
    for url in [
        reverse("point_list"),
        reverse("point_detail", args=[point.pk]),
        reverse("team_list"),
        reverse("team_detail", args=[team.pk]),
        reverse("transfer_board"),
    ]:
        assert client.get(url).status_code == 200, url
    edit = client.post(reverse("point_edit", args=[point.pk]), {"capacity": 9})
    assert edit.status_code == 302 and IsolationPoint.objects.get(pk=point.pk).capacity == 9
    add = client.post(reverse("point_staff", args=[point.pk]), {"username": "volunteer"})
    assert add.status_code == 302 and point.staff.filter(pk=volunteer.pk).exists()
    dis = client.post(reverse("point_disinfect", args=[point.pk]), {"areas": "走廊"})
    assert dis.status_code == 302 and DisinfectionLog.objects.filter(point=point).count() == 1
    made = client.post(
        reverse("team_list"), {"name": "二队", "vehicle": "皖NB2222", "members": "volunteer"}
    )
    assert made.status_code == 302
    assert list(TransferTeam.objects.get(name="二队").members.all()) == [volunteer]
    made = client.post(reverse("point_list"), {"name": "新隔离点", "capacity": 10})
    assert made.status_code == 302 and IsolationPoint.objects.filter(name="新隔离点").exists()


def test_volunteers_see_counts_but_not_who_was_transferred(town_staff, volunteer, lu_an):
    point = _point(town_staff)
    transfers.transfer_create(resident=_resident("李强"), point=point, at=AT, actor=town_staff)
    client = Client()
    client.force_login(volunteer)
    detail = client.get(reverse("point_detail", args=[point.pk])).content.decode()
    assert "李强" not in detail
    board = client.get(reverse("transfer_board") + "?date=2026-04-06").content.decode()
    assert "李强" not in board
    assert client.get(reverse("transfer_create", args=[_resident("李强").pk])).status_code == 403


OUTSIDER_URLS = [
    ("get", "point_detail", "point", None),
    ("post", "point_edit", "point", {"capacity": 1}),
    ("post", "point_staff", "point", {"username": "outside_staff"}),
    ("post", "point_disinfect", "point", {"areas": "x"}),
    ("get", "team_detail", "team", None),
    ("get", "transfer_create", "resident", None),
    ("post", "transfer_create", "resident", {"point": 0, "at": "2026-04-06T10:00"}),
    ("post", "stay_end", "stay", {"outcome": "released"}),
    ("get", "api:isolation-point-detail", "point", None),
    ("post", "api:stay-end", "stay", {"outcome": "released", "at": AT.isoformat()}),
]


@pytest.mark.parametrize(("method", "name", "target", "data"), OUTSIDER_URLS)
def test_outsiders_are_refused_on_every_url(
    method, name, target, data, town_staff, outside_staff, outsider, lu_an
):
    point = _point(town_staff)
    team = transfers.team_create(name="一队", region=f.region("裕安区/城南镇"), actor=town_staff)
    stay = transfers.transfer_create(
        resident=_resident("李强"), point=point, at=AT, actor=town_staff
    )
    objects = {"point": point, "team": team, "stay": stay, "resident": _resident("王秀英")}
    url = reverse(name, args=[objects[target].pk])
    for who in (outsider, outside_staff):
        if name.startswith("api:"):
            client = _api(who)
            response = getattr(client, method)(url, data, content_type="application/json")
        else:
            client = Client()
            client.force_login(who)
            response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == 404, (who.username, name, response.status_code)
    assert Stay.objects.get(pk=stay.pk).end is None
    assert IsolationPoint.objects.get(pk=point.pk).capacity == 2
    assert not DisinfectionLog.objects.exists()


def test_outsiders_lists_show_nothing_of_chengnan(town_staff, outside_staff, outsider, lu_an):
    point = _point(town_staff)
    transfers.team_create(name="城南一队", region=f.region("裕安区/城南镇"), actor=town_staff)
    transfers.transfer_create(resident=_resident("李强"), point=point, at=AT, actor=town_staff)
    for who in (outsider, outside_staff):
        client = Client()
        client.force_login(who)
        for url in (
            reverse("point_list"),
            reverse("team_list"),
            reverse("transfer_board") + "?date=2026-04-06",
        ):
            body = client.get(url).content.decode()
            assert "城南" not in body and "李强" not in body, url
        api = _api(who)
        assert api.get(reverse("api:isolation-point-list")).json()["count"] == 0
        assert api.get(reverse("api:transfer-list") + "?date=2026-04-06").json()["count"] == 0


# --- the demo ---------------------------------------------------------------------------------


def test_demo_is_plausible_and_idempotent(lu_an, city_admin, town_staff):
    for path in ("裕安区/苏埠镇", "裕安区/罗集乡", "金安区/东市街道", "金安区/三里桥街道"):
        f.region(path)
    f.region("金安区/木厂镇")
    contact_home = f.household(f"{ANKANG}/3栋", room="101")
    f.resident(contact_home, "周密")
    f.resident(contact_home, "周全", sex=f.FEMALE)
    users = {"city_admin": city_admin, "township_staff": town_staff}

    transfers.load_demo(users, lambda message: None)
    counts = (
        IsolationPoint.objects.count(),
        TransferTeam.objects.count(),
        DisinfectionLog.objects.count(),
        Stay.objects.count(),
        AuditEvent.objects.count(),
    )
    transfers.load_demo(users, lambda message: None)

    assert counts == (
        IsolationPoint.objects.count(),
        TransferTeam.objects.count(),
        DisinfectionLog.objects.count(),
        Stay.objects.count(),
        AuditEvent.objects.count(),
    )
    assert counts[:4] == (15, 22, 45, 2)
    hotel = IsolationPoint.objects.get(name="城南镇城南宾馆隔离点")
    assert transfers.points_for(town_staff).get(pk=hotel.pk).occupancy == 2 == _open_count(hotel)
    assert set(Stay.objects.values_list("resident__name", flat=True)) == {"周密", "周全"}


def test_figures_for_the_health_stats(town_staff, city_admin, lu_an):
    chengnan = f.region("裕安区/城南镇")
    a = _point(town_staff, capacity=3)
    _point(town_staff, name="乙隔离点", capacity=4)
    off = _point(town_staff, name="停用隔离点", capacity=50)
    transfers.point_set_active(point=off, active=False, actor=town_staff)
    _point(city_admin, path="金安区", name="金安区隔离点", capacity=7)
    now = timezone.now()
    transfers.transfer_create(resident=_resident("李强"), point=a, at=now, actor=town_staff)
    transfers.transfer_create(resident=_resident("王秀英"), point=a, at=AT, actor=town_staff)
    figures = transfers.transfer_figures(chengnan)
    assert figures == {
        "isolation_points": 2,
        "capacity": 7,
        "occupancy": 2,
        "transfers_today": 1,
    }
    assert transfers.transfer_figures(f.region("金安区"))["capacity"] == 7
