"""The cost question as a channel-agnostic dialogue: what is known, what to ask next, the answer.

A `CostDraft` holds what the person said so far. `advance` either asks for the first missing value
(with choices any channel can show as buttons), refuses with the limit and a way forward, or
answers with a quote from the engine. A draft encodes into a short string (< 64 bytes) so every
button carries the whole question: old buttons keep working after a restart or a new question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.domain.campaigns import CampaignBook
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
from bot.domain.rates import RateBook, RatesInForce
from bot.parsing import questions as textparse
from bot.parsing.numbers import parse_bounded_int


class Scheme(StrEnum):
    BHYT_HOUSEHOLD = "h"
    BHYT_SUPPORTED = "s"
    BHXH_VOLUNTARY = "v"
    BHYT = "y"  # BHYT, not yet known whether household or a supported group


Field = Literal["scheme", "members", "months", "income", "group", "confirm"]

DRAFT_PREFIX = "q1"
MAX_MEMBERS_TYPED = 99
# Telegram's limit for callback data; every draft must fit in one button.
MAX_PAYLOAD_BYTES = 64
_AREA_RE = re.compile(r"[a-z]{1,16}")


class CostDraft(BaseModel):
    """What the person asked so far; every field optional until the quote."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: Scheme | None = None
    members: int | None = None
    months: int | None = None
    income: int | None = None
    group: str | None = None
    on: date | None = None
    # household members left out because they already have a card of another group
    covered: int | None = None
    # where the person lives (a `textparse.place_key`); None: not said
    area: str | None = None
    # household ladder position of the first member priced: 3 when two members already
    # joined as a household this financial year (DOMAIN §3.2); None: a new household
    start: int | None = None

    def with_(self, **changes: object) -> CostDraft:
        return self.model_copy(update=changes)

    def encode(self) -> str:
        """Compact form for button payloads:
        q1|scheme|members|months|income|group|yyyymmdd[|covered|area[|start]] (< 64 bytes)."""
        parts = [
            DRAFT_PREFIX,
            self.scheme.value if self.scheme else "",
            _num(self.members),
            _num(self.months),
            _num(self.income),
            self.group or "",
            self.on.strftime("%Y%m%d") if self.on else "",
        ]
        if self.covered is not None or self.area is not None or self.start is not None:
            parts += [_num(self.covered), self.area or ""]
        if self.start is not None:
            parts.append(_num(self.start))
        return "|".join(parts)

    @classmethod
    def decode(cls, data: str) -> CostDraft | None:
        """The draft in a button payload, or None for anything malformed or forged.

        Payloads of the older 7-part form (before covered members and area) still decode, so
        buttons sent before an upgrade keep working.
        """
        if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_PAYLOAD_BYTES:
            return None
        parts = data.split("|")
        if len(parts) not in (7, 9, 10) or parts[0] != DRAFT_PREFIX:
            return None
        covered, area = parts[7:9] if len(parts) >= 9 else ("", "")
        start = parts[9] if len(parts) == 10 else ""
        _, scheme, members, months, income, group, on = parts[:7]
        if area and not _AREA_RE.fullmatch(area):
            return None
        numbers = {
            "members": _field_int(members, 9), "months": _field_int(months, 9),
            "income": _field_int(income, 12), "covered": _field_int(covered, 9),
            "start": _field_int(start, 3),
        }
        if any(value is False for value in numbers.values()):
            return None
        day = _field_int(on, 8)
        if day is False or (on and len(on) != 8):
            return None
        try:
            return cls(
                scheme=Scheme(scheme) if scheme else None,
                group=group or None,
                on=date(day // 10000, day // 100 % 100, day % 100) if isinstance(day, int) else None,
                area=area or None,
                **numbers,
            )
        except (ValueError, ValidationError):
            return None


def _field_int(text: str, max_digits: int) -> int | None | Literal[False]:
    """An empty slot is None; a number is ASCII digits only, bounded (`parse_bounded_int`);
    anything else is False (the whole payload is refused)."""
    if not text:
        return None
    value = parse_bounded_int(text, max_digits=max_digits)
    return False if value is None else value


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def draft_from_question(question: textparse.Question) -> CostDraft | None:
    """Map a parsed free-text question onto a draft; None when it is not a cost question."""
    intent = question.intent
    if intent == textparse.Intent.BHYT_HOUSEHOLD:
        scheme = Scheme.BHYT_HOUSEHOLD
    elif intent == textparse.Intent.BHYT_SUPPORTED:
        scheme = Scheme.BHYT_SUPPORTED
    elif intent == textparse.Intent.BHXH_VOLUNTARY:
        scheme = Scheme.BHXH_VOLUNTARY
    else:
        return None
    group = question.group
    if scheme == Scheme.BHYT_HOUSEHOLD:
        group = None
    household = scheme == Scheme.BHYT_HOUSEHOLD
    return CostDraft(
        scheme=scheme,
        members=question.members if household else None,
        months=question.months,
        income=question.income if scheme == Scheme.BHXH_VOLUNTARY else None,
        group=group,
        on=question.on,
        covered=question.covered if household else None,
        area=question.area if scheme == Scheme.BHYT_SUPPORTED else None,
    )


# --- outcomes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One button: its label and the draft it leads to."""

    label: str
    draft: CostDraft


@dataclass(frozen=True)
class Ask:
    """A value is missing (or was refused, or the text held something unused): ask, with
    choices. `reason` says why when it is not simply a missing value: "unused" (the text
    held `unused` items), "children" (children named: are they covered?), "ethnic" (free or
    70 % depends on the commune), "household_cards" (members already hold household cards:
    bought this financial year or not?), "free_child" (a child under 6 named with a parent),
    "long_period" (voluntary BHXH paid once for years: not computed yet)."""

    field: Field
    draft: CostDraft
    choices: list[Choice]
    refused: Refused | None = None
    reason: str | None = None
    unused: tuple[str, ...] = ()
    children: int | None = None
    # a second question in the same message, answered after this one
    second: str | None = None


@dataclass(frozen=True)
class CampaignHint:
    """A campaign's co-funding that would apply if the person lives in its area."""

    campaign_name: str
    area: str
    person_pays: int
    draft: CostDraft  # the same question, in the campaign's area


@dataclass(frozen=True)
class Answer:
    draft: CostDraft
    on: date
    quote: HouseholdQuote | SupportedQuote | VoluntaryQuote
    campaign_name: str | None = None
    hint: CampaignHint | None = None
    area_label: str | None = None  # the campaign area the co-funded figure is for
    # voluntary BHXH close to the next rate row: (its first day, its lowest income)
    upcoming: tuple[date, int] | None = None
    expired: date | None = None  # when the person's card expired (said in the question)


@dataclass(frozen=True)
class OffTopic:
    """Insurance the bot does not quote (life, compulsory BHXH, vehicle, unemployment)."""

    topic: str


@dataclass(frozen=True)
class Stop:
    """Nothing can be computed (e.g. no rates for that date); say why. `known_until` is set
    when the date is too far ahead: the tables only know rules already decided."""

    draft: CostDraft
    refused: Refused
    known_until: date | None = None


Outcome = Ask | Answer | Stop


def missing_field(draft: CostDraft) -> Field | None:
    """The first value still needed, in the order people answer most easily."""
    if draft.scheme is None or draft.scheme == Scheme.BHYT:
        return "scheme"
    if draft.scheme == Scheme.BHYT_HOUSEHOLD:
        order: tuple[Field, ...] = ("members", "months")
    elif draft.scheme == Scheme.BHYT_SUPPORTED:
        order = ("group", "months")
    else:
        order = ("income", "group", "months")
    for name in order:
        if getattr(draft, name) is None:
            return name
    return None


_YES_RE = re.compile(r"(?:dung|dung roi|dung vay|ok|oke|okay|co|u|uh|vang|da|da dung|chinh xac|tinh di)")


_MINUS_RE = re.compile(r"^\s*[-\u2212\u2013]\s*\d")
# A typed answer merges these fields of a full parse: (question attribute, draft attribute).
_MERGED_FIELDS = ("members", "months", "income", "on")
_SCHEME_PREFIX = {
    Scheme.BHYT_HOUSEHOLD: "bhyt hộ gia đình ", Scheme.BHXH_VOLUNTARY: "bhxh tự nguyện ",
    Scheme.BHYT_SUPPORTED: "bhyt ",
}


def apply_typed_answer(
    draft: CostDraft, field_name: Field, text: str, today: date | None = None
) -> CostDraft | None:
    """Fill the asked field from what the person typed instead of tapping; None if unclear.

    A typed answer that says more than the asked field ("3 người 6 tháng", "12 tháng nhưng
    đóng từ 1/1/2027") is read as a whole question of the same scheme and every value it states
    is merged, so nothing typed is dropped; a value contradicting one already given, or
    anything the parse could not use, makes the answer unclear (the question is asked again).
    A negative number ("-3") is never read as its digits.
    """
    if not isinstance(text, str) or _MINUS_RE.match(text):
        return None
    filled = _apply_one_field(draft, field_name, text)
    if field_name in ("confirm", "group") or draft.scheme not in _SCHEME_PREFIX:
        return filled
    if textparse.parse_int_choice(text) is not None:
        return filled  # a bare "3", "12 tháng": the asked field only
    question = textparse.parse_question(_SCHEME_PREFIX[draft.scheme] + text, today)
    stated = draft_from_question(question)
    if stated is None or stated.scheme != draft.scheme:
        return filled
    if question.unused or question.children or question.covered:
        return None
    merged = filled or draft
    for name in _MERGED_FIELDS:
        value = getattr(stated, name)
        if value is None:
            continue
        current = getattr(merged, name)
        if current is None or (name == field_name and filled is None):
            merged = merged.with_(**{name: value})
        elif current != value:
            return None  # "3 người" typed after "4 người" was said: which one? asked again
    return merged if merged != draft else filled


def _apply_one_field(draft: CostDraft, field_name: Field, text: str) -> CostDraft | None:
    """The asked field alone, from the typed text; None if unclear."""
    if field_name == "members":
        value = textparse.parse_members(text) or textparse.parse_int_choice(text)
        if value is None or value > MAX_MEMBERS_TYPED:
            return draft.with_(members=value) if value is not None else None
        return draft.with_(members=value)
    if field_name == "months":
        value = textparse.parse_months(text) or textparse.parse_int_choice(text)
        return None if value is None else draft.with_(months=value)
    if field_name == "income":
        value = textparse.parse_amount(text)
        return None if value is None else draft.with_(income=value)
    if field_name == "confirm":
        return draft if _YES_RE.fullmatch(textparse.normalize(text).strip(" .!")) else None
    if field_name == "group":
        if draft.scheme == Scheme.BHXH_VOLUNTARY:
            group = textparse.parse_bhxh_group(text)
        else:
            group = textparse.parse_bhyt_group(text)
        return None if group is None else draft.with_(group=group)
    return None


# Rates are quoted at most this far ahead of today: later rules are not decided yet.
KNOWN_DAYS_AHEAD = 366
# A voluntary-BHXH answer warns when the next rate row starts within this many days.
CHANGE_WARNING_DAYS = 60

# An ethnic-minority person's BHYT support depends on the commune: these are the choices.
ETHNIC_BHYT_GROUPS = ("dtts_vung_kho", "dtts_vung_thoat_kho")


class CostDialogue:
    """Decides the next step of a cost question; pure apart from reading rates and campaigns."""

    def __init__(self, rates: RateBook, campaigns: CampaignBook, labels: "DialogueLabels") -> None:
        self.rates = rates
        self.campaigns = campaigns
        self.labels = labels

    def respond(self, question: textparse.Question, today: date) -> Outcome | OffTopic | None:
        """The reply to a free-text question; None when it is not a cost question.

        Never a figure for a different question: when the text held a number, date or clause
        the parse did not use, the reply says what was understood and asks (field "confirm");
        children in a household and an ethnic group for BHYT are asked about, not assumed.
        """
        if question.intent == textparse.Intent.OFF_TOPIC:
            return OffTopic(question.topic or "")
        draft = draft_from_question(question)
        if draft is None:
            return None
        on = draft.on or today
        try:
            rates = self.rates.at(on)
        except Refused as refused:
            return Stop(draft, refused)
        if question.lowest_income and draft.scheme == Scheme.BHXH_VOLUNTARY and draft.income is None:
            draft = draft.with_(income=rates.min_income)
        if question.unused:
            restart = CostDraft(scheme=draft.scheme, on=draft.on)
            choices = [Choice(self.labels.confirm, draft), Choice(self.labels.restart, restart)]
            return Ask(
                "confirm", draft, choices, reason="unused", unused=question.unused,
                second=question.second_question,
            )
        if question.free_child_adult and draft.scheme == Scheme.BHYT_HOUSEHOLD:
            adult = draft.with_(covered=None)
            choices = [Choice(self.labels.members(1), adult), Choice(self.labels.restart, CostDraft(scheme=draft.scheme, on=draft.on))]
            return Ask("confirm", adult, choices, reason="free_child")
        if question.extra_member and draft.scheme == Scheme.BHYT_HOUSEHOLD and draft.members and not draft.covered:
            # "mua thêm cho 1 người nữa": joining a household whose cards were bought this
            # financial year continues its ladder; which position is asked, never assumed
            choices = [
                Choice(self.labels.extra_member(position), draft.with_(start=position))
                for position in range(2, 6)
            ]
            choices.append(Choice(self.labels.new_household, draft))
            return Ask("confirm", draft, choices, reason="extra_member")
        if question.household_cards and draft.scheme == Scheme.BHYT_HOUSEHOLD and draft.covered and draft.members:
            continued = draft.with_(start=draft.covered + 1)
            fresh = draft.with_(covered=None)
            choices = [
                Choice(self.labels.continue_ladder(draft.covered + 1), continued),
                Choice(self.labels.new_household, fresh),
            ]
            return Ask("confirm", draft, choices, reason="household_cards")
        if question.children and draft.scheme == Scheme.BHYT_HOUSEHOLD and draft.members:
            adults = max(draft.members - question.children, 0)
            choices = [Choice(self.labels.members_all(draft.members), draft)]
            if adults:
                only_adults = draft.with_(members=adults, covered=(draft.covered or 0) + question.children)
                choices.insert(0, Choice(self.labels.adults_only(adults), only_adults))
            return Ask("members", draft, choices, reason="children", children=question.children)
        if question.ethnic and draft.scheme == Scheme.BHYT_SUPPORTED:
            groups = rates.bhyt_support.groups
            named = draft.group
            draft = draft.with_(group=None)
            choices = [
                Choice(label, draft.with_(group=key))
                for key, label in self.labels.bhyt_groups(rates)
                if (key in ETHNIC_BHYT_GROUPS or key == named) and key in groups
            ]
            choices.append(Choice(self.labels.none_of_these, CostDraft(scheme=Scheme.BHYT_HOUSEHOLD, on=draft.on)))
            return Ask("group", draft, choices, reason="ethnic")
        outcome = self.advance(draft, today)
        if isinstance(outcome, Answer) and question.expired is not None and draft.scheme != Scheme.BHXH_VOLUNTARY:
            outcome = replace(outcome, expired=question.expired)
        if isinstance(outcome, Answer) and outcome.hint is not None and any(
            textparse.place_within(outcome.hint.draft.area, place) or outcome.hint.draft.area == place
            for place in question.not_areas
        ):
            outcome = replace(outcome, hint=None)  # "tôi không ở An Giang": no co-funding hint
        return outcome

    def advance(self, draft: CostDraft, today: date) -> Outcome:
        on = draft.on or today
        try:
            self.rates.at(on)
        except Refused as refused:
            return Stop(draft, refused)
        known_until = date.fromordinal(today.toordinal() + KNOWN_DAYS_AHEAD)
        if on > known_until:
            # the tables hold rules already decided; nobody knows the rates that far ahead
            return Stop(draft, Refused(RefusalReason.NO_RATES, "too far ahead", on=on), known_until)
        draft = self._free_card_needs_no_period(draft, on)
        group_refusal = self._group_unavailable(draft, on)
        if group_refusal is not None:
            return self._refusal(draft, on, group_refusal)
        early = self._out_of_range(draft, on)
        if early is not None:
            return self._refusal(draft, on, early)
        name = missing_field(draft)
        if name is not None:
            return self.ask(name, draft, on)
        try:
            return self._answer(draft, on)
        except Refused as refused:
            return self._refusal(draft, on, refused)

    def ask(self, name: Field, draft: CostDraft, on: date, refused: Refused | None = None) -> Ask:
        return Ask(name, draft, self._choices(name, draft, on, refused), refused)

    def _group_unavailable(self, draft: CostDraft, on: date) -> Refused | None:
        """A group not in the rate book on that date is said first, before asking the rest."""
        if draft.group is None or draft.scheme not in (Scheme.BHYT_SUPPORTED, Scheme.BHXH_VOLUNTARY):
            return None
        rates = self.rates.at(on)
        table = rates.bhyt_support.groups if draft.scheme == Scheme.BHYT_SUPPORTED else rates.bhxh_voluntary.support
        if draft.group in table:
            return None
        if draft.scheme == Scheme.BHYT_SUPPORTED and draft.group in self.rates.support_group_keys:
            since = self.rates.support_group_available_from(draft.group, on)
            return Refused(RefusalReason.GROUP_NOT_AVAILABLE, draft.group, on=on, available_from=since)
        if draft.scheme == Scheme.BHXH_VOLUNTARY and draft.group in self.rates.voluntary_group_keys:
            return Refused(RefusalReason.GROUP_NOT_AVAILABLE, draft.group, on=on)
        return Refused(RefusalReason.UNKNOWN_GROUP, draft.group, on=on)

    def _free_card_needs_no_period(self, draft: CostDraft, on: date) -> CostDraft:
        """A free card (poor households, children under 6...) costs nothing for any period."""
        if draft.scheme != Scheme.BHYT_SUPPORTED or draft.group is None or draft.months:
            return draft
        group = self.rates.at(on).bhyt_support.groups.get(draft.group)
        if group is not None and group.free:
            return draft.with_(months=max(self.rates.at(on).bhyt_household.allowed_months))
        return draft

    def _out_of_range(self, draft: CostDraft, on: date) -> Refused | None:
        """Say a value is out of range as soon as it is given, before asking for the rest."""
        rates = self.rates.at(on)
        household = rates.bhyt_household
        if draft.members is not None and not 1 <= draft.members <= household.max_members:
            return Refused(
                RefusalReason.MEMBERS_RANGE, limit=household.max_members, value=draft.members
            )
        if draft.income is not None and draft.income < rates.min_income:
            return Refused(RefusalReason.INCOME_BELOW_MIN, limit=rates.min_income, value=draft.income)
        if draft.income is not None and draft.income > rates.max_income:
            return Refused(RefusalReason.INCOME_ABOVE_MAX, limit=rates.max_income, value=draft.income)
        if draft.months is not None and draft.scheme not in (None, Scheme.BHYT):
            voluntary = draft.scheme == Scheme.BHXH_VOLUNTARY
            allowed = (rates.bhxh_voluntary if voluntary else household).allowed_months
            if draft.months not in allowed:
                return Refused(
                    RefusalReason.MONTHS_NOT_ALLOWED, value=draft.months, allowed=tuple(allowed)
                )
        return None

    def _answer(self, draft: CostDraft, on: date) -> Answer:
        assert draft.months is not None
        if draft.scheme == Scheme.BHYT_HOUSEHOLD:
            assert draft.members is not None
            quote = quote_bhyt_household(
                self.rates, on, members=draft.members, months=draft.months,
                first_position=draft.start or 1,
            )
            return Answer(draft, on, quote)
        if draft.scheme == Scheme.BHYT_SUPPORTED:
            assert draft.group is not None
            cofunding, campaign_name, hint, area_label = None, None, None, None
            for campaign in self.campaigns.active_on(on):
                found = campaign.cofunding_for("bhyt_supported", draft.group, draft.months)
                if found is None:
                    continue
                where = campaign.applies_in(draft.area)
                if where:
                    cofunding, campaign_name, hint = found, campaign.name, None
                    area_label = campaign.area
                    break
                if where is None and hint is None and campaign.area and campaign.area_key:
                    hint = CampaignHint(
                        campaign.name, campaign.area, found.person_pays,
                        draft.with_(area=campaign.area_key),
                    )
            supported = quote_bhyt_supported(
                self.rates, on, group=draft.group, months=draft.months, cofunding=cofunding
            )
            return Answer(draft, on, supported, campaign_name, hint, area_label)
        assert draft.income is not None and draft.group is not None
        voluntary = quote_bhxh_voluntary(
            self.rates, on, income=draft.income, group=draft.group, months=draft.months
        )
        return Answer(draft, on, voluntary, upcoming=self._upcoming_voluntary(on))

    def _upcoming_voluntary(self, on: date) -> tuple[date, int] | None:
        """The next voluntary-BHXH row when it starts within `CHANGE_WARNING_DAYS` of `on`
        (its first day and lowest income), read from the rate book, never hard-coded."""
        for row in self.rates.bhxh_voluntary:
            if on < row.effective_from <= date.fromordinal(on.toordinal() + CHANGE_WARNING_DAYS):
                return row.effective_from, row.poverty_line
        return None

    def _refusal(self, draft: CostDraft, on: date, refused: Refused) -> Outcome:
        """Out of range: drop the offending value and ask again, saying the limit."""
        reason = refused.reason
        if reason == RefusalReason.MEMBERS_RANGE:
            return self.ask("members", draft.with_(members=None), on, refused)
        if reason == RefusalReason.MONTHS_NOT_ALLOWED:
            ask = self.ask("months", draft.with_(months=None), on, refused)
            longest = max(refused.allowed or (0,))
            if draft.scheme == Scheme.BHXH_VOLUNTARY and (refused.value or 0) > longest:
                # paying once for several years exists in law, but its discount is not in
                # the tables: say so rather than "not allowed"
                ask = replace(ask, reason="long_period")
            return ask
        if reason in (RefusalReason.INCOME_BELOW_MIN, RefusalReason.INCOME_ABOVE_MAX):
            return self.ask("income", draft.with_(income=None), on, refused)
        if reason in (RefusalReason.UNKNOWN_GROUP, RefusalReason.GROUP_NOT_AVAILABLE):
            return self.ask("group", draft.with_(group=None), on, refused)
        return Stop(draft, refused)

    def _choices(
        self, name: Field, draft: CostDraft, on: date, refused: Refused | None
    ) -> list[Choice]:
        labels = self.labels
        rates = self.rates.at(on)
        if name == "scheme":
            choices = [Choice(labels.household, CostDraft(scheme=Scheme.BHYT_HOUSEHOLD, on=draft.on))]
            if draft.scheme != Scheme.BHYT:
                choices.append(Choice(labels.voluntary, CostDraft(scheme=Scheme.BHXH_VOLUNTARY, on=draft.on)))
            for key, label in labels.bhyt_groups(rates):
                choices.append(
                    Choice(label, CostDraft(scheme=Scheme.BHYT_SUPPORTED, group=key, on=draft.on))
                )
            return choices
        if name == "members":
            return [Choice(labels.members(n), draft.with_(members=n)) for n in range(1, 7)]
        if name == "months":
            allowed = labels.allowed_months(rates, draft.scheme == Scheme.BHXH_VOLUNTARY)
            return [Choice(labels.months(m), draft.with_(months=m)) for m in allowed]
        if name == "income":
            choices = []
            if refused is not None and refused.limit is not None:
                return [
                    Choice(labels.compute_with(refused.limit), draft.with_(income=refused.limit)),
                    Choice(labels.other_amount, draft),
                ]
            for amount in labels.income_suggestions(rates):
                choices.append(Choice(labels.amount(amount), draft.with_(income=amount)))
            return choices
        # group
        if draft.scheme == Scheme.BHXH_VOLUNTARY:
            return [Choice(label, draft.with_(group=key)) for key, label in labels.bhxh_groups(rates)]
        return [Choice(label, draft.with_(group=key)) for key, label in labels.bhyt_groups(rates)]


class DialogueLabels(Protocol):
    """The wording of choices, a structural type: `bot.chat.texts.cost.Labels` meets it."""

    household: str
    voluntary: str
    other_amount: str
    confirm: str
    restart: str
    none_of_these: str
    new_household: str

    def continue_ladder(self, position: int) -> str: ...
    def extra_member(self, position: int) -> str: ...
    def members_all(self, n: int) -> str: ...
    def adults_only(self, n: int) -> str: ...

    def bhyt_groups(self, rates: RatesInForce) -> list[tuple[str, str]]: ...
    def bhxh_groups(self, rates: RatesInForce) -> list[tuple[str, str]]: ...
    def members(self, n: int) -> str: ...
    def months(self, m: int) -> str: ...
    def amount(self, vnd: int) -> str: ...
    def compute_with(self, vnd: int) -> str: ...
    def income_suggestions(self, rates: RatesInForce) -> list[int]: ...
    def allowed_months(self, rates: RatesInForce, voluntary: bool) -> list[int]: ...
