"""Pages of risk zones and the health hub.

Thin, like every view: parse, authorise through the policy, call one service, render.
A refusal of the domain (PermissionDenied, NotFound) is answered 403/404 by the project's
middleware; a rule's refusal (DomainError, Conflict) is shown on the page.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id, requested_region
from frontline.core.errors import DomainError

from . import zones
from .models import RiskZone, ZoneLevel

HISTORY_LIMIT = 200


def _require_view(request) -> None:
    if not policy_for(request.user).can(Action.VIEW):
        raise DjangoPermissionDenied(_("Your role may not view residents' records."))


def _local_moment(raw: str) -> dt.datetime | None:
    """A `datetime-local` or `date` input, read in the deployment's time zone."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _as_of(raw: str) -> tuple[dt.date, dt.datetime]:
    """The "as of" date picker: that day's end (what held that day, as of its evening),
    or now for today and when none is given."""
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    if day >= today:
        return today, timezone.now()
    end = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
    return day, end


def _name(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.username


@login_required
def health_index(request):
    _require_view(request)
    return render(request, "health/index.html", {"region": policy_for(request.user).jurisdiction})


@login_required
def zone_page(request):
    """A region's zones: what it is now, what was in force on a date, the set form, the
    lift forms, and the full history of zones in and above it."""
    _require_view(request)
    region = requested_region(request)
    policy = policy_for(request.user)
    if request.method == "POST":
        policy.require(Action.MANAGE_ZONES, region)
        since = _local_moment(request.POST.get("since", ""))
        try:
            if since is None:
                raise DomainError(_("“since”: give the date and time the zone starts."))
            zones.zone_set(
                region=region,
                level=request.POST.get("level", ""),
                since=since,
                reason=request.POST.get("reason", ""),
                actor=request.user,
                ip=client_ip(request),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Zone set."))
            return redirect(f"{reverse('health_zones')}?region={region.pk}")
    day, moment = _as_of(request.GET.get("on", ""))
    history = list(zones.zone_history(region)[:HISTORY_LIMIT])
    may_manage = policy.can(Action.MANAGE_ZONES, region)
    return render(
        request,
        "health/zones.html",
        {
            "region": region,
            "current": zones.zone_in_force(region),
            "on": day,
            "today": timezone.localdate(),
            "in_force": list(zones.zones_in_force(region, moment)),
            "history": [
                {
                    "zone": zone,
                    "liftable": may_manage and zone.lifted_at is None and policy.contains(zone),
                    "set_by": _name(zone.set_by),
                    "lifted_by": _name(zone.lifted_by),
                }
                for zone in history
            ],
            "history_limited": len(history) == HISTORY_LIMIT,
            "levels": ZoneLevel.choices,
            "may_manage": may_manage,
            "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )


@login_required
@require_POST
def zone_lift_page(request, pk: int):
    policy_for(request.user).require(Action.MANAGE_ZONES)
    zone = access_by_id(RiskZone.objects.select_related("region"), request.user, pk)
    at = _local_moment(request.POST.get("at", ""))
    try:
        if at is None:
            raise DomainError(_("“at”: give the date and time the zone is lifted."))
        zones.zone_lift(
            zone=zone,
            at=at,
            reason=request.POST.get("reason", ""),
            actor=request.user,
            ip=client_ip(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Zone lifted."))
    back = request.POST.get("back", "")
    region_id = back if back.isdigit() else zone.region_id
    return redirect(f"{reverse('health_zones')}?region={region_id}")
