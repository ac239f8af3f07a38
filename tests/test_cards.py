"""Pure card domain: status, what a lapse costs (DOMAIN.md §3.5), household renewal cost."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.texts.cards import consequence_text, cost_text, status_text
from bot.domain.campaigns import CampaignBook
from bot.domain.cards import Card, CardState, add_months, card_status, household_renewal_cost, support_group
from bot.domain.engine import Refused
from bot.domain.rates import RateBook
from bot.services.cards import salutation_for

ON = date(2026, 11, 23)


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


@pytest.fixture(scope="module")
def campaigns() -> CampaignBook:
    return CampaignBook.load()


def card(code: str, prefix: str = "GD", valid_to: date = date(2026, 8, 16), **kw: object) -> Card:
    return Card(code, kw.pop("name", f"Người {code[-2:]}"), "CL07", valid_to, card_code=f"{prefix}48484{code}", **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- status


def test_valid_expiring_and_lapsed() -> None:
    assert card_status(date(2027, 1, 31), ON).state is CardState.VALID
    soon = card_status(date(2026, 12, 10), ON)
    assert soon.state is CardState.EXPIRING and soon.days_left == 17
    assert soon.effective_if_paid == date(2026, 12, 11)  # renewed before expiry: no gap
    last_day = card_status(ON, ON)
    assert last_day.state is CardState.EXPIRING and last_day.days_left == 0 and "hôm nay" in status_text(last_day)


def test_a_short_gap_keeps_continuity_until_three_months() -> None:
    status = card_status(date(2026, 9, 30), ON)  # lapsed since 01/10
    assert status.lapsed and status.lapsed_days == 54 and status.lapsed_months == 1
    assert status.continuity_deadline == date(2026, 12, 31)
    assert not status.long_gap and status.effective_if_paid == ON
    text = consequence_text(status)
    assert "31/12/2026" in text and "30 ngày" in text and "5 năm liên tục" in text


def test_a_long_gap_means_thirty_days_wait_and_a_reset() -> None:
    status = card_status(date(2026, 8, 16), ON)  # lapsed since 17/08: more than 3 months
    assert status.long_gap
    assert status.continuity_deadline == date(2026, 11, 16)
    assert status.effective_if_paid == date(2026, 12, 23)
    text = consequence_text(status)
    assert "23/12/2026" in text and "tính lại" in text


def test_the_day_the_gap_reaches_three_months() -> None:
    assert not card_status(date(2026, 8, 23), ON).long_gap  # gap starts 24/08, deadline 23/11
    assert card_status(date(2026, 8, 22), ON).long_gap


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
       st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_status_properties(valid_to: date, on: date) -> None:
    status = card_status(valid_to, on)
    assert status.lapsed == (on > valid_to)
    assert status.continuity_deadline > valid_to
    assert status.long_gap == (on > status.continuity_deadline)
    assert status.effective_if_paid >= on or not status.lapsed
    if status.long_gap:
        assert (status.effective_if_paid - on).days == 30


# --------------------------------------------------------------------------- cost


def test_support_group_from_the_card_prefix() -> None:
    assert support_group("GD4848423000076") is None
    assert support_group("CN4848423000076") == "can_ngheo"
    assert support_group("HS4848423000076") == "hoc_sinh"
    assert support_group("DT4848423000076") == "dtts_vung_thoat_kho"
    assert support_group("ZZ4848423000076") is None and support_group(None) is None


def test_household_of_two_as_in_the_conversation(book: RateBook, campaigns: CampaignBook) -> None:
    cost = household_renewal_cost(book, campaigns, ON, [card("8423000001"), card("8423000002")])
    assert cost.total == 1_366_200 + 956_340 == 2_322_540
    assert cost.members == 2
    text = cost_text(cost).plain
    assert "2.322.540 đ" in text and "NĐ 161/2026/NĐ-CP" in text and "(70%)" in text


def test_domain_example_three_household_of_six(book: RateBook, campaigns: CampaignBook) -> None:
    cards = [card(f"84230000{i:02d}") for i in range(1, 7)]
    assert household_renewal_cost(book, campaigns, ON, cards, months=6).total == 2_459_160


def test_supported_members_are_priced_apart_from_the_ladder(book: RateBook, campaigns: CampaignBook) -> None:
    cards = [card("8423000001"), card("8423000002"), card("8423000003", prefix="CN", name="Lê Thị Cận")]
    cost = household_renewal_cost(book, campaigns, ON, cards)
    assert cost.household is not None and cost.household.members == 2
    (near_poor,) = cost.supported
    assert near_poor.quote.total == 1_366_200 and near_poor.quote.budget == 956_340
    assert near_poor.quote.person_pays == 409_860
    assert cost.total == 2_322_540 + 409_860
    assert "Lê Thị Cận" in cost_text(cost).plain and "NĐ 188/2025" in cost_text(cost).plain


def test_campaign_cofunding_applies_to_the_ethnic_minority_card(book: RateBook, campaigns: CampaignBook) -> None:
    # Domain example 4: seed 000, 2024-11-05, 3 months, 70 % support: the person pays 20.000 đ.
    in_area = card("8423000001", prefix="DT", address="Ấp Mỹ Hòa, Xã Mỹ Đức, Tỉnh An Giang")
    cost = household_renewal_cost(book, campaigns, date(2024, 11, 5), [in_area], months=3)
    (line,) = cost.supported
    assert line.quote.cofunded and line.quote.person_pays == 20_000 and cost.total == 20_000
    assert line.quote.total == 315_900 and line.quote.budget == 221_130
    # Outside the campaign the same card costs the legal share.
    later = household_renewal_cost(book, campaigns, ON, [card("8423000001", prefix="DT")], months=3)
    assert later.total == 341_550 - 239_085


def test_campaign_cofunding_is_only_for_cards_in_the_campaigns_area(
    book: RateBook, campaigns: CampaignBook
) -> None:
    # The seed 000 co-funding is An Giang's: a card elsewhere, or whose address names no
    # province, is priced at the legal share (315.900 - 221.130 = 94.770), never the promise.
    on = date(2024, 11, 5)
    for address in ("Xã Tân Bình, Tỉnh Vĩnh Long", "Ấp Giồng Mới", None):
        elsewhere = card("8423000001", prefix="DT", address=address)
        cost = household_renewal_cost(book, campaigns, on, [elsewhere], months=3)
        (line,) = cost.supported
        assert not line.quote.cofunded and line.quote.person_pays == 94_770, address


def test_months_must_be_allowed(book: RateBook, campaigns: CampaignBook) -> None:
    with pytest.raises(Refused):
        household_renewal_cost(book, campaigns, ON, [card("8423000001")], months=5)


def test_a_group_not_yet_in_force_is_named_not_dropped(book: RateBook, campaigns: CampaignBook) -> None:
    cost = household_renewal_cost(book, campaigns, date(2023, 1, 10), [card("8423000001", prefix="DT", name="Y Bia")])
    assert cost.unpriced == ("Y Bia",) and cost.total == 0
    assert "Y Bia" in cost_text(cost).plain


# --------------------------------------------------------------------------- greeting


@pytest.mark.parametrize(
    ("sex", "born", "expected"),
    [("nu", date(1990, 5, 1), ("chị Linh", "chị")), ("nam", date(1985, 5, 1), ("anh Linh", "anh")),
     ("nu", date(1950, 5, 1), ("bà Linh", "bà")), ("nam", date(1940, 5, 1), ("ông Linh", "ông")),
     (None, date(1990, 5, 1), ("bạn Linh", "bạn")), ("nu", date(2015, 5, 1), ("bạn Lan", "bạn"))],
)
def test_salutation(sex: str | None, born: date, expected: tuple[str, str]) -> None:
    holder = Card("8423000001", "Trần Thị Linh", "CL07", ON, sex=sex, birth_date=born)
    assert salutation_for(holder, "Lan", ON) == expected


def test_salutation_without_a_card_uses_the_telegram_name() -> None:
    assert salutation_for(None, "Lan", ON) == ("bạn Lan", "bạn")
    assert salutation_for(None, "  ", ON) == ("bạn", "bạn")
