"""What every storage engine provides: one protocol per repository, and the bundle of them.

Services (`bot.services`) and the wiring name these protocols, never an engine's classes, so a
second engine (PostgreSQL) is a new package meeting this contract, and `tests/test_storage_contract.py`
states the behaviour each must keep: idempotent imports, duplicates refused, outbox claims and
leases, committed-only reads, the audit trail. The SQLite engine is the classes of storage/*.py
(`storage.engines.open_storage` builds it). Methods are those the services, the scheduler, the
importers and the tests call; their records are `bot.domain.records`.

Defaults written `= ...` are the engine's (today the channel a call omits).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.domain.cards import Card
from bot.domain.clock import Clock
from bot.domain.inbox import InboxStore
from bot.domain.oauth import TokenState
from bot.domain.records import (
    AgentRow,
    AuditActor,
    Baseline,
    ChatUser,
    Counts,
    DoorRow,
    Duplicate,
    Enrolment,
    EnrolmentEvent,
    Invite,
    LinkedCard,
    MemberDetail,
    MemberEvent,
    NewEnrolment,
    OutboxRow,
    Planner,
    Recipient,
    Redeemed,
    RelativesRow,
    ReminderCounts,
    ReportRow,
    RosterEntry,
    RosterImportResult,
    RosterRecord,
    StatusActor,
    SummaryPrefs,
    SummaryRun,
    Target,
    Team,
    TeamRecord,
    TeamRow,
    TreeImportResult,
    Unit,
    UnitRecord,
    UnitRow,
    UnknownZns,
    ZnsRow,
)
from bot.domain.reminders import Cadence, SelectionWindow
from bot.domain.roles import Member, Role
from bot.imports.cards import ImportCounts


class DuplicateError(Exception):
    """A write would break a uniqueness rule of the data (a second active membership for one
    chat account, a team code taken...): every engine refuses it with this error, and the
    whole write is undone. Services catch this, never an engine's own exception."""


class UserStore(Protocol):
    """People who wrote to the bot, per channel (first and last contact)."""

    async def seen(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        at: datetime,
        channel: str,
    ) -> None:
        """Record that a person wrote to the bot (first and last contact)."""
        ...

    async def get(self, user_id: int, channel: str) -> ChatUser | None:
        ...


class UnitStore(Protocol):
    """The unit tree: lookups, subtrees (an official's scope) and the all-or-nothing tree import."""

    async def get(self, code: str) -> Unit | None:
        ...

    async def children(self, code: str) -> list[Unit]:
        ...

    async def roots(self) -> list[Unit]:
        """Units without a parent (provinces, districts or cities loaded as top level)."""
        ...

    async def all(self) -> list[Unit]:
        ...

    async def all_codes(self) -> list[str]:
        """Every unit code, in order: an admin's scope."""
        ...

    async def count(self) -> int:
        ...

    async def subtree(self, code: str) -> list[Unit]:
        """The unit and everything below it, as rows (for reports and coverage)."""
        ...

    async def subtree_codes(self, code: str) -> list[str]:
        """The unit and every unit below it: an official's scope."""
        ...

    async def in_scope(self, scope_code: str, code: str) -> bool:
        """Is `code` inside the subtree of `scope_code`? (walks up from `code`)."""
        ...

    async def ancestors(self, code: str) -> list[str]:
        """Codes from the unit's parent up to the root (for breadcrumbs and checks)."""
        ...

    async def parent_map(self) -> dict[str, str | None]:
        """code -> parent code of every stored unit (imports check cycles against it)."""
        ...

    async def import_tree(
        self,
        units: Sequence[UnitRecord],
        baselines: Iterable[Baseline],
        targets: Iterable[Target],
        now: datetime,
    ) -> TreeImportResult:
        """Upsert units (given parents first), their baselines and targets, all or nothing."""
        ...


