"""Households, resident search, and census import/export through the browser."""

from __future__ import annotations

import contextlib
import re
import secrets
import tempfile
import time
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models.functions import ExtractYear
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.policy import policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.core.errors import NotFound as DomainNotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.files import purge_stale_uploads
from frontline.core.ratelimit import RateLimited
from frontline.territory.models import Region
from frontline.territory.services import jurisdiction_of
from frontline.territory.views import breadcrumb

from . import import_jobs
from .census import (
    estimate_rows,
    export_census,
    import_census,
    upload_too_large,
    write_template,
)
from .forms import CensusUploadForm, ResidentSearchForm
from .models import ImportJob
from .queries import household_for, resident_search_for
from .queries import resident_reveal as resident_reveal_for

SEARCH_PAGE_SIZE = 20
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def household_detail(request, pk: int):
    household = household_for(request.user, pk, channel="page", ip=client_ip(request))
    residents = _members(household)
    return render(
        request,
        "people/household_detail.html",
        {
            "household": household,
            "residents": residents,
            "breadcrumb": breadcrumb(household.building, request.user)
            + [(household.building, True)],
        },
    )


@login_required
@require_POST
def resident_reveal(request, pk: int):
    """The full ID number of one resident, on request (POST: it leaves a trace)."""
    resident = resident_reveal_for(request.user, pk, channel="page", ip=client_ip(request))
    if request.htmx:
        return render(request, "people/_revealed_id.html", {"resident": resident})
    household = resident.household
    return render(
        request,
        "people/household_detail.html",
        {
            "household": household,
            "residents": _members(household),
            "revealed": resident.pk,
            "breadcrumb": breadcrumb(household.building, request.user)
            + [(household.building, True)],
        },
    )


def _members(household):
    # Oldest first by birth year only: the order by full birth date would rank members
    # whose birth dates a masked role may not see.
    return household.residents.prefetch_related("care_groups").order_by(
        ExtractYear("birth_date"), "pk"
    )


@login_required
def resident_search(request):
    # POST, not GET: a query may be an ID or phone number, and a GET would write it into
    # the URL, the browser's history and the server's access log.
    form = ResidentSearchForm(request.POST if request.method == "POST" else None)
    text = form.cleaned_data["q"].strip() if form.is_bound and form.is_valid() else ""
    page = None
    refusal = None
    status = 200
    if form.is_bound and not form.is_valid():
        # A query over the length limit is said to be too long, not silently dropped.
        refusal, status = " ".join(form.errors.get("q", [])), 400
    # An empty box lists nobody, so a glance at the page does not dump the jurisdiction.
    if text:
        try:
            residents = (
                resident_search_for(request.user, text, channel="page", ip=client_ip(request))
                .select_related("household__building")
                .order_by("name", "pk")
            )
        except RateLimited as exc:
            refusal, status = exc.message, 429
        except DomainError as exc:
            refusal, status = exc.message, 400
        else:
            page = Paginator(residents, SEARCH_PAGE_SIZE).get_page(request.POST.get("page"))
    template = "people/_search_results.html" if request.htmx else "people/resident_search.html"
    context = {"form": form, "page": page, "refusal": refusal, "query": text}
    # htmx swaps only 2xx answers by default: a refusal is shown in place with 200 there.
    return render(request, template, context, status=200 if request.htmx else status)


# --- census import -----------------------------------------------------------------------
#
# An upload is checked (dry run) first and committed only on a second request. Between
# the two the sheet waits in UPLOAD_DIR under a random token. The token is remembered in
# the uploader's session and the file name carries the uploader's id, so a token that
# leaks is useless to anyone else.

_SESSION_KEY = "census_uploads"
_DONE_KEY = "census_uploads_done"
_ERRORS_KEY = "census_upload_errors"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _require_import(user) -> None:
    if not policy_for(user).may_import:
        raise PermissionDenied


def _upload_path(user, token: str, extension: str) -> Path:
    return Path(settings.UPLOAD_DIR) / f"{user.pk}-{token}{extension}"


def _pending(request) -> dict:
    return request.session.get(_SESSION_KEY, {})


def _forget(request, token: str) -> None:
    pending = _pending(request)
    pending.pop(token, None)
    request.session[_SESSION_KEY] = pending


def _errors_path(user, token: str) -> Path:
    # Beside the upload, named like it: the full error list of a preview, for its uploader.
    return Path(settings.UPLOAD_DIR) / f"{user.pk}-{token}.errors.csv"


