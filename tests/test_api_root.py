"""/api/v1/: a root that lists the routes, and a browsable API whose breadcrumb reads."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from .conftest import PASSWORD


def test_root_lists_every_route_to_anybody(db):
    response = APIClient().get("/api/v1/", HTTP_AUTHORIZATION="Bearer stale")

    assert response.status_code == 200
    routes = response.json()
    assert set(routes) == {
        "stats",
        "regions",
        "households",
        "residents",
        "grids",
        "audit",
        "visits",
        "requests",
        "posts",
        "schema",
        "docs",
    }
    assert routes["households"] == "http://testserver/api/v1/households"
    assert routes["stats"].endswith(reverse("api:stats"))


def _breadcrumb(html: str) -> list[str]:
    crumbs = re.search(r'<ul class="breadcrumb">(.*?)</ul>', html, re.S).group(1)
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<a [^>]*>(.*?)</a>", crumbs)]


@pytest.mark.parametrize(
    "url,expected",
    [
        ("/api/v1/", ["Frontline API"]),
        ("/api/v1/stats", ["Frontline API", "Stats"]),
        ("/api/v1/households/{pk}", ["Frontline API", "Household List", "Household Detail"]),
    ],
)
def test_browsable_api_breadcrumb_starts_at_the_root(client, grid_worker, lu_an, url, expected):
    assert client.login(username=grid_worker.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(url.format(pk=lu_an["ankang"][0].pk), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    html = response.content.decode()
    assert _breadcrumb(html) == expected
    assert "No Such Route" not in html


def test_unknown_route_is_still_json_404_for_any_method(city_admin, client):
    client.force_login(city_admin)

    for method in ("get", "post", "delete"):
        response = getattr(client, method)("/api/v1/households/x")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["detail"].endswith("/api/v1/households/x")
