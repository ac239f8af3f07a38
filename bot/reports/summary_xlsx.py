"""The summary's workbook: seed 003's coverage tables in full, and the month's Phụ lục 02.

Sheets, in order:
- "Tổng hợp": the figures of the message (new participants by scheme, leaders, teams,
  reminders) for the period;
- "BHYT": seed 003's first table (population, participants, coverage, target, % of target,
  change this month, still to mobilise), every unit of the scope in tree order, total last;
- "BHXH": the second table (labour force, compulsory and voluntary participants, shares of the
  labour force and of the targets, still to mobilise), when labour-force figures exist;
- "BHTN": the third table (unemployment insurance), when its figures exist;
- "Thi đua": seed 004's competition standing, when a unit has staff;
- "Phụ lục 02": the month's seed 002 form, written by `bot.monthly_report` (copied in).

Percentages are stored as numbers (0.9308 shown as 93,08 % by the cell format), people as
integers; "still to mobilise" uses a number format that prints negatives in brackets, as the
seed does: the figures stay computable in Excel. Nothing here does I/O beyond the bytes built.
Every text that comes from data (unit, agent and team names, the copied form) goes through
`bot.xlsx_safe.safe_cell_value`: a name starting with = + - @ is written as text, never as a
formula.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from copy import copy
from decimal import Decimal
from typing import cast

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.styleable import StyleableObject
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.coverage import CoverageRow, Figure, Measure
from bot.domain.summary import LeaderLine, ReminderFigures, SummaryData, SummaryKind, TeamLine
from bot.reports.sheets import first_sheet, fit_to_page
from bot.reports.xlsx_safe import CellValue, safe_cell_value

__all__ = [
    "BHTN_HEADERS",
    "BHXH_HEADERS",
    "BHYT_HEADERS",
    "SHEET_BHTN",
    "SHEET_BHXH",
    "SHEET_BHYT",
    "SHEET_COMPETITION",
    "SHEET_MONTHLY",
    "SHEET_SUMMARY",
    "build_summary_workbook",
    "copy_sheet",
    "workbook_filename",
]

SHEET_SUMMARY = "Tổng hợp"
SHEET_BHYT = "BHYT"
SHEET_BHXH = "BHXH"
SHEET_BHTN = "BHTN"
SHEET_COMPETITION = "Thi đua"
SHEET_MONTHLY = "Phụ lục 02"

PCT_FORMAT = "0.00%"
COUNT_FORMAT = "#,##0"
# Seed 003 prints a target exceeded as (75): negative numbers in brackets, zero as 0.
REMAINING_FORMAT = "#,##0;(#,##0);0"
TOTAL_LABEL = "Tổng cộng"

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDE7F3")
_LAGGARD_FILL = PatternFill("solid", fgColor="FBE3E2")
_BOLD = Font(bold=True)

# Seed 003, table 1 (BHYT against population): header and the formula row.
BHYT_HEADERS: tuple[tuple[str, str, int], ...] = (
    ("STT", "A", 7),
    ("Xã, phường", "B", 30),
    ("Dân số (người)", "1", 12),
    ("Tổng số người tham gia BHYT (người)", "2", 15),
    ("Tỷ lệ bao phủ BHYT so với tổng dân số (%)", "3=2/1", 14),
    ("Kế hoạch được giao (%)", "4", 12),
    ("Tỷ lệ đạt được so với kế hoạch giao (%)", "5=3/4", 14),
    ("Tỷ lệ % (Tăng, giảm) so với tháng trước", "6", 13),
    ("Số người còn phải vận động", "7", 14),
)
# Seed 003, table 2 (BHXH against the labour force), two header rows as in the seed.
BHXH_HEADERS: tuple[tuple[str, str, str, int], ...] = (
    ("STT", "", "1", 7),
    ("Xã, Thị trấn", "", "2", 30),
    ("Lực lượng lao động", "", "3", 12),
    ("Kế hoạch được giao", "Tỷ lệ tham gia BHXH", "4", 12),
    ("Kế hoạch được giao", "Tỷ lệ tham gia BHXH tự nguyện", "5", 12),
    ("Số người tham gia BHXH", "BHXH bắt buộc", "6", 11),
    ("Số người tham gia BHXH", "BHXH tự nguyện", "7", 11),
    ("Số người tham gia BHXH", "Tổng cộng", "8=6+7", 11),
    ("Đạt tỷ lệ % so với LLLĐ (%)", "BHXH", "9=8/3", 11),
    ("Đạt tỷ lệ % so với LLLĐ (%)", "Trong đó BHXH tự nguyện", "10=7/3", 13),
    ("Đạt tỷ lệ % so với kế hoạch giao (%)", "BHXH", "11=9/4", 11),
    ("Đạt tỷ lệ % so với kế hoạch giao (%)", "Trong đó BHXH tự nguyện", "12=10/5", 13),
    ("Số người còn phải vận động", "BHXH bắt buộc", "13", 12),
    ("Số người còn phải vận động", "BHXH tự nguyện", "14", 12),
)
# Seed 003, table 3 (BHTN against the labour force).
BHTN_HEADERS: tuple[tuple[str, str, int], ...] = (
    ("STT", "A", 7),
    ("Xã, phường", "B", 30),
    ("Lực lượng lao động", "1", 12),
    ("Số người tham gia BHTN", "2", 13),
    ("Tỷ lệ bao phủ BHTN so với LLLĐ (%)", "3=2/1", 13),
    ("Kế hoạch được giao (%)", "4", 12),
    ("Tỷ lệ đạt được so với kế hoạch giao (%)", "5=3/4", 14),
    ("Số người còn phải vận động", "6", 14),
)


def _ratio(value: Decimal | None) -> float | None:
    """A Decimal percent (93.08...) as the fraction a '%' cell format expects (0.9308...)."""
    return None if value is None else float(value / 100)


def _title(ws: Worksheet, lines: Sequence[str], width: int) -> int:
    """Title lines across the table's width; returns the next free row."""
    last = get_column_letter(width)
    for row, text in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=safe_cell_value(text))
        cell.font = Font(bold=True, size=13) if row == 1 else Font(italic=True)
        cell.alignment = Alignment(horizontal="center")
        ws.merge_cells(f"A{row}:{last}{row}")
    return len(lines) + 2


