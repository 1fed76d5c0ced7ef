"""Reads over residents shared by the pages and the API."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Resident


def search_residents(queryset: QuerySet[Resident], text: str) -> QuerySet[Resident]:
    """What people say at a gate: a name, the last four digits of a phone, an ID number."""
    text = text.strip()
    if not text:
        return queryset
    if len(text) == 4 and text.isdigit():
        return queryset.filter(phone_tail=text)
    if len(text) == 11 and text.isdigit():
        # A whole mobile number, as people read it off a list.
        return queryset.filter(phone=text)
    if len(text) == 18 and text[:17].isdigit():
        # The check digit X is written in either case; the database holds it upper-case.
        return queryset.filter(id_number=text.upper())
    return queryset.filter(Q(name__contains=text))
