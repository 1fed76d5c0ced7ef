"""The home page: the viewer's jurisdiction at a glance."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from frontline.people.stats import census_stats
from frontline.people.worklists import Scope, worklist_counts
from frontline.territory.services import jurisdiction_of
from frontline.territory.views import children_page


@login_required
def home(request):
    region = jurisdiction_of(request.user)
    context = {"region": region}
    if region is not None:
        page, children = children_page(region, request.GET.get("page"))
        context.update(
            stats=census_stats(region),
            extra=worklist_counts(Scope(region=region)),
            scope_query=f"region={region.pk}",
            children=children,
            children_page=page,
        )
    return render(request, "core/home.html", context)
