"""A unit's cadre roster sheet (干部名册): `单位, 姓名, 性别, 身份证号, 联系电话, 职级, 党员`.

The census's discipline: all or nothing (validated and written in one transaction, rolled
back if any row is wrong, or for a dry run); every bad row reported as
`row N, column C: reason`, at most MAX_ERRORS of them plus a line saying how many more;
ID numbers checked against GB 11643; a re-import updates cadres by 身份证号.

A unit named on the sheet that does not exist yet is created, belonging to the importing
account's jurisdiction (a city account's: a city unit). An existing unit, and an existing
cadre, must lie inside that jurisdiction: a district cannot rewrite another's roster.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.people.idnumber import InvalidIdNumber, parse_id_number
from frontline.people.sheetsafe import unneutralise_cell
from frontline.territory.models import Level

from .models import RANK_BY_LABEL, Cadre, OrgUnit
from .services import unit_kind_for

COLUMNS = ("单位", "姓名", "性别", "身份证号", "联系电话", "职级", "党员")
REQUIRED = {"单位", "姓名", "性别", "身份证号", "职级"}
MAX_ERRORS = 200
_SEX = {"男": "M", "女": "F", "m": "M", "f": "F"}
_YES = {"是", "y", "yes", "1", "true", "√"}
_NO = {"否", "n", "no", "0", "false", "×", ""}
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_MAX_LEN = {"单位": 100, "姓名": 32}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return _("file: %(reason)s") % {"reason": self.message}
        if self.column is None:
            return _("row %(row)d: %(reason)s") % {"row": self.row, "reason": self.message}
        return _("row %(row)d, column %(column)s: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.message,
        }


@dataclass
class CadreImportResult:
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    units_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more_errors += 1


class _Stop(Exception):
    pass


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return unneutralise_cell(text) if text[:1] == "'" else text


def _rows(stream: IO[bytes], filename: str) -> Iterator[tuple[int, list[str]]]:
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04") or Path(filename).suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise _Stop(
                _("the XLSX file is corrupt or not a workbook (%(error)s)") % {"error": exc}
            ) from None
        try:
            for n, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                yield n, [_cell(c) for c in row]
        finally:
            book.close()
        return
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Stop(_("the old .xls format is not supported; save the sheet as .xlsx or CSV"))
    raw = stream.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _Stop(_("this is not a CSV or XLSX file"))
    if "\x00" in text[:4096]:
        raise _Stop(_("this is not a CSV or XLSX file"))
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            yield n, [_cell(c) for c in row]
    except csv.Error as exc:
        raise _Stop(_("the CSV file is malformed: %(error)s") % {"error": exc}) from None


@dataclass
class _Row:
    number: int
    unit: str
    name: str
    sex: str
    id_number: str
    phone: str
    rank: str
    party: bool


def _validate(number: int, cells: list[str], where: dict[str, int], result) -> _Row | None:
    def get(column: str) -> str:
        i = where.get(column)
        return cells[i] if i is not None and i < len(cells) else ""

    bad = len(result.errors) + result.more_errors
    values = {c: get(c) for c in COLUMNS}
    for column in COLUMNS:
        if column in REQUIRED and not values[column]:
            result.add(RowError(number, column, _("required")))
        elif column in _MAX_LEN and len(values[column]) > _MAX_LEN[column]:
            result.add(
                RowError(number, column, _("at most %(n)d characters") % {"n": _MAX_LEN[column]})
            )
    info = None
    if values["身份证号"]:
        try:
            info = parse_id_number(values["身份证号"])
        except InvalidIdNumber as exc:
            result.add(RowError(number, "身份证号", str(exc)))
    sex = _SEX.get(values["性别"].lower()) if values["性别"] else None
    if values["性别"] and sex is None:
        result.add(RowError(number, "性别", _("write 男 or 女")))
    elif sex and info and sex != info.sex:
        result.add(RowError(number, "性别", _("does not match the ID number")))
    if values["联系电话"] and not _PHONE.match(values["联系电话"]):
        result.add(RowError(number, "联系电话", _("not a mobile or landline number")))
    rank = RANK_BY_LABEL.get(values["职级"])
    if values["职级"] and rank is None:
        result.add(
            RowError(
                number,
                "职级",
                _("one of: %(choices)s") % {"choices": "、".join(RANK_BY_LABEL)},
            )
        )
    party = values["党员"].lower()
    if party not in _YES and party not in _NO:
        result.add(RowError(number, "党员", _("write 是 or 否")))
    if len(result.errors) + result.more_errors > bad or info is None or rank is None:
        return None
    return _Row(
        number,
        values["单位"],
        values["姓名"],
        info.sex,
        info.number,
        values["联系电话"],
        rank,
        party in _YES,
    )


def import_cadres(
    source: Path | str | IO[bytes],
    *,
    filename: str = "",
    actor: Any = None,
    dry_run: bool = False,
) -> CadreImportResult:
    """Validate the whole sheet and, if every row is right and this is no dry run, write it."""
    if isinstance(source, str | Path) and not filename:
        filename = str(source)
    result = CadreImportResult(dry_run=dry_run)
    home = None
    if actor is not None:
        policy = policy_for(actor)
        policy.require(Action.MANAGE_MOBILISATION)
        home = policy.jurisdiction
        if home is not None and home.level == Level.CITY:
            home = None
    stream = open(source, "rb") if isinstance(source, str | Path) else source  # noqa: SIM115
    try:
        with transaction.atomic():
            try:
                _run(stream, filename, result, actor, home)
            except _Stop as exc:
                result.add(RowError(None, None, str(exc)))
            if not result.ok or dry_run:
                transaction.set_rollback(True)
    except IntegrityError:
        result.errors = [
            RowError(
                None,
                None,
                _(
                    "another import changed the same cadres at the same time; nothing was "
                    "written, import the sheet again"
                ),
            )
        ]
    finally:
        if isinstance(source, str | Path):
            stream.close()
    if result.ok and not dry_run and actor is not None:
        from frontline.audit.models import AuditAction
        from frontline.audit.services import audit_record

        audit_record(
            actor=actor,
            action=AuditAction.IMPORT_CADRES,
            object_type="cadre_roster",
            region=policy_for(actor).jurisdiction,
            detail={
                "file": Path(filename).name,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
            },
        )
    return result


def _run(stream, filename, result: CadreImportResult, actor, home) -> None:
    rows = _rows(stream, filename)
    header = next(rows, None)
    if header is None:
        raise _Stop(_("the file is empty"))
    where: dict[str, int] = {}
    for i, text in enumerate(header[1]):
        text = text.lstrip("\ufeff")
        if not text:
            continue
        if text not in COLUMNS:
            result.add(RowError(1, text, _("unknown column “%(name)s”") % {"name": text}))
        elif text in where:
            result.add(RowError(1, text, _("column appears twice")))
        else:
            where[text] = i
    for column in COLUMNS:
        if column not in where:
            result.add(RowError(1, column, _("missing column")))
    if not result.ok:
        return
    valid: list[_Row] = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        if not any(cells):
            continue
        result.rows += 1
        row = _validate(number, cells, where, result)
        if row is None:
            continue
        if row.id_number in seen:
            result.add(
                RowError(
                    number,
                    "身份证号",
                    _("the same ID number as row %(row)d") % {"row": seen[row.id_number]},
                )
            )
            continue
        seen[row.id_number] = number
        valid.append(row)
    if result.rows == 0 and result.ok:
        result.add(RowError(None, None, _("the sheet has a header but no rows")))
    if not result.ok:
        return
    _write(valid, result, actor, home)


def _write(rows: list[_Row], result: CadreImportResult, actor, home) -> None:
    units = {u.name: u for u in OrgUnit.objects.filter(name__in={r.unit for r in rows})}
    existing = {
        c.id_number: c
        for c in Cadre.objects.select_related("org_unit").filter(
            id_number__in=list({r.id_number for r in rows})
        )
    }
    for name in sorted({r.unit for r in rows} - set(units)):
        unit = OrgUnit(name=name, kind=unit_kind_for(home), home=home)
        if home is not None:
            unit.locate(home)
        unit.save()
        units[name] = unit
        result.units_created += 1
    policy = policy_for(actor) if actor is not None else None

    def outside(obj: Any) -> bool:
        if policy is None:
            return False
        unit = obj if isinstance(obj, OrgUnit) else obj.org_unit
        if unit.home_id is None:
            # A city unit is the city's own: only a city-wide account may change it.
            return home is not None
        return not policy.contains(obj)

    create: list[Cadre] = []
    for row in rows:
        unit = units[row.unit]
        if outside(unit):
            result.add(RowError(row.number, "单位", _("this unit is outside your jurisdiction")))
            continue
        cadre = existing.get(row.id_number)
        fields = {
            "org_unit": unit,
            "name": row.name,
            "sex": row.sex,
            "phone": row.phone,
            "rank": row.rank,
            "is_party_member": row.party,
        }
        if cadre is None:
            cadre = Cadre(id_number=row.id_number, **fields)
            for level in ("district", "township", "community", "compound", "building"):
                setattr(cadre, f"{level}_id", getattr(unit, f"{level}_id"))
            create.append(cadre)
            continue
        if outside(cadre):
            result.add(
                RowError(
                    row.number,
                    "身份证号",
                    _("this cadre belongs to a unit outside your jurisdiction"),
                )
            )
            continue
        changed = [k for k, v in fields.items() if getattr(cadre, k) != v]
        if not changed:
            result.unchanged += 1
            continue
        for k, v in fields.items():
            setattr(cadre, k, v)
        places = [f"{level}_id" for level in ("district", "township", "community", "compound")]
        for place in places:
            setattr(cadre, place, getattr(unit, place))
        cadre.save(update_fields=[*fields, *places])
        result.updated += 1
    if not result.ok:
        return
    Cadre.objects.bulk_create(create, batch_size=1000)
    result.created = len(create)
