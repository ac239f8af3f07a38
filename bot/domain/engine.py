"""Pure cost engine: quotes for BHYT and voluntary BHXH, or ``Refused``.

No I/O and no clock: every answer depends only on the rate book, the date asked about and the
inputs, so it can be tested against the official tables and reproduced later. Amounts are int
đồng. Each monthly figure is rounded once, half up (per member per month for BHYT, per month for
voluntary BHXH), and then multiplied by the months, which is how the official tables are built.

Refusals raise ``Refused`` with a specific ``RefusalReason`` plus the bound and the value, so
the reply layer can say exactly what is wrong. Non-int inputs raise ``TypeError``: that is a
bug in the caller, not something a user typed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from bot.domain.campaigns import CoFunding, Funder, Scheme
from bot.domain.money import percent_of
from bot.domain.rates import Group, RateBook, RatesInForce, RefusalReason, Refused, describe_rates

__all__ = [
    "Funder",
    "HouseholdLine",
    "HouseholdQuote",
    "RefusalReason",
    "Refused",
    "SupportedQuote",
    "VoluntaryQuote",
    "describe_rates",
    "quote_bhxh_voluntary",
    "quote_bhyt_household",
    "quote_bhyt_supported",
]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HouseholdLine(_Result):
    """One member of a household card: place on the ladder and amounts."""

    index: int
    ladder_percent: Decimal
    monthly: int
    amount: int


class HouseholdQuote(_Result):
    """BHYT hộ gia đình for ``members`` people over ``months``."""

    on: date
    members: int
    months: int
    base_salary: int
    base_salary_source: str
    base_salary_from: date
    rate_percent: Decimal
    ladder_source: str
    ladder_from: date
    lines: tuple[HouseholdLine, ...]
    monthly_total: int
    total: int


class SupportedQuote(_Result):
    """BHYT for a supported group: total, state share, campaign funders, what the person pays."""

    on: date
    group: str
    group_label: str
    group_note: str | None
    group_caveat: str | None
    support_percent: Decimal
    support_source: str
    support_from: date
    free: bool
    months: int
    base_salary: int
    base_salary_source: str
    rate_percent: Decimal
    monthly_total: int
    total: int
    budget: int
    funders: tuple[Funder, ...]
    person_pays: int
    cofunded: bool


class VoluntaryQuote(_Result):
    """BHXH tự nguyện at a chosen income: gross, state support and net, monthly and per period."""

    on: date
    income: int
    group: str
    group_label: str
    group_note: str | None
    group_caveat: str | None
    months: int
    rate_percent: Decimal
    rate_source: str
    support_percent: Decimal
    support_source: str
    support_from: date
    support_base: int
    max_support_months: int
    min_income: int
    max_income: int
    poverty_line_source: str
    monthly_gross: int
    monthly_support: int
    monthly_net: int
    period_gross: int
    period_support: int
    period_net: int

    @property
    def total(self) -> int:
        """What the person pays for the period (same as ``period_net``)."""
        return self.period_net


# --------------------------------------------------------------------------- input checks


def _require_int(name: str, value: object) -> int:
    """Callers pass parsed ints; a float or str here is a bug, not a user mistake."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    return value


def _check_months(months: int, allowed: tuple[int, ...]) -> None:
    _require_int("months", months)
    if months not in allowed:
        raise Refused(
            RefusalReason.MONTHS_NOT_ALLOWED,
            f"months {months} not in {allowed}",
            value=months,
            allowed=tuple(allowed),
        )


def _check_members(members: int, maximum: int) -> None:
    _require_int("members", members)
    if members < 1:
        raise Refused(RefusalReason.MEMBERS_RANGE, f"members {members} < 1", limit=1, value=members)
    if members > maximum:
        raise Refused(RefusalReason.MEMBERS_RANGE, f"members {members} > {maximum}", limit=maximum, value=members)


def _check_income(income: int, rates: RatesInForce) -> None:
    _require_int("income", income)
    if income < rates.min_income:
        raise Refused(
            RefusalReason.INCOME_BELOW_MIN,
            f"income {income} below minimum {rates.min_income}",
            limit=rates.min_income,
            value=income,
        )
    if income > rates.max_income:
        raise Refused(
            RefusalReason.INCOME_ABOVE_MAX,
            f"income {income} above maximum {rates.max_income}",
            limit=rates.max_income,
            value=income,
        )


def _support_group(book: RateBook, rates: RatesInForce, group: str) -> Group:
    """The BHYT support group in force, or Refused (unknown key / not on that date)."""
    if not isinstance(group, str):
        raise TypeError(f"group must be str, not {type(group).__name__}")
    found = rates.bhyt_support.groups.get(group)
    if found is not None:
        return found
    if group not in book.support_group_keys:
        raise Refused(RefusalReason.UNKNOWN_GROUP, f"unknown BHYT support group {group!r}", group=group)
    raise Refused(
        RefusalReason.GROUP_NOT_AVAILABLE,
        f"BHYT support group {group!r} not available on {rates.on.isoformat()}",
        group=group,
        on=rates.on,
        available_from=book.support_group_available_from(group, rates.on),
    )


def _voluntary_group(book: RateBook, rates: RatesInForce, group: str) -> Group:
    """The voluntary BHXH support group in force, or Refused."""
    if not isinstance(group, str):
        raise TypeError(f"group must be str, not {type(group).__name__}")
    found = rates.bhxh_voluntary.support.get(group)
    if found is not None:
        return found
    reason = RefusalReason.UNKNOWN_GROUP if group not in book.voluntary_group_keys else RefusalReason.GROUP_NOT_AVAILABLE
    raise Refused(reason, f"voluntary BHXH group {group!r} not available on {rates.on.isoformat()}", group=group, on=rates.on)


