from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from frontline.people.census import import_census


class Command(BaseCommand):
    help = "Import a census sheet (.xlsx or .csv); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report, write nothing"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file: Path, dry_run: bool, no_progress: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        result = import_census(file, filename=file.name, dry_run=dry_run, progress=not no_progress)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{len(result.errors)} error(s) in {file.name}; nothing was imported."
            )
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{verb} {result.rows} rows: {result.residents_created} residents created, "
            f"{result.residents_updated} updated, {result.residents_unchanged} unchanged; "
            f"{result.households_created} households and {result.regions_created} regions created."
        )
