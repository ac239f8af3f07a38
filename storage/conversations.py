"""Repository of a channel library's conversation state (PTB's user_data, chat_data, states).

Rows are JSON text keyed by user, chat or (conversation name, key), written as they change, so a
person half-way through a question continues where they were after a restart.
"""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database


def _key_to_text(key: tuple[Any, ...]) -> str:
    return json.dumps(list(key))


def _key_from_text(text: str) -> tuple[Any, ...]:
    return tuple(json.loads(text))


class ConversationStateRepository:
    """`storage.contract.ConversationStore` over tables ptb_user_data, ptb_chat_data and
    ptb_conversations. Reads connect first: the channel library may read before start-up ends."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def user_data(self) -> dict[int, dict[Any, Any]]:
        await self.db.connect()
        rows = await self.db.fetchall("SELECT user_id, data FROM ptb_user_data")
        return {row["user_id"]: json.loads(row["data"]) for row in rows}

    async def chat_data(self) -> dict[int, dict[Any, Any]]:
        await self.db.connect()
        rows = await self.db.fetchall("SELECT chat_id, data FROM ptb_chat_data")
        return {row["chat_id"]: json.loads(row["data"]) for row in rows}

    async def conversations(self, name: str) -> dict[tuple[Any, ...], object]:
        await self.db.connect()
        rows = await self.db.fetchall(
            "SELECT conv_key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {_key_from_text(row["conv_key"]): json.loads(row["state"]) for row in rows}

    async def set_conversation(self, name: str, key: tuple[Any, ...], state: object | None) -> None:
        if state is None:
            await self.db.execute(
                "DELETE FROM ptb_conversations WHERE name = ? AND conv_key = ?",
                (name, _key_to_text(key)),
            )
            return
        await self.db.execute(
            "INSERT INTO ptb_conversations(name, conv_key, state) VALUES (?, ?, ?)"
            " ON CONFLICT(name, conv_key) DO UPDATE SET state = excluded.state",
            (name, _key_to_text(key), json.dumps(state)),
        )

    async def set_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await self.db.execute(
            "INSERT INTO ptb_user_data(user_id, data) VALUES (?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET data = excluded.data",
            (user_id, json.dumps(data, default=str)),
        )

    async def set_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        await self.db.execute(
            "INSERT INTO ptb_chat_data(chat_id, data) VALUES (?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET data = excluded.data",
            (chat_id, json.dumps(data, default=str)),
        )

    async def drop_user_data(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM ptb_user_data WHERE user_id = ?", (user_id,))

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.db.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (chat_id,))
