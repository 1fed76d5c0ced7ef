"""Lab result files for a testing round: `管码, 结果` (tube code, result), CSV or XLSX.

The census discipline (people/census.py), with its file reader: the size and unpacked
limits, UTF-8 or GB18030, the first sheet of a workbook. Every row is checked before
anything is written (`row N, column C: reason`, the first ERRORS_KEPT kept and the rest
counted); an unknown tube code, a result that is not 阴性/阳性 (negative/positive) and a
tube given twice are row errors; a file with any error, or a dry run, writes nothing. A
good file is written in one short transaction and audited once.

A tube the importer may not see (outside their jurisdiction) reads like one that does not
exist, so a file cannot be used to probe other places' tube codes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError
from frontline.people.census import (
    ERRORS_KEPT,
    Limits,
    RowError,
    _blank,
    _cell_text,
    _normalise_header,
    _open_binary,
    _read_sheets,
    _Stop,
    upload_too_large,
)

from .models import TestingRound, Tube, TubeResult

__all__ = ["ResultImportResult", "import_results", "upload_too_large"]

CODE_COLUMN = "管码"
RESULT_COLUMN = "结果"
COLUMNS = (CODE_COLUMN, RESULT_COLUMN)
_ALIASES = {
    "管码": CODE_COLUMN,
    "管号": CODE_COLUMN,
    "试管编码": CODE_COLUMN,
    "tube": CODE_COLUMN,
    "tubecode": CODE_COLUMN,
    "code": CODE_COLUMN,
    "结果": RESULT_COLUMN,
    "检测结果": RESULT_COLUMN,
    "result": RESULT_COLUMN,
}
_RESULTS = {
    "阴性": TubeResult.NEGATIVE,
    "negative": TubeResult.NEGATIVE,
    "阳性": TubeResult.POSITIVE,
    "positive": TubeResult.POSITIVE,
}
RESULT_LABELS = {TubeResult.NEGATIVE: "阴性", TubeResult.POSITIVE: "阳性"}


class Kind:
    EMPTY = gettext_noop("empty")
    UNKNOWN_TUBE = gettext_noop("unknown tube")
    RESULT = gettext_noop("unknown value")
    DUPLICATE = gettext_noop("duplicate")
    HEADER = gettext_noop("header")
    FILE = gettext_noop("file")


@dataclass
class ResultImportResult:
    dry_run: bool = False
    rows: int = 0
    negative: int = 0
    positive: int = 0
    changed: int = 0  # tubes whose result this file sets or changes
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    # Tube codes found positive (the first ERRORS_KEPT), for the preview and the audit.
    positive_codes: list[str] = field(default_factory=list)

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def errors_not_shown(self) -> int:
        return self.error_count - len(self.errors)


def _column_of(text: str) -> str | None:
    compact = _normalise_header(unicodedata.normalize("NFKC", text.lstrip("\ufeff")))
    return _ALIASES.get(compact)


def import_results(
    source: Path | str | IO[bytes],
    *,
    round: TestingRound,
    filename: str = "",
    actor: Any = None,
    dry_run: bool = False,
) -> ResultImportResult:
    """Validate the whole file and, if every row is right and this is no dry run, set the
    tubes' results. With an actor, the policy decides (MANAGE_TESTING; only tubes inside
    the jurisdiction); without one it is the system (a command without --as)."""
    if isinstance(source, str | Path) and not filename:
        filename = str(source)
    policy = policy_for(actor)
    if actor is not None:
        policy.require(Action.MANAGE_TESTING)
        from .testing import rounds_visible_to

        if not rounds_visible_to(actor).filter(pk=round.pk).exists():
            from frontline.core.errors import NotFound

            raise NotFound(_("Not found."))
    result = ResultImportResult(dry_run=dry_run)
    stream = _open_binary(source)
    try:
        try:
            wanted = _check(stream, filename, result, round, actor)
        except _Stop as exc:
            result.add_error(RowError(None, None, str(exc), _(Kind.FILE)))
            wanted = {}
    finally:
        if isinstance(source, str | Path):
            stream.close()
    if not result.ok:
        result.negative = result.positive = result.changed = 0
        result.positive_codes = []
        return result
    if dry_run:
        return result
    now = timezone.now()
    with transaction.atomic():
        for value in (TubeResult.NEGATIVE, TubeResult.POSITIVE):
            ids = [pk for pk, (_code, res, _old) in wanted.items() if res == value]
            for start in range(0, len(ids), 500):
                Tube.objects.filter(pk__in=ids[start : start + 500]).update(
                    result=value, result_at=now
                )
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT_RESULTS,
            object_type="testing_round",
            object_id=round.pk,
            region=policy.jurisdiction if actor is not None else None,
            detail={
                "file": Path(filename).name[:100],
                "rows": result.rows,
                "negative": result.negative,
                "positive": result.positive,
                "changed": result.changed,
                "positive_tubes": result.positive_codes,
            },
        )
    return result


def _check(
    stream: IO[bytes], filename: str, result: ResultImportResult, round: TestingRound, actor: Any
) -> dict[int, tuple[str, str, str]]:
    """The validating pass, reading only: tube id → (code, new result, old result)."""
    _count, sheets = _read_sheets(stream, filename, Limits.from_settings())
    sheet = next(sheets, None)
    if sheet is None:
        raise _Stop(_("the file is empty"))
    where: dict[str, int] = {}
    header_row = None
    rows = iter(sheet.rows)
    for number, cells in rows:
        if _blank(cells):
            continue
        header_row = number
        for i, cell in enumerate(cells):
            text = _cell_text(cell)
            if not text:
                continue
            column = _column_of(text)
            if column is None:
                continue  # a 序号 or 姓名 column a lab adds: not ours, not an error
            if column in where:
                result.add_error(
                    RowError(number, column, _("column appears twice"), _(Kind.HEADER))
                )
            else:
                where[column] = i
        break
    if header_row is None:
        raise _Stop(_("the file is empty"))
    for column in COLUMNS:
        if column not in where:
            result.add_error(RowError(header_row, column, _("missing column"), _(Kind.HEADER)))
    if not result.ok:
        return {}
    lines: list[tuple[int, str, str]] = []
    for number, cells in rows:
        if _blank(cells):
            continue
        result.rows += 1

        def get(column: str, cells: Any = cells) -> str:
            i = where[column]
            return _cell_text(cells[i]) if i < len(cells) else ""

        code = get(CODE_COLUMN)
        value = get(RESULT_COLUMN)
        good = True
        if not code:
            result.add_error(RowError(number, CODE_COLUMN, _("required"), _(Kind.EMPTY)))
            good = False
        res: str | None = _RESULTS.get(unicodedata.normalize("NFKC", value).strip().lower())
        if not value:
            result.add_error(RowError(number, RESULT_COLUMN, _("required"), _(Kind.EMPTY)))
            good = False
        elif res is None:
            result.add_error(
                RowError(
                    number,
                    RESULT_COLUMN,
                    _("“%(value)s”: write 阴性 or 阳性 (negative or positive)")
                    % {"value": value[:40]},
                    _(Kind.RESULT),
                )
            )
            good = False
        if good and res is not None:
            lines.append((number, code, res))
    if result.rows == 0 and result.ok:
        raise _Stop(_("the sheet has a header but no rows"))
    tubes = Tube.objects.filter(round=round, code__in={code for _n, code, _r in lines})
    if actor is not None:
        tubes = tubes.visible_to(actor)
    known = {code: (pk, old) for pk, code, old in tubes.values_list("pk", "code", "result")}
    wanted: dict[int, tuple[str, str, str]] = {}
    seen: dict[str, int] = {}
    for number, code, value in lines:
        if code in seen:
            result.add_error(
                RowError(
                    number,
                    CODE_COLUMN,
                    _("the same tube as row %(row)d") % {"row": seen[code]},
                    _(Kind.DUPLICATE),
                )
            )
            continue
        seen[code] = number
        if code not in known:
            result.add_error(
                RowError(
                    number,
                    CODE_COLUMN,
                    _("no tube “%(code)s” in this round") % {"code": code[:40]},
                    _(Kind.UNKNOWN_TUBE),
                )
            )
            continue
        pk, old = known[code]
        wanted[pk] = (code, value, old)
        if value == TubeResult.POSITIVE:
            result.positive += 1
            if len(result.positive_codes) < ERRORS_KEPT:
                result.positive_codes.append(code)
        else:
            result.negative += 1
        if value != old:
            result.changed += 1
    return wanted


def check_upload(size: int) -> None:
    if refusal := upload_too_large(size):
        raise DomainError(refusal)
