"""`frontline token USERNAME`: issue an API token and print it; `--list`, `--revoke`."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.models import User
from frontline.accounts.services import token_issue, token_revoke_by_prefix
from frontline.core.errors import DomainError


class Command(BaseCommand):
    help = _(
        "Issue a new API token for an account and print it, for the header "
        "“Authorization: Bearer <token>”; or list or revoke the account's tokens."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--list",
            dest="list_tokens",
            action="store_true",
            help=_("list the account's tokens (never the keys)"),
        )
        action.add_argument(
            "--revoke", metavar="PREFIX", help=_("revoke the token with this prefix")
        )
        parser.add_argument("--name", default="", help=_("what the new token is for"))
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=_("days the new token is valid (default: FRONTLINE_TOKEN_DAYS, %(days)s)")
            % {"days": settings.API_TOKEN_DAYS},
        )

    def handle(self, *args, username: str, list_tokens: bool, revoke, name, days, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No account named “%(username)s”.") % {"username": username})
        try:
            if list_tokens:
                self._list(user)
            elif revoke is not None:
                token = token_revoke_by_prefix(user=user, prefix=revoke)
                self.stdout.write(_("Revoked %(prefix)s….") % {"prefix": token.prefix})
            else:
                _token, key = token_issue(user=user, name=name, days=days)
                # Only the token on stdout, so that `TOKEN=$(frontline token x)` just works.
                self.stdout.write(key)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, user: User) -> None:
        now = timezone.now()
        for token in user.api_tokens.all():
            if token.revoked_at is not None:
                state = _("revoked")
            elif token.expires <= now:
                state = _("expired")
            else:
                state = _("in force")
            last = (
                timezone.localtime(token.last_used).strftime("%Y-%m-%d %H:%M")
                if token.last_used
                else "-"
            )
            self.stdout.write(
                "\t".join(
                    [
                        token.prefix + "…",
                        state,
                        _("created %(at)s")
                        % {"at": timezone.localtime(token.created).strftime("%Y-%m-%d %H:%M")},
                        _("expires %(at)s")
                        % {"at": timezone.localtime(token.expires).strftime("%Y-%m-%d %H:%M")},
                        _("last used %(at)s") % {"at": last},
                        token.name,
                    ]
                ).rstrip()
            )
