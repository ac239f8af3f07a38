"""SQLite inbox of webhook events (migration 0040): stored once, leased, one person at a time.

Guarantees (each tested in tests/test_zalo_webhook.py and tests/test_inbox.py):
- `add` stores an event once per (channel, event_key): a retried delivery changes nothing;
- `claim` runs in one write transaction (Database serialises writers), so two workers never
  get the same row; it hands out only the oldest unfinished event of a person, so one
  person's events are handled in arrival order and never two at once;
- a claim is a lease: a worker that dies leaves a `working` row whose lease expires, after
  which the next claim takes it over (attempts + 1). The lease token makes a late finish by
  the dead worker's ghost a no-op;
- the payload (it may hold a phone number) is never logged, and is cleared once done.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from bot.domain.inbox import InboxEvent
from storage.sqlite.db import Database

log = logging.getLogger(__name__)

PENDING, WORKING, DONE, FAILED = "pending", "working", "done", "failed"

_CLAIMABLE = """
SELECT e.id, e.channel, e.event_key, e.person_id, e.kind, e.payload, e.attempts, e.received_at, e.state
FROM inbox AS e
WHERE e.channel = :channel
  AND e.state IN ('pending', 'working')
  AND (e.lease_until IS NULL OR e.lease_until <= :now)
  AND NOT EXISTS (
      SELECT 1 FROM inbox AS o
      WHERE o.channel = e.channel AND o.person_id = e.person_id
        AND o.state IN ('pending', 'working') AND o.id < e.id)
ORDER BY e.id
LIMIT 1
"""


def utc_text(moment: datetime) -> str:
    """The fixed-width UTC text this table stores: text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("inbox times must be aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class SqliteInbox:
    """`bot.domain.inbox.InboxStore` on the project's SQLite database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, channel: str, event_key: str, person_id: str | None, kind: str, payload: str, now: datetime
    ) -> bool:
        """Store the event unless its key is known; True when it was stored by this call."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO inbox(channel, event_key, person_id, kind, payload, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, event_key) DO NOTHING",
                (channel, event_key, person_id, kind, payload, utc_text(now)),
            )
            return cursor.rowcount == 1

    async def claim(
        self, channel: str, now: datetime, lease: timedelta, max_attempts: int
    ) -> InboxEvent | None:
        """The next event to handle under a lease of `lease`, or None (see the module docstring)."""
        stamp = utc_text(now)
        async with self._db.transaction() as conn:
            while True:
                async with conn.execute(_CLAIMABLE, {"channel": channel, "now": stamp}) as cursor:
                    row = await cursor.fetchone()
                if row is None:
                    return None
                if row["state"] == WORKING and row["attempts"] >= max_attempts:
                    # Taken over too often: each worker died on it. Stop handing it out.
                    await conn.execute(
                        "UPDATE inbox SET state = 'failed', lease_until = NULL, lease_token = NULL,"
                        " handled_at = ?, error = ? WHERE id = ?",
                        (stamp, f"abandoned after {row['attempts']} attempts", row["id"]),
                    )
                    log.error("inbox event %s (%s) abandoned after %s attempts", row["id"], row["kind"], row["attempts"])
                    continue
                if row["state"] == WORKING:
                    log.warning("inbox event %s (%s): lease expired, taken over", row["id"], row["kind"])
                token = secrets.token_hex(8)
                await conn.execute(
                    "UPDATE inbox SET state = 'working', lease_until = ?, lease_token = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (utc_text(now + lease), token, row["id"]),
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
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                sql + " WHERE id = ? AND state = 'working' AND lease_token = ?",
                (*params, event.id, event.lease_token),
            )
            ok = cursor.rowcount == 1
        if not ok:
            log.warning("inbox event %s: lease lost before it was finished; left to its new owner", event.id)
        return ok

    async def complete(self, event: InboxEvent, now: datetime, error: str | None = None) -> bool:
        """Done: the payload is cleared (it may hold personal data and is no longer needed)."""
        return await self._finish(
            event,
            "UPDATE inbox SET state = 'done', payload = NULL, lease_until = NULL, lease_token = NULL,"
            " handled_at = ?, error = ?",
            (utc_text(now), error),
        )

    async def retry_later(self, event: InboxEvent, now: datetime, not_before: datetime, error: str) -> bool:
        """Back to pending, claimable again from `not_before`."""
        return await self._finish(
            event,
            "UPDATE inbox SET state = 'pending', lease_until = ?, lease_token = NULL, error = ?",
            (utc_text(not_before), error),
        )

    async def fail(self, event: InboxEvent, now: datetime, error: str) -> bool:
        """Failed for good; the payload is kept for an operator to look at."""
        return await self._finish(
            event,
            "UPDATE inbox SET state = 'failed', lease_until = NULL, lease_token = NULL, handled_at = ?, error = ?",
            (utc_text(now), error),
        )

    async def purge_handled(self, before: datetime) -> int:
        """Delete done and failed rows handled before `before`; returns how many.

        Safe for de-duplication as long as `before` is older than the webhook's replay window
        (5 min): a retry older than that is refused by its timestamp before the inbox is asked.
        Keep a week or so for operators."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM inbox WHERE state IN ('done', 'failed') AND handled_at < ?", (utc_text(before),)
            )
            return cursor.rowcount

    async def counts(self, channel: str) -> dict[str, int]:
        """Rows per state (every state present, zero when none), for health checks and tests."""
        rows = await self._db.fetchall(
            "SELECT state, COUNT(*) FROM inbox WHERE channel = ? GROUP BY state", (channel,)
        )
        found = {state: 0 for state in (PENDING, WORKING, DONE, FAILED)}
        found.update({row[0]: row[1] for row in rows})
        return found


__all__ = ["DONE", "FAILED", "PENDING", "WORKING", "SqliteInbox", "utc_text"]
