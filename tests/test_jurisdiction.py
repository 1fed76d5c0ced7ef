"""Every route the project serves, walked as somebody from another compound.

The outsider is a grid worker of 丽景苑小区 (金安区); `outside_staff` is community staff of
鼓楼社区 (they may import and export, but only their own community). Everything the walk
requests belongs to 城南镇 (安康小区, 创业小区). For each route the outsider must get a 404
for an object, a 403 for an action their role lacks, or a page or JSON that shows none of
城南镇's people or places.

The walk is complete by construction: `test_every_route_is_walked` fails when a route is
added to the URLconf without a line in ROUTES, so a new page cannot skip this test.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.admin import site as admin_site
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from frontline.accounts.models import User
from frontline.accounts.services import token_issue, user_create, user_token
from frontline.people.census import CENSUS_COLUMNS
from frontline.people.models import Household, Resident
from frontline.territory.models import Region
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN, PASSWORD

# What of 城南镇 may never reach an outsider: names, places, the ID and phone digits.
SECRETS = [
    "安康小区",
    "创业小区",
    "城南镇",
    "陡步河社区",
    "王秀英",
    "李强",
    "李小红",
    "赵建国",
    "13912345678",
    "5678",
]


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name


def project_routes() -> list[tuple[str, str]]:
    return [
        (route, name)
        for route, name in _walk(get_resolver().url_patterns)
        if not route.startswith("admin/")
    ]


@pytest.fixture
def world(lu_an, outsider, community_staff, settings, tmp_path):
    """Objects of 城南镇 to aim at, and the people who aim."""
    ankang = Region.objects.get(path=ANKANG)
    household = lu_an["ankang"][0]
    resident = Resident.objects.get(name="王秀英")
    grid = grid_create(region=ankang, name="安康小区第一网格", coverage=[ankang], duties="值班值守")
    grid_add_member(grid=grid, role="chief", name="钟鸣", phone="13811112222")
    # A community's own staff, but of 鼓楼社区: allowed to import, not to import into 城南镇.
    outside_staff = user_create(
        username="outside_staff",
        role="community_staff",
        region=Region.objects.get(path=LIJINGYUAN).parent,
        password=PASSWORD,
    )
    # An upload waiting for its owner's confirmation: nobody else may commit it.
    owner = Client()
    owner.force_login(community_staff)
    sheet = io.BytesIO()
    sheet.write((",".join(CENSUS_COLUMNS) + "\n").encode())
    sheet.write(
        (
            f"裕安区,城南镇,陡步河社区,安康小区,9栋,1,901,钱多多,男,{f.id_number()},,,否,是,,否\n"
        ).encode()
    )
    sheet.seek(0)
    sheet.name = "upload.csv"
    preview = owner.post(reverse("census_import"), {"sheet": sheet})
    token = preview.context["token"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    from frontline.requests.services import request_create

    settings.FRONTLINE_PHOTO_DIR = tmp_path / "photos"
    service_request = request_create(
        actor=community_staff,
        household=household,
        category="medicine",
        description="降压药",
        photos=[SimpleUploadedFile("药盒.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64)],
    )
    from frontline.people.import_jobs import import_job_start

    job = import_job_start(
        uploader=community_staff,
        kind="preview",
        filename="大表.csv",
        token="0" * 32,
        extension=".csv",
    )
    return {
        "job": job,
        "photo": service_request.photos.get(),
        "request": service_request,
        "region": ankang,
        "household": household,
        "resident": resident,
        "grid": grid,
        "token": token,
        "owner": owner,
        "outside_staff": outside_staff,
    }


# route name → (method, how to build the URL from the world, who asks, what must happen)
#   expect: 404 / 403 / 405 / "clean" (200 and no secret in the body) / "login" (302 to login)
#   A builder returns the URL, or (URL, data) for a request with a body.
ROUTES = {
    "home": ("get", lambda w: reverse("home"), "outsider", "clean"),
    # A redirect to the static icon: no data behind it.
    "favicon": ("get", lambda w: reverse("favicon"), "anonymous", 301),
    "login": ("get", lambda w: reverse("login"), "anonymous", "clean"),
    "logout": ("post", lambda w: reverse("logout"), "outsider", 302),
    "set_language": ("post", lambda w: reverse("set_language"), "outsider", 302),
    "region_detail": (
        "get",
        lambda w: reverse("region_detail", args=[w["region"].pk]),
        "outsider",
        404,
    ),
    "household_detail": (
        "get",
        lambda w: reverse("household_detail", args=[w["household"].pk]),
        "outsider",
        404,
    ),
    "grid_list": ("get", lambda w: reverse("grid_list"), "outsider", "clean"),
    "grid_detail": ("get", lambda w: reverse("grid_detail", args=[w["grid"].pk]), "outsider", 404),
    # "王": the name's first character, so that a leak shows the full name (a search box
    # echoes its own query, which is no leak).
    # A search posts its query (an ID or phone must never sit in a URL): (url, data).
    "resident_search": (
        "post",
        lambda w: (reverse("resident_search"), {"q": "王"}),
        "outsider",
        "clean",
    ),
    # A grid worker may not reveal full IDs at all; outside_staff may, but not here.
    "resident_reveal": (
        "post",
        lambda w: reverse("resident_reveal", args=[w["resident"].pk]),
        "outside_staff",
        404,
    ),
    "resident_transfer": (
        "get",
        lambda w: reverse("resident_transfer", args=[w["resident"].pk]),
        "outside_staff",
        404,
    ),
    "census_import": ("get", lambda w: reverse("census_import"), "outsider", 403),
    "census_import_commit": (
        "post",
        lambda w: reverse("census_import_commit", args=[w["token"]]),
        "outside_staff",
        404,
    ),
    # A preview's error list is its uploader's alone, like the upload itself.
    "census_import_errors": (
        "get",
        lambda w: reverse("census_import_errors", args=[w["token"]]),
        "outside_staff",
        404,
    ),
    # A census job run by the worker: its uploader's alone, like the upload itself.
    **{
        name: (
            method,
            lambda w, name=name: reverse(name, args=[w["job"].pk]),
            "outside_staff",
            404,
        )
        for name, method in (
            ("census_job", "get"),
            ("census_job_status", "get"),
            ("census_job_commit", "post"),
            ("census_job_errors", "get"),
        )
    },
    "census_template": ("get", lambda w: reverse("census_template"), "outside_staff", 200),
    "census_export": (
        "get",
        lambda w: reverse("census_export") + f"?region={w['region'].pk}&format=csv",
        "outside_staff",
        404,
    ),
    # The audit trail: city administrators only; a grid worker's role may not read it.
    "audit_list": ("get", lambda w: reverse("audit_list"), "outsider", 403),
    "api:audit-list": ("get", lambda w: reverse("api:audit-list"), "outsider", 403),
    # The field: worklists, visits and their progress aimed at 安康小区.
    "worklist": (
        "get",
        lambda w: reverse("worklist", args=["elderly_alone"]) + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "visit_create": (
        "post",
        lambda w: (reverse("visit_create", args=[w["household"].pk]), {"outcome": "visited"}),
        "outsider",
        404,
    ),
    "visit_progress": (
        "get",
        lambda w: reverse("visit_progress") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "roster": (
        "get",
        lambda w: reverse("roster") + f"?region={w['region'].pk}&format=xlsx",
        "outside_staff",
        404,
    ),
    "api:stats": ("get", lambda w: reverse("api:stats") + "?region=" + ANKANG, "outsider", 404),
    "api:region-list": ("get", lambda w: reverse("api:region-list"), "outsider", "clean"),
    "api:region-detail": (
        "get",
        lambda w: reverse("api:region-detail", args=[w["region"].pk]),
        "outsider",
        404,
    ),
    "api:household-list": ("get", lambda w: reverse("api:household-list"), "outsider", "clean"),
    "api:household-detail": (
        "get",
        lambda w: reverse("api:household-detail", args=[w["household"].pk]),
        "outsider",
        404,
    ),
    "api:resident-list": (
        "get",
        lambda w: reverse("api:resident-list") + "?q=王",
        "outsider",
        "clean",
    ),
    "api:resident-detail": (
        "get",
        lambda w: reverse("api:resident-detail", args=[w["resident"].pk]),
        "outsider",
        404,
    ),
    "api:resident-transfer": (
        "post",
        lambda w: reverse("api:resident-transfer", args=[w["resident"].pk]),
        "outside_staff",
        404,
    ),
    "api:grid-list": ("get", lambda w: reverse("api:grid-list"), "outsider", "clean"),
    # A visit to a household of 安康小区 is refused like reading it; the list with a
    # region outside is a 404 (the list of one's own visits is walked in test_field_visits).
    "api:visit-list": (
        "post",
        lambda w: (
            reverse("api:visit-list"),
            {"household": w["household"].pk, "outcome": "visited"},
        ),
        "outsider",
        404,
    ),
    # Requests (诉求) of 安康小区: pages and API. The list of one's own is clean; aimed at
    # 安康小区 it is a 404, like registering for its household, reading one or stepping one.
    "request_list": (
        "get",
        lambda w: reverse("request_list") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "request_create": (
        "get",
        lambda w: reverse("request_create") + f"?household={w['household'].pk}",
        "outsider",
        404,
    ),
    "my_tasks": ("get", lambda w: reverse("my_tasks"), "outsider", "clean"),
    "supervision_board": (
        "get",
        lambda w: reverse("supervision_board") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    # A household's own link: issued by those who may register its requests, inside.
    "household_link": (
        "get",
        lambda w: reverse("household_link", args=[w["household"].pk]),
        "outsider",
        404,
    ),
    "household_link_sheet": (
        "get",
        lambda w: reverse("household_link_sheet", args=[w["household"].building_id]),
        "outsider",
        404,
    ),
    # The household's own page answers to its signed link, not to an account: a forged
    # link is refused to anybody.
    "resident_page": (
        "get",
        lambda w: reverse("resident_page", args=["forged:x"]),
        "outsider",
        403,
    ),
    "resident_close": (
        "post",
        lambda w: reverse("resident_close", args=["forged:x", w["request"].pk]),
        "outsider",
        403,
    ),
    "resident_photo": (
        "get",
        lambda w: reverse("resident_photo", args=["forged:x", w["request"].pk, w["photo"].pk]),
        "outsider",
        403,
    ),
    # A request's photo: only through a request the caller may see.
    "request_photo": (
        "get",
        lambda w: reverse("request_photo", args=[w["request"].pk, w["photo"].pk]),
        "outsider",
        404,
    ),
    "api:request-photo": (
        "get",
        lambda w: reverse("api:request-photo", args=[w["request"].pk, w["photo"].pk]),
        "outsider",
        404,
    ),
    # Group purchasing aimed at 安康小区: its orders, an order of it, an action on one.
    "group_order_list": (
        "get",
        lambda w: reverse("group_order_list") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "group_order_detail": (
        "get",
        lambda w: reverse("group_order_detail", args=[_group_order(w).pk]),
        "outsider",
        404,
    ),
    "group_order_action": (
        "post",
        lambda w: reverse("group_order_action", args=[_group_order(w).pk, "collect"]),
        "outsider",
        404,
    ),
    "supplier_list": (
        "get",
        lambda w: reverse("supplier_list") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    # One's own notifications only.
    "inbox": ("get", lambda w: reverse("inbox"), "outsider", "clean"),
    "request_detail": (
        "get",
        lambda w: reverse("request_detail", args=[w["request"].pk]),
        "outsider",
        404,
    ),
    "request_step": (
        "post",
        lambda w: (
            reverse("request_step", args=[w["request"].pk, "dispatch"]),
            {"assignee": "outsider"},
        ),
        "outsider",
        404,
    ),
    "api:request-list": (
        "post",
        lambda w: (
            reverse("api:request-list"),
            {"household": w["household"].pk, "category": "groceries", "description": "米"},
        ),
        "outsider",
        404,
    ),
    "api:request-detail": (
        "get",
        lambda w: reverse("api:request-detail", args=[w["request"].pk]),
        "outsider",
        404,
    ),
    "api:request-suggestions": (
        "get",
        lambda w: reverse("api:request-suggestions", args=[w["request"].pk]),
        "outsider",
        404,
    ),
    **{
        f"api:request-{step}": (
            "post",
            lambda w, step=step: (
                reverse(f"api:request-{step}", args=[w["request"].pk]),
                {"assignee": "outsider", "reason": "x", "satisfaction": 5},
            ),
            "outsider",
            404,
        )
        for step in ("dispatch", "deliver", "report", "close", "cancel", "return")
    },
    "api:grid-detail": (
        "get",
        lambda w: reverse("api:grid-detail", args=[w["grid"].pk]),
        "outsider",
        404,
    ),
    # The schema and its docs describe the API and carry no data (their examples name
    # places from the seed as static text), so they are public.
    # The root lists the routes' URLs, nothing more: public like the schema.
    "api:root": ("get", lambda w: reverse("api:root"), "anonymous", 200),
    "api:schema": ("get", lambda w: reverse("api:schema"), "anonymous", 200),
    "api:docs": ("get", lambda w: reverse("api:docs"), "anonymous", 200),
    "api:no-such-route": ("get", lambda w: "/api/v1/households/x", "outsider", 404),
    # The duty roster: a post and a shift at 安康小区's gate.
    "api:deployment-list": (
        "get",
        lambda w: reverse("api:deployment-list") + "?region=" + ANKANG,
        "outsider",
        404,
    ),
    "api:post-list": ("get", lambda w: reverse("api:post-list"), "outsider", "clean"),
    "api:post-gaps": (
        "get",
        lambda w: (
            reverse("api:post-gaps", args=[_ankang_shift().post_id])
            + "?from=2026-04-04T00:00:00%2B08:00&to=2026-04-05T00:00:00%2B08:00"
        ),
        "outsider",
        404,
    ),
    "api:shift-list": (
        "post",
        lambda w: (
            reverse("api:shift-list"),
            {
                "post": _ankang_shift().post_id,
                "person": "outsider",
                "start": "2026-04-06T08:00:00+08:00",
                "end": "2026-04-06T09:00:00+08:00",
            },
        ),
        "outside_staff",
        404,
    ),
    "api:shift-check-in": (
        "post",
        lambda w: reverse("api:shift-check-in", args=[_ankang_shift().pk]),
        "outsider",
        404,
    ),
    "api:shift-check-out": (
        "post",
        lambda w: reverse("api:shift-check-out", args=[_ankang_shift().pk]),
        "outsider",
        404,
    ),
    # Duty pages: posts, the roster, the ten roles of 安康小区; one's own day.
    "duty_posts": (
        "get",
        lambda w: reverse("duty_posts") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "duty_roster": (
        "get",
        lambda w: reverse("duty_roster", args=[_ankang_shift().post_id]),
        "outsider",
        404,
    ),
    "duty_shift_add": (
        "post",
        lambda w: (
            reverse("duty_shift_add", args=[_ankang_shift().post_id]),
            {"person": w["outside_staff"].pk, "date": "2026-04-06", "start": "08:00", "hours": 2},
        ),
        "outside_staff",
        404,
    ),
    "duty_today": ("get", lambda w: reverse("duty_today"), "outsider", "clean"),
    "duty_check_in": (
        "post",
        lambda w: reverse("duty_check_in", args=[_ankang_shift().pk]),
        "outsider",
        404,
    ),
    "duty_check_out": (
        "post",
        lambda w: reverse("duty_check_out", args=[_ankang_shift().pk]),
        "outsider",
        404,
    ),
    "duty_patrol_log": (
        "post",
        lambda w: (reverse("duty_patrol_log", args=[_ankang_shift().pk]), {"note": "正常"}),
        "outsider",
        404,
    ),
    "duty_care_add": (
        "post",
        lambda w: (
            reverse("duty_care_add"),
            {"region": w["region"].pk, "person": w["outside_staff"].pk, "kind": "meals"},
        ),
        "outside_staff",
        404,
    ),
    "duty_roles": (
        "get",
        lambda w: reverse("duty_roles") + f"?region={w['region'].pk}",
        "outside_staff",
        404,
    ),
    # Reports to 安康小区's branch: another community's staff may confirm, but not these.
    "duty_reports": (
        "get",
        lambda w: (_ankang_report(), reverse("duty_reports"))[1],
        "outside_staff",
        "clean",
    ),
    "duty_report_confirm": (
        "post",
        lambda w: reverse("duty_report_confirm", args=[_ankang_report().pk]),
        "outside_staff",
        404,
    ),
    "duty_report_reject": (
        "post",
        lambda w: reverse("duty_report_reject", args=[_ankang_report().pk]),
        "outside_staff",
        404,
    ),
    "duty_branches": (
        "get",
        lambda w: (_ankang_report(), reverse("duty_branches") + f"?region={w['region'].pk}")[1],
        "outsider",
        404,
    ),
    "duty_deployments": (
        "get",
        lambda w: reverse("duty_deployments") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "duty_branch_qr": (
        "get",
        lambda w: reverse("duty_branch_qr", args=[_ankang_report().branch_id]),
        "outside_staff",
        404,
    ),
    # Mobilisation pages (for MANAGE_MOBILISATION): another community's staff have the
    # role, but see none of 城南镇's units, cadres, pairings or pipeline, and reach no object.
    "duty_units": (
        "get",
        lambda w: (_ankang_mobilisation(), reverse("duty_units"))[1],
        "outside_staff",
        "clean",
    ),
    "duty_unit": (
        "get",
        lambda w: reverse("duty_unit", args=[_ankang_mobilisation()["unit"].pk]),
        "outside_staff",
        404,
    ),
    "duty_cadres": (
        "get",
        lambda w: (_ankang_mobilisation(), reverse("duty_cadres"))[1],
        "outside_staff",
        "clean",
    ),
    "duty_cadre": (
        "get",
        lambda w: reverse("duty_cadre", args=[_ankang_mobilisation()["cadre"].pk]),
        "outside_staff",
        404,
    ),
    "duty_deployment_end": (
        "post",
        lambda w: (
            reverse("duty_deployment_end", args=[_ankang_mobilisation()["deployment"].pk]),
            {"end": "2026-04-10"},
        ),
        "outside_staff",
        404,
    ),
    "duty_pairings": (
        "get",
        lambda w: (_ankang_mobilisation(), reverse("duty_pairings"))[1],
        "outside_staff",
        "clean",
    ),
    "duty_branch": (
        "get",
        lambda w: reverse("duty_branch", args=[_ankang_report().branch_id]),
        "outside_staff",
        404,
    ),
    "duty_pipeline": (
        "get",
        lambda w: (_ankang_mobilisation(), reverse("duty_pipeline"))[1],
        "outside_staff",
        "clean",
    ),
    "duty_pipeline_advance": (
        "post",
        lambda w: (
            reverse("duty_pipeline_advance", args=[_ankang_mobilisation()["entry"].pk]),
            {"stage": "activist", "assessed_on": "2026-04-10"},
        ),
        "outside_staff",
        404,
    ),
    # Public by design: the page behind the branch's QR code at the gate names the branch.
    "party_report": (
        "get",
        lambda w: reverse("party_report", args=[_report_token()]),
        "anonymous",
        200,
    ),
    # Health: the hub and risk zones (h-zones). A zone on 安康小区 to aim at.
    "health_index": ("get", lambda w: reverse("health_index"), "outsider", "clean"),
    "health_zones": (
        "get",
        lambda w: reverse("health_zones") + f"?region={_ankang_zone().region_id}",
        "outsider",
        404,
    ),
    "health_zone_lift": (
        "post",
        lambda w: (
            reverse("health_zone_lift", args=[_ankang_zone().pk]),
            {"at": "2022-04-20T10:00", "reason": "解封"},
        ),
        "outside_staff",
        404,
    ),
    "api:zone-list": (
        "get",
        lambda w: reverse("api:zone-list") + f"?region={_ankang_zone().region.path}",
        "outsider",
        404,
    ),
    "api:zone-detail": (
        "get",
        lambda w: reverse("api:zone-detail", args=[_ankang_zone().pk]),
        "outsider",
        404,
    ),
    "api:zone-lift": (
        "post",
        lambda w: (
            reverse("api:zone-lift", args=[_ankang_zone().pk]),
            {"at": "2022-04-20T10:00:00+08:00", "reason": "解封"},
        ),
        "outside_staff",
        404,
    ),
    # Supervision (督查): a problem notified to 安康小区 by 城南镇's inspection. The outsider
    # (a grid worker) may not open these pages at all; 鼓楼社区's staff may, for their own.
    "inspection_board": ("get", lambda w: reverse("inspection_board"), "outside_staff", "clean"),
    "supervision_ours": ("get", lambda w: reverse("supervision_ours"), "outside_staff", "clean"),
    "supervision_inspection_create": (
        "get",
        lambda w: reverse("supervision_inspection_create"),
        "outside_staff",
        403,
    ),
    "supervision_inspection": (
        "get",
        lambda w: reverse("supervision_inspection", args=[_ankang_problem().inspection_id]),
        "outside_staff",
        404,
    ),
    "supervision_problem": (
        "get",
        lambda w: reverse("supervision_problem", args=[_ankang_problem().pk]),
        "outside_staff",
        404,
    ),
    "supervision_problem_step": (
        "post",
        lambda w: (
            reverse("supervision_problem_step", args=[_ankang_problem().pk, "acknowledge"]),
            {"note": "收到"},
        ),
        "outside_staff",
        404,
    ),
    "api:inspection-list": (
        "get",
        lambda w: (_ankang_problem(), reverse("api:inspection-list"))[1],
        "outside_staff",
        "clean",
    ),
    "api:inspection-detail": (
        "get",
        lambda w: reverse("api:inspection-detail", args=[_ankang_problem().inspection_id]),
        "outside_staff",
        404,
    ),
    "api:problem-list": (
        "get",
        lambda w: (_ankang_problem(), reverse("api:problem-list") + "?region=" + ANKANG)[1],
        "outside_staff",
        404,
    ),
    "api:problem-detail": (
        "get",
        lambda w: reverse("api:problem-detail", args=[_ankang_problem().pk]),
        "outside_staff",
        404,
    ),
    **{
        f"api:problem-{step}": (
            "post",
            lambda w, step=step: (
                reverse(f"api:problem-{step}", args=[_ankang_problem().pk]),
                {"note": "已整改"},
            ),
            "outside_staff",
            404,
        )
        for step in ("acknowledge", "report", "verify", "reject", "withdraw")
    },
    # One's own account: the pages show only the signed-in person's things.
    "password_change": ("get", lambda w: reverse("password_change"), "outsider", "clean"),
    "token_list": ("get", lambda w: reverse("token_list"), "outsider", "clean"),
    # Somebody else's token: a 404, as if it did not exist.
    "token_revoke": (
        "post",
        lambda w: reverse("token_revoke", args=[_insiders_token().pk]),
        "outsider",
        404,
    ),
    # Isolation points and transfers (health): a point of 陡步河社区, its team, a stay.
    "point_list": (
        "get",
        lambda w: (_chengnan_stay(), reverse("point_list"))[1],
        "outsider",
        "clean",
    ),
    "point_detail": (
        "get",
        lambda w: reverse("point_detail", args=[_chengnan_stay().point_id]),
        "outside_staff",
        404,
    ),
    "point_edit": (
        "post",
        lambda w: (reverse("point_edit", args=[_chengnan_stay().point_id]), {"capacity": 9}),
        "outside_staff",
        404,
    ),
    "point_staff": (
        "post",
        lambda w: (
            reverse("point_staff", args=[_chengnan_stay().point_id]),
            {"username": "outside_staff"},
        ),
        "outside_staff",
        404,
    ),
    "point_disinfect": (
        "post",
        lambda w: (reverse("point_disinfect", args=[_chengnan_stay().point_id]), {"areas": "x"}),
        "outside_staff",
        404,
    ),
    "transfer_create": (
        "get",
        lambda w: reverse("transfer_create", args=[w["resident"].pk]),
        "outside_staff",
        404,
    ),
    "stay_end": (
        "post",
        lambda w: (reverse("stay_end", args=[_chengnan_stay().pk]), {"outcome": "released"}),
        "outside_staff",
        404,
    ),
    "transfer_board": (
        "get",
        lambda w: (_chengnan_stay(), reverse("transfer_board") + "?date=2026-04-06")[1],
        "outside_staff",
        "clean",
    ),
    "team_list": (
        "get",
        lambda w: (_chengnan_stay(), reverse("team_list"))[1],
        "outsider",
        "clean",
    ),
    "team_detail": (
        "get",
        lambda w: reverse("team_detail", args=[_chengnan_stay().team_id]),
        "outside_staff",
        404,
    ),
    "api:isolation-point-list": (
        "post",
        lambda w: (
            reverse("api:isolation-point-list"),
            {"name": "x", "region": "裕安区/城南镇", "capacity": 5},
        ),
        "outside_staff",
        404,
    ),
    "api:isolation-point-detail": (
        "get",
        lambda w: reverse("api:isolation-point-detail", args=[_chengnan_stay().point_id]),
        "outsider",
        404,
    ),
    "api:transfer-list": (
        "post",
        lambda w: (
            reverse("api:transfer-list"),
            {
                "resident": w["resident"].pk,
                "point": _chengnan_stay().point_id,
                "at": "2026-04-06T10:00:00+08:00",
            },
        ),
        "outside_staff",
        404,
    ),
    "api:stay-end": (
        "post",
        lambda w: (
            reverse("api:stay-end", args=[_chengnan_stay().pk]),
            {"outcome": "released", "at": "2026-04-07T10:00:00+08:00"},
        ),
        "outsider",
        404,
    ),
    # Home isolation and care services (health, h-isolation): 安康小区's case and service.
    "isolation_list": (
        "get",
        lambda w: reverse("isolation_list") + f"?region={w['region'].pk}",
        "outsider",
        404,
    ),
    "isolation_mine": (
        "get",
        lambda w: (_ankang_case(), reverse("isolation_mine"))[1],
        "outsider",
        "clean",
    ),
    "isolation_open": (
        "get",
        lambda w: reverse("isolation_open") + f"?resident={w['resident'].pk}",
        "outside_staff",
        404,
    ),
    "isolation_detail": (
        "get",
        lambda w: reverse("isolation_detail", args=[_ankang_case().pk]),
        "outsider",
        404,
    ),
    "isolation_visit": (
        "post",
        lambda w: (
            reverse("isolation_visit", args=[_ankang_case().pk]),
            {"slot": "am", "temperature": "36.5"},
        ),
        "outsider",
        404,
    ),
    "isolation_release": (
        "post",
        lambda w: (reverse("isolation_release", args=[_ankang_case().pk]), {"note": "x"}),
        "outside_staff",
        404,
    ),
    "care_schedule": (
        "get",
        lambda w: (_ankang_care(), reverse("care_schedule") + f"?region={w['region'].pk}")[1],
        "outsider",
        404,
    ),
    "care_record": (
        "post",
        lambda w: (
            reverse("care_record", args=[_ankang_care().pk]),
            {"due": "2026-04-06T07:30:00+08:00"},
        ),
        "outsider",
        404,
    ),
    "care_medical": (
        "get",
        lambda w: reverse("care_medical") + f"?region={w['region'].pk}",
        "outside_staff",
        404,
    ),
    "api:isolation-case-list": (
        "get",
        lambda w: (_ankang_case(), reverse("api:isolation-case-list"))[1],
        "outsider",
        "clean",
    ),
    "api:isolation-case-detail": (
        "get",
        lambda w: reverse("api:isolation-case-detail", args=[_ankang_case().pk]),
        "outsider",
        404,
    ),
    "api:isolation-case-visits": (
        "post",
        lambda w: (
            reverse("api:isolation-case-visits", args=[_ankang_case().pk]),
            {"slot": "am", "temperature": "36.5"},
        ),
        "outsider",
        404,
    ),
    "api:isolation-case-release": (
        "post",
        lambda w: (reverse("api:isolation-case-release", args=[_ankang_case().pk]), {}),
        "outside_staff",
        404,
    ),
    "api:care-service-list": (
        "get",
        lambda w: (_ankang_care(), reverse("api:care-service-list") + "?region=" + ANKANG)[1],
        "outsider",
        404,
    ),
    "api:care-service-records": (
        "post",
        lambda w: (
            reverse("api:care-service-records", args=[_ankang_care().pk]),
            {"due": "2026-04-06T07:30:00+08:00"},
        ),
        "outsider",
        404,
    ),
    # Testing rounds (核酸检测): a round over 安康小区 with one abnormal tube (王秀英's).
    "testing_rounds": (
        "get",
        lambda w: (_ankang_round(), reverse("testing_rounds"))[1],
        "outsider",
        "clean",
    ),
    "testing_round": (
        "get",
        lambda w: reverse("testing_round", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "testing_sample": (
        "get",
        lambda w: reverse("testing_sample", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "testing_missing": (
        "get",
        lambda w: reverse("testing_missing", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "testing_door": (
        "get",
        lambda w: reverse("testing_door", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "testing_retest": (
        "get",
        lambda w: reverse("testing_retest", args=[_ankang_round().pk]),
        "outside_staff",
        404,
    ),
    "testing_results": (
        "get",
        lambda w: reverse("testing_results", args=[_ankang_round().pk]),
        "outside_staff",
        404,
    ),
    "testing_results_commit": (
        "post",
        lambda w: reverse("testing_results_commit", args=[_ankang_round().pk, "0" * 32]),
        "outside_staff",
        404,
    ),
    "testing_result_set": (
        "post",
        lambda w: (
            reverse("testing_result_set", args=[_ankang_round().pk]),
            {"code": "AK-1", "result": "negative"},
        ),
        "outside_staff",
        404,
    ),
    "api:testing-round-list": (
        "get",
        lambda w: (_ankang_round(), reverse("api:testing-round-list"))[1],
        "outsider",
        "clean",
    ),
    "api:testing-round-detail": (
        "get",
        lambda w: reverse("api:testing-round-detail", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "api:testing-tubes": (
        "post",
        lambda w: (
            reverse("api:testing-tubes", args=[_ankang_round().pk]),
            {"code": "X1", "residents": [w["resident"].pk]},
        ),
        "outsider",
        404,
    ),
    "api:testing-coverage": (
        "get",
        lambda w: reverse("api:testing-coverage", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "api:testing-missing": (
        "get",
        lambda w: reverse("api:testing-missing", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "api:testing-retest": (
        "get",
        lambda w: reverse("api:testing-retest", args=[_ankang_round().pk]),
        "outsider",
        404,
    ),
    "api:testing-result": (
        "post",
        lambda w: (
            reverse("api:testing-result", args=[_ankang_round().pk]),
            {"code": "AK-1", "result": "negative"},
        ),
        "outside_staff",
        404,
    ),
    # Setting up sampling points and care services (health-setup).
    "testing_point_add": (
        "post",
        lambda w: (
            reverse("testing_point_add", args=[_ankang_round().pk]),
            {"point-name": "南门采样点", "point-kind": "point", "point-place": w["region"].pk},
        ),
        "outside_staff",
        404,
    ),
    "testing_point_edit": (
        "get",
        lambda w: reverse("testing_point_edit", args=[_ankang_point().pk]),
        "outside_staff",
        404,
    ),
    "api:testing-round-points": (
        "post",
        lambda w: (
            reverse("api:testing-round-points", args=[_ankang_round().pk]),
            {"name": "南门采样点", "region": ANKANG},
        ),
        "outside_staff",
        404,
    ),
    "api:testing-point": (
        "get",
        lambda w: reverse("api:testing-point", args=[_ankang_point().pk]),
        "outside_staff",
        404,
    ),
    "care_service_new": (
        "get",
        lambda w: reverse("care_service_new") + f"?resident={w['resident'].pk}",
        "outside_staff",
        404,
    ),
    "care_service_end": (
        "post",
        lambda w: (reverse("care_service_end", args=[_ankang_care().pk]), {"end": "2026-04-10"}),
        "outsider",
        404,
    ),
    "api:care-service-end": (
        "post",
        lambda w: (reverse("api:care-service-end", args=[_ankang_care().pk]), {}),
        "outside_staff",
        404,
    ),
}


def _ankang_point():
    """安康小区's sampling point in the round over 安康小区 (made once per test)."""
    from frontline.health.models import SamplingPoint
    from frontline.health.testing import point_create

    point = SamplingPoint.objects.filter(name="安康小区南门采样点").first()
    if point is None:
        point = point_create(
            round=_ankang_round(),
            region=Region.objects.get(path=ANKANG),
            name="安康小区南门采样点",
            actor=User.objects.get(username="community_staff"),
        )
    return point


