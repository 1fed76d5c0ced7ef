"""The request pages: register from a household, the list, one-tap steps, my tasks."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from frontline.accounts.services import user_create
from frontline.requests.models import Request, Status
from frontline.requests.services import request_create, request_dispatch

from . import factories as f
from .conftest import ANKANG, PASSWORD


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def driver(lu_an):
    return user_create(
        username="driver", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )


def test_household_page_links_to_register_and_it_registers(grid_worker, lu_an):
    client = _client(grid_worker)
    household = lu_an["ankang"][0]
    page = client.get(reverse("household_detail", args=[household.pk])).content.decode()
    link = reverse("request_create") + f"?household={household.pk}"
    assert link in page

    form = client.get(link)
    assert form.status_code == 200
    key = form.context["idempotency_key"]
    data = {
        "household": household.pk,
        "category": "medical",
        "urgency": "urgent",
        "channel": "grid_worker",
        "description": "周三透析",
        "idempotency_key": key,
    }
    first = client.post(reverse("request_create"), data)
    again = client.post(reverse("request_create"), data)

    req = Request.objects.get()
    assert first.status_code == again.status_code == 302
    assert first["Location"] == reverse("request_detail", args=[req.pk])


def test_a_volunteer_gets_no_link_and_a_403(volunteer, lu_an):
    client = _client(volunteer)
    household = lu_an["ankang"][0]
    page = client.get(reverse("household_detail", args=[household.pk])).content.decode()
    assert reverse("request_create") not in page
    response = client.get(reverse("request_create") + f"?household={household.pk}")
    assert response.status_code == 403


def test_steps_by_tap_and_my_tasks(grid_worker, driver, lu_an):
    req = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="medical", description="透析"
    )
    staff = _client(grid_worker)
    detail = staff.get(reverse("request_detail", args=[req.pk]))
    assert [s.username for s in detail.context["suggested"].people][:1] == ["driver"]
    staff.post(reverse("request_step", args=[req.pk, "dispatch"]), {"assignee": "driver"})

    runner = _client(driver)
    tasks = runner.get(reverse("my_tasks"))
    assert req.number in tasks.content.decode()
    for step in ("deliver", "report"):
        response = runner.post(
            reverse("request_step", args=[req.pk, step]), {"next": reverse("my_tasks")}
        )
        assert response.status_code == 302 and response["Location"] == reverse("my_tasks")
    staff.post(reverse("request_step", args=[req.pk, "close"]), {"satisfaction": "5"})

    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.satisfaction == 5
    history = staff.get(reverse("request_detail", args=[req.pk])).context["events"]
    assert [e.to_status for e in history] == [
        "received",
        "dispatched",
        "delivering",
        "reported",
        "closed",
    ]
    assert runner.get(reverse("my_tasks")).context["items"] == []


def test_a_tap_on_a_step_already_taken_answers_409_and_shows_the_state(grid_worker, driver, lu_an):
    req = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="repair", description="灯坏"
    )
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    response = _client(grid_worker).post(
        reverse("request_step", args=[req.pk, "dispatch"]), {"assignee": "driver"}
    )
    assert response.status_code == 409 and response.context["error"]


def test_the_assignee_sees_the_full_phone_while_it_is_open(grid_worker, driver, lu_an):
    household = lu_an["ankang"][0]
    resident = household.residents.get(name="王秀英")
    req = request_create(
        actor=grid_worker,
        household=household,
        resident=resident,
        category="medicine",
        description="降压药",
    )
    volunteer_view = _client(driver).get(reverse("request_detail", args=[req.pk]))
    assert "13912345678" not in volunteer_view.content.decode()
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    assigned = _client(driver).get(reverse("request_detail", args=[req.pk])).content.decode()
    assert "tel:13912345678" in assigned


def test_list_filters_by_status_and_number(grid_worker, driver, lu_an):
    a = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="repair", description="灯"
    )
    b = request_create(
        actor=grid_worker, household=lu_an["ankang"][1], category="other", description="x"
    )
    request_dispatch(request=b, assignee=driver, actor=grid_worker)
    client = _client(grid_worker)
    received = client.get(reverse("request_list") + "?status=received").context["page"]
    assert [r.pk for r in received.object_list] == [a.pk]
    found = client.get(reverse("request_list") + "?status=all&q=" + b.number.lower())
    assert [r.pk for r in found.context["page"].object_list] == [b.pk]
