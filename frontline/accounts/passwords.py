"""What follows a password change, whichever path made it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class RevokeTokensOnPasswordChange:
    """Listed in AUTH_PASSWORD_VALIDATORS for its `password_changed` hook, which Django
    calls after every saved password change: the password page, `frontline
    changepassword`, the admin, a shell. A changed password means the old one may have
    leaked, so the account's API tokens are revoked and the change is audited.

    It validates nothing; its help text tells the person what a change does."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def get_help_text(self) -> str:
        return _("Changing the password revokes the account's API tokens.")

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from frontline.audit.models import AuditAction
        from frontline.audit.services import audit_record

        from .services import tokens_revoke_all

        # Set by services that know who acted (the page: the account itself); otherwise
        # the system (a command or the shell run by the deployment's operator).
        actor, ip = getattr(user, "_password_changed_by", (None, None))
        if getattr(user, "_password_is_new", False):
            return  # an account being created: that is ACCOUNT_CREATE, not a change
        tokens_revoke_all(user=user, reason="password changed", actor=actor, ip=ip)
        audit_record(
            actor=actor,
            action=AuditAction.PASSWORD_CHANGE,
            object_type="account",
            object_id=user.pk,
            detail={"account": user.username},
            ip=ip,
        )


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule, with its message in our catalogue: Django 5.2 reworded it
    and its Chinese catalogue still carries the old wording, so the page showed the one
    English sentence among Chinese ones."""

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: it must have at least %(n)d character.",
            "This password is too short: it must have at least %(n)d characters.",
            self.min_length,
        ) % {"n": self.min_length}
