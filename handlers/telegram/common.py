"""The error safety net of the Telegram channel: log without personal data, tell the person.

Who wrote, their role, their menu and the button gate are the conversation core's
(bot/chat/router.py); this module only catches what escaped a handler.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application

from bot.chat.texts import cost as replies
from bot.logsafety import describe_exception
from handlers.telegram.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log without personal data and tell the person something went wrong, never silence.

    The log carries the exception's type and stack, not its message nor local values: a
    message may quote what the person typed (a phone number in an argument)."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s: %s", update_id, describe_exception(context.error))
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, replies.INTERNAL_ERROR)
        except Exception:  # the chat may be unreachable; the log above is what matters
            log.warning("could not tell chat about the error of update %s", update_id)


def register(application: Application) -> None:
    application.add_error_handler(on_error)