def _ankang_round():
    """A round over 安康小区 by 陡步河社区's staff, 王秀英 in tube AK-1, found abnormal."""
    from frontline.health.models import TestingRound, Tube
    from frontline.health.testing import result_set, round_create, tube_record

    found = TestingRound.objects.filter(name="安康小区核酸检测").first()
    if found is None:
        staff = User.objects.get(username="community_staff")
        found = round_create(
            name="安康小区核酸检测",
            date=dt.date(2022, 4, 12),
            regions=[Region.objects.get(path=ANKANG)],
            actor=staff,
        )
        tube_record(
            round=found,
            code="AK-1",
            residents=[Resident.objects.get(name="王秀英").pk],
            actor=staff,
        )
        result_set(tube=Tube.objects.get(code="AK-1"), result="positive", actor=staff)
    return found


def _ankang_case():
    """王秀英 under home isolation, kept by 陡步河社区's staff (made once per test)."""
    from frontline.health.isolation import case_open
    from frontline.health.models import IsolationCase

    case = IsolationCase.objects.filter(resident__name="王秀英").first()
    if case is None:
        staff = User.objects.get(username="community_staff")
        case = case_open(
            resident=Resident.objects.get(name="王秀英"),
            category="home_isolation",
            reason="自外地返回",
            start=dt.date(2026, 4, 4),
            planned_end=dt.date(2026, 4, 17),
            keeper=staff,
            actor=staff,
        )
    return case


