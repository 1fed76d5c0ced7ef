"""The five orders in a browser on a 390 px phone: a grid worker registers a dialysis run
for 王秀英, dispatches it to the suggested driver, the driver steps it through on "my tasks",
and the household confirms it on its own page with a rating."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.accounts.services import user_create
from frontline.requests.models import Request, Status
from frontline.requests.resident import link_issue, link_token

from .. import factories as f
from ..conftest import ANKANG, PASSWORD
from .test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dialysis_run_walks_the_five_orders(chromium, live_server, lu_an, grid_worker):
    driver = user_create(
        username="driver", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )
    household = lu_an["ankang"][0]

    def phone():
        context = chromium.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
        )
        context.set_default_timeout(15_000)
        return context, context.new_page()

    ctx, page = phone()
    sign_in(page, grid_worker)
    page.goto(reverse("household_detail", args=[household.pk]))
    page.locator(f'a[href^="{reverse("request_create")}"]').click()
    page.select_option("#req-category", "medical")
    page.select_option("#req-urgency", "urgent")
    page.select_option("#req-resident", label="王秀英")
    page.fill("#req-description", "周三上午透析，需要接送")
    page.locator("form button.primary").click()
    page.wait_for_url("**/requests/*/")
    req = Request.objects.get()
    assert req.number in page.content()

    # The suggested driver is checked first; one tap dispatches.
    suggested = page.locator('input[name="assignee"][value="driver"]')
    assert suggested.is_checked()
    page.locator(
        f'form[action="{reverse("request_step", args=[req.pk, "dispatch"])}"] button'
    ).click()
    page.wait_for_load_state()
    ctx.close()

    ctx, page = phone()
    sign_in(page, driver)
    page.goto(reverse("my_tasks"))
    assert "tel:13912345678" in page.content()  # the full phone while it is open
    for step in ("deliver", "report"):
        button = page.locator(
            f'form[action="{reverse("request_step", args=[req.pk, step])}"] button'
        )
        _x, _y, w, h = button.evaluate(
            "el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"
        )
        assert w >= 44 and h >= 44
        button.click()
        page.wait_for_url("**/requests/mine/")
    ctx.close()

    link = link_issue(actor=grid_worker, household=household)
    ctx, page = phone()
    page.goto(reverse("resident_page", args=[link_token(link)]))
    # The page's own link is signed afresh each time: aim at the form by its request.
    page.locator(f'form[action$="/close/{req.pk}/"] button[value="5"]').click()
    page.wait_for_load_state()
    ctx.close()

    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.satisfaction == 5
    assert [e.to_status for e in req.events.all()] == [
        "received",
        "dispatched",
        "delivering",
        "reported",
        "closed",
    ]


def test_group_order_delivered_door_to_door_on_a_phone(chromium, live_server, lu_an, grid_worker):
    """Households that cannot order online get one group order; the runner taps each door."""
    from frontline.requests.groups import supplier_create
    from frontline.requests.models import GroupOrder
    from frontline.territory.services import city

    runner = user_create(
        username="runner", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )
    for n in range(4):
        hh = f.household(f"{ANKANG}/8栋", room=f"{n + 1}01")
        f.resident(hh, f"住户{n}", can_order_online=False)
    supplier_create(
        actor=user_create(username="boss", role="city_admin", region=city(), password=PASSWORD),
        area=city(),
        name="六安保供超市",
        kind="enterprise",
    )
    building = f.region(f"{ANKANG}/8栋")

    def phone():
        context = chromium.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
        )
        context.set_default_timeout(15_000)
        return context, context.new_page()

    ctx, page = phone()
    sign_in(page, grid_worker)
    page.goto(reverse("group_order_list") + f"?region={building.pk}")
    page.locator("form.card button.primary").click()
    page.wait_for_url("**/group-orders/*/")
    order = GroupOrder.objects.get()
    for action in ("collect", "place"):
        page.locator(
            f'form[action="{reverse("group_order_action", args=[order.pk, action])}"] button'
        ).click()
        page.wait_for_load_state()
    ctx.close()

    ctx, page = phone()
    sign_in(page, runner)
    page.goto(reverse("group_order_detail", args=[order.pk]))
    deliver = f'form[action="{reverse("group_order_action", args=[order.pk, "deliver"])}"] button'
    for _ in range(4):
        page.locator(deliver).first.click()
        page.wait_for_load_state()
    assert page.locator(deliver).count() == 0
    ctx.close()

    order.refresh_from_db()
    assert order.status == GroupOrder.Status.DELIVERED and order.lines.count() == 4
