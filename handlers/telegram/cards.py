"""A temporary bridge: the lapsed-card updates go to the conversation core (bot/chat/flows/cards.py).

The feature itself moved to the cards flow. This module only routes its updates (/hethan,
/dunglai, /nhac, /danhsach, contacts, documents, "rc:" buttons) to the adapter from this slot
in handlers/telegram/routing.py, because the citizens' old catch-all handlers, registered after
it and before the adapter, would otherwise take them. It makes no decision and holds no text.
Delete it (and its line in REGISTRARS) once the citizen flow has moved to the core.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.chat.router import NoFlowAnswered
from handlers.telegram import adapter, citizen
from handlers.telegram.context import BotContext

COMMANDS = ("hethan", "dunglai", "nhac", "danhsach")


async def on_document(update: Update, context: BotContext) -> None:
    """A document through the core; one no flow takes (a citizen's photo sent as a file) gets
    the citizens' usual reply, as the citizen flow's fallback will once it has moved."""
    try:
        await adapter.on_update(update, context)
    except NoFlowAnswered:
        await citizen.on_other_message(update, context)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler(list(COMMANDS), adapter.on_update, filters=private))
    application.add_handler(MessageHandler(private & filters.CONTACT, adapter.on_update))
    application.add_handler(MessageHandler(private & filters.Document.ALL, on_document))
    application.add_handler(CallbackQueryHandler(adapter.on_update, pattern=r"^rc:"))