def _head_cell(ws: Worksheet, row: int, col: int, value: str, italic: bool = False) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    cell.font = Font(bold=not italic, italic=italic)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    cell.border = _BOX
    if not italic:
        cell.fill = _HEAD_FILL


def _put(ws: Worksheet, row: int, col: int, value: CellValue, fmt: str | None = None, bold: bool = False) -> None:
    """One body cell; text from data is written as text, never as a formula."""
    cell = ws.cell(row=row, column=col, value=safe_cell_value(value))
    cell.border = _BOX
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = _BOLD


def _numbering(rows: Sequence[CoverageRow]) -> dict[str, str]:
    """Hierarchical STT below the root: 1, 2, ... for children, 1.1, 1.2 for grandchildren."""
    out: dict[str, str] = {}
    counters: dict[str | None, int] = {}
    for row in rows:
        if row.depth == 0:
            continue
        counters[row.parent_code] = counters.get(row.parent_code, 0) + 1
        prefix = out.get(row.parent_code or "", "")
        out[row.code] = f"{prefix}.{counters[row.parent_code]}" if prefix else str(counters[row.parent_code])
    return out


def _ordered(rows: Sequence[CoverageRow]) -> tuple[list[CoverageRow], CoverageRow | None]:
    """Rows below the root in tree order, and the root (printed last as the total)."""
    root = next((r for r in rows if r.depth == 0), None)
    return [r for r in rows if r.depth > 0], root


def _label(row: CoverageRow) -> str:
    return ("   " * max(row.depth - 1, 0)) + row.name


