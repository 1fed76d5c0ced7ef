"""The census sheet's two optional emergency-contact columns (issue 6).

What the import and export do:

- two optional columns at the end: 紧急联系人 (aliases "emergency contact") and
  紧急联系电话 (alias "emergency phone"); sheets without them import as before and leave
  existing contacts untouched;
- 紧急联系电话 is validated and normalised like 联系电话 (`people.contacts.normalise_phone`;
  "+86" and spaces dropped; a bad number is a row error on that column); a phone without
  a name is a row error on 紧急联系人;
- 紧急联系人 may carry the relation in brackets, "廖小梅（女儿）" → name 廖小梅, relation 女儿;
- the export writes both columns after 在外 (the name with the relation in brackets), the
  phone as 联系电话 is written (only roles that see phones in full may export).
"""

from __future__ import annotations

import pytest

from frontline.people.census import CENSUS_COLUMNS, export_census, import_census
from frontline.people.models import Resident

from .test_census import _english, csv_bytes, good_rows  # noqa: F401

EMERGENCY = ["紧急联系人", "紧急联系电话"]


def _import(data: bytes, name="s.csv"):
    import io

    return import_census(io.BytesIO(data), filename=name)


def test_a_sheet_without_the_columns_still_imports(db):
    result = _import(csv_bytes(good_rows()))
    assert result.ok, result.errors
    assert not Resident.objects.exclude(emergency_phone="").exists()


def test_a_sheet_with_the_columns_imports_them(db):
    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅（女儿）", "+86 139 1234 0000"]
    result = _import(csv_bytes(rows, header=[*CENSUS_COLUMNS, *EMERGENCY]))
    assert result.ok, result.errors
    wang = Resident.objects.get(name="王秀英")
    assert (wang.emergency_name, wang.emergency_relation, wang.emergency_phone) == (
        "廖小梅",
        "女儿",
        "13912340000",
    )


def test_the_english_aliases_are_accepted(db):
    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅", "13912340000"]
    header = [*CENSUS_COLUMNS, "emergency contact", "emergency phone"]
    assert _import(csv_bytes(rows, header=header)).ok


@pytest.mark.parametrize(("name", "phone"), [("廖小梅", "12345"), ("", "13912340000")])
def test_bad_emergency_contact_is_a_row_error(db, name, phone):
    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = [name, phone]
    result = _import(csv_bytes(rows, header=[*CENSUS_COLUMNS, *EMERGENCY]))
    assert not result.ok
    assert {e.column for e in result.errors} & set(EMERGENCY)


def test_a_sheet_without_the_columns_leaves_existing_contacts(db):
    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅", "13912340000"]
    assert _import(csv_bytes(rows, header=[*CENSUS_COLUMNS, *EMERGENCY])).ok
    assert _import(csv_bytes(good_rows())).ok
    assert Resident.objects.get(name="王秀英").emergency_phone == "13912340000"


def test_export_writes_both_columns(db, tmp_path):
    from frontline.territory.services import city

    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅（女儿）", "13912340000"]
    assert _import(csv_bytes(rows, header=[*CENSUS_COLUMNS, *EMERGENCY])).ok
    target = tmp_path / "out.csv"
    export_census(region=city(), target=target, fmt="csv")
    text = target.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[len(CENSUS_COLUMNS) : len(CENSUS_COLUMNS) + 2] == EMERGENCY
    assert "廖小梅（女儿）,13912340000" in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_round_trips_the_contacts(db, tmp_path, fmt):
    from frontline.territory.services import city

    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅（女儿）", "13912340000"]
    rows[0][-2:] = ["邻居老张", "0564-3312345"]
    assert _import(csv_bytes(rows, header=[*CENSUS_COLUMNS, *EMERGENCY])).ok
    before = list(Resident.objects.order_by("id").values())
    first = tmp_path / f"first.{fmt}"
    export_census(region=city(), target=first, fmt=fmt)

    result = import_census(first)

    assert result.ok and result.residents_unchanged == 3, result.errors
    assert list(Resident.objects.order_by("id").values()) == before


def test_a_changed_contact_alone_is_an_update_in_the_preview_and_the_import(db):
    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅（女儿）", "13912340000"]
    header = [*CENSUS_COLUMNS, *EMERGENCY]
    assert _import(csv_bytes(rows, header=header)).ok
    rows[1][-1] = "13912340001"

    import io

    preview = import_census(
        io.BytesIO(csv_bytes(rows, header=header)), filename="s.csv", dry_run=True
    )
    result = _import(csv_bytes(rows, header=header))

    assert (preview.residents_updated, preview.residents_unchanged) == (1, 2)
    assert (result.residents_updated, result.residents_unchanged) == (1, 2)
    assert Resident.objects.get(name="王秀英").emergency_phone == "13912340001"


def test_an_export_previews_as_nothing_to_change_and_nothing_normalised(db, tmp_path):
    from frontline.territory.services import city

    rows = [[*r, "", ""] for r in good_rows()]
    rows[1][-2:] = ["廖小梅（女儿）", "13912340000"]
    assert _import(csv_bytes(rows, header=[*CENSUS_COLUMNS, *EMERGENCY])).ok
    target = tmp_path / "out.csv"
    export_census(region=city(), target=target, fmt="csv")

    preview = import_census(target, dry_run=True)

    assert preview.ok and preview.residents_unchanged == 3
    assert preview.changes == [] and preview.notes == [] and preview.warnings == []
