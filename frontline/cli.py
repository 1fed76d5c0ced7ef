"""The `frontline` console script: the project's commands under one name.

`frontline import-census FILE` is `manage.py import_census FILE`; anything Django itself
offers (migrate, createsuperuser, shell, ...) passes through unchanged.
"""

from __future__ import annotations

import os
import sys

# Django's own commands that need the project's tables, like the project's commands do.
_NEEDS_TABLES = {"createsuperuser", "changepassword"}


def _needs_tables(command: str) -> bool:
    from django.core.management import get_commands

    app = get_commands().get(command)
    if not isinstance(app, str):
        return False
    return app.startswith("frontline") or app == "axes" or command in _NEEDS_TABLES


def _pending_migrations() -> tuple[bool, bool]:
    """(anything to apply, anything applied already): a migration plan, no writes."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return bool(plan), bool(executor.loader.applied_migrations)


def ensure_database(command: str) -> None:
    """Before a project command: bring the embedded SQLite database up to date, or, for a
    database the operator configured (DATABASE_URL), say in one line what to run.

    A brand-new data folder otherwise answered every command with a `no such table`
    traceback."""
    if not _needs_tables(command):
        return
    from django.core.management import call_command
    from django.db import DatabaseError
    from django.utils.translation import gettext as _

    try:
        pending, started = _pending_migrations()
    except DatabaseError as exc:
        sys.stderr.write(_("cannot reach the database: %(reason)s") % {"reason": exc} + "\n")
        raise SystemExit(2) from None
    if not pending:
        return
    if os.environ.get("DATABASE_URL"):
        # Migrating a shared server is the operator's decision, taken with a backup.
        if started:
            message = _("the database is not up to date: run `frontline migrate` first")
        else:
            message = _("the database is not set up: run `frontline migrate` first")
        sys.stderr.write(message + "\n")
        raise SystemExit(2)
    sys.stderr.write(_("Setting up the database…") + "\n")
    call_command("migrate", interactive=False, verbosity=0)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "frontline"
    import django
    from django.conf import settings
    from django.core.management import execute_from_command_line
    from django.utils import translation

    django.setup()
    # Help needs no database: `frontline import-census --help` works before any set-up.
    asks_help = any(arg in ("-h", "--help") for arg in argv[2:])
    if len(argv) > 1 and not argv[1].startswith("-") and not asks_help:
        with translation.override(settings.LANGUAGE_CODE):
            ensure_database(argv[1])

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
