"""The audit trail: append-only down to the database, read by city administrators only
(page, API, CLI), and account, role and region changes written to it."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from frontline.accounts.models import User
from frontline.accounts.services import user_create, user_update
from frontline.audit.models import AuditAction, AuditEvent
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError
from frontline.territory.services import city, region_by_path, region_move, region_rename

from .conftest import ANKANG, CHUANGYE, LIJINGYUAN, PASSWORD

KEYS = {"at", "actor", "action", "object_type", "object_id", "region", "detail", "ip"}


def _event(**fields) -> AuditEvent:
    return audit_record(
        **{"actor": "someone", "action": AuditAction.SEARCH, "object_type": "", **fields}
    )


def _backdated(moment: dt.datetime, **fields) -> AuditEvent:
    # The triggers refuse an UPDATE of `at`: an older event is inserted with its time.
    values = {"actor_name": "someone", "action": AuditAction.SEARCH, "at": moment, **fields}
    return AuditEvent.objects.create(**values)


# --- append-only, down to the database ----------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_name = 'nobody'",
        "UPDATE audit_auditevent SET actor_id = NULL",
        "DELETE FROM audit_auditevent",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(db, sql):
    event = _event(detail={"q": "王*"})

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk] if "%s" in sql else None)

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_name, stored.detail) == ("someone", {"q": "王*"})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_truncate(db):
    _event()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")

    assert AuditEvent.objects.count() == 1


def test_the_orm_refuses_too(db):
    event = _event()

    for attempt in (
        event.save,
        event.delete,
        AuditEvent.objects.all().delete,
        lambda: AuditEvent.objects.update(actor_name="x"),
    ):
        with pytest.raises(TypeError, match="append-only"):
            attempt()


def test_deleting_an_account_leaves_its_events_untouched(lu_an):
    # Before: SET_NULL made Django UPDATE the events (refused now by the database).
    user = user_create(username="temp", role="volunteer", region=region_by_path(ANKANG))
    event = _event(actor=user, action=AuditAction.VIEW_HOUSEHOLD, object_type="household")
    pk = user.pk

    user.delete()

    stored = AuditEvent.objects.get(pk=event.pk)
    assert not User.objects.filter(pk=pk).exists()
    assert (stored.actor_id, stored.actor_name, stored.action) == (pk, "temp", "view_household")


@pytest.fixture(autouse=True)
def _quiet_sign_ins(monkeypatch):
    """These tests count the trail's rows; the readers' own sign-ins (force_login) would
    add one each. Sign-in events are tested in test_signin.py."""
    from frontline.accounts import signals

    real = signals.audit_record

    def record(**kwargs):
        if kwargs.get("action") != AuditAction.SIGN_IN:
            return real(**kwargs)
        return None

    monkeypatch.setattr(signals, "audit_record", record)


# --- who reads it ---------------------------------------------------------------------------


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def root(lu_an):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def district_root(lu_an):
    """A superuser confined to 裕安区: reads the events about places inside it."""
    return get_user_model().objects.create_superuser(
        "district_root", password=PASSWORD, region=region_by_path("裕安区")
    )


@pytest.fixture
def events(city_admin):
    """Three events, the newest of the trail (after the city admin's own creation)."""
    return [
        _event(actor="grid_worker", action=AuditAction.VIEW_HOUSEHOLD, region=ANKANG),
        _event(actor="outsider", action=AuditAction.SEARCH, region=LIJINGYUAN),
        _event(actor="city_admin", action=AuditAction.SIGN_IN),
    ]


@pytest.mark.parametrize(
    "who,expected",
    [
        ("city_admin", 3),
        ("root", 3),
        ("district_root", 1),
        ("town_staff", 0),
        ("community_staff", 0),
        ("grid_worker", 0),
        ("volunteer", 0),
        ("outsider", 0),
    ],
)
def test_visible_to_follows_the_policy(events, request, who, expected):
    user = request.getfixturevalue(who)

    visible = AuditEvent.objects.visible_to(user).exclude(action=AuditAction.ACCOUNT_CREATE)
    assert visible.count() == expected


def test_visible_to_nobody_for_an_anonymous_or_inactive_account(events, city_admin):
    from django.contrib.auth.models import AnonymousUser

    assert AuditEvent.objects.visible_to(AnonymousUser()).count() == 0
    assert AuditEvent.objects.visible_to(None).count() == 0
    city_admin.is_active = False
    assert AuditEvent.objects.visible_to(city_admin).count() == 0


# --- the page -------------------------------------------------------------------------------


def _page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("audit_list"), params)


