"""Census sheets (扫楼摸底): import and export, the way communities hold the data in Excel.

One row per resident. The import is all-or-nothing and runs in two passes:

1. Validate, reading only: every cell of every row is checked, an ID number registered
   outside the importer's jurisdiction is refused, and (for a preview) what the import
   would change is counted from plain batched reads. No transaction is opened, so a
   preview never holds SQLite's write lock and never writes.
2. Write, only if the whole sheet is right and this is no dry run: the validated rows,
   spooled to a temporary file in pass 1, are written in batches inside one transaction
   (`BEGIN IMMEDIATE` on SQLite), so a sheet with one bad ID number on row 9,000 leaves the
   database exactly as it was.

Every bad row is reported as `row N, column C: reason`; the result keeps the first
ERRORS_KEPT errors and a count by kind, and the whole list can be streamed to a CSV file.
Both passes stream (CSV row by row, XLSX in openpyxl's read-only mode) and the sheet is
checked against the limits in settings first (upload size, unpacked size, rows, columns,
cell length), so memory stays bounded whatever the file holds.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import itertools
import os
import pickle
import re
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError
from frontline.territory.models import Level, Region
from frontline.territory.services import PATH_SEPARATOR, region_ensure_path

from .contacts import LANDLINE, MOBILE, normalise_phone
from .contacts import NAME_MAX as EMERGENCY_NAME_MAX
from .contacts import RELATION_MAX as EMERGENCY_RELATION_MAX
from .idnumber import InvalidIdNumber, parse_id_number
from .labels import (
    CARE_GROUP_BY_LABEL,
    CARE_GROUP_LABELS,
    CENSUS_COLUMNS,
    SHEET_COLUMNS,
)
from .models import Household, Resident, ResidentCareGroup
from .sheetsafe import neutralise_cell, unneutralise_cell, xlsx_text_row

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
    "emergencycontact": "紧急联系人",
    "emergencyphone": "紧急联系电话",
    "relationtohead": "与户主关系",
    "relationship": "与户主关系",
    "与户主的关系": "与户主关系",
    "身份证号码": "身份证号",
    "公民身份号码": "身份证号",
    "手机号": "联系电话",
    "手机号码": "联系电话",
    "联系方式": "联系电话",
    "是否党员": "党员",
    "是否在外": "在外",
    "是否会网购": "会网购",
}

_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓", "✔"}
_NO = {"否", "无", "n", "no", "false", "0", "×", "✗", "✘"}
_SEX = {
    "男": "M",
    "女": "F",
    "男性": "M",
    "女性": "F",
    "m": "M",
    "f": "F",
    "male": "M",
    "female": "F",
}
_SEX_LABEL = {"M": "男", "F": "女"}
_CARE_SPLIT = re.compile(r"[、,，;；\s]+")
# What a phone is: one rule with the emergency contacts' (people.contacts).
_MOBILE = MOBILE
_LANDLINE = LANDLINE
_MAX_LEN = {"单元": 16, "房号": 16, "姓名": 32, "工作单位": 100}
# C0 controls (tab and newlines included: no census field holds them), DEL and C1. A NUL in
# a name made every .xlsx export of the city fail; none of them is ever meant.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# "廖小梅（女儿）": the emergency contact's relation in brackets after the name.
_NAME_RELATION = re.compile(r"^(.*?)\s*[(（]\s*([^()（）]*?)\s*[)）]$")

_REQUIRED_EXCEPT_ID = [c for c in CENSUS_COLUMNS if c in REQUIRED_COLUMNS and c != "身份证号"]

BATCH_SIZE = 2000
# How often a long import reports how far it has read (see `import_census`'s on_progress).
PROGRESS_ROWS = 1000
SHEET_TITLE = "普查"
# What a result keeps and shows; the rest are counted by kind (and streamed to a file).
ERRORS_KEPT = 200
# The full list written beside an upload stops here, so that the disk is bounded too.
ERRORS_FILE_LINES = 1_000_000
# The audit record of an import names at most this many residents (and the total).
AUDIT_IDS = 1000
# A member this small cannot be a bomb whatever its ratio (styles compress very well).
_RATIO_FLOOR = 1 << 20
_ECHO = 40  # characters of a bad value repeated in its error message


class Kind:
    """What went wrong, for the summary by kind (`身份证号 checksum: 93,118 rows`)."""

    EMPTY = gettext_noop("empty")
    TOO_LONG = gettext_noop("too long")
    CONTROL = gettext_noop("control character")
    FORMAT = gettext_noop("format")
    CHECKSUM = gettext_noop("checksum")
    BIRTH_DATE = gettext_noop("birth date")
    DUPLICATE = gettext_noop("duplicate")
    NUMBER = gettext_noop("stored as a number")
    DISAGREES = gettext_noop("disagrees with the ID number")
    UNKNOWN = gettext_noop("unknown value")
    OUTSIDE = gettext_noop("outside your jurisdiction")
    HEADER = gettext_noop("header")
    FILE = gettext_noop("file")


class Note:
    """What normalisation did, for the preview (`联系电话 full-width characters: 38 cells`)."""

    FULL_WIDTH = gettext_noop("full-width characters made ASCII")
    NAME_SPACES = gettext_noop("spaces inside the name removed")
    ID_X = gettext_noop("final x made X")
    PHONE_SEPARATORS = gettext_noop("spaces or dashes removed")
    PHONE_86 = gettext_noop("+86 removed")
    READ_AS = gettext_noop("“%(value)s” read as “%(as)s”")
    MERGED = gettext_noop("merged cell applied to every row it spans")
    TITLE_ROWS = gettext_noop("title rows above the header skipped")
    BLANK_ROWS = gettext_noop("blank rows skipped")
    TOTAL_ROWS = gettext_noop("total rows (合计, 总计) ignored")


@dataclass(frozen=True, slots=True)
class NoteGroup:
    """One line of what normalisation did: kind, column, how many cells or rows."""

    column: str | None
    kind: str  # a Note msgid
    value: str  # for READ_AS: the form read, e.g. "√"
    canonical: str  # for READ_AS: what it was read as, e.g. "是"
    count: int

    def __str__(self) -> str:
        what = _(self.kind)
        if self.kind == Note.READ_AS:
            what = what % {"value": self.value, "as": self.canonical}
        if self.column:
            return ngettext(
                "%(what)s in %(column)s: %(count)s cell",
                "%(what)s in %(column)s: %(count)s cells",
                self.count,
            ) % {"what": what, "column": self.column, "count": f"{self.count:,}"}
        return ngettext("%(what)s: %(count)s row", "%(what)s: %(count)s rows", self.count) % {
            "what": what,
            "count": f"{self.count:,}",
        }


# Warnings (ignored columns, skipped sheets) a result keeps.
WARNINGS_KEPT = 200

# InvalidIdNumber.kind → Kind.
_ID_KINDS = {"format": Kind.FORMAT, "checksum": Kind.CHECKSUM, "birth date": Kind.BIRTH_DATE}


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a sheet the import reads before refusing it (settings.FRONTLINE_*)."""

    upload_bytes: int
    uncompressed_bytes: int
    shared_strings_bytes: int
    ratio: int
    rows: int
    columns: int
    cell_chars: int

    @classmethod
    def from_settings(cls) -> Limits:
        mb = 1024 * 1024
        return cls(
            upload_bytes=settings.FRONTLINE_UPLOAD_MAX_MB * mb,
            uncompressed_bytes=settings.FRONTLINE_IMPORT_MAX_UNCOMPRESSED_MB * mb,
            shared_strings_bytes=settings.FRONTLINE_IMPORT_MAX_SHARED_STRINGS_MB * mb,
            ratio=settings.FRONTLINE_IMPORT_MAX_RATIO,
            rows=settings.FRONTLINE_IMPORT_MAX_ROWS,
            columns=settings.FRONTLINE_IMPORT_MAX_COLUMNS,
            cell_chars=settings.FRONTLINE_IMPORT_MAX_CELL_CHARS,
        )


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def estimate_rows(path: Path | str) -> int:
    """A cheap estimate of a sheet's rows, to decide before reading it whether it is checked
    while the browser waits or by the background worker: the lines of a CSV, the declared
    size of an .xlsx's sheets (less a header line each), else the file's size at ~50 bytes a
    row (an .xls or .ods row is rarely smaller). Never reads the cells."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as stream:
        kind = _sniff_kind(stream.read(512), path.name)
        if kind == "csv":
            stream.seek(0)
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
            return max(0, lines - 1)  # the header
    if kind == "xlsx":
        # The <dimension> at the head of each sheet's XML, read straight from the zip: opening
        # the workbook with a library would read its shared strings first, unlimited.
        try:
            declared: list[int] = []
            with zipfile.ZipFile(path) as book:
                for name in book.namelist():
                    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                        with book.open(name) as sheet:
                            found = _DIMENSION.search(sheet.read(4096))
                        if found is None:
                            declared = []
                            break
                        declared.append(int(found.group(1) or 1))
            if declared:
                return max(0, sum(declared) - len(declared))  # a header each
        except (zipfile.BadZipFile, OSError, ValueError):
            pass  # a broken file is the import's to report, not this estimate's
    return size // 50


def upload_too_large(size: int) -> str | None:
    """The refusal for a file of `size` bytes, or None if it may be imported."""
    limit = settings.FRONTLINE_UPLOAD_MAX_MB
    if size > limit * 1024 * 1024:
        return _("the file is larger than %(limit)d MB; split it into smaller sheets") % {
            "limit": limit
        }
    return None


@dataclass(frozen=True, slots=True)
class RowError:
    row: int | None  # sheet row, the header being row 1; None for the file as a whole
    column: str | None
    message: str
    kind: str = ""  # translated Kind label, for the summary
    sheet: str | None = None  # the sheet's name, in a workbook of several sheets

    def __str__(self) -> str:
        if self.sheet:
            return _("sheet %(sheet)s, %(error)s") % {
                "sheet": self.sheet,
                "error": str(RowError(self.row, self.column, self.message)),
            }
        if self.row is None:
            return _("file: %(reason)s") % {"reason": self.message}
        if self.column is None:
            return _("row %(row)d: %(reason)s") % {"row": self.row, "reason": self.message}
        return _("row %(row)d, column %(column)s: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.message,
        }


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """One line of the summary: how many rows have this kind of error in this column."""

    column: str | None
    kind: str
    count: int

    def __str__(self) -> str:
        what = f"{self.column} {self.kind}" if self.column else self.kind
        return ngettext("%(what)s: %(count)s row", "%(what)s: %(count)s rows", self.count) % {
            "what": what,
            "count": f"{self.count:,}",
        }


class _ErrorSink:
    """Every error as a CSV line (UTF-8 with BOM for Excel), up to ERRORS_FILE_LINES."""

    def __init__(self, target: Path | str | IO[str]) -> None:
        self.owned = isinstance(target, str | Path)
        if isinstance(target, str | Path):
            # Owner-only: the list repeats names and places of the sheet.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            self.stream: IO[str] = open(fd, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        else:
            self.stream = target
        self.writer = csv.writer(self.stream)
        self.writer.writerow([_("row"), _("column"), _("kind"), _("reason")])
        self.lines = 0
        self.dropped = 0

    def write(self, error: RowError) -> None:
        if self.lines >= ERRORS_FILE_LINES:
            self.dropped += 1
            return
        row = "" if error.row is None else str(error.row)
        if error.sheet:
            row = f"{error.sheet}!{row}"  # Excel's own way of naming a sheet's cell
        self.writer.writerow([row, error.column or "", error.kind, error.message])
        self.lines += 1

    def close(self) -> None:
        if self.dropped:
            self.writer.writerow(
                [
                    "",
                    "",
                    "",
                    _("%(count)s more errors not listed") % {"count": f"{self.dropped:,}"},
                ]
            )
        if self.owned:
            self.stream.close()
        else:
            self.stream.flush()


# The preview lists this many changes one by one; the rest are counted.
CHANGES_KEPT = 200


class ChangeKind:
    ADDED = "added"
    UPDATED = "updated"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class Change:
    """One resident the import would add, update or move, as the preview shows it.

    Identifiers are already masked for whoever asked for the preview (their policy).
    """

    kind: str  # ChangeKind
    building: str  # the building's path, for grouping
    row: int
    name: str
    id_number: str
    room: str  # where the resident will live, within the building
    fields: tuple[tuple[str, str, str], ...] = ()  # (column, old, new)
    moved_from: str = ""  # for a move: the previous building path and room

    @property
    def building_name(self) -> str:
        return self.building.rsplit(PATH_SEPARATOR, 1)[-1]


@dataclass
class ImportResult:
    dry_run: bool = False
    rows: int = 0
    households_created: int = 0
    residents_created: int = 0
    residents_updated: int = 0
    residents_unchanged: int = 0
    residents_moved: int = 0
    regions_created: int = 0
    # The first ERRORS_KEPT errors; error_count has them all, error_kinds by kind.
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    error_kinds: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    # Residents the import created or changed: the first AUDIT_IDS ids, and how many.
    changed_ids: list[int] = field(default_factory=list)
    changed_total: int = 0
    # A preview's first CHANGES_KEPT changes, in sheet order (see `changes_by_building`).
    changes: list[Change] = field(default_factory=list)
    # What normalisation did, by (column, Note, form read, read as) → cells or rows.
    normalised: Counter[tuple[str | None, str, str, str]] = field(default_factory=Counter)
    # Ignored columns and skipped sheets, one line each (the first WARNINGS_KEPT).
    warnings: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    # The sheet being read, in a workbook of several: errors are stamped with it.
    sheet: str | None = field(default=None, repr=False)
    _sink: _ErrorSink | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.error_count = max(self.error_count, len(self.errors))

    def warn(self, message: str) -> None:
        if self.sheet:
            message = _("sheet %(sheet)s: %(warning)s") % {"sheet": self.sheet, "warning": message}
        if len(self.warnings) < WARNINGS_KEPT:
            self.warnings.append(message)

    def note(self, column: str | None, kind: str, value: str = "", canonical: str = "") -> None:
        self.normalised[(column, kind, value, canonical)] += 1

    @property
    def notes(self) -> list[NoteGroup]:
        """What normalisation did, the commonest first."""
        return [
            NoteGroup(column, kind, value, canonical, count)
            for (column, kind, value, canonical), count in sorted(
                self.normalised.items(), key=lambda item: (-item[1], *(x or "" for x in item[0]))
            )
        ]

    def add_error(self, error: RowError) -> None:
        if self.sheet and error.sheet is None:
            error = RowError(error.row, error.column, error.message, error.kind, self.sheet)
        self.error_count += 1
        self.error_kinds[(error.column, error.kind)] += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)
        if self._sink is not None:
            self._sink.write(error)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def errors_not_shown(self) -> int:
        return self.error_count - len(self.errors)

    @property
    def changes_by_building(self) -> list[tuple[str, list[Change]]]:
        """The listed changes grouped by building, buildings in the order the sheet has them."""
        groups: dict[str, list[Change]] = {}
        for change in self.changes:
            groups.setdefault(change.building, []).append(change)
        return list(groups.items())

    @property
    def changes_not_listed(self) -> int:
        return max(0, self.residents_created + self.residents_updated - len(self.changes))

    @property
    def summary(self) -> list[ErrorGroup]:
        """Errors by column and kind, the commonest first."""
        return [
            ErrorGroup(column, kind, count)
            for (column, kind), count in sorted(
                self.error_kinds.items(), key=lambda item: (-item[1], item[0][0] or "", item[0][1])
            )
        ]

    def _changed(self, ids: Iterable[int]) -> None:
        for resident_id in ids:
            self.changed_total += 1
            if len(self.changed_ids) < AUDIT_IDS:
                self.changed_ids.append(resident_id)

    def _forget_counts(self) -> None:
        # A sheet with errors changes nothing, and half-counted figures would only mislead
        # (or say something about rows the importer may not see).
        self.households_created = self.residents_created = self.residents_updated = 0
        self.residents_unchanged = self.residents_moved = self.regions_created = 0
        self.changed_ids, self.changed_total = [], 0
        self.changes = []


class _Rollback(Exception):
    pass


class _Stop(Exception):
    """Raised to abandon a sheet that cannot be read at all."""


def _file_error(message: str) -> RowError:
    return RowError(None, None, message, _(Kind.FILE))


def _echo(value: str) -> str:
    return value if len(value) <= _ECHO else value[:_ECHO] + "…"


# --- reading ----------------------------------------------------------------------------


def _open_binary(source: Path | str | IO[bytes]) -> IO[bytes]:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by the caller
    return source


def _sniff_kind(head: bytes, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        # An OpenDocument file is a zip too; it says so in its first member, "mimetype".
        return "ods" if suffix == ".ods" or b"opendocument.spreadsheet" in head else "xlsx"
    if suffix in {".xlsx", ".xlsm", ".ods"}:
        return suffix[1:4]  # claims to be a workbook but is not a zip: reported as corrupt
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if b"\x00" in head[:8]:
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


def _blank(cells: Sequence[Any]) -> bool:
    if not any(cells):
        # All None or "" (the common case: one C-level pass); 0 and False are not blank.
        return all(c is None or c == "" for c in cells)
    return not any(_cell_text(c) for c in cells)


class _Sheet(NamedTuple):
    """One sheet of a workbook (a CSV file is one sheet without a name)."""

    name: str
    rows: Iterator[tuple[int, Sequence[Any]]]  # (sheet row number, cells), header included
    # Merged ranges as (first row, first column, last row, last column), 1-based, inclusive.
    merges: list[tuple[int, int, int, int]]


# A sheet with more merged ranges than this is not a census sheet someone merged by hand.
MERGES_KEPT = 100_000


def _read_sheets(stream: IO[bytes], filename: str, limits: Limits) -> tuple[int, Iterator[_Sheet]]:
    """How many sheets the file has, and each sheet's rows, within the limits."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if refusal := upload_too_large(size):
        raise _Stop(refusal)
    head = stream.read(512)
    stream.seek(0)
    kind = _sniff_kind(head, filename)
    if kind == "binary":
        raise _Stop(_("this is not a CSV, XLSX, XLS or ODS file"))
    if kind == "csv":
        return 1, iter([_Sheet("", _limited(_read_csv(stream), limits), [])])
    if kind == "xlsx":
        return _read_xlsx(stream, limits)
    return _read_calamine(stream, kind, limits)


