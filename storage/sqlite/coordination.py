"""Coordination between bot processes sharing one SQLite file (migration 0044).

The same guarantees as on PostgreSQL (storage/postgresql/coordination.py), by the same SQL
where the dialects agree: a send slot is one upsert that only counts while the second has room
(`ON CONFLICT ... DO UPDATE ... WHERE used < limit RETURNING used`, SQLite >= 3.35), and a tick
is claimed by the one insert that creates its row. One file is normally one process, so these
mostly cost a write; they still hold when a second process (a CLI round, a test worker) shares
the file, because every write goes through SQLite's one writer. Times come from the database's
clock (`julianday('now')`), as on PostgreSQL.
"""

from __future__ import annotations

import math

from storage.sqlite.db import Database

#: The database clock in Unix seconds, to the millisecond.
_CLOCK = "(julianday('now') - 2440587.5) * 86400.0"

TAKE_SLOT = (
    "INSERT INTO send_slots(channel, second, used) VALUES (?, ?, 1)"
    " ON CONFLICT(channel, second) DO UPDATE SET used = send_slots.used + 1 WHERE send_slots.used < ?"
    " RETURNING used"
)


class SqliteCoordination:
    """`storage.contract.CoordinationStore` on the SQLite file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take_send_slot(self, channel: str, limit: int) -> float:
        """One send of `channel` in the current second (0.0), or the wait for the next one."""
        async with self._db.transaction() as conn:
            async with conn.execute(f"SELECT {_CLOCK}") as cursor:
                row = await cursor.fetchone()
            now = float(row[0]) if row is not None else 0.0
            second = math.floor(now)
            async with conn.execute(TAKE_SLOT, (channel, second, limit)) as cursor:
                taken = await cursor.fetchone()
        return 0.0 if taken is not None else max(0.0, second + 1 - now)

    async def purge_send_slots(self, older_than: float) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"DELETE FROM send_slots WHERE second < {_CLOCK} - ?", (older_than,)
            )
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
