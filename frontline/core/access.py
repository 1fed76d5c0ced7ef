"""Fetching one row by id, confined to the caller's jurisdiction.

The one place where "is this yours?" is answered for a single object: views and API
views call `access_by_id` and never filter by region themselves. Anything outside the
jurisdiction is a 404, not a 403, so that ids cannot be probed for existence.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


def access_by_id(queryset: QuerySet[M], user, pk) -> M:
    try:
        return queryset.visible_to(user).get(pk=pk)  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def requested_region(request):
    """The page's `region` (an id, from the query or the form) inside the caller's
    jurisdiction (404 outside), else the jurisdiction itself (404 for an account with none)."""
    from frontline.accounts.policy import policy_for
    from frontline.territory.models import Region

    raw = request.GET.get("region") or request.POST.get("region")
    if raw:
        return access_by_id(Region.objects.all(), request.user, raw)
    region = policy_for(request.user).jurisdiction
    if region is None:
        raise Http404
    return region
