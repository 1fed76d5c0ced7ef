"""Template tags of health operations: `{% zone_badge place %}` shows what a place is now.

One query per badge (the zones in force on the place and its ancestors); a page shows one.
"""

from __future__ import annotations

from typing import Any

from django import template

from frontline.health.care import weekday_names as _weekday_names
from frontline.health.zones import zone_in_force
from frontline.territory.models import ANCESTOR_FIELDS, Region

register = template.Library()


@register.simple_tag
def current_zone(place: Any):
    """`{% current_zone household as zone %}`: read once, badge many (a household's members)."""
    return zone_in_force(place) if place is not None else None


@register.inclusion_tag("health/_zone_badge.html", takes_context=True)
def zone_badge(context, place: Any, link: bool = True, zone: Any = None) -> dict:
    """The strictest zone in force now over `place` (a region, household or resident),
    as a coloured badge linking to the zones page of its region when the viewer may see it.
    Pass `zone` when it has been read already (`current_zone`)."""
    if zone is None:
        zone = zone_in_force(place) if place is not None else None
    return {
        "zone": zone,
        "link": link,
        "policy": context.get("policy"),
        # The zones page of the place itself: the zone may sit on an ancestor outside the
        # viewer's jurisdiction (a township's precaution seen by a compound's worker).
        "place_id": _region_id(place),
    }


def _region_id(place: Any) -> int | None:
    if place is None:
        return None
    if isinstance(place, Region):
        return place.pk
    for name in reversed(ANCESTOR_FIELDS):
        if (value := getattr(place, f"{name}_id", None)) is not None:
            return value
    return None


@register.filter
def weekday_names(weekdays: str) -> str:
    """`{{ service.weekdays|weekday_names }}`: "1,3,5" → "周一、周三、周五" (Mon, Wed, Fri)."""
    return _weekday_names(weekdays)
