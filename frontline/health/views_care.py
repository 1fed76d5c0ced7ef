"""Care pages: the day's schedule of a region (dialysis trips, elderly visits, prenatal
check-ups) with done / due / missed and a one-tap "done"; medical staff per compound."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError, NotFound
from frontline.territory.models import Region

from . import care
from .models import MedicalAssignment
from .views_isolation import _date, _int, _status_of


def _region(request):
    policy = policy_for(request.user)
    if (region_id := _int(request.GET.get("region"))) is not None:
        return access_by_id(Region.objects.all(), request.user, region_id)
    if not policy.can(Action.VIEW):
        raise PermissionDenied
    return policy.jurisdiction


@login_required
def care_schedule(request, error: str = "", status: int = 200):
    """`?region=&day=`: the day's occurrences in time order; the keeper (or a manager)
    records one done in one tap."""
    user = request.user
    policy = policy_for(user)
    region = _region(request)
    if not policy.can(Action.VIEW, region):
        raise PermissionDenied
    day = _date(request.GET.get("day")) or timezone.localdate()
    mine = request.GET.get("mine") == "1"
    services = care.services_for(user, region)
    if mine:
        services = services.filter(keeper_id=user.pk)
    rows = care.schedule(services, day, timezone.now())
    for row in rows:
        row["may_record"] = row["state"] != "done" and policy.can_record_health_visit(
            row["service"]
        )
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in ("done", "due")}
    counts["missed"] = sum(1 for r in rows if r["state"] == "missed")
    return render(
        request,
        "health/care_schedule.html",
        {
            "region": region,
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "rows": rows,
            "counts": counts,
            "mine": mine,
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def care_record(request, pk: int):
    user = request.user
    service = access_by_id(care.services_for(user), user, pk)
    due = None
    with contextlib.suppress(ValueError):
        due = dt.datetime.fromisoformat(request.POST.get("due", ""))
    try:
        if due is None:
            raise DomainError(_("Give the time it was due, with its time zone."))
        care.care_record(
            service=service,
            due=due,
            note=request.POST.get("note", ""),
            actor=user,
            ip=client_ip(request),
        )
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return care_schedule(request, error=exc.message, status=_status_of(exc))
    messages.success(request, _("%(name)s: recorded as done.") % {"name": service.resident.name})
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("care_schedule")


@login_required
def medical_staff(request):
    """Medical staff assigned per compound of a region; managers add and end assignments."""
    user = request.user
    policy = policy_for(user)
    region = _region(request)
    if not policy.can(Action.VIEW, region):
        raise PermissionDenied
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        try:
            if end_id := _int(post.get("end")):
                assignment = access_by_id(MedicalAssignment.objects.all(), user, end_id)
                care.assignment_end(
                    assignment=assignment,
                    end=timezone.localdate(),
                    actor=user,
                    ip=client_ip(request),
                )
            else:
                place = access_by_id(Region.objects.all(), user, post.get("place"))
                care.assignment_create(
                    region=place,
                    name=post.get("name", ""),
                    organisation=post.get("organisation", ""),
                    phone=post.get("phone", ""),
                    start=_date(post.get("start")) or timezone.localdate(),
                    actor=user,
                    ip=client_ip(request),
                )
        except DomainError as exc:
            error, status = exc.message, _status_of(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}?region={region.pk}")
    today = timezone.localdate()
    assignments = list(
        care.assignments_for(user, region, on=today).order_by("region__path", "name")
    )
    compounds = list(
        Region.objects.within(region)
        .filter(level=4)
        .order_by("path")
        .only("id", "path", "name")[:500]
    )
    return render(
        request,
        "health/care_medical.html",
        {
            "region": region,
            "assignments": assignments,
            "compounds": compounds,
            "may_manage": policy.can(Action.MANAGE_ISOLATION, region),
            "error": error,
            "today": today,
        },
        status=status,
    )