# --------------------------------------------------------------------------- BHYT household


def quote_bhyt_household(
    book: RateBook, on: date, members: int, months: int, *, first_position: int = 1
) -> HouseholdQuote:
    """Household card cost: each member's ladder step, rounded per month, times the months.

    `first_position` is the ladder position of the first member priced: 3 when two members
    already joined as a household in the same financial year (DOMAIN §3.2), so the new ones
    pay the 3rd and 4th steps. The positions together stay within the household maximum.
    """
    rates = book.at(on)
    household = rates.bhyt_household
    _check_months(months, household.allowed_months)
    _check_members(members, household.max_members)
    if isinstance(first_position, bool) or not isinstance(first_position, int):
        raise TypeError(f"first_position must be int, not {type(first_position).__name__}")
    if first_position < 1:
        raise ValueError(f"first_position must be at least 1, got {first_position}")
    _check_members(first_position + members - 1, household.max_members)
    lines = tuple(
        _household_line(rates, index, months)
        for index in range(first_position, first_position + members)
    )
    return HouseholdQuote(
        on=on,
        members=members,
        months=months,
        base_salary=rates.base_salary.amount,
        base_salary_source=rates.base_salary.source,
        base_salary_from=rates.base_salary.effective_from,
        rate_percent=household.rate_percent,
        ladder_source=household.source,
        ladder_from=household.effective_from,
        lines=lines,
        monthly_total=sum(line.monthly for line in lines),
        total=sum(line.amount for line in lines),
    )


def _household_line(rates: RatesInForce, index: int, months: int) -> HouseholdLine:
    monthly = rates.bhyt_member_monthly(index)
    return HouseholdLine(
        index=index,
        ladder_percent=rates.bhyt_household.ladder_for(index),
        monthly=monthly,
        amount=monthly * months,
    )


# --------------------------------------------------------------------------- BHYT supported


def quote_bhyt_supported(
    book: RateBook,
    on: date,
    group: str,
    months: int,
    cofunding: CoFunding | None = None,
) -> SupportedQuote:
    """Supported card: 4,5 % x base x months, minus the state share, minus campaign funders."""
    rates = book.at(on)
    _check_months(months, rates.bhyt_household.allowed_months)
    found = _support_group(book, rates, group)
    monthly_total = rates.bhyt_full_monthly()
    total = monthly_total * months
    budget = rates.bhyt_budget_monthly(found) * months
    funders, person_pays = _split_rest(total - budget, group, months, cofunding)
    support = rates.bhyt_support
    return SupportedQuote(
        on=on,
        group=group,
        group_label=found.label,
        group_note=found.note,
        group_caveat=found.caveat,
        support_percent=found.percent,
        support_source=found.source or support.source,
        support_from=support.effective_from,
        free=found.free,
        months=months,
        base_salary=rates.base_salary.amount,
        base_salary_source=rates.base_salary.source,
        rate_percent=rates.bhyt_household.rate_percent,
        monthly_total=monthly_total,
        total=total,
        budget=budget,
        funders=funders,
        person_pays=person_pays,
        cofunded=cofunding is not None,
    )


def _split_rest(rest: int, group: str, months: int, cofunding: CoFunding | None) -> tuple[tuple[Funder, ...], int]:
    """Share what the budget leaves between funders and the person; returns (funders, person)."""
    if cofunding is None:
        return (), rest
    if cofunding.scheme is not Scheme.BHYT_SUPPORTED or cofunding.group != group or cofunding.months != months:
        raise Refused(
            RefusalReason.COFUNDING_MISMATCH,
            f"co-funding for {cofunding.scheme.value}/{cofunding.group}/{cofunding.months} "
            f"used for bhyt_supported/{group}/{months}",
            group=group,
            value=months,
        )
    remainder = rest - cofunding.fixed_total
    if remainder < 0:
        raise Refused(
            RefusalReason.COFUNDING_EXCEEDS,
            f"person and funders pay {cofunding.fixed_total} but only {rest} is left after the budget",
            limit=rest,
            value=cofunding.fixed_total,
        )
    funders = (*cofunding.funders, Funder(name=cofunding.remainder_funder, amount=remainder))
    return funders, cofunding.person_pays


# --------------------------------------------------------------------------- voluntary BHXH


def quote_bhxh_voluntary(book: RateBook, on: date, income: int, group: str, months: int) -> VoluntaryQuote:
    """Voluntary BHXH: 22 % of the income minus the group's fixed support, per month and period."""
    rates = book.at(on)
    vol = rates.bhxh_voluntary
    _check_months(months, vol.allowed_months)
    _check_income(income, rates)
    found = _voluntary_group(book, rates, group)
    gross = percent_of(income, vol.rate_percent)
    support = rates.voluntary_support_monthly(found)
    net = gross - support
    return VoluntaryQuote(
        on=on,
        income=income,
        group=group,
        group_label=found.label,
        group_note=found.note,
        group_caveat=found.caveat,
        months=months,
        rate_percent=vol.rate_percent,
        rate_source=vol.rate_source,
        support_percent=found.percent,
        support_source=found.source or vol.source,
        support_from=vol.effective_from,
        support_base=rates.voluntary_support_base,
        max_support_months=vol.max_support_months,
        min_income=rates.min_income,
        max_income=rates.max_income,
        poverty_line_source=vol.poverty_line_source,
        monthly_gross=gross,
        monthly_support=support,
        monthly_net=net,
        period_gross=gross * months,
        period_support=support * months,
        period_net=net * months,
    )
