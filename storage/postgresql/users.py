"""People who have talked to the bot (per channel), on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from bot.domain.records import ChatUser
from storage.postgresql.db import Database


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        at: datetime,
        channel: str,
    ) -> None:
        """Record that a person wrote to the bot (first and last contact): one upsert."""
        stamp = at.isoformat(timespec="seconds")
        await self.db.execute(
            "INSERT INTO chat_users(channel, user_id, first_name, last_name, username,"
            " first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $6)"
            " ON CONFLICT(channel, user_id) DO UPDATE SET first_name = excluded.first_name,"
            " last_name = excluded.last_name, username = excluded.username,"
            " last_seen = excluded.last_seen",
            channel, user_id, first_name[:128], last_name, username, stamp,
        )

    async def get(self, user_id: int, channel: str) -> ChatUser | None:
        row = await self.db.fetchrow(
            "SELECT channel, user_id, first_name, last_name, username FROM chat_users"
            " WHERE channel = $1 AND user_id = $2",
            channel, user_id,
        )
        return None if row is None else ChatUser(*row)
