"""Conversation sessions and channel identities on PostgreSQL (see storage/sqlite/sessions.py).

A turn's changes are one transaction of upserts and deletes; an identity is
`INSERT ... ON CONFLICT DO NOTHING` then a read, so two instances meeting the same new person at
once give them one number.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.postgresql.db import Database


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, channel: str, user_id: int, name: str) -> dict[str, Any] | None:
        """One session of one person (for tools and tests; the core reads them `all` at once)."""
        return (await self.all(channel, user_id)).get(name)

    async def all(self, channel: str, user_id: int) -> dict[str, dict[str, Any]]:
        """Every session of one person, by name (one read per turn)."""
        rows = await self.db.fetch(
            "SELECT name, value FROM chat_sessions WHERE channel = $1 AND user_id = $2", channel, user_id
        )
        found: dict[str, dict[str, Any]] = {}
        for name, raw in rows:
            try:
                value = json.loads(raw)
            except ValueError:  # a row written by hand or by an older build: treated as absent
                continue
            if isinstance(value, dict):
                found[str(name)] = value
        return found

    async def write(
        self, channel: str, user_id: int, changes: dict[str, dict[str, Any] | None], at: datetime
    ) -> None:
        """Apply one turn's changes in one transaction: a value replaces, None deletes."""
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            for name, value in changes.items():
                if value is None:
                    await tx.execute(
                        "DELETE FROM chat_sessions WHERE channel = $1 AND user_id = $2 AND name = $3",
                        channel, user_id, name,
                    )
                else:
                    await tx.execute(
                        "INSERT INTO chat_sessions(channel, user_id, name, value, updated_at)"
                        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT(channel, user_id, name) DO UPDATE SET"
                        " value = excluded.value, updated_at = excluded.updated_at",
                        channel, user_id, name, json.dumps(value, ensure_ascii=False), stamp,
                    )


class IdentityRepository:
    """Integer user ids for channels whose ids are text."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def user_id(self, channel: str, external_id: str, at: datetime) -> int:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chat_identities(channel, external_id, created_at) VALUES ($1, $2, $3)"
                " ON CONFLICT(channel, external_id) DO NOTHING",
                channel, external_id, at.isoformat(timespec="seconds"),
            )
            value = await tx.fetchval(
                "SELECT id FROM chat_identities WHERE channel = $1 AND external_id = $2", channel, external_id
            )
        return int(value)

    async def external_id(self, channel: str, user_id: int) -> str | None:
        value = await self.db.fetchval(
            "SELECT external_id FROM chat_identities WHERE channel = $1 AND id = $2", channel, user_id
        )
        return None if value is None else str(value)
