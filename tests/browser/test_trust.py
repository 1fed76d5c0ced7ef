"""The Content-Security-Policy in a real browser: nothing the pages need is refused, and
the API docs (Swagger UI) still work; the lockout and token pages as a person sees them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ..conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    """Collects what the browser complains about: a CSP refusal is a console error."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def sign_in(page, username, password) -> None:
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button.primary")


def test_pages_work_under_the_policy_without_refusals(browser_page, grid_worker):
    page = browser_page
    problems = watch_console(page)
    sign_in(page, grid_worker.username, PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(reverse("resident_search"))
    page.fill("input[name=q]", "李强")
    page.press("input[name=q]", "Enter")
    page.locator("#results li").first.wait_for()
    page.goto(reverse("token_list"))
    page.fill("#id_name", "laptop")
    page.click("form.stack button.primary")
    assert re.fullmatch(r"[0-9a-f]{48}", page.locator("code.token-key").inner_text())
    assert not [p for p in problems if "Content Security Policy" in p], problems
    assert not problems, problems


def test_the_api_docs_render_under_the_policy(browser_page, db):
    page = browser_page
    problems = watch_console(page)
    page.goto("/api/v1/docs/")
    # Swagger UI built the page from the schema: the operations are listed.
    page.locator(".opblock-summary-path").first.wait_for()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(p.endswith("/stats") for p in paths)
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_ten_bad_passwords_show_the_lockout_page(browser_page, grid_worker, live_server):
    page = browser_page
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    for _ in range(10):
        sign_in(page, grid_worker.username, "not-the-password-1")
    sign_in(page, grid_worker.username, PASSWORD)
    assert reverse("login") in page.url
    assert page.locator("h1").inner_text() == "Signing in is locked"
    assert "15 minutes" in page.locator(".msg.error").inner_text()
