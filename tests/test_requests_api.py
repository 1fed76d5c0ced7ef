"""The pinned requests API: create (idempotent), read with history, steps, list, refusals,
and two dispatchers at the same moment on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from frontline.accounts.services import user_create, user_token
from frontline.requests.models import Request, RequestEvent

from . import factories as f
from .conftest import ANKANG, PASSWORD


def _api(user, lang="zh-hans"):
    return Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}", HTTP_ACCEPT_LANGUAGE=lang)


@pytest.fixture
def driver(lu_an):
    return user_create(
        username="driver", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )


def _create(client, household, **extra):
    body = {
        "household": household.pk,
        "category": "medical",
        "urgency": "urgent",
        "description": "透析",
        "channel": "hotline",
    }
    return client.post(reverse("api:request-list"), body, content_type="application/json", **extra)


def _step(client, pk, step, **body):
    return client.post(
        reverse(f"api:request-{step}", args=[pk]), body, content_type="application/json"
    )


def test_create_read_and_walk_through_the_api(grid_worker, driver, lu_an):
    staff, runner = _api(grid_worker), _api(driver)
    created = _create(staff, lu_an["ankang"][0])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "received" and body["number"].startswith("Q")
    pk = body["id"]

    assert _step(staff, pk, "dispatch", assignee="driver").status_code == 200
    assert _step(runner, pk, "deliver").status_code == 200
    assert _step(runner, pk, "report", note="已送达").status_code == 200
    closed = _step(staff, pk, "close", satisfaction=5, note="满意")
    assert closed.status_code == 200

    shown = staff.get(reverse("api:request-detail", args=[pk])).json()
    assert shown["status"] == "closed" and shown["status_label"] == "消单"
    assert shown["assignee"] == "driver" and shown["overdue"] is False
    assert shown["category"] == "medical" and shown["urgency"] == "urgent"
    assert shown["household"] == lu_an["ankang"][0].pk
    assert [h["status"] for h in shown["history"]] == [
        "received",
        "dispatched",
        "delivering",
        "reported",
        "closed",
    ]
    assert shown["history"][3]["note"] == "已送达" and shown["history"][3]["by"] == "driver"


def test_status_label_is_chinese_in_any_language(grid_worker, lu_an):
    created = _create(_api(grid_worker, "en"), lu_an["ankang"][0]).json()
    assert created["status_label"] == "接单"


def test_idempotency_key_header_creates_one_request(grid_worker, lu_an):
    client = _api(grid_worker)
    a = _create(client, lu_an["ankang"][0], HTTP_IDEMPOTENCY_KEY="abc")
    b = _create(client, lu_an["ankang"][0], HTTP_IDEMPOTENCY_KEY="abc")
    assert a.json()["id"] == b.json()["id"] and b["Idempotent-Replayed"] == "true"
    assert Request.objects.count() == 1


def test_a_step_from_the_wrong_state_is_409_in_the_users_language(grid_worker, lu_an):
    pk = _create(_api(grid_worker), lu_an["ankang"][0]).json()["id"]
    response = _step(_api(grid_worker, "en"), pk, "report", note="x")
    assert response.status_code == 409
    assert "not possible" in response.json()["detail"]
    assert _step(_api(grid_worker), pk, "close", satisfaction=5).status_code == 409
    assert RequestEvent.objects.count() == 1


def test_a_person_not_allowed_is_403(grid_worker, driver, volunteer, outsider, lu_an):
    pk = _create(_api(grid_worker), lu_an["ankang"][0]).json()["id"]
    assert _step(_api(volunteer), pk, "dispatch", assignee="driver").status_code == 403
    assert _step(_api(grid_worker), pk, "dispatch", assignee="outsider").status_code == 403
    assert _step(_api(grid_worker), pk, "dispatch", assignee="nobody").status_code == 403
    assert _step(_api(outsider), pk, "dispatch", assignee="outsider").status_code == 404
    assert _create(_api(volunteer), lu_an["ankang"][0]).status_code == 403
    assert Request.objects.get(pk=pk).status == "received"


def test_list_by_region_and_status_paginated(grid_worker, driver, town_staff, lu_an):
    client = _api(grid_worker)
    ids = [_create(client, hh).json()["id"] for hh in lu_an["ankang"]]
    _step(client, ids[0], "dispatch", assignee="driver")
    other = _create(_api(town_staff), lu_an["chuangye"]).json()["id"]

    listed = client.get(reverse("api:request-list") + "?region=" + ANKANG + "&status=received")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1 and listed.json()["results"][0]["id"] == ids[1]
    whole = _api(town_staff).get(reverse("api:request-list")).json()
    assert {r["id"] for r in whole["results"]} == {*ids, other}
    assert client.get(reverse("api:request-list") + "?status=nonsense").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_exactly_one_wins(lu_an, grid_worker, community_staff, driver):
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite serialises every writer on one file lock, so the race cannot happen; "
            "run with `make test-pg` to prove it on PostgreSQL"
        )
    volunteer2 = user_create(
        username="runner2", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )
    pk = _create(_api(grid_worker), lu_an["ankang"][0]).json()["id"]
    clients = [(_api(grid_worker), "driver"), (_api(community_staff), volunteer2.username)]
    barrier = threading.Barrier(len(clients))
    results: list[int] = []

    def dispatch(client, assignee):
        try:
            barrier.wait()
            results.append(_step(client, pk, "dispatch", assignee=assignee).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [200, 409]
    assert RequestEvent.objects.filter(request_id=pk, step="dispatch").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_holding_the_same_copy_exactly_one_wins(
    lu_an, grid_worker, community_staff, driver
):
    """Both read the request as received, then dispatch at the same moment."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite serialises every writer on one file lock, so the race cannot happen; "
            "run with `make test-pg` to prove it on PostgreSQL"
        )
    from frontline.core.errors import Conflict
    from frontline.requests.services import request_create, request_dispatch

    runner2 = user_create(
        username="runner2", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )
    req = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="medical", description="透析"
    )
    people = [(grid_worker, driver), (community_staff, runner2)]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def dispatch(actor, assignee):
        try:
            copy = Request.objects.select_related("household__building").get(pk=req.pk)
            barrier.wait()
            try:
                request_dispatch(request=copy, assignee=assignee, actor=actor)
                outcomes.append("won")
            except Conflict:
                outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["409", "won"]
    assert RequestEvent.objects.filter(request_id=req.pk, step="dispatch").count() == 1


