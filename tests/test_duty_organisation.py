"""Units, cadres, deployments, the responsibility chain, Party organisations, the ten roles;
and the mobilisation rows of the role table."""

from __future__ import annotations

import datetime as dt

import pytest

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError, NotFound, PermissionDenied
from frontline.duty import services
from frontline.duty.models import Cadre, Deployment, RoleAssignment

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN
from .duty_helpers import english, person, unit

DAY = dt.date(2026, 4, 4)


@pytest.fixture(autouse=True)
def _english():
    with english():
        yield


# Typed from the README's role table: manage_mobilisation, manage_duty, confirm_report.
MOBILISE_TEXT = """
city_admin        Y Y Y
district_staff    Y Y Y
township_staff    Y Y Y
community_staff   Y Y Y
grid_chief        - Y -
grid_worker       - - -
cadre             - - -
volunteer         - - -
"""
SCOPES = {
    "city_admin": "",
    "district_staff": "裕安区",
    "township_staff": "裕安区/城南镇",
    "community_staff": "裕安区/城南镇/陡步河社区",
}


@pytest.mark.parametrize("line", MOBILISE_TEXT.strip().splitlines())
def test_role_table_for_mobilisation(lu_an, line):
    from frontline.territory.services import city

    role, *cells = line.split()
    path = SCOPES.get(role, ANKANG)
    user = person(f"u_{role}", path, role=role) if path else None
    if user is None:
        from frontline.accounts.services import user_create

        user = user_create(username="u_city", role=role, region=city())
    policy = policy_for(user)
    ankang = f.region(ANKANG)
    answers = [
        policy.can(Action.MANAGE_MOBILISATION, ankang),
        policy.can(Action.MANAGE_DUTY, ankang),
        policy.can(Action.CONFIRM_REPORT, ankang),
    ]
    assert answers == [c == "Y" for c in cells]


def test_a_cadre_is_located_at_the_units_place_and_checked(lu_an):
    district_unit = services.unit_create(name="裕安区卫健委", home=f.region("裕安区"))
    cadre = services.cadre_create(
        org_unit=district_unit, name="周正", id_number=f.id_number(), rank="section"
    )
    assert cadre.district_id == f.region("裕安区").pk and cadre.sex == "M"
    with pytest.raises(DomainError, match="check digit"):
        services.cadre_create(
            org_unit=district_unit, name="错号", id_number="341502198005170010", rank="staff"
        )
    with pytest.raises(DomainError, match="exists"):
        services.cadre_create(
            org_unit=district_unit, name="同号", id_number=cadre.id_number, rank="staff"
        )


def test_the_three_level_chain_over_a_compound(lu_an):
    u = unit()
    people = [
        services.cadre_create(org_unit=u, name=n, id_number=f.id_number(), rank=r)
        for n, r in (("区领导", "division"), ("科长", "section"), ("干事", "staff"))
    ]
    ankang = f.region(ANKANG)
    for cadre, region, level in zip(
        people,
        [f.region("裕安区/城南镇"), ankang.parent, ankang],
        ["district_leader", "section_cadre", "cadre"],
        strict=True,
    ):
        services.deployment_create(
            cadre=cadre, region=region, role="coverage", start=DAY, chain_level=level
        )

    chain = services.responsibility_chain(f.region(f"{ANKANG}/1栋"))

    assert [d.cadre.name for d in chain] == ["区领导", "科长", "干事"]


def test_a_chain_link_covers_a_region_of_its_level(lu_an):
    cadre = services.cadre_create(
        org_unit=unit(), name="干事", id_number=f.id_number(), rank="staff"
    )
    with pytest.raises(DomainError):
        services.deployment_create(
            cadre=cadre,
            region=f.region(ANKANG),
            role="coverage",
            start=DAY,
            chain_level="district_leader",
        )
    with pytest.raises(DomainError, match="end date"):
        services.deployment_create(
            cadre=cadre,
            region=f.region(ANKANG),
            role="duty",
            start=DAY,
            end=DAY - dt.timedelta(days=1),
        )


def test_deployments_roll_up_and_are_refused_outside(lu_an, town_staff, outsider):
    cadre = services.cadre_create(
        org_unit=unit(), name="干事", id_number=f.id_number(), rank="staff"
    )
    services.deployment_create(
        cadre=cadre, region=f.region(ANKANG), role="duty", start=DAY, actor=town_staff
    )
    with pytest.raises(PermissionDenied):
        services.deployment_create(
            cadre=cadre, region=f.region(LIJINGYUAN), role="duty", start=DAY, actor=outsider
        )
    with pytest.raises(NotFound):
        services.deployment_create(
            cadre=cadre, region=f.region(LIJINGYUAN), role="duty", start=DAY, actor=town_staff
        )
    assert Deployment.objects.within(f.region("裕安区")).count() == 1
    assert Deployment.objects.visible_to(outsider).count() == 0
    assert Cadre.objects.count() == 1


