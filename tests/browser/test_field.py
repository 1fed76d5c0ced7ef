"""The grid worker's day on a 390 px phone: bottom navigation, tap targets, the room
chart, recording a visit. Measured in the browser, as only a browser can."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from frontline.people.models import Visit
from frontline.territory.models import Region
from frontline.territory.services import grid_add_member, grid_create

from ..conftest import ANKANG
from .test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOX = "el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"


@pytest.fixture
def her_point(lu_an, grid_worker):
    ankang = Region.objects.get(path=ANKANG)
    point = grid_create(
        region=ankang,
        name="安康小区第一网格点",
        coverage=[
            Region.objects.get(path=f"{ANKANG}/1栋"),
            Region.objects.get(path=f"{ANKANG}/2栋"),
        ],
    )
    grid_add_member(grid=point, role="chief", name="陶春华", phone="13805640505")
    grid_add_member(grid=point, role="worker", name="许晓燕", phone="13805640606", user=grid_worker)
    return point


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_bottom_navigation_on_a_phone(browser_page, grid_worker, language):
    grids_label = {"en": "Grids", "zh-hans": "网格"}
    page = browser_page
    sign_in(page, grid_worker)
    if language == "en":
        page.locator(".lang button").click()
        page.wait_for_load_state()

    nav = page.locator("nav.nav")
    left, top, width, height = nav.evaluate(BOX)
    viewport = page.viewport_size
    # At the bottom edge, the full width of the screen.
    assert abs(top + height - viewport["height"]) <= 1, (top, height)
    assert left == 0 and abs(width - viewport["width"]) <= 1
    # Six tabs at most: grids, import and the audit trail move to the home page on a phone.
    tabs = page.locator("nav.nav a:visible")
    assert tabs.count() <= 6
    assert page.locator("main a.phone-only:visible", has_text=grids_label[language]).count() == 1
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        _l, _t, w, h = tab.evaluate(BOX)
        assert w >= 44 and h >= 44, (tab.inner_text(), w, h)
        # The label fits: nothing is cut off.
        assert tab.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), tab.inner_text()
    current = page.locator('nav.nav a[aria-current="page"]')
    assert current.count() == 1
    assert current.evaluate("el => getComputedStyle(el).borderTopWidth") == "3px"


def test_call_buttons_are_big_enough_and_look_like_buttons(browser_page, grid_worker, her_point):
    page = browser_page
    sign_in(page, grid_worker)
    page.goto(reverse("worklist", args=["elderly_alone"]) + f"?region={her_point.region_id}")

    call = page.locator("a.call").first
    _l, _t, w, h = call.evaluate(BOX)
    assert w >= 44 and h >= 44, (w, h)
    assert call.get_attribute("href") == "tel:13912345678"
    background = call.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    # Every link and button in the page's content and header is a comfortable target
    # (a walk found the header's password, tokens and sign-out links at 23-32 px).
    small = page.evaluate(
        """() => [...document.querySelectorAll('main a, main button, nav.nav a, header a, header button')]
            .filter(el => el.offsetParent !== null)
            .map(el => { const r = el.getBoundingClientRect(); return [el.textContent.trim(), r.width, r.height]; })
            .filter(([_, w, h]) => w < 44 || h < 44)"""
    )
    assert small == [], small


def test_room_chart_renders_and_a_cell_opens_the_household_to_record_a_visit(
    browser_page, grid_worker, her_point, lu_an
):
    page = browser_page
    sign_in(page, grid_worker)
    building = Region.objects.get(path=f"{ANKANG}/2栋")
    page.goto(reverse("region_detail", args=[building.pk]))

    chart = page.locator("table.chart")
    chart.wait_for()
    _l, _t, width, _h = chart.evaluate(BOX)
    assert width <= 390
    # Nothing on the page scrolls sideways on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    cell = page.locator('a.cell[data-room="302"]')
    _l, _t, w, h = cell.evaluate(BOX)
    assert w >= 44 and h >= 44
    assert "婴" in cell.inner_text()

    # Tap one: the household; tap two: visited.
    cell.click()
    page.wait_for_url(
        re.compile(re.escape(reverse("household_detail", args=[lu_an["ankang"][1].pk])))
    )
    with translation.override("zh-hans"):
        page.locator("button[name=outcome][value=visited]").click()
    # ...and back on the chart, the next door one tap away, this one marked visited.
    page.wait_for_url(f"**{reverse('region_detail', args=[building.pk])}")
    assert Visit.objects.filter(household=lu_an["ankang"][1], outcome="visited").count() == 1
    assert "v-visited" in page.locator('a.cell[data-room="302"]').get_attribute("class")

    page.goto(reverse("home"))
    assert re.search(r"1\s*/\s*2", page.locator(".progress-figure").first.inner_text())

    page.goto(reverse("region_detail", args=[building.pk]))
    assert "v-visited" in page.locator('a.cell[data-room="302"]').get_attribute("class")


def test_a_volunteer_can_tap_to_call_the_chief(browser_page, volunteer, her_point):
    page = browser_page
    sign_in(page, volunteer)

    call = page.locator('a.call[href="tel:13805640505"]')
    _l, _t, w, h = call.evaluate(BOX)
    assert w >= 44 and h >= 44


def test_a_roster_prints_without_chrome_one_building_per_page(browser_page, grid_worker, lu_an):
    page = browser_page
    sign_in(page, grid_worker)
    ankang = Region.objects.get(path=ANKANG)
    page.goto(reverse("roster") + f"?region={ankang.pk}")
    assert page.locator(".roster-building").count() == 2

    page.emulate_media(media="print")

    for hidden in (".top", "nav.nav", ".no-print", "button[data-print]"):
        assert not page.locator(hidden).first.is_visible(), hidden
    second = page.locator(".roster-building").nth(1)
    assert second.evaluate("el => getComputedStyle(el).breakBefore") == "page"
    first = page.locator(".roster-building").first
    assert first.evaluate("el => getComputedStyle(el).breakBefore") != "page"
    # The tick column is there, blank, for the round.
    assert page.locator("table.roster td.tick").first.inner_text() == ""
