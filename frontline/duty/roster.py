"""The 24-hour duty roster: posts, shifts, gaps, check-in and check-out, patrol logs, hours.

A shift is the half-open interval [start, end): a shift ending at 08:00 and the next one
starting at 08:00 leave no gap and do not overlap. One person is never on two shifts at
once; the check and the insert run under a lock on the person's account row, so that two
schedulers adding shifts for the same person at the same moment cannot both succeed:
`select_for_update` holds the row on PostgreSQL, and on SQLite every write transaction
opens as `BEGIN IMMEDIATE` (settings.py), which serialises the whole transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError, NotFound
from frontline.territory.models import Level, Region

from .models import CareRecord, PatrolLog, Post, Shift
from .services import _choice, _name, _require, check_person_available

# The longest window a gap query or a shift may cover: a shift is at most a day, the
# roster is read a month at a time at most.
MAX_SHIFT = dt.timedelta(hours=24)
MAX_WINDOW = dt.timedelta(days=31)
# A check-in is accepted from this long before the shift starts until it ends.
EARLY_CHECK_IN = dt.timedelta(hours=1)


class ShiftOverlap(DomainError):
    """The person is on another shift at that time (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="conflict")


def weekly_hours_limit() -> int:
    return int(getattr(settings, "FRONTLINE_DUTY_WEEKLY_HOURS", 60))


# --- posts ------------------------------------------------------------------------------


def post_create(*, region: Region, name: str, kind: str, actor: Any = None) -> Post:
    _require(actor, Action.MANAGE_DUTY, region)
    if region.level < Level.COMMUNITY:
        raise DomainError(_("A post stands at a community, a compound or a building."))
    name = _name(name)
    _choice(kind, Post.Kind, _("kind"))
    if Post.objects.filter(region=region, name=name).exists():
        raise DomainError(_("A post named “%(name)s” exists here already.") % {"name": name})
    post = Post(region=region, name=name, kind=kind)
    post.locate(region)
    with transaction.atomic():
        post.save()
    return post


def posts_for(user: Any, region: Region | None = None) -> QuerySet[Post]:
    posts = Post.objects.visible_to(user)
    if region is not None:
        posts = posts.within(region)
    return posts.select_related("region").order_by("region__path", "name", "id")


# --- shifts -----------------------------------------------------------------------------


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if timezone.is_naive(value):
        raise DomainError(
            _("The %(what)s needs a time zone offset, e.g. 2026-04-04T20:00:00+08:00.")
            % {"what": what}
        )
    return value


def shift_create(
    *, post: Post, person: Any, start: dt.datetime, end: dt.datetime, actor: Any = None
) -> Shift:
    """Put `person` on `post` from `start` to `end`; ShiftOverlap if they are busy then."""
    _require(actor, Action.MANAGE_DUTY, post)
    start, end = _aware(start, _("start")), _aware(end, _("end"))
    if end <= start:
        raise DomainError(_("A shift ends after it starts."))
    if end - start > MAX_SHIFT:
        raise DomainError(_("A shift is at most 24 hours."))
    check_person_available(actor, person)
    from frontline.accounts.models import User

    with transaction.atomic():
        # The lock: see the module's docstring.
        User.objects.select_for_update().only("id").get(pk=person.pk)
        clash = (
            Shift.objects.filter(person=person, start__lt=end, end__gt=start)
            .select_related("post")
            .order_by("start")
            .first()
        )
        if clash is not None:
            local = timezone.localtime
            raise ShiftOverlap(
                _(
                    "%(person)s is already on duty at %(post)s from %(start)s to %(end)s; "
                    "a person cannot be on two shifts at once."
                )
                % {
                    "person": person.get_full_name() or person.username,
                    "post": clash.post.name,
                    "start": f"{local(clash.start):%Y-%m-%d %H:%M}",
                    "end": f"{local(clash.end):%Y-%m-%d %H:%M}",
                }
            )
        shift = Shift(post=post, person=person, start=start, end=end)
        shift.locate(post.region)
        shift.save()
    return shift


@dataclass(frozen=True)
class Gap:
    start: dt.datetime
    end: dt.datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def check_window(start: dt.datetime, end: dt.datetime) -> None:
    _aware(start, _("start"))
    _aware(end, _("end"))
    if end <= start:
        raise DomainError(_("The window ends after it starts."))
    if end - start > MAX_WINDOW:
        raise DomainError(_("The window is at most 31 days."))


