"""The official's summary as plain data, and its one-message rendering for a phone.

Pure: `bot.summary_service` gathers the figures (tallies, coverage, competition, reminders)
into a `SummaryData`; this module decides what matters on a small screen (laggards, leaders)
and renders ONE Telegram message in HTML parse mode, always under Telegram's 4096 characters
however many child units the area has. The chart (`bot.summary_chart`) and the workbook
(`bot.summary_workbook`) read the same `SummaryData`, so the three never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from html import escape, unescape

from bot.domain.coverage import CoverageRow, Figure, Measure
from bot.domain.money import format_number, format_pct, format_vnd
from bot.domain.tallies import CompetitionRow, CompetitionRules, SchemeCounts

__all__ = [
    "MESSAGE_LIMIT",
    "LeaderLine",
    "ReminderFigures",
    "SummaryData",
    "SummaryKind",
    "TeamLine",
    "UnitProgress",
    "find_laggards",
    "progress_of",
    "render_summary",
    "short_name",
]

# Telegram refuses messages over 4096 characters; keep a margin for entity parsing.
MESSAGE_LIMIT = 4000
# Beyond this many child units the message lists the weakest and the strongest only.
LIST_ALL_UP_TO = 15
LAGGARD_MARK = "⚠️"
LEADER_MARK = "✅"


class SummaryKind(StrEnum):
    DAILY = "daily"  # the evening summary: today, and the campaign (or month) so far
    WEEKLY = "weekly"  # the weekly digest (seed 003's weekly notices): the past 7 days
    RANGE = "range"  # /baocao <unit> <from> <to> and the command line: a chosen period


@dataclass(frozen=True)
class UnitProgress:
    """One unit's BHYT progress in seed 003's terms, and its new entries in the period."""

    code: str
    name: str
    participants: int
    population: int | None
    coverage: Decimal | None  # percent, unrounded
    target: Decimal | None  # percent
    of_target: Decimal | None  # percent of the target reached, unrounded
    remaining: int | None  # still to mobilise; negative when the target is exceeded
    new: int = 0  # new entries logged in the cumulative period (campaign or month so far)
    laggard: bool = False

    @property
    def known(self) -> bool:
        return self.of_target is not None


@dataclass(frozen=True)
class LeaderLine:
    """A leading agent, already masked: 'Nguyễn T. Hoa (Tân An) 14'."""

    name: str
    unit: str
    count: int


@dataclass(frozen=True)
class TeamLine:
    name: str
    unit: str
    count: int


@dataclass(frozen=True)
class ReminderFigures:
    """Lapsed-card reminders in a scope: sent, reached (delivered), renewals after one; of them
    by ZNS: sent, confirmed delivered by Zalo, refused, outcome unknown, cost (integer đồng)."""

    sent: int = 0
    reached: int = 0
    renewed: int = 0
    by_zns: int = 0
    zns_delivered: int = 0
    refused: int = 0
    unknown: int = 0
    zns_cost: int = 0


@dataclass(frozen=True)
class SummaryData:
    """Everything the message, the chart and the workbook show, for one scope and period."""

    kind: SummaryKind
    unit_code: str
    unit_name: str
    as_of: date  # the day the figures are for (coverage counts entries up to now)
    period_start: date
    period_end: date
    period_counts: SchemeCounts
    cumulative_label: str | None = None  # 'Từ đầu chiến dịch' / 'Từ đầu tháng'
    cumulative_start: date | None = None
    cumulative_counts: SchemeCounts | None = None
    root: UnitProgress | None = None
    root_voluntary: Figure | None = None  # BHXH tự nguyện of the whole scope, if known
    children: list[UnitProgress] = field(default_factory=list)
    agents: list[LeaderLine] = field(default_factory=list)
    teams: list[TeamLine] = field(default_factory=list)
    competition: list[CompetitionRow] = field(default_factory=list)
    competition_rules: CompetitionRules = CompetitionRules()
    reminders_period: ReminderFigures | None = None
    reminders_to_date: ReminderFigures | None = None
    coverage_rows: list[CoverageRow] = field(default_factory=list)  # the workbook's tables

    @property
    def period_label(self) -> str:
        if self.kind is SummaryKind.DAILY:
            return "Hôm nay"
        return f"Từ {_day(self.period_start)} đến {_day(self.period_end)}"


# ---- building blocks (pure) -----------------------------------------------------------------

_PREFIX = re.compile(
    r"^(?:huyện|quận|tỉnh|xã|phường|thôn|ấp|khóm|khu phố|tổ dân phố|bản|làng|buôn|sóc)\s+",
    re.IGNORECASE,
)
# Town-level prefixes are abbreviated, not dropped: 'Thị trấn Càng Long' must not read like
# the district 'Huyện Càng Long'.
_ABBREVIATIONS = (("thị trấn ", "TT "), ("thị xã ", "TX "), ("thành phố ", "TP "))


def short_name(name: str) -> str:
    """'Xã Tân An' -> 'Tân An', 'Thị trấn Càng Long' -> 'TT Càng Long': what fits a phone
    line (CONVERSATIONS.md). The prefix goes only when something remains."""
    text = " ".join(name.split())
    lowered = text.lower()
    for long, short in _ABBREVIATIONS:
        if lowered.startswith(long) and len(text) > len(long):
            return short + text[len(long):]
    stripped = _PREFIX.sub("", text, count=1).strip()
    return stripped or text


def progress_of(row: CoverageRow, new: int = 0) -> UnitProgress:
    """The BHYT figure of a coverage row (bot.domain.coverage) as a progress line."""
    figure = row.figures[Measure.BHYT]
    return UnitProgress(
        code=row.code,
        name=row.name,
        participants=figure.participants,
        population=figure.denominator,
        coverage=figure.coverage,
        target=figure.target,
        of_target=figure.of_target,
        remaining=figure.remaining,
        new=new,
    )


def find_laggards(root: UnitProgress | None, children: Sequence[UnitProgress]) -> list[UnitProgress]:
    """Flag children behind: under 100 % of target and under the area's own % of target.

    Seed 003 lists communes without a rule for "behind"; comparing with the area's average
    names the few a district must call, rather than every commune short of its target.
    When the area's figure is unknown, every child under 100 % of its target is behind.
    """
    bar = root.of_target if root is not None and root.of_target is not None else Decimal(100)
    bar = min(bar, Decimal(100))
    out: list[UnitProgress] = []
    for child in children:
        behind = child.of_target is not None and child.of_target < bar
        out.append(_replace_laggard(child, behind))
    return out


def _replace_laggard(unit: UnitProgress, laggard: bool) -> UnitProgress:
    return UnitProgress(
        unit.code, unit.name, unit.participants, unit.population, unit.coverage, unit.target,
        unit.of_target, unit.remaining, unit.new, laggard,
    )


def sort_for_display(children: Sequence[UnitProgress]) -> list[UnitProgress]:
    """Weakest first (by % of target); units without figures last, by new entries."""
    known = sorted((c for c in children if c.known), key=lambda c: (c.of_target, c.name))
    unknown = sorted((c for c in children if not c.known), key=lambda c: (-c.new, c.name))
    return known + unknown


# ---- rendering --------------------------------------------------------------------------------


def esc(text: object, limit: int = 80) -> str:
    """Escape data (unit, agent and team names come from imports and chats) for HTML, clipped
    so that one odd name cannot push the message over Telegram's limit."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return escape(value, quote=False)