def _run_import(path: Path, *, filename: str, request, dry_run: bool, errors_to=None):
    # import_census confines the rows to the actor's jurisdiction itself.
    return import_census(
        path,
        filename=filename,
        actor=request.user,
        dry_run=dry_run,
        errors_to=errors_to,
        ip=client_ip(request),
    )


@login_required
def census_import(request):
    _require_import(request.user)
    if request.method == "POST" and (refusal := _oversized(request)):
        # Refused from the declared length, before the body is parsed.
        return render(
            request,
            "people/census_import.html",
            {"form": CensusUploadForm(), "refusal": refusal},
            status=413,
        )
    if request.method == "POST":
        purge_stale_uploads()
    form = CensusUploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "people/census_import.html", {"form": form})
    sheet = form.cleaned_data["sheet"]
    token = secrets.token_hex(16)
    path = _upload_path(request.user, token, form.extension)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in sheet.chunks():
            out.write(chunk)
    _sweep_error_lists(request.user)
    if estimate_rows(path) > import_jobs.inline_rows():
        # Too large to check while the browser waits: the worker checks it, the page polls.
        return _start_job(
            request,
            kind=ImportJob.Kind.PREVIEW,
            filename=sheet.name,
            token=token,
            extension=form.extension,
            path=path,
        )
    errors_path = _errors_path(request.user, token)
    try:
        result = _run_import(
            path, filename=sheet.name, request=request, dry_run=True, errors_to=errors_path
        )
    except DomainError as exc:
        path.unlink(missing_ok=True)
        errors_path.unlink(missing_ok=True)
        messages.error(request, str(exc))
        return render(request, "people/census_import.html", {"form": CensusUploadForm()})
    if result.ok:
        errors_path.unlink(missing_ok=True)
    else:
        listed = request.session.get(_ERRORS_KEY, [])
        request.session[_ERRORS_KEY] = [*listed[-19:], token]
    unchanged = result.ok and _changes_nothing(result)
    if result.ok and not unchanged:
        pending = _pending(request)
        pending[token] = {
            "filename": sheet.name,
            "extension": form.extension,
            "rows": result.rows,
        }
        request.session[_SESSION_KEY] = pending
    else:
        # Nothing can be committed from a sheet with errors (it is fixed and uploaded
        # again), and nothing need be from one that matches the records already.
        path.unlink(missing_ok=True)
    return render(
        request,
        "people/census_import.html",
        {
            "form": CensusUploadForm(),
            "result": result,
            "filename": sheet.name,
            "token": None if unchanged else token,
            "commit_url": None if unchanged else reverse("census_import_commit", args=[token]),
            "errors_token": None if result.ok else token,
            "errors_url": None if result.ok else reverse("census_import_errors", args=[token]),
            "unchanged": unchanged,
        },
    )


def _start_job(request, *, kind, filename, token, extension, path, rows_total=0):
    try:
        job = import_jobs.import_job_start(
            uploader=request.user,
            kind=kind,
            filename=filename,
            token=token,
            extension=extension,
            rows_total=rows_total,
            language=getattr(request, "LANGUAGE_CODE", ""),
            ip=client_ip(request),
        )
    except DomainError as exc:
        path.unlink(missing_ok=True)
        messages.error(request, str(exc))
        return redirect("census_import")
    return redirect("census_job", pk=job.pk)


