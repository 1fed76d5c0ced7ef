"""Sign-in: lockout, the sign-in audit trail, passwords, API tokens, session expiry."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from frontline.accounts.models import ApiToken, User
from frontline.accounts.services import (
    password_change,
    token_hash,
    token_issue,
    user_create,
    user_deactivate,
    user_token,
)
from frontline.audit.models import AuditAction, AuditEvent
from frontline.core.errors import DomainError
from frontline.core.middleware import SessionExpiryMiddleware
from frontline.territory.services import region_by_path

from .conftest import ANKANG, PASSWORD

WRONG = "not-the-password-1"
START = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def run(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def actions(**filters) -> list[str]:
    return list(
        AuditEvent.objects.filter(**filters).order_by("at", "id").values_list("action", flat=True)
    )


# --- lockout ----------------------------------------------------------------------------


def test_ten_bad_passwords_lock_the_account_and_it_unlocks_after_the_cool_off(grid_worker):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            response = sign_in(client, "grid_worker", WRONG)
        # The 10th failure already answers with the lockout page.
        assert response.status_code == 429
        response = sign_in(client, "grid_worker", PASSWORD)
        assert response.status_code == 429
        assert "registration/locked_out.html" in [t.name for t in response.templates]
        assert "_auth_user_id" not in client.session

        clock.shift(dt.timedelta(minutes=14))
        assert sign_in(client, "grid_worker", PASSWORD).status_code == 429

        clock.shift(dt.timedelta(minutes=2))
        response = sign_in(client, "grid_worker", PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(grid_worker.pk)


def test_nine_bad_passwords_do_not_lock(grid_worker):
    client = Client()
    for _ in range(9):
        assert sign_in(client, "grid_worker", WRONG).status_code == 200
    assert sign_in(client, "grid_worker", PASSWORD).status_code == 302


def test_a_successful_sign_in_starts_the_count_again(grid_worker):
    client = Client()
    for _ in range(9):
        sign_in(client, "grid_worker", WRONG)
    assert sign_in(client, "grid_worker", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(9):
        assert sign_in(client, "grid_worker", WRONG).status_code == 200
    assert sign_in(client, "grid_worker", PASSWORD).status_code == 302


def test_the_lockout_page_is_translated(grid_worker):
    client = Client()
    client.cookies["django_language"] = "en"
    for _ in range(10):
        response = sign_in(client, "grid_worker", WRONG)
    html = response.content.decode()
    assert "Signing in is locked" in html and "15 minutes" in html


def test_an_account_is_locked_from_every_address(grid_worker):
    for n in range(10):
        sign_in(Client(), "grid_worker", WRONG, REMOTE_ADDR=f"10.0.0.{n + 1}")
    response = sign_in(Client(), "grid_worker", PASSWORD, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429


def test_one_persons_typos_do_not_lock_a_shared_office(grid_worker, volunteer):
    """Found by a newcomer's walk: ten bad passwords for one account locked everyone
    behind the same address (an office, a carrier's shared address)."""
    for _ in range(10):
        sign_in(Client(), "grid_worker", WRONG, REMOTE_ADDR="10.9.9.9")
    assert sign_in(Client(), "grid_worker", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 429
    assert sign_in(Client(), "volunteer", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_an_address_guessing_across_accounts_is_locked(settings, grid_worker, volunteer):
    settings.FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS = 20
    for n in range(20):
        sign_in(Client(), f"guess{n}", WRONG, REMOTE_ADDR="10.9.9.9")
    assert sign_in(Client(), "volunteer", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 429
    locked = AuditEvent.objects.get(action=AuditAction.LOCKED_OUT, object_type="address")
    assert locked.detail == {"address": "10.9.9.9"}
    # Another address is not affected.
    assert sign_in(Client(), "volunteer", PASSWORD, REMOTE_ADDR="10.9.9.8").status_code == 302


def test_the_admin_sign_in_goes_through_the_lockout(grid_worker):
    client = Client()
    url = reverse("admin:login")
    for _ in range(10):
        client.post(url, {"username": "grid_worker", "password": WRONG})
    assert sign_in(Client(), "grid_worker", PASSWORD).status_code == 429


def test_a_sign_in_over_http_always_passes_a_request_to_the_lockout(grid_worker, rf):
    """The backend refuses a locked account whenever a request is there to lock by."""
    client = Client()
    for _ in range(10):
        sign_in(client, "grid_worker", WRONG)
    request = rf.post(reverse("login"))
    assert authenticate(request, username="grid_worker", password=PASSWORD) is None


@pytest.mark.parametrize(("attempts", "minutes"), [("3", "5"), ("", "")])
def test_lockout_is_configurable_from_the_environment(monkeypatch, attempts, minutes):
    import importlib

    import frontline.settings as project_settings

    monkeypatch.setenv("FRONTLINE_LOCKOUT_ATTEMPTS", attempts)
    monkeypatch.setenv("FRONTLINE_LOCKOUT_MINUTES", minutes)
    try:
        fresh = importlib.reload(project_settings)
        assert (int(attempts) if attempts else 10) == fresh.AXES_FAILURE_LIMIT
        assert dt.timedelta(minutes=int(minutes) if minutes else 15) == fresh.AXES_COOLOFF_TIME
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


# --- the sign-in audit trail -------------------------------------------------------------


def test_sign_in_failure_and_sign_out_are_audited_with_the_address(grid_worker):
    client = Client(REMOTE_ADDR="192.0.2.7")
    sign_in(client, "grid_worker", WRONG)
    sign_in(client, "grid_worker", PASSWORD)
    client.post(reverse("logout"))

    # Creating the account left its own event; the sign-in events come after it.
    events = list(
        AuditEvent.objects.exclude(action=AuditAction.ACCOUNT_CREATE).order_by("at", "id")
    )
    assert [e.action for e in events] == [
        AuditAction.SIGN_IN_FAILED,
        AuditAction.SIGN_IN,
        AuditAction.SIGN_OUT,
    ]
    assert {e.ip for e in events} == {"192.0.2.7"}
    assert {e.actor_name for e in events} == {"grid_worker"}
    failed = events[0]
    assert failed.detail == {"username": "grid_worker"}
    assert events[1].actor == grid_worker


def test_a_failed_sign_in_never_records_the_password(grid_worker):
    sign_in(Client(), "grid_worker", WRONG)
    sign_in(Client(), "nobody-such", WRONG)
    for event in AuditEvent.objects.all():
        assert WRONG not in str(event.detail) and WRONG not in event.actor_name
    failed = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED)
    assert set(failed.values_list("actor_name", flat=True)) == {"grid_worker", "nobody-such"}


def test_a_lockout_is_audited(grid_worker):
    client = Client(REMOTE_ADDR="192.0.2.9")
    for _ in range(10):
        sign_in(client, "grid_worker", WRONG)
    locked = AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT)
    assert locked.count() == 1
    assert (locked[0].actor_name, locked[0].ip) == ("grid_worker", "192.0.2.9")
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).count() == 10


# --- passwords --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw1", "too short"),
        ("password123", "too common"),
        ("48151623424815", "entirely numeric"),
        ("newcomer-li", "too similar"),
    ],
)
def test_adduser_applies_the_password_validators(lu_an, password, message):
    with pytest.raises(CommandError, match=message):
        run(
            "adduser", "newcomer-li", "--role", "volunteer", "--region", ANKANG,
            "--password", password,
        )  # fmt: skip
    assert not User.objects.filter(username="newcomer-li").exists()


