"""Dispatch help (派单): who is suggested for a request, from the duty roster and the grid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontline.accounts.services import user_create, user_token
from frontline.duty import roster
from frontline.duty.services import role_assign
from frontline.requests.queries import dispatch_suggestions
from frontline.requests.services import request_create, request_dispatch
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, CHUANGYE, PASSWORD


def _person(username, path=ANKANG, role="volunteer", name=""):
    return user_create(
        username=username, role=role, region=f.region(path), password=PASSWORD, full_name=name
    )


def _new(actor, household, category="medical", description="透析，周三上午"):
    return request_create(
        actor=actor,
        household=household,
        category=category,
        urgency="urgent",
        description=description,
    )


@pytest.fixture
def roster_at_ankang(lu_an, grid_worker):
    """Two drivers (配送员) at 安康小区, one already holding two open requests; a purchaser;
    a grid with a worker who has an account and one who has none; a driver of 创业小区."""
    ankang = f.region(ANKANG)
    busy = _person("busy_driver", name="忙司机")
    free = _person("free_driver", name="闲司机")
    buyer = _person("buyer", name="采购员甲")
    for p in (busy, free):
        role_assign(region=ankang, role="delivery", person=p, since=dt.date(2026, 4, 1))
    role_assign(region=ankang, role="purchasing", person=buyer, since=dt.date(2026, 4, 1))
    far = _person("far_driver", path=CHUANGYE)
    role_assign(region=f.region(CHUANGYE), role="delivery", person=far, since=dt.date(2026, 4, 1))
    for household in lu_an["ankang"]:
        held = _new(grid_worker, household, category="repair", description="修水管")
        request_dispatch(request=held, assignee=busy, actor=grid_worker)
    grid = grid_create(region=ankang, name="安康小区网格", coverage=[ankang])
    walker = _person("walker", role="grid_worker", name="网格员乙")
    grid_add_member(grid=grid, role="worker", name="网格员乙", phone="13800000001", user=walker)
    grid_add_member(grid=grid, role="worker", name="无账号网格员", phone="13800000002")
    return {"busy": busy, "free": free, "buyer": buyer, "walker": walker}


def test_a_dialysis_run_suggests_the_drivers_on_duty_first_fewest_open_first(
    roster_at_ankang, grid_worker, lu_an
):
    req = _new(grid_worker, lu_an["ankang"][0])

    found = dispatch_suggestions(grid_worker, req)

    names = [s.username for s in found.people]
    # Counted by hand from the fixture: free_driver 0 open, busy_driver 2 open.
    assert names[:2] == ["free_driver", "busy_driver"]
    assert [s.open_requests for s in found.people[:2]] == [0, 2]
    assert found.people[0].roles == ("delivery",) and found.people[0].source == "duty"
    # The grid's worker with an account follows; the purchaser is not on a dialysis run's
    # duty list, and the other compound's driver is nowhere.
    assert "walker" in names and names.index("walker") > 1
    assert "far_driver" not in names and "buyer" not in [
        s.username for s in found.people if s.source == "duty"
    ]
    # The grid worker without an account is shown, but not as someone to dispatch to.
    assert [s.name for s in found.others if s.user is None] == ["无账号网格员"]


@pytest.mark.parametrize(
    ("category", "role"),
    [("groceries", "purchasing"), ("medicine", "purchasing"), ("medical", "delivery")],
)
def test_the_matching_role_comes_first(roster_at_ankang, grid_worker, lu_an, category, role):
    req = _new(grid_worker, lu_an["ankang"][0], category=category, description="需要")

    first = dispatch_suggestions(grid_worker, req).people[0]

    assert role in first.roles


def test_someone_on_a_shift_comes_after_a_free_one_with_as_many_open(
    roster_at_ankang, grid_worker, lu_an
):
    buyer2 = _person("buyer2")
    role_assign(
        region=f.region(ANKANG), role="purchasing", person=buyer2, since=dt.date(2026, 4, 1)
    )
    gate = roster.post_create(region=f.region(ANKANG), name="南门卡点", kind="checkpoint")
    now = timezone.now()
    roster.shift_create(
        post=gate,
        person=roster_at_ankang["buyer"],
        start=now - dt.timedelta(hours=1),
        end=now + dt.timedelta(hours=1),
    )
    req = _new(grid_worker, lu_an["ankang"][0], category="groceries", description="米")

    duty = [s for s in dispatch_suggestions(grid_worker, req).people if s.source == "duty"]

    assert [(s.username, s.on_shift) for s in duty] == [("buyer2", False), ("buyer", True)]


def test_an_account_that_cannot_take_it_is_listed_with_the_reason(
    roster_at_ankang, grid_worker, lu_an
):
    # A driver given the role at 安康小区 whose account covers 创业小区 cannot take it.
    narrow = _person("narrow_driver", path=CHUANGYE)
    role_assign(region=f.region(ANKANG), role="delivery", person=narrow, since=dt.date(2026, 4, 1))
    req = _new(grid_worker, lu_an["ankang"][0])

    found = dispatch_suggestions(grid_worker, req)

    assert "narrow_driver" not in [s.username for s in found.people]
    assert [s.username for s in found.others if s.user is not None] == ["narrow_driver"]


def test_suggestions_stay_inside_the_dispatchers_jurisdiction(
    roster_at_ankang, outsider, lu_an, grid_worker
):
    req = _new(grid_worker, lu_an["ankang"][0])

    found = dispatch_suggestions(outsider, req)

    assert found.people == [] and found.others == []


def test_the_number_of_queries_does_not_grow_with_the_roster(
    roster_at_ankang, grid_worker, lu_an, django_assert_max_num_queries
):
    req = _new(grid_worker, lu_an["ankang"][0])
    for i in range(8):
        extra = _person(f"extra{i}")
        role_assign(
            region=f.region(ANKANG), role="delivery", person=extra, since=dt.date(2026, 4, 1)
        )

    with django_assert_max_num_queries(6):
        found = dispatch_suggestions(grid_worker, req)

    assert len(found.people) == 10


def test_the_dispatch_page_shows_the_suggested_driver_and_dispatches_to_them(
    roster_at_ankang, grid_worker, lu_an
):
    req = _new(grid_worker, lu_an["ankang"][0])
    client = Client()
    client.force_login(grid_worker)
    client.cookies["django_language"] = "en"

    page = client.get(reverse("request_detail", args=[req.pk])).content.decode()

    assert 'value="free_driver" checked' in page
    assert "闲司机" in page and "Delivery worker" in page and "0 open" in page
    assert "无账号网格员" in page and "No account yet" in page
    done = client.post(
        reverse("request_step", args=[req.pk, "dispatch"]), {"assignee": "free_driver"}
    )
    assert done.status_code == 302
    req.refresh_from_db()
    assert req.assignee == roster_at_ankang["free"]


def test_a_typed_username_wins_over_the_checked_suggestion(roster_at_ankang, grid_worker, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    client = Client()
    client.force_login(grid_worker)

    client.post(
        reverse("request_step", args=[req.pk, "dispatch"]),
        {"assignee": "free_driver", "assignee_other": "walker"},
    )

    req.refresh_from_db()
    assert req.assignee == roster_at_ankang["walker"]


def test_the_api_lists_the_suggestions(roster_at_ankang, grid_worker, volunteer, lu_an):
    req = _new(grid_worker, lu_an["ankang"][0])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=grid_worker)}")

    body = api.get(reverse("api:request-suggestions", args=[req.pk])).json()

    first = body["results"][0]
    assert first["username"] == "free_driver" and first["roles"] == ["delivery"]
    assert first["open_requests"] == 0 and first["can_take"] is True
    assert body["results"][1]["open_requests"] == 2
    assert {"username": None, "name": "无账号网格员"}.items() <= body["others"][0].items()
    # A volunteer may take requests but not dispatch them.
    other = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=volunteer)}")
    assert other.get(reverse("api:request-suggestions", args=[req.pk])).status_code == 403
