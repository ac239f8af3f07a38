"""Rate tables as data: pydantic models of ``bot/data/rates.toml`` and lookup by date.

Figures change by decree on fixed dates, and some are unconfirmed, so they live in a TOML file
an operator can edit without touching code. Loading is strict (unknown keys, negative values,
overlapping or gapped periods are refused) because a silently wrong rate produces wrong quotes
for every user; the error names the file, the table and the row so the fix is obvious.

``RateBook.at(d)`` returns everything in force on ``d`` together with each figure's legal
source and start date, so every quote can cite where its numbers come from.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    ValidationError,
    computed_field,
    model_validator,
)

from bot.domain.money import format_pct, format_vnd, percent_of

__all__ = [
    "BaseSalaryRow",
    "DataFileError",
    "Group",
    "HouseholdRow",
    "RateBook",
    "RatesError",
    "RatesInForce",
    "RefusalReason",
    "Refused",
    "SupportRow",
    "VoluntaryRow",
    "describe_rates",
    "format_date",
    "load_toml",
    "validation_message",
]

RATES_FILE = "rates.toml"


# --------------------------------------------------------------------------- refusals


class RefusalReason(StrEnum):
    """Why a question cannot be answered with a figure (the reply layer words it)."""

    NO_RATES = "no_rates"
    MEMBERS_RANGE = "members_range"
    MONTHS_NOT_ALLOWED = "months_not_allowed"
    INCOME_BELOW_MIN = "income_below_min"
    INCOME_ABOVE_MAX = "income_above_max"
    UNKNOWN_GROUP = "unknown_group"
    GROUP_NOT_AVAILABLE = "group_not_available"
    COFUNDING_EXCEEDS = "cofunding_exceeds"
    COFUNDING_MISMATCH = "cofunding_mismatch"


class Refused(Exception):
    """A domain refusal: the inputs are understood but no quote may be given.

    ``limit`` is the bound that was crossed (e.g. the minimum income), ``value`` what was asked,
    ``allowed`` the permitted choices (e.g. months), ``group`` the group key concerned,
    ``on`` the date asked about and ``available_from`` when a group becomes available.
    ``detail`` is English, for logs; users see text from the reply layer.
    """

    def __init__(
        self,
        reason: RefusalReason,
        detail: str = "",
        *,
        limit: int | None = None,
        value: int | None = None,
        allowed: tuple[int, ...] | None = None,
        group: str | None = None,
        on: date | None = None,
        available_from: date | None = None,
    ) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.limit = limit
        self.value = value
        self.allowed = allowed
        self.group = group
        self.on = on
        self.available_from = available_from


# --------------------------------------------------------------------------- data-file helpers


class DataFileError(ValueError):
    """A data file under bot/data is unreadable or invalid; the message says where."""


class RatesError(DataFileError):
    """rates.toml is invalid."""


_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]")
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _locate_line(text: str, lineno: int) -> str:
    """Name the ``[[table]]`` row a line belongs to ('base_salary row 3'), or ''."""
    counts: dict[str, int] = {}
    current = ""
    for line in text.splitlines()[:lineno]:
        match = _HEADER.match(line)
        if match:
            table = match.group(1)
            counts[table] = counts.get(table, 0) + 1
            current = f"{table} row {counts[table]}"
    return current


def load_toml(path: Path | str | None, default_file: str, error: type[DataFileError]) -> tuple[str, dict[str, Any]]:
    """Read and parse a TOML data file; returns (name used in messages, document).

    ``path=None`` reads the file packaged under ``bot/data``. Floats are parsed as Decimal so
    that ``4.5`` stays exactly 4,5 %.
    """
    if path is None:
        name = default_file
        try:
            text = resources.files("bot").joinpath("data", default_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise error(f"{name}: cannot read the packaged file: {exc}") from exc
    else:
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"{name}: cannot read: {exc}") from exc
    try:
        return name, tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        where = ""
        match = _AT_LINE.search(str(exc))
        if match:
            row = _locate_line(text, int(match.group(1)))
            where = f" {row}:" if row else ""
        raise error(f"{name}:{where} invalid TOML: {exc}") from exc


def validation_message(exc: ValidationError) -> str:
    """One line per pydantic error: 'field amount: Input should be ...'."""
    parts = []
    for err in exc.errors():
        field = _loc_text(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"field {field}: {msg}" if field else msg)
    return "; ".join(parts)


def _loc_text(loc: tuple[int | str, ...]) -> str:
    """('cofunding', 0, 'person_pays') -> 'cofunding[1].person_pays' (1-based like rows)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def format_date(d: date) -> str:
    """Vietnamese date order, as officials write it: 01/07/2026."""
    return d.strftime("%d/%m/%Y")


