"""`frontline import-results ROUND_ID FILE [--dry-run] [--as USERNAME]`: a lab's results."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.accounts.acting import acting_user
from frontline.core.errors import DomainError
from frontline.health.models import TestingRound
from frontline.health.results import import_results, upload_too_large
from frontline.health.testing import round_for


class Command(BaseCommand):
    # A property, not gettext_lazy: argparse's help formatter needs a real str.
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "Import a lab's results for a testing round (.xlsx or .csv; 管码, 结果 with 阴性 "
            "or 阳性); all or nothing."
        )

    def add_arguments(self, parser):
        parser.add_argument("round_id", type=int, metavar="ROUND_ID")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help=_("validate and report, write nothing")
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help=_(
                "act as this account: its role and jurisdiction apply and the import is "
                "audited as that person (without it: as the system, unconfined)"
            ),
        )

    def handle(self, *args, round_id: int, file: Path, dry_run: bool, as_user=None, **options):
        actor = None
        if as_user is not None:
            try:
                actor = acting_user(as_user)
            except DomainError:
                raise CommandError(
                    _("%(username)s: no such active account") % {"username": as_user}
                ) from None
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        if refusal := upload_too_large(file.stat().st_size):
            raise CommandError(f"{file.name}: {refusal}")
        try:
            if actor is None:
                testing_round = TestingRound.objects.filter(pk=round_id).first()
                if testing_round is None:
                    raise CommandError(_("No testing round %(id)d.") % {"id": round_id})
            else:
                testing_round = round_for(actor, round_id)
            result = import_results(
                file, round=testing_round, filename=file.name, actor=actor, dry_run=dry_run
            )
        except DomainError as exc:
            if exc.code == "not_found":
                raise CommandError(_("No testing round %(id)d.") % {"id": round_id}) from None
            raise CommandError(str(exc)) from None
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            if result.errors_not_shown:
                self.stderr.write(
                    _("… %(count)s more errors not shown.")
                    % {"count": f"{result.errors_not_shown:,}"}
                )
            raise CommandError(
                ngettext(
                    "%(count)d error in %(file)s; nothing was imported.",
                    "%(count)d errors in %(file)s; nothing was imported.",
                    result.error_count,
                )
                % {"count": result.error_count, "file": file.name}
            )
        figures = {
            "rows": result.rows,
            "negative": result.negative,
            "positive": result.positive,
            "changed": result.changed,
        }
        if dry_run:
            message = _(
                "would import %(rows)d rows: %(negative)d negative, %(positive)d positive; "
                "%(changed)d tubes changed."
            )
        else:
            message = _(
                "imported %(rows)d rows: %(negative)d negative, %(positive)d positive; "
                "%(changed)d tubes changed."
            )
        self.stdout.write(message % figures)
        for code in result.positive_codes:
            self.stdout.write(_("abnormal: %(code)s") % {"code": code})
