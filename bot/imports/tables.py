"""Reading tables (CSV/TSV text or XLSX) with the work bounded *before* it is done.

Shared by every importer (lapsed-card lists, unit trees, targets, team rosters). The file cap
alone did not bound the work: a 2 KiB XLSX can declare a sheet up to column XFD and row
120.000, a 324 KiB one can hold millions of shared strings, a zip can unpack to gigabytes, and
openpyxl's read-only mode walks every row up to the last one numbered (1.048.576 of them).
So this module

* inspects an XLSX's zip first: number of entries, uncompressed size of every part and of the
  whole, compression ratio, the sheet's declared ``<dimension ref>`` (rows, columns, cells) and
  the shared strings' declared count, and refuses before parsing anything big;
* then streams the parts itself with expat (no DTDs, no entities), counting rows, cells and
  shared strings as it goes, and yields only rows that carry values, with their own row
  numbers: a lone row numbered 1.048.576 costs one row, not a million;
* reads text files in UTF-8 (with or without BOM), UTF-16/32 with a BOM (Excel's "Unicode
  text"), UTF-16 without one, or Windows-1258 (Vietnamese ANSI), sniffs the separator (comma,
  semicolon, tab) and caps rows and columns;
* normalises every text cell to NFC, so a list typed with decomposed tone marks (Windows-1258
  writes "ệ" as "ê" + a combining dot) compares equal to the same list in UTF-8.

Refusals raise ``TableError`` carrying a ``TableProblem`` and the limit that was exceeded;
callers turn them into their own Vietnamese replies. Everything here is pure and CPU-bound:
async callers run it in a worker thread.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NoReturn
from xml.parsers import expat

__all__ = [
    "DEFAULT_LIMITS",
    "Format",
    "Limits",
    "Percent",
    "Row",
    "TableError",
    "TableProblem",
    "decode_text",
    "Float1904",
    "Int1904",
    "excel_serial_day",
    "read_table",
    "sniff_format",
]

Row = tuple[int, list[object]]  # (row number as a spreadsheet shows it, cell values)

_MB = 1024 * 1024


class TableProblem(StrEnum):
    TOO_LARGE = "too_large"  # the file itself is over the byte cap
    FORMAT = "format"  # not a table at all (old .xls, PDF, picture, another zip)
    OLD_EXCEL = "old_excel"  # .xls (OLE2): not readable, save as .xlsx
    UNREADABLE = "unreadable"  # a table format, but broken
    EMPTY = "empty"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_COLUMNS = "too_many_columns"
    SHEET_TOO_BIG = "sheet_too_big"  # declared range or cell count far beyond the data cap
    TOO_MANY_STRINGS = "too_many_strings"  # shared strings over the cap
    UNPACKED_TOO_LARGE = "unpacked_too_large"  # zip bomb: unpacked size, ratio or entries


class TableError(Exception):
    """The file cannot be read within the limits; ``limit`` is the bound that was exceeded
    (rows, columns, cells, strings or bytes, depending on ``problem``)."""

    def __init__(self, problem: TableProblem, detail: str = "", limit: int | None = None) -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail
        self.limit = limit


@dataclass(frozen=True)
class Limits:
    """Bounds of one read. ``max_rows`` is the number of data rows the caller accepts; the
    reader allows ``row_slack`` more (title rows, header, the row that tells the caller it is
    over its own cap) and refuses beyond that."""

    max_bytes: int = 10 * _MB
    max_rows: int = 200_000
    row_slack: int = 1_000
    max_columns: int = 256
    cells_per_row: int = 40  # average cell elements allowed per row, for the cell budget
    max_cells: int = 5_000_000
    max_shared_strings: int = 1_000_000
    strings_per_row: int = 12
    max_unpacked: int = 160 * _MB
    max_entries: int = 1_000
    max_ratio: int = 150  # uncompressed / compressed, checked for parts over 2 MB
    max_cell_chars: int = 32_767  # Excel's own cap on a cell
    max_sheets: int = 20  # sheets examined when looking for the table

    @property
    def row_budget(self) -> int:
        return self.max_rows + self.row_slack

    @property
    def cell_budget(self) -> int:
        """Cell (and row) elements the sheet may contain."""
        return min(self.max_cells, max(100_000, self.row_budget * self.cells_per_row))

    @property
    def string_budget(self) -> int:
        return min(self.max_shared_strings, max(50_000, self.row_budget * self.strings_per_row))

    @property
    def unpacked_budget(self) -> int:
        """Unpacked bytes: what the cells could need (about 100 bytes of XML per cell), plus room."""
        return min(self.max_unpacked, 16 * _MB + self.cell_budget * 100)

    def with_rows(self, max_rows: int) -> Limits:
        """The same limits for a channel that accepts at most ``max_rows`` data rows."""
        return replace(self, max_rows=max_rows)


DEFAULT_LIMITS = Limits()


class Percent(float):
    """A number shown with a percent format in Excel (0,95 shown as 95%)."""

    __slots__ = ()


class Format(StrEnum):
    XLSX = "xlsx"
    OLD_EXCEL = "xls"
    TEXT = "text"
    OTHER = "other"


# --------------------------------------------------------------------------- format sniffing

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b",
    b"RIFF", b"OggS", b"\x00\x00\x00", b"{\\rtf",
)
_NOT_TABLE_EXT = (
    ".pdf", ".doc", ".docx", ".odt", ".jpg", ".jpeg", ".png", ".gif", ".heic", ".webp", ".zip",
    ".rar", ".7z", ".mp3", ".mp4", ".ogg", ".pptx", ".ppt", ".rtf", ".apk", ".exe",
)


def sniff_format(data: bytes, filename: str = "") -> Format:
    """What the bytes are, whatever the file is called: an XLSX is a zip holding
    ``xl/workbook.xml``; ``.xls`` is an OLE2 file; text is anything that decodes as text;
    known binary signatures (PDF, pictures, archives) and non-table extensions are OTHER."""
    name = filename.lower().strip()
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist()[:5_000])
        except (zipfile.BadZipFile, ValueError, OSError):
            return Format.XLSX if name.endswith((".xlsx", ".xlsm")) else Format.OTHER
        if "xl/workbook.xml" in names or any(n.lower() == "xl/workbook.xml" for n in names):
            return Format.XLSX
        return Format.OTHER
    if data[:8] == _OLE2:
        return Format.OLD_EXCEL
    if data.startswith(_BINARY_MAGIC) and not data.startswith((codecs.BOM_UTF32_BE,)):
        return Format.OTHER
    if name.endswith(_NOT_TABLE_EXT):
        return Format.OTHER
    try:
        decode_text(data[: 64 * 1024], partial=True)
    except TableError as exc:
        # Text with a few undecodable bytes is still a text table: reading it says why not.
        return Format.TEXT if exc.problem is TableProblem.UNREADABLE else Format.OTHER
    return Format.TEXT


# --------------------------------------------------------------------------- text


def _guess_utf16(head: bytes) -> str | None:
    """UTF-16 without a BOM: text of ASCII-range letters has a zero in every other byte."""
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _control_share(text: str) -> float:
    sample = text[:65_536]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n\f\v") or 0x7F <= ord(ch) < 0xA0)
    return bad / len(sample)


def decode_text(data: bytes, partial: bool = False) -> str:
    """Bytes of a text table as NFC text: BOM first (UTF-8, UTF-16 LE/BE, UTF-32), then
    UTF-16 without a BOM, then strict UTF-8, then Windows-1258 (what Vietnamese Windows
    writes as "ANSI"). ``partial``: ``data`` may be cut mid-character (a sample).

    Raises TableError(FORMAT) for binary data.
    """
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    errors = "ignore" if partial else "strict"
    text: str | None = None
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding, errors)
            except UnicodeDecodeError:
                raise TableError(TableProblem.UNREADABLE, f"bad {encoding}") from None
            break
    if text is None:
        utf16 = _guess_utf16(data)
        candidates = ([utf16] if utf16 else []) + ["utf-8", "cp1258"]
        for encoding in candidates:
            if encoding == "cp1258" and _mostly_utf8_text(data):
                # UTF-8 but for a few bad bytes: Windows-1258 would "read" it as mojibake and
                # store garbled names, so it is refused as unreadable instead.
                raise TableError(TableProblem.UNREADABLE, "UTF-8 with undecodable bytes")
            try:
                if partial and encoding == "utf-8":
                    text = codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=False)
                else:
                    text = data.decode(encoding, "strict")
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise TableError(TableProblem.FORMAT, "not text")
    if "\x00" in text or _control_share(text) > 0.01:
        raise TableError(TableProblem.FORMAT, "binary data")
    return unicodedata.normalize("NFC", text)


def _mostly_utf8_text(data: bytes) -> bool:
    """UTF-8 text (with letters beyond ASCII) but for a few bad bytes, at most 1 in 1.000
    characters? Windows-1258 text decoded as UTF-8 gives a bad byte for nearly every accent."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return 0 < bad <= max(1, len(text) // 1000) and good >= 10 * bad and _control_share(text) <= 0.01