class FigureStore(Protocol):
    """Baselines and targets of units, and new participants since a baseline (coverage)."""

    async def import_targets(self, rows: Sequence[Target]) -> int:
        ...

    async def latest_baselines(self, on: date | None = None) -> list[Baseline]:
        """Per unit and scheme, the latest baseline dated on or before `on` (all when None)."""
        ...

    async def targets(self, period: str | None = None) -> list[Target]:
        """Targets of one period, or per unit and scheme those of the latest period."""
        ...

    async def new_participants(
        self, cutoffs: Sequence[tuple[str, str, date | None]]
    ) -> dict[tuple[str, str], int]:
        """Active enrolments per (unit, kind) logged after each cutoff date."""
        ...


class MemberStore(Protocol):
    """Members and their audit trail: every change writes its `member_events` row in the same transaction."""

    async def by_user(self, user_id: int, channel: str) -> Member | None:
        """The active membership of a chat user, or None (a citizen)."""
        ...

    async def get(self, member_id: int) -> Member | None:
        ...

    async def detail(self, member_id: int) -> MemberDetail | None:
        ...

    async def add(
        self,
        *,
        full_name: str,
        role: Role,
        unit_code: str,
        actor: AuditActor,
        at: datetime,
        user_id: int | None = None,
        channel: str,
        title: str | None = None,
    ) -> int:
        """Create a member (with its audit row); returns the id."""
        ...

    async def in_units(
        self, unit_codes: Sequence[str], *, offset: int = 0, limit: int = 20, active: bool = True
    ) -> list[MemberDetail]:
        """Members of the given units, ordered by unit then name (a page)."""
        ...

    async def count_in_units(self, unit_codes: Sequence[str], active: bool = True) -> int:
        ...

    async def counts_by_unit(self) -> dict[str, int]:
        """Active members per unit code (unit lists show them)."""
        ...

    async def unclaimed_in_unit(self, unit_code: str) -> list[Member]:
        """Active members without a chat account (imported from rosters), for invites."""
        ...

    async def change_role(self, member_id: int, role: Role, actor: AuditActor, at: datetime) -> bool:
        """Set the role of an active member; False when it does not exist or is inactive."""
        ...

    async def change_unit(self, member_id: int, unit_code: str, actor: AuditActor, at: datetime) -> bool:
        ...

    async def deactivate(self, member_id: int, actor: AuditActor, at: datetime) -> bool:
        """Mark a member inactive (never deleted: their enrolments keep pointing at them)."""
        ...

    async def events(self, member_id: int) -> list[MemberEvent]:
        ...


class TeamStore(Protocol):
    """Teams and their monthly rosters."""

    async def by_code(self, code: str) -> Team | None:
        ...

    async def get(self, team_id: int) -> Team | None:
        ...

    async def in_units(self, unit_codes: Sequence[str]) -> list[Team]:
        ...

    async def roster(self, team_id: int, month: str) -> list[RosterEntry]:
        """Who is in the team in a month ('YYYY-MM'), leaders first."""
        ...

    async def team_of(self, member_id: int, month: str) -> Team | None:
        """The member's team in a month (the lowest team id if rosters list them twice)."""
        ...

    async def months(self, team_id: int) -> list[str]:
        ...

    async def import_rosters(
        self,
        teams: Sequence[TeamRecord],
        roster: Sequence[RosterRecord],
        name_key: Callable[[str], str],
        now: datetime,
    ) -> RosterImportResult:
        """Upsert teams, find or create their people, and replace each (team, month) roster."""
        ...


