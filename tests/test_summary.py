"""The official's summary as one phone message: content, laggards, masking, length limits."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.coverage import BaselineFigure, CoverageRow, Measure, TargetSpec, UnitInput, compute_coverage
from bot.domain.summary import (
    MESSAGE_LIMIT,
    LeaderLine,
    ReminderFigures,
    SummaryData,
    SummaryKind,
    TeamLine,
    UnitProgress,
    find_laggards,
    progress_of,
    render_summary,
    short_name,
)
from bot.services.summaries import parse_report_args, weekly_period
from bot.services.tallies import CompetitionRow, SchemeCounts
from devtools.telegram_emulator import validate_html

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "data" / "samples"
DAY = date(2026, 11, 23)


def seed_003_rows() -> list[CoverageRow]:
    """The Càng Long tree of seed 003, straight from the packaged sample, through bot.domain.coverage."""
    units = []
    with (SAMPLES / "units_cang_long.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            as_of = date.fromisoformat(r["as_of"])
            baselines = {
                s: BaselineFigure(as_of, int(r[f"{s}_participants"]))
                for s in ("bhyt", "bhxh_bb", "bhxh_tn", "bhtn")
                if r[f"{s}_participants"]
            }
            targets = {
                s: TargetSpec(pct=Decimal(r[f"{s}_target_pct"]))
                for s in ("bhyt", "bhxh", "bhxh_tn", "bhtn")
                if r[f"{s}_target_pct"]
            }
            units.append(
                UnitInput(
                    r["code"], r["name"], r["parent_code"] or None, r["level"],
                    int(r["population"]) if r["population"] else None,
                    int(r["labour_force"]) if r["labour_force"] else None,
                    baselines, targets,
                )
            )
    return compute_coverage(units)


def summary_of(rows: list[CoverageRow], **overrides: object) -> SummaryData:
    root = progress_of(rows[0])
    children = find_laggards(root, [progress_of(r) for r in rows if r.depth == 1])
    values: dict[str, object] = dict(
        kind=SummaryKind.DAILY,
        unit_code=rows[0].code,
        unit_name=rows[0].name,
        as_of=DAY,
        period_start=DAY,
        period_end=DAY,
        period_counts=SchemeCounts(41, 0, 5),
        cumulative_label="Từ đầu chiến dịch",
        cumulative_start=date(2026, 11, 15),
        cumulative_counts=SchemeCounts(500, 60, 52),
        root=root,
        root_voluntary=rows[0].figures[Measure.BHXH_TN],
        children=children,
        agents=[LeaderLine("Nguyễn T. Hoa", "Tân An", 14), LeaderLine("Lê V. Tài", "Mỹ Cẩm", 11)],
        teams=[TeamLine("Tổ 3", "Tân An", 25)],
        reminders_period=ReminderFigures(120, 118, 5),
        reminders_to_date=ReminderFigures(1240, 1200, 87),
        coverage_rows=rows,
    )
    values.update(overrides)
    return SummaryData(**values)  # type: ignore[arg-type]


def test_evening_summary_of_seed_003_reads_like_the_conversation() -> None:
    text = render_summary(summary_of(seed_003_rows()))
    plain = validate_html(text)
    assert len(text) < 4096
    assert plain.startswith("📊 Tổng hợp 23/11/2026 · Huyện Càng Long")
    assert "Hôm nay: 46 người mới (BHYT 41, BHXH TN 5)." in plain
    assert "Từ đầu chiến dịch (15/11): 612 người mới (BHYT 560, BHXH TN 52)." in plain
    # the district line in seed 003's terms: participants, coverage, target, % of target, gap
    assert "132.600/148.806 người, bao phủ 89,11%, mục tiêu 95%, đạt 93,80% KH, còn 8.766 người" in plain
    assert "BHXH tự nguyện: 3.497 người, 4,61% LLLĐ / mục tiêu 6,17%, còn 1.186 người." in plain
    # every commune, weakest first, laggards (below the district's 93,80 %) flagged
    assert "⚠️ Huyền Hội 79,75% · 83,95% KH · còn 2.362" in plain
    assert "• Tân Bình 89,17% · 93,87% KH · còn 677" in plain
    assert "✅ An Trường 96,34% · 101,41% KH · vượt 188" in plain
    assert "TT Càng Long 93,08%" in plain
    assert plain.index("Huyền Hội") < plain.index("An Trường 96,34%")
    assert "4 đơn vị dưới mức chung của Huyện Càng Long" in plain
    assert "Vận động nhiều nhất: Nguyễn T. Hoa (Tân An) 14 · Lê V. Tài (Mỹ Cẩm) 11" in plain
    assert "Tổ dẫn đầu: Tổ 3 (Tân An) 25" in plain
    assert "hôm nay gửi 120, đến nơi 118, gia hạn sau nhắc 5" in plain
    assert "từ đầu gửi 1.240, đến nơi 1.200, gia hạn sau nhắc 87" in plain


def test_laggards_are_below_the_area_average_and_short_of_target() -> None:
    rows = seed_003_rows()
    root = progress_of(rows[0])
    flagged = [c.name for c in find_laggards(root, [progress_of(r) for r in rows[1:]]) if c.laggard]
    assert flagged == ["Xã Huyền Hội", "Xã Phương Thạnh", "Xã Đại Phước", "Xã Đức Mỹ"]
    # without an area figure, everyone short of 100 % is behind
    unknown_root = UnitProgress("X", "X", 0, None, None, None, None, None)
    behind = [c for c in find_laggards(unknown_root, [progress_of(r) for r in rows[1:]]) if c.laggard]
    assert len(behind) == 12


def test_hundreds_of_children_still_fit_one_message() -> None:
    units = [UnitInput("P", "Tỉnh Thử Nghiệm", None, "tỉnh")]
    for i in range(1000):
        units.append(
            UnitInput(
                f"P{i:04d}", f"Xã Có Tên Khá Dài Số {i:04d}", "P", "xã", 1000 + i, None,
                {"bhyt": BaselineFigure(date(2026, 1, 1), 700 + (i * 7) % 300)},
                {"bhyt": TargetSpec(pct=Decimal(95))},
            )
        )
    rows = compute_coverage(units)
    agents = [LeaderLine(f"Nguyễn V. Người {i}", f"Xã {i}", 100 - i) for i in range(50)]
    text = render_summary(summary_of(rows, agents=agents))
    assert len(text) <= MESSAGE_LIMIT
    plain = validate_html(text)
    assert "đơn vị khác (xem biểu đồ và tệp Excel)" in plain
    assert plain.count("⚠️") >= 2


def test_hostile_names_are_escaped_and_clipped() -> None:
    rows = seed_003_rows()
    evil = "<b>Xã & Co</b> " + "🙂" * 3000
    data = summary_of(
        rows,
        unit_name=evil,
        agents=[LeaderLine("<script>alert(1)</script>" * 100, "A&B", 3)],
        teams=[TeamLine("Tổ <i>", "x" * 5000, 2)],
    )
    text = render_summary(data)
    assert len(text) <= MESSAGE_LIMIT
    plain = validate_html(text)  # raises if any markup leaked
    assert "<script>" in plain and "&lt;" not in plain


def test_no_figures_yet_lists_new_entries_per_unit() -> None:
    units = [UnitInput("C", "Xã Ngọc Phụng"), UnitInput("C1", "Thôn Quyết Tiến", "C"), UnitInput("C2", "Thôn Hưng Long", "C")]
    rows = compute_coverage(units)
    children = [progress_of(rows[1], new=3), progress_of(rows[2], new=7)]
    data = summary_of(rows, root=progress_of(rows[0], new=10), root_voluntary=None, children=children,
                      reminders_period=None, reminders_to_date=None, agents=[], teams=[])
    plain = validate_html(render_summary(data))
    assert "Người mới từng đơn vị" in plain
    assert plain.index("Hưng Long: 7 người mới") < plain.index("Quyết Tiến: 3 người mới")
    assert "Nhắc hạn thẻ" not in plain and "bao phủ" not in plain


def test_competition_line_counts_units_meeting_both_rules() -> None:
    rows = seed_003_rows()
    competition = [
        CompetitionRow("CL06", "Xã Tân An", 10, False, 10, 6, Decimal("100.00"), Decimal("60.00"), True, True),
        CompetitionRow("CL02", "Xã Mỹ Cẩm", 8, False, 4, 1, Decimal("50.00"), Decimal("12.50"), False, False),
    ]
    plain = validate_html(render_summary(summary_of(rows, competition=competition)))
    assert "Thi đua người thân (mỗi đơn vị 100% cán bộ có người thân tham gia BHYT, 50% BHXH TN): đạt cả hai 1/2 đơn vị." in plain
    assert "Tân An BHYT 10/10 (100%), BHXH 6/10 (60%)" in plain


def test_weekly_and_range_titles() -> None:
    rows = seed_003_rows()
    first, last = weekly_period(date(2026, 11, 23))
    assert (first, last) == (date(2026, 11, 16), date(2026, 11, 22))
    weekly = validate_html(render_summary(summary_of(rows, kind=SummaryKind.WEEKLY, period_start=first, period_end=last)))
    assert weekly.startswith("📊 Tổng hợp tuần 16/11–22/11/2026 · Huyện Càng Long")
    assert "Từ 16/11/2026 đến 22/11/2026: 46 người mới" in weekly
    ranged = validate_html(render_summary(summary_of(
        rows, kind=SummaryKind.RANGE, period_start=date(2026, 11, 1), period_end=DAY,
        cumulative_label=None, cumulative_counts=None,
    )))
    assert ranged.startswith("📊 Báo cáo 01/11/2026–23/11/2026")
    assert "trong kỳ gửi 120" in ranged


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Xã Tân An", "Tân An"),
        ("Thị trấn Càng Long", "TT Càng Long"),
        ("Huyện Càng Long", "Càng Long"),
        ("Thôn Quyết Tiến", "Quyết Tiến"),
        ("Phòng Giáo dục và Đào tạo", "Phòng Giáo dục và Đào tạo"),
        ("Xã", "Xã"),
        ("  Phường   7 ", "7"),
    ],
)
def test_short_names(name: str, short: str) -> None:
    assert short_name(name) == short


@pytest.mark.parametrize(
    ("text", "unit", "start", "end", "error"),
    [
        ("", None, None, None, None),
        ("CL06", "CL06", None, None, None),
        ("Tân An", "Tân An", None, None, None),
        ("CL06 01/11/2026 23/11/2026", "CL06", date(2026, 11, 1), date(2026, 11, 23), None),
        ("Xã Tân An 1/11/2026 23-11-2026", "Xã Tân An", date(2026, 11, 1), date(2026, 11, 23), None),
        ("01/11/2026 23/11/2026", None, date(2026, 11, 1), date(2026, 11, 23), None),
        ("CL06 31/02/2026 23/11/2026", None, None, None, "dates"),
        ("CL06 01/11/2026", None, None, None, "dates"),
        ("01/11/2026 CL06 23/11/2026", None, None, None, "dates"),
        ("x" * 300, None, None, None, "too_long"),
        # Digits of other scripts are not dates (int() would take them): the words are a unit.
        ("CL06 ٠١/١١/٢٠٢٦ ٢٣/١١/٢٠٢٦", "CL06 ٠١/١١/٢٠٢٦ ٢٣/١١/٢٠٢٦", None, None, None),
    ],
)
def test_report_arguments(text: str, unit: str | None, start: date | None, end: date | None, error: str | None) -> None:
    args = parse_report_args(text)
    assert (args.unit, args.start, args.end, args.error) == (unit, start, end, error)
