"""Importers of organisation data: units (with figures), targets and team rosters.

Officials keep these lists in Excel or CSV, typed by hand: a title above the header, headers
with or without diacritics ("Mã đơn vị", "ma don vi", "code"), Vietnamese number formats
("13.737", "95,00%"), a stray total row, a typo. So every importer
- finds the header row even below title rows, matching headers without regard to case,
  diacritics or punctuation;
- validates each row with a pydantic model and reports bad rows by their row number in the
  file, with a Vietnamese reason, while keeping the good rows;
- is idempotent: importing the same file twice changes nothing the second time (upserts).
The unit tree is checked as a whole: parents are written before children whatever the row
order, a row whose parent is nowhere is reported (and so are its descendants), cycles refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from bot.domain.clock import Clock
from bot.domain.records import UNIT_FIELDS, Baseline, RosterRecord, Target, TeamRecord, UnitRecord
from bot.imports.tables import Limits, Percent, TableError, TableProblem, excel_serial_day, read_table
from bot.parsing.questions import normalize
from storage.sqlite.targets import FiguresRepository
from storage.sqlite.teams import TeamRepository
from storage.sqlite.units import UnitRepository

__all__ = [
    "ImportFileError",
    "ImportReport",
    "RowError",
    "import_targets",
    "import_teams",
    "import_units",
    "name_key",
    "read_rows",
]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
HEADER_SCAN_ROWS = 30
MAX_CELL = 500
MAX_ERRORS_SHOWN = 30


class ImportFileError(Exception):
    """The file cannot be read at all (wrong type, no header): one Vietnamese line."""


@dataclass(frozen=True)
class RowError:
    row: int  # row number in the file as a spreadsheet shows it (1-based)
    message: str


@dataclass
class ImportReport:
    """What an import did, for the command line and for admins in the chat."""

    kind: str
    source: str
    header_row: int = 0
    rows_read: int = 0
    rows_ok: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, row: int, message: str) -> None:
        self.errors.append(RowError(row, message))

    @property
    def rows_rejected(self) -> int:
        return len({e.row for e in self.errors})

    def render(self) -> str:
        """A short Vietnamese report (plain text)."""
        labels = {
            "units_created": "đơn vị mới",
            "units_updated": "đơn vị cập nhật",
            "baselines": "số liệu nền",
            "targets": "chỉ tiêu",
            "teams_created": "nhóm mới",
            "teams_updated": "nhóm cập nhật",
            "members_created": "thành viên mới",
            "roster_rows": "dòng danh sách nhóm theo tháng",
        }
        lines = [
            f"Nhập {self.kind} từ {self.source}: đọc {self.rows_read} dòng (tiêu đề ở dòng "
            f"{self.header_row}), nhận {self.rows_ok}, bỏ qua {self.rows_rejected}."
        ]
        done = [f"{n} {labels.get(k, k)}" for k, n in self.counts.items()]
        if done:
            lines.append("Đã ghi: " + ", ".join(done) + ".")
        lines.extend(self.notes)
        for err in sorted(self.errors, key=lambda e: e.row)[:MAX_ERRORS_SHOWN]:
            lines.append(f"  Dòng {err.row}: {err.message}")
        if len(self.errors) > MAX_ERRORS_SHOWN:
            lines.append(f"  ... và {len(self.errors) - MAX_ERRORS_SHOWN} lỗi khác.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reading CSV and XLSX into rows of text
# --------------------------------------------------------------------------------------------

Row = tuple[int, list[str]]


def _cell_text(value: Any) -> str:
    """A cell value (from ``bot.imports.tables``) as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        if isinstance(value, Percent):
            number *= 100
            return f"{_plain(number)}%"
        return _plain(number)
    return str(value)[:MAX_CELL]


def _plain(number: Decimal) -> str:
    text = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_LIMITS = Limits(max_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS)


def _table_error(exc: TableError) -> ImportFileError:
    """One Vietnamese line per refusal of ``bot.imports.tables``."""
    limit = f"{exc.limit:,}".replace(",", ".") if exc.limit else ""
    messages = {
        TableProblem.TOO_LARGE: "tệp lớn quá 20 MB",
        TableProblem.FORMAT: "tệp không phải CSV hay Excel (.xlsx)",
        TableProblem.OLD_EXCEL: "tệp Excel cũ (.xls) chưa đọc được: hãy lưu lại dạng .xlsx hoặc .csv",
        TableProblem.UNREADABLE: (
            f"tệp CSV bị hỏng ({exc.detail})" if exc.detail.startswith("CSV")
            else f"không mở được tệp Excel ({exc.detail}): hãy lưu lại dạng .xlsx hoặc .csv"
        ),
        TableProblem.EMPTY: "tệp rỗng",
        TableProblem.TOO_MANY_ROWS: f"tệp có hơn {limit} dòng: hãy chia nhỏ",
        TableProblem.TOO_MANY_COLUMNS: f"tệp có dữ liệu ở quá {limit} cột: hãy xoá các cột thừa",
        TableProblem.SHEET_TOO_BIG: (
            f"trang tính khai báo hoặc chứa vùng lớn hơn nhiều so với giới hạn {limit} dòng: "
            "hãy xoá dòng, cột trống thừa ở cuối bảng"
        ),
        TableProblem.TOO_MANY_STRINGS: f"tệp Excel có quá {limit} ô chữ khác nhau: hãy lưu lại dạng .csv",
        TableProblem.UNPACKED_TOO_LARGE: "tệp Excel giải nén ra lớn bất thường: hãy chép bảng sang tệp mới",
    }
    return ImportFileError(messages[exc.problem])