class InviteStore(Protocol):
    """One-time invites (stored as hashes), their all-or-nothing redemption, failed attempts."""

    async def create(
        self,
        *,
        code_hash: str,
        role: Role,
        unit_code: str,
        team_id: int | None,
        member_id: int | None,
        full_name: str | None,
        created_by: int | None,
        created_by_user: int | None,
        channel: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        ...

    async def get(self, code_hash: str) -> Invite | None:
        ...

    async def redeem(
        self, code_hash: str, *, channel: str, user_id: int, display_name: str, now: datetime, month: str
    ) -> Redeemed | None:
        """Use an invite: mark it used and make the person a member, all or nothing."""
        ...

    async def record_failure(self, channel: str, user_id: int, at: datetime) -> None:
        ...

    async def failures_since(self, channel: str, user_id: int, since: datetime) -> list[str]:
        """ISO times of the user's failed attempts after `since`, oldest first."""
        ...

    async def purge_failures(self, before: datetime) -> None:
        """Forget old failures (they only matter for the throttle window)."""
        ...


class EnrolmentStore(Protocol):
    """Enrolments: duplicate check and insert in one transaction, status changes with their audit row."""

    async def add_unless_duplicate(
        self, new: NewEnrolment, family: Sequence[str], plan: Planner
    ) -> Enrolment | Duplicate:
        """Check for an overlapping active entry and insert, in one transaction."""
        ...

    async def get(self, enrolment_id: int) -> Enrolment | None:
        ...

    async def last_active_of_agent(self, agent_id: int, since: datetime) -> Enrolment | None:
        """The agent's most recent active entry logged at or after `since`."""
        ...

    async def change_status(
        self,
        enrolment_id: int,
        status: str,
        actor: StatusActor,
        reason: str | None,
        at: datetime,
        *,
        only_agent_id: int | None = None,
        logged_since: datetime | None = None,
    ) -> Enrolment | None:
        """Withdraw or void an active entry with its audit row; None if nothing matched."""
        ...

    async def events(self, enrolment_id: int) -> list[EnrolmentEvent]:
        ...

    async def report_rows(
        self,
        day_from: date,
        day_to: date,
        *,
        unit_codes: Sequence[str] | None = None,
        team_id: int | None = None,
    ) -> list[ReportRow]:
        """Active entries logged between two days (inclusive), for the monthly form."""
        ...


class TallyStore(Protocol):
    """Read-only aggregates over active enrolments."""

    async def totals(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> Counts:
        """Entries per scheme in a scope (None: every unit) between two days, inclusive."""
        ...

    async def per_unit(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> dict[str, Counts]:
        """Entries per unit (the agent's unit when logged) and scheme."""
        ...

    async def per_day(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> dict[date, Counts]:
        ...

    async def per_agent(
        self,
        unit_codes: Sequence[str] | None,
        day_from: date,
        day_to: date,
        limit: int | None = None,
    ) -> list[AgentRow]:
        """Agents by number of entries (most first), with their name and unit."""
        ...

    async def of_agent(self, agent_id: int, day_from: date, day_to: date) -> Counts:
        ...

    async def per_team(
        self, team_ids: Sequence[int], day_from: date, day_to: date
    ) -> dict[int, Counts]:
        """Entries per team (the team the agent was on when logging) and scheme."""
        ...

    async def per_agent_in_team(
        self, team_id: int, day_from: date, day_to: date
    ) -> dict[int, Counts]:
        ...

    async def teams_with_roster(self, unit_code: str, month: str) -> list[TeamRow]:
        """Teams of a unit that have a roster in the month ('YYYY-MM'): who competes then."""
        ...

    async def relatives_per_unit(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> list[RelativesRow]:
        """Distinct staff per unit with >= 1 relative enrolled in BHYT / in voluntary BHXH."""
        ...

    async def units(self, unit_codes: Sequence[str] | None) -> list[UnitRow]:
        """Name, parent and staff count of the units of a scope (None: all)."""
        ...

    async def active_members_per_unit(self, unit_codes: Sequence[str] | None) -> dict[str, int]:
        """Members per unit: the staff count when a unit's figure is missing."""
        ...

    async def unit_target_counts(
        self, unit_codes: Sequence[str] | None, period: str
    ) -> dict[str, Counts]:
        """Count targets (not rates) per unit and scheme for a period ('2026' or a campaign)."""
        ...


class CardStore(Protocol):
    """Imported cards (idempotent upsert by BHXH code), proved phones and the cards they link."""

    async def import_cards(
        self,
        cards: Sequence[Card],
        source: str,
        at: datetime,
        scope: Collection[str] | None = None,
        legal_basis: str | None = None,
    ) -> ImportCounts:
        """Upsert by BHXH code in one transaction; unchanged rows are not touched.
        ``legal_basis`` is recorded on every card of the file (None clears it): only cards with
        one may be sent ZNS."""
        ...

    async def cards_of_phones(self, phones: Sequence[str]) -> dict[str, list[LinkedCard]]:
        """The cards a ZNS to each phone is about: the phone's cards and their households'."""
        ...

    async def get(self, bhxh_code: str) -> Card | None:
        ...

    async def count(self) -> int:
        ...

    async def known_units(self, codes: Iterable[str]) -> set[str]:
        """Which of these unit codes exist in the unit tree."""
        ...

    async def cards_with_phone(self, phone: str) -> int:
        ...

    async def link_phone(self, user_id: int, phone: str, at: datetime, channel: str) -> None:
        """Remember the phone a person proved (replacing an earlier one)."""
        ...

    async def link_phones(self, links: Sequence[tuple[int, str]], at: datetime, channel: str) -> None:
        """Many (user id, phone) links at once (demo data, benchmarks)."""
        ...

    async def phone_of(self, user_id: int, channel: str) -> str | None:
        ...

    async def linked_cards(self, user_id: int, channel: str) -> list[LinkedCard]:
        """Every card linked to the person, own cards first, then by household and name."""
        ...

    async def linked_cards_many(
        self, user_ids: Sequence[int], channel: str
    ) -> dict[int, list[LinkedCard]]:
        """``linked_cards`` for many people in one query (the reminder job reads a batch)."""
        ...

    async def first_names(self, user_ids: Sequence[int], channel: str) -> dict[int, str]:
        """Telegram first names of people who wrote to the bot (table chat_users, read only)."""
        ...

    async def resume_reminders(self, user_id: int, at: datetime, channel: str) -> bool:
        """/nhac: clear the person's opt-out and their recorded block in ONE transaction."""
        ...

    async def lapsed_in_units(self, unit_codes: Sequence[str] | None, today: date) -> list[DoorRow]:
        """Lapsed, unrenewed cards of these units (None: every card), oldest lapse first."""
        ...


class ReminderStore(Protocol):
    """Reminder opt-outs, blocks, renewal claims and the outbox (queue, claim, record once)."""

    async def set_opted_out(self, user_id: int, opted_out: bool, at: datetime, channel: str) -> bool:
        """Record the choice; returns whether it changed anything."""
        ...

    async def is_opted_out(self, user_id: int, channel: str) -> bool:
        ...

    async def is_blocked(self, user_id: int, channel: str) -> bool:
        ...

    async def add_claims(
        self, user_id: int, cards: Sequence[tuple[str, date]], at: datetime, channel: str
    ) -> int:
        """"Tôi đã gia hạn" for these (BHXH code, expiry) pairs; returns how many were new."""
        ...

    async def drop_pending_claims(self, user_id: int, channel: str) -> int:
        """The person pressed "Tôi đã gia hạn" by mistake: forget claims no agent decided."""
        ...

    async def queue_due(
        self, campaign_code: str, window: SelectionWindow, cadence: Cadence, now: datetime
    ) -> int:
        """Queue one campaign's due people (``queue_due_all`` with that campaign alone)."""
        ...

    async def queue_due_all(
        self, campaigns: Sequence[tuple[str, SelectionWindow]], cadence: Cadence, now: datetime
    ) -> int:
        """Queue one reminder for every linked person now due; returns how many were queued."""
        ...

    async def recover_sending(self, now: datetime) -> int:
        """Chat rows left 'sending' whose lease ended by ``now`` (their process died during the
        request) go back to 'pending' and are sent again (at least once: see
        scheduler/reminders.py); rows another live instance holds are left alone."""
        ...

    async def skip_pending_outside(self, running: Sequence[str], at: datetime) -> int:
        """Pending rows of campaigns no longer running are dropped (counted as skipped)."""
        ...

    async def next_pending(self, now: datetime, after_id: int = 0, limit: int = 200) -> list[OutboxRow]:
        """Pending rows whose retry time has come, oldest first."""
        ...

    async def claim(
        self, row_id: int, attempt_id: str, now: datetime, lease_until: datetime | None = None, owner: str | None = None
    ) -> str:
        """Mark the row 'sending' right before the request, held by ``owner`` until
        ``lease_until`` (None: no lease, recoverable at once); returns 'claimed', or why not
        ('opted_out', 'blocked', 'gone'). Opt-outs and blocks are checked in the same
        transaction, so a person who opted out a moment ago is never messaged."""
        ...

    async def finish(
        self,
        row_id: int,
        attempt_id: str,
        status: str,
        now: datetime,
        message_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Record the outcome of the claimed attempt: sent, blocked, failed or skipped."""
        ...

    async def retry_later(self, row_id: int, attempt_id: str, next_at: datetime, error: str) -> bool:
        """A transient failure: back to 'pending', not before ``next_at``."""
        ...

    async def hold_pending(self, row_ids: Sequence[int], reason: str) -> int:
        """Rows that cannot go now (their channel has no sender) stay 'pending' with ``reason``
        as their error, so they are visible and go once the channel is configured; returns how
        many changed (rows already holding that reason are not written again)."""
        ...

    async def status_counts(self) -> dict[str, int]:
        ...

    # ---- ZNS rows of the same outbox (storage/sqlite/reminder_zns.py states the guarantees)

    async def queue_zns(self, campaigns: Sequence[tuple[str, SelectionWindow]], now: datetime) -> int:
        """Queue one ZNS per phone of a legal-basis list with a due card that no chat reminder
        covers, whose owner neither opted out nor refused the OA, and with no reminder about
        that expiry (any channel) yet; returns how many were queued."""
        ...

    async def next_pending_zns(self, now: datetime, after_id: int = 0, limit: int = 200) -> list[ZnsRow]:
        """Pending ZNS rows whose time has come, oldest first."""
        ...

    async def claim_zns(
        self, row_id: int, attempt_id: str, now: datetime, lease_until: datetime | None = None, owner: str | None = None
    ) -> str:
        """'sending' with attempt and tracking id, held by ``owner`` until ``lease_until``,
        committed before the request: 'claimed', or why not ('gone', 'opted_out', 'linked')."""
        ...

    async def finish_zns(
        self,
        row_id: int,
        attempt_id: str,
        status: str,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
        error_class: str | None = None,
        cost: int = 0,
    ) -> bool:
        """Record the claimed attempt's outcome once ('sent', 'unknown', 'refused', 'failed')."""
        ...

    async def retry_zns(
        self, row_id: int, attempt_id: str, next_at: datetime, error: str, error_class: str, counted: bool = True
    ) -> bool:
        """Nothing was sent: back to 'pending', not before ``next_at``, the reason kept;
        ``counted`` False: the attempt does not count towards giving the row up."""
        ...

    async def settle_interrupted_zns(self, now: datetime) -> int:
        """ZNS rows left 'sending' whose lease ended by ``now`` (a dead process's) become
        'unknown' (never 'pending')."""
        ...

    async def reconcile_receipt(
        self, tracking: str | None, msg_id: str | None, delivered_at: datetime, cost: int
    ) -> bool:
        """Zalo's delivery receipt settles the row it names: 'delivered'."""
        ...

    async def unknown_zns(self, limit: int = 500) -> list[UnknownZns]:
        """ZNS rows whose outcome is unknown, oldest first, phones masked (for an admin)."""
        ...

    async def zns_backlog(self) -> int:
        """ZNS rows still waiting to go."""
        ...

    async def units_with_reminders(self) -> list[tuple[str]]:
        """Unit codes that have reminder rows."""
        ...

    async def record_follower(self, user_id: int, following: bool, at: datetime) -> None:
        """A Zalo OA follow or unfollow of the person our tables call ``user_id``."""
        ...

    async def record_interaction(self, user_id: int, at: datetime) -> None:
        """The person wrote to the Zalo OA at ``at`` (the free window opens again)."""
        ...

    async def history(self, user_id: int, channel: str) -> list[tuple[str, int, str, str | None]]:
        """(campaign, seq, status, done_on) of a person's reminders, oldest first."""
        ...

    async def reminder_counts(
        self,
        scope_codes: Sequence[str],
        day_from: date,
        day_to: date,
        campaign_codes: Sequence[str],
        windows: Sequence[SelectionWindow],
    ) -> ReminderCounts:
        """Figures per unit for the campaigns given; ``windows`` (one per campaign, as of ``day_to``) define who is eligible (a card in several windows counts once)."""
        ...


class SummaryStore(Protocol):
    """Officials' summary subscriptions and the exactly-once sending ledger."""

    async def prefs(self, member_id: int) -> SummaryPrefs:
        ...

    async def set_pref(self, member_id: int, kind: str, on: bool, at: datetime) -> SummaryPrefs:
        """Turn the daily summary or the weekly digest on or off; returns the new prefs."""
        ...

    async def due(self, kind: str, day: date, limit: int | None = None) -> list[Recipient]:
        """Subscribed officials and team leaders without a finished summary of `kind` for `day`."""
        ...

    async def claim(
        self,
        recipient: Recipient,
        kind: str,
        day: date,
        at: datetime,
        lease_until: datetime | None = None,
        owner: str | None = None,
    ) -> int | None:
        """Claim the (member, kind, day) summary for ``owner`` until ``lease_until``; returns the
        parts already done, or None when it is not ours to send (already sent, in flight,
        uncertain or failed, or held by another owner whose lease has not ended)."""
        ...

    async def start_part(
        self, member_id: int, kind: str, day: date, part: int, lease_until: datetime | None = None
    ) -> bool:
        """Mark one part in flight right before its request (the lease renewed to
        ``lease_until``); False if the row moved on."""
        ...

    async def release(self, member_id: int, kind: str, day: date, owner: str | None) -> None:
        """``owner`` stops working on a run it left resumable: its lease ends now."""
        ...

    async def part_done(
        self, member_id: int, kind: str, day: date, part: int, at: datetime
    ) -> None:
        """Record a delivered part; the last one finishes the run."""
        ...

    async def part_retry(self, member_id: int, kind: str, day: date, error: str) -> None:
        """The request certainly did not go out (Telegram said retry later): due again."""
        ...

    async def hold(self, member_id: int, kind: str, day: date, reason: str) -> None:
        """A claimed run that cannot be sent now (no sender for the member's channel): it stays
        'claimed' (due again every round) with `reason` as its error, so it is visible."""
        ...

    async def finish(
        self, member_id: int, kind: str, day: date, status: str, error: str | None, at: datetime
    ) -> None:
        """End a run as failed or uncertain (never re-sent that day)."""
        ...

    async def part_uncertain(
        self, member_id: int, kind: str, day: date, part: int, error: str, at: datetime
    ) -> None:
        """A part whose request may or may not have arrived: count it as done (never re-sent) and let the run go on with the next part; after the last part the run is `uncertain`."""
        ...

    async def recover_interrupted(self, at: datetime) -> int:
        """Parts left `sending` whose lease ended by `at` (a dead process's): done, uncertain."""
        ...

    async def runs(self, day: date, kind: str | None = None) -> list[SummaryRun]:
        ...



class SessionStore(Protocol):
    """What a conversation remembers between messages (bot/chat/sessions.py), per person and
    session name: read all of one person's at once, write one turn's changes in one transaction."""

    async def get(self, channel: str, user_id: int, name: str) -> dict[str, Any] | None: ...

    async def all(self, channel: str, user_id: int) -> dict[str, dict[str, Any]]: ...

    async def write(
        self, channel: str, user_id: int, changes: dict[str, dict[str, Any] | None], at: datetime
    ) -> None: ...



class IdentityStore(Protocol):
    """The integer user id of a person whose channel id is text; one per (channel, id), stable."""

    async def user_id(self, channel: str, external_id: str, at: datetime) -> int: ...

    async def external_id(self, channel: str, user_id: int) -> str | None: ...


class RateBudget(Protocol):
    """Evenly paced streams of sends shared by every instance on one database: a channel's
    overall stream, and one per chat for bulk sends."""

    async def reserve_send(self, stream: str, spacing: float) -> float:
        """Reserve the next release of `stream`: `spacing` seconds after the one reserved before
        it (by any instance), or now when that is past. Returns the seconds to wait until it,
        measured on the database's clock, so instances whose clocks disagree share one pace."""
        ...

    async def admit_send(self, stream: str, limit: int, window: float) -> float:
        """Admit one send of `stream` now, right before its request: when fewer than `limit`
        sends of the stream were admitted (by any instance) in the last `window` seconds of
        the database's clock, count this one and return 0; otherwise count nothing and return
        the seconds until the oldest of those leaves the window. The hard rule behind the
        pace: releases that bunch up (a stalled instance) still keep the limit together."""
        ...

    async def purge_sends(self, idle_for: float) -> int:
        """Forget the streams whose last release is more than `idle_for` seconds past (a chat's
        stream after a fan-out); returns how many. A forgotten stream starts again from now."""
        ...


class ChannelPauses(Protocol):
    """A channel's sends paused for every instance on one database (ZNS after Zalo's daily
    quota ran out or a night refusal): whichever instance learns of it first pauses them all,
    so the others do not each spend a refused request to learn it. The rule of when and how
    long is the domain's (bot/domain/zns.py); this only keeps it."""

    async def pause_channel(self, channel: str, until: datetime, reason: str) -> datetime:
        """Pause `channel` until `until` (an aware datetime; kept in UTC) with `reason` (short
        English, nothing personal). A pause only ever moves later: when one until a later time
        is already kept, it stays, with its reason. Returns the end of the pause in force."""
        ...

    async def channel_paused_until(self, channel: str, now: datetime) -> tuple[datetime, str] | None:
        """The pause of `channel` in force at `now`: (its end, in UTC; its reason), or None when
        there is none or it ended at or before `now`. One primary-key read."""
        ...


class CoordinationStore(ChannelPauses, Protocol):
    """What instances sharing one database coordinate through: the send paces (`RateBudget`),
    the channels' pauses (`ChannelPauses`), and which instance runs each tick of a scheduled
    job."""

    async def reserve_send(self, stream: str, spacing: float) -> float:
        """See `RateBudget.reserve_send`."""
        ...

    async def admit_send(self, stream: str, limit: int, window: float) -> float:
        """See `RateBudget.admit_send`."""
        ...

    async def purge_sends(self, idle_for: float) -> int:
        """See `RateBudget.purge_sends`."""
        ...

    async def claim_tick(self, job: str, tick: int, instance: str, keep: int) -> bool:
        """True for the one caller that claims (`job`, `tick`) first, in any instance; False
        for every later one. Claims of `job` more than `keep` ticks older are purged."""
        ...


class ZaloTokenStore(Protocol):
    """Where the Zalo OA's current token pair lives across restarts and instances (the
    structure `handlers.zalo.tokens.TokenStore` asks for): storage/*/zalo_tokens.py."""

    async def load(self) -> TokenState | None: ...

    async def save(self, state: TokenState) -> None: ...


class Storage(Protocol):
    """Every repository of one engine over one database, and its lifecycle.

    `connect` opens the database and brings its schema up to date (idempotent); `close` releases
    it. Repositories each keep their own guarantees (a multi-row write is one transaction);
    reads outside a write see committed data only.
    """

    engine: str  # "sqlite", ...
    users: UserStore
    units: UnitStore
    figures: FigureStore
    members: MemberStore
    teams: TeamStore
    invites: InviteStore
    enrolments: EnrolmentStore
    tallies: TallyStore
    cards: CardStore
    reminders: ReminderStore
    summaries: SummaryStore
    sessions: SessionStore
    identities: IdentityStore
    inbox: InboxStore
    coordination: CoordinationStore

    @property
    def files_beside(self) -> Path | None:
        """The folder the database's own file sits in (SQLite), where the bot keeps its files
        unless FILES_DIR says otherwise; None for a server (PostgreSQL)."""
        ...

    def zalo_tokens(self, app_id: str, clock: Clock, seed: str | None) -> ZaloTokenStore:
        """The store of Zalo app `app_id`'s token pair in this database; `seed` is the configured
        ZALO_REFRESH_TOKEN (a stored pair descending from another seed is not loaded)."""
        ...

    async def connect(self) -> None:
        ...

    async def close(self) -> None:
        ...
