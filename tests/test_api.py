"""The REST API under /api/v1/: auth, jurisdiction, masking, pagination, schema, docs."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from frontline.accounts.services import user_token
from frontline.api import urls as api_urls
from frontline.core.masking import mask_id_number, mask_phone
from frontline.people.models import CARE_GROUP_LABELS, Household, Resident
from frontline.territory.models import GridMember, Level, Region
from frontline.territory.services import grid_add_member, grid_create, grid_households

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN

API = "/api/v1"


def api(user=None, **headers) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}", **headers)
    return client


def get(user, url, **params):
    return api(user).get(f"{API}/{url}", params)


@pytest.fixture
def grids(lu_an):
    """A community grid over 陡步河社区 with a grid point at 安康小区, one at 丽景苑."""
    community = grid_create(region=f.region("裕安区/城南镇/陡步河社区"), name="陡步河社区网格")
    ankang = grid_create(
        region=f.region(ANKANG),
        name="安康小区网格点",
        parent=community,
        coverage=[f.region(f"{ANKANG}/1栋"), f.region(f"{ANKANG}/2栋")],
        duties="扫楼摸底、物资配送",
    )
    grid_add_member(grid=ankang, role=GridMember.Role.CHIEF, name="陈网格长", phone="13511112222")
    grid_add_member(grid=ankang, role=GridMember.Role.WORKER, name="刘网格员", phone="13533334444")
    lijing = grid_create(region=f.region(LIJINGYUAN), name="丽景苑网格点")
    return {"community": community, "ankang": ankang, "lijingyuan": lijing}


# --- authentication ----------------------------------------------------------------------


def test_bearer_token_authenticates(grid_worker):
    response = get(grid_worker, "households")
    assert response.status_code == 200
    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-token", "Bearer ", "Token {token}", "{token}"],
    ids=["missing", "wrong", "empty", "other-keyword", "no-keyword"],
)
def test_missing_or_wrong_token_is_401(grid_worker, header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header.format(token=user_token(user=grid_worker)))
    response = client.get(f"{API}/households")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


PUBLIC_ROUTES = {"root", "schema", "docs", "no-such-route"}


def _private_routes() -> list[str]:
    return [
        reverse(
            f"api:{p.name}",
            kwargs={key: 1 for key in ("pk", "photo") if f"<int:{key}>" in str(p.pattern)} or None,
        )
        for p in api_urls.urlpatterns
        if p.name not in PUBLIC_ROUTES
    ]


@pytest.mark.parametrize("url", _private_routes())
def test_every_private_route_needs_a_token(db, url):
    response = APIClient().get(url, HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert APIClient().get(url).status_code == 401


def test_inactive_account_token_is_401(grid_worker):
    client = api(grid_worker)
    grid_worker.is_active = False
    grid_worker.save(update_fields=["is_active"])
    assert client.get(f"{API}/households").status_code == 401


@pytest.mark.parametrize("who", ["grid_worker", "city_admin", "no_region"])
def test_the_token_lookup_compiled_once_gives_what_the_orm_gives(request, who, lu_an):
    """token_for_key runs the ORM's SQL compiled once: the token, its account and the
    account's region must equal, field for field, what the queryset itself loads (on
    SQLite, whose datetimes and booleans need the converters, and on PostgreSQL)."""
    from frontline.accounts.models import ApiToken, User
    from frontline.accounts.services import token_for_key, token_hash

    if who == "no_region":  # the deployment's operator: a superuser with no region
        user = User.objects.create(username="operator", is_superuser=True, region=None)
    else:
        user = request.getfixturevalue(who)
    key = user_token(user=user)
    orm = ApiToken.objects.select_related("user__region").get(key_hash=token_hash(key))
    fast = token_for_key(key)
    for a, b in ((orm, fast), (orm.user, fast.user), (orm.user.region, fast.user.region)):
        if a is None:
            assert b is None
            continue
        assert type(a) is type(b) and not b._state.adding and b._state.db == "default"
        for field in type(a)._meta.concrete_fields:
            assert getattr(a, field.attname) == getattr(b, field.attname), field.attname
    assert isinstance(fast.expires, dt.datetime) and fast.expires.tzinfo is not None
    assert fast.user.is_active is True
    with CaptureQueriesContext(connection) as queries:
        assert fast.user.region == orm.user.region  # loaded with it: no query
    assert not queries
    assert token_for_key("no-such-key") is None and token_for_key("") is None


def test_session_login_works_too(client, grid_worker):
    client.force_login(grid_worker)
    response = client.get(f"{API}/stats")
    assert response.status_code == 200
    assert response.json()["region"] == ANKANG


# --- stats ---------------------------------------------------------------------------------


def _under(path: str, region_path: str) -> bool:
    return not path or region_path == path or region_path.startswith(path + "/")


def _independent_stats(path: str) -> dict:
    """The figures recomputed in Python from paths, not from the ancestor columns."""
    households = [
        h for h in Household.objects.select_related("building") if _under(path, h.building.path)
    ]
    residents = [
        r
        for r in Resident.objects.select_related("household__building").prefetch_related(
            "care_groups"
        )
        if _under(path, r.household.building.path)
    ]
    online = Counter(r.household_id for r in residents if r.can_order_online is True)
    groups = Counter(CARE_GROUP_LABELS[m.group] for r in residents for m in r.care_groups.all())
    regions = [r for r in Region.objects.exclude(level=Level.CITY) if _under(path, r.path)]
    return {
        "households": len(households),
        "residents": len(residents),
        "buildings": sum(r.level == Level.BUILDING for r in regions),
        "compounds": sum(r.level == Level.COMPOUND for r in regions),
        "party_members": sum(r.is_party_member for r in residents),
        "away": sum(r.away for r in residents),
        "cannot_order_online": sum(online[h.pk] == 0 for h in households),
        "care_groups": {label: groups[label] for label in CARE_GROUP_LABELS.values()},
    }


@pytest.mark.parametrize(
    "path", ["", "裕安区", "裕安区/城南镇", ANKANG, f"{ANKANG}/2栋", CHUANGYE, LIJINGYUAN, "金安区"]
)
def test_stats_equal_an_independent_count(city_admin, path):
    response = get(city_admin, "stats", **({"region": path} if path else {}))
    assert response.status_code == 200
    data = response.json()
    expected = _independent_stats(path)
    assert {key: data[key] for key in expected} == expected
    assert data["region"] == (path or "六安市")


def test_stats_of_ankang_are_the_fixture_figures(city_admin):
    data = get(city_admin, "stats", region=ANKANG).json()
    assert data["households"] == 2
    assert data["residents"] == 3
    assert data["buildings"] == 2
    assert data["compounds"] == 1
    assert data["party_members"] == 1
    # 1栋 101: 王秀英 cannot order online; 2栋 302: 李强 can.
    assert data["cannot_order_online"] == 1
    assert data["care_groups"]["独居老人"] == 1
    assert data["care_groups"]["婴幼儿"] == 1
    assert data["care_groups"]["低保"] == 0
    assert set(data["care_groups"]) == set(CARE_GROUP_LABELS.values())


@pytest.mark.parametrize(
    ("who", "expected_region"),
    [("grid_worker", ANKANG), ("town_staff", "裕安区/城南镇"), ("outsider", LIJINGYUAN)],
)
def test_stats_default_to_the_callers_jurisdiction(request, who, expected_region):
    data = get(request.getfixturevalue(who), "stats").json()
    assert data["region"] == expected_region
    assert data["households"] == _independent_stats(expected_region)["households"]


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("outsider", ANKANG),
        ("outsider", "裕安区"),
        ("outsider", ""),  # a blank path means the default, so it is not refused
        ("grid_worker", CHUANGYE),
        ("grid_worker", "裕安区/城南镇/陡步河社区"),
        ("community_staff", "裕安区"),
        ("town_staff", "六安市"),
    ],
)
def test_stats_outside_the_jurisdiction_is_404(request, who, path):
    response = get(request.getfixturevalue(who), "stats", region=path)
    if not path:
        assert response.status_code == 200
        return
    assert response.status_code == 404
    assert path in response.json()["detail"]


def test_stats_unknown_path_is_404_and_says_which(city_admin):
    response = get(city_admin, "stats", region="裕安区/不存在镇")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "裕安区/不存在镇" in response.json()["detail"]


def test_outside_and_unknown_paths_look_the_same(outsider):
    outside = get(outsider, "stats", region=ANKANG).json()["detail"]
    unknown = get(outsider, "stats", region="裕安区/不存在镇").json()["detail"]
    assert outside.replace(ANKANG, "X") == unknown.replace("裕安区/不存在镇", "X")


# --- the outsider sees nothing of 安康小区 --------------------------------------------------


def _ankang_objects(lu_an, grids):
    household = lu_an["ankang"][0]
    return {
        "households": household.pk,
        "residents": household.residents.first().pk,
        "regions": Region.objects.get(path=ANKANG).pk,
        "grids": grids["ankang"].pk,
    }


@pytest.mark.parametrize("kind", ["households", "residents", "regions", "grids"])
def test_outsider_gets_404_for_ankang_objects(lu_an, grids, outsider, grid_worker, kind):
    pk = _ankang_objects(lu_an, grids)[kind]
    assert get(grid_worker, f"{kind}/{pk}").status_code == 200
    response = get(outsider, f"{kind}/{pk}")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize("kind", ["households", "residents", "regions", "grids"])
def test_missing_id_is_the_same_404(city_admin, kind):
    response = get(city_admin, f"{kind}/999999")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize("kind", ["households", "residents", "regions", "grids"])
def test_outsider_never_lists_ankang(lu_an, grids, outsider, kind):
    results = get(outsider, kind, page_size=500).json()["results"]
    assert results
    text = json.dumps(results, ensure_ascii=False)
    assert "安康小区" not in text
    assert "城南镇" not in text
    assert _ankang_objects(lu_an, grids)[kind] not in {row["id"] for row in results}


@pytest.mark.parametrize("kind", ["households", "residents", "regions", "grids"])
def test_outsider_cannot_filter_into_ankang(grids, outsider, kind):
    response = get(outsider, kind, region=ANKANG)
    assert response.status_code == 404
    assert ANKANG in response.json()["detail"]


def test_outsider_never_finds_ankang_residents(lu_an, outsider):
    wang = Resident.objects.get(name="王秀英")
    for q in ["王秀英", "王", "5678", "李"]:
        response = get(outsider, "residents", q=q)
        assert response.status_code == 200
        assert response.json()["count"] == 0, q
    # A grid worker sees ID numbers masked: searching by one is refused outright.
    assert get(outsider, "residents", q=wang.id_number).status_code == 400
    assert get(outsider, "residents", q="孙丽").json()["count"] == 1


def test_outsider_cannot_list_children_of_an_ankang_region(lu_an, outsider):
    ankang = Region.objects.get(path=ANKANG)
    assert get(outsider, "regions", parent=ankang.pk).status_code == 404


# --- lists, details, search -----------------------------------------------------------------


def test_household_list_fields(lu_an, grid_worker):
    results = get(grid_worker, "households").json()["results"]
    first = next(row for row in results if row["id"] == lu_an["ankang"][0].pk)
    assert first == {
        "id": lu_an["ankang"][0].pk,
        "address": f"{ANKANG}/1栋 1单元 101室",
        "building": f"{ANKANG}/1栋",
        "unit": "1",
        "room": "101",
        "phone": "13800001111",
        "members": 1,
        "members_away": 0,
        "online_members": 0,
        "lived_in": True,
    }


def test_household_list_by_region(lu_an, town_staff):
    everything = get(town_staff, "households").json()
    assert everything["count"] == 3
    chuangye = get(town_staff, "households", region=CHUANGYE).json()
    assert [row["id"] for row in chuangye["results"]] == [lu_an["chuangye"].pk]


def test_household_detail_has_its_residents(lu_an, grid_worker):
    household = lu_an["ankang"][1]
    data = get(grid_worker, f"households/{household.pk}").json()
    assert data["address"] == f"{ANKANG}/2栋 1单元 302室"
    assert sorted(r["name"] for r in data["residents"]) == ["李小红", "李强"]
    baby = next(r for r in data["residents"] if r["name"] == "李小红")
    assert baby["care_groups"] == ["婴幼儿"]
    assert baby["sex"] == "F"
    # A grid worker sees ID numbers masked, so no birth date (it is the masked digits).
    assert baby["birth_date"] is None
    assert baby["age"] >= 4


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("王秀英", ["王秀英"]),
        ("李", ["李强", "李小红"]),
        ("小红", ["李小红"]),
        ("5678", ["王秀英"]),  # phone 13912345678
        ("2222", ["李强"]),
        ("0000", []),
        ("  ", ["王秀英", "李强", "李小红"]),
        ("赵建国", []),  # 创业小区, outside a grid worker of 安康小区
    ],
)
def test_resident_search(lu_an, grid_worker, q, names):
    data = get(grid_worker, "residents", q=q).json()
    assert data["count"] == len(names)
    assert sorted(r["name"] for r in data["results"]) == sorted(names)


@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_resident_search_by_id_number(lu_an, community_staff, case):
    wang = Resident.objects.get(name="王秀英")
    Resident.objects.filter(pk=wang.pk).update(id_number=wang.id_number[:17] + "X")
    data = get(community_staff, "residents", q=case(wang.id_number[:17] + "X")).json()
    assert [r["id"] for r in data["results"]] == [wang.pk]


def test_resident_detail(lu_an, community_staff):
    wang = Resident.objects.get(name="王秀英")
    data = get(community_staff, f"residents/{wang.pk}").json()
    assert data["name"] == "王秀英"
    assert data["household"] == lu_an["ankang"][0].pk
    assert data["address"] == f"{ANKANG}/1栋 1单元 101室"
    assert data["care_groups"] == ["独居老人"]
    assert data["can_order_online"] is False
    assert data["age"] >= 81


def test_region_list_children_subtree_and_level(lu_an, town_staff):
    town = Region.objects.get(path="裕安区/城南镇")
    children = get(town_staff, "regions", parent=town.pk).json()["results"]
    assert sorted(r["path"] for r in children) == [
        "裕安区/城南镇/城南社区",
        "裕安区/城南镇/陡步河社区",
    ]
    assert all(r["parent"] == town.pk and r["level"] == Level.COMMUNITY for r in children)

    subtree = get(town_staff, "regions", region=ANKANG).json()["results"]
    assert [r["path"] for r in subtree] == [ANKANG, f"{ANKANG}/1栋", f"{ANKANG}/2栋"]

    buildings = get(town_staff, "regions", level=Level.BUILDING).json()["results"]
    assert {r["path"] for r in buildings} == {f"{ANKANG}/1栋", f"{ANKANG}/2栋", f"{CHUANGYE}/1栋"}


def test_region_detail(lu_an, grid_worker):
    ankang = Region.objects.get(path=ANKANG)
    data = get(grid_worker, f"regions/{ankang.pk}").json()
    assert data == {
        "id": ankang.pk,
        "name": "安康小区",
        "level": Level.COMPOUND,
        "level_label": str(Level.COMPOUND.label),
        "kind": "小区",
        "path": ANKANG,
        "parent": ankang.parent_id,
    }


@pytest.mark.parametrize("param", [{"parent": "abc"}, {"level": "x"}])
def test_bad_integer_parameter_is_400(city_admin, param):
    response = get(city_admin, "regions", **param)
    assert response.status_code == 400
    assert next(iter(param)) in response.json()["detail"]


def test_grid_detail(grids, grid_worker):
    grid = grids["ankang"]
    data = get(grid_worker, f"grids/{grid.pk}").json()
    assert data["name"] == "安康小区网格点"
    assert data["level"] == 4
    assert data["region"] == ANKANG
    assert data["parent"] == grids["community"].pk
    assert data["coverage"] == [f"{ANKANG}/1栋", f"{ANKANG}/2栋"]
    assert data["households"] == grid_households(grid).count() == 2
    assert data["duties"] == "扫楼摸底、物资配送"
    assert [m["name"] for m in data["chiefs"]] == ["陈网格长"]
    assert [m["name"] for m in data["workers"]] == ["刘网格员"]


def test_grid_list_counts_households(grids, community_staff):
    results = get(community_staff, "grids").json()["results"]
    by_name = {row["name"]: row for row in results}
    assert set(by_name) == {"陡步河社区网格", "安康小区网格点"}
    for grid in (grids["community"], grids["ankang"]):
        assert by_name[grid.name]["households"] == grid_households(grid).count()


def test_grid_household_count_does_not_double_count_overlapping_coverage(grids, city_admin):
    grid = grid_create(
        region=f.region(ANKANG),
        name="重叠网格点",
        coverage=[f.region(ANKANG), f.region(f"{ANKANG}/1栋")],
    )
    assert get(city_admin, f"grids/{grid.pk}").json()["households"] == 2


# --- masking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "full_id", "full_phone"),
    [
        ("city_admin", True, True),
        ("community_staff", True, True),
        ("grid_worker", False, True),
        ("volunteer", False, False),
    ],
)
def test_masking_follows_the_role(request, lu_an, grids, who, full_id, full_phone):
    user = request.getfixturevalue(who)
    wang = Resident.objects.get(name="王秀英")
    household = lu_an["ankang"][0]
    id_shown = wang.id_number if full_id else mask_id_number(wang.id_number)
    phone_shown = "13912345678" if full_phone else mask_phone("13912345678")

    detail = get(user, f"residents/{wang.pk}").json()
    assert (detail["id_number"], detail["phone"]) == (id_shown, phone_shown)

    listed = get(user, "residents", q="王秀英").json()["results"][0]
    assert (listed["id_number"], listed["phone"]) == (id_shown, phone_shown)

    in_household = get(user, f"households/{household.pk}").json()
    assert in_household["residents"][0]["id_number"] == id_shown
    assert in_household["residents"][0]["phone"] == phone_shown
    assert in_household["phone"] == ("13800001111" if full_phone else "138****1111")

    row = next(r for r in get(user, "households").json()["results"] if r["id"] == household.pk)
    assert row["phone"] == in_household["phone"]

    # A grid member's phone is a work number the people served must reach (a volunteer
    # calls the chief): every role sees it in full (Policy.staff_phone).
    grid = get(user, f"grids/{grids['ankang'].pk}").json()
    assert grid["chiefs"][0]["phone"] == "13511112222"

    body = json.dumps([detail, listed, in_household, row, grid], ensure_ascii=False)
    assert (wang.id_number in body) is full_id
    assert ("13912345678" in body) is full_phone


def test_masked_values_differ_between_community_staff_and_volunteer(
    lu_an, community_staff, volunteer
):
    wang = Resident.objects.get(name="王秀英")
    staff = get(community_staff, f"residents/{wang.pk}").json()
    vol = get(volunteer, f"residents/{wang.pk}").json()
    assert staff["id_number"] == wang.id_number
    assert vol["id_number"] == wang.id_number[:6] + "********" + wang.id_number[-4:]
    assert staff["phone"] == "13912345678"
    assert vol["phone"] == "139****5678"


# --- pagination and query counts --------------------------------------------------------------


def test_pagination_shape(lu_an, city_admin):
    first = get(city_admin, "households", page_size=2).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 4
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = get(city_admin, "households", page_size=2, page=2).json()
    assert second["next"] is None
    assert second["previous"]
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert sorted(ids) == sorted(Household.objects.values_list("id", flat=True))


def test_default_page_size_is_50(lu_an, city_admin):
    for room in range(60):
        f.household(f"{ANKANG}/3栋", room=str(1000 + room))
    data = get(city_admin, "households").json()
    assert data["count"] == 64
    assert len(data["results"]) == 50


def test_page_past_the_end_is_a_json_404(lu_an, city_admin):
    response = get(city_admin, "households", page=99)
    assert response.status_code == 404
    assert response.json()["detail"]


def _more_of_everything(n: int) -> None:
    for i in range(n):
        household = f.household(f"{ANKANG}/{3 + i}栋", room="101", phone="13900000000")
        # Distinct birth dates: the factory's sequence alone can repeat an ID number.
        f.resident(
            household,
            f"王{i}",
            birth=dt.date(1950, 1, 1 + i),
            care_groups=("独居老人", "低保"),
            phone="13900000000",
        )
        f.resident(household, f"刘{i}", birth=dt.date(1960, 1, 1 + i), care_groups=("透析",))
        grid = grid_create(
            region=f.region(ANKANG),
            name=f"网格点{i}",
            coverage=[f.region(f"{ANKANG}/{3 + i}栋")],
        )
        grid_add_member(grid=grid, role=GridMember.Role.CHIEF, name=f"长{i}", phone="13600000000")
        grid_add_member(grid=grid, role=GridMember.Role.WORKER, name=f"员{i}")


@pytest.mark.parametrize(
    "url",
    ["households", "residents", "residents?q=王", "regions", "grids", "stats"]
    + ["households?region=" + ANKANG, "grids?region=" + ANKANG],
)
def test_list_query_count_does_not_grow_with_rows(
    grids, community_staff, django_assert_num_queries, url
):
    client = api(community_staff)
    # The first call also notes the token's use (written at most once a minute).
    client.get(f"{API}/{url}")
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{API}/{url}").status_code == 200
    _more_of_everything(8)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(f"{API}/{url}")
    assert response.status_code == 200
    if "count" in response.json():
        assert response.json()["count"] > 0


# --- schema and docs --------------------------------------------------------------------------


def test_schema_is_public_openapi_json_documenting_every_route(db):
    response = APIClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on anything the OpenAPI 3 JSON schema rejects
    paths = set(schema["paths"])
    for route in [
        "stats",
        "regions",
        "regions/{id}",
        "households",
        "households/{id}",
        "residents",
        "residents/{id}",
        "grids",
        "grids/{id}",
    ]:
        assert f"{API}/{route}" in paths
    assert {"type": "http", "scheme": "bearer"} in schema["components"]["securitySchemes"].values()
    parameters = {p["name"] for p in schema["paths"][f"{API}/residents"]["get"]["parameters"]}
    assert {"q", "region", "page", "page_size"} <= parameters
    stats = schema["paths"][f"{API}/stats"]["get"]["responses"]
    assert {"200", "401", "404"} <= set(stats)


def test_schema_ignores_a_stale_token(db):
    response = api(None).get(f"{API}/openapi.json", HTTP_AUTHORIZATION="Bearer stale")
    assert response.status_code == 200


def test_docs_page_uses_only_local_assets(db):
    response = APIClient().get(f"{API}/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", html)
    assert any(src.endswith("swagger-ui-bundle.js") for src in sources)
    for src in sources:
        # Swagger UI's start-up script comes from the page's own URL (no inline script).
        assert src.startswith(("/static/", f"{API}/docs/?script")), src
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    assert "<script>" not in html
    script = APIClient().get(f"{API}/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert f"{API}/openapi.json" in script.content.decode()


def test_docs_assets_are_served(db, client):
    html = APIClient().get(f"{API}/docs/").content.decode()
    for src in re.findall(r"""<script\b[^>]*\bsrc=["']([^"']+)["']""", html):
        response = client.get(src)
        assert response.status_code == 200, src


@pytest.mark.parametrize(
    "url", ["households/abc", "households/", "nothing-here", "residents/1/extra"]
)
def test_unknown_api_routes_are_json_404(city_admin, url):
    response = get(city_admin, url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert f"{API}/{url}" in response.json()["detail"]


def test_docs_without_trailing_slash(db):
    assert APIClient().get(f"{API}/docs").status_code == 200


def test_errors_follow_accept_language(outsider):
    response = api(outsider, HTTP_ACCEPT_LANGUAGE="en").get(f"{API}/stats", {"region": ANKANG})
    assert response.status_code == 404
    assert response.json() == {"detail": f"No region at path “{ANKANG}”."}
