"""Signed OA webhooks: the event bodies, a driver that POSTs them, and `EmulatedZaloUser`.

Signature [Z16 chatwoot, Z17 goclaw]: header `X-ZEvent-Signature` =
sha256_hex(app_id + raw_body + timestamp + oa_secret_key), `timestamp` being the body's own
field (a decimal string of ms). chatwoot compares `mac=<hex>`, goclaw bare hex; the driver sends
either (`signature_style`). Retries resend the identical bytes with a `num_retry` header [Z15].

Event shapes (ids are strings, `timestamp` a ms string):
- `user_send_text` / `user_send_image` / `user_send_sticker`: `{app_id, user_id_by_app,
  event_name, sender:{id}, recipient:{id: oa_id}, message:{msg_id, text | attachments}, timestamp}`
  [Z15][Z16]. A press on an `oa.query.*` button arrives as `user_send_text` carrying the payload
  (ZALO.md's inference, to pin with a fixture).
- `follow` / `unfollow`: `{app_id, oa_id, user_id_by_app, event_name, follower:{id}, source,
  timestamp}` (shape seen in public handlers reading `follower.id`; goclaw names them
  `user_follow`/`user_unfollow` instead — GUESS which is live, the emulator sends `follow`).
- `user_submit_info`: `{..., sender:{id}, recipient:{id}, info:{name, phone(84…), address, city,
  district, ward}}` [Z24][Z28].
- `user_received_message` for an OA message: `{..., sender:{id: oa_id}, recipient:{id: uid},
  message:{msg_ids:[...]}}` without `delivery_time` (chatwoot reads the OA from `sender.id`
  [Z16]; [Z37] reads the UID from `sender.id` instead — sources disagree, not pinned). ZNS
  receipts carry `delivery_time` (see zns.py).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import aiohttp

from bot.domain.clock import Clock

from .common import (
    JSON,
    SignatureStyle,
    compute_signature,
    dumps,
    normalise_phone,
    signature_header,
    to_ms,
)
from .oa import DeliveredMessage, ZaloButton, ZaloUserState

if TYPE_CHECKING:
    from .server import ZaloEmulator

SIGNATURE_HEADER = "X-ZEvent-Signature"
SignatureMode = Literal["valid", "bad", "missing"]


@dataclass(frozen=True)
class WebhookPost:
    """One POST the driver made and what the receiver answered."""

    event: JSON
    body: bytes
    headers: dict[str, str]
    status: int
    answer: str

    @property
    def event_name(self) -> str:
        return str(self.event.get("event_name"))


class NoSuchButton(LookupError):
    """`EmulatedZaloUser.press` found no query button with that title or payload."""


class ZaloWebhookDriver:
    """Builds, signs and POSTs OA webhook events to `url`, like Zalo's event dispatcher."""

    def __init__(
        self,
        app_id: str,
        oa_id: str,
        oa_secret_key: str,
        clock: Clock,
        url: str | None = None,
        signature_style: SignatureStyle = "mac",
        replay_window: timedelta = timedelta(minutes=5),
    ) -> None:
        self.app_id = app_id
        self.oa_id = oa_id
        self.oa_secret_key = oa_secret_key
        self.clock = clock
        self.url = url
        self.signature_style: SignatureStyle = signature_style
        self.replay_window = replay_window
        self.posts: list[WebhookPost] = []
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- event bodies ----------------------------------------------------------------------

    def _base(self, event_name: str, user_id: str) -> JSON:
        return {"app_id": self.app_id, "user_id_by_app": user_id, "event_name": event_name}

    def _message_event(self, event_name: str, user_id: str, message: JSON) -> JSON:
        event = self._base(event_name, user_id)
        event["sender"] = {"id": user_id}
        event["recipient"] = {"id": self.oa_id}
        event["message"] = message
        return event

    def text_event(self, user_id: str, text: str, msg_id: str | None = None) -> JSON:
        return self._message_event("user_send_text", user_id, {"msg_id": msg_id or new_msg_id(), "text": text})

    def image_event(self, user_id: str, msg_id: str | None = None, caption: str = "") -> JSON:
        url = f"https://photo.example.invalid/{secrets.token_hex(6)}.jpg"
        return self._message_event(
            "user_send_image",
            user_id,
            {
                "msg_id": msg_id or new_msg_id(),
                "text": caption,
                "attachments": [{"type": "image", "payload": {"thumbnail": url, "url": url}}],
            },
        )

    def sticker_event(self, user_id: str, msg_id: str | None = None) -> JSON:
        return self._message_event(
            "user_send_sticker",
            user_id,
            {
                "msg_id": msg_id or new_msg_id(),
                "attachments": [
                    {"type": "sticker", "payload": {"id": "bd9ed4b0", "url": "https://sticker.example.invalid/1"}}
                ],
            },
        )

    def follow_event(self, user_id: str, follow: bool = True) -> JSON:
        event = self._base("follow" if follow else "unfollow", user_id)
        event["oa_id"] = self.oa_id
        event["follower"] = {"id": user_id}
        event["source"] = "oa_profile"
        return event

    def submit_info_event(
        self,
        user_id: str,
        phone: str,
        name: str,
        address: str = "",
        city: str = "",
        district: str = "",
        ward: str = "",
    ) -> JSON:
        event = self._base("user_submit_info", user_id)
        event["sender"] = {"id": user_id}
        event["recipient"] = {"id": self.oa_id}
        event["info"] = {
            "name": name,
            "phone": phone,
            "address": address,
            "city": city,
            "district": district,
            "ward": ward,
        }
        return event

    def oa_received_event(self, user_id: str, message_ids: list[str]) -> JSON:
        event = self._base("user_received_message", user_id)
        event["sender"] = {"id": self.oa_id}
        event["recipient"] = {"id": user_id}
        event["message"] = {"msg_ids": list(message_ids)}
        return event

    def zns_received_event(
        self,
        msg_id: str,
        tracking_id: str | None,
        phone: str,
        delivered_at: datetime,
        shape: Literal["nested", "flat"] = "nested",
    ) -> JSON:
        delivery = str(to_ms(delivered_at))
        if shape == "flat":
            event: JSON = {
                "app_id": self.app_id,
                "event_name": "user_received_message",
                "sender": self.oa_id,
                "recipient": phone,
                "msg_id": msg_id,
                "tracking_id": tracking_id,
                "delivery_time": delivery,
            }
        else:
            event = {
                "app_id": self.app_id,
                "event_name": "user_received_message",
                "sender": {"id": self.oa_id},
                "recipient": {"id": phone},
                "message": {"msg_id": msg_id, "tracking_id": tracking_id, "delivery_time": delivery},
            }
        return event

    # ---- posting ---------------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: str, style: SignatureStyle | None = None) -> str:
        """The header value for `body` whose `timestamp` field is `timestamp`."""
        digest = compute_signature(self.app_id, body, timestamp, self.oa_secret_key)
        return signature_header(digest, style or self.signature_style)

    async def post(
        self,
        event: JSON,
        *,
        signature: SignatureMode = "valid",
        at: datetime | None = None,
        style: SignatureStyle | None = None,
        url: str | None = None,
    ) -> WebhookPost:
        """Stamp `event` with `timestamp` (the clock, or `at`), sign and POST it once."""
        event = dict(event)
        timestamp = str(to_ms(at or self.clock.now()))
        event["timestamp"] = timestamp
        body = dumps(event)
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers[SIGNATURE_HEADER] = self.sign(body, timestamp, style)
        elif signature == "bad":
            forged = compute_signature(self.app_id, body, timestamp, "not-the-oa-secret")
            headers[SIGNATURE_HEADER] = signature_header(forged, style or self.signature_style)
        return await self._send(event, body, headers, url)

    async def post_stale(self, event: JSON, *, by: timedelta | None = None) -> WebhookPost:
        """A validly signed event whose timestamp is older than the replay window (+1 min)."""
        age = self.replay_window + (by or timedelta(minutes=1))
        return await self.post(event, at=self.clock.now() - age)

    async def retry(self, previous: WebhookPost, num_retry: int = 1) -> WebhookPost:
        """Resend the identical bytes and signature, with `num_retry` as Zalo's retries do."""
        headers = dict(previous.headers)
        headers["num_retry"] = str(num_retry)
        return await self._send(previous.event, previous.body, headers, None)

    async def _send(self, event: JSON, body: bytes, headers: dict[str, str], url: str | None) -> WebhookPost:
        target = url or self.url
        if not target:
            raise RuntimeError("no webhook URL: set emulator.webhook_url (or driver.url)")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.post(target, data=body, headers=headers) as response:
            answer = await response.text()
            post = WebhookPost(event, body, headers, response.status, answer)
        self.posts.append(post)
        return post


