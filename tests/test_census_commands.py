"""`frontline import-census` and `export-census` speak the UI language like `demo` does:
every line they print goes through the translation catalogue."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from frontline.people.census import CENSUS_COLUMNS
from frontline.people.management.commands import export_census, import_census

from . import factories as f

ROW = ["裕安区", "城南镇", "陡步河社区", "安康小区", "1栋", "1", "101", "张伟", "男"]


@pytest.fixture
def translated(monkeypatch):
    """A catalogue that marks what it translates, in place of the active one."""

    def mark(message):
        return f"⟦{message}⟧"

    def mark_plural(singular, plural, n):
        return mark(singular if n == 1 else plural)

    for module in (import_census, export_census):
        monkeypatch.setattr(module, "_", mark)
        monkeypatch.setattr(module, "ngettext", mark_plural)


def _sheet(tmp_path, id_number):
    number = id_number or f.id_number()
    row = [*ROW, number, "", "", "否", "是", "", "否"]
    assert len(row) == len(CENSUS_COLUMNS)
    path = tmp_path / "sheet.csv"
    path.write_text(",".join(CENSUS_COLUMNS) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("dry_run", [True, False])
def test_import_summary_is_translated(db, tmp_path, capsys, translated, dry_run):
    args = [str(_sheet(tmp_path, None)), "--no-progress"] + (["--dry-run"] if dry_run else [])

    call_command("import_census", *args)

    # A dry run lists the changes (sheet data) first; the summary is the last line.
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert out.startswith("⟦") and out.endswith("⟧"), out
    assert ("would import" in out) == dry_run
    assert "1 rows: 1 residents created, 0 updated, 0 unchanged" in out


def test_import_refusals_are_translated(db, tmp_path, translated):
    with pytest.raises(CommandError, match=r"^⟦.*missing\.csv: no such file⟧$"):
        call_command("import_census", str(tmp_path / "missing.csv"), "--no-progress")
    with pytest.raises(CommandError, match=r"^⟦1 error in sheet\.csv; nothing was imported\.⟧$"):
        call_command("import_census", str(_sheet(tmp_path, "123")), "--no-progress")


def test_export_messages_are_translated(lu_an, tmp_path, capsys, translated):
    call_command("export_census", "-o", str(tmp_path / "out.csv"), "--region", "裕安区/城南镇")
    assert capsys.readouterr().out.strip().startswith("⟦exported")

    with pytest.raises(
        CommandError, match=r"^⟦.*out\.txt: the file name must end in \.csv or \.xlsx⟧$"
    ):
        call_command("export_census", "-o", str(tmp_path / "out.txt"))