def test_the_demo_and_test_passwords_pass_the_validators(lu_an):
    from django.contrib.auth.password_validation import validate_password

    from frontline.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    for account in DEMO_ACCOUNTS:
        validate_password(DEMO_PASSWORD, User(username=account.username))
    validate_password(PASSWORD, User(username="grid_worker"))


def test_password_change_page_changes_the_password_and_revokes_tokens(grid_worker):
    key = user_token(user=grid_worker)
    client = Client(REMOTE_ADDR="192.0.2.3")
    client.force_login(grid_worker)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-brand-new-secret-9",
            "new_password2": "a-brand-new-secret-9",
        },
    )
    assert response.status_code == 302
    grid_worker.refresh_from_db()
    assert grid_worker.check_password("a-brand-new-secret-9")
    # Still signed in on this browser.
    assert client.get(reverse("home")).status_code == 200
    assert APIClient().get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    change = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGE)
    assert (change.actor, change.ip, change.object_id) == (
        grid_worker,
        "192.0.2.3",
        str(grid_worker.pk),
    )


def test_password_change_page_refuses_a_weak_password(grid_worker):
    client = Client()
    client.force_login(grid_worker)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    grid_worker.refresh_from_db()
    assert grid_worker.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGE).exists()


def test_a_password_set_anywhere_revokes_the_tokens(grid_worker):
    """`frontline changepassword`, the admin and the shell all end in set_password + save."""
    token, _key = token_issue(user=grid_worker)
    grid_worker.set_password("changed-in-a-shell-7")
    grid_worker.save()
    token.refresh_from_db()
    assert token.revoked_at is not None
    revoke = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKE)
    assert revoke.detail["reason"] == "password changed"
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGE).count() == 1


