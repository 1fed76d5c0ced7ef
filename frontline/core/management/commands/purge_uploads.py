"""`frontline purge-uploads`: delete uploaded sheets never committed within an hour."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.core.files import STALE_UPLOAD_SECONDS, purge_stale_uploads


class Command(BaseCommand):
    help = _("Delete uploaded census sheets that were not committed within an hour.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age",
            type=int,
            default=STALE_UPLOAD_SECONDS,
            help=_("age in seconds beyond which an upload is deleted (default: one hour)"),
        )

    def handle(self, *args, max_age: int, **options):
        removed = purge_stale_uploads(max_age=max_age)
        self.stdout.write(
            ngettext("Deleted %(count)d stale upload.", "Deleted %(count)d stale uploads.", removed)
            % {"count": removed}
        )
