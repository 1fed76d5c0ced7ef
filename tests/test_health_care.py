"""Care for people with special needs: services on ISO weekdays, occurrences done or
missed (the sweep marks those past the grace period and tells the keeper and the grid
chief), the day's schedule, medical staff per compound, and who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from frontline.accounts.services import token_issue, user_create
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.health import care
from frontline.health.models import CareRecord, CareService, MedicalAssignment
from frontline.people.models import Resident
from frontline.requests.models import Notification
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN, PASSWORD


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are asserted in English (the UI default is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


TZ = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.date(2026, 4, 6)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def weekday(n: int) -> dt.date:
    """The day of the test week with ISO weekday n (1 = Monday)."""
    return MONDAY + dt.timedelta(days=n - 1)


@pytest.fixture
def people(lu_an, community_staff, grid_worker, volunteer, outsider, town_staff):
    ankang = f.region(ANKANG)
    cadre = user_create(username="cadre", role="cadre", region=ankang, password=PASSWORD)
    other_cadre = user_create(
        username="other_cadre", role="cadre", region=ankang, password=PASSWORD
    )
    chief = user_create(username="chief", role="grid_chief", region=ankang, password=PASSWORD)
    grid = grid_create(region=ankang, name="安康小区网格点", coverage=[ankang])
    grid_add_member(grid=grid, role="chief", name="陶春华", user=chief)
    outside_staff = user_create(
        username="outside_staff",
        role="community_staff",
        region=f.region(LIJINGYUAN).parent,
        password=PASSWORD,
    )
    return {
        "staff": community_staff,
        "town": town_staff,
        "worker": grid_worker,
        "volunteer": volunteer,
        "outsider": outsider,
        "cadre": cadre,
        "other_cadre": other_cadre,
        "chief": chief,
        "outside_staff": outside_staff,
        "resident": Resident.objects.get(name="王秀英"),
    }


def _service(people, **kw):
    args = {
        "resident": people["resident"],
        "kind": "dialysis",
        "weekdays": "1,3,5",
        "time": "07:30",
        "destination": "六安市人民医院",
        "vehicle": "皖N·D0101",
        "escort": "胡医生",
        "keeper": people["cadre"],
        "start": MONDAY,
        "end": None,
        "actor": people["staff"],
    }
    args.update(kw)
    return care.service_create(**args)


@pytest.fixture
def service(people):
    with time_machine.travel(local(MONDAY - dt.timedelta(days=1), 18), tick=False):
        return _service(people)


# --- schedule ------------------------------------------------------------------------------


def test_occurrences_fall_on_the_iso_weekdays(service):
    week = care.occurrences(service, weekday(1), weekday(7))
    assert week == [local(weekday(1), 7, 30), local(weekday(3), 7, 30), local(weekday(5), 7, 30)]
    # Nothing before the start, nothing after the end.
    assert care.occurrences(service, MONDAY - dt.timedelta(days=7), MONDAY - dt.timedelta(1)) == []
    service.end = weekday(3)
    assert care.occurrences(service, weekday(1), weekday(7)) == week[:2]


@pytest.mark.parametrize(
    ("given", "stored"),
    [("5,1,3", "1,3,5"), ([7, 7, 1], "1,7"), ("1，2", "1,2"), ("1,2,3,4,5,6,7", "1,2,3,4,5,6,7")],
)
def test_weekdays_are_normalised(people, given, stored):
    assert _service(people, weekdays=given).weekdays == stored


@pytest.mark.parametrize("given", ["", "0", "8", "1,x", "mon"])
def test_bad_weekdays_are_refused(people, given):
    with pytest.raises(DomainError):
        _service(people, weekdays=given)
    assert not CareService.objects.exists()


def test_bad_time_and_end_are_refused(people):
    with pytest.raises(DomainError, match="HH:MM"):
        _service(people, time="7.30am")
    with pytest.raises(DomainError):
        _service(people, end=MONDAY - dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("actor", "keeper", "error"),
    [
        ("worker", "cadre", PermissionDenied),
        ("outside_staff", "cadre", NotFound),
        ("staff", "volunteer", PermissionDenied),
        ("staff", "outsider", PermissionDenied),
    ],
)
def test_who_may_set_up_a_service(people, actor, keeper, error):
    with pytest.raises(error):
        _service(people, actor=people[actor], keeper=people[keeper])


def test_setting_up_is_audited(people, service):
    event = AuditEvent.objects.get(action="care_service")
    assert event.object_id == str(service.pk) and event.detail["weekdays"] == "1,3,5"


# --- records -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("cadre", None),  # the keeper
        ("staff", None),  # manages care here
        ("other_cadre", PermissionDenied),
        ("volunteer", PermissionDenied),
        ("outsider", NotFound),
    ],
)
def test_who_may_record(people, service, who, error):
    with time_machine.travel(local(MONDAY, 8), tick=False):
        if error is None:
            record = care.care_record(
                service=service, due=local(MONDAY, 7, 30), note="已送达", actor=people[who]
            )
            assert (record.status, record.by) == ("done", people[who])
        else:
            with pytest.raises(error):
                care.care_record(service=service, due=local(MONDAY, 7, 30), actor=people[who])


def test_an_occurrence_is_recorded_once_and_only_when_due(people, service):
    with time_machine.travel(local(MONDAY, 8), tick=False):
        care.care_record(service=service, due=local(MONDAY, 7, 30), actor=people["cadre"])
        with pytest.raises(Conflict):
            care.care_record(service=service, due=local(MONDAY, 7, 30), actor=people["cadre"])
        with pytest.raises(DomainError, match="not due"):  # a Tuesday
            care.care_record(service=service, due=local(weekday(2), 7, 30), actor=people["cadre"])
        with pytest.raises(DomainError, match="not due"):  # the wrong time
            care.care_record(service=service, due=local(MONDAY, 8, 30), actor=people["cadre"])
        with pytest.raises(DomainError):  # a day to come
            care.care_record(service=service, due=local(weekday(3), 7, 30), actor=people["cadre"])
    assert CareRecord.objects.count() == 1


# --- the sweep -----------------------------------------------------------------------------


def test_sweep_marks_missed_after_the_grace_and_tells_keeper_and_chief(people, service, settings):
    settings.FRONTLINE_CARE_GRACE_MINUTES = 120
    with time_machine.travel(local(MONDAY, 9, 29), tick=False):
        assert care.care_sweep()["care_missed"] == 0
    with time_machine.travel(local(MONDAY, 9, 31), tick=False):
        assert care.care_sweep() == {"care_missed": 1, "care_notified": 2}
        assert care.care_sweep()["care_missed"] == 0
    record = CareRecord.objects.get()
    assert (record.status, record.due) == ("missed", local(MONDAY, 7, 30))
    assert Notification.objects.filter(recipient=people["cadre"]).count() == 1
    assert Notification.objects.filter(recipient=people["chief"]).count() == 1
    # Tuesday is not a dialysis day: nothing more to flag.
    with time_machine.travel(local(weekday(2), 23), tick=False):
        assert care.care_sweep()["care_missed"] == 0
    # The trip happened late after all: recorded done, the missed mark turns done.
    with time_machine.travel(local(weekday(2), 9), tick=False):
        care.care_record(service=service, due=local(MONDAY, 7, 30), actor=people["cadre"])
    assert CareRecord.objects.get().status == "done"


def test_occurrences_before_the_service_existed_are_not_missed(people):
    with time_machine.travel(local(MONDAY, 10), tick=False):
        _service(people)
    with time_machine.travel(local(MONDAY, 23), tick=False):
        assert care.care_sweep()["care_missed"] == 0
    with time_machine.travel(local(weekday(3), 10), tick=False):
        assert care.care_sweep()["care_missed"] == 1


def test_done_occurrences_are_not_missed(people, service):
    with time_machine.travel(local(MONDAY, 7, 40), tick=False):
        care.care_record(service=service, due=local(MONDAY, 7, 30), actor=people["cadre"])
    with time_machine.travel(local(MONDAY, 23), tick=False):
        assert care.care_sweep()["care_missed"] == 0


def test_the_worker_task_marks_missed_care(people, service):
    from frontline.requests.tasks import sweep

    with time_machine.travel(local(MONDAY, 12), tick=False):
        assert sweep.call()["care_missed"] == 1


# --- pages and API -------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _more(people, n):
    hh = f.household(f"{ANKANG}/4栋", room="101")
    for i in range(n):
        r = f.resident(hh, f"老人{i}", id_number=f.id_number(birth=dt.date(1940, 1, i + 1)))
        _service(
            people,
            resident=r,
            kind="elderly_visit",
            weekdays="1,2,3,4,5,6,7",
            time="09:00",
            keeper=people["worker"],
        )


def test_schedule_page_done_due_missed_and_one_tap(people, service, django_assert_max_num_queries):
    with time_machine.travel(local(MONDAY - dt.timedelta(days=1), 18), tick=False):
        _more(people, 5)
    client = _client(people["cadre"])
    url = reverse("care_schedule") + f"?region={f.region(ANKANG).pk}&day={MONDAY.isoformat()}"
    with time_machine.travel(local(MONDAY, 10), tick=False):
        with django_assert_max_num_queries(12):
            page = client.get(url)
        assert page.status_code == 200
        rows = page.context["rows"]
        assert [r["state"] for r in rows] == ["missed"] + ["due"] * 5  # 07:30 past grace
        tapped = client.post(
            reverse("care_record", args=[service.pk]),
            {"due": local(MONDAY, 7, 30).isoformat(), "next": url},
        )
        assert tapped.status_code == 302
        assert client.get(url).context["rows"][0]["state"] == "done"
        # The cadre keeps only the dialysis service: no tap on the others.
        assert [r["may_record"] for r in client.get(url).context["rows"]] == [False] * 6
    assert _client(people["outsider"]).get(url).status_code == 404


def test_schedule_api(people, service):
    _token, key = token_issue(user=people["town"])
    client = Client()
    url = reverse("api:care-service-list")
    with time_machine.travel(local(MONDAY, 8), tick=False):
        body = client.get(
            url, {"region": ANKANG, "day": MONDAY.isoformat()}, HTTP_AUTHORIZATION=f"Bearer {key}"
        ).json()
        assert body["count"] == 1
        assert body["results"][0]["state"] == "due"
        assert body["results"][0]["vehicle"] == "皖N·D0101"
        tuesday = client.get(
            url,
            {"region": ANKANG, "day": weekday(2).isoformat()},
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ).json()
        assert tuesday["count"] == 0
        records = reverse("api:care-service-records", args=[service.pk])
        done = client.post(
            records,
            {"due": "2026-04-06T07:30:00+08:00", "note": "已接送"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert done.status_code == 201 and done.json()["status"] == "done"
        again = client.post(
            records,
            {"due": "2026-04-06T07:30:00+08:00"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert again.status_code == 409
    _token, outsider_key = token_issue(user=people["outsider"])
    assert (
        client.get(url, {"region": ANKANG}, HTTP_AUTHORIZATION=f"Bearer {outsider_key}").status_code
        == 404
    )


# --- medical staff -------------------------------------------------------------------------


def test_medical_staff_assign_list_end(people):
    compound = f.region(CHUANGYE)
    with time_machine.travel(local(MONDAY, 9), tick=False):
        a = care.assignment_create(
            region=compound,
            name="程丽",
            organisation="城南镇卫生院",
            start=MONDAY,
            actor=people["town"],
        )
        assert list(care.assignments_for(people["town"], on=MONDAY)) == [a]
        with pytest.raises(PermissionDenied):
            care.assignment_create(region=compound, name="x", start=MONDAY, actor=people["worker"])
        with pytest.raises(NotFound):
            care.assignment_create(
                region=compound, name="x", start=MONDAY, actor=people["outside_staff"]
            )
        care.assignment_end(assignment=a, end=weekday(3), actor=people["town"])
        with pytest.raises(Conflict):
            care.assignment_end(assignment=a, end=weekday(3), actor=people["town"])
    assert list(care.assignments_for(people["town"], on=weekday(4))) == []
    assert MedicalAssignment.objects.count() == 1


def test_medical_staff_page(people):
    client = _client(people["town"])
    town = f.region("裕安区/城南镇")
    url = reverse("care_medical") + f"?region={town.pk}"
    response = client.post(
        url, {"place": f.region(CHUANGYE).pk, "name": "程丽", "organisation": "城南镇卫生院"}
    )
    assert response.status_code == 302
    assert "程丽" in client.get(url).content.decode()
    assert (
        _client(people["worker"])
        .post(reverse("care_medical"), {"place": f.region(ANKANG).pk, "name": "x"})
        .status_code
        == 403
    )


# --- demo ----------------------------------------------------------------------------------


def test_demo_care_loads_once(people):
    hh = f.household(f"{CHUANGYE}/2栋", room="301")
    for i in range(5):
        f.resident(
            hh,
            f"透析{i}",
            id_number=f.id_number(birth=dt.date(1960, 2, i + 1)),
            care_groups=("透析",),
        )
    hh2 = f.household("六安经济技术开发区/城东街道/远大社区/玫瑰园小区/1栋", room="101")
    f.resident(hh2, "独居甲", birth=dt.date(1938, 1, 1), care_groups=("独居老人",))
    from frontline.territory.services import city

    admin = user_create(username="admin2", role="city_admin", region=city(), password=PASSWORD)
    keeper = user_create(
        username="gw_cy", role="grid_worker", region=f.region(CHUANGYE), password=PASSWORD
    )
    users = {"township_staff": people["town"], "city_admin": admin, "grid_worker_chuangye": keeper}

    def snapshot():
        return (
            CareService.objects.count(),
            CareRecord.objects.count(),
            MedicalAssignment.objects.count(),
        )

    care.load_demo(users, lambda m: None)
    first = snapshot()
    care.load_demo(users, lambda m: None)
    assert snapshot() == first
    dialysis = CareService.objects.filter(kind="dialysis")
    assert dialysis.count() == 5
    assert {s.weekdays for s in dialysis} == {"1,3,5"}
    # The first week (4–10 April 2026) has Mon/Wed/Fri = 3 trips each; 7 daily visits.
    assert CareRecord.objects.filter(service__kind="dialysis", status="done").count() == 15
    assert CareRecord.objects.filter(service__kind="elderly_visit").count() == 7


def test_figures_for_the_stats(people, service):
    from frontline.health.isolation import isolation_figures

    ankang = f.region(ANKANG)
    with time_machine.travel(local(MONDAY, 10), tick=False):
        assert care.care_figures(ankang) == {"care_due_today": 1, "care_missed_today": 1}
        assert care.care_figures(ankang, weekday(2)) == {
            "care_due_today": 0,
            "care_missed_today": 0,
        }
        assert care.care_figures(f.region(CHUANGYE))["care_due_today"] == 0
        assert isolation_figures(ankang) == {"home_isolation": 0, "visits_missed_today": 0}


def test_a_service_set_up_at_noon_owes_nothing_of_the_morning(people, settings):
    """Created Monday 12:00 with a 07:30 trip: that trip is not shown, counted or swept;
    Wednesday's is expected as usual."""
    settings.FRONTLINE_CARE_GRACE_MINUTES = 120
    with time_machine.travel(local(MONDAY, 12), tick=False):
        service = _service(people)
    assert service.created_at == local(MONDAY, 12)
    region = f.region(ANKANG)
    with time_machine.travel(local(MONDAY, 13), tick=False):
        rows = care.schedule([service], MONDAY, local(MONDAY, 13))
        assert rows == []
        assert care.care_figures(region, MONDAY) == {"care_due_today": 0, "care_missed_today": 0}
        page = _client(people["cadre"]).get(
            reverse("care_schedule") + f"?region={region.pk}&day={MONDAY.isoformat()}"
        )
        assert page.context["counts"]["missed"] == 0
        assert care.care_sweep()["care_missed"] == 0
    with time_machine.travel(local(weekday(3), 10), tick=False):
        rows = care.schedule([service], weekday(3), local(weekday(3), 10))
        assert [r["state"] for r in rows] == ["missed"]
        assert care.care_figures(region, weekday(3))["care_missed_today"] == 1


@pytest.mark.parametrize(
    "lang, weekdays, shown",
    [
        ("en", "1,3,5", "Mon, Wed, Fri"),
        ("en", "7", "Sun"),
        ("en", "1,2,3,4,5,6,7", "every day"),
    ],
)
def test_weekdays_are_named(lang, weekdays, shown):
    from django.utils import translation

    with translation.override(lang):
        assert care.weekday_names(weekdays) == shown


def test_the_schedule_page_names_the_weekdays(people, service):
    url = reverse("care_schedule") + f"?region={f.region(ANKANG).pk}&day={MONDAY.isoformat()}"
    client = _client(people["staff"])
    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()
    assert "Mon, Wed, Fri at 07:30" in page
    assert "1,3,5" not in page
