from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from frontline.accounts.acting import acting_user
from frontline.core.errors import DomainError
from frontline.people.census import ChangeKind, import_census, upload_too_large


class Command(BaseCommand):
    # A property, not gettext_lazy: argparse's help formatter needs a real str.
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("Import a census sheet (.xlsx or .csv); all or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help=_("validate and report, write nothing")
        )
        parser.add_argument("--no-progress", action="store_true", help=_("no progress bar"))
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help=_(
                "act as this account: its role and jurisdiction apply and the import is "
                "audited as that person (without it: as the system, unconfined)"
            ),
        )
        parser.add_argument(
            "--errors",
            type=Path,
            metavar="FILE",
            help=_("write every error to FILE as CSV (only the first 200 are printed)"),
        )

    def handle(
        self,
        *args,
        file: Path,
        dry_run: bool,
        no_progress: bool,
        as_user: str | None = None,
        errors: Path | None = None,
        **options,
    ):
        actor = _account(as_user) if as_user is not None else None
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        if refusal := upload_too_large(file.stat().st_size):
            raise CommandError(f"{file.name}: {refusal}")
        try:
            result = import_census(
                file,
                filename=file.name,
                actor=actor,
                dry_run=dry_run,
                progress=not no_progress,
                errors_to=errors,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(warning)
        if result.ok and result.notes:
            self.stdout.write(_("Normalised:"))
            for note in result.notes:
                self.stdout.write(f"  {note}")
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            if result.errors_not_shown:
                if errors:
                    hint = _("All of them are in %(file)s.") % {"file": errors}
                else:
                    hint = _("Use --errors FILE to write them all.")
                shown = _("… %(count)s more errors not shown.") % {
                    "count": f"{result.errors_not_shown:,}"
                }
                self.stderr.write(f"{shown} {hint}")
            if result.error_count > 1:
                self.stderr.write(_("Errors by kind:"))
                for group in result.summary:
                    self.stderr.write(f"  {group}")
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
            "created": result.residents_created,
            "updated": result.residents_updated,
            "unchanged": result.residents_unchanged,
            "households": result.households_created,
            "regions": result.regions_created,
        }
        if dry_run:
            self._list_changes(result)
            message = _(
                "would import %(rows)d rows: %(created)d residents created, %(updated)d "
                "updated, %(unchanged)d unchanged; %(households)d households and "
                "%(regions)d regions created."
            )
        else:
            message = _(
                "imported %(rows)d rows: %(created)d residents created, %(updated)d "
                "updated, %(unchanged)d unchanged; %(households)d households and "
                "%(regions)d regions created."
            )
        self.stdout.write(message % figures)

    def _list_changes(self, result) -> None:
        """The preview's list of changes: the first 200, by building, then counts."""
        kinds = {
            ChangeKind.ADDED: pgettext("census change", "added"),
            ChangeKind.UPDATED: pgettext("census change", "updated"),
            ChangeKind.MOVED: pgettext("census change", "moved"),
        }
        for building, changes in result.changes_by_building:
            self.stdout.write(building)
            for change in changes:
                if change.kind == ChangeKind.MOVED:
                    where = f"{change.moved_from or '—'} → {change.room}"
                else:
                    where = change.room
                fields = "; ".join(
                    f"{column} {old or '—'} → {new or '—'}" for column, old, new in change.fields
                )
                line = f"  {kinds[change.kind]} {change.name} {change.id_number} {where}"
                self.stdout.write(f"{line}: {fields}" if fields else line)
        if result.changes_not_listed:
            self.stdout.write(
                ngettext(
                    "… %(count)s more change not listed.",
                    "… %(count)s more changes not listed.",
                    result.changes_not_listed,
                )
                % {"count": f"{result.changes_not_listed:,}"}
            )


def _account(username: str):
    """The active account named `username`, or a one-line refusal."""
    try:
        return acting_user(username)
    except DomainError:
        raise CommandError(
            _("%(username)s: no such active account") % {"username": username}
        ) from None
