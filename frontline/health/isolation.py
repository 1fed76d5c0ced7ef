"""Home isolation and health monitoring (居家隔离观察): cases, twice-daily visits, missed
visits and their escalation, release.

A case is kept by one person (一人包一): an account whose jurisdiction holds the resident
and whose role may record health visits. The keeper (or someone who manages isolation
there) records a morning and an afternoon visit each day: temperature, symptoms, needs. A
need can become a five-order request in the same tap. A fever or a symptom tells the grid
chief at once. A slot whose deadline passes without a visit is flagged to the keeper by the
sweep (`isolation_sweep`, run by `frontline worker`) and, still missed some hours later,
escalated to the chief of the resident's grid.

State changes of a case are conditional UPDATEs on the status read (`WHERE status =
'open'`), so a release and a reassignment at the same moment cannot both win.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError, PermissionDenied
from frontline.requests.models import Category, Channel, Urgency
from frontline.requests.notify import notify
from frontline.requests.supervision import chiefs_of, grid_of

from .checks import clean_text
from .models import HealthVisit, IsolationCase, IsolationCategory, MissedVisit, VisitSlot

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")
TEXT_MAX = 200
# How far back the sweep looks for missed slots: a worker down for a weekend still flags
# the last days' gaps, and a sweep every minute does not re-read a month of history.
SWEEP_LOOKBACK_DAYS = 3


def _name(user: Any) -> str:
    if user is None:
        return ""
    return (user.get_full_name() or user.username)[:150]


def _text(value: str, what: str, *, required: bool = False) -> str:
    return clean_text(value, TEXT_MAX, what, required=required)


def _audit(case: IsolationCase, *, actor: Any, action: str, detail: dict, ip: str | None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="isolation_case",
        object_id=case.pk,
        region=case.resident.household.building,
        detail=detail,
        ip=ip,
    )


def check_keeper(keeper: Any, target: Any) -> None:
    """A keeper must be an active account whose role records health visits and whose
    jurisdiction holds the resident: otherwise nobody could record the visits."""
    if keeper is None or not getattr(keeper, "is_active", False):
        raise DomainError(_("Choose an active account to keep the case."))
    if not policy_for(keeper).can(Action.RECORD_HEALTH_VISIT, target):
        raise PermissionDenied(
            _("%(name)s cannot keep this case: their role or their place does not cover it.")
            % {"name": _name(keeper)}
        )


def cases_for(user: Any) -> QuerySet:
    """Cases inside the account's jurisdiction, with what every list shows."""
    return IsolationCase.objects.visible_to(user).select_related(
        "resident__household__building", "keeper"
    )


# --- open, reassign, release ---------------------------------------------------------------


def case_open(
    *,
    resident: Any,
    category: str,
    reason: str,
    start: dt.date,
    planned_end: dt.date,
    keeper: Any,
    actor: Any,
    ip: str | None = None,
) -> IsolationCase:
    """Put a resident under home isolation or monitoring, kept by `keeper`."""
    policy_for(actor).require(Action.MANAGE_ISOLATION, resident)
    if category not in IsolationCategory.values:
        raise DomainError(
            _("The category is one of: %(choices)s.")
            % {"choices": ", ".join(IsolationCategory.values)}
        )
    reason = _text(reason, _("reason"), required=True)
    if start is None or planned_end is None:
        raise DomainError(_("Give the start and the planned end."))
    if planned_end < start:
        raise DomainError(_("The planned end cannot be before the start."))
    check_keeper(keeper, resident)
    if resident.household.building is None:
        raise DomainError(_("This household has no building."))
    case = IsolationCase(
        resident=resident,
        category=category,
        reason=reason,
        start=start,
        planned_end=planned_end,
        keeper=keeper,
        opened_by=actor if getattr(actor, "pk", None) else None,
    )
    case.locate(resident.household.building)
    already = _open_case_conflict(resident)
    if already is not None:
        raise already
    try:
        with transaction.atomic():
            case.save()
            _audit(
                case,
                actor=actor,
                action=AuditAction.ISOLATION_OPEN,
                detail={
                    "resident": resident.pk,
                    "category": category,
                    "keeper": keeper.username,
                    "start": start.isoformat(),
                    "planned_end": planned_end.isoformat(),
                },
                ip=ip,
            )
    except IntegrityError:
        # Opened by someone else a moment ago: the database's one-open-case rule held.
        raise _open_case_conflict(resident) or Conflict(_("Nothing was changed.")) from None
    return case


