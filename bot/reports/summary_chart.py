"""The summary's chart: progress against target per child unit, as a PNG for a phone.

Horizontal bars (names stay horizontal and readable), sorted weakest first like the message,
laggards in red, units past their target in green, a dashed line at 100 % of the target.
1080 px wide: a phone shows it at full width without scaling text down much. Hundreds of
children are capped: the weakest and the strongest are drawn, the middle is counted in one row.

Matplotlib's object API with the Agg canvas (no pyplot, no global state), so charts can be
drawn in worker threads; DejaVu Sans ships with matplotlib and covers Vietnamese diacritics.
Every text drawn is literal: matplotlib reads a pair of `$` as mathtext, so a unit named
"Xã $x^{$ B" would otherwise fail to draw (or draw as a formula); `literal` escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.domain.money import format_number, format_pct
from bot.domain.summary import SummaryData, SummaryKind, UnitProgress, short_name, sort_for_display

__all__ = ["Bar", "chart_bars", "literal", "render_chart", "CHART_WIDTH_PX"]

CHART_WIDTH_PX = 1080
DPI = 100
MAX_BARS = 30  # above this, the weakest and strongest are drawn and the middle is summed up
MAX_LABEL_CHARS = 26
FONT = "DejaVu Sans"
COLOUR_LAGGARD = "#d64541"
COLOUR_MET = "#2e8b57"
COLOUR_OTHER = "#3d7ab8"
COLOUR_COUNT = "#3d7ab8"
COLOUR_TARGET = "#333333"


def literal(text: str) -> str:
    """`text` as matplotlib must be given it to draw it character for character.

    Unit names come from imported lists: a `$` there must not start mathtext. An escaped
    `\\$` is drawn as `$` (matplotlib unescapes it when the text is not mathtext), and with no
    unescaped `$` left the text is never mathtext, whatever else it holds.
    """
    return text.replace("$", r"\$")


@dataclass(frozen=True)
class Bar:
    """One row of the chart; value None marks the row that stands for the hidden middle."""

    label: str
    value: float | None
    text: str
    colour: str


def _bar(unit: UnitProgress, by_target: bool) -> Bar:
    name = short_name(unit.name)
    if len(name) > MAX_LABEL_CHARS:
        name = name[: MAX_LABEL_CHARS - 1].rstrip() + "…"
    if by_target:
        assert unit.of_target is not None
        value = unit.of_target
        colour = COLOUR_LAGGARD if unit.laggard else (COLOUR_MET if value >= 100 else COLOUR_OTHER)
        return Bar(name, float(value), format_pct(value, 2), colour)
    return Bar(name, float(unit.new), format_number(unit.new), COLOUR_COUNT)


def chart_bars(data: SummaryData, max_bars: int = MAX_BARS) -> tuple[list[Bar], bool]:
    """The rows to draw (top to bottom) and whether they are % of target (else new entries)."""
    units = list(data.children)
    if not units and data.root is not None:
        units = [data.root]  # a village has no children: show the unit itself
    by_target = any(u.known for u in units)
    if by_target:
        ordered = [u for u in sort_for_display(units) if u.known]
    else:
        ordered = sorted(units, key=lambda u: (-u.new, u.name))
    bars = [_bar(u, by_target) for u in ordered]
    if len(bars) > max_bars:
        weakest = (max_bars - 1) * 3 // 5
        strongest = max_bars - 1 - weakest
        hidden = len(bars) - weakest - strongest
        gap = Bar(f"… {format_number(hidden)} đơn vị khác", None, "", COLOUR_OTHER)
        bars = bars[:weakest] + [gap] + bars[-strongest:]
    return bars, by_target


def _titles(data: SummaryData, by_target: bool) -> tuple[str, str]:
    name = data.unit_name if len(data.unit_name) <= 48 else data.unit_name[:47] + "…"
    if data.kind is SummaryKind.DAILY:
        when = data.as_of.strftime("%d/%m/%Y")
    else:
        when = f"{data.period_start.strftime('%d/%m/%Y')}–{data.period_end.strftime('%d/%m/%Y')}"
    if by_target:
        return (
            f"Tiến độ BHYT so với chỉ tiêu · {name}",
            f"{when} · % kế hoạch = tỷ lệ bao phủ / mục tiêu · vạch đứt: 100%",
        )
    label = (data.cumulative_label or "Trong kỳ").lower()
    return (f"Người tham gia mới · {name}", f"{when} · {label}, theo đơn vị")


def render_chart(data: SummaryData, width_px: int = CHART_WIDTH_PX, max_bars: int = MAX_BARS) -> bytes:
    """The PNG bytes of the progress chart of `data`."""
    bars, by_target = chart_bars(data, max_bars)
    rows = max(len(bars), 1)
    row_in = 0.62
    height_in = 2.8 + row_in * rows
    fig = Figure(figsize=(width_px / DPI, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    title, subtitle = _titles(data, by_target)
    fig.text(0.02, 1 - 0.32 / height_in, literal(title), fontsize=21, fontweight="bold", family=FONT, va="top")
    fig.text(0.02, 1 - 0.82 / height_in, literal(subtitle), fontsize=14, color="#555555", family=FONT, va="top")
    top = 1 - 1.35 / height_in
    bottom = 1.15 / height_in
    ax = fig.add_axes((0.30, bottom, 0.62, top - bottom))
    if not bars:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "Chưa có số liệu", ha="center", va="center", fontsize=20, family=FONT)
        return _png(fig)
    positions = list(range(len(bars)))
    values = [b.value or 0.0 for b in bars]
    ax.barh(positions, values, color=[b.colour for b in bars], height=0.68, zorder=2)
    ax.set_yticks(positions)
    ax.set_yticklabels([literal(b.label) for b in bars], fontsize=17, family=FONT)
    for tick, bar in zip(ax.get_yticklabels(), bars):
        if bar.value is None:
            tick.set_color("#777777")
            tick.set_fontstyle("italic")
    ax.invert_yaxis()  # first row (the weakest) on top
    _fit_labels(fig, ax, width_px, top, bottom)
    peak = max(values) if values else 0.0
    if by_target:
        right = max(110.0, peak * 1.12)
        ax.axvline(100, color=COLOUR_TARGET, linestyle="--", linewidth=2, zorder=3)
        ax.set_xlabel("% kế hoạch", fontsize=15, family=FONT)
    else:
        right = max(1.0, peak * 1.18)
        ax.set_xlabel("người", fontsize=15, family=FONT)
    ax.set_xlim(0, right)
    for pos, bar in zip(positions, bars):
        if bar.value is None:
            continue
        if bar.value >= right * 0.22:  # inside the bar's end: clear of the target line
            ax.text(bar.value - right * 0.012, pos, literal(bar.text), va="center", ha="right", fontsize=15,
                    family=FONT, color="white", fontweight="bold", zorder=4)
        else:
            ax.text(bar.value + right * 0.012, pos, literal(bar.text), va="center", ha="left", fontsize=15,
                    family=FONT, zorder=4)
    if by_target:
        used = {b.colour for b in bars if b.value is not None}
        handles = [
            Patch(color=colour, label=label)
            for colour, label in (
                (COLOUR_LAGGARD, "dưới mức chung"),
                (COLOUR_OTHER, "chưa đạt"),
                (COLOUR_MET, "đạt chỉ tiêu"),
            )
            if colour in used
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False,
                   prop={"family": FONT, "size": 14}, bbox_to_anchor=(0.5, 0.0))
    ax.tick_params(axis="x", labelsize=13)
    ax.grid(axis="x", color="#e5e5e5", zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def _fit_labels(fig: Figure, ax: object, width_px: int, top: float, bottom: float) -> None:
    """Move the plot's left edge to just past the widest unit name, so no name is cut."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    widest = max(
        (label.get_window_extent(renderer).width for label in ax.get_yticklabels()),  # type: ignore[attr-defined]
        default=0.0,
    )
    left = min(max((widest + 24) / width_px, 0.12), 0.5)
    ax.set_position((left, bottom, 0.93 - left, top - bottom))  # type: ignore[attr-defined]


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