def _limited(
    rows: Iterable[tuple[int, Sequence[Any]]], limits: Limits
) -> Iterator[tuple[int, Sequence[Any]]]:
    width = limits.columns
    for number, cells in rows:
        if number > limits.rows + 1:
            raise _Stop(
                _("the sheet has more than %(limit)s rows; split it into smaller sheets")
                % {"limit": f"{limits.rows:,}"}
            )
        if len(cells) > width and not _blank(cells[width:]):
            raise _Stop(
                _("row %(row)d has more than %(limit)d columns; the census has %(columns)d")
                % {"row": number, "limit": width, "columns": len(CENSUS_COLUMNS)}
            )
        yield number, cells


def _read_csv(stream: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    encoding = _csv_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error:
        # csv's own wording is English and names its internals: say where instead.
        raise _Stop(
            _("the CSV file is malformed near line %(line)d (a cell too long or a stray quote)")
            % {"line": reader.line_num + 1}
        ) from None
    except UnicodeDecodeError:
        raise _Stop(
            _("the CSV file is not valid text near line %(line)d; save it as UTF-8")
            % {"line": reader.line_num + 1}
        ) from None
    finally:
        text.detach()


def _corrupt(kind: str = "xlsx") -> str:
    # Never the exception's own text: it is English ("File is not a zip file") and says
    # nothing a clerk can act on.
    return _(
        "the %(format)s file is corrupt or not a workbook; open it in Excel and save it again"
    ) % {"format": kind.upper()}


def _check_workbook(stream: IO[bytes], limits: Limits, kind: str = "xlsx") -> None:
    """Refuse a zip bomb from the zip directory alone, before anything is unpacked.

    The declared sizes can be trusted as an upper bound: zipfile stops reading a member at
    its declared size (and fails its checksum if there was more).
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _Stop(_corrupt(kind)) from None
    mb = 1024 * 1024
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > info.compress_size * limits.ratio:
            raise _Stop(
                _(
                    "the workbook unpacks to more than %(ratio)d times its size, which no real "
                    "sheet does; it was refused unread"
                )
                % {"ratio": limits.ratio}
            )
        # Shared strings are held in memory whole, and so is an ODS sheet (its reader
        # builds the whole sheet before the first row).
        held_whole = "sharedstrings" in info.filename.lower() or (
            kind == "ods" and info.filename == "content.xml"
        )
        if held_whole and info.file_size > limits.shared_strings_bytes:
            raise _Stop(
                _("the workbook's text unpacks to more than %(limit)d MB; split the sheet")
                % {"limit": limits.shared_strings_bytes // mb}
            )
    if total > limits.uncompressed_bytes:
        raise _Stop(
            _("the workbook unpacks to more than %(limit)d MB; split it or save it as CSV")
            % {"limit": limits.uncompressed_bytes // mb}
        )
    stream.seek(0)


def _read_xlsx(stream: IO[bytes], limits: Limits) -> tuple[int, Iterator[_Sheet]]:
    """Every sheet in openpyxl's read-only mode: rows stream, memory stays bounded."""
    from openpyxl import load_workbook

    _check_workbook(stream, limits)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
        sheets = list(workbook.worksheets)
    except Exception:  # a damaged workbook breaks openpyxl in many ways; none is a 500
        raise _Stop(_corrupt()) from None

    def rows_of(sheet: Any) -> Iterator[tuple[int, Sequence[Any]]]:
        try:
            # The declared dimension (`A1:XFD60000`) is the writer's claim, not the data:
            # with it openpyxl pads every row to 16,384 cells and every gap to the last row.
            sheet.reset_dimensions()
            # One column past the limit, so that a row which goes beyond it can be refused.
            yield from enumerate(sheet.iter_rows(max_col=limits.columns + 1, values_only=True), 1)
        except _Stop:
            raise
        except Exception:
            raise _Stop(_corrupt()) from None

    def each() -> Iterator[_Sheet]:
        try:
            for sheet in sheets:
                if getattr(sheet, "sheet_state", "visible") != "visible" and len(sheets) > 1:
                    continue
                merges = _xlsx_merges(workbook, sheet)
                yield _Sheet(sheet.title, _limited(rows_of(sheet), limits), merges)
        finally:
            workbook.close()

    return len(sheets), each()


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _xlsx_merges(workbook: Any, sheet: Any) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges, found before its rows are read.

    openpyxl's read-only mode does not give them, and they come after the rows in the
    sheet's XML, so the XML is scanned once for them (inflating only: about a second for
    a million rows), keeping nothing but the ranges.
    """
    from openpyxl.utils import column_index_from_string

    merges: list[tuple[int, int, int, int]] = []
    try:
        member = workbook._archive.open(sheet._worksheet_path)
    except Exception:
        return merges
    with member:
        tail = b""
        while chunk := member.read(1 << 20):
            data = tail + chunk
            start = data.find(b"<mergeCell") if b"mergeCell" in data else -1
            if start < 0:
                tail = data[-64:]
                continue
            end = data.rfind(b">")
            for m in _MERGE_REF.finditer(data, start, end + 1):
                merges.append(
                    (
                        int(m.group(2)),
                        column_index_from_string(m.group(1).decode()),
                        int(m.group(4)),
                        column_index_from_string(m.group(3).decode()),
                    )
                )
                if len(merges) > MERGES_KEPT:
                    raise _Stop(_("the sheet has too many merged cells; unmerge them"))
            tail = data[end + 1 :]
    return merges


_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _ods_merges(stream: IO[bytes]) -> dict[str, list[tuple[int, int, int, int]]]:
    """Each table's merged ranges in an .ods (cells with number-rows/columns-spanned),
    read from content.xml as it streams (already capped by _check_workbook)."""
    from xml.etree.ElementTree import iterparse

    t = f"{{{_ODS_TABLE}}}"
    merges: dict[str, list[tuple[int, int, int, int]]] = {}
    try:
        with zipfile.ZipFile(stream) as archive, archive.open("content.xml") as content:
            table: list[tuple[int, int, int, int]] = []
            row = col = 0
            for event, element in iterparse(content, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == f"{t}table":
                        table = merges.setdefault(element.get(f"{t}name", ""), [])
                        row = 0
                    elif tag == f"{t}table-row":
                        col = 0
                    elif tag in (f"{t}table-cell", f"{t}covered-table-cell"):
                        rows = int(element.get(f"{t}number-rows-spanned", "1"))
                        cols = int(element.get(f"{t}number-columns-spanned", "1"))
                        if rows > 1 or cols > 1:
                            table.append((row + 1, col + 1, row + rows, col + cols))
                            if len(table) > MERGES_KEPT:
                                raise _Stop(_("the sheet has too many merged cells; unmerge them"))
                        col += int(element.get(f"{t}number-columns-repeated", "1"))
                elif tag == f"{t}table-row":
                    row += int(element.get(f"{t}number-rows-repeated", "1"))
                    element.clear()
    except _Stop:
        raise
    except Exception:
        raise _Stop(_corrupt("ods")) from None
    return merges


def _read_calamine(stream: IO[bytes], kind: str, limits: Limits) -> tuple[int, Iterator[_Sheet]]:
    """.xls and .ods, read with python-calamine (each sheet is built whole in memory: an
    .xls holds at most 65,536 rows, and an .ods's text is capped like shared strings)."""
    from python_calamine import CalamineWorkbook

    if kind == "ods":
        _check_workbook(stream, limits, kind)
    # calamine gives no merged ranges for an .ods: they are read from its XML instead.
    ods_merges = _ods_merges(stream) if kind == "ods" else {}
    try:
        stream.seek(0)
        workbook = CalamineWorkbook.from_filelike(stream)
        names = list(workbook.sheet_names)
    except Exception:
        raise _Stop(_corrupt(kind)) from None

    def each() -> Iterator[_Sheet]:
        for index, name in enumerate(names):
            try:
                sheet = workbook.get_sheet_by_index(index)
                first_row, first_col = sheet.start or (0, 0)
                merges = (
                    ods_merges.get(name)
                    or [
                        (r0 + 1, c0 + 1, r1 + 1, c1 + 1)
                        for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
                    ][: MERGES_KEPT + 1]
                )
            except Exception:
                raise _Stop(_corrupt(kind)) from None
            if len(merges) > MERGES_KEPT:
                raise _Stop(_("the sheet has too many merged cells; unmerge them"))
            pad = [None] * first_col

            def rows(sheet: Any = sheet, first_row: int = first_row, pad: list = pad) -> Iterator:
                try:
                    for number, cells in enumerate(sheet.iter_rows(), start=first_row + 1):
                        yield number, [*pad, *cells] if pad else cells
                except Exception:
                    raise _Stop(_corrupt(kind)) from None

            yield _Sheet(name, _limited(rows(), limits), merges)

    return len(names), each()


def _normalise_header(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", value).lower()


# Columns a sheet may carry that the census does not read: ignored with a warning.
IGNORED_COLUMNS = frozenset({"序号", "编号", "备注", "说明"})


def _column_of(text: str) -> str | None:
    """The census column a header cell names, or None."""
    if text in SHEET_COLUMNS:
        return text
    compact = _normalise_header(unicodedata.normalize("NFKC", text))
    if compact in SHEET_COLUMNS:
        return compact
    return COLUMN_ALIASES.get(compact)


def _header_score(cells: Sequence[Any]) -> int:
    """How many distinct census columns a row names: the header is the row naming most."""
    names = set()
    for raw in cells:
        if type(raw) is str and 0 < len(raw) <= 64 and (name := _column_of(raw.strip())):
            names.add(name)
    return len(names)


def _map_header(
    cells: Sequence[Any], result: ImportResult, number: int = 1
) -> dict[str, int] | None:
    """Column name → index; reports duplicate and missing columns.

    A column the census does not know (序号, 备注, ...) is ignored with one warning; only
    when a column is missing too is it reported as an error, with the likeliest meaning.
    """
    positions: dict[str, int] = {}
    unknown: list[str] = []
    before = result.error_count
    header = _(Kind.HEADER)
    for index, raw in enumerate(cells):
        text = _cell_text(raw).lstrip("\ufeff")
        if not text:
            continue
        if _CONTROL.search(text) or len(text) > 64:
            result.add_error(
                RowError(number, _echo(_CONTROL.sub("?", text)), _("not a column"), header)
            )
            continue
        name = _column_of(text)
        if name is None:
            unknown.append(text)
        elif name in positions:
            result.add_error(RowError(number, text, _("column appears twice"), header))
        else:
            positions[name] = index
    missing = [name for name in CENSUS_COLUMNS if name not in positions]
    for text in unknown:
        # Suggest only a column the sheet still lacks: a misspelt 姓名 is not 性别.
        hint = difflib.get_close_matches(text, missing, n=1, cutoff=0.3)
        if not missing or unicodedata.normalize("NFKC", text) in IGNORED_COLUMNS:
            result.warn(
                _("column “%(name)s” is not a census column; it was ignored") % {"name": text}
            )
            continue
        message = _("unknown column “%(name)s”") % {"name": text}
        if hint:
            message += _("; did you mean “%(hint)s”?") % {"hint": hint[0]}
        result.add_error(RowError(number, text, message, header))
    for name in missing:
        result.add_error(RowError(number, name, _("missing column"), header))
    return None if result.error_count > before else positions


# --- validating -------------------------------------------------------------------------


class _Row(NamedTuple):
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
    # (name, relation, phone); None when the sheet has no emergency-contact columns, so
    # that the stored contact is kept.
    emergency: tuple[str, str, str] | None = None
    relation: str | None = None  # 与户主关系; None when the sheet has no such column


_BRACKETS = str.maketrans("（）", "()")
_NAME_SPACES = re.compile(r"(?<=[\u3400-\u9fff·])\s+(?=[\u3400-\u9fff·])")
_PHONE_SEPARATORS = re.compile(r"[\s\-]")


def _phone(text: str, column: str, note: Callable[..., None]) -> str:
    """A phone cell with +86 and (in a mobile number) spaces and dashes removed.

    Never guesses: what is left must still be a mobile or landline number. A landline keeps
    the dash after its area code (0564-3312345), as it is stored.
    """
    phone = text
    if phone.startswith("+86"):
        phone = phone[3:].lstrip(" -")
        note(column, Note.PHONE_86)
    if not phone.isdigit():
        compact = _PHONE_SEPARATORS.sub("", phone)
        if _MOBILE.match(compact):
            note(column, Note.PHONE_SEPARATORS)
            return compact
        spaceless = re.sub(r"\s", "", phone)
        if spaceless != phone:
            note(column, Note.PHONE_SEPARATORS)
        return spaceless
    return phone


def _yes_no(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError


def _validate(
    number: int,
    cells: Sequence[Any],
    positions: dict[str, int],
    seen_ids: dict[str, int],
    shared: dict[Any, Any],
    confine: _Confinement | None,
    today: dt.date,
    limits: Limits,
    result: ImportResult | None = None,
) -> tuple[_Row | None, list[RowError]]:
    errors: list[RowError] = []
    note = result.note if result is not None else (lambda *args: None)

    def err(column: str, message: str, kind: str) -> None:
        errors.append(RowError(number, column, message, _(kind)))

    width = len(cells)
    # str.strip inline for the common case (every CSV cell, most XLSX cells): a function
    # call per cell is a measurable part of a million-row import. A leading quote is the
    # export's formula neutralisation (see sheetsafe), undone exactly as _cell_text does.
    values = {
        name: (
            (
                (text if (text := cell.strip())[:1] != "'" else unneutralise_cell(text))
                if type(cell := cells[index]) is str
                else _cell_text(cell)
            )
            if index < width
            else ""
        )
        for name, index in positions.items()
    }
    # Cell-level refusals first: a value with a NUL or a megabyte of text is not read
    # further (and not echoed back in other messages).
    joined = "".join(values.values())
    if not joined.isascii() and not unicodedata.is_normalized("NFKC", joined):
        # Full-width digits, letters, brackets and spaces (a Chinese input method's) become
        # ASCII: one check per row, the cells only when the row needs it.
        for name, value in values.items():
            if not value.isascii() and not unicodedata.is_normalized("NFKC", value):
                values[name] = unicodedata.normalize("NFKC", value).strip()
                # The export's own brackets (廖小梅（女儿）) are no clerk's typing to report.
                if name != "紧急联系人" or values[name] != value.translate(_BRACKETS):
                    note(name, Note.FULL_WIDTH)
        joined = "".join(values.values())
    suspect = _CONTROL.search(joined) is not None or len(joined) > limits.cell_chars
    for name, value in values.items() if suspect else ():
        if len(value) > limits.cell_chars:
            err(
                name,
                _("longer than %(limit)d characters") % {"limit": limits.cell_chars},
                Kind.TOO_LONG,
            )
        elif match := _CONTROL.search(value):
            err(
                name,
                _("contains a control character (U+%(code)04X), which no census value may hold")
                % {"code": ord(match.group())},
                Kind.CONTROL,
            )
    if errors:
        return None, errors

    name = values["姓名"]
    if " " in name or "\u3000" in name or "\t" in name:
        # 廖 国庆 → 廖国庆 (between Chinese characters only: "Anna Lee" keeps its space).
        compact = _NAME_SPACES.sub("", name)
        if compact != name:
            values["姓名"] = compact
            note("姓名", Note.NAME_SPACES)
    if values["身份证号"][-1:] == "x":
        values["身份证号"] = values["身份证号"][:-1] + "X"
        note("身份证号", Note.ID_X)

    raw_id = cells[positions["身份证号"]] if positions["身份证号"] < width else None
    if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
        # Excel keeps 15 significant digits: an ID typed into a number cell has already
        # lost its last digits, and guessing them would be worse than asking.
        err(
            "身份证号",
            _("stored as a number, so Excel lost its last digits; format the column as text"),
            Kind.NUMBER,
        )
        values["身份证号"] = ""
    elif not values["身份证号"]:
        err("身份证号", _("required cell is empty"), Kind.EMPTY)

    for name in _REQUIRED_EXCEPT_ID:
        if not values[name]:
            err(name, _("required cell is empty"), Kind.EMPTY)
    for name, limit in _MAX_LEN.items():
        if len(values[name]) > limit:
            err(name, _("longer than %(limit)d characters") % {"limit": limit}, Kind.TOO_LONG)
    for name in REGION_COLUMNS:
        if PATH_SEPARATOR in values[name]:
            err(name, _("a place name cannot contain “/”"), Kind.FORMAT)
        elif len(values[name]) > 64:
            err(name, _("longer than %(limit)d characters") % {"limit": 64}, Kind.TOO_LONG)

    sex = None
    if values["性别"]:
        sex = _SEX.get(values["性别"].lower())
        if sex is None:
            err(
                "性别",
                _("must be 男 or 女 (also 男性/女性, M/F), not “%(value)s”")
                % {"value": _echo(values["性别"])},
                Kind.UNKNOWN,
            )
        elif values["性别"] not in _SEX_LABEL.values():
            note("性别", Note.READ_AS, values["性别"], _SEX_LABEL[sex])

    info = None
    if values["身份证号"]:
        try:
            info = parse_id_number(values["身份证号"], today=today)
        except InvalidIdNumber as exc:
            err("身份证号", str(exc), _ID_KINDS.get(exc.kind, Kind.FORMAT))
    if info is not None:
        first = seen_ids.get(info.number)
        if first is not None:
            err(
                "身份证号",
                _("the same ID number is already on row %(row)d") % {"row": first},
                Kind.DUPLICATE,
            )
        else:
            seen_ids[info.number] = number
        if sex is not None and sex != info.sex:
            err(
                "性别",
                _("%(sex)s disagrees with the ID number, which is %(id_sex)s")
                % {"sex": values["性别"], "id_sex": _SEX_LABEL[info.sex]},
                Kind.DISAGREES,
            )

    phone = values["联系电话"]
    if phone and not phone.isdigit():
        phone = _phone(phone, "联系电话", note)
    if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        err(
            "联系电话",
            _("“%(value)s” is not a mobile (11 digits) or landline number")
            % {"value": _echo(values["联系电话"])},
            Kind.FORMAT,
        )

    emergency = (
        _emergency_contact(values, err, note)
        if "紧急联系人" in values or ("紧急联系电话" in values)
        else None
    )

    relation = values.get("与户主关系")
    if relation is not None and len(relation) > 16:
        err("与户主关系", _("longer than %(limit)d characters") % {"limit": 16}, Kind.TOO_LONG)

    flags: dict[str, bool | None] = {}
    for name in ("党员", "会网购", "在外"):
        text = values[name]
        if not text:
            flags[name] = None if name == "会网购" else False
            continue
        try:
            flags[name] = _yes_no(text)
        except ValueError:
            err(
                name,
                _("must be 是 or 否 (also 有/无, √/×, ✓/✗, Y/N, yes/no, 1/0), not “%(value)s”")
                % {"value": _echo(text)},
                Kind.UNKNOWN,
            )
        else:
            if text not in ("是", "否"):
                note(name, Note.READ_AS, text, "是" if flags[name] else "否")

    groups: set[str] = set()
    for label in _CARE_SPLIT.split(values["重点人群"]) if values["重点人群"] else ():
        if not label:
            continue
        code = CARE_GROUP_BY_LABEL.get(label)
        if code is None:
            err(
                "重点人群",
                _("unknown care group “%(label)s”; use %(labels)s")
                % {"label": _echo(label), "labels": "、".join(CARE_GROUP_LABELS.values())},
                Kind.UNKNOWN,
            )
        else:
            groups.add(code)

    if confine is not None and not errors:
        path = PATH_SEPARATOR.join(values[name] for name in REGION_COLUMNS)
        if not confine.policy.contains_path(path):
            err(
                "区县",
                _("%(path)s is outside your jurisdiction (%(scope)s)")
                % {"path": path, "scope": confine.home},
                Kind.OUTSIDE,
            )

    if errors or info is None or sex is None:
        return None, errors
    # Values that repeat from row to row (places, rooms, work units, care groups) are kept
    # once: less memory, and the spool pickles each of them once per batch.
    regions = tuple(values[name] for name in REGION_COLUMNS)
    return (
        _Row(
            number=number,
            regions=shared.setdefault(regions, regions),
            unit=shared.setdefault(values["单元"], values["单元"]),
            room=shared.setdefault(values["房号"], values["房号"]),
            name=values["姓名"],
            sex=sex,
            id_number=info.number,
            birth_date=info.birth_date,
            phone=phone,
            work_unit=shared.setdefault(values["工作单位"], values["工作单位"]),
            is_party_member=bool(flags["党员"]),
            can_order_online=flags["会网购"],
            care_groups=shared.setdefault(frozenset(groups), frozenset(groups)),
            away=bool(flags["在外"]),
            emergency=emergency,
            relation=relation,
        ),
        [],
    )


def _emergency_contact(
    values: dict[str, str], err: Callable[[str, str, str], None], note: Callable[..., None]
) -> tuple[str, str, str] | None:
    """(name, relation, phone) from the two optional columns, or None with errors reported."""
    text = values.get("紧急联系人", "")
    raw_phone = values.get("紧急联系电话", "")
    name, relation = text, ""
    if match := _NAME_RELATION.match(text):
        name, relation = match.group(1), match.group(2)
    ok = True
    if len(name) > EMERGENCY_NAME_MAX:
        err(
            "紧急联系人",
            _("longer than %(limit)d characters") % {"limit": EMERGENCY_NAME_MAX},
            Kind.TOO_LONG,
        )
        ok = False
    elif len(relation) > EMERGENCY_RELATION_MAX:
        err(
            "紧急联系人",
            _("the relation in brackets is longer than %(limit)d characters")
            % {"limit": EMERGENCY_RELATION_MAX},
            Kind.TOO_LONG,
        )
        ok = False
    phone = normalise_phone(_phone(raw_phone, "紧急联系电话", note)) if raw_phone else ""
    if phone is None:
        err(
            "紧急联系电话",
            _("“%(value)s” is not a mobile (11 digits) or landline number")
            % {"value": _echo(raw_phone)},
            Kind.FORMAT,
        )
        return None
    if phone and not name:
        err("紧急联系人", _("an emergency phone needs the contact's name"), Kind.EMPTY)
        return None
    return (name, relation, phone) if ok else None


class _Located:
    """The ancestor columns of a stored row, for policy.contains without loading a model."""

    __slots__ = ("district_id", "township_id", "community_id", "compound_id", "building_id")

    def __init__(self, *ids: int | None) -> None:
        (
            self.district_id,
            self.township_id,
            self.community_id,
            self.compound_id,
            self.building_id,
        ) = ids


class _Confinement:
    """An importer confined to a jurisdiction (the system and a city-wide account are not)."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.home = policy.jurisdiction.path
        self.refused_rows: list[int] = []
        self.refused = 0

    def outside(self, located: Iterable[Any]) -> bool:
        return not self.policy.contains(_Located(*located))

    def refuse(self, row: _Row, result: ImportResult) -> None:
        # No name and no place: the importer may not learn where this person lives.
        result.add_error(
            RowError(
                row.number,
                "身份证号",
                _(
                    "registered outside your jurisdiction; ask a person whose jurisdiction "
                    "covers both places to transfer them"
                ),
                _(Kind.OUTSIDE),
            )
        )
        self.refused += 1
        if len(self.refused_rows) < AUDIT_IDS:
            self.refused_rows.append(row.number)


# --- shared by the preview's counts and the writer ----------------------------------------

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
    "emergency_name",
    "emergency_relation",
    "emergency_phone",
    "relation_to_head",
    "district_id",
    "township_id",
    "community_id",
    "compound_id",
    "building_id",
)
# Where the emergency contact sits in a stored tuple ("id", "id_number", *_RESIDENT_FIELDS).
_EMERGENCY_AT = 2 + _RESIDENT_FIELDS.index("emergency_name")
_NO_CONTACT = ("", "", "")
_RELATION_AT = 2 + _RESIDENT_FIELDS.index("relation_to_head")
_LOCATION_FIELDS = ("district_id", "township_id", "community_id", "compound_id", "building_id")


def _location(building: Region) -> tuple:
    """The ancestor columns a resident of `building` carries (as the writer stores them)."""
    location = getattr(building, "_census_location", None)
    if location is None:
        location = (*(getattr(building, f) for f in _LOCATION_FIELDS[:-1]), building.pk)
        building._census_location = location  # type: ignore[attr-defined]
    return location


def _resident_values(
    row: _Row, household_id: int | None, building: Region | None, stored: tuple | None = None
) -> tuple:
    """The row as the stored tuple (_RESIDENT_FIELDS) it becomes; compared to the stored one.

    A sheet without the emergency-contact columns keeps the contact `stored` holds.
    """
    emergency = row.emergency
    if emergency is None:
        emergency = (
            tuple(stored[_EMERGENCY_AT : _EMERGENCY_AT + 3]) if stored is not None else _NO_CONTACT
        )
    return (
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
        *emergency,
        row.relation
        if row.relation is not None
        else (stored[_RELATION_AT] if stored is not None else ""),
        *(_location(building) if building is not None else (None,) * 5),
    )


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


def _care_groups_of(resident_ids: list[int]) -> dict[int, set[str]]:
    current: dict[int, set[str]] = {}
    for resident_id, group in _fetch(
        ResidentCareGroup, ("resident_id", "group"), "resident_id", resident_ids
    ):
        current.setdefault(resident_id, set()).add(group)
    return current


# --- counting without writing (the preview) -----------------------------------------------


class _Counter:
    """What the writer would create and change, from plain reads: the preview's figures.

    It mirrors _Writer: the same building lookup by path, the same household key
    (building, unit, room), the same stored-tuple comparison and care-group rule, so a
    preview's counts are the import's counts.
    """

    def __init__(self, result: ImportResult, viewer: Any) -> None:
        self.result = result
        self.viewer = viewer  # the policy that masks identifiers in the listed changes
        self.paths: dict[str, bool] = {}  # every region path seen → exists
        self.buildings: dict[tuple[str, ...], Region | None] = {}
        self.households: dict[int, dict[tuple[str, str], int]] = {}  # existing buildings
        self.new_households: dict[tuple[str, ...], set[str]] = {}  # new buildings' (unit, room)
        self.planned: set[tuple[int, str, str]] = set()  # new households in existing buildings

    def _regions(self, rows: list[_Row]) -> None:
        if not self.paths and not Region.objects.filter(level=Level.CITY).exists():
            self.result.regions_created += 1  # the root, created with the first building
        prefixes = {
            PATH_SEPARATOR.join(r.regions[:depth]) for r in rows for depth in range(1, 6)
        } - self.paths.keys()
        if prefixes:
            found = set(
                Region.objects.filter(path__in=list(prefixes)).values_list("path", flat=True)
            )
            for path in prefixes:
                self.paths[path] = path in found
                if path not in found:
                    self.result.regions_created += 1
        unknown = {r.regions for r in rows} - self.buildings.keys()
        if unknown:
            by_path = {
                region.path: region
                for region in Region.objects.filter(
                    path__in=[PATH_SEPARATOR.join(names) for names in unknown]
                ).only("id", "path", "district", "township", "community", "compound")
            }
            for names in unknown:
                self.buildings[names] = by_path.get(PATH_SEPARATOR.join(names))
        wanted = {
            building.pk
            for names in {r.regions for r in rows}
            if (building := self.buildings[names]) is not None
            and building.pk not in self.households
        }
        if wanted:
            for building_id in wanted:
                self.households[building_id] = {}
            for pk, building_id, unit, room in Household.objects.filter(
                building_id__in=wanted
            ).values_list("id", "building_id", "unit", "room"):
                self.households[building_id][(unit, room)] = pk

    def count(self, rows: list[_Row]) -> None:
        result = self.result
        self._regions(rows)
        existing = {
            stored[1]: stored
            for stored in _fetch(
                Resident,
                ("id", "id_number", *_RESIDENT_FIELDS),
                "id_number",
                [r.id_number for r in rows],
            )
        }
        maybe_unchanged: list[tuple[int, _Row]] = []
        listing = _Listing(self, rows, existing) if len(result.changes) < CHANGES_KEPT else None
        for row in rows:
            building = self.buildings[row.regions]
            household_id: int | None = None
            if building is None:
                rooms = self.new_households.setdefault(row.regions, set())
                key = f"{row.unit}\x00{row.room}"
                if key not in rooms:
                    rooms.add(key)
                    result.households_created += 1
            else:
                household_id = self.households[building.pk].get((row.unit, row.room))
                planned = (building.pk, row.unit, row.room)
                if household_id is None and planned not in self.planned:
                    self.planned.add(planned)
                    result.households_created += 1
            stored = existing.get(row.id_number)
            if stored is None:
                result.residents_created += 1
                if listing is not None:
                    listing.add(row, None, household_id)
                continue
            if household_id is None or stored[2:] != _resident_values(
                row, household_id, building, stored
            ):
                result.residents_updated += 1
                if stored[2] != household_id:
                    result.residents_moved += 1
                if listing is not None:
                    listing.add(row, stored, household_id)
            else:
                maybe_unchanged.append((stored[0], row))
        current = _care_groups_of([resident_id for resident_id, _row in maybe_unchanged])
        for resident_id, row in maybe_unchanged:
            if current.get(resident_id, set()) != row.care_groups:
                result.residents_updated += 1
                if listing is not None:
                    listing.add(row, existing[row.id_number], self.households_of(row))
            else:
                result.residents_unchanged += 1

    def households_of(self, row: _Row) -> int | None:
        building = self.buildings[row.regions]
        if building is None:
            return None
        return self.households[building.pk].get((row.unit, row.room))


def _room_label(unit: str, room: str) -> str:
    unit_label = f"{unit}单元" if unit.isdigit() else unit
    room_label = f"{room}室" if room.isdigit() else room
    return "".join((unit_label, room_label))


def _flag(value: Any) -> str:
    return "" if value is None else ("是" if value else "否")


def _contact_label(name: str, relation: str) -> str:
    return f"{name}（{relation}）" if relation else name


class _Listing:
    """The preview's list of changes for one batch, until CHANGES_KEPT are listed.

    Only runs while the list is short: a million-row preview lists its first 200 changes
    and then only counts, so memory and queries stay bounded.
    """

    def __init__(self, counter: _Counter, rows: list[_Row], existing: dict[str, tuple]) -> None:
        self.result = counter.result
        self.viewer = counter.viewer
        ids = [stored[0] for stored in existing.values()]
        self.groups = _care_groups_of(ids)
        # Where the stored residents live now, for "moved from".
        self.places = {
            pk: (path, _room_label(unit, room))
            for pk, path, unit, room in Household.objects.filter(
                pk__in={stored[2] for stored in existing.values()}
            ).values_list("id", "building__path", "unit", "room")
        }

    def add(self, row: _Row, stored: tuple | None, household_id: int | None) -> None:
        result = self.result
        if len(result.changes) >= CHANGES_KEPT:
            return
        building = PATH_SEPARATOR.join(row.regions)
        common = {
            "building": building,
            "row": row.number,
            "name": row.name,
            "id_number": self.viewer.id_number(row.id_number),
            "room": _room_label(row.unit, row.room),
        }
        if stored is None:
            result.changes.append(Change(kind=ChangeKind.ADDED, **common))
            return
        moved_from = ""
        if stored[2] != household_id:
            path, room = self.places.get(stored[2], ("", ""))
            moved_from = room if path == building else f"{path} {room}".strip()
        result.changes.append(
            Change(
                kind=ChangeKind.MOVED if stored[2] != household_id else ChangeKind.UPDATED,
                fields=tuple(self._differences(row, stored)),
                moved_from=moved_from,
                **common,
            )
        )

    def _differences(self, row: _Row, stored: tuple) -> Iterator[tuple[str, str, str]]:
        old = dict(zip(("id", "id_number", *_RESIDENT_FIELDS), stored, strict=True))
        pairs: list[tuple[str, str, str]] = [
            ("姓名", old["name"], row.name),
            ("性别", _SEX_LABEL.get(old["sex"], old["sex"]), _SEX_LABEL[row.sex]),
            ("联系电话", old["phone"], row.phone),
            ("工作单位", old["work_unit"], row.work_unit),
            ("党员", _flag(old["is_party_member"]), _flag(row.is_party_member)),
            ("会网购", _flag(old["can_order_online"]), _flag(row.can_order_online)),
            (
                "重点人群",
                _care_label(self.groups.get(old["id"], set())),
                _care_label(row.care_groups),
            ),
            ("在外", _flag(old["away"]), _flag(row.away)),
        ]
        if row.emergency is not None:
            name, relation, emergency_phone = row.emergency
            pairs += [
                (
                    "紧急联系人",
                    _contact_label(old["emergency_name"], old["emergency_relation"]),
                    _contact_label(name, relation),
                ),
                ("紧急联系电话", old["emergency_phone"], emergency_phone),
            ]
        if row.relation is not None:
            pairs.append(("与户主关系", old["relation_to_head"], row.relation))
        for column, before, after in pairs:
            # Compared as stored, shown as the viewer may see them: a phone whose masked
            # digits changed is still a change.
            if (before or "") != (after or ""):
                if column in _PHONE_COLUMNS:
                    before, after = self.viewer.phone(before or ""), self.viewer.phone(after)
                yield column, before or "", after or ""


_PHONE_COLUMNS = frozenset({"联系电话", "紧急联系电话"})


def _care_label(codes: Iterable[str]) -> str:
    order = list(CARE_GROUP_LABELS)
    return "、".join(CARE_GROUP_LABELS[c] for c in sorted(codes, key=order.index))


# --- writing ----------------------------------------------------------------------------


class _Writer:
    def __init__(self, result: ImportResult, confine: _Confinement | None) -> None:
        self.result = result
        self.confine = confine
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
        existing = {
            stored[1]: stored
            for stored in _fetch(
                Resident,
                ("id", "id_number", *_RESIDENT_FIELDS),
                "id_number",
                [r.id_number for r in rows],
            )
        }
        if self.confine is not None:
            # Checked again under the write lock: someone may have moved a resident out of
            # the jurisdiction since the sheet was validated.
            for row in rows:
                stored = existing.get(row.id_number)
                if stored is not None and self.confine.outside(stored[-5:]):
                    self.confine.refuse(row, self.result)
            if not self.result.ok:
                raise _Rollback
        buildings = self._buildings(rows)
        households = self._households(rows, buildings)
        adapt = self.adapt_date
        inserts: list[tuple] = []
        updates: list[tuple] = []
        moved: set[int] = set()
        unchanged: set[int] = set()
        for row in rows:
            building = buildings[row.regions]
            household_id = households[(building.pk, row.unit, row.room)]
            self.touched_households.add(household_id)
            stored = existing.get(row.id_number)
            values = _resident_values(row, household_id, building, stored)
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
        self.result.residents_moved += len(moved)
        ids = {number: values[0] for number, values in existing.items()}
        if inserts:
            ids.update(_fetch(Resident, ("id_number", "id"), "id_number", [r[0] for r in inserts]))
        self._care_groups(rows, ids, buildings, moved, unchanged)
        self.result._changed(
            ids[row.id_number] for row in rows if ids[row.id_number] not in unchanged
        )

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
                *_location(building),
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
        current = _care_groups_of(list(ids.values()))
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
            location = _location(building)
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


def _is_lock_timeout(exc: OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "lock timeout" in text


def import_census(
    source: Path | str | IO[bytes],
    *,
    filename: str = "",
    actor=None,
    dry_run: bool = False,
    progress: bool = False,
    today: dt.date | None = None,
    errors_to: Path | str | IO[str] | None = None,
    ip: str | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Validate the whole sheet and, if every row is right and this is no dry run, write it.

    With an actor (a person), the policy decides: the role must allow importing, every
    row's place must lie in the jurisdiction, and an ID number already registered outside
    it is refused (a transfer is its own action); refusals and successful imports are
    audited as that person. Without one the import acts as the system, unconfined.
    `errors_to` receives every error as CSV; the result keeps the first ERRORS_KEPT.
    Raises DomainError when the role may not import or another import holds the lock.
    `on_progress(phase, rows)` hears how far it is: ("checking", rows read so far) every
    PROGRESS_ROWS rows, then ("writing", rows) when the write transaction opens (the
    writing itself is one transaction, whose progress nobody outside could read).
    """
    if isinstance(source, str | Path) and not filename:
        filename = str(source)
    confine = None
    if actor is not None:
        policy = policy_for(actor)
        policy.require(Action.IMPORT_CENSUS)
        if policy.jurisdiction is None:
            return ImportResult(
                dry_run=dry_run,
                errors=[_file_error(_("your account has no jurisdiction"))],
            )
        if policy.jurisdiction.level != Level.CITY:
            confine = _Confinement(policy)
    result = ImportResult(dry_run=dry_run)
    if errors_to is not None:
        result._sink = _ErrorSink(errors_to)
    stream = _open_binary(source)
    try:
        with tempfile.TemporaryFile() as spool:
            try:
                _check(
                    stream,
                    filename,
                    result,
                    confine,
                    today or dt.date.today(),
                    progress,
                    spool,
                    policy_for(actor),
                    on_progress,
                )
            except _Stop as exc:
                result.add_error(_file_error(str(exc)))
            if result.ok and not dry_run:
                spool.seek(0)
                if on_progress is not None:
                    on_progress("writing", result.rows)
                _write(spool, result, confine, actor, filename, ip)
        if not result.ok:
            result._forget_counts()
        if confine is not None and confine.refused:
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT_REFUSED,
                object_type="census",
                object_id=Path(filename).name[:64],
                region=confine.policy.jurisdiction,
                detail={
                    "reason": "registered_outside",
                    "dry_run": dry_run,
                    "refused": confine.refused,
                    "rows": confine.refused_rows,
                },
                ip=ip,
            )
    except OperationalError as exc:
        if not _is_lock_timeout(exc):
            raise
        # SQLite gave up waiting for the write lock (20 s): another import is writing.
        raise DomainError(
            _("another import is running; try again in a minute"), code="busy"
        ) from None
    finally:
        if result._sink is not None:
            result._sink.close()
            result._sink = None
        if isinstance(source, str | Path):
            stream.close()
    return result


def _check(
    stream: IO[bytes],
    filename: str,
    result: ImportResult,
    confine: _Confinement | None,
    today: dt.date,
    progress: bool,
    spool: IO[bytes],
    viewer: Any,
    on_progress: Callable[[str, int], None] | None = None,
) -> None:
    """The first pass: validate every row and count or spool the good ones. Reads only."""
    limits = Limits.from_settings()
    count, sheets = _read_sheets(stream, filename, limits)
    several = count > 1
    counter = _Counter(result, viewer) if result.dry_run else None
    seen_ids: dict[str, int] = {}
    shared: dict[Any, Any] = {}
    batch: list[_Row] = []
    bar = _progress_bar(progress)

    def flush() -> None:
        if confine is not None:
            stored = _fetch(
                Resident,
                ("id_number", *_LOCATION_FIELDS),
                "id_number",
                [r.id_number for r in batch],
            )
            outside = {s[0] for s in stored if confine.outside(s[1:])}
            for row in batch:
                if row.id_number in outside:
                    confine.refuse(row, result)
        # Once anything is wrong nothing will be written: only validate from then on.
        if result.ok:
            if counter is not None:
                counter.count(batch)
            else:
                pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
        batch.clear()

    recognised = 0
    first: tuple[_Sheet, tuple[int, Sequence[Any]] | None] | None = None
    for sheet in sheets:
        result.sheet = sheet.name if several else None
        header, title_rows, rows, first_row = _find_header(sheet.rows)
        if header is None:
            holding = _rows_with_ids(rows)
            if holding:
                # Residents below a header that is not where it is looked for: refused, not
                # skipped, or a whole building would silently go missing from the census.
                result.sheet = sheet.name if several else None
                result.add_error(
                    _file_error(
                        ngettext(
                            "%(n)d row holds ID numbers but no census header was found in "
                            "the first 10 rows; move the header row (区县, 乡镇街道, …) up",
                            "%(n)d rows hold ID numbers but no census header was found in "
                            "the first 10 rows; move the header row (区县, 乡镇街道, …) up",
                            holding,
                        )
                        % {"n": holding}
                    )
                )
                result.sheet = None
                recognised += 1
                continue
            if first is None:
                first = (sheet, first_row)
            if several:
                result.skipped_sheets.append(sheet.name)
                result.sheet = None
                result.warn(
                    _("sheet %(sheet)s has no census header in its first 10 rows; skipped")
                    % {"sheet": sheet.name}
                )
            continue
        recognised += 1
        if title_rows:
            result.normalised[(None, Note.TITLE_ROWS, "", "")] += title_rows
        positions = _map_header(header[1], result, header[0])
        if positions is None:
            continue
        fill = _MergeFill(sheet.merges, positions, result)
        id_at = positions["身份证号"]
        blank_run = 0
        for number, cells in rows:
            if fill.active:
                cells = fill.apply(number, cells)
            if _blank(cells):
                blank_run += 1
                continue
            if _is_total(cells, id_at):
                result.normalised[(None, Note.TOTAL_ROWS, "", "")] += 1
                continue
            if blank_run:
                # Only blank rows between rows count: a template's formatted tail does not.
                result.normalised[(None, Note.BLANK_ROWS, "", "")] += blank_run
                blank_run = 0
            result.rows += 1
            if result.rows > limits.rows:
                raise _Stop(
                    _("the sheet has more than %(limit)s rows; split it into smaller sheets")
                    % {"limit": f"{limits.rows:,}"}
                )
            row, errors = _validate(
                number, cells, positions, seen_ids, shared, confine, today, limits, result
            )
            for error in errors:
                result.add_error(error)
            if row is not None:
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    flush()
            bar(1)
            if on_progress is not None and result.rows % PROGRESS_ROWS == 0:
                on_progress("checking", result.rows)
        if batch:
            flush()
    result.sheet = None
    bar(0, close=True)
    if on_progress is not None:
        on_progress("checking", result.rows)
    if recognised == 0:
        if first is None or first[1] is None:
            raise _Stop(_("the file is empty"))
        first_sheet, first_row = first[0], first[1]
        # No row looks like a header: say what the first row lacks.
        result.sheet = first_sheet.name if several else None
        _map_header(first_row[1], result, first_row[0])
        result.sheet = None
        return
    if result.rows == 0 and result.ok:
        result.add_error(_file_error(_("the sheet has a header but no rows")))


_HEADER_ROWS = 10
_HEADER_MIN_SCORE = 3
_ID_LIKE = re.compile(r"^\s*\d{17}[\dXx]\s*$")


def _rows_with_ids(rows: Iterator[tuple[int, Sequence[Any]]]) -> int:
    """How many of the rows hold something shaped like an ID number (a sheet of residents
    whose header could not be found must not be skipped quietly)."""
    return sum(1 for _n, cells in rows if any(type(c) is str and _ID_LIKE.match(c) for c in cells))


_TOTAL = re.compile(r"^(合计|总计|小计|總計|合計)")


def _is_total(cells: Sequence[Any], id_at: int) -> bool:
    """A 合计/总计 row: no ID number, and a cell among the first three saying so."""
    if id_at < len(cells) and cells[id_at] not in (None, ""):
        return False
    return any(
        type(cell) is str and _TOTAL.match(unicodedata.normalize("NFKC", cell).strip())
        for cell in cells[:3]
    )


class _MergeFill:
    """Merged location cells (a building or a room merged down over its residents' rows)
    applied to every row they span, as the clerk sees them."""

    def __init__(
        self, merges: list[tuple[int, int, int, int]], positions: dict[str, int], result: Any
    ) -> None:
        columns = {positions[name]: name for name in (*REGION_COLUMNS, "单元", "房号")}
        self.result = result
        self.columns = columns
        # Ranges spanning more than one row that touch a location column, by first row.
        self.starts: dict[int, list[tuple[int, int, int]]] = {}
        for r0, c0, r1, c1 in merges:
            if r1 > r0:
                for index in range(c0 - 1, c1):
                    if index in columns:
                        self.starts.setdefault(r0, []).append((index, r1, c0 - 1))
        self.active = bool(self.starts)
        self.open: list[tuple[int, int, Any]] = []  # (column index, last row, value)

    def apply(self, number: int, cells: Sequence[Any]) -> Sequence[Any]:
        self.open = [entry for entry in self.open if entry[1] >= number]
        if _blank(cells):
            # A blank row inside a merged span is still a blank row: nobody is on it, and
            # filling its place columns would make it a resident with no name.
            self.starts.pop(number, None)
            return cells
        filled: list[Any] | None = None
        for index, _last, value in self.open:
            if index >= len(cells) or cells[index] in (None, ""):
                if filled is None:
                    filled = list(cells)
                if index >= len(filled):
                    filled.extend([None] * (index + 1 - len(filled)))
                filled[index] = value
                self.result.note(self.columns[index], Note.MERGED)
        for index, last, first_col in self.starts.pop(number, ()):
            # The value is the range's top-left cell (for a range across columns too).
            source = cells[first_col] if first_col < len(cells) else None
            if source not in (None, ""):
                self.open.append((index, last, source))
        if not self.starts and not self.open:
            self.active = False
        return filled if filled is not None else cells


def _find_header(
    rows: Iterator[tuple[int, Sequence[Any]]],
) -> tuple[
    tuple[int, Sequence[Any]] | None,
    int,
    Iterator[tuple[int, Sequence[Any]]],
    tuple[int, Sequence[Any]] | None,
]:
    """(the header row or None, how many non-blank rows stand above it, the rows after
    it, the first non-blank row).

    The header is the row among the first ten that names most census columns; a row
    naming fewer than three is no header.
    """
    buffered: list[tuple[int, Sequence[Any]]] = []
    for item in rows:
        buffered.append(item)
        if item[0] >= _HEADER_ROWS:
            break
    first = next(((n, c) for n, c in buffered if not _blank(c)), None)
    best, best_score = -1, _HEADER_MIN_SCORE - 1
    for index, (_number, cells) in enumerate(buffered):
        score = _header_score(cells)
        if score > best_score:
            best, best_score = index, score
    if best < 0:
        # The rows below stay readable: the caller looks for residents there.
        return None, 0, itertools.chain(buffered, rows), first
    title_rows = sum(1 for _n, cells in buffered[:best] if not _blank(cells))
    rest = itertools.chain(buffered[best + 1 :], rows)
    return buffered[best], title_rows, rest, first


def _spooled(spool: IO[bytes]) -> Iterator[list[_Row]]:
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 - our own temporary file
        except EOFError:
            return


def _write(
    spool: IO[bytes],
    result: ImportResult,
    confine: _Confinement | None,
    actor: Any,
    filename: str,
    ip: str | None,
) -> None:
    """The second pass: write the validated rows in one transaction, then audit it."""
    try:
        # BEGIN IMMEDIATE on SQLite (settings): the write lock from here to the commit only.
        with transaction.atomic():
            writer = _Writer(result, confine)
            regions_before = Region.objects.count()
            for batch in _spooled(spool):
                writer.write(batch)
            writer.finish()
            result.regions_created = Region.objects.count() - regions_before
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type="census",
                object_id=Path(filename).name[:64],
                region=confine.policy.jurisdiction if confine is not None else None,
                detail={
                    "rows": result.rows,
                    "added": result.residents_created,
                    "updated": result.residents_updated,
                    "moved": result.residents_moved,
                    "unchanged": result.residents_unchanged,
                    "households_created": result.households_created,
                    "regions_created": result.regions_created,
                    "residents_changed": result.changed_total,
                    "resident_ids": result.changed_ids,
                },
                ip=ip,
            )
    except _Rollback:
        pass
    except IntegrityError:
        # Two imports creating the same household or resident at once (PostgreSQL runs
        # them side by side; SQLite queues them): the later one loses the race and is
        # rolled back whole. Nothing is lost by running it again.
        result.add_error(
            _file_error(
                _(
                    "another import changed the same households at the same time; nothing was "
                    "written, import the sheet again"
                )
            )
        )


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
            "emergency_name",
            "emergency_relation",
            "emergency_phone",
            "relation_to_head",
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
        for (
            rid,
            path,
            unit,
            room,
            name,
            sex,
            id_number,
            phone,
            work,
            party,
            online,
            away,
            contact,
            relation,
            contact_phone,
            relation_to_head,
        ) in chunk:
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
                f"{contact}（{relation}）" if relation else contact,
                contact_phone,
                relation_to_head,
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
        writer.writerow(SHEET_COLUMNS)
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

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.append(SHEET_COLUMNS)
    id_index = SHEET_COLUMNS.index("身份证号")
    count = 0
    for row in rows:
        # Every cell a string cell, never a formula, without characters XML cannot carry
        # (see sheetsafe); the export's values are all text.
        cells = xlsx_text_row(sheet, row)
        # Text format, so that whoever opens and saves the sheet keeps all 18 digits.
        cells[id_index].number_format = "@"
        sheet.append(cells)
        count += 1
    workbook.save(target)
    return count


# Columns people type digits into that are not numbers: formatted as text in the sheets we
# hand out, so Excel keeps all 18 digits of an ID and the leading 0 of a landline.
_TEXT_COLUMNS = ("单元", "房号", "身份证号", "联系电话", "紧急联系电话")
_WIDTHS = {
    "身份证号": 22,
    "联系电话": 14,
    "紧急联系人": 16,
    "紧急联系电话": 14,
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
    sheet.append(SHEET_COLUMNS)
    for index, name in enumerate(SHEET_COLUMNS, start=1):
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
