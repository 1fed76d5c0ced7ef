"""Home isolation pages: the keeper's phone page (my cases, today's two visits each), the
case list of a region for managers, one case with its visit history, opening a case from
a resident, releasing one."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import Conflict, DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.people.models import Resident
from frontline.requests.models import Category
from frontline.territory.models import Region

from . import isolation
from .models import IsolationCase, IsolationCategory, MissedVisit


def _status_of(error: DomainError) -> int:
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, DomainPermissionDenied):
        return 403
    if isinstance(error, NotFound):
        return 404
    return 400


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _keeper(username: str) -> User | None:
    return User.objects.filter(username=(username or "").strip(), is_active=True).first()


@login_required
def isolation_mine(request, error: str = "", status: int = 200):
    """The keeper's phone page: every open case I keep, today's two slots each."""
    user = request.user
    now = timezone.now()
    today = timezone.localdate(now)
    cases = list(
        isolation.cases_for(user)
        .filter(keeper_id=user.pk, status=IsolationCase.Status.OPEN)
        .order_by("planned_end", "id")[:200]
    )
    return render(
        request,
        "health/isolation_mine.html",
        {
            "board": isolation.today_board(cases, today, now),
            "today": today,
            "categories": Category.choices,
            "error": error,
        },
        status=status,
    )


@login_required
def isolation_list(request):
    """Open cases of a region (`?region=`, else the jurisdiction) for those who manage
    isolation: planned ends, keepers, slots missed today."""
    user = request.user
    policy = policy_for(user)
    region = None
    if (region_id := _int(request.GET.get("region"))) is not None:
        region = access_by_id(Region.objects.all(), user, region_id)
    if not policy.can(Action.MANAGE_ISOLATION):
        raise PermissionDenied
    region = region or policy.jurisdiction
    today = timezone.localdate()
    cases = list(
        isolation.cases_for(user)
        .within(region)
        .filter(status=IsolationCase.Status.OPEN)
        .order_by("planned_end", "id")[:500]
    )
    missed = {}
    for case_id, slot in MissedVisit.objects.filter(
        case_id__in=[c.pk for c in cases], day=today
    ).values_list("case_id", "slot"):
        missed.setdefault(case_id, []).append(slot)
    rows = [{"case": c, "missed": sorted(missed.get(c.pk, []))} for c in cases]
    return render(
        request,
        "health/isolation_list.html",
        {
            "region": region,
            "rows": rows,
            "today": today,
            "ending_today": sum(1 for c in cases if c.planned_end <= today),
            "missed_today": sum(len(v) for v in missed.values()),
        },
    )


def _detail(request, case: IsolationCase, *, error: str = "", status: int = 200):
    policy = policy_for(request.user)
    now = timezone.now()
    today = timezone.localdate(now)
    return render(
        request,
        "health/isolation_detail.html",
        {
            "case": case,
            "visits": list(case.visits.select_related("by", "request").order_by("-day", "-slot")),
            "missed": list(case.missed.order_by("-day", "-slot")),
            "sees_health": policy.sees_case_health(case),
            "may_visit": policy.can_record_health_visit(case) and case.status == "open",
            "may_manage": policy.can(Action.MANAGE_ISOLATION, case) and case.status == "open",
            "today": isolation.today_board([case], today, now)[0],
            "categories": Category.choices,
            "error": error,
        },
        status=status,
    )


def _case(request, pk: int) -> IsolationCase:
    case = access_by_id(isolation.cases_for(request.user), request.user, pk)
    if not policy_for(request.user).can(Action.VIEW, case):
        raise PermissionDenied
    return case


@login_required
def isolation_detail(request, pk: int):
    return _detail(request, _case(request, pk))


@login_required
@require_POST
def isolation_visit(request, pk: int):
    """One form per visit: temperature, symptoms, needs; "raise" turns the needs into a
    request in the same tap."""
    user = request.user
    case = _case(request, pk)
    post = request.POST
    try:
        visit = isolation.visit_record(
            case=case,
            slot=post.get("slot", ""),
            temperature=post.get("temperature", ""),
            symptoms=post.get("symptoms", ""),
            needs=post.get("needs", ""),
            visitor=post.get("visitor", ""),
            actor=user,
            raise_request=post.get("raise") == "1",
            category=post.get("category") or Category.OTHER,
            ip=client_ip(request),
        )
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        if post.get("next") == "mine":
            return isolation_mine(request, error=exc.message, status=_status_of(exc))
        return _detail(request, case, error=exc.message, status=_status_of(exc))
    text = _("Visit recorded.")
    if visit.request is not None:
        text = _("Visit recorded; request %(number)s registered.") % {
            "number": visit.request.number
        }
    messages.success(request, text)
    if post.get("next") == "mine":
        return redirect("isolation_mine")
    return redirect("isolation_detail", pk=case.pk)


@login_required
def isolation_open(request):
    """Open a case for a resident (`?resident=`)."""
    user = request.user
    resident_id = request.POST.get("resident") or request.GET.get("resident")
    resident = access_by_id(
        Resident.objects.select_related("household__building"), user, resident_id
    )
    if not policy_for(user).can(Action.MANAGE_ISOLATION, resident):
        raise PermissionDenied
    error, status = "", 200
    today = timezone.localdate()
    if request.method == "POST":
        post = request.POST
        try:
            keeper = _keeper(post.get("keeper", ""))
            if keeper is None:
                raise DomainError(_("Choose an active account to keep the case."))
            case = isolation.case_open(
                resident=resident,
                category=post.get("category", ""),
                reason=post.get("reason", ""),
                start=_date(post.get("start")),  # type: ignore[arg-type]
                planned_end=_date(post.get("planned_end")),  # type: ignore[arg-type]
                keeper=keeper,
                actor=user,
                ip=client_ip(request),
            )
        except DomainError as exc:
            error, status = exc.message, _status_of(exc)
        else:
            messages.success(request, _("Case opened."))
            return redirect("isolation_detail", pk=case.pk)
    return render(
        request,
        "health/isolation_open.html",
        {
            "resident": resident,
            "categories": IsolationCategory.choices,
            "form": request.POST if request.method == "POST" else {},
            "default_start": today,
            "default_end": today + dt.timedelta(days=13),
            "error": error,
        },
        status=status,
    )


@login_required
def isolation_release(request, pk: int):
    """解除隔离 with its record; a reassignment posts here too (`keeper`)."""
    user = request.user
    case = _case(request, pk)
    if not policy_for(user).can(Action.MANAGE_ISOLATION, case):
        raise PermissionDenied
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        try:
            if post.get("keeper"):
                keeper = _keeper(post["keeper"])
                if keeper is None:
                    raise DomainError(_("Choose an active account to keep the case."))
                isolation.case_reassign(case=case, keeper=keeper, actor=user, ip=client_ip(request))
                messages.success(request, _("Case reassigned."))
            else:
                isolation.case_release(
                    case=case,
                    at=timezone.now(),
                    note=post.get("note", ""),
                    actor=user,
                    ip=client_ip(request),
                )
                messages.success(request, _("Case released."))
        except DomainError as exc:
            error, status = exc.message, _status_of(exc)
        else:
            return redirect("isolation_detail", pk=case.pk)
    return render(
        request,
        "health/isolation_release.html",
        {"case": case, "error": error},
        status=status,
    )
