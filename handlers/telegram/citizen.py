"""Shim for the Telegram handlers not yet moved to the conversation core (agent, cards).

The citizen conversation lives in bot/chat/flows/citizen.py. The old /ghi conversation
(handlers/telegram/agent.py) and the document handler (handlers/telegram/cards.py) still hand
some updates to "the citizen's answer"; these names pass such an update to the core, which
answers it exactly as if no older handler had taken it. Delete this module once those two
modules have moved into bot/chat/flows.
"""

from __future__ import annotations

from telegram import Update

from handlers.telegram.adapter import on_update
from handlers.telegram.context import BotContext

__all__ = ["bhxh_command", "bhyt_command", "on_other_message", "on_text", "start"]


async def _to_core(update: Update, context: BotContext) -> None:
    await on_update(update, context)


start = _to_core
bhyt_command = _to_core
bhxh_command = _to_core
on_text = _to_core
on_other_message = _to_core
