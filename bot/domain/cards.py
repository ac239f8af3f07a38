"""Pure domain of BHYT cards on the lapsed lists: status, what a lapse costs, renewal cost.

No I/O and no clock: every function takes the date it reasons about. The rules come from
DOMAIN.md §3.5 (card validity) and the cost engine (§3.2 household ladder, §3.3 supported
groups, campaign co-funding), so a reminder can tell a person exactly what waiting costs them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.campaigns import CampaignBook, CoFunding, Scheme
from bot.domain.engine import HouseholdQuote, Refused, SupportedQuote, quote_bhyt_household, quote_bhyt_supported
from bot.domain.rates import RateBook
from bot.parsing.questions import place_key

__all__ = [
    "EXPIRING_DAYS",
    "GAP_MONTHS",
    "WAITING_DAYS",
    "Card",
    "CardState",
    "CardStatus",
    "HouseholdCost",
    "SupportedLine",
    "add_months",
    "card_status",
    "household_renewal_cost",
    "needs_renewal",
    "support_group",
]

#: A gap of this many months or more means the 30-day wait and a reset of the 5-year status.
GAP_MONTHS = 3
#: Days after payment before a card renewed after a long gap (or a first card) takes effect.
WAITING_DAYS = 30
#: A card expiring within this many days counts as "expiring soon".
EXPIRING_DAYS = 30

# The two letters that open a BHYT card code name the participant group (QĐ 1351/QĐ-BHXH).
# Cards on the lapsed lists are the ones people pay for themselves: GD (household) pays by the
# household ladder; the supported groups pay 4,5 % x base x (1 - support). A "DT" card on such
# a list is read as an ethnic-minority person in a commune that left the difficult-area list
# (70 %, the case of seed 000): people in difficult areas get free cards and are not on these
# lists. An unknown prefix is priced as a household member, which is what most such lists hold.
_GROUP_BY_PREFIX: dict[str, str | None] = {
    "GD": None,
    "CN": "can_ngheo",
    "HS": "hoc_sinh",
    "SV": "hoc_sinh",
    "DT": "dtts_vung_thoat_kho",
    "NO": "nong_lam_ngu_diem",
    "HN": "ngheo",
    "TE": "tre_em_duoi_6",
    "BT": "bao_tro_xa_hoi",
}


@dataclass(frozen=True)
class Card:
    """One row of a lapsed list, as stored."""

    bhxh_code: str
    full_name: str
    unit_code: str
    valid_to: date
    card_code: str | None = None
    household_code: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    sex: str | None = None  # "nam" | "nu"
    phone: str | None = None
    address: str | None = None
    valid_from: date | None = None

    @property
    def given_name(self) -> str:
        """The name Vietnamese people are addressed by: the last word of the full name."""
        parts = self.full_name.split()
        return parts[-1] if parts else self.full_name

    @property
    def year_of_birth(self) -> int | None:
        return self.birth_date.year if self.birth_date else self.birth_year

    @property
    def group(self) -> str | None:
        """The BHYT support group of the card, or None for the household ladder."""
        return support_group(self.card_code)


def support_group(card_code: str | None) -> str | None:
    """The support-group key for a card code's prefix (None: household ladder)."""
    if not card_code or len(card_code) < 2:
        return None
    return _GROUP_BY_PREFIX.get(card_code[:2].upper())


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's last day (31/01 + 1 -> 28/02 or 29/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class CardState(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # still valid, expires within EXPIRING_DAYS
    LAPSED = "lapsed"


@dataclass(frozen=True)
class CardStatus:
    """Where a card stands on a day and what renewing on that day would mean (DOMAIN §3.5).

    ``continuity_deadline`` is the last day a renewal still counts as continuous (gap under
    3 months): no 30-day wait, 5-year status kept. ``long_gap`` is True once it has passed;
    ``effective_if_paid`` is when a card paid on ``on`` takes effect.
    """

    on: date
    state: CardState
    valid_to: date
    days_left: int  # 0 on the last valid day; negative once lapsed
    continuity_deadline: date
    long_gap: bool
    effective_if_paid: date

    @property
    def lapsed(self) -> bool:
        return self.state is CardState.LAPSED

    @property
    def lapsed_days(self) -> int:
        """Days since the card stopped being valid (0 while it is valid)."""
        return max(0, -self.days_left)

    @property
    def lapsed_months(self) -> int:
        """Whole calendar months since the lapse (for "đã hết hạn 4 tháng")."""
        if not self.lapsed:
            return 0
        start = self.valid_to + timedelta(days=1)
        months = (self.on.year - start.year) * 12 + self.on.month - start.month
        if add_months(start, months) > self.on:
            months -= 1
        return max(0, months)


