"""bot/imports/tables.py: reading by content, NFC everywhere, cell values as openpyxl gives them."""

from __future__ import annotations

import codecs
import io
import unicodedata
from datetime import date, datetime

import openpyxl
import pytest

from bot.imports.tables import (
    Format,
    Limits,
    Percent,
    TableError,
    TableProblem,
    decode_text,
    excel_serial_day,
    read_table,
    sniff_format,
)
from devtools import hostile_files as hostile

DECOMPOSED = unicodedata.normalize("NFD", "Nguyễn Thị Hường")


def test_text_cells_of_an_xlsx_come_out_nfc_inline_shared_and_phonetic() -> None:
    inline = hostile.row_xml(1, [DECOMPOSED, 7])
    phonetic = ('<row r="3"><c r="A3" t="inlineStr"><is><r><t>Ng</t></r><rPh><t>XX</t></rPh>'
                "<r><t>uyễn</t></r></is></c></row>")
    shared = '<row r="5"><c r="B5" t="s"><v>0</v></c></row>'
    data = hostile.xlsx_of([inline, phonetic, shared], shared_strings=[DECOMPOSED])
    assert list(read_table(data)) == [
        (1, ["Nguyễn Thị Hường", 7]),
        (3, ["Nguyễn"]),
        (5, [None, "Nguyễn Thị Hường"]),
    ]


def test_values_match_what_openpyxl_wrote() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["chữ", 12, 3.5, datetime(2026, 12, 31), date(1985, 1, 2), 0.95, True])
    sheet["F1"].number_format = "0.00%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    ((number, cells),) = list(read_table(buffer.getvalue()))
    assert number == 1
    assert cells == ["chữ", 12, 3.5, datetime(2026, 12, 31), datetime(1985, 1, 2), 0.95, True]
    assert isinstance(cells[5], Percent) and not isinstance(cells[2], Percent)


def test_format_is_decided_by_content() -> None:
    xlsx = hostile.xlsx_of([hostile.row_xml(1, ["a"])])
    assert sniff_format(xlsx, "no_extension") is Format.XLSX
    assert sniff_format(b"a,b\n1,2\n", "list.xlsx") is Format.TEXT  # a CSV misnamed .xlsx
    assert sniff_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "") is Format.OLD_EXCEL
    assert sniff_format(b"%PDF-1.7", "list.csv") is Format.OTHER
    assert sniff_format(b"plain words", "photo.jpg") is Format.OTHER
    zipped = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert sniff_format(zipped.getvalue(), "x.xlsx") is Format.OTHER  # a .docx renamed


def test_decoding_boms_utf16_without_bom_and_windows_1258() -> None:
    text = "Mã số BHXH\tHọ và tên\n8423000001\tNguyễn Thị Hường\n"
    assert decode_text(codecs.BOM_UTF8 + text.encode()) == text
    assert decode_text(codecs.BOM_UTF16_BE + text.encode("utf-16-be")) == text
    assert decode_text(codecs.BOM_UTF32_LE + text.encode("utf-32-le")) == text
    assert decode_text(text.encode("utf-16-le")) == text
    assert decode_text(hostile.to_cp1258(text)) == text
    assert decode_text(DECOMPOSED.encode()) == "Nguyễn Thị Hường"
    with pytest.raises(TableError) as caught:
        decode_text(b"\x01\x02\x03\x04binary\x05\x06\x07")
    assert caught.value.problem is TableProblem.FORMAT


def test_separators_and_line_numbers() -> None:
    rows = list(read_table("a;b\n1;\"x\ny\"\n2;z\n".encode()))
    assert rows == [(1, ["a", "b"]), (2, ["1", "x\ny"]), (4, ["2", "z"])]
    assert list(read_table(b"a\tb\n1\t2\n")) == [(1, ["a", "b"]), (2, ["1", "2"])]


def test_excel_serials_in_both_date_systems() -> None:
    assert excel_serial_day(1) == date(1900, 1, 1)
    assert excel_serial_day(45291) == date(2023, 12, 31)
    assert excel_serial_day(0, date1904=True) == date(1904, 1, 1)
    assert excel_serial_day(43829, date1904=True) == date(2023, 12, 31)
    for bad in (60, 0.5, float("nan"), 10**9):
        with pytest.raises(ValueError):
            excel_serial_day(bad)


def test_limits_scale_with_the_callers_row_cap() -> None:
    chat, cli = Limits().with_rows(20_000), Limits()
    assert chat.row_budget == 21_000 and cli.row_budget == 201_000
    assert chat.cell_budget < cli.cell_budget <= 5_000_000
    assert chat.string_budget == 21_000 * 12 and cli.string_budget == 1_000_000
    assert chat.unpacked_budget < cli.unpacked_budget == 160 * 1024 * 1024
