"""The health part of the worker's periodic sweep: missed isolation visits and missed care
services (h-isolation). One call from `frontline.requests.tasks.sweep`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def health_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    from .care import care_sweep
    from .isolation import isolation_sweep

    now = now or timezone.now()
    return {**isolation_sweep(now), **care_sweep(now)}
