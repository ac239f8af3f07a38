"""Handlers every role shares: who wrote (for roles and reminders) and the error safety net."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot import replies
from bot.context import BotContext

log = logging.getLogger(__name__)

TRACK_GROUP = -1


async def track_user(update: Update, context: BotContext) -> None:
    """Remember the sender (name, username, when) before any other handler runs."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    await context.services.users.seen(
        user.id, user.first_name or "", user.last_name, user.username, context.services.clock.now()
    )


async def on_error(update: object, context: BotContext) -> None:
    """Log without personal data and tell the person something went wrong, never silence."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, replies.INTERNAL_ERROR)
        except Exception:  # the chat may be unreachable; the log above is what matters
            log.warning("could not tell chat about the error of update %s", update_id)


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, track_user), group=TRACK_GROUP)
    application.add_error_handler(on_error)
