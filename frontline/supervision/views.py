"""Pages of supervision (督查): the board of a region, recording an inspection with its
problems, an inspection, a problem with its history and one button per allowed step, and
the problems notified to the viewer's own place.

Thin, like every view: parse, authorise through the policy, call one service, render. A
refusal of the domain (PermissionDenied, NotFound) is answered 403/404 by the project's
middleware; a rule's refusal (DomainError, Conflict) is shown on the page.
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

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id, requested_region
from frontline.core.errors import DomainError

from . import queries, services
from .models import Category, Kind, Severity, Status

PROBLEM_ROWS = 5


def _moment(raw: str) -> dt.datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
def board(request):
    queries.require_supervision(request.user)
    region = requested_region(request)
    figures = queries.board(region)
    escalations = queries.open_escalations([row["problem"].pk for row in figures["open"]])
    for row in figures["open"]:
        row["escalation"] = escalations.get(row["problem"].pk)
    recent = list(queries.inspections_for(request.user).touching(region)[:20])
    return render(
        request,
        "supervision/board.html",
        {"region": region, "recent": recent, **figures},
    )


@login_required
def ours(request):
    """The problems notified to the viewer's place: to take up, to report, awaiting a check."""
    queries.require_supervision(request.user)
    region = policy_for(request.user).jurisdiction
    if region is None:
        raise Http404
    now = timezone.now()
    rows = list(
        queries.problems_for(request.user).open().order_by("rectify_by", "id")[: queries.LIST_LIMIT]
    )
    groups = [
        (label, [p for p in rows if p.status == code])
        for code, label in Status.choices
        if code not in (Status.VERIFIED, Status.WITHDRAWN)
    ]
    return render(
        request,
        "supervision/ours.html",
        {
            "region": region,
            "groups": groups,
            "now": now,
            "limited": len(rows) == queries.LIST_LIMIT,
        },
    )


@login_required
def inspection_create(request):
    queries.require_supervision(request.user)
    policy = policy_for(request.user)
    policy.require(Action.INSPECT)
    regions = queries.region_choices(request.user)
    suppliers = queries.supplier_choices(request.user)
    inspectors = queries.inspector_choices(request.user)
    by_id = {str(r.pk): r for r in regions}
    if request.method == "POST":
        post = request.POST
        try:
            region = by_id.get(post.get("region", ""))
            if region is None:
                raise DomainError(_("Choose the place inspected."))
            supplier = {str(s.pk): s for s in suppliers}.get(post.get("supplier", ""))
            try:
                date = dt.date.fromisoformat(post.get("date", ""))
            except ValueError:
                raise DomainError(_("Give the date of the inspection.")) from None
            chosen = set(post.getlist("inspectors"))
            problems = []
            for i in range(PROBLEM_ROWS):
                text = post.get(f"description_{i}", "").strip()
                if not text:
                    continue
                problems.append(
                    {
                        "place": by_id.get(post.get(f"place_{i}", "")) or region,
                        "category": post.get(f"category_{i}", ""),
                        "severity": post.get(f"severity_{i}", ""),
                        "description": text,
                        "rectify_by": _moment(post.get(f"rectify_by_{i}", "")),
                    }
                )
            inspection = services.inspection_create(
                region=region,
                kind=post.get("kind", ""),
                date=date,
                team=post.get("team", ""),
                summary=post.get("summary", ""),
                supplier=supplier,
                inspectors=[u for u in inspectors if str(u.pk) in chosen] or [request.user],
                problems=problems,
                actor=request.user,
                ip=client_ip(request),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Inspection recorded."))
            return redirect("supervision_inspection", inspection.pk)
    preset = request.GET.get("region", "")
    return render(
        request,
        "supervision/inspection_create.html",
        {
            "regions": regions,
            "suppliers": suppliers,
            "inspectors": inspectors,
            "kinds": Kind.choices,
            "categories": Category.choices,
            "severities": Severity.choices,
            # What was typed comes back after a refusal, row by row.
            "rows": [
                {
                    key: request.POST.get(f"{key}_{i}", "")
                    for key in ("place", "category", "severity", "description", "rectify_by")
                }
                | {
                    "i": i,
                    "n": i + 1,
                    # Collapsed unless it holds what was typed (so a refusal shows it).
                    "open": any(
                        request.POST.get(f"{key}_{i}", "").strip()
                        for key in ("place", "description", "rectify_by")
                    ),
                }
                for i in range(PROBLEM_ROWS)
            ],
            "preset": preset,
            "post": request.POST if request.method == "POST" else {},
            "today": timezone.localdate().isoformat(),
        },
    )


@login_required
def inspection_detail(request, pk: int):
    queries.require_supervision(request.user)
    inspection = access_by_id(queries.inspections_for(request.user), request.user, pk)
    # Only the problems inside: a community sees its own of a township's inspection.
    problems = list(
        inspection.problems.visible_to(request.user).select_related("place").order_by("id")
    )
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspection": inspection,
            "inspectors": list(inspection.inspectors.order_by("username")),
            "problems": problems,
            "now": timezone.now(),
        },
    )


@login_required
def problem_detail(request, pk: int):
    queries.require_supervision(request.user)
    problem = access_by_id(queries.problems_for(request.user), request.user, pk)
    return render(
        request,
        "supervision/problem_detail.html",
        {
            "problem": problem,
            "overdue": problem.is_overdue(),
            "events": list(problem.events.order_by("at", "id")),
            "escalations": list(problem.escalations.select_related("holder")),
            "steps": services.steps_for(problem, request.user),
            "step_labels": services.STEP_LABELS,
        },
    )


@login_required
@require_POST
def problem_step(request, pk: int, step: str):
    queries.require_supervision(request.user)
    problem = access_by_id(queries.problems_for(request.user), request.user, pk)
    if step not in services.TRANSITIONS:
        raise Http404
    note = request.POST.get("reason" if step in services.REASON_STEPS else "note", "")
    try:
        services.problem_step(
            problem=problem, step=step, actor=request.user, note=note, ip=client_ip(request)
        )
    except DomainError as exc:
        if exc.code == "permission_denied":
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done: %(step)s.") % {"step": services.STEP_LABELS[step]})
    return redirect(reverse("supervision_problem", args=[problem.pk]))
