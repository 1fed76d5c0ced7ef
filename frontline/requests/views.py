"""Pages for requests (诉求): register one from a household, the list per region, one
request with its history and one-tap steps, and "my tasks" for an assignee.

(`request` is Django's HTTP request here, as everywhere; a 诉求 is `req` or `target`.)
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record, client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import Conflict, DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.people.models import Household
from frontline.territory.models import Region

from . import photos as request_photos
from . import services
from .models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Notification,
    Request,
    Status,
    Supervision,
    Urgency,
)
from .queries import dispatch_suggestions, request_for, requests_for, visible_requests

PAGE_SIZE = 50
STEPS = ("dispatch", "deliver", "report", "close", "cancel", "return")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _status_of(error: DomainError) -> int:
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, DomainPermissionDenied):
        return 403
    if isinstance(error, NotFound):
        return 404
    return 400


@login_required
def request_list(request):
    """Requests of a region (`?region=`, else the jurisdiction), filtered by status."""
    user = request.user
    region = None
    if (region_id := _int(request.GET.get("region"))) is not None:
        region = access_by_id(Region.objects.all(), user, region_id)
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *Status.values):
        status = "open"
    overdue = request.GET.get("overdue") == "1"
    reqs = requests_for(
        user, region=region, status="" if status == "all" else status, overdue=overdue
    )
    number = request.GET.get("q", "").strip().upper()
    if number:
        reqs = reqs.filter(number=number if number.startswith("Q") else f"Q{number}")
    page = Paginator(reqs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        object_type="request",
        region=region or policy_for(user).jurisdiction,
        detail={"channel": "page", "status": status, "overdue": overdue},
        ip=client_ip(request),
    )
    return render(
        request,
        "requests/request_list.html",
        {
            "page": page,
            "region": region,
            "status": status,
            "overdue": overdue,
            "q": number,
            "statuses": [("open", _("Open")), *Status.choices, ("all", _("All"))],
        },
    )


@login_required
def request_create_page(request):
    """Register a request for one household (`?household=`), the one link on its page."""
    user = request.user
    household_id = request.POST.get("household") or request.GET.get("household")
    household = access_by_id(Household.objects.select_related("building"), user, household_id)
    if not policy_for(user).can(Action.CREATE_REQUEST, household):
        raise PermissionDenied
    residents = list(household.residents.order_by("birth_date"))
    error, status = "", 200
    if request.method == "POST":
        resident = None
        if rid := _int(request.POST.get("resident")):
            resident = next((r for r in residents if r.pk == rid), None)
        try:
            created = services.request_create(
                actor=user,
                household=household,
                resident=resident,
                category=request.POST.get("category", ""),
                urgency=request.POST.get("urgency", Urgency.NORMAL),
                channel=request.POST.get("channel", Channel.GRID_WORKER),
                description=request.POST.get("description", ""),
                idempotency_key=request.POST.get("idempotency_key", ""),
                ip=client_ip(request),
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            error, status = exc.message, _status_of(exc)
        else:
            messages.success(
                request, _("Request %(number)s registered.") % {"number": created.number}
            )
            return redirect("request_detail", pk=created.pk)
    return render(
        request,
        "requests/request_create.html",
        {
            "household": household,
            "residents": residents,
            "categories": Category.choices,
            "urgencies": Urgency.choices,
            "channels": Channel.choices,
            "error": error,
            "form": request.POST if request.method == "POST" else {},
            # One key per form shown: a double tap or a resent form registers one request.
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
            "photo_limits": _photo_limits(),
        },
        status=status,
    )


def _phone(policy, req: Request) -> tuple[str, str]:
    """The phone to show for a request (the resident's, else the household's), and the
    number a call button may carry: only one shown in full."""
    raw = (req.resident.phone if req.resident else "") or req.household.phone
    shown = policy.request_phone(req, raw)
    return shown, (shown if shown == raw else "")


def _detail_context(request, req: Request) -> dict:
    policy = policy_for(request.user)
    steps = services.steps_from(req.status)
    can_dispatch = "dispatch" in steps and policy.can(Action.DISPATCH_REQUEST, req)
    return {
        "req": req,
        "events": list(req.events.all()),
        "steps": steps,
        "can_dispatch": can_dispatch,
        "suggested": dispatch_suggestions(request.user, req) if can_dispatch else None,
        "can_step": policy.can_step_request(req),
        "can_close": "close" in steps and policy.can(Action.CLOSE_REQUEST, req),
        "can_cancel": "cancel" in steps and policy.can(Action.DISPATCH_REQUEST, req),
        "phone": _phone(policy, req),
        "step_labels": services.STEP_LABELS,
        "photos": list(req.photos.all()),
        "photo_limits": _photo_limits(),
    }


def _photo_limits() -> dict:
    return {"count": request_photos.max_count(), "mb": settings.FRONTLINE_REQUEST_PHOTO_MAX_MB}


def photo_response(photo) -> FileResponse:
    """A request's photo, to be shown inline: typed by what it was checked to be, never
    sniffed by the browser, and kept out of shared caches."""
    response = FileResponse(request_photos.open_photo(photo), content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def request_photo(request, pk: int, photo: int):
    """One photo of a request the caller may see; 404 for anybody else."""
    return photo_response(request_photos.photo_for(request.user, pk, photo))


@login_required
def request_detail(request, pk: int):
    req = request_for(request.user, pk, channel="page", ip=client_ip(request))
    return render(request, "requests/request_detail.html", _detail_context(request, req))


@login_required
@require_POST
def request_step(request, pk: int, step: str):
    """One tap, one step. A refusal shows the request as it is now, with the reason and the
    status it means (409 for a step the state does not allow, 403 for a person)."""
    if step not in STEPS:
        raise Http404
    user = request.user
    target = access_by_id(visible_requests(user).select_related("household__building"), user, pk)
    post, ip = request.POST, client_ip(request)
    try:
        if step == "dispatch":
            # A name typed beside the suggestions wins over the suggestion left checked.
            username = post.get("assignee_other", "").strip() or post.get("assignee", "").strip()
            assignee = User.objects.filter(username=username, is_active=True).first()
            if assignee is None:
                raise DomainError(_("Choose an active account to dispatch to."))
            services.request_dispatch(
                request=target, assignee=assignee, actor=user, note=post.get("note", ""), ip=ip
            )
        elif step == "deliver":
            services.request_deliver(request=target, actor=user, note=post.get("note", ""), ip=ip)
        elif step == "report":
            services.request_report(
                request=target,
                actor=user,
                note=post.get("note", ""),
                photos=request.FILES.getlist("photos"),
                ip=ip,
            )
        elif step == "close":
            services.request_close(
                request=target,
                actor=user,
                satisfaction=post.get("satisfaction", 0),
                note=post.get("note", ""),
                ip=ip,
            )
        elif step == "cancel":
            services.request_cancel(
                request=target, actor=user, reason=post.get("reason", ""), ip=ip
            )
        else:
            services.request_return(
                request=target, actor=user, reason=post.get("reason", ""), ip=ip
            )
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        req = request_for(user, pk, channel="page", ip=ip)
        context = {**_detail_context(request, req), "error": exc.message}
        return render(request, "requests/request_detail.html", context, status=_status_of(exc))
    messages.success(
        request,
        _("%(number)s: %(step)s done.")
        % {"number": target.number, "step": services.STEP_LABELS[step]},
    )
    back = post.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("request_detail", pk=pk)


@login_required
def my_tasks(request):
    """The assignee's phone page: open requests given to me, the soonest due first."""
    user = request.user
    policy = policy_for(user)
    reqs = (
        Request.objects.filter(assignee_id=user.pk)
        .open()
        .select_related("household__building", "resident")
        .order_by("close_due", "id")
    )
    items = [
        {
            "req": r,
            "steps": [s for s in services.steps_from(r.status) if s in ("deliver", "report")],
            "phone": _phone(policy, r),
        }
        for r in reqs[:200]
    ]
    return render(
        request,
        "requests/my_tasks.html",
        {"items": items, "step_labels": services.STEP_LABELS},
    )


