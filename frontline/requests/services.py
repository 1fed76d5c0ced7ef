"""Every write to a request: registering it and moving it through the five orders.

One transition table, one transition function. A step is a conditional
`UPDATE ... WHERE id = X AND status = <old> AND assignee = <old>`: the row count says
whether this caller won. It serialises on PostgreSQL (the row lock) and on SQLite (write
transactions open IMMEDIATE), so two dispatchers at the same moment cannot both win; the
loser gets `Conflict` (HTTP 409) and nothing changes. Each step writes one history row
and one audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import Conflict, DomainError, PermissionDenied
from frontline.people.models import Household, Resident

from . import photos as request_photos
from .models import (
    OPEN_STATUSES,
    Category,
    Channel,
    DaySequence,
    Request,
    RequestEvent,
    Status,
    Urgency,
)

DESCRIPTION_MAX = 2000
NOTE_MAX = 1000
IDEMPOTENCY_KEY_MAX = 100

# step → (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "dispatch": ((Status.RECEIVED,), Status.DISPATCHED),
    "deliver": ((Status.DISPATCHED,), Status.DELIVERING),
    "report": ((Status.DELIVERING,), Status.REPORTED),
    "close": ((Status.REPORTED,), Status.CLOSED),
    "cancel": (OPEN_STATUSES, Status.CANCELLED),
    "return": ((Status.DISPATCHED, Status.DELIVERING), Status.RECEIVED),
}

STEP_LABELS = {
    "receive": pgettext_lazy("request step", "Receive"),
    "dispatch": pgettext_lazy("request step", "Dispatch"),
    "deliver": pgettext_lazy("request step", "Deliver"),
    "report": pgettext_lazy("request step", "Report"),
    "close": pgettext_lazy("request step", "Close"),
    "cancel": pgettext_lazy("request step", "Cancel"),
    "return": pgettext_lazy("request step", "Return"),
}


def steps_from(status: str) -> list[str]:
    """The steps the transition table allows from `status`, in table order."""
    return [step for step, (sources, _to) in TRANSITIONS.items() if status in sources]


# --- time limits ---------------------------------------------------------------------------


def limits_for(category: str, urgency: str) -> tuple[int, int]:
    """(minutes to dispatch, minutes to close) for a category and urgency, from settings."""
    table: dict[str, dict[str, int]] = settings.FRONTLINE_REQUEST_LIMITS
    line = {**table.get(urgency, {}), **table.get(f"{category}/{urgency}", {})}
    return int(line.get("dispatch", 120)), int(line.get("close", 24 * 60))


# --- numbers -------------------------------------------------------------------------------


def _next_seq(day: dt.date) -> int:
    """The next sequence number of the day, city-wide.

    One upsert that increments and returns the counter: on PostgreSQL the row lock it takes
    holds until the caller's transaction commits, on SQLite the IMMEDIATE transaction
    already holds the write lock, so two creations never read the same value.
    """
    table = DaySequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 (table name is ours)
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day.isoformat()],
        )
        return int(cursor.fetchone()[0])


def format_number(day: dt.date, seq: int) -> str:
    return f"Q{day:%m%d}-{seq:03d}"


# --- helpers -------------------------------------------------------------------------------


def _name(actor: Any) -> str:
    if actor is None:
        return ""
    return (actor.get_full_name() or actor.username)[:150]


def _clean(text: str, limit: int) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise DomainError(_("A note is at most %(n)d characters.") % {"n": limit})
    return text


def _choice(value: str, choices: Any, what: str) -> str:
    if value not in choices.values:
        raise DomainError(
            _("The %(what)s is one of: %(choices)s.")
            % {"what": what, "choices": ", ".join(choices.values)}
        )
    return value


def _audit(request: Request, *, actor: Any, action: str, detail: dict, ip: str | None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="request",
        object_id=request.pk,
        region=request.household.building,
        detail={"number": request.number, **detail},
        ip=ip,
    )


# --- create --------------------------------------------------------------------------------


def request_create(
    *,
    actor: Any,
    household: Household,
    category: str,
    description: str,
    urgency: str = Urgency.NORMAL,
    channel: str = Channel.GRID_WORKER,
    resident: Resident | None = None,
    idempotency_key: str = "",
    at: dt.datetime | None = None,
    ip: str | None = None,
    photos: Any = (),
) -> Request:
    """Register a request for a household inside the actor's jurisdiction.

    With an `idempotency_key`, a second call by the same actor with the same key returns
    the first request (its `replayed` attribute is True) and creates nothing.
    """
    policy_for(actor).require(Action.CREATE_REQUEST, household)
    return register(
        actor=actor,
        household=household,
        category=category,
        description=description,
        urgency=urgency,
        channel=channel,
        resident=resident,
        idempotency_key=idempotency_key,
        at=at,
        ip=ip,
        photos=photos,
    )


def register(
    *,
    actor: Any,
    household: Household,
    category: str,
    description: str,
    urgency: str,
    channel: str,
    resident: Resident | None = None,
    idempotency_key: str = "",
    at: dt.datetime | None = None,
    ip: str | None = None,
    photos: Any = (),
    actor_name: str = "",
) -> Request:
    """Register a request whose author is already authorised (by the policy, or by the
    household's own signed link): validate, number, flag duplicates, write; with up to
    FRONTLINE_REQUEST_PHOTOS_MAX photos (checked before anything is written)."""
    _choice(category, Category, _("category"))
    _choice(urgency, Urgency, _("urgency"))
    _choice(channel, Channel, _("channel"))
    description = (description or "").strip()
    if not description:
        raise DomainError(_("Say what the household needs."))
    if len(description) > DESCRIPTION_MAX:
        raise DomainError(_("A description is at most %(n)d characters.") % {"n": DESCRIPTION_MAX})
    if resident is not None and resident.household_id != household.pk:
        raise DomainError(_("This resident does not live in this household."))
    if household.building is None:
        raise DomainError(_("This household has no building."))
    checked = request_photos.check_photos(photos)
    key = (idempotency_key or "").strip()[:IDEMPOTENCY_KEY_MAX]
    creator = actor if getattr(actor, "pk", None) else None
    # No look for the key before writing: the unique constraint on (creator, key) answers
    # it in the INSERT, and a repeated key (a client's retry: rare) rolls back and is
    # answered from the first request below. A look first cost every creation one more
    # query (~15 % of its CPU, bench/README.md).
    try:
        with transaction.atomic():
            request = _insert(
                actor=creator,
                household=household,
                category=category,
                urgency=urgency,
                channel=channel,
                description=description,
                resident=resident,
                key=key,
                at=at or timezone.now(),
                ip=ip,
            )
            request_photos.photos_store(
                request=request,
                step="receive",
                photos=checked,
                actor=creator,
                actor_name=actor_name,
            )
    except IntegrityError:
        # The key was used before (or at the same moment): answer with the first request.
        first = _replay(creator, key) if key else None
        if first is None:
            raise
        return first
    request.replayed = False  # type: ignore[attr-defined]
    return request


def _replay(creator: Any, key: str) -> Request | None:
    first = (
        Request.objects.select_related("household__building")
        .filter(created_by=creator, idempotency_key=key)
        .first()
    )
    if first is not None:
        first.replayed = True  # type: ignore[attr-defined]
    return first


def _insert(
    *,
    actor: Any,
    household: Household,
    category: str,
    urgency: str,
    channel: str,
    description: str,
    resident: Resident | None,
    key: str,
    at: dt.datetime,
    ip: str | None,
) -> Request:
    day = timezone.localdate(at)
    seq = _next_seq(day)
    dispatch_minutes, close_minutes = limits_for(category, urgency)
    duplicate = (
        Request.objects.open()
        .filter(household=household, category=category)
        .order_by("created_at", "id")
        .only("number")  # the link and the number the answer shows
        .first()
    )
    request = Request(
        number=format_number(day, seq),
        day=day,
        seq=seq,
        household=household,
        resident=resident,
        category=category,
        urgency=urgency,
        channel=channel,
        description=description,
        created_by=actor,
        created_at=at,
        status_changed_at=at,
        dispatch_due=at + dt.timedelta(minutes=dispatch_minutes),
        close_due=at + dt.timedelta(minutes=close_minutes),
        duplicate_of=duplicate,
        idempotency_key=key,
    )
    request.locate(household.building)  # type: ignore[arg-type]
    request.save()
    RequestEvent.objects.create(
        request=request,
        step="receive",
        from_status="",
        to_status=Status.RECEIVED,
        actor=actor,
        actor_name=_name(actor),
        at=at,
        note=description[:NOTE_MAX],
    )
    _audit(
        request,
        actor=actor,
        action=AuditAction.REQUEST_CREATE,
        detail={"category": category, "urgency": urgency, "channel": channel},
        ip=ip,
    )
    return request


# --- the one transition function -----------------------------------------------------------


def request_transition(
    *,
    request: Request,
    step: str,
    actor: Any,
    note: str = "",
    assignee: Any = None,
    changes: dict[str, Any] | None = None,
    actor_name: str = "",
    ip: str | None = None,
) -> Request:
    """Move `request` one step, if the table allows it from the state it is in now.

    Callers check the policy first (the step functions below). Raises Conflict when the
    step is not allowed from the current state, or when someone else moved the request
    since it was read; then nothing is written.
    """
    sources, target = TRANSITIONS[step]
    old_status, old_assignee = request.status, request.assignee_id
    if old_status not in sources:
        raise _conflict(request, step, old_status)
    now = timezone.now()
    values: dict[str, Any] = {"status": target, "status_changed_at": now, **(changes or {})}
    if step == "dispatch":
        values["assignee"] = assignee
    elif step == "return":
        values["assignee"] = None
    elif step == "close":
        values["closed_at"] = now
    with transaction.atomic():
        won = Request.objects.filter(
            pk=request.pk, status=old_status, assignee_id=old_assignee
        ).update(**values)
        if won != 1:
            current = Request.objects.filter(pk=request.pk).values_list("status", flat=True).first()
            raise _conflict(request, step, current or old_status, moved=True)
        RequestEvent.objects.create(
            request=request,
            step=step,
            from_status=old_status,
            to_status=target,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor_name or _name(actor),
            at=now,
            note=note,
        )
        _audit(
            request,
            actor=actor,
            action=AuditAction.REQUEST_STEP,
            detail={"step": step, "from": old_status, "to": str(target)},
            ip=ip,
        )
    for field, value in values.items():
        setattr(request, field, value)
    return request


def _conflict(request: Request, step: str, status: str, *, moved: bool = False) -> Conflict:
    label = Status(status).label if status in Status.values else status
    if moved:
        message = _(
            "Request %(number)s was changed by someone else meanwhile and is now “%(status)s”. "
            "Nothing was changed; reload it."
        )
    else:
        message = _(
            "Request %(number)s is “%(status)s”: “%(step)s” is not possible from there. "
            "Nothing was changed."
        )
    return Conflict(
        message % {"number": request.number, "status": label, "step": STEP_LABELS[step]}
    )


# --- the steps ------------------------------------------------------------------------------


def request_dispatch(
    *, request: Request, assignee: Any, actor: Any, note: str = "", ip: str | None = None
) -> Request:
    """派单: give the request to one assignee, who must work inside the request's place."""
    policy_for(actor).require(Action.DISPATCH_REQUEST, request)
    if assignee is None or not getattr(assignee, "is_active", False):
        raise DomainError(_("Choose an active account to dispatch to."))
    if not policy_for(assignee).may_take_request(request):
        raise PermissionDenied(
            _("%(name)s cannot take this request: their role or their place does not cover it.")
            % {"name": _name(assignee)}
        )
    note = _clean(note, NOTE_MAX) or _("To %(name)s") % {"name": _name(assignee)}
    return request_transition(
        request=request, step="dispatch", actor=actor, note=note, assignee=assignee, ip=ip
    )


def request_deliver(
    *, request: Request, actor: Any, note: str = "", ip: str | None = None
) -> Request:
    """送单: the assignee is on it."""
    policy_for(actor).require_step_request(request)
    return request_transition(
        request=request, step="deliver", actor=actor, note=_clean(note, NOTE_MAX), ip=ip
    )


def request_report(
    *, request: Request, actor: Any, note: str = "", photos: Any = (), ip: str | None = None
) -> Request:
    """交单: the assignee reports it done, with a note and up to
    FRONTLINE_REQUEST_PHOTOS_MAX photos (checked before anything is written)."""
    policy_for(actor).require_step_request(request)
    note = _clean(note, NOTE_MAX)
    checked = request_photos.check_photos(photos)
    with transaction.atomic():
        request_transition(request=request, step="report", actor=actor, note=note, ip=ip)
        request_photos.photos_store(request=request, step="report", photos=checked, actor=actor)
    return request


def request_close(
    *,
    request: Request,
    actor: Any,
    satisfaction: int,
    note: str = "",
    ip: str | None = None,
) -> Request:
    """消单: checked with the resident, closed with a satisfaction from 1 to 5."""
    policy_for(actor).require(Action.CLOSE_REQUEST, request)
    return close(request=request, actor=actor, satisfaction=satisfaction, note=note, ip=ip)


def close(
    *,
    request: Request,
    actor: Any,
    satisfaction: Any,
    note: str = "",
    actor_name: str = "",
    ip: str | None = None,
) -> Request:
    """消单 by someone already authorised (a person the policy allows, or the household
    through its own link)."""
    try:
        satisfaction = int(satisfaction)
    except (TypeError, ValueError):
        satisfaction = 0
    if not 1 <= satisfaction <= 5:
        raise DomainError(_("Satisfaction is a whole number from 1 to 5."))
    return request_transition(
        request=request,
        step="close",
        actor=actor,
        note=_clean(note, NOTE_MAX),
        changes={"satisfaction": satisfaction},
        actor_name=actor_name,
        ip=ip,
    )


def request_cancel(*, request: Request, actor: Any, reason: str, ip: str | None = None) -> Request:
    policy_for(actor).require(Action.DISPATCH_REQUEST, request)
    reason = _clean(reason, NOTE_MAX)
    if not reason:
        raise DomainError(_("Give a reason."))
    return request_transition(request=request, step="cancel", actor=actor, note=reason, ip=ip)


def request_return(*, request: Request, actor: Any, reason: str, ip: str | None = None) -> Request:
    """The assignee hands the request back; it is received again, for someone else."""
    policy_for(actor).require_step_request(request)
    reason = _clean(reason, NOTE_MAX)
    if not reason:
        raise DomainError(_("Give a reason."))
    return request_transition(request=request, step="return", actor=actor, note=reason, ip=ip)
