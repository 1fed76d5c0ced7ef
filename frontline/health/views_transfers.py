"""Pages for isolation points, transfer teams and transfers.

Thin, like every view: parse, authorise through the policy, call one function of
`transfers`, render. Domain refusals (PermissionDenied, NotFound) become 403 and 404 in the
middleware; a Conflict (point full, already there) is shown on the form it came from.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.people.models import Resident
from frontline.territory.models import Region

from . import transfers
from .models import DisinfectionLog, Stay


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _region(request) -> Region | None:
    """`?region=` inside the jurisdiction (404 outside), else None (everything reached)."""
    region_id = _int(request.GET.get("region") or request.POST.get("region"))
    if region_id is None:
        if policy_for(request.user).jurisdiction is None:
            raise Http404
        return None
    return access_by_id(Region.objects.all(), request.user, region_id)


def _local_time(value: str) -> dt.datetime | None:
    """A `datetime-local` input (2026-04-06T10:30) in the deployment's time zone."""
    try:
        parsed = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _day(request) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


# --- points --------------------------------------------------------------------------------


@login_required
def point_list(request):
    """The isolation points reached from here: capacity, occupancy, free places, and
    whether each was disinfected today (red when not)."""
    region = _region(request)
    policy = policy_for(request.user)
    home = region or policy.jurisdiction
    if request.method == "POST":
        policy.require(Action.MANAGE_TRANSFERS, home)
        try:
            point = transfers.point_create(
                name=request.POST.get("name", ""),
                region=home,  # type: ignore[arg-type]
                capacity=request.POST.get("capacity"),
                address=request.POST.get("address", ""),
                contact=request.POST.get("contact", ""),
                phone=request.POST.get("phone", ""),
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Isolation point created."))
            return redirect(reverse("point_detail", args=[point.pk]))
    points = list(transfers.points_for(request.user, region))
    for p in points:
        p.free = max(p.capacity - p.occupancy, 0)
    return render(
        request,
        "health/point_list.html",
        {
            "region": home,
            "points": points,
            "capacity": sum(p.capacity for p in points if p.active),
            "occupancy": sum(p.occupancy for p in points),
            "may_add": policy.can(Action.MANAGE_TRANSFERS, home) and home.level <= 3,  # type: ignore[union-attr]
        },
    )


@login_required
def point_detail(request, pk: int):
    """One point: the people there now (of the viewer's jurisdiction, masked), its stays,
    its disinfection log and form, its staff."""
    point = transfers.point_for(request.user, pk)
    policy = policy_for(request.user)
    stays = transfers.stays_for(request.user).filter(point=point)
    here = list(
        stays.filter(end__isnull=True)
        .select_related("resident__household__building", "team")
        .order_by("start", "id")
    )
    history = list(
        stays.filter(end__isnull=False)
        .select_related("resident__household__building")
        .order_by("-end", "-id")[:50]
    )
    return render(
        request,
        "health/point_detail.html",
        {
            "point": point,
            "free": max(point.capacity - point.occupancy, 0),
            "here": here,
            "history": history,
            "logs": list(DisinfectionLog.objects.filter(point=point).select_related("by")[:14]),
            "staff": list(point.staff.order_by("username")),
            "may_manage": policy.can(Action.MANAGE_TRANSFERS, point.region),
            "may_disinfect": policy.can_record_disinfection(point),
            "may_end": policy.may_manage_transfers,
            "outcomes": Stay.Outcome.choices,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )


@login_required
@require_POST
def point_edit(request, pk: int):
    """Capacity, or in use / out of use."""
    point = transfers.point_for(request.user, pk)
    try:
        if "capacity" in request.POST:
            transfers.point_set_capacity(
                point=point, capacity=request.POST.get("capacity"), actor=request.user
            )
        else:
            transfers.point_set_active(
                point=point, active=request.POST.get("active") == "1", actor=request.user
            )
    except DomainError as exc:
        if exc.code in ("permission_denied", "not_found"):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse("point_detail", args=[point.pk]))


@login_required
@require_POST
def point_staff(request, pk: int):
    """Add or remove an account from the point's staff."""
    point = transfers.point_for(request.user, pk)
    policy_for(request.user).require(Action.MANAGE_TRANSFERS, point.region)
    username = request.POST.get("username", "").strip()
    user = User.objects.filter(username=username).select_related("region").first()
    try:
        if user is None:
            raise DomainError(_("No such account."))
        if request.POST.get("op") == "remove":
            transfers.point_staff_remove(point=point, user=user, actor=request.user)
        else:
            transfers.point_staff_add(point=point, user=user, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse("point_detail", args=[point.pk]))


@login_required
@require_POST
def point_disinfect(request, pk: int):
    point = transfers.point_for(request.user, pk)
    try:
        transfers.disinfection_record(
            point=point,
            areas=request.POST.get("areas", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        )
    except DomainError as exc:
        if exc.code in ("permission_denied", "not_found"):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Disinfection recorded."))
    return redirect(reverse("point_detail", args=[point.pk]))


# --- transfers -----------------------------------------------------------------------------


@login_required
def transfer_create(request, pk: int):
    """Transfer a resident to an isolation point: pick a point (free places shown), a
    team and the time."""
    resident = access_by_id(
        Resident.objects.select_related("household__building"), request.user, pk
    )
    policy_for(request.user).require(Action.MANAGE_TRANSFERS, resident)
    if request.method == "POST":
        at = _local_time(request.POST.get("at", ""))
        try:
            if at is None:
                raise DomainError(_("Give the date and time of the transfer."))
            point = transfers.point_for(request.user, request.POST.get("point"))
            team_id = _int(request.POST.get("team"))
            team = transfers.team_for(request.user, team_id) if team_id else None
            transfers.transfer_create(
                resident=resident,
                point=point,
                at=at,
                team=team,
                reason=request.POST.get("reason", ""),
                actor=request.user,
            )
        except DomainError as exc:
            if exc.code in ("permission_denied", "not_found"):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(name)s was transferred to %(point)s.")
                % {"name": resident.name, "point": point.name},
            )
            return redirect(reverse("point_detail", args=[point.pk]))
    points = [p for p in transfers.points_for(request.user) if p.active]
    for p in points:
        p.free = max(p.capacity - p.occupancy, 0)
    current = transfers.open_stays().filter(resident=resident).select_related("point").first()
    return render(
        request,
        "health/transfer_form.html",
        {
            "resident": resident,
            "points": points,
            "teams": list(transfers.teams_for(request.user)),
            "current": current,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "chosen": _int(request.POST.get("point")),
        },
    )


@login_required
@require_POST
def stay_end(request, pk: int):
    stay = transfers.stay_for(request.user, pk)
    at = _local_time(request.POST.get("at", "")) or timezone.now()
    try:
        transfers.stay_end(
            stay=stay,
            at=at,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        )
    except DomainError as exc:
        if exc.code in ("permission_denied", "not_found"):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Stay ended."))
    return redirect(reverse("point_detail", args=[stay.point_id]))


@login_required
def transfer_board(request):
    """The day's transfers (default today) of residents inside, in time order."""
    region = _region(request)
    day = _day(request)
    rows = list(
        transfers.transfers_on(request.user, day, region).select_related(
            "resident__household__building"
        )
    )
    return render(
        request,
        "health/transfer_board.html",
        {
            "region": region or policy_for(request.user).jurisdiction,
            "day": day,
            "rows": rows,
            "sees": policy_for(request.user).sees_transfers,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
        },
    )


# --- teams ---------------------------------------------------------------------------------


@login_required
def team_list(request):
    region = _region(request)
    policy = policy_for(request.user)
    home = region or policy.jurisdiction
    if request.method == "POST":
        policy.require(Action.MANAGE_TRANSFERS, home)
        names = [n for n in request.POST.get("members", "").split() if n]
        accounts = list(User.objects.filter(username__in=names).select_related("region"))
        try:
            if len(accounts) != len(set(names)):
                raise DomainError(_("No such account."))
            team = transfers.team_create(
                name=request.POST.get("name", ""),
                region=home,  # type: ignore[arg-type]
                vehicle=request.POST.get("vehicle", ""),
                leader=request.POST.get("leader", ""),
                phone=request.POST.get("phone", ""),
                members=accounts,
                other_members=request.POST.get("other_members", ""),
                actor=request.user,
            )
        except DomainError as exc:
            if exc.code in ("permission_denied", "not_found"):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Transfer team created."))
            return redirect(reverse("team_detail", args=[team.pk]))
    teams = list(transfers.teams_for(request.user, region))
    return render(
        request,
        "health/transfer_teams.html",
        {
            "region": home,
            "teams": teams,
            "may_add": policy.can(Action.MANAGE_TRANSFERS, home),
        },
    )


@login_required
def team_detail(request, pk: int):
    team = transfers.team_for(request.user, pk)
    stays = (
        transfers.stays_for(request.user)
        .filter(team=team)
        .select_related("resident", "point")
        .order_by("-start", "-id")[:50]
    )
    return render(
        request,
        "health/transfer_team.html",
        {"team": team, "members": list(team.members.order_by("username")), "stays": list(stays)},
    )