def new_msg_id() -> str:
    """A Zalo-looking message id (hex)."""
    return secrets.token_hex(16)


class EmulatedZaloUser:
    """A person on Zalo talking to the OA: each action updates the emulator's view of the reply
    window and POSTs the signed webhook; `replies()` returns what the OA sent them."""

    def __init__(self, emulator: ZaloEmulator, user_id: str) -> None:
        self.emulator = emulator
        self.user_id = user_id
        self._cursor = 0

    @property
    def state(self) -> ZaloUserState:
        """The emulator's record of this person (follower, window, inbox)."""
        return self.emulator.oa.users[self.user_id]

    @property
    def inbox(self) -> list[DeliveredMessage]:
        """Every OA message delivered to this person, in order."""
        return list(self.state.inbox)

    async def say(self, text: str, *, signature: SignatureMode = "valid") -> WebhookPost:
        """Send a text message (returns the POST; its event's `message.msg_id` is the id).

        `signature="bad"`/`"missing"` sends it forged/unsigned; the window still opens, as the
        emulator cannot know the receiver will refuse it."""
        msg_id = new_msg_id()
        self.emulator.oa.interact(self.user_id, msg_id)
        event = self.emulator.driver.text_event(self.user_id, text, msg_id)
        return await self.emulator.driver.post(event, signature=signature)

    async def press(self, label_or_payload: str) -> WebhookPost:
        """Tap an oa.query.* button of the latest OA message that has one, by title or payload."""
        for message in reversed(self.state.inbox):
            queries = [b for b in message.buttons if b.query is not None]
            if not queries:
                continue
            button: ZaloButton | None = next(
                (b for b in queries if label_or_payload in (b.title, b.query)), None
            )
            if button is None:
                raise NoSuchButton(
                    f"no button {label_or_payload!r}; latest menu: {[b.title for b in queries]}"
                )
            assert button.query is not None
            return await self.press_payload(button.query)
        raise NoSuchButton("the OA sent this person no query buttons")

    async def press_payload(self, payload: str) -> WebhookPost:
        """What Zalo sends when a query button with `payload` is tapped (a text event)."""
        return await self.say(payload)

    async def follow(self) -> WebhookPost:
        self.state.follower = True
        self.emulator.oa.interact(self.user_id)
        return await self.emulator.driver.post(self.emulator.driver.follow_event(self.user_id))

    async def unfollow(self) -> WebhookPost:
        self.state.follower = False
        self.state.unfollowed = True
        return await self.emulator.driver.post(self.emulator.driver.follow_event(self.user_id, follow=False))

    async def submit_info(self, phone: str | None = None, name: str | None = None, **place: str) -> WebhookPost:
        """Answer a request_user_info form: the phone arrives as 84… [Z28]."""
        number = normalise_phone(phone if phone is not None else self.state.phone)
        if number is None:
            raise ValueError("submit_info needs a valid phone")
        self.emulator.oa.interact(self.user_id)
        event = self.emulator.driver.submit_info_event(
            self.user_id, number, name or self.state.display_name, **place
        )
        return await self.emulator.driver.post(event)

    async def send_image(self) -> WebhookPost:
        msg_id = new_msg_id()
        self.emulator.oa.interact(self.user_id, msg_id)
        return await self.emulator.driver.post(self.emulator.driver.image_event(self.user_id, msg_id))

    async def send_sticker(self) -> WebhookPost:
        msg_id = new_msg_id()
        self.emulator.oa.interact(self.user_id, msg_id)
        return await self.emulator.driver.post(self.emulator.driver.sticker_event(self.user_id, msg_id))

    async def replies(self, count: int = 1, timeout: float = 5.0) -> list[DeliveredMessage]:
        """Wait for at least `count` new OA messages since the last call; return all new ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.state.inbox) - self._cursor < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"user {self.user_id}: expected {count} reply(ies) within {timeout}s, "
                    f"got {len(self.state.inbox) - self._cursor}"
                )
            await self.emulator.changed.wait(remaining)
        new = self.state.inbox[self._cursor :]
        self._cursor = len(self.state.inbox)
        return list(new)
