"""Lab result files: `管码, 结果` from CSV or XLSX, all or nothing, row-level errors, the
English aliases, the CLI `import-results` and the upload page's preview and commit."""

from __future__ import annotations

import datetime as dt
import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils.translation import override
from openpyxl import Workbook

from frontline.audit.models import AuditEvent
from frontline.core.errors import NotFound, PermissionDenied
from frontline.health import testing
from frontline.health.models import Tube, TubeResult
from frontline.health.results import import_results
from frontline.people.models import Resident
from frontline.territory.models import Region

TOWN = "裕安区/城南镇"


@pytest.fixture
def tubes(town_staff, grid_worker):
    """A round over 城南镇 with tubes T1 (李强, 李小红), T2 (王秀英), T3 (赵建国)."""
    made = testing.round_create(
        name="城南镇第1轮",
        date=dt.date(2022, 4, 12),
        regions=[Region.objects.get(path=TOWN)],
        actor=town_staff,
    )

    def ids(*names):
        return [Resident.objects.get(name=n).pk for n in names]

    testing.tube_record(round=made, code="T1", residents=ids("李强", "李小红"), actor=grid_worker)
    testing.tube_record(round=made, code="T2", residents=ids("王秀英"), actor=grid_worker)
    testing.tube_record(round=made, code="T3", residents=ids("赵建国"), actor=town_staff)
    return made


def csv_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    stream = io.BytesIO(text.encode(encoding))
    stream.name = "lab.csv"
    return stream


def xlsx_file(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    stream.name = "lab.xlsx"
    return stream


def results() -> dict[str, str]:
    return dict(Tube.objects.values_list("code", "result"))


def test_a_good_csv_sets_every_result(tubes, town_staff):
    result = import_results(
        csv_file("管码,结果\nT1,阳性\nT2,阴性\nT3,阴性\n"),
        round=tubes,
        filename="lab.csv",
        actor=town_staff,
    )
    assert result.ok, result.errors
    assert (result.rows, result.negative, result.positive, result.changed) == (3, 2, 1, 3)
    assert results() == {"T1": "positive", "T2": "negative", "T3": "negative"}
    assert result.positive_codes == ["T1"]
    event = AuditEvent.objects.get(action="import_results")
    assert event.detail["positive_tubes"] == ["T1"] and event.actor_name == "town_staff"
    retest = {r.name for r in testing.retest_list(tubes, town_staff)}
    assert retest == {"李强", "李小红"}


def test_an_xlsx_with_english_aliases_and_title_case(tubes, town_staff):
    sheet = xlsx_file(
        [["Tube", "Result"], ["T1", "Negative"], ["T2", "POSITIVE"], ["T3", "negative"]]
    )
    result = import_results(sheet, round=tubes, filename="lab.xlsx", actor=town_staff)
    assert result.ok, result.errors
    assert results() == {"T1": "negative", "T2": "positive", "T3": "negative"}


def test_gb18030_and_extra_columns(tubes, town_staff):
    text = "序号,管码,姓名,结果\n1,T1,李强,阴性\n2,T2,王秀英,阳性\n"
    result = import_results(
        csv_file(text, "gb18030"), round=tubes, filename="lab.csv", actor=town_staff
    )
    assert result.ok, result.errors
    assert results() == {"T1": "negative", "T2": "positive", "T3": "pending"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("T9,阴性", "row 3, column 管码: no tube “T9” in this round"),
        ("T2,阳", "row 3, column 结果: “阳”: write 阴性 or 阳性 (negative or positive)"),
        ("T1,阴性", "row 3, column 管码: the same tube as row 2"),
        (",阴性", "row 3, column 管码: required"),
        ("T2,", "row 3, column 结果: required"),
    ],
)
def test_a_bad_row_changes_nothing(tubes, town_staff, body, expected):
    with override("en"):
        result = import_results(
            csv_file(f"管码,结果\nT1,阳性\n{body}\n"),
            round=tubes,
            filename="lab.csv",
            actor=town_staff,
        )
        messages = [str(e) for e in result.errors]
    assert messages == [expected]
    assert set(results().values()) == {"pending"}
    assert (result.negative, result.positive, result.changed) == (0, 0, 0)
    assert not AuditEvent.objects.filter(action="import_results").exists()


