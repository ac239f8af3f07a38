"""Lay a neutral `Reply` out as the messages one channel can send, from its `Capabilities`.

`layout` is pure and deterministic: the same reply and capabilities always give the same
messages, so a channel adapter only maps `OutMessage`s to API calls and makes no decisions.

Guarantees (each one is a test in tests/test_chat_layout.py):

- Text: every message is at most `caps.max_text` (UTF-16 units of the visible text, Telegram's
  unit). Long text is cut at a paragraph break, else a line break, else a space; a word is cut
  only when it alone is longer than a message. Cuts happen on the `Rich` runs before rendering,
  so each message's HTML is balanced on its own and no tag or entity is ever cut in half.
- Buttons: they go on the last text message, re-flowed into rows of at most
  `caps.max_buttons_per_row`; beyond `caps.max_buttons_per_message` the next ones follow in
  messages headed `texts.more_buttons` (a row is never split across messages). A payload
  longer than `caps.max_payload_bytes` is a programming error (ValueError naming its length,
  never its content); a label longer than `caps.max_label_chars` is shortened with "…".
- Files: a kind the channel accepts stays a `File`. An image over `caps.max_image_bytes`
  becomes `ImageTooLarge`: the adapter must downscale it (it owns image encoding; this module
  does no I/O and imports no imaging library). A kind the channel refuses (XLSX on Zalo)
  becomes a `FileLink`, which the adapter sends as a short-lived signed download-link button.
  A caption longer than `caps.max_caption` is sent as text before its file.
- `replace_pressed` marks the first message `replace=True` only where `caps.can_edit`.

The Vietnamese words it adds (page headings, the download button) come in as `LayoutTexts`;
the defaults are `bot.chat.texts.common.LAYOUT_TEXTS`.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from bot.chat.model import Button, Capabilities, File, Reply, Rows
from bot.chat.rich import Rich, t, to_html, to_plain

__all__ = [
    "FileLink",
    "ImageTooLarge",
    "LayoutTexts",
    "OutMessage",
    "layout",
    "shorten",
    "split_rich",
    "utf16_len",
]

_BREAKS = ("\n\n", "\n", " ")
_IMAGE_KINDS = frozenset({"png"})


@dataclass(frozen=True, slots=True)
class LayoutTexts:
    """The few words layout adds to a reply. `{name}` in `file_link` and `download_label` is
    replaced by the file's name."""

    more_buttons: str  # heading of a message carrying the next page of buttons
    choose: str  # text of a message carrying buttons when the reply has no text
    file_link: str  # text of the message whose button downloads a refused file
    download_label: str  # label of that button
    share_phone: str = "📱"  # label of the button that shares the person's verified phone


@dataclass(frozen=True, slots=True)
class FileLink:
    """A file the channel refuses: the adapter stores it, signs a short-lived URL and sends a
    URL button labelled `label` (already within the channel's label limit)."""

    file: File
    label: str


@dataclass(frozen=True, slots=True)
class ImageTooLarge:
    """An image the channel accepts, but over `max_bytes`: the adapter downscales it (e.g.
    re-encodes the PNG chart at a lower resolution) until it fits, then sends it."""

    file: File
    max_bytes: int


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One message to send. `text` is already rendered for the channel's markup (may be empty
    only for a file without caption); `replace` asks to edit the pressed message instead."""

    text: str
    buttons: Rows = ()
    file: File | FileLink | ImageTooLarge | None = None
    replace: bool = False
    ask_phone: bool = False


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Telegram's unit for limits, never less than characters."""
    return len(text.encode("utf-16-le")) // 2


def shorten(label: str, max_chars: int) -> str:
    """`label` if it fits, else cut to `max_chars` characters ending in "…"."""
    if len(label) <= max_chars:
        return label
    return label[: max_chars - 1].rstrip() + "…"