# --------------------------------------------------------------------------- row models

_Date = Annotated[date, Strict()]
_Money = Annotated[StrictInt, Field(ge=0)]
_Percent = Annotated[Decimal, Field(ge=0, le=100)]
_Months = Annotated[StrictInt, Field(ge=1)]
_Text = Annotated[str, Field(min_length=1)]
_GroupKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Row(_Frozen):
    """A period of validity with its legal source; ``effective_to`` is inclusive."""

    effective_from: _Date
    effective_to: _Date | None = None
    source: _Text
    note: _Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Row:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        return self

    def covers(self, d: date) -> bool:
        """True when ``d`` falls in this row's period."""
        return self.effective_from <= d and (self.effective_to is None or d <= self.effective_to)


class BaseSalaryRow(_Row):
    """Lương cơ sở, VND per month."""

    amount: _Money


class HouseholdRow(_Row):
    """BHYT hộ gia đình: rate of the base salary and the per-member ladder."""

    rate_percent: _Percent
    ladder_percent: Annotated[tuple[_Percent, ...], Field(min_length=1)]
    allowed_months: Annotated[tuple[_Months, ...], Field(min_length=1)]
    max_members: Annotated[StrictInt, Field(ge=1)]

    def ladder_for(self, index: int) -> Decimal:
        """Ladder percent of the ``index``-th member (1-based); the last step repeats."""
        return self.ladder_percent[min(index, len(self.ladder_percent)) - 1]


class Group(_Frozen):
    """A support group: the state's share in percent and its Vietnamese label.

    ``caveat`` is a Vietnamese warning that every answer for the group must show, for a support
    the bot cannot fully check for the person (e.g. one limited to some months after an event
    whose date the bot does not know, or a figure not yet confirmed in the law's text).
    """

    percent: _Percent
    label: _Text
    source: _Text | None = None
    note: _Text | None = None
    caveat: _Text | None = None

    @property
    def free(self) -> bool:
        """A 100 % share is a free card: the person pays nothing."""
        return self.percent == 100


class SupportRow(_Row):
    """BHYT groups with state support in force for one period."""

    groups: Annotated[dict[_GroupKey, Group], Field(min_length=1)]


class VoluntaryRow(_Row):
    """BHXH tự nguyện: rate, income range and state support by group."""

    rate_percent: _Percent
    rate_source: _Text
    poverty_line: _Money
    poverty_line_source: _Text
    poverty_line_note: _Text | None = None
    max_income_multiplier: Annotated[StrictInt, Field(ge=1)]
    max_support_months: Annotated[StrictInt, Field(ge=0)]
    allowed_months: Annotated[tuple[_Months, ...], Field(min_length=1)]
    support: Annotated[dict[_GroupKey, Group], Field(min_length=1)]


_TABLES: dict[str, type[_Row]] = {
    "base_salary": BaseSalaryRow,
    "bhyt_household": HouseholdRow,
    "bhyt_support": SupportRow,
    "bhxh_voluntary": VoluntaryRow,
}

_R = TypeVar("_R", bound=_Row)


# --------------------------------------------------------------------------- in force