def _ankang_care():
    """王秀英's daily visit (made once per test)."""
    from frontline.health.care import service_create
    from frontline.health.models import CareService

    service = CareService.objects.filter(resident__name="王秀英").first()
    if service is None:
        staff = User.objects.get(username="community_staff")
        service = service_create(
            resident=Resident.objects.get(name="王秀英"),
            kind="elderly_visit",
            weekdays="1,2,3,4,5,6,7",
            time="07:30",
            keeper=staff,
            start=dt.date(2026, 4, 4),
            actor=staff,
        )
    return service


def _group_order(world):
    from frontline.requests.groups import group_order_create, supplier_create

    staff = User.objects.get(username="community_staff")
    supplier = supplier_create(actor=staff, area=world["region"], name="安康门店", kind="store")
    return group_order_create(actor=staff, region=world["region"], supplier=supplier)


def _ankang_shift():
    """A shift of 陡步河社区's staff at 安康小区's gate (made once per test)."""
    from frontline.duty.models import Shift
    from frontline.duty.roster import post_create, shift_create

    shift = Shift.objects.filter(post__name="安康小区南门卡点").first()
    if shift is None:
        post = post_create(
            region=Region.objects.get(path=ANKANG), name="安康小区南门卡点", kind="checkpoint"
        )
        shift = shift_create(
            post=post,
            person=User.objects.get(username="community_staff"),
            start=dt.datetime(2026, 4, 4, 20, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            end=dt.datetime(2026, 4, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        )
    return shift


def _chengnan_stay():
    """李强 of 安康小区 at 陡步河社区's isolation point, moved by its team (made once)."""
    from frontline.health.models import Stay
    from frontline.health.transfers import point_create, team_create, transfer_create

    stay = Stay.objects.filter(resident__name="李强").first()
    if stay is None:
        staff = User.objects.get(username="community_staff")
        community = Region.objects.get(path="裕安区/城南镇/陡步河社区")
        point = point_create(name="陡步河社区隔离点", region=community, capacity=5, actor=staff)
        team = team_create(name="陡步河社区转运队", region=community, actor=staff)
        stay = transfer_create(
            resident=Resident.objects.get(name="李强"),
            point=point,
            team=team,
            at=dt.datetime(2026, 4, 6, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            actor=staff,
        )
    return stay


def _ankang_problem():
    """An inspection of 城南镇 that notified one problem to 安康小区 (made once)."""
    from frontline.supervision.models import Problem
    from frontline.supervision.services import inspection_create

    found = Problem.objects.filter(place__path=ANKANG).first()
    if found is not None:
        return found
    inspector = User.objects.filter(username="chengnan_inspector").first() or user_create(
        username="chengnan_inspector",
        role="township_staff",
        region=Region.objects.get(path="裕安区/城南镇"),
        password=PASSWORD,
    )
    inspection = inspection_create(
        region=Region.objects.get(path="裕安区/城南镇"),
        kind="unannounced",
        date=dt.date(2022, 4, 20),
        actor=inspector,
        notified_at=dt.datetime(2022, 4, 20, 9, tzinfo=dt.UTC),
        problems=[
            {
                "place": Region.objects.get(path=ANKANG),
                "category": "measures",
                "description": "安康小区卡口登记不全",
                "rectify_by": dt.datetime(2022, 4, 22, 18, tzinfo=dt.UTC),
            }
        ],
    )
    return Problem.objects.get(inspection=inspection)


def _ankang_zone():
    """安康小区 sealed from 4 April 2022 (made once per test)."""
    from frontline.health.models import RiskZone
    from frontline.health.zones import zone_set

    zone = RiskZone.objects.filter(region__path=ANKANG).first()
    if zone is None:
        zone = zone_set(
            region=Region.objects.get(path=ANKANG),
            level="sealed",
            since=dt.datetime(2022, 4, 4, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            reason="出现阳性",
        )
    return zone


def _ankang_report():
    """A report by 赵建国 to 安康小区's temporary branch (made once per test)."""
    from frontline.duty.models import Branch, Report
    from frontline.duty.reporting import report_submit
    from frontline.duty.services import branch_create

    report = Report.objects.filter(name="赵建国").first()
    if report is None:
        branch = Branch.objects.filter(name="安康小区临时党支部").first() or branch_create(
            region=Region.objects.get(path=ANKANG),
            name="安康小区临时党支部",
            kind="temporary",
            setting="compound",
            start=dt.date(2026, 4, 1),
        )
        report = report_submit(
            branch=branch,
            kind="party_member",
            name="赵建国",
            id_number=f.id_number(),
            phone="13912345678",
        )
    return report


def _ankang_mobilisation():
    """城南镇's unit, its cadre 李强 sent to 安康小区, a pairing with 陡步河社区 and 李小红 in
    the pipeline of 安康小区's branch (made once per test)."""
    from frontline.duty import services
    from frontline.duty.models import Cadre, Deployment, OrgUnit, PipelineEntry

    unit = OrgUnit.objects.filter(name="城南镇综治办").first()
    if unit is None:
        unit = services.unit_create(
            name="城南镇综治办", home=Region.objects.get(path="裕安区/城南镇")
        )
        cadre = services.cadre_create(
            org_unit=unit, name="李强", id_number=f.id_number(), rank="staff", phone="13912345678"
        )
        services.deployment_create(
            cadre=cadre,
            region=Region.objects.get(path=ANKANG),
            role="duty",
            start=dt.date(2026, 4, 1),
        )
        services.pairing_create(
            org_unit=unit,
            community=Region.objects.get(path="裕安区/城南镇/陡步河社区"),
            since=dt.date(2026, 4, 1),
        )
        services.pipeline_record(
            branch=_ankang_report().branch,
            name="李小红",
            stage="application",
            assessed_on=dt.date(2026, 4, 1),
        )
    return {
        "unit": unit,
        "cadre": Cadre.objects.get(org_unit=unit),
        "deployment": Deployment.objects.get(cadre__org_unit=unit),
        "entry": PipelineEntry.objects.get(name="李小红"),
    }


def _report_token():
    from frontline.duty.reporting import report_token

    return report_token(_ankang_report().branch)


def _insiders_token():
    token, _key = token_issue(user=User.objects.get(username="community_staff"))
    return token


# Routes whose data is confined: an anonymous caller must be sent to log in (web) or get a
# 401/403 (API) before anything else is looked at.
PUBLIC = {
    "login",
    "resident_page",
    "resident_close",
    "resident_photo",
    "party_report",
    "set_language",
    "favicon",
    "api:root",
    "api:schema",
    "api:docs",
    "api:no-such-route",
    "logout",
}


def test_every_route_is_walked():
    names = {name for _route, name in project_routes()}
    assert None not in names, "every route needs a name so the walk can address it"
    assert names == set(ROUTES), (
        reverse("testing_round", args=[_ankang_round().pk]),
        reverse("testing_sample", args=[_ankang_round().pk]),
        reverse("testing_missing", args=[_ankang_round().pk]),
        reverse("testing_door", args=[_ankang_round().pk]),
        reverse("api:testing-round-detail", args=[_ankang_round().pk]),
        reverse("api:testing-coverage", args=[_ankang_round().pk]),
        reverse("api:testing-missing", args=[_ankang_round().pk]),
        reverse("api:testing-retest", args=[_ankang_round().pk]),
        f"routes without a line in ROUTES: {sorted(names - set(ROUTES))}; "
        f"stale lines: {sorted(set(ROUTES) - names)}",
    )


def _client(who, world, request):
    client = Client()
    if who == "outsider":
        client.force_login(request.getfixturevalue("outsider"))
    elif who == "outside_staff":
        client.force_login(world["outside_staff"])
    return client


def _send(client, method, target):
    url, data = target if isinstance(target, tuple) else (target, None)
    return getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_outsider_is_refused_on_every_route(name, world, request):
    method, build, who, expected = ROUTES[name]
    client = _client(who, world, request)

    response = _send(client, method, build(world))

    if expected == "clean":
        assert response.status_code == 200, response.status_code
        body = response.content.decode()
        if response.get("Content-Type", "").startswith("application/json"):
            body = json.dumps(response.json(), ensure_ascii=False)
        leaked = [s for s in SECRETS if s in body]
        assert not leaked, f"{name} shows {leaked} to {who}"
    else:
        assert response.status_code == expected, (name, response.status_code)


@pytest.mark.parametrize("name", sorted(set(ROUTES) - PUBLIC))
def test_anonymous_is_sent_to_log_in(name, world):
    method, build, _who, _expected = ROUTES[name]

    response = _send(Client(), method, build(world))

    if name.startswith("api:"):
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_same_routes_serve_their_own_people(world, grid_worker, community_staff):
    """The refusals above are about jurisdiction, not broken routes: insiders get through."""
    client = Client()
    client.force_login(grid_worker)
    for url in [
        reverse("health_index"),
        reverse("health_zones") + f"?region={_ankang_zone().region_id}",
        reverse("api:zone-list") + "?region=" + ANKANG,
        reverse("api:zone-detail", args=[_ankang_zone().pk]),
        reverse("region_detail", args=[world["region"].pk]),
        reverse("household_detail", args=[world["household"].pk]),
        reverse("grid_detail", args=[world["grid"].pk]),
        reverse("api:household-detail", args=[world["household"].pk]),
        reverse("api:resident-detail", args=[world["resident"].pk]),
        reverse("api:region-detail", args=[world["region"].pk]),
        reverse("api:grid-detail", args=[world["grid"].pk]),
        reverse("api:stats") + "?region=" + ANKANG,
        reverse("api:request-suggestions", args=[world["request"].pk]),
        reverse("request_photo", args=[world["request"].pk, world["photo"].pk]),
        reverse("api:request-photo", args=[world["request"].pk, world["photo"].pk]),
        reverse("isolation_detail", args=[_ankang_case().pk]),
        reverse("care_schedule") + f"?region={world['region'].pk}",
        reverse("api:isolation-case-detail", args=[_ankang_case().pk]),
        reverse("api:care-service-list") + "?region=" + ANKANG,
    ]:
        assert client.get(url).status_code == 200, url
    assert "王秀英" in client.post(reverse("resident_search"), {"q": "王秀英"}).content.decode()
    staff = Client()
    staff.force_login(community_staff)
    export = staff.get(reverse("census_export") + f"?region={world['region'].pk}&format=csv")
    assert export.status_code == 200
    assert "王秀英" in b"".join(export.streaming_content).decode("utf-8-sig")
    job_page = world["owner"].get(reverse("census_job_status", args=[world["job"].pk]))
    assert job_page.status_code == 200 and "大表.csv" in job_page.content.decode()
    commit = world["owner"].post(reverse("census_import_commit", args=[world["token"]]))
    assert commit.status_code == 200 and Resident.objects.filter(name="钱多多").exists()


def test_the_mobilisation_pages_serve_their_own_staff(world, community_staff, town_staff):
    """Insiders get through the mobilisation pages the outsiders were refused above."""
    things = _ankang_mobilisation()
    for user in (community_staff, town_staff):
        client = Client()
        client.force_login(user)
        for url in [
            reverse("duty_units"),
            reverse("duty_cadres"),
            reverse("duty_pairings"),
            reverse("duty_branch", args=[_ankang_report().branch_id]),
            reverse("duty_pipeline"),
        ]:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
        assert "李小红" in client.get(reverse("duty_pipeline")).content.decode()
    town = Client()
    town.force_login(town_staff)
    # The unit and its cadre are the township's: its staff reach them, the community's not.
    assert town.get(reverse("duty_unit", args=[things["unit"].pk])).status_code == 200
    assert town.get(reverse("duty_cadre", args=[things["cadre"].pk])).status_code == 200
    ended = town.post(
        reverse("duty_deployment_end", args=[things["deployment"].pk]), {"end": "2026-04-10"}
    )
    advanced = town.post(
        reverse("duty_pipeline_advance", args=[things["entry"].pk]),
        {"stage": "activist", "assessed_on": "2026-04-10"},
    )
    assert ended.status_code == 302 and advanced.status_code == 302
    things["entry"].refresh_from_db()
    assert things["entry"].stage == "activist"


def test_the_supervision_routes_serve_their_own_staff(world, community_staff, town_staff):
    """Insiders get through the supervision routes the outsiders were refused above."""
    problem = _ankang_problem()
    for user in (community_staff, town_staff):
        client = Client()
        client.force_login(user)
        for url in [
            reverse("inspection_board"),
            reverse("supervision_ours"),
            reverse("supervision_inspection", args=[problem.inspection_id]),
            reverse("supervision_problem", args=[problem.pk]),
            reverse("api:inspection-list"),
            reverse("api:inspection-detail", args=[problem.inspection_id]),
            reverse("api:problem-list") + "?region=" + ANKANG,
            reverse("api:problem-detail", args=[problem.pk]),
        ]:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            assert "城南镇" in response.content.decode(), (user.username, url)
    town = Client()
    town.force_login(town_staff)
    assert town.get(reverse("supervision_inspection_create")).status_code == 200
    staff = Client()
    staff.force_login(community_staff)
    stepped = staff.post(reverse("supervision_problem_step", args=[problem.pk, "acknowledge"]))
    assert stepped.status_code == 302
    acknowledged = staff.post(reverse("api:problem-report", args=[problem.pk]), {"note": "已补"})
    assert acknowledged.status_code == 200
    problem.refresh_from_db()
    assert problem.status == "reported"
    # The inspecting side withdraws a problem notified by mistake (the API route).
    from frontline.supervision.services import inspection_create

    other = inspection_create(
        region=Region.objects.get(path="裕安区/城南镇"),
        kind="routine",
        date=dt.date(2022, 4, 20),
        actor=town_staff,
        notified_at=dt.datetime(2022, 4, 20, 9, tzinfo=dt.UTC),
        problems=[
            {
                "place": Region.objects.get(path=ANKANG),
                "category": "other",
                "description": "误报",
                "rectify_by": dt.datetime(2022, 4, 22, 18, tzinfo=dt.UTC),
            }
        ],
    ).problems.get()
    withdrawn = town.post(reverse("api:problem-withdraw", args=[other.pk]), {"reason": "通报有误"})
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "withdrawn"


def test_outsider_api_token_sees_only_its_compound(world, outsider):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=outsider)}")

    households = client.get(reverse("api:household-list")).json()
    stats = client.get(reverse("api:stats")).json()

    expected = Household.objects.filter(compound__path=LIJINGYUAN).count()
    assert households["count"] == expected == stats["households"]
    assert stats["residents"] == Resident.objects.filter(compound__path=LIJINGYUAN).count()


def test_every_admin_route_is_closed_to_non_superusers(world, request):
    """The Django admin is for superusers: every pattern of it redirects the outsider."""
    client = Client()
    client.force_login(request.getfixturevalue("outsider"))
    walked = 0
    for route, _name in _walk(admin_site.get_urls()):
        if "<" in route or "(?P" in route or route.startswith("^") or "$" in route:
            # Patterns with an object id or app label: aim at the household of 安康小区.
            url = f"/admin/people/household/{world['household'].pk}/change/"
        else:
            url = "/admin/" + route
        response = client.get(url)
        if route in ("login/", "logout/"):
            # The admin's own login form (which refuses this account when it submits) and
            # logout: neither shows data.
            assert response.status_code in (200, 302)
            continue
        assert response.status_code in (302, 404, 405), (url, response.status_code)
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"], (route, response["Location"])
        walked += 1
    assert walked > 10
