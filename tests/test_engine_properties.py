"""Properties of the cost engine over random inputs: whole đồng, nothing negative, parts add up,
and bad inputs are refused with ``Refused`` (never another exception)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.campaigns import CoFunding, Funder, Scheme
from bot.domain.engine import (
    HouseholdQuote,
    RefusalReason,
    Refused,
    SupportedQuote,
    VoluntaryQuote,
    quote_bhxh_voluntary,
    quote_bhyt_household,
    quote_bhyt_supported,
)
from bot.domain.rates import RateBook

BOOK = RateBook.load()
FIRST = BOOK.first_date
LAST = date(2035, 12, 31)
SUPPORT_KEYS = sorted(BOOK.support_group_keys)
VOLUNTARY_KEYS = sorted(BOOK.voluntary_group_keys)

dates = st.dates(min_value=FIRST, max_value=LAST)
any_dates = st.dates(min_value=date(2015, 1, 1), max_value=LAST)
# Applied per test (not as a global profile) so other test modules keep their own settings.
FAST = settings(max_examples=150, deadline=None)


def _ints(quote: object) -> list[int]:
    """Every int amount of a quote, including nested lines and funders."""
    data = quote.model_dump()  # type: ignore[attr-defined]
    found: list[int] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, int) and not isinstance(value, bool):
            found.append(value)

    walk(data)
    return found


def _check_amounts(quote: HouseholdQuote | SupportedQuote | VoluntaryQuote, fields: list[str]) -> None:
    for name in fields:
        value = getattr(quote, name)
        assert type(value) is int, name
        assert value >= 0, name
    assert all(v >= 0 for v in _ints(quote))


# --------------------------------------------------------------------------- valid inputs


@FAST
@given(on=dates, members=st.integers(1, 20), months=st.sampled_from([3, 6, 12]))
def test_household_lines_add_up(on: date, members: int, months: int) -> None:
    quote = quote_bhyt_household(BOOK, on, members, months)
    _check_amounts(quote, ["total", "monthly_total", "base_salary"])
    assert len(quote.lines) == members
    for line in quote.lines:
        assert type(line.monthly) is int and type(line.amount) is int
        assert line.amount == line.monthly * months >= 0
    assert quote.total == sum(line.amount for line in quote.lines)
    assert quote.monthly_total * months == quote.total
    # The ladder never charges a later member more than an earlier one.
    monthly = [line.monthly for line in quote.lines]
    assert monthly == sorted(monthly, reverse=True)


@st.composite
def supported_inputs(draw: st.DrawFn) -> tuple[date, str, int]:
    on = draw(dates)
    group = draw(st.sampled_from(sorted(BOOK.at(on).bhyt_support.groups)))
    return on, group, draw(st.sampled_from([3, 6, 12]))


@FAST
@given(supported_inputs())
def test_supported_parts_add_up(args: tuple[date, str, int]) -> None:
    on, group, months = args
    quote = quote_bhyt_supported(BOOK, on, group, months)
    _check_amounts(quote, ["total", "budget", "person_pays", "monthly_total"])
    assert quote.budget + quote.person_pays == quote.total
    assert quote.total == quote.monthly_total * months
    assert (quote.person_pays == 0) == quote.free


@FAST
@given(supported_inputs(), st.data())
def test_cofunded_parts_add_up(args: tuple[date, str, int], data: st.DataObject) -> None:
    on, group, months = args
    rest = quote_bhyt_supported(BOOK, on, group, months).person_pays
    person = data.draw(st.integers(0, rest), label="person")
    fixed = data.draw(st.lists(st.integers(0, rest - person), max_size=3), label="fixed")
    if sum(fixed) > rest - person:
        fixed = []
    rule = CoFunding(
        scheme=Scheme.BHYT_SUPPORTED,
        group=group,
        months=months,
        person_pays=person,
        funders=tuple(Funder(name=f"F{i}", amount=a) for i, a in enumerate(fixed)),
        remainder_funder="Donors",
    )
    quote = quote_bhyt_supported(BOOK, on, group, months, cofunding=rule)
    _check_amounts(quote, ["total", "budget", "person_pays"])
    assert quote.budget + sum(f.amount for f in quote.funders) + quote.person_pays == quote.total
    assert quote.person_pays == person
    assert all(type(f.amount) is int and f.amount >= 0 for f in quote.funders)


@st.composite
def voluntary_inputs(draw: st.DrawFn) -> tuple[date, int, str, int]:
    on = draw(dates)
    rates = BOOK.at(on)
    income = draw(st.integers(rates.min_income, rates.max_income))
    group = draw(st.sampled_from(sorted(rates.bhxh_voluntary.support)))
    return on, income, group, draw(st.sampled_from([1, 3, 6, 12]))


@FAST
@given(voluntary_inputs())
def test_voluntary_parts_add_up(args: tuple[date, int, str, int]) -> None:
    on, income, group, months = args
    quote = quote_bhxh_voluntary(BOOK, on, income, group, months)
    fields = ["monthly_gross", "monthly_support", "monthly_net", "period_gross", "period_support", "period_net"]
    _check_amounts(quote, fields)
    assert quote.monthly_gross - quote.monthly_support == quote.monthly_net
    assert quote.period_gross - quote.period_support == quote.period_net
    assert quote.period_gross == quote.monthly_gross * months
    assert quote.period_support == quote.monthly_support * months
    assert quote.period_net == quote.monthly_net * months


# --------------------------------------------------------------------------- invalid inputs

bad_members = st.one_of(st.integers(max_value=0), st.integers(min_value=21))
bad_bhyt_months = st.integers(-50, 200).filter(lambda m: m not in (3, 6, 12))
bad_voluntary_months = st.integers(-50, 200).filter(lambda m: m not in (1, 3, 6, 12))
group_names = st.one_of(st.sampled_from(SUPPORT_KEYS + VOLUNTARY_KEYS), st.text(max_size=12))


@FAST
@given(on=any_dates, members=st.integers(-100, 100), months=st.integers(-20, 40))
def test_household_only_refuses(on: date, members: int, months: int) -> None:
    try:
        quote_bhyt_household(BOOK, on, members, months)
    except Refused as refusal:
        assert isinstance(refusal.reason, RefusalReason)


@FAST
@given(on=dates, members=bad_members, months=st.sampled_from([3, 6, 12]))
def test_household_bad_members_refused(on: date, members: int, months: int) -> None:
    try:
        quote_bhyt_household(BOOK, on, members, months)
    except Refused as refusal:
        assert refusal.reason is RefusalReason.MEMBERS_RANGE
        assert refusal.value == members and refusal.limit in (1, 20)
    else:
        raise AssertionError("accepted")


@FAST
@given(on=any_dates, group=group_names, months=st.integers(-20, 40))
def test_supported_only_refuses(on: date, group: str, months: int) -> None:
    try:
        quote = quote_bhyt_supported(BOOK, on, group, months)
    except Refused as refusal:
        assert isinstance(refusal.reason, RefusalReason)
    else:
        assert group in BOOK.at(on).bhyt_support.groups and months in (3, 6, 12)
        assert quote.total >= 0


@FAST
@given(supported_inputs(), st.integers(0, 3_000_000), st.integers(0, 3_000_000), st.sampled_from([3, 6, 12]))
def test_cofunding_only_refuses(args: tuple[date, str, int], person: int, fixed: int, rule_months: int) -> None:
    on, group, months = args
    rule = CoFunding(
        scheme=Scheme.BHYT_SUPPORTED,
        group=group,
        months=rule_months,
        person_pays=person,
        funders=(Funder(name="F", amount=fixed),),
        remainder_funder="Donors",
    )
    try:
        quote = quote_bhyt_supported(BOOK, on, group, months, cofunding=rule)
    except Refused as refusal:
        assert refusal.reason in (RefusalReason.COFUNDING_EXCEEDS, RefusalReason.COFUNDING_MISMATCH)
    else:
        assert quote.budget + sum(f.amount for f in quote.funders) + quote.person_pays == quote.total


@FAST
@given(on=any_dates, income=st.integers(-10**9, 10**9), group=group_names, months=st.integers(-20, 40))
def test_voluntary_only_refuses(on: date, income: int, group: str, months: int) -> None:
    try:
        quote = quote_bhxh_voluntary(BOOK, on, income, group, months)
    except Refused as refusal:
        assert isinstance(refusal.reason, RefusalReason)
    else:
        rates = BOOK.at(on)
        assert rates.min_income <= income <= rates.max_income
        assert months in (1, 3, 6, 12) and group in rates.bhxh_voluntary.support
        assert quote.period_net >= 0


@FAST
@given(on=dates, income=st.integers(-10**9, 10**9), months=bad_voluntary_months)
def test_voluntary_bad_months_refused(on: date, income: int, months: int) -> None:
    try:
        quote_bhxh_voluntary(BOOK, on, income, "khac", months)
    except Refused as refusal:
        assert refusal.reason is RefusalReason.MONTHS_NOT_ALLOWED
        assert refusal.allowed == (1, 3, 6, 12)
    else:
        raise AssertionError("accepted")


@FAST
@given(on=dates, group=st.sampled_from(SUPPORT_KEYS), months=bad_bhyt_months)
def test_supported_bad_months_refused(on: date, group: str, months: int) -> None:
    try:
        quote_bhyt_supported(BOOK, on, group, months)
    except Refused as refusal:
        assert refusal.reason is RefusalReason.MONTHS_NOT_ALLOWED
    else:
        raise AssertionError("accepted")