def test_missing_columns_are_header_errors(tubes, town_staff):
    with override("en"):
        result = import_results(
            csv_file("管码,备注\nT1,阳性\n"), round=tubes, filename="lab.csv", actor=town_staff
        )
        assert [str(e) for e in result.errors] == ["row 1, column 结果: missing column"]
    assert set(results().values()) == {"pending"}


@pytest.mark.parametrize(
    "content", [b"", b"\x00\x01\x02binary", "管码,结果\n".encode(), b"PK\x03\x04broken"]
)
def test_unreadable_or_empty_files_are_file_errors(tubes, town_staff, content):
    stream = io.BytesIO(content)
    result = import_results(stream, round=tubes, filename="lab.csv", actor=town_staff)
    assert not result.ok and result.errors[0].row is None
    assert set(results().values()) == {"pending"}


def test_errors_are_bounded(tubes, town_staff):
    body = "管码,结果\n" + "".join(f"X{n},阴性\n" for n in range(500))
    result = import_results(csv_file(body), round=tubes, filename="lab.csv", actor=town_staff)
    assert result.error_count == 500 and len(result.errors) == 200
    assert result.errors_not_shown == 300


def test_a_dry_run_writes_nothing(tubes, town_staff):
    result = import_results(
        csv_file("管码,结果\nT1,阳性\n"),
        round=tubes,
        filename="lab.csv",
        actor=town_staff,
        dry_run=True,
    )
    assert result.ok and result.positive == 1
    assert set(results().values()) == {"pending"}


def test_a_tube_outside_the_jurisdiction_reads_as_unknown(tubes, town_staff, community_staff):
    # 陡步河社区's staff do not see 赵建国's tube of 创业小区 (城南社区).
    with override("en"):
        result = import_results(
            csv_file("管码,结果\nT3,阳性\n"), round=tubes, filename="lab.csv", actor=community_staff
        )
        assert [str(e) for e in result.errors] == ["row 2, column 管码: no tube “T3” in this round"]
    assert results()["T3"] == "pending"


def test_who_may_import(tubes, grid_worker, outsider):
    with pytest.raises(PermissionDenied):
        import_results(csv_file("管码,结果\nT1,阳性\n"), round=tubes, actor=grid_worker)
    from frontline.accounts.services import user_create

    other_staff = user_create(
        username="other_staff",
        role="township_staff",
        region=Region.objects.get(path="金安区/鼓楼街道"),
    )
    with pytest.raises(NotFound):
        import_results(csv_file("管码,结果\nT1,阳性\n"), round=tubes, actor=other_staff)


# --- the command ----------------------------------------------------------------------------


def test_the_command_imports_and_dry_runs(tubes, tmp_path, town_staff):
    sheet = tmp_path / "lab.csv"
    sheet.write_text("tube,result\nT1,positive\nT2,negative\n", encoding="utf-8")
    out = StringIO()
    with override("en"):
        call_command("import_results", str(tubes.pk), str(sheet), "--dry-run", stdout=out)
    assert "would import 2 rows" in out.getvalue()
    assert set(results().values()) == {"pending"}
    out = StringIO()
    with override("en"):
        call_command("import_results", str(tubes.pk), str(sheet), "--as", "town_staff", stdout=out)
    assert "imported 2 rows" in out.getvalue() and "abnormal: T1" in out.getvalue()
    assert results()["T1"] == "positive"
    assert AuditEvent.objects.get(action="import_results").actor_name == "town_staff"


def test_the_command_reports_row_errors_and_writes_nothing(tubes, tmp_path):
    sheet = tmp_path / "lab.csv"
    sheet.write_text("管码,结果\nT1,阳性\nT1,阴性\n", encoding="utf-8")
    err = StringIO()
    with override("en"), pytest.raises(CommandError, match="1 error in lab.csv"):
        call_command("import_results", str(tubes.pk), str(sheet), stderr=err)
    assert "row 3, column 管码: the same tube as row 2" in err.getvalue()
    assert set(results().values()) == {"pending"}


