"""Background tasks, run by `frontline worker` (django-tasks, database backend)."""

from __future__ import annotations

from django_tasks import task

from .supervision import supervision_sweep


@task()
def sweep() -> dict[str, int]:
    """The supervision sweep (督办): enqueued every minute by the worker itself. Also the
    health sweep and the inspection problems' escalation (督查整改)."""
    from frontline.health.sweep import health_sweep
    from frontline.supervision.sweep import supervision_problems_sweep

    return {**supervision_sweep(), **health_sweep(), **supervision_problems_sweep()}
