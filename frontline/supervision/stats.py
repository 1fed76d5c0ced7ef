"""The `supervision` figures of a region: the same numbers for `frontline stats` and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.territory.models import Region

from .models import Inspection, Problem, ProblemQuerySet, Status


def supervision_stats(region: Region, now: dt.datetime | None = None) -> dict[str, Any]:
    """Inspections of places in `region`, their problems by status, how many are overdue,
    and the share of verified problems whose (last) rectification report came by the date."""
    now = now or timezone.now()
    problems = cast(ProblemQuerySet, Problem.objects.within(region))
    by_status = dict(problems.values_list("status").annotate(n=Count("id")).order_by())
    verified = problems.filter(status=Status.VERIFIED).aggregate(
        n=Count("id"), on_time=Count("id", filter=Q(reported_at__lte=F("rectify_by")))
    )
    return {
        "inspections": Inspection.objects.within(region).count(),
        # A withdrawn problem (撤销通报) was notified by mistake: not a problem.
        "problems": sum(n for code, n in by_status.items() if code != Status.WITHDRAWN),
        "by_status": {code: by_status.get(code, 0) for code in Status.values},
        "overdue": problems.overdue(now).count(),
        "rectified_on_time_rate": (
            round(verified["on_time"] / verified["n"], 3) if verified["n"] else None
        ),
    }


def supervision_labels(figures: dict) -> list[tuple[str, Any]]:
    """The figures as (label, number) lines for `frontline stats`."""
    statuses = dict(Status.choices)
    rate = figures["rectified_on_time_rate"]
    return [
        (_("Inspections"), figures["inspections"]),
        (_("Inspection problems"), figures["problems"]),
        *[
            (_("Inspection problems: %(status)s") % {"status": statuses[code]}, n)
            for code, n in figures["by_status"].items()
        ],
        (_("Inspection problems overdue"), figures["overdue"]),
        (_("Rectified on time (%)"), None if rate is None else round(rate * 100, 1)),
    ]
