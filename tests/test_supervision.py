"""Supervision (督查): inspections, problems, rectification to closure, escalation, pages, API,
figures.

People (tests/conftest.py): town_staff (城南镇) inspects; community_staff (陡步河社区)
rectifies what is notified to 安康小区; a grid worker neither; the outsider (丽景苑小区, 金安区)
and `gulou_staff` (鼓楼社区's staff, who may rectify, but elsewhere) see nothing of 城南镇.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from frontline.accounts.services import user_create, user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.requests.models import Notification
from frontline.supervision import services
from frontline.supervision.models import Escalation, Inspection, Problem, ProblemEvent
from frontline.supervision.stats import supervision_stats
from frontline.supervision.sweep import supervision_problems_sweep
from frontline.territory.models import Region

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN, PASSWORD

COMMUNITY = "裕安区/城南镇/陡步河社区"
TOWNSHIP = "裕安区/城南镇"
T0 = dt.datetime(2022, 4, 20, 9, 0, tzinfo=dt.UTC)


def _local_input(*, days: int) -> str:
    """A datetime-local form value `days` from now, in the local time."""
    return timezone.localtime(timezone.now() + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _api(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")


def _web(user):
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def gulou_staff(lu_an):
    return user_create(
        username="gulou_staff",
        role="community_staff",
        region=f.region(LIJINGYUAN).parent,
        password=PASSWORD,
    )


def _inspect(
    actor,
    *,
    place=ANKANG,
    n=1,
    rectify_by=None,
    region=TOWNSHIP,
    kind="unannounced",
    notified_at=None,
    supplier=None,
):
    if notified_at is None and rectify_by is not None:
        # Notified before its rectification date, as the rule requires.
        notified_at = min(timezone.now(), rectify_by - dt.timedelta(hours=1))
    return services.inspection_create(
        notified_at=notified_at,
        supplier=supplier,
        region=Region.objects.get(path=region),
        kind=kind,
        date=dt.date(2022, 4, 20),
        actor=actor,
        team="综合督查组第一组",
        problems=[
            {
                "place": Region.objects.get(path=place),
                "category": "measures",
                "severity": "normal",
                "description": f"卡口登记不全 {i}",
                "rectify_by": rectify_by or timezone.now() + dt.timedelta(days=2),
            }
            for i in range(n)
        ],
    )


@pytest.fixture
def problem(town_staff):
    return _inspect(town_staff).problems.get()


# --- the state machine ----------------------------------------------------------------------

# step → (from, to), typed out from the brief, not read from services.TRANSITIONS.
EXPECTED = {
    "acknowledge": ({"notified"}, "rectifying"),
    "report": ({"rectifying"}, "reported"),
    "verify": ({"reported"}, "verified"),
    "reject": ({"reported"}, "rectifying"),
    "withdraw": ({"notified", "rectifying"}, "withdrawn"),
}
ALL = ["notified", "rectifying", "reported", "verified", "withdrawn"]


def test_the_transition_table_is_the_brief():
    assert {k: (set(v[0]), v[1]) for k, v in services.TRANSITIONS.items()} == EXPECTED


def _put(problem, status):
    Problem.objects.filter(pk=problem.pk).update(status=status)
    problem.refresh_from_db()
    return problem


def _actor_for(step, town_staff, community_staff):
    return town_staff if step in ("verify", "reject", "withdraw") else community_staff


@pytest.mark.parametrize("step", sorted(EXPECTED))
@pytest.mark.parametrize("status", ALL)
def test_every_step_from_every_state(step, status, problem, town_staff, community_staff):
    _put(problem, status)
    actor = _actor_for(step, town_staff, community_staff)
    sources, target = EXPECTED[step]
    events = ProblemEvent.objects.count()
    audits = AuditEvent.objects.count()
    if status in sources:
        services.problem_step(problem=problem, step=step, actor=actor, note="已落实")
        problem.refresh_from_db()
        assert problem.status == target
        event = ProblemEvent.objects.latest("id")
        assert (event.step, event.from_status, event.to_status) == (step, status, target)
        assert AuditEvent.objects.count() == audits + 1
    else:
        with pytest.raises(Conflict):
            services.problem_step(problem=problem, step=step, actor=actor, note="已落实")
        problem.refresh_from_db()
        assert problem.status == status
        assert ProblemEvent.objects.count() == events
        assert AuditEvent.objects.count() == audits


def test_the_whole_way_to_closure_with_a_rejection(problem, town_staff, community_staff):
    services.problem_acknowledge(problem=problem, actor=community_staff)
    services.problem_report(problem=problem, actor=community_staff, note="已补登记")
    services.problem_reject(problem=problem, actor=town_staff, reason="台账仍缺三天")
    services.problem_report(problem=problem, actor=community_staff, note="台账补齐")
    services.problem_verify(problem=problem, actor=town_staff)
    problem.refresh_from_db()
    assert problem.status == "verified" and problem.verified_at and problem.reported_at
    assert list(problem.events.values_list("step", flat=True)) == [
        "notify",
        "acknowledge",
        "report",
        "reject",
        "report",
        "verify",
    ]
    assert problem.events.get(step="reject").note == "台账仍缺三天"


def test_report_needs_a_note_and_reject_a_reason(problem, town_staff, community_staff):
    services.problem_acknowledge(problem=problem, actor=community_staff)
    with pytest.raises(DomainError):
        services.problem_report(problem=problem, actor=community_staff, note="  ")
    services.problem_report(problem=problem, actor=community_staff, note="已整改")
    with pytest.raises(DomainError):
        services.problem_reject(problem=problem, actor=town_staff, reason="")
    assert Problem.objects.get(pk=problem.pk).status == "reported"


def test_a_stale_copy_loses_with_409_and_nothing_changes(problem, community_staff):
    stale = Problem.objects.get(pk=problem.pk)
    services.problem_acknowledge(problem=problem, actor=community_staff)
    with pytest.raises(Conflict):
        services.problem_acknowledge(problem=stale, actor=community_staff)
    assert ProblemEvent.objects.filter(problem=problem, step="acknowledge").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_acknowledgers_at_once_exactly_one_wins(lu_an, town_staff, community_staff):
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite serialises every writer on one file lock, so the race cannot happen; "
            "run with `make test-pg` to prove it on PostgreSQL"
        )
    problem = _inspect(town_staff).problems.get()
    # Two rectifiers of the place (the inspector may not rectify its own finding).
    other = user_create(
        username="town_rectifier",
        role="township_staff",
        region=f.region(TOWNSHIP),
        password=PASSWORD,
    )
    people = [other, community_staff]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def acknowledge(actor):
        try:
            copy = Problem.objects.select_related("place").get(pk=problem.pk)
            barrier.wait()
            try:
                services.problem_acknowledge(problem=copy, actor=actor)
                outcomes.append("won")
            except Conflict:
                outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=acknowledge, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["409", "won"]
    assert ProblemEvent.objects.filter(problem_id=problem.pk, step="acknowledge").count() == 1


# --- who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "inspect", "rectify"),
    [
        ("city_admin", True, False),
        ("district_staff", True, True),
        ("township_staff", True, True),
        ("community_staff", False, True),
        ("grid_chief", False, True),
        ("grid_worker", False, False),
        ("cadre", False, False),
        ("volunteer", False, False),
    ],
)
def test_refusals_per_role(role, inspect, rectify, problem, town_staff, community_staff):
    scope = {"city_admin": None, "district_staff": "裕安区", "township_staff": TOWNSHIP}.get(
        role, COMMUNITY if role == "community_staff" else ANKANG
    )
    from frontline.territory.services import city

    person = user_create(
        username=f"p_{role}",
        role=role,
        region=city() if scope is None else f.region(scope),
        password=PASSWORD,
    )
    if inspect:
        assert _inspect(person, region=COMMUNITY).problems.count() == 1
    else:
        with pytest.raises(PermissionDenied):
            _inspect(person, region=COMMUNITY)
    before = ProblemEvent.objects.count()
    if rectify:
        services.problem_acknowledge(problem=problem, actor=person)
        assert Problem.objects.get(pk=problem.pk).status == "rectifying"
    else:
        with pytest.raises(PermissionDenied):
            services.problem_acknowledge(problem=problem, actor=person)
        assert ProblemEvent.objects.count() == before
    _put(problem, "reported")
    if inspect:
        services.problem_verify(problem=problem, actor=person)
    else:
        with pytest.raises(PermissionDenied):
            services.problem_verify(problem=problem, actor=person)


def test_outside_staff_cannot_touch_a_problem_of_another_place(problem, gulou_staff, town_staff):
    with pytest.raises(NotFound):
        services.problem_acknowledge(problem=problem, actor=gulou_staff)
    with pytest.raises(NotFound):
        _inspect(town_staff, region="金安区/鼓楼街道", place="金安区/鼓楼街道")


def test_an_inspection_is_of_a_district_or_below_and_its_problems_inside(town_staff, city_admin):
    with pytest.raises(DomainError):
        _inspect(city_admin, region=COMMUNITY, place=CHUANGYE)
    from frontline.territory.services import city

    with pytest.raises(DomainError):
        services.inspection_create(
            region=city(), kind="routine", date=dt.date(2022, 4, 20), actor=city_admin
        )
    with pytest.raises(DomainError):
        services.inspection_create(
            region=Region.objects.get(path=TOWNSHIP),
            kind="routine",
            date=timezone.localdate() + dt.timedelta(days=1),
            actor=town_staff,
        )
    assert not Inspection.objects.exists()


def test_a_market_inspection_names_a_supplier_that_serves_the_place(town_staff):
    from frontline.requests.models import Supplier
    from frontline.territory.services import city

    shop = Supplier(name="城南超市", kind="store", area=city())
    shop.locate(city())
    shop.save()
    made = services.inspection_create(
        region=Region.objects.get(path=TOWNSHIP),
        kind="market",
        supplier=shop,
        date=dt.date(2022, 4, 26),
        actor=town_staff,
    )
    assert made.supplier == shop
    with pytest.raises(DomainError):
        services.inspection_create(
            region=Region.objects.get(path=TOWNSHIP),
            kind="routine",
            supplier=shop,
            date=dt.date(2022, 4, 26),
            actor=town_staff,
        )


# --- the sweep --------------------------------------------------------------------------------


def test_sweep_opens_at_the_community_then_climbs_one_level_a_day(
    settings, town_staff, community_staff
):
    settings.FRONTLINE_PROBLEM_ESCALATE_HOURS = 24
    district = user_create(
        username="yuan_staff", role="district_staff", region=f.region("裕安区"), password=PASSWORD
    )
    due = T0 + dt.timedelta(days=1)
    problem = _inspect(town_staff, rectify_by=due).problems.get()

    assert supervision_problems_sweep(due - dt.timedelta(minutes=1))["problems_opened"] == 0

    opened = due + dt.timedelta(hours=1)
    first = supervision_problems_sweep(opened)
    esc = Escalation.objects.get(problem=problem)
    assert first["problems_opened"] == 1 and first["problems_escalated"] == 0
    assert esc.holder.path == COMMUNITY and esc.level == 0 and esc.escalated_at == opened
    assert Notification.objects.filter(recipient=community_staff).count() == 1

    # Within a day of the opening (a day after the date, too): stays at the community.
    assert supervision_problems_sweep(due + dt.timedelta(hours=24))["problems_escalated"] == 0
    assert supervision_problems_sweep(opened + dt.timedelta(hours=23))["problems_escalated"] == 0
    # A day after the opening: the township.
    at = opened + dt.timedelta(hours=24, minutes=1)
    assert supervision_problems_sweep(at)["problems_escalated"] == 1
    esc.refresh_from_db()
    assert (esc.holder.path, esc.level, esc.escalated_at) == (TOWNSHIP, 1, at)
    assert Notification.objects.filter(recipient=town_staff).count() == 1
    # A day after that: the district.
    supervision_problems_sweep(at + dt.timedelta(hours=24))
    esc.refresh_from_db()
    assert (esc.holder.path, esc.level) == ("裕安区", 2)
    assert Notification.objects.filter(recipient=district).count() == 1
    # Then the city, and no further.
    supervision_problems_sweep(at + dt.timedelta(hours=48))
    supervision_problems_sweep(at + dt.timedelta(hours=72))
    esc.refresh_from_db()
    assert esc.holder.level == 0 and esc.level == 3

    # Verified: the escalation closes and no new one opens.
    _put(problem, "reported")
    services.problem_verify(problem=problem, actor=town_staff)
    assert Escalation.objects.get(problem=problem).closed_at is not None
    later = supervision_problems_sweep(at + dt.timedelta(hours=96))
    assert later["problems_opened"] == 0
    assert Escalation.objects.filter(problem=problem).count() == 1


def test_sweep_twice_at_once_opens_one_escalation(town_staff):
    due = T0
    _inspect(town_staff, rectify_by=due)
    supervision_problems_sweep(due + dt.timedelta(minutes=5))
    again = supervision_problems_sweep(due + dt.timedelta(minutes=5))
    assert again["problems_opened"] == 0
    assert Escalation.objects.count() == 1


def test_a_problem_overdue_for_days_is_first_held_at_its_place(settings, town_staff):
    # The sweep comes three days late (the worker was down): the place responsible is
    # still told first, and the problem goes up only ESCALATE_HOURS after that.
    settings.FRONTLINE_PROBLEM_ESCALATE_HOURS = 24
    _inspect(town_staff, rectify_by=T0)
    late = T0 + dt.timedelta(days=3)
    counts = supervision_problems_sweep(late)
    assert counts["problems_opened"] == 1 and counts["problems_escalated"] == 0
    esc = Escalation.objects.get()
    assert (esc.holder.path, esc.level, esc.opened_at, esc.escalated_at) == (
        COMMUNITY,
        0,
        late,
        late,
    )
    assert supervision_problems_sweep(late + dt.timedelta(minutes=1))["problems_escalated"] == 0
    assert (
        supervision_problems_sweep(late + dt.timedelta(hours=23, minutes=59))["problems_escalated"]
        == 0
    )
    assert supervision_problems_sweep(late + dt.timedelta(hours=24))["problems_escalated"] == 1
    assert Escalation.objects.get().holder.path == TOWNSHIP


def test_the_worker_task_runs_the_problem_sweep(town_staff):
    from frontline.requests.tasks import sweep

    _inspect(town_staff, rectify_by=timezone.now() - dt.timedelta(hours=1))
    result = sweep.call()
    assert result["problems_opened"] == 1


# --- stats ------------------------------------------------------------------------------------


def test_stats_figures_computed_independently(town_staff, community_staff, gulou_staff):
    now = timezone.now()
    late = _inspect(town_staff, n=3, rectify_by=now - dt.timedelta(days=1)).problems.order_by("id")
    soon = _inspect(town_staff, n=2, rectify_by=now + dt.timedelta(days=1)).problems.order_by("id")
    a, b, c = list(late)
    d, e = list(soon)
    # a: reported after its date, then verified (late); d: verified on time.
    for p, when in ((a, now), (d, now)):
        services.problem_acknowledge(problem=p, actor=community_staff)
        services.problem_report(problem=p, actor=community_staff, note="好了", at=when)
        services.problem_verify(problem=p, actor=town_staff)
    services.problem_acknowledge(problem=b, actor=community_staff)
    # Elsewhere: must not count for 城南镇.
    user_create(
        username="jinan_town",
        role="township_staff",
        region=f.region("金安区/鼓楼街道"),
        password=PASSWORD,
    )
    from frontline.accounts.models import User

    _inspect(
        User.objects.get(username="jinan_town"),
        region="金安区/鼓楼街道",
        place=LIJINGYUAN,
        rectify_by=now - dt.timedelta(days=1),
    )

    figures = supervision_stats(Region.objects.get(path=TOWNSHIP), now)

    assert figures == {
        "inspections": 2,
        "problems": 5,
        "by_status": {
            "notified": 2,
            "rectifying": 1,
            "reported": 0,
            "verified": 2,
            "withdrawn": 0,
        },
        "overdue": 2,  # b and c
        "rectified_on_time_rate": 0.5,
    }
    assert e.status == "notified"


def test_stats_command_and_api_carry_the_block(town_staff):
    import json
    from io import StringIO

    from django.core.management import call_command

    _inspect(town_staff, n=2)
    out = StringIO()
    call_command("stats", "--region", TOWNSHIP, "--json", stdout=out)
    assert json.loads(out.getvalue())["supervision"]["problems"] == 2
    text = StringIO()
    with translation.override("en"):
        call_command("stats", "--region", TOWNSHIP, stdout=text)
    assert "Inspection problems" in text.getvalue()
    api = _api(town_staff).get(reverse("api:stats")).json()
    assert api["supervision"]["inspections"] == 1


# --- pages ------------------------------------------------------------------------------------


def test_board_lists_open_problems_overdue_first_with_counts_per_child(
    town_staff, django_assert_max_num_queries
):
    _inspect(town_staff, n=2, place=CHUANGYE)
    _inspect(town_staff, n=1, rectify_by=timezone.now() - dt.timedelta(hours=3))
    client = _web(town_staff)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("inspection_board"))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("Overdue") < body.index("创业小区")
    assert "陡步河社区" in body and "城南社区" in body
    children = {c["region"].name: (c["open"], c["overdue"]) for c in page.context["children"]}
    assert children == {"陡步河社区": (1, 1), "城南社区": (2, 0)}


def test_board_costs_the_same_queries_for_few_or_many(town_staff):
    from django.test.utils import CaptureQueriesContext

    client = _web(town_staff)
    counts = []
    for n in (1, 12):
        _inspect(town_staff, n=n)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("inspection_board")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_problem_page_shows_one_button_per_allowed_step(problem, town_staff, community_staff):
    url = reverse("supervision_problem", args=[problem.pk])
    rectifier = _web(community_staff)
    assert rectifier.get(url).context["steps"] == ["acknowledge"]
    # The inspecting side does not rectify its own finding; it may withdraw it.
    assert _web(town_staff).get(url).context["steps"] == ["withdraw"]
    done = rectifier.post(reverse("supervision_problem_step", args=[problem.pk, "acknowledge"]))
    assert done.status_code == 302
    rectifier.post(
        reverse("supervision_problem_step", args=[problem.pk, "report"]), {"note": "已整改"}
    )
    assert rectifier.get(url).context["steps"] == []
    inspector = _web(town_staff)
    assert inspector.get(url).context["steps"] == ["verify", "reject"]
    inspector.post(
        reverse("supervision_problem_step", args=[problem.pk, "reject"]), {"reason": "未整改到位"}
    )
    assert Problem.objects.get(pk=problem.pk).status == "rectifying"
    page = inspector.get(url).content.decode()
    assert "未整改到位" in page and "已整改" in page
    # The history names the step, not only the state it led to.
    assert "Reject → Rectifying" in page and "Acknowledge → Rectifying" in page


def test_a_step_out_of_turn_on_the_page_changes_nothing(problem, town_staff, community_staff):
    response = _web(town_staff).post(
        reverse("supervision_problem_step", args=[problem.pk, "verify"]), follow=True
    )
    assert response.status_code == 200
    assert "not possible" in response.content.decode()
    assert Problem.objects.get(pk=problem.pk).status == "notified"
    refused = _web(community_staff).post(
        reverse("supervision_problem_step", args=[problem.pk, "verify"])
    )
    assert refused.status_code == 403


def test_record_an_inspection_with_two_problems_on_the_page(town_staff):
    client = _web(town_staff)
    form = client.get(reverse("supervision_inspection_create"))
    assert form.status_code == 200
    community = Region.objects.get(path=COMMUNITY)
    assert community in form.context["regions"]
    assert all(r.path.startswith(TOWNSHIP) for r in form.context["regions"])
    response = client.post(
        reverse("supervision_inspection_create"),
        {
            "region": community.pk,
            "kind": "unannounced",
            "date": timezone.localdate().isoformat(),
            "team": "第二督查组",
            "inspectors": [town_staff.pk],
            "description_0": "值守人员脱岗",
            "category_0": "on_duty",
            "severity_0": "serious",
            "rectify_by_0": _local_input(days=1),
            "description_1": "消杀记录缺失",
            "category_1": "hygiene",
            "severity_1": "normal",
            "rectify_by_1": _local_input(days=2),
        },
    )
    inspection = Inspection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision_inspection", args=[inspection.pk])
    assert inspection.problems.count() == 2
    assert list(inspection.inspectors.all()) == [town_staff]
    detail = client.get(response["Location"]).content.decode()
    assert "值守人员脱岗" in detail and "消杀记录缺失" in detail


def test_the_create_page_is_refused_to_a_role_that_does_not_inspect(community_staff):
    assert _web(community_staff).get(reverse("supervision_inspection_create")).status_code == 403


def test_problems_notified_to_us(town_staff, community_staff, django_assert_max_num_queries):
    _inspect(town_staff, n=3)
    _inspect(town_staff, n=2, place=CHUANGYE)
    client = _web(community_staff)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("supervision_ours"))
    groups = dict(page.context["groups"])
    assert sum(len(v) for v in groups.values()) == 3
    assert "创业小区" not in page.content.decode()


@pytest.mark.parametrize(
    "name", ["inspection_board", "supervision_ours", "supervision_inspection_create"]
)
def test_a_role_that_neither_inspects_nor_rectifies_is_refused(name, grid_worker):
    assert _web(grid_worker).get(reverse(name)).status_code == 403


def test_outsider_staff_sees_nothing_of_chengnan(problem, gulou_staff):
    client = _web(gulou_staff)
    assert client.get(reverse("supervision_problem", args=[problem.pk])).status_code == 404
    assert (
        client.get(reverse("supervision_inspection", args=[problem.inspection_id])).status_code
        == 404
    )
    region = Region.objects.get(path=TOWNSHIP).pk
    assert client.get(reverse("inspection_board") + f"?region={region}").status_code == 404
    body = client.get(reverse("inspection_board")).content.decode()
    assert "安康小区" not in body and "卡口登记不全" not in body


def test_the_pages_are_chinese_by_default(problem, community_staff):
    client = Client()
    client.force_login(community_staff)
    body = client.get(reverse("supervision_problem", args=[problem.pk])).content.decode()
    assert 'lang="zh-hans"' in body


# --- API --------------------------------------------------------------------------------------


def test_api_records_an_inspection_and_steps_a_problem(town_staff, community_staff):
    created = _api(town_staff).post(
        reverse("api:inspection-list"),
        {
            "region": COMMUNITY,
            "kind": "routine",
            "date": timezone.localdate().isoformat(),
            "team": "第三组",
            "problems": [
                {
                    "place": ANKANG,
                    "category": "supplies",
                    "description": "物资台账不清",
                    "rectify_by": (timezone.now() + dt.timedelta(days=2)).isoformat(),
                }
            ],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["problems"][0]["id"]
    assert body["inspectors"] == ["town_staff"]
    rectifier = _api(community_staff)
    assert (
        rectifier.post(reverse("api:problem-verify", args=[pk])).status_code == 403
    )  # not theirs to verify
    early = rectifier.post(
        reverse("api:problem-report", args=[pk]), {"note": "已建"}, content_type="application/json"
    )
    assert early.status_code == 409
    assert rectifier.post(reverse("api:problem-report", args=[pk])).status_code == 400
    assert rectifier.post(reverse("api:problem-acknowledge", args=[pk])).status_code == 200
    reported = rectifier.post(
        reverse("api:problem-report", args=[pk]),
        {"note": "已建台账"},
        content_type="application/json",
    )
    assert reported.status_code == 200 and reported.json()["status"] == "reported"
    verified = _api(town_staff).post(reverse("api:problem-verify", args=[pk]))
    detail = _api(town_staff).get(reverse("api:problem-detail", args=[pk])).json()
    assert verified.status_code == 200
    assert [h["step"] for h in detail["history"]] == ["notify", "acknowledge", "report", "verify"]
    assert detail["status"] == "verified"


def test_api_lists_problems_by_region_status_and_overdue(town_staff, community_staff):
    _inspect(town_staff, n=2, rectify_by=timezone.now() - dt.timedelta(hours=1))
    _inspect(town_staff, n=3, place=CHUANGYE)
    client = _api(town_staff)
    url = reverse("api:problem-list")
    assert client.get(url).json()["count"] == 5
    assert client.get(url + "?region=" + CHUANGYE).json()["count"] == 3
    assert client.get(url + "?overdue=true").json()["count"] == 2
    assert client.get(url + "?overdue=false").json()["count"] == 3
    assert client.get(url + "?status=verified").json()["count"] == 0
    assert client.get(url + "?status=nonsense").status_code == 400
    assert _api(community_staff).get(url).json()["count"] == 2
    inspections = client.get(reverse("api:inspection-list")).json()
    assert inspections["count"] == 2
    assert sorted(i["problems"] for i in inspections["results"]) == [2, 3]


def test_api_refuses_the_outsider(problem, gulou_staff, outsider, town_staff):
    staff = _api(gulou_staff)
    assert staff.get(reverse("api:problem-detail", args=[problem.pk])).status_code == 404
    assert staff.post(reverse("api:problem-acknowledge", args=[problem.pk])).status_code == 404
    assert staff.get(reverse("api:problem-list")).json()["count"] == 0
    assert staff.get(reverse("api:problem-list") + "?region=" + ANKANG).status_code == 404
    assert staff.get(reverse("api:inspection-list")).json()["count"] == 0
    assert _api(outsider).get(reverse("api:problem-list")).status_code == 403
    assert Problem.objects.get(pk=problem.pk).status == "notified"


def test_api_problem_list_costs_the_same_for_few_or_many(town_staff):
    from django.test.utils import CaptureQueriesContext

    client = _api(town_staff)
    client.get(reverse("api:problem-list"))  # the token's first use is recorded once
    counts = []
    for n in (1, 15):
        _inspect(town_staff, n=n)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("api:problem-list")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_community_sees_the_townships_inspection_with_only_its_own_problems(
    town_staff, community_staff
):
    inspection = services.inspection_create(
        region=Region.objects.get(path=TOWNSHIP),
        kind="unannounced",
        date=dt.date(2022, 4, 20),
        actor=town_staff,
        notified_at=T0 - dt.timedelta(hours=1),
        problems=[
            {
                "place": Region.objects.get(path=place),
                "category": "on_duty",
                "description": text,
                "rectify_by": T0,
            }
            for place, text in ((ANKANG, "安康卡口脱岗"), (CHUANGYE, "创业消杀缺记录"))
        ],
    )
    page = _web(community_staff).get(reverse("supervision_inspection", args=[inspection.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "安康卡口脱岗" in body and "创业消杀缺记录" not in body
    api = _api(community_staff).get(reverse("api:inspection-detail", args=[inspection.pk])).json()
    assert [p["description"] for p in api["problems"]] == ["安康卡口脱岗"]
    listed = _api(community_staff).get(reverse("api:inspection-list")).json()
    assert [i["problems"] for i in listed["results"]] == [1]


def test_a_refused_inspection_form_keeps_what_was_typed(town_staff):
    community = Region.objects.get(path=COMMUNITY)
    response = _web(town_staff).post(
        reverse("supervision_inspection_create"),
        {
            "region": community.pk,
            "kind": "unannounced",
            "date": "2022-04-21",
            "description_0": "值守人员脱岗",
            "category_0": "on_duty",
            "severity_0": "serious",
            "rectify_by_0": "",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "give the date to rectify by" in body
    assert "值守人员脱岗" in body and 'value="on_duty" selected' in body
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(("who", "linked"), [("community_staff", True), ("grid_worker", False)])
def test_the_board_is_linked_from_the_nav_and_the_home_page(who, linked, request, lu_an):
    body = _web(request.getfixturevalue(who)).get(reverse("home")).content.decode()
    nav = 'class="wide-only" href="/supervision/"'
    phone = 'class="button phone-only" href="/supervision/"'
    assert (nav in body) == linked and (phone in body) == linked


# --- the rectification deadline ---------------------------------------------------------------


@pytest.mark.parametrize(
    "rectify_by",
    [
        dt.datetime(2022, 4, 19, 18, tzinfo=dt.UTC),  # before the inspection's day
        dt.datetime(2022, 4, 20, 8, tzinfo=dt.UTC),  # that day, before it was notified
        dt.datetime(2022, 4, 20, 9, tzinfo=dt.UTC),  # the very moment of notifying
    ],
)
def test_a_rectification_time_not_after_the_inspection_is_refused(town_staff, rectify_by):
    with translation.override("en"), pytest.raises(DomainError) as refused:
        _inspect(town_staff, rectify_by=rectify_by, notified_at=T0)
    assert "must be later than the inspection" in refused.value.message
    assert not Inspection.objects.exists() and not Problem.objects.exists()


def test_a_past_rectification_time_is_refused_at_the_moment_of_notifying(town_staff):
    with pytest.raises(DomainError):
        _inspect(
            town_staff,
            rectify_by=timezone.now() - dt.timedelta(minutes=5),
            notified_at=timezone.now(),
        )
    assert _inspect(town_staff, rectify_by=timezone.now() + dt.timedelta(hours=1)).problems.count()


def test_the_web_form_and_the_api_refuse_a_past_rectification_time(town_staff):
    community = Region.objects.get(path=COMMUNITY)
    page = _web(town_staff).post(
        reverse("supervision_inspection_create"),
        {
            "region": community.pk,
            "kind": "unannounced",
            "date": timezone.localdate().isoformat(),
            "description_0": "值守人员脱岗",
            "category_0": "on_duty",
            "rectify_by_0": _local_input(days=-1),
        },
    )
    assert page.status_code == 200
    assert "must be later than the inspection" in page.content.decode()
    api = _api(town_staff).post(
        reverse("api:inspection-list"),
        {
            "region": COMMUNITY,
            "kind": "routine",
            "date": "2022-04-22",
            "problems": [
                {
                    "category": "supplies",
                    "description": "物资台账不清",
                    "rectify_by": "2022-04-24T18:00:00+08:00",
                }
            ],
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert api.status_code == 400
    assert not Inspection.objects.exists() and not Escalation.objects.exists()


# --- market inspections -----------------------------------------------------------------------


def test_a_market_inspection_must_name_its_supplier(town_staff):
    with pytest.raises(DomainError):
        _inspect(town_staff, kind="market")
    assert not Inspection.objects.exists()


# --- withdrawal (撤销通报) ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["notified", "rectifying"])
def test_the_inspecting_side_withdraws_a_mistaken_problem(
    status, problem, town_staff, community_staff
):
    if status == "rectifying":
        services.problem_acknowledge(problem=problem, actor=community_staff)
    with pytest.raises(PermissionDenied):
        services.problem_withdraw(problem=problem, actor=community_staff, reason="不是我们的")
    with pytest.raises(DomainError):
        services.problem_withdraw(problem=problem, actor=town_staff, reason="  ")
    audits = AuditEvent.objects.count()
    services.problem_withdraw(problem=problem, actor=town_staff, reason="通报对象有误")
    problem.refresh_from_db()
    assert problem.status == "withdrawn" and not problem.is_overdue(T0 + dt.timedelta(days=900))
    event = problem.events.latest("id")
    assert (event.step, event.from_status, event.to_status, event.note) == (
        "withdraw",
        status,
        "withdrawn",
        "通报对象有误",
    )
    assert AuditEvent.objects.count() == audits + 1
    with pytest.raises(Conflict):
        services.problem_acknowledge(problem=problem, actor=community_staff)


def test_withdrawal_closes_the_escalation_and_leaves_the_figures(town_staff, community_staff):
    a, b = _inspect(town_staff, n=2, rectify_by=T0).problems.order_by("id")
    supervision_problems_sweep(T0 + dt.timedelta(hours=1))
    services.problem_acknowledge(problem=b, actor=community_staff)
    services.problem_report(problem=b, actor=community_staff, note="好了", at=T0)
    services.problem_verify(problem=b, actor=town_staff)
    services.problem_withdraw(problem=a, actor=town_staff, reason="误报")
    assert Escalation.objects.get(problem=a).closed_at is not None
    figures = supervision_stats(Region.objects.get(path=TOWNSHIP), T0 + dt.timedelta(days=3))
    assert figures["problems"] == 1 and figures["overdue"] == 0
    assert figures["by_status"]["withdrawn"] == 1
    assert figures["rectified_on_time_rate"] == 1.0


def test_withdraw_on_the_page_and_the_api(town_staff, community_staff):
    one, two = _inspect(town_staff, n=2).problems.order_by("id")
    web = _web(town_staff)
    url = reverse("supervision_problem", args=[one.pk])
    assert "withdraw-reason" in web.get(url).content.decode()
    assert "withdraw-reason" not in _web(community_staff).get(url).content.decode()
    web.post(reverse("supervision_problem_step", args=[one.pk, "withdraw"]), {"reason": "误报"})
    page = web.get(url).content.decode()
    assert "Withdraw → Withdrawn" in page and "误报" in page
    api = _api(town_staff)
    assert api.post(reverse("api:problem-withdraw", args=[two.pk])).status_code == 400
    done = api.post(
        reverse("api:problem-withdraw", args=[two.pk]),
        {"reason": "重复通报"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    assert done.json()["history"][-1]["step"] == "withdraw"


# --- separation of duties ---------------------------------------------------------------------


@pytest.fixture
def town_colleague(lu_an):
    """Another township staff of 城南镇: may inspect and may rectify."""
    return user_create(
        username="town_colleague",
        role="township_staff",
        region=f.region(TOWNSHIP),
        password=PASSWORD,
    )


@pytest.mark.parametrize("step", ["acknowledge", "report"])
@pytest.mark.parametrize("who", ["recorder", "inspector"])
def test_the_inspecting_side_does_not_rectify_its_own_problem(
    step, who, town_staff, town_colleague
):
    inspection = services.inspection_create(
        region=Region.objects.get(path=TOWNSHIP),
        kind="routine",
        date=timezone.localdate(),
        actor=town_colleague,
        inspectors=[town_staff],
        problems=[
            {
                "place": Region.objects.get(path=ANKANG),
                "category": "measures",
                "description": "卡口登记不全",
                "rectify_by": timezone.now() + dt.timedelta(days=1),
            }
        ],
    )
    problem = inspection.problems.get()
    actor = town_colleague if who == "recorder" else town_staff
    if step == "report":
        _put(problem, "rectifying")
    with translation.override("en"), pytest.raises(PermissionDenied) as refused:
        services.problem_step(problem=problem, step=step, actor=actor, note="已整改")
    assert "inspecting side" in refused.value.message
    assert services.steps_for(problem, actor) == ["withdraw"]
    problem.refresh_from_db()
    assert problem.events.count() == 1


@pytest.mark.parametrize("step", ["verify", "reject"])
def test_who_reported_a_rectification_does_not_check_it(
    step, town_staff, town_colleague, community_staff
):
    problem = _inspect(town_staff).problems.get()
    services.problem_acknowledge(problem=problem, actor=town_colleague)
    services.problem_report(problem=problem, actor=town_colleague, note="已整改")
    with translation.override("en"), pytest.raises(PermissionDenied) as refused:
        services.problem_step(problem=problem, step=step, actor=town_colleague, note="核查")
    assert "reported this rectification" in refused.value.message
    assert services.steps_for(problem, town_colleague) == []
    assert services.steps_for(problem, town_staff) == ["verify", "reject"]
    page = _web(town_colleague).get(reverse("supervision_problem", args=[problem.pk]))
    assert page.context["steps"] == []
    refused_api = _api(town_colleague).post(
        reverse(f"api:problem-{step}", args=[problem.pk]),
        {"reason": "核查"},
        content_type="application/json",
    )
    assert refused_api.status_code == 403
    services.problem_step(problem=problem, step=step, actor=town_staff, note="核查")


# --- pages and API details --------------------------------------------------------------------


def test_the_api_reject_reads_the_reason_and_still_the_note(town_staff, community_staff):
    one, two = _inspect(town_staff, n=2).problems.order_by("id")
    for p in (one, two):
        services.problem_acknowledge(problem=p, actor=community_staff)
        services.problem_report(problem=p, actor=community_staff, note="已整改")
    api = _api(town_staff)
    for p, body in ((one, {"reason": "台账仍缺"}), (two, {"note": "消杀未做"})):
        done = api.post(
            reverse("api:problem-reject", args=[p.pk]), body, content_type="application/json"
        )
        assert done.status_code == 200, done.content
        assert done.json()["history"][-1]["step"] == "reject"
    assert one.events.get(step="reject").note == "台账仍缺"
    assert two.events.get(step="reject").note == "消杀未做"


def test_the_inspection_page_shows_a_serious_problem(town_staff):
    inspection = services.inspection_create(
        region=Region.objects.get(path=TOWNSHIP),
        kind="routine",
        date=timezone.localdate(),
        actor=town_staff,
        problems=[
            {
                "place": Region.objects.get(path=ANKANG),
                "category": "on_duty",
                "severity": "serious",
                "description": "卡口无人值守",
                "rectify_by": timezone.now() + dt.timedelta(days=1),
            }
        ],
    )
    body = _web(town_staff).get(reverse("supervision_inspection", args=[inspection.pk]))
    assert '<small class="tag warn">Serious</small>' in body.content.decode()


def test_the_form_opens_the_first_problem_and_those_with_input(town_staff):
    client = _web(town_staff)
    empty = client.get(reverse("supervision_inspection_create")).content.decode()
    assert empty.count('<details class="problem-row" open>') == 1
    assert empty.count('<details class="problem-row">') == 4
    refused = client.post(
        reverse("supervision_inspection_create"),
        {
            "region": Region.objects.get(path=COMMUNITY).pk,
            "kind": "unannounced",
            "date": timezone.localdate().isoformat(),
            "description_2": "消杀记录缺失",
            "category_2": "hygiene",
            "rectify_by_2": "",
        },
    ).content.decode()
    assert refused.count('<details class="problem-row" open>') == 2
