"""Reading the audit trail: one filter shared by the page, the API and the CLI.

Reading the trail is not itself audited. Its readers are the city's administrators and
the deployment's operator, who are accountable for it; it names accounts, actions and
record ids, never a resident's identifiers (searches are stored masked); and an entry per
look would grow the trail with every page and filter of its own review, burying the
events it exists to show. The view of each household and resident it points at is
audited where that record is served.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from frontline.core.errors import DomainError

from .models import AuditAction, AuditEvent, AuditQuerySet

# The keys of one event as the API and `frontline audit --json` give it.
EVENT_KEYS = ("at", "actor", "action", "object_type", "object_id", "region", "detail", "ip")
_LOST_PLUS = re.compile(r"^(.*\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


def parse_since(text: str) -> dt.datetime | None:
    """A date (`2026-11-29`, from its first moment in the server's time zone) or an ISO
    date-time (`2026-11-29T08:00:00+08:00`; without an offset, the server's time zone)."""
    text = (text or "").strip()
    if not text:
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    text = _LOST_PLUS.sub(r"\1+\2", text)
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        moment = None
    if moment is None:
        raise DomainError(
            _(
                "“%(value)s” is not a date or a date and time; write it as 2026-11-29 or "
                "2026-11-29T08:00:00+08:00."
            )
            % {"value": text}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_action(text: str) -> str:
    text = (text or "").strip()
    if text and text not in AuditAction.values:
        raise DomainError(
            _("Unknown action “%(action)s”; one of: %(actions)s")
            % {"action": text, "actions": ", ".join(AuditAction.values)}
        )
    return text


def filter_events(
    events: AuditQuerySet, *, actor: str = "", action: str = "", since: str = ""
) -> AuditQuerySet:
    """`events` (already confined with `visible_to`) narrowed by the three filters, newest
    first. Raises DomainError with a readable message for a bad action or date."""
    action = parse_action(action)
    moment = parse_since(since)
    actor = (actor or "").strip()
    if actor:
        events = events.filter(actor_name=actor)
    if action:
        events = events.filter(action=action)
    if moment is not None:
        events = events.filter(at__gte=moment)
    return events.order_by("-at", "-id")


def event_as_dict(event: AuditEvent) -> dict[str, Any]:
    """One event as plain JSON values: the API's and the CLI's shape."""
    return {
        "at": timezone.localtime(event.at).isoformat(),
        "actor": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "region": event.region,
        "detail": event.detail,
        # The address the request came from, as the page shows it (None: a command).
        "ip": event.ip,
    }


def readable_events(user: Any) -> AuditQuerySet:
    """The one starting point for every reader: the events `user` may read."""
    return AuditEvent.objects.visible_to(user)
