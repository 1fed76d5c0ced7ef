"""Risk zones: what a place is on any date, setting and lifting, the pinned API, the
pages, the badge, the audit trail and the demo."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from frontline.accounts.services import user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.health.models import RiskZone
from frontline.health.zones import zone_in_force, zone_lift, zone_set, zones_in_force
from frontline.people.models import Household, Resident
from frontline.territory.models import Region

from .conftest import ANKANG, CHUANGYE, LIJINGYUAN, PASSWORD

CST = dt.timezone(dt.timedelta(hours=8))
TOWN = "裕安区/城南镇"


def at(day: int, hour: int = 0, month: int = 4) -> dt.datetime:
    return dt.datetime(2022, month, day, hour, tzinfo=CST)


def region(path: str) -> Region:
    return Region.objects.get(path=path)


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}", HTTP_ACCEPT_LANGUAGE="en"
    )
    return client


@pytest.fixture
def nested(lu_an, town_staff):
    """城南镇 precaution from 4 April; 安康小区 controlled from the 4th; its 1栋 sealed
    from the 4th, lifted on the 20th."""
    town = zone_set(
        region=region(TOWN), level="precaution", since=at(4), reason="静态管理", actor=town_staff
    )
    compound = zone_set(
        region=region(ANKANG), level="controlled", since=at(4), reason="管控", actor=town_staff
    )
    sealed = zone_set(
        region=region(f"{ANKANG}/1栋"),
        level="sealed",
        since=at(4, 8),
        reason="阳性",
        actor=town_staff,
    )
    zone_lift(zone=sealed, at=at(20, 10), reason="解封", actor=town_staff)
    return {"town": town, "compound": compound, "sealed": sealed}


# --- what a place is on a date -----------------------------------------------------------


@pytest.mark.parametrize(
    "when, building_1, building_2, chuangye",
    [
        (at(3), None, None, None),  # before since
        (at(4, 7), "controlled", "controlled", "precaution"),  # before the building's since
        (at(4, 8), "sealed", "controlled", "precaution"),  # exactly at since
        (at(10), "sealed", "controlled", "precaution"),  # during: strictest wins
        (at(20, 10), "controlled", "controlled", "precaution"),  # at the lift: not in force
        (at(1, month=5), "controlled", "controlled", "precaution"),  # after the lift
    ],
)
def test_zone_in_force_on_dates_is_the_strictest_over_the_place(
    nested, when, building_1, building_2, chuangye
):
    def level(place):
        zone = zone_in_force(place, when)
        return zone.level if zone else None

    assert level(region(f"{ANKANG}/1栋")) == building_1
    assert level(region(f"{ANKANG}/2栋")) == building_2
    assert level(region(f"{CHUANGYE}/1栋")) == chuangye
    # A household and a resident are what their building is.
    assert level(Household.objects.get(building__path=f"{ANKANG}/1栋")) == building_1
    assert level(Resident.objects.get(name="王秀英")) == building_1
    # 丽景苑 is in another district: nothing, whatever the date.
    assert level(region(LIJINGYUAN)) is None


def test_zones_in_force_cover_the_subtree_and_the_ancestors(nested):
    ankang = region(ANKANG)

    during = {z.pk for z in zones_in_force(ankang, at(10))}
    after = {z.pk for z in zones_in_force(ankang, at(21))}
    chuangye = {z.pk for z in zones_in_force(region(CHUANGYE), at(10))}

    assert during == {nested["town"].pk, nested["compound"].pk, nested["sealed"].pk}
    assert after == {nested["town"].pk, nested["compound"].pk}
    assert chuangye == {nested["town"].pk}
    assert set(zones_in_force(region(LIJINGYUAN), at(10))) == set()


def test_a_zone_on_the_city_covers_everything(lu_an, city_admin):
    from frontline.territory.services import city

    zone_set(region=city(), level="precaution", since=at(1), reason="全市", actor=city_admin)

    assert zone_in_force(region(LIJINGYUAN), at(2)).level == "precaution"
    assert zone_in_force(Resident.objects.get(name="孙丽"), at(2)).level == "precaution"


# --- setting and lifting -------------------------------------------------------------------


def test_set_and_lift_keep_the_history_and_write_audit_rows(lu_an, town_staff):
    zone = zone_set(
        region=region(ANKANG), level="sealed", since=at(4), reason="出现阳性", actor=town_staff
    )
    zone_lift(zone=zone, at=at(20), reason="连续阴性", actor=town_staff)

    zone.refresh_from_db()
    assert (zone.set_by, zone.since, zone.reason) == (town_staff, at(4), "出现阳性")
    assert (zone.lifted_by, zone.lifted_at, zone.lift_reason) == (town_staff, at(20), "连续阴性")
    events = list(AuditEvent.objects.filter(object_type="risk_zone", object_id=str(zone.pk)))
    assert sorted(e.action for e in events) == ["zone_lift", "zone_set"]
    assert {e.region for e in events} == {ANKANG}
    assert {e.actor_name for e in events} == {"town_staff"}


def test_a_lift_before_since_is_refused(lu_an, town_staff):
    zone = zone_set(
        region=region(ANKANG), level="sealed", since=at(4), reason="r", actor=town_staff
    )

    with pytest.raises(DomainError, match="at"):
        zone_lift(zone=zone, at=at(3), reason="早", actor=town_staff)

    zone.refresh_from_db()
    assert zone.lifted_at is None


def test_lifting_twice_is_a_conflict_even_from_a_stale_copy(lu_an, town_staff):
    zone = zone_set(
        region=region(ANKANG), level="sealed", since=at(4), reason="r", actor=town_staff
    )
    stale = RiskZone.objects.get(pk=zone.pk)
    zone_lift(zone=zone, at=at(20), reason="解封", actor=town_staff)

    with pytest.raises(Conflict):
        zone_lift(zone=stale, at=at(21), reason="再解封", actor=town_staff)

    zone.refresh_from_db()
    assert zone.lifted_at == at(20) and zone.lift_reason == "解封"


def test_the_same_level_twice_on_a_region_is_a_conflict_naming_it(lu_an, town_staff):
    first = zone_set(
        region=region(ANKANG), level="sealed", since=at(4), reason="r", actor=town_staff
    )

    with pytest.raises(Conflict) as refused:
        zone_set(region=region(ANKANG), level="sealed", since=at(6), reason="r2", actor=town_staff)

    assert ANKANG in refused.value.message and str(first.pk) in refused.value.message
    assert RiskZone.objects.count() == 1
    # Another level, another region, or after the lift: allowed.
    zone_set(region=region(ANKANG), level="controlled", since=at(6), reason="r", actor=town_staff)
    zone_set(region=region(CHUANGYE), level="sealed", since=at(6), reason="r", actor=town_staff)
    zone_lift(zone=first, at=at(20), reason="解封", actor=town_staff)
    zone_set(region=region(ANKANG), level="sealed", since=at(25), reason="又封", actor=town_staff)
    # ... but not from a time the lifted one still covers.
    with pytest.raises(Conflict):
        zone_set(region=region(ANKANG), level="sealed", since=at(10), reason="r", actor=town_staff)


@pytest.mark.parametrize("who", ["grid_worker", "volunteer"])
def test_roles_without_manage_zones_are_refused(lu_an, who, request):
    user = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        zone_set(region=region(ANKANG), level="sealed", since=at(4), reason="r", actor=user)

    assert not RiskZone.objects.exists()


def test_regions_outside_the_jurisdiction_are_not_found(lu_an, community_staff, town_staff):
    with pytest.raises(NotFound):
        zone_set(
            region=region(CHUANGYE), level="sealed", since=at(4), reason="r", actor=community_staff
        )
    zone = zone_set(
        region=region(CHUANGYE), level="sealed", since=at(4), reason="r", actor=town_staff
    )
    with pytest.raises(NotFound):
        zone_lift(zone=zone, at=at(5), reason="r", actor=community_staff)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"level": "red"}, "level"),
        ({"since": dt.datetime(2022, 4, 4)}, "since"),  # no offset
        ({"reason": "  "}, "reason"),
        ({"reason": "长" * 201}, "reason"),
    ],
)
def test_bad_values_are_refused_naming_the_field(lu_an, town_staff, changes, field):
    values = {"region": region(ANKANG), "level": "sealed", "since": at(4), "reason": "r"}
    values.update(changes)

    with pytest.raises(DomainError) as refused:
        zone_set(**values, actor=town_staff)

    assert field in refused.value.message
    assert not RiskZone.objects.exists()


# --- the API -------------------------------------------------------------------------------


def test_api_sets_lists_lifts_and_shows_the_history(lu_an, town_staff):
    client = api(town_staff)

    created = client.post(
        "/api/v1/zones",
        {
            "region": f"{ANKANG}/1栋",
            "level": "sealed",
            "since": "2022-04-04T08:00:00+08:00",
            "reason": "出现阳性",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]

    def listed(on):
        body = client.get("/api/v1/zones", {"region": ANKANG, "on": on}).json()
        assert body["count"] == len(body["results"])
        return [z["id"] for z in body["results"]]

    assert listed("2022-04-03T23:00:00+08:00") == []
    assert listed("2022-04-10") == [pk]
    lifted = client.post(
        f"/api/v1/zones/{pk}/lift",
        {"at": "2022-04-20T10:00:00+08:00", "reason": "解封"},
        format="json",
    )
    assert lifted.status_code == 200
    assert listed("2022-04-10") == [pk]
    assert listed("2022-04-21") == []
    detail = client.get(f"/api/v1/zones/{pk}").json()
    assert detail["region"] == f"{ANKANG}/1栋" and detail["level"] == "sealed"
    assert [(e["event"], e["by"], e["reason"]) for e in detail["history"]] == [
        ("set", "town_staff", "出现阳性"),
        ("lift", "town_staff", "解封"),
    ]
    again = client.post(
        f"/api/v1/zones/{pk}/lift",
        {"at": "2022-04-21T10:00:00+08:00", "reason": "再"},
        format="json",
    )
    assert again.status_code == 409


def test_api_list_defaults_to_now_and_the_jurisdiction(nested, grid_worker):
    body = api(grid_worker).get("/api/v1/zones").json()

    # Now: the sealed building was lifted; 安康小区 and 城南镇 are still in force.
    assert {z["id"] for z in body["results"]} == {nested["town"].pk, nested["compound"].pk}


def test_api_same_level_twice_is_409_naming_the_zone(nested, town_staff):
    response = api(town_staff).post(
        "/api/v1/zones",
        {
            "region": ANKANG,
            "level": "controlled",
            "since": "2022-04-05T00:00:00+08:00",
            "reason": "r",
        },
        format="json",
    )

    assert response.status_code == 409
    assert (
        ANKANG in response.json()["detail"]
        and str(nested["compound"].pk) in response.json()["detail"]
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"level": "red"}, "level"),
        ({"since": "4 April"}, "since"),
        ({"since": "2022-04-04T08:00:00"}, "since"),  # no offset
        ({"reason": ""}, "reason"),
        ({"region": ""}, "region"),
    ],
)
def test_api_bad_input_is_400_naming_the_field(lu_an, town_staff, body, field):
    data = {
        "region": ANKANG,
        "level": "sealed",
        "since": "2022-04-04T08:00:00+08:00",
        "reason": "r",
    }
    data.update(body)

    response = api(town_staff).post("/api/v1/zones", data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not RiskZone.objects.exists()


def test_api_bad_on_and_bad_lift_are_400(nested, town_staff):
    client = api(town_staff)
    assert "on" in client.get("/api/v1/zones", {"on": "yesterday"}).json()
    pk = nested["compound"].pk
    early = client.post(
        f"/api/v1/zones/{pk}/lift",
        {"at": "2022-04-01T00:00:00+08:00", "reason": "r"},
        format="json",
    )
    assert early.status_code == 400 and "at" in early.json()["detail"]
    missing = client.post(f"/api/v1/zones/{pk}/lift", {"at": "2022-05-01T00:00:00+08:00"})
    assert missing.status_code == 400 and "reason" in missing.json()
    assert RiskZone.objects.get(pk=pk).lifted_at is None


def test_api_refuses_roles_and_places(nested, grid_worker, community_staff, outsider):
    body = {
        "region": ANKANG,
        "level": "sealed",
        "since": "2022-04-04T08:00:00+08:00",
        "reason": "r",
    }
    pk = nested["compound"].pk
    lift = {"at": "2022-05-01T00:00:00+08:00", "reason": "r"}

    assert api(grid_worker).post("/api/v1/zones", body, format="json").status_code == 403
    assert api(grid_worker).post(f"/api/v1/zones/{pk}/lift", lift, format="json").status_code == 403
    elsewhere = {**body, "region": CHUANGYE}
    assert api(community_staff).post("/api/v1/zones", elsewhere, format="json").status_code == 404
    assert api(outsider).get(f"/api/v1/zones/{pk}").status_code == 404
    assert api(outsider).get("/api/v1/zones", {"region": ANKANG}).status_code == 404
    assert api(outsider).get("/api/v1/zones").json()["count"] == 0
    assert RiskZone.objects.count() == 3 and RiskZone.objects.get(pk=pk).lifted_at is None


def test_api_list_query_count_does_not_grow_with_zones(
    nested, town_staff, django_assert_max_num_queries
):
    client = api(town_staff)
    zone_set(region=region(f"{ANKANG}/2栋"), level="sealed", since=at(3, month=6), reason="r")
    zone_set(region=region(CHUANGYE), level="controlled", since=at(4, month=6), reason="r")

    # token, user, region by path, count, page (regions joined).
    with django_assert_max_num_queries(7):
        body = client.get("/api/v1/zones", {"region": TOWN, "on": "2022-06-10"}).json()
    assert body["count"] == 4


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def page(client):
    def sign_in(user):
        assert client.login(username=user.username, password=PASSWORD)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


def test_zones_page_sets_lifts_and_shows_the_history_as_of_a_date(lu_an, town_staff, page):
    client = page(town_staff)
    ankang = region(ANKANG)
    url = reverse("health_zones") + f"?region={ankang.pk}"

    client.post(url, {"level": "sealed", "since": "2022-04-04T08:00", "reason": "出现阳性"})
    zone = RiskZone.objects.get()
    assert zone.since == at(4, 8) and zone.set_by == town_staff
    client.post(
        reverse("health_zone_lift", args=[zone.pk]), {"at": "2022-04-20T10:00", "reason": "解封"}
    )
    zone.refresh_from_db()
    assert zone.lifted_at == at(20, 10)

    during = client.get(url + "&on=2022-04-10").content.decode()
    after = client.get(url).content.decode()
    assert "zones-in-force" in during and "出现阳性" in during.split("zone-history")[0]
    assert "No zone in force on that date." in after
    assert "解封" in after and "出现阳性" in after  # the history shows both


def test_zones_page_shows_refusals_and_writes_nothing(nested, town_staff, page):
    client = page(town_staff)
    url = reverse("health_zones") + f"?region={region(ANKANG).pk}"

    response = client.post(
        url, {"level": "controlled", "since": "2022-04-05T00:00", "reason": "r"}, follow=True
    )

    assert "already" in response.content.decode()
    assert RiskZone.objects.count() == 3


def test_zones_page_refuses_roles_and_places(nested, grid_worker, page, outsider):
    ankang = region(ANKANG)
    worker = page(grid_worker)
    assert worker.get(reverse("health_zones") + f"?region={ankang.pk}").status_code == 200
    refused = worker.post(
        reverse("health_zones") + f"?region={ankang.pk}",
        {"level": "sealed", "since": "2022-06-01T00:00", "reason": "r"},
    )
    assert refused.status_code == 403
    lift = worker.post(
        reverse("health_zone_lift", args=[nested["compound"].pk]),
        {"at": "2022-06-01T00:00", "reason": "r"},
    )
    assert lift.status_code == 403
    assert RiskZone.objects.count() == 3
    assert RiskZone.objects.get(pk=nested["compound"].pk).lifted_at is None


def test_the_badge_shows_on_household_region_and_home_pages(nested, grid_worker, page):
    client = page(grid_worker)
    household = Household.objects.get(building__path=f"{ANKANG}/1栋")

    pages = {
        "household": client.get(reverse("household_detail", args=[household.pk])),
        "region": client.get(reverse("region_detail", args=[region(ANKANG).pk])),
        "home": client.get(reverse("home")),
        "hub": client.get(reverse("health_index")),
    }

    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200, name
        # The building was lifted on 20 April 2022: now the compound's control holds.
        assert 'class="zone-badge zone-controlled"' in body, name
        assert "zone-sealed" not in body, name
    assert reverse("health_index") in pages["home"].content.decode()


def test_health_nav_and_hub_links_only_existing_pages(lu_an, grid_worker, page):
    body = page(grid_worker).get(reverse("health_index")).content.decode()

    assert reverse("health_zones") in body
    assert "Testing rounds" in body
    assert reverse("testing_rounds") in body  # every area is linked from the hub now


def test_zones_page_query_count_does_not_grow_with_history(
    nested, town_staff, page, django_assert_max_num_queries
):
    client = page(town_staff)
    for day in range(1, 8):
        zone = zone_set(
            region=region(f"{ANKANG}/2栋"), level="sealed", since=at(day, month=6), reason="r"
        )
        zone_lift(zone=zone, at=at(day, 12, month=6), reason="r")
    url = reverse("health_zones") + f"?region={region(ANKANG).pk}"

    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert len(response.context["history"]) == 10


# --- the demo -------------------------------------------------------------------------------


def test_demo_zones_seal_the_four_buildings_of_90_households_and_are_idempotent(db):
    from frontline.accounts.services import user_create
    from frontline.core.demo import ANKANG as DEMO_ANKANG
    from frontline.core.demo import ANKANG_SEALED_BUILDINGS
    from frontline.health.zones import load_demo
    from tests import factories as f

    compound = "/".join(DEMO_ANKANG)
    # The four buildings with the households the demo gives them, and one other building.
    for name, n in ANKANG_SEALED_BUILDINGS.items():
        for room in range(n):
            f.household(f"{compound}/{name}", room=str(101 + room))
    f.household(f"{compound}/1栋")
    staff = user_create(
        username="township_staff", role="township_staff", region=f.region("裕安区/城南镇")
    )
    users = {"township_staff": staff}

    load_demo(users, lambda message: None)
    first = list(RiskZone.objects.order_by("id").values_list("id", "lifted_at"))
    load_demo(users, lambda message: None)

    assert list(RiskZone.objects.order_by("id").values_list("id", "lifted_at")) == first
    sealed = RiskZone.objects.filter(level="sealed")
    assert sealed.count() == 4
    assert Household.objects.filter(building__in=sealed.values("region")).count() == 90
    assert {z.since for z in sealed} == {at(4)}
    assert all(z.lifted_at is not None and z.lifted_at > at(4) for z in sealed)
    on_the_10th = zone_in_force(Region.objects.get(path=f"{compound}/3栋"), at(10))
    assert on_the_10th.level == "sealed"
    assert zone_in_force(Region.objects.get(path=f"{compound}/3栋")).level == "controlled"
    assert zone_in_force(Region.objects.get(path=f"{compound}/1栋")).level == "controlled"
    assert zone_in_force(Region.objects.get(path="裕安区/城南镇")).level == "precaution"
    assert timezone.now() > at(20)