def read_rows(path: Path | str, data: bytes | None = None) -> list[Row]:
    """Rows of a CSV or XLSX file (by content, not by name): (row number, cells as text).

    Reading is bounded before it is done (``bot.tables``): declared sheet size, shared
    strings, unpacked size, rows and columns; text in UTF-8, UTF-16 or Windows-1258 comes
    out as NFC. An XLSX yields only rows with values, each with its own number.
    """
    path = Path(path)
    if data is None:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportFileError("tệp lớn quá 20 MB")
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImportFileError(f"không có tệp {path}") from None
        except IsADirectoryError:
            raise ImportFileError(f"{path} là thư mục, không phải tệp") from None
        except PermissionError:
            raise ImportFileError(f"không có quyền đọc tệp {path}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError("tệp lớn quá 20 MB")
    if not data.strip():
        raise ImportFileError("tệp rỗng")
    if data[:4] != b"PK\x03\x04" and path.suffix.lower() in (".xlsx", ".xlsm"):
        raise ImportFileError("tệp .xlsx bị hỏng hoặc không phải tệp Excel")
    try:
        return [
            (number, [_cell_text(value)[:MAX_CELL] for value in cells])
            for number, cells in read_table(data, _LIMITS, filename=path.name)
        ]
    except TableError as exc:
        raise _table_error(exc) from None


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------


def header_key(text: str) -> str:
    """'Mã đơn vị' / 'ma_don_vi' / 'MA DON VI (*)' -> 'ma don vi'."""
    return re.sub(r"[^a-z0-9]+", " ", normalize(text)).strip()


def _aliases(*names: str) -> frozenset[str]:
    return frozenset(header_key(n) for n in names)


def _target_aliases(scheme: str, labels: Sequence[str], kind: str) -> frozenset[str]:
    names = [f"{scheme}_target_{kind}"]
    for label in labels:
        if kind == "pct":
            names += [
                f"chỉ tiêu {label} (%)", f"chỉ tiêu {label}", f"tỷ lệ {label} giao",
                f"kế hoạch {label} (%)", f"tỷ lệ tham gia {label}", f"mục tiêu {label} (%)",
                f"chỉ tiêu {label} %", f"{label} chỉ tiêu %", f"{label} target %",
            ]
        else:
            names += [
                f"chỉ tiêu {label} (người)", f"số người chỉ tiêu {label}", f"dự kiến thực hiện {label}",
                f"kế hoạch {label} (người)", f"{label} chỉ tiêu người", f"số người {label} dự kiến",
            ]
    return _aliases(*names)


_SCHEME_LABELS = {
    "bhyt": ("BHYT",),
    "bhxh": ("BHXH",),
    "bhxh_tn": ("BHXH tự nguyện", "BHXH TN"),
    "bhtn": ("BHTN", "bảo hiểm thất nghiệp"),
}
_BASELINE_LABELS = {
    "bhyt": ("BHYT",),
    "bhxh_bb": ("BHXH bắt buộc", "BHXH BB"),
    "bhxh_tn": ("BHXH tự nguyện", "BHXH TN"),
    "bhtn": ("BHTN",),
}

CODE_ALIASES = _aliases("code", "Mã đơn vị", "mã đv", "mã", "unit code", "unit_code", "mã xã", "mã thôn")

UNIT_COLUMNS: dict[str, frozenset[str]] = {
    "code": CODE_ALIASES,
    "name": _aliases("name", "Tên đơn vị", "tên", "đơn vị", "tên xã", "xã, phường", "xã, thị trấn", "unit name"),
    "parent_code": _aliases(
        "parent_code", "parent", "Mã đơn vị cấp trên", "mã cấp trên", "đơn vị cấp trên", "mã đơn vị cha",
        "thuộc", "mã thuộc",
    ),
    "level": _aliases("level", "cấp", "cấp hành chính", "loại đơn vị"),
    "population": _aliases("population", "dân số", "dân số (người)", "số dân"),
    "labour_force": _aliases("labour_force", "labor_force", "lực lượng lao động", "LLLĐ", "số lao động"),
    "staff_count": _aliases("staff_count", "số cán bộ", "số CBCCVC", "số cán bộ công chức viên chức", "biên chế"),
    "pay_points": _aliases("pay_points", "điểm thu", "nơi đóng", "địa điểm thu"),
    "as_of": _aliases("as_of", "ngày số liệu", "tính đến ngày", "số liệu đến ngày", "ngày"),
    "period": _aliases("period", "kỳ", "kỳ chỉ tiêu", "năm", "năm kế hoạch"),
}
for _key, _labels in _SCHEME_LABELS.items():
    UNIT_COLUMNS[f"{_key}_target_pct"] = _target_aliases(_key, _labels, "pct")
    UNIT_COLUMNS[f"{_key}_target_count"] = _target_aliases(_key, _labels, "count")
for _key, _labels in _BASELINE_LABELS.items():
    UNIT_COLUMNS[f"{_key}_participants"] = _aliases(
        f"{_key}_participants",
        *(f"số người tham gia {label}" for label in _labels),
        *(f"tham gia {label}" for label in _labels),
        *(f"{label} đã tham gia" for label in _labels),
    )
UNIT_COLUMNS["bhyt_target_count"] |= _aliases("dự kiến thực hiện BHYT", "dự kiến thực hiệnBHYT")

TARGET_COLUMNS: dict[str, frozenset[str]] = {
    "code": CODE_ALIASES,
    "scheme": _aliases("scheme", "loại", "loại bảo hiểm", "bảo hiểm", "chế độ", "loại chỉ tiêu"),
    "period": UNIT_COLUMNS["period"],
    "as_of": UNIT_COLUMNS["as_of"],
    "target_pct": _aliases("target_pct", "tỷ lệ", "tỷ lệ (%)", "tỷ lệ giao", "chỉ tiêu (%)", "kế hoạch (%)", "mục tiêu (%)"),
    "target_count": _aliases("target_count", "số người", "số người giao", "chỉ tiêu (người)", "kế hoạch (người)"),
}
for _column in UNIT_COLUMNS:
    if "_target_" in _column:
        TARGET_COLUMNS[_column] = UNIT_COLUMNS[_column]

TEAM_COLUMNS: dict[str, frozenset[str]] = {
    "month": _aliases("month", "tháng", "tháng/năm", "trong tháng"),
    "team_code": _aliases("team_code", "mã nhóm", "mã tổ"),
    "team_name": _aliases("team", "team_name", "nhóm", "tên nhóm", "tổ", "tên tổ", "nhóm phát triển"),
    "unit_code": _aliases("unit_code", "Mã đơn vị", "mã đv"),
    "full_name": _aliases("full_name", "name", "họ và tên", "họ tên", "tên thành viên"),
    "title": _aliases("title", "chức danh, đơn vị công tác", "chức danh", "đơn vị công tác", "chức vụ"),
    "leader": _aliases("leader", "is_leader", "trưởng nhóm", "tổ trưởng", "vai trò"),
    "note": _aliases("note", "ghi chú"),
    "phone": _aliases("phone", "số điện thoại", "điện thoại", "sđt"),
}


@dataclass(frozen=True)
class Header:
    row: int
    columns: dict[str, int]  # field -> column index


def find_header(rows: Sequence[Row], columns: Mapping[str, frozenset[str]], required: str) -> Header:
    """The first row (within the first rows) naming the required field and the most others."""
    best: Header | None = None
    for number, cells in rows[:HEADER_SCAN_ROWS]:
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = header_key(cell)
            if not key:
                continue
            for name, aliases in columns.items():
                if key in aliases and name not in found:
                    found[name] = index
                    break
        if required in found and len(found) >= 2 and (best is None or len(found) > len(best.columns)):
            best = Header(number, found)
            if len(found) >= 3:
                break
    if best is None:
        wanted = sorted(columns[required], key=len)[:3]
        raise ImportFileError(
            f"không tìm thấy dòng tiêu đề có cột {' / '.join(repr(w) for w in wanted)} "
            f"trong {HEADER_SCAN_ROWS} dòng đầu"
        )
    return best


def _records(rows: Sequence[Row], header: Header) -> Iterable[tuple[int, dict[str, str]]]:
    """Data rows after the header as {field: text}, skipping blank rows."""
    for number, cells in rows:
        if number <= header.row:
            continue
        record = {
            name: (cells[index].strip() if index < len(cells) else "")
            for name, index in header.columns.items()
        }
        if not any(record.values()):
            continue
        yield number, record


# --------------------------------------------------------------------------------------------
# Values (Vietnamese formats) and row models
# --------------------------------------------------------------------------------------------

_THOUSANDS_RE = re.compile(r"^\d{1,3}([.,\s]\d{3})+$")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "-", "—"))


