"""Layout that only a browser can measure."""

from __future__ import annotations

import pytest

from .test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the text of an element starts: its box plus its own left padding.
TEXT_LEFT = """el => el.getBoundingClientRect().left
    + parseFloat(getComputedStyle(el).paddingLeft)"""


@pytest.mark.parametrize("width", [800, 1440])
def test_nav_tabs_line_up_with_the_header_and_content(chromium, live_server, grid_worker, width):
    context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, grid_worker)

        tab = page.locator(".nav a").first.evaluate(TEXT_LEFT)
        brand = page.locator(".brand").evaluate("el => el.getBoundingClientRect().left")
        heading = page.locator("main h1").evaluate("el => el.getBoundingClientRect().left")

        assert abs(tab - heading) <= 1, (tab, heading)
        assert abs(brand - heading) <= 1, (brand, heading)
        if width > 1000:
            # Centred: the content column does not start at the window's edge.
            assert heading > (width - 960) / 2
    finally:
        context.close()
