"""What a conversation flow is: handlers of a `Turn` returning neutral outputs, and a `Flow`
that declares which commands, button prefixes and kinds of message it answers.

A flow never sees a channel: it reads `turn.event` (bot.chat.model.Incoming), calls the
services, keeps what it must remember in `turn.session`, and returns `Out` values (Reply,
Alert, SwapButtons, Menu) that every channel adapter can render. The router
(bot/chat/router.py) picks the handler; the command table (bot/chat/commands.py) says who may
use what and what the menus show.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.chat.model import Command, Incoming, Out, Person, Press, Profile, Text
from bot.chat.sessions import Session

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.access import Actor


@dataclass(frozen=True, slots=True)
class Turn:
    """One incoming event with everything a flow needs to answer it."""

    event: Incoming
    user_id: int  # the person's id in the bot's tables (bot.chat.sessions.resolve_user_id)
    actor: Actor
    services: Services
    session: Session
    now: datetime
    profile: Profile | None = None

    @property
    def person(self) -> Person:
        return self.event.person

    @property
    def channel(self) -> str:
        return self.event.person.channel

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def text(self) -> str:
        """The typed text of a Text event ("" for any other event)."""
        return self.event.text if isinstance(self.event, Text) else ""

    @property
    def args(self) -> tuple[str, ...]:
        """The arguments of a Command event (empty for any other event)."""
        return self.event.args if isinstance(self.event, Command) else ()

    @property
    def payload(self) -> str:
        """The payload of a Press event ("" for any other event)."""
        return self.event.payload if isinstance(self.event, Press) else ""

    @property
    def first_name(self) -> str:
        return self.profile.first_name if self.profile is not None else ""


Handler = Callable[[Turn], Awaitable[Sequence[Out]]]
# A handler that may pass: None means "not mine", and the router asks the next flow.
MaybeHandler = Callable[[Turn], Awaitable[Sequence[Out] | None]]


@dataclass(frozen=True)
class Flow:
    """One conversation feature and what it answers.

    `commands`: command name (no slash) -> handler. `buttons`: payload prefix (a key of
    `bot.chat.commands.BUTTON_ROLES`) -> handler. The `on_*` hooks are tried flow by flow in the
    router's order until one answers: `on_text` for typed text (a flow with an open session
    claims it), `on_phone` for PhoneShared and ForeignContact, `on_document` for DocumentIn,
    `on_other` for anything left (unknown commands and buttons, stickers...).

    `before` sees every event first, in flow order, before any flow answers it: a flow with an
    open session uses it to end that session when the person has moved on (an expired draft,
    another feature's command), returning what to say about it (or nothing). It never answers
    the event: the event is then dispatched as usual, to whichever flow claims it.
    """

    name: str
    commands: Mapping[str, Handler] = field(default_factory=dict)
    buttons: Mapping[str, Handler] = field(default_factory=dict)
    on_text: MaybeHandler | None = None
    on_phone: MaybeHandler | None = None
    on_document: MaybeHandler | None = None
    on_other: MaybeHandler | None = None
    before: Handler | None = None
