"""Input checks shared by the health services (one wording for every area)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError


def require(actor: Any, action: Action, target: Any = None) -> None:
    """Services called with an actor (pages, API, a command's --as) check the policy;
    called without one (the demo, tests' setup), the caller has decided."""
    if actor is not None:
        policy_for(actor).require(action, target)


def clean_text(value: Any, limit: int, what: str, *, required: bool = False) -> str:
    """`value` stripped, refused when empty (if required) or longer than `limit`."""
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(_("Give the %(what)s.") % {"what": what})
    if len(text) > limit:
        raise DomainError(
            _("The %(what)s is at most %(n)d characters.") % {"what": what, "n": limit}
        )
    return text
