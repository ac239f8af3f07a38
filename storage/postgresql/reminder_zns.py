"""The ZNS part of the reminder outbox on PostgreSQL (the rules and guarantees are the SQLite
engine's: storage/sqlite/reminder_zns.py).

What SQLite gets from its single writer is explicit here: queueing takes the same advisory lock
as the chat rows' queueing (each reads the other's rows to decide: one ZNS per phone and
expiry, none where a chat reminder exists), and a claim locks its row ``FOR UPDATE SKIP LOCKED``
and moves it only if still pending, so of two instances one gets it and the other hears 'gone'.
The SQL fragments are the SQLite engine's, with its named parameter made positional.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.privacy import mask_phone
from bot.domain.records import UnknownZns, ZnsRow
from bot.domain.reminders import OA_FREE_WINDOW, SelectionWindow
from bot.domain.zns import tracking_id
from storage.postgresql.db import Database, Tx
from storage.sqlite.cards import CLAIMED_SQL, RENEWED_SQL
from storage.sqlite.reminder_zns import _COVERED_SQL, _OPTED_OUT_PHONE, _REACHABLE_PHONE, _local, _utc

QUEUE_LOCK = "reminders:queue"  # one queueing decision at a time, chat and ZNS rows alike


def positional(sql: str, name: str, number: int) -> str:
    """A SQLite fragment's named parameter ``:name`` as PostgreSQL's ``$number``."""
    return sql.replace(f":{name}", f"${number}::text")


class ZnsOutboxMixin:
    """ZNS rows of ``reminder_outbox`` (mixed into storage.postgresql.reminders.ReminderRepository)."""

    db: Database

    async def queue_zns(self, campaigns: Sequence[tuple[str, SelectionWindow]], now: datetime) -> int:
        """Queue one ZNS per phone on a legal-basis list with a card due in these campaigns,
        unless a chat reminder covers it, its owner opted out or refused the OA, or a reminder
        (any channel) about that expiry exists or is open; returns how many were queued."""
        queued = 0
        async with self.db.transaction() as tx:
            await tx.lock(QUEUE_LOCK)
            for campaign_code, window in campaigns:
                queued += await _queue_zns_one(tx, campaign_code, window, now)
        return queued

    async def next_pending_zns(self, now: datetime, after_id: int = 0, limit: int = 200) -> list[ZnsRow]:
        """Pending ZNS rows whose time has come, oldest first."""
        rows = await self.db.fetch(
            "SELECT id, campaign_code, phone, card_expiry, unit_code, attempts FROM reminder_outbox"
            " WHERE status = 'pending' AND channel = 'zns' AND id > $1"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= $2) ORDER BY id LIMIT $3",
            after_id, _utc(now), limit,
        )
        return [ZnsRow(*row) for row in rows]

    async def claim_zns(
        self, row_id: int, attempt_id: str, now: datetime, lease_until: datetime | None = None, owner: str | None = None
    ) -> str:
        """'sending' with the attempt id and the tracking id, held by ``owner`` until
        ``lease_until``, committed before the request;
        returns 'claimed', or why not: 'gone' (no longer pending, or another instance holds
        it), 'opted_out' or 'linked' (the chat reminder covers them)."""
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "SELECT o.status, " + _OPTED_OUT_PHONE.format(phone="o.phone") + ", "
                + positional(_REACHABLE_PHONE.format(phone="o.phone"), "oa_open_from", 2)
                + " FROM reminder_outbox o WHERE o.id = $1 AND o.channel = 'zns' FOR UPDATE OF o SKIP LOCKED",
                row_id, _utc(now - OA_FREE_WINDOW),
            )
            if row is None or row[0] != "pending":
                return "gone"
            reason = "opted_out" if row[1] else "linked" if row[2] else None
            if reason is not None:
                await tx.execute(
                    "UPDATE reminder_outbox SET status = 'skipped', error = $1, done_at = $2, done_on = $3 WHERE id = $4",
                    reason, _local(now), now.date().isoformat(), row_id,
                )
                return reason
            await tx.execute(
                "UPDATE reminder_outbox SET status = 'sending', attempt_id = $1, attempts = attempts + 1,"
                " claimed_at = $2, tracking_id = $3, claimed_by = $4, lease_until = $5 WHERE id = $6",
                attempt_id, _local(now), tracking_id(row_id), owner,
                None if lease_until is None else _utc(lease_until), row_id,
            )
            return "claimed"

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
        """Record the claimed attempt's outcome once: 'sent' (accepted, ``cost`` charged),
        'unknown', 'refused' or 'failed'. A receipt that arrived first ('delivered') is kept."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE reminder_outbox SET status = $1, message_id = $2, error = $3, error_class = $4,"
                " cost = $5, done_at = $6, done_on = $7 WHERE id = $8 AND attempt_id = $9 AND status = 'sending'",
                status, message_id, error, error_class, cost, _local(now), now.date().isoformat(), row_id, attempt_id,
            )
            if changed == 0 and message_id is not None:
                await tx.execute(
                    "UPDATE reminder_outbox SET message_id = $1, cost = $2 WHERE id = $3 AND attempt_id = $4"
                    " AND status = 'delivered'",
                    message_id, cost, row_id, attempt_id,
                )
            return changed > 0

    async def retry_zns(
        self, row_id: int, attempt_id: str, next_at: datetime, error: str, error_class: str, counted: bool = True
    ) -> bool:
        """Nothing was sent: back to 'pending', not before ``next_at``, the reason kept;
        ``counted`` False: the attempt does not count towards giving the row up."""
        changed = await self.db.execute(
            "UPDATE reminder_outbox SET status = 'pending', next_attempt_at = $1, error = $2,"
            " error_class = $3, attempts = attempts - $4 WHERE id = $5 AND attempt_id = $6 AND status = 'sending'",
            _utc(next_at), error, error_class, 0 if counted else 1, row_id, attempt_id,
        )
        return changed > 0

    async def reconcile_receipt(
        self, tracking: str | None, msg_id: str | None, delivered_at: datetime, cost: int
    ) -> bool:
        """Zalo's delivery receipt: the ZNS row it names (by tracking id, else by message id)
        becomes 'delivered'; returns whether a row changed (a repeated receipt changes nothing)."""
        if not tracking and not msg_id:
            return False
        changed = await self.db.execute(
            "UPDATE reminder_outbox SET status = 'delivered', delivered_at = $1,"
            " message_id = COALESCE(message_id, $2::text),"
            " cost = CASE WHEN cost = 0 THEN $3 ELSE cost END,"
            " done_at = COALESCE(done_at, $4), done_on = COALESCE(done_on, $5)"
            " WHERE channel = 'zns' AND status IN ('sending', 'sent', 'unknown')"
            " AND (tracking_id = $6 OR ($2::text IS NOT NULL AND message_id = $2::text))",
            _utc(delivered_at), msg_id, cost, _local(delivered_at), delivered_at.date().isoformat(), tracking,
        )
        return changed > 0

    async def unknown_zns(self, limit: int = 500) -> list[UnknownZns]:
        """ZNS rows whose outcome is still unknown, oldest first, phones masked."""
        rows = await self.db.fetch(
            "SELECT id, campaign_code, phone, unit_code, claimed_at, error FROM reminder_outbox"
            " WHERE channel = 'zns' AND status = 'unknown' ORDER BY id LIMIT $1",
            limit,
        )
        return [UnknownZns(r[0], r[1], mask_phone(r[2] or ""), r[3], r[4], r[5]) for r in rows]

    async def units_with_reminders(self) -> list[tuple[str]]:
        """Unit codes that have reminder rows (for the command-line figures of every unit)."""
        rows = await self.db.fetch(
            "SELECT DISTINCT unit_code FROM reminder_outbox WHERE unit_code IS NOT NULL ORDER BY unit_code"
        )
        return [(str(row[0]),) for row in rows]

    async def zns_backlog(self) -> int:
        """ZNS rows still waiting to go (pending)."""
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM reminder_outbox WHERE channel = 'zns' AND status = 'pending'"
        ) or 0)

    async def record_follower(self, user_id: int, following: bool, at: datetime) -> None:
        """A follow (or unfollow) event of the person our tables call ``user_id``."""
        await self.db.execute(
            "INSERT INTO zalo_followers(user_id, following, last_interaction_at, changed_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT(user_id) DO UPDATE SET following = excluded.following,"
            " changed_at = excluded.changed_at",
            user_id, int(following), _utc(at) if following else None, _utc(at),
        )

    async def record_interaction(self, user_id: int, at: datetime) -> None:
        """The person wrote to the OA at ``at``: the free window opens again (writing implies
        following)."""
        await self.db.execute(
            "INSERT INTO zalo_followers(user_id, following, last_interaction_at, changed_at)"
            " VALUES ($1, 1, $2, $2) ON CONFLICT(user_id) DO UPDATE SET following = 1,"
            " last_interaction_at = excluded.last_interaction_at, changed_at = excluded.changed_at",
            user_id, _utc(at),
        )