class RatesInForce(_Frozen):
    """Everything in force on ``on``; each row keeps its source and effective_from."""

    on: date
    base_salary: BaseSalaryRow
    bhyt_household: HouseholdRow
    bhyt_support: SupportRow
    bhxh_voluntary: VoluntaryRow

    def bhyt_member_monthly(self, index: int) -> int:
        """Monthly BHYT of the ``index``-th household member, rounded once (official table)."""
        household = self.bhyt_household
        percent = household.rate_percent * household.ladder_for(index) / 100
        return percent_of(self.base_salary.amount, percent)

    def bhyt_full_monthly(self) -> int:
        """4,5 % of the base salary: one month of a card before any support."""
        return percent_of(self.base_salary.amount, self.bhyt_household.rate_percent)

    def bhyt_budget_monthly(self, group: Group) -> int:
        """The state's share of one month of a supported card."""
        full = self.bhyt_full_monthly()
        return full if group.free else percent_of(full, group.percent)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def min_income(self) -> int:
        """Lowest income for voluntary BHXH: the rural poverty line."""
        return self.bhxh_voluntary.poverty_line

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_income(self) -> int:
        """Highest income for voluntary BHXH: a multiple of the base salary in force."""
        return self.bhxh_voluntary.max_income_multiplier * self.base_salary.amount

    @computed_field  # type: ignore[prop-decorator]
    @property
    def voluntary_support_base(self) -> int:
        """22 % of the poverty line: the amount support percentages apply to."""
        return percent_of(self.bhxh_voluntary.poverty_line, self.bhxh_voluntary.rate_percent)

    def voluntary_support_monthly(self, group: Group) -> int:
        """The fixed monthly state support for a voluntary BHXH group."""
        return percent_of(self.voluntary_support_base, group.percent)


# --------------------------------------------------------------------------- the book


class RateBook(_Frozen):
    """All rate tables, validated; ask it what was in force on a date."""

    name: str = RATES_FILE
    base_salary: tuple[BaseSalaryRow, ...]
    bhyt_household: tuple[HouseholdRow, ...]
    bhyt_support: tuple[SupportRow, ...]
    bhxh_voluntary: tuple[VoluntaryRow, ...]

    @classmethod
    def load(cls, path: Path | str | None = None) -> RateBook:
        """Load and validate rates.toml (the packaged one when ``path`` is None)."""
        name, doc = load_toml(path, RATES_FILE, RatesError)
        return cls.from_document(doc, name=name)

    @classmethod
    def from_document(cls, doc: dict[str, Any], name: str = RATES_FILE) -> RateBook:
        """Validate a parsed TOML document; raises RatesError naming table and row."""
        unknown = sorted(set(doc) - set(_TABLES))
        if unknown:
            raise RatesError(f"{name}: unknown table {unknown[0]!r} (expected {', '.join(_TABLES)})")
        # Each table's rows are of its model (_TABLES); the mapping's value type cannot say which.
        tables: dict[str, tuple[Any, ...]] = {
            table: _load_table(name, table, doc.get(table), model) for table, model in _TABLES.items()
        }
        return cls(name=name, **tables)

    def next_change(self, d: date) -> date | None:
        """The first day after ``d`` on which any table has a new row (None when none is known):
        a coming change is in the tables before it applies, and answers can say so."""
        starts = [
            row.effective_from
            for table in (self.base_salary, self.bhyt_household, self.bhyt_support, self.bhxh_voluntary)
            for row in table
            if row.effective_from > d
        ]
        return min(starts, default=None)

    def at(self, d: date) -> RatesInForce:
        """Everything in force on ``d``; Refused(NO_RATES) when a table has no row then.

        A datetime is refused (TypeError): which calendar day it means depends on its time
        zone, so the caller must take the local date (Asia/Ho_Chi_Minh) from its Clock.
        """
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"pass a date, not {type(d).__name__}")
        if d < self.first_date:
            raise Refused(
                RefusalReason.NO_RATES,
                f"the rate book starts on {self.first_date.isoformat()}",
                on=d,
                available_from=self.first_date,
            )
        return RatesInForce(
            on=d,
            base_salary=_row_at(self.base_salary, d, "base_salary"),
            bhyt_household=_row_at(self.bhyt_household, d, "bhyt_household"),
            bhyt_support=_row_at(self.bhyt_support, d, "bhyt_support"),
            bhxh_voluntary=_row_at(self.bhxh_voluntary, d, "bhxh_voluntary"),
        )

    @property
    def first_date(self) -> date:
        """The first date on which every table has a row."""
        return max(rows[0].effective_from for rows in self._all_tables())

    def change_dates(self) -> tuple[date, ...]:
        """Every date on which some figure changes, sorted (for tests and the CLI)."""
        return tuple(sorted({row.effective_from for rows in self._all_tables() for row in rows}))

    @property
    def support_group_keys(self) -> frozenset[str]:
        """Every BHYT support group key known on any date."""
        return frozenset(key for row in self.bhyt_support for key in row.groups)

    @property
    def voluntary_group_keys(self) -> frozenset[str]:
        """Every voluntary BHXH support group key known on any date."""
        return frozenset(key for row in self.bhxh_voluntary for key in row.support)

    def support_group_available_from(self, key: str, after: date) -> date | None:
        """First date on or after ``after`` when BHYT group ``key`` exists, if any."""
        for row in self.bhyt_support:
            if key in row.groups and (row.effective_to is None or row.effective_to >= after):
                return max(row.effective_from, after)
        return None

    def _all_tables(self) -> Iterable[Sequence[_Row]]:
        return (self.base_salary, self.bhyt_household, self.bhyt_support, self.bhxh_voluntary)


