"""Reading the lapsed-card lists BHXH offices hand out (CSV or XLSX with Vietnamese headers).

Real lists have title rows above the header, headers typed in many ways, phones written with
spaces or +84, and the odd broken row. The reader finds the header row (anywhere in the first
30 rows), matches headers without regard to case, diacritics or punctuation, validates each
row into a ``Card`` and reports the rest by the row number a person sees in Excel.

What counts as a flaw (decided from the sample list's README):
* rejected (not imported): a missing or malformed BHXH code, a missing name or unit code, a
  missing or impossible card date (``31/02/2026``), a real date no card can have (before 1992,
  or more than 10 years ahead such as ``31/12/9999``), a card valid from after it is valid to, a
  unit outside the importer's scope, and a second row with the same BHXH code but different
  data (the first one is kept);
* skipped: an exact repeat of an earlier row (reported, nothing lost);
* kept with a warning: a birth date given as a bare year (common for older people; the year
  is kept), an impossible or implausible birth date (before 1900, in the future; dropped), or a
  phone that is not a Vietnamese number (dropped);
* not a flaw: phones with spaces, dots or +84 (normalised), and a missing phone (common;
  such people are linked through their household's code).

Digits of other scripts (Arabic-Indic ``٠١٢٣``, full-width ``０１２３``, any Unicode decimal
digit) in BHXH codes, card codes, dates and birth years are read as the ASCII digits they
are (``ascii_digits``): a list exported by a tool set to another locale still names the same
codes and days, so it is stored as ASCII and matches the same cards, links and reminders.
Digit-like characters that are not decimal digits (superscripts ``²``, circled ``①``) are not
digits: such a code or date is refused (BAD_CODE, BAD_DATE). Phones keep their stricter rule
(ASCII digits only, else dropped with a warning; ``normalize_phone``).

Dates are read from text, Excel dates, and Excel date serials (a column that lost its date
format). Files are read by content through ``bot.tables``, which bounds the work before doing
it. A file that cannot be read at all raises ``CardFileError`` and nothing is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from bot.domain.cards import Card
from bot.imports.tables import DEFAULT_LIMITS, Row, TableError, TableProblem, excel_serial_day, read_table
from bot.parsing.questions import normalize

__all__ = [
    "CHAT_MAX_ROWS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "CardFileError",
    "Column",
    "FileProblem",
    "ImportCounts",
    "ParsedList",
    "Problem",
    "RowProblem",
    "Severity",
    "merge_card",
    "normalize_phone",
    "parse_card_file",
    "parse_day",
    "restrict_to_scope",
]

#: Largest file accepted (the bot also refuses larger documents before downloading them).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Most data rows read from one file.
MAX_ROWS = 200_000
#: Most data rows of a list sent in a chat: bigger lists go through `bhxh-bot import cards FILE`,
#: so that one upload cannot keep the bot's worker busy for a minute.
CHAT_MAX_ROWS = 20_000
_HEADER_SEARCH_ROWS = 30


class Column(StrEnum):
    HOUSEHOLD = "household_code"
    NAME = "full_name"
    BHXH_CODE = "bhxh_code"
    CARD_CODE = "card_code"
    BIRTH = "birth"
    SEX = "sex"
    PHONE = "phone"
    ADDRESS = "address"
    UNIT = "unit_code"
    VALID_FROM = "valid_from"
    VALID_TO = "valid_to"


REQUIRED = (Column.BHXH_CODE, Column.NAME, Column.UNIT, Column.VALID_TO)

# Header spellings, compared after normalising (lowercase, no diacritics, punctuation -> space,
# anything in brackets dropped).
_ALIASES: dict[Column, tuple[str, ...]] = {
    Column.HOUSEHOLD: ("ma ho gia dinh", "ma ho", "ma hgd", "ma so ho gia dinh", "ma ho gd", "so ho"),
    Column.NAME: ("ho va ten", "ho ten", "ten", "ho ten nguoi tham gia", "ho va ten nguoi tham gia"),
    Column.BHXH_CODE: ("ma so bhxh", "ma bhxh", "so bhxh", "ma so bao hiem xa hoi", "ma so bh", "ma so bhxh bhyt"),
    Column.CARD_CODE: ("ma the bhyt", "ma the", "so the bhyt", "so the"),
    Column.BIRTH: ("ngay sinh", "ngay thang nam sinh", "nam sinh", "ns"),
    Column.SEX: ("gioi tinh", "gt", "phai"),
    Column.PHONE: ("so dien thoai", "dien thoai", "sdt", "so dt", "dt", "dien thoai lien he"),
    Column.ADDRESS: ("dia chi", "noi cu tru", "dia chi thuong tru", "thon ap", "thon", "ap"),
    Column.UNIT: ("ma don vi", "ma xa", "don vi", "ma dv", "ma don vi hanh chinh"),
    Column.VALID_FROM: ("han the tu", "gia tri tu", "tu ngay", "hieu luc tu", "gt tu ngay"),
    Column.VALID_TO: ("han the den", "gia tri den", "den ngay", "hieu luc den", "han the", "gt den ngay", "ngay het han"),
}
_BY_ALIAS = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}


class Severity(StrEnum):
    REJECTED = "rejected"  # the row was not imported
    SKIPPED = "skipped"  # an exact repeat: nothing lost
    WARNING = "warning"  # imported, a field needs a look


class Problem(StrEnum):
    MISSING_CODE = "missing_code"
    BAD_CODE = "bad_code"
    MISSING_NAME = "missing_name"
    MISSING_UNIT = "missing_unit"
    MISSING_DATE = "missing_date"
    BAD_DATE = "bad_date"
    IMPLAUSIBLE_DATE = "implausible_date"  # a real date no card can have (1900, 31/12/9999)
    BAD_PERIOD = "bad_period"
    CONFLICT = "conflict"
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"
    YEAR_ONLY = "year_only"
    BAD_BIRTH = "bad_birth"
    BAD_PHONE = "bad_phone"


_SEVERITY = {
    Problem.DUPLICATE: Severity.SKIPPED,
    Problem.YEAR_ONLY: Severity.WARNING,
    Problem.BAD_BIRTH: Severity.WARNING,
    Problem.BAD_PHONE: Severity.WARNING,
}


@dataclass(frozen=True)
class RowProblem:
    """A flaw of one row; ``row`` is the row number shown by Excel (1 = first line)."""

    row: int
    problem: Problem
    column: Column | None = None
    value: str | None = None  # the offending text, for the report (never logged)
    other_row: int | None = None  # the earlier row of a duplicate or conflict

    @property
    def severity(self) -> Severity:
        return _SEVERITY.get(self.problem, Severity.REJECTED)


class FileProblem(StrEnum):
    TOO_LARGE = "too_large"
    FORMAT = "format"  # not .csv / .xlsx (e.g. old .xls)
    UNREADABLE = "unreadable"
    NO_HEADER = "no_header"
    EMPTY = "empty"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_FOR_CHAT = "too_many_for_chat"  # over a channel's cap (CHAT_MAX_ROWS), fine for the CLI
    TOO_MANY_COLUMNS = "too_many_columns"  # a value beyond the column cap (bot.tables.Limits)
    SHEET_TOO_BIG = "sheet_too_big"  # a sheet declaring or holding far more rows/cells than the cap
    TOO_MANY_STRINGS = "too_many_strings"  # an XLSX with more distinct texts than the rows could need
    UNPACKED_TOO_LARGE = "unpacked_too_large"  # a zip that unpacks far beyond its size (zip bomb)


class CardFileError(Exception):
    """The file as a whole cannot be imported; ``missing`` lists absent required columns,
    ``limit`` the row cap a file went over."""

    def __init__(
        self, problem: FileProblem, detail: str = "", missing: Sequence[Column] = (), limit: int | None = None
    ) -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail
        self.missing = tuple(missing)
        self.limit = limit


@dataclass
class ParsedList:
    """Valid rows (with their row numbers) and the problems found, before any write."""

    rows: list[tuple[int, Card]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    data_rows: int = 0
    header_row: int = 0
    without_phone: int = 0

    @property
    def rejected(self) -> list[RowProblem]:
        return [p for p in self.problems if p.severity is Severity.REJECTED]

    def flawed_rows(self) -> list[int]:
        """Row numbers with any problem, in order (each once)."""
        return sorted({p.row for p in self.problems})

    def reject(self, row: int, problem: RowProblem) -> None:
        """Drop a row found invalid after parsing (e.g. outside the importer's scope)."""
        self.reject_many([problem])

    def reject_many(self, problems: Sequence[RowProblem]) -> None:
        """Drop the rows of these problems in one pass (a list can refuse thousands of rows)."""
        if not problems:
            return
        numbers = {p.row for p in problems}
        dropped = [c for n, c in self.rows if n in numbers]
        self.rows = [(n, c) for n, c in self.rows if n not in numbers]
        self.without_phone -= sum(1 for c in dropped if c.phone is None)
        self.problems.extend(problems)


@dataclass(frozen=True)
class ImportCounts:
    """What an import changed in the database."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    renewed: int = 0  # a later expiry than on file: evidence of a renewal
    older: int = 0  # the file had an earlier expiry than on file: row left as it was
    # BHXH codes left untouched because the card on file belongs to a unit outside the
    # importer's scope (reported like any other out-of-scope row).
    out_of_scope: tuple[str, ...] = ()

    @property
    def written(self) -> int:
        return self.added + self.updated


# --------------------------------------------------------------------------- field parsing

_PHONE_RE = re.compile(r"^0(?:[35789]\d{8}|2\d{9})$", re.ASCII)
_CODE_RE = re.compile(r"^\d{10}$", re.ASCII)
_CARD_CODE_RE = re.compile(r"^[A-Z]{2}\d{13}$", re.ASCII)
_YEAR_RE = re.compile(r"^\d{4}$", re.ASCII)
_ISO_WITH_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d", re.ASCII)


def ascii_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit (category Nd: Arabic-Indic, full-width ...)
    replaced by its ASCII digit, by ``unicodedata.decimal``; everything else unchanged
    (superscripts and circled numbers are not decimal digits and stay, to be refused)."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def normalize_phone(raw: object) -> str | None:
    """'+84 912 037 468', '84912037468', '0912.037.468', 912037468 -> '0912037468'.

    Returns None for an empty cell; raises ValueError when it is not a Vietnamese number.
    """
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    if not text:
        return None
    digits = re.sub(r"[\s.\-()/]", "", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if not (digits.isascii() and digits.isdigit()):  # "①②" or Arabic digits are no phone
        raise ValueError("not a phone number")
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) in (9, 10):
        digits = "0" + digits  # a spreadsheet ate the leading zero
    if not _PHONE_RE.match(digits):
        raise ValueError("not a Vietnamese phone number")
    return digits


_DAY_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d")


_SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$", re.ASCII)


def parse_day(raw: object) -> date | None:
    """A date cell: dd/mm/yyyy text, ISO text, an Excel date, or an Excel date serial (a
    number such as 45291, or its text, left behind when a date column lost its format);
    None when empty.

    Raises ValueError for anything else (31/02/2026, "1985", "abc"). Whether the date is
    plausible is the caller's business (see ``_plausible``).
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return excel_serial_day(raw)
    text = ascii_digits(str(raw).strip())
    if not text:
        return None
    if _SERIAL_TEXT.match(text):
        return excel_serial_day(float(text))
    text = text.split(" ")[0] if _ISO_WITH_TIME_RE.match(text) else text
    for fmt in _DAY_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("not a date")


#: No BHYT card is older than the scheme (1992); none is issued more than this far ahead.
CARD_DATES_FROM = date(1992, 1, 1)
CARD_YEARS_AHEAD = 10
BIRTHS_FROM = date(1900, 1, 1)


def _plausible_card_day(day: date, today: date | None) -> bool:
    if day < CARD_DATES_FROM:
        return False
    if today is not None and day > today + timedelta(days=365 * CARD_YEARS_AHEAD + 3):
        return False
    return True


def _plausible_birth(day: date, today: date | None) -> bool:
    return day >= BIRTHS_FROM and (today is None or day <= today)


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = " ".join(str(raw).split())
    return text or None


def _code(raw: object) -> str | None:
    """A BHXH code cell: text (digits of any script read as ASCII), or a number that lost
    its leading zero."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw).zfill(10)
    text = _text(raw)
    return ascii_digits(text.replace(" ", "")) if text else None


def _sex(raw: object) -> str | None:
    value = normalize(_text(raw) or "")
    if value in ("nam", "m", "male"):
        return "nam"
    if value in ("nu", "f", "female"):
        return "nu"
    return None


class _RowModel(BaseModel):
    """One data row after cell clean-up; validation errors become ``RowProblem``s."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bhxh_code: str
    full_name: str
    unit_code: str
    valid_to: date
    valid_from: date | None = None
    household_code: str | None = None
    card_code: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    sex: str | None = None
    phone: str | None = None
    address: str | None = None

    @field_validator("full_name", "address")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        return value[:200] if value else value

    @model_validator(mode="after")
    def _period(self) -> _RowModel:
        if self.valid_from is not None and self.valid_from > self.valid_to:
            raise ValueError("valid_from after valid_to")
        return self

    def card(self) -> Card:
        return Card(**self.model_dump())


def _row_to_card(
    row: int, cells: dict[Column, object], today: date | None = None
) -> tuple[Card | None, list[RowProblem]]:
    """Validate one row: the card (None when rejected) and its problems.

    A card date that is real but impossible for a card (before 1992, or more than
    ``CARD_YEARS_AHEAD`` years after ``today``, such as 31/12/9999) rejects the row with its
    own reason: accepting it silently would keep a person out of every reminder forever.
    """
    problems: list[RowProblem] = []
    values: dict[str, Any] = {}

    code = _code(cells.get(Column.BHXH_CODE))
    if not code:
        problems.append(RowProblem(row, Problem.MISSING_CODE, Column.BHXH_CODE))
    elif not _CODE_RE.match(code):
        problems.append(RowProblem(row, Problem.BAD_CODE, Column.BHXH_CODE, code[:20]))
    values["bhxh_code"] = code

    name = _text(cells.get(Column.NAME))
    if not name:
        problems.append(RowProblem(row, Problem.MISSING_NAME, Column.NAME))
    values["full_name"] = name

    unit = _text(cells.get(Column.UNIT))
    if not unit:
        problems.append(RowProblem(row, Problem.MISSING_UNIT, Column.UNIT))
    values["unit_code"] = unit.upper().replace(" ", "") if unit else None

    for column in (Column.VALID_TO, Column.VALID_FROM):
        raw = cells.get(column)
        try:
            day = parse_day(raw)
        except ValueError:
            problems.append(RowProblem(row, Problem.BAD_DATE, column, _text(raw)))
            continue
        if day is None and column is Column.VALID_TO:
            problems.append(RowProblem(row, Problem.MISSING_DATE, column))
        elif day is not None and not _plausible_card_day(day, today):
            problems.append(RowProblem(row, Problem.IMPLAUSIBLE_DATE, column, day.strftime("%d/%m/%Y")))
            continue
        values[column.value] = day

    raw_birth = cells.get(Column.BIRTH)
    birth_text = _text(raw_birth)
    birth_text = ascii_digits(birth_text) if birth_text else birth_text
    if birth_text and _YEAR_RE.match(birth_text):
        year = int(birth_text)
        if BIRTHS_FROM.year <= year and (today is None or year <= today.year):
            values["birth_year"] = int(birth_text)
            problems.append(RowProblem(row, Problem.YEAR_ONLY, Column.BIRTH, birth_text))
        else:
            problems.append(RowProblem(row, Problem.BAD_BIRTH, Column.BIRTH, birth_text))
    else:
        try:
            birth = parse_day(raw_birth)
        except ValueError:
            problems.append(RowProblem(row, Problem.BAD_BIRTH, Column.BIRTH, birth_text))
        else:
            if birth is not None and not _plausible_birth(birth, today):
                problems.append(RowProblem(row, Problem.BAD_BIRTH, Column.BIRTH, birth.strftime("%d/%m/%Y")))
            else:
                values["birth_date"] = birth

    raw_phone = cells.get(Column.PHONE)
    try:
        values["phone"] = normalize_phone(raw_phone)
    except ValueError:
        problems.append(RowProblem(row, Problem.BAD_PHONE, Column.PHONE, _text(raw_phone)))

    card_code = _code(cells.get(Column.CARD_CODE))
    values["card_code"] = card_code.upper() if card_code and _CARD_CODE_RE.match(card_code.upper()) else None
    values["household_code"] = _text(cells.get(Column.HOUSEHOLD))
    values["sex"] = _sex(cells.get(Column.SEX))
    values["address"] = _text(cells.get(Column.ADDRESS))

    if any(p.severity is Severity.REJECTED for p in problems):
        return None, problems
    try:
        card = _RowModel.model_validate(values).card()
    except ValidationError:
        period = RowProblem(row, Problem.BAD_PERIOD, Column.VALID_FROM)
        return None, [*problems, period]
    return card, problems


# --------------------------------------------------------------------------- files


def _header_key(cell: object) -> str:
    text = normalize(_text(cell) or "")
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _match_header(cells: Sequence[object]) -> dict[Column, int]:
    found: dict[Column, int] = {}
    for index, cell in enumerate(cells):
        column = _BY_ALIAS.get(_header_key(cell))
        if column is not None and column not in found:
            found[column] = index
    return found


_TABLE_PROBLEMS = {
    TableProblem.TOO_LARGE: FileProblem.TOO_LARGE,
    TableProblem.FORMAT: FileProblem.FORMAT,
    TableProblem.OLD_EXCEL: FileProblem.FORMAT,
    TableProblem.UNREADABLE: FileProblem.UNREADABLE,
    TableProblem.EMPTY: FileProblem.EMPTY,
    TableProblem.TOO_MANY_COLUMNS: FileProblem.TOO_MANY_COLUMNS,
    TableProblem.SHEET_TOO_BIG: FileProblem.SHEET_TOO_BIG,
    TableProblem.TOO_MANY_STRINGS: FileProblem.TOO_MANY_STRINGS,
    TableProblem.UNPACKED_TOO_LARGE: FileProblem.UNPACKED_TOO_LARGE,
}


def _over_rows(max_rows: int) -> CardFileError:
    kind = FileProblem.TOO_MANY_ROWS if max_rows >= MAX_ROWS else FileProblem.TOO_MANY_FOR_CHAT
    return CardFileError(kind, str(max_rows), limit=max_rows)


def _file_error(exc: TableError, max_rows: int) -> CardFileError:
    if exc.problem is TableProblem.TOO_MANY_ROWS:
        return _over_rows(max_rows)
    limit = max_rows if exc.problem is TableProblem.SHEET_TOO_BIG else exc.limit
    return CardFileError(_TABLE_PROBLEMS[exc.problem], exc.detail, limit=limit)


def _has_header(head: list[Row]) -> bool:
    return any(len(_match_header(cells)) >= 3 for _, cells in head)


def _file_rows(data: bytes, filename: str, max_rows: int) -> Iterator[Row]:
    """Rows of the list by content (an XLSX whatever its name, text in any usual encoding),
    bounded by ``bot.tables``; TableError becomes CardFileError."""
    limits = DEFAULT_LIMITS.with_rows(max_rows)
    try:
        rows = read_table(data, limits, filename=filename, choose=_has_header, head_rows=_HEADER_SEARCH_ROWS)
        yield from rows
    except TableError as exc:
        raise _file_error(exc, max_rows) from None


def parse_card_file(
    data: bytes, filename: str, max_rows: int = MAX_ROWS, today: date | None = None
) -> ParsedList:
    """Read a list into valid cards and row problems; raises CardFileError for the file.

    Pure and CPU-bound (a big XLSX takes seconds): async callers run it in a worker thread.
    The work is bounded before it is done (``bot.tables``: declared sheet size, shared
    strings, unpacked size, rows and columns). ``max_rows`` below ``MAX_ROWS`` is a channel's
    cap (``CHAT_MAX_ROWS``); reading stops at the first row over it. ``today`` enables the
    check that an expiry is not absurdly far in the future (31/12/9999).
    """
    max_rows = min(max_rows, MAX_ROWS)
    if len(data) > MAX_FILE_BYTES:
        raise CardFileError(FileProblem.TOO_LARGE, str(len(data)))
    if not data.strip():
        raise CardFileError(FileProblem.EMPTY)
    rows = _file_rows(data, filename, max_rows)
    header_row, columns = _find_header(rows)
    parsed = ParsedList(header_row=header_row)
    seen: dict[str, tuple[int, Card]] = {}
    for number, cells in rows:
        if _blank(cells):
            continue
        parsed.data_rows += 1
        if parsed.data_rows > max_rows:
            raise _over_rows(max_rows)
        by_column = {c: cells[i] if i < len(cells) else None for c, i in columns.items()}
        card, problems = _row_to_card(number, by_column, today)
        if card is not None and card.bhxh_code in seen:
            first_row, first = seen[card.bhxh_code]
            kind = Problem.DUPLICATE if first == card else Problem.CONFLICT
            parsed.problems.append(RowProblem(number, kind, Column.BHXH_CODE, other_row=first_row))
            continue
        parsed.problems.extend(problems)
        if card is not None:
            seen[card.bhxh_code] = (number, card)
            parsed.rows.append((number, card))
            if card.phone is None:
                parsed.without_phone += 1
    if parsed.data_rows == 0:
        raise CardFileError(FileProblem.EMPTY)
    return parsed


def restrict_to_scope(parsed: ParsedList, scope_codes: Iterable[str]) -> ParsedList:
    """Refuse the rows whose unit is outside ``scope_codes`` (pure; part of the parsing step).

    The problem names no unit: the report must read the same whether a row names another unit
    or carries the code of a person already on file in another unit (see CardService).
    """
    allowed = set(scope_codes)
    parsed.reject_many(
        [RowProblem(n, Problem.OUT_OF_SCOPE, Column.UNIT) for n, card in parsed.rows if card.unit_code not in allowed]
    )
    return parsed


def _find_header(rows: Iterator[Row]) -> tuple[int, dict[Column, int]]:
    """The header row among rows numbered up to ``_HEADER_SEARCH_ROWS``; ``rows`` is left
    just after it."""
    best: dict[Column, int] = {}
    for number, cells in rows:
        if number > _HEADER_SEARCH_ROWS:
            break
        found = _match_header(cells)
        if len(found) >= 3:
            missing = [c for c in REQUIRED if c not in found]
            if missing:
                raise CardFileError(FileProblem.NO_HEADER, f"row {number}", missing)
            return number, found
        if len(found) > len(best):
            best = found
        if number >= _HEADER_SEARCH_ROWS:
            break
    raise CardFileError(FileProblem.NO_HEADER, "", [c for c in REQUIRED if c not in best])


def _blank(cells: Iterable[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# --------------------------------------------------------------------------- upsert rule


class Change(StrEnum):
    ADD = "add"
    UPDATE = "update"
    RENEW = "renew"  # an update whose expiry is later than on file
    SAME = "same"
    OLDER = "older"  # the file is older than what is on file: keep ours


def merge_card(old: Card | None, new: Card) -> Change:
    """How an imported row changes the stored card (upsert by BHXH code).

    An expiry never moves back: a list older than the one on file must not make a renewed
    card look lapsed again and restart its reminders.
    """
    if old is None:
        return Change.ADD
    if new.valid_to < old.valid_to:
        return Change.OLDER
    if new == old:
        return Change.SAME
    if new.valid_to > old.valid_to:
        return Change.RENEW
    return Change.UPDATE
