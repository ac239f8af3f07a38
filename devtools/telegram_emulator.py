"""A local Telegram Bot API server (aiohttp) for the tests, the offline demo and the benchmarks.

Telegram cannot be reached from a test, and a mocked `Bot` would hide exactly the mistakes that
hurt in production: markup Telegram refuses, callback data that is too long, a keyboard that
silently disappears after an edit, 429s under a reminder fan-out. So the real PTB `Application`
talks HTTP to this emulator, unchanged, through PTB's `base_url`:

    emu = BotApiEmulator(token=TOKEN)
    await emu.start()
    app = (ApplicationBuilder().token(TOKEN)
           .base_url(emu.api_base_url + "/bot").base_file_url(emu.api_base_url + "/file/bot")
           .build())

The emulator runs in the same event loop as the bot. Test code plays the people on the other
side through `EmulatedUser` (`say`, `press`, `share_contact`, `send_document`, `replies`, ...)
and inspects what the bot did through `emu.sent`, `emu.rejected`, `emu.requests`.

Updates reach the bot by long polling (`getUpdates`) or, after `setWebhook(url, secret_token)`,
by webhook: the emulator POSTs each update as JSON to `url` with the secret in
`X-Telegram-Bot-Api-Secret-Token`, one at a time and oldest first, confirms it on a 2xx answer
and posts it again otherwise (as Telegram does); `emu.webhook_posts` records every POST and
`emu.post_again(update_id)` repeats an accepted one (a retry, or a second instance receiving it).
`emu.fan_out_webhook([url_a, url_b])` makes the emulator post every update to each of several
addresses instead (the same update reaching every instance behind a load balancer: the
two-instance tests); `emu.webhook_deliveries` records every POST with its address.
While a webhook is set, getUpdates answers 409 as Telegram does; `deleteWebhook` ends it.

Wire format (what PTB 22 sends): POST to `<base_url><token>/<method>` with an
`application/x-www-form-urlencoded` body in which strings are sent as is and every other value
(ints, bools, `reply_markup`, `entities`, `commands`) is a JSON string; `multipart/form-data` when a
file is uploaded (the file part is named after the parameter, e.g. `document`, or referenced as
`attach://<name>`). JSON bodies are accepted too. Answers are `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": N, "description": "...", "parameters": {...}}` with the HTTP status
equal to `error_code`, which is what PTB maps to `BadRequest`, `Forbidden`, `RetryAfter`...
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import json
import math
import mimetypes
import random
import re
import struct
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Literal, NamedTuple

from aiohttp import ClientError, ClientSession, ClientTimeout, web

__all__ = [
    "BotApiEmulator",
    "Button",
    "CallbackAnswer",
    "EmulatedUser",
    "EmulatorLimits",
    "EmulatorStats",
    "FaultKind",
    "NoSuchButton",
    "Rejection",
    "SentMessage",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "strip_markup",
    "utf16_len",
    "validate_html",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files on the public Bot API
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Methods that create a message: the only ones Telegram's flood limits count.
MESSAGE_CREATING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
_MESSAGE_CREATING_LOWER = frozenset(m.lower() for m in MESSAGE_CREATING_METHODS)
# What a person sees arrive in the chat (`EmulatedUser.replies` waits for these).
OUTPUT_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

BAD_REQUEST = 400
FORBIDDEN = 403
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

FaultKind = Literal["429", "500", "timeout", "403", "timeout_after_send"]

JSON = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Records handed to tests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmulatorLimits:
    """Telegram's flood limits and the network in front of them; None switches a limit off.

    Limits are counted as Telegram documents them, at the *server*: on the emulator's clock, at
    the moment a request arrives (after the inbound half of the network delay), over any sliding
    window, whatever the bot believes it released.

    `global_per_second`: at most this many messages in any sliding one-second window over all
    chats (Telegram: 30); the next one gets 429 with `retry_after` (whole seconds until the
    window frees, at least 1).
    `per_chat_interval`: at most one message to a chat in any sliding window of this many
    seconds (Telegram: about 1).
    `tolerance`: seconds of slack taken off both windows (default 0: exact). Only for tests
    that deliberately run a limiter without a safety margin.
    `network_delay`: round-trip time in seconds, half on the way in (before the request is
    counted) and half on the way out (before the answer leaves); `network_jitter` adds a
    random 0..jitter seconds to each half (seeded by `jitter_seed`, so runs repeat). With
    them a request costs what it costs on a real network, and requests released evenly by
    the bot arrive unevenly, as they do at Telegram.
    """

    global_per_second: int | None = 30
    per_chat_interval: float | None = 1.0
    tolerance: float = 0.0
    network_delay: float = 0.0
    network_jitter: float = 0.0
    jitter_seed: int = 12


@dataclass
class EmulatorStats:
    """Counters of what reached the emulator (read by tests and benchmarks)."""

    requests: int = 0  # every API call, refused or not
    sends: int = 0  # message-creating calls accepted (what the flood limits count)
    flood_429: int = 0  # 429s the flood limits gave (injected faults not included)
    injected_429: int = 0
    max_per_sliding_second: int = 0  # accepted sends in the busiest sliding second (arrival)
    # messages asked for (accepted, or refused by a flood limit) in the busiest sliding second:
    # what the bot, or several instances together, tried to put through, whatever was refused
    max_asked_per_sliding_second: int = 0
    in_flight: int = 0  # message-creating requests between arrival at the socket and answer
    max_in_flight: int = 0


@dataclass(frozen=True)
class Button:
    """One keyboard button as the person sees it (inline: callback_data/url; reply: text only)."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    request_contact: bool = False


@dataclass(frozen=True)
class SentMessage:
    """A snapshot of a bot message after one successful call (send or edit).

    `text` is what the bot sent (markup included); `plain_text` is what the person reads.
    `buttons` are the inline keyboard rows; `keyboard` the reply-keyboard rows, if any.
    """

    chat_id: int
    message_id: int
    method: str
    text: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    buttons: list[list[Button]]
    file_name: str | None = None
    file_bytes: bytes | None = None
    timestamp: float = 0.0
    plain_text: str = ""
    entities: list[JSON] = field(default_factory=list)
    keyboard: list[list[Button]] = field(default_factory=list)
    mime_type: str | None = None
    file_id: str | None = None
    edited: bool = False

    @property
    def button_texts(self) -> list[str]:
        """Inline button labels in reading order (row by row)."""
        return [b.text for row in self.buttons for b in row]

    @property
    def callback_datas(self) -> list[str | None]:
        """Inline button callback data in reading order."""
        return [b.callback_data for row in self.buttons for b in row]

    @property
    def keyboard_texts(self) -> list[str]:
        """Reply-keyboard button labels in reading order."""
        return [b.text for row in self.keyboard for b in row]


class Rejection(NamedTuple):
    """A call the emulator refused (validation, flood limit, block or injected fault)."""

    method: str
    chat_id: int | None
    error_code: int
    description: str
    at: float = 0.0  # when, on the emulator's monotonic clock (as `SentMessage.timestamp`)


class CallbackAnswer(NamedTuple):
    """What the bot passed to answerCallbackQuery."""

    query_id: str
    chat_id: int | None
    text: str | None
    show_alert: bool
    url: str | None


class NoSuchButton(LookupError):
    """`EmulatedUser.press*` found nothing to press."""


