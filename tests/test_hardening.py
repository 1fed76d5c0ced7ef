"""Deployment hardening: check --deploy, headers (CSP, no-store), private files, stale
uploads, commands on a brand-new database, and quiet 403s."""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
import stat
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

import frontline
from frontline.accounts.services import user_token
from frontline.core.files import purge_stale_uploads
from frontline.people.census import CENSUS_COLUMNS

from .conftest import ANKANG, PASSWORD

SCRIPT = Path(sys.executable).with_name("frontline")
PACKAGE = Path(frontline.__file__).parent


def frontline_cli(*args: str, env_extra: dict[str, str], drop=("DATABASE_URL",)):
    # A clean environment: none of the suite's settings (the browser tests' conftest sets
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("FRONTLINE_", "DJANGO_"))
    }
    env.update(env_extra)
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=600
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- check --deploy ---------------------------------------------------------------------


def test_check_deploy_is_clean_with_https_and_a_real_secret_key(tmp_path):
    done = frontline_cli(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "FRONTLINE_DATA_DIR": str(tmp_path),
            "FRONTLINE_HTTPS": "1",
            "FRONTLINE_SECRET_KEY": secrets.token_urlsafe(60),
            "FRONTLINE_ALLOWED_HOSTS": "frontline.example.org",
            "FRONTLINE_CSRF_TRUSTED_ORIGINS": "https://frontline.example.org",
        },
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNINGS" not in output and "identified no issues" in output


def test_check_deploy_warns_without_https(tmp_path):
    """The clean check above is clean because of the settings, not a silenced check."""
    done = frontline_cli(
        "check",
        "--deploy",
        env_extra={"FRONTLINE_DATA_DIR": str(tmp_path), "FRONTLINE_SECRET_KEY": "x" * 60},
    )
    output = done.stdout + done.stderr
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output


def test_https_settings_from_the_environment(monkeypatch):
    import importlib

    import frontline.settings as project_settings

    monkeypatch.setenv("FRONTLINE_HTTPS", "1")
    monkeypatch.setenv("FRONTLINE_CSRF_TRUSTED_ORIGINS", "https://a.example, https://b.example")
    try:
        s = importlib.reload(project_settings)
        assert s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE and s.SECURE_SSL_REDIRECT
        assert s.SECURE_HSTS_SECONDS >= 365 * 24 * 3600 and s.SECURE_HSTS_INCLUDE_SUBDOMAINS
        assert s.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
        assert s.CSRF_TRUSTED_ORIGINS == ["https://a.example", "https://b.example"]
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


# --- headers ----------------------------------------------------------------------------


