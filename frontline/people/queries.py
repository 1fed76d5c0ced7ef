"""Reads over households and residents shared by the pages and the API.

Reads of personal data are audited here, in the one place that serves them, so that the
page and the API cannot differ on what leaves a trace.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.core.masking import mask_id_number, mask_phone
from frontline.core.ratelimit import rate_limit

from .labels import CARE_GROUP_BY_LABEL
from .models import Household, Resident

# The longest query a person types: a name, a phone, an 18-character ID number, or a
# care group's label, with room to spare. Longer is a paste gone wrong, said so plainly.
MAX_QUERY_LENGTH = 32

_SPACES = re.compile(r"\s+")
_PHONE_TAIL = re.compile(r"^\d{4}$")
_MOBILE = re.compile(r"^1\d{10}$")
# A whole or nearly whole identifier: more digits than a phone's last four. Such a query
# from a role that sees the identifier masked would answer "is this the number?".
_IDENTIFIER = re.compile(r"^\d{5,}[\dXx]?$")
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


class SearchRefused(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="search_refused")


def _kind(text: str) -> str:
    if text in CARE_GROUP_BY_LABEL:
        return "care_group"
    if _PHONE_TAIL.match(text):
        return "phone_tail"
    if _MOBILE.match(text):
        return "mobile"
    if _ID_NUMBER.match(text):
        return "id_number"
    if _IDENTIFIER.match(text):
        return "digits"
    return "name"


def check_search(user: Any, text: str) -> str:
    """Refuse a query that a role could use to confirm a hidden identifier.

    A role that sees ID numbers masked may not search by an ID number (or any run of
    digits longer than a phone's last four: a partial ID narrows just as well); one that
    sees phones masked may not search by a whole phone. Both keep the name and the last
    four digits, which is what the masked forms show anyway.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchRefused(query_too_long())
    policy = policy_for(user)
    kind = _kind(text)
    if kind == "mobile" and not policy.sees_full_phone:
        raise SearchRefused(
            _(
                "Your role sees phone numbers masked, so it cannot search by a whole phone "
                "number. Search by name or by the last four digits."
            )
        )
    if kind == "id_number" and not policy.sees_full_id:
        raise SearchRefused(
            _(
                "Your role sees ID numbers masked, so it cannot search by ID number. "
                "Search by name or by the last four digits of a phone."
            )
        )
    if kind == "digits" and not (policy.sees_full_id and policy.sees_full_phone):
        raise SearchRefused(
            _(
                "Search by name, by the last four digits of a phone, or (where your role "
                "allows) by a whole phone or ID number."
            )
        )
    return kind


def query_too_long() -> str:
    return _("The query is too long: at most %(n)d characters.") % {"n": MAX_QUERY_LENGTH}


_DIGIT = re.compile(r"\d")


def masked_query(text: str) -> str:
    """The query as the audit trail keeps it: identifiers masked, names as typed.

    Whatever the shape (an ID, a phone with dashes or +86, a name run together with a
    number), a query with more than four digits keeps only its last four: the trail
    records who looked for whom, it must not become a second copy of the numbers.
    """
    kind = _kind(text)
    if kind == "id_number":
        return mask_id_number(text.upper())
    if kind == "mobile":
        return mask_phone(text)
    digits = len(_DIGIT.findall(text))
    if digits <= 4:
        return text
    hide = digits - 4
    out = []
    for ch in text:
        if hide and ch.isdigit():
            out.append("*")
            hide -= 1
        else:
            out.append(ch)
    return "".join(out)


def normalise_query(text: str) -> str:
    return _SPACES.sub("", text or "")


def search_residents(queryset: QuerySet[Resident], text: str) -> QuerySet[Resident]:
    """What people say at a gate: a name, the last four digits of a phone, an ID number,
    or the label of a care group (独居老人, 透析, ...), which lists that group.

    Callers go through `resident_search_for`, which checks the role and the rate first.
    """
    text = normalise_query(text)
    if not text:
        return queryset
    kind = _kind(text)
    if kind == "phone_tail":
        return queryset.filter(phone_tail=text)
    if kind == "mobile":
        # A whole mobile number, as people read it off a list.
        return queryset.filter(phone=text)
    if kind == "id_number":
        # The check digit X is written in either case; the database holds it upper-case.
        return queryset.filter(id_number=text.upper())
    if kind == "digits":
        return queryset.none()
    if kind == "care_group":
        # "透析" finds the dialysis patients: the label, typed as the sheet spells it.
        return queryset.filter(care_groups__group=CARE_GROUP_BY_LABEL[text])
    return queryset.filter(Q(name__contains=text))


def resident_search_for(
    user: Any, text: str, *, channel: str, ip: str | None = None
) -> QuerySet[Resident]:
    """Residents in the user's jurisdiction matching `text`: refused for a query that
    would confirm a hidden identifier, limited in rate per account, and audited."""
    text = normalise_query(text)
    residents = Resident.objects.visible_to(user)
    if text:
        try:
            check_search(user, text)
        except SearchRefused:
            # A refused guess is still a look for someone: it leaves a trace.
            audit_record(
                actor=user,
                action=AuditAction.SEARCH,
                object_type="resident",
                region=policy_for(user).jurisdiction,
                detail={"query": masked_query(text), "channel": channel, "refused": True},
                ip=ip,
            )
            raise
        rate_limit(
            scope="search",
            key=getattr(user, "pk", None),
            limit=settings.FRONTLINE_SEARCH_PER_MINUTE,
        )
    # A listing without a query is a bulk read of personal data: it leaves a trace too.
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        object_type="resident",
        region=policy_for(user).jurisdiction,
        detail={"query": masked_query(text), "channel": channel},
        ip=ip,
    )
    return search_residents(residents, text) if text else residents