def parse_count(value: Any) -> int | None:
    """'13.737', '13737', '13 737', '(75)' refused: a count is a whole number >= 0."""
    if _blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip().replace("\u00a0", " ")
        if _THOUSANDS_RE.match(text):
            text = re.sub(r"[.,\s]", "", text)
        if not re.fullmatch(r"\d{1,12}", text):
            raise ValueError("phải là số nguyên không âm (ví dụ 13.737)")
        number = int(text)
    if number < 0:
        raise ValueError("không được âm")
    return number


def parse_pct(value: Any) -> Decimal | None:
    """'95', '95,00%', '22.69', '6,17 %' -> Decimal percent between 0 and 100."""
    if _blank(value):
        return None
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    text = text.replace(",", ".")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,6})?", text):
        raise ValueError("phải là tỷ lệ phần trăm, ví dụ 95 hoặc 22,69%")
    number = Decimal(text)
    if number > 100:
        raise ValueError("tỷ lệ phải từ 0 đến 100%")
    return number


def parse_day(value: Any) -> date | None:
    """'30/06/2023', '30/6/2023', '2023-06-30', or an Excel date serial ('45107', what a date
    column shows once it lost its format). Dates before 1900 are refused as typos."""
    if _blank(value):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        try:
            return excel_serial_day(float(text))
        except ValueError:
            raise ValueError("ngày không hợp lệ (dạng 30/06/2023)") from None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day.year < 1900:
            raise ValueError(f"ngày {text} không hợp lý: kiểm tra lại năm")
        return day
    raise ValueError("ngày không hợp lệ (dạng 30/06/2023)")


