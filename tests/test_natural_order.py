"""Numbered places in the order people count them, on the pages and in the API alike."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from frontline.accounts.services import user_token
from frontline.territory.models import Grid, Region
from frontline.territory.queries import natural_key, natural_order, natural_sorted
from frontline.territory.services import grid_create

from . import factories as f
from .conftest import ANKANG, PASSWORD

ORDINALS = ["第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十"]
ORDINALS += ["第十一", "第十二", "第二十", "第二十三"]


@pytest.mark.parametrize(
    "expected",
    [
        ["1栋", "2栋", "6栋", "7栋", "10栋", "26栋"],
        [f"安康小区{n}网格点" for n in ORDINALS],
        ["2号楼1单元", "2号楼2单元", "2号楼10单元", "10号楼1单元"],
        ["安康小区", "安康小区1栋", "安康小区第二网格", "安康小区网格"],
    ],
)
def test_natural_key_counts_digits_and_chinese_ordinals(expected):
    assert sorted(reversed(expected), key=natural_key) == expected
    assert natural_sorted(sorted(expected), key=str) == expected


def test_natural_order_pages_fetch_only_their_rows(lu_an, django_assert_num_queries):
    for n in (10, 3, 26):
        f.region(f"{ANKANG}/{n}栋")
    ankang = Region.objects.get(path=ANKANG)

    with django_assert_num_queries(1):
        buildings = natural_order(Region.objects.filter(parent=ankang), "name")
    with django_assert_num_queries(1):
        names = [r.name for r in buildings[1:4]]

    assert len(buildings) == 5
    assert names == ["2栋", "3栋", "10栋"]
    assert buildings[-1].name == "26栋"
    assert [r.name for r in buildings] == ["1栋", "2栋", "3栋", "10栋", "26栋"]


@pytest.fixture
def numbered_grids(lu_an):
    ankang = Region.objects.get(path=ANKANG)
    buildings = {n: f.region(f"{ANKANG}/{n}栋") for n in (1, 2, 6, 7, 10)}
    # Created out of order so that neither the id nor the character code gives the answer.
    for ordinal in ["第三", "第十", "第一", "第二"]:
        grid_create(
            region=ankang,
            name=f"安康小区{ordinal}网格点",
            coverage=[buildings[10], buildings[6], buildings[7]],
        )
    return [f"安康小区{o}网格点" for o in ["第一", "第二", "第三", "第十"]]


def test_grid_list_page_reads_in_counting_order(client, city_admin, numbered_grids):
    assert client.login(username=city_admin.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(reverse("grid_list"))

    grids = list(response.context["page"])
    assert [g.name for g in grids] == numbered_grids
    assert [r.name for r in grids[0].covers] == ["6栋", "7栋", "10栋"]
    body = response.content.decode()
    positions = [body.index(name) for name in numbered_grids]
    assert positions == sorted(positions)
    assert "6栋、7栋、10栋" in body


def test_grid_detail_page_lists_coverage_in_counting_order(client, city_admin, numbered_grids):
    assert client.login(username=city_admin.username, password=PASSWORD)
    grid = Grid.objects.get(name=numbered_grids[0])

    body = client.get(reverse("grid_detail", args=[grid.pk])).content.decode()

    assert body.index(">6栋<") < body.index(">7栋<") < body.index(">10栋<")


def test_api_grid_list_agrees_with_the_page(city_admin, numbered_grids):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=city_admin)}")

    data = client.get(reverse("api:grid-list"), {"page_size": 2}).json()
    second = client.get(reverse("api:grid-list"), {"page_size": 2, "page": 2}).json()

    names = [g["name"] for g in data["results"] + second["results"]]
    assert names == numbered_grids
    assert data["count"] == 4
    assert data["results"][0]["coverage"] == [f"{ANKANG}/{n}栋" for n in (6, 7, 10)]