def test_pages_and_api_answers_are_not_stored(lu_an, grid_worker):
    household = lu_an["ankang"][0]
    client = Client()
    client.force_login(grid_worker)
    page = client.get(reverse("household_detail", args=[household.pk]))
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    api = APIClient().get(
        f"/api/v1/households/{household.pk}",
        HTTP_AUTHORIZATION=f"Bearer {user_token(user=grid_worker)}",
    )
    assert api.status_code == 200
    assert api["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(db):
    response = Client().get("/static/frontline/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_every_page_has_a_content_security_policy_without_inline_script(grid_worker):
    client = Client()
    client.force_login(grid_worker)
    for url in [reverse("home"), reverse("login"), "/api/v1/stats", reverse("token_list")]:
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"


def test_the_api_docs_relax_only_style_not_script(db):
    policy = Client().get("/api/v1/docs/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" in directives["style-src"]


TEMPLATES = sorted(PACKAGE.rglob("templates/**/*.html"))


def test_templates_are_found():
    assert len(TEMPLATES) > 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_template_has_inline_script_or_style(path):
    html = path.read_text()
    # A <script> may only load a file: <script src=...>. No inline code, no handlers.
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
        assert "src=" in tag, tag
    assert not re.search(r"<style\b", html, flags=re.I)
    assert not re.search(r"""\sstyle\s*=\s*["']""", html, flags=re.I)
    assert not re.search(r"""\son[a-z]+\s*=\s*["']""", html, flags=re.I)
    assert "javascript:" not in html.lower()


def test_htmx_is_told_not_to_inject_its_indicator_styles(grid_worker):
    client = Client()
    client.force_login(grid_worker)
    html = client.get(reverse("home")).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html


# --- files ------------------------------------------------------------------------------


def test_a_new_database_and_data_folder_are_private(tmp_path):
    data = tmp_path / "data"
    done = frontline_cli("migrate", env_extra={"FRONTLINE_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    assert mode(data) == 0o700
    assert mode(data / "frontline.sqlite3") == 0o600
    assert mode(data / "secret_key") == 0o600


def test_an_open_data_folder_is_closed(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    frontline_cli("check", env_extra={"FRONTLINE_DATA_DIR": str(data)})
    assert mode(data) == 0o700


def test_files_this_process_creates_are_private_wal_included(tmp_path):
    db = tmp_path / "x.sqlite3"
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    try:
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert mode(path) == 0o600, path
    finally:
        connection.close()
    folder = tmp_path / "exports"
    folder.mkdir()
    assert mode(folder) == 0o700


def test_an_upload_awaiting_commit_is_private(community_staff, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    row = {c: "" for c in CENSUS_COLUMNS}
    row.update({"区县": "裕安区", "乡镇街道": "城南镇", "村社区": "陡步河社区", "小区": "安康小区"})
    row.update({"楼栋": "9栋", "房号": "901", "姓名": "钱多多", "性别": "男"})
    row.update({"身份证号": "11010519491231002X", "性别": "女", "党员": "否", "在外": "否"})
    sheet = ",".join(CENSUS_COLUMNS) + "\n" + ",".join(row[c] for c in CENSUS_COLUMNS) + "\n"
    client = Client()
    client.force_login(community_staff)
    client.post(
        reverse("census_import"),
        {"sheet": SimpleUploadedFile("s.csv", sheet.encode(), content_type="text/csv")},
    )
    uploads = list(settings.UPLOAD_DIR.iterdir())
    assert uploads, "the preview keeps the sheet until it is committed"
    assert mode(settings.UPLOAD_DIR) == 0o700
    assert all(mode(p) == 0o600 for p in uploads)


def test_export_to_a_file_is_private(lu_an, tmp_path):
    out = tmp_path / "census.csv"
    call_command("export_census", "-o", str(out), stdout=StringIO(), stderr=StringIO())
    assert mode(out) == 0o600


# --- stale uploads ----------------------------------------------------------------------


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.UPLOAD_DIR.mkdir()
    return settings.UPLOAD_DIR


def aged(folder: Path, name: str, seconds: float) -> Path:
    path = folder / name
    path.write_bytes(b"census")
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def test_uploads_older_than_an_hour_are_purged(upload_dir):
    old = aged(upload_dir, "1-old.csv", 3601)
    fresh = aged(upload_dir, "1-fresh.csv", 3500)
    assert purge_stale_uploads() == 1
    assert not old.exists() and fresh.exists()
    assert purge_stale_uploads(max_age=60) == 1
    assert not fresh.exists()


def test_purge_without_an_upload_folder_does_nothing(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "never-made"
    assert purge_stale_uploads() == 0


def test_purge_uploads_command(upload_dir):
    aged(upload_dir, "1-a.csv", 7200)
    aged(upload_dir, "1-b.xlsx", 7200)
    out = StringIO()
    call_command("purge_uploads", stdout=out)
    assert "2" in out.getvalue()
    assert not list(upload_dir.iterdir())


def test_an_upload_request_purges_stale_uploads(upload_dir, community_staff):
    old = aged(upload_dir, "999-stale.csv", 4000)
    client = Client()
    client.force_login(community_staff)
    client.post(reverse("census_import"), {})
    assert not old.exists()


def test_serve_purges_stale_uploads(upload_dir, monkeypatch, db):
    old = aged(upload_dir, "999-stale.csv", 4000)
    monkeypatch.setattr("waitress.serve", lambda app, **kw: None)
    call_command("serve", stdout=StringIO())
    assert not old.exists()


# --- commands on a brand-new database ---------------------------------------------------


def test_a_command_on_a_brand_new_embedded_database_sets_it_up(tmp_path):
    done = frontline_cli("stats", "--json", env_extra={"FRONTLINE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert '"households": 0' in done.stdout
    # stdout stays the command's own: `TOKEN=$(frontline token x)` must keep working.
    assert done.stdout.lstrip().startswith("{")


def test_a_command_on_a_configured_database_not_set_up_says_what_to_run(tmp_path):
    done = frontline_cli(
        "stats",
        env_extra={
            "FRONTLINE_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
        },
        drop=(),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "frontline migrate" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --- quiet 403s -------------------------------------------------------------------------


def test_an_ordinary_403_logs_one_line_without_a_traceback(grid_worker, caplog):
    client = Client()
    client.force_login(grid_worker)
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        response = client.get(reverse("census_import"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) <= 1
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def test_a_domain_permission_denied_is_a_403_page_with_its_message(grid_worker, rf):
    from django.contrib.messages.storage.fallback import FallbackStorage

    from frontline.core.errors import PermissionDenied
    from frontline.core.middleware import PermissionDeniedMiddleware

    request = rf.get("/")
    request.user = grid_worker
    request.session = {}
    request._messages = FallbackStorage(request)
    middleware = PermissionDeniedMiddleware(lambda r: None)
    response = middleware.process_exception(request, PermissionDenied("Not for your role."))
    assert response.status_code == 403
    assert "Not for your role." in response.content.decode()
    assert middleware.process_exception(request, ValueError("x")) is None


def test_settings_keep_the_data_folder_setting(settings):
    # The data folder holds the database: the checks above rely on it.
    assert Path(settings.DATA_DIR).is_dir()
    assert ANKANG


# --- the client's address behind a proxy ------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "seen"),
    [
        (0, "203.0.113.5", "127.0.0.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        # A client that sends its own X-Forwarded-For cannot choose its address.
        (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        (2, "1.2.3.4, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "127.0.0.1"),
    ],
)
def test_the_client_address_behind_proxies(settings, proxies, forwarded, seen):
    from frontline.core.middleware import ForwardedForMiddleware

    settings.FRONTLINE_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    ForwardedForMiddleware(lambda r: None)(request)
    assert request.META["REMOTE_ADDR"] == seen


def test_behind_a_proxy_one_client_is_locked_not_everybody(settings, grid_worker, volunteer):
    from frontline.audit.models import AuditEvent

    # Each Client builds its middleware on its first request, reading the count then.
    settings.FRONTLINE_PROXY_COUNT = 1
    for n in range(10):
        Client(REMOTE_ADDR="10.0.0.1").post(
            reverse("login"),
            {"username": f"guess{n}", "password": "wrong-password-1"},
            HTTP_X_FORWARDED_FOR="198.51.100.1",
        )
    response = Client(REMOTE_ADDR="10.0.0.1").post(
        reverse("login"),
        {"username": "volunteer", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="sign_in").get().ip == "198.51.100.2"
