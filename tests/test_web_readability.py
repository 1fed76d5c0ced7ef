"""What a newcomer reads on the pages: labels in the UI language, distinct headings,
full-width punctuation in Chinese, the same fields for every member."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse

from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, PASSWORD


@pytest.fixture
def reading(client):
    """A client signed in as somebody, reading the UI in the given language."""

    def sign_in(user, language):
        assert client.login(username=user.username, password=PASSWORD)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return sign_in


def _main(response) -> str:
    """The page's own content, without the header (which names the viewer)."""
    return response.content.decode().split("<main>")[1]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- care groups and yes/no in the UI language ------------------------------------------


@pytest.mark.parametrize(
    "language,shown,hidden",
    [
        ("en", ["Elderly living alone", "Infant", "Subsistence allowance"], ["独居老人", "婴幼儿"]),
        ("zh-hans", ["独居老人", "婴幼儿", "低保"], ["Elderly living alone", "Infant"]),
    ],
)
def test_home_names_care_groups_in_the_ui_language(reading, town_staff, language, shown, hidden):
    body = _text(_main(reading(town_staff, language).get(reverse("home"))))

    for label in shown:
        assert label in body
    for label in hidden:
        assert label not in body


@pytest.mark.parametrize(
    "language,group,yes,no,hidden",
    [
        ("en", "Elderly living alone", "Yes", "No", ["独居老人", "是", "否"]),
        ("zh-hans", "独居老人", "是", "否", ["Elderly living alone"]),
    ],
)
def test_household_names_care_groups_and_yes_no_in_the_ui_language(
    reading, grid_worker, lu_an, language, group, yes, no, hidden
):
    household = lu_an["ankang"][0]

    response = reading(grid_worker, language).get(reverse("household_detail", args=[household.pk]))

    main = _main(response)
    assert f'<span class="tag warn">{group}</span>' in main
    # 王秀英: not a party member, not away, cannot order online.
    values = re.findall(r"</dt><dd>([^<]*)</dd>", main)
    assert values.count(no) == 3
    assert yes not in values
    for text in hidden:
        assert text not in _text(main)


# --- the household page -----------------------------------------------------------------


def test_household_title_is_the_full_address_and_headings_are_distinct(reading, grid_worker, lu_an):
    household = lu_an["ankang"][0]

    response = reading(grid_worker, "en").get(reverse("household_detail", args=[household.pk]))

    body = response.content.decode()
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    assert title.startswith(household.address)
    assert "安康小区" in title and "101" in title
    assert "<dt>Members</dt>" in body
    assert "<h2>Residents of this household</h2>" in body
    assert "<h2>Members</h2>" not in body


def test_every_member_shows_a_work_unit_line(reading, grid_worker, lu_an):
    household = lu_an["ankang"][1]
    f.resident(household, "李工", birth=dt.date(1985, 4, 4), work_unit="六安市第一人民医院")

    response = reading(grid_worker, "en").get(reverse("household_detail", args=[household.pk]))

    body = response.content.decode()
    assert body.count("<dt>Work unit</dt>") == household.residents.count() == 3
    assert "<dt>Work unit</dt><dd>六安市第一人民医院</dd>" in body
    assert body.count("<dt>Work unit</dt><dd>—</dd>") == 2


# --- no half-width colons after labels in Chinese ----------------------------------------


@pytest.fixture
def grid(lu_an):
    ankang = f.region(ANKANG)
    grid = grid_create(region=ankang, name="安康小区网格点", coverage=[f.region(f"{ANKANG}/1栋")])
    grid_add_member(grid=grid, role="chief", name="周网长")
    grid_add_member(grid=grid, role="worker", name="吴网员")
    return grid


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("home"),
        lambda w: reverse("grid_list"),
        lambda w: reverse("grid_detail", args=[w["grid"].pk]),
        lambda w: reverse("household_detail", args=[w["household"].pk]),
        lambda w: reverse("region_detail", args=[w["household"].building_id]),
    ],
)
def test_chinese_pages_put_no_ascii_colon_after_a_label(reading, community_staff, lu_an, grid, url):
    client = reading(community_staff, "zh-hans")

    response = client.get(url({"grid": grid, "household": lu_an["ankang"][0]}))

    assert response.status_code == 200
    text = _text(_main(response))
    # A Chinese label followed by an ASCII colon, e.g. "网格长: 周网长".
    assert not re.search(r"[\u4e00-\u9fff]\s*:", text), text


def test_grid_list_lays_out_chief_workers_and_coverage_as_fields(reading, community_staff, grid):
    body = reading(community_staff, "en").get(reverse("grid_list")).content.decode()

    fields = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", body))
    assert fields["Chief"].strip() == "周网长"
    assert fields["Workers"].strip() == "吴网员"
    assert fields["Covers"] == "1栋"


# --- the icon ------------------------------------------------------------------------------


def test_favicon_is_local_and_linked(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)
    login = client.get(reverse("login")).content.decode()
    assert f'<link rel="icon" href="{response["Location"]}"' in login