def _sniff_dialect(sample: str) -> Any:
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    try:
        dialect: Any = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
        if dialect.delimiter in ",;\t":
            return dialect
    except csv.Error:
        pass
    # Title rows confuse the sniffer: take the separator most lines use the most.
    dialect = csv.excel()
    dialect.delimiter = max(",;\t", key=lambda d: sum(1 for line in lines if line.count(d) >= 2) * 1_000_000
                            + sample.count(d))
    return dialect


def _rows_of_text(data: bytes, limits: Limits) -> Iterator[Row]:
    if len(data) > limits.max_bytes:
        raise TableError(TableProblem.TOO_LARGE, str(len(data)), limits.max_bytes)
    text = decode_text(data)
    dialect = _sniff_dialect(text[:16_384])
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    number, records = 0, 0
    line = 1  # a record's number is the line it starts on (quoted cells may span lines)
    try:
        for record in reader:
            number, line = line, reader.line_num + 1
            records += 1
            if records > limits.row_budget:
                raise TableError(TableProblem.TOO_MANY_ROWS, str(number), limits.max_rows)
            while record and not record[-1].strip():
                record.pop()
            if len(record) > limits.max_columns:
                raise TableError(TableProblem.TOO_MANY_COLUMNS, f"row {number}", limits.max_columns)
            yield number, [cell[: limits.max_cell_chars] for cell in record]
    except csv.Error as exc:
        raise TableError(TableProblem.UNREADABLE, f"CSV line {line}: {exc}") from None


