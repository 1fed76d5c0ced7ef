"""Locking an address that guesses passwords across many accounts.

django-axes locks an account after FRONTLINE_LOCKOUT_ATTEMPTS failed sign-ins. An address
is locked here, after FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS failures across accounts within
the cool-off: high enough that one person's typos in a shared office (or behind a mobile
carrier's shared address) lock only that person's account, low enough to stop password
spraying from one machine. The count lives in the cache, like the search rate limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from frontline.core.ratelimit import count_one


def _key(ip: str) -> str:
    return f"signin-failures:{ip}"


def address_failure(ip: str | None) -> int:
    """Count one failed sign-in from `ip`; the count within the cool-off."""
    if not ip:
        return 0
    return count_one(_key(ip), timeout=int(settings.AXES_COOLOFF_TIME.total_seconds()))


def address_locked(ip: str | None) -> bool:
    limit = settings.FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS
    if not ip or limit <= 0:
        return False
    return (cache.get(_key(ip)) or 0) >= limit
