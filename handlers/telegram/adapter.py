"""The Telegram channel adapter: PTB updates in, `bot.chat.router.Conversations` outputs out.

Thin by design: it turns an update into a neutral event (bot.chat.model), asks the router, and
lays each output out for `TELEGRAM` capabilities (bot.chat.layout) as Bot API calls. It makes
no decisions and adds no words; the only Telegram-specific choices are presentational:
edits in place, pop-up alerts, the contact keyboard, and removing that keyboard once a phone
(or someone else's contact) was received.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.chat.layout import FileLink, ImageTooLarge, OutMessage, layout
from bot.chat.model import (
    TELEGRAM,
    Alert,
    Command,
    DocumentIn,
    File,
    ForeignContact,
    Incoming,
    Menu,
    Out,
    Person,
    PhoneShared,
    Press,
    Profile,
    Reply,
    Rows,
    SwapButtons,
    Text,
    Unsupported,
)
from bot.chat.router import Conversations
from bot.chat.texts.common import LAYOUT_TEXTS
from bot.observability.metrics import REPLY_SECONDS, UPDATES
from handlers.telegram.context import BotContext
from handlers.telegram.sender import inline_keyboard

log = logging.getLogger(__name__)

CONVERSATIONS_KEY = "conversations"

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def person_of(user_id: int) -> Person:
    return Person(TELEGRAM.name, str(user_id))


def profile_of(update: Update) -> Profile | None:
    user = update.effective_user
    if user is None:
        return None
    return Profile(user.first_name or "", user.last_name, user.username)


def _command(text: str) -> tuple[str, tuple[str, ...]]:
    """("ghi", args) from "/ghi@MyBot 3 người": the bot name dropped, arguments split on
    whitespace as PTB's CommandHandler does."""
    head, *args = text.split()
    name = head[1:].split("@", 1)[0].lower()
    return name, tuple(args)


def _unsupported_kind(message: Message) -> str:
    for kind in ("photo", "sticker", "voice", "video", "audio", "animation", "location", "video_note"):
        if getattr(message, kind, None):
            return kind
    return "other"


