"""`frontline worker`: the long-running background worker.

It runs the tasks queued in the database (django-tasks with django-tasks-db, the same on
SQLite and PostgreSQL) and enqueues the supervision sweep every
`FRONTLINE_SWEEP_SECONDS` (unless one is already waiting), so overdue requests are
supervised and escalated without anybody opening a page. `--once` enqueues one sweep,
runs every waiting task and exits (for cron or a test).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils.translation import gettext as _
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from frontline.requests.tasks import sweep

SWEEP_PATH = sweep.module_path


def enqueue_sweep() -> bool:
    """Queue a sweep unless one is already waiting or running; True if queued."""
    waiting = DBTaskResult.objects.filter(
        task_path=SWEEP_PATH, status__in=["READY", "RUNNING"]
    ).exists()
    if waiting:
        return False
    sweep.enqueue()
    return True


class Command(BaseCommand):
    help = _("Run the background worker: queued tasks and the supervision sweep every minute.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help=_("enqueue one sweep, run every waiting task, and exit"),
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help=_("seconds to wait when the queue is empty (default 1)"),
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help=_("stop when the process that started this one ends (used by `demo`)"),
        )

    def handle(self, *args, once: bool, interval: float, exit_with_parent: bool = False, **options):
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=once,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"frontline-{uuid.uuid4().hex[:8]}",
            excluded_queue_names=[],
        )
        if once:
            enqueue_sweep()
            worker.run()
            self.stdout.write(_("Worker ran the waiting tasks."))
            return
        stop = threading.Event()

        def tick() -> None:
            # Its own database connection: the worker's loop holds the main thread's.
            while not stop.is_set():
                try:
                    enqueue_sweep()
                except Exception as exc:  # noqa: BLE001 (a bad tick must not end the worker)
                    self.stderr.write(_("Could not enqueue the sweep: %(e)s") % {"e": exc})
                finally:
                    close_old_connections()
                    connection.close()
                stop.wait(settings.FRONTLINE_SWEEP_SECONDS)

        ticker = threading.Thread(target=tick, name="sweep-ticker", daemon=True)
        ticker.start()
        if exit_with_parent:
            parent = os.getppid()

            def watch() -> None:
                # A web server killed outright cannot stop its child: the child notices.
                while not stop.wait(1):
                    if os.getppid() != parent:
                        os.kill(os.getpid(), signal.SIGTERM)
                        return

            threading.Thread(target=watch, name="parent-watch", daemon=True).start()
        self.stdout.write(
            _("Worker started; the supervision sweep runs every %(n)d s.")
            % {"n": settings.FRONTLINE_SWEEP_SECONDS}
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
