"""Handlers every role shares: who wrote (for roles and reminders) and the error safety net."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, TypeHandler

from bot.chat.commands import commands_for
from bot.chat.model import TELEGRAM
from bot.chat.texts import cost as replies
from bot.domain.roles import Role
from bot.logsafety import describe_exception
from bot.routes import BUTTON_NOT_ALLOWED, may_press
from handlers.telegram.context import BotContext

log = logging.getLogger(__name__)

TRACK_GROUP = -2
GATE_GROUP = -1  # after tracking, before every feature handler (group 0)
MENU_KEY = "menu_role"


async def track_user(update: Update, context: BotContext) -> None:
    """Remember the sender (name, username, when) before any other handler runs."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    await context.services.users.seen(
        user.id, user.first_name or "", user.last_name, user.username, context.services.clock.now(), channel=TELEGRAM.name
    )
    await _keep_menu_current(update, context)


async def _keep_menu_current(update: Update, context: BotContext) -> None:
    """Show each member the commands of their role; back to the default menu when it ends."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE or context.chat_data is None:
        return
    actor = await context.services.access.actor(update.effective_user.id, channel=TELEGRAM.name)  # type: ignore[union-attr]
    shown = context.chat_data.get(MENU_KEY, Role.CITIZEN.value)
    if shown == actor.role.value:
        return
    scope = BotCommandScopeChat(chat.id)
    try:
        if actor.role == Role.CITIZEN:
            await context.bot.delete_my_commands(scope=scope)
        else:
            commands = [BotCommand(c, d) for c, d in commands_for(actor.role)]
            await context.bot.set_my_commands(commands, scope=scope)
    except TelegramError:
        log.warning("could not update the command menu of a chat")
        return
    context.chat_data[MENU_KEY] = actor.role.value


async def gate_button(update: Update, context: BotContext) -> None:
    """Every button press passes here first: a prefix the sender's role may not press
    (`bot.routes.BUTTON_ROLES`) is answered with a polite refusal and goes no further, so a
    forged payload reaches no feature handler and changes nothing."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    actor = await context.services.access.actor(query.from_user.id, channel=TELEGRAM.name)
    if may_press(actor.role, query.data):
        return
    try:
        await query.answer(BUTTON_NOT_ALLOWED, show_alert=True)
        await context.bot.send_message(query.from_user.id, BUTTON_NOT_ALLOWED)
    except TelegramError:
        log.warning("could not refuse a button press")
    raise ApplicationHandlerStop


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
    application.add_handler(TypeHandler(Update, track_user), group=TRACK_GROUP)
    application.add_handler(CallbackQueryHandler(gate_button), group=GATE_GROUP)
    application.add_error_handler(on_error)