_MONTH_RE = re.compile(r"(?:^|\D)(\d{1,2})\s*[/\-.]\s*(\d{4})(?:\D|$)")
_ISO_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$")


def parse_month(value: Any) -> str | None:
    """'11/2026', 'Tháng 11/2026', '2026-11', '2026-11-01' -> '2026-11'."""
    if _blank(value):
        return None
    text = normalize(str(value))
    match = _ISO_MONTH_RE.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = _MONTH_RE.search(text)
        if match is None:
            raise ValueError("tháng không hợp lệ (dạng 11/2026)")
        month, year = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError("tháng không hợp lệ (dạng 11/2026)")
    return f"{year:04d}-{month:02d}"


def _code(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError("bị trống")
    if not _CODE_RE.match(text):
        raise ValueError("chỉ gồm chữ không dấu, số, '-', '_' hoặc '.', tối đa 32 ký tự")
    return text.upper()


def _optional_code(value: Any) -> str | None:
    return None if _blank(value) else _code(value)


def _name(value: Any) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValueError("bị trống")
    if len(text) > 120:
        raise ValueError("dài quá 120 ký tự")
    return text


def _short_text(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:200] or None


def _period(value: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-/]{1,32}", text):
        raise ValueError("kỳ chỉ tiêu chỉ gồm chữ không dấu và số, ví dụ 2025")
    return text


Code = Annotated[str, BeforeValidator(_code)]
OptCode = Annotated[str | None, BeforeValidator(_optional_code)]
Name = Annotated[str, BeforeValidator(_name)]
Count = Annotated[int | None, BeforeValidator(parse_count)]
Pct = Annotated[Decimal | None, BeforeValidator(parse_pct)]
Day = Annotated[date | None, BeforeValidator(parse_day)]
Period = Annotated[str | None, BeforeValidator(_period)]
Text = Annotated[str | None, BeforeValidator(_short_text)]

FIELD_LABELS = {
    "code": "mã đơn vị",
    "name": "tên đơn vị",
    "parent_code": "mã đơn vị cấp trên",
    "level": "cấp",
    "population": "dân số",
    "labour_force": "lực lượng lao động",
    "staff_count": "số cán bộ",
    "pay_points": "điểm thu",
    "as_of": "ngày số liệu",
    "period": "kỳ chỉ tiêu",
    "scheme": "loại bảo hiểm",
    "target_pct": "tỷ lệ chỉ tiêu",
    "target_count": "số người chỉ tiêu",
    "month": "tháng",
    "team_code": "mã nhóm",
    "team_name": "tên nhóm",
    "unit_code": "mã đơn vị",
    "full_name": "họ và tên",
    "title": "chức danh",
}
for _key, _labels in _SCHEME_LABELS.items():
    FIELD_LABELS[f"{_key}_target_pct"] = f"chỉ tiêu {_labels[0]} (%)"
    FIELD_LABELS[f"{_key}_target_count"] = f"chỉ tiêu {_labels[0]} (người)"
for _key, _labels in _BASELINE_LABELS.items():
    FIELD_LABELS[f"{_key}_participants"] = f"số người tham gia {_labels[0]}"


class _RowModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UnitRow(_RowModel):
    """One row of a units file (seed 003's shape carries figures and targets too)."""

    code: Code
    name: Name
    parent_code: OptCode = None
    level: Text = None
    population: Count = None
    labour_force: Count = None
    staff_count: Count = None
    pay_points: Text = None
    as_of: Day = None
    period: Period = None
    bhyt_target_pct: Pct = None
    bhyt_target_count: Count = None
    bhxh_target_pct: Pct = None
    bhxh_target_count: Count = None
    bhxh_tn_target_pct: Pct = None
    bhxh_tn_target_count: Count = None
    bhtn_target_pct: Pct = None
    bhtn_target_count: Count = None
    bhyt_participants: Count = None
    bhxh_bb_participants: Count = None
    bhxh_tn_participants: Count = None
    bhtn_participants: Count = None

    @model_validator(mode="after")
    def _not_own_parent(self) -> UnitRow:
        if self.parent_code == self.code:
            raise ValueError("đơn vị không thể là cấp trên của chính nó")
        return self


class WideTargetRow(_RowModel):
    """A targets file in the units file's wide shape (one column per scheme)."""

    code: Code
    as_of: Day = None
    period: Period = None
    bhyt_target_pct: Pct = None
    bhyt_target_count: Count = None
    bhxh_target_pct: Pct = None
    bhxh_target_count: Count = None
    bhxh_tn_target_pct: Pct = None
    bhxh_tn_target_count: Count = None
    bhtn_target_pct: Pct = None
    bhtn_target_count: Count = None


def _scheme(value: Any) -> str:
    key = header_key(str(value or ""))
    compact = key.replace(" ", "")
    table = {
        "bhyt": "bhyt", "baohiemyte": "bhyt",
        "bhxh": "bhxh", "bhxhtong": "bhxh", "baohiemxahoi": "bhxh",
        "bhxhtn": "bhxh_tn", "bhxhtunguyen": "bhxh_tn", "tunguyen": "bhxh_tn",
        "bhtn": "bhtn", "bhthatnghiep": "bhtn", "baohiemthatnghiep": "bhtn", "thatnghiep": "bhtn",
    }
    if compact not in table:
        raise ValueError("phải là BHYT, BHXH, BHXH tự nguyện hoặc BHTN")
    return table[compact]


class LongTargetRow(_RowModel):
    """A targets file with one row per unit and scheme."""

    code: Code
    scheme: Annotated[str, BeforeValidator(_scheme)]
    as_of: Day = None
    period: Period = None
    target_pct: Pct = None
    target_count: Count = None

    @model_validator(mode="after")
    def _some_target(self) -> LongTargetRow:
        if self.target_pct is None and self.target_count is None:
            raise ValueError("thiếu tỷ lệ (%) hoặc số người chỉ tiêu")
        return self


def _leader(value: Any) -> bool:
    key = header_key(str(value or ""))
    return key in {"x", "1", "co", "true", "yes", "truong nhom", "to truong", "leader", "nhom truong"}


class TeamRow(_RowModel):
    month: Annotated[str, BeforeValidator(parse_month)]
    team_code: OptCode = None
    team_name: Text = None
    unit_code: Code
    full_name: Name
    title: Text = None
    leader: Annotated[bool, BeforeValidator(_leader)] = False
    note: Text = None

    @property
    def is_leader(self) -> bool:
        note = header_key(self.note or "")
        return self.leader or "truong nhom" in note or "to truong" in note


def _explain(exc: ValidationError) -> str:
    """Pydantic errors as one Vietnamese sentence naming the fields."""
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else ""
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            message = "bị trống"
        elif not re.search(r"[à-ỹđ]", message, re.IGNORECASE) and err.get("type") != "value_error":
            message = "không hợp lệ"
        label = FIELD_LABELS.get(name, name)
        parts.append(f"{label} {message}" if label else message)
    return "; ".join(parts)


def _validate(
    model: type[_RowModel], record: dict[str, str], number: int, report: ImportReport
) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        report.error(number, _explain(exc))
        return None


_TOTAL_LABELS = {"tong", "tong cong", "cong", "tong so", "toan xa", "toan huyen", "toan tinh"}


def _is_total_row(record: Mapping[str, str]) -> bool:
    """'Tổng cộng' / 'Toàn xã' rows repeat what the tree computes: skipped, not errors."""
    if record.get("code"):
        return False
    return any(header_key(v) in _TOTAL_LABELS for v in record.values() if v)


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


def _targets_of(row: UnitRow | WideTargetRow, period: str) -> list[Target]:
    out = []
    for scheme in _SCHEME_LABELS:
        pct = getattr(row, f"{scheme}_target_pct")
        count = getattr(row, f"{scheme}_target_count")
        if pct is not None or count is not None:
            out.append(Target(row.code, scheme, period, pct, count))
    return out


def _has_targets(row: UnitRow | WideTargetRow) -> bool:
    return any(
        getattr(row, f"{s}_target_pct") is not None or getattr(row, f"{s}_target_count") is not None
        for s in _SCHEME_LABELS
    )


def _baselines_of(row: UnitRow, as_of: date) -> list[Baseline]:
    out = []
    for scheme in _BASELINE_LABELS:
        value = getattr(row, f"{scheme}_participants")
        if value is not None:
            out.append(Baseline(row.code, scheme, as_of, value))
    return out


def _period_for(row: UnitRow | WideTargetRow | LongTargetRow, default: str | None, as_of: date | None) -> str | None:
    if row.period:
        return row.period
    if default:
        return default
    day = row.as_of or as_of
    return str(day.year) if day else None


def _order_tree(
    rows: dict[str, tuple[int, UnitRow]], stored: Mapping[str, str | None], report: ImportReport
) -> list[tuple[int, UnitRow]]:
    """Parents before children; orphans and cycles reported and left out."""
    parent = dict(stored)
    parent.update({code: row.parent_code for code, (_, row) in rows.items()})
    bad: dict[str, str] = {}

    def chain(code: str) -> tuple[list[str], str | None]:
        """Ancestors of `code` and why the chain is broken (None: reaches a root)."""
        seen = [code]
        current = parent.get(code)
        while current is not None:
            if current in seen:
                loop = seen[seen.index(current) :] + [current]
                return seen, "vòng lặp cấp trên: " + " → ".join(loop)
            if current not in parent:
                return seen, f"đơn vị cấp trên {current} không có trong tệp hay dữ liệu đã nhập"
            seen.append(current)
            current = parent.get(current)
        skipped = next((c for c in seen[1:] if c in bad and c in rows), None)
        if skipped is not None:
            return seen, f"đơn vị cấp trên {skipped} bị bỏ qua (dòng {rows[skipped][0]})"
        return seen, None

    depth: dict[str, int] = {}
    for code in sorted(rows, key=lambda c: rows[c][0]):
        ancestors, problem = chain(code)
        if problem is not None:
            bad[code] = problem
        else:
            depth[code] = len(ancestors)
    # A unit whose ancestor turned out bad later in the loop is bad too.
    changed = True
    while changed:
        changed = False
        for code in list(depth):
            _, problem = chain(code)
            if problem is not None:
                bad[code] = problem
                del depth[code]
                changed = True
    for code, problem in bad.items():
        report.error(rows[code][0], problem)
    return [rows[code] for code in sorted(depth, key=lambda c: (depth[c], rows[c][0]))]


async def import_units(
    path: Path | str,
    units: UnitRepository,
    clock: Clock,
    *,
    data: bytes | None = None,
    as_of: date | None = None,
    period: str | None = None,
) -> ImportReport:
    """Load a unit tree (and the figures its columns carry) from a CSV or XLSX file."""
    report = ImportReport("đơn vị", Path(path).name)
    rows = read_rows(path, data)
    header = find_header(rows, UNIT_COLUMNS, "code")
    report.header_row = header.row
    if "name" not in header.columns:
        raise ImportFileError("thiếu cột tên đơn vị (Tên đơn vị / name)")
    present = frozenset(f for f in UNIT_FIELDS if f in header.columns)
    good: dict[str, tuple[int, UnitRow]] = {}
    for number, record in _records(rows, header):
        if _is_total_row(record):
            continue
        report.rows_read += 1
        row = _validate(UnitRow, record, number, report)
        if row is None:
            continue
        day = row.as_of or as_of
        has_participants = any(getattr(row, f"{s}_participants") is not None for s in _BASELINE_LABELS)
        if has_participants and day is None:
            report.error(number, "có số người tham gia nhưng thiếu ngày số liệu (cột as_of / Tính đến ngày)")
            continue
        if _has_targets(row) and _period_for(row, period, as_of) is None:
            report.error(number, "có chỉ tiêu nhưng thiếu kỳ (cột period / Năm) hay ngày số liệu")
            continue
        if row.code in good:
            report.error(number, f"mã {row.code} trùng với dòng {good[row.code][0]}")
            continue
        good[row.code] = (number, row)
    stored = await units.parent_map()
    ordered = _order_tree(good, stored, report)
    records, baselines, targets = [], [], []
    for _, row in ordered:
        records.append(
            UnitRecord(
                code=row.code,
                name=row.name,
                parent_code=row.parent_code,
                level=row.level or "",
                population=row.population,
                labour_force=row.labour_force,
                staff_count=row.staff_count,
                pay_points=row.pay_points,
                present=present | {"name"},
            )
        )
        day = row.as_of or as_of
        if day is not None:
            baselines.extend(_baselines_of(row, day))
        row_period = _period_for(row, period, as_of)
        if row_period is not None:
            targets.extend(_targets_of(row, row_period))
    result = await units.import_tree(records, baselines, targets, clock.now())
    report.rows_ok = len(records)
    report.counts = {
        "units_created": result.created,
        "units_updated": result.updated,
        "baselines": result.baselines,
        "targets": result.targets,
    }
    return report


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


async def import_targets(
    path: Path | str,
    units: UnitRepository,
    figures: FiguresRepository,
    *,
    data: bytes | None = None,
    period: str | None = None,
) -> ImportReport:
    """Targets per unit, scheme and period: long shape (one row per scheme) or wide."""
    report = ImportReport("chỉ tiêu", Path(path).name)
    rows = read_rows(path, data)
    header = find_header(rows, TARGET_COLUMNS, "code")
    report.header_row = header.row
    long_shape = "scheme" in header.columns
    if not long_shape and not any("_target_" in name for name in header.columns):
        raise ImportFileError("không thấy cột chỉ tiêu (Loại bảo hiểm + Tỷ lệ/Số người, hoặc bhyt_target_pct...)")
    known = set((await units.parent_map()).keys())
    targets: dict[tuple[str, str, str], tuple[int, Target]] = {}
    for number, record in _records(rows, header):
        if _is_total_row(record):
            continue
        report.rows_read += 1
        model = LongTargetRow if long_shape else WideTargetRow
        row = _validate(model, record, number, report)
        if row is None:
            continue
        if row.code not in known:
            report.error(number, f"đơn vị {row.code} chưa có: nhập đơn vị trước (bhxh-bot import units)")
            continue
        row_period = _period_for(row, period, None)
        if row_period is None:
            report.error(number, "thiếu kỳ chỉ tiêu (cột period / Năm, hoặc --period)")
            continue
        found = (
            [Target(row.code, row.scheme, row_period, row.target_pct, row.target_count)]
            if isinstance(row, LongTargetRow)
            else _targets_of(row, row_period)
        )
        if not found:
            report.error(number, "không có chỉ tiêu nào trên dòng")
            continue
        clash = next((t for t in found if (t.unit_code, t.scheme, t.period) in targets), None)
        if clash is not None:
            first = targets[(clash.unit_code, clash.scheme, clash.period)][0]
            report.error(number, f"chỉ tiêu {clash.scheme} kỳ {clash.period} của {clash.unit_code} trùng với dòng {first}")
            continue
        for target in found:
            targets[(target.unit_code, target.scheme, target.period)] = (number, target)
        report.rows_ok += 1
    written = await figures.import_targets([t for _, t in targets.values()])
    report.counts = {"targets": written}
    return report


# --------------------------------------------------------------------------------------------
# Teams with monthly rosters (seed 002)
# --------------------------------------------------------------------------------------------


def name_key(full_name: str) -> str:
    """How rosters recognise a person across months: case, diacritics and spacing ignored."""
    return normalize(full_name)


def team_code_for(unit_code: str, team_name: str) -> str:
    """'CL06' + 'Nhóm 1' -> 'CL06-NHOM1' when a roster names teams without codes."""
    slug = re.sub(r"[^a-z0-9]+", "", normalize(team_name)).upper()[:20] or "NHOM"
    return f"{unit_code}-{slug}"


async def import_teams(
    path: Path | str,
    units: UnitRepository,
    teams: TeamRepository,
    clock: Clock,
    *,
    data: bytes | None = None,
    unit_code: str | None = None,
    month: str | None = None,
) -> ImportReport:
    """Teams and who is in them each month; people become members (without a chat account
    until they join with an invite)."""
    report = ImportReport("nhóm", Path(path).name)
    rows = read_rows(path, data)
    header = find_header(rows, TEAM_COLUMNS, "full_name")
    report.header_row = header.row
    if "team_name" not in header.columns and "team_code" not in header.columns:
        raise ImportFileError("thiếu cột nhóm (Nhóm / Mã nhóm)")
    default_unit = unit_code.upper() if unit_code else None
    current_month = parse_month(month) if month else None
    known = set((await units.parent_map()).keys())
    team_records: dict[str, tuple[int, TeamRecord]] = {}
    roster: dict[tuple[str, str, str], RosterRecord] = {}
    last_team: tuple[str | None, str | None] = (None, None)
    for number, cells in rows:
        if number <= header.row:
            continue
        record = {
            name: (cells[index].strip() if index < len(cells) else "")
            for name, index in header.columns.items()
        }
        if not any(c.strip() for c in cells):
            continue
        if not record.get("full_name"):
            # A section row such as "Trong tháng 6/2023" sets the month of the rows below it.
            for cell in cells:
                try:
                    found = parse_month(cell) if re.search(r"th[aá]ng", cell, re.I) else None
                except ValueError:
                    found = None
                if found:
                    current_month = found
                    last_team = (None, None)
                    break
            continue
        report.rows_read += 1
        if record.get("team_name") or record.get("team_code"):
            last_team = (record.get("team_code") or None, record.get("team_name") or None)
        else:
            record["team_code"], record["team_name"] = last_team[0] or "", last_team[1] or ""
        record.setdefault("month", "")
        record["month"] = record["month"] or (current_month or "")
        record["unit_code"] = record.get("unit_code") or (default_unit or "")
        if not record["month"]:
            report.error(number, "thiếu tháng (cột Tháng, dòng 'Trong tháng 11/2026' hoặc --month)")
            continue
        row = _validate(TeamRow, record, number, report)
        if row is None:
            continue
        if not (row.team_code or row.team_name):
            report.error(number, "thiếu nhóm (cột Nhóm hoặc Mã nhóm)")
            continue
        if row.unit_code not in known:
            report.error(number, f"đơn vị {row.unit_code} chưa có: nhập đơn vị trước (bhxh-bot import units)")
            continue
        code = row.team_code or team_code_for(row.unit_code, row.team_name or "")
        team = TeamRecord(code, row.team_name or code, row.unit_code)
        if code in team_records and team_records[code][1].unit_code != row.unit_code:
            first = team_records[code][0]
            report.error(number, f"nhóm {code} đã thuộc đơn vị {team_records[code][1].unit_code} (dòng {first})")
            continue
        team_records.setdefault(code, (number, team))
        key = (code, row.month, name_key(row.full_name))
        previous = roster.get(key)
        roster[key] = RosterRecord(
            code, row.month, row.full_name, row.title, row.is_leader or bool(previous and previous.is_leader)
        )
        report.rows_ok += 1
    result = await teams.import_rosters(
        [t for _, t in team_records.values()], list(roster.values()), name_key, clock.now()
    )
    report.counts = {
        "teams_created": result.teams_created,
        "teams_updated": result.teams_updated,
        "members_created": result.members_created,
        "roster_rows": result.roster_rows,
    }
    if "phone" in header.columns:
        report.notes.append("Cột số điện thoại không được lưu (không cần cho việc ghi nhận).")
    return report



# --------------------------------------------------------------------------------------------
# Command line: bhxh-bot import units|targets|teams FILE
# --------------------------------------------------------------------------------------------


def import_subparsers(sub: Any) -> Any:
    """The `import` command's own sub-parsers, created once and shared by every feature that
    adds an import kind (units, targets, teams here; card lists elsewhere)."""
    import argparse

    parser = sub.choices.get("import")
    if parser is None:
        parser = sub.add_parser("import", help="nhập dữ liệu từ tệp CSV hoặc XLSX")
    for action in parser._actions:  # argparse keeps the sub-parsers action there
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="kind", required=True, metavar="KIND")


