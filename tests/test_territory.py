"""The region tree: creating, renaming and moving keep every fact's ancestors exact."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from frontline.core.errors import DomainError, NotFound
from frontline.people.models import Household, Resident, ResidentCareGroup
from frontline.people.stats import census_stats
from frontline.territory.models import Grid, Level, Region
from frontline.territory.services import (
    city,
    grid_create,
    region_by_path,
    region_create,
    region_move,
    region_rename,
)

from . import factories as f
from .conftest import ANKANG, CHUANGYE, PASSWORD


@pytest.fixture(autouse=True)
def _english(client):
    # Messages are asserted in English; the Chinese catalogue has its own test.
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("path", "level", "kind"),
    [
        ("裕安区", Level.DISTRICT, "区"),
        ("六安经济技术开发区", Level.DISTRICT, "开发区"),
        ("裕安区/城南镇", Level.TOWNSHIP, "镇"),
        ("金安区/鼓楼街道", Level.TOWNSHIP, "街道"),
        ("裕安区/苏埠镇/卢氏祠村", Level.COMMUNITY, "村"),
        ("裕安区/城南镇/陡步河社区/安康小区", Level.COMPOUND, "小区"),
        ("裕安区/城南镇/陡步河社区/安康小区/1栋", Level.BUILDING, "栋"),
    ],
)
def test_regions_know_their_level_kind_and_ancestors(db, path, level, kind):
    region = f.region(path)

    assert (region.level, region.kind, region.path) == (level, kind, path)
    assert region_by_path(path) == region
    assert region_by_path(f"六安市/{path}") == region
    assert [r.name for r in region.ancestors()] == path.split("/")[:-1]
    assert Region.objects.within(region).filter(pk=region.pk).exists()


def test_within_is_one_indexed_equality(db, django_assert_num_queries):
    f.region(f"{ANKANG}/1栋")
    ankang = region_by_path(ANKANG)

    with django_assert_num_queries(1) as ctx:
        assert Region.objects.within(ankang).count() == 2
    sql = ctx.captured_queries[0]["sql"]
    assert "compound_id" in sql and "LIKE" not in sql.upper() and "RECURSIVE" not in sql.upper()


def test_unknown_path_is_not_found(db):
    with pytest.raises(NotFound):
        region_by_path("裕安区/不存在镇")


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "needs a name"), ("安康/小区", "cannot contain"), ("长" * 65, "at most 64")],
)
def test_bad_region_names_are_refused(db, name, message):
    with pytest.raises(DomainError, match=message):
        region_create(parent=f.region("裕安区"), name=name)


def test_a_building_contains_nothing(db):
    with pytest.raises(DomainError, match="cannot contain further"):
        region_create(parent=f.region(f"{ANKANG}/1栋"), name="1单元")


def test_rename_rewrites_every_path_below(lu_an):
    town = region_by_path("裕安区/城南镇")

    region_rename(region=town, name="城南街道")

    assert region_by_path("裕安区/城南街道/陡步河社区/安康小区/1栋").name == "1栋"
    assert not Region.objects.filter(path__contains="城南镇").exists()
    assert Household.objects.get(pk=lu_an["ankang"][0].pk).address.startswith("裕安区/城南街道/")
    assert region_by_path("裕安区/城南街道").kind == "街道"


def test_rename_refuses_a_sibling_name(lu_an):
    with pytest.raises(DomainError, match="already exists"):
        region_rename(region=region_by_path("金安区"), name="裕安区")


def test_move_restamps_every_fact_under_the_subtree(lu_an):
    ankang = region_by_path(ANKANG)
    before = census_stats(ankang)
    target = f.region("金安区/鼓楼街道/鼓楼社区")

    region_move(region=ankang, new_parent=target)

    moved = region_by_path("金安区/鼓楼街道/鼓楼社区/安康小区")
    assert moved.pk == ankang.pk
    assert region_by_path("金安区/鼓楼街道/鼓楼社区/安康小区/2栋").district == target.district
    for model in (Household, Resident, ResidentCareGroup):
        rows = model.objects.filter(compound=moved)
        assert rows.exists()
        assert set(rows.values_list("district_id", "township_id", "community_id").distinct()) == {
            (target.district_id, target.township_id, target.community_id)
        }
    assert census_stats(moved) | {"region": ""} == before | {"region": ""}
    assert census_stats(region_by_path("金安区"))["residents"] == 4
    assert census_stats(region_by_path("裕安区"))["residents"] == 1  # 赵建国 of 创业小区


@pytest.mark.parametrize(
    ("region", "parent", "message"),
    [
        ("裕安区/城南镇", "裕安区/城南镇/陡步河社区", "same level"),
        (ANKANG, CHUANGYE.rsplit("/", 1)[0], None),
    ],
)
def test_move_rules(lu_an, region, parent, message):
    if message is None:
        f.region(CHUANGYE.rsplit("/", 1)[0] + "/安康小区")
        message = "already exists there"
    with pytest.raises(DomainError, match=message):
        region_move(region=region_by_path(region), new_parent=region_by_path(parent))


def test_grids_anchor_at_regions_and_cover_inside_them(lu_an):
    ankang = region_by_path(ANKANG)
    community = ankang.parent
    community_grid = grid_create(region=community, name="陡步河社区网格")

    point = grid_create(
        region=ankang,
        name="第一网格",
        parent=community_grid,
        coverage=[region_by_path(f"{ANKANG}/1栋")],
    )

    assert (community_grid.level, point.level) == (3, 4)
    assert point.compound_id == ankang.pk and point.building_id is None
    assert Grid.objects.within(region_by_path("裕安区")).count() == 2
    with pytest.raises(DomainError, match="outside the grid"):
        grid_create(region=ankang, name="越界", coverage=[region_by_path(CHUANGYE)])
    with pytest.raises(DomainError, match="anchored"):
        grid_create(region=region_by_path(f"{ANKANG}/1栋"), name="楼栋网格")
    with pytest.raises(DomainError, match="one level up"):
        grid_create(region=ankang, name="错层", parent=point)


# --- the back office ---------------------------------------------------------------------


@pytest.fixture
def superuser(lu_an):
    return get_user_model().objects.create_superuser("root", password=PASSWORD, region=city())


def test_admin_is_for_superusers_only(client, lu_an, town_staff):
    town_staff.is_staff = True
    town_staff.save(update_fields=["is_staff"])
    client.force_login(town_staff)

    response = client.get(reverse("admin:people_household_changelist"))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_rename_goes_through_the_service(client, superuser):
    client.force_login(superuser)
    town = region_by_path("裕安区/城南镇")

    response = client.post(
        reverse("admin:territory_region_change", args=[town.pk]),
        {"name": "城南街道", "kind": "街道", "parent": town.parent_id},
    )

    assert response.status_code == 302
    assert region_by_path("裕安区/城南街道/陡步河社区/安康小区").pk


def test_admin_shows_a_refused_move_on_the_form(client, superuser):
    client.force_login(superuser)
    town = region_by_path("裕安区/城南镇")

    response = client.post(
        reverse("admin:territory_region_change", args=[town.pk]),
        {"name": "城南镇", "kind": "镇", "parent": region_by_path(ANKANG).pk},
    )

    assert response.status_code == 200
    assert "A region can only move under a parent of the same level." in response.content.decode()
    assert region_by_path("裕安区/城南镇").pk == town.pk


def test_admin_creates_a_region_with_its_ancestors(client, superuser):
    client.force_login(superuser)
    ankang = region_by_path(ANKANG)

    response = client.post(
        reverse("admin:territory_region_add"), {"name": "27栋", "kind": "", "parent": ankang.pk}
    )

    assert response.status_code == 302
    building = region_by_path(f"{ANKANG}/27栋")
    assert (building.level, building.compound_id, building.building_id) == (
        Level.BUILDING,
        ankang.pk,
        building.pk,
    )


def test_a_path_outside_the_jurisdiction_reads_as_one_that_does_not_exist(outsider):
    from frontline.territory.services import jurisdiction_of, region_by_path_for

    with pytest.raises(NotFound) as outside:
        region_by_path_for(outsider, ANKANG)
    with pytest.raises(NotFound) as missing:
        region_by_path_for(outsider, "裕安区/不存在镇")

    assert str(outside.value) == f"No region at path “{ANKANG}”."
    assert str(missing.value) == "No region at path “裕安区/不存在镇”."
    assert region_by_path_for(outsider, outsider.region.path) == jurisdiction_of(outsider)
