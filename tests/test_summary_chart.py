"""The summary chart: a real PNG, phone-sized, with a drawing in it and every glyph present."""

from __future__ import annotations

import io
import warnings
from datetime import date
from decimal import Decimal

from PIL import Image

from bot.domain.coverage import BaselineFigure, TargetSpec, UnitInput, compute_coverage
from bot.domain.summary import SummaryData, SummaryKind, find_laggards, progress_of
from bot.reports.summary_chart import CHART_WIDTH_PX, COLOUR_LAGGARD, COLOUR_MET, MAX_BARS, chart_bars, render_chart
from bot.services.tallies import SchemeCounts
from tests.test_summary import DAY, seed_003_rows, summary_of


def _image(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(png)).convert("RGB")


def _share(image: Image.Image, predicate) -> float:  # type: ignore[no-untyped-def]
    pixels = list(image.getdata())
    return sum(1 for p in pixels if predicate(p)) / len(pixels)


def _near(colour: str):  # type: ignore[no-untyped-def]
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return lambda p: all(abs(a - b) <= 12 for a, b in zip(p, target))


def test_seed_003_chart_is_a_phone_sized_drawing_with_laggards_in_red() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing Vietnamese glyph warns: fail on it
        png = render_chart(summary_of(seed_003_rows()))
    image = _image(png)
    width, height = image.size
    assert width == CHART_WIDTH_PX
    assert 900 <= height <= 1600  # 14 communes: taller than wide is fine on a phone
    assert _share(image, lambda p: p != (255, 255, 255)) > 0.15  # bars, labels, axes
    assert _share(image, _near(COLOUR_LAGGARD)) > 0.01  # four laggards
    assert _share(image, _near(COLOUR_MET)) > 0.005  # two communes past their target
    bars, by_target = chart_bars(summary_of(seed_003_rows()))
    assert by_target
    assert [b.label for b in bars][:2] == ["Huyền Hội", "Đức Mỹ"]  # weakest on top
    assert bars[-1].label == "An Trường" and bars[-1].text == "101,41%"


def test_a_thousand_children_are_capped() -> None:
    units = [UnitInput("P", "Tỉnh Thử", None, "tỉnh")]
    for i in range(1000):
        units.append(
            UnitInput(
                f"P{i:04d}", f"Xã {i:04d}", "P", "xã", 1000, None,
                {"bhyt": BaselineFigure(date(2026, 1, 1), 600 + i % 400)},
                {"bhyt": TargetSpec(pct=Decimal(95))},
            )
        )
    rows = compute_coverage(units)
    root = progress_of(rows[0])
    data = summary_of(rows, root=root, children=find_laggards(root, [progress_of(r) for r in rows[1:]]))
    bars, _ = chart_bars(data)
    assert len(bars) == MAX_BARS
    gap = [b for b in bars if b.value is None]
    assert len(gap) == 1 and gap[0].label == "… 971 đơn vị khác"
    image = _image(render_chart(data))
    assert image.size[0] == CHART_WIDTH_PX and image.size[1] < 2400


def test_without_targets_the_chart_counts_new_participants() -> None:
    rows = compute_coverage([UnitInput("C", "Xã Ngọc Phụng"), UnitInput("C1", "Thôn Quyết Tiến", "C"), UnitInput("C2", "Thôn Hưng Long", "C")])
    data = SummaryData(
        SummaryKind.DAILY, "C", "Xã Ngọc Phụng", DAY, DAY, DAY, SchemeCounts(),
        root=progress_of(rows[0], 10), children=[progress_of(rows[1], 3), progress_of(rows[2], 7)],
    )
    bars, by_target = chart_bars(data)
    assert not by_target
    assert [(b.label, b.text) for b in bars] == [("Hưng Long", "7"), ("Quyết Tiến", "3")]
    image = _image(render_chart(data))
    assert image.size[0] == CHART_WIDTH_PX
    assert _share(image, lambda p: p != (255, 255, 255)) > 0.05


def test_an_empty_area_still_gives_a_picture() -> None:
    data = SummaryData(SummaryKind.DAILY, "X", "Xã Trống", DAY, DAY, DAY, SchemeCounts())
    image = _image(render_chart(data))
    assert image.size[0] == CHART_WIDTH_PX


def test_dollar_signs_in_names_are_drawn_literally() -> None:
    """Matplotlib reads text between two `$` as mathtext: "Xã $x^{$ B" raised ValueError and
    left that area's officials without a summary. Every name is drawn as it is written."""
    from matplotlib.cbook import is_math_text

    from bot.domain.summary import short_name
    from bot.reports.summary_chart import literal

    names = ["Xã $x^{$ B", "Xã $\\alpha$ C", "Thôn 5$", "Ấp \\$ đô $$"]
    units = [UnitInput("D", "Huyện $x^{$ {$", None, "huyện")]
    for i, name in enumerate(names):
        units.append(
            UnitInput(
                f"D{i}", name, "D", "xã", 1000, None,
                {"bhyt": BaselineFigure(date(2026, 1, 1), 700 + 100 * i)}, {"bhyt": TargetSpec(pct=Decimal(95))},
            )
        )
    rows = compute_coverage(units)
    data = summary_of(rows)
    image = _image(render_chart(data))
    assert image.size[0] == CHART_WIDTH_PX
    assert sorted(b.label for b in chart_bars(data)[0]) == sorted(short_name(n) for n in names)
    assert not any(is_math_text(literal(text)) for text in [*names, "$x$", "a\\$b$"])
    counts = SummaryData(
        SummaryKind.DAILY, "D", "Huyện $x^{$ {$", DAY, DAY, DAY, SchemeCounts(),
        root=progress_of(rows[0], 2), children=[progress_of(r, 1) for r in rows[1:]],
        cumulative_label="Từ đầu $tháng",
    )
    assert _image(render_chart(counts)).size[0] == CHART_WIDTH_PX
