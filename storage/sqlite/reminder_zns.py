"""The ZNS part of the reminder outbox: queueing phones, claiming, recording once, reconciling.

Guarantees (scheduler/zns.py acts on them):
- one ZNS per phone and card expiry, ever (any campaign, any step): a paid message is not
  repeated; and never to a phone someone linked on a chat channel that reaches them (they get
  the chat reminder), to a phone whose owner opted out, or that refused this OA (−139/−141);
- only to cards of lists imported with a legal basis for contact (``cards.contact_basis``);
- a row is claimed ('sending', attempt id, tracking id, the instance and its lease) in its own
  committed transaction before the request; a row found 'sending' with its lease ended goes to
  'unknown', never back to 'pending': the request may have been written, and Zalo has no
  idempotency key;
- 'unknown' (and 'sent') rows become 'delivered' when Zalo's receipt names their tracking id
  (or message id); nothing else ever moves an 'unknown' row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bot.domain.privacy import mask_phone
from bot.domain.records import UnknownZns, ZnsRow
from bot.domain.reminders import OA_FREE_WINDOW, SelectionWindow
from bot.domain.zns import tracking_id
from storage.sqlite.cards import CLAIMED_SQL, RENEWED_SQL
from storage.sqlite.db import Database

# A Zalo OA follower the OA cannot reach for free now: unfollowed, or silent for longer than
# the free reply window (``:oa_open_from`` is the UTC ISO start of that window). A person linked
# on Zalo with no follower record yet is taken as reachable: they linked through the OA's form.
OA_CLOSED_SQL = (
    "EXISTS (SELECT 1 FROM zalo_followers f WHERE f.user_id = {user} AND (f.following = 0"
    " OR f.last_interaction_at IS NULL OR f.last_interaction_at < :oa_open_from))"
)
# A phone someone proved on a chat channel that reaches them now: Telegram always; the Zalo OA
# while it may write to them for free (see storage/sqlite/reminders.OA_CLOSED_SQL).
_REACHABLE_PHONE = (
    "EXISTS (SELECT 1 FROM contact_phones cp WHERE cp.phone = {phone} AND (cp.channel <> 'zalo_oa'"
    " OR NOT " + OA_CLOSED_SQL.format(user="cp.user_id") + "))"
)
# A card covered by a chat reminder: its phone, or a phone of its household, reaches someone.
_COVERED_SQL = (
    "(" + _REACHABLE_PHONE.format(phone="c.phone") + " OR (c.household_code IS NOT NULL AND EXISTS"
    " (SELECT 1 FROM cards h WHERE h.household_code = c.household_code AND h.phone IS NOT NULL AND "
    + _REACHABLE_PHONE.format(phone="h.phone") + ")))"
)
# The owner of the phone said "no more reminders" on some channel.
_OPTED_OUT_PHONE = (
    "EXISTS (SELECT 1 FROM contact_phones cp JOIN reminder_prefs p ON p.channel = cp.channel"
    " AND p.user_id = cp.user_id WHERE cp.phone = {phone} AND p.opted_out = 1)"
)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _local(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class ZnsOutboxMixin:
    """ZNS rows of ``reminder_outbox`` (mixed into storage.sqlite.reminders.ReminderRepository)."""

    db: Database

    async def queue_zns(self, campaigns: Sequence[tuple[str, SelectionWindow]], now: datetime) -> int:
        """Queue one ZNS per phone on a legal-basis list with a card due in these campaigns,
        unless a chat reminder covers it, its owner opted out or refused the OA, or a reminder
        (any channel) about that expiry exists or is open; returns how many were queued."""
        queued = 0
        async with self.db.transaction() as conn:
            for campaign_code, window in campaigns:
                queued += await self._queue_zns_one(conn, campaign_code, window, now)
        return queued

    @staticmethod
    async def _queue_zns_one(
        conn: aiosqlite.Connection, campaign_code: str, window: SelectionWindow, now: datetime
    ) -> int:
        params = {
            "campaign": campaign_code,
            "lf": window.lapsed_from.isoformat(),
            "lu": window.lapsed_until.isoformat(),
            "today": window.today.isoformat(),
            "eu": window.expiring_until.isoformat() if window.expiring_until else None,
            "now": _local(now),
            "oa_open_from": _utc(now - OA_FREE_WINDOW),
        }
        cur = await conn.execute(
            "INSERT INTO reminder_outbox(campaign_code, channel, user_id, phone, person_key, card_expiry,"
            " seq, unit_code, queued_at, queued_on)"
            " SELECT :campaign, 'zns', NULL, d.phone, d.phone, d.card_expiry, 1, d.unit_code, :now, :today"
            " FROM (SELECT c.phone AS phone, MIN(c.valid_to) AS card_expiry, MIN(c.unit_code) AS unit_code"
            "       FROM cards c"
            "       WHERE c.phone IS NOT NULL AND c.contact_basis IS NOT NULL"
            "         AND ((c.valid_to BETWEEN :lf AND :lu)"
            "              OR (:eu IS NOT NULL AND c.valid_to BETWEEN :today AND :eu))"
            f"        AND NOT {RENEWED_SQL} AND NOT {CLAIMED_SQL} AND NOT {_COVERED_SQL}"
            "       GROUP BY c.phone) d"
            " WHERE NOT EXISTS (SELECT 1 FROM reminder_outbox o WHERE o.person_key = d.phone"
            "                   AND (o.card_expiry = d.card_expiry"
            "                        OR o.status IN ('pending', 'sending', 'unknown')))"
            f"  AND NOT {_OPTED_OUT_PHONE.format(phone='d.phone')}"
            "   AND NOT EXISTS (SELECT 1 FROM reminder_outbox o WHERE o.channel = 'zns'"
            "                   AND o.phone = d.phone AND o.error_class = 'refused_by_user')"
            " ORDER BY d.phone"
            " ON CONFLICT DO NOTHING",
            params,
        )
        return int(cur.rowcount)

    async def next_pending_zns(self, now: datetime, after_id: int = 0, limit: int = 200) -> list[ZnsRow]:
        """Pending ZNS rows whose time has come, oldest first."""
        rows = await self.db.fetchall(
            "SELECT id, campaign_code, phone, card_expiry, unit_code, attempts FROM reminder_outbox"
            " WHERE status = 'pending' AND channel = 'zns' AND id > ?"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
            (after_id, _utc(now), limit),
        )
        return [ZnsRow(*row) for row in rows]

    async def claim_zns(
        self, row_id: int, attempt_id: str, now: datetime, lease_until: datetime | None = None, owner: str | None = None
    ) -> str:
        """'sending' with the attempt id and the tracking id, held by ``owner`` until
        ``lease_until``, committed before the request;
        returns 'claimed', or why not: 'gone' (no longer pending), 'opted_out' or 'linked'
        (someone linked the phone on a chat channel since: the chat reminder covers them)."""
        oa_open_from = _utc(now - OA_FREE_WINDOW)
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT o.status, " + _OPTED_OUT_PHONE.format(phone="o.phone") + ", "
                + _REACHABLE_PHONE.format(phone="o.phone")
                + " FROM reminder_outbox o WHERE o.id = :id AND o.channel = 'zns'",
                {"id": row_id, "oa_open_from": oa_open_from},
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[0] != "pending":
                return "gone"
            reason = "opted_out" if row[1] else "linked" if row[2] else None
            if reason is not None:
                await conn.execute(
                    "UPDATE reminder_outbox SET status = 'skipped', error = ?, done_at = ?, done_on = ?"
                    " WHERE id = ?",
                    (reason, _local(now), now.date().isoformat(), row_id),
                )
                return reason
            await conn.execute(
                "UPDATE reminder_outbox SET status = 'sending', attempt_id = ?, attempts = attempts + 1,"
                " claimed_at = ?, tracking_id = ?, claimed_by = ?, lease_until = ? WHERE id = ?",
                (attempt_id, _local(now), tracking_id(row_id), owner,
                 None if lease_until is None else _utc(lease_until), row_id),
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
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = ?, message_id = ?, error = ?, error_class = ?,"
                " cost = ?, done_at = ?, done_on = ? WHERE id = ? AND attempt_id = ? AND status = 'sending'",
                (status, message_id, error, error_class, cost, _local(now), now.date().isoformat(),
                 row_id, attempt_id),
            )
            if cur.rowcount == 0 and message_id is not None:
                # The receipt won the race: keep 'delivered', add what only the answer knew.
                await conn.execute(
                    "UPDATE reminder_outbox SET message_id = ?, cost = ? WHERE id = ? AND attempt_id = ?"
                    " AND status = 'delivered'",
                    (message_id, cost, row_id, attempt_id),
                )
            return cur.rowcount > 0

    async def retry_zns(
        self, row_id: int, attempt_id: str, next_at: datetime, error: str, error_class: str, counted: bool = True
    ) -> bool:
        """Nothing was sent: back to 'pending', not before ``next_at``, the reason kept.
        ``counted`` False (night, quota, a stopped queue, the hours): the attempt is not the
        row's fault and does not count towards giving it up."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = 'pending', next_attempt_at = ?, error = ?,"
                " error_class = ?, attempts = attempts - ? WHERE id = ? AND attempt_id = ?"
                " AND status = 'sending'",
                (_utc(next_at), error, error_class, 0 if counted else 1, row_id, attempt_id),
            )
            return cur.rowcount > 0

    async def reconcile_receipt(
        self, tracking: str | None, msg_id: str | None, delivered_at: datetime, cost: int
    ) -> bool:
        """Zalo's delivery receipt: the ZNS row it names (by tracking id, else by message id)
        becomes 'delivered'; an 'unknown' row is thereby settled (and charged ``cost``).
        Returns whether a row changed (a repeated receipt changes nothing)."""
        if not tracking and not msg_id:
            return False
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reminder_outbox SET status = 'delivered', delivered_at = ?,"
                " message_id = COALESCE(message_id, ?),"
                " cost = CASE WHEN cost = 0 THEN ? ELSE cost END,"
                " done_at = COALESCE(done_at, ?), done_on = COALESCE(done_on, ?)"
                " WHERE channel = 'zns' AND status IN ('sending', 'sent', 'unknown')"
                " AND (tracking_id = ? OR (? IS NOT NULL AND message_id = ?))",
                (_utc(delivered_at), msg_id, cost, _local(delivered_at), delivered_at.date().isoformat(),
                 tracking, msg_id, msg_id),
            )
            return cur.rowcount > 0

    async def unknown_zns(self, limit: int = 500) -> list[UnknownZns]:
        """ZNS rows whose outcome is still unknown, oldest first, phones masked."""
        rows = await self.db.fetchall(
            "SELECT id, campaign_code, phone, unit_code, claimed_at, error FROM reminder_outbox"
            " WHERE channel = 'zns' AND status = 'unknown' ORDER BY id LIMIT ?",
            (limit,),
        )
        return [UnknownZns(r[0], r[1], mask_phone(r[2] or ""), r[3], r[4], r[5]) for r in rows]

    async def units_with_reminders(self) -> list[tuple[str]]:
        """Unit codes that have reminder rows (for the command-line figures of every unit)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT unit_code FROM reminder_outbox WHERE unit_code IS NOT NULL ORDER BY unit_code"
        )
        return [(str(row[0]),) for row in rows]

    async def zns_backlog(self) -> int:
        """ZNS rows still waiting to go (pending)."""
        value = await self.db.fetchval(
            "SELECT COUNT(*) FROM reminder_outbox WHERE channel = 'zns' AND status = 'pending'"
        )
        return int(value or 0)

    # ----------------------------------------------------------------- Zalo OA followers

    async def record_follower(self, user_id: int, following: bool, at: datetime) -> None:
        """A follow (or unfollow) event of the person our tables call ``user_id``."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO zalo_followers(user_id, following, last_interaction_at, changed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET following = excluded.following,"
                " changed_at = excluded.changed_at",
                (user_id, int(following), _utc(at) if following else None, _utc(at)),
            )

    async def record_interaction(self, user_id: int, at: datetime) -> None:
        """The person wrote to the OA at ``at``: the free window opens again (writing implies
        following)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO zalo_followers(user_id, following, last_interaction_at, changed_at)"
                " VALUES (?, 1, ?, ?) ON CONFLICT(user_id) DO UPDATE SET following = 1,"
                " last_interaction_at = excluded.last_interaction_at, changed_at = excluded.changed_at",
                (user_id, _utc(at), _utc(at)),
            )
