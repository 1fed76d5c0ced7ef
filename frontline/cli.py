"""The `frontline` console script: the project's commands under one name.

`frontline import-census FILE` is `manage.py import_census FILE`; anything Django itself
offers (migrate, createsuperuser, shell, ...) passes through unchanged.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "frontline"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