def add_cli_commands(sub: Any) -> None:
    """Register `import units`, `import targets`, `import teams` (for bot/cli/__init__.py)."""
    kinds = import_subparsers(sub)
    units = kinds.add_parser("units", help="cây đơn vị (kèm dân số, LLLĐ, số liệu nền, chỉ tiêu)")
    units.add_argument("file", type=Path)
    units.add_argument("--as-of", dest="as_of", help="ngày số liệu nền nếu tệp không có (DD/MM/YYYY)")
    units.add_argument("--period", help="kỳ chỉ tiêu nếu tệp không có (ví dụ 2025)")
    units.set_defaults(func=_cli_units)
    targets = kinds.add_parser("targets", help="chỉ tiêu theo đơn vị, loại bảo hiểm, kỳ")
    targets.add_argument("file", type=Path)
    targets.add_argument("--period", help="kỳ chỉ tiêu nếu tệp không có (ví dụ 2025)")
    targets.set_defaults(func=_cli_targets)
    teams = kinds.add_parser("teams", help="nhóm và danh sách thành viên theo tháng (Phụ lục 01)")
    teams.add_argument("file", type=Path)
    teams.add_argument("--unit", help="mã đơn vị của các nhóm nếu tệp không có cột Mã đơn vị")
    teams.add_argument("--month", help="tháng nếu tệp không có (MM/YYYY)")
    teams.set_defaults(func=_cli_teams)


