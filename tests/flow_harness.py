"""A recording channel: drive the conversation core without any chat platform.

`FlowWorld` builds the real services (production `build_services`) on a SQLite file and the
real `Conversations` with every flow; `RecordingChat` sends neutral events as one person and
keeps what the core answered, with helpers that read replies as a person would (visible text,
button labels and payloads). Flow tests use it to check every conversation once for every
channel; the Telegram and Zalo end-to-end tests check the adapters on top.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.bootstrap import build_services
from bot.chat.flows import build_conversations
from bot.chat.model import (
    Alert,
    Button,
    Command,
    DocumentIn,
    ForeignContact,
    Menu,
    Out,
    Person,
    PhoneShared,
    Press,
    Profile,
    Reply,
    SwapButtons,
    Text,
)
from bot.chat.router import Conversations
from bot.domain.clock import ManualClock
from bot.services import Services
from bot.settings import Settings
from storage.sqlite.sessions import IdentityRepository, SessionRepository


class RecordingChat:
    """One person talking to the core on one channel; `outputs` keeps every answer."""

    def __init__(self, conversations: Conversations, person: Person, profile: Profile | None = None) -> None:
        self.conversations = conversations
        self.person = person
        self.profile = profile or Profile("Lan")
        self.outputs: list[Out] = []
        self.last: list[Out] = []

    async def _handle(self, event: Any) -> list[Out]:
        self.last = await self.conversations.handle(event, self.profile)
        self.outputs.extend(self.last)
        return self.last

    async def text(self, text: str) -> list[Out]:
        if text.startswith("/"):
            head, *args = text.split()
            return await self._handle(Command(self.person, head[1:].lower(), tuple(args)))
        return await self._handle(Text(self.person, text))

    async def press(self, payload: str) -> list[Out]:
        return await self._handle(Press(self.person, payload))

    async def press_label(self, label_part: str) -> list[Out]:
        """Press the first button of the last answer whose label contains `label_part`."""
        for button in self.buttons():
            if label_part in button.label and button.payload is not None:
                return await self.press(button.payload)
        raise AssertionError(f"no button with {label_part!r} in {[b.label for b in self.buttons()]}")

    async def phone(self, phone: str) -> list[Out]:
        return await self._handle(PhoneShared(self.person, phone))

    async def foreign_contact(self) -> list[Out]:
        return await self._handle(ForeignContact(self.person))

    async def document(self, filename: str, content: bytes, size: int | None = None) -> list[Out]:
        async def fetch() -> bytes:
            return content

        return await self._handle(DocumentIn(self.person, filename, len(content) if size is None else size, fetch))

    # --- reading the last answer ---------------------------------------------------------

    def replies(self) -> list[Reply]:
        return [o for o in self.last if isinstance(o, Reply)]

    def said(self) -> str:
        """The visible text of the last answer's replies (and alerts), joined by blank lines."""
        parts = [o.text.plain if isinstance(o, Reply) else o.text for o in self.last if isinstance(o, Reply | Alert)]
        return "\n\n".join(parts)

    def buttons(self) -> list[Button]:
        found = [b for r in self.replies() for b in r.flat_buttons]
        found += [b for o in self.last if isinstance(o, SwapButtons) for row in o.buttons for b in row]
        return found

    def labels(self) -> list[str]:
        return [b.label for b in self.buttons()]

    def files(self) -> list[Any]:
        return [f for r in self.replies() for f in r.files]

    def menus(self) -> list[Menu]:
        return [o for o in self.last if isinstance(o, Menu)]


class FlowWorld:
    """The real services and conversation core on one SQLite file, with a manual clock."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self.settings = settings
        self.clock = clock
        self.services: Services = build_services(settings, clock)
        db = self.services.storage.db
        self.conversations = build_conversations(self.services, SessionRepository(db), IdentityRepository(db))

    def chat(self, user_id: int | str, channel: str = "telegram", first_name: str = "Lan") -> RecordingChat:
        return RecordingChat(self.conversations, Person(channel, str(user_id)), Profile(first_name))


@asynccontextmanager
async def flow_world(db_path: Path, clock: ManualClock, **overrides: Any) -> AsyncIterator[FlowWorld]:
    """Open a `FlowWorld` (database connected and migrated) and close it afterwards."""
    values: dict[str, Any] = {"database_path": db_path, "admin_telegram_ids": (900001,)}
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    world = FlowWorld(settings, clock)
    await world.services.storage.connect()
    try:
        yield world
    finally:
        await world.services.storage.close()