def merge_gaps(
    intervals: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime
) -> list[Gap]:
    """The parts of [start, end) that no interval covers, merged and in order."""
    gaps: list[Gap] = []
    cursor = start
    for s, e in sorted(intervals):
        if e <= cursor:
            continue
        if s > cursor:
            gaps.append(Gap(cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append(Gap(cursor, end))
    return [g for g in gaps if g.end > g.start]


def post_gaps(post: Post, start: dt.datetime, end: dt.datetime) -> list[Gap]:
    """The uncovered intervals of a post in [start, end): one query."""
    check_window(start, end)
    covered = Shift.objects.filter(post=post, start__lt=end, end__gt=start).values_list(
        "start", "end"
    )
    return merge_gaps(list(covered), start, end)


def gaps_by_post(
    posts: list[Post],
    start: dt.datetime,
    end: dt.datetime,
    shifts: QuerySet[Shift] | None = None,
) -> dict[int, list[Gap]]:
    """Gaps of many posts in one query (the roster page, the stats). `shifts`, when given,
    holds at least the shifts of `posts` (a region's: `Shift.objects.within(region)`)."""
    intervals: dict[int, list] = defaultdict(list)
    if shifts is None:
        shifts = Shift.objects.filter(post__in=[p.pk for p in posts])
    for post_id, s, e in shifts.filter(start__lt=end, end__gt=start).values_list(
        "post_id", "start", "end"
    ):
        intervals[post_id].append((s, e))
    return {p.pk: merge_gaps(intervals[p.pk], start, end) for p in posts}


def shift_for_person(user: Any, pk: Any) -> Shift:
    """The user's own shift; anybody else's reads as nonexistent (404)."""
    shift = (
        Shift.objects.filter(pk=pk, person_id=getattr(user, "pk", None))
        .select_related("post")
        .first()
        if str(pk).isdigit()
        else None
    )
    if shift is None or not policy_for(user).active:
        raise NotFound(_("No such shift of yours."))
    return shift


def shift_check_in(*, shift: Shift, actor: Any, at: dt.datetime | None = None) -> Shift:
    """The person on the shift arrives; the time is recorded once (a retry answers the
    recorded time)."""
    if actor is None or shift.person_id != actor.pk:
        raise NotFound(_("No such shift of yours."))
    at = at or timezone.now()
    if at < shift.start - EARLY_CHECK_IN:
        raise DomainError(_("Too early: check in at most an hour before the shift starts."))
    if at >= shift.end:
        raise DomainError(_("This shift is over."))
    Shift.objects.filter(pk=shift.pk, checked_in_at__isnull=True).update(checked_in_at=at)
    shift.refresh_from_db(fields=["checked_in_at", "checked_out_at"])
    return shift


def shift_check_out(*, shift: Shift, actor: Any, at: dt.datetime | None = None) -> Shift:
    if actor is None or shift.person_id != actor.pk:
        raise NotFound(_("No such shift of yours."))
    if shift.checked_in_at is None:
        raise DomainError(_("Check in first."))
    at = at or timezone.now()
    Shift.objects.filter(pk=shift.pk, checked_out_at__isnull=True).update(
        checked_out_at=max(at, shift.checked_in_at)
    )
    shift.refresh_from_db(fields=["checked_in_at", "checked_out_at"])
    return shift


def patrol_log(*, shift: Shift, actor: Any, note: str) -> PatrolLog:
    if actor is None or shift.person_id != actor.pk:
        raise NotFound(_("No such shift of yours."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Write what the patrol found."))
    log = PatrolLog(shift=shift, at=timezone.now(), note=note[:1000])
    _copy = ("district", "township", "community", "compound", "building")
    for name in _copy:
        setattr(log, f"{name}_id", getattr(shift, f"{name}_id"))
    log.save()
    return log


def person_day(user: Any, day: dt.date | None = None) -> list[Shift]:
    """The person's shifts that touch the local day (the "today" page)."""
    day = day or timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    return list(
        Shift.objects.filter(person=user, start__lt=end, end__gt=start)
        .select_related("post__region")
        .order_by("start")
    )


def weekly_hours(people: list[Any], week_start: dt.date) -> dict[int, float]:
    """Hours on duty per person in the week from `week_start` (a Monday); one query."""
    start = timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    end = start + dt.timedelta(days=7)
    hours: dict[int, float] = defaultdict(float)
    for person_id, s, e in Shift.objects.filter(
        person__in=[p.pk for p in people], start__lt=end, end__gt=start
    ).values_list("person_id", "start", "end"):
        hours[person_id] += (min(e, end) - max(s, start)).total_seconds() / 3600
    return dict(hours)


def care_record_add(
    *, person: Any, kind: str, note: str = "", day: dt.date | None = None, actor: Any = None
) -> CareRecord:
    """Care for a worker (关心关爱): meals, lodging, protective gear, cold-weather supplies,
    recorded at the worker's place by someone who keeps the roster there."""
    check_person_available(actor, person)
    _require(actor, Action.MANAGE_DUTY, person.region)
    _choice(kind, CareRecord.Kind, _("kind"))
    record = CareRecord(
        person=person, kind=kind, note=(note or "").strip()[:200], day=day or timezone.localdate()
    )
    record.locate(person.region)
    record.save()
    return record


def care_records_for(person: Any, since: dt.date) -> QuerySet[CareRecord]:
    return CareRecord.objects.filter(person=person, day__gte=since).order_by("-day", "-id")


def span_label(start: dt.datetime, end: dt.datetime, day: dt.date) -> str:
    """A stretch of a day's roster as a duty officer reads it: clock times on `day`, an
    end at the next midnight as 24:00 (not a second 00:00), the date before a time on
    another day."""
    first, last = timezone.localtime(start), timezone.localtime(end)

    def clock(moment: dt.datetime, is_end: bool) -> str:
        if moment.date() == day:
            return f"{moment:%H:%M}"
        if is_end and moment.time() == dt.time.min and moment.date() == day + dt.timedelta(1):
            return "24:00"
        return f"{moment:%m-%d %H:%M}"

    return f"{clock(first, False)}–{clock(last, True)}"
