"""The records the repositories return and take: plain values, the same for every storage engine.

They used to live in the SQLite repositories (storage/*.py), so that services, reply texts and
reports named an engine's module to speak of a unit or an enrolment. Here they are domain types:
`storage.contract` declares the repositories in their terms, each engine (SQLite today) builds
them from its rows, and nothing that reads them imports storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.domain.cards import Card
from bot.domain.roles import Member, Role

# ---- People who talked to the bot ----------------------------------------------------------------


@dataclass(frozen=True)
class ChatUser:
    """A person who wrote to the bot on a channel, as that channel named them."""

    channel: str
    user_id: int
    first_name: str
    last_name: str | None
    username: str | None


# ---- The unit tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A unit of the tree (province, district, commune, village or department) and its figures."""

    code: str
    name: str
    parent_code: str | None
    level: str
    population: int | None
    labour_force: int | None
    staff_count: int | None
    pay_points: str | None


# Columns an import may set; `code` is the key and always present.
UNIT_FIELDS = ("name", "parent_code", "level", "population", "labour_force", "staff_count", "pay_points")


@dataclass(frozen=True)
class UnitRecord:
    """One unit as an import file gives it.

    `present` names the columns the file has: a column the file lacks keeps the stored value
    (a targets-only file never blanks a population), a present but empty cell clears it.
    """

    code: str
    name: str
    parent_code: str | None = None
    level: str = ""
    population: int | None = None
    labour_force: int | None = None
    staff_count: int | None = None
    pay_points: str | None = None
    present: frozenset[str] = field(default_factory=lambda: frozenset(UNIT_FIELDS))


@dataclass(frozen=True)
class TreeImportResult:
    """What a unit-tree import changed: units created and updated, figures written."""

    created: int
    updated: int
    baselines: int
    targets: int


# ---- Unit figures: baselines and targets ---------------------------------------------------------


BASELINE_SCHEMES = ("bhyt", "bhxh_bb", "bhxh_tn", "bhtn")
TARGET_SCHEMES = ("bhyt", "bhxh", "bhxh_tn", "bhtn")


@dataclass(frozen=True)
class Baseline:
    """Participants of a unit in a scheme on a date: the base coverage is measured from."""

    unit_code: str
    scheme: str  # bhyt | bhxh_bb | bhxh_tn | bhtn
    as_of: date
    participants: int


@dataclass(frozen=True)
class Target:
    """A unit's target for a scheme and period, as a rate and/or a count."""

    unit_code: str
    scheme: str  # bhyt | bhxh | bhxh_tn | bhtn
    period: str
    target_pct: Decimal | None
    target_count: int | None


# ---- Members and their audit trail ---------------------------------------------------------------


@dataclass(frozen=True)
class AuditActor:
    """Who made a change: a member, a chat user without a member row (an admin), or the CLI."""

    member_id: int | None = None
    user_id: int | None = None
    channel: str | None = None


CLI_ACTOR = AuditActor()


@dataclass(frozen=True)
class MemberDetail:
    """A member with what lists show besides the core fields."""

    member: Member
    title: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class MemberEvent:
    """One row of a member's audit trail: what changed, from what to what, by whom, when."""

    member_id: int
    action: str
    old_value: str | None
    new_value: str | None
    actor_member_id: int | None
    actor_user_id: int | None
    at: str


# ---- Teams and monthly rosters -------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """A team of agents in a unit."""

    id: int
    code: str
    name: str
    unit_code: str


@dataclass(frozen=True)
class TeamRecord:
    """One team as a roster file gives it."""

    code: str
    name: str
    unit_code: str


@dataclass(frozen=True)
class RosterRecord:
    """One person in one team for one month ('YYYY-MM'), as a roster file lists them."""

    team_code: str
    month: str
    full_name: str
    title: str | None
    is_leader: bool


@dataclass(frozen=True)
class RosterEntry:
    """A member on a team's roster for a month."""

    member: Member
    is_leader: bool


@dataclass(frozen=True)
class RosterImportResult:
    """What a roster import changed."""

    teams_created: int
    teams_updated: int
    members_created: int
    roster_rows: int


