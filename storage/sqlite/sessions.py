"""Conversation sessions and channel identities in SQLite (migration 0041).

Sessions are small JSON objects a flow owns (bot/chat/sessions.py); writing one replaces it
whole, so a reader never sees half of a draft. Identities give a channel's text ids the integer
user id every other table uses.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.sqlite.db import Database


class SessionRepository:
    """`bot.chat.sessions.SessionStore` on the SQLite file."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, channel: str, user_id: int, name: str) -> dict[str, Any] | None:
        """One session of one person (for tools and tests; the core reads them `all` at once)."""
        return (await self.all(channel, user_id)).get(name)

    async def all(self, channel: str, user_id: int) -> dict[str, dict[str, Any]]:
        """Every session of one person, by name (one read per turn: bot.chat.sessions.Session)."""
        rows = await self.db.fetchall(
            "SELECT name, value FROM chat_sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
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
        async with self.db.transaction() as conn:
            for name, value in changes.items():
                if value is None:
                    await conn.execute(
                        "DELETE FROM chat_sessions WHERE channel = ? AND user_id = ? AND name = ?",
                        (channel, user_id, name),
                    )
                else:
                    await conn.execute(
                        "INSERT INTO chat_sessions(channel, user_id, name, value, updated_at) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT(channel, user_id, name) DO UPDATE SET value = excluded.value,"
                        " updated_at = excluded.updated_at",
                        (channel, user_id, name, json.dumps(value, ensure_ascii=False), stamp),
                    )


class IdentityRepository:
    """Integer user ids for channels whose ids are text (`bot.chat.sessions.IdentityStore`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def user_id(self, channel: str, external_id: str, at: datetime) -> int:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO chat_identities(channel, external_id, created_at) VALUES (?, ?, ?)",
                (channel, external_id, at.isoformat(timespec="seconds")),
            )
            cursor = await conn.execute(
                "SELECT id FROM chat_identities WHERE channel = ? AND external_id = ?", (channel, external_id)
            )
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def external_id(self, channel: str, user_id: int) -> str | None:
        value = await self.db.fetchval(
            "SELECT external_id FROM chat_identities WHERE channel = ? AND id = ?", (channel, user_id)
        )
        return None if value is None else str(value)
