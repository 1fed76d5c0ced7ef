"""Worklists behind the figures, search by care group, and the call buttons."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from frontline.audit.models import AuditEvent
from frontline.territory.models import Region

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


def url(kind: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("worklist", args=[kind]) + (f"?{query}" if query else "")


def names(response) -> list[str]:
    return [item["resident"].name for item in response.context["items"]]


def test_every_care_group_figure_on_the_home_page_links_to_its_list(as_user, grid_worker):
    body = as_user(grid_worker).get(reverse("home")).content.decode()

    ankang = region(ANKANG)
    for code in ("elderly_alone", "dialysis", "infant", "extreme_hardship"):
        assert f'href="{url(code, region=ankang.pk)}"' in body
    for kind in ("party", "away", "offline", "empty", "no_contact"):
        assert f'href="{url(kind, region=ankang.pk)}"' in body


def test_a_care_group_list_shows_exactly_that_group_inside_the_place(as_user, town_staff):
    hh = f.household(f"{ANKANG}/10栋", room="1101")
    f.resident(hh, "透析甲", birth=dt.date(1960, 1, 2), care_groups=("透析",))
    f.resident(hh, "家属乙", birth=dt.date(1962, 1, 2))

    response = as_user(town_staff).get(url("dialysis", region=region(ANKANG).pk))

    assert response.status_code == 200
    assert names(response) == ["透析甲"]


def test_lists_are_in_building_and_room_order_naturally(as_user, grid_worker):
    for building, room, name in (
        ("10栋", "101", "丙"),
        ("2栋", "1101", "乙"),
        ("2栋", "201", "甲"),
    ):
        hh = f.household(f"{ANKANG}/{building}", room=room)
        f.resident(
            hh, name, birth=dt.date(1940, 1, len(name) + len(room)), care_groups=("独居老人",)
        )

    response = as_user(grid_worker).get(url("elderly_alone", region=region(ANKANG).pk))

    # 王秀英 lives in 1栋; then 2栋 201 before 2栋 1101, and 10栋 last.
    assert names(response) == ["王秀英", "甲", "乙", "丙"]
    addresses = [item["address"] for item in response.context["items"]]
    assert addresses[0] == "1栋 1单元 101室"  # relative to the compound, not the path


def test_filter_by_building_and_by_grid_point(as_user, grid_worker):
    from frontline.territory.services import grid_create

    hh = f.household(f"{ANKANG}/2栋", room="502")
    f.resident(hh, "二栋老人", birth=dt.date(1939, 4, 4), care_groups=("独居老人",))
    point = grid_create(
        region=region(ANKANG), name="第一网格点", coverage=[region(f"{ANKANG}/2栋")]
    )
    client = as_user(grid_worker)

    by_building = client.get(url("elderly_alone", building=region(f"{ANKANG}/1栋").pk))
    by_grid = client.get(url("elderly_alone", region=region(ANKANG).pk, grid=point.pk))

    assert names(by_building) == ["王秀英"]
    assert names(by_grid) == ["二栋老人"]


def test_household_lists_offline_and_empty(as_user, grid_worker):
    empty = f.household(f"{ANKANG}/3栋", room="101")
    client = as_user(grid_worker)

    offline = client.get(url("offline", region=region(ANKANG).pk)).context["items"]
    emptied = client.get(url("empty", region=region(ANKANG).pk)).context["items"]

    # 1栋 101 (王秀英, offline) and the new empty household (no members, nobody online).
    assert {i["household"].pk for i in offline} == {
        f.Household.objects.get(building__path=f"{ANKANG}/1栋").pk,
        empty.pk,
    }
    assert [i["household"].pk for i in emptied] == [empty.pk]


def test_call_button_dials_resident_else_household_else_emergency(as_user, grid_worker):
    hh = f.household(f"{ANKANG}/5栋", room="101")
    f.resident(hh, "无电话", birth=dt.date(1938, 2, 2), care_groups=("独居老人",))
    hh2 = f.household(f"{ANKANG}/5栋", room="102", phone="13600000002")
    f.resident(hh2, "户电话", birth=dt.date(1938, 2, 3), care_groups=("独居老人",))
    hh3 = f.household(f"{ANKANG}/5栋", room="103")
    f.resident(
        hh3,
        "紧急人",
        birth=dt.date(1938, 2, 4),
        care_groups=("独居老人",),
        emergency_name="女儿",
        emergency_relation="女儿",
        emergency_phone="13600000003",
    )

    response = as_user(grid_worker).get(url("elderly_alone", building=region(f"{ANKANG}/5栋").pk))

    calls = {i["resident"].name: i["call"] for i in response.context["items"]}
    assert calls["无电话"] is None
    assert (calls["户电话"].number, calls["户电话"].whom) == ("13600000002", "household")
    assert (calls["紧急人"].number, calls["紧急人"].whom) == ("13600000003", "emergency")
    body = response.content.decode()
    assert 'href="tel:13600000002"' in body and "Nobody to call" in body


def test_a_volunteer_gets_no_call_button_carrying_a_hidden_number(as_user, volunteer):
    response = as_user(volunteer).get(url("elderly_alone", region=region(ANKANG).pk))

    body = response.content.decode()
    assert "13912345678" not in body and "13800001111" not in body
    assert "tel:" not in body
    assert "139****5678" in body


def test_nobody_to_call_lists_care_group_residents_without_any_number(as_user, grid_worker):
    hh = f.household(f"{ANKANG}/6栋", room="101")
    f.resident(hh, "孤老", birth=dt.date(1936, 2, 2), care_groups=("独居老人",))
    f.resident(
        f.household(f"{ANKANG}/6栋", room="102"),
        "有人管",
        birth=dt.date(1936, 2, 3),
        care_groups=("独居老人",),
        emergency_phone="13600000009",
    )

    response = as_user(grid_worker).get(url("no_contact", region=region(ANKANG).pk))

    # 李小红 (婴幼儿) has no phone, but her household's contact... has none either.
    assert sorted(names(response)) == sorted(["孤老", "李小红"])


def test_opening_a_worklist_leaves_one_trace(as_user, grid_worker):
    client = as_user(grid_worker)  # signing in leaves its own event
    before = AuditEvent.objects.count()

    client.get(url("elderly_alone", region=region(ANKANG).pk))

    events = list(AuditEvent.objects.order_by("-id")[: AuditEvent.objects.count() - before])
    assert len(events) == 1
    assert events[0].detail["worklist"] == "elderly_alone"
    assert events[0].detail["channel"] == "page"


@pytest.mark.parametrize("extra", [0, 12])
def test_worklist_query_count_is_bounded(as_user, grid_worker, django_assert_num_queries, extra):
    for n in range(extra):
        hh = f.household(f"{ANKANG}/{n % 4 + 1}栋", room=f"8{n:02d}", phone=f"1360000{n:04d}")
        f.resident(
            hh,
            f"老{n}",
            birth=dt.date(1940, 1, 1) + dt.timedelta(days=n),
            care_groups=("独居老人", "低保"),
        )
    client = as_user(grid_worker)
    ankang = region(ANKANG)
    # session, user, the jurisdiction, the region asked for, audit insert, ids and sort keys, the
    # page's rows, their care groups, the compound's buildings, its grid points.
    with django_assert_num_queries(10):
        response = client.get(url("elderly_alone", region=ankang.pk))
    assert len(response.context["items"]) == 1 + extra


def test_outsider_cannot_list_or_filter_into_another_compound(as_user, outsider, lu_an):
    client = as_user(outsider)

    assert client.get(url("dialysis", region=region(ANKANG).pk)).status_code == 404
    assert client.get(url("dialysis", building=region(f"{ANKANG}/1栋").pk)).status_code == 404
    mine = client.get(url("elderly_alone"))
    assert mine.status_code == 200 and "王秀英" not in mine.content.decode()


def test_unknown_kind_is_404(as_user, grid_worker):
    assert as_user(grid_worker).get(url("nonsense")).status_code == 404


# --- search ------------------------------------------------------------------------------


def test_search_by_care_group_label_lists_that_group(as_user, grid_worker):
    response = as_user(grid_worker).post(reverse("resident_search"), {"q": "独居老人"})

    assert [r.name for r in response.context["page"]] == ["王秀英"]


def test_search_tolerates_spaces(as_user, grid_worker):
    response = as_user(grid_worker).post(reverse("resident_search"), {"q": "王 秀英"})

    assert [r.name for r in response.context["page"]] == ["王秀英"]


def test_search_says_when_a_query_is_too_long(as_user, grid_worker):
    response = as_user(grid_worker).post(reverse("resident_search"), {"q": "王" * 40})

    assert response.status_code == 400
    assert "too long" in response.content.decode()


def test_api_search_says_when_a_query_is_too_long(grid_worker):
    from django.test import Client

    from frontline.accounts.services import user_token

    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {user_token(user=grid_worker)}", HTTP_ACCEPT_LANGUAGE="en"
    )
    response = client.get(reverse("api:resident-list") + "?q=" + "王" * 40)

    assert response.status_code == 400
    assert "too long" in response.json()["detail"]


@pytest.mark.parametrize(("who", "dials"), [("grid_worker", True), ("volunteer", False)])
def test_search_results_and_building_lists_carry_call_buttons_for_full_phones(
    as_user, request, lu_an, who, dials
):
    client = as_user(request.getfixturevalue(who))

    found = client.post(reverse("resident_search"), {"q": "王秀英"}).content.decode()
    building = client.get(
        reverse("region_detail", args=[region(f"{ANKANG}/1栋").pk])
    ).content.decode()

    assert ('href="tel:13912345678"' in found) is dials
    assert ('href="tel:13800001111"' in building) is dials
    assert "tel:" not in found + building or dials
