"""The console commands other than the census import/export: adduser, token, stats, serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from frontline.accounts.models import ApiToken, User
from frontline.accounts.services import token_hash
from frontline.api.auth import BearerTokenAuthentication
from frontline.duty.stats import mobilisation_stats
from frontline.people.stats import census_stats
from frontline.territory.services import city, region_by_path

from .conftest import ANKANG, CHUANGYE, PASSWORD


def run(*args: str) -> str:
    # The commands speak the UI language (zh-hans by default); the tests read English.
    out = StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- adduser ----------------------------------------------------------------------------


def test_adduser_creates_an_account_that_logs_in(lu_an, client):
    out = run(
        "adduser", "li", "--role", "grid_worker", "--region", ANKANG,
        "--password", PASSWORD, "--name", "李明", "--phone", "13900001111",
    )  # fmt: skip
    user = User.objects.get(username="li")
    assert (user.role, user.region, user.first_name, user.phone) == (
        "grid_worker",
        region_by_path(ANKANG),
        "李明",
        "13900001111",
    )
    assert "li" in out and ANKANG in out
    assert client.login(username="li", password=PASSWORD)


def test_adduser_without_a_password_says_the_account_needs_its_token(lu_an):
    out = run("adduser", "api", "--role", "city_admin", "--region", "")
    user = User.objects.get(username="api")
    assert user.region == city()
    assert not user.has_usable_password()
    assert "cannot log in with a password" in out
    assert "frontline token api" in out
    token = run("token", "api").strip()
    assert BearerTokenAuthentication().authenticate_credentials(token)[0] == user


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "mayor", "--region", ANKANG], "Unknown role “mayor”"),
        (["--role", "grid_worker", "--region", "裕安区/没有这个镇"], "No region at path"),
        (["--role", "grid_worker", "--region", "裕安区"], "cannot be scoped to 裕安区"),
        (["--role", "district_staff", "--region", ANKANG], "cannot be scoped to"),
        (["--role", "community_staff", "--region", ""], "cannot be scoped to"),
        (["--role", "volunteer", "--region", ANKANG, "--password", "short"], "too short"),
    ],
)
def test_adduser_refuses_bad_input_and_creates_nothing(lu_an, args, message):
    before = User.objects.count()
    with pytest.raises(CommandError, match=message):
        run("adduser", "newcomer", *args)
    assert User.objects.count() == before


def test_adduser_refuses_a_taken_username(grid_worker):
    with pytest.raises(CommandError, match="“grid_worker” is taken"):
        run("adduser", "grid_worker", "--role", "grid_worker", "--region", CHUANGYE)
    grid_worker.refresh_from_db()
    assert grid_worker.region == region_by_path(ANKANG)


# --- token ------------------------------------------------------------------------------


def test_token_prints_a_new_token_each_time_and_stores_only_its_hash(grid_worker):
    first = run("token", "grid_worker").strip()
    second = run("token", "grid_worker").strip()
    assert first != second
    stored = ApiToken.objects.filter(user=grid_worker)
    assert sorted(t.key_hash for t in stored) == sorted([token_hash(first), token_hash(second)])
    assert all(first not in (t.key_hash, t.prefix) for t in stored)


def test_token_refuses_an_unknown_or_deactivated_account(grid_worker):
    with pytest.raises(CommandError, match="No account named “nobody”"):
        run("token", "nobody")
    grid_worker.is_active = False
    grid_worker.save()
    with pytest.raises(CommandError, match="deactivated"):
        run("token", "grid_worker")
    assert not ApiToken.objects.exists()


# --- stats ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "裕安区", "裕安区/城南镇", ANKANG, CHUANGYE])
def test_stats_json_is_exactly_census_stats(lu_an, path):
    from frontline.health.stats import health_stats
    from frontline.requests.stats import request_stats
    from frontline.supervision.stats import supervision_stats

    out = run("stats", "--region", path, "--json")
    place = region_by_path(path)
    assert json.loads(out) == {
        **census_stats(place),
        "requests": request_stats(place),
        "mobilisation": mobilisation_stats(place),
        "health": health_stats(place),
        "supervision": supervision_stats(place),
    }


def test_stats_json_counts_the_fixture_city(lu_an):
    stats = json.loads(run("stats", "--region", ANKANG, "--json"))
    assert stats["households"] == 2
    assert stats["residents"] == 3
    assert stats["buildings"] == 2
    assert stats["party_members"] == 1
    # 1栋 101: nobody marked 是; 2栋 302: 李强 orders online.
    assert stats["cannot_order_online"] == 1
    assert stats["care_groups"]["独居老人"] == 1
    assert stats["care_groups"]["婴幼儿"] == 1
    whole = json.loads(run("stats", "--json"))
    assert (whole["households"], whole["residents"]) == (4, 5)


def test_stats_json_prints_chinese_labels_readably(lu_an):
    out = run("stats", "--json")
    assert "独居老人" in out
    assert "\\u" not in out


def test_stats_table_is_readable(lu_an):
    out = run("stats", "--region", ANKANG)
    assert out.splitlines()[0] == ANKANG
    assert "独居老人" in out
    assert "Residents" in out


def test_stats_refuses_an_unknown_region(lu_an):
    with pytest.raises(CommandError, match="No region at path “金安区/不存在”"):
        run("stats", "--region", "金安区/不存在", "--json")


# --- serve ------------------------------------------------------------------------------


def test_serve_serves_the_wsgi_application(monkeypatch, db):
    calls = []
    monkeypatch.setattr("waitress.serve", lambda app, **kw: calls.append((app, kw)))
    out = run("serve", "--host", "0.0.0.0", "--port", "8081", "--threads", "4")
    from frontline.wsgi import application

    assert calls == [
        (application, {"host": "0.0.0.0", "port": 8081, "threads": 4, "ident": "frontline"})
    ]
    assert "http://0.0.0.0:8081/" in out


def test_serve_loads_nothing(monkeypatch, db):
    monkeypatch.setattr("waitress.serve", lambda app, **kw: None)
    run("serve")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "Port 70000"),
        (["--threads", "0"], "--threads"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_serve_refuses_bad_options(monkeypatch, args, message):
    monkeypatch.setattr("waitress.serve", lambda app, **kw: pytest.fail("served"))
    with pytest.raises(CommandError, match=message):
        run("serve", *args)


def test_serve_reports_a_port_in_use(monkeypatch):
    def busy(app, **kw):
        raise OSError(98, "Address already in use")

    monkeypatch.setattr("waitress.serve", busy)
    with pytest.raises(CommandError, match="Address already in use"):
        run("serve", "--port", "8000")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if parent == str(pid):
            found.append(int(stat.parent.name))
    return found


def test_serve_with_workers_answers_from_forked_processes_and_stops_them(tmp_path: Path):
    """`--workers 2`: two processes accept on one socket; SIGTERM stops the server whole."""
    import signal
    import socket
    import time
    import urllib.request

    if not hasattr(os, "fork"):
        pytest.skip("--workers forks")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["FRONTLINE_DATA_DIR"] = str(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).with_name("frontline")
    subprocess.run([str(script), "migrate", "-v", "0"], env=env, check=True, timeout=600)
    server = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answered = None
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=5) as r:
                    answered = r.status
                break
            except OSError:
                time.sleep(0.2)
        assert answered == 200
        children = _children(server.pid)
        assert len(children) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    time.sleep(0.5)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


# --- the console script -----------------------------------------------------------------


def test_console_script_exits_non_zero_with_the_message(tmp_path: Path):
    """Through the installed `frontline` script, as a person types it, on its own data."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["FRONTLINE_DATA_DIR"] = str(tmp_path)
    script = Path(sys.executable).with_name("frontline")
    done = subprocess.run(
        [str(script), "adduser", "x", "--role", "mayor", "--region", "裕安区"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode != 0
    # The message is in the UI language; the role it names is not translated.
    assert "CommandError" in done.stderr and "mayor" in done.stderr


def _project_commands() -> list[str]:
    """Every management command the project defines, as the console script spells it: a
    new command is covered without anyone remembering to list it (import-results was not)."""
    import django
    from django.core.management import get_commands

    django.setup()
    return sorted(
        name.replace("_", "-")
        for name, app in get_commands().items()
        if app.startswith("frontline.")
    )


@pytest.mark.parametrize("command", _project_commands())
def test_every_project_command_prints_its_help(command, capsys):
    """`--help` crashed on a lazy translation in a command's description (import-census)."""
    from frontline.cli import main

    with pytest.raises(SystemExit) as done:
        main(["frontline", command, "--help"])

    assert done.value.code == 0
    assert "usage: frontline" in capsys.readouterr().out
