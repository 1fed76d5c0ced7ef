"""The account a command acts as: `frontline ... --as USERNAME`.

A command run with `--as` works with that person's jurisdiction and rights (the policy of
that account) and is audited as that person; without it, it is the system, for the
deployment's operator. Shared by every command that takes `--as`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from frontline.core.errors import DomainError, NotFound

from .models import User


def acting_user(username: str) -> User:
    """The active account named `username`; NotFound or DomainError in one line if not."""
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(_("No account named “%(username)s”.") % {"username": username})
    if not user.is_active:
        raise DomainError(_("The account “%(username)s” is deactivated.") % {"username": username})
    return user
