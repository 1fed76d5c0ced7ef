"""Transferring a resident between households, across jurisdictions (defect 3): the service,
the page, the API route and `frontline transfer`.

The places come from conftest's `lu_an`: 王秀英 in 安康小区 1栋 101, 李强 and 李小红 (婴幼儿)
in 安康小区 2栋 302, 赵建国 in 创业小区 1栋 201 (城南社区), 孙丽 in 丽景苑小区 (金安区).
`community_staff` covers 陡步河社区 (安康小区) only, `town_staff` all of 城南镇.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from frontline.accounts.services import user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import DomainError, NotFound, PermissionDenied
from frontline.people.models import Resident, ResidentCareGroup
from frontline.people.services import resident_transfer
from frontline.territory.models import Region

from .conftest import ANKANG, CHUANGYE, LIJINGYUAN


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _people():
    return {r.name: r for r in Resident.objects.all()}


def _counts(household):
    household.refresh_from_db()
    return (household.members, household.members_away, household.online_members)


# --- the service ------------------------------------------------------------------------


def test_a_township_clerk_transfers_between_two_communities(lu_an, town_staff):
    ankang_2, chuangye = lu_an["ankang"][1], lu_an["chuangye"]
    baby = _people()["李小红"]
    assert _counts(ankang_2) == (2, 0, 1) and _counts(chuangye) == (1, 0, 0)

    moved = resident_transfer(
        resident=baby, household=chuangye, actor=town_staff, reason="随母亲搬迁"
    )

    assert moved.household_id == chuangye.pk
    building = Region.objects.get(path=f"{CHUANGYE}/1栋")
    # Every ancestor column now names the new place, on the resident and the care group.
    for row in (moved, ResidentCareGroup.objects.get(resident=baby)):
        assert row.building_id == building.pk
        assert row.compound_id == Region.objects.get(path=CHUANGYE).pk
        assert row.community_id == Region.objects.get(path="裕安区/城南镇/城南社区").pk
    assert _counts(ankang_2) == (1, 0, 1) and _counts(chuangye) == (2, 0, 0)
    assert Resident.objects.within(Region.objects.get(path=ANKANG)).count() == 2


def test_counts_follow_the_member_who_orders_online(lu_an, town_staff):
    ankang_2, chuangye = lu_an["ankang"][1], lu_an["chuangye"]

    resident_transfer(
        resident=_people()["李强"], household=chuangye, actor=town_staff, reason="工作调动"
    )

    assert _counts(ankang_2) == (1, 0, 0) and _counts(chuangye) == (2, 0, 1)


def test_a_transfer_is_audited_with_both_places_and_the_reason(lu_an, town_staff):
    ankang_2, chuangye = lu_an["ankang"][1], lu_an["chuangye"]
    li = _people()["李强"]

    resident_transfer(resident=li, household=chuangye, actor=town_staff, reason="工作调动")

    event = AuditEvent.objects.get(action="transfer")
    assert (event.actor_name, event.actor_id) == ("town_staff", town_staff.pk)
    assert (event.object_type, event.object_id) == ("resident", str(li.pk))
    assert event.region == f"{CHUANGYE}/1栋"
    assert event.detail == {
        "from": {"household": ankang_2.pk, "path": f"{ANKANG}/2栋", "unit": "1", "room": "302"},
        "to": {"household": chuangye.pk, "path": f"{CHUANGYE}/1栋", "unit": "1", "room": "201"},
        "reason": "工作调动",
    }


@pytest.mark.parametrize(
    ("who", "name", "target", "error"),
    [
        # The target lies outside the clerk's community.
        ("community_staff", "李强", "chuangye", NotFound),
        # The resident lies outside the clerk's community.
        ("community_staff", "赵建国", "ankang_2", NotFound),
        # Another district altogether, either way round.
        ("town_staff", "孙丽", "ankang_2", NotFound),
        ("town_staff", "李强", "lijingyuan", NotFound),
        # Roles that may not transfer at all, even inside.
        ("grid_worker", "王秀英", "ankang_2", PermissionDenied),
        ("volunteer", "王秀英", "ankang_2", PermissionDenied),
    ],
)
def test_a_transfer_needs_the_right_and_both_places(lu_an, request, who, name, target, error):
    households = {
        "ankang_2": lu_an["ankang"][1],
        "chuangye": lu_an["chuangye"],
        "lijingyuan": lu_an["lijingyuan"],
    }
    resident = _people()[name]
    before = list(Resident.objects.order_by("id").values_list("id", "household_id"))

    with pytest.raises(error):
        resident_transfer(
            resident=resident,
            household=households[target],
            actor=request.getfixturevalue(who),
            reason="试图转移",
        )

    assert list(Resident.objects.order_by("id").values_list("id", "household_id")) == before
    assert not AuditEvent.objects.filter(action="transfer").exists()


def test_the_city_admin_transfers_across_districts(lu_an, city_admin):
    sun = _people()["孙丽"]

    resident_transfer(resident=sun, household=lu_an["ankang"][0], actor=city_admin, reason="投亲")

    sun.refresh_from_db()
    assert sun.district_id == Region.objects.get(path="裕安区").pk
    assert _counts(lu_an["lijingyuan"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("reason", "same", "message"),
    [
        ("", False, "Give the reason for the transfer."),
        ("   ", False, "Give the reason for the transfer."),
        ("x" * 201, False, "The reason is longer than 200 characters."),
        ("搬家", True, "The resident already lives in this household."),
    ],
)
def test_a_transfer_needs_a_reason_and_another_household(lu_an, town_staff, reason, same, message):
    li = _people()["李强"]
    target = lu_an["ankang"][1] if same else lu_an["chuangye"]

    with pytest.raises(DomainError, match=f"^{message}$"):
        resident_transfer(resident=li, household=target, actor=town_staff, reason=reason)

    li.refresh_from_db()
    assert li.household_id == lu_an["ankang"][1].pk


def test_a_stale_copy_of_the_resident_cannot_bypass_the_policy(lu_an, community_staff):
    """The check is on where the resident lives now, not where the caller's copy says."""
    zhao = _people()["赵建国"]
    zhao.community_id = community_staff.region_id  # a doctored copy: "inside"

    with pytest.raises(NotFound):
        resident_transfer(
            resident=zhao, household=lu_an["ankang"][0], actor=community_staff, reason="x"
        )


