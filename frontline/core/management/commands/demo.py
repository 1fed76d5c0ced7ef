"""`frontline demo`: migrate, load the demo city, print the accounts, serve."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from frontline.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo
from frontline.core.errors import DomainError

from .serve import add_serve_arguments, serve


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


class Command(BaseCommand):
    help = _(
        "Migrate the database, load the demo city of Lu'an (idempotent), print the demo "
        "accounts and serve."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve", action="store_true", help=_("load the demo and exit without serving")
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=_("serve without starting the background worker beside the web server"),
        )
        add_serve_arguments(parser)

    def handle(
        self,
        *args,
        no_serve: bool,
        host: str,
        port: int,
        threads: int,
        no_worker: bool = False,
        **options,
    ):
        verbosity = options.get("verbosity", 1)
        self.stdout.write(_("Migrating the database…"))
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        self.stdout.write(_("Loading the demo city…"))
        try:
            result = load_demo(progress=self.stdout.write if verbosity > 1 else None)
        except DomainError as exc:
            raise CommandError(
                _("The demo city did not load: %(reason)s") % {"reason": exc}
            ) from exc
        from frontline.requests.demo import load_demo_requests

        load_demo_requests()
        imported = result.import_result
        assert imported is not None
        self.stdout.write(
            _(
                "Demo city loaded in %(seconds).1f s: %(residents)d residents "
                "(%(created)d new, %(updated)d updated), %(households)d new households, "
                "%(grids)d new grids, %(accounts)d new accounts."
            )
            % {
                "seconds": result.seconds,
                "residents": result.residents,
                "created": imported.residents_created,
                "updated": imported.residents_updated,
                "households": imported.households_created,
                "grids": result.grids_created,
                "accounts": len(result.accounts_created),
            }
        )
        self.stdout.write("")
        self.stdout.write(
            _("Demo accounts (password for all: %(password)s)") % {"password": DEMO_PASSWORD}
        )
        rows = [
            [
                a.username,
                a.role + (" (superuser)" if a.superuser else ""),
                a.path or settings.FRONTLINE_CITY,
                a.full_name,
                DEMO_PASSWORD,
            ]
            for a in DEMO_ACCOUNTS
        ]
        self.stdout.write(
            format_table(
                [
                    _("username"),
                    _("role"),
                    _("jurisdiction"),
                    pgettext("person", "name"),
                    _("password"),
                ],
                rows,
            )
        )
        self.stdout.write("")
        if not no_serve:
            worker = None if no_worker else start_worker(self)
            try:
                serve(
                    self,
                    host=host,
                    port=port,
                    threads=threads,
                    workers=options.get("workers", 1),
                )
            finally:
                if worker is not None:
                    worker.terminate()
                    worker.wait(timeout=10)


def start_worker(command: BaseCommand):
    """`frontline worker` as a child process beside the web server: the supervision sweep
    and queued tasks run while the demo serves, and stop with it."""
    import subprocess
    import sys

    command.stdout.write(_("Starting the background worker…"))
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from frontline.cli import main; main(['frontline', 'worker', '--exit-with-parent'])",
        ]
    )
