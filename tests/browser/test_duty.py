"""From the branch's QR code to a checked-in shift, on a phone, in a real browser:
a resident party member reports without an account, the community confirms her, gives
her the 配送员 role and a shift at 安康小区's gate, the roster shows the gap in red, and
she checks in from her phone page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.duty import reporting, roster, services
from frontline.duty.models import RoleAssignment, Shift
from frontline.territory.models import Region

from ..conftest import ANKANG
from .test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ankang_branch(lu_an):
    return services.branch_create(
        region=Region.objects.get(path=ANKANG),
        name="安康小区临时党支部",
        kind="temporary",
        setting="compound",
        start=dt.date(2026, 1, 1),
    )


def test_reporting_to_a_checked_in_shift(browser_page, ankang_branch, community_staff):
    page = browser_page
    post = roster.post_create(
        region=Region.objects.get(path=ANKANG), name="安康小区南门卡点", kind="checkpoint"
    )
    # 1. The QR link, without an account.
    page.goto(reverse("party_report", args=[reporting.report_token(ankang_branch)]))
    page.select_option("#report-kind", "party_member")
    page.fill("#report-name", "黄志强")
    page.fill("#report-id", "341502198005170013")
    page.fill("#report-phone", "13955551234")
    page.click("form.report-form button")
    page.wait_for_selector(".msg.success")

    # 2. The community confirms and reads the one-time password.
    sign_in(page, community_staff)
    page.goto(reverse("duty_reports"))
    assert "黄志强" in page.inner_text("ul.reports")
    page.click("ul.reports button.primary")
    username = page.inner_text("#new-username")
    password = page.inner_text("#new-password")
    assert username == "13955551234" and password

    # 3. The 配送员 role, then a shift from this hour; the roster shows the rest in red.
    page.goto(reverse("duty_roles") + f"?region={post.region_id}")
    page.select_option("#role-role", "delivery")
    page.select_option("#role-person", label="黄志强")
    page.click("form.stack button")
    page.wait_for_load_state()
    assert RoleAssignment.objects.filter(role="delivery", person__username=username).exists()
    now = timezone.localtime()
    page.goto(reverse("duty_roster", args=[post.pk]) + f"?date={now:%Y-%m-%d}")
    assert page.locator("li.gap").count() == 1  # nobody yet: the whole day
    page.select_option("#shift-person", label="黄志强")
    page.fill("#shift-start", f"{now:%H}:00")
    page.fill("#shift-hours", "2")
    page.click("form.stack button")
    page.wait_for_selector("li.shift")
    gap = page.locator("li.gap .title").first
    assert gap.evaluate("el => getComputedStyle(el).color") == "rgb(179, 38, 30)"
    page.locator("form.inline button.link").click()  # sign out
    page.wait_for_url(re.compile(reverse("login")))

    # 4. She signs in on her phone and checks in.
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button.primary")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(reverse("duty_today"))
    assert "安康小区南门卡点" in page.inner_text("ul.today")
    page.click("ul.today button.primary")
    page.wait_for_selector("ul.today .ok")
    shift = Shift.objects.get(person__username=username)
    assert shift.checked_in_at is not None
