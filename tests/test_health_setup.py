"""Setting up health work: a round's sampling points (add, change, remove) and care
services (set up for a resident found by name or phone digits, ended), on the pages and
through the API; bad input refused in the user's language with nothing written, places and
people outside the jurisdiction refused, every write audited.

The people come from conftest's `lu_an`: in 城南镇 王秀英 (安康小区 1栋, phone ending
5678), 李强 (安康小区 2栋), 赵建国 (创业小区); outside it 孙丽 (丽景苑小区, 金安区).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils.translation import override
from rest_framework.test import APIClient

from frontline.accounts.services import user_create, user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.health import care, testing
from frontline.health.models import CareService, SamplingPoint, TestingRound, Tube
from frontline.people.models import Resident
from frontline.territory.models import Region

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN, PASSWORD

TOWN = "裕安区/城南镇"
APRIL_12 = dt.date(2022, 4, 12)
TZ = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.date(2026, 4, 6)


def person(name: str) -> Resident:
    return Resident.objects.get(name=name)


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")
    client.cookies["django_language"] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def outside_staff(lu_an):
    """Community staff of 鼓楼社区 (金安区): the same role, another place."""
    return user_create(
        username="outside_staff",
        role="community_staff",
        region=f.region(LIJINGYUAN).parent,
        password=PASSWORD,
    )


@pytest.fixture
def town_round(town_staff):
    return testing.round_create(
        name="城南镇第1轮", date=APRIL_12, regions=[Region.objects.get(path=TOWN)], actor=town_staff
    )


def _point(round, user, **kw):
    args = {"round": round, "region": f.region(ANKANG), "name": "安康小区南门采样点"}
    return testing.point_create(**{**args, **kw, "actor": user})


# --- sampling points: the services ------------------------------------------------------------


def test_a_point_is_audited(town_round, community_staff):
    point = _point(town_round, community_staff, opens=dt.time(7), closes=dt.time(11))

    event = AuditEvent.objects.get(action="sampling_point")
    assert event.object_id == str(point.pk) and event.actor_name == "community_staff"
    assert event.detail["step"] == "create" and event.detail["opens"] == "07:00"
    assert event.region == ANKANG


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"name": " "}, "a name of at most 100"),
        ({"name": "x" * 101}, "a name of at most 100"),
        ({"kind": "bus"}, "Unknown kind"),
        ({"opens": dt.time(7)}, "or neither"),
        ({"opens": dt.time(11), "closes": dt.time(7)}, "opens before it closes"),
    ],
)
def test_bad_point_input_writes_nothing(town_round, community_staff, kw, message):
    with override("en"), pytest.raises(DomainError, match=message):
        _point(town_round, community_staff, **kw)
    assert not SamplingPoint.objects.exists()
    assert not AuditEvent.objects.filter(action="sampling_point").exists()


def test_a_point_outside_the_jurisdiction_or_the_round_is_refused(
    town_round, community_staff, grid_worker, town_staff
):
    # 创业小区 is in the round (城南镇) but not in 陡步河社区.
    with pytest.raises(NotFound):
        _point(town_round, community_staff, region=f.region(CHUANGYE))
    ankang_round = testing.round_create(
        name="安康小区", date=APRIL_12, regions=[f.region(ANKANG)], actor=town_staff
    )
    with override("en"), pytest.raises(DomainError, match="not in the round"):
        _point(ankang_round, town_staff, region=f.region(CHUANGYE))
    # A grid worker records samples; setting up points is the staff's.
    with pytest.raises(PermissionDenied):
        _point(town_round, grid_worker)
    assert not SamplingPoint.objects.exists()


def test_a_round_out_of_sight_or_closed_takes_no_point(town_round, outside_staff, town_staff):
    with pytest.raises(NotFound):
        _point(town_round, outside_staff, region=f.region(LIJINGYUAN))
    TestingRound.objects.filter(pk=town_round.pk).update(
        closed_at=dt.datetime(2022, 4, 13, tzinfo=TZ)
    )
    town_round.refresh_from_db()
    with override("en"), pytest.raises(DomainError, match="closed"):
        _point(town_round, town_staff)


def test_a_point_is_changed_and_removed_with_audit(town_round, community_staff):
    point = _point(town_round, community_staff)
    compound = f.region(f"{ANKANG}/1栋")
    testing.point_update(
        point=point,
        region=compound,
        name="1栋采样点",
        kind="door",
        opens=dt.time(8),
        closes=dt.time(12),
        actor=community_staff,
    )
    point.refresh_from_db()
    assert (point.name, point.kind, point.region_id, point.building_id) == (
        "1栋采样点",
        "door",
        compound.pk,
        compound.pk,
    )
    change = AuditEvent.objects.get(action="sampling_point", detail__step="change")
    assert change.detail["changed"]["name"] == ["安康小区南门采样点", "1栋采样点"]

    testing.point_remove(point=point, actor=community_staff)

    assert not SamplingPoint.objects.exists()
    assert AuditEvent.objects.filter(action="sampling_point", detail__step="remove").exists()


def test_a_point_that_tubes_name_stays(town_round, community_staff):
    point = _point(town_round, community_staff)
    testing.tube_record(
        round=town_round,
        code="T-1",
        residents=[person("王秀英").pk],
        actor=community_staff,
        point=point,
    )
    with override("en"), pytest.raises(Conflict, match="Tubes were recorded"):
        testing.point_remove(point=point, actor=community_staff)
    assert SamplingPoint.objects.filter(pk=point.pk).exists()
    assert not AuditEvent.objects.filter(action="sampling_point", detail__step="remove").exists()


def test_a_point_outside_is_not_changed(town_round, community_staff, town_staff):
    """The point (in 创业小区) is outside 陡步河社区: its staff may not touch it."""
    point = _point(town_round, town_staff, region=f.region(CHUANGYE))
    with pytest.raises(NotFound):
        testing.point_update(
            point=point, region=f.region(ANKANG), name="x", kind="point", actor=community_staff
        )
    with pytest.raises(NotFound):
        testing.point_remove(point=point, actor=community_staff)
    point.refresh_from_db()
    assert point.region.path == CHUANGYE


# --- sampling points: the pages ------------------------------------------------------------


def _post_point(client, round, **data):
    fields = {"name": "南门采样点", "kind": "point", "place": f.region(ANKANG).pk}
    fields.update(data)
    return client.post(
        reverse("testing_point_add", args=[round.pk]), {f"point-{k}": v for k, v in fields.items()}
    )


def test_the_round_page_adds_a_point(town_round, community_staff):
    client = web(community_staff)
    page = client.get(reverse("testing_round", args=[town_round.pk]))
    places = [str(p.path) for p in page.context["point_form"].fields["place"].queryset]
    # Only the round's places inside 陡步河社区: the community and its compound.
    assert places == ["裕安区/城南镇/陡步河社区", ANKANG]

    response = _post_point(client, town_round, opens="07:00", closes="11:00")

    assert response.status_code == 302
    point = SamplingPoint.objects.get()
    assert (point.name, point.opens, point.closes) == ("南门采样点", dt.time(7), dt.time(11))
    assert AuditEvent.objects.filter(action="sampling_point", object_id=str(point.pk)).exists()
    listed = text(client.get(reverse("testing_round", args=[town_round.pk])))
    assert "南门采样点" in listed and "07:00–11:00" in listed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"opens": "25:00", "closes": "26:00"}, "Give the time as HH:MM"),
        ({"opens": "11:00", "closes": "07:00"}, "A sampling point opens before it closes."),
        ({"opens": "07:00"}, "Give both the opening and the closing time, or neither."),
        ({"kind": "bus"}, "Select a valid choice."),
    ],
)
def test_bad_input_on_the_round_page_is_said_in_english(town_round, community_staff, data, message):
    response = _post_point(web(community_staff), town_round, **data)

    assert response.status_code == 400
    assert message in text(response)
    assert not SamplingPoint.objects.exists()
    assert not AuditEvent.objects.filter(action="sampling_point").exists()


def test_a_place_outside_named_in_the_form_is_refused(town_round, community_staff):
    # 创业小区 is in the round but outside 陡步河社区; 丽景苑小区 is in neither.
    for outside in (CHUANGYE, LIJINGYUAN):
        response = _post_point(web(community_staff), town_round, place=f.region(outside).pk)
        assert response.status_code == 400
        assert "Choose a place of the round inside your jurisdiction." in text(response)
    assert not SamplingPoint.objects.exists()


def test_the_point_pages_refuse_outsiders(town_round, town_staff, outside_staff, grid_worker):
    point = _point(town_round, town_staff)
    # Another community's staff: the round and the point are not theirs.
    assert _post_point(web(outside_staff), town_round).status_code == 404
    edit = reverse("testing_point_edit", args=[point.pk])
    assert web(outside_staff).get(edit).status_code == 404
    assert web(outside_staff).post(edit, {"remove": "1"}).status_code == 404
    # A grid worker of the place samples but does not set up points.
    assert _post_point(web(grid_worker), town_round).status_code == 403
    assert web(grid_worker).get(edit).status_code == 403
    assert SamplingPoint.objects.count() == 1


def test_the_point_page_changes_and_removes(town_round, community_staff):
    point = _point(town_round, community_staff)
    client = web(community_staff)
    url = reverse("testing_point_edit", args=[point.pk])
    assert client.get(url).status_code == 200

    bad = client.post(url, {"point-name": "x", "point-kind": "point", "point-place": ""})
    assert bad.status_code == 400 and "Choose a place." in text(bad)
    saved = client.post(
        url,
        {
            "point-name": "北门采样点",
            "point-kind": "point",
            "point-place": f.region(ANKANG).pk,
            "point-opens": "06:30",
            "point-closes": "10:00",
        },
    )
    assert saved.status_code == 302
    point.refresh_from_db()
    assert (point.name, point.opens) == ("北门采样点", dt.time(6, 30))

    # Removing asks first: the link and a bare POST show the confirmation, delete nothing.
    asked = client.get(url + "?remove=1")
    assert asked.status_code == 200 and "Delete the sampling point 北门采样点?" in text(asked)
    assert 'name="confirm" value="1"' in text(asked)
    assert client.post(url, {"remove": "1"}).status_code == 200
    assert SamplingPoint.objects.exists()
    assert client.post(url, {"remove": "1", "confirm": "1"}).status_code == 302
    assert not SamplingPoint.objects.exists()
    steps = list(
        AuditEvent.objects.filter(action="sampling_point")
        .order_by("id")
        .values_list("detail__step", flat=True)
    )
    assert steps == ["create", "change", "remove"]


def test_the_point_page_refuses_removing_a_point_with_tubes(town_round, community_staff):
    point = _point(town_round, community_staff)
    testing.tube_record(
        round=town_round,
        code="T-1",
        residents=[person("李强").pk],
        actor=community_staff,
        point=point,
    )
    response = web(community_staff).post(
        reverse("testing_point_edit", args=[point.pk]), {"remove": "1", "confirm": "1"}
    )
    assert response.status_code == 409 and "Tubes were recorded" in text(response)
    assert SamplingPoint.objects.filter(pk=point.pk).exists()


def test_the_round_page_has_a_query_bound(
    town_round, community_staff, django_assert_max_num_queries
):
    for n in range(5):
        _point(town_round, community_staff, name=f"采样点{n}")
    client = web(community_staff)
    client.get(reverse("testing_round", args=[town_round.pk]))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("testing_round", args=[town_round.pk]))
    assert response.status_code == 200 and text(response).count("采样点") >= 5


# --- sampling points: the API ----------------------------------------------------------------


def test_the_api_adds_lists_changes_and_removes_a_point(town_round, community_staff):
    client = api(community_staff)
    url = reverse("api:testing-round-points", args=[town_round.pk])

    created = client.post(
        url,
        {"name": "南门采样点", "region": ANKANG, "opens": "07:00", "closes": "11:00"},
        format="json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "南门采样点" and body["kind"] == "point" and body["opens"] == "07:00:00"
    assert client.get(url).json()["count"] == 1
    detail = reverse("api:testing-point", args=[body["id"]])
    changed = client.put(
        detail, {"name": "北门采样点", "region": ANKANG, "kind": "door"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["kind"] == "door"
    assert client.delete(detail).status_code == 204
    assert not SamplingPoint.objects.exists()
    assert AuditEvent.objects.filter(action="sampling_point").count() == 3


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"name": "x", "region": ANKANG, "opens": "11:00", "closes": "07:00"}, 400, "opens before"),
        ({"name": "x", "region": ANKANG, "opens": "07:00"}, 400, "or neither"),
        ({"name": "", "region": ANKANG}, 400, "may not be blank"),
        # A place outside the jurisdiction reads like one that does not exist.
        ({"name": "x", "region": CHUANGYE}, 404, "No region at path"),
        ({"name": "x", "region": LIJINGYUAN}, 404, "No region at path"),
    ],
)
def test_the_api_refuses_bad_points(town_round, community_staff, data, status, message):
    response = api(community_staff).post(
        reverse("api:testing-round-points", args=[town_round.pk]), data, format="json"
    )
    assert response.status_code == status
    assert message in text(response)
    assert not SamplingPoint.objects.exists()


def test_the_point_api_refuses_outsiders(town_round, town_staff, outside_staff, grid_worker):
    point = _point(town_round, town_staff)
    url = reverse("api:testing-round-points", args=[town_round.pk])
    detail = reverse("api:testing-point", args=[point.pk])
    data = {"name": "x", "region": ANKANG}
    assert api(outside_staff).get(url).status_code == 404
    assert api(outside_staff).post(url, data, format="json").status_code == 404
    assert api(outside_staff).get(detail).status_code == 404
    assert api(outside_staff).put(detail, data, format="json").status_code == 404
    assert api(outside_staff).delete(detail).status_code == 404
    assert api(grid_worker).post(url, data, format="json").status_code == 403
    assert api(grid_worker).delete(detail).status_code == 403
    # The grid worker reads the points of their place.
    assert api(grid_worker).get(url).json()["count"] == 1
    assert SamplingPoint.objects.get().name == "安康小区南门采样点"


# --- care services: the services ----------------------------------------------------------


def _service(user, resident=None, **kw):
    args = {
        "resident": resident or person("王秀英"),
        "kind": "elderly_visit",
        "weekdays": "1,2,3,4,5,6,7",
        "time": "09:00",
        "start": MONDAY,
    }
    return care.service_create(**{**args, **kw, "actor": user})


def test_ending_a_service_is_audited_and_stops_it(community_staff):
    service = _service(community_staff)

    care.service_end(
        service=service, end=MONDAY + dt.timedelta(days=2), reason="搬走", actor=community_staff
    )

    service.refresh_from_db()
    assert service.end == dt.date(2026, 4, 8)
    assert care.occurrence(service, dt.date(2026, 4, 9)) is None
    event = AuditEvent.objects.get(action="care_service_end")
    assert event.detail == {
        "resident": service.resident_id,
        "from": None,
        "end": "2026-04-08",
        "reason": "搬走",
    }
    # Ending it later again would revive days: a conflict, nothing changed.
    with override("en"), pytest.raises(Conflict, match="already ends on 2026-04-08\\."):
        care.service_end(service=service, end=dt.date(2026, 4, 20), actor=community_staff)
    # Ending it earlier still is allowed.
    care.service_end(service=service, end=MONDAY, actor=community_staff)
    service.refresh_from_db()
    assert service.end == MONDAY


def test_a_service_cannot_end_before_its_start_or_a_done_trip(community_staff):
    service = _service(community_staff)
    with override("en"), pytest.raises(DomainError, match="before the start"):
        care.service_end(service=service, end=MONDAY - dt.timedelta(days=1), actor=community_staff)
    with time_machine.travel(dt.datetime(2026, 4, 8, 10, tzinfo=TZ), tick=False):
        care.care_record(
            service=service,
            due=dt.datetime(2026, 4, 8, 9, tzinfo=TZ),
            actor=community_staff,
        )
    with override("en"), pytest.raises(DomainError, match="done on 2026-04-08"):
        care.service_end(service=service, end=dt.date(2026, 4, 7), actor=community_staff)
    service.refresh_from_db()
    assert service.end is None
    assert not AuditEvent.objects.filter(action="care_service_end").exists()


def test_a_service_outside_is_not_ended(lu_an, community_staff, outside_staff, volunteer):
    service = _service(community_staff)
    with pytest.raises(NotFound):
        care.service_end(service=service, end=MONDAY, actor=outside_staff)
    with pytest.raises(PermissionDenied):
        care.service_end(service=service, end=MONDAY, actor=volunteer)
    service.refresh_from_db()
    assert service.end is None


# --- care services: the pages ----------------------------------------------------------------


def test_the_schedule_page_offers_the_search_and_the_services(community_staff, grid_worker):
    service = _service(community_staff)
    url = reverse("care_schedule") + f"?region={f.region(ANKANG).pk}&day={MONDAY.isoformat()}"

    page = text(web(community_staff).get(url))

    assert reverse("care_service_new") in page
    assert reverse("care_service_end", args=[service.pk]) in page
    assert "Services set up here" in page


@pytest.mark.parametrize("query", ["王秀英", "5678"])
def test_the_resident_is_found_by_name_or_phone_digits(community_staff, query):
    response = web(community_staff).post(reverse("care_service_new"), {"q": query})

    assert response.status_code == 200
    assert [r.name for r in response.context["results"]] == ["王秀英"]
    assert f"?resident={person('王秀英').pk}" in text(response)
    # The search is a look for someone: it is on the trail, digits masked past four.
    assert AuditEvent.objects.filter(action="search", detail__channel="care").exists()


def test_the_search_finds_nobody_outside(outside_staff):
    response = web(outside_staff).post(reverse("care_service_new"), {"q": "王秀英"})
    assert response.context["results"] == []
    assert f"?resident={person('王秀英').pk}" not in text(response)


def _setup_data(**kw):
    data = {
        "kind": "dialysis",
        "weekdays": ["1", "3", "5"],
        "time": "07:30",
        "keeper": "grid_worker",
        "destination": "六安市人民医院",
        "vehicle": "皖N·D0101",
        "escort": "",
        "start": "2026-04-06",
        "end": "",
        "note": "",
    }
    data.update(kw)
    return data


def test_a_service_is_set_up_on_the_page(community_staff, grid_worker):
    client = web(community_staff)
    resident = person("王秀英")
    url = reverse("care_service_new")
    assert client.get(url + f"?resident={resident.pk}").status_code == 200

    response = client.post(url, {"resident": resident.pk, **_setup_data()})

    assert response.status_code == 302
    assert response["Location"].endswith(f"?region={resident.compound_id}")
    service = CareService.objects.get()
    assert (service.weekdays, service.time, service.keeper) == (
        "1,3,5",
        dt.time(7, 30),
        grid_worker,
    )
    event = AuditEvent.objects.get(action="care_service")
    assert event.object_id == str(service.pk) and event.detail["keeper"] == "grid_worker"


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"weekdays": []}, 400, "Choose at least one weekday."),
        ({"weekdays": ["8"]}, 400, "Select a valid choice."),
        ({"time": "7h"}, 400, "Give the time as HH:MM, e.g. 07:30."),
        ({"end": "2026-04-01"}, 400, "The end cannot be before the start."),
        ({"start": "x"}, 400, "Write a date as YYYY-MM-DD."),
        ({"kind": "taxi"}, 400, "Select a valid choice."),
        # Only the accounts offered may be chosen: nobody, or one whose place does not
        # cover the resident, is refused by the form (the service checks it again).
        ({"keeper": "nobody"}, 400, "Select a valid choice."),
        ({"keeper": "outsider"}, 400, "Select a valid choice."),
    ],
)
def test_bad_input_on_the_setup_page_is_said_in_english(
    community_staff, grid_worker, outsider, data, status, message
):
    response = web(community_staff).post(
        reverse("care_service_new"), {"resident": person("王秀英").pk, **_setup_data(**data)}
    )
    assert response.status_code == status
    assert message in text(response)
    assert not CareService.objects.exists()
    assert not AuditEvent.objects.filter(action="care_service").exists()


def test_a_resident_outside_named_in_the_form_is_refused(community_staff, outside_staff):
    url = reverse("care_service_new")
    # 赵建国 lives in 创业小区 (城南社区), outside 陡步河社区; 孙丽 in another district.
    for name in ("赵建国", "孙丽"):
        resident = person(name)
        assert web(community_staff).get(url + f"?resident={resident.pk}").status_code == 404
        posted = web(community_staff).post(url, {"resident": resident.pk, **_setup_data()})
        assert posted.status_code == 404
    assert (
        web(outside_staff).post(url, {"resident": person("王秀英").pk, **_setup_data()}).status_code
        == 404
    )
    assert not CareService.objects.exists()


def test_the_setup_pages_refuse_outsiders_and_roles_without_the_right(
    community_staff, outsider, volunteer
):
    service = _service(community_staff)
    new = reverse("care_service_new")
    end = reverse("care_service_end", args=[service.pk])
    assert web(volunteer).get(new).status_code == 403
    assert web(volunteer).post(new, {"q": "王秀英"}).status_code == 403
    # The outsider is a grid worker: the role sets up no services; another place's staff
    # may, but not for 王秀英 (test_a_resident_outside_named_in_the_form_is_refused).
    assert web(outsider).get(new + f"?resident={service.resident_id}").status_code == 403
    assert web(outsider).post(end, {"end": "2026-04-10"}).status_code == 404
    assert web(volunteer).post(end, {"end": "2026-04-10"}).status_code == 403
    service.refresh_from_db()
    assert service.end is None


def test_a_service_is_ended_on_the_schedule_page(community_staff):
    service = _service(community_staff)
    client = web(community_staff)
    url = reverse("care_service_end", args=[service.pk])

    response = client.post(url, {"end": "2026-04-10", "reason": "搬走"})

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.end == dt.date(2026, 4, 10)
    assert AuditEvent.objects.get(action="care_service_end").detail["reason"] == "搬走"
    again = client.post(url, {"end": "2026-04-12"})
    # The real end is quoted, not the day asked for.
    assert again.status_code == 409 and "already ends on 2026-04-10." in text(again)
    assert "2026-04-12" not in text(again)
    early = client.post(url, {"end": "2026-04-01"})
    assert early.status_code == 400 and "The end cannot be before the start." in text(early)
    bad = client.post(url, {"end": "soon"})
    assert bad.status_code == 400 and "Write a date as YYYY-MM-DD." in text(bad)
    service.refresh_from_db()
    assert service.end == dt.date(2026, 4, 10)


def test_the_schedule_page_has_a_query_bound(community_staff, django_assert_max_num_queries):
    for name in ("王秀英", "李强", "李小红"):
        _service(community_staff, resident=person(name))
    client = web(community_staff)
    url = reverse("care_schedule") + f"?region={f.region(ANKANG).pk}&day={MONDAY.isoformat()}"
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert len(response.context["running"]) == 3


# --- care services: the API ----------------------------------------------------------------


def _api_data(**kw):
    data = {
        "resident": person("王秀英").pk,
        "kind": "dialysis",
        "weekdays": [1, 3, 5],
        "time": "07:30",
        "keeper": "grid_worker",
        "start": "2026-04-06",
    }
    data.update(kw)
    return data


def test_the_api_sets_up_and_ends_a_service(community_staff, grid_worker):
    client = api(community_staff)

    created = client.post(reverse("api:care-service-list"), _api_data(), format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["weekdays"] == "1,3,5" and body["keeper"] == "grid_worker" and body["end"] is None
    assert AuditEvent.objects.filter(action="care_service", object_id=str(body["id"])).exists()
    end = reverse("api:care-service-end", args=[body["id"]])
    ended = client.post(end, {"end": "2026-04-10", "reason": "搬走"}, format="json")
    assert ended.status_code == 200 and ended.json()["end"] == "2026-04-10"
    again = client.post(end, {"end": "2026-04-11"}, format="json")
    assert again.status_code == 409 and "already ends" in text(again)
    assert AuditEvent.objects.filter(action="care_service_end").count() == 1


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"weekdays": []}, 400, "This list may not be empty."),
        ({"weekdays": [0]}, 400, "greater than or equal to 1"),
        ({"time": "7h"}, 400, "Time has wrong format"),
        ({"end": "2026-04-01"}, 400, "The end cannot be before the start."),
        ({"keeper": "nobody"}, 400, "Choose an active account"),
        ({"keeper": "outsider"}, 403, "cannot keep this case"),
    ],
)
def test_the_api_refuses_bad_services(
    community_staff, grid_worker, outsider, data, status, message
):
    response = api(community_staff).post(
        reverse("api:care-service-list"), _api_data(**data), format="json"
    )
    assert response.status_code == status, response.content
    assert message in text(response)
    assert not CareService.objects.exists()


def test_the_care_api_refuses_outsiders(community_staff, outside_staff, volunteer):
    # A resident outside named in the body reads as one that does not exist.
    for name in ("赵建国", "孙丽"):
        response = api(community_staff).post(
            reverse("api:care-service-list"), _api_data(resident=person(name).pk), format="json"
        )
        assert response.status_code == 404
    assert (
        api(volunteer)
        .post(reverse("api:care-service-list"), _api_data(), format="json")
        .status_code
        == 403
    )
    service = _service(community_staff)
    end = reverse("api:care-service-end", args=[service.pk])
    assert api(outside_staff).post(end, {}, format="json").status_code == 404
    assert api(volunteer).post(end, {}, format="json").status_code == 403
    service.refresh_from_db()
    assert service.end is None
    assert CareService.objects.count() == 1


def test_a_closed_round_says_so_on_the_page(town_round, community_staff):
    TestingRound.objects.filter(pk=town_round.pk).update(
        closed_at=dt.datetime(2022, 4, 13, tzinfo=TZ)
    )
    client = web(community_staff)
    assert client.get(reverse("testing_round", args=[town_round.pk])).context["point_form"] is None

    response = _post_point(client, town_round)

    assert response.status_code == 400 and "This round is closed." in text(response)
    assert not SamplingPoint.objects.exists()


def test_an_ended_service_shows_its_end_not_the_end_form(community_staff):
    service = _service(community_staff)
    care.service_end(service=service, end=dt.date(2026, 4, 8), actor=community_staff)
    end_url = reverse("care_service_end", args=[service.pk])
    base = reverse("care_schedule") + f"?region={f.region(ANKANG).pk}&day="

    before = text(web(community_staff).get(base + "2026-04-07"))
    on_the_day = text(web(community_staff).get(base + "2026-04-08"))

    assert end_url in before  # still running that day: it may end earlier
    assert end_url not in on_the_day
    assert "ended on 2026-04-08" in on_the_day


def test_the_keeper_is_chosen_by_name_among_those_who_may_keep(
    community_staff, grid_worker, outsider, volunteer
):
    """Offered: active accounts whose role records health visits and whose place holds the
    resident, as "name (username)", fewest running services first."""
    ankang = f.region(ANKANG)
    busy = user_create(username="busy", role="cadre", region=ankang, full_name="陈志强")
    gone = user_create(username="gone", role="cadre", region=ankang)
    gone.is_active = False
    gone.save()
    _service(community_staff, keeper=busy)
    resident = person("王秀英")
    with override("en"):
        offered = [(u.username, care.keeper_label(u)) for u in care.keeper_candidates(resident)]
    names = [name for name, _label in offered]
    assert "outsider" not in names and "volunteer" not in names and "gone" not in names
    assert {"grid_worker", "busy", "community_staff"} <= set(names)
    assert names[-1] == "busy"  # the one already keeping a service comes last
    assert ("busy", "陈志强 (busy)") in offered

    page = web(community_staff).get(reverse("care_service_new") + f"?resident={resident.pk}")
    field = page.context["form"]["keeper"]
    assert tuple(field.field.choices[0]) == ("", "—")
    assert 'value="busy"' in text(page) and "陈志强 (busy)" in text(page)


def test_the_setup_form_reads_clearly_and_starts_today(community_staff):
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=TZ), tick=False):
        client = web(community_staff)
        url = reverse("care_service_new") + f"?resident={person('王秀英').pk}"
        page = text(client.get(url))
        client.cookies["django_language"] = "zh-hans"
        chinese = text(client.get(url))
    # ISO in both languages: a date input shows nothing for zh-hans' "2026/11/30".
    assert 'name="start" value="2026-11-30"' in page
    assert 'name="start" value="2026-11-30"' in chinese
    assert ">Start date<" in page and ">End date<" in page


@pytest.mark.parametrize("query", ["1", "12", "123"])
def test_a_too_short_digit_search_says_what_is_needed(community_staff, query):
    response = web(community_staff).post(reverse("care_service_new"), {"q": query})
    assert response.status_code == 400
    assert "Type the last 4 digits of a phone, or a name." in text(response)
    assert response.context["results"] is None


def test_after_setting_up_the_user_returns_to_the_region_they_came_from(
    community_staff, grid_worker
):
    community = f.region(ANKANG).parent
    client = web(community_staff)
    schedule = text(client.get(reverse("care_schedule") + f"?region={community.pk}"))
    assert f'name="region" value="{community.pk}"' in schedule
    found = client.post(reverse("care_service_new"), {"q": "王秀英", "region": community.pk})
    resident = person("王秀英")
    assert f"?resident={resident.pk}&amp;region={community.pk}" in text(found)
    form = client.get(
        reverse("care_service_new") + f"?resident={resident.pk}&region={community.pk}"
    )
    assert f'name="region" value="{community.pk}"' in text(form)

    response = client.post(
        reverse("care_service_new"),
        {"resident": resident.pk, "region": community.pk, **_setup_data()},
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"?region={community.pk}")


def test_the_point_page_says_delete_in_heading_and_button(town_round, community_staff):
    point = _point(town_round, community_staff)
    page = text(web(community_staff).get(reverse("testing_point_edit", args=[point.pk])))
    assert "Delete the sampling point" in page and ">Delete<" in page
    assert ">Remove<" not in page


def test_a_refused_point_form_is_shown_where_the_user_looks(town_round, community_staff):
    """The refused form comes before the building list, and the form posts to #add-point."""
    client = web(community_staff)
    page = text(client.get(reverse("testing_round", args=[town_round.pk])))
    add = reverse("testing_point_add", args=[town_round.pk])
    assert f'action="{add}#add-point"' in page and 'id="add-point"' in page
    assert page.index('id="add-point"') > page.index('id="coverage"')
    # The place's empty choice reads "—", as elsewhere.
    assert '<option value="" selected>—</option>' in page and "---------" not in page

    refused = text(_post_point(client, town_round, name=""))

    assert refused.index('id="add-point"') < refused.index('id="coverage"')
    assert refused.index("This field is required.") < refused.index('id="coverage"')
    assert refused.count('id="add-point"') == 1


