from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from frontline.core.errors import NotFound
from frontline.people.census import export_census
from frontline.territory.services import region_by_path


class Command(BaseCommand):
    help = gettext_lazy(
        "Export the census of a region in the import template (.xlsx or .csv by extension)."
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument(
            "--region", default="", help=_("e.g. 裕安区/城南镇 (default: the city)")
        )

    def handle(self, *args, output: Path, region: str, **options):
        fmt = output.suffix.lower().lstrip(".")
        if fmt not in {"csv", "xlsx"}:
            raise CommandError(
                _("%(file)s: the file name must end in .csv or .xlsx") % {"file": output}
            )
        try:
            place = region_by_path(region)
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        count = export_census(region=place, target=output, fmt=fmt)
        self.stdout.write(
            ngettext(
                "exported %(count)d resident of %(region)s to %(file)s",
                "exported %(count)d residents of %(region)s to %(file)s",
                count,
            )
            % {"count": count, "region": place, "file": output}
        )
