"""The Zalo channel's seam to the conversation core (bot/chat/router.py).

The core answers with every kind of output; the OA can show replies only: a pop-up `Alert` is
sent as a plain reply when nothing else answers the press, and `SwapButtons` (no edits on the
OA) and `Menu` (no per-person command menu on the OA) are dropped, as their docstrings allow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat.model import Alert, Incoming, Profile, Reply
from bot.chat.rich import t
from bot.chat.router import Conversations
from handlers.zalo.worker import Conversation


def conversation_of(conversations: Conversations) -> Conversation:
    """The `Conversation` the Zalo worker calls, over the one conversation core."""

    async def converse(event: Incoming) -> Sequence[Reply]:
        # Zalo's events carry no names; an empty profile still records that the person wrote
        # (chat_users), which reminders and the agents' lists rely on.
        outputs = await conversations.handle(event, Profile())
        replies = [output for output in outputs if isinstance(output, Reply)]
        if replies:
            return replies
        return [Reply(t(output.text)) for output in outputs if isinstance(output, Alert)]

    return converse
