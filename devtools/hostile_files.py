"""Hostile and odd XLSX files built byte by byte (shared by tests and bench/bench_uploads.py).

openpyxl cannot write the shapes an attacker (or a damaged export) produces, so these are
assembled from raw parts: a tiny workbook declaring a sheet up to column XFD and row 120.000,
a row numbered 1.048.576, millions of shared strings, a part that unpacks to hundreds of MB.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO
from xml.sax.saxutils import escape

CARD_HEADER = ["Họ và tên", "Mã số BHXH", "Mã đơn vị", "Hạn thẻ đến"]

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _workbook_rels(strings: bool) -> str:
    extra = f'<Relationship Id="rId2" Type="{_REL}sharedStrings" Target="sharedStrings.xml"/>' if strings else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}worksheet" Target="worksheets/sheet1.xml"/>{extra}'
        "</Relationships>"
    )


def _column(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def row_xml(number: int, values: Iterable[object], first_column: int = 1) -> str:
    """One ``<row>`` with inline strings (text) or numbers."""
    cells = []
    for offset, value in enumerate(values):
        ref = f"{_column(first_column + offset)}{number}"
        if isinstance(value, (int, float)):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif value is not None:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _sheet_head(dimension: str | None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>"
    )


_SHEET_TAIL = "</sheetData></worksheet>"


def xlsx_of(
    sheet_rows: Iterable[str],
    dimension: str | None = None,
    shared_strings: Iterable[str] | None = None,
    *,
    level: int = 6,
    declared_strings: int | None = None,
) -> bytes:
    """A minimal valid XLSX whose sheet holds ``sheet_rows`` (``<row>`` XML), streamed into
    the zip so that even a huge sheet never sits in memory as one string."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(shared_strings is not None))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            _stream(sheet, [_sheet_head(dimension)], sheet_rows, [_SHEET_TAIL])
        if shared_strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                count = f' count="{declared_strings}" uniqueCount="{declared_strings}"' if declared_strings else ""
                head = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"{count}>'
                _stream(part, [head], (f"<si><t>{escape(s)}</t></si>" for s in shared_strings), ["</sst>"])
    return buffer.getvalue()


def _stream(target: IO[bytes], *parts: Iterable[str]) -> None:
    batch: list[str] = []
    size = 0
    for part in parts:
        for piece in part:
            batch.append(piece)
            size += len(piece)
            if size > 1 << 20:
                target.write("".join(batch).encode())
                batch, size = [], 0
    target.write("".join(batch).encode())


def card_rows(count: int, start: int = 2, unit: str = "CL13", valid_to: str = "31/12/2026") -> Iterator[str]:
    for i in range(count):
        yield row_xml(start + i, [f"Người {i}", f"{8400000000 + i}", unit, valid_to])


def huge_declared_range() -> bytes:
    """~2 KiB: a header, then a sheet declared up to XFD120000 with a value in that corner."""
    rows = [row_xml(1, CARD_HEADER), row_xml(2, ["An", "8400000001", "CL13", "31/12/2026"]),
            row_xml(120_000, ["x"], first_column=16_384)]
    return xlsx_of(rows, dimension="A1:XFD120000")


def last_row_numbered(dimension: str | None = "A1:D1048576", with_value: bool = True) -> bytes:
    """A two-row list plus a row numbered 1.048.576 (Excel's last): openpyxl walks every row
    in between. With ``with_value=False`` that row only carries a formatted empty cell."""
    last = row_xml(1_048_576, ["cuối"]) if with_value else '<row r="1048576"><c r="A1048576" s="0"/></row>'
    rows = [row_xml(1, CARD_HEADER), row_xml(2, ["An", "8400000001", "CL13", "31/12/2026"]), last]
    return xlsx_of(rows, dimension=dimension)


def many_shared_strings(count: int = 3_000_000, declared: bool = True) -> bytes:
    """A small list whose shared-strings part holds millions of entries (a few hundred KiB)."""
    strings = (str(i) for i in range(count))
    return xlsx_of(
        [row_xml(1, CARD_HEADER)], dimension="A1:D1", shared_strings=strings, level=9,
        declared_strings=count if declared else None,
    )


def zip_bomb(unpacked_mb: int = 200) -> bytes:
    """A sheet padded with whitespace inside a row: a few hundred KiB unpacking to hundreds of MB."""
    padding = (" " * (1 << 20) for _ in range(unpacked_mb))
    rows = _chain([row_xml(1, CARD_HEADER), '<row r="2">'], padding, ["</row>"])
    return xlsx_of(rows, dimension="A1:D2", level=9)


def many_cells(rows: int = 1_000_000) -> bytes:
    """Rows of formatted empty cells, no dimension: the cell budget, not the data, is the bound."""
    body = (f'<row r="{n}"><c r="A{n}" s="0"/><c r="B{n}" s="0"/></row>' for n in range(2, rows + 2))
    return xlsx_of(_chain([row_xml(1, CARD_HEADER)], body), dimension=None, level=9)


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Text as Vietnamese Windows writes it ("ANSI", code page 1258): letters with a
    precomposed shape where the code page has one (â, ê, ô, ơ, ư, ă, đ) and the tone mark as a
    separate combining character after it ("ệ" = "ê" + U+0323)."""
    import unicodedata

    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        out.append((base + tones).encode("cp1258"))
    return b"".join(out)
