"""Background tasks of the people app, run by `frontline worker` (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from .import_jobs import import_job_run


@task()
def run_import_job(job_id: int) -> str:
    """A large census sheet, checked or imported (see `import_jobs`)."""
    return import_job_run(job_id)
