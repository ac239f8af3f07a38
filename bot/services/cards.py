"""Application services of the lapsed-card feature, for every channel (no Telegram here).

``CardService``: importing lists, linking a person through a phone they proved, what their
cards cost to renew, the agents' door-to-door list. ``ReminderService``: opting out and in,
"I have renewed" claims, what a reminder says, queueing a round, and the counts the daily
summaries show. Handlers and the scheduler render what these return.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.campaigns import CampaignBook
from bot.domain.cards import Card, CardState, CardStatus, HouseholdCost, card_status, household_renewal_cost
from bot.domain.clock import Clock
from bot.domain.rates import RateBook
from bot.domain.records import DoorRow, LinkedCard, ReminderCounts, ZnsRow
from bot.domain.reminders import Cadence, Hours, ReminderCampaign, ReminderPlan, card_reason, selection_window
from bot.domain.roles import Role
from bot.domain.zns import ZnsTemplates
from bot.imports.cards import (
    MAX_ROWS,
    Column,
    ImportCounts,
    ParsedList,
    Problem,
    RowProblem,
    normalize_phone,
    parse_card_file,
    restrict_to_scope,
)
from bot.services.access import Actor
from bot.settings import Settings
from storage.contract import CardStore, MemberStore, ReminderStore, UnitStore, UserStore

__all__ = [
    "CardService",
    "CardView",
    "DoorList",
    "HouseholdView",
    "ImportResult",
    "LinkOutcome",
    "LinkResult",
    "MyCards",
    "PayInfo",
    "ReminderContent",
    "ReminderService",
]

DEFAULT_MONTHS = 12
PARALLEL_PARSES = 2
ADULT_AGE = 18
ELDER_AGE = 60


@dataclass(frozen=True)
class CardView:
    card: Card
    status: CardStatus
    own: bool
    renewed: bool
    claimed: bool

    @property
    def needs_renewal(self) -> bool:
        return self.status.state is not CardState.VALID and not self.renewed and not self.claimed


@dataclass(frozen=True)
class HouseholdView:
    """The linked cards of one household and what renewing the due ones costs."""

    code: str | None
    cards: tuple[CardView, ...]
    cost: HouseholdCost | None  # None when no card needs renewal

    @property
    def due(self) -> list[CardView]:
        return [c for c in self.cards if c.needs_renewal]


@dataclass(frozen=True)
class MyCards:
    today: date
    months: int
    households: tuple[HouseholdView, ...]

    @property
    def empty(self) -> bool:
        return not self.households

    @property
    def cards(self) -> list[CardView]:
        return [c for h in self.households for c in h.cards]


class LinkOutcome(StrEnum):
    NOT_OWN = "not_own"  # a contact that is not the sender's own: refused
    BAD_PHONE = "bad_phone"
    NO_CARDS = "no_cards"
    LINKED = "linked"


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    phone: str | None = None
    cards: MyCards | None = None


@dataclass(frozen=True)
class ImportResult:
    parsed: ParsedList
    counts: ImportCounts
    unknown_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class PayInfo:
    unit_name: str | None
    pay_points: str | None
    agents: tuple[str, ...]


@dataclass(frozen=True)
class ReminderContent:
    """Everything a reminder says, for one person; rendered by bot.chat.texts.cards."""

    salutation: str  # "chị Linh", "ông Cường", "bạn Lan"
    pronoun: str  # how the text refers to them afterwards: "chị", "ông", "bạn"
    holder: CardView | None  # their own card when it is among the due ones
    due: tuple[CardView, ...]
    households: tuple[HouseholdView, ...]
    pay: PayInfo
    campaign: ReminderCampaign


@dataclass(frozen=True)
class DoorRowView:
    row: DoorRow
    status: CardStatus
    phone_visible: bool


@dataclass(frozen=True)
class DoorList:
    """The agents' list: lapsed, unrenewed people of the actor's scope, oldest lapse first."""

    today: date
    scope_label: str
    rows: tuple[DoorRowView, ...]
    phones_for: frozenset[str]  # units whose phones the actor may see


def _is_minor(card: Card, today: date) -> bool:
    year = card.year_of_birth
    return year is not None and today.year - year < ADULT_AGE


def salutation_for(card: Card | None, first_name: str, today: date) -> tuple[str, str]:
    """(salutation, pronoun) the way Vietnamese letters address people.

    The phone on a list may be a parent's written on a child's card, so a minor's card never
    names the person chatting: they are greeted by their Telegram first name.
    """
    fallback = (f"bạn {first_name.strip()[:32]}".strip() if first_name.strip() else "bạn", "bạn")
    if card is None or _is_minor(card, today):
        return fallback
    year = card.year_of_birth
    age = today.year - year if year else None
    if card.sex not in ("nam", "nu"):
        return (f"bạn {card.given_name}", "bạn")
    if age is not None and age >= ELDER_AGE:
        pronoun = "ông" if card.sex == "nam" else "bà"
    else:
        pronoun = "anh" if card.sex == "nam" else "chị"
    return (f"{pronoun} {card.given_name}", pronoun)


class CardService:
    def __init__(
        self,
        cards: CardStore,
        users: UserStore,
        rates: RateBook,
        campaigns: CampaignBook,
        clock: Clock,
    ) -> None:
        self.repo = cards
        self.users = users
        self.rates = rates
        self.campaigns = campaigns
        self.clock = clock
        # Lists parsed at once: parsing is CPU-bound and holds the GIL most of the time, so
        # two parallel uploads already take what the event loop can spare.
        self._parsing = asyncio.Semaphore(PARALLEL_PARSES)

    def today(self) -> date:
        return self.clock.now().date()

    # ----------------------------------------------------------------- import

    async def import_list(
        self,
        data: bytes,
        filename: str,
        scope_codes: list[str] | None,
        source: str | None = None,
        max_rows: int = MAX_ROWS,
        legal_basis: str | None = None,
    ) -> ImportResult:
        """Parse and upsert a list; rows outside ``scope_codes`` (None: everything) are refused.

        A row is outside the scope when its unit is, and also when its BHXH code belongs to a
        card on file in a unit outside the scope (both reported the same way, so the report
        says nothing about other units' people). Parsing runs in a worker thread: a big file
        must not stop every other chat and job. ``max_rows``: a channel's cap
        (``CHAT_MAX_ROWS`` for chat uploads). ``legal_basis``: the basis for contacting the
        list's people (recorded on its cards; without one they are never sent ZNS). Raises CardFileError for a file that cannot be
        read or is over the cap; nothing is written then.
        """
        async with self._parsing:
            parsed = await asyncio.to_thread(_parse_in_scope, data, filename, scope_codes, max_rows, self.today())
        if not parsed.rows:
            counts = ImportCounts()
        else:
            counts = await self.repo.import_cards(
                [card for _, card in parsed.rows], (source or filename)[:200], self.clock.now(), scope_codes,
                legal_basis=legal_basis,
            )
        if counts.out_of_scope:
            refused = set(counts.out_of_scope)
            # Worded exactly like a row naming another unit: nothing about who is on file where.
            parsed.reject_many([
                RowProblem(n, Problem.OUT_OF_SCOPE, Column.UNIT)
                for n, card in parsed.rows
                if card.bhxh_code in refused
            ])
        parsed.problems.sort(key=lambda p: p.row)
        units = {card.unit_code for _, card in parsed.rows}
        known = await self.repo.known_units(units) if units else set()
        unknown = tuple(sorted(units - known)) if known else ()
        return ImportResult(parsed, counts, unknown)

    # ----------------------------------------------------------------- linking

    async def link_contact(
        self, sender_id: int, contact_user_id: int | None, phone_number: str, channel: str
    ) -> LinkResult:
        """Link the sender to every card with the phone of their OWN contact.

        A contact whose user id is not the sender's (someone else's card, forwarded or typed)
        proves nothing and links nothing.
        """
        if contact_user_id is None or contact_user_id != sender_id:
            return LinkResult(LinkOutcome.NOT_OWN)
        try:
            phone = normalize_phone(phone_number)
        except ValueError:
            return LinkResult(LinkOutcome.BAD_PHONE)
        if phone is None:
            return LinkResult(LinkOutcome.BAD_PHONE)
        if await self.repo.cards_with_phone(phone) == 0:
            return LinkResult(LinkOutcome.NO_CARDS, phone)
        await self.repo.link_phone(sender_id, phone, self.clock.now(), channel)
        return LinkResult(LinkOutcome.LINKED, phone, await self.my_cards(sender_id, channel=channel))

    async def is_linked(self, user_id: int, channel: str) -> bool:
        return await self.repo.phone_of(user_id, channel) is not None

    async def my_cards(self, user_id: int, channel: str, months: int = DEFAULT_MONTHS) -> MyCards:
        """Linked cards grouped by household, with the renewal cost of each household."""
        today = self.today()
        linked = await self.repo.linked_cards(user_id, channel)
        return MyCards(today, months, tuple(self._households(linked, today, months)))

    def _households(self, linked: list[LinkedCard], today: date, months: int) -> list[HouseholdView]:
        groups: dict[str, list[CardView]] = {}
        for item in linked:
            view = CardView(item.card, card_status(item.card.valid_to, today), item.own, item.renewed, item.claimed)
            key = item.card.household_code or f"#{item.card.bhxh_code}"
            groups.setdefault(key, []).append(view)
        households = []
        for key, views in groups.items():
            due = [v.card for v in views if v.needs_renewal]
            cost = household_renewal_cost(self.rates, self.campaigns, today, due, months) if due else None
            code = None if key.startswith("#") else key
            households.append(HouseholdView(code, tuple(views), cost))
        households.sort(key=lambda h: (not any(c.own for c in h.cards), h.code or ""))
        return households

    # ----------------------------------------------------------------- agents' list

    async def door_list(self, actor: Actor, scope_codes: list[str] | None, scope_label: str) -> DoorList:
        """Lapsed, unrenewed people of the actor's units.

        Phones are shown only to the agent responsible: an agent or team leader sees the phones
        of their own unit (the one their membership names), where they go door to door.
        Officials and admins oversee a subtree and see the list without phones.
        ``scope_codes`` None: every card (an admin without a unit, even before units are loaded).
        """
        today = self.today()
        rows = await self.repo.lapsed_in_units(scope_codes, today)
        phones_for: frozenset[str] = frozenset()
        if actor.member is not None and actor.role in (Role.AGENT, Role.TEAM_LEADER):
            phones_for = frozenset({actor.member.unit_code})
        views = tuple(
            DoorRowView(r, card_status(r.card.valid_to, today), r.card.unit_code in phones_for) for r in rows
        )
        return DoorList(today, scope_label, views, phones_for)


class ReminderService:
    """Opt-outs, claims, reminder content, queueing and counts."""

    def __init__(
        self,
        reminders: ReminderStore,
        cards: CardService,
        units: UnitStore,
        members: MemberStore,
        plan: ReminderPlan,
        cadence: Cadence,
        hours: Hours,
        clock: Clock,
    ) -> None:
        self.repo = reminders
        self.cards = cards
        self.units = units
        self.members = members
        self._pay_cache: dict[str, PayInfo] = {}  # per round: units rarely change mid-round
        self.plan = plan
        self.cadence = cadence
        self.hours = hours
        self.clock = clock
        # One round at a time per process: the tick job and a direct call (tests, demo) share it.
        self.round_lock = asyncio.Lock()
        # ZNS: the operator's templates and sending hours (set by build_card_services).
        self.zns_templates: ZnsTemplates | None = None
        self.zns_hours = Hours()

    # ----------------------------------------------------------------- the person's choices

    async def opt_out(self, user_id: int, channel: str) -> bool:
        return await self.repo.set_opted_out(user_id, True, self.clock.now(), channel)

    async def opt_in(self, user_id: int, channel: str) -> bool:
        """/nhac: reminders on again; a person writing to us has also unblocked the bot.

        Both in one transaction: never "opted in" while still recorded as blocked.
        """
        return await self.cards.repo.resume_reminders(user_id, self.clock.now(), channel)

    async def is_opted_out(self, user_id: int, channel: str) -> bool:
        return await self.repo.is_opted_out(user_id, channel)

    async def claim_renewed(self, user_id: int, channel: str) -> list[CardView]:
        """"Tôi đã gia hạn": claim every linked card that needs renewal; returns them."""
        mine = await self.cards.my_cards(user_id, channel=channel)
        due = [c for c in mine.cards if c.needs_renewal]
        if due:
            await self.repo.add_claims(
                user_id, [(c.card.bhxh_code, c.card.valid_to) for c in due], self.clock.now(), channel
            )
        return due

    async def undo_claims(self, user_id: int, channel: str) -> int:
        return await self.repo.drop_pending_claims(user_id, channel)

    # ----------------------------------------------------------------- a reminder

    def running_campaigns(self, today: date | None = None) -> list[ReminderCampaign]:
        return self.plan.running_on(today or self.clock.now().date())

    async def content_for(
        self, user_id: int, campaign: ReminderCampaign, channel: str
    ) -> ReminderContent | None:
        """What to tell this person now, or None when nothing of theirs is due any more."""
        return (await self.contents_for([user_id], campaign, channel)).get(user_id)

    async def contents_for(
        self, user_ids: list[int], campaign: ReminderCampaign, channel: str
    ) -> dict[int, ReminderContent]:
        """``content_for`` for a batch of people, reading the database once for all of them."""
        today = self.clock.now().date()
        linked = await self.cards.repo.linked_cards_many(user_ids, channel)
        names = await self.cards.repo.first_names(user_ids, channel)
        contents: dict[int, ReminderContent] = {}
        for user_id in user_ids:
            content = await self._content(linked.get(user_id, []), names.get(user_id, ""), campaign, today)
            if content is not None:
                contents[user_id] = content
        return contents

    async def _content(
        self, linked: list[LinkedCard], first_name: str, campaign: ReminderCampaign, today: date
    ) -> ReminderContent | None:
        households = self.cards._households(linked, today, DEFAULT_MONTHS)
        due: list[CardView] = []
        for household in households:
            for view in household.cards:
                if card_reason(campaign, view.card.valid_to, today, view.renewed, view.claimed) is not None:
                    due.append(view)
        if not due:
            return None
        due.sort(key=lambda v: (not v.own, v.card.valid_to))
        own = [view.card for household in households for view in household.cards if view.own]
        # The phone owner is most likely the eldest person whose card carries the phone.
        holder_card = min(own, key=lambda c: c.year_of_birth or 9999) if own else None
        salutation, pronoun = salutation_for(holder_card, first_name, today)
        holder = None
        if holder_card is not None and not _is_minor(holder_card, today):
            holder = next((v for v in due if v.card.bhxh_code == holder_card.bhxh_code), None)
        unit_code = due[0].card.unit_code
        pay = self._pay_cache.get(unit_code)
        if pay is None:
            pay = self._pay_cache[unit_code] = await self._pay_info(unit_code)
        relevant = tuple(h for h in households if any(v in due for v in h.cards))
        return ReminderContent(
            salutation=salutation,
            pronoun=pronoun,
            holder=holder,
            due=tuple(due),
            households=relevant,
            pay=pay,
            campaign=campaign,
        )

    async def _pay_info(self, unit_code: str) -> PayInfo:
        """Where the people of a unit pay: its pay points (or its nearest ancestor's) and up to
        three of its active agents by name."""
        unit = await self.units.get(unit_code)
        pay_points = unit.pay_points if unit else None
        if unit is not None and not pay_points:
            for code in await self.units.ancestors(unit_code):
                above = await self.units.get(code)
                if above is not None and above.pay_points:
                    pay_points = above.pay_points
                    break
        members = await self.members.in_units([unit_code], limit=50)
        agents = [m.member.full_name for m in members if m.member.role in (Role.AGENT, Role.TEAM_LEADER)]
        return PayInfo(unit.name if unit else None, pay_points, tuple(agents[:3]))

    async def queue_round(self, now: datetime) -> int:
        """Queue the people due today in the running campaigns, at most one reminder per
        person whatever the campaigns (they may overlap); returns how many."""
        today = now.date()
        self._pay_cache.clear()
        running = self.plan.running_on(today)
        await self.repo.skip_pending_outside([c.code for c in running], now)
        return await self.repo.queue_due_all(
            [(campaign.code, selection_window(campaign, today)) for campaign in running], self.cadence, now
        )

    async def queue_zns(self, now: datetime) -> int:
        """Queue ZNS reminders (phones of legal-basis lists no chat reminder covers) for the
        running campaigns; after ``queue_round``, so a person linked on a chat is reminded
        there. The caller checks that ZNS is on."""
        today = now.date()
        running = self.plan.running_on(today)
        return await self.repo.queue_zns([(c.code, selection_window(c, today)) for c in running], now)

    async def zns_contents(self, rows: Sequence[ZnsRow]) -> dict[int, ReminderContent]:
        """What each ZNS row is about (by row id), read for the batch at once; a row whose
        cards were renewed or claimed meanwhile is absent."""
        today = self.clock.now().date()
        cards = await self.cards.repo.cards_of_phones([r.phone for r in rows])
        contents: dict[int, ReminderContent] = {}
        for row in rows:
            campaign = self.plan.by_code(row.campaign_code)
            if campaign is None:
                continue
            content = await self._content(cards.get(row.phone, []), "", campaign, today)
            if content is not None:
                contents[row.id] = content
        return contents

    # ----------------------------------------------------------------- counting

    async def reminder_counts(
        self, scope_codes: list[str], day_from: date, day_to: date, *, eligible: bool = True
    ) -> ReminderCounts:
        """Per unit of the scope: eligible, reminded, reached, blocked, opted out, renewed after a
        reminder, for the campaigns running on ``day_to`` (or overlapping the period).

        ``eligible=False`` leaves the eligible figure out (0): it reads every card of the scope
        in the campaigns' windows, the costliest of the figures over a province, and the
        summaries, which ask twice per summary, never show it."""
        campaigns = self.plan.running_on(day_to) or [
            c for c in self.plan.campaigns if c.start <= day_to and c.end >= day_from
        ]
        windows = [selection_window(c, day_to) for c in campaigns] if eligible else []
        return await self.repo.reminder_counts(scope_codes, day_from, day_to, [c.code for c in campaigns], windows)



def _parse_in_scope(
    data: bytes, filename: str, scope_codes: list[str] | None, max_rows: int, today: date | None = None
) -> ParsedList:
    """Parsing and the scope check on each row's unit: pure, for a worker thread."""
    parsed = parse_card_file(data, filename, max_rows, today)
    return parsed if scope_codes is None else restrict_to_scope(parsed, scope_codes)


def build_card_services(
    card_store: CardStore,
    reminder_store: ReminderStore,
    users: UserStore,
    units: UnitStore,
    members: MemberStore,
    rates: RateBook,
    campaigns: CampaignBook,
    clock: Clock,
    settings: Settings,
) -> tuple[CardService, ReminderService]:
    """Wire the repositories and services of this feature (called by bot.bootstrap.build_services).

    Loads reminders.toml and zns_templates.toml now, so a broken file stops start-up with one line.
    """
    cards = CardService(card_store, users, rates, campaigns, clock)
    reminders = ReminderService(
        reminder_store,
        cards,
        units,
        members,
        ReminderPlan.load(settings.reminder_campaigns_path),
        Cadence(settings.reminder_interval_days, settings.reminder_max_count),
        Hours(settings.reminder_hours_start, settings.reminder_hours_end),
        clock,
    )
    # Loaded now, ZNS on or off, so a broken operator file stops start-up with one line.
    reminders.zns_templates = ZnsTemplates.load(settings.zns_templates_path)
    reminders.zns_hours = Hours(settings.zns_hours_start, settings.zns_hours_end)
    return cards, reminders
