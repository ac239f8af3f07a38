"""Pure rules of reminders by ZNS (Zalo template messages to phone numbers on the lists).

- which channel a reminder takes (``choose_channel``): Telegram when the person is linked
  there; else the Zalo OA when they follow it and its free window is open; else ZNS by phone
  when the operator turned ZNS on and the list has a legal basis for contact; else nobody
  (the person stays on the agents' door list);
- what a ZNS answer means for the row and for the queue (``ZnsAction``), decided by the
  adapter from Zalo's error classes (handlers/zalo/errors.py) and acted on by
  scheduler/zns.py;
- the daily quota and the night refusal as one pause of the whole ZNS queue (``ZnsPause``);
- the templates as data (``ZnsTemplates``, bot/data/zns_templates.toml): template id, each
  parameter and the reminder field that fills it, and the price of one message (integer đồng).

Nothing here reads the clock, the network or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from bot.domain.campaigns import CampaignsError
from bot.domain.rates import load_toml, validation_message
from bot.domain.reminders import Hours

__all__ = [
    "ZALO_OA",
    "ZNS",
    "ZNS_TEMPLATES_FILE",
    "ZnsAccepted",
    "ZnsAction",
    "ZnsField",
    "ZnsFailed",
    "ZnsOutcome",
    "ZnsPause",
    "ZnsTemplate",
    "ZnsTemplates",
    "ZnsTemplatesError",
    "choose_channel",
    "next_morning",
    "tracking_id",
]

ZALO_OA = "zalo_oa"
ZNS = "zns"
ZNS_TEMPLATES_FILE = "zns_templates.toml"


TRACKING_PREFIX = "bhxh-r"


def tracking_id(row_id: int) -> str:
    """The ZNS ``tracking_id`` of an outbox row: Zalo echoes it in the delivery receipt, so the
    receipt names the row (unique, and nothing personal)."""
    return f"{TRACKING_PREFIX}{row_id}"


def choose_channel(
    linked_chat: str | None, oa_follower: bool, oa_window_open: bool, zns_allowed: bool
) -> str | None:
    """The channel of one reminder, cheapest first: the chat channel the person linked their
    phone on (Telegram; free), else the Zalo OA inside its free window, else ZNS by phone
    (paid: only when ``zns_allowed``: ZNS on and the list has a legal basis), else None:
    nobody writes, the agents' door list is the way. (storage/sqlite/reminders.py and
    reminder_zns.py state the same rule in SQL for whole lists.)"""
    if linked_chat is not None and linked_chat != ZALO_OA:
        return linked_chat
    if oa_follower and oa_window_open:
        return ZALO_OA
    if zns_allowed:
        return ZNS
    return None


# --------------------------------------------------------------------------- answers


class ZnsAction(StrEnum):
    """What the ZNS queue does with one answer (the adapter maps Zalo's codes to these)."""

    RETRY_LATER = "retry_later"  # nothing sent; the row may go again later (back-off)
    NIGHT = "night"  # −133: nothing sent; the row and the queue wait for the next morning
    NEVER_RETRY = "never_retry"  # nothing sent and it never will be: 'refused', reason kept
    DAILY_LIMIT = "daily_limit"  # −144/−147: nothing sent; the queue waits for the next day
    STOP_QUEUE = "stop_queue"  # nothing sent; no row can go until a person acts
    UNKNOWN = "unknown"  # the request was written, no usable answer: NEVER resent automatically


@dataclass(frozen=True)
class ZnsAccepted:
    """Zalo accepted the message; the quota as it reported it (None when absent)."""

    msg_id: str
    remaining_quota: int | None
    daily_quota: int | None


@dataclass(frozen=True)
class ZnsFailed:
    """Zalo (or the adapter, before sending) refused, or the outcome is unknown.

    ``code``: Zalo's raw code (0 when none); ``reason``: short English, no personal data;
    ``refused_by_user``: the person refused this OA's or this type's messages (−139/−141):
    never queued again."""

    action: ZnsAction
    code: int
    reason: str
    refused_by_user: bool = False


ZnsOutcome = ZnsAccepted | ZnsFailed


def next_morning(hours: Hours, moment: datetime) -> datetime:
    """The next opening of the allowed hours strictly after ``moment``'s current stretch: today's
    opening when ``moment`` is before it, else tomorrow's (a −133 "not at night" refusal inside
    our hours means Zalo's night is longer than we thought: try again the next morning)."""
    opening = moment.replace(hour=hours.start.hour, minute=hours.start.minute, second=0, microsecond=0)
    if opening <= moment:
        opening += timedelta(days=1)
    return opening


class ZnsPause:
    """The whole ZNS queue's pause: until the next morning after the daily quota ran out (the
    answer's ``remainingQuota`` reached 0, or −144/−147) or after a night refusal.

    This is the rule and one process's view of it. The quota and Zalo's night are the OA's, not
    one process's, so scheduler/zns.py keeps the pause in the database for every instance
    (``storage.contract.ChannelPauses``): it writes each pause decided here and ``adopt``s
    the one another instance wrote. A pause only ever moves later."""

    def __init__(self, hours: Hours) -> None:
        self.hours = hours
        self.until: datetime | None = None
        self.reason: str | None = None

    def active(self, now: datetime) -> bool:
        return self.until is not None and now < self.until

    def pause_till_morning(self, now: datetime, reason: str) -> datetime:
        """Pause until the next morning after ``now`` (never earlier than a pause in force);
        returns the end of the pause."""
        self.adopt(next_morning(self.hours, now), reason)
        assert self.until is not None
        return self.until

    def adopt(self, until: datetime, reason: str) -> bool:
        """Take a pause decided elsewhere (another instance, read from the database) when it
        ends later than the one in force; returns whether it changed anything."""
        if self.until is not None and until <= self.until:
            return False
        self.until = until
        self.reason = reason
        return True

    def after_accepted(self, now: datetime, accepted: ZnsAccepted) -> bool:
        """Pause when the answer says no quota is left today; returns whether it paused."""
        if accepted.remaining_quota is not None and accepted.remaining_quota <= 0:
            self.pause_till_morning(now, "daily quota used up")
            return True
        return False


# --------------------------------------------------------------------------- templates


class ZnsField(StrEnum):
    """Reminder fields a template parameter may carry (filled by bot/chat/outbound.py)."""

    NAME = "name"  # full name of the first person due, as on the card
    NAME_MASKED = "name_masked"  # "N. T. Lan": initials, then the given name
    BHXH_MASKED = "bhxh_masked"  # "******1234": last 4 digits only
    EXPIRY_DATE = "expiry_date"  # dd/mm/yyyy of the earliest due card
    AMOUNT = "amount"  # 12 months for the household's due cards, "1.366.200 đ"
    PEOPLE = "people"  # how many cards of the household are due
    PAY_PLACE = "pay_place"  # the unit's pay points (or the unit's name)


_PARAM = re.compile(r"^[a-z][a-z0-9_]{0,29}$")  # Zalo: <snake_case>, no diacritics [ZALO.md §3]


class ZnsTemplate(BaseModel):
    """One approved template: its id and which field fills each parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]
    params: dict[str, ZnsField]

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, ZnsField]) -> dict[str, ZnsField]:
        if not 1 <= len(value) <= 10:
            raise ValueError("a template has 1 to 10 parameters (Zalo's rule)")
        for name in value:
            if not _PARAM.match(name):
                raise ValueError(f"parameter {name!r}: lower-case letters, digits and _ only (Zalo's rule)")
        return value


class ZnsTemplatesError(CampaignsError):
    """zns_templates.toml is invalid (a CampaignsError, so start-up reports it in one line)."""


class ZnsTemplates(BaseModel):
    """The operator's ZNS file: the reminder template and the price of one message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ZNS_TEMPLATES_FILE
    price_per_message: Annotated[StrictInt, Field(ge=0, le=100_000)]
    reminder: ZnsTemplate

    @classmethod
    def load(cls, path: Path | str | None = None) -> ZnsTemplates:
        """Load and validate the file (the packaged one when ``path`` is None)."""
        name, doc = load_toml(path, ZNS_TEMPLATES_FILE, ZnsTemplatesError)
        return cls.from_document(doc, name)

    @classmethod
    def from_document(cls, doc: dict[str, Any], name: str = ZNS_TEMPLATES_FILE) -> ZnsTemplates:
        try:
            return cls.model_validate({**doc, "name": name})
        except ValidationError as exc:
            raise ZnsTemplatesError(f"{name}: {validation_message(exc)}") from None