def _cut(plain: str, start: int, end: int, units: list[int], limit: int) -> int:
    """Where to end the chunk beginning at `start`, given that `plain[start:end]` is the longest
    prefix that fits: prefer long chunks ending at a paragraph, line or word break."""
    for minimum in (limit // 2, 1):
        for brk in _BREAKS:
            pos = plain.rfind(brk, start + 1, end + len(brk))
            if pos != -1 and units[pos] - units[start] >= minimum:
                return pos
    # One word longer than a message: cut it, but not between a letter and its combining mark.
    pos = end
    while pos > start + 1 and unicodedata.combining(plain[pos]):
        pos -= 1
    return max(pos, start + 1)


def split_rich(rich: Rich, limit: int) -> list[Rich]:
    """Split `rich` into pieces whose visible text is at most `limit` UTF-16 units, trimmed of
    whitespace at their ends; whitespace-only text gives no piece. Styles are kept per piece."""
    plain = rich.plain
    units = [0, *accumulate(utf16_len(ch) for ch in plain)]
    pieces: list[Rich] = []
    start = 0
    while True:
        while start < len(plain) and plain[start].isspace():
            start += 1
        if start >= len(plain):
            return pieces
        end = bisect_right(units, units[start] + limit) - 1
        stop = len(plain) if end >= len(plain) else _cut(plain, start, end, units, limit)
        trimmed = stop
        while trimmed > start and plain[trimmed - 1].isspace():
            trimmed -= 1
        pieces.append(rich.slice(start, trimmed))
        start = stop


def _check_button(button: Button, caps: Capabilities) -> Button:
    if button.payload is not None:
        size = len(button.payload.encode("utf-8"))
        if size > caps.max_payload_bytes:
            raise ValueError(
                f"button payload is {size} bytes; {caps.name} allows at most {caps.max_payload_bytes}"
            )
    label = shorten(button.label, caps.max_label_chars)
    return button if label == button.label else Button(label, button.payload, button.url)


def _button_pages(rows: Rows, caps: Capabilities) -> list[Rows]:
    """Rows re-flowed to the channel's row width, then grouped into messages (whole rows)."""
    width = min(caps.max_buttons_per_row, caps.max_buttons_per_message)
    flowed: list[tuple[Button, ...]] = []
    for row in rows:
        checked = [_check_button(button, caps) for button in row]
        flowed.extend(tuple(checked[n : n + width]) for n in range(0, len(checked), width))
    pages: list[list[tuple[Button, ...]]] = []
    count = 0
    for row in flowed:
        if not pages or count + len(row) > caps.max_buttons_per_message:
            pages.append([])
            count = 0
        pages[-1].append(row)
        count += len(row)
    return [tuple(page) for page in pages]


def _file_messages(
    file: File, caps: Capabilities, texts: LayoutTexts, render: Callable[[Rich], str]
) -> list[OutMessage]:
    caption = file.caption if file.caption is not None and file.caption.plain.strip() else None
    before: list[OutMessage] = []
    inline = ""
    if caption is not None:
        if utf16_len(caption.plain.strip()) <= caps.max_caption:
            inline = render(split_rich(caption, caps.max_caption)[0])
        else:
            before = [OutMessage(render(piece)) for piece in split_rich(caption, caps.max_text)]
    if file.kind not in caps.file_kinds:
        label = shorten(texts.download_label.format(name=file.name), caps.max_label_chars)
        link_text = inline or render(t(texts.file_link.format(name=file.name)))
        return [*before, OutMessage(link_text, file=FileLink(file, label))]
    limit = caps.max_image_bytes
    if file.kind in _IMAGE_KINDS and limit is not None and len(file.content) > limit:
        return [*before, OutMessage(inline, file=ImageTooLarge(file, limit))]
    return [*before, OutMessage(inline, file=file)]


def layout(reply: Reply, caps: Capabilities, *, texts: LayoutTexts) -> list[OutMessage]:
    """The messages that deliver `reply` on a channel with `caps`, in sending order: the text
    (buttons and any phone request on its last message), further pages of buttons, then the
    files. Raises ValueError for replies no adapter could send (see the module docstring)."""
    if reply.ask_phone and not caps.can_ask_phone:
        raise ValueError(f"{caps.name} cannot ask for a phone number")
    render: Callable[[Rich], str] = to_html if caps.markup == "html" else to_plain
    pages = _button_pages(reply.buttons, caps)
    pieces: Sequence[Rich] = split_rich(reply.text, caps.max_text)
    if not pieces and pages:
        pieces = [t(texts.choose)]
    messages = [OutMessage(render(piece)) for piece in pieces]
    if messages:
        messages[-1] = OutMessage(
            messages[-1].text, pages[0] if pages else (), ask_phone=reply.ask_phone
        )
    heading = render(t(texts.more_buttons))
    messages.extend(OutMessage(heading, page) for page in pages[1:])
    for file in reply.files:
        messages.extend(_file_messages(file, caps, texts, render))
    if reply.replace_pressed and caps.can_edit and messages and messages[0].file is None:
        first = messages[0]
        messages[0] = OutMessage(first.text, first.buttons, replace=True, ask_phone=first.ask_phone)
    return messages