# ---- Invites -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invite:
    """A one-time invite as stored (the code itself is never stored, only its hash)."""

    code_hash: str
    role: Role
    unit_code: str
    team_id: int | None
    member_id: int | None
    full_name: str | None
    created_by: int | None
    created_by_user: int | None
    created_at: str
    expires_at: str
    used_at: str | None
    used_by_member: int | None


@dataclass(frozen=True)
class Redeemed:
    """What an invite made of the person who used it."""

    member_id: int
    role: Role
    unit_code: str
    team_id: int | None
    claimed: bool  # True: took over a member imported from a roster


# ---- Enrolments and their audit trail ------------------------------------------------------------


STATUS_ACTIVE = "active"
STATUS_WITHDRAWN = "withdrawn"
STATUS_VOIDED = "voided"


@dataclass(frozen=True)
class NewEnrolment:
    """What a confirmed draft stores; the period is decided inside the transaction."""

    agent_id: int
    unit_code: str
    team_id: int | None
    campaign_code: str | None
    scheme: str
    participant_name: str
    participant_code: str
    code_kind: str
    months: int
    support_group: str | None
    income: int | None
    household_position: int | None
    amount_expected: int
    amount_paid: int
    amount_reason: str | None
    is_relative: bool
    created_at: datetime


@dataclass(frozen=True)
class Enrolment:
    """A logged enrolment with the period decided when it was stored; never deleted (status)."""

    id: int
    agent_id: int
    unit_code: str
    team_id: int | None
    campaign_code: str | None
    scheme: str
    participant_name: str
    participant_code: str
    code_kind: str
    months: int
    period_start: date
    period_end: date
    support_group: str | None
    income: int | None
    household_position: int | None
    amount_expected: int
    amount_paid: int
    amount_reason: str | None
    is_relative: bool
    status: str
    created_at: datetime
    created_on: date


@dataclass(frozen=True)
class EnrolmentEvent:
    """One row of an enrolment's audit trail (created, withdrawn, voided)."""

    enrolment_id: int
    action: str
    actor_member_id: int | None
    actor_user_id: int | None
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class Duplicate:
    """The active entry a new one would duplicate, with the name of the unit that logged it."""

    existing: Enrolment
    unit_name: str


@dataclass(frozen=True)
class StatusActor:
    """Who changes an entry: a member, or an admin's chat user without a member row."""

    member_id: int | None
    user_id: int | None = None
    channel: str | None = None  # the chat user's channel; None with no user_id


@dataclass(frozen=True)
class ReportRow:
    """One line of the monthly form (Phụ lục 02)."""

    enrolment_id: int
    agent_name: str
    agent_unit: str
    team_name: str | None
    participant_name: str
    participant_code: str
    scheme: str
    months: int
    amount_paid: int
    created_on: date


# The period planner gets the active entries of the same person and scheme family and returns
# either (start, end) of the new entry or the entry it duplicates.
Planner = Callable[[list[Enrolment]], "tuple[date, date] | Enrolment"]


# ---- Aggregates over enrolments ------------------------------------------------------------------

# Per-scheme counts as the queries return them: scheme -> count.
Counts = dict[str, int]


@dataclass(frozen=True)
class UnitRow:
    """A unit as tallies show it."""

    code: str
    name: str
    parent_code: str | None
    staff_count: int | None


@dataclass(frozen=True)
class AgentRow:
    """An agent's entries per scheme, with their name and unit (leaderboards)."""

    member_id: int
    full_name: str
    unit_code: str
    unit_name: str
    counts: Counts


@dataclass(frozen=True)
class TeamRow:
    """A team that competes in a month."""

    team_id: int
    code: str
    name: str
    unit_code: str


@dataclass(frozen=True)
class RelativesRow:
    """Seed 004: how many of a unit's staff brought at least one relative into each scheme."""

    unit_code: str
    staff_with_bhyt: int
    staff_with_bhxh: int


# ---- Cards linked to people, the agents' door-to-door list ---------------------------------------


@dataclass(frozen=True)
class LinkedCard:
    """A card linked to a chat user; ``own`` when it carries the phone they shared."""

    card: Card
    own: bool
    renewed: bool
    claimed: bool