def test_the_command_refuses_unknown_rounds_accounts_and_files(tubes, tmp_path, outsider):
    sheet = tmp_path / "lab.csv"
    sheet.write_text("管码,结果\nT1,阳性\n", encoding="utf-8")
    with override("en"):
        with pytest.raises(CommandError, match="No testing round"):
            call_command("import_results", "999", str(sheet))
        with pytest.raises(CommandError, match="no such active account"):
            call_command("import_results", str(tubes.pk), str(sheet), "--as", "nobody")
        with pytest.raises(CommandError, match="no such file"):
            call_command("import_results", str(tubes.pk), str(tmp_path / "none.csv"))
        # The outsider does not see the round: it reads as one that does not exist.
        with pytest.raises(CommandError, match="No testing round"):
            call_command("import_results", str(tubes.pk), str(sheet), "--as", "outsider")


def test_the_cli_sets_up_a_fresh_database_first(tmp_path, monkeypatch):
    """`frontline import-results` on a brand-new data folder migrates first (like every
    project command), then says the round does not exist: no `no such table`."""
    import subprocess
    import sys

    sheet = tmp_path / "lab.csv"
    sheet.write_text("管码,结果\nT1,阳性\n", encoding="utf-8")
    env = {
        "FRONTLINE_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
        "DJANGO_LANGUAGE": "en",
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [sys.executable, "-m", "frontline.cli", "import-results", "1", str(sheet)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode != 0
    assert "no such table" not in done.stderr
    assert "Traceback" not in done.stderr and "1" in done.stderr


# --- the upload page ------------------------------------------------------------------------


def test_the_upload_page_previews_then_commits(tubes, town_staff):
    client = Client()
    client.force_login(town_staff)
    url = reverse("testing_results", args=[tubes.pk])
    assert client.get(url).status_code == 200
    preview = client.post(url, {"sheet": csv_file("管码,结果\nT1,阳性\nT2,阴性\n")})
    assert preview.status_code == 200 and preview.context["result"].ok
    assert set(results().values()) == {"pending"}
    token = preview.context["token"]
    committed = client.post(reverse("testing_results_commit", args=[tubes.pk, token]))
    assert committed.status_code == 200 and committed.context["committed"]
    assert results()["T1"] == "positive"
    # A refreshed confirmation does not import twice.
    assert client.post(reverse("testing_results_commit", args=[tubes.pk, token])).status_code == 404


def test_the_upload_page_shows_row_errors(tubes, town_staff):
    client = Client()
    client.force_login(town_staff)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("testing_results", args=[tubes.pk]),
        {"sheet": csv_file("管码,结果\nT9,阳性\n")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = response.content.decode()
    assert "no tube “T9” in this round" in body and response.context["token"] is None
    assert set(results().values()) == {"pending"}


def test_one_result_typed_in(tubes, town_staff):
    client = Client()
    client.force_login(town_staff)
    response = client.post(
        reverse("testing_result_set", args=[tubes.pk]), {"code": "T2", "result": "positive"}
    )
    assert response.status_code == 302
    assert results()["T2"] == TubeResult.POSITIVE
    unknown = client.post(
        reverse("testing_result_set", args=[tubes.pk]), {"code": "T9", "result": "positive"}
    )
    assert unknown.status_code == 404


def test_another_users_upload_cannot_be_committed(tubes, town_staff, city_admin):
    owner = Client()
    owner.force_login(town_staff)
    preview = owner.post(
        reverse("testing_results", args=[tubes.pk]), {"sheet": csv_file("管码,结果\nT1,阳性\n")}
    )
    other = Client()
    other.force_login(city_admin)
    token = preview.context["token"]
    assert other.post(reverse("testing_results_commit", args=[tubes.pk, token])).status_code == 404
    assert results()["T1"] == "pending"
