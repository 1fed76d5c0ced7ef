"""Every write of supervision (督查): recording an inspection with its problems, and moving a
problem through rectification (整改) to closure (销号).

One transition table, one transition function, as for requests: a step is a conditional
`UPDATE ... WHERE id = X AND status = <old>`, so two people stepping the same problem at
once cannot both win; the loser gets `Conflict` (HTTP 409) and nothing changes. Each step
writes one `ProblemEvent` and one audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError, PermissionDenied
from frontline.requests.models import Supplier
from frontline.territory.models import Level, Region

from .models import Category, Escalation, Inspection, Kind, Problem, ProblemEvent, Severity, Status

TEXT_MAX = 2000
NOTE_MAX = 1000
TEAM_MAX = 100
PROBLEMS_MAX = 100

# step → (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": ((Status.NOTIFIED,), Status.RECTIFYING),
    "report": ((Status.RECTIFYING,), Status.REPORTED),
    "verify": ((Status.REPORTED,), Status.VERIFIED),
    "reject": ((Status.REPORTED,), Status.RECTIFYING),
    # 撤销通报: the inspecting side takes back a problem notified by mistake.
    "withdraw": ((Status.NOTIFIED, Status.RECTIFYING), Status.WITHDRAWN),
}

# Who may take each step: the place responsible rectifies, the inspecting side checks.
STEP_ACTIONS: dict[str, Action] = {
    "acknowledge": Action.RECTIFY,
    "report": Action.RECTIFY,
    "verify": Action.INSPECT,
    "reject": Action.INSPECT,
    "withdraw": Action.INSPECT,
}

STEP_LABELS = {
    "notify": pgettext_lazy("problem step", "Notify"),
    "acknowledge": pgettext_lazy("problem step", "Acknowledge"),
    "report": pgettext_lazy("problem step", "Report rectified"),
    "verify": pgettext_lazy("problem step", "Verify and close"),
    "reject": pgettext_lazy("problem step", "Reject"),
    "withdraw": pgettext_lazy("problem step", "Withdraw"),
}

# The steps whose note is a reason, required (the form field and API key `reason`).
REASON_STEPS = ("reject", "withdraw")


def steps_from(status: str) -> list[str]:
    """The steps the transition table allows from `status`, in table order."""
    return [step for step, (sources, _to) in TRANSITIONS.items() if status in sources]


def steps_for(problem: Problem, user: Any) -> list[str]:
    """The steps `user` may take on `problem` now: allowed from its state, by the policy and
    by the separation of duties."""
    policy = policy_for(user)
    return [
        s
        for s in steps_from(problem.status)
        if policy.can(STEP_ACTIONS[s], problem) and duty_conflict(problem, s, user) is None
    ]


def _is_inspecting_side(problem: Problem, user: Any) -> bool:
    inspection = problem.inspection
    if inspection.created_by_id is not None and inspection.created_by_id == user.pk:
        return True
    return inspection.inspectors.filter(pk=user.pk).exists()


def _last_reporter_id(problem: Problem) -> int | None:
    return (
        ProblemEvent.objects.filter(problem_id=problem.pk, step="report")
        .order_by("-at", "-id")
        .values_list("actor_id", flat=True)
        .first()
    )


def duty_conflict(problem: Problem, step: str, user: Any) -> str | None:
    """Why `user` may not take `step` on `problem` for the separation of duties, or None.

    The inspecting side (who recorded the inspection, or one of its inspectors) does not
    rectify its own problem; who reported a rectification does not check it.
    """
    if getattr(user, "pk", None) is None:
        return None
    if step in ("acknowledge", "report") and _is_inspecting_side(problem, user):
        return _(
            "You inspected this problem: the place responsible rectifies it, not the "
            "inspecting side."
        )
    if step in ("verify", "reject") and _last_reporter_id(problem) == user.pk:
        return _("You reported this rectification: someone else of the inspecting side checks it.")
    return None


def _require_duty(problem: Problem, step: str, user: Any) -> None:
    reason = duty_conflict(problem, step, user)
    if reason is not None:
        raise PermissionDenied(reason)


# --- helpers -------------------------------------------------------------------------------


def _name(actor: Any) -> str:
    if actor is None:
        return ""
    return (actor.get_full_name() or actor.username)[:150]


def _text(value: str, limit: int, what: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Give the %(what)s.") % {"what": what})
    if len(value) > limit:
        raise DomainError(
            _("The %(what)s is at most %(n)d characters.") % {"what": what, "n": limit}
        )
    return value


def _choice(value: str, choices: Any, what: str) -> str:
    if value not in choices.values:
        raise DomainError(
            _("The %(what)s is one of: %(choices)s.")
            % {"what": what, "choices": ", ".join(choices.values)}
        )
    return value


def _audit_problem(problem: Problem, *, actor: Any, detail: dict, ip: str | None) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.PROBLEM_STEP,
        object_type="problem",
        object_id=problem.pk,
        region=problem.place,
        detail={"inspection": problem.inspection_id, **detail},
        ip=ip,
    )


# --- recording an inspection ---------------------------------------------------------------


def _check_problem(
    region: Region, spec: dict[str, Any], index: int, *, date: dt.date, at: dt.datetime
) -> dict[str, Any]:
    place = spec.get("place") or region
    if not isinstance(place, Region) or not place.is_within(region):
        raise DomainError(
            _("Problem %(n)d: its place must be the inspected region or a place inside it.")
            % {"n": index}
        )
    rectify_by = spec.get("rectify_by")
    if not isinstance(rectify_by, dt.datetime):
        raise DomainError(_("Problem %(n)d: give the date to rectify by.") % {"n": index})
    if timezone.is_naive(rectify_by):
        rectify_by = timezone.make_aware(rectify_by)
    # After the inspection (its day began) and after the moment of notifying: a date
    # already past would make the problem overdue, and escalate it, at once.
    inspected = timezone.make_aware(dt.datetime.combine(date, dt.time.min))
    if rectify_by <= inspected or rectify_by <= at:
        raise DomainError(
            _(
                "Problem %(n)d: the time to rectify by must be later than the inspection "
                "and than now."
            )
            % {"n": index}
        )
    return {
        "place": place,
        "category": _choice(spec.get("category", ""), Category, _("category")),
        "severity": _choice(spec.get("severity") or Severity.NORMAL, Severity, _("severity")),
        "description": _text(
            spec.get("description", ""), TEXT_MAX, _("description"), required=True
        ),
        "rectify_by": rectify_by,
    }


def inspection_create(
    *,
    region: Region,
    kind: str,
    date: dt.date,
    actor: Any,
    problems: Sequence[dict[str, Any]] = (),
    team: str = "",
    summary: str = "",
    supplier: Supplier | None = None,
    inspectors: Iterable[Any] = (),
    notified_at: dt.datetime | None = None,
    ip: str | None = None,
) -> Inspection:
    """督查: record an inspection of `region` (a district or below) and notify (通报) its
    problems, each to its place (the region or one inside it) with a date to rectify by.

    `problems` are dicts with `place` (a Region; the inspected region if omitted),
    `category`, `severity`, `description`, `rectify_by` (a datetime).
    """
    policy = policy_for(actor)
    policy.require(Action.INSPECT, region)
    if region.level < Level.DISTRICT:
        raise DomainError(_("Inspect a district, a township or a place below, not the city."))
    kind = _choice(kind, Kind, _("kind"))
    if supplier is not None:
        if kind != Kind.MARKET:
            raise DomainError(_("Only a market inspection names a supplier."))
        area = supplier.area
        if not (region.is_within(area) or area.is_within(region)):
            raise DomainError(_("The supplier does not serve the inspected region."))
    elif kind == Kind.MARKET:
        raise DomainError(_("A market inspection names the supplier inspected."))
    if not isinstance(date, dt.date) or date > timezone.localdate():
        raise DomainError(_("Give the date of the inspection, not a future one."))
    team = _text(team, TEAM_MAX, _("team"))
    summary = _text(summary, TEXT_MAX, _("summary"))
    if len(problems) > PROBLEMS_MAX:
        raise DomainError(_("At most %(n)d problems per inspection.") % {"n": PROBLEMS_MAX})
    at = notified_at or timezone.now()
    checked = [
        _check_problem(region, spec, i, date=date, at=at)
        for i, spec in enumerate(problems, start=1)
    ]
    people = [u for u in inspectors if u is not None]
    for person in people:
        if not person.is_active:
            raise DomainError(_("Inspectors must be active accounts."))
    with transaction.atomic():
        inspection = Inspection(
            region=region,
            kind=kind,
            supplier=supplier,
            date=date,
            team=team,
            summary=summary,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=at,
        )
        inspection.locate(region)
        inspection.save()
        if people:
            inspection.inspectors.set(people)
        made = []
        for spec in checked:
            problem = Problem(
                inspection=inspection,
                status=Status.NOTIFIED,
                notified_at=at,
                status_changed_at=at,
                **spec,
            )
            problem.locate(spec["place"])
            made.append(problem)
        Problem.objects.bulk_create(made)
        ProblemEvent.objects.bulk_create(
            ProblemEvent(
                problem=p,
                step="notify",
                from_status="",
                to_status=Status.NOTIFIED,
                actor=actor if getattr(actor, "pk", None) else None,
                actor_name=_name(actor),
                at=at,
            )
            for p in made
        )
        audit_record(
            actor=actor,
            action=AuditAction.INSPECTION_CREATE,
            object_type="inspection",
            object_id=inspection.pk,
            region=region,
            detail={"kind": kind, "date": date.isoformat(), "problems": len(made)},
            ip=ip,
        )
    return inspection


# --- the one transition function -----------------------------------------------------------


def problem_transition(
    *,
    problem: Problem,
    step: str,
    actor: Any,
    note: str = "",
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> Problem:
    """Move `problem` one step, if the table allows it from the state it is in now.

    Callers check the policy first (the step functions below). Raises Conflict when the
    step is not allowed from the current state, or when someone else moved the problem
    since it was read; then nothing is written.
    """
    sources, target = TRANSITIONS[step]
    old_status = problem.status
    if old_status not in sources:
        raise _conflict(problem, step, old_status)
    now = at or timezone.now()
    values: dict[str, Any] = {"status": target, "status_changed_at": now}
    if step == "report":
        values["reported_at"] = now
    elif step == "verify":
        values["verified_at"] = now
    with transaction.atomic():
        won = Problem.objects.filter(pk=problem.pk, status=old_status).update(**values)
        if won != 1:
            current = Problem.objects.filter(pk=problem.pk).values_list("status", flat=True).first()
            raise _conflict(problem, step, current or old_status, moved=True)
        ProblemEvent.objects.create(
            problem=problem,
            step=step,
            from_status=old_status,
            to_status=target,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=_name(actor),
            at=now,
            note=note,
        )
        if target in (Status.VERIFIED, Status.WITHDRAWN):
            Escalation.objects.filter(problem=problem, closed_at__isnull=True).update(closed_at=now)
        _audit_problem(
            problem,
            actor=actor,
            detail={"step": step, "from": old_status, "to": str(target)},
            ip=ip,
        )
    for field, value in values.items():
        setattr(problem, field, value)
    return problem


def _conflict(problem: Problem, step: str, status: str, *, moved: bool = False) -> Conflict:
    label = Status(status).label if status in Status.values else status
    if moved:
        message = _(
            "Problem %(number)s was changed by someone else meanwhile and is now “%(status)s”. "
            "Nothing was changed; reload it."
        )
    else:
        message = _(
            "Problem %(number)s is “%(status)s”: “%(step)s” is not possible from there. "
            "Nothing was changed."
        )
    return Conflict(message % {"number": problem.pk, "status": label, "step": STEP_LABELS[step]})


# --- the steps ------------------------------------------------------------------------------


def problem_acknowledge(
    *,
    problem: Problem,
    actor: Any,
    note: str = "",
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> Problem:
    """The place responsible takes the notified problem up: 整改中."""
    policy_for(actor).require(Action.RECTIFY, problem)
    _require_duty(problem, "acknowledge", actor)
    note = _text(note, NOTE_MAX, _("note"))
    return problem_transition(
        problem=problem, step="acknowledge", actor=actor, note=note, at=at, ip=ip
    )


def problem_report(
    *, problem: Problem, actor: Any, note: str, at: dt.datetime | None = None, ip: str | None = None
) -> Problem:
    """The place responsible reports the rectification, saying what was done: 已整改待核."""
    policy_for(actor).require(Action.RECTIFY, problem)
    _require_duty(problem, "report", actor)
    note = _text(note, NOTE_MAX, _("note on the rectification"), required=True)
    return problem_transition(problem=problem, step="report", actor=actor, note=note, at=at, ip=ip)


def problem_verify(
    *,
    problem: Problem,
    actor: Any,
    note: str = "",
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> Problem:
    """The inspecting side checks the rectification and closes the problem: 销号."""
    policy_for(actor).require(Action.INSPECT, problem)
    _require_duty(problem, "verify", actor)
    note = _text(note, NOTE_MAX, _("note"))
    return problem_transition(problem=problem, step="verify", actor=actor, note=note, at=at, ip=ip)


def problem_reject(
    *,
    problem: Problem,
    actor: Any,
    reason: str,
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> Problem:
    """The inspecting side finds the rectification wanting: back to 整改中, with why."""
    policy_for(actor).require(Action.INSPECT, problem)
    _require_duty(problem, "reject", actor)
    reason = _text(reason, NOTE_MAX, _("reason"), required=True)
    return problem_transition(
        problem=problem, step="reject", actor=actor, note=reason, at=at, ip=ip
    )


def problem_withdraw(
    *,
    problem: Problem,
    actor: Any,
    reason: str,
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> Problem:
    """撤销通报: the inspecting side takes back a problem notified by mistake, saying why. It
    is closed (已撤销) and not counted among the problems to rectify."""
    policy_for(actor).require(Action.INSPECT, problem)
    reason = _text(reason, NOTE_MAX, _("reason"), required=True)
    return problem_transition(
        problem=problem, step="withdraw", actor=actor, note=reason, at=at, ip=ip
    )


STEP_FUNCTIONS: dict[str, Callable[..., Problem]] = {
    "acknowledge": problem_acknowledge,
    "report": problem_report,
    "verify": problem_verify,
    "reject": problem_reject,
    "withdraw": problem_withdraw,
}


def problem_step(
    *, problem: Problem, step: str, actor: Any, note: str = "", ip: str | None = None
) -> Problem:
    """One entry point for the pages and the API: the step by name, with its note (a
    rejection's reason)."""
    if step not in STEP_FUNCTIONS:
        raise DomainError(_("No such step."))
    if step in REASON_STEPS:
        return STEP_FUNCTIONS[step](problem=problem, actor=actor, reason=note, ip=ip)
    return STEP_FUNCTIONS[step](problem=problem, actor=actor, note=note, ip=ip)
