"""督办: the sweep that opens, escalates and closes supervisions of overdue requests.

Run by the background worker every minute (`frontline worker`), or once by
`frontline worker --once`. Safe to run twice at the same moment: one open supervision per
request is a database constraint, and an escalation is a conditional UPDATE on the level
it read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from frontline.territory.models import Grid, GridMember

from .models import Request, Status, Supervision
from .notify import notify


def grid_of(request: Request) -> Grid | None:
    """The lowest grid over the request's place: the grid point covering its building or
    compound, else the grid anchored at the nearest region above."""
    covering = (
        Grid.objects.filter(
            Q(coverage__id=request.building_id) | Q(coverage__id=request.compound_id)
        )
        .order_by("-level", "id")
        .first()
    )
    if covering is not None:
        return covering
    places = [
        getattr(request, f"{f}_id")
        for f in ("compound", "community", "township", "district")
        if getattr(request, f"{f}_id")
    ]
    return Grid.objects.filter(region_id__in=places).order_by("-level", "id").first()


def chiefs_of(grid: Grid | None) -> list[Any]:
    if grid is None:
        return []
    members = GridMember.objects.filter(
        grid=grid, role=GridMember.Role.CHIEF, user__isnull=False, user__is_active=True
    ).select_related("user")
    return [m.user for m in members]


def _notify(sup: Supervision, request: Request, *, escalated: bool) -> int:
    # Notices are stored text: written in the deployment's language, Chinese.
    with translation.override(settings.LANGUAGE_CODE):
        reason = Supervision.Reason(sup.reason).label
        if escalated:
            subject = _("Escalated: request %(number)s is still overdue (%(reason)s)")
        else:
            subject = _("Overdue: request %(number)s (%(reason)s)")
        subject = subject % {"number": request.number, "reason": reason}
        body = _("%(address)s · %(category)s · %(status)s") % {
            "address": request.household.address,
            "category": request.get_category_display(),
            "status": request.get_status_display(),
        }
    return notify(
        recipients=chiefs_of(sup.grid),
        subject=subject,
        body=body,
        url=reverse("request_detail", args=[request.pk]),
    )


def supervision_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """One pass: close what is no longer overdue, open what newly is, escalate what stays."""
    now = now or timezone.now()
    counts = {"opened": 0, "escalated": 0, "closed": 0, "notified": 0}
    still_overdue = set(Request.objects.overdue(now).values_list("pk", flat=True))

    counts["closed"] = (
        Supervision.objects.filter(closed_at__isnull=True)
        .exclude(request_id__in=still_overdue)
        .update(closed_at=now)
    )

    held = set(
        Supervision.objects.filter(closed_at__isnull=True).values_list("request_id", flat=True)
    )
    fresh = (
        Request.objects.filter(pk__in=still_overdue - held)
        .select_related("household__building")
        .order_by("id")
    )
    for request in fresh:
        grid = grid_of(request)
        late_dispatch = request.status == Status.RECEIVED and request.dispatch_due < now
        sup = Supervision(
            request=request,
            reason=Supervision.Reason.DISPATCH if late_dispatch else Supervision.Reason.CLOSE,
            grid=grid,
            opened_at=now,
            # The escalation clock runs from the moment the request became overdue, not
            # from this sweep: one overdue for a day (the worker was down) goes up at once.
            escalated_at=request.dispatch_due if late_dispatch else request.close_due,
        )
        sup.locate(request.household.building)  # type: ignore[arg-type]
        try:
            with transaction.atomic():
                sup.save()
        except IntegrityError:
            continue  # another sweep opened it a moment ago
        counts["opened"] += 1
        counts["notified"] += _notify(sup, request, escalated=False)

    cutoff = now - dt.timedelta(minutes=settings.FRONTLINE_ESCALATE_MINUTES)
    due = Supervision.objects.filter(
        closed_at__isnull=True, escalated_at__lte=cutoff, grid__parent__isnull=False
    ).select_related("grid", "request__household__building")
    for sup in due:
        assert sup.grid is not None
        parent_id = sup.grid.parent_id
        won = Supervision.objects.filter(pk=sup.pk, level=sup.level, closed_at__isnull=True).update(
            grid_id=parent_id, level=sup.level + 1, escalated_at=now
        )
        if won != 1:
            continue
        sup.grid = Grid.objects.get(pk=parent_id)  # type: ignore[misc]
        sup.level += 1
        counts["escalated"] += 1
        counts["notified"] += _notify(sup, sup.request, escalated=True)
    return counts