@login_required
def supervision_board(request):
    """督办 board of a region: open requests by step, overdue first, who holds them, how
    long; with the supervision each overdue one is under."""
    user = request.user
    region = None
    if (region_id := _int(request.GET.get("region"))) is not None:
        region = access_by_id(Region.objects.all(), user, region_id)
    now = timezone.now()
    reqs = list(
        requests_for(user, region=region, status="open")
        .prefetch_related(
            Prefetch(
                "supervisions",
                queryset=Supervision.objects.filter(closed_at__isnull=True).select_related("grid"),
                to_attr="open_supervisions",
            )
        )
        .order_by("created_at", "id")[:500]
    )
    rows = [
        {
            "req": r,
            "overdue": r.is_overdue(now),
            "minutes": int((now - r.created_at).total_seconds() // 60),
            "held_minutes": int((now - r.status_changed_at).total_seconds() // 60),
            "supervision": r.open_supervisions[0] if r.open_supervisions else None,
        }
        for r in reqs
    ]
    rows.sort(key=lambda row: (not row["overdue"], -row["minutes"]))
    by_step = {code: 0 for code in OPEN_STATUSES}
    for r in reqs:
        by_step[r.status] += 1
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        object_type="request",
        region=region or policy_for(user).jurisdiction,
        detail={"channel": "page", "board": "supervision"},
        ip=client_ip(request),
    )
    return render(
        request,
        "requests/board.html",
        {
            "region": region or policy_for(user).jurisdiction,
            "rows": rows,
            "by_step": [(Status(code).label, n) for code, n in by_step.items()],
            "overdue_count": sum(1 for row in rows if row["overdue"]),
        },
    )


@login_required
def inbox(request):
    """The signed-in person's notifications (the default notification channel)."""
    if request.method == "POST":
        Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        return redirect("inbox")
    notes = Notification.objects.filter(recipient=request.user)[:100]
    return render(request, "requests/inbox.html", {"notes": notes})