# --- sampling points: the sampler names the point ----------------------------------------------


def test_the_sampler_names_the_point_once_for_the_round(town_round, community_staff, grid_worker):
    """The phone page offers the round's points; the choice rides on the tube and is kept
    in the session, so the next tube names it without choosing again. A point with tubes
    then stays."""
    point = _point(town_round, community_staff)
    client = web(grid_worker)
    url = reverse("testing_sample", args=[town_round.pk])
    building = Region.objects.get(path=f"{ANKANG}/2栋")
    page = text(client.get(url, {"building": building.pk}))
    assert f'<option value="{point.pk}">安康小区南门采样点</option>' in page

    first = client.post(
        url,
        {"building": building.pk, "code": "T1", "resident": [person("李强").pk], "point": point.pk},
    )
    assert first.status_code == 302
    # The next tube, without a point in the form: the remembered one.
    client.post(url, {"building": building.pk, "code": "T2", "resident": [person("李小红").pk]})
    tubes = dict(Tube.objects.filter(round=town_round).values_list("code", "point_id"))
    assert tubes == {"T1": point.pk, "T2": point.pk}
    again = text(client.get(url, {"building": building.pk}))
    assert f'<option value="{point.pk}" selected>' in again

    with pytest.raises(Conflict):
        testing.point_remove(point=point, actor=community_staff)
    # An empty choice forgets it.
    client.post(url, {"building": building.pk, "point": "", "code": "T3", "resident": []})
    assert f'<option value="{point.pk}" selected>' not in text(
        client.get(url, {"building": building.pk})
    )


def test_the_sampler_cannot_name_a_point_out_of_sight(town_round, town_staff, grid_worker):
    # A point of 创业小区 (the town's round, another compound than the worker's).
    elsewhere = _point(town_round, town_staff, region=f.region(CHUANGYE), name="创业小区采样点")
    client = web(grid_worker)
    url = reverse("testing_sample", args=[town_round.pk])
    building = Region.objects.get(path=f"{ANKANG}/2栋")
    assert "创业小区采样点" not in text(client.get(url, {"building": building.pk}))
    posted = client.post(
        url,
        {
            "building": building.pk,
            "code": "T1",
            "resident": [person("李强").pk],
            "point": elsewhere.pk,
        },
    )
    assert posted.status_code == 404
    assert not Tube.objects.exists()
    # The service refuses it too.
    with pytest.raises(NotFound):
        testing.tube_record(
            round=town_round,
            code="T1",
            residents=[person("李强").pk],
            actor=grid_worker,
            point=elsewhere,
        )