def test_creating_an_account_is_not_a_password_change(lu_an):
    user_create(username="li", role="volunteer", region=region_by_path(ANKANG), password=PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGE).exists()


def test_password_change_service_validates(grid_worker):
    with pytest.raises(DomainError):
        password_change(user=grid_worker, password="grid_worker1", actor=grid_worker)


# --- API tokens -------------------------------------------------------------------------


def bearer(key):
    return APIClient().get(
        "/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_a_token_is_stored_as_its_hash_only(grid_worker):
    token, key = token_issue(user=grid_worker, name="curl")
    assert token.key_hash == token_hash(key) != key
    assert token.prefix == key[:8]
    assert len(key) >= 40
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert bearer(key).status_code == 200
    assert AuditEvent.objects.get(action=AuditAction.TOKEN_CREATE).detail["prefix"] == key[:8]


def test_a_token_expires_after_the_configured_days(grid_worker, settings):
    settings.API_TOKEN_DAYS = 30
    with time_machine.travel(START, tick=False) as clock:
        token, key = token_issue(user=grid_worker)
        assert token.expires == START + dt.timedelta(days=30)
        clock.shift(dt.timedelta(days=29, hours=23))
        assert bearer(key).status_code == 200
        clock.shift(dt.timedelta(hours=2))
        response = bearer(key)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_token_days_come_from_the_environment(monkeypatch):
    import importlib

    import frontline.settings as project_settings

    monkeypatch.setenv("FRONTLINE_TOKEN_DAYS", "7")
    try:
        assert importlib.reload(project_settings).API_TOKEN_DAYS == 7
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)
    assert project_settings.API_TOKEN_DAYS == 30


def test_a_revoked_token_is_refused(grid_worker):
    key = user_token(user=grid_worker)
    out = run("token", "grid_worker", "--revoke", key[:8])
    assert key[:8] in out
    response = bearer(key)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKE).count() == 1


def test_deactivating_an_account_revokes_its_tokens(grid_worker):
    key = user_token(user=grid_worker)
    user_deactivate(user=grid_worker)
    assert bearer(key).status_code == 401
    assert not ApiToken.objects.active().filter(user=grid_worker).exists()


def test_a_token_of_an_account_deactivated_elsewhere_is_refused(grid_worker):
    key = user_token(user=grid_worker)
    User.objects.filter(pk=grid_worker.pk).update(is_active=False)
    response = bearer(key)
    assert response.status_code == 401 and "deactivated" in response.json()["detail"]


def test_token_list_shows_prefixes_and_states_never_keys(grid_worker):
    with time_machine.travel(START, tick=False):
        old_key = user_token(user=grid_worker)
    live_key = run("token", "grid_worker", "--name", "ops script").strip()
    run("token", "grid_worker", "--revoke", live_key[:8])
    third = user_token(user=grid_worker)
    out = run("token", "grid_worker", "--list")
    lines = out.strip().splitlines()
    assert len(lines) == 3
    for key in (old_key, live_key, third):
        assert key not in out
    by_prefix = {line.split("\t")[0]: line for line in lines}
    assert "expired" in by_prefix[old_key[:8] + "…"]
    assert (
        "revoked" in by_prefix[live_key[:8] + "…"] and "ops script" in by_prefix[live_key[:8] + "…"]
    )
    assert "in force" in by_prefix[third[:8] + "…"]


def test_token_revoke_with_an_unknown_prefix_says_so(grid_worker):
    with pytest.raises(CommandError, match="no token starting with"):
        run("token", "grid_worker", "--revoke", "zzzzzzzz")


