"""What a conversation remembers between two messages of one person, owned by the flows.

A session is a small JSON object under a name ("cost": the question being asked, "ghi": the
/ghi draft), stored by the storage engine, not in a channel library's memory: a restart, or
another instance of the bot, continues the conversation where it was. Flows read and write
their own names through `Session`, bound to the person of the turn.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Protocol

from bot.chat.model import TELEGRAM, Person


class SessionStore(Protocol):
    """Sessions by (channel, user id, name): `all` of one person, one turn's changes in one `write`."""

    async def all(self, channel: str, user_id: int) -> dict[str, dict[str, Any]]: ...

    async def write(
        self, channel: str, user_id: int, changes: dict[str, dict[str, Any] | None], at: datetime
    ) -> None: ...



class IdentityStore(Protocol):
    """The integer user id of a person whose channel id is text (one per (channel, id))."""

    async def user_id(self, channel: str, external_id: str, at: datetime) -> int: ...

    async def external_id(self, channel: str, user_id: int) -> str | None: ...


# Channels whose ids are already the integers the tables use (Telegram's user ids).
NUMERIC_ID_CHANNELS: frozenset[str] = frozenset({TELEGRAM.name})


async def resolve_user_id(identities: IdentityStore, person: Person, at: datetime) -> int:
    """The integer id of `person` in the bot's tables: Telegram's own id, else an identity row."""
    if person.channel in NUMERIC_ID_CHANNELS and person.id.isascii() and person.id.isdigit():
        return int(person.id)
    return await identities.user_id(person.channel, person.id, at)


class Session:
    """The sessions of one person, as the flows see them during one turn.

    The first read loads every session of the person at once; changes are kept and written in
    one transaction by `flush` when the turn has been answered (the router calls it). So a
    message costs one read and at most one write, and a turn that fails half-way leaves the
    sessions as they were: never half of a draft."""

    def __init__(self, store: SessionStore, channel: str, user_id: int, now: datetime) -> None:
        self._store = store
        self._channel = channel
        self._user_id = user_id
        self._now = now
        self._values: dict[str, dict[str, Any]] | None = None
        self._changes: dict[str, dict[str, Any] | None] = {}

    async def _loaded(self) -> dict[str, dict[str, Any]]:
        if self._values is None:
            self._values = await self._store.all(self._channel, self._user_id)
        return self._values

    async def get(self, name: str) -> dict[str, Any] | None:
        """A copy of the session `name`, or None; changing it changes nothing until `put`."""
        value = (await self._loaded()).get(name)
        return None if value is None else copy.deepcopy(value)

    async def put(self, name: str, value: dict[str, Any]) -> None:
        (await self._loaded())[name] = copy.deepcopy(value)
        self._changes[name] = copy.deepcopy(value)

    async def clear(self, name: str) -> None:
        values = await self._loaded()
        if name in values:
            del values[name]
            self._changes[name] = None
        else:
            self._changes.pop(name, None)

    async def flush(self) -> None:
        """Write this turn's changes, if any, in one transaction."""
        if self._changes:
            changes, self._changes = self._changes, {}
            await self._store.write(self._channel, self._user_id, changes, self._now)
