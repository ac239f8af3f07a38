"""Small typed helpers over openpyxl sheets shared by the report builders.

openpyxl's types allow for what a report never meets (a workbook without an active sheet, a
sheet without page-setup properties); these helpers state the invariant once, so the builders
work on a plain `Worksheet`.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet


def first_sheet(wb: Workbook) -> Worksheet:
    """The worksheet a new workbook opens on (openpyxl creates one with every workbook)."""
    ws = wb.active
    if not isinstance(ws, Worksheet):  # a chart sheet or none: never for a workbook we create
        raise TypeError(f"expected a worksheet, got {type(ws).__name__}")
    return ws


def fit_to_page(ws: Worksheet) -> None:
    """Print the sheet scaled to the page width (Excel's "fit to page" flag plus the setup)."""
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
