"""Repository of reminders: opt-outs, blocks, the SQLite outbox, renewal claims and counts.

The outbox is what makes the fan-out restart-safe. Each reminder is a row, unique per
(campaign, person, n-th reminder), so selecting twice queues nothing twice. A row is claimed
('sending', with an attempt id) in its own committed transaction right before the request and
marked 'sent' right after; the claim records the instance and a lease (migration 0043), and
see scheduler/reminders.py for what a later round does with a row left in 'sending' once its
lease ended.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, date, datetime

import aiosqlite

from bot.domain.records import OutboxRow, ReminderCounts, ReminderStats
from bot.domain.reminders import OA_FREE_WINDOW, Cadence, SelectionWindow
from storage.sqlite.cards import CLAIMED_SQL, RENEWED_SQL
from storage.sqlite.db import Database
from storage.sqlite.reminder_zns import OA_CLOSED_SQL, ZnsOutboxMixin

# Statuses that mean "a reminder went out, or may have".
_ATTEMPTED = "('sent', 'delivered', 'unknown', 'blocked', 'failed')"
_PERSON = "channel || ':' || COALESCE(CAST(user_id AS TEXT), phone)"
# The outbox figures of `reminder_counts`, each of them the people (distinct `_PERSON`) whose
# rows of the span have one of these statuses.
OUTCOMES = (
    ("reminded", _ATTEMPTED), ("reached", "('sent', 'delivered')"), ("blocked", "('blocked')"),
    ("delivered", "('delivered')"), ("refused", "('refused')"), ("unknown", "('unknown')"),
)
# Every status some outbox figure counts.
_COUNTED = "('sent', 'delivered', 'unknown', 'blocked', 'failed', 'refused')"


def outbox_counts_sql(where: str) -> str:
    """All the outbox figures in one pass over the rows ``where`` selects (the engine's own
    parameters; the scope, campaigns and span), not one pass per figure: the rows are first
    grouped per person (unit, channel, the person's id or phone: `_PERSON`) with a flag per
    outcome, then the flags are added up per unit and channel, with the cost of what went
    out. One grouping replaces a COUNT(DISTINCT) per figure. A person's key begins with the
    channel, so a unit's people are the sum of its channels' people."""
    flags = ", ".join(f"MAX(CASE WHEN status IN {statuses} THEN 1 ELSE 0 END) AS f{i}"
                      for i, (_, statuses) in enumerate(OUTCOMES))
    sums = ", ".join(f"SUM(f{i})" for i in range(len(OUTCOMES)))
    return (
        f"SELECT unit_code, channel, {sums}, SUM(cost) FROM ("
        f" SELECT unit_code, channel, {flags}, SUM(CASE WHEN status IN {_ATTEMPTED} THEN cost ELSE 0 END) AS cost"
        f" FROM reminder_outbox WHERE status IN {_COUNTED} AND {where}"
        " GROUP BY unit_code, channel, COALESCE(CAST(user_id AS TEXT), phone)) AS people"
        " GROUP BY unit_code, channel"
    )


_BY_CHANNEL = {f.name for f in fields(ReminderStats) if f.name.startswith("by_")}


def add_outbox_counts(figures: dict[str, dict[str, int]], rows: Sequence[Sequence[object]]) -> None:
    """Add the rows of `outbox_counts_sql` (unit, channel, one count per outcome, cost) to
    `figures` (unit -> figure -> value): the outcomes summed over the channels, the people
    reminded per channel (``by_<channel>``), and the ZNS cost."""
    for row in rows:
        unit, channel, counts, cost = str(row[0]), str(row[1]), row[2:-1], row[-1]
        unit_figures = figures.setdefault(unit, {})
        for (name, _), value in zip(OUTCOMES, counts, strict=True):
            unit_figures[name] = unit_figures.get(name, 0) + int(value)  # type: ignore[call-overload]
        if f"by_{channel}" in _BY_CHANNEL:
            unit_figures[f"by_{channel}"] = int(counts[0])  # type: ignore[call-overload]
        if channel == "zns":
            unit_figures["zns_cost"] = int(cost or 0)  # type: ignore[call-overload]


# A claim's lease has ended (the one parameter: now, UTC ISO); NULL: claimed without a lease.
LEASE_ENDED = "(lease_until IS NULL OR lease_until <= ?)"

# The cost of the two figures below follows the scope and the span, not the tables: they
# start from the span's opt-outs and from the scope's cards (index-backed), and follow a
# person's links by hand (contact_phones -> cards by phone -> the household), because the
# `card_links` view is a UNION that SQLite materializes whole (every link of every card)
# before it can filter it. A person's (or a card's) links are exactly the view's: a card is
# linked to whoever verified its phone or the phone of a card of the same household.

# Opt-outs in the span (day_from, day_to), by the unit of the person (the least unit code of
# their linked cards; a person without links has none), for the scope (JSON array).
OPTED_OUT_SQL = (
    "SELECT unit_code, COUNT(*) FROM ("
    " SELECT (SELECT MIN(m.unit_code) FROM contact_phones cp JOIN cards c ON c.phone = cp.phone"
    "         JOIN cards m ON (m.bhxh_code = c.bhxh_code OR m.household_code = c.household_code)"
    "         WHERE cp.channel = p.channel AND cp.user_id = p.user_id) AS unit_code"
    " FROM reminder_prefs p WHERE p.opted_out = 1 AND p.changed_on BETWEEN ? AND ?)"
    " WHERE unit_code IN (SELECT value FROM json_each(?)) GROUP BY unit_code"
)
# Cards of the scope (JSON array) renewed in the span (an active household or supported BHYT
# entry for the card, or an expiry change; day_from, day_to twice) on or after the first day a
# reminder of the campaigns (JSON array) was sent to someone linked to the card. A card's
# latest renewal in the span is on or after that day exactly when one of its renewals is.
# The renewed cards' figure, once they are found (`renewed`: unit_code, bhxh_code,
# household_code, last_on = the card's latest renewal in the span, '' when none).
_RENEWED_AFTER_TAIL = (
    " SELECT r.unit_code, COUNT(*) FROM renewed r WHERE r.last_on > '' AND r.last_on >= ("
    "   SELECT MIN(o.done_on) FROM cards h CROSS JOIN contact_phones cp CROSS JOIN reminder_outbox o"
    "   WHERE (h.bhxh_code = r.bhxh_code OR h.household_code = r.household_code) AND cp.phone = h.phone"
    "   AND o.channel = cp.channel AND o.user_id = cp.user_id AND o.status = 'sent'"
    "   AND o.campaign_code IN (SELECT value FROM json_each(?)))"
    " GROUP BY r.unit_code"
)
# Starting from the scope's cards: two index probes per card (its renewals in the span). The
# cheaper way when the scope has fewer cards than the span has renewals (a commune, a district).
RENEWED_AFTER_SQL = (
    "WITH renewed AS (SELECT c.unit_code, c.bhxh_code, c.household_code,"
    "   MAX(COALESCE((SELECT MAX(e.created_on) FROM enrolments e WHERE e.participant_code = c.bhxh_code"
    "                 AND e.status = 'active' AND e.scheme IN ('bhyt_household', 'bhyt_supported')"
    "                 AND e.created_on BETWEEN ? AND ?), ''),"
    "       COALESCE((SELECT MAX(x.changed_on) FROM card_expiry_changes x WHERE x.bhxh_code = c.bhxh_code"
    "                 AND x.changed_on BETWEEN ? AND ?), '')) AS last_on"
    "   FROM cards c WHERE c.unit_code IN (SELECT value FROM json_each(?)))"
    + _RENEWED_AFTER_TAIL
)
# The same figure starting from the span's renewals (an index range each), one card looked up
# per renewal and kept when in the scope: the cheaper way when the scope has more cards than
# the span has renewals (a province of 200,000 cards, probed twice each: 1,2 s of a 1,4 s gather
# on SQLite, against a few thousand renewals). The same parameters in the same order.
RENEWED_AFTER_FROM_RENEWALS_SQL = (
    "WITH rn AS (SELECT e.participant_code AS code, e.created_on AS day FROM enrolments e"
    "   WHERE e.status = 'active' AND e.scheme IN ('bhyt_household', 'bhyt_supported')"
    "   AND e.created_on BETWEEN ? AND ?"
    "   UNION ALL SELECT x.bhxh_code, x.changed_on FROM card_expiry_changes x WHERE x.changed_on BETWEEN ? AND ?),"
    " renewed AS (SELECT c.unit_code, c.bhxh_code, c.household_code, MAX(rn.day) AS last_on"
    "   FROM rn CROSS JOIN cards c ON c.bhxh_code = rn.code"
    "   WHERE c.unit_code IN (SELECT value FROM json_each(?)) GROUP BY c.bhxh_code)"
    + _RENEWED_AFTER_TAIL
)
# Which of the two is cheaper: the span's renewals and the scope's cards (counted no further
# than one past the renewals), both on covering indexes (enrolments_active_day,
# card_expiry_changes_day; cards_unit_valid_to). Parameters: the span twice, then the scope.
RENEWED_AFTER_SIZES_SQL = (
    "WITH n AS (SELECT (SELECT COUNT(*) FROM enrolments e WHERE e.status = 'active'"
    "   AND e.scheme IN ('bhyt_household', 'bhyt_supported') AND e.created_on BETWEEN ? AND ?)"
    "   + (SELECT COUNT(*) FROM card_expiry_changes x WHERE x.changed_on BETWEEN ? AND ?) AS renewals)"
    " SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM cards c WHERE c.unit_code IN (SELECT value FROM json_each(?))"
    "   LIMIT (SELECT renewals FROM n) + 1)), renewals FROM n"
)


def _utc(moment: datetime) -> str:
    """Aware datetimes stored for comparison are UTC ISO text (compares as text)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _local(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def lease_text(lease_until: datetime | None) -> str | None:
    """A lease's end as stored (UTC ISO text, compared as text), or None: no lease."""
    return None if lease_until is None else _utc(lease_until)


class ReminderRepository(ZnsOutboxMixin):
    def __init__(self, db: Database) -> None:
        self.db = db

    # ----------------------------------------------------------------- preferences

    async def set_opted_out(self, user_id: int, opted_out: bool, at: datetime, channel: str) -> bool:
        """Record the choice; returns whether it changed anything."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT opted_out FROM reminder_prefs WHERE channel = ? AND user_id = ?", (channel, user_id)
            ) as cur:
                row = await cur.fetchone()
            if row is not None and bool(row[0]) == opted_out:
                return False
            if row is None and not opted_out:
                return False
            await conn.execute(
                "INSERT INTO reminder_prefs(channel, user_id, opted_out, changed_at, changed_on)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(channel, user_id) DO UPDATE SET"
                " opted_out = excluded.opted_out, changed_at = excluded.changed_at,"
                " changed_on = excluded.changed_on",
                (channel, user_id, int(opted_out), _local(at), at.date().isoformat()),
            )
            if opted_out:
                await conn.execute(
                    "UPDATE reminder_outbox SET status = 'skipped', error = 'opted_out', done_at = ?,"
                    " done_on = ? WHERE channel = ? AND user_id = ? AND status = 'pending'",
                    (_local(at), at.date().isoformat(), channel, user_id),
                )
            return True

    async def is_opted_out(self, user_id: int, channel: str) -> bool:
        value = await self.db.fetchval(
            "SELECT opted_out FROM reminder_prefs WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        return bool(value)

    async def is_blocked(self, user_id: int, channel: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM reminder_blocks WHERE channel = ? AND user_id = ? AND cleared_at IS NULL",
            (channel, user_id),
        )
        return row is not None

    async def clear_block(self, user_id: int, at: datetime, channel: str) -> bool:
        """The person came back and asked for reminders (/nhac): they unblocked the bot."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_blocks SET cleared_at = ? WHERE channel = ? AND user_id = ?"
                " AND cleared_at IS NULL",
                (_local(at), channel, user_id),
            )
            return cur.rowcount > 0

    # ----------------------------------------------------------------- claims

    async def add_claims(
        self, user_id: int, cards: Sequence[tuple[str, date]], at: datetime, channel: str
    ) -> int:
        """"Tôi đã gia hạn" for these (BHXH code, expiry) pairs; returns how many were new."""
        async with self.db.transaction() as conn:
            before = conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO renewal_claims(channel, user_id, bhxh_code, card_valid_to,"
                " claimed_at, claimed_on) VALUES (?, ?, ?, ?, ?, ?)",
                [(channel, user_id, code, valid_to.isoformat(), _local(at), at.date().isoformat())
                 for code, valid_to in cards],
            )
            added = conn.total_changes - before
            await conn.execute(
                "UPDATE reminder_outbox SET status = 'skipped', error = 'claimed', done_at = ?,"
                " done_on = ? WHERE channel = ? AND user_id = ? AND status = 'pending'",
                (_local(at), at.date().isoformat(), channel, user_id),
            )
        return added

    async def drop_pending_claims(self, user_id: int, channel: str) -> int:
        """The person pressed "Tôi đã gia hạn" by mistake: forget claims no agent decided."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM renewal_claims WHERE channel = ? AND user_id = ? AND status = 'pending'",
                (channel, user_id),
            )
            return cur.rowcount

    # ----------------------------------------------------------------- selection

    async def queue_due(
        self, campaign_code: str, window: SelectionWindow, cadence: Cadence, now: datetime
    ) -> int:
        """Queue one campaign's due people (``queue_due_all`` with that campaign alone)."""
        return await self.queue_due_all([(campaign_code, window)], cadence, now)

    async def queue_due_all(
        self, campaigns: Sequence[tuple[str, SelectionWindow]], cadence: Cadence, now: datetime
    ) -> int:
        """Queue one reminder for every linked person now due; returns how many were queued.

        The SQL states the rules of ``bot.domain.reminders.card_reason`` and ``is_person_due``
        (a test checks they agree): a person is due in a campaign when a linked card lapsed in
        its window or expires soon, is neither renewed nor claimed, the person neither opted
        out nor blocked the bot, they had fewer than ``max_count`` reminders of that campaign,
        and - whatever the campaign - nothing is queued or going out to them and their last
        reminder was at least ``interval_days`` ago.

        Campaigns may overlap (a card lapsed in September is in a yearly campaign and in a
        Q4 push): the interval and the open-row check are per person across campaigns, and the
        campaigns are queued in order in one transaction, each seeing the rows the previous one
        queued, so one round queues at most one reminder per person (the first campaign of
        reminders.toml that covers them).
        """
        queued = 0
        async with self.db.transaction() as conn:
            for campaign_code, window in campaigns:
                queued += await self._queue_one(conn, campaign_code, window, cadence, now)
        return queued

    @staticmethod
    async def _queue_one(
        conn: aiosqlite.Connection, campaign_code: str, window: SelectionWindow, cadence: Cadence, now: datetime
    ) -> int:
        today = window.today
        last_allowed = date.fromordinal(max(1, today.toordinal() - cadence.interval_days)).isoformat()
        params = {
            "campaign": campaign_code,
            "lf": window.lapsed_from.isoformat(),
            "lu": window.lapsed_until.isoformat(),
            "today": today.isoformat(),
            "eu": window.expiring_until.isoformat() if window.expiring_until else None,
            "max": cadence.max_count,
            "last_allowed": last_allowed,
            "now": _local(now),
        }
        oa_open_from = _utc(now - OA_FREE_WINDOW)
        cur = await conn.execute(
            "INSERT INTO reminder_outbox(campaign_code, channel, user_id, person_key, card_expiry, seq,"
            " unit_code, queued_at, queued_on)"
            " SELECT :campaign, d.channel, d.user_id, d.person_key, d.card_expiry,"
            " COALESCE(h.rows_all, 0) + 1, d.unit_code, :now, :today"
            " FROM (SELECT l.channel AS channel, l.user_id AS user_id, MIN(c.unit_code) AS unit_code,"
            "       MIN(c.valid_to) AS card_expiry,"
            "       COALESCE(MIN(cp.phone), l.channel || ':' || CAST(l.user_id AS TEXT)) AS person_key"
            "       FROM card_links l JOIN cards c ON c.bhxh_code = l.bhxh_code"
            "       LEFT JOIN contact_phones cp ON cp.channel = l.channel AND cp.user_id = l.user_id"
            "       WHERE ((c.valid_to BETWEEN :lf AND :lu)"
            "              OR (:eu IS NOT NULL AND c.valid_to BETWEEN :today AND :eu))"
            f"        AND NOT {RENEWED_SQL} AND NOT {CLAIMED_SQL}"
            f"        AND (l.channel <> 'zalo_oa' OR NOT {OA_CLOSED_SQL.format(user='l.user_id')})"
            "       GROUP BY l.channel, l.user_id) d"
            # Per campaign: the n-th reminder of this campaign, and the maximum count.
            " LEFT JOIN (SELECT channel, user_id, COUNT(*) AS rows_all,"
            "            SUM(CASE WHEN status IN ('sent', 'failed') THEN 1 ELSE 0 END) AS counted"
            "            FROM reminder_outbox WHERE campaign_code = :campaign AND user_id IS NOT NULL"
            "            GROUP BY channel, user_id) h"
            "   ON h.channel = d.channel AND h.user_id = d.user_id"
            # Per person, whatever the campaign: the interval and the open row.
            " LEFT JOIN (SELECT channel, user_id,"
            "            MAX(CASE WHEN status = 'sent' THEN done_on END) AS last_on,"
            "            SUM(CASE WHEN status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS open_rows"
            "            FROM reminder_outbox WHERE user_id IS NOT NULL GROUP BY channel, user_id) p"
            "   ON p.channel = d.channel AND p.user_id = d.user_id"
            " WHERE COALESCE(p.open_rows, 0) = 0"
            "   AND COALESCE(h.counted, 0) < :max"
            "   AND (p.last_on IS NULL OR p.last_on <= :last_allowed)"
            "   AND NOT EXISTS (SELECT 1 FROM reminder_prefs r WHERE r.channel = d.channel"
            "                   AND r.user_id = d.user_id AND r.opted_out = 1)"
            "   AND NOT EXISTS (SELECT 1 FROM reminder_blocks b WHERE b.channel = d.channel"
            "                   AND b.user_id = d.user_id AND b.cleared_at IS NULL)"
            # The Zalo OA last: a person linked on another chat channel too is reminded there,
            # their Zalo row then meets the (person, expiry, step) key and is not queued.
            " ORDER BY CASE WHEN d.channel = 'zalo_oa' THEN 1 ELSE 0 END, d.user_id"
            " ON CONFLICT DO NOTHING",
            {**params, "oa_open_from": oa_open_from},
        )
        return int(cur.rowcount)

    # ----------------------------------------------------------------- sending

    async def recover_sending(self, now: datetime) -> int:
        """Rows left 'sending' whose lease ended by ``now`` go back to 'pending' and are sent
        again (at least once: see scheduler/reminders.py). A lease outlives any request of a
        live process (scheduler/leases.py), so these belong to a process that died during
        their request; another instance's rows in flight are left alone."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = 'pending', error = 'interrupted'"
                f" WHERE status = 'sending' AND channel <> 'zns' AND {LEASE_ENDED}",
                (_utc(now),),
            )
            return cur.rowcount

    async def settle_interrupted_zns(self, now: datetime) -> int:
        """ZNS rows left 'sending' by a process that died during their request become
        'unknown': the request may have been written, and a second ZNS is a second paid
        message the person did not need. Zalo's receipt settles them, or an admin does.

        Only rows whose lease ended by ``now``: another live instance's are left alone."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = 'unknown', error = 'interrupted',"
                " error_class = 'unknown_outcome', done_at = ?, done_on = ?"
                f" WHERE status = 'sending' AND channel = 'zns' AND {LEASE_ENDED}",
                (_local(now), now.date().isoformat(), _utc(now)),
            )
            return cur.rowcount

    async def skip_pending_outside(self, running: Sequence[str], at: datetime) -> int:
        """Pending rows of campaigns no longer running are dropped (counted as skipped)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = 'skipped', error = 'campaign_over', done_at = ?,"
                " done_on = ? WHERE status = 'pending'"
                " AND campaign_code NOT IN (SELECT value FROM json_each(?))",
                (_local(at), at.date().isoformat(), json.dumps(list(running))),
            )
            return cur.rowcount

    async def next_pending(self, now: datetime, after_id: int = 0, limit: int = 200) -> list[OutboxRow]:
        """Pending chat rows (not ZNS: scheduler/zns.py) whose retry time has come, oldest first."""
        rows = await self.db.fetchall(
            "SELECT id, campaign_code, channel, user_id, seq, unit_code, attempts FROM reminder_outbox"
            " WHERE status = 'pending' AND channel <> 'zns' AND id > ?"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
            (after_id, _utc(now), limit),
        )
        return [OutboxRow(*row) for row in rows]

    async def claim(
        self, row_id: int, attempt_id: str, now: datetime, lease_until: datetime | None = None, owner: str | None = None
    ) -> str:
        """Mark the row 'sending' right before the request, held by ``owner`` until
        ``lease_until``; returns 'claimed', or why not ('opted_out', 'blocked', 'gone').
        Opt-outs and blocks are checked in the same transaction, so a person who opted out a
        moment ago is never messaged."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT o.status,"
                " EXISTS (SELECT 1 FROM reminder_prefs p WHERE p.channel = o.channel"
                "         AND p.user_id = o.user_id AND p.opted_out = 1),"
                " EXISTS (SELECT 1 FROM reminder_blocks b WHERE b.channel = o.channel"
                "         AND b.user_id = o.user_id AND b.cleared_at IS NULL)"
                " FROM reminder_outbox o WHERE o.id = ?",
                (row_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[0] != "pending":
                return "gone"
            reason = "opted_out" if row[1] else "blocked" if row[2] else None
            if reason is not None:
                await conn.execute(
                    "UPDATE reminder_outbox SET status = 'skipped', error = ?, done_at = ?, done_on = ?"
                    " WHERE id = ?",
                    (reason, _local(now), now.date().isoformat(), row_id),
                )
                return reason
            await conn.execute(
                "UPDATE reminder_outbox SET status = 'sending', attempt_id = ?, attempts = attempts + 1,"
                " claimed_at = ?, claimed_by = ?, lease_until = ? WHERE id = ?",
                (attempt_id, _local(now), owner, lease_text(lease_until), row_id),
            )
            return "claimed"

    async def finish(
        self,
        row_id: int,
        attempt_id: str,
        status: str,
        now: datetime,
        message_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Record the outcome of the claimed attempt: sent, blocked, failed or skipped.

        A 'blocked' outcome also records the person as blocked, in the same transaction.
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = ?, message_id = ?, error = ?, done_at = ?,"
                " done_on = ? WHERE id = ? AND attempt_id = ? AND status = 'sending'",
                (status, message_id, error, _local(now), now.date().isoformat(), row_id, attempt_id),
            )
            if status == "blocked" and cur.rowcount:
                await conn.execute(
                    "INSERT INTO reminder_blocks(channel, user_id, blocked_at, blocked_on)"
                    " SELECT channel, user_id, ?, ? FROM reminder_outbox WHERE id = ?"
                    " ON CONFLICT(channel, user_id) DO UPDATE SET blocked_at = excluded.blocked_at,"
                    " blocked_on = excluded.blocked_on, cleared_at = NULL",
                    (_local(now), now.date().isoformat(), row_id),
                )
            return cur.rowcount > 0

    async def retry_later(self, row_id: int, attempt_id: str, next_at: datetime, error: str) -> bool:
        """A transient failure: back to 'pending', not before ``next_at``."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = 'pending', next_attempt_at = ?, error = ?"
                " WHERE id = ? AND attempt_id = ? AND status = 'sending'",
                (_utc(next_at), error, row_id, attempt_id),
            )
            return cur.rowcount > 0

    async def hold_pending(self, row_ids: Sequence[int], reason: str) -> int:
        """Rows that cannot go now (their channel has no sender) stay 'pending' with ``reason``
        as their error, so they are visible and go once the channel is configured; returns
        how many changed (rows already holding that reason are not written again)."""
        if not row_ids:
            return 0
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET error = ? WHERE status = 'pending'"
                " AND id IN (SELECT value FROM json_each(?)) AND error IS NOT ?",
                (reason, json.dumps(list(row_ids)), reason),
            )
            return cur.rowcount

    async def waiting_by_channel(self) -> dict[tuple[str, str | None], int]:
        """Pending rows per (channel, reason they wait: 'no_sender', '429', ... or None)."""
        rows = await self.db.fetchall(
            "SELECT channel, error, COUNT(*) FROM reminder_outbox WHERE status = 'pending'"
            " GROUP BY channel, error"
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}

    async def status_counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT status, COUNT(*) FROM reminder_outbox GROUP BY status")
        return {row[0]: row[1] for row in rows}

    async def history(self, user_id: int, channel: str) -> list[tuple[str, int, str, str | None]]:
        """(campaign, seq, status, done_on) of a person's reminders, oldest first."""
        rows = await self.db.fetchall(
            "SELECT campaign_code, seq, status, done_on FROM reminder_outbox"
            " WHERE channel = ? AND user_id = ? ORDER BY id",
            (channel, user_id),
        )
        return [tuple(row) for row in rows]

    # ----------------------------------------------------------------- counting

    async def reminder_counts(
        self,
        scope_codes: Sequence[str],
        day_from: date,
        day_to: date,
        campaign_codes: Sequence[str],
        windows: Sequence[SelectionWindow],
    ) -> ReminderCounts:
        """Figures per unit for the campaigns given; ``windows`` (one per campaign, as of
        ``day_to``) define who is eligible (a card in several windows counts once); none: the
        eligible figure is not counted (0), for callers that do not show it (the summaries)."""
        scope = json.dumps(sorted(set(scope_codes)))
        campaigns = json.dumps(list(campaign_codes))
        span = (day_from.isoformat(), day_to.isoformat())
        figures: dict[str, dict[str, int]] = {}

        def put(rows: Sequence[Sequence[object]], name: str) -> None:
            for unit, value in rows:
                figures.setdefault(str(unit), {})[name] = int(value)  # type: ignore[call-overload]

        if windows:
            # A card in the windows of several (overlapping) campaigns is one eligible card.
            clauses: list[str] = []
            params: list[object] = [scope]
            for window in windows:
                clauses.append("(c.valid_to BETWEEN ? AND ?) OR (? IS NOT NULL AND c.valid_to BETWEEN ? AND ?)")
                expiring = window.expiring_until.isoformat() if window.expiring_until else None
                params += [window.lapsed_from.isoformat(), window.lapsed_until.isoformat(),
                           expiring, window.today.isoformat(), expiring]
            rows = await self.db.fetchall(
                "SELECT c.unit_code, COUNT(*) FROM cards c"
                " WHERE c.unit_code IN (SELECT value FROM json_each(?))"
                f" AND ({' OR '.join(clauses)})"
                f" AND NOT {RENEWED_SQL} AND NOT {CLAIMED_SQL} GROUP BY c.unit_code",
                params,
            )
            for unit, value in rows:
                figures.setdefault(unit, {})["eligible"] = value
        add_outbox_counts(figures, await self.db.fetchall(
            outbox_counts_sql(
                "campaign_code IN (SELECT value FROM json_each(?))"
                " AND unit_code IN (SELECT value FROM json_each(?)) AND done_on BETWEEN ? AND ?"
            ),
            (campaigns, scope, *span),
        ))
        put(await self.db.fetchall(OPTED_OUT_SQL, (*span, scope)), "opted_out")
        put(await self.db.fetchall(await self._renewed_after_sql(scope, span), (*span, *span, scope, campaigns)),
            "renewed_after_reminder")
        by_unit = {unit: ReminderStats(**values) for unit, values in sorted(figures.items())}
        total = sum(by_unit.values(), ReminderStats())
        return ReminderCounts(day_from, day_to, tuple(campaign_codes), total, by_unit)

    async def _renewed_after_sql(self, scope: str, span: tuple[str, str]) -> str:
        """The cheaper of the two shapes of the renewed-after figure for this scope (JSON
        array) and span: SQLite's planner cannot weigh a correlated probe per card against a
        join from the renewals, so the two sizes are counted (index-only) and compared. Both
        shapes give the same figure."""
        row = await self.db.fetchone(RENEWED_AFTER_SIZES_SQL, (*span, *span, scope))
        cards, renewals = (int(row[0]), int(row[1])) if row is not None else (0, 0)
        return RENEWED_AFTER_FROM_RENEWALS_SQL if renewals < cards else RENEWED_AFTER_SQL
