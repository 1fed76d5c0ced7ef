"""A fixed-window rate limit per account, for the reads that could be turned into an
oracle by repetition (resident search: 8,259 searches a minute recovered a hidden phone).

The counter lives in Django's cache. The default LocMemCache is per process, which is
exact for `frontline serve` (one process, many threads); a deployment with several
processes configures a shared cache (CACHES) so that the limit holds across them.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils.translation import gettext as _

from .errors import DomainError


class RateLimited(DomainError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after


def count_one(name: str, *, timeout: int) -> int:
    """Add one to the counter `name` (created at 1, living `timeout` seconds); its count."""
    # add() is atomic in every cache backend: the first use creates the counter, incr()
    # then counts without a read-modify-write race between threads.
    if cache.add(name, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(name)
    except ValueError:  # expired between add() and incr()
        cache.add(name, 1, timeout=timeout)
        return 1


def rate_limit(*, scope: str, key: object, limit: int, window: int = 60) -> None:
    """Count one use of `scope` by `key`; raise RateLimited past `limit` per `window` s."""
    if limit <= 0:
        return
    now = int(time.time())
    bucket = now // window
    count = count_one(f"ratelimit:{scope}:{key}:{bucket}", timeout=window + 1)
    if count > limit:
        retry_after = window - now % window
        raise RateLimited(
            _("Too many searches: at most %(limit)d a minute. Try again in %(seconds)d seconds.")
            % {"limit": limit, "seconds": retry_after},
            retry_after=retry_after,
        )
