"""bot.reports.xlsx_safe: text from lists and chats is written as text, never as a formula."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from bot.reports.xlsx_safe import safe_cell_value

RISKY = ["=1+1", '=HYPERLINK("http://x.example")', "+84 912", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize("write_only", [False, True])
def test_risky_text_is_stored_as_text_and_reads_back_unchanged(write_only: bool) -> None:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    sheet.append([safe_cell_value(v) for v in RISKY])
    buffer = io.BytesIO()
    book.save(buffer)
    (row,) = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0].iter_rows()
    assert [c.data_type for c in row] == ["s"] * len(RISKY)
    assert [c.value for c in row] == RISKY


def test_other_values_pass_through() -> None:
    for value in (None, 12, -5, 1.5, date(2026, 1, 1), "Nguyễn Thị Hoa", "", "Ấp 1 = Ấp Một"):
        safe = safe_cell_value(value)
        assert safe == value and type(safe) is type(value)
    assert safe_cell_value("A\x01B\x1fC") == "ABC"  # XML cannot hold these: dropped, not a crash
