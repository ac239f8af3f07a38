"""Cell values that a spreadsheet can never run as formulas (CSV/formula injection).

Names, addresses and unit names come from imported lists and chats. openpyxl stores any string
that starts with ``=`` as a formula, and Excel or LibreOffice treat text starting with ``+``,
``-``, ``@`` (or a tab / carriage return) as one as soon as someone edits or re-saves the cell
as CSV. ``safe_cell_value`` wraps such text so that openpyxl writes it as a text cell (an inline
string), keeping every character: the workbook shows exactly what the list said.
Control characters that XML cannot hold (openpyxl refuses them with IllegalCharacterError) are
dropped, so one odd byte in a list cannot break a whole workbook.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypeVar, overload

if TYPE_CHECKING:
    from openpyxl.cell.rich_text import CellRichText

__all__ = ["FORMULA_PREFIXES", "CellValue", "safe_cell_value"]

#: What the reports write into a cell (datetime is a date, bool an int).
CellValue: TypeAlias = str | int | float | Decimal | date | time | timedelta | None
_V = TypeVar("_V")

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The characters openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE refuses.
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")


@overload
def safe_cell_value(value: str) -> str | CellRichText: ...
@overload
def safe_cell_value(value: _V) -> _V | CellRichText: ...
def safe_cell_value(value: object) -> object:
    """``value`` ready for ``sheet.append`` or ``cell.value``: risky text becomes a text cell.

    Anything that is not a ``str`` (numbers, dates, None) is returned unchanged, and so is text
    that does not start with a formula character (less any control character XML cannot hold).
    Risky text comes back as an openpyxl ``CellRichText`` holding the same characters; openpyxl
    reads it back as the plain string. Works with normal and write-only workbooks.
    """
    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("", value)
    if not value.startswith(FORMULA_PREFIXES):
        return value
    from openpyxl.cell.rich_text import CellRichText  # only when a risky text shows up

    return CellRichText(value)
