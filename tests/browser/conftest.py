"""Playwright against Debian's chromium; never a downloaded browser.

Playwright's sync API runs an asyncio event loop in the test thread, and Django refuses
ORM calls from a thread with a running loop unless told the caller knows what it does:
the fixtures below create data and the live server answers from its own thread, so this
is safe here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium():
    """One browser per module: the event loop stops with it, before other tests run."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("FRONTLINE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"FRONTLINE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh context (no cookies) with a phone-sized screen, as grid workers use."""
    context = chromium.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