def _open_case_conflict(resident: Any) -> Conflict | None:
    other = (
        IsolationCase.objects.filter(resident=resident, status=IsolationCase.Status.OPEN)
        .select_related("keeper")
        .first()
    )
    if other is None:
        return None
    return Conflict(
        _(
            "%(name)s is already under observation (case %(id)s since %(start)s, kept by "
            "%(keeper)s). Nothing was changed."
        )
        % {
            "name": resident.name,
            "id": other.pk,
            "start": other.start.isoformat(),
            "keeper": _name(other.keeper),
        }
    )


def _not_open(case: IsolationCase) -> Conflict:
    status = (
        IsolationCase.objects.filter(pk=case.pk).values_list("status", flat=True).first()
        or case.status
    )
    return Conflict(
        _("Case %(id)s is “%(status)s”, no longer under observation. Nothing was changed.")
        % {"id": case.pk, "status": IsolationCase.Status(status).label}
    )


def case_reassign(
    *, case: IsolationCase, keeper: Any, actor: Any, ip: str | None = None
) -> IsolationCase:
    """Give an open case to another keeper."""
    policy_for(actor).require(Action.MANAGE_ISOLATION, case)
    check_keeper(keeper, case)
    old = case.keeper_id
    with transaction.atomic():
        won = IsolationCase.objects.filter(
            pk=case.pk, status=IsolationCase.Status.OPEN, keeper_id=old
        ).update(keeper=keeper)
        if won != 1:
            raise _not_open(case)
        _audit(
            case,
            actor=actor,
            action=AuditAction.ISOLATION_CHANGE,
            detail={"step": "reassign", "from": old, "keeper": keeper.username},
            ip=ip,
        )
    case.keeper = keeper
    return case


def case_release(
    *,
    case: IsolationCase,
    at: dt.datetime | None,
    note: str,
    actor: Any,
    ip: str | None = None,
) -> IsolationCase:
    """解除隔离: end an open case with the release record (when, who, the note)."""
    policy_for(actor).require(Action.MANAGE_ISOLATION, case)
    note = _text(note, _("note"))
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise DomainError(_("Give the time with its time zone."))
    if timezone.localdate(at) < case.start:
        raise DomainError(_("A case cannot end before it starts."))
    by = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        won = IsolationCase.objects.filter(pk=case.pk, status=IsolationCase.Status.OPEN).update(
            status=IsolationCase.Status.RELEASED, ended_at=at, end_note=note, ended_by=by
        )
        if won != 1:
            raise _not_open(case)
        _audit(
            case,
            actor=actor,
            action=AuditAction.ISOLATION_CHANGE,
            detail={"step": "release", "at": at.isoformat()},
            ip=ip,
        )
    case.status, case.ended_at, case.end_note, case.ended_by = (
        IsolationCase.Status.RELEASED,
        at,
        note,
        by,
    )
    return case


# --- visits --------------------------------------------------------------------------------