async def _queue_zns_one(tx: Tx, campaign_code: str, window: SelectionWindow, now: datetime) -> int:
    """One campaign's ZNS rows inside the caller's transaction (the SQLite query)."""
    return await tx.execute(
        "INSERT INTO reminder_outbox(campaign_code, channel, user_id, phone, person_key, card_expiry,"
        " seq, unit_code, queued_at, queued_on)"
        " SELECT $1, 'zns', NULL, d.phone, d.phone, d.card_expiry, 1, d.unit_code, $6, $4"
        " FROM (SELECT c.phone AS phone, MIN(c.valid_to) AS card_expiry, MIN(c.unit_code) AS unit_code"
        "       FROM cards c"
        "       WHERE c.phone IS NOT NULL AND c.contact_basis IS NOT NULL"
        "         AND ((c.valid_to BETWEEN $2 AND $3)"
        "              OR ($5::text IS NOT NULL AND c.valid_to BETWEEN $4 AND $5::text))"
        f"        AND NOT {RENEWED_SQL} AND NOT {CLAIMED_SQL}"
        f"        AND NOT {positional(_COVERED_SQL, 'oa_open_from', 7)}"
        "       GROUP BY c.phone) d"
        " WHERE NOT EXISTS (SELECT 1 FROM reminder_outbox o WHERE o.person_key = d.phone"
        "                   AND (o.card_expiry = d.card_expiry"
        "                        OR o.status IN ('pending', 'sending', 'unknown')))"
        f"  AND NOT {_OPTED_OUT_PHONE.format(phone='d.phone')}"
        "   AND NOT EXISTS (SELECT 1 FROM reminder_outbox o WHERE o.channel = 'zns'"
        "                   AND o.phone = d.phone AND o.error_class = 'refused_by_user')"
        " ORDER BY d.phone"
        " ON CONFLICT DO NOTHING",
        campaign_code, window.lapsed_from.isoformat(), window.lapsed_until.isoformat(), window.today.isoformat(),
        window.expiring_until.isoformat() if window.expiring_until else None, _local(now),
        _utc(now - OA_FREE_WINDOW),
    )
