"""The one entry of every conversation: a neutral event in, neutral outputs out.

`Conversations.handle` records who wrote, resolves their role, refuses a button their role may
not press (bot.chat.commands.BUTTON_ROLES) before any flow sees it, hands the event to the first flow
that answers it, and appends the person's new command menu when their role changed. Channel
adapters call only this; flows never see a channel.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.chat.commands import BUTTON_NOT_ALLOWED, BUTTON_ROLES, commands_for, may_press
from bot.chat.flow import Flow, Handler, MaybeHandler, Turn
from bot.chat.model import (
    Alert,
    Command,
    DocumentIn,
    ForeignContact,
    Incoming,
    Menu,
    Out,
    PhoneShared,
    Press,
    Profile,
    Reply,
    Text,
)
from bot.chat.rich import t
from bot.chat.sessions import IdentityStore, Session, SessionStore, resolve_user_id
from bot.domain.roles import Role

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.access import Actor

log = logging.getLogger(__name__)

MENU_SESSION = "menu"


class NoFlowAnswered(RuntimeError):
    """No flow answered an event: a wiring error (the citizen flow answers anything)."""


class Conversations:
    """Dispatches events to `flows`, in order; the last flow should answer anything."""

    def __init__(
        self,
        services: Services,
        flows: Sequence[Flow],
        sessions: SessionStore,
        identities: IdentityStore,
    ) -> None:
        self.services = services
        self.flows = tuple(flows)
        self.sessions = sessions
        self.identities = identities
        self._commands: dict[str, Handler] = {}
        self._buttons: list[tuple[str, Handler]] = []
        for flow in self.flows:
            for name, handler in flow.commands.items():
                if name in self._commands:
                    raise ValueError(f"command /{name} is declared by two flows")
                self._commands[name] = handler
            for prefix, handler in flow.buttons.items():
                if prefix not in BUTTON_ROLES:
                    raise ValueError(f"button prefix {prefix!r} is not in bot.chat.commands.BUTTON_ROLES")
                self._buttons.append((prefix, handler))
        self._buttons.sort(key=lambda item: -len(item[0]))

    @property
    def command_names(self) -> frozenset[str]:
        """Every command some flow answers (adapters register exactly these)."""
        return frozenset(self._commands)

    async def handle(self, event: Incoming, profile: Profile | None = None) -> list[Out]:
        """Answer one event. Raises only for programming errors; bad input is answered."""
        services = self.services
        now = services.clock.now()
        person = event.person
        user_id = await resolve_user_id(self.identities, person, now)
        if profile is not None:
            await services.users.seen(
                user_id, profile.first_name, profile.last_name, profile.username, now, channel=person.channel
            )
        actor = await services.access.actor(user_id, person.channel)
        session = Session(self.sessions, person.channel, user_id, now)
        turn = Turn(event, user_id, actor, services, session, now, profile)
        said: list[Out] = []
        for flow in self.flows:
            if flow.before is not None:
                said.extend(await flow.before(turn))
        outputs = [*said, *await self._dispatch(turn)]
        menu = await self._menu_change(turn, await services.access.actor(user_id, person.channel))
        if menu is not None:
            outputs.append(menu)
        await session.flush()
        return outputs

    async def _dispatch(self, turn: Turn) -> Sequence[Out]:
        event = turn.event
        if isinstance(event, Command):
            handler = self._commands.get(event.name.lower())
            if handler is not None:
                return await handler(turn)
        elif isinstance(event, Press):
            if not may_press(turn.actor.role, event.payload):
                return [Alert(BUTTON_NOT_ALLOWED), Reply(t(BUTTON_NOT_ALLOWED))]
            for prefix, handler in self._buttons:
                if event.payload.startswith(prefix):
                    return await handler(turn)
        elif isinstance(event, Text):
            answered = await self._first(turn, [f.on_text for f in self.flows])
            if answered is not None:
                return answered
        elif isinstance(event, PhoneShared | ForeignContact):
            answered = await self._first(turn, [f.on_phone for f in self.flows])
            if answered is not None:
                return answered
        elif isinstance(event, DocumentIn):
            answered = await self._first(turn, [f.on_document for f in self.flows])
            if answered is not None:
                return answered
        answered = await self._first(turn, [f.on_other for f in self.flows])
        if answered is None:
            raise NoFlowAnswered(type(event).__name__)
        return answered

    @staticmethod
    async def _first(turn: Turn, hooks: list[MaybeHandler | None]) -> Sequence[Out] | None:
        for hook in hooks:
            if hook is None:
                continue
            answered = await hook(turn)
            if answered is not None:
                return answered
        return None

    async def _menu_change(self, turn: Turn, actor: Actor) -> Menu | None:
        """The role's menu when it differs from the one last shown (citizens: the default).
        `actor` is resolved after the flow ran, so joining or leaving shows at once."""
        shown = (await turn.session.get(MENU_SESSION) or {}).get("role", Role.CITIZEN.value)
        role = actor.role
        if shown == role.value:
            return None
        await turn.session.put(MENU_SESSION, {"role": role.value})
        entries = () if role == Role.CITIZEN else tuple(commands_for(role))
        return Menu(entries)