def card_status(valid_to: date, on: date, expiring_days: int = EXPIRING_DAYS) -> CardStatus:
    """Status of a card valid through ``valid_to``, seen on ``on``."""
    days_left = (valid_to - on).days
    if days_left < 0:
        state = CardState.LAPSED
    elif days_left <= expiring_days:
        state = CardState.EXPIRING
    else:
        state = CardState.VALID
    gap_start = valid_to + timedelta(days=1)
    deadline = add_months(gap_start, GAP_MONTHS) - timedelta(days=1)
    long_gap = on > deadline
    if days_left >= 0:
        effective = gap_start  # renewed before expiry: continues without a gap
    elif long_gap:
        effective = on + timedelta(days=WAITING_DAYS)
    else:
        effective = on
    return CardStatus(on, state, valid_to, days_left, deadline, long_gap, effective)


def needs_renewal(card: Card, on: date, expiring_days: int = EXPIRING_DAYS) -> bool:
    """A card that is lapsed or expires soon: the members a household renewal is for."""
    return card_status(card.valid_to, on, expiring_days).state is not CardState.VALID


@dataclass(frozen=True)
class SupportedLine:
    """A member priced by a support group (no household ladder), with their quote."""

    full_name: str
    quote: SupportedQuote


@dataclass(frozen=True)
class HouseholdCost:
    """What renewing a household's cards costs for ``months``, split as the law prices it.

    Members on the household ladder are priced together (1st 100 %, 2nd 70 %, ...); members
    of a support group pay their share alone, less any campaign co-funding. ``unpriced``
    names members the engine refused (e.g. a group not available on that date), so the
    reply can say so instead of silently leaving them out.
    """

    on: date
    months: int
    household: HouseholdQuote | None
    household_names: tuple[str, ...]
    supported: tuple[SupportedLine, ...]
    unpriced: tuple[str, ...] = field(default=())

    @property
    def members(self) -> int:
        return len(self.household_names) + len(self.supported)

    @property
    def total(self) -> int:
        """What the household itself pays (đồng)."""
        ladder = self.household.total if self.household else 0
        return ladder + sum(line.quote.person_pays for line in self.supported)


def household_renewal_cost(
    book: RateBook,
    campaigns: CampaignBook,
    on: date,
    cards: list[Card],
    months: int = 12,
) -> HouseholdCost:
    """Renewal cost for these cards on ``on``; raises Refused only for invalid ``months``.

    Campaign co-funding (campaigns.toml) applies when a campaign active on ``on`` has a rule
    for the member's group and exactly these months, and the card's address lies in the
    campaign's area: a campaign's extras are for its own people, so a card whose address names
    no place, or another place, is priced at the legal figure (never a lower promise).
    """
    ladder = [c for c in cards if c.group is None]
    household: HouseholdQuote | None = None
    unpriced: list[str] = []
    if ladder:
        household = quote_bhyt_household(book, on, members=len(ladder), months=months)
    supported: list[SupportedLine] = []
    for card in cards:
        group = card.group
        if group is None:
            continue
        try:
            cofunding = _cofunding(campaigns, on, group, months, card.address)
            quote = quote_bhyt_supported(book, on, group, months, cofunding)
        except Refused as refused:
            if refused.reason.value == "months_not_allowed":
                raise
            unpriced.append(card.full_name)
            continue
        supported.append(SupportedLine(card.full_name, quote))
    return HouseholdCost(
        on=on,
        months=months,
        household=household,
        household_names=tuple(c.full_name for c in ladder),
        supported=tuple(supported),
        unpriced=tuple(unpriced),
    )


def _cofunding(
    campaigns: CampaignBook, on: date, group: str, months: int, address: str | None
) -> CoFunding | None:
    """The co-funding of a campaign that covers this card, if the card's address is in its
    area (a campaign without an area covers everyone)."""
    area = place_key(address) if address else None
    for campaign in campaigns.active_on(on):
        rule = campaign.cofunding_for(Scheme.BHYT_SUPPORTED, group, months)
        if rule is not None and campaign.applies_in(area) is True:
            return rule
    return None