def event_of(update: Update, context: BotContext) -> Incoming | None:
    """The neutral event of a private-chat update, or None for updates the bot ignores."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    person = person_of(user.id)
    query = update.callback_query
    if query is not None:
        return Press(person, query.data or "") if query.data else Unsupported(person, "empty_button")
    message = update.effective_message
    if message is None:
        return None
    if message.contact is not None:
        if message.contact.user_id == user.id and message.contact.phone_number:
            return PhoneShared(person, message.contact.phone_number)
        return ForeignContact(person)
    if message.document is not None:
        document = message.document
        bot = context.bot

        async def fetch() -> bytes:
            file = await bot.get_file(document.file_id)
            return bytes(await file.download_as_bytearray())

        return DocumentIn(person, (document.file_name or "").strip(), document.file_size, fetch)
    text = message.text
    if text is not None:
        if text.startswith("/") and len(text) > 1 and not text[1].isspace():
            name, args = _command(text)
            return Command(person, name, args)
        return Text(person, text)
    return Unsupported(person, _unsupported_kind(message))


def _phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(LAYOUT_TEXTS.share_phone, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


class _Renderer:
    """Sends one turn's outputs to one chat, in order."""

    def __init__(self, context: BotContext, chat_id: int, query: CallbackQuery | None, after_phone: bool) -> None:
        self.bot = context.bot
        self.chat_id = chat_id
        self.query = query
        self.remove_keyboard = after_phone  # the contact keyboard goes away with the next plain message

    async def render(self, outputs: Sequence[Out]) -> None:
        if self.query is not None:
            alert = next((o for o in outputs if isinstance(o, Alert)), None)
            try:
                if alert is not None:
                    await self.query.answer(alert.text, show_alert=True)
                else:
                    await self.query.answer()
            except TelegramError:
                log.warning("could not answer a button press")
        # The menu first: by the time the person reads the answer, its commands are in place.
        for output in outputs:
            if isinstance(output, Menu):
                await self._menu(output)
        for output in outputs:
            if isinstance(output, Reply):
                for message in layout(output, TELEGRAM, texts=LAYOUT_TEXTS):
                    await self._send(message)
            elif isinstance(output, SwapButtons):
                await self._swap(output.buttons)

    def _markup(self, message: OutMessage) -> ReplyMarkup | None:
        if message.ask_phone:
            return _phone_keyboard()
        if message.buttons:
            return inline_keyboard(message.buttons)
        if self.remove_keyboard:
            self.remove_keyboard = False
            return ReplyKeyboardRemove()
        return None

    async def _send(self, message: OutMessage) -> None:
        if message.file is not None:
            await self._send_file(message)
            return
        if message.replace and self.query is not None and self.query.message is not None:
            try:
                await self.bot.edit_message_text(
                    message.text,
                    chat_id=self.chat_id,
                    message_id=self.query.message.message_id,
                    reply_markup=inline_keyboard(message.buttons),
                )
                return
            except BadRequest:  # too old to edit, or unchanged: send it as a new message
                pass
        await self.bot.send_message(self.chat_id, message.text, reply_markup=self._markup(message))

    async def _send_file(self, message: OutMessage) -> None:
        item = message.file
        file: File
        if isinstance(item, FileLink | ImageTooLarge):  # Telegram accepts every kind we send
            file = item.file
        else:
            assert item is not None
            file = item
        caption = message.text or None
        markup = inline_keyboard(message.buttons)
        if file.kind == "png" and not isinstance(item, ImageTooLarge):
            await self.bot.send_photo(
                self.chat_id, photo=file.content, filename=file.name, caption=caption, reply_markup=markup
            )
        else:
            await self.bot.send_document(
                self.chat_id, document=file.content, filename=file.name, caption=caption, reply_markup=markup
            )

    async def _swap(self, rows: Rows) -> None:
        if self.query is None or self.query.message is None:
            return
        try:
            await self.query.edit_message_reply_markup(inline_keyboard(rows))
        except TelegramError:  # an old message may no longer be editable; the reply says what changed
            return

    async def _menu(self, menu: Menu) -> None:
        scope = BotCommandScopeChat(self.chat_id)
        try:
            if menu.entries:
                await self.bot.set_my_commands([BotCommand(c, d) for c, d in menu.entries], scope=scope)
            else:
                await self.bot.delete_my_commands(scope=scope)
        except TelegramError:
            log.warning("could not update the command menu of a chat")


async def on_update(update: Update, context: BotContext) -> None:
    """Every private-chat update no older handler took: through the conversation core.
    Counted in `bhxh_updates_total` by outcome and timed in `bhxh_reply_seconds`."""
    event = event_of(update, context)
    chat = update.effective_chat
    if event is None or chat is None:
        UPDATES.labels(TELEGRAM.name, "ignored").inc()
        return
    started = time.perf_counter()
    try:
        conversations: Conversations = context.application.bot_data[CONVERSATIONS_KEY]
        outputs = await conversations.handle(event, profile_of(update))
        after_phone = isinstance(event, PhoneShared | ForeignContact)
        await _Renderer(context, chat.id, update.callback_query, after_phone).render(outputs)
    except Exception:
        UPDATES.labels(TELEGRAM.name, "error").inc()  # the error net (common.py) logs and apologises
        raise
    REPLY_SECONDS.labels(TELEGRAM.name).observe(time.perf_counter() - started)
    UPDATES.labels(TELEGRAM.name, "answered" if outputs else "silent").inc()



def register(application: Application) -> None:
    """Every private message and every button press goes to the conversation core."""
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private, on_update))
    application.add_handler(CallbackQueryHandler(on_update))