def test_outsider_lists_none_of_them(grid_worker, outsider, lu_an):
    _create(_api(grid_worker), lu_an["ankang"][0])
    listed = _api(outsider).get(reverse("api:request-list")).json()
    assert listed["count"] == 0
    assert _api(outsider).get(reverse("api:request-list") + "?region=" + ANKANG).status_code == 404


def test_the_list_costs_the_same_queries_for_one_or_twenty(grid_worker, lu_an):
    """Token, its last use, the jurisdiction, the audit row, the count, the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _api(grid_worker)
    counts = []
    for n in (1, 19):
        for _ in range(n):
            _create(client, lu_an["ankang"][0])  # the same household: flagged duplicates
        with CaptureQueriesContext(connection) as queries:
            listed = client.get(reverse("api:request-list") + "?status=received")
        assert listed.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5, counts


def _selects(queries, table):
    return [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]


def test_a_creation_answers_from_what_it_wrote(grid_worker, lu_an):
    """The answer reads back only the history: the request, its household and its
    duplicate link are those the creation had in hand. The requests table is read once,
    for an open one it may duplicate; an earlier request with the same Idempotency-Key is
    found by the unique constraint, not by a read first."""
    from django.test.utils import CaptureQueriesContext

    client = _api(grid_worker)
    first = _create(client, lu_an["ankang"][0]).json()
    with CaptureQueriesContext(connection) as queries:
        created = _create(client, lu_an["ankang"][0], HTTP_IDEMPOTENCY_KEY="k1")
    assert created.status_code == 201
    body = created.json()
    assert len(_selects(queries, "requests_request")) == 1
    assert len(_selects(queries, "requests_requestevent")) == 1
    assert len(_selects(queries, "territory_region")) == 0  # the caller's region: with the token
    assert body["duplicate_of"] == first["number"] and body["assignee"] is None
    assert body["address"] == lu_an["ankang"][0].address
    assert [(h["status"], h["by"]) for h in body["history"]] == [("received", "grid_worker")]
    # Token (and its last use), household, the read above, the day's number, the request,
    # its history row, its audit row, the history and photos read back; at most 4 more for
    # the transaction's statements (BEGIN/COMMIT or a savepoint in tests).
    assert len(queries) <= 10 + 4, [q["sql"][:60] for q in queries]


def test_a_repeated_key_is_answered_by_the_first_request_without_a_second_number(
    grid_worker, lu_an
):
    """The key is checked by the unique constraint in the insert: the retry's transaction
    rolls back whole, so the day's sequence does not move and nothing else is written."""
    from frontline.audit.models import AuditEvent

    client = _api(grid_worker)
    first = _create(client, lu_an["ankang"][0], HTTP_IDEMPOTENCY_KEY="retry").json()
    events, audits = RequestEvent.objects.count(), AuditEvent.objects.count()
    again = _create(client, lu_an["ankang"][0], HTTP_IDEMPOTENCY_KEY="retry")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"] and again.json()["number"] == first["number"]
    assert RequestEvent.objects.count() == events
    assert AuditEvent.objects.count() == audits
    after = _create(client, lu_an["ankang"][1], HTTP_IDEMPOTENCY_KEY="next").json()
    assert int(after["number"].rsplit("-", 1)[1]) == int(first["number"].rsplit("-", 1)[1]) + 1


