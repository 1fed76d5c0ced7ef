"""`frontline adduser USERNAME --role ROLE --region PATH`: an account with a jurisdiction."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from frontline.accounts.models import Role
from frontline.accounts.services import user_create
from frontline.core.errors import DomainError
from frontline.territory.services import region_by_path


class Command(BaseCommand):
    help = _("Create an account with a role and a jurisdiction (a region path).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role", required=True, help=_("one of: %(roles)s") % {"roles": ", ".join(Role.values)}
        )
        parser.add_argument(
            "--region",
            required=True,
            help=_("jurisdiction, e.g. 裕安区/城南镇/陡步河社区/安康小区; empty for the city"),
        )
        parser.add_argument(
            "--password",
            help=_("without it the account cannot log in with a password, only use its API token"),
        )
        parser.add_argument("--name", default="", help=_("the person's full name"))
        parser.add_argument("--phone", default="", help=_("the person's phone"))

    def handle(self, *args, username, role, region, password, name, phone, **options):
        # Check the role first: it names the mistake more precisely than a level mismatch.
        if role not in Role.values:
            raise CommandError(
                _("Unknown role “%(role)s”; one of: %(roles)s")
                % {"role": role, "roles": ", ".join(Role.values)}
            )
        try:
            jurisdiction = region_by_path(region)
            user = user_create(
                username=username,
                role=role,
                region=jurisdiction,
                password=password or None,
                full_name=name,
                phone=phone,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Created %(username)s (%(role)s) with jurisdiction %(region)s.")
            % {
                "username": user.username,
                "role": user.get_role_display(),
                "region": jurisdiction.display_path,
            }
        )
        if not password:
            self.stdout.write(
                _(
                    "No password was given: this account cannot log in with a password. "
                    "Use its API token (frontline token %(username)s), or set a password "
                    "with: frontline changepassword %(username)s"
                )
                % {"username": user.username}
            )
