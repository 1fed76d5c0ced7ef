"""Care pages: the day's schedule of a region (dialysis trips, elderly visits, prenatal
check-ups) with done / due / missed and a one-tap "done"; medical staff per compound."""

from __future__ import annotations

import contextlib
import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError, NotFound
from frontline.core.ratelimit import RateLimited
from frontline.people.forms import ResidentSearchForm
from frontline.people.models import Resident
from frontline.people.queries import resident_search_for
from frontline.territory.models import Region

from . import care
from .models import CareService, MedicalAssignment
from .views_isolation import _date, _int, _keeper, _status_of

SEARCH_LIMIT = 20
SERVICES_LIMIT = 200


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
            "may_manage": policy.can(Action.MANAGE_ISOLATION, region),
            "running": list(care.services_running(user, region, day)[:SERVICES_LIMIT]),
            "search": ResidentSearchForm(),
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


# --- setting up and ending services -----------------------------------------------------


def _date_field(label, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        # ISO whatever the language: a date input shows nothing for "2026/11/30".
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Write a date as YYYY-MM-DD.")},
    )


class CareServiceForm(forms.Form):
    """The shape of a service; the service function decides the rest."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CareService.Kind.choices)
    weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Weekdays"),
        choices=[(str(day), WEEKDAYS[day - 1]) for day in range(1, 8)],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one weekday.")},
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("Give the time as HH:MM, e.g. 07:30.")},
    )
    # The accounts who may keep it (care.keeper_candidates), shown by name; the value
    # posted is the username, as the API takes.
    keeper = forms.ChoiceField(label=gettext_lazy("Responsible person"), required=False)
    destination = forms.CharField(
        label=gettext_lazy("Destination"), max_length=care.TEXT_MAX, required=False
    )
    vehicle = forms.CharField(label=gettext_lazy("Vehicle"), max_length=32, required=False)
    escort = forms.CharField(label=gettext_lazy("Escort"), max_length=32, required=False)
    start = _date_field(gettext_lazy("Start date"))
    end = _date_field(gettext_lazy("End date"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=care.NOTE_MAX, required=False)

    def __init__(self, *args, keepers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keeper"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (u.username, care.keeper_label(u)) for u in keepers
        ]


@login_required
def care_service_new(request):
    """Set up a care service for a resident of the jurisdiction: first find them (POST
    `q`: a name or the last four digits of a phone, as the people search, audited), then
    `?resident=` shows the form; POST with `resident` creates the service."""
    user = request.user
    policy = policy_for(user)
    if not policy.can(Action.MANAGE_ISOLATION):
        raise PermissionDenied
    post = request.POST if request.method == "POST" else None
    resident_id = (post or request.GET).get("resident")
    if not resident_id:
        return _resident_search(request)
    resident = access_by_id(
        Resident.objects.select_related("household__building"), user, resident_id
    )
    if not policy.can(Action.MANAGE_ISOLATION, resident):
        raise PermissionDenied
    back = _int((post or request.GET).get("region"))
    form = CareServiceForm(
        post,
        initial={"start": timezone.localdate()},
        keepers=care.keeper_candidates(resident),
    )
    status = 200
    if post is not None:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                keeper = None
                if data["keeper"]:
                    keeper = _keeper(data["keeper"])
                    if keeper is None:
                        raise DomainError(_("No active account has this username."))
                service = care.service_create(
                    resident=resident,
                    kind=data["kind"],
                    weekdays=data["weekdays"],
                    time=data["time"],
                    destination=data["destination"],
                    vehicle=data["vehicle"],
                    escort=data["escort"],
                    keeper=keeper,
                    start=data["start"],
                    end=data["end"],
                    note=data["note"],
                    actor=user,
                    ip=client_ip(request),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = _status_of(exc)
            else:
                messages.success(
                    request,
                    _("Care service set up for %(name)s.") % {"name": resident.name},
                )
                # Back to the schedule the user came from (its page checks the region).
                building = service.resident.household.building
                region = back or (building.compound_id if building is not None else None)
                return redirect(reverse("care_schedule") + (f"?region={region}" if region else ""))
    return render(
        request,
        "health/care_service_new.html",
        {"resident": resident, "form": form, "back": back},
        status=status,
    )


def _resident_search(request):
    form = ResidentSearchForm(request.POST if request.method == "POST" else None)
    results, refusal, status = None, "", 200
    if form.is_bound:
        if not form.is_valid():
            refusal, status = " ".join(form.errors.get("q", [])), 400
        elif (text := form.cleaned_data["q"].strip()).isdigit() and len(text) < 4:
            # A phone is found by its last four digits: fewer match nobody, say why.
            refusal, status = _("Type the last 4 digits of a phone, or a name."), 400
        elif text:
            try:
                results = list(
                    resident_search_for(request.user, text, channel="care", ip=client_ip(request))
                    .select_related("household__building")
                    .order_by("name", "pk")[:SEARCH_LIMIT]
                )
            except RateLimited as exc:
                refusal, status = exc.message, 429
            except DomainError as exc:
                refusal, status = exc.message, 400
    return render(
        request,
        "health/care_service_new.html",
        {
            "search": form,
            "results": results,
            "refusal": refusal,
            "limit": SEARCH_LIMIT,
            "back": _int(request.POST.get("region") or request.GET.get("region")),
        },
        status=status,
    )


@login_required
@require_POST
def care_service_end(request, pk: int):
    """End a service (`end`: its last day, default today; `reason`)."""
    user = request.user
    service = access_by_id(care.services_for(user), user, pk)
    if not policy_for(user).can(Action.MANAGE_ISOLATION, service):
        raise PermissionDenied
    text = request.POST.get("end", "").strip()
    end = _date(text) if text else timezone.localdate()
    try:
        if end is None:
            raise DomainError(_("Write a date as YYYY-MM-DD."))
        care.service_end(
            service=service,
            end=end,
            reason=request.POST.get("reason", ""),
            actor=user,
            ip=client_ip(request),
        )
    except DomainError as exc:
        return care_schedule(request, error=exc.message, status=_status_of(exc))
    messages.success(
        request,
        _("%(name)s: the service ends on %(day)s.")
        % {"name": service.resident.name, "day": end.isoformat()},
    )
    return redirect(reverse("care_schedule") + f"?region={service.compound_id}")
