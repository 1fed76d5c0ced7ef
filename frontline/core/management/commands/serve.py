"""`frontline serve`: the app on the configured database, through waitress."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


def serve(command: BaseCommand, *, host: str, port: int, threads: int, workers: int = 1) -> None:
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
    if workers < 1:
        raise CommandError(_("--workers must be at least 1."))
    shown = f"[{host}]" if ":" in host else host
    command.stdout.write(
        _("Frontline is serving on http://%(host)s:%(port)s/ (Ctrl+C to stop)")
        % {"host": shown, "port": port}
    )
    command.stdout.flush()
    try:
        if workers == 1:
            waitress.serve(application, host=host, port=port, threads=threads, ident="frontline")
        else:
            _serve_forked(application, host=host, port=port, threads=threads, workers=workers)
    except OSError as exc:
        raise CommandError(
            _("Cannot serve on %(host)s:%(port)s: %(reason)s")
            % {"host": host, "port": port, "reason": exc.strerror or exc}
        ) from exc
    except KeyboardInterrupt:
        command.stdout.write(_("Stopped."))


def _serve_forked(application, *, host: str, port: int, threads: int, workers: int) -> None:
    """`workers` processes of `threads` threads each, accepting on one listening socket.

    One Python process runs Python code on one core at a time (the GIL): its threads only
    overlap while they wait for the database or the network. A machine with more cores
    needs more processes to use them, as any production WSGI server does. Each worker opens
    its own database connections; the parent only listens, waits, and stops them all.
    """
    import signal
    import socket

    import waitress
    from django.db import connections

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    # Nothing of the parent's may be shared by the children but the listening socket.
    connections.close_all()
    children: list[int] = []
    for _worker in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover (a child process)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                waitress.serve(application, sockets=[listener], threads=threads, ident="frontline")
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while children:
            pid, _status = os.wait()
            if pid in children:
                # A worker that died takes the server with it: better stopped than half-up.
                break
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        listener.close()


def add_serve_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
    parser.add_argument("--port", type=int, default=8000, help=_("port to listen on"))
    parser.add_argument(
        "--threads", type=int, default=8, help=_("worker threads (concurrent requests)")
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help=_("server processes, each with --threads threads (one per core is usual)"),
    )


class Command(BaseCommand):
    help = _("Serve Frontline over HTTP on the configured database, loading nothing.")

    def add_arguments(self, parser):
        add_serve_arguments(parser)

    def handle(self, *args, host: str, port: int, threads: int, workers: int, **options):
        serve(self, host=host, port=port, threads=threads, workers=workers)