# --------------------------------------------------------------------------- dates


class Int1904(int):
    """An int read from a workbook whose dates count from 1904 (Excel for Mac's old system)."""

    date1904 = True


class Float1904(float):
    """A float read from a workbook whose dates count from 1904."""

    date1904 = True


def excel_serial_day(serial: float, date1904: bool = False) -> date:
    """An Excel date serial as a day (the fraction, a time of day, is dropped).

    A number read from a 1904-based workbook (``Int1904``/``Float1904``) counts from 1904
    whatever ``date1904`` says, so callers that only see the cell value get it right.

    1900 system: serial 1 is 1900-01-01; Excel counts a 29 February 1900 that never was
    (serial 60), so serials from 61 on are one day later than a plain count. Raises ValueError
    for serial 60, anything below 1, and anything past 9999-12-31.
    """
    if isinstance(serial, bool) or not math.isfinite(serial):
        raise ValueError("not a date serial")
    whole = int(serial)
    if date1904 or getattr(serial, "date1904", False):
        if whole < 0:
            raise ValueError("not a date serial")
        base, offset = date(1904, 1, 1), whole
    else:
        if whole < 1 or whole == 60:
            raise ValueError("not a date serial")
        base, offset = (date(1899, 12, 31), whole) if whole < 60 else (date(1899, 12, 30), whole)
    try:
        return base + timedelta(days=offset)
    except OverflowError:
        raise ValueError("not a date serial") from None