def test_page_lists_events_newest_first_in_chinese(client, city_admin, events):
    response = _page(client, city_admin)

    assert response.status_code == 200
    body = response.content.decode()
    # Chinese without any choice made.
    assert '<html lang="zh-hans">' in body and "首页" in body
    listed = [e.pk for e in response.context["page"]]
    assert listed[:3] == [e.pk for e in reversed(events)]
    assert body.index(LIJINGYUAN) < body.index(ANKANG)


@pytest.mark.parametrize(
    "params,actions",
    [
        ({"actor": "grid_worker"}, ["view_household"]),
        ({"action": "search"}, ["search"]),
        ({"actor": "outsider", "action": "sign_in"}, []),
        ({"actor": "city_admin"}, ["sign_in"]),
    ],
)
def test_page_filters(client, city_admin, events, params, actions):
    page = _page(client, city_admin, **params).context["page"]

    assert [e.action for e in page] == actions


def test_page_filters_by_date(client, city_admin, lu_an):
    today = timezone.localtime()
    _backdated(today - dt.timedelta(days=3), action=AuditAction.EXPORT)
    _event(action=AuditAction.IMPORT)

    since = (today - dt.timedelta(days=1)).date().isoformat()
    page = _page(client, city_admin, since=since).context["page"]

    assert [e.action for e in page] == ["import", "account_create"]


def test_page_shows_a_bad_date_on_the_form(client, city_admin, events):
    response = _page(client, city_admin, since="yesterday")

    assert response.status_code == 200
    assert response.context["form"].errors["since"]


def test_page_is_paginated(client, city_admin, lu_an):
    for n in range(55):
        _event(object_id=n)

    first = _page(client, city_admin, action="search").context["page"]
    second = _page(client, city_admin, action="search", page=2).context["page"]

    assert (len(first), len(second), first.paginator.count) == (50, 5, 55)
    assert first[0].object_id == "54" and second[4].object_id == "0"


@pytest.mark.parametrize(
    "who", ["town_staff", "community_staff", "grid_worker", "volunteer", "outsider"]
)
def test_page_refuses_other_roles_and_hides_the_link(client, events, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)

    assert client.get(reverse("audit_list")).status_code == 403
    home = client.get(reverse("home")).content.decode()
    assert reverse("audit_list") not in home


def test_nav_links_the_page_for_city_admins(client, city_admin):
    client.force_login(city_admin)

    assert f'href="{reverse("audit_list")}"' in client.get(reverse("home")).content.decode()


def test_page_shows_a_change_as_old_to_new(client, city_admin, grid_worker):
    user_update(user=grid_worker, role="volunteer", actor=city_admin)

    body = _page(client, city_admin, action="account_change").content.decode()

    assert "grid_worker → volunteer" in body


# --- the API --------------------------------------------------------------------------------


def _api(user, **params):
    client = Client()
    client.force_login(user)
    return client.get(reverse("api:audit-list"), params)


def test_api_lists_events_with_the_documented_keys(city_admin, events):
    response = _api(city_admin)

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 4  # and the city admin's account creation
    assert [set(row) for row in data["results"]] == [KEYS] * 4
    first = data["results"][0]
    assert (first["actor"], first["action"], first["region"]) == ("city_admin", "sign_in", "")
    assert dt.datetime.fromisoformat(first["at"]).utcoffset() == dt.timedelta(hours=8)


def test_api_filters(city_admin, events, lu_an):
    moment = timezone.now() - dt.timedelta(days=2)
    _backdated(moment, actor_name="grid_worker", action=AuditAction.EXPORT)

    by_actor = _api(city_admin, actor="grid_worker").json()
    by_action = _api(city_admin, action="view_household").json()
    # "+" unencoded in a query string arrives as a space; it is read as the offset.
    since = (moment + dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    recent = _api(city_admin, actor="grid_worker", since=since.isoformat()).json()
    unencoded = Client()
    unencoded.force_login(city_admin)
    raw = unencoded.get(reverse("api:audit-list") + "?actor=grid_worker&since=" + since.isoformat())

    assert [r["action"] for r in by_actor["results"]] == ["view_household", "export"]
    assert [r["action"] for r in by_action["results"]] == ["view_household"]
    assert [r["action"] for r in recent["results"]] == ["view_household"]
    assert raw.json()["count"] == 1


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "29/11/2026"])
def test_api_refuses_a_bad_since_with_a_clear_message(city_admin, events, since):
    response = _api(city_admin, since=since)

    assert response.status_code == 400
    assert since in response.json()["detail"]
    assert "2026-11-29" in response.json()["detail"]


