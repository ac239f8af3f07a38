"""Repository of the officials' summaries: subscriptions and the exactly-once sending ledger.

The ledger (`summary_runs`, migration 0030) is claimed before anything is sent: the primary key
(member, kind, local date) makes a second claim on the same day fail, whichever process or
restart tries it. See scheduler/summaries.py for the crash window this leaves and why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.records import KIND_DAILY, KIND_WEEKLY, PARTS, SUMMARY_ROLES, Recipient, SummaryPrefs, SummaryRun
from storage.sqlite.db import Database

_PREF_COLUMN = {KIND_DAILY: "daily", KIND_WEEKLY: "weekly"}
_PREF_DEFAULT = {KIND_DAILY: 1, KIND_WEEKLY: 0}


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _lease(moment: datetime | None) -> str | None:
    """A lease's end (or now, to compare with one) as stored: UTC ISO text; None: no lease."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


class SummaryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- subscriptions ----------------------------------------------------------------------

    async def prefs(self, member_id: int) -> SummaryPrefs:
        row = await self.db.fetchone(
            "SELECT daily, weekly FROM summary_prefs WHERE member_id = ?", (member_id,)
        )
        if row is None:
            return SummaryPrefs(member_id)
        return SummaryPrefs(member_id, bool(row[0]), bool(row[1]))

    async def set_pref(self, member_id: int, kind: str, on: bool, at: datetime) -> SummaryPrefs:
        """Turn the daily summary or the weekly digest on or off; returns the new prefs."""
        column = _PREF_COLUMN[kind]
        other = _PREF_COLUMN[KIND_WEEKLY if kind == KIND_DAILY else KIND_DAILY]
        other_default = _PREF_DEFAULT[KIND_WEEKLY if kind == KIND_DAILY else KIND_DAILY]
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO summary_prefs(member_id, {column}, {other}, changed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(member_id) DO UPDATE SET"
                f" {column} = excluded.{column}, changed_at = excluded.changed_at",
                (member_id, int(on), other_default, _stamp(at)),
            )
        return await self.prefs(member_id)

    # ---- who is due --------------------------------------------------------------------------

    async def due(self, kind: str, day: date, limit: int | None = None) -> list[Recipient]:
        """Subscribed officials and team leaders, on every channel, without a finished summary
        of `kind` for `day`.

        A member with no ledger row is due; one with a `claimed` row (parts left, none in
        flight) is resumed from `parts_done`. `sending`, `sent`, `uncertain` and `failed`
        rows are never due again that day.
        """
        column = _PREF_COLUMN[kind]
        roles = ", ".join(f"'{r}'" for r in SUMMARY_ROLES)
        sql = (
            "SELECT m.id, m.user_id, m.full_name, m.role, m.unit_code, m.channel, COALESCE(r.parts_done, 0)"
            " FROM members m"
            " LEFT JOIN summary_prefs p ON p.member_id = m.id"
            " LEFT JOIN summary_runs r ON r.member_id = m.id AND r.kind = ? AND r.local_date = ?"
            " WHERE m.active = 1 AND m.user_id IS NOT NULL"
            f" AND m.role IN ({roles})"
            f" AND COALESCE(p.{column}, ?) = 1"
            " AND (r.member_id IS NULL OR r.status = 'claimed')"
            " ORDER BY m.unit_code, m.id"
        )
        params: list[object] = [kind, day.isoformat(), _PREF_DEFAULT[kind]]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = await self.db.fetchall(sql, params)
        return [Recipient(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], int(r[6])) for r in rows]

    # ---- the ledger --------------------------------------------------------------------------

    async def claim(
        self,
        recipient: Recipient,
        kind: str,
        day: date,
        at: datetime,
        lease_until: datetime | None = None,
        owner: str | None = None,
    ) -> int | None:
        """Claim the (member, kind, day) summary for ``owner`` until ``lease_until``; returns
        the parts already done, or None when it is not ours to send (already sent, in flight,
        uncertain or failed, or resumable but held by another owner whose lease has not ended:
        that instance is still sending it). A single writer makes this a compare-and-set."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO summary_runs(member_id, kind, local_date, unit_code, chat_id,"
                " status, parts_done, claimed_at, claimed_by, lease_until)"
                " VALUES (?, ?, ?, ?, ?, 'claimed', 0, ?, ?, ?)"
                " ON CONFLICT(member_id, kind, local_date) DO NOTHING",
                (recipient.member_id, kind, day.isoformat(), recipient.unit_code,
                 recipient.chat_id, _stamp(at), owner, _lease(lease_until)),
            )
            if cur.rowcount == 1:
                return 0
            cur = await conn.execute(
                "UPDATE summary_runs SET claimed_by = ?, lease_until = ?"
                " WHERE member_id = ? AND kind = ? AND local_date = ? AND status = 'claimed'"
                " AND (claimed_by IS ? OR lease_until IS NULL OR lease_until <= ?)",
                (owner, _lease(lease_until), recipient.member_id, kind, day.isoformat(), owner, _lease(at)),
            )
            if cur.rowcount != 1:
                return None
            async with conn.execute(
                "SELECT parts_done FROM summary_runs WHERE member_id = ? AND kind = ? AND local_date = ?",
                (recipient.member_id, kind, day.isoformat()),
            ) as found:
                row = await found.fetchone()
        return None if row is None else int(row[0])

    async def start_part(
        self, member_id: int, kind: str, day: date, part: int, lease_until: datetime | None = None
    ) -> bool:
        """Mark one part in flight right before its request (the lease renewed to
        ``lease_until``); False if the row moved on."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE summary_runs SET status = 'sending', attempts = attempts + 1, lease_until = ?"
                " WHERE member_id = ? AND kind = ? AND local_date = ? AND status = 'claimed'"
                " AND parts_done = ?",
                (_lease(lease_until), member_id, kind, day.isoformat(), part),
            )
            return cur.rowcount == 1

    async def release(self, member_id: int, kind: str, day: date, owner: str | None) -> None:
        """``owner`` stops working on a run it claimed and left resumable ('claimed': shut down,
        or told to retry later): its lease ends now, so any instance may resume it at once."""
        await self.db.execute(
            "UPDATE summary_runs SET lease_until = NULL WHERE member_id = ? AND kind = ? AND local_date = ?"
            " AND status = 'claimed' AND claimed_by IS ?",
            (member_id, kind, day.isoformat(), owner),
        )

    async def part_done(
        self, member_id: int, kind: str, day: date, part: int, at: datetime
    ) -> None:
        """Record a delivered part; the last one finishes the run."""
        status = "sent" if part + 1 >= PARTS else "claimed"
        await self.db.execute(
            "UPDATE summary_runs SET parts_done = ?, status = ?,"
            " done_at = CASE WHEN ? = 'sent' THEN ? ELSE done_at END"
            " WHERE member_id = ? AND kind = ? AND local_date = ? AND status = 'sending'",
            (part + 1, status, status, _stamp(at), member_id, kind, day.isoformat()),
        )

    async def part_retry(self, member_id: int, kind: str, day: date, error: str) -> None:
        """The request certainly did not go out (Telegram said retry later): due again."""
        await self.db.execute(
            "UPDATE summary_runs SET status = 'claimed', error = ?"
            " WHERE member_id = ? AND kind = ? AND local_date = ? AND status = 'sending'",
            (error, member_id, kind, day.isoformat()),
        )

    async def hold(self, member_id: int, kind: str, day: date, reason: str) -> None:
        """A claimed run that cannot be sent now (no sender for the member's channel): it stays
        'claimed' (due again every round) with `reason` as its error, so it is visible."""
        await self.db.execute(
            "UPDATE summary_runs SET error = ?"
            " WHERE member_id = ? AND kind = ? AND local_date = ? AND status = 'claimed'"
            " AND error IS NOT ?",
            (reason, member_id, kind, day.isoformat(), reason),
        )

    async def finish(
        self, member_id: int, kind: str, day: date, status: str, error: str | None, at: datetime
    ) -> None:
        """End a run as failed or uncertain (never re-sent that day)."""
        assert status in ("failed", "uncertain")
        await self.db.execute(
            "UPDATE summary_runs SET status = ?, error = ?, done_at = ?"
            " WHERE member_id = ? AND kind = ? AND local_date = ?"
            " AND status IN ('claimed', 'sending')",
            (status, error, _stamp(at), member_id, kind, day.isoformat()),
        )

    async def part_uncertain(
        self, member_id: int, kind: str, day: date, part: int, error: str, at: datetime
    ) -> None:
        """A part whose request may or may not have arrived: count it as done (never re-sent)
        and let the run go on with the next part; after the last part the run is `uncertain`."""
        await self.db.execute(
            "UPDATE summary_runs SET parts_done = ?, error = ?,"
            " status = CASE WHEN ? >= ? THEN 'uncertain' ELSE 'claimed' END,"
            " done_at = CASE WHEN ? >= ? THEN ? ELSE done_at END"
            " WHERE member_id = ? AND kind = ? AND local_date = ? AND status = 'sending'",
            (part + 1, error, part + 1, PARTS, part + 1, PARTS, _stamp(at),
             member_id, kind, day.isoformat()),
        )

    async def recover_interrupted(self, at: datetime) -> int:
        """Parts left `sending` whose lease ended by `at`: done, uncertain.

        A lease outlives any request of a live process (scheduler/leases.py), so such a part
        belongs to a process that died mid-request; another instance's part in flight is left
        alone. The part is never sent again; the run resumes with its next part (if any, and
        if still today), by whichever instance claims it next.
        """
        if await self.db.fetchone("SELECT 1 FROM summary_runs WHERE status = 'sending' LIMIT 1") is None:
            return 0  # the usual case: no write, so ticks never contend for the write lock
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE summary_runs SET parts_done = parts_done + 1, error = 'interrupted',"
                " status = CASE WHEN parts_done + 1 >= ? THEN 'uncertain' ELSE 'claimed' END,"
                " done_at = CASE WHEN parts_done + 1 >= ? THEN ? ELSE done_at END"
                " WHERE status = 'sending' AND (lease_until IS NULL OR lease_until <= ?)",
                (PARTS, PARTS, _stamp(at), _lease(at)),
            )
            return cur.rowcount

    async def runs(self, day: date, kind: str | None = None) -> list[SummaryRun]:
        sql = (
            "SELECT member_id, kind, local_date, unit_code, chat_id, status, parts_done, attempts,"
            " claimed_at, done_at, error FROM summary_runs WHERE local_date = ?"
        )
        params: list[object] = [day.isoformat()]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        rows = await self.db.fetchall(sql + " ORDER BY member_id, kind", params)
        return [
            SummaryRun(
                int(r[0]), r[1], date.fromisoformat(r[2]), r[3], int(r[4]), r[5], int(r[6]),
                int(r[7]), r[8], r[9], r[10],
            )
            for r in rows
        ]
