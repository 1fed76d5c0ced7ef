"""`frontline import-cadres`: the pinned header, row errors, all or nothing, dry run, --as."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from frontline.duty.cadre_import import MAX_ERRORS
from frontline.duty.models import Cadre, OrgUnit

from . import factories as f
from .duty_helpers import english, person

HEADER = "单位,姓名,性别,身份证号,联系电话,职级,党员\n"


@pytest.fixture(autouse=True)
def _english():
    with english():
        yield


def sheet(tmp_path, *rows: str, header: str = HEADER):
    path = tmp_path / "roster.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def run(path, *args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_cadres", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


@pytest.fixture
def ids(db):
    return [f.id_number(), f.id_number(sex=f.FEMALE, birth=dt.date(1985, 2, 3))]


def test_a_roster_imports_and_reimport_updates_by_id(tmp_path, ids):
    ok, out, _err = run(
        sheet(
            tmp_path,
            f"六安市财政局,周正,男,{ids[0]},13905640001,科级,是",
            f"六安市财政局,吴敏,女,{ids[1]},,一般干部,否",
        )
    )
    assert ok, _err
    assert "2 cadres created" in out and "1 units created" in out
    assert OrgUnit.objects.get().kind == "city"

    ok, out, _err = run(
        sheet(
            tmp_path,
            f"六安市财政局,周正,男,{ids[0]},13905640001,副处级,是",
            f"六安市财政局,吴敏,女,{ids[1]},,一般干部,否",
        )
    )
    assert ok and "1 updated, 1 unchanged" in out
    assert Cadre.objects.get(id_number=ids[0]).rank == "deputy_division"
    assert Cadre.objects.count() == 2


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, ids):
    bad_check = ids[0][:-1] + ("0" if ids[0][-1] != "0" else "1")
    ok, _out, err = run(
        sheet(
            tmp_path,
            f"六安市财政局,周正,男,{ids[0]},13905640001,科级,是",
            f"六安市财政局,错号,男,{bad_check},,科级,否",
            f"六安市财政局,,女,{ids[1]},12345,处长,也许",
            f"六安市财政局,重复,男,{ids[0]},,科级,否",
        )
    )

    assert not ok
    assert "row 3, column 身份证号: check digit is wrong" in err
    assert "row 4, column 姓名: required" in err
    assert "row 4, column 联系电话" in err and "row 4, column 职级" in err
    assert "row 4, column 党员" in err
    assert "row 5, column 身份证号: the same ID number as row 2" in err
    assert "nothing was imported" in err
    assert not Cadre.objects.exists() and not OrgUnit.objects.exists()


def test_sex_must_agree_with_the_id_number(tmp_path, ids):
    ok, _out, err = run(sheet(tmp_path, f"单位甲,周正,女,{ids[0]},,科级,是"))
    assert not ok and "row 2, column 性别: does not match the ID number" in err


def test_the_header_is_pinned(tmp_path, ids):
    ok, _out, err = run(sheet(tmp_path, f"单位甲,周正,{ids[0]}", header="单位,姓名,身份证\n"))
    assert not ok
    assert "row 1, column 身份证: unknown column" in err
    assert "row 1, column 性别: missing column" in err


def test_a_dry_run_writes_nothing(tmp_path, ids):
    ok, out, _err = run(sheet(tmp_path, f"单位甲,周正,男,{ids[0]},,科级,是"), "--dry-run")
    assert ok and "would import 1 rows" in out
    assert not Cadre.objects.exists() and not OrgUnit.objects.exists()


def test_the_error_report_is_bounded(tmp_path, db):
    rows = [f"单位甲,人{i},男,123,,科级,是" for i in range(MAX_ERRORS + 50)]
    ok, _out, err = run(sheet(tmp_path, *rows))
    assert not ok
    assert err.count("column 身份证号") == MAX_ERRORS
    assert "and 50 more errors" in err


def test_as_an_account_its_role_and_jurisdiction_apply(tmp_path, ids, lu_an):
    person("gw", role="grid_worker")
    district = person("yuan_staff", "裕安区", role="district_staff")
    person("jinan_staff", "金安区", role="district_staff")
    path = sheet(tmp_path, f"裕安区卫健委,周正,男,{ids[0]},,科级,是")

    refused, _o, err = run(path, "--as", "gw")
    assert not refused and "may not manage" in err

    ok, _out, _err = run(path, "--as", "yuan_staff")
    unit = OrgUnit.objects.get()
    assert ok and unit.kind == "district" and unit.district_id == district.region_id

    # Another district may not rewrite 裕安区's roster.
    ok, _out, err = run(path, "--as", "jinan_staff")
    assert not ok and "row 2, column 单位: this unit is outside your jurisdiction" in err
