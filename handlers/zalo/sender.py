"""Zalo OA's `Sender`: a neutral reply to a follower, outside a conversation, as consultation
messages (`/v3.0/oa/message/cs`) through the renderer; every answer one `SendResult`.

The scheduler names people by the id in our tables (`Person("zalo_oa", "<user id>")`, the
integer the conversation core gave them); the OA needs the follower's Zalo id, which the
identity store keeps. A person it does not know is `Refused` (nobody to write to).

Zalo's answers (classified in handlers/zalo/errors.py) map to one result, so the reminder
outbox and the summary ledger see no Zalo exception:

- accepted -> `Delivered`;
- OUTSIDE_WINDOW (the follower has not written within Zalo's window, no proactive quota) and
  NEVER_RETRY -> `Refused(reason)`: this message cannot go now;
- RETRY_LATER and REFRESH_TOKEN (a second refusal of a fresh token) -> `RetryAfter`: nothing
  was sent, the row may go again later;
- STOP_QUEUE (quota, scope, re-authorisation needed) -> raises `ChannelDown`: no message can
  go until a person acts, so the round stops on this channel and the row waits;
- UNKNOWN_OUTCOME, and a reply whose first messages went out before a later one failed ->
  `Unknown`: Zalo may have delivered it; never resent automatically.
"""

from __future__ import annotations

from typing import Protocol

from bot.chat.model import (
    ZALO_OA,
    Capabilities,
    Delivered,
    Person,
    Refused,
    Reply,
    RetryAfter,
    SendResult,
    Unknown,
)
from scheduler.sending import ChannelDown

from .errors import ErrorClass
from .render import ZaloRenderer

__all__ = ["RETRY_LATER_SECONDS", "ZaloIdentities", "ZaloSender"]

RETRY_LATER_SECONDS = 60.0  # Zalo names no wait; a minute keeps a transient fault off the row


class ZaloIdentities(Protocol):
    """The follower's Zalo id for the id in our tables (bot.chat.sessions.IdentityStore)."""

    async def external_id(self, channel: str, user_id: int) -> str | None: ...


class ZaloSender:
    """`bot.chat.model.Sender` over the OA client and renderer of a running Zalo channel."""

    def __init__(self, renderer: ZaloRenderer, identities: ZaloIdentities) -> None:
        self._renderer = renderer
        self._identities = identities

    @property
    def capabilities(self) -> Capabilities:
        return ZALO_OA

    async def send(self, person: Person, reply: Reply) -> SendResult:
        """Send `reply` to the follower `person` names; never raises for Zalo's answer
        (ChannelDown when the whole channel is stopped, see the module docstring)."""
        if person.channel != ZALO_OA.name:
            raise ValueError(f"a Zalo sender cannot write to a {person.channel!r} person")
        zalo_id = await self._zalo_id(person)
        if zalo_id is None:
            return Refused("no Zalo id known for this person")
        rendered = await self._renderer.send(zalo_id, [reply])
        error = rendered.error
        if error is None:
            return Delivered()
        reason = f"zalo {error.code}: {error.reason}"
        if rendered.sent:
            return Unknown(f"partial: {rendered.sent} message(s) sent, then {reason}")
        if error.cls is ErrorClass.STOP_QUEUE:
            raise ChannelDown(reason)
        if error.cls is ErrorClass.UNKNOWN_OUTCOME:
            return Unknown(reason)
        if error.cls in (ErrorClass.RETRY_LATER, ErrorClass.REFRESH_TOKEN):
            return RetryAfter(RETRY_LATER_SECONDS)
        return Refused(reason)  # OUTSIDE_WINDOW, NEVER_RETRY

    async def _zalo_id(self, person: Person) -> str | None:
        if not (person.id.isascii() and person.id.isdigit()):
            return None
        return await self._identities.external_id(ZALO_OA.name, int(person.id))
