"""The supervision part of the worker's sweep: overdue inspection problems (past their
rectification date and not verified) are escalated up the region tree.

Like the requests' 督办 (`frontline.requests.supervision`): an overdue problem opens one
`Escalation` held by the place responsible (its community, or the place itself when it is a
township or a district), whose staff are notified; still unverified
FRONTLINE_PROBLEM_ESCALATE_HOURS after that opening it goes one level up (township, district, city), and
again. Verified problems' escalations close. Safe to run twice at once: one open escalation
per problem is a database constraint, and a step up is a conditional UPDATE on the level it
read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from frontline.accounts.models import User
from frontline.accounts.policy import Action, roles_with
from frontline.requests.notify import notify
from frontline.territory.models import Level, Region

from .models import Escalation, Problem


def first_holder(problem: Problem) -> Region:
    """The region answerable first: the problem's community, or its place when higher."""
    place = problem.place
    if place.level > Level.COMMUNITY and place.community_id:
        return Region.objects.get(pk=place.community_id)
    return place


def staff_of(region: Region) -> list[Any]:
    """The active accounts placed at `region` whose role inspects or rectifies."""
    roles = set(roles_with(Action.RECTIFY)) | set(roles_with(Action.INSPECT))
    return list(User.objects.filter(region=region, role__in=roles, is_active=True).order_by("id"))


def _notify(esc: Escalation, problem: Problem, *, escalated: bool) -> int:
    # Notices are stored text: written in the deployment's language, Chinese.
    with translation.override(settings.LANGUAGE_CODE):
        if escalated:
            subject = _("Escalated: inspection problem %(number)s is still not rectified")
        else:
            subject = _("Overdue: inspection problem %(number)s was due to be rectified")
        subject = subject % {"number": problem.pk}
        body = _("%(place)s · %(category)s · %(status)s · due %(due)s") % {
            "place": problem.place.display_path,
            "category": problem.get_category_display(),
            "status": problem.get_status_display(),
            "due": timezone.localtime(problem.rectify_by).strftime("%Y-%m-%d %H:%M"),
        }
    return notify(
        recipients=staff_of(esc.holder),
        subject=subject,
        body=body,
        url=reverse("supervision_problem", args=[problem.pk]),
    )


def supervision_problems_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """One pass: close what is no longer overdue, open what newly is, escalate what stays."""
    now = now or timezone.now()
    counts = {
        "problems_opened": 0,
        "problems_escalated": 0,
        "problems_closed": 0,
        "problems_notified": 0,
    }
    overdue = set(Problem.objects.overdue(now).values_list("pk", flat=True))
    counts["problems_closed"] = (
        Escalation.objects.filter(closed_at__isnull=True)
        .exclude(problem_id__in=overdue)
        .update(closed_at=now)
    )
    held = set(
        Escalation.objects.filter(closed_at__isnull=True).values_list("problem_id", flat=True)
    )
    fresh = Problem.objects.filter(pk__in=overdue - held).select_related("place").order_by("id")
    for problem in fresh:
        holder = first_holder(problem)
        # The clock runs from this opening: the place responsible is told first and has
        # FRONTLINE_PROBLEM_ESCALATE_HOURS before it goes up, however late the sweep.
        esc = Escalation(problem=problem, holder=holder, opened_at=now, escalated_at=now)
        esc.locate(problem)
        try:
            with transaction.atomic():
                esc.save()
        except IntegrityError:
            continue  # another sweep opened it a moment ago
        counts["problems_opened"] += 1
        counts["problems_notified"] += _notify(esc, problem, escalated=False)

    hours = int(getattr(settings, "FRONTLINE_PROBLEM_ESCALATE_HOURS", 24))
    cutoff = now - dt.timedelta(hours=hours)
    due = (
        Escalation.objects.filter(
            closed_at__isnull=True, escalated_at__lte=cutoff, holder__parent__isnull=False
        )
        .select_related("holder", "problem__place")
        .order_by("id")
    )
    for esc in due:
        parent_id = esc.holder.parent_id
        assert parent_id is not None  # the query asked for a parent
        won = Escalation.objects.filter(pk=esc.pk, level=esc.level, closed_at__isnull=True).update(
            holder_id=parent_id, level=esc.level + 1, escalated_at=now
        )
        if won != 1:
            continue
        esc.holder = Region.objects.get(pk=parent_id)
        esc.level += 1
        counts["problems_escalated"] += 1
        counts["problems_notified"] += _notify(esc, esc.problem, escalated=True)
    return counts
