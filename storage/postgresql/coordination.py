"""Coordination between bot instances sharing one PostgreSQL database (migration 0044).

- A send is reserved by one statement, one round trip: the upsert moves the stream's last
  release time on by the spacing, or to now when that is past, and returns how long to wait
  for it. The time is the database's (`statement_timestamp()`), so instances whose own clocks
  disagree still share one pace; concurrent reservations queue on the stream's row lock, so
  no two get the same release time.
- The pace spaces reservations; what each instance actually releases can bunch (an instance
  whose event loop stalls wakes its waiters together). The hard rule is a window counted on
  admissions: one upsert right before each request admits it only when fewer than the limit
  were admitted in the last window, by every instance together; the row keeps the latest
  admissions as an array, updated under the row's lock, so the count is exact.
- A tick of a scheduled job is claimed by the one `INSERT ... ON CONFLICT DO NOTHING` that
  creates its row; every other instance's insert changes nothing and it skips the tick. The
  claim holds no lock and no lease: an instance that dies mid-job costs that one tick, and the
  next tick is a new row anyone can claim.
- A channel's pause (migration 0046) is one row per channel, its end in UTC ISO text (as the
  leases keep theirs); the upsert keeps the later end under the row's lock and returns the
  one in force, so a pause only ever moves later, whichever instance writes first.
"""

from __future__ import annotations

from datetime import datetime

from storage.postgresql.db import Database
from storage.sqlite.coordination import iso_utc

PAUSE = (
    "INSERT INTO channel_pauses AS p (channel, paused_until, reason) VALUES ($1, $2, $3)"
    " ON CONFLICT (channel) DO UPDATE SET paused_until = GREATEST(p.paused_until, excluded.paused_until),"
    " reason = CASE WHEN excluded.paused_until > p.paused_until THEN excluded.reason ELSE p.reason END"
    " RETURNING paused_until"
)

_CLOCK = "extract(epoch FROM statement_timestamp())::float8"

RESERVE = (
    f"INSERT INTO send_pace(stream, last_at) VALUES ($1, {_CLOCK})"
    " ON CONFLICT (stream) DO UPDATE SET last_at = GREATEST(send_pace.last_at + $2, excluded.last_at)"
    f" RETURNING last_at - {_CLOCK}"
)

ADMIT = (
    f"WITH c(now) AS (SELECT {_CLOCK})"
    " INSERT INTO send_window AS w (stream, released, checked_at, admitted)"
    " SELECT $1, ARRAY[c.now], c.now, true FROM c"
    " ON CONFLICT (stream) DO UPDATE SET"
    " admitted = (cardinality(w.released) < $2 OR w.released[cardinality(w.released) - $2 + 1] <= excluded.checked_at - $3),"
    " released = CASE WHEN cardinality(w.released) < $2"
    " OR w.released[cardinality(w.released) - $2 + 1] <= excluded.checked_at - $3"
    " THEN (w.released || excluded.checked_at)[greatest(1, cardinality(w.released) + 2 - $2):] ELSE w.released END,"
    " checked_at = excluded.checked_at"
    " RETURNING CASE WHEN admitted THEN 0.0"
    " ELSE released[cardinality(released) - $2 + 1] + $3 - checked_at END"
)


class PostgresCoordination:
    """`storage.contract.CoordinationStore` on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve_send(self, stream: str, spacing: float) -> float:
        """The next release of `stream`, `spacing` after the last one or now; seconds to wait."""
        wait = await self._db.fetchval(RESERVE, stream, float(spacing))
        return max(0.0, float(wait or 0.0))

    async def admit_send(self, stream: str, limit: int, window: float) -> float:
        """Admit one send of `stream` now unless `limit` were admitted in the last `window` s."""
        wait = await self._db.fetchval(ADMIT, stream, int(limit), float(window))
        return max(0.0, float(wait or 0.0))

    async def purge_sends(self, idle_for: float) -> int:
        return await self._db.execute(f"DELETE FROM send_pace WHERE last_at < {_CLOCK} - $1", float(idle_for))

    async def claim_tick(self, job: str, tick: int, instance: str, keep: int) -> bool:
        async with self._db.transaction() as tx:
            claimed = (
                await tx.execute(
                    "INSERT INTO job_runs(job, tick, instance, started_at) VALUES ($1, $2, $3,"
                    " to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"
                    " ON CONFLICT (job, tick) DO NOTHING",
                    job, tick, instance,
                )
                == 1
            )
            if claimed:
                await tx.execute("DELETE FROM job_runs WHERE job = $1 AND tick < $2", job, tick - keep)
            return claimed

    async def pause_channel(self, channel: str, until: datetime, reason: str) -> datetime:
        """Pause `channel` until `until` for every instance (only ever later); the end in force."""
        kept = await self._db.fetchval(PAUSE, channel, iso_utc(until), reason)
        return datetime.fromisoformat(str(kept))

    async def channel_paused_until(self, channel: str, now: datetime) -> tuple[datetime, str] | None:
        """The pause of `channel` still in force at `now`, or None."""
        row = await self._db.fetchrow(
            "SELECT paused_until, reason FROM channel_pauses WHERE channel = $1 AND paused_until > $2",
            channel, iso_utc(now),
        )
        return None if row is None else (datetime.fromisoformat(row[0]), str(row[1]))
