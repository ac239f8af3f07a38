"""Telegram handlers of the lapsed-card feature: linking by contact, /hethan, reminder buttons,
/dunglai and /nhac, the agents' /danhsach, and lists sent as documents by officials.

Thin: parse the update, call ``services.cards`` / ``services.reminders``, render with
``bot.replies_cards``. Callback data carries no personal data, so a forged button can only
ever act on the person who pressed it.
"""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.chat.model import TELEGRAM
from bot.chat.texts import cards as texts
from bot.domain.roles import Role
from bot.imports.cards import CHAT_MAX_ROWS, MAX_FILE_BYTES, CardFileError, FileProblem
from bot.parsing.numbers import parse_bounded_int
from bot.services.cards import LinkOutcome
from handlers.telegram import citizen
from handlers.telegram.context import BotContext
from handlers.telegram.sender import keyboard

IMPORT_ROLES = {Role.ADMIN, Role.OFFICIAL}
LIST_ROLES = {Role.ADMIN, Role.OFFICIAL, Role.TEAM_LEADER, Role.AGENT}


def contact_keyboard() -> ReplyKeyboardMarkup:
    """The one way to prove a phone: Telegram's own request-contact button."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.CONTACT_BUTTON, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def _reply(update: Update, context: BotContext, text: str, markup: object = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)  # type: ignore[arg-type]


def _user_id(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


# --- citizens ---------------------------------------------------------------------------------


async def hethan(update: Update, context: BotContext) -> None:
    """/hethan: each linked card's status and the household's renewal cost."""
    await _show_cards(update, context)


async def _show_cards(update: Update, context: BotContext) -> None:
    services = context.services
    user_id = _user_id(update)
    if not await services.cards.is_linked(user_id, channel=TELEGRAM.name):
        await _reply(update, context, texts.ASK_CONTACT, contact_keyboard())
        return
    mine = await services.cards.my_cards(user_id, channel=TELEGRAM.name)
    opted_out = await services.reminders.is_opted_out(user_id, channel=TELEGRAM.name)
    await _reply(update, context, texts.my_cards_text(mine, opted_out), keyboard(texts.reminder_buttons(opted_out)))


async def on_contact(update: Update, context: BotContext) -> None:
    """A shared contact: linked only when it is the sender's own (contact.user_id == sender)."""
    message = update.effective_message
    assert message is not None and message.contact is not None
    contact = message.contact
    result = await context.services.cards.link_contact(_user_id(update), contact.user_id, contact.phone_number or "", channel=TELEGRAM.name)
    if result.outcome is LinkOutcome.NOT_OWN:
        await _reply(update, context, texts.NOT_OWN_CONTACT, contact_keyboard())
    elif result.outcome is LinkOutcome.BAD_PHONE:
        await _reply(update, context, texts.BAD_PHONE, ReplyKeyboardRemove())
    elif result.outcome is LinkOutcome.NO_CARDS:
        await _reply(update, context, texts.no_cards_text(result.phone or ""), ReplyKeyboardRemove())
    else:
        assert result.cards is not None and result.phone is not None
        await _reply(update, context, texts.linked_text(result.cards, result.phone), ReplyKeyboardRemove())
        await _show_cards(update, context)


async def dunglai(update: Update, context: BotContext) -> None:
    changed = await context.services.reminders.opt_out(_user_id(update), channel=TELEGRAM.name)
    await _reply(update, context, texts.STOPPED if changed else texts.ALREADY_STOPPED)


async def nhac(update: Update, context: BotContext) -> None:
    services = context.services
    user_id = _user_id(update)
    await services.reminders.opt_in(user_id, channel=TELEGRAM.name)
    linked = await services.cards.is_linked(user_id, channel=TELEGRAM.name)
    markup = None if linked else contact_keyboard()
    text = texts.resumed_text(services.reminders.cadence, services.reminders.hours, linked)
    await _reply(update, context, text, markup)


