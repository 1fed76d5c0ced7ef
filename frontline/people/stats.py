"""Census figures for a region: the same numbers for the CLI, the API and the pages."""

from __future__ import annotations

from django.db.models import Count

from frontline.territory.models import Level, Region

from .models import CARE_GROUP_LABELS, Household, Resident, ResidentCareGroup
from .visits import visit_stats


def census_stats(region: Region) -> dict:
    """Counts under `region`; each is one indexed aggregate, whatever the region's size."""
    households = Household.objects.within(region)
    residents = Resident.objects.within(region)
    regions = Region.objects.within(region)
    by_group = dict(
        ResidentCareGroup.objects.within(region)
        .values_list("group")
        .annotate(n=Count("id"))
        .values_list("group", "n")
    )
    by_level = dict(
        regions.filter(level__in=[Level.COMPOUND, Level.BUILDING])
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    return {
        "region": region.path or region.name,
        "households": households.count(),
        "residents": residents.count(),
        "buildings": by_level.get(Level.BUILDING, 0),
        "compounds": by_level.get(Level.COMPOUND, 0),
        "party_members": residents.filter(is_party_member=True).count(),
        "away": residents.filter(away=True).count(),
        "cannot_order_online": households.filter(online_members=0).count(),
        "care_groups": {label: by_group.get(code, 0) for code, label in CARE_GROUP_LABELS.items()},
        # Today's door visits: households visited, and visits by outcome.
        **visit_stats(region),
    }
