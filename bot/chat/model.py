"""The neutral chat model: who writes, what they send, what the bot answers, what a channel can do.

Every conversation takes an `Incoming` event for a `Person` and returns `Reply` values; a
channel adapter (handlers/telegram, handlers/zalo) turns its updates into `Incoming`, and lays
each `Reply` out for its `Capabilities` (see `bot.chat.layout`). A `Sender` delivers replies
outside a conversation (the reminder outbox, the summary ledger) and says what happened as a
`SendResult`, so those ledgers never depend on a channel's exception types.

Values are frozen dataclasses and validate themselves on construction: a malformed reply is a
programming error caught where it is built, not a send that fails in production.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias

from bot.chat.rich import Rich

__all__ = [
    "TELEGRAM",
    "ZALO_ACTION_PREFIX",
    "ZALO_OA",
    "Blocked",
    "Button",
    "Capabilities",
    "Command",
    "Alert",
    "Delivered",
    "DocumentIn",
    "ForeignContact",
    "Menu",
    "Out",
    "Profile",
    "SwapButtons",
    "File",
    "FileKind",
    "Incoming",
    "Person",
    "PhoneShared",
    "Press",
    "Refused",
    "Reply",
    "RetryAfter",
    "Rows",
    "SendResult",
    "Sender",
    "Text",
    "Unknown",
    "Unsupported",
]


# --------------------------------------------------------------------------------------------
# People


@dataclass(frozen=True, slots=True)
class Person:
    """One person on one channel. Ids are strings everywhere: Telegram's are integers (kept as
    their decimal text), Zalo's are 19-digit user ids that do not fit every integer type."""

    channel: str
    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.channel, str) or not self.channel:
            raise ValueError("Person.channel must be a non-empty string")
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("Person.id must be a non-empty string (convert integer ids with str())")


# --------------------------------------------------------------------------------------------
# Incoming events


@dataclass(frozen=True, slots=True)
class Text:
    """A message the person typed (not a command, not a button)."""

    person: Person
    text: str


@dataclass(frozen=True, slots=True)
class Command:
    """A command such as /giabhyt, without its slash: `name="giabhyt"`, `args=("3", "12")`."""

    person: Person
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Press:
    """A button press carrying the `Button.payload` the bot set (Telegram callback data, Zalo
    `oa.query.hide` payload with the adapter's prefix removed)."""

    person: Person
    payload: str


@dataclass(frozen=True, slots=True)
class PhoneShared:
    """A phone number the CHANNEL verified belongs to the sender: a Telegram contact whose
    contact.user_id equals the sender, or a Zalo `user_submit_info`. Adapters must not build it
    from a typed number or someone else's contact, since flows trust it to link people."""

    person: Person
    phone: str


