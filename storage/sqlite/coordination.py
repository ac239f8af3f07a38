"""Coordination between bot processes sharing one SQLite file (migration 0044).

The same guarantees as on PostgreSQL (storage/postgresql/coordination.py), by the same SQL
where the dialects agree: a send is reserved by one upsert that moves the stream's last
release time on by the spacing (`ON CONFLICT ... DO UPDATE ... RETURNING`, SQLite >= 3.35), and
a tick is claimed by the one insert that creates its row. One file is normally one process, so
these mostly cost a write; they still hold when a second process (a CLI round, a test worker)
shares the file, because every write goes through SQLite's one writer. Times come from the
database's clock (`julianday('now')`, fixed within one statement), as on PostgreSQL. The
window of admissions behind the pace is a JSON array here (an array column there).

A channel's pause (migration 0046) is one row per channel, its end in UTC ISO text (as the
leases keep theirs, so it compares as text); the upsert keeps the later of the two ends, so
a pause only ever moves later, whichever instance writes first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.sqlite.db import Database

PAUSE = (
    "INSERT INTO channel_pauses(channel, paused_until, reason) VALUES (?, ?, ?)"
    " ON CONFLICT(channel) DO UPDATE SET paused_until = excluded.paused_until, reason = excluded.reason"
    " WHERE excluded.paused_until > channel_pauses.paused_until"
)


def iso_utc(moment: datetime) -> str:
    """An aware datetime as the schema keeps UTC times (ISO 8601 to the second, +00:00)."""
    if moment.tzinfo is None:
        raise ValueError("a pause's end must be an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")

#: The database clock in Unix seconds, to the millisecond; the same value throughout a statement.
_CLOCK = "((julianday('now') - 2440587.5) * 86400.0)"

RESERVE = (
    f"INSERT INTO send_pace(stream, last_at) VALUES (?, {_CLOCK})"
    " ON CONFLICT(stream) DO UPDATE SET last_at = max(send_pace.last_at + ?, excluded.last_at)"
    f" RETURNING last_at - {_CLOCK}"
)

#: Admitted: fewer than ?2 admissions in the last ?3 seconds (the ?2-th latest is older).
_ROOM = "(json_array_length(released) < ?2 OR json_extract(released, '$[#-' || ?2 || ']') <= excluded.checked_at - ?3)"

ADMIT = (
    f"INSERT INTO send_window(stream, released, checked_at, admitted) VALUES (?1, json_array({_CLOCK}), {_CLOCK}, 1)"
    f" ON CONFLICT(stream) DO UPDATE SET admitted = {_ROOM},"
    f" released = CASE WHEN {_ROOM} THEN (SELECT json_group_array(value) FROM (SELECT value FROM"
    " json_each(json_insert(released, '$[#]', excluded.checked_at)) WHERE key > json_array_length(released) - ?2"
    " ORDER BY key)) ELSE released END,"
    " checked_at = excluded.checked_at"
    " RETURNING CASE WHEN admitted THEN 0.0 ELSE json_extract(released, '$[#-' || ?2 || ']') + ?3 - checked_at END"
)


class SqliteCoordination:
    """`storage.contract.CoordinationStore` on the SQLite file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve_send(self, stream: str, spacing: float) -> float:
        """The next release of `stream`, `spacing` after the last one or now; seconds to wait."""
        async with self._db.transaction() as conn:
            async with conn.execute(RESERVE, (stream, spacing)) as cursor:
                row = await cursor.fetchone()
        return max(0.0, float(row[0])) if row is not None else 0.0

    async def admit_send(self, stream: str, limit: int, window: float) -> float:
        """Admit one send of `stream` now unless `limit` were admitted in the last `window` s."""
        async with self._db.transaction() as conn:
            async with conn.execute(ADMIT, (stream, int(limit), float(window))) as cursor:
                row = await cursor.fetchone()
        return max(0.0, float(row[0])) if row is not None else 0.0

    async def purge_sends(self, idle_for: float) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(f"DELETE FROM send_pace WHERE last_at < {_CLOCK} - ?", (idle_for,))
            return cursor.rowcount

    async def claim_tick(self, job: str, tick: int, instance: str, keep: int) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO job_runs(job, tick, instance, started_at)"
                " VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
                " ON CONFLICT(job, tick) DO NOTHING",
                (job, tick, instance),
            )
            claimed = cursor.rowcount == 1
            if claimed:
                await conn.execute("DELETE FROM job_runs WHERE job = ? AND tick < ?", (job, tick - keep))
            return claimed

    async def pause_channel(self, channel: str, until: datetime, reason: str) -> datetime:
        """Pause `channel` until `until` for every instance (only ever later); the end in force."""
        async with self._db.transaction() as conn:
            await conn.execute(PAUSE, (channel, iso_utc(until), reason))
            async with conn.execute("SELECT paused_until FROM channel_pauses WHERE channel = ?", (channel,)) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return datetime.fromisoformat(row[0])

    async def channel_paused_until(self, channel: str, now: datetime) -> tuple[datetime, str] | None:
        """The pause of `channel` still in force at `now`, or None."""
        row = await self._db.fetchone(
            "SELECT paused_until, reason FROM channel_pauses WHERE channel = ? AND paused_until > ?",
            (channel, iso_utc(now)),
        )
        return None if row is None else (datetime.fromisoformat(row[0]), str(row[1]))
