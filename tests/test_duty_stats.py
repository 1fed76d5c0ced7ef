"""The `mobilisation` figures: each counted under the region asked for, nothing outside."""

from __future__ import annotations

import datetime as dt

import pytest

from frontline.duty import reporting, roster, services
from frontline.duty.models import PipelineEntry
from frontline.duty.stats import mobilisation_stats
from frontline.territory.services import city

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN
from .duty_helpers import at, person, unit

DAY = dt.date(2026, 4, 1)


@pytest.fixture
def mobilised(lu_an):
    """In 安康小区: two cadres of one unit (科级, 一般干部), a temporary branch with two
    members and a duty group, a zone, a team, a party post, three reports (two confirmed),
    four pipeline entries, a post with one shift. In 丽景苑小区: one cadre of another unit,
    a standing branch, one confirmed report."""
    ankang, lijing = f.region(ANKANG), f.region(LIJINGYUAN)
    finance, health = unit("六安市财政局"), unit("六安市卫健委")
    for name, rank, u, place in (
        ("甲", "section", finance, ankang),
        ("乙", "staff", finance, ankang),
        ("丙", "staff", health, lijing),
    ):
        cadre = services.cadre_create(org_unit=u, name=name, id_number=f.id_number(), rank=rank)
        services.deployment_create(cadre=cadre, region=place, role="duty", start=DAY)
    temporary = services.branch_create(
        region=ankang, name="安康临时党支部", kind="temporary", setting="compound", start=DAY
    )
    for name in ("丁", "戊"):
        services.branch_add_member(branch=temporary, kind="party_member", name=name, joined=DAY)
    services.party_group_create(branch=temporary, function="duty")
    services.zone_create(branch=temporary, name="一区", buildings=[f.region(f"{ANKANG}/1栋")])
    services.commando_team_create(region=ankang, name="突击队", branch=temporary)
    services.party_post_create(region=ankang, name="先锋岗", kind="vanguard")
    standing = services.branch_create(
        region=lijing, name="丽景苑党支部", kind="standing", setting="compound", start=DAY
    )
    reports = [
        reporting.report_submit(
            branch=temporary, kind=kind, name=n, id_number=f.id_number(), phone="13900000000"
        )
        for kind, n in (("party_member", "己"), ("youth_league", "庚"), ("party_member", "辛"))
    ]
    far = reporting.report_submit(
        branch=standing,
        kind="party_member",
        name="壬",
        id_number=f.id_number(),
        phone="13900000001",
    )
    for r in (reports[0], reports[1], far):
        r.state = "confirmed"
        r.save(update_fields=["state"])
    for stage, new in (
        ("activist", True),
        ("activist", False),
        ("development", False),
        ("application", False),
    ):
        services.pipeline_record(
            branch=temporary, name="某", stage=stage, assessed_on=DAY, identified_in_frontline=new
        )
    post = roster.post_create(region=ankang, name="南门", kind="checkpoint")
    roster.shift_create(post=post, person=person("zhang"), start=at(4, 20), end=at(5, 4))
    return ankang, lijing


def test_figures_for_a_compound_count_only_it(mobilised):
    ankang, _lijing = mobilised

    figures = mobilisation_stats(ankang, now=at(4, 22))

    assert figures["units_deployed"] == 1
    assert figures["cadres_deployed"] == 2
    assert figures["cadres_deployed_by_rank"] == {
        "division": 0,
        "deputy_division": 0,
        "section": 1,
        "staff": 1,
    }
    assert figures["party_members_reported"] == 1
    assert figures["others_reported"] == 1
    assert figures["reports_waiting"] == 1
    assert figures["temporary_branches"] == 1
    assert figures["temporary_branch_members"] == 2
    assert (figures["functional_groups"], figures["responsibility_zones"]) == (1, 1)
    assert (figures["commando_teams"], figures["party_posts"]) == (1, 1)
    assert figures["on_duty_now"] == 1
    # The next 24 hours from 22:00: covered until 04:00, then open until 22:00 next day.
    assert figures["roster_gaps_next_24h"] == 1
    assert figures["pipeline"] == {
        "applications": 1,
        "activists": 2,
        "new_activists": 1,
        "development_objects": 1,
        "probationary_members": 0,
    }


def test_the_city_adds_everything_up(mobilised):
    figures = mobilisation_stats(city(), now=at(4, 22))

    assert figures["units_deployed"] == 2
    assert figures["cadres_deployed"] == 3
    assert figures["party_members_reported"] == 2
    assert figures["temporary_branches"] == 1
    assert PipelineEntry.objects.count() == sum(figures["pipeline"].values()) - 1


def test_a_deployment_that_ended_is_not_counted(mobilised):
    ankang, _ = mobilised
    cadre = services.cadre_create(
        org_unit=unit("六安市林业局"), name="癸", id_number=f.id_number(), rank="staff"
    )
    services.deployment_create(
        cadre=cadre, region=ankang, role="duty", start=DAY, end=dt.date(2026, 4, 2)
    )

    assert mobilisation_stats(ankang, now=at(4, 22))["cadres_deployed"] == 2


def test_someone_who_checked_out_early_is_not_on_duty_now(mobilised):
    """Found by a newcomer's walk: a person signed off their shift still counted."""
    from frontline.duty.models import Shift

    ankang, _lijing = mobilised
    shift = Shift.objects.get(post__name="南门")
    roster.shift_check_in(shift=shift, actor=shift.person, at=at(4, 20))
    roster.shift_check_out(shift=shift, actor=shift.person, at=at(4, 21))

    assert mobilisation_stats(ankang, now=at(4, 22))["on_duty_now"] == 0
