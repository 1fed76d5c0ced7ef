"""Reads of requests, shared by the pages and the API, so both mean the same thing."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext as _

from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError
from frontline.territory.models import Region

from .models import Request, RequestEvent, Status


def visible_requests(user: Any):
    """Requests inside the user's jurisdiction, and those assigned to the user."""
    inside = Request.objects.visible_to(user)
    if getattr(user, "pk", None) is None:
        return inside
    return inside | Request.objects.filter(assignee_id=user.pk)


def requests_for(
    user: Any, *, region: Region | None = None, status: str = "", overdue: bool = False
):
    requests = visible_requests(user)
    if region is not None:
        requests = requests.within(region)
    if status:
        if status == "open":
            requests = requests.open()
        elif status not in Status.values:
            raise DomainError(
                _("The status is one of: %(choices)s.")
                % {"choices": ", ".join(["open", *Status.values])}
            )
        else:
            requests = requests.filter(status=status)
    if overdue:
        requests = requests.overdue()
    return requests.select_related("household__building", "assignee", "duplicate_of").order_by(
        "-created_at", "-id"
    )


def _history() -> Prefetch:
    return Prefetch("events", queryset=RequestEvent.objects.order_by("at", "id"))


def with_history(request: Request) -> Request:
    """`request` with its history read (one query), for an answer built from a request
    already in hand: the one a service just created or moved."""
    prefetch_related_objects([request], _history())
    return request


def request_for(
    user: Any, pk: Any, *, channel: str = "page", ip: str | None = None, audit: bool = True
) -> Request:
    """One request with its history, 404 outside; the read is audited (it names a household
    and what it needs)."""
    try:
        request = (
            visible_requests(user)
            .select_related("household__building", "resident", "assignee", "duplicate_of")
            .prefetch_related(_history())
            .get(pk=pk)
        )
    except (Request.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not audit:  # the caller's own write was audited already (the answer to a creation)
        return request
    audit_record(
        actor=user,
        action=AuditAction.VIEW_REQUEST,
        object_type="request",
        object_id=request.pk,
        region=request.household.building,
        detail={"number": request.number, "channel": channel},
        ip=ip,
    )
    return request
