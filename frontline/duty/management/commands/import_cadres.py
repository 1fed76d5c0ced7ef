"""`frontline import-cadres FILE [--dry-run] [--as USERNAME]`: a unit's cadre roster."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.accounts.acting import acting_user
from frontline.core.errors import DomainError
from frontline.duty.cadre_import import import_cadres


class Command(BaseCommand):
    # A property, not gettext_lazy: argparse's help formatter needs a real str.
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "Import a unit's cadre roster (.xlsx or .csv; 单位, 姓名, 性别, 身份证号, 联系电话, "
            "职级, 党员); all or nothing, re-import updates by 身份证号."
        )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help=_("validate and report, write nothing")
        )
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help=_("import as this account: its role and jurisdiction apply"),
        )

    def handle(self, *args, file: Path, dry_run: bool, username: str, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        actor = None
        if username:
            try:
                actor = acting_user(username)
            except DomainError:
                raise CommandError(
                    _("No active account “%(name)s”.") % {"name": username}
                ) from None
        try:
            result = import_cadres(file, filename=file.name, actor=actor, dry_run=dry_run)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            if result.more_errors:
                self.stderr.write(
                    ngettext(
                        "… and %(count)d more error.",
                        "… and %(count)d more errors.",
                        result.more_errors,
                    )
                    % {"count": result.more_errors}
                )
            total = len(result.errors) + result.more_errors
            raise CommandError(
                ngettext(
                    "%(count)d error in %(file)s; nothing was imported.",
                    "%(count)d errors in %(file)s; nothing was imported.",
                    total,
                )
                % {"count": total, "file": file.name}
            )
        figures = {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "units": result.units_created,
        }
        if dry_run:
            message = _(
                "would import %(rows)d rows: %(created)d cadres created, %(updated)d updated, "
                "%(unchanged)d unchanged; %(units)d units created."
            )
        else:
            message = _(
                "imported %(rows)d rows: %(created)d cadres created, %(updated)d updated, "
                "%(unchanged)d unchanged; %(units)d units created."
            )
        self.stdout.write(message % figures)