def _bhyt_sheet(ws: Worksheet, data: SummaryData, month_new: dict[str, int]) -> None:
    width = len(BHYT_HEADERS)
    start = _title(
        ws,
        [
            f"KẾT QUẢ THAM GIA BHYT · {data.unit_name}",
            f"Số liệu đến ngày {data.as_of.strftime('%d/%m/%Y')} (số đầu kỳ + người mới ghi nhận"
            " qua bot; cột 6: người mới trong tháng so với dân số)",
        ],
        width,
    )
    for col, (label, number, col_width) in enumerate(BHYT_HEADERS, start=1):
        _head_cell(ws, start, col, label)
        _head_cell(ws, start + 1, col, number, italic=True)
        ws.column_dimensions[get_column_letter(col)].width = col_width
    ws.row_dimensions[start].height = 62
    body, root = _ordered(data.coverage_rows)
    numbers = _numbering(data.coverage_rows)
    row_no = start + 2
    laggards = {c.code for c in data.children if c.laggard}
    for row in [*body, *([root] if root else [])]:
        is_total = row is root
        figure = row.figures[Measure.BHYT]
        change = (
            Decimal(month_new.get(row.code, 0)) * 100 / figure.denominator
            if figure.denominator and figure.has_baseline
            else None
        )
        values: list[tuple[CellValue, str | None]] = [
            ("" if is_total else numbers.get(row.code, ""), None),
            (TOTAL_LABEL if is_total else _label(row), None),
            (figure.denominator, COUNT_FORMAT),
            (figure.participants if figure.has_baseline else None, COUNT_FORMAT),
            (_ratio(figure.coverage), PCT_FORMAT),
            (_ratio(figure.target), PCT_FORMAT),
            (_ratio(figure.of_target), PCT_FORMAT),
            (_ratio(change), PCT_FORMAT),
            (figure.remaining, REMAINING_FORMAT),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            _put(ws, row_no, col, value, fmt, bold=is_total)
            if row.code in laggards and not is_total:
                ws.cell(row=row_no, column=col).fill = _LAGGARD_FILL
        row_no += 1
    ws.freeze_panes = ws.cell(row=start + 2, column=3).coordinate
    _landscape(ws, f"{start}:{start + 1}")


def _has(rows: Sequence[CoverageRow], measure: Measure) -> bool:
    return any(r.figures[measure].has_baseline and r.figures[measure].denominator for r in rows)


def _bhxh_sheet(ws: Worksheet, data: SummaryData) -> None:
    width = len(BHXH_HEADERS)
    start = _title(
        ws,
        [
            f"KẾT QUẢ THAM GIA BHXH · {data.unit_name}",
            f"Số liệu đến ngày {data.as_of.strftime('%d/%m/%Y')} · tỷ lệ so với lực lượng lao động",
        ],
        width,
    )
    # Group headers span their columns; single columns span both header rows.
    col = 1
    while col <= width:
        group = BHXH_HEADERS[col - 1][0]
        sub = BHXH_HEADERS[col - 1][1]
        span = 1
        while col + span <= width and sub and BHXH_HEADERS[col + span - 1][0] == group:
            span += 1
        _head_cell(ws, start, col, group)
        if sub:
            if span > 1:
                ws.merge_cells(start_row=start, start_column=col, end_row=start, end_column=col + span - 1)
            for k in range(span):
                _head_cell(ws, start + 1, col + k, BHXH_HEADERS[col + k - 1][1])
        else:
            _head_cell(ws, start + 1, col, "")
            ws.merge_cells(start_row=start, start_column=col, end_row=start + 1, end_column=col)
        col += span
    for col, (_, _, number, col_width) in enumerate(BHXH_HEADERS, start=1):
        _head_cell(ws, start + 2, col, number, italic=True)
        ws.column_dimensions[get_column_letter(col)].width = col_width
    ws.row_dimensions[start].height = 34
    ws.row_dimensions[start + 1].height = 48
    body, root = _ordered(data.coverage_rows)
    numbers = _numbering(data.coverage_rows)
    row_no = start + 3
    for row in [*body, *([root] if root else [])]:
        is_total = row is root
        total: Figure = row.figures[Measure.BHXH]
        tn: Figure = row.figures[Measure.BHXH_TN]
        bb: Figure = row.figures[Measure.BHXH_BB]
        known = total.has_baseline
        values: list[tuple[CellValue, str | None]] = [
            ("" if is_total else numbers.get(row.code, ""), None),
            (TOTAL_LABEL if is_total else _label(row), None),
            (total.denominator, COUNT_FORMAT),
            (_ratio(total.target), PCT_FORMAT),
            (_ratio(tn.target), PCT_FORMAT),
            (bb.participants if known else None, COUNT_FORMAT),
            (tn.participants if tn.has_baseline else None, COUNT_FORMAT),
            (total.participants if known else None, COUNT_FORMAT),
            (_ratio(total.coverage), PCT_FORMAT),
            (_ratio(tn.coverage), PCT_FORMAT),
            (_ratio(total.of_target), PCT_FORMAT),
            (_ratio(tn.of_target), PCT_FORMAT),
            (bb.remaining, REMAINING_FORMAT),
            (tn.remaining, REMAINING_FORMAT),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            _put(ws, row_no, col, value, fmt, bold=is_total)
        row_no += 1
    ws.freeze_panes = ws.cell(row=start + 3, column=3).coordinate
    _landscape(ws, f"{start}:{start + 2}")


def _bhtn_sheet(ws: Worksheet, data: SummaryData) -> None:
    width = len(BHTN_HEADERS)
    start = _title(
        ws,
        [
            f"KẾT QUẢ THAM GIA BHTN · {data.unit_name}",
            f"Số liệu đến ngày {data.as_of.strftime('%d/%m/%Y')} · tỷ lệ so với lực lượng lao động",
        ],
        width,
    )
    for col, (label, number, col_width) in enumerate(BHTN_HEADERS, start=1):
        _head_cell(ws, start, col, label)
        _head_cell(ws, start + 1, col, number, italic=True)
        ws.column_dimensions[get_column_letter(col)].width = col_width
    ws.row_dimensions[start].height = 48
    body, root = _ordered(data.coverage_rows)
    numbers = _numbering(data.coverage_rows)
    row_no = start + 2
    for row in [*body, *([root] if root else [])]:
        is_total = row is root
        figure = row.figures[Measure.BHTN]
        values: list[tuple[CellValue, str | None]] = [
            ("" if is_total else numbers.get(row.code, ""), None),
            (TOTAL_LABEL if is_total else _label(row), None),
            (figure.denominator, COUNT_FORMAT),
            (figure.participants if figure.has_baseline else None, COUNT_FORMAT),
            (_ratio(figure.coverage), PCT_FORMAT),
            (_ratio(figure.target), PCT_FORMAT),
            (_ratio(figure.of_target), PCT_FORMAT),
            (figure.remaining, REMAINING_FORMAT),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            _put(ws, row_no, col, value, fmt, bold=is_total)
        row_no += 1
    ws.freeze_panes = ws.cell(row=start + 2, column=3).coordinate
    _landscape(ws, f"{start}:{start + 1}")



def _ranking_block(ws: Worksheet, row: int, title: str, entries: Sequence[LeaderLine | TeamLine]) -> int:
    """A leaders table (name, unit, count) from `row`; returns the next free row."""
    if not entries:
        return row
    for col, head in enumerate((title, "Đơn vị", "Số người"), start=1):
        _head_cell(ws, row, col, head)
    row += 1
    for entry in entries:
        _put(ws, row, 1, entry.name)
        _put(ws, row, 2, entry.unit)
        _put(ws, row, 3, entry.count, COUNT_FORMAT)
        row += 1
    return row + 1

def _summary_sheet(ws: Worksheet, data: SummaryData) -> None:
    if data.kind is SummaryKind.DAILY:
        when = f"Ngày {data.as_of.strftime('%d/%m/%Y')}"
    else:
        when = f"Từ {data.period_start.strftime('%d/%m/%Y')} đến {data.period_end.strftime('%d/%m/%Y')}"
    row = _title(ws, [f"TỔNG HỢP PHÁT TRIỂN NGƯỜI THAM GIA · {data.unit_name}", when], 5)
    ws.column_dimensions["A"].width = 34
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 16
    heads = ["Người tham gia mới", "BHYT hộ gia đình", "BHYT được hỗ trợ", "BHXH tự nguyện", "Tổng"]
    for col, text in enumerate(heads, start=1):
        _head_cell(ws, row, col, text)
    row += 1
    periods = [("Hôm nay" if data.kind is SummaryKind.DAILY else "Trong kỳ", data.period_counts)]
    if data.cumulative_counts is not None and data.cumulative_label:
        since = f" (từ {data.cumulative_start.strftime('%d/%m/%Y')})" if data.cumulative_start else ""
        periods.append((data.cumulative_label + since, data.cumulative_counts))
    for label, counts in periods:
        values: list[CellValue] = [
            label, counts.bhyt_household, counts.bhyt_supported, counts.bhxh_voluntary, counts.total
        ]
        for col, value in enumerate(values, start=1):
            _put(ws, row, col, value, COUNT_FORMAT if col > 1 else None)
        row += 1
    row += 1
    row = _ranking_block(ws, row, "Người vận động nhiều nhất", data.agents)
    row = _ranking_block(ws, row, "Tổ dẫn đầu", data.teams)
    reminder_rows = [
        ("Hôm nay" if data.kind is SummaryKind.DAILY else "Trong kỳ", data.reminders_period),
        ("Từ đầu chiến dịch nhắc hạn", data.reminders_to_date),
    ]
    if any(figures is not None for _, figures in reminder_rows):
        for col, text in enumerate(["Nhắc hạn thẻ BHYT", "Đã gửi", "Đến nơi", "Gia hạn sau nhắc"], start=1):
            _head_cell(ws, row, col, text)
        row += 1
        for label, figures in reminder_rows:
            if figures is None:
                continue
            cells: list[CellValue] = [label, figures.sent, figures.reached, figures.renewed]
            for col, value in enumerate(cells, start=1):
                _put(ws, row, col, value, COUNT_FORMAT if col > 1 else None)
            row += 1
        row = _zns_block(ws, row, reminder_rows)


def _zns_block(ws: Worksheet, row: int, reminder_rows: list[tuple[str, ReminderFigures | None]]) -> int:
    """ZNS figures under the reminders (only when ZNS was used): sent, delivered, refused,
    unknown, cost in đồng."""
    shown = [(label, f) for label, f in reminder_rows if f is not None and (f.by_zns or f.refused or f.unknown)]
    if not shown:
        return row
    for col, text in enumerate(["Nhắc qua ZNS", "Đã gửi", "Zalo xác nhận đã giao", "Bị từ chối", "Chưa rõ",
                                "Chi phí (đồng)"], start=1):
        _head_cell(ws, row, col, text)
    row += 1
    for label, figures in shown:
        cells: list[CellValue] = [label, figures.by_zns, figures.zns_delivered, figures.refused, figures.unknown,
                                  figures.zns_cost]
        for col, value in enumerate(cells, start=1):
            _put(ws, row, col, value, COUNT_FORMAT if col > 1 else None)
        row += 1
    return row


def _competition_sheet(ws: Worksheet, data: SummaryData) -> None:
    rules = data.competition_rules
    start = _title(
        ws,
        [
            f"THI ĐUA VẬN ĐỘNG NGƯỜI THÂN · {data.unit_name}",
            f"Chỉ tiêu: {rules.bhyt_share:f}% cán bộ có người thân tham gia BHYT,"
            f" {rules.bhxh_share:f}% có người thân tham gia BHXH tự nguyện",
        ],
        8,
    )
    heads = [
        ("Đơn vị", 30), ("Số cán bộ", 10), ("Có người thân tham gia BHYT", 14),
        ("Tỷ lệ BHYT", 11), ("Đạt BHYT", 9), ("Có người thân tham gia BHXH tự nguyện", 16),
        ("Tỷ lệ BHXH tự nguyện", 12), ("Đạt BHXH tự nguyện", 11),
    ]
    for col, (text, col_width) in enumerate(heads, start=1):
        _head_cell(ws, start, col, text)
        ws.column_dimensions[get_column_letter(col)].width = col_width
    ws.row_dimensions[start].height = 48
    row_no = start + 1
    for r in data.competition:
        values: list[tuple[CellValue, str | None]] = [
            (r.name, None), (r.staff, COUNT_FORMAT), (r.with_bhyt, COUNT_FORMAT),
            (_ratio(r.bhyt_share), PCT_FORMAT), ("Đạt" if r.bhyt_met else "Chưa", None),
            (r.with_bhxh, COUNT_FORMAT), (_ratio(r.bhxh_share), PCT_FORMAT),
            ("Đạt" if r.bhxh_met else "Chưa", None),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            _put(ws, row_no, col, value, fmt)
        row_no += 1


def _landscape(ws: Worksheet, title_rows: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit_to_page(ws)
    ws.print_title_rows = title_rows


def _style_array(cell: StyleableObject) -> StyleArray:
    """A cell's style indices: openpyxl's `_style` slot, which its type stubs leave out."""
    return cast(StyleArray, getattr(cell, "_style"))


def _set_style_array(cell: StyleableObject, style: StyleArray) -> None:
    setattr(cell, "_style", style)  # the slot is absent from openpyxl's type stubs


def copy_sheet(source: Worksheet, target: Worksheet) -> None:
    """Copy values, styles, merges, widths and panes of a sheet into another workbook's sheet.

    openpyxl cannot move a sheet between workbooks; the monthly form is built by
    `bot.monthly_report` as a workbook of its own, so its sheet is copied cell by cell. A form
    has a handful of distinct styles: each is rebuilt in the target once, then reused.
    A text cell read back holds a plain string: assigned as is, "=..." would turn into a
    formula again, so text cells stay text (formula cells of the source stay formulas).
    """
    styles: dict[tuple[int, ...], StyleArray] = {}
    for row in source.iter_rows():
        for cell in row:
            value = safe_cell_value(cell.value) if cell.data_type == "s" else cell.value
            new = target.cell(*coordinate_to_tuple(cell.coordinate), value=value)
            if not cell.has_style:
                continue
            key = tuple(_style_array(cell))  # indices into the source workbook's style tables
            known = styles.get(key)
            if known is not None:
                _set_style_array(new, copy(known))
                continue
            # A copy of a style proxy is the style object itself (Font, Border, ...).
            new.font = cast(Font, copy(cell.font))
            new.border = cast(Border, copy(cell.border))
            new.fill = cast(PatternFill, copy(cell.fill))
            new.number_format = cell.number_format
            new.alignment = cast(Alignment, copy(cell.alignment))
            styles[key] = copy(_style_array(new))
    for merged in source.merged_cells.ranges:
        target.merge_cells(str(merged))
    for letter, column in source.column_dimensions.items():
        target.column_dimensions[letter].width = column.width
    for index, row_dimension in source.row_dimensions.items():
        if row_dimension.height:
            target.row_dimensions[index].height = row_dimension.height
    target.freeze_panes = source.freeze_panes
    target.page_setup.orientation = source.page_setup.orientation
    if source.print_title_rows:
        target.print_title_rows = source.print_title_rows


def _form_too_large_sheet(ws: Worksheet, data: SummaryData, rows: int) -> None:
    """Instead of a form of tens of thousands of rows every evening: where to get it."""
    month = data.period_end
    ws.column_dimensions["A"].width = 100
    lines = [
        (f"Phụ lục 02 tháng {month.month:02d}/{month.year} · {data.unit_name}", Font(bold=True, size=13)),
        (f"{rows:,} người tham gia trong tháng: quá lớn để gửi kèm tin tổng hợp.".replace(",", "."), None),
        (f"Lấy riêng bằng lệnh /xuat {month.month:02d}/{month.year} trong bot, hoặc trên máy chủ:", None),
        (f"bhxh-bot report monthly --month {month.month:02d}/{month.year} --unit {data.unit_code}"
         " --out phu-luc-02.xlsx", Font(name="Courier New")),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        if font is not None:
            cell.font = font


def build_summary_workbook(
    data: SummaryData,
    *,
    month_new: dict[str, int] | None = None,
    monthly_form: bytes | None = None,
    monthly_rows_omitted: int | None = None,
) -> bytes:
    """The workbook as XLSX bytes.

    `month_new`: BHYT entries per unit (rolled up) this month, for column 6 of table 1.
    `monthly_form`: the Phụ lục 02 workbook of `bot.monthly_report.build_workbook`, whose
    first sheet is copied in as the last sheet; `monthly_rows_omitted`: the form was too large
    to attach every evening (a sheet says how to get it instead).
    """
    wb = Workbook()
    summary = first_sheet(wb)
    summary.title = SHEET_SUMMARY
    _summary_sheet(summary, data)
    rows = data.coverage_rows
    if rows:
        _bhyt_sheet(wb.create_sheet(SHEET_BHYT), data, month_new or {})
        if _has(rows, Measure.BHXH):
            _bhxh_sheet(wb.create_sheet(SHEET_BHXH), data)
        if _has(rows, Measure.BHTN):
            _bhtn_sheet(wb.create_sheet(SHEET_BHTN), data)
    if data.competition:
        _competition_sheet(wb.create_sheet(SHEET_COMPETITION), data)
    if monthly_form is not None:
        source = load_workbook(io.BytesIO(monthly_form)).worksheets[0]
        copy_sheet(source, wb.create_sheet(SHEET_MONTHLY))
    elif monthly_rows_omitted is not None:
        _form_too_large_sheet(wb.create_sheet(SHEET_MONTHLY), data, monthly_rows_omitted)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "bao-cao"


def workbook_filename(data: SummaryData, ext: str = "xlsx") -> str:
    """tong-hop_2026-11-23_huyen-cang-long.xlsx: ASCII, safe on every phone and mail client."""
    if data.kind is SummaryKind.DAILY:
        when = data.as_of.isoformat()
    else:
        when = f"{data.period_start.isoformat()}_{data.period_end.isoformat()}"
    prefix = "bao-cao" if data.kind is SummaryKind.RANGE else "tong-hop"
    return f"{prefix}_{when}_{_slug(data.unit_name)}.{ext}"
