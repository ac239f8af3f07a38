"""Coverage against targets, per unit and rolled up the tree, as seed 003's tables compute it.

Pure: the caller hands in the units with their figures (population, labour force, baselines,
targets, new participants logged since the baseline) and gets rows of ints and Decimals back.

The arithmetic of seed 003 (Càng Long, 30/6/2023), reproduced to the printed digit:
- participants = baseline + new active participants logged since the baseline date;
- coverage % = participants / population (BHYT) or / labour force (BHXH, BHXH tự nguyện, BHTN);
- % of target = coverage / target rate, both unrounded (only the printed figure is rounded,
  half up, to 2 places);
- still to mobilise = round(target rate x denominator - participants), negative when exceeded;
- "BHXH bắt buộc" still to mobilise = round(total BHXH gap) - round(voluntary gap);
- a unit whose children all carry a target gets, as its target count, the sum of theirs (the
  "Tổng cộng" rows of the seed sum the communes' exact gaps: BHYT 8.766, voluntary 1.186); its
  own target rate is still the one shown and divided by (95 %, 6,17 %...);
- a unit without its own population or labour force uses the sum of its children's.
Seed 001's village plan (planned participants / population) is `planned_rate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.domain.money import format_number, format_pct

__all__ = [
    "BaselineFigure",
    "CoverageRow",
    "Figure",
    "Measure",
    "MEASURE_LABELS",
    "PlanRow",
    "TargetSpec",
    "UnitInput",
    "compute_coverage",
    "format_coverage_pct",
    "format_remaining",
    "planned_rates",
    "round_half_up",
    "rounded_pct",
]

_HUNDRED = Decimal(100)


class Measure(StrEnum):
    """The columns of the seed 003 tables."""

    BHYT = "bhyt"
    BHXH = "bhxh"  # compulsory + voluntary, of the labour force
    BHXH_BB = "bhxh_bb"  # compulsory
    BHXH_TN = "bhxh_tn"  # voluntary
    BHTN = "bhtn"  # unemployment insurance


MEASURE_LABELS: dict[Measure, str] = {
    Measure.BHYT: "BHYT",
    Measure.BHXH: "BHXH",
    Measure.BHXH_BB: "BHXH bắt buộc",
    Measure.BHXH_TN: "BHXH tự nguyện",
    Measure.BHTN: "BHTN",
}


@dataclass(frozen=True)
class BaselineFigure:
    as_of: date
    participants: int


@dataclass(frozen=True)
class TargetSpec:
    """A target as the plan states it: a rate in percent, a number of people, or both."""

    pct: Decimal | None = None
    count: int | None = None


@dataclass(frozen=True)
class UnitInput:
    """One unit with its own figures (children's figures are rolled up, not repeated here).

    baselines: per scheme 'bhyt', 'bhxh_bb', 'bhxh_tn', 'bhtn'.
    targets: per scheme 'bhyt', 'bhxh' (total), 'bhxh_tn', 'bhtn'.
    new: participants logged at this very unit since its baseline, per kind 'bhyt', 'bhxh_tn'.
    """

    code: str
    name: str
    parent_code: str | None = None
    level: str = ""
    population: int | None = None
    labour_force: int | None = None
    baselines: Mapping[str, BaselineFigure] = field(default_factory=dict)
    targets: Mapping[str, TargetSpec] = field(default_factory=dict)
    new: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """One measure of one unit. Percentages are unrounded; round only to print."""

    participants: int  # baseline + new (0 when nothing is known)
    new: int  # new participants since the baseline, in the subtree
    has_baseline: bool  # False: coverage and remaining are unknown (None)
    denominator: int | None  # population or labour force
    coverage: Decimal | None  # percent
    target: Decimal | None  # percent
    target_count: Decimal | None  # exact number of people the target means
    of_target: Decimal | None  # percent
    remaining: int | None  # still to mobilise; negative when exceeded


@dataclass(frozen=True)
class CoverageRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    depth: int
    population: int | None
    labour_force: int | None
    figures: Mapping[Measure, Figure]

    def __getitem__(self, measure: Measure | str) -> Figure:
        return self.figures[Measure(measure)]

    @property
    def bhyt(self) -> Figure:
        return self.figures[Measure.BHYT]


@dataclass(frozen=True)
class PlanRow:
    """Seed 001's village table: population, planned BHYT participants, rate."""

    code: str
    name: str
    depth: int
    population: int
    planned: int
    rate: Decimal  # percent, unrounded


@dataclass(frozen=True)
class _Spec:
    denominator: str  # attribute of UnitInput
    baselines: tuple[str, ...]
    new_kinds: tuple[str, ...]
    target: str


_SPECS: dict[Measure, _Spec] = {
    Measure.BHYT: _Spec("population", ("bhyt",), ("bhyt",), "bhyt"),
    Measure.BHXH: _Spec("labour_force", ("bhxh_bb", "bhxh_tn"), ("bhxh_tn",), "bhxh"),
    Measure.BHXH_TN: _Spec("labour_force", ("bhxh_tn",), ("bhxh_tn",), "bhxh_tn"),
    Measure.BHTN: _Spec("labour_force", ("bhtn",), (), "bhtn"),
}


def round_half_up(value: Decimal) -> int:
    """To a whole number, half away from zero, as the tables print people."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rounded_pct(value: Decimal | None, places: int = 2) -> Decimal | None:
    """A percentage as printed: half up to `places` decimals."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_coverage_pct(value: Decimal | None, places: int = 2) -> str:
    """Decimal('93.0843...') -> '93,08%'; unknown -> '—'."""
    return "—" if value is None else format_pct(value, places)


def format_remaining(value: int | None) -> str:
    """Still to mobilise as the seed prints it: 2.362, or (75) when the target is exceeded."""
    if value is None:
        return "—"
    return f"({format_number(-value)})" if value < 0 else format_number(value)


class _Tree:
    def __init__(self, units: Iterable[UnitInput]) -> None:
        self.units: dict[str, UnitInput] = {u.code: u for u in units}
        self.children: dict[str, list[str]] = {code: [] for code in self.units}
        for unit in self.units.values():
            if unit.parent_code in self.units and unit.parent_code != unit.code:
                self.children[unit.parent_code].append(unit.code)
        for kids in self.children.values():
            kids.sort()

    def roots(self) -> list[str]:
        return sorted(
            code
            for code, unit in self.units.items()
            if unit.parent_code not in self.units or unit.parent_code == code
        )

    def walk(self, start: Sequence[str]) -> list[tuple[str, int]]:
        """Pre-order (parents before children) with depth, iteratively (deep trees are fine)."""
        out: list[tuple[str, int]] = []
        seen: set[str] = set()
        stack = [(code, 0) for code in reversed(start)]
        while stack:
            code, depth = stack.pop()
            if code in seen:  # defensive: a cycle in bad data must not loop forever
                continue
            seen.add(code)
            out.append((code, depth))
            stack.extend((kid, depth + 1) for kid in reversed(self.children[code]))
        return out


def _figures_for(tree: _Tree, order: list[tuple[str, int]], measure: Measure) -> dict[str, Figure]:
    """Bottom-up roll-up of one measure over the walked units."""
    spec = _SPECS[measure]
    out: dict[str, Figure] = {}
    for code, _ in reversed(order):  # children before parents
        unit = tree.units[code]
        kids = [out[k] for k in tree.children[code] if k in out]
        own_new = sum(unit.new.get(kind, 0) for kind in spec.new_kinds)
        new = own_new + sum(k.new for k in kids)
        own_bases = [unit.baselines[s].participants for s in spec.baselines if s in unit.baselines]
        if own_bases:
            participants, has_baseline = sum(own_bases) + new, True
        else:
            participants = own_new + sum(k.participants for k in kids)
            has_baseline = any(k.has_baseline for k in kids)
        own_den = getattr(unit, spec.denominator)
        kid_dens = [k.denominator for k in kids if k.denominator is not None]
        denominator = own_den if own_den is not None else (sum(kid_dens) if kid_dens else None)

        target_spec = unit.targets.get(spec.target)
        own_count: Decimal | None = None
        if target_spec is not None:
            if target_spec.count is not None:
                own_count = Decimal(target_spec.count)
            elif target_spec.pct is not None and denominator:
                own_count = target_spec.pct * denominator / _HUNDRED
        kid_counts = [k.target_count for k in kids if k.target_count is not None]
        if kids and len(kid_counts) == len(kids):
            target_count: Decimal | None = sum(kid_counts, Decimal(0))
        else:
            target_count = own_count
        if target_spec is not None and target_spec.pct is not None:
            target: Decimal | None = target_spec.pct
        elif target_count is not None and denominator:
            target = own_count * _HUNDRED / denominator if own_count is not None else target_count * _HUNDRED / denominator
        else:
            target = None

        coverage = (
            Decimal(participants) * _HUNDRED / denominator if has_baseline and denominator else None
        )
        of_target = coverage * _HUNDRED / target if coverage is not None and target else None
        remaining = (
            round_half_up(target_count - participants)
            if has_baseline and target_count is not None
            else None
        )
        out[code] = Figure(
            participants, new, has_baseline, denominator, coverage, target, target_count, of_target, remaining
        )
    return out


def _compulsory(unit: UnitInput, total: Figure, voluntary: Figure, kids: list[Figure]) -> Figure:
    """BHXH bắt buộc: the total minus the voluntary part (the seed's column 13)."""
    own = unit.baselines.get("bhxh_bb")
    participants = total.participants - voluntary.participants
    has_baseline = own is not None or any(k.has_baseline for k in kids)
    denominator = total.denominator
    target = (
        total.target - voluntary.target
        if total.target is not None and voluntary.target is not None
        else None
    )
    target_count = (
        total.target_count - voluntary.target_count
        if total.target_count is not None and voluntary.target_count is not None
        else None
    )
    coverage = Decimal(participants) * _HUNDRED / denominator if has_baseline and denominator else None
    of_target = coverage * _HUNDRED / target if coverage is not None and target else None
    remaining = (
        total.remaining - voluntary.remaining
        if total.remaining is not None and voluntary.remaining is not None
        else None
    )
    return Figure(participants, 0, has_baseline, denominator, coverage, target, target_count, of_target, remaining)


def compute_coverage(units: Iterable[UnitInput], root: str | None = None) -> list[CoverageRow]:
    """Rows for every unit (or the subtree of `root`), parents before their children.

    Units whose parent is not among `units` are roots; so passing an official's subtree
    works as is.
    """
    tree = _Tree(units)
    if root is not None and root not in tree.units:
        return []
    order = tree.walk([root] if root is not None else tree.roots())
    per_measure = {m: _figures_for(tree, order, m) for m in _SPECS}
    rows: list[CoverageRow] = []
    bb: dict[str, Figure] = {}
    for code, _ in reversed(order):
        kids = [bb[k] for k in tree.children[code] if k in bb]
        bb[code] = _compulsory(
            tree.units[code], per_measure[Measure.BHXH][code], per_measure[Measure.BHXH_TN][code], kids
        )
    for code, depth in order:
        unit = tree.units[code]
        figures = {m: per_measure[m][code] for m in _SPECS}
        figures[Measure.BHXH_BB] = bb[code]
        bhyt = figures[Measure.BHYT]
        labour = figures[Measure.BHXH].denominator
        rows.append(
            CoverageRow(
                code=code,
                name=unit.name,
                level=unit.level,
                parent_code=unit.parent_code,
                depth=depth,
                population=bhyt.denominator,
                labour_force=labour,
                figures={m: figures[m] for m in Measure},
            )
        )
    return rows


def planned_rates(rows: Iterable[CoverageRow]) -> list[PlanRow]:
    """Seed 001: per unit with a BHYT target count and a population, planned / population."""
    out: list[PlanRow] = []
    for row in rows:
        figure = row.bhyt
        if figure.target_count is None or not figure.denominator:
            continue
        planned = round_half_up(figure.target_count)
        out.append(
            PlanRow(
                row.code,
                row.name,
                row.depth,
                figure.denominator,
                planned,
                Decimal(planned) * _HUNDRED / figure.denominator,
            )
        )
    return out