def test_api_refuses_an_unknown_action(city_admin, events):
    response = _api(city_admin, action="nap")

    assert response.status_code == 400 and "nap" in response.json()["detail"]


@pytest.mark.parametrize(
    "who", ["town_staff", "community_staff", "grid_worker", "volunteer", "outsider"]
)
def test_api_refuses_other_roles(events, request, who):
    response = _api(request.getfixturevalue(who))

    assert response.status_code == 403


def test_api_is_in_the_schema(db):
    schema = Client().get(reverse("api:schema")).json()

    operation = schema["paths"]["/api/v1/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"actor", "action", "since"}
    assert {"200", "400", "403"} <= set(operation["responses"])


# --- the CLI --------------------------------------------------------------------------------


def _cli(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_cli_prints_json_lines_with_the_api_keys(city_admin, events):
    lines = _cli("--json").splitlines()

    rows = [json.loads(line) for line in lines]
    assert [r["action"] for r in rows] == ["sign_in", "search", "view_household", "account_create"]
    assert all(set(r) == KEYS for r in rows)
    assert rows == _api(city_admin).json()["results"]


def test_cli_filters_and_prints_a_table(events):
    table = _cli("--actor", "grid_worker", "--since", timezone.localdate().isoformat())

    header, *rows = table.splitlines()
    assert header.split()[:3] == ["at", "account", "action"]
    assert len(rows) == 1 and "view_household" in rows[0] and ANKANG in rows[0]
    assert _cli("--action", "export").splitlines()[1:] == ["No events match."]


def test_cli_refuses_a_bad_date_and_a_role_that_may_not_read(events, grid_worker):
    with pytest.raises(CommandError, match="not a date"):
        _cli("--since", "last week")
    with pytest.raises(CommandError, match="may not read the audit trail"):
        _cli("--as", "grid_worker")
    with pytest.raises(CommandError, match="No active account"):
        _cli("--as", "nobody-here")


# --- account changes ------------------------------------------------------------------------


def test_user_create_is_audited_without_the_password(lu_an, city_admin):
    user = user_create(
        username="li",
        role="grid_worker",
        region=region_by_path(ANKANG),
        password="a-long-secret-1",
        actor=city_admin,
    )

    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CREATE, object_id=str(user.pk))
    assert event.actor_name == "city_admin"
    assert event.detail == {
        "username": "li",
        "role": "grid_worker",
        "region": ANKANG,
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
    }
    assert "a-long-secret-1" not in json.dumps(event.detail) and "password" not in event.detail


def test_adduser_is_audited_as_the_system(lu_an):
    call_command("adduser", "api", "--role", "city_admin", "--region", "", stdout=StringIO())

    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CREATE)
    assert (event.actor_id, event.actor_name, event.detail["region"]) == (None, "", city().name)


def test_user_update_records_old_and_new(city_admin, grid_worker):
    user_update(
        user=grid_worker,
        actor=city_admin,
        role="volunteer",
        region=region_by_path(CHUANGYE),
        is_active=False,
        phone="13900009999",
    )

    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CHANGE)
    assert event.detail == {
        "username": "grid_worker",
        "role": {"from": "grid_worker", "to": "volunteer"},
        "region": {"from": ANKANG, "to": CHUANGYE},
        "is_active": {"from": True, "to": False},
        "changed": ["phone"],
    }
    assert "13900009999" not in json.dumps(event.detail)
    grid_worker.refresh_from_db()
    assert (grid_worker.role, grid_worker.is_active) == ("volunteer", False)


def test_user_update_that_changes_nothing_records_nothing(city_admin, grid_worker):
    user_update(user=grid_worker, actor=city_admin, role="grid_worker")

    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CHANGE).exists()


def test_user_update_refuses_a_grid_worker_for_the_whole_city(city_admin, grid_worker):
    with translation.override("en"), pytest.raises(DomainError, match="cannot be scoped"):
        user_update(user=grid_worker, actor=city_admin, region=city())

    grid_worker.refresh_from_db()
    assert grid_worker.region == region_by_path(ANKANG)
    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CHANGE).exists()


# --- the admin's account form --------------------------------------------------------------


