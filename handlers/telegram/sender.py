"""Telegram's `Sender`: neutral replies out through PTB's `Bot`, every answer one `SendResult`.

A reply is laid out for `TELEGRAM` by bot.chat.layout (HTML text cut to Telegram's limits,
inline keyboards, files as photo or document) and each message goes out in order. The Bot
API's answers map to one result, so the reminder outbox and the summary ledger never see a
Telegram exception:

- accepted -> `Delivered(message_id)`;
- 403 Forbidden (blocked, user deactivated, kicked) and 400 "chat not found" -> `Blocked`:
  the person cannot be written to, stop;
- 429 -> `RetryAfter(seconds)`, exactly what Telegram asked (the rate limiter has already
  held the chat for it, handlers/telegram/ratelimit.py);
- any other 400 (and a migrated chat) -> `Refused(reason)`: this message never goes;
- timeouts, 5xx and network errors -> `Unknown`: the request may have been written, nobody can
  tell whether it arrived; each ledger decides (the reminder outbox resends, at least once;
  the summary ledger never resends a part);
- a refused token (401/404) -> raises `ChannelDown`: no message can go until it is fixed;
- a reply whose first messages went out and a later one failed -> `Unknown("partial: ...")`,
  since resending the whole reply would repeat what arrived.

Rates: bulk senders (`bulk=True`, the scheduled fan-outs) mark their requests so that the
project's `BotRateLimiter` applies the per-chat interval; the reminder round reserves a chat's
slot itself (`reserve` then `send_reserved`) and retries a 429 itself. With no such limiter
(benchmarks of raw capacity), `pacing` is False and callers space sends themselves.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, TelegramError
from telegram.error import RetryAfter as TelegramRetryAfter

from bot.chat.layout import FileLink, ImageTooLarge, LayoutTexts, OutMessage, layout
from bot.chat.model import (
    TELEGRAM,
    Blocked,
    Capabilities,
    Delivered,
    File,
    Person,
    Refused,
    Reply,
    RetryAfter,
    Rows,
    SendResult,
    Unknown,
)
from bot.chat.texts.common import LAYOUT_TEXTS
from bot.observability.metrics import SENDS
from handlers.telegram.ratelimit import BotRateLimiter, SendPolicy, retry_after_seconds
from scheduler.sending import ChannelDown

__all__ = ["LONGEST_429_WAIT", "TelegramSender", "inline_keyboard"]

LONGEST_429_WAIT = 120.0  # seconds worth waiting out in line when no limiter says otherwise
_RESERVED = SendPolicy(bulk=True, reserved=True, max_retries=0)  # the caller retries a 429
_BULK = SendPolicy(bulk=True)
_GONE = ("chat not found", "user not found", "bot was blocked", "user is deactivated")


def inline_keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """Neutral button rows as an inline keyboard (None when there are none)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url) if b.url is not None
                else InlineKeyboardButton(b.label, callback_data=b.payload)
                for b in row
            ]
            for row in rows
        ]
    )


def _chat(person: Person) -> int:
    if person.channel != TELEGRAM.name:
        raise ValueError(f"a Telegram sender cannot write to a {person.channel!r} person")
    return int(person.id)


