"""`frontline token USERNAME`: print the account's API token (created on first use)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from frontline.accounts.models import User
from frontline.accounts.services import user_token


class Command(BaseCommand):
    help = _("Print the API token of an account, for the header “Authorization: Bearer <token>”.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No account named “%(username)s”.") % {"username": username})
        if not user.is_active:
            raise CommandError(
                _("The account “%(username)s” is deactivated.") % {"username": username}
            )
        # Only the token on stdout, so that `TOKEN=$(frontline token x)` just works.
        self.stdout.write(user_token(user=user))
