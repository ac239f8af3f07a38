"""The inbox of webhook events on PostgreSQL: stored once, leased, one person at a time.

The guarantees are the SQLite inbox's (storage/sqlite/inbox.py). `claim` picks the oldest
unfinished event of a person, which reads other rows than the one it takes, so row locks alone
would let two instances hand out two events of one person; each claim therefore takes an
advisory lock on the channel for its (short) transaction. Finishing is a compare-and-set on the
lease token, so a dead worker's late finish changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from bot.domain.inbox import InboxEvent
from storage.postgresql.db import Database
from storage.sqlite.inbox import _CLAIMABLE, DONE, FAILED, PENDING, WORKING, _parse, utc_text

log = logging.getLogger(__name__)

_CLAIMABLE_PG = _CLAIMABLE.replace(":channel", "$1").replace(":now", "$2")


class PostgresInbox:
    """`bot.domain.inbox.InboxStore` on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, channel: str, event_key: str, person_id: str | None, kind: str, payload: str, now: datetime
    ) -> bool:
        """Store the event unless its key is known; True when it was stored by this call."""
        changed = await self._db.execute(
            "INSERT INTO inbox(channel, event_key, person_id, kind, payload, received_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(channel, event_key) DO NOTHING",
            channel, event_key, person_id, kind, payload, utc_text(now),
        )
        return changed == 1

    async def claim(self, channel: str, now: datetime, lease: timedelta, max_attempts: int) -> InboxEvent | None:
        """The next event to handle under a lease of `lease`, or None (see the module docstring)."""
        stamp = utc_text(now)
        async with self._db.transaction() as tx:
            await tx.lock(f"inbox:{channel}")
            while True:
                row = await tx.fetchrow(_CLAIMABLE_PG, channel, stamp)
                if row is None:
                    return None
                if row["state"] == WORKING and row["attempts"] >= max_attempts:
                    await tx.execute(
                        "UPDATE inbox SET state = 'failed', lease_until = NULL, lease_token = NULL,"
                        " handled_at = $1, error = $2 WHERE id = $3",
                        stamp, f"abandoned after {row['attempts']} attempts", row["id"],
                    )
                    log.error("inbox event %s (%s) abandoned after %s attempts", row["id"], row["kind"], row["attempts"])
                    continue
                if row["state"] == WORKING:
                    log.warning("inbox event %s (%s): lease expired, taken over", row["id"], row["kind"])
                token = secrets.token_hex(8)
                await tx.execute(
                    "UPDATE inbox SET state = 'working', lease_until = $1, lease_token = $2,"
                    " attempts = attempts + 1 WHERE id = $3",
                    utc_text(now + lease), token, row["id"],
                )
                return InboxEvent(
                    id=row["id"],
                    channel=row["channel"],
                    event_key=row["event_key"],
                    person_id=row["person_id"],
                    kind=row["kind"],
                    payload=row["payload"],
                    attempts=row["attempts"] + 1,
                    lease_token=token,
                    received_at=_parse(row["received_at"]),
                )

    async def _finish(self, event: InboxEvent, sql: str, params: tuple[object, ...]) -> bool:
        n = len(params)
        ok = (
            await self._db.execute(
                sql + f" WHERE id = ${n + 1} AND state = 'working' AND lease_token = ${n + 2}",
                *params, event.id, event.lease_token,
            )
            == 1
        )
        if not ok:
            log.warning("inbox event %s: lease lost before it was finished; left to its new owner", event.id)
        return ok

    async def complete(self, event: InboxEvent, now: datetime, error: str | None = None) -> bool:
        """Done: the payload is cleared (it may hold personal data and is no longer needed)."""
        return await self._finish(
            event,
            "UPDATE inbox SET state = 'done', payload = NULL, lease_until = NULL, lease_token = NULL,"
            " handled_at = $1, error = $2",
            (utc_text(now), error),
        )

    async def retry_later(self, event: InboxEvent, now: datetime, not_before: datetime, error: str) -> bool:
        """Back to pending, claimable again from `not_before`."""
        return await self._finish(
            event,
            "UPDATE inbox SET state = 'pending', lease_until = $1, lease_token = NULL, error = $2",
            (utc_text(not_before), error),
        )

    async def fail(self, event: InboxEvent, now: datetime, error: str) -> bool:
        """Failed for good; the payload is kept for an operator to look at."""
        return await self._finish(
            event,
            "UPDATE inbox SET state = 'failed', lease_until = NULL, lease_token = NULL, handled_at = $1, error = $2",
            (utc_text(now), error),
        )

    async def purge_handled(self, before: datetime) -> int:
        """Delete done and failed rows handled before `before`; returns how many (see SQLite)."""
        return await self._db.execute(
            "DELETE FROM inbox WHERE state IN ('done', 'failed') AND handled_at < $1", utc_text(before)
        )

    async def counts(self, channel: str) -> dict[str, int]:
        """Rows per state (every state present, zero when none), for health checks and tests."""
        rows = await self._db.fetch("SELECT state, COUNT(*) FROM inbox WHERE channel = $1 GROUP BY state", channel)
        found = {state: 0 for state in (PENDING, WORKING, DONE, FAILED)}
        found.update({row[0]: int(row[1]) for row in rows})
        return found
