"""The mobilisation pages: units, cadres, deployments, pairings, branches and their parts,
the membership pipeline. Each form's errors, places outside refused, audit rows, bounded
queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from frontline.audit.models import AuditEvent
from frontline.duty import services
from frontline.duty.models import (
    Branch,
    BranchMember,
    Cadre,
    CommandoTeam,
    Deployment,
    OrgUnit,
    Pairing,
    PartyGroup,
    PartyPost,
    PipelineEntry,
    ResponsibilityZone,
)

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN

DAY = dt.date(2026, 4, 4)
TOWN = "裕安区/城南镇"
COMMUNITY = "裕安区/城南镇/陡步河社区"


def _client(user) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return client


def _errors(response) -> str:
    return response.content.decode()


def _mobilisation_audits() -> list[str]:
    return list(
        AuditEvent.objects.filter(action="mobilisation")
        .order_by("id")
        .values_list("detail__change", flat=True)
    )


@pytest.fixture
def town_unit(lu_an):
    return services.unit_create(name="城南镇综治办", home=f.region(TOWN))


@pytest.fixture
def cadre(town_unit):
    return services.cadre_create(
        org_unit=town_unit, name="周正", id_number=f.id_number(), rank="staff"
    )


@pytest.fixture
def branch(lu_an):
    return services.branch_create(
        region=f.region(ANKANG),
        name="安康小区临时党支部",
        kind="temporary",
        setting="compound",
        start=DAY,
    )


# --- units -------------------------------------------------------------------------------


def test_town_staff_create_a_unit_of_their_township(town_staff):
    client = _client(town_staff)
    town = f.region(TOWN)

    response = client.post(
        reverse("duty_units") + f"?region={town.pk}",
        {"name": "城南镇卫生院", "kind": "township", "home": town.pk},
    )

    assert response.status_code == 302
    unit = OrgUnit.objects.get(name="城南镇卫生院")
    assert unit.home == town and unit.township_id == town.pk
    assert _mobilisation_audits() == ["unit_create"]
    assert "城南镇卫生院" in client.get(reverse("duty_units")).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "township", "home": "HOME"}, "This field is required."),
        ({"name": "外区单位", "kind": "township", "home": "OUTSIDE"}, "inside your jurisdiction"),
        ({"name": "无家单位", "kind": "township", "home": ""}, "Choose a place."),
        ({"name": "怪单位", "kind": "martian", "home": "HOME"}, "Select a valid choice"),
        ({"name": "城南镇综治办", "kind": "township", "home": "HOME"}, "exists already"),
    ],
)
def test_unit_form_errors(town_staff, town_unit, data, message):
    homes = {"HOME": f.region(TOWN).pk, "OUTSIDE": f.region("金安区").pk, "": ""}
    data = {**data, "home": homes[data["home"]]}

    response = _client(town_staff).post(reverse("duty_units"), data)

    assert response.status_code == 400
    assert message in _errors(response)
    assert OrgUnit.objects.count() == 1


def test_a_unit_is_edited_and_a_city_unit_is_the_citys(town_staff, city_admin, town_unit):
    client = _client(town_staff)
    response = client.post(
        reverse("duty_unit", args=[town_unit.pk]), {"name": "城南镇平安办", "kind": "township"}
    )
    assert response.status_code == 302
    town_unit.refresh_from_db()
    assert town_unit.name == "城南镇平安办"
    city_unit = services.unit_create(name="六安市财政局")
    # A city unit has no place inside a township: it reads as nothing there.
    assert client.get(reverse("duty_unit", args=[city_unit.pk])).status_code == 404
    admin = _client(city_admin)
    assert admin.get(reverse("duty_unit", args=[city_unit.pk])).status_code == 200
    created = admin.post(reverse("duty_units"), {"name": "六安市教育局", "kind": "city"})
    assert created.status_code == 302 and OrgUnit.objects.get(name="六安市教育局").home is None


# --- cadres ------------------------------------------------------------------------------


def test_a_cadre_is_added_one_at_a_time(town_staff, town_unit):
    number = f.id_number()
    response = _client(town_staff).post(
        reverse("duty_cadres"),
        {
            "org_unit": town_unit.pk,
            "name": "吴敏",
            "id_number": number,
            "rank": "section",
            "phone": "13955556666",
            "is_party_member": "on",
        },
    )
    cadre = Cadre.objects.get(id_number=number)
    assert response.status_code == 302 and response["Location"].endswith(f"/{cadre.pk}/")
    assert cadre.is_party_member and cadre.township_id == f.region(TOWN).pk
    assert _mobilisation_audits()[-1] == "cadre_create"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "341502198005170010", "check digit"),
        ("id_number", "DUPLICATE", "exists already"),
        ("rank", "general", "Select a valid choice"),
        ("org_unit", "OUTSIDE", "Choose a unit you manage."),
        ("name", "", "This field is required."),
    ],
)
def test_cadre_form_errors(town_staff, cadre, field, value, message):
    outside = services.unit_create(name="金安区卫健委", home=f.region("金安区"))
    values = {"DUPLICATE": cadre.id_number, "OUTSIDE": outside.pk}
    data = {
        "org_unit": cadre.org_unit_id,
        "name": "新干部",
        "id_number": f.id_number(),
        "rank": "staff",
    }
    data[field] = values.get(value, value)

    response = _client(town_staff).post(reverse("duty_cadres"), data)

    assert response.status_code == 400
    assert message in _errors(response)
    assert Cadre.objects.count() == 1


def test_a_cadre_is_corrected_but_keeps_their_id_number(town_staff, cadre):
    url = reverse("duty_cadre", args=[cadre.pk])
    response = _client(town_staff).post(
        url, {"form": "edit", "name": "周正平", "rank": "section", "phone": "139"}
    )
    assert response.status_code == 302
    cadre.refresh_from_db()
    assert (cadre.name, cadre.rank, cadre.phone) == ("周正平", "section", "139")
    bad = _client(town_staff).post(url, {"form": "edit", "name": "", "rank": "section"})
    assert bad.status_code == 400 and "This field is required." in _errors(bad)


# --- deployments -------------------------------------------------------------------------


def test_a_cadre_is_sent_down_and_the_deployment_ended(town_staff, cadre):
    client = _client(town_staff)
    ankang = f.region(ANKANG)
    url = reverse("duty_cadre", args=[cadre.pk])

    response = client.post(
        url,
        {
            "form": "deploy",
            "region": ankang.pk,
            "role": "coverage",
            "chain_level": "cadre",
            "start": "2026-04-01",
        },
    )

    assert response.status_code == 302
    deployment = Deployment.objects.get(cadre=cadre)
    assert deployment.region == ankang and deployment.compound_id == ankang.pk
    assert "安康小区" in client.get(url).content.decode()
    early = client.post(
        reverse("duty_deployment_end", args=[deployment.pk]), {"end": "2026-03-01"}, follow=True
    )
    assert "end date is before the start date" in early.content.decode()
    ended = client.post(
        reverse("duty_deployment_end", args=[deployment.pk]), {"end": "2026-04-10", "back": "cadre"}
    )
    assert ended.status_code == 302 and ended["Location"] == url
    deployment.refresh_from_db()
    assert deployment.end == dt.date(2026, 4, 10)
    assert _mobilisation_audits()[-2:] == ["deployment_create", "deployment_end"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"region": "OUTSIDE"}, "Choose a place inside your jurisdiction."),
        ({"chain_level": "district_leader"}, "covers a region of level"),
        ({"role": "task_force"}, "Name the task force"),
        ({"end": "2026-03-01"}, "end date is before the start date"),
        ({"start": "4月1日"}, "Write a date as YYYY-MM-DD."),
    ],
)
def test_deployment_form_errors(town_staff, cadre, data, message):
    regions = {"OUTSIDE": f.region(LIJINGYUAN).pk}
    base = {"form": "deploy", "region": f.region(ANKANG).pk, "role": "duty", "start": "2026-04-01"}
    base.update({k: regions.get(v, v) for k, v in data.items()})

    response = _client(town_staff).post(reverse("duty_cadre", args=[cadre.pk]), base)

    assert response.status_code == 400
    assert message in _errors(response)
    assert not Deployment.objects.exists()


def test_a_deployment_outside_cannot_be_ended(cadre, outsider, lu_an):
    from tests.duty_helpers import person

    outside_staff = person("gulou_staff", "金安区/鼓楼街道/鼓楼社区", role="community_staff")
    deployment = services.deployment_create(
        cadre=cadre, region=f.region(ANKANG), role="duty", start=DAY
    )
    response = _client(outside_staff).post(
        reverse("duty_deployment_end", args=[deployment.pk]), {"end": "2026-04-10"}
    )
    assert response.status_code == 404
    deployment.refresh_from_db()
    assert deployment.end is None


# --- pairings ----------------------------------------------------------------------------


def test_a_unit_is_paired_with_a_community_inside(town_staff, town_unit):
    client = _client(town_staff)
    community = f.region(COMMUNITY)
    data = {"org_unit": town_unit.pk, "community": community.pk, "since": "2026-04-01"}

    assert client.post(reverse("duty_pairings"), data).status_code == 302
    again = client.post(reverse("duty_pairings"), data)
    outside = client.post(
        reverse("duty_pairings"),
        {**data, "community": f.region("金安区/鼓楼街道/鼓楼社区").pk},
    )

    assert Pairing.objects.filter(community=community).count() == 1
    assert again.status_code == 400 and "paired with this community already" in _errors(again)
    assert outside.status_code == 400
    assert "Choose a place inside your jurisdiction." in _errors(outside)


# --- branches ----------------------------------------------------------------------------


def test_a_branch_is_set_up_from_the_branch_list(community_staff):
    client = _client(community_staff)
    ankang = f.region(ANKANG)
    response = client.post(
        reverse("duty_branches"),
        {
            "name": "安康小区临时党支部",
            "kind": "temporary",
            "setting": "compound",
            "region": ankang.pk,
            "start": "2026-04-01",
        },
    )
    branch = Branch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("duty_branch", args=[branch.pk])
    assert branch.compound_id == ankang.pk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"region": "OUTSIDE"}, "Choose a place inside your jurisdiction."),
        ({"end": "2026-03-01"}, "end date is before the start date"),
        ({"kind": "eternal"}, "Select a valid choice"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_branch_form_errors(community_staff, data, message):
    regions = {"OUTSIDE": f.region(CHUANGYE).pk}
    base = {
        "name": "支部",
        "kind": "temporary",
        "setting": "compound",
        "region": f.region(ANKANG).pk,
        "start": "2026-04-01",
    }
    base.update({k: regions.get(v, v) for k, v in data.items()})

    response = _client(community_staff).post(reverse("duty_branches"), base)

    assert response.status_code == 400
    assert message in _errors(response)
    assert not Branch.objects.exists()


def test_a_branch_gets_members_groups_zones_teams_posts(community_staff, branch):
    client = _client(community_staff)
    url = reverse("duty_branch", args=[branch.pk])
    one, two = f.region(f"{ANKANG}/1栋"), f.region(f"{ANKANG}/2栋")

    posts = [
        {
            "form": "member",
            "kind": "cadre",
            "name": "钟鸣",
            "joined": "2026-04-02",
            "secretary": "on",
        },
        {"form": "member", "kind": "party_member", "name": "李强", "joined": "2026-04-02"},
        {"form": "group", "function": "duty", "leader": "李强"},
        {"form": "zone", "name": "一二栋责任区", "keeper": "李强", "buildings": [one.pk, two.pk]},
        {"form": "team", "name": "党员突击队", "kind": "commando", "size": 12},
        {"form": "post", "region": f.region(ANKANG).pk, "name": "南门先锋岗", "kind": "vanguard"},
    ]
    for data in posts:
        response = client.post(url, data)
        assert response.status_code == 302, (data, _errors(response)[:2000])

    branch.refresh_from_db()
    assert branch.secretary.name == "钟鸣"
    assert BranchMember.objects.filter(branch=branch).count() == 2
    assert PartyGroup.objects.get(branch=branch).function == "duty"
    zone = ResponsibilityZone.objects.get(branch=branch)
    assert sorted(zone.buildings.values_list("pk", flat=True)) == sorted([one.pk, two.pk])
    assert CommandoTeam.objects.get(branch=branch).size == 12
    assert PartyPost.objects.get().compound_id == branch.region_id
    page = client.get(url).content.decode()
    for text in ("钟鸣", "一二栋责任区", "党员突击队", "南门先锋岗"):
        assert text in page
    assert len(_mobilisation_audits()) == len(posts)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"form": "member", "kind": "cadre", "name": "", "joined": "2026-04-02"},
            "This field is required.",
        ),
        ({"form": "group", "function": "duty"}, "has that group already"),
        (
            {"form": "zone", "name": "外楼", "buildings": ["OUTSIDE_BUILDING"]},
            "Choose a place inside your jurisdiction.",
        ),
        (
            {"form": "team", "name": "队", "kind": "commando", "size": -1},
            "The number of members is not negative.",
        ),
        (
            {"form": "post", "region": "OUTSIDE", "name": "岗", "kind": "vanguard"},
            "Choose a place inside your jurisdiction.",
        ),
        (
            {
                "form": "edit",
                "name": "支部",
                "kind": "temporary",
                "setting": "compound",
                "start": "2026-04-01",
                "secretary": "STRANGER",
            },
            "Choose one of the branch&#x27;s",
        ),
    ],
)
def test_branch_part_form_errors(community_staff, branch, data, message):
    services.party_group_create(branch=branch, function="duty")
    other = services.branch_create(
        region=f.region(ANKANG), name="另一支部", kind="standing", setting="compound", start=DAY
    )
    stranger = services.branch_add_member(branch=other, kind="volunteer", name="路人", joined=DAY)
    values = {
        "OUTSIDE_BUILDING": f.region(f"{CHUANGYE}/1栋").pk,
        "OUTSIDE": f.region(CHUANGYE).pk,
        "STRANGER": stranger.pk,
    }
    data = {
        k: ([values.get(x, x) for x in v] if isinstance(v, list) else values.get(v, v))
        for k, v in data.items()
    }
    before = (BranchMember.objects.count(), ResponsibilityZone.objects.count())

    response = _client(community_staff).post(reverse("duty_branch", args=[branch.pk]), data)

    assert response.status_code == 400
    assert message in _errors(response)
    assert (BranchMember.objects.count(), ResponsibilityZone.objects.count()) == before
    assert not CommandoTeam.objects.exists() and not PartyPost.objects.exists()
    branch.refresh_from_db()
    assert branch.secretary is None


def test_a_volunteer_is_told_which_role_manages_branches(volunteer, branch):
    response = _client(volunteer).get(reverse("duty_branch", args=[branch.pk]))

    assert response.status_code == 403
    assert "Community staff" in response.content.decode()


# --- the membership pipeline -------------------------------------------------------------


def _entry(branch, name, stage, frontline=False):
    return services.pipeline_record(
        branch=branch, name=name, stage=stage, assessed_on=DAY, identified_in_frontline=frontline
    )


def test_the_pipeline_counts_roll_up_for_the_callers_region(town_staff, branch):
    chuangye = services.branch_create(
        region=f.region(CHUANGYE),
        name="创业小区党支部",
        kind="standing",
        setting="compound",
        start=DAY,
    )
    gulou = services.branch_create(
        region=f.region(LIJINGYUAN),
        name="丽景苑党支部",
        kind="standing",
        setting="compound",
        start=DAY,
    )
    _entry(branch, "甲", "application")
    _entry(branch, "乙", "activist", frontline=True)
    _entry(chuangye, "丙", "activist", frontline=True)
    _entry(chuangye, "丁", "probationary")
    _entry(gulou, "戊", "activist")  # 金安区: not in 城南镇's figures

    response = _client(town_staff).get(reverse("duty_pipeline"))

    assert response.status_code == 200
    stages = {code: n for code, _label, n in response.context["stages"]}
    # Counted by hand above: 城南镇 has 甲 乙 丙 丁.
    assert stages == {"application": 1, "activist": 2, "development": 0, "probationary": 1}
    assert response.context["total"] == 4 and response.context["frontline_count"] == 2
    assert "戊" not in response.content.decode()
    community_view = _client(town_staff).get(
        reverse("duty_pipeline") + f"?region={f.region(ANKANG).pk}"
    )
    assert community_view.context["total"] == 2


def test_an_entry_is_added_and_advanced_never_back(community_staff, branch):
    client = _client(community_staff)
    response = client.post(
        reverse("duty_pipeline"),
        {
            "branch": branch.pk,
            "name": "孙杰",
            "stage": "application",
            "assessed_on": "2026-04-02",
            "identified_in_frontline": "on",
        },
    )
    assert response.status_code == 302
    entry = PipelineEntry.objects.get(name="孙杰")
    assert entry.identified_in_frontline and entry.compound_id == branch.region_id
    url = reverse("duty_pipeline_advance", args=[entry.pk])

    assert client.post(url, {"stage": "activist", "assessed_on": "2026-04-05"}).status_code == 302
    back = client.post(url, {"stage": "application", "assessed_on": "2026-04-06"}, follow=True)
    early = client.post(url, {"stage": "development", "assessed_on": "2026-04-01"}, follow=True)

    entry.refresh_from_db()
    assert (entry.stage, entry.assessed_on) == ("activist", dt.date(2026, 4, 5))
    assert "choose a later stage" in back.content.decode()
    assert "before the previous one" in early.content.decode()
    assert _mobilisation_audits() == ["pipeline_record", "pipeline_advance"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"branch": "OUTSIDE"}, "Choose a branch inside your jurisdiction."),
        ({"stage": "member"}, "Select a valid choice"),
        ({"assessed_on": ""}, "This field is required."),
    ],
)
def test_pipeline_form_errors(community_staff, branch, data, message):
    outside = services.branch_create(
        region=f.region(CHUANGYE),
        name="创业小区党支部",
        kind="standing",
        setting="compound",
        start=DAY,
    )
    base = {
        "branch": branch.pk,
        "name": "孙杰",
        "stage": "application",
        "assessed_on": "2026-04-02",
    }
    base.update({k: outside.pk if v == "OUTSIDE" else v for k, v in data.items()})

    response = _client(community_staff).post(reverse("duty_pipeline"), base)

    assert response.status_code == 400 and message in _errors(response)
    assert not PipelineEntry.objects.exists()


# --- who may, and how many queries -------------------------------------------------------


@pytest.mark.parametrize("name", ["duty_units", "duty_cadres", "duty_pairings", "duty_pipeline"])
def test_a_volunteer_is_refused_the_mobilisation_pages_in_words(volunteer, name):
    response = _client(volunteer).get(reverse(name))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Your role may not manage units, cadres and branches." in body
    assert "City administrator" in body and "Community staff" in body
    assert "your role is Volunteer" in body


def test_the_refusal_is_in_the_users_language(volunteer):
    client = Client()
    client.force_login(volunteer)
    body = client.get(reverse("duty_units")).content.decode()
    # The refusal and the hint are gettext'd: the Chinese page carries the Chinese role name.
    assert "Your role" not in body and "志愿者" in body


def _fill(town_unit, branch, n, offset=0):
    for i in range(offset, offset + n):
        c = services.cadre_create(
            org_unit=town_unit, name=f"干部{i}", id_number=f.id_number(), rank="staff"
        )
        services.deployment_create(cadre=c, region=f.region(ANKANG), role="duty", start=DAY)
        _entry(branch, f"人{i}", "activist")
        services.branch_add_member(branch=branch, kind="volunteer", name=f"员{i}", joined=DAY)
        u = services.unit_create(name=f"单位{i}", home=f.region(TOWN))
        services.pairing_create(org_unit=u, community=f.region(COMMUNITY), since=DAY)


@pytest.mark.parametrize(
    "name", ["duty_units", "duty_cadres", "duty_pairings", "duty_pipeline", "duty_branch"]
)
def test_lists_take_a_bounded_number_of_queries(
    town_staff, town_unit, branch, name, django_assert_max_num_queries
):
    client = _client(town_staff)
    url = reverse(name, args=[branch.pk]) if name == "duty_branch" else reverse(name)
    _fill(town_unit, branch, 3)
    client.get(url)  # session, caches

    with django_assert_max_num_queries(16) as few:
        assert client.get(url).status_code == 200
    _fill(town_unit, branch, 10, offset=100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# --- the ten roles can be found ---------------------------------------------------------


def test_the_ten_roles_are_linked_from_home_region_and_duty_pages(
    community_staff, grid_worker, volunteer
):
    ankang = f.region(ANKANG)
    roles_url = reverse("duty_roles") + f"?region={ankang.pk}"
    staff = _client(community_staff)

    home = staff.get(reverse("home")).content.decode()
    posts = staff.get(reverse("duty_posts")).content.decode()
    compound = staff.get(reverse("region_detail", args=[ankang.pk])).content.decode()

    assert reverse("duty_posts") + f"?region={f.region(COMMUNITY).pk}#ten-roles" in home
    assert roles_url in posts and 'id="ten-roles"' in posts
    assert roles_url in compound
    assert reverse("duty_pipeline") in home
    # Roles that keep no roster see none of it.
    for user in (grid_worker, volunteer):
        assert reverse("duty_roles") not in _client(user).get(reverse("home")).content.decode()


def test_community_staff_add_a_unit_of_their_community(community_staff):
    community = f.region(COMMUNITY)
    response = _client(community_staff).post(
        reverse("duty_units"),
        {"name": "陡步河物业公司", "kind": "enterprise", "home": community.pk},
    )
    assert response.status_code == 302
    assert OrgUnit.objects.get(name="陡步河物业公司").community_id == community.pk
