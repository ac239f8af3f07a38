"""The OA API v3 side of the emulator: `message/cs` and the two uploads, with Zalo's limits.

- `POST /v3.0/oa/message/cs`, header `access_token`, JSON `{"recipient":{...},"message":{...}}`.
  Success: `{"error":0,"message":"Success","data":{"message_id","user_id","quota":{"quota_type"}}}`.
- `POST /v2.0/oa/upload/image` (multipart `file`; jpg/png; ≤ 1 MB) → `data.attachment_id`.
- `POST /v2.0/oa/upload/file` (multipart `file`; PDF/DOC/DOCX; ≤ 5 MB) → `data.token` AND
  `data.attachment_id` (same value): ZALO.md/[Z15] name it `token`, goclaw's recorded fixture
  `attachment_id` [Z19 testdata/upload_file_200.json]. A send accepts either key in
  `{"type":"file","payload":{...}}`.

Types outside the list are "silently rejected" [Z19 upload.go/send.go]: the emulator answers
`error: 0` with an empty `data` and records a Rejection, so an adapter that does not check for the
id fails visibly. Oversize → −210.

The reply window (what this emulator decides, [Z14] official + [Z26][Z27] secondary):
- the person's last interaction is their last message, button press, submitted info or follow;
- a send whose `recipient.message_id` names one of the person's messages, within 48 h of their
  last interaction and before the 8th free reply since it, is a free **reply** (quota_type
  `reply`); the allowance resets on each new interaction;
- any other send within 7 days is **proactive** (quota_type `purchase_quota`): it consumes
  `proactive_allowance`, and with none left answers −213;
- after 7 days, or to someone who never interacted or has unfollowed, −230;
- an unknown user id answers −201 (GUESS; Zalo's code for a foreign UID is not pinned).
Button and element limits (≤ 5 buttons, title ≤ 100, payload ≤ 1000, known types only) answer
−201 (GUESS: the code for these is not pinned); text over 2,000 characters answers −210 [Z19].
A bare `{"type":"image","payload":{"attachment_id"}}` answers −201: images go as
`template_type: media` [Z19 send.go].
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from bot.domain.clock import Clock

from .common import (
    JSON,
    OA_NOT_INTERACTED_7_DAYS,
    OA_OUTSIDE_48H,
    OA_PARAMS_INVALID,
    OA_SIZE_EXCEEDED,
    Rejection,
    ZaloApiError,
    ZaloLimits,
)

BUTTON_TYPES = frozenset({"oa.query.show", "oa.query.hide", "oa.open.url", "oa.open.phone", "oa.open.sms"})
IMAGE_EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
FILE_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class ZaloButton:
    """One button as the person sees it; `payload` is a string for oa.query.*, else a dict."""

    title: str
    type: str
    payload: Any

    @property
    def query(self) -> str | None:
        """What a press sends back as text (oa.query.* only)."""
        return self.payload if self.type.startswith("oa.query.") and isinstance(self.payload, str) else None


@dataclass(frozen=True)
class DeliveredMessage:
    """One OA message accepted by `message/cs`, as the person would see it.

    `kind` is "reply" (free, within the window with a message_id) or "proactive".
    `attachment_type` is None (text only), "buttons", "request_user_info", "media", "list" or
    "file"; `attachment_ref` is the image attachment_id or file token used.
    """

    message_id: str
    user_id: str
    kind: Literal["reply", "proactive"]
    text: str | None
    buttons: tuple[ZaloButton, ...]
    attachment_type: str | None
    attachment_ref: str | None
    at: datetime
    raw: JSON

    @property
    def button_titles(self) -> list[str]:
        return [b.title for b in self.buttons]


@dataclass(frozen=True)
class Upload:
    """A stored upload: `kind` "image" (attachment_id) or "file" (token)."""

    ref: str
    kind: Literal["image", "file"]
    filename: str
    content_type: str
    data: bytes


@dataclass
class ZaloUserState:
    """What the emulated Zalo knows about one person as seen by this OA (UIDs are per OA)."""

    user_id: str
    display_name: str
    phone: str | None = None
    follower: bool = False
    unfollowed: bool = False
    last_interaction: datetime | None = None
    message_ids: set[str] = field(default_factory=set)
    free_replies_used: int = 0
    inbox: list[DeliveredMessage] = field(default_factory=list)


def _bad(message: str, subject: str | None = None) -> ZaloApiError:
    return ZaloApiError(OA_PARAMS_INVALID, message, subject)


class OfficialAccount:
    """State and handlers of the OA endpoints (token checking is done by the server)."""

    def __init__(self, clock: Clock, limits: ZaloLimits, rejected: list[Rejection]) -> None:
        self.clock = clock
        self.limits = limits
        self.users: dict[str, ZaloUserState] = {}
        self.uploads: dict[str, Upload] = {}
        self.delivered: list[DeliveredMessage] = []
        self.proactive_left = limits.proactive_allowance
        self._rejected = rejected

    # ---- people ----------------------------------------------------------------------------

    def interact(self, user_id: str, message_id: str | None = None) -> None:
        """The person did something that opens the window (message, press, info, follow)."""
        user = self.users[user_id]
        user.last_interaction = self.clock.now()
        user.free_replies_used = 0
        user.unfollowed = False
        if message_id is not None:
            user.message_ids.add(message_id)

    # ---- message/cs ------------------------------------------------------------------------

    async def handle_send(self, request: web.Request) -> JSON:
        try:
            body = await request.json()
        except ValueError:
            raise _bad("Body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _bad("Body must be an object")
        recipient = body.get("recipient")
        message = body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            raise _bad("recipient and message are required")
        user = self._recipient(recipient)
        text, buttons, att_type, att_ref = self._validate_message(message, user.user_id)
        kind = self._admit(user, recipient.get("message_id"))
        delivered = DeliveredMessage(
            message_id=secrets.token_hex(16),
            user_id=user.user_id,
            kind=kind,
            text=text,
            buttons=tuple(buttons),
            attachment_type=att_type,
            attachment_ref=att_ref,
            at=self.clock.now(),
            raw=body,
        )
        user.inbox.append(delivered)
        self.delivered.append(delivered)
        quota_type = "reply" if kind == "reply" else "purchase_quota"
        return {
            "error": 0,
            "message": "Success",
            "data": {
                "message_id": delivered.message_id,
                "user_id": user.user_id,
                "quota": {"quota_type": quota_type},
            },
        }

    def _recipient(self, recipient: JSON) -> ZaloUserState:
        user_id = recipient.get("user_id")
        message_id = recipient.get("message_id")
        if user_id is None and isinstance(message_id, str):
            user_id = next((u.user_id for u in self.users.values() if message_id in u.message_ids), None)
        if not isinstance(user_id, str) or not user_id:
            raise _bad("recipient.user_id is required")
        user = self.users.get(user_id)
        if user is None:
            raise _bad("user_id is invalid", user_id)
        return user

    def _admit(self, user: ZaloUserState, message_id: object) -> Literal["reply", "proactive"]:
        now = self.clock.now()
        last = user.last_interaction
        if last is None or user.unfollowed or now - last > self.limits.consult_window:
            raise ZaloApiError(
                OA_NOT_INTERACTED_7_DAYS, "User has not interacted with the OA in the past 7 days", user.user_id
            )
        if (
            isinstance(message_id, str)
            and message_id in user.message_ids
            and now - last <= self.limits.reply_window
            and user.free_replies_used < self.limits.free_replies
        ):
            user.free_replies_used += 1
            return "reply"
        if self.proactive_left <= 0:
            raise ZaloApiError(
                OA_OUTSIDE_48H, "Out of free reply window and no proactive quota left", user.user_id
            )
        self.proactive_left -= 1
        return "proactive"

    def _validate_message(
        self, message: JSON, user_id: str
    ) -> tuple[str | None, list[ZaloButton], str | None, str | None]:
        text = message.get("text")
        if text is not None:
            if not isinstance(text, str) or not text.strip():
                raise _bad("message.text must be a non-empty string", user_id)
            if len(text) > self.limits.text_max:
                raise ZaloApiError(OA_SIZE_EXCEEDED, "Text length exceeds 2000 characters", user_id)
        attachment = message.get("attachment")
        if attachment is None:
            if text is None:
                raise _bad("message needs text or attachment", user_id)
            return text, [], None, None
        if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
            raise _bad("message.attachment needs type and payload", user_id)
        payload = attachment["payload"]
        kind = attachment.get("type")
        if kind == "file":
            ref = payload.get("token") or payload.get("attachment_id")
            upload = self.uploads.get(ref) if isinstance(ref, str) else None
            if upload is None or upload.kind != "file":
                raise _bad("file token is invalid", user_id)
            return text, [], "file", ref
        if kind != "template":
            raise _bad(f"attachment type {kind!r} is not supported here", user_id)
        template_type = payload.get("template_type")
        buttons = self._buttons(payload.get("buttons"), user_id)
        if template_type in (None, "button"):
            if not buttons:
                raise _bad("a button template needs buttons", user_id)
            inner = payload.get("text")
            if inner is not None:
                if not isinstance(inner, str) or len(inner) > self.limits.text_max:
                    raise ZaloApiError(OA_SIZE_EXCEEDED, "Text length exceeds 2000 characters", user_id)
                text = inner if text is None else text
            return text, buttons, "buttons", None
        elements = payload.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > self.limits.elements_max:
            raise _bad(f"elements must hold 1 to {self.limits.elements_max} items", user_id)
        if not all(isinstance(e, dict) for e in elements):
            raise _bad("elements must be objects", user_id)
        if template_type == "media":
            element = elements[0]
            if element.get("media_type") not in ("image", "gif"):
                raise _bad("media_type must be image or gif", user_id)
            ref = element.get("attachment_id")
            if ref is not None:
                upload = self.uploads.get(ref) if isinstance(ref, str) else None
                if upload is None or upload.kind != "image":
                    raise _bad("attachment_id is invalid", user_id)
            elif not isinstance(element.get("url"), str):
                raise _bad("media element needs attachment_id or url", user_id)
            return text, buttons, "media", ref
        if template_type in ("request_user_info", "list"):
            for i, element in enumerate(elements):
                title = element.get("title")
                if not isinstance(title, str) or not title or len(title) > self.limits.button_title_max:
                    raise _bad("element title must be 1-100 characters", user_id)
                if i == 0 and template_type == "request_user_info" and not element.get("subtitle"):
                    raise _bad("the first element needs a subtitle", user_id)
            return text, buttons, str(template_type), None
        raise _bad(f"template_type {template_type!r} is not supported", user_id)

    def _buttons(self, raw: object, user_id: str) -> list[ZaloButton]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise _bad("buttons must be a list", user_id)
        if len(raw) > self.limits.buttons_max:
            raise _bad(f"at most {self.limits.buttons_max} buttons", user_id)
        buttons: list[ZaloButton] = []
        for item in raw:
            if not isinstance(item, dict):
                raise _bad("button must be an object", user_id)
            title, kind, payload = item.get("title"), item.get("type"), item.get("payload")
            if not isinstance(title, str) or not title or len(title) > self.limits.button_title_max:
                raise _bad("button title must be 1-100 characters", user_id)
            if kind not in BUTTON_TYPES:
                raise _bad(f"button type {kind!r} is invalid", user_id)
            if kind in ("oa.query.show", "oa.query.hide"):
                if not isinstance(payload, str) or not payload or len(payload) > self.limits.button_payload_max:
                    raise _bad("query payload must be 1-1000 characters", user_id)
            elif kind == "oa.open.url":
                if not isinstance(payload, dict) or not str(payload.get("url", "")).startswith(("http://", "https://")):
                    raise _bad("oa.open.url needs payload.url", user_id)
            elif not isinstance(payload, dict) or not payload.get("phone_code"):
                raise _bad(f"{kind} needs payload.phone_code", user_id)
            buttons.append(ZaloButton(title, kind, payload))
        return buttons

    # ---- uploads ---------------------------------------------------------------------------

    async def handle_upload(self, request: web.Request, kind: Literal["image", "file"]) -> JSON:
        endpoint = f"upload/{kind}"
        try:
            form = await request.post()
        except ValueError:
            raise _bad("multipart body expected") from None
        part = form.get("file")
        if not isinstance(part, web.FileField):
            raise _bad("multipart field 'file' is required")
        data = part.file.read()
        filename = part.filename or ""
        ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        allowed = IMAGE_EXTENSIONS if kind == "image" else FILE_EXTENSIONS
        cap = self.limits.image_max_bytes if kind == "image" else self.limits.file_max_bytes
        if ext not in allowed or (kind == "image" and not _image_magic_ok(data)):
            # "silently rejected" [Z19]: success envelope, no id
            self._rejected.append(Rejection(endpoint, 0, f"type {ext or '?'} silently refused"))
            return {"error": 0, "message": "Success", "data": {}}
        if len(data) > cap:
            raise ZaloApiError(OA_SIZE_EXCEEDED, f"File size exceeds {cap} bytes")
        if not data:
            raise _bad("file is empty")
        ref = secrets.token_hex(20)
        self.uploads[ref] = Upload(ref, kind, filename, allowed[ext], data)
        payload = {"attachment_id": ref} if kind == "image" else {"token": ref, "attachment_id": ref}
        return {"error": 0, "message": "Success", "data": payload}


def _image_magic_ok(data: bytes) -> bool:
    """JPEG or PNG by their first bytes (an .png that is really a PDF is refused)."""
    return data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")
