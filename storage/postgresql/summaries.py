"""The officials' summaries on PostgreSQL: subscriptions and the exactly-once sending ledger.

The ledger's primary key (member, kind, local date) makes a second claim fail whichever instance
tries it (`INSERT ... ON CONFLICT DO NOTHING RETURNING`); every later step is a compare-and-set
on the row's status, so two instances never send one part twice.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.records import KIND_DAILY, KIND_WEEKLY, PARTS, SUMMARY_ROLES, Recipient, SummaryPrefs, SummaryRun
from storage.postgresql.db import Database
from storage.sqlite.summaries import _PREF_COLUMN, _PREF_DEFAULT, _lease, _stamp

_ROW = "member_id = $1 AND kind = $2 AND local_date = $3"


class SummaryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def prefs(self, member_id: int) -> SummaryPrefs:
        row = await self.db.fetchrow("SELECT daily, weekly FROM summary_prefs WHERE member_id = $1", member_id)
        if row is None:
            return SummaryPrefs(member_id)
        return SummaryPrefs(member_id, bool(row[0]), bool(row[1]))

    async def set_pref(self, member_id: int, kind: str, on: bool, at: datetime) -> SummaryPrefs:
        """Turn the daily summary or the weekly digest on or off; returns the new prefs."""
        column = _PREF_COLUMN[kind]
        other_kind = KIND_WEEKLY if kind == KIND_DAILY else KIND_DAILY
        await self.db.execute(
            f"INSERT INTO summary_prefs(member_id, {column}, {_PREF_COLUMN[other_kind]}, changed_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT(member_id) DO UPDATE SET"
            f" {column} = excluded.{column}, changed_at = excluded.changed_at",
            member_id, int(on), _PREF_DEFAULT[other_kind], _stamp(at),
        )
        return await self.prefs(member_id)

    async def due(self, kind: str, day: date, limit: int | None = None) -> list[Recipient]:
        """Subscribed officials and team leaders, on every channel, without a finished summary
        of `kind` for `day` (a `claimed` row is resumed from `parts_done`)."""
        column = _PREF_COLUMN[kind]
        roles = ", ".join(f"'{r}'" for r in SUMMARY_ROLES)
        sql = (
            "SELECT m.id, m.user_id, m.full_name, m.role, m.unit_code, m.channel, COALESCE(r.parts_done, 0)"
            " FROM members m"
            " LEFT JOIN summary_prefs p ON p.member_id = m.id"
            " LEFT JOIN summary_runs r ON r.member_id = m.id AND r.kind = $1 AND r.local_date = $2"
            " WHERE m.active = 1 AND m.user_id IS NOT NULL"
            f" AND m.role IN ({roles})"
            f" AND COALESCE(p.{column}, $3) = 1"
            " AND (r.member_id IS NULL OR r.status = 'claimed')"
            " ORDER BY m.unit_code, m.id"
        )
        params: list[object] = [kind, day.isoformat(), _PREF_DEFAULT[kind]]
        if limit is not None:
            sql += " LIMIT $4"
            params.append(limit)
        rows = await self.db.fetch(sql, *params)
        return [Recipient(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], int(r[6])) for r in rows]

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
        uncertain, failed, or held by another owner whose lease has not ended). A resumable
        run is taken `FOR UPDATE SKIP LOCKED`: an instance deciding it right now keeps it."""
        async with self.db.transaction() as tx:
            inserted = await tx.fetchrow(
                "INSERT INTO summary_runs(member_id, kind, local_date, unit_code, chat_id,"
                " status, parts_done, claimed_at, claimed_by, lease_until)"
                " VALUES ($1, $2, $3, $4, $5, 'claimed', 0, $6, $7, $8)"
                " ON CONFLICT(member_id, kind, local_date) DO NOTHING RETURNING parts_done",
                recipient.member_id, kind, day.isoformat(), recipient.unit_code, recipient.chat_id, _stamp(at),
                owner, _lease(lease_until),
            )
            if inserted is not None:
                return 0
            taken = await tx.fetchrow(
                "UPDATE summary_runs SET claimed_by = $4, lease_until = $5"
                " WHERE (member_id, kind, local_date) IN (SELECT member_id, kind, local_date FROM summary_runs"
                f"   WHERE {_ROW} AND status = 'claimed'"
                "   AND (claimed_by IS NOT DISTINCT FROM $4 OR lease_until IS NULL OR lease_until <= $6)"
                "   FOR UPDATE SKIP LOCKED)"
                " RETURNING parts_done",
                recipient.member_id, kind, day.isoformat(), owner, _lease(lease_until), _lease(at),
            )
        return None if taken is None else int(taken[0])

    async def start_part(
        self, member_id: int, kind: str, day: date, part: int, lease_until: datetime | None = None
    ) -> bool:
        """Mark one part in flight right before its request (the lease renewed to
        ``lease_until``); False if the row moved on."""
        changed = await self.db.execute(
            "UPDATE summary_runs SET status = 'sending', attempts = attempts + 1, lease_until = $5"
            f" WHERE {_ROW} AND status = 'claimed' AND parts_done = $4",
            member_id, kind, day.isoformat(), part, _lease(lease_until),
        )
        return changed == 1

    async def release(self, member_id: int, kind: str, day: date, owner: str | None) -> None:
        """``owner`` stops working on a run it left resumable: its lease ends now."""
        await self.db.execute(
            f"UPDATE summary_runs SET lease_until = NULL WHERE {_ROW} AND status = 'claimed'"
            " AND claimed_by IS NOT DISTINCT FROM $4",
            member_id, kind, day.isoformat(), owner,
        )

    async def part_done(self, member_id: int, kind: str, day: date, part: int, at: datetime) -> None:
        """Record a delivered part; the last one finishes the run."""
        status = "sent" if part + 1 >= PARTS else "claimed"
        await self.db.execute(
            "UPDATE summary_runs SET parts_done = $4, status = $5,"
            " done_at = CASE WHEN $5 = 'sent' THEN $6 ELSE done_at END"
            f" WHERE {_ROW} AND status = 'sending'",
            member_id, kind, day.isoformat(), part + 1, status, _stamp(at),
        )

    async def part_retry(self, member_id: int, kind: str, day: date, error: str) -> None:
        """The request certainly did not go out (Telegram said retry later): due again."""
        await self.db.execute(
            f"UPDATE summary_runs SET status = 'claimed', error = $4 WHERE {_ROW} AND status = 'sending'",
            member_id, kind, day.isoformat(), error,
        )

    async def hold(self, member_id: int, kind: str, day: date, reason: str) -> None:
        """A claimed run that cannot be sent now (no sender for the member's channel): it stays
        'claimed' (due again every round) with `reason` as its error, so it is visible."""
        await self.db.execute(
            f"UPDATE summary_runs SET error = $4 WHERE {_ROW} AND status = 'claimed' AND error IS DISTINCT FROM $4",
            member_id, kind, day.isoformat(), reason,
        )

    async def finish(
        self, member_id: int, kind: str, day: date, status: str, error: str | None, at: datetime
    ) -> None:
        """End a run as failed or uncertain (never re-sent that day)."""
        assert status in ("failed", "uncertain")
        await self.db.execute(
            "UPDATE summary_runs SET status = $4, error = $5, done_at = $6"
            f" WHERE {_ROW} AND status IN ('claimed', 'sending')",
            member_id, kind, day.isoformat(), status, error, _stamp(at),
        )

    async def part_uncertain(
        self, member_id: int, kind: str, day: date, part: int, error: str, at: datetime
    ) -> None:
        """A part whose request may or may not have arrived: count it as done (never re-sent)
        and let the run go on with the next part; after the last part the run is `uncertain`."""
        last = part + 1 >= PARTS
        await self.db.execute(
            "UPDATE summary_runs SET parts_done = $4, error = $5, status = $6,"
            " done_at = CASE WHEN $7::boolean THEN $8 ELSE done_at END"
            f" WHERE {_ROW} AND status = 'sending'",
            member_id, kind, day.isoformat(), part + 1, error, "uncertain" if last else "claimed", last, _stamp(at),
        )

    async def recover_interrupted(self, at: datetime) -> int:
        """Parts left `sending` whose lease ended by `at` (a dead process's): done, uncertain
        (see the SQLite engine); another live instance's part in flight is left alone."""
        if await self.db.fetchrow("SELECT 1 FROM summary_runs WHERE status = 'sending' LIMIT 1") is None:
            return 0
        return await self.db.execute(
            "UPDATE summary_runs SET parts_done = parts_done + 1, error = 'interrupted',"
            " status = CASE WHEN parts_done + 1 >= $1 THEN 'uncertain' ELSE 'claimed' END,"
            " done_at = CASE WHEN parts_done + 1 >= $1 THEN $2 ELSE done_at END"
            " WHERE status = 'sending' AND (lease_until IS NULL OR lease_until <= $3)",
            PARTS, _stamp(at), _lease(at),
        )

    async def runs(self, day: date, kind: str | None = None) -> list[SummaryRun]:
        sql = (
            "SELECT member_id, kind, local_date, unit_code, chat_id, status, parts_done, attempts,"
            " claimed_at, done_at, error FROM summary_runs WHERE local_date = $1"
        )
        params: list[object] = [day.isoformat()]
        if kind is not None:
            sql += " AND kind = $2"
            params.append(kind)
        rows = await self.db.fetch(sql + " ORDER BY member_id, kind", *params)
        return [
            SummaryRun(
                int(r[0]), r[1], date.fromisoformat(r[2]), r[3], int(r[4]), r[5], int(r[6]), int(r[7]), r[8], r[9], r[10]
            )
            for r in rows
        ]