def test_the_tokens_page_lists_issues_and_revokes_own_tokens(grid_worker, volunteer):
    mine, my_key = token_issue(user=grid_worker, name="laptop")
    theirs, _ = token_issue(user=volunteer, name="theirs")
    client = Client()
    client.force_login(grid_worker)
    html = client.get(reverse("token_list")).content.decode()
    assert mine.prefix in html and "laptop" in html
    assert theirs.prefix not in html and my_key not in html

    issued = client.post(reverse("token_list"), {"name": "phone"})
    new = ApiToken.objects.get(user=grid_worker, name="phone")
    assert new.prefix in issued.content.decode()
    assert issued["Cache-Control"] == "no-store"

    assert client.post(reverse("token_revoke", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("token_revoke", args=[mine.pk])).status_code == 405
    assert client.post(reverse("token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_a_token_notes_its_use_at_most_once_a_minute(grid_worker):
    token, key = token_issue(user=grid_worker)
    with time_machine.travel(START, tick=False) as clock:
        bearer(key)
        token.refresh_from_db()
        assert token.last_used == START
        clock.shift(dt.timedelta(seconds=30))
        bearer(key)
        token.refresh_from_db()
        assert token.last_used == START
        clock.shift(dt.timedelta(seconds=60))
        bearer(key)
        token.refresh_from_db()
        assert token.last_used == START + dt.timedelta(seconds=90)


# --- sessions ---------------------------------------------------------------------------


def signed_in_client(user):
    client = Client()
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    return client


def test_a_session_ends_after_two_idle_hours(grid_worker):
    with time_machine.travel(START, tick=False) as clock:
        client = signed_in_client(grid_worker)
        clock.shift(dt.timedelta(hours=1, minutes=59))
        assert client.get(reverse("home")).status_code == 200
        clock.shift(dt.timedelta(hours=1, minutes=59))
        assert client.get(reverse("home")).status_code == 200
        clock.shift(dt.timedelta(hours=2, minutes=1))
        response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    sign_out = AuditEvent.objects.get(action=AuditAction.SIGN_OUT)
    assert sign_out.detail == {"reason": "session_idle"}


def test_a_session_ends_twelve_hours_after_sign_in_however_active(grid_worker):
    with time_machine.travel(START, tick=False) as clock:
        client = signed_in_client(grid_worker)
        for _ in range(11):
            clock.shift(dt.timedelta(hours=1))
            assert client.get(reverse("home")).status_code == 200
        clock.shift(dt.timedelta(minutes=59))
        assert client.get(reverse("home")).status_code == 200
        clock.shift(dt.timedelta(minutes=2))
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert AuditEvent.objects.get(action=AuditAction.SIGN_OUT).detail == {
        "reason": "session_expired"
    }


def test_session_limits_are_configurable(grid_worker, settings):
    settings.SESSION_IDLE_SECONDS = 10 * 60
    with time_machine.travel(START, tick=False) as clock:
        client = signed_in_client(grid_worker)
        clock.shift(dt.timedelta(minutes=11))
        assert client.get(reverse("home")).status_code == 302


def test_session_settings_come_from_the_environment(monkeypatch):
    import importlib

    import frontline.settings as project_settings

    monkeypatch.setenv("FRONTLINE_SESSION_HOURS", "8")
    monkeypatch.setenv("FRONTLINE_SESSION_IDLE_MINUTES", "30")
    try:
        fresh = importlib.reload(project_settings)
        assert fresh.SESSION_COOKIE_AGE == fresh.SESSION_ABSOLUTE_SECONDS == 8 * 3600
        assert fresh.SESSION_IDLE_SECONDS == 30 * 60
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)
    assert project_settings.SESSION_COOKIE_AGE == 12 * 3600
    assert project_settings.SESSION_IDLE_SECONDS == 2 * 3600


def test_activity_is_written_to_the_session_at_most_once_a_minute(grid_worker):
    with time_machine.travel(START, tick=False) as clock:
        client = signed_in_client(grid_worker)
        seen = client.session[SessionExpiryMiddleware.SEEN]
        clock.shift(dt.timedelta(seconds=30))
        client.get(reverse("home"))
        assert client.session[SessionExpiryMiddleware.SEEN] == seen
        clock.shift(dt.timedelta(seconds=31))
        client.get(reverse("home"))
        assert client.session[SessionExpiryMiddleware.SEEN] == seen + 61
    assert timezone.is_aware(START)


def test_the_plain_text_token_table_of_drf_is_gone(db):
    from django.db import connection

    assert "authtoken_token" not in connection.introspection.table_names()
    assert "accounts_apitoken" in connection.introspection.table_names()


def test_a_short_password_is_refused_in_chinese_by_default(grid_worker):
    """Found by a newcomer's walk: the length rule spoke English among Chinese messages."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password("short", grid_worker)
    assert all("password" not in m.lower() for m in refused.value.messages)
