"""Reads shared with other apps: who can be asked to do something at a place.

The five-order workflow (issue 7) suggests assignees from here: the people holding one of
the ten roles at a compound, then the rest of its confirmed reporters, each with whether
they are on a shift right now, so that a dispatcher sees who is free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from frontline.territory.models import Region

from .models import Report, RoleAssignment, Shift


@dataclass(frozen=True)
class Candidate:
    person: Any
    roles: tuple[str, ...]
    on_duty: bool


def suggested_people(
    user: Any,
    compound: Region | int,
    role: str | Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> list[Candidate]:
    """People at `compound` (inside `user`'s jurisdiction) who hold `role` (one of several
    roles; any role when None), then confirmed reporters without a role; free people
    first. Three queries (two with a role)."""
    now = now or timezone.now()
    compound_id = compound if isinstance(compound, int) else compound.pk
    assignments = RoleAssignment.objects.visible_to(user).filter(compound_id=compound_id)
    if isinstance(role, str):
        assignments = assignments.filter(role=role)
    elif role is not None:
        assignments = assignments.filter(role__in=list(role))
    roles: dict[int, list[str]] = {}
    people: dict[int, Any] = {}
    # The person's region comes along: callers ask the policy whether they may take work.
    for a in assignments.select_related("person__region").order_by("role", "id"):
        roles.setdefault(a.person_id, []).append(a.role)
        people[a.person_id] = a.person
    if role is None:
        for r in (
            Report.objects.visible_to(user)
            .filter(compound_id=compound_id, state=Report.State.CONFIRMED, user__isnull=False)
            .select_related("user")
        ):
            people.setdefault(r.user_id, r.user)
    busy = set(
        Shift.objects.filter(person_id__in=list(people), start__lte=now, end__gt=now).values_list(
            "person_id", flat=True
        )
    )
    candidates = [
        Candidate(p, tuple(roles.get(pk, ())), pk in busy)
        for pk, p in people.items()
        if p.is_active
    ]
    return sorted(candidates, key=lambda c: (c.on_duty, not c.roles, c.person.username))
