"""Logs without personal data, at every level and from every library.

Two lines of defence:

1. Libraries that log what passes through them are held above the levels where they do:
   aiosqlite logs every statement with its parameters at DEBUG (phones, BHXH codes), PTB and
   httpx log request URLs (the token) and payloads (message texts), aiohttp's access log the
   token in the path. `quiet_third_party_loggers` sets them whatever LOG_LEVEL says.
2. `PersonalDataFilter`, on the root handlers, masks whatever still looks like a phone number,
   a BHXH code or a CCCD number in any record: message, arguments, exception and stack text,
   and anything shaped like a bot token (a library message quoting it, such as PTB's
   "The token `...` was rejected"), as a last line of defence.

Our own exceptions never embed raw input either, and the chat error handler logs the type of
an exception and its stack, not its message (`describe_exception`).
"""

from __future__ import annotations

import logging
import re
import traceback

MASK = "[đã ẩn]"

# Vietnamese mobile and landline numbers: 0xxxxxxxxx, 84xxxxxxxxx, +84 xxx xxx xxx (with
# spaces, dots or dashes), and any run of 9 or more digits (BHXH codes have 10, CCCD 12;
# Telegram user ids are not personal data in themselves but are masked too, harmlessly).
_PHONE_SPACED_RE = re.compile(r"(?<![0-9])(?:\+?84|0)[0-9]{2,3}(?:[ .\-]?[0-9]){6,8}(?![0-9])", re.ASCII)
# A bot token: the bot's numeric id, a colon, the secret (35 characters from @BotFather; any
# 20 or more of that alphabet are masked, whole, before the digit rules see the id).
_BOT_TOKEN_RE = re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_\-]{20,}", re.ASCII)
_LONG_DIGITS_RE = re.compile(r"(?<![0-9])\+?[0-9]{9,}(?![0-9])", re.ASCII)

# Loggers of libraries and the lowest level each may log at, whatever LOG_LEVEL says.
THIRD_PARTY_FLOORS: dict[str, int] = {
    "aiosqlite": logging.WARNING,  # DEBUG: "executing <function ...>" with SQL parameters
    "sqlite3": logging.WARNING,
    "httpx": logging.WARNING,  # INFO: every request URL, token included
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,  # DEBUG: request payloads (message texts, contacts)
    "telegram.ext": logging.INFO,
    "apscheduler": logging.WARNING,
    "aiohttp.access": logging.WARNING,  # the emulator's access log: token in the path
    "aiohttp": logging.WARNING,
    "asyncio": logging.WARNING,
    "matplotlib": logging.WARNING,
    "PIL": logging.WARNING,
}


def mask_personal_data(text: str) -> str:
    """`text` with bot tokens, phone numbers, BHXH codes and CCCD numbers replaced by MASK."""
    if not text:
        return text
    text = _BOT_TOKEN_RE.sub(MASK, text)
    text = _PHONE_SPACED_RE.sub(MASK, text)
    return _LONG_DIGITS_RE.sub(MASK, text)


class PersonalDataFilter(logging.Filter):
    """Rewrites every record so that its formatted message, exception text and stack carry no
    phone number or code. Never drops a record and never raises (a bad format string is
    logged as it is, masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what we can, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = mask_personal_data(message)
        record.args = None
        if record.exc_info and is_token_refusal(record.exc_info[1]):
            # PTB's InvalidToken quotes the token and its traceback says nothing an operator
            # needs: one line instead (the CLI then says which setting to check).
            record.msg = f"{record.msg} (InvalidToken: the bot token was refused)"
            record.exc_info = None
            record.exc_text = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def is_token_refusal(exc: BaseException | None) -> bool:
    """telegram.error.InvalidToken (by name: this module imports no library)."""
    return exc is not None and any(
        kind.__name__ == "InvalidToken" and kind.__module__.startswith("telegram") for kind in type(exc).__mro__
    )


def quiet_third_party_loggers() -> None:
    """Hold each library logger at or above its floor (see THIRD_PARTY_FLOORS)."""
    root_level = logging.getLogger().getEffectiveLevel()
    for name, floor in THIRD_PARTY_FLOORS.items():
        logger = logging.getLogger(name)
        current = root_level if logger.level == logging.NOTSET else logger.level
        logger.setLevel(max(current, floor))


def install(root: logging.Logger | None = None) -> None:
    """Put the filter on every handler of the root logger (idempotent) and quiet libraries."""
    root = root or logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
    quiet_third_party_loggers()


def describe_exception(exc: BaseException | None) -> str:
    """The type of an exception (and of its causes) and where it was raised, without its
    message: messages may quote what a person typed. Source lines only, no local values."""
    if exc is None:
        return "no exception"
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = f"{type(current).__module__}.{type(current).__qualname__}"
        stack = "".join(traceback.format_tb(current.__traceback__)) if current.__traceback__ else ""
        parts.append(f"{kind} (message withheld)\n{stack}".rstrip("\n"))
        current = current.__cause__ or current.__context__
    return mask_personal_data("\ncaused by: ".join(parts))