def test_answers_are_what_the_serializers_render(grid_worker, driver, lu_an, settings, tmp_path):
    """The list and detail answers are built directly (for speed); the serializers are
    the schema. On requests in every state they must render the same JSON."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone, translation

    from frontline.requests import services
    from frontline.requests.api import (
        RequestDetailSerializer,
        RequestSerializer,
        request_detail,
        request_row,
    )
    from frontline.requests.queries import request_for

    settings.FRONTLINE_PHOTO_DIR = tmp_path / "photos"
    home, next_door = lu_an["ankang"][0], lu_an["ankang"][1]
    new = services.request_create(
        actor=grid_worker, household=home, category="groceries", description="米"
    )
    late = services.request_create(
        actor=grid_worker,
        household=next_door,
        category="medical",
        urgency="urgent",
        description="透析",
        at=timezone.now() - dt.timedelta(hours=5),
    )
    dup = services.request_create(
        actor=grid_worker, household=home, category="groceries", description="油"
    )
    done = services.request_create(
        actor=grid_worker, household=next_door, category="repair", description="灯"
    )
    services.request_dispatch(request=done, assignee=driver, actor=grid_worker)
    services.request_deliver(request=done, actor=driver)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    services.request_report(
        request=done,
        actor=driver,
        note="好了",
        photos=[SimpleUploadedFile("灯.jpg", jpeg, content_type="image/jpeg")],
    )
    services.request_close(request=done, actor=grid_worker, satisfaction=4, note="满意")
    assert dup.duplicate_of_id == new.pk
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            for pk in (new.pk, late.pk, dup.pk, done.pk):
                shown = request_for(grid_worker, pk, audit=False)
                expected = dict(RequestDetailSerializer(shown).data)
                assert request_detail(shown) == expected
                row = {k: v for k, v in expected.items() if k not in ("history", "photos")}
                assert request_row(shown, timezone.now()) == dict(RequestSerializer(shown).data)
                assert request_row(shown, timezone.now()) == row
    assert request_detail(request_for(grid_worker, late.pk, audit=False))["overdue"] is True
    assert len(request_detail(request_for(grid_worker, done.pk, audit=False))["photos"]) == 1


@pytest.mark.parametrize("step", ["dispatch", "deliver"])
def test_a_step_answers_from_the_request_it_moved(grid_worker, driver, lu_an, step):
    """One read of the request (with everything its answer shows), one of its history;
    one audit row: the step's own, not a second one for reading the answer."""
    from django.test.utils import CaptureQueriesContext

    from frontline.audit.models import AuditEvent

    staff, runner = _api(grid_worker), _api(driver)
    pk = _create(staff, lu_an["ankang"][0]).json()["id"]
    if step == "deliver":
        _step(staff, pk, "dispatch", assignee="driver")
    client, body = (staff, {"assignee": "driver"}) if step == "dispatch" else (runner, {})
    client.get(reverse("api:request-list"))  # the token's last use noted before counting
    audited = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        answered = _step(client, pk, step, **body)
    assert answered.status_code == 200, answered.content
    shown = answered.json()
    assert shown["status"] == {"dispatch": "dispatched", "deliver": "delivering"}[step]
    assert shown["assignee"] == "driver"
    assert shown["history"][-1]["step"] == step and len(shown["history"]) == (
        2 if step == "dispatch" else 3
    )
    assert AuditEvent.objects.count() == audited + 1
    assert AuditEvent.objects.order_by("-id").first().action == "request_step"
    assert len(_selects(queries, "requests_request")) == 1
    assert len(_selects(queries, "requests_requestevent")) == 1
    assert len(_selects(queries, "territory_region")) == 0
    # Token, request, (dispatch: the assignee with their region), the conditional update,
    # history row, audit row, history read back; at most 4 more for the transaction.
    assert len(queries) <= (7 if step == "dispatch" else 6) + 4, [q["sql"][:60] for q in queries]


def test_the_request_serializer_speaks_each_language_with_its_own_fields():
    """Its fields are built once per language and copied: each use gets its own, and the
    labels follow the language active when it is used."""
    from django.utils import translation

    from frontline.requests.api import RequestSerializer

    with translation.override("en"):
        english = RequestSerializer().fields
        again = RequestSerializer().fields
    with translation.override("zh-hans"):
        chinese = RequestSerializer().fields
    assert english["number"] is not again["number"]
    assert str(english["number"].label) == "Number"
    assert str(chinese["number"].label) == "编号"
    assert list(english) == list(chinese) == RequestSerializer.Meta.fields


def test_list_of_mine(grid_worker, driver, volunteer, lu_an):
    client = _api(grid_worker)
    a, b = (_create(client, hh).json()["id"] for hh in lu_an["ankang"])
    _step(client, a, "dispatch", assignee="driver")
    _step(client, b, "dispatch", assignee="volunteer")
    mine = _api(driver).get(reverse("api:request-list") + "?assignee=me").json()
    assert [r["id"] for r in mine["results"]] == [a]
    theirs = client.get(reverse("api:request-list") + "?assignee=volunteer").json()
    assert [r["id"] for r in theirs["results"]] == [b]
