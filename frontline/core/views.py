"""The home page: the viewer's own work first (their grid points, today's visits), then
the figures of the jurisdiction, each one the door to the list behind it.

The region page browses the tree; the home page is where a day starts, so it does not
repeat the region page's list of places.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone

from frontline.accounts.policy import policy_for
from frontline.people.stats import census_stats
from frontline.people.visits import grid_progress
from frontline.people.worklists import Scope, grid_figures, worklist_counts
from frontline.territory.models import Grid, GridLevel, GridMember
from frontline.territory.queries import natural_sorted


def my_grids(user) -> tuple[list[Grid], bool]:
    """The grids the account works in (as chief or worker), else, for those who serve
    without a seat (volunteers, cadres), the grid points of their place. The flag says
    which: True for the account's own grids."""
    policy = policy_for(user)
    region = policy.jurisdiction
    if region is None:
        return [], False
    grids = Grid.objects.select_related("region").prefetch_related(
        "coverage", Prefetch("members", queryset=GridMember.objects.order_by("role", "name"))
    )
    own = [g for g in grids.filter(members__user=user).distinct() if policy.contains(g)]
    if own:
        return natural_sorted(own, key=lambda g: g.name), True
    served = grids.visible_to(user).filter(region=region, level=GridLevel.POINT)
    return natural_sorted(served, key=lambda g: g.name), False


@login_required
def home(request):
    policy = policy_for(request.user)
    region = policy.jurisdiction
    context: dict = {"region": region}
    if region is not None:
        today = timezone.localdate()
        grids, own = my_grids(request.user)
        cards = []
        for grid in grids:
            chiefs = [m for m in grid.members.all() if m.role == GridMember.Role.CHIEF]
            card = {"grid": grid, "chiefs": chiefs}
            if own:
                covers = natural_sorted(grid.coverage.all(), key=lambda r: r.name)
                card.update(
                    covers=covers,
                    figures=grid_figures(grid),
                    progress=grid_progress(grid, today),
                )
            cards.append(card)
        context.update(
            stats=census_stats(region),
            extra=worklist_counts(Scope(region=region)),
            scope_query=f"region={region.pk}",
            grid_cards=cards,
            own_grids=own,
        )
    return render(request, "core/home.html", context)