def test_a_temporary_branch_with_its_secretary_groups_zones_and_teams(lu_an):
    ankang = f.region(ANKANG)
    branch = services.branch_create(
        region=ankang, name="安康小区临时党支部", kind="temporary", setting="compound", start=DAY
    )
    secretary = services.branch_add_member(
        branch=branch, kind="cadre", name="钟鸣", joined=DAY, secretary=True
    )
    services.party_group_create(branch=branch, function="duty", leader="钟鸣")
    zone = services.zone_create(
        branch=branch, name="1-5栋责任区", buildings=[f.region(f"{ANKANG}/1栋")]
    )
    services.commando_team_create(region=ankang, branch=branch, name="安康突击队", size=12)
    services.party_post_create(region=ankang, name="南门先锋岗", kind="vanguard")

    branch.refresh_from_db()
    assert branch.secretary == secretary and zone.compound_id == ankang.pk
    with pytest.raises(DomainError):
        services.zone_create(branch=branch, name="外区", buildings=[f.region(f"{LIJINGYUAN}/5栋")])
    with pytest.raises(DomainError):
        services.party_group_create(branch=branch, function="duty")


def test_the_ten_roles_are_given_at_a_compound_to_people_inside(lu_an, community_staff):
    ankang = f.region(ANKANG)
    zhang = person("zhang")

    first = services.role_assign(
        region=ankang, role="delivery", person=zhang, actor=community_staff
    )
    again = services.role_assign(
        region=ankang, role="delivery", person=zhang, actor=community_staff
    )

    assert first.pk == again.pk and RoleAssignment.objects.count() == 1
    with pytest.raises(DomainError):
        services.role_assign(region=ankang.parent, role="delivery", person=zhang)
    with pytest.raises(NotFound):
        services.role_assign(
            region=ankang, role="delivery", person=person("far", LIJINGYUAN), actor=community_staff
        )


def test_suggested_people_hold_the_role_and_the_free_come_first(lu_an, community_staff, outsider):
    from frontline.duty import roster
    from frontline.duty.queries import suggested_people

    from .duty_helpers import at, gate

    ankang = f.region(ANKANG)
    busy, free = person("busy"), person("free")
    for p in (busy, free):
        services.role_assign(region=ankang, role="delivery", person=p)
    roster.shift_create(post=gate(), person=busy, start=at(4, 20), end=at(5, 8))

    found = suggested_people(community_staff, ankang, "delivery", now=at(4, 21))

    assert [(c.person.username, c.on_duty) for c in found] == [("free", False), ("busy", True)]
    assert suggested_people(outsider, ankang, "delivery") == []


@pytest.mark.parametrize(
    ("role", "phone_shown"),
    [("community_staff", "13905640001"), ("volunteer", "139****0001")],
)
def test_the_deployments_page_masks_cadres_like_residents(lu_an, role, phone_shown):
    from django.test import Client
    from django.urls import reverse

    ankang = f.region(ANKANG)
    number = f.id_number()
    cadre = services.cadre_create(
        org_unit=unit(), name="周正", id_number=number, rank="section", phone="13905640001"
    )
    services.deployment_create(cadre=cadre, region=ankang, role="duty", start=DAY)
    viewer = person(f"v_{role}", ANKANG if role == "volunteer" else ankang.parent.path, role=role)
    client = Client()
    client.force_login(viewer)

    page = client.get(reverse("duty_deployments") + f"?region={ankang.pk}").content.decode()

    assert "周正" in page and phone_shown in page
    assert number not in page and f"{number[:6]}********{number[-4:]}" in page
    if role == "volunteer":
        assert "13905640001" not in page


def test_the_mobilisation_lists_count_their_queries(
    lu_an, community_staff, django_assert_num_queries
):
    from django.test import Client
    from django.urls import reverse

    ankang = f.region(ANKANG)
    u = unit()
    for i in range(10):
        cadre = services.cadre_create(
            org_unit=u, name=f"干部{i}", id_number=f.id_number(), rank="staff"
        )
        services.deployment_create(cadre=cadre, region=ankang, role="duty", start=DAY)
        branch = services.branch_create(
            region=ankang, name=f"支部{i}", kind="temporary", setting="compound", start=DAY
        )
        services.branch_add_member(
            branch=branch, kind="cadre", name=f"书记{i}", joined=DAY, secretary=True
        )
    client = Client()
    client.force_login(community_staff)
    for name in ("duty_deployments", "duty_branches"):
        url = reverse(name) + f"?region={ankang.pk}"
        client.get(url)
        # session, user, jurisdiction, region, the rows (+ count, pairings, chain).
        with django_assert_num_queries(8, exact=False) as captured:
            page = client.get(url)
        assert (
            page.status_code == 200
            and page.content.decode().count("支部" if "branch" in name else "干部") >= 10
        )
        assert len(captured.captured_queries) <= 8, name
