"""Census sheets (扫楼摸底): import and export, the way communities hold the data in Excel.

One row per resident. The import is all-or-nothing: it validates and writes inside one
transaction and rolls back if any row is wrong (or for a dry run), so that a sheet with
one bad ID number on row 9,000 leaves the database exactly as it was, and every bad row
is reported at once as `row N, column C: reason`. It streams (CSV row by row, XLSX in
openpyxl's read-only mode) and writes in batches, so memory stays bounded.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.territory.models import Level, Region
from frontline.territory.services import PATH_SEPARATOR, region_ensure_path

from .idnumber import InvalidIdNumber, parse_id_number
from .labels import CARE_GROUP_BY_LABEL, CARE_GROUP_LABELS, CENSUS_COLUMNS
from .models import Household, Resident, ResidentCareGroup
from .sheetsafe import escape_quote, neutralise_cell, unneutralise_cell

REGION_COLUMNS = CENSUS_COLUMNS[:5]
REQUIRED_COLUMNS = {
    "区县",
    "乡镇街道",
    "村社区",
    "小区",
    "楼栋",
    "房号",
    "姓名",
    "性别",
    "身份证号",
}

# English headers some offices use; matched case-insensitively, spaces and dashes ignored.
COLUMN_ALIASES = {
    "district": "区县",
    "county": "区县",
    "township": "乡镇街道",
    "subdistrict": "乡镇街道",
    "street": "乡镇街道",
    "community": "村社区",
    "village": "村社区",
    "compound": "小区",
    "building": "楼栋",
    "unit": "单元",
    "entrance": "单元",
    "room": "房号",
    "name": "姓名",
    "sex": "性别",
    "gender": "性别",
    "idnumber": "身份证号",
    "id": "身份证号",
    "phone": "联系电话",
    "workunit": "工作单位",
    "employer": "工作单位",
    "partymember": "党员",
    "canorderonline": "会网购",
    "ordersonline": "会网购",
    "caregroups": "重点人群",
    "away": "在外",
}

_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", "×"}
_SEX = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
_SEX_LABEL = {"M": "男", "F": "女"}
_CARE_SPLIT = re.compile(r"[、,，;；\s]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_MAX_LEN = {"单元": 16, "房号": 16, "姓名": 32, "工作单位": 100}

_REQUIRED_EXCEPT_ID = [c for c in CENSUS_COLUMNS if c in REQUIRED_COLUMNS and c != "身份证号"]

BATCH_SIZE = 2000
SHEET_TITLE = "普查"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int | None  # sheet row, the header being row 1; None for the file as a whole
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
class ImportResult:
    dry_run: bool = False
    rows: int = 0
    households_created: int = 0
    residents_created: int = 0
    residents_updated: int = 0
    residents_unchanged: int = 0
    regions_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


class _Rollback(Exception):
    pass


class _Stop(Exception):
    """Raised to abandon a sheet that cannot be read at all."""


# --- reading ----------------------------------------------------------------------------


def _open_binary(source: Path | str | IO[bytes]) -> IO[bytes]:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by the caller
    return source


def _sniff_kind(head: bytes, filename: str) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    suffix = Path(filename).suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"  # claims to be a workbook but is not a zip: reported as corrupt
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if b"\x00" in head[:4096]:
        return "binary"
    return "csv"


def _csv_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else GB18030.

    Decided on a full, cheap pass: a GB18030 file can look like valid UTF-8 for its first
    thousand rows, and switching encodings mid-import would be worse than the pass.
    """
    start = stream.read(3)
    if start == codecs.BOM_UTF8:
        stream.seek(0)
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = start
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = stream.read(1 << 20)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
    stream.seek(0)
    return encoding


