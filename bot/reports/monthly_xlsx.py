"""The monthly team report of seed 002 (*Phụ lục 02*) as an XLSX workbook.

Before the 2nd of every month team leaders send "Báo cáo kết quả phát triển người tham gia theo
nhóm": one row per participant with the agent, the agent's unit, the team, the participant, the
participant's BHXH code, the voluntary-BHXH and BHYT amounts paid, the payment mode, and a total
row. The bot writes that form from the logged entries, so nobody re-types them into Excel.
Names typed in chats and unit names from imported lists go through
`bot.xlsx_safe.safe_cell_value`: text starting with = + - @ is written as text, not a formula.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.privacy import mask_code
from bot.domain.records import ReportRow
from bot.reports.sheets import first_sheet, fit_to_page
from bot.reports.xlsx_safe import CellValue, safe_cell_value

__all__ = ["COLUMNS", "ReportTotals", "build_workbook", "payment_mode", "report_filename", "totals"]

TITLE = "BÁO CÁO KẾT QUẢ PHÁT TRIỂN NGƯỜI THAM GIA THEO NHÓM"
SUBTITLE = "(Phụ lục 02: phát triển người tham gia BHXH tự nguyện, BHYT tự đóng)"
COLUMNS: tuple[tuple[str, int], ...] = (
    ("STT", 6),
    ("Họ và tên người phát triển BHXH, BHYT", 28),
    ("Đơn vị công tác", 24),
    ("Nhóm phát triển", 16),
    ("Họ và tên người tham gia BHXH, BHYT", 28),
    ("Mã số BHXH người tham gia", 18),
    ("Số tiền người tham gia đóng BHXH tự nguyện", 20),
    ("Số tiền người tham gia đóng BHYT", 18),
    ("Phương thức đóng", 16),
)
HEADER_ROW = 5
MONEY_FORMAT = "#,##0"
TOTAL_LABEL = "Tổng cộng"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class ReportTotals:
    participants: int
    bhxh_amount: int
    bhyt_amount: int


def payment_mode(scheme: str, months: int) -> str:
    """How the participant pays: "Hằng tháng" (voluntary BHXH monthly) or "12 tháng"."""
    if scheme == "bhxh_voluntary" and months == 1:
        return "Hằng tháng"
    return f"{months} tháng"


def totals(rows: list[ReportRow]) -> ReportTotals:
    bhxh = sum(r.amount_paid for r in rows if r.scheme == "bhxh_voluntary")
    bhyt = sum(r.amount_paid for r in rows if r.scheme != "bhxh_voluntary")
    return ReportTotals(len(rows), bhxh, bhyt)


def report_filename(month: date, scope_label: str) -> str:
    """phu-luc-02_2026-11_to-3.xlsx: ASCII, safe on every phone and mail client."""
    plain = unicodedata.normalize("NFD", scope_label.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if unicodedata.category(ch) != "Mn").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "bao-cao"
    return f"phu-luc-02_{month.year:04d}-{month.month:02d}_{slug}.xlsx"


def build_workbook(
    rows: list[ReportRow],
    month: date,
    scope_label: str,
    generated_on: date,
    mask_codes: bool,
) -> bytes:
    """The form as XLSX bytes: title, month, header, one row per participant, total row."""
    wb = Workbook()
    ws = first_sheet(wb)
    ws.title = f"Tháng {month.month:02d}-{month.year}"
    last_col = get_column_letter(len(COLUMNS))
    _title_rows(ws, month, scope_label, last_col)
    for index, (label, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=index, value=label)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.row_dimensions[HEADER_ROW].height = 48
    row_no = HEADER_ROW
    for number, entry in enumerate(rows, start=1):
        row_no = HEADER_ROW + number
        voluntary = entry.scheme == "bhxh_voluntary"
        values: list[CellValue] = [
            number,
            entry.agent_name,
            entry.agent_unit,
            entry.team_name or "",
            entry.participant_name,
            mask_code(entry.participant_code) if mask_codes else entry.participant_code,
            entry.amount_paid if voluntary else None,
            None if voluntary else entry.amount_paid,
            payment_mode(entry.scheme, entry.months),
        ]
        _write_row(ws, row_no, values)
    total = totals(rows)
    total_row = row_no + 1
    _write_row(
        ws,
        total_row,
        [None, TOTAL_LABEL, None, None, f"{total.participants} người", None,
         total.bhxh_amount, total.bhyt_amount, None],
        bold=True,
    )
    footer = total_row + 2
    ws.cell(row=footer, column=7, value=f"Ngày lập: {generated_on.strftime('%d/%m/%Y')}")
    ws.cell(row=footer + 1, column=7, value="TRƯỞNG NHÓM").font = Font(bold=True)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1).coordinate
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    fit_to_page(ws)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _title_rows(ws: Worksheet, month: date, scope_label: str, last_col: str) -> None:
    lines = (
        (TITLE, Font(bold=True, size=14)),
        (f"Tháng {month.month:02d}/{month.year}", Font(bold=True, size=12)),
        (f"{SUBTITLE} · {scope_label}", Font(italic=True)),
    )
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=safe_cell_value(text))
        cell.font = font
        cell.alignment = Alignment(horizontal="center")
        ws.merge_cells(f"A{row}:{last_col}{row}")


def _write_row(ws: Worksheet, row: int, values: list[CellValue], bold: bool = False) -> None:
    for column, value in enumerate(values, start=1):
        # Names and units come from chats and imported lists: text, never a formula.
        cell = ws.cell(row=row, column=column, value=safe_cell_value(value))
        cell.border = _BOX
        if bold:
            cell.font = Font(bold=True)
        if column in (7, 8):
            cell.number_format = MONEY_FORMAT
        if column == 1:
            cell.alignment = Alignment(horizontal="center")
