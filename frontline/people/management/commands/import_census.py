from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from frontline.people.census import import_census


class Command(BaseCommand):
    help = gettext_lazy("Import a census sheet (.xlsx or .csv); all or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help=_("validate and report, write nothing")
        )
        parser.add_argument("--no-progress", action="store_true", help=_("no progress bar"))

    def handle(self, *args, file: Path, dry_run: bool, no_progress: bool, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        result = import_census(file, filename=file.name, dry_run=dry_run, progress=not no_progress)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                ngettext(
                    "%(count)d error in %(file)s; nothing was imported.",
                    "%(count)d errors in %(file)s; nothing was imported.",
                    len(result.errors),
                )
                % {"count": len(result.errors), "file": file.name}
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
