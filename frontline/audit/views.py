"""The audit trail page: read-only, for the roles the policy lets read it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from frontline.accounts.policy import policy_for

from .forms import AuditFilterForm
from .queries import filter_events, readable_events

PAGE_SIZE = 50


@login_required
def audit_list(request):
    # Not audited itself: see frontline/audit/queries.py.
    if not policy_for(request.user).may_read_audit:
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    events = readable_events(request.user)
    if form.is_valid():
        data = form.cleaned_data
        since = data["since"].isoformat() if data["since"] else ""
        events = filter_events(events, actor=data["actor"], action=data["action"], since=since)
    else:
        # Filters that do not parse show their error on the form and narrow nothing.
        events = filter_events(events)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.detail_items = [(key, _shown(value)) for key, value in (event.detail or {}).items()]
    return render(request, "audit/audit_list.html", {"form": form, "page": page})


def _shown(value) -> str:
    """A detail value for people: a change {"from": old, "to": new} reads "old → new"."""
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:
            return f"{_shown(value['from']) or '—'} → {_shown(value['to']) or '—'}"
        return "; ".join(f"{key}: {_shown(v)}" for key, v in value.items())
    if isinstance(value, list | tuple):
        return "、".join(_shown(v) for v in value)
    if value is None:
        return ""
    return str(value)
