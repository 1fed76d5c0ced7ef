"""The pinned duty API: posts, shifts (409 / 400), gaps, check-in and check-out;
the `mobilisation` stats."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from frontline.accounts.services import user_token
from frontline.duty.models import Post, Shift

from .conftest import ANKANG, LIJINGYUAN
from .duty_helpers import gate, person


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")
    return client


@pytest.fixture
def staff(community_staff):
    return api(community_staff)


@pytest.fixture
def zhang(lu_an):
    return person("zhang", name="张卫")


def test_post_a_post_and_list_it_by_region(staff, outsider):
    created = staff.post(
        "/api/v1/posts", {"region": ANKANG, "name": "南门卡点", "kind": "checkpoint"}, format="json"
    )

    assert created.status_code == 201, created.content
    post = Post.objects.get(pk=created.json()["id"])
    assert post.compound.path == ANKANG and post.kind == "checkpoint"
    listed = staff.get("/api/v1/posts", {"region": ANKANG}).json()
    assert [p["id"] for p in listed["results"]] == [post.pk]
    assert api(outsider).get("/api/v1/posts").json()["results"] == []
    assert api(outsider).get("/api/v1/posts", {"region": ANKANG}).status_code == 404


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("grid_worker", {"region": ANKANG}, 403),  # the role may not
        ("community_staff", {"region": LIJINGYUAN}, 404),  # outside
        ("community_staff", {"region": ANKANG, "kind": "castle"}, 400),
    ],
)
def test_a_post_is_refused(request, who, body, status):
    client = api(request.getfixturevalue(who))
    data = {"name": "东门", "kind": "checkpoint", **body}

    response = client.post("/api/v1/posts", data, format="json")

    assert response.status_code == status
    assert not Post.objects.exists()


def _shift(client, post, person, start, end):
    return client.post(
        "/api/v1/shifts",
        {"post": post.pk, "person": person, "start": start, "end": end},
        format="json",
    )


def test_shifts_overlap_409_backwards_400(staff, zhang):
    post = gate()
    first = _shift(staff, post, "zhang", "2026-04-04T20:00:00+08:00", "2026-04-05T08:00:00+08:00")
    assert first.status_code == 201, first.content
    assert first.json()["person"] == "zhang"

    # 12:00Z is 20:00 in Lu'an: the same instant written in another offset still overlaps.
    clash = _shift(staff, post, "zhang", "2026-04-05T06:00:00+08:00", "2026-04-05T02:00:00Z")
    backwards = _shift(
        staff, post, "zhang", "2026-04-06T08:00:00+08:00", "2026-04-06T07:00:00+08:00"
    )
    naive = _shift(staff, post, "zhang", "2026-04-06T08:00:00", "2026-04-06T09:00:00")

    assert clash.status_code == 409 and "南门卡点" in clash.json()["detail"]
    assert backwards.status_code == 400 and naive.status_code == 400
    assert Shift.objects.count() == 1


def test_a_shift_for_somebody_outside_or_a_post_outside_is_404(staff, lu_an):
    person("far", LIJINGYUAN)
    post = gate()
    far_post = gate(LIJINGYUAN, "丽景苑东门")
    args = ("2026-04-04T20:00:00+08:00", "2026-04-05T08:00:00+08:00")

    assert _shift(staff, post, "far", *args).status_code == 404
    assert _shift(staff, post, "nobody", *args).status_code == 404
    assert _shift(staff, far_post, "zhang_not_needed", *args).status_code == 404
    assert not Shift.objects.exists()


def test_gaps_merged_and_ordered(staff, zhang):
    post = gate()
    li = person("li")
    _shift(staff, post, "zhang", "2026-04-04T20:00:00+08:00", "2026-04-05T02:00:00+08:00")
    _shift(staff, post, li.username, "2026-04-05T01:00:00+08:00", "2026-04-05T04:00:00+08:00")

    response = staff.get(
        f"/api/v1/posts/{post.pk}/gaps",
        {"from": "2026-04-04T18:00:00+08:00", "to": "2026-04-05T08:00:00+08:00"},
    )

    assert response.status_code == 200
    assert response.json() == [
        {"start": "2026-04-04T18:00:00+08:00", "end": "2026-04-04T20:00:00+08:00"},
        {"start": "2026-04-05T04:00:00+08:00", "end": "2026-04-05T08:00:00+08:00"},
    ]


def test_gaps_need_a_window_and_stay_inside(staff, outsider):
    post = gate()
    assert staff.get(f"/api/v1/posts/{post.pk}/gaps").status_code == 400
    window = {"from": "2026-04-04T18:00:00+08:00", "to": "2026-04-05T08:00:00+08:00"}
    assert api(outsider).get(f"/api/v1/posts/{post.pk}/gaps", window).status_code == 404


def test_check_in_and_out_by_the_person_only(staff, zhang, grid_worker, time_machine):
    time_machine.move_to("2026-04-04T19:58:00+08:00", tick=False)
    post = gate()
    shift_id = _shift(
        staff, post, "zhang", "2026-04-04T20:00:00+08:00", "2026-04-05T08:00:00+08:00"
    ).json()["id"]

    other = api(grid_worker).post(f"/api/v1/shifts/{shift_id}/check-in")
    mine = api(zhang).post(f"/api/v1/shifts/{shift_id}/check-in")
    time_machine.move_to("2026-04-05T08:01:00+08:00", tick=False)
    out = api(zhang).post(f"/api/v1/shifts/{shift_id}/check-out")

    assert other.status_code in (403, 404)
    assert mine.status_code == 200
    assert mine.json()["checked_in_at"] == "2026-04-04T19:58:00+08:00"
    assert out.status_code == 200 and out.json()["checked_out_at"] == "2026-04-05T08:01:00+08:00"


def test_stats_carry_mobilisation_rolled_up(staff, zhang, city_admin):
    post = gate()
    _shift(staff, post, "zhang", "2026-04-04T20:00:00+08:00", "2026-04-05T08:00:00+08:00")

    city = api(city_admin).get("/api/v1/stats").json()["mobilisation"]
    ankang = staff.get("/api/v1/stats", {"region": ANKANG}).json()["mobilisation"]
    elsewhere = api(city_admin).get("/api/v1/stats", {"region": LIJINGYUAN}).json()

    assert city["pipeline"]["activists"] == 0
    assert ankang["posts_with_gaps_next_24h"] == 1 == city["posts_with_gaps_next_24h"]
    assert elsewhere["mobilisation"]["posts_with_gaps_next_24h"] == 0


def test_list_shifts_in_a_window(staff, zhang, outsider):
    post = gate()
    _shift(staff, post, "zhang", "2026-04-04T20:00:00+08:00", "2026-04-05T08:00:00+08:00")
    window = {"from": "2026-04-05T00:00:00+08:00", "to": "2026-04-06T00:00:00+08:00"}

    mine = staff.get("/api/v1/shifts", {**window, "post": post.pk}).json()["results"]
    later = staff.get(
        "/api/v1/shifts", {"from": "2026-04-05T08:00:00+08:00", "to": "2026-04-06T00:00:00+08:00"}
    ).json()["results"]

    assert [(s["person"], s["start"]) for s in mine] == [("zhang", "2026-04-04T20:00:00+08:00")]
    assert later == []
    assert api(outsider).get("/api/v1/shifts", window).json()["results"] == []
    assert api(outsider).get("/api/v1/shifts", {**window, "post": post.pk}).status_code == 404
    assert staff.get("/api/v1/shifts").status_code == 400


@pytest.mark.parametrize(("role", "full"), [("community_staff", True), ("volunteer", False)])
def test_deployments_mask_cadres_like_residents(lu_an, request, role, full):
    import datetime as dt

    from frontline.duty import services

    from . import factories as f

    number = f.id_number()
    cadre = services.cadre_create(
        org_unit=services.unit_create(name="六安市财政局"),
        name="周正",
        id_number=number,
        rank="section",
        phone="13905640001",
    )
    services.deployment_create(
        cadre=cadre, region=f.region(ANKANG), role="duty", start=dt.date(2026, 4, 1)
    )
    viewer = request.getfixturevalue(role)

    rows = api(viewer).get("/api/v1/deployments", {"region": ANKANG}).json()["results"]

    from frontline.audit.models import AuditEvent

    assert AuditEvent.objects.filter(object_type="cadre", actor=viewer).count() == 1
    shown = rows[0]["cadre"]
    assert shown["name"] == "周正" and shown["rank"] == "section"
    assert (shown["id_number"] == number) is full
    assert (shown["phone"] == "13905640001") is full
    if not full:
        assert shown["id_number"] == f"{number[:6]}********{number[-4:]}"
        assert shown["phone"] == "139****0001"