def _option(name: str, parse: Callable[[Any], Any], value: Any) -> Any:
    """A command-line option parsed like the file's cells; errors name the option."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise ImportFileError(f"{name}: {exc}") from None


def _cli_run(settings: Any, work: Callable[[Any], Any]) -> int:
    """Open the services (bot.bootstrap), run one import, print its report; exit 1 if rows
    were skipped."""
    import asyncio
    import sys

    from bot.bootstrap import open_services

    async def run() -> ImportReport:
        async with open_services(settings) as services:
            return await work(services)

    try:
        report = asyncio.run(run())
    except ImportFileError as exc:
        print(f"bhxh-bot: lỗi: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 1 if report.errors else 0


def _cli_units(args: Any, settings: Any) -> int:
    async def work(services: Any) -> ImportReport:
        as_of = _option("--as-of", parse_day, args.as_of)
        period = _option("--period", _period, args.period)
        return await import_units(args.file, services.units, services.clock, as_of=as_of, period=period)

    return _cli_run(settings, work)


def _cli_targets(args: Any, settings: Any) -> int:
    async def work(services: Any) -> ImportReport:
        period = _option("--period", _period, args.period)
        return await import_targets(args.file, services.units, services.figures, period=period)

    return _cli_run(settings, work)


def _cli_teams(args: Any, settings: Any) -> int:
    async def work(services: Any) -> ImportReport:
        unit = _option("--unit", _optional_code, args.unit)
        _option("--month", parse_month, args.month)
        return await import_teams(
            args.file, services.units, services.teams, services.clock, unit_code=unit, month=args.month
        )

    return _cli_run(settings, work)


# --------------------------------------------------------------------------------------------
# Packaged samples (demo, tests): the trees of seeds 003 and 001 and a roster in seed 002's shape
# --------------------------------------------------------------------------------------------

SAMPLE_UNITS = ("units_cang_long.csv", "units_ngoc_phung.csv")
SAMPLE_TEAMS = "teams_cang_long.csv"


def sample_bytes(name: str) -> bytes:
    """A file of bot/data/samples (packaged with the bot)."""
    from importlib import resources

    return resources.files("bot").joinpath("data", "samples", name).read_bytes()


@dataclass(frozen=True)
class DemoMember:
    """A person the demo lets a newcomer be (an official, a team leader, an agent)."""

    user_id: int
    full_name: str
    role: str
    unit_code: str
    team_code: str | None = None


async def seed_demo_organisation(
    services: Any, people: Sequence[DemoMember], channel: str
) -> list[ImportReport]:
    """Import the sample trees and roster, then make the demo people (chat users of `channel`)
    members.

    People listed in the roster join the way real ones do: an invite for their roster entry,
    used with /thamgia's service, so the demo shows the same rows a real join writes.
    """
    from bot.domain.records import CLI_ACTOR
    from bot.domain.roles import Role
    from bot.services.access import Actor
    from bot.services.organisation import InviteCreated

    reports = []
    for name in SAMPLE_UNITS:
        reports.append(await import_units(name, services.units, services.clock, data=sample_bytes(name)))
    reports.append(
        await import_teams(SAMPLE_TEAMS, services.units, services.teams, services.clock, data=sample_bytes(SAMPLE_TEAMS))
    )
    admin = Actor(0, "cli", Role.ADMIN, None, None)
    organisation = services.organisation
    for person in people:
        role = Role(person.role)
        placeholder = next(
            (
                m
                for m in await services.members.unclaimed_in_unit(person.unit_code)
                if name_key(m.full_name) == name_key(person.full_name)
            ),
            None,
        )
        if placeholder is None and person.team_code is None:
            await services.members.add(
                full_name=person.full_name,
                role=role,
                unit_code=person.unit_code,
                actor=CLI_ACTOR,
                at=services.clock.now(),
                user_id=person.user_id,
                channel=channel,
            )
            continue
        invite = await organisation.create_invite(
            admin, role, person.unit_code, person.team_code, placeholder.id if placeholder else None
        )
        if isinstance(invite, InviteCreated):
            await organisation.join(person.user_id, invite.code, person.full_name, channel)
    return reports
