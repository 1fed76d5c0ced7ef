"""Census import and export: the sheet format, every kind of bad row, all-or-nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import Workbook, load_workbook

from frontline.people.census import CENSUS_COLUMNS, export_census, import_census
from frontline.people.idnumber import make_id_number
from frontline.people.models import Household, Resident, ResidentCareGroup
from frontline.people.stats import census_stats
from frontline.territory.models import Region
from frontline.territory.services import region_by_path

ANKANG = ["裕安区", "城南镇", "陡步河社区", "安康小区"]
WANG = make_id_number("341503", dt.date(1941, 3, 2), 2, "F")
LI = make_id_number("341503", dt.date(1980, 3, 2), 3, "M")
BABY = make_id_number("341503", dt.date(2023, 6, 1), 5, "F")


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in English; their Chinese is tested with the catalogue.
    with translation.override("en"):
        yield


def pid(n: int) -> str:
    return make_id_number("341503", dt.date(1970, 1, 1), n, "M")


def row(**overrides) -> list[str]:
    values = dict(
        zip(
            CENSUS_COLUMNS,
            [
                *ANKANG,
                "1栋",
                "1",
                "101",
                "李强",
                "男",
                LI,
                "13912345679",
                "六安市统战部",
                "是",
                "是",
                "",
                "否",
            ],
            strict=True,
        )
    )
    values.update(overrides)
    return [values[c] for c in CENSUS_COLUMNS]


def good_rows() -> list[list[str]]:
    return [
        row(),
        row(
            姓名="王秀英",
            性别="女",
            身份证号=WANG,
            联系电话="",
            工作单位="",
            党员="",
            会网购="否",
            重点人群="独居老人、低保",
            房号="102",
        ),
        row(
            姓名="李小红",
            性别="女",
            身份证号=BABY,
            联系电话="",
            党员="否",
            会网购="",
            重点人群="婴幼儿",
            在外="是",
        ),
    ]


def csv_bytes(rows, *, header=CENSUS_COLUMNS, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header=CENSUS_COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(data: bytes, filename="census.csv", **kwargs):
    return import_census(io.BytesIO(data), filename=filename, **kwargs)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_import_in_every_encoding_excel_writes(db, encoding):
    result = run(csv_bytes(good_rows(), encoding=encoding))

    assert result.ok, [str(e) for e in result.errors]
    assert (result.rows, result.residents_created, result.households_created) == (3, 3, 2)
    wang = Resident.objects.get(id_number=WANG)
    assert (wang.name, wang.sex, wang.birth_date) == ("王秀英", "F", dt.date(1941, 3, 2))
    assert wang.household.room == "102"
    assert wang.household.building.path == "裕安区/城南镇/陡步河社区/安康小区/1栋"
    assert sorted(wang.care_group_codes()) == ["elderly_alone", "subsistence"]
    assert wang.is_party_member is False and wang.can_order_online is False


def test_household_aggregates_follow_the_sheet(db):
    run(csv_bytes(good_rows()))

    household = Household.objects.get(room="101")
    assert (household.members, household.members_away, household.online_members) == (2, 1, 1)
    assert household.lived_in
    assert household.phone == "13912345679"
    baby = Resident.objects.get(id_number=BABY)
    assert baby.can_order_online is None and baby.away is True


def test_xlsx_import(db):
    result = run(xlsx_bytes(good_rows()), filename="普查.xlsx")

    assert result.ok, [str(e) for e in result.errors]
    assert Resident.objects.count() == 3


def test_english_alias_headers_are_accepted(db):
    header = [
        "District",
        "Township",
        "Community",
        "Compound",
        "Building",
        "Unit",
        "Room",
        "Name",
        "Sex",
        "ID number",
        "Phone",
        "Work unit",
        "Party member",
        "Can order online",
        "Care groups",
        "Away",
    ]
    result = run(csv_bytes(good_rows(), header=header))

    assert result.ok, [str(e) for e in result.errors]
    assert Resident.objects.count() == 3


def test_importing_again_changes_nothing(db):
    run(csv_bytes(good_rows()))
    before = list(Resident.objects.order_by("id").values())

    again = run(csv_bytes(good_rows()))

    assert (again.residents_created, again.residents_updated, again.residents_unchanged) == (
        0,
        0,
        3,
    )
    assert again.households_created == 0 and again.regions_created == 0
    assert list(Resident.objects.order_by("id").values()) == before


def test_a_resident_on_another_room_moves_there(db):
    run(csv_bytes(good_rows()))
    moved = [row(楼栋="2栋", 房号="501", 重点人群="残疾人"), *good_rows()[1:]]

    result = run(csv_bytes(moved))

    assert result.ok and result.residents_updated == 1
    li = Resident.objects.get(id_number=LI)
    assert li.household.building.name == "2栋" and li.building_id == li.household.building_id
    assert li.care_group_codes() == ["disabled"]
    assert ResidentCareGroup.objects.get(resident=li).building_id == li.building_id
    old = Household.objects.get(room="101")
    assert (old.members, old.online_members) == (1, 0)
    assert Resident.objects.count() == 3


# Each bad sheet: the rows (after the header), and the exact report expected.
BAD_ROWS = [
    (
        "bad checksum",
        [row(身份证号=LI[:-1] + ("0" if LI[-1] != "0" else "1"))],
        "row 2, column 身份证号: check digit is wrong (GB 11643 checksum)",
    ),
    (
        "impossible birth date",
        [
            row(
                身份证号=make_id_number("341503", dt.date(1980, 3, 2), 3, "M")[:10]
                + "0230"
                + "0031"[:3]
                + "X"
            )
        ],
        "row 2, column 身份证号:",
    ),
    (
        "sex disagrees with the ID",
        [row(性别="女")],
        "row 2, column 性别: 女 disagrees with the ID number, which is 男",
    ),
    (
        "same ID twice",
        [row(), row(房号="202")],
        "row 3, column 身份证号: the same ID number is already on row 2",
    ),
    ("required cell empty", [row(姓名="")], "row 2, column 姓名: required cell is empty"),
    (
        "unknown care group",
        [row(重点人群="孤寡")],
        "row 2, column 重点人群: unknown care group “孤寡”",
    ),
    (
        "yes/no that is neither",
        [row(党员="可能")],
        "row 2, column 党员: must be 是 or 否 (also 有/无, √/×, ✓/✗, Y/N, yes/no, 1/0), not “可能”",
    ),
    (
        "malformed phone",
        [row(联系电话="1391234")],
        "row 2, column 联系电话: “1391234” is not a mobile (11 digits) or landline number",
    ),
    (
        "bad sex",
        [row(性别="X")],
        "row 2, column 性别: must be 男 or 女 (also 男性/女性, M/F), not “X”",
    ),
    (
        "slash in a place name",
        [row(小区="安康/小区")],
        "row 2, column 小区: a place name cannot contain “/”",
    ),
]


@pytest.mark.parametrize(("case", "rows", "expected"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_bad_rows_are_reported_and_nothing_is_written(db, case, rows, expected):
    good = [row(姓名="王秀英", 性别="女", 身份证号=WANG, 房号="909")]
    result = run(csv_bytes([*rows, *good]))

    assert not result.ok
    assert any(str(e).startswith(expected) for e in result.errors), [str(e) for e in result.errors]
    assert Resident.objects.count() == 0
    assert Household.objects.count() == 0
    assert Region.objects.exclude(level=0).count() == 0


def test_impossible_birth_date_names_the_date(db):
    first17 = "341503" + "19800230" + "003"
    from frontline.people.idnumber import check_character

    result = run(csv_bytes([row(身份证号=first17 + check_character(first17))]))

    assert [str(e) for e in result.errors] == [
        "row 2, column 身份证号: birth date 19800230 does not exist"
    ]


def test_every_bad_row_is_reported_not_just_the_first(db):
    rows = [
        row(),
        *[row(身份证号="123", 房号=str(n)) for n in range(5)],
        row(党员="?", 身份证号=pid(99)),
    ]
    result = run(csv_bytes(rows))

    assert [e.row for e in result.errors] == [3, 4, 5, 6, 7, 8]


def test_a_bad_row_after_many_good_ones_leaves_nothing_behind(db, monkeypatch):
    monkeypatch.setattr("frontline.people.census.BATCH_SIZE", 2)
    rows = [row(身份证号=pid(n), 房号=str(100 + n)) for n in range(1, 12, 2)]
    rows.append(row(身份证号="341503197001010000"))

    result = run(csv_bytes(rows))

    assert not result.ok
    assert Resident.objects.count() == 0 and Household.objects.count() == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            [c for c in CENSUS_COLUMNS if c != "身份证号"],
            ["row 1, column 身份证号: missing column"],
        ),
        (
            [c if c != "身份证号" else "身分证号" for c in CENSUS_COLUMNS],
            [
                "row 1, column 身分证号: unknown column “身分证号”; did you mean “身份证号”?",
                "row 1, column 身份证号: missing column",
            ],
        ),
    ],
    ids=["missing", "misspelt"],
)
def test_header_errors(db, header, expected):
    result = run(csv_bytes([], header=header))

    assert [str(e) for e in result.errors] == expected


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (
            b"\x00\x01\x02garbage\x00" * 50,
            "census.bin",
            "file: this is not a CSV, XLSX, XLS or ODS file",
        ),
        (b"PK\x03\x04 not really a zip", "census.xlsx", "file: the XLSX file is corrupt"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "census.xls",
            "file: the XLS file is corrupt or not a workbook",
        ),
        (b"", "census.csv", "file: the file is empty"),
    ],
    ids=["binary", "corrupt-xlsx", "xls", "empty"],
)
def test_files_that_are_not_sheets(db, data, filename, expected):
    result = run(data, filename=filename)

    assert len(result.errors) == 1 and str(result.errors[0]).startswith(expected)


def test_an_id_stored_as_a_number_in_excel_is_refused(db):
    data = xlsx_bytes([[*row()[:9], 341503198003020034, *row()[10:]]])

    result = run(data, filename="census.xlsx")

    assert [str(e) for e in result.errors] == [
        "row 2, column 身份证号: stored as a number, so Excel lost its last digits; "
        "format the column as text"
    ]


def test_dry_run_counts_but_writes_nothing(db):
    result = run(csv_bytes(good_rows()), dry_run=True)

    assert result.ok and result.dry_run and not result.written
    assert (result.residents_created, result.households_created) == (3, 2)
    assert Resident.objects.count() == 0 and Region.objects.exclude(level=0).count() == 0


def test_rows_outside_the_importers_jurisdiction_are_refused(community_staff):
    outside = row(
        区县="金安区", 乡镇街道="鼓楼街道", 村社区="鼓楼社区", 小区="丽景苑小区", 身份证号=pid(1)
    )

    result = run(csv_bytes([row(), outside]), actor=community_staff)

    assert [str(e) for e in result.errors] == [
        "row 3, column 区县: 金安区/鼓楼街道/鼓楼社区/丽景苑小区/1栋 is outside your "
        "jurisdiction (裕安区/城南镇/陡步河社区)"
    ]
    assert not Resident.objects.filter(id_number__in=[LI, pid(1)]).exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_round_trips(db, fmt, tmp_path):
    run(csv_bytes(good_rows()))
    first = tmp_path / f"first.{fmt}"
    count = export_census(region=region_by_path(""), target=first, fmt=fmt)
    before = list(Resident.objects.order_by("id").values())

    result = import_census(first)

    assert count == 3
    assert result.ok and result.residents_unchanged == 3 and result.households_created == 0
    assert list(Resident.objects.order_by("id").values()) == before
    second = tmp_path / f"second.{fmt}"
    export_census(region=region_by_path(""), target=second, fmt=fmt)
    assert _sheet(first) == _sheet(second)
    assert _sheet(first)[0] == [*CENSUS_COLUMNS, "紧急联系人", "紧急联系电话", "与户主关系"]


def _sheet(path):
    if path.suffix == ".csv":
        return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    return [
        ["" if v is None else str(v) for v in r]
        for r in load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True)
    ]


def test_export_is_confined_to_the_region(db, tmp_path):
    rows = [
        *good_rows(),
        row(
            区县="金安区",
            乡镇街道="鼓楼街道",
            村社区="鼓楼社区",
            小区="丽景苑小区",
            身份证号=make_id_number("341502", dt.date(1990, 1, 1), 7, "M"),
        ),
    ]
    run(csv_bytes(rows))
    target = tmp_path / "ankang.csv"

    count = export_census(
        region=region_by_path("裕安区/城南镇/陡步河社区/安康小区"), target=target, fmt="csv"
    )

    assert count == 3
    assert "丽景苑小区" not in target.read_text(encoding="utf-8-sig")


def test_stats_agree_with_an_independent_count(db):
    run(csv_bytes(good_rows()))
    sheet = good_rows()

    stats = census_stats(region_by_path("裕安区"))

    assert stats["residents"] == len(sheet)
    assert stats["households"] == len({(r[4], r[5], r[6]) for r in sheet})
    assert stats["buildings"] == 1 and stats["compounds"] == 1
    assert stats["party_members"] == sum(r[12] == "是" for r in sheet)
    assert stats["away"] == sum(r[15] == "是" for r in sheet)
    # Room 102: 王秀英 cannot; room 101: 李强 can. One household where nobody orders online.
    assert stats["cannot_order_online"] == 1
    assert stats["care_groups"] == {
        "独居老人": 1,
        "孕妇": 0,
        "婴幼儿": 1,
        "残疾人": 0,
        "透析": 0,
        "低保": 1,
        "五保": 0,
        "特困": 0,
    }


def test_cli_import_reports_every_error_and_exits_non_zero(db, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([row(), row(党员="?", 房号="2", 身份证号=pid(1))]))

    with pytest.raises(CommandError, match="1 error"):
        call_command("import_census", str(path), "--no-progress")

    assert "row 3, column 党员: must be 是 or 否" in capsys.readouterr().err
    assert Resident.objects.count() == 0


def test_cli_import_and_export(db, tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_bytes(csv_bytes(good_rows()))

    call_command("import_census", str(path), "--dry-run", "--no-progress")
    assert "would import 3 rows" in capsys.readouterr().out and Resident.objects.count() == 0
    call_command("import_census", str(path), "--no-progress")
    assert "imported 3 rows: 3 residents created" in capsys.readouterr().out
    call_command("export_census", "-o", str(tmp_path / "out.xlsx"), "--region", "裕安区/城南镇")
    assert "exported 3 residents" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No region"):
        call_command("export_census", "-o", str(tmp_path / "x.csv"), "--region", "不存在区")


def test_a_misspelt_header_is_matched_to_the_column_still_missing(db):
    header = [c if c != "姓名" else "性名" for c in CENSUS_COLUMNS]

    result = run(csv_bytes([], header=header))

    assert [str(e) for e in result.errors] == [
        "row 1, column 性名: unknown column “性名”; did you mean “姓名”?",
        "row 1, column 姓名: missing column",
    ]


def test_the_blank_template_keeps_id_numbers_as_text(tmp_path):
    from frontline.people.census import write_template

    path = tmp_path / "template.xlsx"
    write_template(path)

    sheet = load_workbook(path).worksheets[0]
    # The two emergency-contact columns (issue 6) close the header.
    assert [c.value for c in sheet[1]] == [
        *CENSUS_COLUMNS,
        "紧急联系人",
        "紧急联系电话",
        "与户主关系",
    ]
    id_column = CENSUS_COLUMNS.index("身份证号") + 1
    assert sheet.cell(row=2, column=id_column).number_format == "@"
    assert sheet.cell(row=2, column=CENSUS_COLUMNS.index("联系电话") + 1).number_format == "@"
    assert sheet.cell(row=2, column=len(CENSUS_COLUMNS) + 2).number_format == "@"


def test_a_role_that_may_not_import_is_refused_by_the_import_itself(volunteer):
    from frontline.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="may not import"):
        run(csv_bytes(good_rows()), actor=volunteer)
    assert not Resident.objects.filter(id_number=LI).exists()


def test_community_staff_import_within_their_community(community_staff):
    result = run(csv_bytes(good_rows()), actor=community_staff)

    assert result.ok, [str(e) for e in result.errors]
    assert Resident.objects.filter(id_number=LI).exists()


def test_losing_a_race_with_another_import_writes_nothing_and_says_so(db, monkeypatch):
    from django.db import IntegrityError

    from frontline.people import census

    real = census._executemany

    def racing(model, columns, rows, **kwargs):
        if model is Resident:
            raise IntegrityError("UNIQUE constraint failed: people_resident.id_number")
        return real(model, columns, rows, **kwargs)

    monkeypatch.setattr(census, "_executemany", racing)

    result = run(csv_bytes(good_rows()))

    assert [str(e) for e in result.errors] == [
        "file: another import changed the same households at the same time; nothing was "
        "written, import the sheet again"
    ]
    assert Household.objects.count() == 0 and Region.objects.exclude(level=0).count() == 0


def test_export_refuses_a_role_and_a_region_outside_the_actor(
    lu_an, volunteer, outsider, community_staff, tmp_path
):
    from frontline.core.errors import NotFound, PermissionDenied

    ankang = region_by_path("裕安区/城南镇/陡步河社区/安康小区")
    with pytest.raises(PermissionDenied):
        export_census(region=ankang, target=tmp_path / "a.csv", fmt="csv", actor=volunteer)
    staff_elsewhere = outsider
    staff_elsewhere.role = "community_staff"
    with pytest.raises(NotFound):
        export_census(region=ankang, target=tmp_path / "b.csv", fmt="csv", actor=staff_elsewhere)
    assert (
        export_census(region=ankang, target=tmp_path / "c.csv", fmt="csv", actor=community_staff)
        == 3
    )
