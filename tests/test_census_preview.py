"""The census preview says what will change (issue 6): added, updated with the changed
fields (old → new), moved (from which room to which), by building, the first 200 and then
counts; computed without writing, identifiers masked by the viewer's policy."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from frontline.people.census import CENSUS_COLUMNS, CHANGES_KEPT, import_census
from frontline.people.idnumber import make_id_number
from frontline.people.models import Resident

from .test_census import LI, WANG, _english, csv_bytes, good_rows, row  # noqa: F401


def _preview(rows, actor=None, header=CENSUS_COLUMNS):
    return import_census(
        io.BytesIO(csv_bytes(rows, header=header)), filename="s.csv", dry_run=True, actor=actor
    )


def _run(rows):
    result = import_census(io.BytesIO(csv_bytes(rows)), filename="s.csv")
    assert result.ok, result.errors
    return result


def test_one_phone_and_one_room_changed_read_as_exactly_those_two_changes(community_staff):
    _run(good_rows())
    rows = good_rows()
    rows[0][CENSUS_COLUMNS.index("联系电话")] = "13900001111"  # 李强's phone
    rows[1][CENSUS_COLUMNS.index("房号")] = "201"  # 王秀英 moves from 102 to 201
    before = list(Resident.objects.order_by("id").values())

    result = _preview(rows, actor=community_staff)

    assert result.ok, result.errors
    assert (result.residents_updated, result.residents_moved, result.residents_created) == (
        2,
        1,
        0,
    )
    listed = [(c.kind, c.name, c.fields, c.moved_from, c.room) for c in result.changes]
    assert listed == [
        ("updated", "李强", (("联系电话", "13912345679", "13900001111"),), "", "1单元101室"),
        ("moved", "王秀英", (), "1单元102室", "1单元201室"),
    ]
    assert [b for b, _changes in result.changes_by_building] == [
        "裕安区/城南镇/陡步河社区/安康小区/1栋"
    ]
    assert result.changes_not_listed == 0
    # A preview writes nothing.
    assert list(Resident.objects.order_by("id").values()) == before


def test_identifiers_in_the_list_are_masked_by_the_policy(db):
    rows = good_rows()
    result = _preview(rows)  # no account: the policy of nobody masks everything

    added = {c.name: c for c in result.changes}
    assert set(added) == {"李强", "王秀英", "李小红"}
    assert all(c.kind == "added" for c in added.values())
    assert added["李强"].id_number == LI[:6] + "********" + LI[-4:]
    _run(good_rows())
    rows[0][CENSUS_COLUMNS.index("联系电话")] = "13912340000"
    (change,) = _preview(rows).changes
    assert change.fields == (("联系电话", "139****5679", "139****0000"),)


def test_a_change_hidden_by_the_mask_is_still_listed(db):
    _run(good_rows())
    rows = good_rows()
    rows[0][CENSUS_COLUMNS.index("联系电话")] = "13900005679"  # only masked digits differ

    (change,) = _preview(rows).changes

    assert change.fields == (("联系电话", "139****5679", "139****5679"),)


def test_care_groups_and_flags_are_listed_old_to_new(db):
    _run(good_rows())
    rows = good_rows()
    rows[1][CENSUS_COLUMNS.index("重点人群")] = "独居老人"
    rows[1][CENSUS_COLUMNS.index("在外")] = "是"

    (change,) = _preview(rows).changes

    assert change.name == "王秀英"
    assert change.fields == (("重点人群", "独居老人、低保", "独居老人"), ("在外", "否", "是"))


def test_the_list_stops_at_200_and_the_rest_are_counted(db):
    born = dt.date(1970, 1, 1)
    rows = [
        row(身份证号=make_id_number("341503", born + dt.timedelta(days=n), 1, "M"))
        for n in range(250)
    ]

    result = _preview(rows)

    assert result.residents_created == 250
    assert len(result.changes) == CHANGES_KEPT
    assert result.changes_not_listed == 50
    assert result.changes[0].row == 2


def test_a_sheet_with_errors_lists_nothing(db):
    rows = good_rows()
    rows[2][CENSUS_COLUMNS.index("性别")] = "?"
    result = _preview(rows)
    assert not result.ok and result.changes == []


def test_dry_run_prints_the_changes(db, tmp_path, capsys):
    _run(good_rows())
    rows = good_rows()
    rows[1][CENSUS_COLUMNS.index("房号")] = "201"
    sheet = tmp_path / "s.csv"
    sheet.write_bytes(csv_bytes(rows))

    call_command("import_census", str(sheet), "--dry-run", "--no-progress")

    out = capsys.readouterr().out
    assert "裕安区/城南镇/陡步河社区/安康小区/1栋" in out
    assert "王秀英" in out and "1单元102室 → 1单元201室" in out
    assert Resident.objects.get(id_number=WANG).household.room == "102"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_web_preview_lists_the_changes(client, community_staff, language):
    from django.urls import reverse
    from django.utils import translation

    _run(good_rows())
    rows = good_rows()
    rows[0][CENSUS_COLUMNS.index("联系电话")] = "13900001111"
    rows[1][CENSUS_COLUMNS.index("房号")] = "201"
    client.force_login(community_staff)
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "s.csv"
    with translation.override(language):
        response = client.post(
            reverse("census_import"), {"sheet": upload}, HTTP_ACCEPT_LANGUAGE=language
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert "1栋" in html and "李强" in html and "王秀英" in html
    assert "1单元102室" in html and "1单元201室" in html
    assert "联系电话" in html