@dataclass(frozen=True, slots=True)
class DocumentIn:
    """A file the person sent (a CSV or XLSX list). `size` is what the channel announced (None
    when it says nothing); `fetch` downloads the content. The flow decides whether to fetch
    (role, size), so a citizen's video or an oversized file is never downloaded."""

    person: Person
    filename: str
    size: int | None
    fetch: Callable[[], Awaitable[bytes]] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ForeignContact:
    """A contact card the person shared that the channel cannot prove is their own (Telegram:
    contact.user_id differs from the sender). Never linked; the flow explains why."""

    person: Person


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Anything else (sticker, voice, location...): `kind` names it so the flow can answer."""

    person: Person
    kind: str


Incoming: TypeAlias = Text | Command | Press | PhoneShared | ForeignContact | DocumentIn | Unsupported


@dataclass(frozen=True, slots=True)
class Profile:
    """What the channel tells about the sender (names as they set them); kept for the agents'
    lists and greetings, never trusted for roles."""

    first_name: str = ""
    last_name: str | None = None
    username: str | None = None


# --------------------------------------------------------------------------------------------
# Replies

FileKind: TypeAlias = Literal["png", "xlsx", "pdf", "csv"]
_FILE_KINDS: frozenset[str] = frozenset({"png", "xlsx", "pdf", "csv"})


@dataclass(frozen=True, slots=True)
class Button:
    """A button: `payload` comes back as `Press(payload)`; `url` opens a page. Exactly one is set.

    Size limits depend on the channel and are checked by `bot.chat.layout`."""

    label: str
    payload: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("Button.label must not be empty")
        if (self.payload is None) == (self.url is None):
            raise ValueError("Button needs exactly one of payload or url")
        if self.payload is not None and not self.payload:
            raise ValueError("Button.payload must not be empty")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise ValueError("Button.url must be an http(s):// address")


@dataclass(frozen=True, slots=True)
class File:
    """A file to send (the PNG chart, an XLSX report). `name` must end in ".<kind>", so every
    adapter derives the same MIME type and the person sees the right extension."""

    name: str
    content: bytes
    kind: FileKind
    caption: Rich | None = None

    def __post_init__(self) -> None:
        if self.kind not in _FILE_KINDS:
            raise ValueError(f"File.kind must be one of {sorted(_FILE_KINDS)}")
        if not self.name.lower().endswith("." + self.kind) or len(self.name) <= len(self.kind) + 1:
            raise ValueError(f"File.name must end in .{self.kind}")
        if "/" in self.name or "\\" in self.name:
            raise ValueError("File.name must be a bare file name")


Rows: TypeAlias = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says: rich text, button rows, files; written once for every channel.

    `replace_pressed`: replace the message whose button was pressed (Telegram edits it in place;
    channels that cannot edit send a new message). `ask_phone`: ask the person to share their
    verified phone number (Telegram contact keyboard, Zalo request_user_info); it cannot be
    combined with buttons because Telegram shows one keyboard per message.
    """

    text: Rich
    buttons: Rows = ()
    files: tuple[File, ...] = ()
    replace_pressed: bool = False
    ask_phone: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.text, Rich):
            raise TypeError("Reply.text must be Rich (build it with bot.chat.rich.t/b/i)")
        if not self.text.plain.strip() and not self.files:
            raise ValueError("Reply needs text or a file")
        if any(not row for row in self.buttons):
            raise ValueError("Reply.buttons must not contain an empty row")
        if self.ask_phone and self.buttons:
            raise ValueError("Reply.ask_phone cannot be combined with buttons")
        if self.ask_phone and not self.text.plain.strip():
            raise ValueError("Reply.ask_phone needs text that says why the phone is asked")

    @property
    def flat_buttons(self) -> tuple[Button, ...]:
        """All buttons in reading order."""
        return tuple(button for row in self.buttons for button in row)


@dataclass(frozen=True, slots=True)
class Alert:
    """A short notice about the pressed button (Telegram shows it as a pop-up over the chat;
    a channel without pop-ups sends it as a plain message). At most 200 characters."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.strip() or len(self.text) > 200:
            raise ValueError("Alert.text must be 1-200 characters")


@dataclass(frozen=True, slots=True)
class SwapButtons:
    """Replace the buttons of the message whose button was pressed (e.g. "stop reminders"
    becomes "resume"). Channels that cannot edit ignore it: the reply that goes with it says
    what changed."""

    buttons: Rows


@dataclass(frozen=True, slots=True)
class Menu:
    """The command menu the person should see from now on, as (command, description) pairs;
    empty means the channel's default (citizen) menu. Sent only when the role changed."""

    entries: tuple[tuple[str, str], ...]


Out: TypeAlias = Reply | Alert | SwapButtons | Menu


