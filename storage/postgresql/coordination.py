"""Coordination between bot instances sharing one PostgreSQL database (migration 0044).

- A send slot is one statement and one round trip: the database's clock names the second
  (`clock_timestamp()`, so instances whose own clocks disagree still count the same second),
  and the upsert counts the send only while that second has room
  (`ON CONFLICT ... DO UPDATE ... WHERE used < limit`). Concurrent takers of one second queue
  on its row lock, so the count never passes the limit.
- A tick of a scheduled job is claimed by the one `INSERT ... ON CONFLICT DO NOTHING` that
  creates its row; every other instance's insert changes nothing and it skips the tick. The
  claim holds no lock and no lease: an instance that dies mid-job costs that one tick, and the
  next tick is a new row anyone can claim.
"""

from __future__ import annotations

from storage.postgresql.db import Database

TAKE_SLOT = """
WITH clock AS MATERIALIZED (SELECT extract(epoch FROM clock_timestamp())::float8 AS t),
taken AS (
    INSERT INTO send_slots(channel, second, used)
    SELECT $1, floor(t)::bigint, 1 FROM clock
    ON CONFLICT (channel, second) DO UPDATE SET used = send_slots.used + 1 WHERE send_slots.used < $2
    RETURNING used
)
SELECT (SELECT t FROM clock) AS t, (SELECT used FROM taken) AS used
"""


class PostgresCoordination:
    """`storage.contract.CoordinationStore` on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take_send_slot(self, channel: str, limit: int) -> float:
        """One send of `channel` in the current second (0.0), or the wait for the next one."""
        row = await self._db.fetchrow(TAKE_SLOT, channel, limit)
        assert row is not None
        if row["used"] is not None:
            return 0.0
        now = float(row["t"])
        return max(0.0, float(int(now) + 1) - now)

    async def purge_send_slots(self, older_than: float) -> int:
        return await self._db.execute(
            "DELETE FROM send_slots WHERE second < extract(epoch FROM clock_timestamp()) - $1", older_than
        )

    async def claim_tick(self, job: str, tick: int, instance: str, keep: int) -> bool:
        async with self._db.transaction() as tx:
            claimed = (
                await tx.execute(
                    "INSERT INTO job_runs(job, tick, instance) VALUES ($1, $2, $3) ON CONFLICT (job, tick) DO NOTHING",
                    job, tick, instance,
                )
                == 1
            )
            if claimed:
                await tx.execute("DELETE FROM job_runs WHERE job = $1 AND tick < $2", job, tick - keep)
            return claimed