def households_for(user: Any, *, channel: str, ip=None) -> QuerySet[Household]:
    """The households in the user's jurisdiction, as a list a client reads (audited:
    a household carries its contact phone)."""
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        object_type="household",
        region=policy_for(user).jurisdiction,
        detail={"query": "", "channel": channel},
        ip=ip,
    )
    return Household.objects.visible_to(user)


def _shown(user: Any) -> dict[str, bool]:
    policy = policy_for(user)
    return {
        "full_id": policy.can(Action.SEE_FULL_ID),
        "full_phone": policy.can(Action.SEE_FULL_PHONE),
    }


def resident_reveal(user: Any, pk: Any, *, channel: str, ip=None) -> Resident:
    """A resident whose full ID number the user asked to see: allowed for the roles that
    see ID numbers in full, inside the jurisdiction, and every reveal is audited.

    Pages show every ID masked until asked, so that a screen at a gate or on a desk shows
    no full number by default, and the trail says whose number was read by whom.
    """
    policy_for(user).require(Action.SEE_FULL_ID)
    resident = access_by_id(Resident.objects.select_related("household__building"), user, pk)
    audit_record(
        actor=user,
        action=AuditAction.REVEAL,
        object_type="resident",
        object_id=resident.pk,
        region=resident.household.building,
        detail={"field": "id_number", "channel": channel},
        ip=ip,
    )
    return resident


def household_for(
    user: Any, pk: Any, *, queryset: QuerySet[Household] | None = None, channel: str, ip=None
) -> Household:
    """One household in the user's jurisdiction (else 404), its viewing audited."""
    qs = queryset if queryset is not None else Household.objects.select_related("building")
    household = access_by_id(qs, user, pk)
    audit_record(
        actor=user,
        action=AuditAction.VIEW_HOUSEHOLD,
        object_type="household",
        object_id=household.pk,
        region=household.building,
        detail={"channel": channel, **_shown(user)},
        ip=ip,
    )
    return household


def resident_for(
    user: Any, pk: Any, *, queryset: QuerySet[Resident] | None = None, channel: str, ip=None
) -> Resident:
    """One resident in the user's jurisdiction (else 404), its viewing audited."""
    qs = queryset if queryset is not None else Resident.objects.select_related("household")
    resident = access_by_id(qs, user, pk)
    audit_record(
        actor=user,
        action=AuditAction.VIEW_RESIDENT,
        object_type="resident",
        object_id=resident.pk,
        region=resident.building_id and resident.household.building,
        detail={"channel": channel, **_shown(user)},
        ip=ip,
    )
    return resident