def _change_form_data(client, user) -> dict:
    form = (
        client.get(reverse("admin:accounts_user_change", args=[user.pk])).context["adminform"].form
    )
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if name == "password" or value is None or value is False:
            continue
        data[name] = "on" if value is True else getattr(value, "pk", value)
    return data


def test_admin_refuses_a_grid_worker_scoped_to_the_whole_city(client, english, root, grid_worker):
    client.force_login(root)
    data = {**_change_form_data(client, grid_worker), "region": city().pk}

    response = client.post(reverse("admin:accounts_user_change", args=[grid_worker.pk]), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "cannot be scoped to" in " ".join(errors["region"])
    grid_worker.refresh_from_db()
    assert grid_worker.region == region_by_path(ANKANG)


def test_admin_change_is_audited_as_the_superuser(client, root, grid_worker):
    client.force_login(root)
    data = {**_change_form_data(client, grid_worker), "role": "volunteer"}

    response = client.post(reverse("admin:accounts_user_change", args=[grid_worker.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CHANGE)
    assert (event.actor_name, event.object_id) == ("root", str(grid_worker.pk))
    assert event.detail["role"] == {"from": "grid_worker", "to": "volunteer"}
    assert event.ip == "127.0.0.1"


def test_admin_add_goes_through_user_create(client, english, root):
    client.force_login(root)
    url = reverse("admin:accounts_user_add")
    base = {
        "username": "newbie",
        "usable_password": "true",
        "password1": "a-long-secret-1",
        "password2": "a-long-secret-1",
        "first_name": "新人",
    }

    refused = client.post(url, {**base, "role": "volunteer", "region": city().pk})
    created = client.post(url, {**base, "role": "volunteer", "region": region_by_path(ANKANG).pk})

    assert "cannot be scoped to" in " ".join(refused.context["adminform"].form.errors["region"])
    assert created.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.check_password("a-long-secret-1") and user.role == "volunteer"
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CREATE, object_id=str(user.pk))
    assert event.actor_name == "root"


# --- region moves and renames -------------------------------------------------------------


def test_region_rename_and_move_are_audited_with_old_and_new_paths(lu_an, city_admin):
    compound = region_by_path(ANKANG)
    region_rename(region=compound, name="安康花园", actor=city_admin)
    region_move(
        region=region_by_path("裕安区/城南镇/城南社区"),
        new_parent=region_by_path("金安区/鼓楼街道"),
    )

    rename = AuditEvent.objects.get(action=AuditAction.REGION_RENAME)
    move = AuditEvent.objects.get(action=AuditAction.REGION_MOVE)
    assert rename.actor_name == "city_admin" and rename.object_id == str(compound.pk)
    assert rename.detail == {"path": {"from": ANKANG, "to": "裕安区/城南镇/陡步河社区/安康花园"}}
    assert move.actor_id is None
    assert move.detail == {
        "path": {"from": "裕安区/城南镇/城南社区", "to": "金安区/鼓楼街道/城南社区"}
    }


def test_admin_region_rename_is_audited_as_the_superuser_once(client, root):
    client.force_login(root)
    town = region_by_path("裕安区/城南镇")

    response = client.post(
        reverse("admin:territory_region_change", args=[town.pk]),
        {"name": "城南街道", "kind": "街道", "parent": town.parent_id},
    )

    assert response.status_code == 302
    # The form's dry run rolled its own event back: one rename, one event.
    event = AuditEvent.objects.get(action=AuditAction.REGION_RENAME)
    assert event.actor_name == "root"
    assert event.detail["path"] == {"from": "裕安区/城南镇", "to": "裕安区/城南街道"}


def test_cli_as_a_city_admin_reads_what_the_api_gives_them(city_admin, events):
    rows = [json.loads(line) for line in _cli("--as", "city_admin", "--json").splitlines()]

    assert rows == _api(city_admin).json()["results"]


def test_since_a_date_starts_at_its_first_moment_in_the_server_time_zone(city_admin, lu_an):
    midnight = timezone.make_aware(dt.datetime(2026, 3, 2))  # Asia/Shanghai
    _backdated(midnight - dt.timedelta(seconds=1), action=AuditAction.EXPORT)
    _backdated(midnight, action=AuditAction.IMPORT)

    rows = _api(city_admin, since="2026-03-02", action="").json()["results"]

    assert "import" in [r["action"] for r in rows] and "export" not in [r["action"] for r in rows]
