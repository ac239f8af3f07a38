"""What the scheduled fan-outs send through: one `Sender` per channel, chosen by the person.

`Senders` is built by the wiring from the channels that are configured (handlers/telegram/app.py
adds Telegram's; a Zalo adapter adds its own). The reminder outbox and the summary ledger look
up the sender of each row's channel; a channel with no sender leaves its rows waiting with a
reason, counted in the round's report, never marked done.

Two optional extras a sender may offer, both channel-neutral:

- `Paced`: the sender keeps its channel's rates itself (Telegram: 30 a second overall, 1 a
  second per chat for bulk sends). The reminder round then reserves the person's slot right
  after claiming a row and sends in it (`send_reserved`), so no database write sits between the
  slot's release and the request; and it leaves rows for a later round when the channel paused
  every send for longer than `max_wait`.
- `ChannelDown`: raised by `send` when the channel as a whole cannot send (a refused bot token):
  not an answer about this message, so no `SendResult` fits; the round stops and the row waits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeAlias, runtime_checkable

from bot.chat.model import Person, Reply, Sender, SendResult

__all__ = ["ChannelDown", "Paced", "Senders", "paced"]

Senders: TypeAlias = Mapping[str, Sender]


class ChannelDown(Exception):
    """The channel refuses every send (credentials refused): stop, keep the row for later.

    `reason` is short and holds no personal data (it is logged and stored)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Paced(Protocol):
    """A sender that paces its channel's sends itself (see the module docstring)."""

    @property
    def pacing(self) -> bool:
        """False when this sender does not pace right now (e.g. no rate limiter installed);
        the caller then spaces and waits out RetryAfter itself."""
        ...

    @property
    def max_wait(self) -> float:
        """The longest RetryAfter (seconds) worth waiting for in line; longer ones leave the
        row for a later round, not before the pause ends."""
        ...

    def paused_for(self) -> float:
        """Seconds left of a pause of every send on this channel (0: none)."""
        ...

    async def reserve(self, person: Person) -> None:
        """Wait for, and take, the slot of one message to `person` now (honouring any pause
        the channel asked for)."""
        ...

    async def send_reserved(self, person: Person, reply: Reply) -> SendResult:
        """`send`, using the slot taken by the `reserve` just before for its first message."""
        ...


def paced(sender: Sender) -> Paced | None:
    """`sender` as a `Paced` one when it paces its channel right now, else None."""
    if isinstance(sender, Paced) and sender.pacing:
        return sender
    return None