class ApiError(Exception):
    """A Bot API error answer; raised by method handlers, turned into JSON by the dispatcher."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def _bad(description: str) -> ApiError:
    return ApiError(BAD_REQUEST, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------
# Text and markup (mirrors tdlib's parsers closely enough to reject what Telegram rejects)
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Telegram's unit for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _is_space(ch: str) -> bool:
    return ch in " \t\r\n\f\v\0"


_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity_at(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity starting at `pos` ('&'); None if it is not one Telegram knows."""
    m = _ENTITY_RE.match(text, pos)
    if m is None:
        return None
    if m.group(1):
        return _NAMED[m.group(1)], m.end() - pos
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end() - pos


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&" and (dec := _decode_entity_at(value, i)) is not None:
            out.append(dec[0])
            i += dec[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the visible text
    language: str | None = None  # <pre><code class="language-x"> sets it on the <pre>


def _finish_parse(visible: list[str], entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace like Telegram does and keep entity offsets right."""
    text = "".join(visible)
    stripped = text.strip()
    if stripped == text:
        entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return text, entities
    left = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    fixed: list[JSON] = []
    for entity in entities:
        start = max(0, entity["offset"] - left)
        end = min(total, entity["offset"] + entity["length"] - left)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    fixed.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, fixed


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into (visible text, message entities), or raise ValueError.

    The ValueError message is Telegram's own description ("Bad Request: can't parse entities:
    ..."). tdlib itself lets a bare '&' through as text; Telegram's documentation requires it to
    be escaped, and an unescaped '&' nearly always means user input reached a reply unescaped
    (the next user types '<' and the reply fails), so `strict_ampersand` refuses it by default.
    """

    def fail(message: str) -> ValueError:
        return ValueError(f"Bad Request: can't parse entities: {message}")

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    visible: list[str] = []
    u16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity_at(text, i)
            if decoded is not None:
                visible.append(decoded[0])
                u16 += utf16_len(decoded[0])
                i += decoded[1]
                continue
            if strict_ampersand:
                raise fail(f"Character '&' at byte offset {byte_offset(i)} must be escaped as &amp;")
        if ch != "<":
            visible.append(ch)
            u16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            close = text.find(">", i)
            if close < 0:
                raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            name = text[i + 1 : close].rstrip().lower()
            top = stack[-1]
            if name and name != top.name:
                raise fail(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            i = close + 1
            _close_html_entity(top, stack, u16, entities)
            continue
        # a start tag
        end = i
        while end < n and not _is_space(text[end]) and text[end] != ">":
            end += 1
        if end >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = text[i:end].lower()
        if name not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        i = end
        while True:
            while i < n and _is_space(text[i]):
                i += 1
            if i >= n:
                raise fail(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if text[i] == ">":
                break
            attr_begin = i
            while i < n and not _is_space(text[i]) and text[i] not in "=>":
                i += 1
            attr = text[attr_begin:i]
            if not attr:
                raise fail(f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}')
            while i < n and _is_space(text[i]):
                i += 1
            if i >= n or text[i] != "=":
                if name == "blockquote" and attr.lower() == "expandable":
                    attrs["expandable"] = "1"
                    continue
                raise fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {byte_offset(begin)}"
                )
            i += 1
            while i < n and _is_space(text[i]):
                i += 1
            if i >= n:
                raise fail(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if text[i] in "'\"":
                quote = text[i]
                close = text.find(quote, i + 1)
                if close < 0:
                    raise fail(f"Unclosed end of attribute value at byte offset {byte_offset(i)}")
                value = _decode_attribute(text[i + 1 : close])
                i = close + 1
            else:
                token_begin = i
                while i < n and (text[i].isascii() and text[i].isalnum() or text[i] in ".-"):
                    i += 1
                value = text[token_begin:i].lower()
                if i >= n or (not _is_space(text[i]) and text[i] != ">"):
                    raise fail(f"Unexpected end of name token at byte offset {byte_offset(token_begin)}")
            attrs[attr] = value
        i += 1  # the '>'
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name, attrs, u16))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return _finish_parse(visible, entities)


def _close_html_entity(tag: _OpenTag, stack: list[_OpenTag], end: int, entities: list[JSON]) -> None:
    length = end - tag.start
    if length <= 0:
        return
    entity: JSON = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_ENTITY:
        entity["type"] = _SIMPLE_ENTITY[tag.name]
    elif tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return
        entity.update(type="text_link", url=href)
    elif tag.name == "code":
        cls = tag.attrs.get("class", "")
        if stack and stack[-1].name == "pre" and cls.startswith("language-"):
            stack[-1].language = cls[len("language-") :]
            return
        entity["type"] = "code"
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id")
        if not emoji_id:
            return
        entity.update(type="custom_emoji", custom_emoji_id=emoji_id)
    entities.append(entity)


def validate_html(text: str) -> str:
    """Return the visible text of a Telegram-HTML string, or raise ValueError(Telegram's words)."""
    return parse_html(text)[0]


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
}


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    """A compact MarkdownV2 parser: escapes, nesting and reserved characters as Telegram checks.

    Enough to reject what Telegram rejects for ordinary bot texts (unescaped '.', '-', '!',
    unclosed '*'); custom emoji and blockquote details are simplified.
    """

    def fail(message: str) -> ValueError:
        return ValueError(f"Bad Request: can't parse entities: {message}")

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    visible: list[str] = []
    u16 = 0
    # (entity type, visible start, source position)
    stack: list[tuple[str, int, int]] = []
    entities: list[JSON] = []
    n = len(text)
    i = 0

    def add(ch: str) -> None:
        nonlocal u16
        visible.append(ch)
        u16 += utf16_len(ch)

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            add(text[i + 1])
            i += 2
            continue
        top = stack[-1][0] if stack else None
        if top in ("code", "pre"):
            marker = "```" if top == "pre" else "`"
            if text.startswith(marker, i):
                kind, start, src = stack.pop()
                if u16 > start:
                    entities.append({"type": kind, "offset": start, "length": u16 - start})
                i += len(marker)
            else:
                add(ch)
                i += 1
            continue
        if text.startswith("```", i):
            stack.append(("pre", u16, i))
            i += 3
            newline = text.find("\n", i)
            if newline >= 0 and re.fullmatch(r"[A-Za-z0-9_+#-]*", text[i:newline]):
                i = newline + 1
            continue
        if ch == "`":
            stack.append(("code", u16, i))
            i += 1
            continue
        if ch == "]" and top == "text_link":
            if not text.startswith("(", i + 1):
                raise fail(f"Can't find end of TextUrl entity at byte offset {byte_offset(stack[-1][2])}")
            close = text.find(")", i + 2)
            if close < 0:
                raise fail(f"Can't find end of a URL at byte offset {byte_offset(i + 1)}")
            kind, start, _src = stack.pop()
            url = re.sub(r"\\(.)", r"\1", text[i + 2 : close])
            if u16 > start and url:
                entities.append({"type": "text_link", "offset": start, "length": u16 - start, "url": url})
            i = close + 1
            continue
        kind_len: tuple[str, int] | None = None
        if text.startswith("__", i):
            kind_len = ("underline", 2)
        elif text.startswith("||", i):
            kind_len = ("spoiler", 2)
        elif ch == "*":
            kind_len = ("bold", 1)
        elif ch == "_":
            kind_len = ("italic", 1)
        elif ch == "~":
            kind_len = ("strikethrough", 1)
        elif ch == "[":
            kind_len = ("text_link", 1)
        elif ch == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote line marker: accepted, not tracked as an entity here
            continue
        if kind_len is None:
            if ch in _MDV2_RESERVED:
                raise fail(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
            add(ch)
            i += 1
            continue
        kind, length = kind_len
        if kind != "text_link" and any(k == kind for k, _, _ in stack):
            if stack[-1][0] != kind:
                raise fail(
                    f"Can't find end of {_MDV2_NAMES[stack[-1][0]]} entity at byte offset "
                    f"{byte_offset(stack[-1][2])}"
                )
            _, start, _src = stack.pop()
            if u16 > start:
                entities.append({"type": kind, "offset": start, "length": u16 - start})
        else:
            stack.append((kind, u16, i))
        i += length
    if stack:
        kind, _start, src = stack[-1]
        raise fail(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {byte_offset(src)}")
    return _finish_parse(visible, entities)


def parse_markdown(text: str) -> tuple[str, list[JSON]]:
    """Legacy "Markdown": *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""

    def fail(pos: int) -> ValueError:
        offset = len(text[:pos].encode("utf-8"))
        return ValueError(
            "Bad Request: can't parse entities: "
            f"Can't find end of the entity starting at byte offset {offset}"
        )

    visible: list[str] = []
    entities: list[JSON] = []
    u16 = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[\\":
            visible.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if ch in "*_`[":
            if text.startswith("```", i):
                close = text.find("```", i + 3)
                if close < 0:
                    raise fail(i)
                inner, kind, nxt = text[i + 3 : close], "pre", close + 3
            elif ch == "[":
                close = text.find("]", i + 1)
                if close < 0 or not text.startswith("(", close + 1) or text.find(")", close + 2) < 0:
                    raise fail(i)
                url_end = text.find(")", close + 2)
                inner, kind, nxt = text[i + 1 : close], "text_link", url_end + 1
            else:
                close = text.find(ch, i + 1)
                if close < 0:
                    raise fail(i)
                kind = {"*": "bold", "_": "italic", "`": "code"}[ch]
                inner, nxt = text[i + 1 : close], close + 1
            length = utf16_len(inner)
            if length:
                entity: JSON = {"type": kind, "offset": u16, "length": length}
                if kind == "text_link":
                    entity["url"] = text[text.find("(", i) + 1 : nxt - 1]
                entities.append(entity)
            visible.append(inner)
            u16 += length
            i = nxt
            continue
        visible.append(ch)
        u16 += utf16_len(ch)
        i += 1
    return _finish_parse(visible, entities)


def _render_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSON]]:
    """(visible text, entities) for a text/caption as Telegram would store it."""
    if entities is not None:  # explicit entities win over parse_mode, as in tdlib
        if not isinstance(entities, list):
            raise _bad("can't parse entities JSON object")
        stripped = text.strip()
        return stripped, [e for e in entities if isinstance(e, dict)]
    mode = (parse_mode or "").lower()
    try:
        if mode == "html":
            return parse_html(text)
        if mode == "markdownv2":
            return parse_markdown_v2(text)
        if mode == "markdown":
            return parse_markdown(text)
    except ValueError as exc:
        raise ApiError(BAD_REQUEST, str(exc)) from None
    if mode:
        raise _bad(f"unsupported parse_mode {parse_mode!r}")
    return text.strip(), []


def strip_markup(text: str | None, parse_mode: str | None) -> str:
    """Visible text of something the bot sent; falls back to the raw text if it does not parse."""
    if not text:
        return ""
    try:
        return _render_text(text, parse_mode, None)[0]
    except ApiError:
        return text


# --------------------------------------------------------------------------------------------
# Keyboards
# --------------------------------------------------------------------------------------------

_INLINE_BUTTON_KINDS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "login_url",
    "web_app",
    "copy_text",
)
_URL_RE = re.compile(r"^(?:(?:https?|tg|ton)://)?[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass
class _Markup:
    raw: JSON | None = None  # as the bot sent it (parsed JSON)
    inline: list[list[JSON]] | None = None  # non-empty inline keyboard, echoed in messages
    buttons: list[list[Button]] = field(default_factory=list)
    keyboard: list[list[Button]] = field(default_factory=list)


def _parse_markup(value: Any, *, inline_only: bool = False) -> _Markup:
    """Validate reply_markup like Telegram; returns what the message will carry."""
    if value is None or value == "":
        return _Markup()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _bad("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        buttons: list[list[Button]] = []
        for row in rows:
            out_row: list[Button] = []
            for b in row:
                out_row.append(_parse_inline_button(b))
            buttons.append(out_row)
        inline = [[dict(b) for b in row] for row in rows if row]
        return _Markup(raw=value, inline=inline or None, buttons=[r for r in buttons if r])
    if inline_only:
        raise _bad("inline keyboard expected")
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        keyboard: list[list[Button]] = []
        for row in rows:
            out_row = []
            for b in row:
                if isinstance(b, str):
                    out_row.append(Button(text=b))
                elif isinstance(b, dict) and isinstance(b.get("text"), str):
                    out_row.append(Button(text=b["text"], request_contact=bool(b.get("request_contact"))))
                else:
                    raise _bad("can't parse keyboard button: Field \"text\" must be of type String")
            keyboard.append(out_row)
        return _Markup(raw=value, keyboard=keyboard)
    if value.get("remove_keyboard") or value.get("force_reply"):
        return _Markup(raw=value)
    raise _bad("can't parse reply keyboard markup JSON object")


def _parse_inline_button(b: Any) -> Button:
    if not isinstance(b, dict):
        raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(b.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Can\'t find field "text"')
    kinds = [k for k in _INLINE_BUTTON_KINDS if b.get(k) is not None]
    if not kinds:
        raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    data = b.get("callback_data")
    if data is not None:
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    url = b.get("url")
    if url is not None and (not isinstance(url, str) or not _URL_RE.match(url)):
        raise _bad("BUTTON_URL_INVALID")
    return Button(text=b["text"], callback_data=data, url=url)


# --------------------------------------------------------------------------------------------
# Internal state
# --------------------------------------------------------------------------------------------


class _Pulse:
    """Wakes every waiter on `notify()`; waiters re-check their condition afterwards."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> bool:
        """True when notified, False on timeout."""
        event = self._event
        if timeout is not None and timeout <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None
    mime_type: str | None


@dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class _Fault:
    method: str
    kind: FaultKind
    remaining: int
    retry_after: int
    chat_id: int | None
    hold_seconds: float


@dataclass
class _Query:
    chat_id: int
    message_id: int | None
    data: str | None
    answered: bool = False


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _json_param(params: JSON, name: str, what: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {what} JSON object") from None
    return value


def _update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _png_size(content: bytes) -> tuple[int, int] | None:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return None


# --------------------------------------------------------------------------------------------
# The people on the other side
# --------------------------------------------------------------------------------------------


class EmulatedUser:
    """A Telegram user in a private chat with the bot (chat id == user id).

    Every action injects an update the bot receives through getUpdates; `replies()` and
    friends wait for what the bot sends back to this chat.
    """

    def __init__(
        self,
        emulator: BotApiEmulator,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        phone: str | None,
        language_code: str | None,
    ) -> None:
        self.emulator = emulator
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.phone = phone
        self.language_code = language_code
        self._cursor = 0  # index into the chat's outputs: what replies() has handed out

    @property
    def chat_id(self) -> int:
        """Private chat id, which Telegram makes equal to the user id."""
        return self.id

    def to_dict(self) -> JSON:
        """The Telegram `User` object."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> JSON:
        """The Telegram `Chat` object of the private chat."""
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    # ---- actions ---------------------------------------------------------------------------

    async def say(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message; "/cmd args" gets a bot_command entity. Returns the message_id."""
        content: JSON = {"text": text}
        m = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?", text)
        if m and (m.end() == len(text) or not (text[m.end()].isalnum() or text[m.end()] == "_")):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}]
        if reply_to is not None:
            replied = self.emulator._messages.get(self.id, {}).get(reply_to)
            if replied is not None:
                content["reply_to_message"] = replied
        return self._send(content)

    async def share_contact(
        self,
        phone: str | None = None,
        own: bool = True,
        *,
        first_name: str | None = None,
        contact_user_id: int | None = None,
    ) -> int:
        """Send a contact. own=True: the person's own card (what a request_contact button sends),
        contact.user_id == user id. own=False: someone else's card (forwarded or typed), with
        `contact_user_id` or none at all, which a bot must not accept as proof of a phone."""
        number = phone if phone is not None else self.phone
        if number is None:
            raise ValueError(f"user {self.id} has no phone; pass phone=")
        contact: JSON = {"phone_number": number, "first_name": first_name or self.first_name}
        if own:
            contact["user_id"] = self.id
            if self.last_name:
                contact["last_name"] = self.last_name
        elif contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._send({"contact": contact})

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> int:
        """Send a file; the bot can fetch it through getFile and /file/bot<token>/<path>."""
        stored = self.emulator._store_file(content, filename, mime_type, "documents")
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": len(content),
        }
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        payload: JSON = {"document": document}
        if caption:
            payload["caption"] = caption
        return self._send(payload)

    async def forward_text(
        self, text: str, *, from_user_id: int | None = None, sender_name: str = "Ẩn danh"
    ) -> int:
        """Forward someone else's text message into the chat (forward_origin set)."""
        now = int(self.emulator._now())
        if from_user_id is not None:
            origin: JSON = {
                "type": "user",
                "date": now,
                "sender_user": {"id": from_user_id, "is_bot": False, "first_name": sender_name},
            }
        else:
            origin = {"type": "hidden_user", "date": now, "sender_user_name": sender_name}
        return self._send({"text": text, "forward_origin": origin})

    async def press(self, text: str) -> str:
        """Press the inline button labelled `text` (exact label first, then a label containing
        it) on the most recent bot message carrying one. Returns the callback query id."""
        messages = sorted(self.emulator._state.get(self.id, {}).values(), key=lambda m: -m.message_id)
        for match in (lambda label: label == text, lambda label: text in label):
            for message in messages:
                for button in (b for row in message.buttons for b in row):
                    if match(button.text):
                        if button.callback_data is None:
                            raise NoSuchButton(
                                f"button {button.text!r} has no callback_data (url={button.url!r})"
                            )
                        return self._callback(message.message_id, button.callback_data)
        seen = [m.button_texts for m in messages if m.buttons][:3]
        raise NoSuchButton(f"user {self.id}: no inline button {text!r}; latest keyboards: {seen}")

    async def press_index(self, n: int) -> str:
        """Press the n-th button (1-based, reading order) of the latest bot message with an
        inline keyboard. Returns the callback query id."""
        messages = sorted(self.emulator._state.get(self.id, {}).values(), key=lambda m: -m.message_id)
        for message in messages:
            if message.buttons:
                flat = [b for row in message.buttons for b in row]
                if not 1 <= n <= len(flat):
                    raise NoSuchButton(
                        f"button #{n} does not exist; the keyboard has {len(flat)}: {message.button_texts}"
                    )
                button = flat[n - 1]
                if button.callback_data is None:
                    raise NoSuchButton(f"button {button.text!r} has no callback_data (url={button.url!r})")
                return self._callback(message.message_id, button.callback_data)
        raise NoSuchButton(f"user {self.id}: no bot message with an inline keyboard")

    async def press_data(self, message_id: int, data: str) -> str:
        """Send a callback query with raw data for a message (even data no button carries)."""
        if message_id not in self.emulator._messages.get(self.id, {}):
            raise NoSuchButton(f"chat {self.id} has no message {message_id}")
        return self._callback(message_id, data)

    # ---- waiting for the bot ---------------------------------------------------------------

    def _outputs(self) -> list[SentMessage]:
        return self.emulator._outputs.setdefault(self.id, [])

    def _timeout_error(self, what: str, new: list[SentMessage]) -> TimeoutError:
        rejected = [r for r in self.emulator.rejected if r.chat_id in (self.id, None)][-3:]
        return TimeoutError(
            f"user {self.id}: {what}; new outputs: {[m.plain_text[:80] for m in new]}; "
            f"recent rejected calls: {rejected}"
        )

    async def replies(self, timeout: float = 5.0, count: int = 1) -> list[SentMessage]:
        """Wait for at least `count` new bot outputs (messages, photos, documents, text edits)
        since the last say/press/replies, and return all of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        outputs = self._outputs()
        while len(outputs) - self._cursor < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._timeout_error(
                    f"expected {count} output(s) within {timeout}s", outputs[self._cursor :]
                )
            await self.emulator._output_pulse.wait(remaining)
        new = outputs[self._cursor :]
        self._cursor = len(outputs)
        return new

    async def ask(self, text: str, timeout: float = 5.0) -> SentMessage:
        """Say `text` and return the next bot output (later ones stay for `replies()`)."""
        await self.say(text)
        start = self._cursor
        first = (await self.replies(timeout=timeout, count=1))[0]
        self._cursor = start + 1
        return first

    async def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> list[SentMessage]:
        """Wait until the bot has sent nothing to this chat for `quiet` seconds; return the
        outputs since the last call. Raises TimeoutError if it keeps talking past `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        outputs = self._outputs()
        while True:
            seen = len(outputs)
            quiet_until = loop.time() + quiet
            while len(outputs) == seen and loop.time() < quiet_until:
                await self.emulator._output_pulse.wait(quiet_until - loop.time())
            if len(outputs) == seen:
                break
            if loop.time() >= deadline:
                raise self._timeout_error(f"still sending after {timeout}s", outputs[self._cursor :])
        new = outputs[self._cursor :]
        self._cursor = len(outputs)
        return new

    def history(self) -> list[SentMessage]:
        """Every output the bot produced in this chat, in order."""
        return list(self._outputs())

    # ---- internals -------------------------------------------------------------------------

    def _send(self, content: JSON) -> int:
        emu = self.emulator
        message_id = emu._next_message_id(self.id)
        message: JSON = {
            "message_id": message_id,
            "from": self.to_dict(),
            "chat": self.chat_dict(),
            "date": int(emu._now()),
            **content,
        }
        emu._messages.setdefault(self.id, {})[message_id] = message
        self._cursor = len(self._outputs())
        emu._push_update("message", message)
        return message_id

    def _callback(self, message_id: int, data: str) -> str:
        emu = self.emulator
        emu._query_seq += 1
        query_id = f"{self.id}{emu._query_seq:06d}"
        emu._queries[query_id] = _Query(self.id, message_id, data)
        query: JSON = {
            "id": query_id,
            "from": self.to_dict(),
            "message": emu._messages[self.id][message_id],
            "chat_instance": str(7_000_000_000_000 + self.id),
            "data": data,
        }
        self._cursor = len(self._outputs())
        emu._push_update("callback_query", query)
        return query_id


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[JSON, dict[str, _Upload]], Awaitable[Any]]

# The HTTP request being served, for the few handlers that care whether the client is still there.
# When the request being handled reached the server (emulator clock): where the flood limits
# and the records count it. None outside a request (then: now).
_arrival: contextvars.ContextVar[float | None] = contextvars.ContextVar("emulator_arrival", default=None)
_current_request: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "emulator_request", default=None
)


def _loop_time() -> float:
    """The running event loop's monotonic clock: the emulator's default for flood limits."""
    return asyncio.get_running_loop().time()


def _client_gone() -> bool:
    request = _current_request.get()
    if request is None:
        return False
    transport = request.transport
    return transport is None or transport.is_closing()


class _Abandoned(Exception):
    """The client hung up while its request waited (PTB cancels its long poll on shutdown)."""


class BotApiEmulator:
    """An in-process Telegram Bot API: long polling, messages, keyboards, files, flood limits,
    blocked users and injected faults. See the module docstring for how PTB is pointed at it."""

    def __init__(
        self,
        token: str = "123456:TEST",
        limits: EmulatorLimits | None = None,
        bot_username: str = "bhxh_test_bot",
        bot_first_name: str = "BHXH Bot",
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        self.limits = limits or EmulatorLimits()
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 1
        self._now = now  # message dates (unix seconds); injectable for clock-driven tests
        # Flood limits and record timestamps (seconds, monotonic; default: the event loop's
        # clock). Injectable so that tests of the limits control the window exactly.
        self._monotonic = monotonic or _loop_time

        # what tests read
        self.sent: list[SentMessage] = []
        self.requests: Counter[str] = Counter()
        self.rejected: list[Rejection] = []
        self.commands: list[JSON] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.deleted: list[tuple[int, int]] = []
        self.updates_delivered: Counter[int] = Counter()  # update_id -> times handed out
        # webhook mode (setWebhook): where updates are posted, the secret header sent with them,
        # and every POST made as (update_id, HTTP status; 0 when the connection failed)
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_posts: list[tuple[int, int]] = []
        # every POST as (address, update_id, HTTP status), fan-out or not
        self.webhook_deliveries: list[tuple[str, int, int]] = []
        self.webhook_fan_out: list[str] = []  # see `fan_out_webhook`
        self.webhook_retry_delay = 0.05  # seconds before a refused post is tried again
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._posted_updates: dict[int, JSON] = {}  # update_id -> the update as posted

        # chats and messages
        self._users: dict[int, EmulatedUser] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, dict[int, JSON]] = {}  # every message, as Telegram objects
        self._state: dict[int, dict[int, SentMessage]] = {}  # bot messages, current state
        self._outputs: dict[int, list[SentMessage]] = {}
        self._message_seq: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = 0
        self._queries: dict[str, _Query] = {}
        self._query_seq = 0
        self._commands_by_scope: dict[tuple[str, str], list[JSON]] = {}

        # updates
        self._updates: list[JSON] = []
        self._update_seq = 0
        self._poll_generation = 0
        self._allowed_updates: list[str] | None = None

        # limits and faults
        self._global_sends: list[float] = []  # accepted sends (arrival), sorted, last 2 s
        self._last_chat_send: dict[int, float] = {}
        self._last_second: list[float] = []  # accepted sends (arrival), sorted, last 2 s (stats)
        self._asked: list[float] = []  # sends asked for (arrival), sorted, last 2 s (stats)
        self.stats = EmulatorStats()
        self._jitter = random.Random(self.limits.jitter_seed)
        self._faults: list[_Fault] = []
        self._polls_waiting = 0

        self._update_pulse = _Pulse()
        self._output_pulse = _Pulse()
        self._change_pulse = _Pulse()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url = ""

        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._method_table().items():
            self._handlers[name.lower()] = (name, handler)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = a free port); `api_base_url` is valid afterwards."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Short shutdown: long polls and held "timeout" faults are released by `_stopping`.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        """Release waiting requests and close the server."""
        self._stopping.set()
        await self._stop_webhook_delivery()
        self._update_pulse.notify()
        self._output_pulse.notify()
        self._change_pulse.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base_url(self) -> str:
        """"http://127.0.0.1:PORT" (no trailing slash); PTB base_url is this + "/bot"."""
        if not self._base_url:
            raise RuntimeError("emulator not started")
        return self._base_url

    @property
    def base_url(self) -> str:
        """What to pass to ApplicationBuilder.base_url / Bot(base_url=...)."""
        return self.api_base_url + "/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass to ApplicationBuilder.base_file_url / Bot(base_file_url=...)."""
        return self.api_base_url + "/file/bot"

    # ---- test-side API ---------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        phone: str | None = None,
        language_code: str | None = "vi",
    ) -> EmulatedUser:
        """Register (idempotently) a person and their private chat with the bot."""
        existing = self._users.get(user_id)
        if existing is not None:
            if phone is not None and existing.phone is None:
                existing.phone = phone
            return existing
        created = EmulatedUser(
            self, user_id, first_name or f"User{user_id}", last_name, username, phone, language_code
        )
        self._users[user_id] = created
        return created

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to their chat get 403 until `unblock`."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The person unblocks the bot."""
        self._blocked.discard(user_id)

    def fail_next(
        self,
        method: str,
        kind: FaultKind,
        count: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
        hold_seconds: float = 3.0,
    ) -> None:
        """Make the next `count` calls of `method` (optionally to `chat_id`) fail.

        "429": Too Many Requests with retry_after; "500": Internal Server Error; "403": blocked;
        "timeout": hold the request `hold_seconds` (longer than the client's read timeout) and
        answer 502 - nothing is sent; "timeout_after_send": the message IS delivered and recorded
        but the answer is held and then lost (502), the case that makes blind retries duplicate.
        """
        if kind not in ("429", "500", "timeout", "403", "timeout_after_send"):
            raise ValueError(f"unknown fault kind {kind!r}")
        canonical = self._handlers.get(method.lower(), (method, None))[0]
        self._faults.append(_Fault(canonical, kind, count, retry_after, chat_id, hold_seconds))

    def clear_faults(self) -> int:
        """Drop the faults not yet used up (requests already held stay held); returns how many
        calls they would still have failed."""
        left = sum(fault.remaining for fault in self._faults)
        self._faults.clear()
        return left

    def messages_for(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat as they are now (edits applied, deletions gone)."""
        return sorted(self._state.get(chat_id, {}).values(), key=lambda m: m.message_id)

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Every successful send/edit to a chat, in order."""
        return [m for m in self.sent if m.chat_id == chat_id]

    @property
    def polls_waiting(self) -> int:
        """getUpdates calls parked in a long poll right now: a test waits for one (with
        `wait_until`) to know the poll is in place before it acts, instead of sleeping."""
        return self._polls_waiting

    @property
    def pending_updates(self) -> int:
        """Updates injected but not yet confirmed by the bot (getUpdates offset)."""
        return len(self._updates)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds; it is re-checked after every API call and update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            await self._change_pulse.wait(remaining)

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched every injected update at least once."""
        await self.wait_until(
            lambda: all(self.updates_delivered[u["update_id"]] for u in self._updates), timeout
        )

    # ---- HTTP ------------------------------------------------------------------------------

    def _json(self, status: int, payload: JSON) -> web.Response:
        return web.Response(
            status=status, text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
        )

    def _error(self, method: str, chat_id: int | None, error: ApiError) -> web.Response:
        self.rejected.append(Rejection(method, chat_id, error.code, error.description, self._arrival_time()))
        payload: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            payload["parameters"] = {"retry_after": error.retry_after}
        return self._json(error.code, payload)

    def _one_way_delay(self) -> float:
        limits = self.limits
        delay = limits.network_delay / 2
        if limits.network_jitter > 0:
            delay += self._jitter.uniform(0.0, limits.network_jitter)
        return delay

    async def _handle_api(self, request: web.Request) -> web.Response:
        sending = request.match_info["method"].lower() in _MESSAGE_CREATING_LOWER
        stats = self.stats
        if sending:
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            delay = self._one_way_delay()
            # The request reaches the server `delay` after it reached this handler; it is counted
            # at that instant. The emulator's own lateness in waking up (it shares a loop with the
            # bot in tests and benchmarks) is not the network's and does not move it.
            _arrival.set(self._monotonic() + delay)
            if delay > 0:
                await asyncio.sleep(delay)  # the request travelling to the server
            try:
                response = await self._dispatch(request)
            except ConnectionResetError:  # the client went away mid-request (bot stopped)
                return web.Response(status=499)
            if (delay := self._one_way_delay()) > 0:
                await asyncio.sleep(delay)  # the answer travelling back
            return response
        finally:
            if sending:
                stats.in_flight -= 1
            self._change_pulse.notify()

    async def _dispatch(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        name, handler = self._handlers.get(raw_method.lower(), (raw_method, None))
        self.requests[name] += 1
        self.stats.requests += 1
        if request.match_info["token"] != self.token:
            return self._error(name, None, ApiError(401, "Unauthorized"))
        if handler is None:
            return self._error(name, None, ApiError(404, "Not Found"))
        try:
            params, uploads = await _read_params(request)
        except ApiError as exc:
            return self._error(name, None, exc)
        chat_id = _int_or_none(params.get("chat_id"))
        fault = self._take_fault(name, chat_id)
        if fault is not None and fault.kind != "timeout_after_send":
            return await self._apply_fault(fault, name, chat_id)
        _current_request.set(request)
        try:
            result = await handler(params, uploads)
        except ApiError as exc:
            return self._error(name, chat_id, exc)
        except _Abandoned:
            return self._json(200, {"ok": True, "result": []})
        if fault is not None:  # timeout_after_send: done, but the answer never arrives
            return await self._apply_fault(fault, name, chat_id)
        return self._json(200, {"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")

    def _take_fault(self, method: str, chat_id: int | None) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.remaining > 0 and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _apply_fault(self, fault: _Fault, method: str, chat_id: int | None) -> web.Response:
        if fault.kind == "429":
            self.stats.injected_429 += 1
            err = ApiError(429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after)
        elif fault.kind == "500":
            err = ApiError(500, "Internal Server Error")
        elif fault.kind == "403":
            err = ApiError(FORBIDDEN, BLOCKED)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.hold_seconds)
            err = ApiError(502, "Bad Gateway")
        return self._error(method, chat_id, err)

    # ---- shared helpers for method handlers ------------------------------------------------

    def _method_table(self) -> dict[str, Handler]:
        async def ok(params: JSON, uploads: dict[str, _Upload]) -> bool:
            return True

        return {
            "getMe": self._get_me,
            "logOut": ok,
            "close": ok,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setMyDescription": ok,
            "setMyShortDescription": ok,
            "setMyName": ok,
            "setChatMenuButton": ok,
        }

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _next_message_id(self, chat_id: int) -> int:
        self._message_seq[chat_id] = self._message_seq.get(chat_id, 0) + 1
        return self._message_seq[chat_id]

    def _push_update(self, kind: str, payload: JSON) -> int:
        self._update_seq += 1
        self._updates.append({"update_id": self._update_seq, kind: payload})
        self._update_pulse.notify()
        self._change_pulse.notify()
        return self._update_seq

    def _store_file(
        self, content: bytes, file_name: str | None, mime_type: str | None, folder: str
    ) -> _StoredFile:
        self._file_seq += 1
        seq = self._file_seq
        suffix = PurePosixPath(file_name).suffix if file_name else (".jpg" if folder == "photos" else "")
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = _StoredFile(
            file_id=f"EMU{folder[:3].upper()}{seq:08d}",
            file_unique_id=f"U{seq:08d}",
            file_path=f"{folder}/file_{seq}{suffix}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _chat(self, params: JSON, *, writing: bool = True) -> EmulatedUser:
        """Resolve chat_id; refuse unknown chats and (for writes) chats that blocked the bot."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        chat_id = _int_or_none(raw)
        user: EmulatedUser | None = None
        if chat_id is not None:
            user = self._users.get(chat_id)
        elif isinstance(raw, str) and raw.startswith("@"):
            user = next((u for u in self._users.values() if u.username and "@" + u.username == raw), None)
        if user is None:
            raise _bad("chat not found")
        if writing and user.id in self._blocked:
            raise ApiError(FORBIDDEN, BLOCKED)
        return user

    def _arrival_time(self) -> float:
        arrival = _arrival.get()
        return self._monotonic() if arrival is None else arrival

    def _check_flood(self, chat_id: int) -> None:
        """Telegram's flood limits for message-creating calls, counted at arrival over sliding
        windows (refused calls do not count): at most `global_per_second` in any window
        (t - 1 s, t], at most one per chat in any window of `per_chat_interval` seconds.

        With network jitter, requests can be handled slightly out of arrival order, so the
        check looks at every window that would hold this arrival, later ones included."""
        now = self._arrival_time()
        self._count_asked(now)
        limits = self.limits
        if limits.per_chat_interval is not None:
            last = self._last_chat_send.get(chat_id)
            if last is not None and abs(now - last) < limits.per_chat_interval - limits.tolerance:
                wait = max(1, math.ceil(last + limits.per_chat_interval - now))
                self.stats.flood_429 += 1
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        if limits.global_per_second is not None:
            window = 1.0 - limits.tolerance
            sends = self._global_sends
            while sends and sends[0] <= max(sends[-1], now) - 2 * window:
                del sends[0]
            # windows (t - window, t] holding `now`: t = now, or t = a later accepted send
            ends = [now, *sends[bisect.bisect_right(sends, now) : bisect.bisect_left(sends, now + window)]]
            for end in ends:
                held = bisect.bisect_right(sends, end) - bisect.bisect_right(sends, end - window)
                if held + 1 > limits.global_per_second:
                    oldest = sends[bisect.bisect_right(sends, end - window)]
                    wait = max(1, math.ceil(oldest + 1.0 - now))
                    self.stats.flood_429 += 1
                    raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)

    def _count_asked(self, now: float) -> None:
        """Count a message asked for at `now` in `stats.max_asked_per_sliding_second`."""
        asked = self._asked
        bisect.insort(asked, now)
        while asked[0] <= asked[-1] - 2.0:
            del asked[0]
        # only the windows (t - 1 s, t] holding `now` changed: t = now or a later arrival
        ends = asked[bisect.bisect_left(asked, now) : bisect.bisect_right(asked, now + 1.0)]
        stats = self.stats
        stats.max_asked_per_sliding_second = max(
            stats.max_asked_per_sliding_second,
            *(bisect.bisect_right(asked, end) - bisect.bisect_right(asked, end - 1.0) for end in ends),
        )

    def _count_send(self, chat_id: int) -> None:
        now = self._arrival_time()
        if self.limits.global_per_second is not None:
            bisect.insort(self._global_sends, now)
        last = self._last_chat_send.get(chat_id)
        self._last_chat_send[chat_id] = now if last is None else max(last, now)
        recent = self._last_second
        bisect.insort(recent, now)
        while recent[0] <= recent[-1] - 2.0:
            del recent[0]
        stats = self.stats
        stats.sends += 1
        # the busiest window (t - 1 s, t] among those ending at an accepted send
        stats.max_per_sliding_second = max(
            stats.max_per_sliding_second,
            *(bisect.bisect_right(recent, end) - bisect.bisect_right(recent, end - 1.0) for end in recent),
        )

    def _record(self, snapshot: SentMessage, *, replace_state: bool = True) -> None:
        self.sent.append(snapshot)
        if replace_state:
            self._state.setdefault(snapshot.chat_id, {})[snapshot.message_id] = snapshot
        if snapshot.method in OUTPUT_METHODS:
            self._outputs.setdefault(snapshot.chat_id, []).append(snapshot)
            self._output_pulse.notify()

    def _reply_to(self, chat_id: int, params: JSON) -> JSON | None:
        target = _int_or_none(params.get("reply_to_message_id"))
        reply_parameters = _json_param(params, "reply_parameters", "reply parameters")
        if isinstance(reply_parameters, dict):
            target = _int_or_none(reply_parameters.get("message_id"))
            allow = _bool(reply_parameters.get("allow_sending_without_reply", False))
        else:
            allow = _bool(params.get("allow_sending_without_reply", False))
        if target is None:
            return None
        replied = self._messages.get(chat_id, {}).get(target)
        if replied is None and not allow:
            raise _bad("message to be replied not found")
        return replied

    def _new_bot_message(
        self,
        method: str,
        user: EmulatedUser,
        params: JSON,
        content: JSON,
        *,
        raw_text: str | None,
        plain: str,
        entities: list[JSON],
        markup: _Markup,
        file: _StoredFile | None = None,
    ) -> JSON:
        """Create, store and record a bot message; returns the Telegram `Message` object."""
        chat_id = user.id
        replied = self._reply_to(chat_id, params)
        self._check_flood(chat_id)
        self._count_send(chat_id)
        message_id = self._next_message_id(chat_id)
        message: JSON = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": user.chat_dict(),
            "date": int(self._now()),
            **content,
        }
        if replied is not None:
            message["reply_to_message"] = replied
        if markup.inline:
            message["reply_markup"] = {"inline_keyboard": markup.inline}
        self._messages.setdefault(chat_id, {})[message_id] = message
        parse_mode = params.get("parse_mode") or None
        self._record(
            SentMessage(
                chat_id=chat_id,
                message_id=message_id,
                method=method,
                text=raw_text,
                parse_mode=parse_mode,
                reply_markup=markup.raw,
                buttons=markup.buttons,
                file_name=file.file_name if file else None,
                file_bytes=file.content if file else None,
                timestamp=self._arrival_time(),
                plain_text=plain,
                entities=entities,
                keyboard=markup.keyboard,
                mime_type=file.mime_type if file else None,
                file_id=file.file_id if file else None,
            )
        )
        return message

    def _resolve_upload(
        self, params: JSON, uploads: dict[str, _Upload], name: str, folder: str
    ) -> _StoredFile:
        """The file for `name`: an upload (field or attach://), a known file_id, or a URL."""
        upload = uploads.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"file {value} not found in the request")
        if upload is not None:
            if not upload.content:
                raise _bad("file must be non-empty")
            return self._store_file(upload.content, upload.filename, upload.content_type, folder)
        if not value:
            raise _bad(f"there is no {name} in the request")
        if not isinstance(value, str):
            raise _bad("wrong file identifier/HTTP URL specified")
        if value in self._files:
            return self._files[value]
        if value.startswith(("http://", "https://")):
            return self._store_file(b"", PurePosixPath(value.split("?")[0]).name or None, None, folder)
        raise _bad("wrong file identifier/HTTP URL specified")

    def _caption(self, params: JSON) -> tuple[str | None, str, list[JSON]]:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None, "", []
        caption = str(caption)
        explicit = _json_param(params, "caption_entities", "caption entities")
        plain, entities = _render_text(caption, params.get("parse_mode") or None, explicit)
        if utf16_len(plain) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        return caption, plain, entities

    def _text(self, params: JSON) -> tuple[str, str, list[JSON]]:
        text = params.get("text")
        if text is None or text == "":
            raise _bad("message text is empty")
        text = str(text)
        explicit = _json_param(params, "entities", "entities")
        plain, entities = _render_text(text, params.get("parse_mode") or None, explicit)
        if not plain:
            raise _bad("message text is empty")
        if utf16_len(plain) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return text, plain, entities

    # ---- methods: bot and updates ----------------------------------------------------------

    async def _get_me(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        """Webhook mode: every pending and new update is POSTed to `url` (see `_deliver`);
        getUpdates answers 409 until deleteWebhook."""
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url):
            raise _bad("bad webhook: an HTTPS URL must be provided for webhook")
        allowed = _json_param(params, "allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        if _bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        if not url:
            return await self._delete_webhook(params, uploads)
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self._webhook_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver(), name="emulator-webhook")
        self._update_pulse.notify()
        return True

    async def _delete_webhook(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if _bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        self._update_pulse.notify()  # the delivery loop sees the webhook is gone and ends
        return True

    async def _get_webhook_info(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            "max_connections": 40,
        }
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ---- webhook delivery ------------------------------------------------------------------

    def fan_out_webhook(self, urls: list[str] | None) -> None:
        """Post every update to each of `urls` (concurrently, each address until it answers
        2xx) instead of the address setWebhook registered: the same update reaching every
        instance behind a load balancer. An update is confirmed once every address accepted it,
        so an address that never does holds the queue (as a webhook that keeps refusing holds
        Telegram's). Webhook mode still starts with setWebhook, whose secret is sent; None (or
        an empty list) goes back to the registered address."""
        self.webhook_fan_out = list(urls or [])
        self._update_pulse.notify()

    async def _post(self, update: JSON, url: str | None = None) -> int:
        """POST one update to the webhook (or to `url`) as Telegram does (JSON, the secret
        header); the HTTP status, or 0 when the connection failed."""
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        target = url or self.webhook_url
        try:
            async with ClientSession(timeout=ClientTimeout(total=10)) as session:
                async with session.post(target, data=json.dumps(update), headers=headers) as answer:
                    status = answer.status
        except (ClientError, OSError, TimeoutError):
            status = 0
        self.webhook_posts.append((int(update["update_id"]), status))
        self.webhook_deliveries.append((target, int(update["update_id"]), status))
        if not 200 <= status < 300:
            self._webhook_error = (int(self._now()), f"Wrong response from the webhook: {status}")
        self._change_pulse.notify()
        return status

    async def _deliver(self) -> None:
        """Post pending updates one at a time, oldest first, while a webhook is set; an update
        is confirmed (removed) on a 2xx answer and posted again after `webhook_retry_delay`
        otherwise, as Telegram retries until the webhook accepts."""
        while self.webhook_url and not self._stopping.is_set():
            if self._allowed_updates:
                allowed_set = set(self._allowed_updates)
                self._updates = [u for u in self._updates if _update_kind(u) in allowed_set]
            if not self._updates:
                await self._update_pulse.wait(None)
                continue
            update = self._updates[0]
            status = await self._post_everywhere(update) if self.webhook_fan_out else await self._post(update)
            if 200 <= status < 300:
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                self.updates_delivered[update["update_id"]] += 1
                self._posted_updates[update["update_id"]] = update
                self._change_pulse.notify()
            else:
                await asyncio.sleep(self.webhook_retry_delay)

    async def _post_everywhere(self, update: JSON) -> int:
        """Fan-out mode: post `update` to every address at once, and again to those that did not
        answer 2xx (after `webhook_retry_delay`) until all did; 200 then. Ends early with 0 when
        fan-out is switched off or the webhook deleted meanwhile (the update stays pending)."""
        waiting = list(self.webhook_fan_out)
        while True:
            statuses = await asyncio.gather(*(self._post(update, url) for url in waiting))
            waiting = [url for url, status in zip(waiting, statuses, strict=True) if not 200 <= status < 300]
            if not waiting:
                return 200
            if not self.webhook_fan_out or not self.webhook_url or self._stopping.is_set():
                return 0
            await asyncio.sleep(self.webhook_retry_delay)

    async def post_again(self, update_id: int) -> int:
        """Post an update the webhook already accepted once more (what Telegram does when the
        first answer was lost, or what a second instance behind the load balancer receives);
        returns the HTTP status."""
        return await self._post(self._posted_updates[update_id])

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _get_updates(self, params: JSON, uploads: dict[str, _Upload]) -> list[JSON]:
        """Long polling: confirm below `offset`, wait up to `timeout` s for something to return.

        A newer getUpdates call ends an older waiting one with 409, as Telegram does. PTB's
        shutdown cancels its in-flight poll and polls once more: a poll whose client has hung
        up ends quietly instead (no 409 recorded, nothing counted as delivered).
        """
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        offset = _int_or_none(params.get("offset")) or 0
        limit = _int_or_none(params.get("limit")) or 100
        limit = min(max(limit, 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise _bad("wrong parameter timeout") from None
        allowed = _json_param(params, "allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None

        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        self._poll_generation += 1
        generation = self._poll_generation
        self._update_pulse.notify()  # an older waiting poll sees it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            if _client_gone():
                raise _Abandoned
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._allowed_updates:
                allowed_set = set(self._allowed_updates)
                self._updates = [u for u in self._updates if _update_kind(u) in allowed_set]
            batch = self._updates[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._stopping.is_set():
                for update in batch:
                    self.updates_delivered[update["update_id"]] += 1
                return batch
            self._polls_waiting += 1
            self._change_pulse.notify()  # lets `wait_until(lambda: emu.polls_waiting ...)` see it
            try:
                await self._update_pulse.wait(remaining)
            finally:
                self._polls_waiting -= 1

    # ---- methods: sending ------------------------------------------------------------------

    async def _send_message(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        user = self._chat(params)
        text, plain, entities = self._text(params)
        markup = _parse_markup(params.get("reply_markup"))
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        return self._new_bot_message(
            "sendMessage", user, params, content, raw_text=text, plain=plain, entities=entities, markup=markup
        )

    async def _send_photo(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        user = self._chat(params)
        caption, plain, entities = self._caption(params)
        markup = _parse_markup(params.get("reply_markup"))
        stored = self._resolve_upload(params, uploads, "photo", "photos")
        width, height = _png_size(stored.content) or (800, 600)
        sizes = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(stored.content),
            }
        ]
        content: JSON = {"photo": sizes}
        if caption is not None:
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        return self._new_bot_message(
            "sendPhoto",
            user,
            params,
            content,
            raw_text=caption,
            plain=plain,
            entities=entities,
            markup=markup,
            file=stored,
        )

    async def _send_document(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        user = self._chat(params)
        caption, plain, entities = self._caption(params)
        markup = _parse_markup(params.get("reply_markup"))
        stored = self._resolve_upload(params, uploads, "document", "documents")
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        return self._new_bot_message(
            "sendDocument",
            user,
            params,
            content,
            raw_text=caption,
            plain=plain,
            entities=entities,
            markup=markup,
            file=stored,
        )

    async def _send_chat_action(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        user = self._chat(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((user.id, action))
        return True

    # ---- methods: editing ------------------------------------------------------------------

    def _editable(self, params: JSON) -> tuple[EmulatedUser, JSON, SentMessage]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        user = self._chat(params)
        message_id = _int_or_none(params.get("message_id"))
        message = self._messages.get(user.id, {}).get(message_id or 0)
        if message is None:
            raise _bad("message to edit not found")
        state = self._state.get(user.id, {}).get(message_id or 0)
        if state is None or message["from"].get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return user, message, state

    def _apply_edit(
        self,
        method: str,
        message: JSON,
        state: SentMessage,
        markup: _Markup,
        *,
        text_key: str | None = None,
        raw_text: str | None = None,
        plain: str | None = None,
        entities: list[JSON] | None = None,
        parse_mode: str | None = None,
    ) -> JSON:
        """Refuse no-op edits like Telegram, then update the message and record a snapshot."""
        new_plain = state.plain_text if plain is None else plain
        new_entities = state.entities if entities is None else entities
        if (
            new_plain == state.plain_text
            and new_entities == state.entities
            and (markup.inline or None) == (message.get("reply_markup") or {}).get("inline_keyboard")
        ):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        if text_key is not None:
            if new_plain:
                message[text_key] = new_plain
            else:  # an empty caption removes it
                message.pop(text_key, None)
            entities_key = "entities" if text_key == "text" else "caption_entities"
            if new_entities:
                message[entities_key] = new_entities
            else:
                message.pop(entities_key, None)
        if markup.inline:
            message["reply_markup"] = {"inline_keyboard": markup.inline}
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(self._now())
        snapshot = replace(
            state,
            method=method,
            text=state.text if raw_text is None else raw_text,
            parse_mode=state.parse_mode if raw_text is None else parse_mode,
            plain_text=new_plain,
            entities=new_entities,
            reply_markup=markup.raw,
            buttons=markup.buttons,
            keyboard=[],
            timestamp=self._arrival_time(),
            edited=True,
        )
        self._record(snapshot)
        return message

    async def _edit_message_text(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        _user, message, state = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, plain, entities = self._text(params)
        # No reply_markup in an edit removes the inline keyboard, as on Telegram.
        markup = _parse_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            "editMessageText",
            message,
            state,
            markup,
            text_key="text",
            raw_text=text,
            plain=plain,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
        )

    async def _edit_message_caption(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        _user, message, state = self._editable(params)
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        caption, plain, entities = self._caption(params)
        markup = _parse_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            "editMessageCaption",
            message,
            state,
            markup,
            text_key="caption",
            raw_text=caption or "",
            plain=plain,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
        )

    async def _edit_message_reply_markup(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        _user, message, state = self._editable(params)
        markup = _parse_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit("editMessageReplyMarkup", message, state, markup)

    async def _delete_message(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        user = self._chat(params, writing=False)
        message_id = _int_or_none(params.get("message_id")) or 0
        if self._messages.get(user.id, {}).pop(message_id, None) is None:
            raise _bad("message to delete not found")
        self._state.get(user.id, {}).pop(message_id, None)
        self.deleted.append((user.id, message_id))
        return True

    async def _answer_callback_query(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        if query is None or query.answered:
            raise ApiError(BAD_REQUEST, QUERY_INVALID)
        query.answered = True
        text = params.get("text")
        self.callback_answers.append(
            CallbackAnswer(
                query_id,
                query.chat_id,
                str(text) if text else None,
                _bool(params.get("show_alert", False)),
                params.get("url") or None,
            )
        )
        return True

    # ---- methods: commands, files, chats ---------------------------------------------------

    @staticmethod
    def _scope_key(params: JSON) -> tuple[str, str]:
        scope = _json_param(params, "scope", "scope")
        scope_key = json.dumps(scope, sort_keys=True) if isinstance(scope, dict) else '{"type": "default"}'
        return scope_key, str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        commands = _json_param(params, "commands", "commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        cleaned: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict) or "command" not in item:
                raise _bad('can\'t parse BotCommand: Can\'t find field "command"')
            if "description" not in item:
                raise _bad('can\'t parse BotCommand: Can\'t find field "description"')
            command, description = str(item["command"]), str(item["description"]).strip()
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise _bad("BOT_COMMAND_INVALID")
            if not description:
                raise _bad("command description must be non-empty")
            if len(description) > 256:
                raise _bad("command description is too long")
            cleaned.append({"command": command, "description": description})
        self._commands_by_scope[self._scope_key(params)] = cleaned
        self.commands = cleaned
        return True

    async def _get_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> list[JSON]:
        return list(self._commands_by_scope.get(self._scope_key(params), []))

    async def _delete_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        key = self._scope_key(params)
        self._commands_by_scope.pop(key, None)
        if key == self._scope_key({}):
            self.commands = []
        return True

    async def _get_file(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _get_chat(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        user = self._chat(params, writing=False)
        return {
            **user.chat_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, _Upload]]:
    """Query string + JSON, url-encoded or multipart body -> (params, uploaded files)."""
    params: JSON = dict(request.query)
    uploads: dict[str, _Upload] = {}
    if not request.body_exists:
        return params, uploads
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON encoded request parameters") from None
        if not isinstance(body, dict):
            raise _bad("JSON object expected as request parameters")
        params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = _Upload(value.filename, value.content_type, value.file.read())
            else:
                params[key] = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
    return params, uploads