def _row_label(index: int, raw: object) -> str:
    """'row 3 (effective_from 2024-07-01)': how messages point at a row."""
    start = raw.get("effective_from") if isinstance(raw, dict) else None
    return f"row {index} (effective_from {start})" if start is not None else f"row {index}"


def _load_table(name: str, table: str, raw: object, model: type[_R]) -> tuple[_R, ...]:
    """Validate each row of one table, then the sequence of periods."""
    if raw is None:
        raise RatesError(f"{name}: {table}: missing (add at least one [[{table}]] row)")
    if not isinstance(raw, list) or not raw:
        raise RatesError(f"{name}: {table}: must be a non-empty array of tables ([[{table}]])")
    rows: list[_R] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise RatesError(f"{name}: {table} {_row_label(index, item)}: must be a table")
        try:
            rows.append(model.model_validate(item))
        except ValidationError as exc:
            raise RatesError(f"{name}: {table} {_row_label(index, item)}: {validation_message(exc)}") from None
    check_periods(rows, lambda i, msg: RatesError(f"{name}: {table} {_row_label(i, raw[i - 1])}: {msg}"))
    return tuple(rows)


def check_periods(rows: Sequence[_Row], fail: Callable[[int, str], Exception]) -> None:
    """Sorted, no overlap, no gap, only the last row open-ended; ``fail(row_number, msg)``."""
    for number in range(2, len(rows) + 1):
        prev, row = rows[number - 2], rows[number - 1]
        if prev.effective_to is None:
            raise fail(number - 1, "open-ended (no effective_to) but not the last row")
        if row.effective_from < prev.effective_from:
            raise fail(number, f"not in date order: starts before row {number - 1} ({prev.effective_from})")
        if row.effective_from <= prev.effective_to:
            raise fail(number, f"overlaps row {number - 1} (ends {prev.effective_to})")
        if row.effective_from != prev.effective_to + timedelta(days=1):
            raise fail(number, f"gap after row {number - 1} (ends {prev.effective_to}); start on {prev.effective_to + timedelta(days=1)}")


def _row_at(rows: Sequence[_R], d: date, table: str) -> _R:
    for row in rows:
        if row.covers(d):
            return row
    raise Refused(RefusalReason.NO_RATES, f"no {table} row in force on {d.isoformat()}", on=d)


