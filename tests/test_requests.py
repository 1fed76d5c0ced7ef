"""Requests (诉求): the five orders, their numbers, duplicates, idempotency and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from frontline.accounts.services import user_create
from frontline.audit.models import AuditAction, AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.requests.models import Request, RequestEvent, Status
from frontline.requests.queries import dispatch_suggestions
from frontline.requests.services import (
    request_cancel,
    request_close,
    request_create,
    request_deliver,
    request_dispatch,
    request_report,
    request_return,
)

from . import factories as f
from .conftest import ANKANG, CHUANGYE, PASSWORD


@pytest.fixture
def driver(lu_an):
    return user_create(
        username="driver", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )


def _new(actor, household, **kw):
    kw.setdefault("category", "medical")
    kw.setdefault("urgency", "urgent")
    kw.setdefault("description", "透析，周三上午")
    return request_create(actor=actor, household=household, **kw)


def test_five_orders_walk_and_history(grid_worker, driver, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    assert req.status == Status.RECEIVED

    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    request_deliver(request=req, actor=driver)
    request_report(request=req, actor=driver, note="已送到医院")
    request_close(request=req, actor=grid_worker, satisfaction=5, note="居民满意")

    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.satisfaction == 5 and req.closed_at
    steps = list(req.events.values_list("step", "from_status", "to_status", "actor_name"))
    assert steps == [
        ("receive", "", "received", "grid_worker"),
        ("dispatch", "received", "dispatched", "grid_worker"),
        ("deliver", "dispatched", "delivering", "driver"),
        ("report", "delivering", "reported", "driver"),
        ("close", "reported", "closed", "grid_worker"),
    ]
    audited = AuditEvent.objects.filter(object_type="request", object_id=str(req.pk))
    assert audited.filter(action=AuditAction.REQUEST_CREATE).count() == 1
    assert audited.filter(action=AuditAction.REQUEST_STEP).count() == 4


def test_numbers_are_month_day_and_city_wide_sequence(grid_worker, community_staff, lu_an):
    at = dt.datetime(2026, 4, 12, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(at, tick=False):
        a = _new(grid_worker, lu_an["ankang"][0], at=at)
        b = _new(community_staff, lu_an["ankang"][1], category="repair", at=at)
    c = _new(grid_worker, lu_an["ankang"][1], category="other", at=at + dt.timedelta(days=1))
    assert [a.number, b.number, c.number] == ["Q0412-001", "Q0412-002", "Q0413-001"]


@pytest.mark.parametrize(
    "step, prepare",
    [
        ("deliver", []),
        ("report", ["dispatch"]),
        ("close", ["dispatch", "deliver"]),
        ("return", []),
        ("dispatch", ["dispatch"]),
    ],
)
def test_a_step_not_allowed_from_the_state_is_a_conflict(step, prepare, grid_worker, driver, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    calls = {
        "dispatch": lambda: request_dispatch(request=req, assignee=driver, actor=grid_worker),
        "deliver": lambda: request_deliver(request=req, actor=grid_worker),
        "report": lambda: request_report(request=req, actor=grid_worker),
        "close": lambda: request_close(request=req, actor=grid_worker, satisfaction=4),
        "return": lambda: request_return(request=req, actor=grid_worker, reason="x"),
    }
    for done in prepare:
        calls[done]()
    before = Request.objects.get(pk=req.pk).status
    events = RequestEvent.objects.count()

    with pytest.raises(Conflict):
        calls[step]()

    assert Request.objects.get(pk=req.pk).status == before
    assert RequestEvent.objects.count() == events


def test_a_stale_copy_loses_with_a_conflict(grid_worker, driver, community_staff, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    stale = Request.objects.get(pk=req.pk)
    request_dispatch(request=req, assignee=driver, actor=grid_worker)

    with pytest.raises(Conflict):
        request_dispatch(request=stale, assignee=community_staff, actor=community_staff)

    assert Request.objects.get(pk=req.pk).assignee == driver


def test_return_and_cancel(grid_worker, driver, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    with pytest.raises(DomainError):
        request_return(request=req, actor=driver, reason="  ")
    request_return(request=req, actor=driver, reason="车坏了")
    req.refresh_from_db()
    assert req.status == Status.RECEIVED and req.assignee is None
    assert req.events.last().note == "车坏了"

    request_cancel(request=req, actor=grid_worker, reason="已自行就医")
    assert Request.objects.get(pk=req.pk).status == Status.CANCELLED
    with pytest.raises(Conflict):
        request_cancel(request=req, actor=grid_worker, reason="again")


def test_an_assignee_outside_the_place_is_refused(grid_worker, outsider, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    with pytest.raises(PermissionDenied):
        request_dispatch(request=req, assignee=outsider, actor=grid_worker)
    assert Request.objects.get(pk=req.pk).status == Status.RECEIVED


def test_only_the_assignee_or_a_dispatcher_steps(grid_worker, driver, volunteer, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    with pytest.raises(PermissionDenied):
        request_deliver(request=req, actor=volunteer)
    with pytest.raises(PermissionDenied):
        request_dispatch(request=req, assignee=volunteer, actor=driver)


@pytest.mark.parametrize("who", ["volunteer", "outsider"])
def test_who_may_not_register(who, request, lu_an):
    actor = request.getfixturevalue(who)
    expected = PermissionDenied if who == "volunteer" else NotFound
    with pytest.raises(expected):
        _new(actor, lu_an["ankang"][0])
    assert not Request.objects.exists()


def test_closing_needs_a_satisfaction_from_one_to_five(grid_worker, driver, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    request_deliver(request=req, actor=driver)
    request_report(request=req, actor=driver)
    for bad in (0, 6, "x"):
        with pytest.raises(DomainError):
            request_close(request=req, actor=grid_worker, satisfaction=bad)
    assert Request.objects.get(pk=req.pk).status == Status.REPORTED


def test_same_household_and_category_open_is_flagged_not_merged(grid_worker, lu_an):
    first = _new(grid_worker, lu_an["ankang"][0], category="groceries")
    second = _new(grid_worker, lu_an["ankang"][0], category="groceries")
    other = _new(grid_worker, lu_an["ankang"][0], category="repair")
    elsewhere = _new(grid_worker, lu_an["ankang"][1], category="groceries")
    assert second.duplicate_of == first
    assert other.duplicate_of is None and elsewhere.duplicate_of is None
    assert Request.objects.count() == 4


def test_idempotency_key_returns_the_first_request(grid_worker, lu_an):
    a = _new(grid_worker, lu_an["ankang"][0], idempotency_key="k-1")
    b = _new(grid_worker, lu_an["ankang"][0], idempotency_key="k-1")
    assert a.pk == b.pk and b.replayed and not a.replayed
    assert Request.objects.count() == 1


def test_overdue_follows_the_time_limits(grid_worker, settings, lu_an):
    settings.FRONTLINE_REQUEST_LIMITS = {
        "urgent": {"dispatch": 15, "close": 120},
        "normal": {"dispatch": 60, "close": 600},
    }
    req = _new(grid_worker, lu_an["ankang"][0])
    now = timezone.now()
    assert not req.is_overdue(now + dt.timedelta(minutes=14))
    assert req.is_overdue(now + dt.timedelta(minutes=16))
    assert Request.objects.overdue(now + dt.timedelta(minutes=16)).count() == 1


def test_suggested_assignees_work_there_fewest_open_first(grid_worker, driver, volunteer, lu_an):
    user_create(username="far", role="volunteer", region=f.region(CHUANGYE), password=PASSWORD)
    busy = _new(grid_worker, lu_an["ankang"][1], category="repair")
    request_dispatch(request=busy, assignee=volunteer, actor=grid_worker)
    req = _new(grid_worker, lu_an["ankang"][0])

    names = [s.username for s in dispatch_suggestions(grid_worker, req).people]

    assert "far" not in names
    assert names.index("driver") < names.index("volunteer")


# The README's table, typed out again: register, dispatch/cancel, close, be an assignee.
REQUEST_TABLE = {
    "city_admin": (True, True, True, True),
    "district_staff": (True, True, True, True),
    "township_staff": (True, True, True, True),
    "community_staff": (True, True, True, True),
    "grid_chief": (True, True, True, True),
    "grid_worker": (True, True, True, True),
    "cadre": (False, False, False, True),
    "volunteer": (False, False, False, True),
}


@pytest.mark.parametrize("role", sorted(REQUEST_TABLE))
def test_request_actions_per_role(role, lu_an):
    from frontline.accounts.policy import Action, policy_for
    from frontline.territory.services import city

    places = {
        "city_admin": None,
        "district_staff": "裕安区",
        "township_staff": "裕安区/城南镇",
        "community_staff": "裕安区/城南镇/陡步河社区",
    }
    path = places.get(role, ANKANG)
    region = city() if path is None else f.region(path)
    user = user_create(username=f"u_{role}", role=role, region=region, password=PASSWORD)
    policy = policy_for(user)
    household = lu_an["ankang"][0]
    got = tuple(
        policy.can(a, household)
        for a in (
            Action.CREATE_REQUEST,
            Action.DISPATCH_REQUEST,
            Action.CLOSE_REQUEST,
            Action.WORK_REQUEST,
        )
    )
    assert got == REQUEST_TABLE[role]
    # Outside the jurisdiction, nobody may do anything with a request (the city has no
    # outside).
    assert role == "city_admin" or not any(
        policy.can(a, lu_an["lijingyuan"])
        for a in (Action.CREATE_REQUEST, Action.DISPATCH_REQUEST, Action.WORK_REQUEST)
    )
