"""The seed 002 form (Phụ lục 02) as XLSX, read back with openpyxl; and the CLI that writes it."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from bot.bootstrap import build_services
from bot.cli import main
from bot.domain.clock import ManualClock
from bot.domain.enrolment import parse_line
from bot.domain.records import ReportRow
from bot.reports.monthly_xlsx import COLUMNS, HEADER_ROW, TOTAL_LABEL, build_workbook, payment_mode, report_filename
from bot.services.enrolment import Logged
from bot.settings import Settings
from tests.agent_world import AN, BINH, CUONG, seed_world
from tests.conftest import ADMIN_ID, DEFAULT_NOW

ROWS = [
    ReportRow(1, "Nguyễn Thị Hoa", "Xã Tân An", "Tổ 1", "Nguyễn Văn An", "8423001234",
              "bhyt_household", 12, 1_366_200, date(2026, 11, 3)),
    ReportRow(2, "Nguyễn Thị Hoa", "Xã Tân An", "Tổ 1", "Trần Thị Bình", "8423005678",
              "bhxh_voluntary", 1, 264_000, date(2026, 11, 4)),
    ReportRow(3, "Trần Văn Bình", "Xã Tân An", None, "Lê Thị Cúc", "001203004567",
              "bhyt_supported", 6, 204_930, date(2026, 11, 5)),
    ReportRow(4, "Trần Văn Bình", "Xã Tân An", None, "Phạm Văn Dũng", "8423009999",
              "bhxh_voluntary", 12, 11_616_000, date(2026, 11, 6)),
]


def read(content: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(content)).active


def test_form_columns_rows_and_totals() -> None:
    ws = read(build_workbook(ROWS, date(2026, 11, 1), "Tổ 1", date(2026, 12, 1), mask_codes=False))
    assert ws["A1"].value == "BÁO CÁO KẾT QUẢ PHÁT TRIỂN NGƯỜI THAM GIA THEO NHÓM"
    assert ws["A2"].value == "Tháng 11/2026"
    header = [c.value for c in ws[HEADER_ROW]]
    assert header == [label for label, _ in COLUMNS]
    assert header[0] == "STT" and header[5] == "Mã số BHXH người tham gia"
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + 4)]
    assert body[0] == [1, "Nguyễn Thị Hoa", "Xã Tân An", "Tổ 1", "Nguyễn Văn An", "8423001234",
                       None, 1_366_200, "12 tháng"]
    assert body[1][6:] == [264_000, None, "Hằng tháng"]
    assert body[2][3] is None or body[2][3] == ""
    assert body[3][0] == 4 and body[3][5] == "8423009999"
    total = [c.value for c in ws[HEADER_ROW + 5]]
    assert total[1] == TOTAL_LABEL and total[4] == "4 người"
    assert total[6] == 264_000 + 11_616_000
    assert total[7] == 1_366_200 + 204_930
    # Sums of the body equal the total row, read back as numbers.
    assert sum(r[6] or 0 for r in body) == total[6] and sum(r[7] or 0 for r in body) == total[7]
    assert ws.cell(HEADER_ROW + 1, 8).number_format == "#,##0"
    assert ws.column_dimensions["B"].width >= 20 and ws.column_dimensions["E"].width >= 20
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"


def test_codes_masked_for_scopes_that_need_no_more() -> None:
    ws = read(build_workbook(ROWS, date(2026, 11, 1), "Xã Tân An", date(2026, 12, 1), mask_codes=True))
    codes = [ws.cell(HEADER_ROW + i, 6).value for i in range(1, 5)]
    assert codes == ["84*****234", "84*****678", "00*******567", "84*****999"]
    assert "8423001234" not in str([[c.value for c in row] for row in ws.iter_rows()])


def test_empty_month_still_has_a_total_row() -> None:
    ws = read(build_workbook([], date(2026, 11, 1), "Tổ 1", date(2026, 12, 1), mask_codes=False))
    total = [c.value for c in ws[HEADER_ROW + 1]]
    assert total[1] == TOTAL_LABEL and total[6] == 0 and total[7] == 0


def test_helpers() -> None:
    assert payment_mode("bhxh_voluntary", 1) == "Hằng tháng"
    assert payment_mode("bhyt_household", 3) == "3 tháng"
    assert report_filename(date(2026, 11, 1), "Tổ 3 · Xã Đức Mỹ") == "phu-luc-02_2026-11_to-3-xa-duc-my.xlsx"


async def _seed(db_path: Path) -> None:
    settings = Settings(_env_file=None, database_path=db_path, admin_telegram_ids=(ADMIN_ID,))  # type: ignore[call-arg]
    services = build_services(settings, ManualClock(DEFAULT_NOW))
    await services.storage.connect()
    try:
        world = await seed_world(services, DEFAULT_NOW)
        lines = {
            AN.user_id: ["bhyt Nguyễn Văn An 8423001234 12 tháng", "bhxh Trần Thị Bình 8423005678 1,5tr hằng tháng"],
            BINH.user_id: ["bhyt cận nghèo Lê Thị Cúc 8423009999 6 tháng"],
            CUONG.user_id: ["bhyt Lê Văn Năm 8423000004 6 tháng"],
        }
        for user_id, entries in lines.items():
            who = await services.members.get(world.member_ids[user_id])
            assert who is not None
            for line in entries:
                assert isinstance(await services.enrolments.log(who, parse_line(line).draft), Logged)
    finally:
        await services.storage.close()


def test_cli_writes_the_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "bot.sqlite3"
    asyncio.run(_seed(db_path))
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.chdir(tmp_path)  # no stray .env
    out = tmp_path / "out" / "phu-luc-02.xlsx"
    assert main(["report", "monthly", "--month", "11/2026", "--unit", "CL01", "--out", str(out)]) == 0
    ws = read(out.read_bytes())
    names = [ws.cell(HEADER_ROW + i, 5).value for i in range(1, 4)]
    assert sorted(names) == ["Lê Thị Cúc", "Nguyễn Văn An", "Trần Thị Bình"]
    total = [c.value for c in ws[HEADER_ROW + 4]]
    assert total[1] == TOTAL_LABEL
    assert total[6] == 264_000 and total[7] == 1_366_200 + 204_930
    assert "3 participants" in capsys.readouterr().out

    everything = tmp_path / "all.xlsx"
    assert main(["report", "monthly", "--month", "11/2026", "--out", str(everything), "--mask-codes"]) == 0
    ws = read(everything.read_bytes())
    assert ws.cell(HEADER_ROW + 5, 2).value == TOTAL_LABEL
    assert all("*" in str(ws.cell(HEADER_ROW + i, 6).value) for i in range(1, 5))


def test_cli_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.sqlite3"))
    assert main(["report", "monthly", "--month", "11/2026", "--out", "x.xlsx"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err
    db_path = tmp_path / "bot.sqlite3"
    asyncio.run(_seed(db_path))
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    assert main(["report", "monthly", "--month", "11/2026", "--unit", "NOPE", "--out", "x.xlsx"]) == 1
    assert "unit 'NOPE' not found" in capsys.readouterr().err
    assert main(["report", "monthly", "--month", "11/2026", "--out", "x.csv"]) == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "monthly", "--month", "13/2026", "--out", "x.xlsx"])
    assert exit_info.value.code == 2


def test_names_that_look_like_formulas_are_written_as_text() -> None:
    """A name or unit starting with = + - @ (typed in a chat, imported from a list) must not
    become a formula in the form: read back, every such cell is text with every character."""
    risky = ['=HYPERLINK("http://x.test","bấm")', "+84 Nguyễn", "-Trần Văn An", "@Tổ 1"]
    rows = [
        ReportRow(i, risky[0], risky[1], risky[3], risky[2], "8423001234", "bhyt_household", 12, 1_366_200,
                  date(2026, 11, 3))
        for i in (1, 2)
    ]
    ws = read(build_workbook(rows, date(2026, 11, 1), "=Tổ 1", date(2026, 12, 1), mask_codes=False))
    assert [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"] == []
    body = [c.value for c in ws[HEADER_ROW + 1]]
    assert body[1:5] == [risky[0], risky[1], risky[3], risky[2]]
    assert all(ws.cell(HEADER_ROW + 1, col).data_type == "s" for col in (2, 3, 4, 5))
    assert ws["A3"].value.endswith("· =Tổ 1")
