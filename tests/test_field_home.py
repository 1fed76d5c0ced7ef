"""The home page starts with the account's own grid point; volunteers reach the chief."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from frontline.people.visits import visit_record
from frontline.territory.models import Region
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, PASSWORD


@pytest.fixture
def as_user(client):
    def sign_in(user):
        assert client.login(username=user.username, password=PASSWORD)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


def region(path: str) -> Region:
    return Region.objects.get(path=path)


@pytest.fixture
def point(lu_an, grid_worker):
    """Grid point one covers 1栋 only; the worker sits in it, the chief has a phone."""
    ankang = region(ANKANG)
    first = grid_create(region=ankang, name="第一网格点（1栋）", coverage=[region(f"{ANKANG}/1栋")])
    grid_create(region=ankang, name="第二网格点（2栋）", coverage=[region(f"{ANKANG}/2栋")])
    grid_add_member(grid=first, role="chief", name="陶网长", phone="13805640505")
    grid_add_member(grid=first, role="worker", name="许晓燕", phone="13805640606", user=grid_worker)
    return first


def test_a_grid_worker_starts_with_her_own_grid_point(as_user, point, grid_worker, lu_an):
    visit_record(actor=grid_worker, household=lu_an["ankang"][0], outcome="visited", purpose="care")

    response = as_user(grid_worker).get(reverse("home"))

    body = response.content.decode()
    cards = response.context["grid_cards"]
    assert [c["grid"].name for c in cards] == ["第一网格点（1栋）"]
    assert cards[0]["progress"].visited == 1 and cards[0]["progress"].households == 1
    assert "1 / 1 visited today" in body
    assert dict(cards[0]["figures"]["care_groups"])["elderly_alone"] == 1
    assert dict(cards[0]["figures"]["care_groups"])["infant"] == 0  # 2栋 is not hers
    link = (
        reverse("worklist", args=["elderly_alone"])
        + f"?region={point.region_id}&amp;grid={point.pk}"
    )
    assert link in body
    assert 'href="tel:13805640505"' in body  # her chief
    # The wider jurisdiction is one tap away, not the first thing she sees.
    assert "<details" in body and "All of 安康小区" in body


def test_a_volunteer_sees_the_grids_served_and_can_call_the_chief(as_user, point, volunteer):
    body = as_user(volunteer).get(reverse("home")).content.decode()

    assert "The grids you serve" in body
    assert 'href="tel:13805640505"' in body
    # ...but not residents' numbers.
    assert "13912345678" not in body


def test_a_volunteer_sees_the_chief_phone_on_the_grid_page_too(as_user, point, volunteer):
    body = as_user(volunteer).get(reverse("grid_detail", args=[point.pk])).content.decode()

    assert 'href="tel:13805640505"' in body


def test_staff_without_a_grid_see_the_figures_first(as_user, point, town_staff):
    response = as_user(town_staff).get(reverse("home"))

    assert response.context["own_grids"] is False
    assert response.context["stats"]["households"] == 3


@pytest.mark.parametrize("extra", [0, 5])
def test_my_grid_home_query_count_is_bounded(
    as_user, point, grid_worker, django_assert_num_queries, extra
):
    for n in range(extra):
        hh = f.household(f"{ANKANG}/1栋", room=f"7{n:02d}")
        f.resident(
            hh, f"住{n}", birth=dt.date(1950, 2, 1) + dt.timedelta(days=n), care_groups=("透析",)
        )
    client = as_user(grid_worker)
    # session, user, the jurisdiction, census figures (8), visits (2), extra figures (2),
    # the account's grids (+ coverage, members), the grid's figures (4), its progress (2),
    # the zone badge.
    with django_assert_num_queries(24):
        client.get(reverse("home"))


def test_every_figure_on_a_grid_page_opens_its_list(as_user, point, grid_worker):
    body = as_user(grid_worker).get(reverse("grid_detail", args=[point.pk])).content.decode()

    query = f"?region={point.region_id}&amp;grid={point.pk}"
    for kind in ("elderly_alone", "dialysis", "no_contact", "offline"):
        assert reverse("worklist", args=[kind]) + query in body
    assert reverse("visit_progress") + query in body
    assert reverse("roster") + query in body
