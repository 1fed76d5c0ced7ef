"""Reads shared by the supervision pages and the API, each confined by `within` / `visible_to`
and a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for, roles_with
from frontline.requests.models import Supplier
from frontline.territory.models import LEVEL_FIELDS, Level, Region

from .models import Escalation, Inspection, Problem, ProblemQuerySet, Status

LIST_LIMIT = 200


def require_supervision(user: Any) -> None:
    """The supervision pages and API are for those who inspect or rectify."""
    if not policy_for(user).may_view_supervision:
        raise DjangoPermissionDenied(
            _("Your role may not view inspections: it neither inspects nor rectifies.")
        )


def problems_for(user: Any) -> QuerySet[Problem]:
    return Problem.objects.visible_to(user).select_related("place", "inspection")  # type: ignore[return-value]


def inspections_for(user: Any) -> QuerySet[Inspection]:
    return Inspection.objects.visible_to(user).select_related("region", "supplier")  # type: ignore[return-value]


def filter_problems(
    problems: QuerySet[Problem],
    *,
    region: Region | None = None,
    status: str = "",
    overdue: bool | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Problem]:
    now = now or timezone.now()
    if region is not None:
        problems = problems.within(region)  # type: ignore[attr-defined]
    if status:
        problems = problems.filter(status=status)
    if overdue is True:
        problems = problems.overdue(now)  # type: ignore[attr-defined]
    elif overdue is False:
        problems = problems.exclude(pk__in=Problem.objects.overdue(now).values("pk"))
    return problems


def board(region: Region, now: dt.datetime | None = None) -> dict[str, Any]:
    """A region's board: counts by status, the open problems (the most overdue first, as
    their rectification dates are the earliest), and open and overdue counts per child
    region. Five queries."""
    now = now or timezone.now()
    problems = cast(ProblemQuerySet, Problem.objects.within(region))
    by_status = dict(problems.values_list("status").annotate(n=Count("id")).order_by())
    open_rows = list(
        problems.open()
        .select_related("place", "inspection")
        .order_by("rectify_by", "id")[:LIST_LIMIT]
    )
    children: list[dict[str, Any]] = []
    if region.level < Level.BUILDING:
        field = f"{LEVEL_FIELDS[region.level + 1]}_id"
        counts = {
            row[field]: row
            for row in problems.open()
            .values(field)
            .annotate(open=Count("id"), overdue=Count("id", filter=Q(rectify_by__lt=now)))
            .order_by()
        }
        kids = Region.objects.filter(pk__in=[k for k in counts if k is not None]).order_by("path")
        children = [
            {"region": kid, "open": counts[kid.pk]["open"], "overdue": counts[kid.pk]["overdue"]}
            for kid in kids
        ]
        if None in counts:
            children.insert(
                0,
                {
                    "region": region,
                    "open": counts[None]["open"],
                    "overdue": counts[None]["overdue"],
                },
            )
    return {
        "by_status": [(label, by_status.get(code, 0)) for code, label in Status.choices],
        "open": [{"problem": p, "overdue": p.rectify_by < now} for p in open_rows],
        "open_limited": len(open_rows) == LIST_LIMIT,
        "overdue_count": problems.overdue(now).count(),
        "children": children,
    }


def open_escalations(problem_ids: list[int]) -> dict[int, Escalation]:
    return {
        e.problem_id: e
        for e in Escalation.objects.filter(
            problem_id__in=problem_ids, closed_at__isnull=True
        ).select_related("holder")
    }


def region_choices(user: Any) -> list[Region]:
    """Places to inspect or notify: districts, townships and communities inside."""
    return list(
        Region.objects.visible_to(user)
        .filter(level__gte=Level.DISTRICT, level__lte=Level.COMMUNITY)
        .order_by("path")
    )


def inspector_choices(user: Any) -> list[Any]:
    """Accounts placed inside the jurisdiction whose role inspects."""
    return list(
        User.objects.filter(
            region__in=Region.objects.visible_to(user).values("pk"),
            role__in=roles_with(Action.INSPECT),
            is_active=True,
        ).order_by("username")[:100]
    )


def supplier_choices(user: Any) -> list[Supplier]:
    """Suppliers located inside, or serving an area the jurisdiction lies in."""
    home = policy_for(user).jurisdiction
    if home is None:
        return []
    above = [r.pk for r in home.ancestors()] + [home.pk]
    from frontline.territory.services import city

    above.append(city().pk)
    inside = Supplier.objects.visible_to(user).values("pk")
    return list(Supplier.objects.filter(Q(pk__in=inside) | Q(area_id__in=above)).order_by("name"))
