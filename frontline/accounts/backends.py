"""The authentication backend: axes' lockout in front of Django's password check."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.core.exceptions import PermissionDenied

from frontline.audit.services import client_ip

from .lockout import address_locked


class LockoutBackend(AxesStandaloneBackend):
    """Every sign-in that arrives over HTTP (the sign-in page, the admin's) carries its
    request and goes through axes: a locked account or address is refused before its
    password is even checked.

    Only code running inside the server's own process can call `authenticate()` without
    a request (Django's test client, a shell): there is no address to lock and no form to
    guess through, so the password alone is checked (by ModelBackend, next in the list).

    Like axes' own, this backend never signs anyone in: it only refuses, or passes on.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        if address_locked(client_ip(request)):
            # Axes' middleware answers with the lockout page when this flag is set.
            request.axes_locked_out = True
            raise PermissionDenied
        return super().authenticate(request, username=username, password=password, **kwargs)
