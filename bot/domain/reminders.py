"""Pure rules of the lapsed-card reminders: which cards, which people, when, how often.

The campaigns are data (``bot/data/reminders.toml``); the sending rules (interval, maximum
count, allowed hours) are settings. Nothing here reads the clock or the database: the
repository turns ``SelectionWindow`` into SQL for speed, and the tests check that the SQL and
``card_reason`` agree, so this module stays the one statement of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictInt, ValidationError, model_validator

from bot.domain.campaigns import CampaignsError
from bot.domain.rates import load_toml, validation_message

__all__ = [
    "OA_FREE_WINDOW",
    "Cadence",
    "DueReason",
    "Hours",
    "ReminderCampaign",
    "ReminderPlan",
    "ReminderPlanError",
    "SelectionWindow",
    "backoff",
    "card_reason",
    "is_person_due",
    "selection_window",
]

REMINDERS_FILE = "reminders.toml"


class ReminderPlanError(CampaignsError):
    """reminders.toml is invalid (a CampaignsError, so start-up reports it in one line)."""


_Date = Annotated[date, Strict()]
_Code = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ReminderCampaign(BaseModel):
    """One reminder campaign: the lapse window it targets and the days it sends on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: _Code
    name: Annotated[str, Field(min_length=1)]
    year: Annotated[StrictInt, Field(ge=2000, le=2100)]
    start: _Date
    end: _Date
    lapsed_from: _Date | None = None
    lapsed_to: _Date | None = None
    expiring_within_days: Annotated[StrictInt, Field(ge=0, le=90)] = 0

    @model_validator(mode="after")
    def _defaults_and_order(self) -> ReminderCampaign:
        # Seed 004: cards that expired between January and September of the campaign year.
        if self.lapsed_from is None:
            object.__setattr__(self, "lapsed_from", date(self.year, 1, 1))
        if self.lapsed_to is None:
            object.__setattr__(self, "lapsed_to", date(self.year, 9, 30))
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        assert self.lapsed_from is not None and self.lapsed_to is not None
        if self.lapsed_to < self.lapsed_from:
            raise ValueError(f"lapsed_to {self.lapsed_to} is before lapsed_from {self.lapsed_from}")
        return self

    @property
    def window_from(self) -> date:
        assert self.lapsed_from is not None
        return self.lapsed_from

    @property
    def window_to(self) -> date:
        assert self.lapsed_to is not None
        return self.lapsed_to

    def is_running(self, day: date) -> bool:
        return self.start <= day <= self.end