class TelegramSender:
    """`bot.chat.model.Sender` (and `scheduler.sending.Paced`) over PTB's `Bot`."""

    def __init__(self, bot: Bot, *, bulk: bool = True, texts: LayoutTexts = LAYOUT_TEXTS) -> None:
        self.bot = bot
        self.bulk = bulk
        self.texts = texts

    @property
    def capabilities(self) -> Capabilities:
        return TELEGRAM

    # ------------------------------------------------------------------ pacing (scheduler.sending.Paced)

    @property
    def _limiter(self) -> BotRateLimiter | None:
        # Read at every use: tests and benchmarks may install the limiter after wiring.
        limiter = getattr(self.bot, "rate_limiter", None)
        return limiter if isinstance(limiter, BotRateLimiter) else None

    @property
    def pacing(self) -> bool:
        return self.bulk and self._limiter is not None

    @property
    def max_wait(self) -> float:
        limiter = self._limiter
        return limiter.max_retry_after if limiter is not None else LONGEST_429_WAIT

    def paused_for(self) -> float:
        limiter = self._limiter
        return limiter.paused_for if limiter is not None else 0.0

    async def reserve(self, person: Person) -> None:
        limiter = self._limiter
        if limiter is not None:
            await limiter.reserve(_chat(person), bulk=True)

    # ------------------------------------------------------------------ sending

    async def send(self, person: Person, reply: Reply) -> SendResult:
        """Deliver `reply` to `person`; never raises for Telegram's answer (see the module)."""
        return await self._send(person, reply, reserved=False)

    async def send_reserved(self, person: Person, reply: Reply) -> SendResult:
        return await self._send(person, reply, reserved=True)

    async def _send(self, person: Person, reply: Reply, *, reserved: bool) -> SendResult:
        """Send and count the result in `bhxh_sends_total{channel="telegram", result}`."""
        try:
            result = await self._send_all(person, reply, reserved=reserved)
        except ChannelDown:
            SENDS.labels(TELEGRAM.name, "channel_down").inc()
            raise
        SENDS.labels(TELEGRAM.name, result_label(result)).inc()
        return result

    async def _send_all(self, person: Person, reply: Reply, *, reserved: bool) -> SendResult:
        chat = _chat(person)
        messages = layout(reply, TELEGRAM, texts=self.texts)
        first: str | None = None
        for number, message in enumerate(messages):
            policy = self._policy(reserved and number == 0)
            result = await self._one(chat, message, policy)
            if not isinstance(result, Delivered):
                if number == 0:
                    return result
                return Unknown(f"partial: {_reason(result)}")
            first = first or result.provider_id
        return Delivered(first)

    def _policy(self, reserved: bool) -> SendPolicy | None:
        if self._limiter is None or not self.bulk:
            return None
        return _RESERVED if reserved else _BULK

    async def _one(self, chat: int, message: OutMessage, policy: SendPolicy | None) -> SendResult:
        try:
            sent = await self._request(chat, message, policy)
        except TelegramRetryAfter as exc:
            return RetryAfter(retry_after_seconds(exc))
        except Forbidden:
            return Blocked()
        except ChatMigrated:
            return Refused("400 chat migrated")
        except BadRequest as exc:
            if any(words in exc.message.lower() for words in _GONE):
                return Blocked()
            return Refused(f"400 {exc.message}"[:120])
        except InvalidToken as exc:
            raise ChannelDown("telegram token refused") from exc
        except TelegramError as exc:  # TimedOut, NetworkError (5xx, connection cut)
            return Unknown(type(exc).__name__)
        if isinstance(sent, Refused):
            return sent
        return Delivered(str(sent.message_id))

    async def _request(self, chat: int, message: OutMessage, policy: SendPolicy | None) -> Message | Refused:
        # `rate_limit_args` is ExtBot's keyword (the bot an Application builds), not in Bot's
        # signatures: passed through **extra, typed Any, and only when there is a policy.
        extra: dict[str, Any] = {"rate_limit_args": policy} if policy is not None else {}
        markup = inline_keyboard(message.buttons)
        if message.ask_phone:
            return Refused("a phone request is only sent in a conversation")
        item = message.file
        if item is None:
            return await self.bot.send_message(
                chat, message.text, parse_mode=ParseMode.HTML, reply_markup=markup, **extra
            )
        if isinstance(item, (FileLink, ImageTooLarge)):  # never for Telegram's capabilities
            return Refused(f"file {item.file.kind} not sendable")
        return await self._file(chat, item, message.text or None, markup, extra)

    async def _file(
        self, chat: int, item: File, caption: str | None, markup: InlineKeyboardMarkup | None, extra: dict[str, Any]
    ) -> Message:
        if item.kind == "png":
            return await self.bot.send_photo(
                chat, photo=item.content, filename=item.name, caption=caption,
                parse_mode=ParseMode.HTML, reply_markup=markup, **extra,
            )
        return await self.bot.send_document(
            chat, document=item.content, filename=item.name, caption=caption,
            parse_mode=ParseMode.HTML, reply_markup=markup, **extra,
        )


_RESULT_LABELS: dict[type, str] = {
    Delivered: "delivered", Blocked: "blocked", RetryAfter: "retry_after", Refused: "refused", Unknown: "unknown",
}


def result_label(result: SendResult) -> str:
    """The `result` label of `bhxh_sends_total` for a send's outcome."""
    return _RESULT_LABELS.get(type(result), "unknown")


def _reason(result: SendResult) -> str:
    if isinstance(result, (Refused, Unknown)):
        return result.reason
    return type(result).__name__
