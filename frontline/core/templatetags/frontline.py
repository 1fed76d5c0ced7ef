"""How personal data is shown: the one place that decides between full and masked.

Templates never print an ID number or a phone directly; they pass it through
`masked_id` / `masked_phone` with the viewer, so a role change is a change here only.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django import template
from django.utils.translation import gettext as _

from frontline.accounts.policy import policy_for
from frontline.core.masking import mask_id_number
from frontline.people.labels import CARE_GROUP_BY_LABEL, CARE_GROUP_LABELS
from frontline.people.models import CareGroup

register = template.Library()


@register.filter
def masked_id(value: str, user) -> str:
    return policy_for(user).id_number(value or "")


@register.filter
def id_masked(value: str) -> str:
    """Masked whoever looks: the pages show full numbers only on request (see reveal)."""
    return mask_id_number(value or "")


@register.filter
def masked_phone(value: str, user) -> str:
    return policy_for(user).phone(value or "")


@register.filter
def health_notes_for(resident, user) -> str:
    """The resident's health notes if the viewer's role may read them, else nothing."""
    return policy_for(user).health_notes(resident) or ""


@register.filter
def visit_text_for(visit, user):
    """(note, needs) of a door visit if the viewer may read them (see the policy)."""
    return policy_for(user).visit_text(visit)


_LONG_NUMBER = re.compile(r"\d{5,}")


@register.filter
def next_after_switch(request) -> str:
    """Where the language switch returns: this page with its filters (a worklist's grid,
    a page number), but never a query or anything with a long number in it, which could
    be an ID or a phone and would land in the browser's history."""
    kept = [
        (name, value)
        for name, value in request.GET.items()
        if name != "q" and not _LONG_NUMBER.search(value)
    ]
    return request.path + (f"?{urlencode(kept)}" if kept else "")


@register.filter
def yes_no_unknown(value: bool | None) -> str:
    """是/否/未知: a census cell left empty is unknown, not no."""
    if value is None:
        return _("Unknown")
    return _("Yes") if value else _("No")


@register.filter
def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


@register.filter
def care_group(value: str) -> str:
    """A care group named in the UI language, from its code or its Chinese sheet label.

    The census figures are keyed by the sheet labels (the JSON contract of the CLI and the
    API); a page in English still names the groups in English.
    """
    code = CARE_GROUP_BY_LABEL.get(value, value)
    if code in CareGroup.values:
        return str(CareGroup(code).label)
    return value


@register.filter
def care_group_code(value: str) -> str:
    """The code of a care group named by its Chinese sheet label (for worklist URLs)."""
    return CARE_GROUP_BY_LABEL.get(value, value)


@register.filter
def staff_phone(value: str, user) -> str:
    """A grid member's phone as the viewer sees it (see Policy.staff_phone)."""
    return policy_for(user).staff_phone(value or "")


@register.filter
def dial(value: str, user) -> str:
    """The number a call button may carry for this viewer, or "" (see Policy.dial)."""
    return policy_for(user).dial(value or "")


@register.simple_tag
def visit_purposes() -> list[tuple[str, str]]:
    from frontline.people.models import Visit

    return list(Visit.Purpose.choices)


# One character per care group for the room chart's cells, from the Chinese label: 独 孕 婴
# 残 透 低 五 特 are what a worker reads off the paper charts; the legend names them.
_MARKS = {code: label[0] for code, label in CARE_GROUP_LABELS.items()}


@register.filter
def care_group_mark(code: str) -> str:
    return _MARKS.get(code, "?")