class ReminderPlan(BaseModel):
    """All reminder campaigns of reminders.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = REMINDERS_FILE
    campaigns: tuple[ReminderCampaign, ...] = ()

    @classmethod
    def load(cls, path: Path | str | None = None) -> ReminderPlan:
        """Load and validate the file (the packaged one when ``path`` is None)."""
        name, doc = load_toml(path, REMINDERS_FILE, ReminderPlanError)
        return cls.from_document(doc, name)

    @classmethod
    def from_document(cls, doc: dict[str, Any], name: str = REMINDERS_FILE) -> ReminderPlan:
        unknown = sorted(set(doc) - {"campaign"})
        if unknown:
            raise ReminderPlanError(f"{name}: unknown table {unknown[0]!r} (expected 'campaign')")
        raw = doc.get("campaign", [])
        if not isinstance(raw, list):
            raise ReminderPlanError(f"{name}: campaign: must be an array of tables ([[campaign]])")
        campaigns: list[ReminderCampaign] = []
        for number, item in enumerate(raw, start=1):
            try:
                campaigns.append(ReminderCampaign.model_validate(item))
            except ValidationError as exc:
                raise ReminderPlanError(f"{name}: campaign row {number}: {validation_message(exc)}") from None
            codes = [c.code for c in campaigns[:-1]]
            if campaigns[-1].code in codes:
                raise ReminderPlanError(f"{name}: campaign row {number}: code {campaigns[-1].code!r} already used")
        return cls(name=name, campaigns=tuple(campaigns))

    def running_on(self, day: date) -> list[ReminderCampaign]:
        return [c for c in self.campaigns if c.is_running(day)]

    def by_code(self, code: str) -> ReminderCampaign | None:
        return next((c for c in self.campaigns if c.code == code), None)


# --------------------------------------------------------------------------- which cards


class DueReason(StrEnum):
    LAPSED = "lapsed"  # expired inside the campaign window, not renewed
    EXPIRING = "expiring"  # expires within the campaign's expiring_within_days


@dataclass(frozen=True)
class SelectionWindow:
    """The expiry dates a campaign reminds on ``today``, as inclusive ISO-comparable ranges.

    Lapsed: ``lapsed_from <= valid_to <= lapsed_until`` (the window, capped at yesterday).
    Expiring: ``today <= valid_to <= expiring_until`` (None when the campaign has no such rule).
    """

    today: date
    lapsed_from: date
    lapsed_until: date
    expiring_until: date | None

    @property
    def has_lapsed(self) -> bool:
        return self.lapsed_from <= self.lapsed_until


def selection_window(campaign: ReminderCampaign, today: date) -> SelectionWindow:
    yesterday = today - timedelta(days=1)
    expiring_until = (
        today + timedelta(days=campaign.expiring_within_days) if campaign.expiring_within_days else None
    )
    return SelectionWindow(today, campaign.window_from, min(campaign.window_to, yesterday), expiring_until)


def card_reason(
    campaign: ReminderCampaign, valid_to: date, today: date, renewed: bool, claimed: bool
) -> DueReason | None:
    """Why a card is reminded today, or None.

    ``renewed``: an agent logged a BHYT enrolment whose period ends after ``valid_to`` (a newer
    import with a later expiry simply moves ``valid_to`` out of the window). ``claimed``: the
    person said "Tôi đã gia hạn" for this expiry and no agent has rejected it.
    """
    if renewed or claimed:
        return None
    window = selection_window(campaign, today)
    if window.lapsed_from <= valid_to <= window.lapsed_until:
        return DueReason.LAPSED
    if window.expiring_until is not None and today <= valid_to <= window.expiring_until:
        return DueReason.EXPIRING
    return None


# --------------------------------------------------------------------------- which people, when


@dataclass(frozen=True)
class Cadence:
    """At most one reminder per person per ``interval_days``, and at most ``max_count``."""

    interval_days: int = 7
    max_count: int = 3

    def next_due(self, counted: int, last_on: date | None) -> date | None:
        """The first day the next reminder may go, or None when the person had them all."""
        if counted >= self.max_count:
            return None
        if last_on is None:
            return date.min
        return last_on + timedelta(days=self.interval_days)


def is_person_due(
    cadence: Cadence,
    today: date,
    counted: int,
    last_on: date | None,
    open_row: bool,
    opted_out: bool,
    blocked: bool,
    has_due_card: bool,
) -> bool:
    """Is a linked person owed a new reminder today?

    ``counted``: reminders of this campaign that count towards the maximum (sent, or given up
    as failed).
    ``last_on``: day of the last reminder Telegram accepted, whatever the campaign.
    ``open_row``: a reminder of any campaign is already queued or going out.
    Campaigns may overlap; the interval is per person, so overlapping campaigns never send a
    person more than one reminder per ``interval_days``.
    """
    if opted_out or blocked or open_row or not has_due_card:
        return False
    due = cadence.next_due(counted, last_on)
    return due is not None and due <= today


@dataclass(frozen=True)
class Hours:
    """Local hours in which reminders may be sent: start inclusive, end exclusive."""

    start: time = time(8, 0)
    end: time = time(20, 0)

    def allows(self, moment: datetime) -> bool:
        local = moment.timetz().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # a window across midnight

    def next_opening(self, moment: datetime) -> datetime:
        """The next moment sending is allowed (``moment`` itself when it is)."""
        if self.allows(moment):
            return moment
        opening = moment.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        if opening <= moment:
            opening += timedelta(days=1)
        return opening


def backoff(attempts: int, base_seconds: float = 30.0, cap_seconds: float = 3600.0) -> timedelta:
    """Wait before retry number ``attempts`` (1, 2, ...) after a transient failure: 30 s,
    1 min, 2 min ... capped at an hour; measured on the injected clock by the job."""
    attempts = max(1, attempts)
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** (attempts - 1)))



# The Zalo OA answers a follower for free within 48 h of their last message [ZALO.md §2, Z14]:
# a reminder goes through the OA only inside that window, else by ZNS (paid) when allowed.
OA_FREE_WINDOW = timedelta(hours=48)