def _day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _pct(value: Decimal | None, places: int | None = 1) -> str:
    return "—" if value is None else format_pct(value, places)


def _counts(c: SchemeCounts) -> str:
    return (
        f"{format_number(c.total)} người mới (BHYT {format_number(c.bhyt)}, "
        f"BHXH TN {format_number(c.bhxh)})"
    )


def _title(data: SummaryData) -> str:
    name = esc(data.unit_name)
    if data.kind is SummaryKind.DAILY:
        return f"📊 <b>Tổng hợp {_day(data.as_of)} · {name}</b>"
    if data.kind is SummaryKind.WEEKLY:
        return (
            f"📊 <b>Tổng hợp tuần {data.period_start.strftime('%d/%m')}–"
            f"{_day(data.period_end)} · {name}</b>"
        )
    return f"📊 <b>Báo cáo {_day(data.period_start)}–{_day(data.period_end)} · {name}</b>"


def _remaining_words(remaining: int | None) -> str:
    if remaining is None:
        return ""
    if remaining <= 0:
        return f"vượt {format_number(-remaining)}" if remaining < 0 else "đã đạt"
    return f"còn {format_number(remaining)}"


def _root_lines(data: SummaryData) -> list[str]:
    lines: list[str] = []
    root = data.root
    if root is not None and root.known:
        parts = [
            f"BHYT: {format_number(root.participants)}"
            + (f"/{format_number(root.population)}" if root.population else "")
            + f" người, bao phủ {_pct(root.coverage, 2)}",
        ]
        if root.target is not None:
            parts.append(f"mục tiêu {_pct(root.target, None)}")
        parts.append(f"đạt {_pct(root.of_target, 2)} KH")
        words = _remaining_words(root.remaining)
        if words:
            parts.append(f"{words} người")
        lines.append(", ".join(parts) + ".")
    tn = data.root_voluntary
    if tn is not None and tn.coverage is not None:
        text = f"BHXH tự nguyện: {format_number(tn.participants)} người, {_pct(tn.coverage, 2)} LLLĐ"
        if tn.target is not None:
            text += f" / mục tiêu {_pct(tn.target, None)}"
        words = _remaining_words(tn.remaining)
        lines.append(text + (f", {words} người." if words else "."))
    return lines


