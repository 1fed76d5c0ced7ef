"""Home isolation (居家隔离观察): one open case per resident, twice-daily visits (one per
slot, bounded temperatures, needs raised as a request in one tap, fevers flagged), the
sweep that flags missed visits to the keeper and escalates them to the grid chief,
release, and who may see and do what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontline.accounts.services import token_issue, user_create
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.health import isolation
from frontline.health.models import HealthVisit, IsolationCase, MissedVisit
from frontline.people.models import Resident
from frontline.requests.models import Notification, Request
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN, PASSWORD


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are asserted in English (the UI default is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


TZ = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 4, 6)  # a Monday


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


@pytest.fixture
def people(lu_an, community_staff, grid_worker, volunteer, outsider):
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
        "worker": grid_worker,
        "volunteer": volunteer,
        "outsider": outsider,
        "cadre": cadre,
        "other_cadre": other_cadre,
        "chief": chief,
        "outside_staff": outside_staff,
        "resident": Resident.objects.get(name="李强"),
    }


def _open(people, **kw):
    args = {
        "resident": people["resident"],
        "category": "home_isolation",
        "reason": "自上海返回",
        "start": DAY,
        "planned_end": DAY + dt.timedelta(days=13),
        "keeper": people["cadre"],
        "actor": people["staff"],
    }
    args.update(kw)
    return isolation.case_open(**args)


@pytest.fixture
def case(people):
    with time_machine.travel(local(DAY, 7), tick=False):
        return _open(people)


def _visit(case, actor, slot="am", temperature="36.5", **kw):
    args = {
        "case": case,
        "slot": slot,
        "temperature": temperature,
        "symptoms": "",
        "needs": "",
        "visitor": "钟鸣",
        "actor": actor,
    }
    args.update(kw)
    return isolation.visit_record(**args)


# --- cases ---------------------------------------------------------------------------------


def test_one_open_case_per_resident_and_a_new_one_after_release(people, case):
    with pytest.raises(Conflict, match="already under observation"):
        _open(people)
    assert IsolationCase.objects.count() == 1
    with time_machine.travel(local(DAY + dt.timedelta(days=14), 10), tick=False):
        isolation.case_release(case=case, at=None, note="两次核酸阴性", actor=people["staff"])
        again = _open(
            people,
            start=DAY + dt.timedelta(days=14),
            planned_end=DAY + dt.timedelta(days=20),
        )
    assert again.pk != case.pk
    assert IsolationCase.objects.filter(status="open").count() == 1


def test_opening_writes_an_audit_row_and_locates_the_case(people, case):
    assert case.building_id == people["resident"].household.building_id
    event = AuditEvent.objects.get(action="isolation_open")
    assert event.object_id == str(case.pk)
    assert event.detail["keeper"] == "cadre"


@pytest.mark.parametrize(
    ("actor", "keeper", "error"),
    [
        ("worker", "cadre", PermissionDenied),  # a grid worker may not open cases
        ("outside_staff", "cadre", NotFound),  # staff, but not of this place
        ("staff", "volunteer", PermissionDenied),  # volunteers do not record health visits
        ("staff", "outsider", PermissionDenied),  # a keeper whose place does not hold him
    ],
)
def test_who_may_open_and_who_may_keep(people, actor, keeper, error):
    with pytest.raises(error):
        _open(people, actor=people[actor], keeper=people[keeper])
    assert not IsolationCase.objects.exists()


def test_planned_end_before_start_is_refused(people):
    with pytest.raises(DomainError, match="planned end"):
        _open(people, planned_end=DAY - dt.timedelta(days=1))


def test_reassign_and_release_are_conditional(people, case):
    isolation.case_reassign(case=case, keeper=people["worker"], actor=people["staff"])
    case.refresh_from_db()
    assert case.keeper == people["worker"]
    with time_machine.travel(local(DAY + dt.timedelta(days=2), 10), tick=False):
        released = isolation.case_release(
            case=case, at=None, note="转为健康监测", actor=people["staff"]
        )
        assert released.status == "released"
        with pytest.raises(Conflict):
            isolation.case_release(case=case, at=None, note="", actor=people["staff"])
        with pytest.raises(Conflict):
            isolation.case_reassign(case=case, keeper=people["cadre"], actor=people["staff"])
        with pytest.raises(Conflict):
            _visit(case, people["worker"])
    case.refresh_from_db()
    assert case.ended_by == people["staff"] and case.end_note == "转为健康监测"
    assert case.ended_at == local(DAY + dt.timedelta(days=2), 10)


def test_the_keeper_may_not_release(people, case):
    with pytest.raises(PermissionDenied):
        isolation.case_release(case=case, at=None, note="", actor=people["cadre"])


# --- visits --------------------------------------------------------------------------------


def test_one_visit_per_slot_per_day(people, case):
    with time_machine.travel(local(DAY, 8), tick=False):
        _visit(case, people["cadre"])
        with pytest.raises(Conflict, match="already recorded"):
            _visit(case, people["staff"], temperature="36.6")
        _visit(case, people["cadre"], slot="pm")
    with time_machine.travel(local(DAY + dt.timedelta(days=1), 8), tick=False):
        _visit(case, people["cadre"])
    assert HealthVisit.objects.count() == 3


@pytest.mark.parametrize("value", ["33.9", "43.1", "abc", "", "-36", "nan", "1e3"])
def test_temperature_out_of_bounds_is_refused(people, case, value):
    with time_machine.travel(local(DAY, 8), tick=False), pytest.raises(DomainError):
        _visit(case, people["cadre"], temperature=value)
    assert not HealthVisit.objects.exists()


@pytest.mark.parametrize("value", ["34.0", "43.0", "36,8", " 37 "])
def test_temperature_within_bounds_is_kept(people, case, value):
    with time_machine.travel(local(DAY, 8), tick=False):
        visit = _visit(case, people["cadre"], temperature=value)
    expected = Decimal(value.strip().replace(",", ".")).quantize(Decimal("0.1"))
    assert HealthVisit.objects.get(pk=visit.pk).temperature == expected


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("cadre", None),  # the keeper
        ("staff", None),  # manages isolation here
        ("other_cadre", PermissionDenied),  # a cadre of the place, not the keeper
        ("volunteer", PermissionDenied),
        ("outsider", NotFound),
    ],
)
def test_who_may_record_a_visit(people, case, who, error):
    with time_machine.travel(local(DAY, 8), tick=False):
        if error is None:
            assert _visit(case, people[who]).by == people[who]
        else:
            with pytest.raises(error):
                _visit(case, people[who])


def test_needs_raise_a_request_of_the_household_in_one_tap(people, case):
    with time_machine.travel(local(DAY, 8), tick=False):
        visit = _visit(
            case,
            people["cadre"],
            needs="降压药（硝苯地平）",
            raise_request=True,
            category="medicine",
        )
    req = Request.objects.get()
    assert visit.request == req
    assert req.household == people["resident"].household
    assert req.resident == people["resident"]
    assert (req.category, req.channel, req.status) == ("medicine", "grid_worker", "received")
    assert req.description == "降压药（硝苯地平）"
    assert req.created_by == people["cadre"]


def test_raising_a_request_without_needs_writes_nothing(people, case):
    with time_machine.travel(local(DAY, 8), tick=False), pytest.raises(DomainError):
        _visit(case, people["cadre"], raise_request=True)
    assert not Request.objects.exists() and not HealthVisit.objects.exists()


@pytest.mark.parametrize(
    ("temperature", "symptoms", "flagged"),
    [("37.3", "", True), ("37.2", "", False), ("36.5", "咳嗽", True), ("38.9", "发热", True)],
)
def test_a_fever_or_symptoms_flag_the_visit_to_the_chief(
    people, case, temperature, symptoms, flagged
):
    with time_machine.travel(local(DAY, 8), tick=False):
        visit = _visit(case, people["cadre"], temperature=temperature, symptoms=symptoms)
    assert visit.flagged is flagged
    told = Notification.objects.filter(recipient=people["chief"])
    assert told.count() == (1 if flagged else 0)


# --- the sweep -----------------------------------------------------------------------------


def test_sweep_flags_to_the_keeper_then_escalates_to_the_chief(people, case, settings):
    settings.FRONTLINE_VISIT_ESCALATE_HOURS = 2
    # Before noon the morning visit is still due.
    with time_machine.travel(local(DAY, 11, 59), tick=False):
        assert isolation.isolation_sweep()["missed"] == 0
    with time_machine.travel(local(DAY, 12, 1), tick=False):
        counts = isolation.isolation_sweep()
        assert counts == {"missed": 1, "escalated": 0, "notified": 1}
        assert isolation.isolation_sweep()["missed"] == 0  # once
    missed = MissedVisit.objects.get()
    assert (missed.day, missed.slot, missed.escalated_at) == (DAY, "am", None)
    assert Notification.objects.filter(recipient=people["cadre"]).count() == 1
    assert not Notification.objects.filter(recipient=people["chief"]).exists()
    with time_machine.travel(local(DAY, 13, 30), tick=False):
        assert isolation.isolation_sweep()["escalated"] == 0
    with time_machine.travel(local(DAY, 14, 2), tick=False):
        counts = isolation.isolation_sweep()
        assert counts["escalated"] == 1
        assert isolation.isolation_sweep()["escalated"] == 0
    missed.refresh_from_db()
    assert missed.escalated_at == local(DAY, 14, 2)
    note = Notification.objects.get(recipient=people["chief"])
    assert note.url == reverse("isolation_detail", args=[case.pk])


def test_a_late_visit_is_not_escalated(people, case):
    with time_machine.travel(local(DAY, 12, 1), tick=False):
        isolation.isolation_sweep()
    with time_machine.travel(local(DAY, 12, 30), tick=False):
        _visit(case, people["cadre"])
    with time_machine.travel(local(DAY, 15), tick=False):
        assert isolation.isolation_sweep()["escalated"] == 0
    assert not Notification.objects.filter(recipient=people["chief"]).exists()


def test_visits_in_time_leave_nothing_to_flag(people, case):
    with time_machine.travel(local(DAY, 9), tick=False):
        _visit(case, people["cadre"])
    with time_machine.travel(local(DAY, 16), tick=False):
        _visit(case, people["cadre"], slot="pm")
    with time_machine.travel(local(DAY, 23), tick=False):
        assert isolation.isolation_sweep()["missed"] == 0


def test_a_slot_past_before_the_case_opened_is_not_missed(people):
    with time_machine.travel(local(DAY, 15), tick=False):
        _open(people)
    with time_machine.travel(local(DAY, 20, 1), tick=False):
        assert isolation.isolation_sweep()["missed"] == 1
    assert MissedVisit.objects.get().slot == "pm"


def test_released_cases_are_not_swept(people, case):
    with time_machine.travel(local(DAY, 10), tick=False):
        isolation.case_release(case=case, at=None, note="", actor=people["staff"])
    with time_machine.travel(local(DAY, 21), tick=False):
        assert isolation.isolation_sweep()["missed"] == 0


def test_the_worker_task_runs_the_health_sweep(people, case):
    from frontline.requests.tasks import sweep

    with time_machine.travel(local(DAY, 12, 1), tick=False):
        counts = sweep.call()
    assert counts["missed"] == 1 and "opened" in counts


# --- pages ---------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_cases_page_shows_todays_slots_and_records_a_visit(people, case):
    client = _client(people["cadre"])
    with time_machine.travel(local(DAY, 8), tick=False):
        page = client.get(reverse("isolation_mine"))
        assert page.status_code == 200
        assert "李强" in page.content.decode()
        response = client.post(
            reverse("isolation_visit", args=[case.pk]),
            {
                "slot": "am",
                "temperature": "36.6",
                "needs": "买菜",
                "category": "groceries",
                "raise": "1",
                "next": "mine",
            },
        )
        assert response.status_code == 302
        again = client.post(
            reverse("isolation_visit", args=[case.pk]),
            {"slot": "am", "temperature": "36.6", "next": "mine"},
        )
        assert again.status_code == 409
        bad = client.post(
            reverse("isolation_visit", args=[case.pk]), {"slot": "pm", "temperature": "45"}
        )
        assert bad.status_code == 400
    assert HealthVisit.objects.get().request.category == "groceries"


def test_health_data_is_hidden_from_roles_that_may_not_see_it(people, case):
    with time_machine.travel(local(DAY, 8), tick=False):
        _visit(case, people["cadre"], temperature="38.4", symptoms="咽痛")
    url = reverse("isolation_detail", args=[case.pk])
    for who, sees in (("cadre", True), ("staff", True), ("worker", True), ("volunteer", False)):
        body = _client(people[who]).get(url).content.decode()
        assert ("38.4" in body) is sees, who
        assert ("咽痛" in body) is sees, who
    assert _client(people["outsider"]).get(url).status_code == 404


def test_health_data_is_hidden_in_the_api(people, case):
    with time_machine.travel(local(DAY, 8), tick=False):
        _visit(case, people["cadre"], temperature="38.4", symptoms="咽痛")
    url = reverse("api:isolation-case-detail", args=[case.pk])
    for who, sees in (("cadre", True), ("volunteer", False)):
        _token, key = token_issue(user=people[who])
        visit = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {key}").json()["visits"][0]
        assert (visit["temperature"] == "38.4") is sees
        assert (visit["symptoms"] == "咽痛") is sees


def test_case_list_for_managers_only(people, case):
    url = reverse("isolation_list")
    assert _client(people["staff"]).get(url).status_code == 200
    assert _client(people["worker"]).get(url).status_code == 403


def test_open_and_release_pages(people):
    client = _client(people["staff"])
    resident = people["resident"]
    household_page = client.get(reverse("household_detail", args=[resident.household_id]))
    assert reverse("isolation_open") + f"?resident={resident.pk}" in household_page.content.decode()
    # The form itself, empty, as the household page's button opens it (it was a 500: an
    # empty form has no dates for the template's fallbacks).
    form = client.get(reverse("isolation_open") + f"?resident={resident.pk}")
    assert form.status_code == 200
    assert f'value="{timezone.localdate().isoformat()}"' in form.content.decode()
    response = client.post(
        reverse("isolation_open"),
        {
            "resident": resident.pk,
            "category": "home_monitoring",
            "reason": "密接",
            "start": "2026-04-06",
            "planned_end": "2026-04-12",
            "keeper": "cadre",
        },
    )
    case = IsolationCase.objects.get()
    assert response.status_code == 302
    twice = client.post(
        reverse("isolation_open"),
        {
            "resident": resident.pk,
            "category": "home_monitoring",
            "reason": "密接",
            "start": "2026-04-06",
            "planned_end": "2026-04-12",
            "keeper": "cadre",
        },
    )
    assert twice.status_code == 409
    released = client.post(reverse("isolation_release", args=[case.pk]), {"note": "期满"})
    assert released.status_code == 302
    case.refresh_from_db()
    assert case.status == "released"
    # The keeper's role may not open or release.
    assert (
        _client(people["cadre"])
        .get(reverse("isolation_open") + f"?resident={resident.pk}")
        .status_code
        == 403
    )


def _more_cases(people, n):
    hh = f.household(f"{ANKANG}/3栋", room="501")
    for i in range(n):
        r = f.resident(hh, f"隔离{i}", id_number=f.id_number(birth=dt.date(1980, 1, i + 1)))
        _open(people, resident=r)


def test_lists_take_a_fixed_number_of_queries(people, case, django_assert_max_num_queries):
    with time_machine.travel(local(DAY, 7), tick=False):
        _more_cases(people, 6)
    staff, keeper = _client(people["staff"]), _client(people["cadre"])
    with time_machine.travel(local(DAY, 13), tick=False):
        isolation.isolation_sweep()
        with django_assert_max_num_queries(12):
            assert staff.get(reverse("isolation_list")).status_code == 200
        with django_assert_max_num_queries(12):
            assert keeper.get(reverse("isolation_mine")).status_code == 200
        _token, key = token_issue(user=people["staff"])
        with django_assert_max_num_queries(12):
            body = (
                Client()
                .get(reverse("api:isolation-case-list"), HTTP_AUTHORIZATION=f"Bearer {key}")
                .json()
            )
    assert body["count"] == 7


# --- the API -------------------------------------------------------------------------------


def test_api_open_visit_release(people):
    _token, key = token_issue(user=people["staff"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    client = Client()
    data = {
        "resident": people["resident"].pk,
        "category": "home_isolation",
        "reason": "返乡",
        "start": "2026-04-06",
        "planned_end": "2026-04-19",
        "keeper": "cadre",
    }
    with time_machine.travel(local(DAY, 8), tick=False):
        created = client.post(
            reverse("api:isolation-case-list"), data, content_type="application/json", **auth
        )
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        assert (
            client.post(
                reverse("api:isolation-case-list"), data, content_type="application/json", **auth
            ).status_code
            == 409
        )
        visits = reverse("api:isolation-case-visits", args=[pk])
        first = client.post(
            visits,
            {
                "slot": "am",
                "temperature": "36.5",
                "needs": "米面",
                "raise_request": True,
                "category": "groceries",
            },
            content_type="application/json",
            **auth,
        )
        assert first.status_code == 201
        assert first.json()["visits"][0]["request"].startswith("Q")
        assert (
            client.post(
                visits,
                {"slot": "am", "temperature": "36.5"},
                content_type="application/json",
                **auth,
            ).status_code
            == 409
        )
        assert (
            client.post(
                visits, {"slot": "pm", "temperature": "50"}, content_type="application/json", **auth
            ).status_code
            == 400
        )
        released = client.post(
            reverse("api:isolation-case-release", args=[pk]),
            {"note": "期满"},
            content_type="application/json",
            **auth,
        )
        assert released.status_code == 200 and released.json()["status"] == "released"
    _token, outsider_key = token_issue(user=people["outsider"])
    assert (
        client.get(
            reverse("api:isolation-case-detail", args=[pk]),
            HTTP_AUTHORIZATION=f"Bearer {outsider_key}",
        ).status_code
        == 404
    )


# --- demo ----------------------------------------------------------------------------------


def test_demo_case_loads_once(people):
    f.household(f"{ANKANG}/5栋", room="101")
    hh = f.household(f"{ANKANG}/5栋", room="102")
    f.resident(hh, "返乡人", birth=dt.date(1990, 3, 3))
    users = {"cadre": people["cadre"], "community_staff": people["staff"]}
    isolation.load_demo(users, lambda m: None)
    counts = (IsolationCase.objects.count(), HealthVisit.objects.count())
    isolation.load_demo(users, lambda m: None)
    assert counts == (IsolationCase.objects.count(), HealthVisit.objects.count()) == (1, 8)
    case = IsolationCase.objects.get()
    assert case.keeper == people["cadre"] and case.resident.name == "返乡人"
    assert timezone.localdate(case.opened_at) == case.start