async def on_reminder_button(update: Update, context: BotContext) -> None:
    """Buttons of reminders and /hethan; unknown or forged data changes nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    services = context.services
    user_id = query.from_user.id
    data = query.data or ""
    if data == texts.CB_STOP:
        changed = await services.reminders.opt_out(user_id, channel=TELEGRAM.name)
        await _reply(update, context, texts.STOPPED if changed else texts.ALREADY_STOPPED)
        await _swap_stop_button(query, opted_out=True)
    elif data == texts.CB_RESUME:
        await nhac(update, context)
        await _swap_stop_button(query, opted_out=False)
    elif data == texts.CB_CARDS:
        await _show_cards(update, context)
    elif not await services.cards.is_linked(user_id, channel=TELEGRAM.name):
        await _reply(update, context, texts.NOT_LINKED, contact_keyboard())
    elif data == texts.CB_COST:
        await _reply(update, context, texts.ASK_MONTHS, keyboard(texts.months_buttons()))
    elif data.startswith(texts.CB_MONTHS) and (
        months := parse_bounded_int(data.removeprefix(texts.CB_MONTHS), max_digits=2)
    ) in texts.MONTH_CHOICES:
        assert months is not None
        mine = await services.cards.my_cards(user_id, months=months, channel=TELEGRAM.name)
        await _reply(update, context, texts.months_cost_text(mine), keyboard(texts.months_buttons()))
    elif data == texts.CB_RENEWED:
        claimed = await services.reminders.claim_renewed(user_id, channel=TELEGRAM.name)
        if claimed:
            await _reply(update, context, texts.claimed_text("bạn", claimed), keyboard(texts.undo_buttons()))
        else:
            await _reply(update, context, texts.NOTHING_TO_CLAIM)
    elif data == texts.CB_UNDO:
        undone = await services.reminders.undo_claims(user_id, channel=TELEGRAM.name)
        await _reply(update, context, texts.CLAIM_UNDONE if undone else texts.NOTHING_TO_UNDO)
    else:
        await _reply(update, context, texts.BUTTON_EXPIRED)


async def _swap_stop_button(query: object, opted_out: bool) -> None:
    """Show "Nhận nhắc lại" instead of "Không nhận nhắc nữa" on the pressed message."""
    message = getattr(query, "message", None)
    markup = getattr(message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return
    labels = {b.callback_data for row in markup.inline_keyboard for b in row}
    if not labels & {texts.CB_STOP, texts.CB_RESUME}:
        return
    try:
        await query.edit_message_reply_markup(keyboard(texts.reminder_buttons(opted_out)))  # type: ignore[attr-defined]
    except Exception:  # an old message may no longer be editable; the reply above is what counts
        return


# --- agents and officials --------------------------------------------------------------------


async def danhsach(update: Update, context: BotContext) -> None:
    """/danhsach: lapsed, unrenewed people of the sender's units, as a message and an XLSX."""
    services = context.services
    actor = await services.access.actor(_user_id(update), channel=TELEGRAM.name)
    if actor.role not in LIST_ROLES:
        await _reply(update, context, texts.STAFF_ONLY)
        return
    scope = None if actor.scope_code is None else await services.access.scope_codes(actor)
    label = "tất cả đơn vị"
    if actor.scope_code is not None:
        unit = await services.units.get(actor.scope_code)
        label = unit.name if unit else actor.scope_code
    door = await services.cards.door_list(actor, scope, label)
    await _reply(update, context, texts.door_list_text(door))
    if door.rows:
        chat = update.effective_chat
        assert chat is not None
        # Every row, however long the list: built in a worker thread, not on the event loop.
        workbook = await asyncio.to_thread(texts.door_list_xlsx, door)
        await context.bot.send_document(
            chat.id,
            document=workbook,
            filename=texts.door_list_filename(door),
            caption=f"Danh sách đầy đủ: {len(door.rows)} người",
        )


# What non-staff see is unchanged: these names get "only officials send lists", any other
# document the citizens' reply to a non-text message.
_LIST_EXTENSIONS = (".csv", ".xlsx", ".xls")


async def on_document(update: Update, context: BotContext) -> None:
    """Any document in a private chat. An admin or official's is read as a list by its
    content, not its name (an XLSX without extension, a CSV saved as .txt, Excel's UTF-16
    "Unicode text"), imported, and answered with the report or a clear refusal; anyone
    else gets the reply they always had (a list-looking file: "only officials send lists";
    anything else: the citizens' reply to a non-text message).

    Lists over ``CHAT_MAX_ROWS`` rows are refused (the answer points to the command line);
    the service bounds the work before doing it and parses in a worker thread, and updates
    of other people are handled concurrently (handlers/telegram/updates.py), so nobody waits for an upload.
    """
    services = context.services
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    actor = await services.access.actor(_user_id(update), channel=TELEGRAM.name)
    if actor.role not in IMPORT_ROLES:
        name = (document.file_name or "").lower().strip()
        if name.endswith(_LIST_EXTENSIONS):
            await _reply(update, context, texts.IMPORT_STAFF_ONLY)
        else:
            await citizen.on_other_message(update, context)
        return
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await _reply(update, context, texts.file_error_text(FileProblem.TOO_LARGE))
        return
    name = (document.file_name or "danh_sach").strip()[:120]
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    scope = None if actor.scope_code is None else await services.access.scope_codes(actor)
    try:
        result = await services.cards.import_list(
            data, name, scope, source=f"telegram:{name}", max_rows=CHAT_MAX_ROWS
        )
    except CardFileError as exc:
        await _reply(update, context, texts.file_error_text(exc.problem, exc.missing, exc.limit))
        return
    await _reply(update, context, texts.import_report_text(name, result))


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("hethan", hethan, filters=private))
    application.add_handler(CommandHandler("dunglai", dunglai, filters=private))
    application.add_handler(CommandHandler("nhac", nhac, filters=private))
    application.add_handler(CommandHandler("danhsach", danhsach, filters=private))
    application.add_handler(MessageHandler(private & filters.CONTACT, on_contact))
    # Every document: a list is recognised by its content, whatever its name (on_document).
    application.add_handler(MessageHandler(private & filters.Document.ALL, on_document))
    application.add_handler(CallbackQueryHandler(on_reminder_button, pattern=r"^rc:"))
