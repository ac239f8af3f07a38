"""Reminders on PostgreSQL: opt-outs, blocks, the outbox, renewal claims and counts.

The outbox rules are the SQLite engine's (storage/sqlite/reminders.py). What SQLite gets from
its single writer is explicit here, so that several instances can share the fan-out:
- queueing takes one advisory lock: a round's "nothing open for this person" check and its
  INSERT are one decision, and two instances queueing at once must not both make it;
- a claim locks its row `FOR UPDATE SKIP LOCKED` and moves it 'pending' -> 'sending' only if it
  is still pending: of two instances claiming one row, one gets it and the other hears 'gone';
- every outcome is a compare-and-set on (id, attempt_id, status = 'sending');
- a claim records the instance and its lease; recovery takes only rows whose lease ended, so
  one instance never takes over another live instance's rows in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.domain.records import OutboxRow, ReminderCounts, ReminderStats
from bot.domain.reminders import OA_FREE_WINDOW, Cadence, SelectionWindow
from storage.postgresql.db import Database, Tx
from storage.postgresql.reminder_zns import QUEUE_LOCK, ZnsOutboxMixin, positional
from storage.sqlite.cards import CLAIMED_SQL, RENEWED_SQL
from storage.sqlite.reminder_zns import OA_CLOSED_SQL
from storage.sqlite.reminders import (
    _local,
    _utc,
    add_outbox_counts,
    lease_text,
    outbox_counts_sql,
)

_SKIP_PENDING_OF_PERSON = (
    "UPDATE reminder_outbox SET status = 'skipped', error = $1, done_at = $2, done_on = $3"
    " WHERE channel = $4 AND user_id = $5 AND status = 'pending'"
)

# The SQLite engine's two scope-bound figures (storage/sqlite/reminders.py: why they avoid
# the `card_links` view): PostgreSQL cannot push a join condition into the view's UNION
# either, and would build every link of every card for one commune's figures.
# $1, $2: the span; $3: the scope's unit codes.
OPTED_OUT_SQL = (
    "SELECT unit_code, COUNT(*) FROM ("
    " SELECT (SELECT MIN(m.unit_code) FROM contact_phones cp JOIN cards c ON c.phone = cp.phone"
    "         JOIN cards m ON (m.bhxh_code = c.bhxh_code OR m.household_code = c.household_code)"
    "         WHERE cp.channel = p.channel AND cp.user_id = p.user_id) AS unit_code"
    " FROM reminder_prefs p WHERE p.opted_out = 1 AND p.changed_on BETWEEN $1 AND $2) u"
    " WHERE unit_code = ANY($3::text[]) GROUP BY unit_code"
)
# $1, $2: the span; $3: the scope's unit codes; $4: the campaigns. A join, not SQLite's
# correlated look-ups per card: the planner probes the renewals by card for a commune and
# hashes the span's renewals for the province (3x faster there than a probe per card).
RENEWED_AFTER_SQL = (
    "WITH renewed AS (SELECT c.unit_code, c.bhxh_code, c.household_code, MAX(rn.day) AS last_on"
    "   FROM cards c JOIN (SELECT participant_code AS code, created_on AS day FROM enrolments e"
    "        WHERE e.status = 'active' AND e.scheme IN ('bhyt_household', 'bhyt_supported')"
    "        AND e.created_on BETWEEN $1 AND $2"
    "        UNION ALL SELECT bhxh_code, changed_on FROM card_expiry_changes x"
    "        WHERE x.changed_on BETWEEN $1 AND $2) rn ON rn.code = c.bhxh_code"
    "   WHERE c.unit_code = ANY($3::text[]) GROUP BY c.unit_code, c.bhxh_code, c.household_code)"
    " SELECT r.unit_code, COUNT(*) FROM renewed r WHERE r.last_on >= ("
    "   SELECT MIN(o.done_on) FROM cards h JOIN contact_phones cp ON cp.phone = h.phone"
    "   JOIN reminder_outbox o ON o.channel = cp.channel AND o.user_id = cp.user_id"
    "   WHERE (h.bhxh_code = r.bhxh_code OR h.household_code = r.household_code)"
    "   AND o.status = 'sent' AND o.campaign_code = ANY($4::text[]))"
    " GROUP BY r.unit_code"
)


class ReminderRepository(ZnsOutboxMixin):
    def __init__(self, db: Database) -> None:
        self.db = db

    # ----------------------------------------------------------------- preferences

    async def set_opted_out(self, user_id: int, opted_out: bool, at: datetime, channel: str) -> bool:
        """Record the choice; returns whether it changed anything."""
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "SELECT opted_out FROM reminder_prefs WHERE channel = $1 AND user_id = $2 FOR UPDATE", channel, user_id
            )
            if row is not None and bool(row[0]) == opted_out:
                return False
            if row is None and not opted_out:
                return False
            await tx.execute(
                "INSERT INTO reminder_prefs(channel, user_id, opted_out, changed_at, changed_on)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT(channel, user_id) DO UPDATE SET"
                " opted_out = excluded.opted_out, changed_at = excluded.changed_at,"
                " changed_on = excluded.changed_on",
                channel, user_id, int(opted_out), _local(at), at.date().isoformat(),
            )
            if opted_out:
                await tx.execute(_SKIP_PENDING_OF_PERSON, "opted_out", _local(at), at.date().isoformat(), channel, user_id)
            return True

    async def is_opted_out(self, user_id: int, channel: str) -> bool:
        value = await self.db.fetchval(
            "SELECT opted_out FROM reminder_prefs WHERE channel = $1 AND user_id = $2", channel, user_id
        )
        return bool(value)

    async def is_blocked(self, user_id: int, channel: str) -> bool:
        row = await self.db.fetchrow(
            "SELECT 1 FROM reminder_blocks WHERE channel = $1 AND user_id = $2 AND cleared_at IS NULL", channel, user_id
        )
        return row is not None

    async def clear_block(self, user_id: int, at: datetime, channel: str) -> bool:
        """The person came back and asked for reminders (/nhac): they unblocked the bot."""
        changed = await self.db.execute(
            "UPDATE reminder_blocks SET cleared_at = $1 WHERE channel = $2 AND user_id = $3 AND cleared_at IS NULL",
            _local(at), channel, user_id,
        )
        return changed > 0

    # ----------------------------------------------------------------- claims

    async def add_claims(
        self, user_id: int, cards: Sequence[tuple[str, date]], at: datetime, channel: str
    ) -> int:
        """"Tôi đã gia hạn" for these (BHXH code, expiry) pairs; returns how many were new."""
        async with self.db.transaction() as tx:
            added = 0
            if cards:
                added = await tx.execute(
                    "INSERT INTO renewal_claims(channel, user_id, bhxh_code, card_valid_to, claimed_at, claimed_on)"
                    " SELECT $1, $2, code, valid_to, $3, $4 FROM unnest($5::text[], $6::text[]) AS c(code, valid_to)"
                    " ON CONFLICT(bhxh_code, card_valid_to, channel, user_id) DO NOTHING",
                    channel, user_id, _local(at), at.date().isoformat(),
                    [code for code, _ in cards], [valid_to.isoformat() for _, valid_to in cards],
                )
            await tx.execute(_SKIP_PENDING_OF_PERSON, "claimed", _local(at), at.date().isoformat(), channel, user_id)
        return added

    async def drop_pending_claims(self, user_id: int, channel: str) -> int:
        """The person pressed "Tôi đã gia hạn" by mistake: forget claims no agent decided."""
        return await self.db.execute(
            "DELETE FROM renewal_claims WHERE channel = $1 AND user_id = $2 AND status = 'pending'", channel, user_id
        )

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

        The rules are the SQLite engine's (one reminder per person per round across campaigns,
        the interval, the maximum count). One advisory lock makes queueing one decision at a
        time across instances: the second round waits, then sees the first one's rows.
        """
        queued = 0
        async with self.db.transaction() as tx:
            await tx.lock(QUEUE_LOCK)
            for campaign_code, window in campaigns:
                queued += await _queue_one(tx, campaign_code, window, cadence, now)
        return queued

    # ----------------------------------------------------------------- sending

    async def recover_sending(self, now: datetime) -> int:
        """Rows left 'sending' whose lease ended by ``now`` (a dead process's) go back to
        'pending' and are sent again (at least once: see scheduler/reminders.py); another live
        instance's rows in flight are left alone."""
        return await self.db.execute(
            "UPDATE reminder_outbox SET status = 'pending', error = 'interrupted'"
            " WHERE status = 'sending' AND channel <> 'zns' AND (lease_until IS NULL OR lease_until <= $1)",
            _utc(now),
        )

    async def settle_interrupted_zns(self, now: datetime) -> int:
        """ZNS rows left 'sending' whose lease ended by ``now`` (a dead process's) become
        'unknown', never 'pending' (see storage/sqlite/reminders.py)."""
        return await self.db.execute(
            "UPDATE reminder_outbox SET status = 'unknown', error = 'interrupted',"
            " error_class = 'unknown_outcome', done_at = $1, done_on = $2"
            " WHERE status = 'sending' AND channel = 'zns' AND (lease_until IS NULL OR lease_until <= $3)",
            _local(now), now.date().isoformat(), _utc(now),
        )

    async def skip_pending_outside(self, running: Sequence[str], at: datetime) -> int:
        """Pending rows of campaigns no longer running are dropped (counted as skipped)."""
        return await self.db.execute(
            "UPDATE reminder_outbox SET status = 'skipped', error = 'campaign_over', done_at = $1,"
            " done_on = $2 WHERE status = 'pending' AND NOT (campaign_code = ANY($3::text[]))",
            _local(at), at.date().isoformat(), list(running),
        )

    async def next_pending(self, now: datetime, after_id: int = 0, limit: int = 200) -> list[OutboxRow]:
        """Pending chat rows (not ZNS: scheduler/zns.py) whose retry time has come, oldest first."""
        rows = await self.db.fetch(
            "SELECT id, campaign_code, channel, user_id, seq, unit_code, attempts FROM reminder_outbox"
            " WHERE status = 'pending' AND channel <> 'zns' AND id > $1 AND (next_attempt_at IS NULL OR next_attempt_at <= $2)"
            " ORDER BY id LIMIT $3",
            after_id, _utc(now), limit,
        )
        return [OutboxRow(*row) for row in rows]

    async def claim(
        self, row_id: int, attempt_id: str, now: datetime, lease_until: datetime | None = None, owner: str | None = None
    ) -> str:
        """Mark the row 'sending' right before the request, held by ``owner`` until
        ``lease_until``; returns 'claimed', or why not
        ('opted_out', 'blocked', 'gone'). Opt-outs and blocks are checked in the same
        transaction; a row another instance holds is 'gone' for this one."""
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "SELECT o.status,"
                " EXISTS (SELECT 1 FROM reminder_prefs p WHERE p.channel = o.channel"
                "         AND p.user_id = o.user_id AND p.opted_out = 1),"
                " EXISTS (SELECT 1 FROM reminder_blocks b WHERE b.channel = o.channel"
                "         AND b.user_id = o.user_id AND b.cleared_at IS NULL)"
                " FROM reminder_outbox o WHERE o.id = $1 FOR UPDATE OF o SKIP LOCKED",
                row_id,
            )
            if row is None or row[0] != "pending":
                return "gone"
            reason = "opted_out" if row[1] else "blocked" if row[2] else None
            if reason is not None:
                await tx.execute(
                    "UPDATE reminder_outbox SET status = 'skipped', error = $1, done_at = $2, done_on = $3 WHERE id = $4",
                    reason, _local(now), now.date().isoformat(), row_id,
                )
                return reason
            await tx.execute(
                "UPDATE reminder_outbox SET status = 'sending', attempt_id = $1, attempts = attempts + 1,"
                " claimed_at = $2, claimed_by = $3, lease_until = $4 WHERE id = $5",
                attempt_id, _local(now), owner, lease_text(lease_until), row_id,
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
        A 'blocked' outcome also records the person as blocked, in the same transaction."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE reminder_outbox SET status = $1, message_id = $2, error = $3, done_at = $4,"
                " done_on = $5 WHERE id = $6 AND attempt_id = $7 AND status = 'sending'",
                status, message_id, error, _local(now), now.date().isoformat(), row_id, attempt_id,
            )
            if status == "blocked" and changed:
                await tx.execute(
                    "INSERT INTO reminder_blocks(channel, user_id, blocked_at, blocked_on)"
                    " SELECT channel, user_id, $1, $2 FROM reminder_outbox WHERE id = $3"
                    " ON CONFLICT(channel, user_id) DO UPDATE SET blocked_at = excluded.blocked_at,"
                    " blocked_on = excluded.blocked_on, cleared_at = NULL",
                    _local(now), now.date().isoformat(), row_id,
                )
            return changed > 0

    async def retry_later(self, row_id: int, attempt_id: str, next_at: datetime, error: str) -> bool:
        """A transient failure: back to 'pending', not before ``next_at``."""
        changed = await self.db.execute(
            "UPDATE reminder_outbox SET status = 'pending', next_attempt_at = $1, error = $2"
            " WHERE id = $3 AND attempt_id = $4 AND status = 'sending'",
            _utc(next_at), error, row_id, attempt_id,
        )
        return changed > 0

    async def hold_pending(self, row_ids: Sequence[int], reason: str) -> int:
        """Rows that cannot go now (their channel has no sender) stay 'pending' with ``reason``
        as their error; returns how many changed (rows already holding it are not written)."""
        if not row_ids:
            return 0
        return await self.db.execute(
            "UPDATE reminder_outbox SET error = $1 WHERE status = 'pending'"
            " AND id = ANY($2::bigint[]) AND error IS DISTINCT FROM $1",
            reason, list(row_ids),
        )

    async def waiting_by_channel(self) -> dict[tuple[str, str | None], int]:
        """Pending rows per (channel, reason they wait: 'no_sender', '429', ... or None)."""
        rows = await self.db.fetch(
            "SELECT channel, error, COUNT(*) FROM reminder_outbox WHERE status = 'pending' GROUP BY channel, error"
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}

    async def status_counts(self) -> dict[str, int]:
        rows = await self.db.fetch("SELECT status, COUNT(*) FROM reminder_outbox GROUP BY status")
        return {row[0]: int(row[1]) for row in rows}

    async def history(self, user_id: int, channel: str) -> list[tuple[str, int, str, str | None]]:
        """(campaign, seq, status, done_on) of a person's reminders, oldest first."""
        rows = await self.db.fetch(
            "SELECT campaign_code, seq, status, done_on FROM reminder_outbox"
            " WHERE channel = $1 AND user_id = $2 ORDER BY id",
            channel, user_id,
        )
        return [(r[0], int(r[1]), r[2], r[3]) for r in rows]

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
        scope = sorted(set(scope_codes))
        campaigns = list(campaign_codes)
        span = (day_from.isoformat(), day_to.isoformat())
        figures: dict[str, dict[str, int]] = {}

        def put(rows: Sequence[Sequence[object]], name: str) -> None:
            for unit, value in rows:
                figures.setdefault(str(unit), {})[name] = int(value)  # type: ignore[call-overload]

        if windows:
            clauses: list[str] = []
            params: list[object] = [scope]
            for window in windows:
                n = len(params)
                clauses.append(
                    f"(c.valid_to BETWEEN ${n + 1} AND ${n + 2})"
                    f" OR (${n + 3}::text IS NOT NULL AND c.valid_to BETWEEN ${n + 4} AND ${n + 3}::text)"
                )
                expiring = window.expiring_until.isoformat() if window.expiring_until else None
                params += [window.lapsed_from.isoformat(), window.lapsed_until.isoformat(), expiring,
                           window.today.isoformat()]
            put(
                await self.db.fetch(
                    "SELECT c.unit_code, COUNT(*) FROM cards c WHERE c.unit_code = ANY($1::text[])"
                    f" AND ({' OR '.join(clauses)})"
                    f" AND NOT {RENEWED_SQL} AND NOT {CLAIMED_SQL} GROUP BY c.unit_code",
                    *params,
                ),
                "eligible",
            )
        add_outbox_counts(figures, await self.db.fetch(
            outbox_counts_sql(
                "campaign_code = ANY($1::text[]) AND unit_code = ANY($2::text[]) AND done_on BETWEEN $3 AND $4"
            ),
            campaigns, scope, *span,
        ))
        put(await self.db.fetch(OPTED_OUT_SQL, *span, scope), "opted_out")
        put(await self.db.fetch(RENEWED_AFTER_SQL, *span, scope, campaigns), "renewed_after_reminder")
        by_unit = {unit: ReminderStats(**values) for unit, values in sorted(figures.items())}
        total = sum(by_unit.values(), ReminderStats())
        return ReminderCounts(day_from, day_to, tuple(campaign_codes), total, by_unit)


