"""A neutral `Reply` as OA API calls: `bot.chat.layout` for ZALO_OA decides, this module sends.

`layout(reply, ZALO_OA)` already gives messages within Zalo's limits: plain text of at most
2,000 characters cut at paragraph, line or word breaks, at most 5 buttons per message (more go
in further messages under a "choose more" heading), captions as text, images over 1 MB marked
`ImageTooLarge`, and XLSX/CSV as `FileLink`. Each message becomes one call:

- text: `message/cs` text; with buttons: `oa.query.hide` buttons whose payload is
  `#a:<Button.payload>` (a tap comes back as that text: worker.py turns it into `Press`), URL
  buttons as `oa.open.url`;
- `ask_phone`: the text, then Zalo's request_user_info form (answered by `user_submit_info`);
- PNG/PDF: `upload/image` (template/media) or `upload/file`; an image over 1 MB is scaled down
  with Pillow until it fits, and sent as a download link if it cannot be;
- `FileLink` (and an image that would not shrink): the file goes to the link store and the
  message carries one `oa.open.url` button to its short-lived signed URL.

Every send names the person's own message (`reply_to`) when there is one, so it counts as a
free reply in Zalo's 48-hour window. Sending stops at the first refusal: the rest of a reply
makes no sense without its beginning, and nothing is ever resent after an unknown outcome.
Only answers that prove nothing was sent (rate limit, transient error) are tried again, twice.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.chat.layout import FileLink, ImageTooLarge, LayoutTexts, OutMessage, layout
from bot.chat.model import ZALO_ACTION_PREFIX, ZALO_OA, File, Reply
from bot.chat.texts.channels import ZALO_PHONE_FORM_SUBTITLE, ZALO_PHONE_FORM_TITLE
from bot.chat.texts.common import LAYOUT_TEXTS

from .errors import ErrorClass
from .oa_client import OAClient, Uploaded, UrlButton
from .transport import ZaloError

log = logging.getLogger(__name__)

__all__ = ["LinkStore", "Rendered", "ZaloRenderer", "shrink_png"]

_T = TypeVar("_T")


class LinkStore(Protocol):
    """Keeps a file and gives a short-lived download URL for it (handlers/http/files.FileLinks)."""

    async def store(self, file: File) -> str: ...


@dataclass(frozen=True)
class Rendered:
    """How a reply went: messages Zalo accepted, and the refusal that stopped it (if any)."""

    sent: int
    error: ZaloError | None = None


def shrink_png(data: bytes, max_bytes: int, *, steps: int = 8) -> bytes | None:
    """`data` re-encoded as a PNG of at most `max_bytes`: first as a 256-colour palette image
    (charts have few colours), then scaled down by 3/4 per step; None when even the last step
    is too big or the data is not an image Pillow reads."""
    from PIL import Image, UnidentifiedImageError

    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    image = image.convert("RGB")
    for _ in range(steps):
        out = io.BytesIO()
        image.quantize(colors=256).save(out, format="PNG", optimize=True)
        if out.tell() <= max_bytes:
            return out.getvalue()
        width, height = image.size
        if width < 64 or height < 64:
            return None
        image = image.resize((width * 3 // 4, height * 3 // 4), Image.Resampling.LANCZOS)
    return None


class ZaloRenderer:
    """Sends replies to one OA follower at a time through `OAClient`."""

    def __init__(
        self,
        oa: OAClient,
        links: LinkStore,
        *,
        texts: LayoutTexts = LAYOUT_TEXTS,
        retries: int = 2,
        retry_pause: float = 0.5,
    ) -> None:
        self._oa = oa
        self._links = links
        self._texts = texts
        self._retries = retries
        self._retry_pause = retry_pause

    async def send(self, user_id: str, replies: Sequence[Reply], reply_to: str | None = None) -> Rendered:
        """Send `replies` in order; stops at the first message Zalo refuses."""
        sent = 0
        for reply in replies:
            for message in layout(reply, ZALO_OA, texts=self._texts):
                outcome = await self._message(user_id, message, reply_to)
                if isinstance(outcome, ZaloError):
                    log.warning(
                        "Zalo reply stopped after %s message(s): %s (%s)", sent, outcome.cls.value, outcome.reason
                    )
                    return Rendered(sent, outcome)
                sent += outcome
        return Rendered(sent)

    async def _message(self, user_id: str, message: OutMessage, reply_to: str | None) -> int | ZaloError:
        """Send one laid-out message; the number of OA messages it took, or the refusal."""
        file = message.file
        if file is None:
            return await self._text(user_id, message, reply_to)
        if isinstance(file, ImageTooLarge):
            smaller = await asyncio.to_thread(shrink_png, file.file.content, file.max_bytes)
            if smaller is None:
                log.info("Zalo: an image over %s bytes would not shrink; sent as a link", file.max_bytes)
                return await self._link(user_id, message, file.file, reply_to)
            file = File(file.file.name, smaller, file.file.kind, file.file.caption)
        if isinstance(file, FileLink):
            return await self._link(user_id, message, file.file, reply_to, file.label)
        count = 0
        if message.text:
            outcome = await self._retrying(lambda: self._oa.send_text(user_id, message.text, reply_to))
            if isinstance(outcome, ZaloError):
                return outcome
            count += 1
        if file.kind == "png":
            uploaded = await self._retrying(lambda: self._oa.upload_image(file.content))
            if isinstance(uploaded, ZaloError):
                return uploaded
            ref = uploaded.ref  # narrowed here: a lambda sees the name's declared type
            outcome = await self._retrying(lambda: self._oa.send_image(user_id, ref, None, reply_to))
        else:
            uploaded = await self._retrying(lambda: self._oa.upload_file(file.content, file.name))
            if isinstance(uploaded, ZaloError):
                return uploaded
            assert isinstance(uploaded, Uploaded)
            outcome = await self._retrying(lambda: self._oa.send_file(user_id, uploaded.ref, reply_to))
        return outcome if isinstance(outcome, ZaloError) else count + 1

    async def _text(self, user_id: str, message: OutMessage, reply_to: str | None) -> int | ZaloError:
        buttons: list[tuple[str, str] | UrlButton] = []
        for button in (b for row in message.buttons for b in row):
            if button.payload is not None:
                buttons.append((button.label, ZALO_ACTION_PREFIX + button.payload))
            elif button.url is not None:
                buttons.append(UrlButton(button.label, button.url))
        if buttons:
            outcome = await self._retrying(lambda: self._oa.send_buttons(user_id, message.text, buttons, reply_to))
        else:
            outcome = await self._retrying(lambda: self._oa.send_text(user_id, message.text, reply_to))
        if isinstance(outcome, ZaloError):
            return outcome
        if not message.ask_phone:
            return 1
        form = await self._retrying(
            lambda: self._oa.request_user_info(user_id, ZALO_PHONE_FORM_TITLE, ZALO_PHONE_FORM_SUBTITLE, None, reply_to)
        )
        return form if isinstance(form, ZaloError) else 2

    async def _link(
        self, user_id: str, message: OutMessage, file: File, reply_to: str | None, label: str | None = None
    ) -> int | ZaloError:
        url = await self._links.store(file)
        text = message.text or self._texts.file_link.format(name=file.name)
        title = label or self._texts.download_label.format(name=file.name)
        if len(title) > ZALO_OA.max_label_chars:
            title = title[: ZALO_OA.max_label_chars - 1].rstrip() + "…"
        outcome = await self._retrying(lambda: self._oa.send_buttons(user_id, text, [UrlButton(title, url)], reply_to))
        return outcome if isinstance(outcome, ZaloError) else 1

    async def _retrying(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """Run `call` (a fresh request each time) again after answers that prove nothing was sent."""
        outcome = await call()
        for attempt in range(self._retries):
            if not (isinstance(outcome, ZaloError) and outcome.cls is ErrorClass.RETRY_LATER):
                break
            await asyncio.sleep(self._retry_pause * (attempt + 1))
            outcome = await call()
        return outcome
