"""The household's own page: a signed, revocable link (and its QR code), without login.

The link carries the household's id and the link's version, signed with the project's
secret (django.core.signing): a forged or altered link fails the signature; revoking bumps
the version, so every copy printed before stops working. What the page may do is exactly
what the household may: register a request for itself, follow its own requests, confirm
one closed with a rating. Every use is rate-limited per address and per household.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError, PermissionDenied
from frontline.core.ratelimit import RateLimited, rate_limit
from frontline.people.models import Household

from . import services
from .models import Channel, Request, ResidentLink, Urgency

SALT = "frontline.requests.resident-link"
# Page views and posts per client address a minute; registrations per household an hour.
PER_ADDRESS_PER_MINUTE = 30
REQUESTS_PER_HOUSEHOLD_PER_HOUR = 10
RESIDENT = "居民"  # the history's "by" for a step the household took itself


def link_token(link: ResidentLink) -> str:
    return signing.dumps({"h": link.household_id, "v": link.version}, salt=SALT, compress=True)


def refused() -> PermissionDenied:
    return PermissionDenied(
        _("This household link is not valid: it was revoked or altered. Ask your grid worker.")
    )


def household_for_token(token: str) -> Household:
    """The household a link opens; PermissionDenied for a forged, altered or revoked one."""
    try:
        data = signing.loads(token, salt=SALT)
        household_id, version = int(data["h"]), int(data["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise refused() from None
    link = (
        ResidentLink.objects.select_related("household__building")
        .filter(household_id=household_id, version=version, active=True)
        .first()
    )
    if link is None:
        raise refused()
    return link.household


def throttle(ip: str | None) -> None:
    try:
        rate_limit(scope="resident-page", key=ip or "-", limit=PER_ADDRESS_PER_MINUTE)
    except RateLimited as exc:
        raise RateLimited(
            _("Too many requests from this address. Try again in %(seconds)d seconds.")
            % {"seconds": exc.retry_after},
            retry_after=exc.retry_after,
        ) from None


def link_issue(*, actor: Any, household: Household, ip: str | None = None) -> ResidentLink:
    """The household's link, made or re-activated (after a revocation, with a new version)."""
    policy_for(actor).require(Action.CREATE_REQUEST, household)
    with transaction.atomic():
        link, created = ResidentLink.objects.get_or_create(household=household)
        if not created and not link.active:
            link.version += 1
            link.active = True
            link.changed_at = timezone.now()
            link.save(update_fields=["version", "active", "changed_at"])
    return link


def link_revoke(*, actor: Any, household: Household, ip: str | None = None) -> None:
    policy_for(actor).require(Action.CREATE_REQUEST, household)
    ResidentLink.objects.filter(household=household, active=True).update(
        active=False, changed_at=timezone.now()
    )


def resident_request_create(
    *,
    household: Household,
    category: str,
    description: str,
    urgency: str,
    ip: str | None,
    photos: Any = (),
) -> Request:
    """A request the household registers through its own link (channel: resident)."""
    try:
        rate_limit(
            scope="resident-create",
            key=household.pk,
            limit=REQUESTS_PER_HOUSEHOLD_PER_HOUR,
            window=3600,
        )
    except RateLimited as exc:
        raise RateLimited(
            _("This household has sent many requests this hour; your grid worker will call."),
            retry_after=exc.retry_after,
        ) from None
    return services.register(
        actor=None,
        household=household,
        category=category,
        description=description,
        urgency=urgency if urgency in Urgency.values else Urgency.NORMAL,
        channel=Channel.RESIDENT,
        ip=ip,
        photos=photos,
        actor_name=_("The household"),
    )


def resident_confirm(
    *, household: Household, request_id: Any, satisfaction: Any, note: str, ip: str | None
) -> Request:
    """消单 by the household itself: only its own request, only once it is reported done."""
    request = (
        Request.objects.select_related("household__building")
        .filter(pk=request_id, household=household)
        .first()
    )
    if request is None:
        raise DomainError(_("No such request for this household."))
    return services.close(
        request=request,
        actor=None,
        satisfaction=satisfaction,
        note=note,
        actor_name=RESIDENT,
        ip=ip,
    )