def parse_temperature(value: Any) -> Decimal:
    try:
        temperature = Decimal(str(value).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Give the temperature in °C as a number, e.g. 36.5.")) from None
    if not temperature.is_finite() or not TEMPERATURE_MIN <= temperature <= TEMPERATURE_MAX:
        raise DomainError(
            _(
                "A temperature of %(t)s °C is outside %(lo)s–%(hi)s °C: measure again and "
                "enter it in degrees Celsius."
            )
            % {"t": value, "lo": TEMPERATURE_MIN, "hi": TEMPERATURE_MAX}
        )
    return temperature


def visit_record(
    *,
    case: IsolationCase,
    slot: str,
    temperature: Any,
    symptoms: str,
    needs: str,
    visitor: str,
    actor: Any,
    raise_request: bool = False,
    category: str = Category.OTHER,
    day: dt.date | None = None,
    at: dt.datetime | None = None,
    ip: str | None = None,
) -> HealthVisit:
    """Record the morning or afternoon visit of a day (one per slot and day).

    With `raise_request`, the needs become a five-order request of the resident's
    household in the same transaction (channel: grid worker): the visit is the authority,
    as the household's own link is for a request it registers itself.
    """
    policy_for(actor).require_health_visit(case)
    if case.status != IsolationCase.Status.OPEN:
        raise _not_open(case)
    if slot not in VisitSlot.values:
        raise DomainError(
            _("The visit is one of: %(choices)s.") % {"choices": ", ".join(VisitSlot.values)}
        )
    value = parse_temperature(temperature)
    symptoms = _text(symptoms, _("symptoms"))
    needs = _text(needs, _("needs"))
    visitor = _text(visitor, _("visitors")) or _name(actor)
    at = at or timezone.now()
    day = day or timezone.localdate(at)
    if day < case.start:
        raise DomainError(_("The case starts on %(start)s.") % {"start": case.start})
    if day > timezone.localdate():
        raise DomainError(_("A visit cannot be recorded for a day still to come."))
    if raise_request and not needs:
        raise DomainError(_("Say what the household needs to raise a request."))
    resident = case.resident
    visit = HealthVisit(
        case=case,
        day=day,
        slot=slot,
        at=at,
        by=actor if getattr(actor, "pk", None) else None,
        temperature=value,
        symptoms=symptoms,
        needs=needs,
        visitor=visitor,
    )
    visit.locate(resident.household)
    if HealthVisit.objects.filter(case=case, day=day, slot=slot).exists():
        raise _slot_taken(case, day, slot)
    try:
        with transaction.atomic():
            if raise_request:
                from frontline.requests.services import register

                visit.request = register(
                    actor=actor,
                    household=resident.household,
                    resident=resident,
                    category=category,
                    urgency=Urgency.NORMAL,
                    channel=Channel.GRID_WORKER,
                    description=needs,
                    at=at,
                    ip=ip,
                )
            visit.save()
            _audit(
                case,
                actor=actor,
                action=AuditAction.HEALTH_VISIT,
                detail={
                    "visit": visit.pk,
                    "day": day.isoformat(),
                    "slot": slot,
                    "flagged": visit.flagged,
                    "request": visit.request.number if visit.request else None,
                },
                ip=ip,
            )
    except IntegrityError:
        raise _slot_taken(case, day, slot) from None
    if visit.flagged:
        _notify_flagged(case, visit)
    return visit


def _slot_taken(case: IsolationCase, day: dt.date, slot: str) -> Conflict:
    return Conflict(
        _("The %(slot)s visit of %(day)s to %(name)s is already recorded. Nothing was changed.")
        % {"slot": VisitSlot(slot).label, "day": day.isoformat(), "name": case.resident.name}
    )


def _notify_flagged(case: IsolationCase, visit: HealthVisit) -> int:
    # Notices are stored text: in the deployment's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Health visit flagged: %(name)s, %(day)s %(slot)s") % {
            "name": case.resident.name,
            "day": visit.day.isoformat(),
            "slot": visit.get_slot_display(),
        }
        body = _("%(address)s · %(t)s °C · %(symptoms)s") % {
            "address": case.resident.household.address,
            "t": visit.temperature,
            "symptoms": visit.symptoms or "—",
        }
    return notify(
        recipients=chiefs_of(grid_of(case)),  # type: ignore[arg-type]
        subject=subject,
        body=body,
        url=reverse("isolation_detail", args=[case.pk]),
    )


# --- slots, deadlines and the sweep --------------------------------------------------------


def slot_deadline(day: dt.date, slot: str) -> dt.datetime:
    """When a slot's visit is late: the local deadline of the settings."""
    hours, minutes = (int(x) for x in settings.FRONTLINE_VISIT_DEADLINES[slot].split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hours, minutes)))


