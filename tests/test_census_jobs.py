"""Large census sheets uploaded on the web: checked and imported by the background worker,
with progress on the page, the same result as inline, and nothing written on failure."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from frontline.accounts.models import User
from frontline.accounts.services import user_create
from frontline.people import census, import_jobs
from frontline.people.census import import_census
from frontline.people.idnumber import FEMALE, MALE
from frontline.people.models import ImportJob, Resident

from . import factories as f
from .conftest import PASSWORD
from .test_web_census import csv_upload, row, sign_in


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    # Three rows are "large" here: anything above goes to the worker.
    settings.FRONTLINE_WEB_IMPORT_INLINE_ROWS = 3
    return settings.UPLOAD_DIR


def six_rows():
    return [
        row(
            f"居民{i}",
            f.id_number(birth=dt.date(1960 + i, 1, 2), sex=MALE if i % 2 else FEMALE),
            sex="男" if i % 2 else "女",
            room=f"{i + 1}01",
        )
        for i in range(6)
    ]


def _snapshot():
    return sorted(
        Resident.objects.values_list(
            "id_number", "name", "sex", "household__room", "household__building__path"
        )
    )


class _Undo(Exception):
    pass


def _inline(path, actor):
    """What an inline import of the same sheet writes and answers, then undone."""
    preview = import_census(path, actor=actor, dry_run=True)
    try:
        with transaction.atomic():
            result = import_census(path, actor=actor)
            written = _snapshot()
            raise _Undo
    except _Undo:
        pass
    return preview, result, written


def _job(client, rows):
    response = client.post(reverse("census_import"), {"sheet": csv_upload(rows)})
    assert response.status_code == 302, response.status_code
    job = ImportJob.objects.latest("id")
    assert response["Location"] == reverse("census_job", args=[job.pk])
    return job


def test_a_large_sheet_is_checked_and_imported_by_the_worker_like_inline(
    client, community_staff, upload_dir, monkeypatch
):
    monkeypatch.setattr(census, "PROGRESS_ROWS", 2)
    monkeypatch.setattr(import_jobs, "PROGRESS_SECONDS", 0)
    seen = []
    record = import_jobs._progress

    def spy(job_id):
        inner = record(job_id)

        def wrapped(phase, rows):
            inner(phase, rows)
            stored = ImportJob.objects.values_list("phase", "rows_done").get(pk=job_id)
            seen.append((phase, rows, stored))

        return wrapped

    monkeypatch.setattr(import_jobs, "_progress", spy)
    sign_in(client, community_staff)
    before = _snapshot()

    preview = _job(client, six_rows())

    # Queued: nothing is checked while the browser waits.
    assert preview.status == ImportJob.Status.QUEUED and preview.kind == "preview"
    waiting = client.get(reverse("census_job", args=[preview.pk])).content.decode()
    assert "hx-get" in waiting and reverse("census_job_status", args=[preview.pk]) in waiting
    path = import_jobs.sheet_of(preview)
    inline_preview, inline_result, inline_written = _inline(path, community_staff)
    assert _snapshot() == before

    assert import_jobs.import_job_run(preview.pk) == "done"

    # Progress was written to the job row as the rows were read, every 2 rows here.
    assert [(p, n) for p, n, _stored in seen] == [
        ("checking", 2),
        ("checking", 4),
        ("checking", 6),
        ("checking", 6),
    ]
    assert all(stored == (p, n) for p, n, stored in seen)
    preview.refresh_from_db()
    assert (preview.rows_done, preview.rows_total) == (6, 6)
    checked = import_jobs.job_result(preview)
    assert checked.ok and checked.residents_created == inline_preview.residents_created == 6
    assert [c.name for c in checked.changes] == [c.name for c in inline_preview.changes]
    assert _snapshot() == before
    status = client.get(reverse("census_job_status", args=[preview.pk])).content.decode()
    assert "hx-get" not in status and "Preview: no errors" in status
    assert reverse("census_job_commit", args=[preview.pk]) in status

    seen.clear()
    response = client.post(reverse("census_job_commit", args=[preview.pk]))
    commit = ImportJob.objects.latest("id")
    assert response["Location"] == reverse("census_job", args=[commit.pk])
    assert commit.kind == "commit" and commit.rows_total == 6 and commit.preview == preview
    assert import_jobs.import_job_run(commit.pk) == "done"

    assert seen[-1][:2] == ("writing", 6)
    commit.refresh_from_db()
    assert commit.status == "done" and commit.rows_done == 6
    written = import_jobs.job_result(commit)
    assert (written.residents_created, written.households_created) == (
        inline_result.residents_created,
        inline_result.households_created,
    )
    assert _snapshot() == inline_written
    assert not path.exists()
    page = client.get(reverse("census_job", args=[commit.pk])).content.decode()
    assert "Imported" in page
    # The check cannot be confirmed twice.
    again = client.post(reverse("census_job_commit", args=[preview.pk]), follow=True)
    assert ImportJob.objects.count() == 2 and again.status_code == 200


def test_a_small_sheet_stays_inline(client, community_staff):
    sign_in(client, community_staff)
    response = client.post(reverse("census_import"), {"sheet": csv_upload(six_rows()[:3])})
    assert response.status_code == 200 and response.context["result"].rows == 3
    assert ImportJob.objects.count() == 0


def test_an_inline_check_of_a_large_sheet_is_written_by_the_worker(
    client, community_staff, settings
):
    # The estimate said small (the row limit was higher then); the check counted six.
    settings.FRONTLINE_WEB_IMPORT_INLINE_ROWS = 100
    sign_in(client, community_staff)
    checked = client.post(reverse("census_import"), {"sheet": csv_upload(six_rows())})
    token = checked.context["token"]
    settings.FRONTLINE_WEB_IMPORT_INLINE_ROWS = 3

    response = client.post(reverse("census_import_commit", args=[token]))

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("census_job", args=[job.pk])
    assert job.kind == "commit" and job.rows_total == 6
    assert not Resident.objects.filter(name__startswith="居民").exists()
    assert import_jobs.import_job_run(job.pk) == "done"
    assert Resident.objects.filter(name__startswith="居民").count() == 6


def test_an_uploader_who_lost_the_right_meanwhile_is_refused_when_it_runs(client, community_staff):
    sign_in(client, community_staff)
    preview = _job(client, six_rows())
    import_jobs.import_job_run(preview.pk)
    client.post(reverse("census_job_commit", args=[preview.pk]))
    commit = ImportJob.objects.latest("id")
    before = _snapshot()
    User.objects.filter(pk=community_staff.pk).update(role="volunteer")

    assert import_jobs.import_job_run(commit.pk) == "failed"

    commit.refresh_from_db()
    assert commit.status == "failed" and commit.error
    assert _snapshot() == before and not commit.result


def test_a_failed_job_shows_its_error_and_wrote_nothing(client, community_staff):
    sign_in(client, community_staff)
    preview = _job(client, six_rows())
    import_jobs.import_job_run(preview.pk)
    client.post(reverse("census_job_commit", args=[preview.pk]))
    commit = ImportJob.objects.latest("id")
    import_jobs.sheet_of(commit).unlink()  # the sheet was swept away meanwhile

    assert import_jobs.import_job_run(commit.pk) == "failed"

    page = client.get(reverse("census_job", args=[commit.pk])).content.decode()
    assert "The import failed" in page and "upload it again" in page
    assert "Nothing was written." in page and "hx-get" not in page
    assert Resident.objects.filter(name__startswith="居民").count() == 0


def test_a_sheet_with_errors_is_reported_with_its_error_list(client, community_staff):
    rows = six_rows()
    rows[4][CENSUS_ID] = rows[4][CENSUS_ID][:-1] + ("0" if rows[4][CENSUS_ID][-1] != "0" else "1")
    sign_in(client, community_staff)
    preview = _job(client, rows)

    import_jobs.import_job_run(preview.pk)

    page = client.get(reverse("census_job", args=[preview.pk])).content.decode()
    assert "The sheet has errors" in page
    assert reverse("census_job_commit", args=[preview.pk]) not in page
    errors = client.get(reverse("census_job_errors", args=[preview.pk]))
    assert errors.status_code == 200 and "6" in b"".join(errors.streaming_content).decode()
    assert not import_jobs.sheet_of(preview).exists()


CENSUS_ID = census.CENSUS_COLUMNS.index("身份证号")


def test_only_the_uploader_sees_a_job(client, community_staff, outsider, lu_an):
    sign_in(client, community_staff)
    job = _job(client, six_rows())
    colleague = user_create(
        username="colleague",
        role="community_staff",
        region=community_staff.region,
        password=PASSWORD,
    )
    for other in (colleague, outsider):
        peer = Client()
        peer.force_login(other)
        for name in ("census_job", "census_job_status", "census_job_errors"):
            assert peer.get(reverse(name, args=[job.pk])).status_code in (403, 404), name
        assert peer.post(reverse("census_job_commit", args=[job.pk])).status_code in (403, 404)


# Transactional: the worker checks its connection between tasks as a real one does.
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_queued_job(community_staff):
    client = sign_in(Client(), community_staff)
    job = _job(client, six_rows())

    call_command("worker", "--once")

    job.refresh_from_db()
    assert job.status == "done" and job.summary["rows"] == 6 and job.summary["ok"]


def test_the_row_estimate_reads_no_cells(tmp_path):
    from .test_web_census import xlsx_upload

    sheet = tmp_path / "big.xlsx"
    sheet.write_bytes(xlsx_upload(six_rows()).read())
    text = tmp_path / "big.csv"
    text.write_bytes(csv_upload(six_rows()).read())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"x" * 5000)

    assert census.estimate_rows(sheet) == 6
    assert census.estimate_rows(text) == 6
    assert census.estimate_rows(broken) == 5004 // 50
