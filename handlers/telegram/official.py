"""Officials' handlers: /tomtat (summary subscriptions) and /baocao (the summary on demand).

Thin: parse the arguments, call `SummaryService`, send what it returns with the texts of
`bot.replies_summary`. Citizens and agents get a polite refusal; a unit outside the sender's
area gets the same answer as a unit that does not exist.
"""

from __future__ import annotations

import logging
import sys

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot.chat.model import TELEGRAM, Person
from bot.chat.texts import summaries as texts
from bot.domain.roles import Role
from bot.logsafety import describe_exception
from bot.parsing.questions import normalize
from bot.services.access import Actor
from bot.services.summaries import CAN_SUMMARY, RefusalKey, ReportArgs, SummaryRefusal, parse_report_args
from handlers.telegram.context import BotContext
from handlers.telegram.sender import TelegramSender
from scheduler.summaries import send_package

log = logging.getLogger(__name__)

_ON = {"bat", "on", "mo"}
_OFF = {"tat", "off", "dung", "ngung"}
_WEEK = {"tuan", "hang tuan", "week", "weekly"}


async def _actor(update: Update, context: BotContext) -> Actor:
    user = update.effective_user
    assert user is not None
    return await context.services.access.actor(user.id, channel=TELEGRAM.name)


def _refusal_for_role(actor: Actor) -> str:
    return texts.NOT_FOR_AGENTS if actor.role == Role.AGENT else texts.NOT_FOR_CITIZENS


def _args_text(update: Update) -> str:
    """What follows the command (works for /baocao@bot_name too), whitespace collapsed."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    return " ".join(text.split()[1:])


async def tomtat(update: Update, context: BotContext) -> None:
    """/tomtat [tat|bat|tuan bat|tuan tat]: daily summary and weekly digest on or off."""
    message = update.effective_message
    assert message is not None
    actor = await _actor(update, context)
    if actor.role not in CAN_SUMMARY:
        await message.reply_text(_refusal_for_role(actor))
        return
    if actor.member is None:
        await message.reply_text(texts.ADMIN_WITHOUT_UNIT)
        return
    service = context.services.summaries
    at = context.services.settings.summary_time
    words = normalize(_args_text(update)[:100]).split()
    weekly = bool(words) and words[0] in _WEEK
    switch = words[1:] if weekly else words
    if len(switch) == 1 and (switch[0] in _ON or switch[0] in _OFF):
        on = switch[0] in _ON
        if weekly:
            await service.set_weekly(actor.member.id, on)
            await message.reply_text(texts.weekly_changed(on, at))
        else:
            await service.set_daily(actor.member.id, on)
            await message.reply_text(texts.daily_changed(on, at))
        return
    await message.reply_text(texts.usage(await service.prefs(actor.member.id), at))


async def baocao(update: Update, context: BotContext) -> None:
    """/baocao [unit] [from to]: the summary, chart and workbook now."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None
    actor = await _actor(update, context)
    if actor.role not in CAN_SUMMARY:
        await message.reply_text(_refusal_for_role(actor))
        return
    args = parse_report_args(_args_text(update))
    if args.error == "too_long":
        await message.reply_text(texts.TOO_LONG)
        return
    try:
        await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    except TelegramError:
        pass  # only a courtesy
    # A province's report takes a few seconds to gather and draw: build and send it in the
    # background, so other people's messages are not held up meanwhile.
    context.application.create_task(
        _build_and_send(context, actor, args, chat.id), update=update
    )


async def _build_and_send(
    context: BotContext, actor: Actor, args: ReportArgs, chat_id: int
) -> None:
    try:
        result = await context.services.summaries.for_actor(actor, args)
        if isinstance(result, SummaryRefusal):
            await context.bot.send_message(chat_id, _refusal_text(result, args.unit))
            return
        await send_package(TelegramSender(context.bot, bulk=False), Person(TELEGRAM.name, str(chat_id)), result)
    except Exception:
        # Type and stack only: the message of an exception may quote what was typed.
        log.error("on-demand report failed: %s", describe_exception(sys.exc_info()[1]))
        try:
            await context.bot.send_message(chat_id, texts.FAILED_TO_SEND)
        except TelegramError:
            log.warning("could not tell the chat that its report failed")


def _refusal_text(refusal: SummaryRefusal, typed: str | None) -> str:
    if refusal.key is RefusalKey.UNIT:
        return texts.unit_not_found(typed or "")
    if refusal.key is RefusalKey.DATES:
        return texts.DATES
    if refusal.key is RefusalKey.NO_UNIT:
        return texts.NO_UNIT
    return texts.NOT_FOR_CITIZENS


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("tomtat", tomtat, filters=private))
    application.add_handler(CommandHandler("baocao", baocao, filters=private))