# --- the page ---------------------------------------------------------------------------


def _signed_in(user):
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_household_page_offers_a_transfer_only_to_who_may(lu_an, town_staff, grid_worker):
    url = reverse("household_detail", args=[lu_an["ankang"][1].pk])
    transfer = reverse("resident_transfer", args=[_people()["李强"].pk])

    assert transfer in _signed_in(town_staff).get(url).content.decode()
    assert transfer not in _signed_in(grid_worker).get(url).content.decode()


def test_the_transfer_page_moves_the_resident(lu_an, town_staff):
    client = _signed_in(town_staff)
    li = _people()["李强"]
    url = reverse("resident_transfer", args=[li.pk])
    page = client.get(url)
    assert page.status_code == 200 and f"{ANKANG}/2栋" in page.content.decode()

    response = client.post(
        url, {"building": f"{CHUANGYE}/1栋", "unit": "1", "room": "201", "reason": "工作调动"}
    )

    chuangye = lu_an["chuangye"]
    assert response.status_code == 302
    assert response["Location"] == reverse("household_detail", args=[chuangye.pk])
    li.refresh_from_db()
    assert li.household_id == chuangye.pk
    assert AuditEvent.objects.get(action="transfer").actor_name == "town_staff"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"building": f"{CHUANGYE}/1栋", "unit": "1", "room": "999"},
            f"There is no household at {CHUANGYE}/1栋, unit “1”, room “999”.",
        ),
        ({"building": CHUANGYE, "unit": "1", "room": "201"}, "is not a building"),
        ({"building": f"{LIJINGYUAN}/5栋", "unit": "2", "room": "502"}, "No region at path"),
        ({"building": f"{ANKANG}/2栋", "unit": "1", "room": "302"}, "already lives in"),
    ],
)
def test_the_transfer_page_says_what_is_wrong(lu_an, town_staff, fields, message):
    client = _signed_in(town_staff)
    li = _people()["李强"]

    response = client.post(
        reverse("resident_transfer", args=[li.pk]), {**fields, "reason": "工作调动"}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    li.refresh_from_db()
    assert li.household_id == lu_an["ankang"][1].pk


def test_the_transfer_page_is_403_for_a_role_and_404_outside(lu_an, grid_worker, community_staff):
    li, zhao = _people()["李强"], _people()["赵建国"]

    assert (
        _signed_in(grid_worker).get(reverse("resident_transfer", args=[li.pk])).status_code == 403
    )
    staff = _signed_in(community_staff)
    assert staff.get(reverse("resident_transfer", args=[zhao.pk])).status_code == 404
    response = staff.post(
        reverse("resident_transfer", args=[zhao.pk]),
        {"building": f"{ANKANG}/1栋", "unit": "1", "room": "101", "reason": "x"},
    )
    assert response.status_code == 404


# --- the API ----------------------------------------------------------------------------


def _api(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")


def test_the_api_transfers_and_returns_the_resident(lu_an, town_staff):
    li = _people()["李强"]
    chuangye = lu_an["chuangye"]

    response = _api(town_staff).post(
        reverse("api:resident-transfer", args=[li.pk]),
        {"household": chuangye.pk, "reason": "工作调动"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == li.pk and body["household"] == chuangye.pk
    assert AuditEvent.objects.get(action="transfer").detail["reason"] == "工作调动"


@pytest.mark.parametrize(
    ("who", "name", "target", "reason", "status"),
    [
        ("grid_worker", "李强", "chuangye", "x", 403),
        ("outsider", "李强", "chuangye", "x", 403),
        ("community_staff", "赵建国", "ankang_1", "x", 404),
        ("community_staff", "李强", "chuangye", "x", 404),
        ("community_staff", "李强", "ankang_1", "", 400),
        ("community_staff", "李强", "ankang_2", "x", 400),
    ],
)
def test_the_api_refuses(lu_an, request, who, name, target, reason, status):
    households = {
        "ankang_1": lu_an["ankang"][0],
        "ankang_2": lu_an["ankang"][1],
        "chuangye": lu_an["chuangye"],
    }

    response = _api(request.getfixturevalue(who)).post(
        reverse("api:resident-transfer", args=[_people()[name].pk]),
        {"household": households[target].pk, "reason": reason},
        content_type="application/json",
    )

    assert response.status_code == status, response.content
    assert "detail" in response.json() or "reason" in response.json()
    assert not AuditEvent.objects.filter(action="transfer").exists()


# --- the CLI ----------------------------------------------------------------------------


def test_cli_transfer_as_a_person(lu_an, town_staff, capsys):
    li = _people()["李强"]

    call_command(
        "transfer",
        li.id_number,
        "--to",
        f"{CHUANGYE}/1栋",
        "--unit",
        "1",
        "--room",
        "201",
        "--reason",
        "工作调动",
        "--as",
        "town_staff",
    )

    li.refresh_from_db()
    assert li.household_id == lu_an["chuangye"].pk
    assert "李强 now lives at" in capsys.readouterr().out
    assert AuditEvent.objects.get(action="transfer").actor_name == "town_staff"


def test_cli_transfer_without_as_is_the_system(lu_an):
    sun = _people()["孙丽"]

    call_command(
        "transfer",
        sun.id_number,
        "--to",
        f"{ANKANG}/1栋",
        "--room",
        "101",
        "--unit",
        "1",
        "--reason",
        "投亲",
    )

    sun.refresh_from_db()
    assert sun.household_id == lu_an["ankang"][0].pk
    event = AuditEvent.objects.get(action="transfer")
    assert event.actor_id is None and event.actor_name == ""


@pytest.mark.parametrize(
    ("who", "name", "to", "room", "message"),
    [
        (None, "李强", f"{CHUANGYE}/1栋", "999", "There is no household at"),
        (None, "李强", "不存在区/1栋", "201", "No region at path “不存在区/1栋”."),
        (None, "李强", CHUANGYE, "201", "is not a building"),
        ("community_staff", "李强", f"{CHUANGYE}/1栋", "201", "No region at path"),
        (
            "community_staff",
            "赵建国",
            f"{ANKANG}/1栋",
            "101",
            "No resident with this ID number in your jurisdiction.",
        ),
        ("grid_worker", "李强", f"{ANKANG}/1栋", "101", "Your role may not transfer residents."),
        ("nobody", "李强", f"{ANKANG}/1栋", "101", "No account named “nobody”."),
    ],
)
def test_cli_transfer_refuses_in_one_line(
    lu_an, community_staff, grid_worker, who, name, to, room, message
):
    person = _people()[name]
    home = person.household_id
    args = ["--as", who] if who else []

    with pytest.raises(CommandError) as refused:
        call_command(
            "transfer",
            person.id_number,
            "--to",
            to,
            "--unit",
            "1",
            "--room",
            room,
            "--reason",
            "x",
            *args,
        )

    assert message in str(refused.value) and "\n" not in str(refused.value)
    person.refresh_from_db()
    assert person.household_id == home
    assert not AuditEvent.objects.filter(action="transfer").exists()


@pytest.mark.parametrize("command", ["transfer", "export-census"])
def test_cli_help_prints(command, capsys):
    """`--help` used to crash on a lazy translation in the command's description."""
    from frontline.cli import main

    with pytest.raises(SystemExit) as done:
        main(["frontline", command, "--help"])

    assert done.value.code == 0
    assert "--as" in capsys.readouterr().out
