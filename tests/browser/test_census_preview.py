"""The census preview on a phone (issue 6): what will change fits a 390 px screen."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.people.census import CENSUS_COLUMNS, import_census

from ..test_census import csv_bytes, good_rows
from .test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_preview_lists_the_changes_without_sideways_scrolling(
    browser_page, community_staff, tmp_path
):
    import io

    assert import_census(io.BytesIO(csv_bytes(good_rows())), filename="s.csv").ok
    rows = good_rows()
    rows[0][CENSUS_COLUMNS.index("联系电话")] = "13900001111"
    rows[1][CENSUS_COLUMNS.index("房号")] = "201"
    sheet = tmp_path / "changes.csv"
    sheet.write_bytes(csv_bytes(rows))
    page = browser_page
    sign_in(page, community_staff)

    page.goto(reverse("census_import"))
    page.set_input_files("input[type=file]", str(sheet))
    page.click("form[enctype] button.primary")
    page.wait_for_selector("#changes-title")

    section = page.locator("section.changes")
    assert section.locator("h4").count() == 1  # one building: 1栋
    items = section.locator("ul.rows > li")
    assert items.count() == 2
    assert "李强" in items.nth(0).inner_text() and "13900001111" in items.nth(0).inner_text()
    assert "1单元102室 → 1单元201室" in items.nth(1).inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