# --------------------------------------------------------------------------- XLSX

_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_DATE_BUILTINS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
                            45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58})
_PERCENT_BUILTINS = frozenset({9, 10})
_CHUNK = 64 * 1024


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return index


def _ref(ref: str) -> tuple[int, int] | None:
    """'AB12' -> (row 12, column 28)."""
    match = _CELL_REF.match(ref.strip())
    if not match:
        return None
    return int(match.group(2)), _column_index(match.group(1))


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1].rsplit("}", 1)[-1]


def _no_dtd(*_: object) -> NoReturn:
    raise TableError(TableProblem.UNREADABLE, "DTD or entity in a workbook part")


def _parser() -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.ExternalEntityRefHandler = _no_dtd
    return parser


class _Workbook:
    """The parts of an XLSX zip, checked against the limits before anything is parsed."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise TableError(TableProblem.UNREADABLE, f"zip: {type(exc).__name__}") from None
        if len(infos) > limits.max_entries:
            raise TableError(TableProblem.UNPACKED_TOO_LARGE, f"{len(infos)} entries", limits.max_entries)
        total = sum(i.file_size for i in infos)
        if total > limits.unpacked_budget:
            raise TableError(TableProblem.UNPACKED_TOO_LARGE, f"{total} bytes unpacked", limits.unpacked_budget)
        for info in infos:
            if info.file_size > 2 * _MB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise TableError(TableProblem.UNPACKED_TOO_LARGE, f"ratio of {info.filename}", limits.max_ratio)
        self.infos = {i.filename.lstrip("/"): i for i in infos}
        self.lower = {name.lower(): name for name in self.infos}
        if "xl/workbook.xml" not in self.lower:
            raise TableError(TableProblem.FORMAT, "zip without xl/workbook.xml")
        self.date1904 = False
        self.sheets: list[str] = []  # part names, in workbook order
        self._read_workbook()
        self.strings: list[str] = []
        self.date_styles: frozenset[int] = frozenset()
        self.percent_styles: frozenset[int] = frozenset()

    # -- parts

    def _name(self, name: str) -> str | None:
        return self.lower.get(name.lstrip("/").lower())

    def _parse(self, name: str, start: Callable[..., None], end: Callable[[str], None] | None = None,
               chars: Callable[[str], None] | None = None) -> None:
        """Stream one part through expat; a handler may raise TableError to stop."""
        real = self._name(name)
        if real is None:
            raise TableError(TableProblem.UNREADABLE, f"missing part {name}")
        parser = _parser()
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if chars is not None:
            parser.CharacterDataHandler = chars
        try:
            with self.zip.open(self.infos[real]) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    parser.Parse(chunk, not chunk)
                    if not chunk:
                        break
        except TableError:
            raise
        except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
            raise TableError(TableProblem.UNREADABLE, f"{name}: {type(exc).__name__}") from None

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part name) of a part."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        found: dict[str, tuple[str, str]] = {}
        if self._name(rels_name) is None:
            return found

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) == "Relationship" and len(found) < 10_000:
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

        self._parse(rels_name, start)
        return found

    def _read_workbook(self) -> None:
        workbook = self.lower["xl/workbook.xml"]
        rels = self._rels(workbook)
        order: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "workbookPr":
                self.date1904 = attrs.get("date1904", "0").lower() in ("1", "true")
            elif local == "sheet" and len(order) < self.limits.max_sheets:
                rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                kind, target = rels.get(rid, ("", ""))
                if kind.endswith("/worksheet") and self._name(target):
                    order.append(target)

        self._parse(workbook, start)
        self.sheets = order
        self._rels_of_workbook = rels
        if not self.sheets:
            raise TableError(TableProblem.EMPTY, "no worksheet")

    def load_styles_and_strings(self) -> None:
        rels = self._rels_of_workbook.values()
        strings = next((t for k, t in rels if k.endswith("/sharedStrings")), "xl/sharedStrings.xml")
        styles = next((t for k, t in rels if k.endswith("/styles")), "xl/styles.xml")
        if self._name(styles):
            self._read_styles(styles)
        if self._name(strings):
            self._read_strings(strings)

    def _read_styles(self, part: str) -> None:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        custom: dict[int, str] = {}
        xfs: list[int] = []
        depth = {"cellXfs": False}

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "numFmt" and len(custom) < 10_000:
                try:
                    custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")[:256]
                except ValueError:
                    pass
            elif local == "cellXfs":
                depth["cellXfs"] = True
            elif local == "xf" and depth["cellXfs"]:
                if len(xfs) >= 100_000:
                    raise TableError(TableProblem.UNREADABLE, "too many styles")
                try:
                    xfs.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)

        def end(name: str) -> None:
            if _local(name) == "cellXfs":
                depth["cellXfs"] = False

        self._parse(part, start, end)
        dates, percents = set(), set()
        for index, fmt_id in enumerate(xfs):
            code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "")
            if fmt_id in _DATE_BUILTINS or (fmt_id in custom and is_date_format(code)):
                dates.add(index)
            elif fmt_id in _PERCENT_BUILTINS or "%" in code:
                percents.add(index)
        self.date_styles, self.percent_styles = frozenset(dates), frozenset(percents)

    def _read_strings(self, part: str) -> None:
        budget = self.limits.string_budget
        strings = self.strings
        state = {"in_t": False, "skip": 0}
        pieces: list[str] = []
        size = {"chars": 0}
        cap = self.limits.max_cell_chars

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "sst":
                for key in ("uniqueCount", "count"):
                    try:
                        declared = int(attrs.get(key, "0"))
                    except ValueError:
                        continue
                    if key == "uniqueCount" and declared > budget:
                        raise TableError(TableProblem.TOO_MANY_STRINGS, f"{declared} declared", budget)
            elif local == "si":
                pieces.clear()
                size["chars"] = 0
            elif local in ("rPh", "phoneticPr"):
                state["skip"] += 1
            elif local == "t" and not state["skip"]:
                state["in_t"] = True

        def chars(text: str) -> None:
            if state["in_t"] and size["chars"] < cap:
                pieces.append(text)
                size["chars"] += len(text)

        def end(name: str) -> None:
            local = _local(name)
            if local == "t":
                state["in_t"] = False
            elif local in ("rPh", "phoneticPr"):
                state["skip"] -= 1
            elif local == "si":
                if len(strings) >= budget:
                    raise TableError(TableProblem.TOO_MANY_STRINGS, "over budget", budget)
                strings.append(unicodedata.normalize("NFC", "".join(pieces)[:cap]))

        self._parse(part, start, end, chars)

    # -- sheets

    def check_dimension(self, part: str) -> None:
        """Refuse a sheet whose declared range is far beyond what the caller accepts."""
        limits = self.limits
        info = self.infos[self._name(part) or part]
        with self.zip.open(info) as stream:
            head = stream.read(_CHUNK).decode("utf-8", "ignore")
        match = re.search(r"<(?:\w+:)?dimension\b[^>]*\bref=\"([^\"]+)\"", head)
        if not match:
            return
        last = match.group(1).split(":")[-1]
        corner = _ref(last)
        if corner is None:
            return
        rows, columns = corner
        first = _ref(match.group(1).split(":")[0]) or (1, 1)
        span_rows, span_cols = rows - first[0] + 1, columns - first[1] + 1
        if rows > limits.row_budget:
            raise TableError(TableProblem.SHEET_TOO_BIG, f"declared {last}", limits.max_rows)
        if columns > limits.max_columns:
            raise TableError(TableProblem.TOO_MANY_COLUMNS, f"declared {last}", limits.max_columns)
        if span_rows * span_cols > limits.cell_budget:
            raise TableError(TableProblem.SHEET_TOO_BIG, f"declared {match.group(1)}", limits.max_rows)

    def rows(self, part: str, stop_after_row: int | None = None) -> Iterator[Row]:
        """Rows with at least one value, in file order, with their own numbers.

        Budgets (refused beyond): cell elements, row elements (with or without values), a
        value's row number, a value's column.
        ``stop_after_row``: stop (quietly) at the first row numbered above it.
        """
        limits = self.limits
        strings, date_styles, percent_styles = self.strings, self.date_styles, self.percent_styles
        date1904 = self.date1904
        budget = limits.cell_budget
        cap = limits.max_cell_chars
        done: list[Row] = []
        st: dict[str, Any] = {
            "row": 0, "col": 0, "cells": {}, "type": "n", "style": 0, "text": [], "in_v": False,
            "in_is": False, "in_t": False, "elements": 0, "row_elements": 0, "ref": None, "rph": False,
        }

        class _Stop(Exception):
            pass

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "c":
                st["elements"] += 1
                if st["elements"] > budget:
                    raise TableError(TableProblem.SHEET_TOO_BIG, "cell elements", limits.max_rows)
                st["ref"] = attrs.get("r")  # parsed only when the cell has a value
                st["col"] += 1
                st["type"] = attrs.get("t", "n")
                st["style"] = attrs.get("s")
                st["text"] = []
            elif local == "row":
                st["elements"] += 1
                st["row_elements"] += 1
                if st["elements"] > budget or st["row_elements"] > limits.row_budget:
                    raise TableError(TableProblem.SHEET_TOO_BIG, "row elements", limits.max_rows)
                try:
                    number = int(attrs["r"]) if "r" in attrs else st["row"] + 1
                except ValueError:
                    number = st["row"] + 1
                if stop_after_row is not None and number > stop_after_row:
                    raise _Stop
                st["row"], st["col"], st["cells"] = number, 0, {}
            elif local == "v":
                st["in_v"] = True
            elif local == "is":
                st["in_is"] = True
            elif local == "t" and st["in_is"] and not st["rph"]:
                st["in_t"] = True
            elif local == "rPh":  # phonetic guide (East Asian): not part of the value
                st["rph"] = True

        def chars(text: str) -> None:
            if (st["in_v"] or st["in_t"]) and sum(map(len, st["text"])) < cap:
                st["text"].append(text)

        def end(name: str) -> None:
            local = _local(name)
            if local == "v":
                st["in_v"] = False
            elif local == "t":
                st["in_t"] = False
            elif local == "is":
                st["in_is"] = False
            elif local == "rPh":
                st["rph"] = False
            elif local == "c":
                if not st["text"]:
                    return  # a formatted empty cell: nothing to convert
                if st["ref"]:
                    ref = _ref(st["ref"])
                    if ref is not None:
                        st["col"] = ref[1]
                if st["col"] > limits.max_columns:
                    raise TableError(TableProblem.TOO_MANY_COLUMNS, f"column {st['col']}", limits.max_columns)
                try:
                    style = int(st["style"]) if st["style"] else 0
                except ValueError:
                    style = 0
                value = _cell_value(
                    "".join(st["text"])[:cap], st["type"], style, strings, date_styles, percent_styles, date1904
                )
                if value is not None and value != "":
                    st["cells"][st["col"]] = value
            elif local == "row":
                cells = st["cells"]
                if cells:
                    if st["row"] > limits.row_budget:
                        raise TableError(TableProblem.SHEET_TOO_BIG, f"row {st['row']}", limits.max_rows)
                    values: list[object] = [None] * max(cells)
                    for column, value in cells.items():
                        values[column - 1] = value
                    done.append((st["row"], values))

        real = self._name(part)
        if real is None:
            raise TableError(TableProblem.UNREADABLE, f"missing part {part}")
        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = chars
        try:
            with self.zip.open(self.infos[real]) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    try:
                        parser.Parse(chunk, not chunk)
                    except _Stop:
                        yield from done
                        return
                    yield from done
                    done.clear()
                    if not chunk:
                        break
        except TableError:
            raise
        except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
            raise TableError(TableProblem.UNREADABLE, f"{part}: {type(exc).__name__}") from None


def _cell_value(
    text: str,
    kind: str,
    style: int,
    strings: list[str],
    date_styles: frozenset[int],
    percent_styles: frozenset[int],
    date1904: bool,
) -> object:
    """One cell's value as openpyxl (data only) would give it: str, int, float, bool,
    datetime for date-formatted numbers, Percent for percent-formatted ones."""
    if kind == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            return None
    if kind in ("inlineStr", "str"):
        return unicodedata.normalize("NFC", text)
    if kind == "e":
        return text or None
    if kind == "b":
        return text.strip() in ("1", "true")
    if kind == "d":
        try:
            return datetime.fromisoformat(text.strip())
        except ValueError:
            return text or None
    text = text.strip()
    if not text:
        return None
    try:
        number: int | float = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return unicodedata.normalize("NFC", text)
        if not math.isfinite(number):
            return text
        if number.is_integer() and abs(number) < 2**53:
            number = int(number)
    if style in date_styles:
        try:
            day = excel_serial_day(number, date1904)
        except ValueError:
            return number
        fraction = number - math.floor(number)
        return datetime(day.year, day.month, day.day) + timedelta(seconds=round(fraction * 86_400))
    if style in percent_styles:
        return Percent(number)
    if date1904:
        # A plain number of a 1904-based workbook: if a reader takes it for a date serial
        # (a date column that lost its format), it must count from 1904, not 1900.
        return Int1904(number) if isinstance(number, int) else Float1904(number)
    return number


def _rows_of_xlsx(data: bytes, limits: Limits, choose: Callable[[list[Row]], bool] | None, head_rows: int) -> Iterator[Row]:
    if len(data) > limits.max_bytes:
        raise TableError(TableProblem.TOO_LARGE, str(len(data)), limits.max_bytes)
    book = _Workbook(data, limits)
    for part in book.sheets:
        book.check_dimension(part)
    book.load_styles_and_strings()
    chosen = book.sheets[0]
    if choose is not None:
        for part in book.sheets:
            head = list(book.rows(part, stop_after_row=head_rows))
            if choose(head):
                chosen = part
                break
    yield from book.rows(chosen)


def read_table(
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    filename: str = "",
    choose: Callable[[list[Row]], bool] | None = None,
    head_rows: int = 30,
) -> Iterator[Row]:
    """Rows of a CSV/TSV text or an XLSX, decided by content: ``(row number, values)``.

    XLSX: the first sheet for which ``choose(rows numbered up to head_rows)`` is true (the
    first sheet when none is, or without ``choose``); only rows with values are yielded.
    Text: every record, numbered from 1, cells as NFC text. Raises TableError before reading
    anything the limits do not allow, and while reading when the content goes over them.
    """
    if len(data) > limits.max_bytes:
        raise TableError(TableProblem.TOO_LARGE, str(len(data)), limits.max_bytes)
    if not data.strip():
        raise TableError(TableProblem.EMPTY)
    kind = sniff_format(data, filename)
    if kind is Format.XLSX:
        return _rows_of_xlsx(data, limits, choose, head_rows)
    if kind is Format.OLD_EXCEL:
        raise TableError(TableProblem.OLD_EXCEL, "old Excel .xls")
    if kind is Format.OTHER:
        raise TableError(TableProblem.FORMAT, filename.rsplit(".", 1)[-1] if "." in filename else "")
    return _rows_of_text(data, limits)
