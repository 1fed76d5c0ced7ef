"""What a person sees in a real browser: sign in, browse to a room, search, switch language."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from frontline.core.masking import mask_id_number
from frontline.people.models import Household, Resident

from ..conftest import ANKANG, PASSWORD

# The live server answers from another thread: the data must be committed to be seen.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:
    page.goto(reverse("home"))
    # Anonymous visitors land on the sign-in form.
    assert reverse("login") in page.url
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form button.primary")
    page.wait_for_url(re.compile(r"/$"))


def figure(page, position: int) -> str:
    return page.locator(".stats .stat b").nth(position).inner_text()


def test_grid_worker_browses_to_a_household_and_sees_masked_ids(browser_page, grid_worker):
    page = browser_page
    sign_in(page, grid_worker)

    # Home: the figures of the worker's compound, 安康小区 (2 households, 3 residents).
    assert page.locator("h1").inner_text() == "安康小区"
    assert figure(page, 0) == "2"
    assert figure(page, 1) == "3"
    assert page.locator(".groups").inner_text().count("独居老人") == 1

    # Home → the region page of 安康小区 → building 1栋 → its one household.
    page.locator(".actions a.button").first.click()
    page.wait_for_url(re.compile(r"/regions/\d+/$"))
    assert page.locator("h1").inner_text().startswith("安康小区")
    page.get_by_role("link", name=re.compile("^1栋")).click()
    page.wait_for_url(re.compile(r"/regions/\d+/$"))
    assert page.locator("h1").inner_text().startswith("1栋")
    page.get_by_role("link", name=re.compile("101室")).click()

    household = Household.objects.get(building__path=f"{ANKANG}/1栋", room="101")
    page.wait_for_url(f"**{reverse('household_detail', args=[household.pk])}")
    member = Resident.objects.get(household=household)
    person = page.locator(f"#resident-{member.pk}")
    assert person.locator("h3").inner_text().startswith("王秀英")
    # A grid worker sees ID numbers masked and never in full, anywhere on the page.
    shown = person.locator("dd.mono").first.inner_text()
    assert shown == mask_id_number(member.id_number)
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", shown)
    assert member.id_number not in page.content()
    assert "独居老人" in person.inner_text()


def test_grid_worker_finds_a_resident_by_name_inside_the_compound_only(browser_page, grid_worker):
    page = browser_page
    sign_in(page, grid_worker)
    page.goto(reverse("resident_search"))

    page.fill("input[name=q]", "李强")
    page.press("input[name=q]", "Enter")
    results = page.locator("#results li")
    results.first.wait_for()
    assert results.count() == 1
    assert results.first.locator(".title").inner_text().startswith("李强")
    resident = Resident.objects.get(name="李强")
    assert mask_id_number(resident.id_number) in results.first.inner_text()

    # 孙丽 lives in 丽景苑小区, outside the worker's compound: not found.
    page.fill("input[name=q]", "孙丽")
    page.press("input[name=q]", "Enter")
    # The previous answer ("1 resident found") is a p.muted too: wait for its list to go.
    # (Not wait_for_function: its polling evaluates a string, which the CSP refuses.)
    page.locator("#results li").first.wait_for(state="detached")
    page.locator("#results p.muted").wait_for()
    assert page.locator("#results li").count() == 0
    # The query never reaches the address bar (nor so the browser's history).
    assert "q=" not in page.url and "%E5%AD%99" not in page.url


def test_staff_reveal_a_full_id_number_on_request(browser_page, community_staff, lu_an):
    page = browser_page
    sign_in(page, community_staff)
    household = lu_an["ankang"][0]
    member = Resident.objects.get(household=household)
    page.goto(reverse("household_detail", args=[household.pk]))
    person = page.locator(f"#resident-{member.pk}")
    assert member.id_number not in page.content()

    person.locator("button.reveal").click()
    person.get_by_text(member.id_number).wait_for()

    assert person.locator("button.reveal").count() == 0


def test_outsider_typing_a_household_url_gets_the_404_page(browser_page, outsider, lu_an):
    page = browser_page
    sign_in(page, outsider)
    household = lu_an["ankang"][0]

    response = page.goto(reverse("household_detail", args=[household.pk]))

    assert response.status == 404
    assert page.locator(".error-page h1").inner_text() == "404"
    assert "王秀英" not in page.content()


def test_language_switch_turns_the_interface_to_english(browser_page, grid_worker):
    page = browser_page
    sign_in(page, grid_worker)
    with translation.override("zh-hans"):
        sign_out_zh = translation.gettext("Sign out")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator(".who button.link").inner_text() == sign_out_zh

    page.locator("form.lang button").click()
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".who button.link").inner_text() == "Sign out"
    assert page.locator("form.lang button").inner_text() == "中文"
    # The data stays in Chinese whatever the interface language.
    assert page.locator("h1").inner_text() == "安康小区"