@dataclass(frozen=True)
class DoorRow:
    """A line of the agents' door-to-door list."""

    card: Card
    linked: bool  # someone of the household linked Telegram
    claimed: bool  # "Tôi đã gia hạn" waiting for an agent


# ---- The reminder outbox and its figures ---------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    """A reminder waiting in the outbox: who, which campaign, the n-th reminder, attempts so far."""

    id: int
    campaign_code: str
    channel: str
    user_id: int
    seq: int
    unit_code: str | None
    attempts: int


@dataclass(frozen=True)
class ZnsRow:
    """A ZNS reminder waiting in the outbox: the phone (0xxxxxxxxx), the expiry it is about."""

    id: int
    campaign_code: str
    phone: str
    card_expiry: str | None
    unit_code: str | None
    attempts: int


@dataclass(frozen=True)
class UnknownZns:
    """A ZNS whose outcome is unknown, for an admin: the phone masked, never whole."""

    id: int
    campaign_code: str
    phone_masked: str
    unit_code: str | None
    claimed_at: str | None
    reason: str | None


@dataclass(frozen=True)
class ReminderStats:
    """Reminder figures for one unit (or a whole scope) over a period.

    ``eligible``: cards on the lists that the campaign reminds about on the last day (lapsed in
    its window or expiring soon, not renewed). ``reminded``: people a reminder was sent to
    (delivered, refused with 403, or given up after errors). ``reached``: people Telegram
    accepted a reminder for. ``blocked``: people who had blocked the bot (403). ``opted_out``: people who
    asked for no more reminders. ``renewed_after_reminder``: cards of reminded people renewed
    (an agent's enrolment or a newer list) on or after their first reminder.
    Per channel: ``by_telegram``, ``by_zalo_oa``, ``by_zns`` (reminders that went out, or may
    have); ``delivered``: ZNS whose delivery Zalo confirmed; ``refused``: reminders a channel
    refused for good (ZNS: no Zalo account, the person refused the OA...); ``unknown``: ZNS
    whose outcome is unknown (never resent; an admin checks them); ``zns_cost``: what the ZNS
    cost (integer đồng, the price in zns_templates.toml per accepted or delivered message).
    """

    eligible: int = 0
    reminded: int = 0
    reached: int = 0
    blocked: int = 0
    opted_out: int = 0
    renewed_after_reminder: int = 0
    by_telegram: int = 0
    by_zalo_oa: int = 0
    by_zns: int = 0
    delivered: int = 0
    refused: int = 0
    unknown: int = 0
    zns_cost: int = 0

    def __add__(self, other: ReminderStats) -> ReminderStats:
        return ReminderStats(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


@dataclass(frozen=True)
class ReminderCounts:
    """Totals over the scope and per unit code, for ``day_from``..``day_to`` (inclusive)."""

    day_from: date
    day_to: date
    campaign_codes: tuple[str, ...]
    total: ReminderStats
    by_unit: dict[str, ReminderStats] = field(default_factory=dict)


# ---- Officials' summaries: subscriptions and the sending ledger ----------------------------------


KIND_DAILY = "daily"
KIND_WEEKLY = "weekly"
KINDS = (KIND_DAILY, KIND_WEEKLY)
PARTS = 3  # message, chart (PNG), workbook (XLSX)
# Roles that receive summaries: officials and team leaders (and admins who hold a unit).
SUMMARY_ROLES = ("official", "team_leader", "admin")


@dataclass(frozen=True)
class SummaryPrefs:
    """Which summaries an official receives (daily on, weekly off by default)."""

    member_id: int
    daily: bool = True
    weekly: bool = False


@dataclass(frozen=True)
class Recipient:
    """A member due a summary: who, where to send it (their channel and id there), and the
    unit whose subtree it covers."""

    member_id: int
    chat_id: int
    full_name: str
    role: str
    unit_code: str
    channel: str
    parts_done: int = 0  # > 0: resuming a summary interrupted after some parts were sent


@dataclass(frozen=True)
class SummaryRun:
    """One ledger row: the (member, kind, day) summary, its status and parts sent."""

    member_id: int
    kind: str
    local_date: date
    unit_code: str
    chat_id: int
    status: str
    parts_done: int
    attempts: int
    claimed_at: str
    done_at: str | None
    error: str | None
