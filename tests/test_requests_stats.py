"""`requests` in `frontline stats` and /api/v1/stats."""

from __future__ import annotations

import datetime as dt
import io
import json

import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontline.accounts.services import user_token
from frontline.requests.services import (
    request_close,
    request_create,
    request_deliver,
    request_dispatch,
    request_report,
)

from .conftest import ANKANG


def _closed(actor, assignee, household, minutes, satisfaction, start):
    with time_machine.travel(start, tick=False):
        req = request_create(actor=actor, household=household, category="other", description="x")
    request_dispatch(request=req, assignee=assignee, actor=actor)
    request_deliver(request=req, actor=assignee)
    request_report(request=req, actor=assignee)
    with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
        request_close(request=req, actor=actor, satisfaction=satisfaction)
    return req


def test_request_figures_in_the_cli_and_the_api(grid_worker, volunteer, lu_an, settings):
    settings.FRONTLINE_REQUEST_LIMITS = {"normal": {"dispatch": 60, "close": 600}}
    now = timezone.localtime()
    start = now.replace(hour=0, minute=5) if now.hour >= 1 else now - dt.timedelta(minutes=2)
    for minutes, rating in ((10, 5), (30, 4), (50, 2)):
        _closed(grid_worker, volunteer, lu_an["ankang"][0], minutes, rating, start)
    dispatched = request_create(
        actor=grid_worker, household=lu_an["ankang"][1], category="repair", description="灯"
    )
    request_dispatch(request=dispatched, assignee=volunteer, actor=grid_worker)
    with time_machine.travel(timezone.now() - dt.timedelta(hours=2), tick=False):
        request_create(
            actor=grid_worker, household=lu_an["ankang"][1], category="groceries", description="米"
        )

    out = io.StringIO()
    call_command("stats", "--region", ANKANG, "--json", stdout=out)
    figures = json.loads(out.getvalue())["requests"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=grid_worker)}")
    from_api = api.get(reverse("api:stats") + "?region=" + ANKANG).json()["requests"]

    expected = {
        "open": {"received": 1, "dispatched": 1, "delivering": 0, "reported": 0},
        "overdue": 1,
        "closed_today": 3,
        "median_minutes_to_close": 30.0,
        "mean_satisfaction": round(11 / 3, 2),
    }
    assert figures == expected == from_api
    text = io.StringIO()
    call_command("stats", "--region", ANKANG, stdout=text)
    assert "30" in text.getvalue()
