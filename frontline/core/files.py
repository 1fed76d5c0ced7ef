"""Files the app leaves on disk: census sheets waiting between preview and commit."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings

STALE_UPLOAD_SECONDS = 3600


def purge_stale_uploads(max_age: int = STALE_UPLOAD_SECONDS, *, now: float | None = None) -> int:
    """Delete uploaded sheets not committed within `max_age` seconds; returns how many.

    A sheet waits in UPLOAD_DIR between its preview and its commit. One that is never
    committed (the clerk closed the tab) must not keep a copy of the census on disk, so
    this runs at the start of every upload, when `frontline serve`/`demo` start, and as
    `frontline purge-uploads`. (A periodic background worker, which a later issue brings,
    will call it on a schedule too.)
    """
    folder = Path(settings.UPLOAD_DIR)
    if not folder.is_dir():
        return 0
    limit = (time.time() if now is None else now) - max_age
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            # Committed (and removed) by a concurrent request meanwhile: nothing to do.
            continue
    return removed
