"""`frontline serve`: the app on the configured database, through waitress."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


def serve(command: BaseCommand, *, host: str, port: int, threads: int) -> None:
    """Serve until interrupted; shared by `serve` and `demo`."""
    import waitress
    from django.conf import settings

    # WhiteNoise serves from the installed packages but warns at start-up when the
    # collectstatic folder is missing; an empty one costs nothing and keeps the log clean.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    from frontline.core.files import purge_stale_uploads

    purge_stale_uploads()
    from frontline.wsgi import application

    if not 0 < port < 65536:
        raise CommandError(_("Port %(port)s is not between 1 and 65535.") % {"port": port})
    if threads < 1:
        raise CommandError(_("--threads must be at least 1."))
    shown = f"[{host}]" if ":" in host else host
    command.stdout.write(
        _("Frontline is serving on http://%(host)s:%(port)s/ (Ctrl+C to stop)")
        % {"host": shown, "port": port}
    )
    command.stdout.flush()
    try:
        waitress.serve(application, host=host, port=port, threads=threads, ident="frontline")
    except OSError as exc:
        raise CommandError(
            _("Cannot serve on %(host)s:%(port)s: %(reason)s")
            % {"host": host, "port": port, "reason": exc.strerror or exc}
        ) from exc
    except KeyboardInterrupt:
        command.stdout.write(_("Stopped."))


def add_serve_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
    parser.add_argument("--port", type=int, default=8000, help=_("port to listen on"))
    parser.add_argument(
        "--threads", type=int, default=8, help=_("worker threads (concurrent requests)")
    )


class Command(BaseCommand):
    help = _("Serve Frontline over HTTP on the configured database, loading nothing.")

    def add_arguments(self, parser):
        add_serve_arguments(parser)

    def handle(self, *args, host: str, port: int, threads: int, **options):
        serve(self, host=host, port=port, threads=threads)
