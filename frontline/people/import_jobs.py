"""Census imports run by the background worker (`frontline worker`).

A sheet above FRONTLINE_WEB_IMPORT_INLINE_ROWS rows is not checked or written while a
browser waits: the upload makes an `ImportJob`, the worker runs `import_job_run`, and the
page polls `ImportJob` for its progress and result. The import is the same function as
inline (`census.import_census`), all-or-nothing as ever, run as the uploader: the policy is
asked again when the job runs, so an uploader who lost the right or part of their
jurisdiction meanwhile is refused then, and nothing is written.
"""

from __future__ import annotations

import logging
import pickle
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError

from .census import ImportResult, import_census
from .models import ImportJob

logger = logging.getLogger(__name__)

# The worker writes its progress at most this often (seconds): one small UPDATE each.
PROGRESS_SECONDS = 1.0


def inline_rows() -> int:
    """Sheets of up to this many rows are checked and written while the browser waits."""
    return int(settings.FRONTLINE_WEB_IMPORT_INLINE_ROWS)


def upload_path(uploader_id: int, token: str, extension: str) -> Path:
    return Path(settings.UPLOAD_DIR) / f"{uploader_id}-{token}{extension}"


def errors_path(uploader_id: int, token: str) -> Path:
    return Path(settings.UPLOAD_DIR) / f"{uploader_id}-{token}.errors.csv"


def sheet_of(job: ImportJob) -> Path:
    return upload_path(job.uploader_id, job.token, job.extension)


def errors_of(job: ImportJob) -> Path:
    return errors_path(job.uploader_id, job.token)


# --- the web side ----------------------------------------------------------------------------


def import_job_start(
    *,
    uploader: Any,
    kind: str,
    filename: str,
    token: str,
    extension: str,
    rows_total: int = 0,
    language: str = "",
    ip: str | None = None,
    preview: ImportJob | None = None,
) -> ImportJob:
    """Queue a check (`preview`) or an import (`commit`) of a sheet already in UPLOAD_DIR.

    The job row and the worker's task are written in one transaction: both or neither.
    """
    policy = policy_for(uploader)
    policy.require(Action.IMPORT_CENSUS)
    if policy.jurisdiction is None:
        raise DomainError(_("your account has no jurisdiction"))
    from .tasks import run_import_job

    with transaction.atomic():
        job = ImportJob(
            uploader=uploader,
            kind=kind,
            filename=filename[:255],
            token=token,
            extension=extension,
            rows_total=rows_total,
            language=language,
            ip=ip,
            preview=preview,
        )
        job.locate(policy.jurisdiction)
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError:
            # The check was confirmed twice (a double tap, a second tab): one import.
            raise DomainError(_("This census sheet is being imported already.")) from None
        run_import_job.enqueue(job.pk)
    return job


def import_job_commit(*, preview: ImportJob, actor: Any, ip: str | None = None) -> ImportJob:
    """Queue the import of a sheet the worker checked without errors."""
    if preview.uploader_id != actor.pk or preview.kind != ImportJob.Kind.PREVIEW:
        raise Http404
    summary = preview.summary or {}
    if preview.status != ImportJob.Status.DONE or not summary.get("ok"):
        raise DomainError(_("Only a sheet checked without errors can be imported."))
    if summary.get("unchanged"):
        raise DomainError(_("Nothing to change: every row matches what is recorded."))
    if not sheet_of(preview).exists():
        raise DomainError(_("The checked sheet is no longer kept (an hour); upload it again."))
    return import_job_start(
        uploader=actor,
        kind=ImportJob.Kind.COMMIT,
        filename=preview.filename,
        token=preview.token,
        extension=preview.extension,
        rows_total=summary.get("rows", 0),
        language=preview.language,
        ip=ip,
        preview=preview,
    )


def import_job_for(user: Any, pk: Any) -> ImportJob:
    """One of the user's own jobs inside their jurisdiction; 404 for anybody else's."""
    try:
        return ImportJob.objects.visible_to(user).get(pk=pk, uploader_id=user.pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def job_result(job: ImportJob) -> ImportResult | None:
    if not job.result:
        return None
    # Written by import_job_run below and nothing else; never bytes from an upload.
    return pickle.loads(bytes(job.result))  # noqa: S301


# --- the worker side -------------------------------------------------------------------------


def _summary(result: ImportResult, unchanged: bool) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "unchanged": unchanged,
        "rows": result.rows,
        "households_created": result.households_created,
        "residents_created": result.residents_created,
        "residents_updated": result.residents_updated,
        "residents_moved": result.residents_moved,
        "regions_created": result.regions_created,
        "error_count": result.error_count,
    }


def changes_nothing(result: ImportResult) -> bool:
    """Whether committing the checked sheet would write nothing at all."""
    return not (
        result.households_created
        or result.residents_created
        or result.residents_updated
        or result.regions_created
    )


def _progress(job_id: int):
    last = [0.0]

    def record(phase: str, rows: int) -> None:
        now = time.monotonic()
        if phase == "checking" and now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        ImportJob.objects.filter(pk=job_id).update(phase=phase, rows_done=rows)

    return record


def _finish(job_id: int, status: str, **values: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(status=status, finished_at=timezone.now(), **values)


def import_job_run(job_id: int) -> str:
    """Run one queued job (the worker's task). Returns its final status."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), phase="checking"
    )
    if not claimed:
        return "skipped"  # run already, or by another worker
    job = ImportJob.objects.select_related("uploader__region").get(pk=job_id)
    preview = job.kind == ImportJob.Kind.PREVIEW
    sheet = sheet_of(job)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            if not sheet.exists():
                raise DomainError(_("The sheet is no longer kept (an hour); upload it again."))
            result = import_census(
                sheet,
                filename=job.filename,
                actor=job.uploader,
                dry_run=preview,
                errors_to=errors_of(job) if preview else None,
                ip=job.ip,
                on_progress=_progress(job.pk),
            )
        except DomainError as exc:
            # The uploader lost the right, another import held the lock, the file is gone.
            _finish(job.pk, ImportJob.Status.FAILED, error=str(exc.message))
            sheet.unlink(missing_ok=True)
            return ImportJob.Status.FAILED
        except Exception:
            logger.exception("census import job %s failed", job.pk)
            _finish(
                job.pk,
                ImportJob.Status.FAILED,
                error=_("The import stopped on an unexpected error; nothing was written."),
            )
            sheet.unlink(missing_ok=True)
            return ImportJob.Status.FAILED
    unchanged = result.ok and changes_nothing(result)
    if result.ok:
        errors_of(job).unlink(missing_ok=True)
    # The sheet stays only while a check without errors waits for its confirmation.
    if not (preview and result.ok and not unchanged):
        sheet.unlink(missing_ok=True)
    # A check with errors did its job; an import that found errors wrote nothing: failed.
    status = ImportJob.Status.DONE if (preview or result.ok) else ImportJob.Status.FAILED
    _finish(
        job.pk,
        status,
        rows_done=result.rows,
        rows_total=result.rows,
        phase="",
        summary=_summary(result, unchanged),
        result=pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL),
        error=""
        if status == ImportJob.Status.DONE
        else _("The sheet has errors: nothing was imported."),
    )
    return status
