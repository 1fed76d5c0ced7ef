"""A testing round in the browser: a grid worker fills a pooled tube on the phone page,
the board's coverage moves, a lab file marks the tube abnormal, and its residents show on
the retest list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from frontline.health import testing
from frontline.health.models import Sample, Tube, TubeResult
from frontline.territory.models import Region

from .test_pages import figure, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def town_round(lu_an, town_staff):
    return testing.round_create(
        name="城南镇第1轮",
        date=dt.date(2022, 4, 12),
        regions=[Region.objects.get(path="裕安区/城南镇")],
        actor=town_staff,
    )


def test_a_pooled_tube_from_the_phone_to_the_retest_list(
    chromium, live_server, browser_page, town_round, grid_worker, town_staff, tmp_path
):
    page = browser_page
    sign_in(page, grid_worker)
    page.goto(reverse("testing_round", args=[town_round.pk]))
    # 安康小区: 王秀英 (1栋), 李强 and 李小红 (2栋); nobody sampled yet.
    assert figure(page, 0) == "3" and figure(page, 1) == "0"

    page.goto(reverse("testing_sample", args=[town_round.pk]))
    page.get_by_role("link", name="2栋").click()
    page.fill("#tube-code", "BT-0001")
    assert page.locator("#tube-code").get_attribute("inputmode") == "text"
    page.get_by_label("李强").check()
    page.get_by_label("李小红").check()
    page.locator("form.sampler button.primary").click()
    # htmx swaps the sampler in place: both are now in the tube, boxes disabled, and the
    # tube says how many places are left (10 − 2).
    page.locator("#tube-status").filter(has_text="8").wait_for()
    assert page.locator("form.sampler input[type=checkbox]:disabled").count() == 2
    assert page.locator("#tube-code").input_value() == "BT-0001"
    assert Sample.objects.filter(round=town_round).count() == 2

    page.goto(reverse("testing_round", args=[town_round.pk]))
    assert figure(page, 1) == "2" and figure(page, 2) == "1"

    staff_context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    staff_context.set_default_timeout(15_000)
    staff = staff_context.new_page()
    try:
        sign_in(staff, town_staff)
        staff.goto(reverse("testing_results", args=[town_round.pk]))
        lab = tmp_path / "检测结果.csv"
        lab.write_text("管码,结果\nBT-0001,阳性\n", encoding="utf-8-sig")
        staff.set_input_files("input[type=file]", str(lab))
        staff.locator("form[enctype] button.primary").click()
        staff.wait_for_load_state()
        # The preview writes nothing until it is confirmed.
        assert Tube.objects.get(code="BT-0001").result == TubeResult.PENDING
        staff.locator("form button.primary.big").click()
        staff.wait_for_load_state()
        assert Tube.objects.get(code="BT-0001").result == TubeResult.POSITIVE

        staff.goto(reverse("testing_retest", args=[town_round.pk]))
        listed = staff.locator("ul.testing-list").inner_text()
        assert "李强" in listed and "李小红" in listed
        assert "王秀英" not in listed and "赵建国" not in listed
    finally:
        staff_context.close()
