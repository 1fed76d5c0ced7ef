from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.accounts.acting import acting_user
from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError
from frontline.people.census import export_census
from frontline.territory.services import region_by_path


class Command(BaseCommand):
    # A property, not gettext_lazy: argparse's help formatter needs a real str.
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "Export the census of a region in the import template (.xlsx or .csv by extension)."
        )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument(
            "--region",
            default="",
            help=_("e.g. 裕安区/城南镇 (default: the city, or the jurisdiction of --as)"),
        )
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            help=_(
                "act as this account: its jurisdiction and rights, audited as that person "
                "(default: the system)"
            ),
        )

    def handle(self, *args, output: Path, region: str, username: str | None, **options):
        fmt = output.suffix.lower().lstrip(".")
        if fmt not in {"csv", "xlsx"}:
            raise CommandError(
                _("%(file)s: the file name must end in .csv or .xlsx") % {"file": output}
            )
        try:
            actor = acting_user(username) if username is not None else None
            place = self._region(actor, region)
            count = export_census(region=place, target=output, fmt=fmt, actor=actor)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            ngettext(
                "exported %(count)d resident of %(region)s to %(file)s",
                "exported %(count)d residents of %(region)s to %(file)s",
                count,
            )
            % {"count": count, "region": place, "file": output}
        )

    @staticmethod
    def _region(actor, path: str):
        if actor is None:
            return region_by_path(path)
        policy = policy_for(actor)
        # The role first: a refused role learns nothing about a path from the answer.
        policy.require(Action.EXPORT_CENSUS)
        if path:
            # Outside the account's jurisdiction reads like a path that does not exist.
            return policy.region_by_path(path)
        if policy.jurisdiction is None:
            raise DomainError(_("Your account has no jurisdiction."))
        return policy.jurisdiction