# --------------------------------------------------------------------------------------------
# What a channel can do


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one channel accepts; `bot.chat.layout` adapts every reply to it.

    Text lengths are counted in UTF-16 code units of the text as the person sees it (after
    Telegram parses the HTML), which is Telegram's unit and never less than Zalo's characters.
    `max_caption` is the longest caption sent with a file; a longer one (or any, when 0) goes
    out as a text message before the file.
    """

    name: str
    max_text: int
    markup: Literal["html", "plain"]
    max_buttons_per_message: int
    max_buttons_per_row: int
    max_payload_bytes: int
    max_label_chars: int
    file_kinds: frozenset[str]
    max_image_bytes: int | None
    can_edit: bool
    can_ask_phone: bool
    max_caption: int = 0

    def __post_init__(self) -> None:
        if min(self.max_text, self.max_buttons_per_message, self.max_buttons_per_row) < 1:
            raise ValueError("Capabilities limits must be positive")
        if self.max_label_chars < 2 or self.max_payload_bytes < 1:
            raise ValueError("Capabilities limits must be positive")
        if not self.file_kinds <= _FILE_KINDS:
            raise ValueError(f"Capabilities.file_kinds must be within {sorted(_FILE_KINDS)}")


TELEGRAM = Capabilities(
    name="telegram",
    # Bot API sendMessage: "Text of the message to be sent, 1-4096 characters after entities
    # parsing" (https://core.telegram.org/bots/api#sendmessage); HTML parse mode.
    max_text=4096,
    markup="html",
    # Not in the Bot API docs: the server refuses more than 100 inline buttons per message and
    # more than 8 per row (observed limits, shared by every Bot API library).
    max_buttons_per_message=100,
    max_buttons_per_row=8,
    # InlineKeyboardButton.callback_data: "1-64 bytes" (Bot API docs).
    max_payload_bytes=64,
    # Telegram documents no label limit; longer labels are cut on a phone anyway, so we choose 64.
    max_label_chars=64,
    file_kinds=frozenset({"png", "xlsx", "pdf", "csv"}),
    # sendPhoto: "The photo must be at most 10 MB in size" (Bot API docs).
    max_image_bytes=10 * 1024 * 1024,
    can_edit=True,  # editMessageText
    can_ask_phone=True,  # KeyboardButton(request_contact=True)
    # sendDocument/sendPhoto caption: "0-1024 characters after entities parsing" (Bot API docs).
    max_caption=1024,
)

# The Zalo adapter sends a payload as "#a:<payload>" so that a press is told apart from typed
# text (ZALO.md §6.1); the prefix is part of Zalo's 1000-character payload limit.
ZALO_ACTION_PREFIX = "#a:"

ZALO_OA = Capabilities(
    name="zalo_oa",
    # ZALO.md §2: "text >2000 chars" is refused with -210; §6.1: chunk to 2000 characters.
    max_text=2000,
    # ZALO.md §2: the OA has no formatting; §6.1: strip Markdown for the OA.
    markup="plain",
    # ZALO.md §2 and §6.1: up to 5 buttons per message (official PHP SDK), shown one per row.
    max_buttons_per_message=5,
    max_buttons_per_row=1,
    # ZALO.md §2: oa.query.hide payload <= 1000 characters, minus the adapter's "#a:" prefix.
    # Counted in UTF-8 bytes here, which is never less than characters.
    max_payload_bytes=1000 - len(ZALO_ACTION_PREFIX),
    # ZALO.md §2: button titles <= 100 characters.
    max_label_chars=100,
    # ZALO.md §2: images jpg/png <= 1 MB via upload/image; files PDF/DOC/DOCX only (<= 5 MB).
    # XLSX and CSV are refused and go out as a signed download link (bot.chat.layout.FileLink).
    file_kinds=frozenset({"png", "pdf"}),
    max_image_bytes=1024 * 1024,
    can_edit=False,  # the OA API has no edit call
    can_ask_phone=True,  # template request_user_info -> webhook user_submit_info (ZALO.md §2)
    max_caption=0,  # media/file messages carry no caption text: captions go as text first
)


# --------------------------------------------------------------------------------------------
# Sending outside a conversation


@dataclass(frozen=True, slots=True)
class Delivered:
    """The channel accepted the message; `provider_id` is its message id when it gives one."""

    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Blocked:
    """The person blocked the bot or left: do not retry, stop their reminders."""


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """The channel asked us to slow down: retry after `seconds`."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Refused:
    """The channel refused this message for good (bad request, outside Zalo's window...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """The outcome is not known (request written, no answer): never resent automatically,
    since resending could deliver a reminder twice (ZALO.md §6.3)."""

    reason: str


SendResult: TypeAlias = Delivered | Blocked | RetryAfter | Refused | Unknown


class Sender(Protocol):
    """Delivers a reply to a person outside a conversation; one per channel.

    `send` never raises for a channel's answer: it maps it to a `SendResult`, so the outbox and
    the summary ledger record outcomes the same way on every channel."""

    @property
    def capabilities(self) -> Capabilities: ...

    async def send(self, person: Person, reply: Reply) -> SendResult: ...
