"""Writes to households and residents outside the census sheets."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError

from .census import refresh_household_aggregates
from .models import Household, Resident, ResidentCareGroup

_LOCATION_FIELDS = ("district_id", "township_id", "community_id", "compound_id", "building_id")
REASON_MAX_LENGTH = 200


def _place(household: Household) -> dict[str, Any]:
    return {
        "household": household.pk,
        "path": household.building.path if household.building is not None else "",
        "unit": household.unit,
        "room": household.room,
    }


def resident_transfer(
    *,
    resident: Resident,
    household: Household,
    actor: Any,
    reason: str,
    ip: str | None = None,
) -> Resident:
    """Move one resident into another, existing household, anywhere in the city.

    The census import never moves anybody across jurisdictions (a clerk could otherwise
    take in, and so learn about, a person registered elsewhere). Moving someone between
    two places is this explicit act instead, by someone whose jurisdiction covers both:
    the actor's role must allow transfers, and the resident where they live now and the
    target household must both be inside. `actor` None is the system (a command run
    without `--as`). The move, the member counts of both households, the located columns
    of the resident's care groups and the audit record are written in one transaction.
    """
    reason = (reason or "").strip()
    # Where the resident and the household are now, not where a caller's copy says.
    current = Resident.objects.get(pk=resident.pk)
    target = Household.objects.select_related("building").get(pk=household.pk)
    if actor is not None:
        policy = policy_for(actor)
        policy.require(Action.TRANSFER, current)
        policy.require(Action.TRANSFER, target)
    if not reason:
        raise DomainError(_("Give the reason for the transfer."))
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            _("The reason is longer than %(limit)d characters.") % {"limit": REASON_MAX_LENGTH}
        )
    source = Household.objects.select_related("building").get(pk=current.household_id)
    if source.pk == target.pk:
        raise DomainError(_("The resident already lives in this household."))
    location = {field: getattr(target, field) for field in _LOCATION_FIELDS}
    with transaction.atomic():
        # Conditional on where the resident was read to live: a concurrent import or
        # transfer that moved them first wins, and this one says so instead of undoing it.
        moved = Resident.objects.filter(pk=resident.pk, household_id=source.pk).update(
            household_id=target.pk, **location
        )
        if not moved:
            raise DomainError(_("The resident was moved by someone else meanwhile; try again."))
        ResidentCareGroup.objects.filter(resident_id=resident.pk).update(**location)
        refresh_household_aggregates([source.pk, target.pk])
        audit_record(
            actor=actor,
            action=AuditAction.TRANSFER,
            object_type="resident",
            object_id=resident.pk,
            region=target.building,
            detail={"from": _place(source), "to": _place(target), "reason": reason},
            ip=ip,
        )
    resident.refresh_from_db()
    return resident
