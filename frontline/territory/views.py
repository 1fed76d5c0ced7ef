"""Browsing the region tree and the four-level grids, inside the viewer's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Sum
from django.db.models.functions import Length
from django.shortcuts import render
from django.utils import timezone

from frontline.core.access import access_by_id
from frontline.people.labels import CARE_GROUP_LABELS
from frontline.people.models import Household
from frontline.people.roomchart import room_chart
from frontline.people.stats import census_stats
from frontline.people.visits import grid_progress
from frontline.people.worklists import Scope, grid_figures, worklist_counts

from .models import LEVEL_FIELDS, Grid, GridMember, Level, Region
from .queries import grid_household_counts, natural_order, natural_sorted
from .services import city, grid_households, jurisdiction_of

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class ChildRow:
    region: Region
    households: int
    residents: int


def children_page(region: Region, page_number) -> tuple[Page, list[ChildRow]]:
    """One page of the region's children with their household and resident counts.

    The counts for the whole page come from one grouped query on the child level's
    ancestor column, so the page costs the same however many children there are.
    """
    # Buildings and many compounds are numbered: 2栋 before 10栋, 第二 before 第十.
    children = natural_order(Region.objects.filter(parent=region), "name")
    page = Paginator(children, PAGE_SIZE).get_page(page_number)
    rows: list[ChildRow] = []
    if page.object_list and region.level < Level.BUILDING:
        field = LEVEL_FIELDS[region.level + 1]
        ids = [child.pk for child in page.object_list]
        counts = {
            row[field]: row
            for row in Household.objects.within(region)
            .filter(**{f"{field}_id__in": ids})
            .values(field)
            .annotate(households=Count("id"), residents=Sum("members"))
            .order_by()
        }
        for child in page.object_list:
            row = counts.get(child.pk, {})
            rows.append(ChildRow(child, row.get("households", 0), row.get("residents") or 0))
    return page, rows


def breadcrumb(region: Region, user) -> list[tuple[Region, bool]]:
    """Ancestors from the city down, each marked whether the viewer may open it."""
    chain = region.ancestors()
    if region.level > Level.CITY:
        chain.insert(0, city())
    home = jurisdiction_of(user)
    return [(r, home is not None and r.is_within(home)) for r in chain]


@login_required
def region_detail(request, pk: int):
    region = access_by_id(Region.objects.all(), request.user, pk)
    households = None
    chart = None
    if region.level == Level.BUILDING:
        chart = room_chart(region, timezone.localdate())
        households = Paginator(
            Household.objects.within(region).order_by(
                Length("unit"), "unit", Length("room"), "room", "pk"
            ),
            PAGE_SIZE,
        ).get_page(request.GET.get("page"))
    page, children = children_page(region, request.GET.get("page"))
    return render(
        request,
        "territory/region_detail.html",
        {
            "region": region,
            "breadcrumb": breadcrumb(region, request.user),
            "stats": census_stats(region),
            "extra": worklist_counts(Scope(region=region)),
            "scope_query": f"region={region.pk}",
            "children": children,
            "children_page": page,
            "households": households,
            "chart": chart,
            "chart_groups": list(CARE_GROUP_LABELS),
        },
    )


def _grids_with_people():
    return Grid.objects.select_related("region").prefetch_related(
        Prefetch("members", queryset=GridMember.objects.order_by("role", "name")),
        "coverage",
    )


def _with_coverage_in_order(grid: Grid) -> Grid:
    # 6栋、7栋、10栋, not 10栋、6栋、7栋: the template reads grid.covers.
    grid.covers = natural_sorted(grid.coverage.all(), key=lambda r: r.path)
    return grid


# The whole visible tree on one page: a city has about a hundred grids, and a tree cut
# into pages would lose its branches.
GRID_TREE_LIMIT = 1000


@dataclass
class GridNode:
    grid: Grid
    children: list[GridNode]


def grid_tree(grids: list[Grid]) -> list[GridNode]:
    """District → township → community → grid point, from an already-fetched list. A grid
    whose parent is not in the list (outside the viewer's jurisdiction) is a root."""
    nodes = {g.pk: GridNode(g, []) for g in grids}
    roots: list[GridNode] = []
    for grid in grids:
        parent = nodes.get(grid.parent_id) if grid.parent_id else None
        (parent.children if parent is not None else roots).append(nodes[grid.pk])
    return roots


@login_required
def grid_list(request):
    grids = _grids_with_people().visible_to(request.user)
    query = (request.GET.get("q") or "").strip()[:64]
    if query:
        grids = grids.filter(name__contains=query)
    grids = natural_order(grids, "name", first=["level"])
    page = Paginator(grids, GRID_TREE_LIMIT).get_page(request.GET.get("page"))
    counts = grid_household_counts(list(page.object_list))
    for grid in page.object_list:
        grid.household_count = counts[grid.pk]
        _with_coverage_in_order(grid)
    # A filtered list is flat: the matches, each with where it is.
    tree = grid_tree(list(page.object_list)) if not query else None
    return render(request, "territory/grid_list.html", {"page": page, "tree": tree, "query": query})


@login_required
def grid_detail(request, pk: int):
    grid = _with_coverage_in_order(access_by_id(_grids_with_people(), request.user, pk))
    visible = Grid.objects.visible_to(request.user)
    parent = visible.filter(pk=grid.parent_id).first() if grid.parent_id else None
    return render(
        request,
        "territory/grid_detail.html",
        {
            "grid": grid,
            "parent": parent,
            "children": natural_sorted(visible.filter(parent=grid), key=lambda g: g.name),
            "household_count": grid_households(grid).count(),
            # Every figure is the door to its list (issue 6), as on the home page.
            "figures": grid_figures(grid),
            "progress": grid_progress(grid, timezone.localdate()),
        },
    )