async def _queue_one(tx: Tx, campaign_code: str, window: SelectionWindow, cadence: Cadence, now: datetime) -> int:
    """Queue one campaign's due people inside the caller's transaction (the SQLite query, with
    PostgreSQL's boolean aggregates): the person's key, the expiry, the Zalo OA last."""
    today = window.today
    last_allowed = date.fromordinal(max(1, today.toordinal() - cadence.interval_days)).isoformat()
    return await tx.execute(
        "INSERT INTO reminder_outbox(campaign_code, channel, user_id, person_key, card_expiry, seq,"
        " unit_code, queued_at, queued_on)"
        " SELECT $1, d.channel, d.user_id, d.person_key, d.card_expiry,"
        " COALESCE(h.rows_all, 0) + 1, d.unit_code, $8, $4"
        " FROM (SELECT l.channel AS channel, l.user_id AS user_id, MIN(c.unit_code) AS unit_code,"
        "       MIN(c.valid_to) AS card_expiry,"
        "       COALESCE(MIN(cp.phone), l.channel || ':' || CAST(l.user_id AS TEXT)) AS person_key"
        "       FROM card_links l JOIN cards c ON c.bhxh_code = l.bhxh_code"
        "       LEFT JOIN contact_phones cp ON cp.channel = l.channel AND cp.user_id = l.user_id"
        "       WHERE ((c.valid_to BETWEEN $2 AND $3)"
        "              OR ($5::text IS NOT NULL AND c.valid_to BETWEEN $4 AND $5::text))"
        f"        AND NOT {RENEWED_SQL} AND NOT {CLAIMED_SQL}"
        f"        AND (l.channel <> 'zalo_oa' OR NOT {positional(OA_CLOSED_SQL.format(user='l.user_id'), 'oa_open_from', 9)})"
        "       GROUP BY l.channel, l.user_id) d"
        " LEFT JOIN (SELECT channel, user_id, COUNT(*) AS rows_all,"
        "            COUNT(*) FILTER (WHERE status IN ('sent', 'failed')) AS counted"
        "            FROM reminder_outbox WHERE campaign_code = $1 AND user_id IS NOT NULL"
        "            GROUP BY channel, user_id) h"
        "   ON h.channel = d.channel AND h.user_id = d.user_id"
        " LEFT JOIN (SELECT channel, user_id,"
        "            MAX(CASE WHEN status = 'sent' THEN done_on END) AS last_on,"
        "            COUNT(*) FILTER (WHERE status IN ('pending', 'sending')) AS open_rows"
        "            FROM reminder_outbox WHERE user_id IS NOT NULL GROUP BY channel, user_id) p"
        "   ON p.channel = d.channel AND p.user_id = d.user_id"
        " WHERE COALESCE(p.open_rows, 0) = 0"
        "   AND COALESCE(h.counted, 0) < $6"
        "   AND (p.last_on IS NULL OR p.last_on <= $7)"
        "   AND NOT EXISTS (SELECT 1 FROM reminder_prefs r WHERE r.channel = d.channel"
        "                   AND r.user_id = d.user_id AND r.opted_out = 1)"
        "   AND NOT EXISTS (SELECT 1 FROM reminder_blocks b WHERE b.channel = d.channel"
        "                   AND b.user_id = d.user_id AND b.cleared_at IS NULL)"
        " ORDER BY CASE WHEN d.channel = 'zalo_oa' THEN 1 ELSE 0 END, d.user_id"
        " ON CONFLICT DO NOTHING",
        campaign_code, window.lapsed_from.isoformat(), window.lapsed_until.isoformat(), today.isoformat(),
        window.expiring_until.isoformat() if window.expiring_until else None, cadence.max_count, last_allowed,
        _local(now), _utc(now - OA_FREE_WINDOW),
    )