def slot_state(case: IsolationCase, day: dt.date, slot: str, done: set, missed: set, now) -> str:
    """done / missed / due / none (a slot the case does not cover)."""
    if not case.start <= day <= case.planned_end:
        return "none"
    if (case.pk, day, slot) in done:
        return "done"
    if (case.pk, day, slot) in missed or slot_deadline(day, slot) <= now:
        return "missed"
    return "due"


def _expected_slots(case: IsolationCase, now: dt.datetime, since: dt.date):
    """The slots of an open case whose deadline has passed, from `since`."""
    today = timezone.localdate(now)
    first = max(case.start, since, timezone.localdate(case.opened_at))
    last = min(case.planned_end, today)
    day = first
    while day <= last:
        for slot in VisitSlot.values:
            deadline = slot_deadline(day, slot)
            # A slot already past when the case was opened was never the keeper's to make.
            if case.opened_at < deadline <= now:
                yield day, slot
        day += dt.timedelta(days=1)


def isolation_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """One pass: flag slots past their deadline with no visit to the keeper, and escalate
    flags still without a visit to the chief of the resident's grid."""
    now = now or timezone.now()
    counts = {"missed": 0, "escalated": 0, "notified": 0}
    since = timezone.localdate(now) - dt.timedelta(days=SWEEP_LOOKBACK_DAYS)
    cases = list(
        IsolationCase.objects.filter(
            status=IsolationCase.Status.OPEN,
            planned_end__gte=since,
            start__lte=timezone.localdate(now),
        ).select_related("resident__household__building", "keeper")
    )
    by_id = {c.pk: c for c in cases}
    done = set(
        HealthVisit.objects.filter(case_id__in=by_id, day__gte=since).values_list(
            "case_id", "day", "slot"
        )
    )
    flagged = set(
        MissedVisit.objects.filter(case_id__in=by_id, day__gte=since).values_list(
            "case_id", "day", "slot"
        )
    )
    for case in cases:
        for day, slot in _expected_slots(case, now, since):
            key = (case.pk, day, slot)
            if key in done or key in flagged:
                continue
            missed = MissedVisit(case=case, day=day, slot=slot, flagged_at=now)
            missed.locate(case.resident.household)
            try:
                with transaction.atomic():
                    missed.save()
            except IntegrityError:
                continue  # another sweep flagged it a moment ago
            counts["missed"] += 1
            counts["notified"] += _notify_missed(case, missed, escalated=False)

    hours = dt.timedelta(hours=settings.FRONTLINE_VISIT_ESCALATE_HOURS)
    waiting = MissedVisit.objects.filter(
        case_id__in=by_id, escalated_at__isnull=True, flagged_at__lte=now - hours
    ).order_by("day", "slot", "id")
    for missed in waiting:
        if (missed.case_id, missed.day, missed.slot) in done:
            continue  # visited late: nothing to escalate
        won = MissedVisit.objects.filter(pk=missed.pk, escalated_at__isnull=True).update(
            escalated_at=now
        )
        if won != 1:
            continue
        missed.escalated_at = now
        counts["escalated"] += 1
        counts["notified"] += _notify_missed(by_id[missed.case_id], missed, escalated=True)
    return counts


def _notify_missed(case: IsolationCase, missed: MissedVisit, *, escalated: bool) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        if escalated:
            subject = _("Still missed: the %(slot)s visit of %(day)s to %(name)s")
        else:
            subject = _("Missed: the %(slot)s visit of %(day)s to %(name)s")
        subject = subject % {
            "slot": missed.get_slot_display(),
            "day": missed.day.isoformat(),
            "name": case.resident.name,
        }
        body = _("%(address)s · kept by %(keeper)s") % {
            "address": case.resident.household.address,
            "keeper": _name(case.keeper),
        }
    recipients = chiefs_of(grid_of(case)) if escalated else [case.keeper]  # type: ignore[arg-type]
    return notify(
        recipients=recipients,
        subject=subject,
        body=body,
        url=reverse("isolation_detail", args=[case.pk]),
    )


