"""The `mobilisation` figures of a region: the same numbers for the CLI, the API and pages.

Each figure is one indexed aggregate under `within(region)`, whatever the region's size;
roster gaps are computed over the region's posts in the next 24 hours with one query for
the posts and one for their shifts.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.utils import timezone

from frontline.territory.models import Grid, GridMember, Region

from .models import (
    Branch,
    BranchMember,
    CommandoTeam,
    Deployment,
    MemberKind,
    PartyGroup,
    PartyPost,
    PipelineEntry,
    Post,
    Rank,
    Report,
    ResponsibilityZone,
    Shift,
)
from .roster import gaps_by_post


def mobilisation_stats(region: Region, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    deployments = Deployment.objects.within(region)
    active = deployments.filter(start__lte=timezone.localdate(now)).exclude(
        end__lt=timezone.localdate(now)
    )
    by_rank = dict(
        active.values_list("cadre__rank").annotate(n=Count("cadre", distinct=True)).order_by()
    )
    reports = Report.objects.within(region).filter(state=Report.State.CONFIRMED)
    reported = dict(reports.values_list("kind").annotate(n=Count("id")).order_by())
    temporary = Branch.objects.within(region).filter(kind=Branch.Kind.TEMPORARY)
    pipeline = PipelineEntry.objects.within(region)
    stages = dict(pipeline.values_list("stage").annotate(n=Count("id")).order_by())
    posts = list(Post.objects.within(region).only("id"))
    gaps = gaps_by_post(
        posts, now, now + dt.timedelta(hours=24), shifts=Shift.objects.within(region)
    )
    grid_workers = (
        GridMember.objects.filter(
            role=GridMember.Role.WORKER, grid__in=Grid.objects.within(region).values("id")
        ).count()
        + active.filter(role=Deployment.Role.GRID_WORKER).count()
    )
    return {
        "units_deployed": active.values("cadre__org_unit").distinct().count(),
        "cadres_deployed": sum(by_rank.values()),
        "cadres_deployed_by_rank": {code: by_rank.get(code, 0) for code in Rank.values},
        "party_members_reported": reported.get(MemberKind.PARTY_MEMBER, 0),
        "others_reported": sum(
            n for kind, n in reported.items() if kind != MemberKind.PARTY_MEMBER
        ),
        "reports_waiting": Report.objects.within(region).filter(state=Report.State.PENDING).count(),
        "temporary_branches": temporary.count(),
        "temporary_branch_members": BranchMember.objects.within(region)
        .filter(branch__kind=Branch.Kind.TEMPORARY)
        .count(),
        "functional_groups": PartyGroup.objects.within(region).count(),
        "responsibility_zones": ResponsibilityZone.objects.within(region).count(),
        "commando_teams": CommandoTeam.objects.within(region).count(),
        "party_posts": PartyPost.objects.within(region).count(),
        "grid_workers": grid_workers,
        # On a shift now and not signed off it (someone who checked out early has gone).
        "on_duty_now": Shift.objects.within(region)
        .filter(start__lte=now, end__gt=now, checked_out_at__isnull=True)
        .values("person")
        .distinct()
        .count(),
        "roster_gaps_next_24h": sum(len(g) for g in gaps.values()),
        "posts_with_gaps_next_24h": sum(1 for g in gaps.values() if g),
        "pipeline": {
            "applications": stages.get(PipelineEntry.Stage.APPLICATION, 0),
            "activists": stages.get(PipelineEntry.Stage.ACTIVIST, 0),
            "new_activists": pipeline.filter(
                stage=PipelineEntry.Stage.ACTIVIST, identified_in_frontline=True
            ).count(),
            "development_objects": stages.get(PipelineEntry.Stage.DEVELOPMENT, 0),
            "probationary_members": stages.get(PipelineEntry.Stage.PROBATIONARY, 0),
        },
    }


def mobilisation_labels(figures: dict) -> list[tuple[str, int]]:
    """The figures as (label, number) lines for `frontline stats`."""
    from django.utils.translation import gettext as _

    lines = [
        (_("Units with cadres deployed"), figures["units_deployed"]),
        (_("Cadres deployed"), figures["cadres_deployed"]),
    ]
    lines += [
        (_("Cadres deployed: %(rank)s") % {"rank": Rank(code).label}, n)
        for code, n in figures["cadres_deployed_by_rank"].items()
    ]
    lines += [
        (_("Resident party members reported"), figures["party_members_reported"]),
        (_("Other volunteers reported"), figures["others_reported"]),
        (_("Reports waiting for the branch"), figures["reports_waiting"]),
        (_("Temporary branches"), figures["temporary_branches"]),
        (_("Members of temporary branches"), figures["temporary_branch_members"]),
        (_("Functional party groups"), figures["functional_groups"]),
        (_("Party responsibility zones"), figures["responsibility_zones"]),
        (_("Commando teams"), figures["commando_teams"]),
        (_("Party posts"), figures["party_posts"]),
        (_("Grid workers"), figures["grid_workers"]),
        (_("People on duty now"), figures["on_duty_now"]),
        (_("Roster gaps in the next 24 hours"), figures["roster_gaps_next_24h"]),
    ]
    pipeline = figures["pipeline"]
    lines += [
        (_("Applications received"), pipeline["applications"]),
        (_("Activists"), pipeline["activists"]),
        (_("New activists identified in the frontline"), pipeline["new_activists"]),
        (_("Development objects"), pipeline["development_objects"]),
        (_("Probationary members"), pipeline["probationary_members"]),
    ]
    return lines
