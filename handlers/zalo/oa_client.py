"""OA API v3 client: consultation messages (`/v3.0/oa/message/cs`) and uploads.

Shapes (ZALO.md §2, checked against the emulator devtools/zalo/oa.py):
- body `{"recipient": {"user_id"[, "message_id"]}, "message": {...}}`; success
  `{"error":0,"data":{"message_id", "quota":{"quota_type"}}}`. Passing the person's own
  `message_id` is what makes a send a free *reply* inside the 48 h window [Z14]; without it the
  send is proactive (paid, needs quota).
- buttons: `message.text` + `attachment {type: template, payload: {buttons: [...]}}`, each
  button `{"title", "type": "oa.query.hide", "payload": "<string>"}`: the person's tap comes
  back as a `user_send_text` carrying the payload. ≤ 5 buttons, title ≤ 100, payload ≤ 1000
  [Z23][Z24][Z25]. (`template_type: list` is a list of *elements* with images, not a menu.)
- request_user_info: `template_type: request_user_info`, one element `{title, subtitle,
  image_url}` (the first element needs a subtitle) [Z23][Z24].
- images: upload `/v2.0/oa/upload/image` (multipart `file`, jpg/png, ≤ 1 MB) → attachment_id,
  sent as `template_type: media` with `{"media_type": "image", "attachment_id"}` [Z19].
- files: upload `/v2.0/oa/upload/file` (PDF/DOC/DOCX only, ≤ 5 MB) → `token`, sent as
  `{"type": "file", "payload": {"token"}}` [Z15][Z19]. XLSX cannot be sent through the OA.
Uploads of other types are "silently rejected" (success without an id) [Z19]: that is
reported as NEVER_RETRY, not as success.

Limits Zalo would refuse are checked here first, and refused without sending (NEVER_RETRY,
code 0): text > 2,000 chars, > 5 buttons, long titles/payloads, images > 1 MB or not PNG/JPEG,
files > 5 MB or of another type. The adapter splits long text and menus before calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from handlers.pacing import SendPacer

from .errors import Api, ErrorClass
from .tokens import TokenManager
from .transport import DEFAULT_TIMEOUT, JSON, ZaloError, call, local_refusal

SEND_PATH = "/v3.0/oa/message/cs"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"

TEXT_MAX = 2000
BUTTONS_MAX = 5
BUTTON_TITLE_MAX = 100
BUTTON_PAYLOAD_MAX = 1000
IMAGE_MAX_BYTES = 1024 * 1024
FILE_MAX_BYTES = 5 * 1024 * 1024
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Sent:
    """Zalo accepted the message: its id, and the quota it was counted against (if said)."""

    message_id: str
    quota_type: str | None = None


@dataclass(frozen=True)
class UrlButton:
    """An `oa.open.url` button: a tap opens `url` (http/https) in Zalo's browser."""

    title: str
    url: str


@dataclass(frozen=True)
class Uploaded:
    """An upload Zalo stored: the image attachment_id or the file token."""

    ref: str


def _image_type(data: bytes) -> tuple[str, str] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "chart.png", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image.jpg", "image/jpeg"
    return None