# --------------------------------------------------------------------------- printing


def _since(row: _Row) -> str:
    return f"{row.source}, từ {format_date(row.effective_from)}"


def _group_line(key: str, group: Group, extra: str) -> str:
    note = f" [{group.note}]" if group.note else ""
    source = f" ({group.source})" if group.source else ""
    line = f"  {key:<22} {format_pct(group.percent):>5}  {extra}  {group.label}{source}{note}"
    if group.caveat:
        line += f"\n  {'':<22} ⚠ {group.caveat}"
    return line


def _describe_household(rates: RatesInForce) -> list[str]:
    household = rates.bhyt_household
    lines = [
        f"BHYT hộ gia đình / household: {format_pct(household.rate_percent)} lương cơ sở/tháng ({_since(household)})",
        f"  {'người / member':<16} {'tỷ lệ':>6} {'1 tháng':>12}" + "".join(f" {f'{m} tháng':>13}" for m in household.allowed_months),
    ]
    steps = len(household.ladder_percent)
    for index in range(1, steps + 1):
        monthly = rates.bhyt_member_monthly(index)
        label = f"thứ {index}" + (" trở đi" if index == steps else "")
        lines.append(
            f"  {label:<16} {format_pct(household.ladder_for(index)):>6} {format_vnd(monthly):>12}"
            + "".join(f" {format_vnd(monthly * m):>13}" for m in household.allowed_months)
        )
    lines.append(f"  đóng / months: {', '.join(map(str, household.allowed_months))}; tối đa {household.max_members} người/hộ")
    return lines


def _describe_support(rates: RatesInForce) -> list[str]:
    support = rates.bhyt_support
    full = rates.bhyt_full_monthly()
    lines = [f"BHYT có hỗ trợ / supported (nhóm, NSNN hỗ trợ, người đóng/tháng) ({_since(support)})"]
    for key, group in support.groups.items():
        person = full - rates.bhyt_budget_monthly(group)
        extra = "thẻ miễn phí" if group.free else f"{format_vnd(person)}/tháng"
        lines.append(_group_line(key, group, f"{extra:>17}"))
    return lines


def _describe_voluntary(rates: RatesInForce) -> list[str]:
    vol = rates.bhxh_voluntary
    lines = [
        f"BHXH tự nguyện / voluntary: {format_pct(vol.rate_percent)} thu nhập chọn ({vol.rate_source}; hỗ trợ: {_since(vol)})",
        f"  thu nhập / income: từ {format_vnd(rates.min_income)} (chuẩn nghèo nông thôn, {vol.poverty_line_source})"
        f" đến {format_vnd(rates.max_income)} ({vol.max_income_multiplier} × lương cơ sở)",
    ]
    if vol.poverty_line_note:
        lines.append(f"  lưu ý / note: {vol.poverty_line_note}")
    lines.append(
        f"  hỗ trợ / support: tỷ lệ × ({format_pct(vol.rate_percent)} × {format_vnd(vol.poverty_line)}"
        f" = {format_vnd(rates.voluntary_support_base)}), tối đa {vol.max_support_months} tháng"
    )
    for key, group in vol.support.items():
        lines.append(_group_line(key, group, f"{format_vnd(rates.voluntary_support_monthly(group)):>12}/tháng"))
    lines.append(f"  đóng / months: {', '.join(map(str, vol.allowed_months))}")
    return lines


def describe_rates(rates: RatesInForce) -> str:
    """Plain-text table of everything in force (for `bhxh-bot rates --date`)."""
    base = rates.base_salary
    lines = [
        f"Mức đóng áp dụng ngày / rates in force on {format_date(rates.on)}",
        f"Lương cơ sở / base salary: {format_vnd(base.amount)}/tháng ({_since(base)})",
        "",
        *_describe_household(rates),
        "",
        *_describe_support(rates),
        "",
        *_describe_voluntary(rates),
    ]
    return "\n".join(lines)