def _sweep_error_lists(user) -> None:
    """Drop the uploader's error lists older than an hour: they repeat names and places."""
    cutoff = time.time() - 3600
    for path in Path(settings.UPLOAD_DIR).glob(f"{user.pk}-*.errors.csv"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def _oversized(request) -> str | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    # The form's other fields and the multipart framing add a few KB at most.
    return upload_too_large(length - 64 * 1024)


@login_required
def census_import_errors(request, token: str):
    """The full error list of one of the uploader's own previews, as CSV."""
    _require_import(request.user)
    if not _TOKEN.match(token) or token not in request.session.get(_ERRORS_KEY, []):
        raise Http404
    path = _errors_path(request.user, token)
    if not path.exists():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename="census-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


_changes_nothing = import_jobs.changes_nothing


@login_required
@require_POST
def census_import_commit(request, token: str):
    _require_import(request.user)
    upload = _pending(request).get(token) if _TOKEN.match(token) else None
    if upload is None:
        if token in request.session.get(_DONE_KEY, []):
            # A browser refresh re-posts the confirmation: the sheet is in, say so rather
            # than a 404 that reads as "it failed".
            messages.info(request, _("This census sheet has already been imported."))
            return redirect("census_import")
        raise Http404
    path = _upload_path(request.user, token, upload["extension"])
    if not path.exists():
        _forget(request, token)
        raise Http404
    if upload.get("rows", 0) > import_jobs.inline_rows():
        # Checked here, but too long to write while the browser waits: the worker writes it.
        _forget(request, token)
        return _start_job(
            request,
            kind=ImportJob.Kind.COMMIT,
            filename=upload["filename"],
            token=token,
            extension=upload["extension"],
            path=path,
            rows_total=upload["rows"],
        )
    try:
        result = _run_import(path, filename=upload["filename"], request=request, dry_run=False)
    except DomainError as exc:
        messages.error(request, str(exc))
        return render(request, "people/census_import.html", {"form": CensusUploadForm()})
    if result.ok:
        path.unlink(missing_ok=True)
        _forget(request, token)
        request.session[_DONE_KEY] = [*request.session.get(_DONE_KEY, [])[-19:], token]
        messages.success(request, _("The census sheet was imported."))
    return render(
        request,
        "people/census_import.html",
        {
            "form": CensusUploadForm(),
            "result": result,
            "filename": upload["filename"],
            "committed": result.ok,
        },
    )


# --- census imports run by the worker ----------------------------------------------------


def _job_context(job: ImportJob) -> dict:
    result = import_jobs.job_result(job)
    summary = job.summary or {}
    preview = job.kind == ImportJob.Kind.PREVIEW
    can_commit = (
        preview
        and job.status == ImportJob.Status.DONE
        and summary.get("ok")
        and not summary.get("unchanged")
        and not hasattr(job, "commit_job")
    )
    return {
        "job": job,
        "commit_job": getattr(job, "commit_job", None) if preview else None,
        "result": result,
        "filename": job.filename,
        "committed": not preview and job.status == ImportJob.Status.DONE,
        "unchanged": bool(summary.get("unchanged")),
        "commit_url": reverse("census_job_commit", args=[job.pk]) if can_commit else None,
        "errors_url": (
            reverse("census_job_errors", args=[job.pk])
            if preview and result is not None and not result.ok
            else None
        ),
    }


@login_required
def census_job(request, pk: int):
    """A census sheet the worker checks or imports: its progress, then its result."""
    _require_import(request.user)
    job = import_jobs.import_job_for(request.user, pk)
    return render(request, "people/census_job.html", _job_context(job))


@login_required
def census_job_status(request, pk: int):
    """The job's progress box alone, polled by the page (htmx) until the job is finished."""
    _require_import(request.user)
    job = import_jobs.import_job_for(request.user, pk)
    return render(request, "people/_census_job.html", _job_context(job))


@login_required
@require_POST
def census_job_commit(request, pk: int):
    _require_import(request.user)
    preview = import_jobs.import_job_for(request.user, pk)
    try:
        job = import_jobs.import_job_commit(
            preview=preview, actor=request.user, ip=client_ip(request)
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("census_job", pk=preview.pk)
    return redirect("census_job", pk=job.pk)


@login_required
def census_job_errors(request, pk: int):
    """The full error list of one of the uploader's own checks, as CSV."""
    _require_import(request.user)
    job = import_jobs.import_job_for(request.user, pk)
    path = import_jobs.errors_of(job)
    if not path.exists():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename="census-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
def census_template(request):
    _require_import(request.user)
    buffer = BytesIO()
    write_template(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="census-template.xlsx"'
    return response


@login_required
def census_export(request):
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        return HttpResponseBadRequest(_("The format is xlsx or csv."))
    if request.GET.get("region"):
        region = access_by_id(Region.objects.all(), request.user, request.GET["region"])
    else:
        region = jurisdiction_of(request.user)
        if region is None:
            raise Http404
    # A temporary file, not memory: a district's export is large, and XLSX needs a
    # seekable target to write its zip directory. FileResponse closes it when sent.
    target = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        export_census(
            region=region, target=target, fmt=fmt, actor=request.user, ip=client_ip(request)
        )
    except DomainPermissionDenied:
        target.close()
        raise PermissionDenied from None
    except DomainNotFound:
        # The policy's answer for a region outside: a 404 like any object outside, never
        # the 500 an uncaught domain error was.
        target.close()
        raise Http404 from None
    target.seek(0)
    content_type = XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"census-{region.name}.{fmt}",
        content_type=content_type,
    )