# --- reads shared by pages and the API -----------------------------------------------------


def today_board(cases: list[IsolationCase], day: dt.date, now: dt.datetime) -> list[dict]:
    """Each case with the state of the day's two slots (two queries for all cases)."""
    ids = [c.pk for c in cases]
    visits = {(v.case_id, v.slot): v for v in HealthVisit.objects.filter(case_id__in=ids, day=day)}
    missed = set(
        MissedVisit.objects.filter(case_id__in=ids, day=day).values_list("case_id", "day", "slot")
    )
    done = {(cid, day, slot) for cid, slot in visits}
    return [
        {
            "case": case,
            "slots": [
                {
                    "slot": slot,
                    "label": label,
                    "state": slot_state(case, day, slot, done, missed, now),
                    "visit": visits.get((case.pk, slot)),
                }
                for slot, label in VisitSlot.choices
            ],
        }
        for case in cases
    ]


# --- demo ----------------------------------------------------------------------------------

DEMO_REASON = "自上海返回（4月2日抵六），居家隔离观察"


def load_demo(users: dict, say) -> None:
    """A returning person in 安康小区 under home isolation, kept by the deployed cadre,
    with the twice-daily visits of the days so far. Idempotent: a case is found by its
    resident and reason before it is opened, a visit by its slot."""
    from frontline.people.models import Resident

    keeper = users.get("cadre")
    manager = users.get("community_staff")
    if keeper is None or manager is None:
        return
    resident = (
        Resident.objects.filter(
            household__building__path__startswith="裕安区/城南镇/陡步河社区/安康小区/5栋",
            away=False,
            birth_date__lte=dt.date(1996, 1, 1),
            birth_date__gte=dt.date(1976, 1, 1),
        )
        .select_related("household__building")
        .order_by("household__room", "id")
        .first()
    )
    if resident is None:
        return
    case = IsolationCase.objects.filter(resident=resident, reason=DEMO_REASON).first()
    # Relative to the day the demo is first loaded, so the case is open and its keeper has
    # today's two visits to record (a fixed date would leave it past its planned end).
    start = case.start if case else timezone.localdate() - dt.timedelta(days=4)
    if case is None:
        case = case_open(
            resident=resident,
            category=IsolationCategory.HOME_ISOLATION,
            reason=DEMO_REASON,
            start=start,
            planned_end=start + dt.timedelta(days=13),
            keeper=keeper,
            actor=manager,
        )
        # Opened the evening before the first visit, not at the moment the demo loads.
        when = timezone.make_aware(dt.datetime.combine(start, dt.time(9, 0)))
        IsolationCase.objects.filter(pk=case.pk).update(opened_at=when)
        case.opened_at = when
    readings = ("36.4", "36.6", "36.5", "36.7", "36.3", "36.5", "36.6", "36.4")
    recorded = 0
    for i, temperature in enumerate(readings):
        day = start + dt.timedelta(days=i // 2)
        slot = VisitSlot.values[i % 2]
        if day > timezone.localdate():
            break
        if HealthVisit.objects.filter(case=case, day=day, slot=slot).exists():
            continue
        at = timezone.make_aware(
            dt.datetime.combine(day, dt.time(8, 30) if slot == "am" else dt.time(16, 30))
        )
        visit_record(
            case=case,
            slot=slot,
            temperature=temperature,
            symptoms="",
            needs="",
            visitor="钟鸣、许晓燕",
            actor=keeper,
            day=day,
            at=at,
        )
        recorded += 1
    say(f"home isolation: 1 case, {recorded} visits recorded")


def isolation_figures(region: Any, day: dt.date | None = None) -> dict[str, int]:
    """For the health stats (h-zones): people under observation in `region`, and visit
    slots flagged missed on `day` (default today). Two counts."""
    day = day or timezone.localdate()
    return {
        "home_isolation": IsolationCase.objects.within(region)
        .filter(status=IsolationCase.Status.OPEN)
        .count(),
        "visits_missed_today": MissedVisit.objects.within(region).filter(day=day).count(),
    }
