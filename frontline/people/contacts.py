"""Emergency contacts (紧急联系人): whom to call when a resident cannot be reached.

The phone is checked and normalised by the same rule as the census's 联系电话 column
(`normalise_phone`), so the import can call it for 紧急联系电话 and a number entered
anywhere reads the same.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from frontline.core.errors import DomainError

from .models import Resident

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
NAME_MAX = 32
RELATION_MAX = 16


def normalise_phone(text: str) -> str | None:
    """The phone as stored ("" for none), or None when it is not a phone number."""
    phone = re.sub(r"\s", "", text or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if phone and not (MOBILE.match(phone) or LANDLINE.match(phone)):
        return None
    return phone


def resident_set_emergency_contact(
    *, resident: Resident, name: str, relation: str = "", phone: str = ""
) -> Resident:
    name, relation = (name or "").strip(), (relation or "").strip()
    normalised = normalise_phone(phone)
    if normalised is None:
        raise DomainError(
            _("“%(value)s” is not a mobile (11 digits) or landline number") % {"value": phone}
        )
    if len(name) > NAME_MAX or len(relation) > RELATION_MAX:
        raise DomainError(_("An emergency contact's name or relation is too long."))
    if normalised and not name:
        raise DomainError(_("An emergency phone needs the contact's name."))
    resident.emergency_name, resident.emergency_relation = name, relation
    resident.emergency_phone = normalised
    with transaction.atomic():
        resident.save(update_fields=["emergency_name", "emergency_relation", "emergency_phone"])
    return resident
