"""Sign-in events into the audit trail, from Django's auth signals and axes' lockout signal.

The one place signals are used: sign-in, failure and sign-out happen inside Django's and
axes' code, not in a service of ours.
"""

from __future__ import annotations

import time

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record, client_ip
from frontline.core.middleware import SessionExpiryMiddleware

from .lockout import address_failure


@receiver(user_logged_in, dispatch_uid="frontline_audit_sign_in")
def _signed_in(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None:
        # The absolute session lifetime counts from here (SessionExpiryMiddleware).
        now = int(time.time())
        session[SessionExpiryMiddleware.SINCE] = now
        session[SessionExpiryMiddleware.SEEN] = now
    audit_record(actor=user, action=AuditAction.SIGN_IN, ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="frontline_audit_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get("username") or "")[:150]
    detail = {"username": username}
    ip = client_ip(request)
    if address_failure(ip) == settings.FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS:
        audit_record(
            actor=username,
            action=AuditAction.LOCKED_OUT,
            object_type="address",
            object_id=ip or "",
            detail={"address": ip},
            ip=ip,
        )
    if getattr(request, "axes_locked_out", False):
        detail["locked_out"] = True
    audit_record(
        actor=username,
        action=AuditAction.SIGN_IN_FAILED,
        object_type="account",
        detail=detail,
        ip=client_ip(request),
    )


@receiver(user_logged_out, dispatch_uid="frontline_audit_sign_out")
def _signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    reason = getattr(request, "frontline_sign_out_reason", "")
    audit_record(
        actor=user,
        action=AuditAction.SIGN_OUT,
        detail={"reason": reason} if reason else None,
        ip=client_ip(request),
    )


@receiver(user_locked_out, dispatch_uid="frontline_audit_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        actor=username or "",
        action=AuditAction.LOCKED_OUT,
        object_type="account",
        detail={"username": username or ""},
        ip=ip_address or client_ip(request),
    )
