"""python-telegram-bot persistence in the bot's own SQLite file.

PTB keeps `user_data`, `chat_data` and conversation states in memory and hands them to a
persistence every `update_interval` seconds and at shutdown. Storing them here, next to the
domain data, means a person half-way through a question continues where they were after a
restart. Values are JSON: handlers keep only plain dicts, lists, strings and numbers there.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database


def _key_to_text(key: ConversationKey) -> str:
    return json.dumps(list(key))


def _key_from_text(text: str) -> ConversationKey:
    return tuple(json.loads(text))


class SQLitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB persistence backed by `Database`. bot_data is not stored: it holds live services."""

    def __init__(self, db: Database, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db

    async def _rows(self, sql: str) -> list[Any]:
        await self.db.connect()
        return await self.db.fetchall(sql)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        rows = await self._rows("SELECT user_id, data FROM ptb_user_data")
        return {row["user_id"]: json.loads(row["data"]) for row in rows}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        rows = await self._rows("SELECT chat_id, data FROM ptb_chat_data")
        return {row["chat_id"]: json.loads(row["data"]) for row in rows}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        await self.db.connect()
        rows = await self.db.fetchall(
            "SELECT conv_key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {_key_from_text(row["conv_key"]): json.loads(row["state"]) for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        if new_state is None:
            await self.db.execute(
                "DELETE FROM ptb_conversations WHERE name = ? AND conv_key = ?",
                (name, _key_to_text(key)),
            )
            return
        await self.db.execute(
            "INSERT INTO ptb_conversations(name, conv_key, state) VALUES (?, ?, ?)"
            " ON CONFLICT(name, conv_key) DO UPDATE SET state = excluded.state",
            (name, _key_to_text(key), json.dumps(new_state)),
        )

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await self.db.execute(
            "INSERT INTO ptb_user_data(user_id, data) VALUES (?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET data = excluded.data",
            (user_id, json.dumps(data, default=str)),
        )

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        await self.db.execute(
            "INSERT INTO ptb_chat_data(chat_id, data) VALUES (?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET data = excluded.data",
            (chat_id, json.dumps(data, default=str)),
        )

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.db.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (chat_id,))

    async def drop_user_data(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM ptb_user_data WHERE user_id = ?", (user_id,))

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        """Every update is written as it comes; nothing is buffered here."""
        return None