def _cell_text(value: Any) -> str:
    if type(value) is str:
        text = value.strip()
        # The quote test inline: this runs for every cell of a million-row sheet.
        return unneutralise_cell(text) if text[:1] == "'" else text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _read_rows(stream: IO[bytes], filename: str) -> Iterator[tuple[int, list[Any]]]:
    """(sheet row number, cells) for every row, the header included."""
    head = stream.read(8)
    stream.seek(0)
    kind = _sniff_kind(head, filename)
    if kind == "xls":
        raise _Stop(_("the old .xls format is not supported; save the sheet as .xlsx or CSV"))
    if kind == "binary":
        raise _Stop(_("this is not a CSV or XLSX file"))
    if kind == "xlsx":
        yield from _read_xlsx(stream)
        return
    encoding = _csv_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        yield from enumerate(reader, start=1)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _Stop(_("the CSV file is malformed: %(error)s") % {"error": exc}) from None
    finally:
        text.detach()


def _read_xlsx(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _Stop(
            _("the XLSX file is corrupt or not a workbook (%(error)s)") % {"error": exc}
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _Stop(_("the XLSX file is corrupt (%(error)s)") % {"error": exc}) from None
    finally:
        workbook.close()


def _normalise_header(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", value).lower()


def _map_header(cells: list[Any], errors: list[RowError]) -> dict[str, int] | None:
    """Column name → index; reports every unknown, duplicate or missing column."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(cells):
        text = _cell_text(raw).lstrip("\ufeff")
        if not text:
            continue
        name = text if text in CENSUS_COLUMNS else COLUMN_ALIASES.get(_normalise_header(text))
        if name is None:
            unknown.append(text)
        elif name in positions:
            errors.append(RowError(1, text, _("column appears twice")))
        else:
            positions[name] = index
    missing = [name for name in CENSUS_COLUMNS if name not in positions]
    for text in unknown:
        # Suggest only a column the sheet still lacks: a misspelt 姓名 is not 性别.
        hint = difflib.get_close_matches(text, missing, n=1, cutoff=0.3)
        message = _("unknown column “%(name)s”") % {"name": text}
        if hint:
            message += _("; did you mean “%(hint)s”?") % {"hint": hint[0]}
        errors.append(RowError(1, text, message))
    for name in missing:
        errors.append(RowError(1, name, _("missing column")))
    return None if errors else positions


# --- validating -------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    number: int
    regions: tuple[str, str, str, str, str]
    unit: str
    room: str
    name: str
    sex: str
    id_number: str
    birth_date: dt.date
    phone: str
    work_unit: str
    is_party_member: bool
    can_order_online: bool | None
    care_groups: frozenset[str]
    away: bool


def _yes_no(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError


def _validate(
    number: int,
    cells: list[Any],
    positions: dict[str, int],
    seen_ids: dict[str, int],
    scope_path: str,
    today: dt.date,
) -> tuple[_Row | None, list[RowError]]:
    errors: list[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    width = len(cells)
    values = {
        name: _cell_text(cells[index]) if index < width else "" for name, index in positions.items()
    }
    raw_id = cells[positions["身份证号"]] if positions["身份证号"] < width else None
    if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
        # Excel keeps 15 significant digits: an ID typed into a number cell has already
        # lost its last digits, and guessing them would be worse than asking.
        err(
            "身份证号",
            _("stored as a number, so Excel lost its last digits; format the column as text"),
        )
        values["身份证号"] = ""
    elif not values["身份证号"]:
        err("身份证号", _("required cell is empty"))

    for name in _REQUIRED_EXCEPT_ID:
        if not values[name]:
            err(name, _("required cell is empty"))
    for name, limit in _MAX_LEN.items():
        if len(values[name]) > limit:
            err(name, _("longer than %(limit)d characters") % {"limit": limit})
    for name in REGION_COLUMNS:
        if PATH_SEPARATOR in values[name]:
            err(name, _("a place name cannot contain “/”"))
        elif len(values[name]) > 64:
            err(name, _("longer than %(limit)d characters") % {"limit": 64})

    sex = None
    if values["性别"]:
        sex = _SEX.get(values["性别"].lower())
        if sex is None:
            err("性别", _("must be 男 or 女, not “%(value)s”") % {"value": values["性别"]})

    info = None
    if values["身份证号"]:
        try:
            info = parse_id_number(values["身份证号"], today=today)
        except InvalidIdNumber as exc:
            err("身份证号", str(exc))
    if info is not None:
        first = seen_ids.get(info.number)
        if first is not None:
            err("身份证号", _("the same ID number is already on row %(row)d") % {"row": first})
        else:
            seen_ids[info.number] = number
        if sex is not None and sex != info.sex:
            err(
                "性别",
                _("%(sex)s disagrees with the ID number, which is %(id_sex)s")
                % {"sex": values["性别"], "id_sex": _SEX_LABEL[info.sex]},
            )

    phone = values["联系电话"]
    if phone and not phone.isdigit():
        phone = re.sub(r"\s", "", phone)
    if phone.startswith("+86"):
        phone = phone[3:]
    if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        err(
            "联系电话",
            _("“%(value)s” is not a mobile (11 digits) or landline number")
            % {"value": values["联系电话"]},
        )

    flags: dict[str, bool | None] = {}
    for name in ("党员", "会网购", "在外"):
        text = values[name]
        if not text:
            flags[name] = None if name == "会网购" else False
            continue
        try:
            flags[name] = _yes_no(text)
        except ValueError:
            err(name, _("must be 是 or 否, not “%(value)s”") % {"value": text})

    groups: set[str] = set()
    for label in _CARE_SPLIT.split(values["重点人群"]) if values["重点人群"] else ():
        if not label:
            continue
        code = CARE_GROUP_BY_LABEL.get(label)
        if code is None:
            err(
                "重点人群",
                _("unknown care group “%(label)s”; use %(labels)s")
                % {"label": label, "labels": "、".join(CARE_GROUP_LABELS.values())},
            )
        else:
            groups.add(code)

    if scope_path and not errors:
        path = PATH_SEPARATOR.join(values[name] for name in REGION_COLUMNS)
        if not (path + PATH_SEPARATOR).startswith(scope_path + PATH_SEPARATOR):
            err(
                "区县",
                _("%(path)s is outside your jurisdiction (%(scope)s)")
                % {"path": path, "scope": scope_path},
            )

    if errors or info is None or sex is None:
        return None, errors
    return (
        _Row(
            number=number,
            regions=tuple(values[name] for name in REGION_COLUMNS),  # type: ignore[arg-type]
            unit=values["单元"],
            room=values["房号"],
            name=values["姓名"],
            sex=sex,
            id_number=info.number,
            birth_date=info.birth_date,
            phone=phone,
            work_unit=values["工作单位"],
            is_party_member=bool(flags["党员"]),
            can_order_online=flags["会网购"],
            care_groups=frozenset(groups),
            away=bool(flags["在外"]),
        ),
        [],
    )


# --- writing ----------------------------------------------------------------------------

_RESIDENT_FIELDS = (
    "household_id",
    "name",
    "sex",
    "birth_date",
    "phone",
    "phone_tail",
    "work_unit",
    "is_party_member",
    "can_order_online",
    "away",
    "district_id",
    "township_id",
    "community_id",
    "compound_id",
    "building_id",
)
_LOCATION_FIELDS = ("district_id", "township_id", "community_id", "compound_id", "building_id")


def _executemany(
    model: type, columns: Sequence[str], rows: list[tuple], *, update: bool = False
) -> None:
    """Write many rows through the driver's batch path.

    The ORM's bulk_create spends most of an import building SQL for each row; the census
    is the one write that moves a million rows, so it goes to the driver directly. Column
    names come from the model, so the statement follows the schema.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    meta = model._meta  # type: ignore[attr-defined]
    table = quote(meta.db_table)
    names = [quote(meta.get_field(c.removesuffix("_id")).column) for c in columns]
    if not update:
        # Columns the import does not fill take the model's defaults, so that a field
        # added later (with a default) needs no change here.
        rest = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in columns]
        if rest:
            names += [quote(f.column) for f in rest]
            defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
            rows = [(*row, *defaults) for row in rows]
    if update:
        assignments = ", ".join(f"{name} = %s" for name in names)
        sql = f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s"
    else:
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _fetch(model: type, columns: Sequence[str], key: str, values: list) -> list[tuple]:
    """Rows whose `key` is in `values`, as the driver returns them (no ORM conversion).

    Compared against values adapted with connection.ops, so no conversion is needed.
    """
    if not values:
        return []
    quote = connection.ops.quote_name
    meta = model._meta  # type: ignore[attr-defined]
    names = ", ".join(
        quote(meta.get_field(c.removesuffix("_id")).column) if c != "id" else quote("id")
        for c in columns
    )
    column = quote(meta.get_field(key.removesuffix("_id")).column)
    marks = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {names} FROM {quote(meta.db_table)} WHERE {column} IN ({marks})", values
        )
        return cursor.fetchall()


class _Writer:
    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.buildings: dict[tuple[str, ...], Region] = {}
        self.region_cache: dict[tuple[str, ...], Region] = {}
        self.touched_households: set[int] = set()
        self.adapt_date = connection.ops.adapt_datefield_value

    def _buildings(self, rows: list[_Row]) -> dict[tuple[str, ...], Region]:
        """The batch's buildings: one query for those that exist, a walk for the new ones."""
        unknown = {row.regions for row in rows} - self.buildings.keys()
        if unknown:
            for region in Region.objects.filter(
                path__in=[PATH_SEPARATOR.join(names) for names in unknown]
            ):
                self.buildings[tuple(region.path.split(PATH_SEPARATOR))] = region
            for names in sorted(unknown - self.buildings.keys()):
                self.buildings[names] = region_ensure_path(names, cache=self.region_cache)
        return self.buildings

    def write(self, rows: list[_Row]) -> None:
        buildings = self._buildings(rows)
        households = self._households(rows, buildings)
        existing = {
            stored[1]: stored
            for stored in _fetch(
                Resident,
                ("id", "id_number", *_RESIDENT_FIELDS),
                "id_number",
                [r.id_number for r in rows],
            )
        }
        adapt = self.adapt_date
        inserts: list[tuple] = []
        updates: list[tuple] = []
        moved: set[int] = set()
        unchanged: set[int] = set()
        for row in rows:
            building = buildings[row.regions]
            household_id = households[(building.pk, row.unit, row.room)]
            self.touched_households.add(household_id)
            values = (
                household_id,
                row.name,
                row.sex,
                row.birth_date,
                row.phone,
                row.phone[-4:],
                row.work_unit,
                row.is_party_member,
                row.can_order_online,
                row.away,
                building.district_id,
                building.township_id,
                building.community_id,
                building.compound_id,
                building.pk,
            )
            stored = existing.get(row.id_number)
            if stored is None:
                inserts.append((row.id_number, *values[:3], adapt(row.birth_date), *values[4:]))
            elif stored[2:] != values:
                if stored[2] != household_id:
                    self.touched_households.add(stored[2])
                    moved.add(stored[0])
                updates.append((*values[:3], adapt(row.birth_date), *values[4:], stored[0]))
            else:
                unchanged.add(stored[0])
                self.result.residents_unchanged += 1
        _executemany(Resident, ("id_number", *_RESIDENT_FIELDS), inserts)
        _executemany(Resident, _RESIDENT_FIELDS, updates, update=True)
        self.result.residents_created += len(inserts)
        self.result.residents_updated += len(updates)
        ids = {number: values[0] for number, values in existing.items()}
        if inserts:
            ids.update(
                Resident.objects.filter(id_number__in=[r[0] for r in inserts]).values_list(
                    "id_number", "id"
                )
            )
        self._care_groups(rows, ids, buildings, moved, unchanged)

    def _households(
        self, rows: list[_Row], buildings: dict[tuple[str, ...], Region]
    ) -> dict[tuple[int, str, str], int]:
        """(building id, unit, room) → household id, creating the households that are new."""
        wanted: dict[tuple[int, str, str], Region] = {}
        phones: dict[tuple[int, str, str], str] = {}
        for r in rows:
            building = buildings[r.regions]
            key = (building.pk, r.unit, r.room)
            wanted.setdefault(key, building)
            if r.phone:
                # The household's contact phone: the first member's phone the sheet gives.
                phones.setdefault(key, r.phone)

        def lookup() -> dict[tuple[int, str, str], int]:
            return {
                (b, u, room): pk
                for pk, b, u, room in Household.objects.filter(
                    building_id__in={k[0] for k in wanted}
                ).values_list("id", "building_id", "unit", "room")
                if (b, u, room) in wanted
            }

        found = lookup()
        new = [
            (
                unit,
                room,
                phones.get((building_id, unit, room), ""),
                *(getattr(building, f) for f in _LOCATION_FIELDS),
            )
            for (building_id, unit, room), building in wanted.items()
            if (building_id, unit, room) not in found
        ]
        if new:
            _executemany(
                Household,
                ("unit", "room", "phone", *_LOCATION_FIELDS),
                new,
            )
            self.result.households_created += len(new)
            found = lookup()
        return found

    def _care_groups(
        self,
        rows: list[_Row],
        ids: dict[str, int],
        buildings: dict[tuple[str, ...], Region],
        moved: set[int],
        unchanged: set[int],
    ) -> None:
        current: dict[int, set[str]] = {}
        for resident_id, group in _fetch(
            ResidentCareGroup, ("resident_id", "group"), "resident_id", list(ids.values())
        ):
            current.setdefault(resident_id, set()).add(group)
        remove = Q(pk__in=[])
        add: list[tuple] = []
        for row in rows:
            resident_id = ids[row.id_number]
            have = current.get(resident_id, set())
            # A resident who moved takes new ancestor columns: recreate the rows.
            keep = set() if resident_id in moved else have & row.care_groups
            if resident_id in unchanged and have != row.care_groups:
                # Only the care groups differ: an update all the same, so that a preview
                # never calls such a sheet one with nothing to change.
                unchanged.discard(resident_id)
                self.result.residents_unchanged -= 1
                self.result.residents_updated += 1
            if have - keep:
                remove |= Q(resident_id=resident_id, group__in=have - keep)
            building = buildings[row.regions]
            location = tuple(getattr(building, f) for f in _LOCATION_FIELDS)
            add.extend((resident_id, group, *location) for group in row.care_groups - keep)
        if remove.children:
            ResidentCareGroup.objects.filter(remove).delete()
        _executemany(ResidentCareGroup, ("resident_id", "group", *_LOCATION_FIELDS), add)

    def finish(self) -> None:
        refresh_household_aggregates(self.touched_households)


def refresh_household_aggregates(household_ids: Iterable[int]) -> None:
    """Recount members, members away and members who order online, in SQL."""
    ids = sorted(set(household_ids))
    residents = (
        Resident.objects.filter(household_id=OuterRef("pk")).order_by().values("household_id")
    )

    def count(condition: Q | None = None) -> Coalesce:
        qs = residents.filter(condition) if condition is not None else residents
        return Coalesce(Subquery(qs.annotate(n=Count("pk")).values("n")[:1]), Value(0))

    for start in range(0, len(ids), 500):
        Household.objects.filter(pk__in=ids[start : start + 500]).update(
            members=count(),
            members_away=count(Q(away=True)),
            online_members=count(Q(can_order_online=True)),
        )


# --- the entry points -------------------------------------------------------------------


def import_census(
    source: Path | str | IO[bytes],
    *,
    filename: str = "",
    actor=None,
    dry_run: bool = False,
    progress: bool = False,
    scope: Region | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Validate the whole sheet and, if every row is right and this is no dry run, write it.

    `scope` (or the actor's jurisdiction) confines the rows: a row outside it is an error.
    An actor whose role may not bring a census in is refused here, whatever called this
    (the pages check too, to show a 403 before an upload).
    """
    if isinstance(source, str | Path) and not filename:
        filename = str(source)
    if actor is not None:
        policy_for(actor).require(Action.IMPORT_CENSUS)
    if scope is None and actor is not None:
        scope = policy_for(actor).jurisdiction
        if scope is None:
            return ImportResult(
                dry_run=dry_run,
                errors=[RowError(None, None, _("your account has no jurisdiction"))],
            )
    scope_path = scope.path if scope is not None and scope.level != Level.CITY else ""
    result = ImportResult(dry_run=dry_run)
    stream = _open_binary(source)
    try:
        with transaction.atomic():
            try:
                _run(stream, filename, result, scope_path, today or dt.date.today(), progress)
            except _Stop as exc:
                result.errors.append(RowError(None, None, str(exc)))
            if not result.written:
                transaction.set_rollback(True)
    except IntegrityError:
        # Two imports creating the same household or resident at once (PostgreSQL runs
        # them side by side; SQLite queues them): the later one loses the race and is
        # rolled back whole. Nothing is lost by running it again.
        result.errors = [
            RowError(
                None,
                None,
                _(
                    "another import changed the same households at the same time; nothing was "
                    "written, import the sheet again"
                ),
            )
        ]
    finally:
        if isinstance(source, str | Path):
            stream.close()
    return result


def _run(
    stream: IO[bytes],
    filename: str,
    result: ImportResult,
    scope_path: str,
    today: dt.date,
    progress: bool,
) -> None:
    rows = _read_rows(stream, filename)
    header = next(rows, None)
    if header is None:
        raise _Stop(_("the file is empty"))
    positions = _map_header(header[1], result.errors)
    if positions is None:
        return
    writer = _Writer(result)
    regions_before = Region.objects.count()
    seen_ids: dict[str, int] = {}
    batch: list[_Row] = []
    bar = _progress_bar(progress)
    for number, cells in rows:
        if not any(_cell_text(c) for c in cells):
            continue
        result.rows += 1
        row, errors = _validate(number, cells, positions, seen_ids, scope_path, today)
        if errors:
            result.errors.extend(errors)
        elif not result.errors and row is not None:
            # Once anything is wrong nothing will be kept, so stop writing and only validate.
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                writer.write(batch)
                batch.clear()
        bar(1)
    if not result.errors:
        if batch:
            writer.write(batch)
        writer.finish()
        result.regions_created = Region.objects.count() - regions_before
    bar(0, close=True)
    if result.rows == 0 and not result.errors:
        result.errors.append(RowError(None, None, _("the sheet has a header but no rows")))


def _progress_bar(enabled: bool) -> Callable[..., None]:
    if not enabled:
        return lambda n, close=False: None
    from tqdm import tqdm

    bar = tqdm(unit=" " + _("rows"), desc=_("import"))

    def update(n: int, close: bool = False) -> None:
        if n:
            bar.update(n)
        if close:
            bar.close()

    return update


def export_census(
    *,
    region: Region,
    target: Path | str | IO[bytes],
    fmt: str,
    actor=None,
    ip: str | None = None,
) -> int:
    """Write every resident under `region` in the import template; returns the row count.

    Export then import changes nothing: same columns, same cell formats, IDs as text (in
    full, which is why only the roles allowed to see full ID numbers may export). With an
    actor, the region must lie in the actor's jurisdiction; without one it is the system
    (a command run without `--as`). Every export is audited, with the region, the format
    and the number of rows: a file of a whole district's people has left the platform.
    Every cell is text (see `sheetsafe`): nothing a resident's record holds can run as a
    formula in the clerk's spreadsheet program.
    """
    from frontline.audit.models import AuditAction
    from frontline.audit.services import audit_record

    if fmt not in {"csv", "xlsx"}:
        raise ValueError(f"unknown export format {fmt!r}")
    if actor is not None:
        policy_for(actor).require(Action.EXPORT_CENSUS, region)
    rows = _export_rows(region)
    count = _write_csv(rows, target) if fmt == "csv" else _write_xlsx(rows, target)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="region",
        object_id=region.pk,
        region=region,
        detail={"format": fmt, "rows": count},
        ip=ip,
    )
    return count


def _export_rows(region: Region) -> Iterator[list[str]]:
    residents = (
        Resident.objects.within(region)
        .order_by("household__building__path", "household__unit", "household__room", "id")
        .values_list(
            "id",
            "household__building__path",
            "household__unit",
            "household__room",
            "name",
            "sex",
            "id_number",
            "phone",
            "work_unit",
            "is_party_member",
            "can_order_online",
            "away",
        )
    )
    order = list(CARE_GROUP_LABELS)
    chunk: list[tuple] = []

    def flush() -> Iterator[list[str]]:
        groups: dict[int, list[str]] = {}
        for resident_id, group in ResidentCareGroup.objects.filter(
            resident_id__in=[c[0] for c in chunk]
        ).values_list("resident_id", "group"):
            groups.setdefault(resident_id, []).append(group)
        for rid, path, unit, room, name, sex, id_number, phone, work, party, online, away in chunk:
            labels = "、".join(
                CARE_GROUP_LABELS[g] for g in sorted(groups.get(rid, []), key=order.index)
            )
            yield [
                *path.split(PATH_SEPARATOR),
                unit,
                room,
                name,
                _SEX_LABEL[sex],
                id_number,
                phone,
                work,
                "是" if party else "否",
                "" if online is None else ("是" if online else "否"),
                labels,
                "是" if away else "否",
            ]
        chunk.clear()

    for values in residents.iterator(chunk_size=BATCH_SIZE):
        chunk.append(values)
        if len(chunk) >= BATCH_SIZE:
            yield from flush()
    yield from flush()


def _write_csv(rows: Iterator[list[str]], target: Path | str | IO[bytes]) -> int:
    stream = open(target, "wb") if isinstance(target, str | Path) else target  # noqa: SIM115
    # UTF-8 with a BOM: what Excel needs to open Chinese CSV correctly.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(CENSUS_COLUMNS)
        count = 0
        for row in rows:
            writer.writerow([neutralise_cell(cell) for cell in row])
            count += 1
        text.flush()
    finally:
        text.detach()
        if isinstance(target, str | Path):
            stream.close()
    return count


def _write_xlsx(rows: Iterator[list[str]], target: Path | str | IO[bytes]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.append(CENSUS_COLUMNS)
    id_index = CENSUS_COLUMNS.index("身份证号")
    count = 0
    for row in rows:
        cells: list[Any] = []
        for value in row:
            # XML cannot carry control characters at all (openpyxl refuses them and the
            # whole export failed); the import refuses them, so only old rows hold any.
            cell = WriteOnlyCell(sheet, value=escape_quote(_XML_ILLEGAL.sub("", value)))
            # A string, never a formula: openpyxl makes `=...` a formula by itself.
            cell.data_type = "s"
            cells.append(cell)
        # Text format, so that whoever opens and saves the sheet keeps all 18 digits.
        cells[id_index].number_format = "@"
        sheet.append(cells)
        count += 1
    workbook.save(target)
    return count


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Columns people type digits into that are not numbers: formatted as text in the sheets we
# hand out, so Excel keeps all 18 digits of an ID and the leading 0 of a landline.
_TEXT_COLUMNS = ("单元", "房号", "身份证号", "联系电话")
_WIDTHS = {
    "身份证号": 22,
    "联系电话": 14,
    "工作单位": 18,
    "重点人群": 14,
    "村社区": 12,
    "乡镇街道": 12,
}


def write_template(target: Path | str | IO[bytes]) -> None:
    """An empty census sheet with the header row, ready for a clerk to fill in by hand."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(CENSUS_COLUMNS)
    for index, name in enumerate(CENSUS_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, 9)
        if name in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
            # Column styles only reach cells that exist: give the first rows text cells.
            for row in range(2, 2001):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    workbook.save(target)
