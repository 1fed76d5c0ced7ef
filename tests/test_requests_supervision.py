"""督办: overdue requests open a supervision, notify the grid chief, escalate one grid level
up while they stay overdue; the worker runs the sweep."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from frontline.accounts.services import user_create
from frontline.requests.models import Notification, Supervision
from frontline.requests.services import request_create, request_dispatch
from frontline.requests.supervision import supervision_sweep
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, PASSWORD

LIMITS = {"urgent": {"dispatch": 15, "close": 120}, "normal": {"dispatch": 60, "close": 600}}


@pytest.fixture
def grids(lu_an, settings):
    settings.FRONTLINE_REQUEST_LIMITS = LIMITS
    settings.FRONTLINE_ESCALATE_MINUTES = 30
    community = f.region("裕安区/城南镇/陡步河社区")
    ankang = f.region(ANKANG)
    upper = grid_create(region=community, name="陡步河社区网格")
    point = grid_create(region=ankang, name="安康小区网格点", parent=upper, coverage=[ankang])
    point_chief = user_create(
        username="point_chief", role="grid_chief", region=ankang, password=PASSWORD
    )
    upper_chief = user_create(
        username="upper_chief", role="grid_chief", region=community, password=PASSWORD
    )
    grid_add_member(grid=point, role="chief", name="钟鸣", user=point_chief)
    grid_add_member(grid=upper, role="chief", name="周正", user=upper_chief)
    return {"point": point, "upper": upper, "point_chief": point_chief, "upper_chief": upper_chief}


def _at(minutes):
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_overdue_opens_notifies_and_escalates(grids, grid_worker, lu_an):
    req = request_create(
        actor=grid_worker,
        household=lu_an["ankang"][0],
        category="groceries",
        urgency="normal",
        description="米面油",
    )
    assert supervision_sweep(_at(30))["opened"] == 0

    first = supervision_sweep(_at(61))
    sup = Supervision.objects.get(request=req)
    assert first["opened"] == 1 and sup.grid == grids["point"] and sup.level == 0
    assert sup.reason == "dispatch"
    inbox = Notification.objects.filter(recipient=grids["point_chief"])
    assert inbox.count() == 1 and req.number in inbox.get().subject

    assert supervision_sweep(_at(70)) == {"opened": 0, "escalated": 0, "closed": 0, "notified": 0}
    up = supervision_sweep(_at(92))
    sup.refresh_from_db()
    assert up["escalated"] == 1 and sup.grid == grids["upper"] and sup.level == 1
    assert Notification.objects.filter(recipient=grids["upper_chief"]).count() == 1
    # The top grid has no parent: it stays there.
    assert supervision_sweep(_at(200))["escalated"] == 0


def test_dispatching_closes_the_supervision(grids, grid_worker, volunteer, lu_an):
    req = request_create(
        actor=grid_worker,
        household=lu_an["ankang"][0],
        category="medical",
        urgency="urgent",
        description="透析",
    )
    supervision_sweep(_at(16))
    request_dispatch(request=req, assignee=volunteer, actor=grid_worker)
    assert supervision_sweep(_at(17))["closed"] == 1
    assert Supervision.objects.get(request=req).closed_at is not None


# Transactional: the worker checks its database connection between tasks as a real one
# does, which would close a test's connection held inside a transaction.
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_sweep(grids, grid_worker, lu_an):
    request_create(
        actor=grid_worker,
        household=lu_an["ankang"][0],
        category="repair",
        urgency="normal",
        description="水管",
        at=timezone.now() - dt.timedelta(minutes=61),
    )
    call_command("worker", "--once")
    assert Supervision.objects.count() == 1
    assert Notification.objects.filter(recipient=grids["point_chief"]).count() == 1


def test_board_shows_overdue_first_with_the_supervising_grid(grids, grid_worker, lu_an):
    from django.test import Client
    from django.urls import reverse

    late = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="groceries", description="米"
    )
    supervision_sweep(_at(61))
    with time_machine.travel(_at(61)):
        fresh = request_create(
            actor=grid_worker, household=lu_an["ankang"][1], category="repair", description="灯"
        )
        client = Client()
        client.force_login(grid_worker)
        board = client.get(reverse("supervision_board") + f"?region={f.region(ANKANG).pk}")
    rows = board.context["rows"]
    assert [r["req"].pk for r in rows] == [late.pk, fresh.pk]
    assert rows[0]["overdue"] and rows[0]["supervision"].grid == grids["point"]
    assert "安康小区网格点" in board.content.decode()


def test_inbox_lists_my_notifications(grids, grid_worker, lu_an):
    from django.test import Client
    from django.urls import reverse

    req = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="groceries", description="米"
    )
    supervision_sweep(_at(61))
    client = Client()
    client.force_login(grids["point_chief"])
    assert req.number in client.get(reverse("inbox")).content.decode()
    client.post(reverse("inbox"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_demo_requests_load_once_and_the_left_alone_one_is_overdue(grid_worker, lu_an):
    from frontline.requests.demo import LEFT_ALONE, load_demo_requests
    from frontline.requests.models import Request, Supplier

    assert load_demo_requests() == 3
    assert load_demo_requests() == 0
    left = Request.objects.get(description=LEFT_ALONE)
    assert left.overdue and Supplier.objects.count() == 2


def test_long_overdue_escalates_in_the_same_sweep(grids, grid_worker, lu_an):
    """Overdue for a day (the worker was down): its chief and the next level up both hear."""
    req = request_create(
        actor=grid_worker,
        household=lu_an["ankang"][0],
        category="groceries",
        description="米",
        at=timezone.now() - dt.timedelta(hours=25),
    )
    first = supervision_sweep()
    assert (first["opened"], first["escalated"]) == (1, 1)
    assert Supervision.objects.get(request=req).grid == grids["upper"]
    assert Notification.objects.filter(recipient=grids["point_chief"]).count() == 1
    assert Notification.objects.filter(recipient=grids["upper_chief"]).count() == 1
