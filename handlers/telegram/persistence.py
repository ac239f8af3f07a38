"""python-telegram-bot persistence in the bot's own storage (whatever engine it is).

PTB keeps `user_data`, `chat_data` and conversation states in memory and hands them to a
persistence every `update_interval` seconds and at shutdown. Storing them here, next to the
domain data, means a person half-way through a question continues where they were after a
restart. Values are JSON: handlers keep only plain dicts, lists, strings and numbers there.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.contract import ConversationStore


class StoragePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB persistence on the storage's `ConversationStore`. bot_data is not stored: it holds
    live services."""

    def __init__(self, store: ConversationStore, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.store = store

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return await self.store.user_data()

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return await self.store.chat_data()

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        return dict(await self.store.conversations(name))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self.store.set_conversation(name, key, new_state)

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await self.store.set_user_data(user_id, data)

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        await self.store.set_chat_data(chat_id, data)

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.store.drop_chat_data(chat_id)

    async def drop_user_data(self, user_id: int) -> None:
        await self.store.drop_user_data(user_id)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        """Every update is written as it comes; nothing is buffered here."""
        return None