def _child_line(unit: UnitProgress) -> str:
    mark = LAGGARD_MARK if unit.laggard else (
        LEADER_MARK if unit.of_target is not None and unit.of_target >= 100 else "•"
    )
    name = esc(short_name(unit.name))
    if not unit.known:
        return f"{mark} {name}: {format_number(unit.new)} người mới"
    words = _remaining_words(unit.remaining)
    return (
        f"{mark} {name} {_pct(unit.coverage, 2)} · {_pct(unit.of_target, 2)} KH"
        + (f" · {words}" if words else "")
    )


def _children_lines(data: SummaryData, max_lines: int) -> list[str]:
    children = sort_for_display(data.children)
    if not children:
        return []
    any_known = any(c.known for c in children)
    head = (
        "<b>Tiến độ BHYT từng đơn vị</b> (bao phủ · % kế hoạch · còn phải vận động):"
        if any_known
        else "<b>Người mới từng đơn vị</b> (chưa có số liệu dân số, chỉ tiêu):"
    )
    if not any_known:
        children = sorted(children, key=lambda c: (-c.new, c.name))
    lines = [head]
    if len(children) <= max_lines:
        lines.extend(_child_line(c) for c in children)
    else:
        weakest = max(1, (max_lines * 2) // 3)
        strongest = max(1, max_lines - weakest)
        lines.extend(_child_line(c) for c in children[:weakest])
        hidden = len(children) - weakest - strongest
        lines.append(f"… {format_number(hidden)} đơn vị khác (xem biểu đồ và tệp Excel)")
        lines.extend(_child_line(c) for c in children[-strongest:])
    laggards = sum(1 for c in children if c.laggard)
    if laggards:
        lines.append(
            f"{LAGGARD_MARK} {format_number(laggards)} đơn vị dưới mức chung"
            f" của {esc(data.unit_name)}."
        )
    return lines


def _leaders_lines(data: SummaryData, max_items: int) -> list[str]:
    lines: list[str] = []
    if data.agents:
        items = " · ".join(
            f"{esc(a.name)} ({esc(a.unit)}) {format_number(a.count)}" for a in data.agents[:max_items]
        )
        lines.append(f"🏅 Vận động nhiều nhất: {items}")
    if data.teams:
        items = " · ".join(
            f"{esc(t.name)} ({esc(t.unit)}) {format_number(t.count)}" for t in data.teams[:max_items]
        )
        lines.append(f"👥 Tổ dẫn đầu: {items}")
    return lines


def _competition_lines(data: SummaryData, max_items: int) -> list[str]:
    rows = data.competition
    if not rows:
        return []
    rules = data.competition_rules
    both = sum(1 for r in rows if r.bhyt_met and r.bhxh_met)
    lines = [
        f"🏆 Thi đua người thân (mỗi đơn vị {_pct(rules.bhyt_share, None)} cán bộ có người thân "
        f"tham gia BHYT, {_pct(rules.bhxh_share, None)} BHXH TN): "
        f"đạt cả hai {format_number(both)}/{format_number(len(rows))} đơn vị."
    ]
    items = []
    for r in rows[:max_items]:
        staff = format_number(r.staff) if r.staff else "?"
        items.append(
            f"{esc(short_name(r.name))} BHYT {format_number(r.with_bhyt)}/{staff}"
            f" ({_pct(r.bhyt_share, 0)}), BHXH {format_number(r.with_bhxh)}/{staff}"
            f" ({_pct(r.bhxh_share, 0)})"
        )
    if items:
        lines.append("   " + " · ".join(items))
    return lines


def _reminder_lines(data: SummaryData) -> list[str]:
    now, total = data.reminders_period, data.reminders_to_date
    if now is None and total is None:
        return []
    label = "hôm nay" if data.kind is SummaryKind.DAILY else "trong kỳ"
    parts: list[str] = []
    if now is not None:
        parts.append(
            f"{label} gửi {format_number(now.sent)}, đến nơi {format_number(now.reached)},"
            f" gia hạn sau nhắc {format_number(now.renewed)}"
        )
    if total is not None:
        parts.append(
            f"từ đầu gửi {format_number(total.sent)}, đến nơi {format_number(total.reached)},"
            f" gia hạn sau nhắc {format_number(total.renewed)}"
        )
    out = ["🔔 Nhắc hạn thẻ: " + "; ".join(parts) + "."]
    zns = total if total is not None else now
    if zns is not None and (zns.by_zns or zns.refused or zns.unknown):
        out.append(
            f"   qua ZNS {format_number(zns.by_zns)} tin, Zalo xác nhận đã giao"
            f" {format_number(zns.zns_delivered)}, bị từ chối {format_number(zns.refused)},"
            f" chưa rõ {format_number(zns.unknown)}, chi phí {format_vnd(zns.zns_cost)}."
        )
    return out


def _render(data: SummaryData, max_children: int, max_items: int, with_competition: bool) -> str:
    lines = [_title(data)]
    lines.append(f"{data.period_label}: {_counts(data.period_counts)}.")
    if data.cumulative_counts is not None and data.cumulative_label:
        since = f" ({data.cumulative_start.strftime('%d/%m')})" if data.cumulative_start else ""
        lines.append(f"{data.cumulative_label}{since}: {_counts(data.cumulative_counts)}.")
    lines.extend(_root_lines(data))
    children = _children_lines(data, max_children)
    if children:
        lines.append("")
        lines.extend(children)
    extra = _leaders_lines(data, max_items)
    if with_competition:
        extra += _competition_lines(data, max_items)
    extra += _reminder_lines(data)
    if extra:
        lines.append("")
        lines.extend(extra)
    lines.append("")
    lines.append("<i>Biểu đồ và bảng Excel đầy đủ gửi kèm. Tắt tin này: /tomtat tat</i>")
    return "\n".join(lines)


def render_summary(data: SummaryData, limit: int = MESSAGE_LIMIT) -> str:
    """The summary as one HTML message of at most `limit` characters.

    Lists shrink step by step (child units, leaders, the competition line) until it fits;
    the tables in full are in the workbook.
    """
    attempts = [
        (LIST_ALL_UP_TO, 3, True),
        (10, 3, True),
        (8, 2, True),
        (6, 2, False),
        (4, 1, False),
        (2, 1, False),
    ]
    text = ""
    for max_children, max_items, with_competition in attempts:
        text = _render(data, max_children, max_items, with_competition)
        if len(text) <= limit:
            return text
    # Pathological names (thousands of characters): cut on a line boundary, keep HTML valid.
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    lines = text.split("\n")
    out: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - 2:
            break
        out.append(line)
        size += len(line) + 1
    if not out:  # cannot happen with clipped names; still never return invalid HTML
        plain = unescape(re.sub(r"<[^>]+>", "", text))
        return escape(plain[: limit // 2], quote=False) + "…"
    return "\n".join(out) + "\n…"