class OAClient:
    """Sends OA consultation messages and uploads; every call returns a typed result."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_base_url: str,
        tokens: TokenManager,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        pacer: SendPacer | None = None,
    ) -> None:
        """`pacer`: every message and upload waits for it (ZALO_MAX_PER_SECOND, shared by the
        instances on one database); None: unpaced (tests of the shapes)."""
        self._http = http
        self._base = api_base_url.rstrip("/")
        self._tokens = tokens
        self._timeout = timeout
        self.pacer = pacer
        self._pace = pacer.acquire if pacer is not None else None

    # ---- messages ------------------------------------------------------------------------------

    async def send_text(self, user_id: str, text: str, reply_to_msg_id: str | None = None) -> Sent | ZaloError:
        """One text message (≤ 2,000 chars; longer is refused locally: split it first)."""
        problem = _check_text(text)
        if problem:
            return problem
        return await self._send(user_id, {"text": text}, reply_to_msg_id)

    async def send_buttons(
        self,
        user_id: str,
        text: str,
        buttons: list[tuple[str, str] | UrlButton],
        reply_to_msg_id: str | None = None,
    ) -> Sent | ZaloError:
        """Text with up to 5 buttons: `(title, payload)` is an `oa.query.hide` button, whose tap
        sends the payload back as the person's text (hidden from the chat); `UrlButton` is an
        `oa.open.url` button."""
        problem = _check_text(text)
        if problem:
            return problem
        if not buttons or len(buttons) > BUTTONS_MAX:
            return local_refusal(f"1 to {BUTTONS_MAX} buttons per message, got {len(buttons)}")
        items: list[JSON] = []
        for button in buttons:
            if isinstance(button, UrlButton):
                if not button.title or len(button.title) > BUTTON_TITLE_MAX:
                    return local_refusal(f"button title must be 1-{BUTTON_TITLE_MAX} characters")
                if not button.url.startswith(("https://", "http://")):
                    return local_refusal("a URL button needs an http(s) address")
                items.append({"title": button.title, "type": "oa.open.url", "payload": {"url": button.url}})
                continue
            title, payload = button
            if not title or len(title) > BUTTON_TITLE_MAX:
                return local_refusal(f"button title must be 1-{BUTTON_TITLE_MAX} characters")
            if not payload or len(payload) > BUTTON_PAYLOAD_MAX:
                return local_refusal(f"button payload must be 1-{BUTTON_PAYLOAD_MAX} characters")
            items.append({"title": title, "type": "oa.query.hide", "payload": payload})
        message = {"text": text, "attachment": {"type": "template", "payload": {"buttons": items}}}
        return await self._send(user_id, message, reply_to_msg_id)

    async def request_user_info(
        self,
        user_id: str,
        title: str,
        subtitle: str,
        image_url: str | None = None,
        reply_to_msg_id: str | None = None,
    ) -> Sent | ZaloError:
        """The form asking the person to share name and phone (answered by `user_submit_info`)."""
        if not title or len(title) > BUTTON_TITLE_MAX or not subtitle:
            return local_refusal("request_user_info needs a title (≤ 100 chars) and a subtitle")
        element: JSON = {"title": title, "subtitle": subtitle}
        if image_url:
            element["image_url"] = image_url
        payload = {"template_type": "request_user_info", "elements": [element]}
        return await self._send(user_id, {"attachment": {"type": "template", "payload": payload}}, reply_to_msg_id)

    async def send_image(
        self,
        user_id: str,
        attachment_id: str,
        text: str | None = None,
        reply_to_msg_id: str | None = None,
    ) -> Sent | ZaloError:
        """An uploaded image (template/media), with an optional caption."""
        message: JSON = {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "image", "attachment_id": attachment_id}],
                },
            }
        }
        if text is not None:
            problem = _check_text(text)
            if problem:
                return problem
            message["text"] = text
        return await self._send(user_id, message, reply_to_msg_id)

    async def send_file(self, user_id: str, token: str, reply_to_msg_id: str | None = None) -> Sent | ZaloError:
        """An uploaded PDF/DOC/DOCX, by the token `upload_file` returned."""
        message = {"attachment": {"type": "file", "payload": {"token": token}}}
        return await self._send(user_id, message, reply_to_msg_id)

    # ---- uploads ----------------------------------------------------------------------------

    async def upload_image(self, data: bytes) -> Uploaded | ZaloError:
        """Upload a PNG/JPEG of at most 1 MB; larger or other data is refused before sending."""
        if len(data) > IMAGE_MAX_BYTES:
            return local_refusal(f"image is {len(data)} bytes, over Zalo's {IMAGE_MAX_BYTES}-byte limit")
        kind = _image_type(data)
        if kind is None:
            return local_refusal("image must be PNG or JPEG")
        filename, content_type = kind
        return await self._upload(UPLOAD_IMAGE_PATH, filename, content_type, data, "attachment_id")

    async def upload_file(self, data: bytes, filename: str = "document.pdf") -> Uploaded | ZaloError:
        """Upload a PDF, DOC or DOCX of at most 5 MB (Zalo silently drops other types)."""
        ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext not in FILE_TYPES:
            return local_refusal("the OA accepts only PDF, DOC and DOCX files")
        if len(data) > FILE_MAX_BYTES:
            return local_refusal(f"file is {len(data)} bytes, over Zalo's {FILE_MAX_BYTES}-byte limit")
        if not data:
            return local_refusal("file is empty")
        return await self._upload(UPLOAD_FILE_PATH, filename, FILE_TYPES[ext], data, "token")

    # ---- internals ------------------------------------------------------------------------------

    async def _send(self, user_id: str, message: JSON, reply_to_msg_id: str | None) -> Sent | ZaloError:
        recipient: JSON = {"user_id": user_id}
        if reply_to_msg_id:
            recipient["message_id"] = reply_to_msg_id
        body = {"recipient": recipient, "message": message}
        outcome = await call(
            self._http, self._base + SEND_PATH, api=Api.OA, tokens=self._tokens, timeout=self._timeout,
            pace=self._pace, json=body,
        )
        if isinstance(outcome, ZaloError):
            return outcome
        data = outcome.get("data")
        message_id = data.get("message_id") if isinstance(data, dict) else None
        if not isinstance(message_id, str) or not message_id:
            return ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, "success answer without message_id", 200)
        quota = data.get("quota") if isinstance(data, dict) else None
        quota_type = quota.get("quota_type") if isinstance(quota, dict) else None
        return Sent(message_id, quota_type if isinstance(quota_type, str) else None)

    async def _upload(
        self, path: str, filename: str, content_type: str, data: bytes, key: str
    ) -> Uploaded | ZaloError:
        files: dict[str, Any] = {"file": (filename, data, content_type)}
        outcome = await call(
            self._http, self._base + path, api=Api.OA, tokens=self._tokens, timeout=self._timeout,
            pace=self._pace, files=files,
        )
        if isinstance(outcome, ZaloError):
            return outcome
        answer = outcome.get("data")
        ref = (answer.get(key) or answer.get("attachment_id")) if isinstance(answer, dict) else None
        if not isinstance(ref, str) or not ref:
            return ZaloError(0, ErrorClass.NEVER_RETRY, "Zalo returned no id: the upload was silently refused", 200)
        return Uploaded(ref)


def _check_text(text: str) -> ZaloError | None:
    if not text or not text.strip():
        return local_refusal("text must not be empty")
    if len(text) > TEXT_MAX:
        return local_refusal(f"text is {len(text)} characters, over Zalo's {TEXT_MAX}")
    return None


__all__ = ["OAClient", "Sent", "Uploaded", "UrlButton", "ZaloError"]
