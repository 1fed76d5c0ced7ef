from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from frontline.accounts.services import token_for_key, token_touch


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>`, the header every HTTP client knows.

    The token is looked up by the SHA-256 of the key; an expired or revoked token, or one
    of a deactivated account, is a 401 that says which.
    """

    keyword = "Bearer"

    def authenticate_credentials(self, key):
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                _("This token expired; ask for a new one (frontline token USERNAME).")
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The account is deactivated."))
        token_touch(token=token)
        return (token.user, token)
