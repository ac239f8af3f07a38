"""The summary workbook read back with openpyxl: seed 003's tables, the database, Phụ lục 02."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.bootstrap import build_services
from bot.domain.clock import ManualClock
from bot.domain.enrolment import parse_line
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from bot.domain.summary import SummaryKind
from bot.imports.organisation import import_units
from bot.reports.summary_xlsx import (
    BHTN_HEADERS,
    BHYT_HEADERS,
    REMAINING_FORMAT,
    SHEET_BHTN,
    SHEET_BHXH,
    SHEET_BHYT,
    SHEET_MONTHLY,
    SHEET_SUMMARY,
)
from bot.services import Services
from bot.services.enrolment import Logged
from bot.settings import Settings
from tests.conftest import ADMIN_ID

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "data" / "samples"
DAY = date(2026, 11, 23)

# Seed 003, table 1 (as printed): population, participants, coverage %, target %,
# % of target, still to mobilise.
SEED_BHYT = {
    "Thị trấn Càng Long": (13737, 12787, "93.08", "95.00", "97.98", 263),
    "Xã Mỹ Cẩm": (10854, 10109, "93.14", "95.00", "98.04", 202),
    "Xã An Trường A": (7707, 7397, "95.98", "95.00", "101.03", -75),
    "Xã An Trường": (14023, 13510, "96.34", "95.00", "101.41", -188),
    "Xã Huyền Hội": (15486, 12350, "79.75", "95.00", "83.95", 2362),
    "Xã Tân An": (10397, 9401, "90.42", "95.00", "95.18", 476),
    "Xã Tân Bình": (11619, 10361, "89.17", "95.00", "93.87", 677),
    "Xã Bình Phú": (14753, 13388, "90.75", "95.00", "95.52", 627),
    "Xã Phương Thạnh": (12398, 10170, "82.03", "95.00", "86.35", 1608),
    "Xã Đại Phúc": (4623, 4181, "90.44", "95.00", "95.20", 211),
    "Xã Đại Phước": (8792, 7723, "87.84", "95.00", "92.46", 629),
    "Xã Nhị Long Phú": (6707, 6059, "90.34", "95.00", "95.09", 313),
    "Xã Nhị Long": (7631, 6947, "91.04", "95.00", "95.83", 302),
    "Xã Đức Mỹ": (10079, 8217, "81.53", "95.00", "85.82", 1358),
    "Tổng cộng": (148806, 132600, "89.11", "95.00", "93.80", 8766),
}
# Seed 003, table 2: labour force, compulsory, voluntary, total, % of labour force (total,
# voluntary), % of target (total, voluntary), still to mobilise (compulsory, voluntary).
SEED_BHXH = {
    "Thị trấn Càng Long": (7006, 1157, 407, 1564, "22.32", "5.81", "85.63", "86.71", 200, 62),
    "Xã Mỹ Cẩm": (5536, 621, 229, 850, "15.35", "4.14", "76.43", "59.43", 106, 156),
    "Xã An Trường A": (3931, 403, 137, 540, "13.74", "3.49", "73.26", "63.14", 117, 80),
    "Xã An Trường": (7152, 1206, 225, 1431, "20.01", "3.15", "95.37", "77.30", 3, 66),
    "Xã Huyền Hội": (7898, 1144, 378, 1522, "19.27", "4.79", "84.23", "76.70", 170, 115),
    "Xã Tân An": (5302, 793, 225, 1018, "19.20", "4.24", "76.01", "52.72", 119, 202),
    "Xã Tân Bình": (5926, 820, 317, 1137, "19.19", "5.35", "83.64", "77.64", 131, 91),
    "Xã Bình Phú": (7524, 1035, 320, 1355, "18.01", "4.25", "77.33", "84.72", 347, 58),
    "Xã Phương Thạnh": (6320, 958, 362, 1320, "20.89", "5.73", "84.25", "81.02", 162, 85),
    "Xã Đại Phúc": (2358, 445, 148, 593, "25.15", "6.28", "105.27", "96.71", -35, 5),
    "Xã Đại Phước": (4484, 720, 184, 904, "20.16", "4.10", "85.28", "72.12", 85, 71),
    "Xã Nhị Long Phú": (3421, 439, 145, 584, "17.07", "4.24", "75.64", "65.92", 113, 75),
    "Xã Nhị Long": (3892, 663, 274, 937, "24.08", "7.04", "93.50", "93.25", 45, 20),
    "Xã Đức Mỹ": (5140, 437, 146, 583, "11.34", "2.84", "71.52", "59.30", 132, 100),
}
SEED_BHXH_TOTAL = (75890, 10841, 3497, 14338, "18.89", "4.61", "83.27", "74.72", 1695, 1186)
# Where seed 003's second table contradicts its own figures, the workbook keeps the arithmetic:
# - Xã Bình Phú, compulsory still to mobilise: round(23,29% x 7.524 - 1.355) - round(5,02% x
#   7.524 - 320) = 397 - 58 = 339; the seed prints 347 (its total 1.695 adds that 347);
# - total, voluntary % of target: 4,6080% / 6,17% = 74,68%; the seed divides the rounded
#   4,61% (74,72%), while every other ratio of the table, its total 83,27% included, is
#   computed unrounded;
# - total, compulsory still to mobilise: round(exact total gap) - 1.186 = 1.690 (bot.coverage).
SEED_BHXH_SLIPS = {("Xã Bình Phú", 8): 339, ("Tổng cộng", 7): "74.68", ("Tổng cộng", 8): 1690}
# Seed 003, table 3: labour force, participants, coverage %, target %, % of target, remaining.
SEED_BHTN = {
    "Thị trấn Càng Long": (7006, 1137, "16.23", "18.73", "86.65", 175),
    "Xã Mỹ Cẩm": (5536, 601, "10.86", "12.14", "89.43", 71),
    "Xã An Trường A": (3931, 383, "9.74", "11.83", "82.36", 82),
    "Xã An Trường": (7152, 1186, "16.58", "16.14", "102.74", -32),
    "Xã Huyền Hội": (7898, 1124, "14.23", "15.94", "89.28", 135),
    "Xã Tân An": (5302, 773, "14.58", "16.16", "90.22", 84),
    "Xã Tân Bình": (5926, 800, "13.50", "15.12", "89.28", 96),
    "Xã Bình Phú": (7524, 1015, "13.49", "17.65", "76.43", 313),
    "Xã Phương Thạnh": (6320, 938, "14.84", "17.32", "85.69", 157),
    "Xã Đại Phúc": (2358, 425, "18.02", "16.75", "107.60", -30),
    "Xã Đại Phước": (4484, 700, "15.61", "17.62", "88.60", 90),
    "Xã Nhị Long Phú": (3421, 419, "12.25", "14.53", "84.29", 78),
    "Xã Nhị Long": (3892, 643, "16.52", "16.78", "98.46", 10),
    "Xã Đức Mỹ": (5140, 417, "8.11", "9.94", "81.62", 94),
    "Tổng cộng": (75890, 10561, "13.92", "15.66", "88.86", 1323),
}
AGENT_ID = 7101
OFFICIAL_ID = 7102


@pytest.fixture
async def services(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_path=tmp_path / "wb.sqlite3", admin_telegram_ids=(ADMIN_ID,)
    )
    built = build_services(settings, clock)
    await built.storage.connect()
    report = await import_units(SAMPLES / "units_cang_long.csv", built.units, clock)
    assert report.rows_ok == 15
    try:
        yield built
    finally:
        await built.storage.close()


def pct(value: object) -> str:
    """A '%'-formatted cell (a fraction) as the seed prints it: percent, 2 places, half up."""
    assert isinstance(value, float)
    return str((Decimal(repr(value)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def table(ws: Worksheet, first_row: int) -> dict[str, tuple[object, ...]]:
    out = {}
    for row in ws.iter_rows(min_row=first_row, values_only=True):
        if row[1]:
            out[str(row[1]).strip()] = row
    return out


async def workbook(services: Services, unit: str = "CL"):  # type: ignore[no-untyped-def]
    package = await services.summaries.build(unit, SummaryKind.DAILY, DAY)
    return package, load_workbook(io.BytesIO(package.workbook))


async def test_coverage_tables_equal_seed_003(services: Services) -> None:
    _, wb = await workbook(services)
    assert wb.sheetnames[:4] == [SHEET_SUMMARY, SHEET_BHYT, SHEET_BHXH, SHEET_BHTN]

    bhyt = wb[SHEET_BHYT]
    assert [c.value for c in bhyt[4]] == [h[0] for h in BHYT_HEADERS]
    assert [c.value for c in bhyt[5]] == ["A", "B", "1", "2", "3=2/1", "4", "5=3/4", "6", "7"]
    rows = table(bhyt, 6)
    assert set(rows) == set(SEED_BHYT)
    for name, (population, participants, coverage, target, of_target, remaining) in SEED_BHYT.items():
        row = rows[name]
        assert (row[2], row[3], row[8]) == (population, participants, remaining), name
        assert (pct(row[4]), pct(row[5]), pct(row[6])) == (coverage, target, of_target), name
    assert list(rows)[-1] == "Tổng cộng"
    assert bhyt.cell(row=6, column=5).number_format == "0.00%"
    assert bhyt.cell(row=6, column=9).number_format == REMAINING_FORMAT  # (75) in brackets

    bhxh = table(wb[SHEET_BHXH], 7)
    for name, seed in {**SEED_BHXH, "Tổng cộng": SEED_BHXH_TOTAL}.items():
        row = bhxh[name]
        got = (row[2], row[5], row[6], row[7], pct(row[8]), pct(row[9]), pct(row[10]), pct(row[11]), row[12], row[13])
        expected = tuple(SEED_BHXH_SLIPS.get((name, i), value) for i, value in enumerate(seed))
        assert got == expected, name

    bhtn_ws = wb[SHEET_BHTN]
    assert [c.value for c in bhtn_ws[4]] == [h[0] for h in BHTN_HEADERS]
    bhtn = table(bhtn_ws, 6)
    for name, (labour, participants, coverage, target, of_target, remaining) in SEED_BHTN.items():
        row = bhtn[name]
        assert (row[2], row[3], row[7]) == (labour, participants, remaining), name
        assert (pct(row[4]), pct(row[5]), pct(row[6])) == (coverage, target, of_target), name


async def test_workbook_follows_the_database(services: Services) -> None:
    now = services.clock.now()
    agent_id = await services.members.add(
        full_name="Nguyễn Thị Hoa", role=Role.AGENT, unit_code="CL06", actor=CLI_ACTOR, at=now, user_id=AGENT_ID, channel="telegram"
    )
    agent = await services.members.get(agent_id)
    assert agent is not None
    lines = [
        "bhyt Nguyễn Văn An 8423001234 12 tháng",
        "bhyt Trần Văn Ba 8423001235 6 tháng",
        "bhyt cận nghèo Lê Thị Tư 8423001236 12 tháng",
        "bhxh Phạm Văn Năm 8423001237 2tr 12 tháng",
    ]
    for line in lines:
        assert isinstance(await services.enrolments.log(agent, parse_line(line).draft), Logged)

    package, wb = await workbook(services)
    db_bhyt = int(await services.storage.db.fetchval(
        "SELECT COUNT(*) FROM enrolments WHERE status = 'active' AND scheme != 'bhxh_voluntary'"))
    assert db_bhyt == 3
    bhyt = table(wb[SHEET_BHYT], 6)
    assert bhyt["Xã Tân An"][3] == 9401 + db_bhyt
    assert bhyt["Tổng cộng"][3] == 132600 + db_bhyt
    assert bhyt["Xã Tân An"][8] == 476 - db_bhyt
    assert pct(bhyt["Xã Tân An"][7]) == str((Decimal(db_bhyt) * 100 / 10397).quantize(Decimal("0.01")))
    bhxh = table(wb[SHEET_BHXH], 7)
    assert bhxh["Xã Tân An"][6] == 225 + 1  # voluntary participants
    assert bhxh["Xã Tân An"][5] == 793  # compulsory unchanged

    summary = wb[SHEET_SUMMARY]
    counts = {row[0]: row[1:5] for row in summary.iter_rows(min_row=4, max_row=5, values_only=True)}
    assert counts["Hôm nay"] == (2, 1, 1, 4)
    monthly = wb[SHEET_MONTHLY]
    values = [v for row in monthly.iter_rows(values_only=True) for v in row if v is not None]
    assert "Nguyễn Văn An" in values and "Phạm Văn Năm" in values
    assert "84*****234" in values and "8423001234" not in values  # codes masked for the chat
    assert "4 người" in values
    # the message agrees with the workbook
    assert "Hôm nay: 4 người mới (BHYT 3, BHXH TN 1)." in package.text
    assert "Nguyễn T. Hoa (Tân An) 4" in package.text


async def test_a_commune_official_sees_only_the_commune(services: Services) -> None:
    package, wb = await workbook(services, "CL06")
    names = set(table(wb[SHEET_BHYT], 6))
    assert names == {"Tổng cộng"}
    assert package.data.unit_name == "Xã Tân An"
    assert "Huyền Hội" not in package.text


def test_command_line_report_and_monthly_share_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from bot.cli import main
    from bot.domain.clock import SystemClock

    db_path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.chdir(tmp_path)  # no stray .env

    async def prepare() -> None:
        settings = Settings(_env_file=None, database_path=db_path)  # type: ignore[call-arg]
        built = build_services(settings)
        await built.storage.connect()
        await import_units(SAMPLES / "units_cang_long.csv", built.units, SystemClock(settings.tz))
        await built.storage.close()

    asyncio.run(prepare())
    out, chart = tmp_path / "out" / "cl.xlsx", tmp_path / "out" / "cl.png"
    assert main(["report", "--unit", "cl", "--from", "01/11/2026", "--to", "23/11/2026",
                 "--out", str(out), "--chart", str(chart)]) == 0
    assert "Huyện Càng Long, 01/11/2026–23/11/2026" in capsys.readouterr().out
    wb = load_workbook(out)
    assert table(wb[SHEET_BHYT], 6)["Tổng cộng"][3] == 132600
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert main(["report", "monthly", "--month", "11/2026", "--out", str(tmp_path / "m.xlsx")]) == 0
    capsys.readouterr()
    for argv, words in (
        (["report", "--unit", "ZZ", "--out", str(tmp_path / "z.xlsx")], "unit 'ZZ' not found"),
        (["report"], "report needs --unit CODE and --out FILE.xlsx"),
        (["report", "--unit", "CL", "--from", "23/11/2026", "--to", "01/11/2026", "--out", str(out)], "--to is before --from"),
        (["report", "--unit", "CL", "--out", str(tmp_path / "x.csv")], "--out must end in .xlsx"),
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err


async def test_a_round_cache_gives_the_same_figures_as_a_fresh_gather(services: Services) -> None:
    now = services.clock.now()
    for user_id, unit, person in ((AGENT_ID, "CL06", "Nguyễn Văn Một"), (OFFICIAL_ID, "CL02", "Trần Thị Hai")):
        member_id = await services.members.add(
            full_name=f"Người {unit}", role=Role.AGENT, unit_code=unit, actor=CLI_ACTOR, at=now, user_id=user_id, channel="telegram"
        )
        agent = await services.members.get(member_id)
        assert agent is not None
        line = f"bhyt {person} 84230{user_id:05d} 12 tháng người thân"
        assert isinstance(await services.enrolments.log(agent, parse_line(line).draft), Logged)
    cache = services.summaries.new_cache(DAY)
    for unit in ("CL06", "CL", "CL02", "CL06"):
        fresh = await services.summaries.gather(unit, SummaryKind.DAILY, DAY)
        cached = await services.summaries.gather(unit, SummaryKind.DAILY, DAY, cache=cache)
        assert cached == fresh, unit
    assert cache.coverage_inputs is not None and len(cache.rolled) == 1


# Text that a spreadsheet would run as a formula if it were written as one.
INJECTIONS = ('=HYPERLINK("http://x.test","bấm")', "+1+1", "-2+3", "@SUM(A1:A2)", "=1+1")


def test_names_that_look_like_formulas_stay_text() -> None:
    """Unit, agent and team names (and the copied Phụ lục 02) starting with = + - @ are written
    as text cells with every character kept: no cell of any sheet is a formula."""
    from bot.domain.coverage import BaselineFigure, TargetSpec, UnitInput, compute_coverage
    from bot.domain.records import ReportRow
    from bot.domain.summary import LeaderLine, TeamLine
    from bot.reports.monthly_xlsx import build_workbook as build_monthly
    from bot.reports.summary_xlsx import build_summary_workbook
    from bot.services.tallies import CompetitionRow
    from tests.test_summary import summary_of

    figures = {"bhyt": BaselineFigure(date(2026, 6, 30), 900), "bhxh_tn": BaselineFigure(date(2026, 6, 30), 9),
               "bhtn": BaselineFigure(date(2026, 6, 30), 50), "bhxh_bb": BaselineFigure(date(2026, 6, 30), 40)}
    targets = {"bhyt": TargetSpec(pct=Decimal(95)), "bhxh": TargetSpec(pct=Decimal(20))}
    units = [UnitInput("R", "=Huyện", None, "huyện")] + [
        UnitInput(f"R{i}", name, "R", "xã", 1000, 500, figures, targets) for i, name in enumerate(INJECTIONS)
    ]
    rows = compute_coverage(units)
    data = summary_of(
        rows,
        agents=[LeaderLine(name, name, 3) for name in INJECTIONS],
        teams=[TeamLine(name, name, 2) for name in INJECTIONS],
        competition=[
            CompetitionRow(f"R{i}", name, 4, False, 1, 1, Decimal(25), Decimal(25), False, False)
            for i, name in enumerate(INJECTIONS)
        ],
    )
    form = build_monthly(
        [ReportRow(i, name, name, name, name, name, "bhyt_household", 12, 1_366_200, DAY)
         for i, name in enumerate(INJECTIONS, start=1)],
        DAY.replace(day=1), "@Tổ 1", DAY, mask_codes=False,
    )
    wb = load_workbook(io.BytesIO(build_summary_workbook(data, monthly_form=form)))
    assert SHEET_MONTHLY in wb.sheetnames and SHEET_BHTN in wb.sheetnames
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(INJECTIONS) <= texts and "=Huyện" not in texts  # the root row is "Tổng cộng"
    monthly = wb[SHEET_MONTHLY]
    assert [monthly.cell(6, col).value for col in (2, 3, 4, 5, 6)] == [INJECTIONS[0]] * 5
