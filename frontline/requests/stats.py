"""Request figures for a region: the same numbers for `frontline stats` and the API."""

from __future__ import annotations

import datetime as dt
import statistics

from django.db.models import Avg, Count
from django.utils import timezone

from frontline.territory.models import Region

from .models import OPEN_STATUSES, Request, Status

# The median is over the requests closed in this window: bounded work on any history.
MEDIAN_WINDOW = dt.timedelta(days=30)


def request_stats(region: Region, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    requests = Request.objects.within(region)
    by_status = dict(requests.values_list("status").annotate(n=Count("id")).order_by())
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    closed = requests.filter(status=Status.CLOSED)
    spans = [
        (closed_at - created_at).total_seconds() / 60
        for created_at, closed_at in closed.filter(closed_at__gte=now - MEDIAN_WINDOW)
        .values_list("created_at", "closed_at")
        .order_by()
    ]
    mean = closed.aggregate(mean=Avg("satisfaction"))["mean"]
    return {
        "open": {code: by_status.get(code, 0) for code in OPEN_STATUSES},
        "overdue": Request.objects.overdue(now).within(region).count(),
        "closed_today": closed.filter(closed_at__gte=today).count(),
        "median_minutes_to_close": round(statistics.median(spans), 1) if spans else None,
        "mean_satisfaction": round(float(mean), 2) if mean is not None else None,
    }
