"""Cost engine: every worked example of the domain brief, to the đồng, plus refusals and dates.

Expected figures are literal numbers copied from the official tables and examples, never
recomputed here, so a rounding or data change cannot silently move both sides.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from bot.domain.campaigns import CampaignBook, CoFunding, Funder, Scheme
from bot.domain.engine import (
    RefusalReason,
    Refused,
    quote_bhxh_voluntary,
    quote_bhyt_household,
    quote_bhyt_supported,
)
from bot.domain.money import format_number, format_pct, format_vnd, percent_of, round_vnd
from bot.domain.rates import RateBook

D_2024 = date(2024, 11, 5)
D_2026 = date(2026, 11, 23)


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


# --------------------------------------------------------------------------- money


def test_format_vnd_and_number() -> None:
    assert format_vnd(1366200) == "1.366.200 đ"
    assert format_vnd(0) == "0 đ"
    assert format_vnd(999) == "999 đ"
    assert format_vnd(-66000) == "\u221266.000 đ"
    assert format_number(8766) == "8.766"
    assert format_number(1_000_000_000) == "1.000.000.000"


def test_format_pct() -> None:
    assert format_pct(Decimal("93.0843"), places=2) == "93,08%"
    assert format_pct(Decimal("93.085"), places=2) == "93,09%"
    assert format_pct(Decimal("4.5")) == "4,5%"
    assert format_pct(Decimal("70")) == "70%"
    assert format_pct(70, places=1) == "70,0%"
    assert format_pct(Decimal("-12.5"), places=0) == "\u221213%"
    assert format_pct(Decimal("1234.5"), places=1) == "1.234,5%"


def test_round_vnd_is_half_up() -> None:
    assert round_vnd(Decimal("0.5")) == 1
    assert round_vnd(Decimal("1.49")) == 1
    assert round_vnd(Decimal("2.5")) == 3
    assert round_vnd(Decimal("-2.5")) == -3
    assert round_vnd(7) == 7
    assert percent_of(2_340_000, Decimal("4.5")) == 105_300


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        round_vnd(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_vnd(1.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- §4 worked examples


def test_example_1_household_of_1_12_months_2025(book: RateBook) -> None:
    quote = quote_bhyt_household(book, date(2025, 3, 10), members=1, months=12)
    assert quote.total == 1_263_600
    assert quote.base_salary == 2_340_000
    assert quote.base_salary_source == "NĐ 73/2024/NĐ-CP"


def test_example_2_household_of_3_12_months_2026(book: RateBook) -> None:
    quote = quote_bhyt_household(book, D_2026, members=3, months=12)
    assert [line.amount for line in quote.lines] == [1_366_200, 956_340, 819_720]
    assert quote.total == 3_142_260
    assert quote.base_salary_source == "NĐ 161/2026/NĐ-CP"
    assert quote.ladder_source == "NĐ 188/2025/NĐ-CP Điều 6 khoản 5"


def test_example_3_household_of_6_6_months_2026(book: RateBook) -> None:
    quote = quote_bhyt_household(book, D_2026, members=6, months=6)
    assert [line.amount for line in quote.lines] == [683_100, 478_170, 409_860, 341_550, 273_240, 273_240]
    assert [line.ladder_percent for line in quote.lines] == [100, 70, 60, 50, 40, 40]
    assert [line.index for line in quote.lines] == [1, 2, 3, 4, 5, 6]
    assert quote.total == 2_459_160


def test_household_ladder_can_start_after_members_who_joined_this_year(book: RateBook) -> None:
    """DOMAIN §3.2: two members already joined as a household this financial year, so the two
    new ones pay the 3rd and 4th steps (60 %, 50 % of 113.850 đ a month)."""
    quote = quote_bhyt_household(book, D_2026, members=2, months=12, first_position=3)
    assert [line.index for line in quote.lines] == [3, 4]
    assert [line.amount for line in quote.lines] == [819_720, 683_100]
    assert quote.total == 1_502_820
    assert quote.members == 2
    # from the 5th member on the step stays at 40 %: 45.540 đ a month
    fifth = quote_bhyt_household(book, D_2026, members=2, months=12, first_position=5)
    assert fifth.total == 1_092_960
    # the default is a new household
    assert quote_bhyt_household(book, D_2026, members=2, months=12).total == 2_322_540


def test_household_ladder_start_is_checked(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_household(book, D_2026, members=2, months=12, first_position=20)
    assert info.value.reason == RefusalReason.MEMBERS_RANGE
    with pytest.raises(ValueError):
        quote_bhyt_household(book, D_2026, members=2, months=12, first_position=0)
    with pytest.raises(TypeError):
        quote_bhyt_household(book, D_2026, members=2, months=12, first_position=True)


def test_example_4_campaign_cofunding_seed_000(book: RateBook) -> None:
    (campaign,) = CampaignBook.load().active_on(D_2024)
    rule = campaign.cofunding_for(Scheme.BHYT_SUPPORTED, "dtts_vung_thoat_kho", 3)
    quote = quote_bhyt_supported(book, D_2024, "dtts_vung_thoat_kho", 3, cofunding=rule)
    assert quote.total == 315_900
    assert quote.budget == 221_130
    assert [f.amount for f in quote.funders] == [60_000, 14_770]
    assert quote.funders[0].name == "Cơ quan BHXH"
    assert quote.person_pays == 20_000
    assert quote.cofunded
    assert quote.support_source == "NĐ 75/2023/NĐ-CP"


def test_example_5_voluntary_minimum_others_monthly(book: RateBook) -> None:
    quote = quote_bhxh_voluntary(book, D_2026, income=1_500_000, group="khac", months=1)
    assert (quote.monthly_gross, quote.monthly_support, quote.monthly_net) == (330_000, 66_000, 264_000)
    assert quote.period_net == 264_000
    assert quote.support_source == "NĐ 159/2025/NĐ-CP"
    assert quote.max_support_months == 120


def test_example_6_voluntary_near_poor_12_months(book: RateBook) -> None:
    quote = quote_bhxh_voluntary(book, D_2026, income=5_000_000, group="can_ngheo", months=12)
    assert (quote.monthly_gross, quote.monthly_support, quote.monthly_net) == (1_100_000, 132_000, 968_000)
    assert quote.period_net == 11_616_000
    assert quote.total == 11_616_000


def test_example_7_voluntary_poor_old_rule(book: RateBook) -> None:
    quote = quote_bhxh_voluntary(book, date(2025, 5, 20), income=1_500_000, group="ngheo", months=1)
    assert (quote.monthly_gross, quote.monthly_support, quote.monthly_net) == (330_000, 99_000, 231_000)
    assert quote.support_source == "NĐ 134/2015/NĐ-CP Điều 14"


def test_example_8_income_below_minimum(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, D_2026, income=1_000_000, group="khac", months=1)
    assert info.value.reason is RefusalReason.INCOME_BELOW_MIN
    assert (info.value.limit, info.value.value) == (1_500_000, 1_000_000)


def test_example_9_income_above_maximum(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, D_2026, income=60_000_000, group="khac", months=1)
    assert info.value.reason is RefusalReason.INCOME_ABOVE_MAX
    assert (info.value.limit, info.value.value) == (50_600_000, 60_000_000)


# --------------------------------------------------------------------------- §3.2 ladder table

LADDER = {
    date(2025, 3, 10): [(105_300, 1_263_600), (73_710, 884_520), (63_180, 758_160), (52_650, 631_800), (42_120, 505_440)],
    D_2026: [(113_850, 1_366_200), (79_695, 956_340), (68_310, 819_720), (56_925, 683_100), (45_540, 546_480)],
}


@pytest.mark.parametrize("day", list(LADDER))
def test_ladder_table_month_and_12_months(book: RateBook, day: date) -> None:
    quote = quote_bhyt_household(book, day, members=5, months=12)
    assert [(line.monthly, line.amount) for line in quote.lines] == LADDER[day]


# --------------------------------------------------------------------------- §3.3 example and groups


def test_supported_example_70_percent_3_months(book: RateBook) -> None:
    quote = quote_bhyt_supported(book, D_2024, "can_ngheo", 3)
    assert (quote.total, quote.budget, quote.person_pays) == (315_900, 221_130, 94_770)
    assert quote.funders == ()
    assert not quote.cofunded and not quote.free


def test_student_support_rises_on_2025_07_01(book: RateBook) -> None:
    before = quote_bhyt_supported(book, date(2025, 6, 30), "hoc_sinh", 12)
    after = quote_bhyt_supported(book, date(2025, 7, 1), "hoc_sinh", 12)
    assert (before.total, before.budget, before.person_pays) == (1_263_600, 379_080, 884_520)
    assert (after.total, after.budget, after.person_pays) == (1_263_600, 631_800, 631_800)


@pytest.mark.parametrize("group", ["ngheo", "dtts_vung_kho", "tre_em_duoi_6", "bao_tro_xa_hoi"])
def test_free_card_groups_pay_nothing(book: RateBook, group: str) -> None:
    quote = quote_bhyt_supported(book, D_2026, group, 12)
    assert quote.free
    assert (quote.total, quote.budget, quote.person_pays) == (1_366_200, 1_366_200, 0)


def test_village_health_worker_group_from_2025_07_01(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, date(2025, 6, 30), "y_te_thon", 6)
    assert info.value.reason is RefusalReason.GROUP_NOT_AVAILABLE
    assert info.value.available_from == date(2025, 7, 1)
    quote = quote_bhyt_supported(book, date(2025, 7, 1), "y_te_thon", 6)
    assert (quote.total, quote.budget, quote.person_pays) == (631_800, 315_900, 315_900)


def test_ethnic_minority_group_from_2023_12_03(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, date(2023, 12, 2), "dtts_vung_thoat_kho", 3)
    assert info.value.reason is RefusalReason.GROUP_NOT_AVAILABLE
    quote = quote_bhyt_supported(book, date(2023, 12, 3), "dtts_vung_thoat_kho", 3)
    assert (quote.total, quote.budget, quote.person_pays) == (243_000, 170_100, 72_900)


# --------------------------------------------------------------------------- co-funding


def _rule(person: int, fixed: int, group: str = "dtts_vung_thoat_kho", months: int = 3) -> CoFunding:
    return CoFunding(
        scheme=Scheme.BHYT_SUPPORTED,
        group=group,
        months=months,
        person_pays=person,
        funders=(Funder(name="BHXH", amount=fixed),),
        remainder_funder="Donors",
    )


def test_cofunding_remainder_follows_the_base_salary(book: RateBook) -> None:
    quote = quote_bhyt_supported(book, D_2026, "dtts_vung_thoat_kho", 3, cofunding=_rule(20_000, 60_000))
    assert (quote.total, quote.budget, quote.person_pays) == (341_550, 239_085, 20_000)
    assert [f.amount for f in quote.funders] == [60_000, 22_465]


def test_cofunding_exceeding_the_rest_is_refused(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, D_2024, "dtts_vung_thoat_kho", 3, cofunding=_rule(40_000, 60_000))
    assert info.value.reason is RefusalReason.COFUNDING_EXCEEDS
    assert (info.value.limit, info.value.value) == (94_770, 100_000)


def test_cofunding_for_another_case_is_refused(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, D_2024, "dtts_vung_thoat_kho", 6, cofunding=_rule(20_000, 60_000))
    assert info.value.reason is RefusalReason.COFUNDING_MISMATCH


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("members", "limit"), [(0, 1), (-3, 1), (21, 20)])
def test_household_members_range(book: RateBook, members: int, limit: int) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_household(book, D_2026, members=members, months=12)
    assert info.value.reason is RefusalReason.MEMBERS_RANGE
    assert (info.value.limit, info.value.value) == (limit, members)


def test_household_of_20_is_allowed(book: RateBook) -> None:
    quote = quote_bhyt_household(book, D_2026, members=20, months=3)
    assert quote.total == (113_850 + 79_695 + 68_310 + 56_925 + 16 * 45_540) * 3


@pytest.mark.parametrize("months", [0, 1, 2, 4, 24])
def test_bhyt_months_not_allowed(book: RateBook, months: int) -> None:
    for call in (
        lambda: quote_bhyt_household(book, D_2026, members=1, months=months),
        lambda: quote_bhyt_supported(book, D_2026, "can_ngheo", months),
    ):
        with pytest.raises(Refused) as info:
            call()
        assert info.value.reason is RefusalReason.MONTHS_NOT_ALLOWED
        assert info.value.allowed == (3, 6, 12)
        assert info.value.value == months


def test_voluntary_months_not_allowed(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, D_2026, income=2_000_000, group="khac", months=2)
    assert info.value.reason is RefusalReason.MONTHS_NOT_ALLOWED
    assert info.value.allowed == (1, 3, 6, 12)


def test_unknown_groups(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, D_2026, "cuu_chien_binh", 3)
    assert info.value.reason is RefusalReason.UNKNOWN_GROUP
    assert info.value.group == "cuu_chien_binh"
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, D_2026, income=2_000_000, group="hoc_sinh", months=1)
    assert info.value.reason is RefusalReason.UNKNOWN_GROUP


def test_no_rates_before_the_book(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_household(book, date(2021, 12, 31), members=1, months=12)
    assert info.value.reason is RefusalReason.NO_RATES


def test_non_int_inputs_are_programming_errors(book: RateBook) -> None:
    with pytest.raises(TypeError):
        quote_bhxh_voluntary(book, D_2026, income=1.5e6, group="khac", months=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        quote_bhyt_household(book, D_2026, members="3", months=12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        quote_bhyt_household(book, datetime(2026, 11, 23, 9, 0), members=3, months=12)


# --------------------------------------------------------------------------- date boundaries


@pytest.mark.parametrize(
    ("day", "first_member_12_months"),
    [
        (date(2024, 6, 30), 972_000),
        (date(2024, 7, 1), 1_263_600),
        (date(2026, 6, 30), 1_263_600),
        (date(2026, 7, 1), 1_366_200),
    ],
)
def test_household_by_base_salary_change(book: RateBook, day: date, first_member_12_months: int) -> None:
    assert quote_bhyt_household(book, day, members=1, months=12).total == first_member_12_months


@pytest.mark.parametrize(
    ("day", "group", "support", "net"),
    [
        (date(2025, 6, 30), "ngheo", 99_000, 231_000),
        (date(2025, 7, 1), "ngheo", 165_000, 165_000),
        (date(2025, 6, 30), "can_ngheo", 82_500, 247_500),
        (date(2025, 7, 1), "can_ngheo", 132_000, 198_000),
        (date(2025, 6, 30), "dtts", 33_000, 297_000),
        (date(2025, 7, 1), "dtts", 99_000, 231_000),
        (date(2025, 6, 30), "khac", 33_000, 297_000),
        (date(2025, 7, 1), "khac", 66_000, 264_000),
    ],
)
def test_voluntary_support_change_on_2025_07_01(book: RateBook, day: date, group: str, support: int, net: int) -> None:
    quote = quote_bhxh_voluntary(book, day, income=1_500_000, group=group, months=1)
    assert (quote.monthly_support, quote.monthly_net) == (support, net)


@pytest.mark.parametrize(
    ("day", "maximum"),
    [(date(2024, 6, 30), 36_000_000), (date(2024, 7, 1), 46_800_000), (date(2026, 6, 30), 46_800_000), (date(2026, 7, 1), 50_600_000)],
)
def test_voluntary_maximum_by_base_salary(book: RateBook, day: date, maximum: int) -> None:
    assert quote_bhxh_voluntary(book, day, income=maximum, group="khac", months=1).monthly_gross == maximum * 22 // 100
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, day, income=maximum + 1, group="khac", months=1)
    assert info.value.limit == maximum


def test_voluntary_rounds_per_month(book: RateBook) -> None:
    quote = quote_bhxh_voluntary(book, D_2026, income=1_234_567 + 1_000_000, group="khac", months=12)
    assert quote.monthly_gross == 491_605  # 22 % of 2.234.567 = 491.604,74 -> 491.605
    assert quote.period_gross == 5_899_260
    assert quote.period_net == (491_605 - 66_000) * 12


# --------------------------------------------------------------------------- 2026-2030 poverty standard (issue 11)
# NĐ 351/2025/NĐ-CP keeps the 1.500.000 đ rural line through 31/12/2026 and sets 2.200.000 đ from
# 01/01/2027; the voluntary minimum income and the support base follow it. Figures by hand:
# 22 % x 2.200.000 = 484.000; 50 % = 242.000, 40 % = 193.600, 30 % = 145.200, 20 % = 96.800.

LAST_OLD = date(2026, 12, 31)
FIRST_NEW = date(2027, 1, 1)


@pytest.mark.parametrize(
    ("day", "income", "group", "gross", "support", "net"),
    [
        (LAST_OLD, 1_500_000, "ngheo", 330_000, 165_000, 165_000),
        (LAST_OLD, 1_500_000, "xa_dao_dac_khu", 330_000, 165_000, 165_000),
        (LAST_OLD, 1_500_000, "can_ngheo", 330_000, 132_000, 198_000),
        (LAST_OLD, 1_500_000, "dtts", 330_000, 99_000, 231_000),
        (LAST_OLD, 1_500_000, "khac", 330_000, 66_000, 264_000),
        (FIRST_NEW, 2_200_000, "ngheo", 484_000, 242_000, 242_000),
        (FIRST_NEW, 2_200_000, "xa_dao_dac_khu", 484_000, 242_000, 242_000),
        (FIRST_NEW, 2_200_000, "can_ngheo", 484_000, 193_600, 290_400),
        (FIRST_NEW, 2_200_000, "dtts", 484_000, 145_200, 338_800),
        (FIRST_NEW, 2_200_000, "khac", 484_000, 96_800, 387_200),
    ],
)
def test_voluntary_minimum_and_support_by_group_around_2027_01_01(
    book: RateBook, day: date, income: int, group: str, gross: int, support: int, net: int
) -> None:
    quote = quote_bhxh_voluntary(book, day, income=income, group=group, months=1)
    assert quote.min_income == income  # quoted at the minimum of that day
    assert (quote.monthly_gross, quote.monthly_support, quote.monthly_net) == (gross, support, net)
    assert quote.max_income == 50_600_000
    assert quote.support_source == "NĐ 159/2025/NĐ-CP"


def test_voluntary_poverty_line_source_changes_on_2027_01_01(book: RateBook) -> None:
    old = quote_bhxh_voluntary(book, LAST_OLD, income=1_500_000, group="khac", months=1)
    new = quote_bhxh_voluntary(book, FIRST_NEW, income=2_200_000, group="khac", months=1)
    assert "NĐ 07/2021/NĐ-CP" in old.poverty_line_source and "NĐ 351/2025/NĐ-CP" in old.poverty_line_source
    assert new.poverty_line_source.startswith("NĐ 351/2025/NĐ-CP")
    assert (old.support_base, new.support_base) == (330_000, 484_000)
    assert new.support_from == date(2027, 1, 1)


def test_income_2_million_accepted_on_2026_12_31_refused_on_2027_01_01(book: RateBook) -> None:
    quote = quote_bhxh_voluntary(book, LAST_OLD, income=2_000_000, group="khac", months=1)
    assert (quote.monthly_gross, quote.monthly_support, quote.monthly_net) == (440_000, 66_000, 374_000)
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, FIRST_NEW, income=2_000_000, group="khac", months=1)
    assert info.value.reason is RefusalReason.INCOME_BELOW_MIN
    assert (info.value.limit, info.value.value) == (2_200_000, 2_000_000)
    with pytest.raises(Refused) as below:
        quote_bhxh_voluntary(book, FIRST_NEW, income=2_199_999, group="ngheo", months=12)
    assert below.value.limit == 2_200_000


def test_voluntary_maximum_and_periods_in_2027(book: RateBook) -> None:
    top = quote_bhxh_voluntary(book, FIRST_NEW, income=50_600_000, group="khac", months=1)
    assert top.monthly_gross == 11_132_000
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, FIRST_NEW, income=50_600_001, group="khac", months=1)
    assert (info.value.reason, info.value.limit) == (RefusalReason.INCOME_ABOVE_MAX, 50_600_000)
    year = quote_bhxh_voluntary(book, FIRST_NEW, income=2_200_000, group="khac", months=12)
    assert (year.period_gross, year.period_support, year.period_net) == (5_808_000, 1_161_600, 4_646_400)


@pytest.mark.parametrize("day", [LAST_OLD, FIRST_NEW])
def test_bhyt_unchanged_across_2027_01_01(book: RateBook, day: date) -> None:
    household = quote_bhyt_household(book, day, members=5, months=12)
    assert [line.amount for line in household.lines] == [1_366_200, 956_340, 819_720, 683_100, 546_480]
    assert household.total == 4_371_840
    assert household.ladder_source == "NĐ 188/2025/NĐ-CP Điều 6 khoản 5"
    supported = quote_bhyt_supported(book, day, "can_ngheo", 6)
    assert (supported.total, supported.budget, supported.person_pays) == (683_100, 478_170, 204_930)


def test_voluntary_island_group_from_2025_07_01(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhxh_voluntary(book, date(2025, 6, 30), income=1_500_000, group="xa_dao_dac_khu", months=1)
    assert info.value.reason is RefusalReason.GROUP_NOT_AVAILABLE
    quote = quote_bhxh_voluntary(book, date(2025, 7, 1), income=1_500_000, group="xa_dao_dac_khu", months=1)
    assert (quote.monthly_support, quote.monthly_net) == (165_000, 165_000)


# --------------------------------------------------------------------------- groups of Luật 51/2024 and NĐ 188/2025


@pytest.mark.parametrize("group", ["dan_quan", "nguoi_75_tuat", "huu_tri_xa_hoi"])
def test_new_free_card_groups_from_2025_07_01(book: RateBook, group: str) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, date(2025, 6, 30), group, 12)
    assert info.value.reason is RefusalReason.GROUP_NOT_AVAILABLE
    assert info.value.available_from == date(2025, 7, 1)
    first = quote_bhyt_supported(book, date(2025, 7, 1), group, 12)
    assert first.free
    assert (first.total, first.budget, first.person_pays) == (1_263_600, 1_263_600, 0)
    assert first.support_source == "Luật BHYT sửa đổi số 51/2024/QH15"
    later = quote_bhyt_supported(book, D_2026, group, 12)
    assert (later.total, later.budget, later.person_pays) == (1_366_200, 1_366_200, 0)
    assert later.group_caveat is None


def test_trafficking_victims_half_support_with_caveat(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        quote_bhyt_supported(book, date(2025, 6, 30), "nan_nhan_mua_ban_nguoi", 12)
    assert info.value.reason is RefusalReason.GROUP_NOT_AVAILABLE
    assert info.value.available_from == date(2025, 7, 1)
    quote = quote_bhyt_supported(book, D_2026, "nan_nhan_mua_ban_nguoi", 12)
    assert not quote.free
    assert (quote.total, quote.budget, quote.person_pays) == (1_366_200, 683_100, 683_100)
    assert quote.support_percent == 50
    assert quote.support_source == "NĐ 188/2025/NĐ-CP"
    assert "12 tháng" in (quote.group_caveat or "")
    assert "chưa được xác nhận" in (quote.group_caveat or "")


@pytest.mark.parametrize("day", [date(2023, 12, 3), D_2026, FIRST_NEW])
def test_ethnic_minority_left_commune_carries_the_36_month_caveat(book: RateBook, day: date) -> None:
    quote = quote_bhyt_supported(book, day, "dtts_vung_thoat_kho", 3)
    caveat = quote.group_caveat or ""
    assert "36 tháng" in caveat and "ra khỏi vùng" in caveat and "BHXH xã" in caveat
    assert quote.support_percent == 70
