"""The OA webhook events the bot uses, parsed from the raw (already verified) body.

Shapes (ZALO.md §2 "Webhooks", [Z15][Z16][Z24][Z28][Z37]; ids are strings, `timestamp` ms):
- `user_send_text`: `{app_id, event_name, sender:{id}, recipient:{id}, message:{msg_id, text},
  timestamp}`. A tap on an `oa.query.*` button arrives as this same event carrying the button's
  payload as text; `TextMessage.action_id` reads the project's `#a:<action>` convention.
- `follow` / `unfollow`: `{..., follower:{id}, source}` (goclaw names them `user_follow` /
  `user_unfollow`; both spellings are accepted since neither is pinned by a fixture).
- `user_submit_info`: `{..., sender:{id}, info:{name, phone(84…), address, city, district,
  ward}}`, the answer to a request_user_info form; the phone is normalised to 84….
- `user_send_image|sticker|file|gif|audio|video|location|link|business_card`: `Unsupported`
  (the bot only reads text; the adapter answers with a hint).
- `user_received_message`: two different things share the name [Z37]. With a delivery time
  (nested `message.delivery_time` or flat top-level `delivery_time`) it is a ZNS receipt
  (`msg_id`, `tracking_id`; no Zalo UID [Z28]); without it, an OA message receipt
  (`message.msg_ids`).
Any other event name parses as `OtherEvent` (recorded, ignored). `parse_event` never raises:
garbage gives None.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .phone import normalise_phone

ACTION_PREFIX = "#a:"

UNSUPPORTED_EVENTS = frozenset(
    {
        "user_send_image",
        "user_send_sticker",
        "user_send_file",
        "user_send_gif",
        "user_send_audio",
        "user_send_video",
        "user_send_location",
        "user_send_link",
        "user_send_business_card",
    }
)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_name: str
    app_id: str
    timestamp: int  # ms since the epoch, as Zalo stamps it


class TextMessage(_Event):
    """A person wrote text (or tapped a query button, whose payload arrives as the text)."""

    kind: Literal["text"] = "text"
    sender_id: str
    msg_id: str
    text: str

    @property
    def action_id(self) -> str | None:
        """The action of a tapped `oa.query.*` button sent as `#a:<action>`, else None."""
        if self.text.startswith(ACTION_PREFIX) and len(self.text) > len(ACTION_PREFIX):
            return self.text[len(ACTION_PREFIX) :]
        return None


class Follow(_Event):
    """A person followed the OA."""

    kind: Literal["follow"] = "follow"
    sender_id: str


class Unfollow(_Event):
    """A person unfollowed the OA (OA messages will now fail with −230)."""

    kind: Literal["unfollow"] = "unfollow"
    sender_id: str


class SubmitInfo(_Event):
    """A person shared their details through a request_user_info form."""

    kind: Literal["submit_info"] = "submit_info"
    sender_id: str
    name: str
    # 84…, or None when Zalo sent something that is not a VN mobile; kept out of repr() so a
    # logged event never carries a phone number
    phone: str | None = Field(repr=False)
    address: str = ""
    city: str = ""
    district: str = ""
    ward: str = ""


class Unsupported(_Event):
    """An image, sticker, file… the bot does not read."""

    kind: Literal["unsupported"] = "unsupported"
    sender_id: str
    msg_id: str | None


class OaReceipt(_Event):
    """The person received OA messages `msg_ids` (no delivery time)."""

    kind: Literal["oa_receipt"] = "oa_receipt"
    user_id: str | None
    msg_ids: tuple[str, ...]


class ZnsReceipt(_Event):
    """A ZNS message was delivered; map it back by `msg_id` / `tracking_id` (no Zalo UID)."""

    kind: Literal["zns_receipt"] = "zns_receipt"
    msg_id: str
    tracking_id: str | None
    delivery_time: int  # ms


class OtherEvent(_Event):
    """An event the bot does not use (seen, oa_send_*, …): kept only so it can be logged."""

    kind: Literal["other"] = "other"
    sender_id: str | None


Event = TextMessage | Follow | Unfollow | SubmitInfo | Unsupported | OaReceipt | ZnsReceipt | OtherEvent


def _id(value: object) -> str | None:
    """A Zalo id: `{"id": x}` or bare x, as a non-empty string."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def _ms(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _build(body: dict[str, Any]) -> Event | None:
    """The event of a decoded body. Fields are handed to the models as read, possibly None or
    of the wrong type: the models' validation (ValidationError) is what refuses them."""
    name = body.get("event_name")
    if not isinstance(name, str) or not name:
        return None
    base: dict[str, Any] = {
        "event_name": name,
        "app_id": _id(body.get("app_id")),
        "timestamp": _ms(body.get("timestamp")),
    }
    raw_message = body.get("message")
    message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
    sender = _id(body.get("sender"))
    if name == "user_send_text":
        return TextMessage.model_validate(
            {**base, "sender_id": sender, "msg_id": _str(message.get("msg_id")), "text": message.get("text")}
        )
    if name in ("follow", "user_follow", "unfollow", "user_unfollow"):
        who = _id(body.get("follower")) or sender or _id(body.get("user_id_by_app"))
        cls: type[Follow | Unfollow] = (
            Follow if name.endswith("follow") and not name.endswith("unfollow") else Unfollow
        )
        return cls.model_validate({**base, "sender_id": who})
    if name == "user_submit_info":
        info = body.get("info")
        if not isinstance(info, dict):
            return None
        extras = {k: info[k] for k in ("address", "city", "district", "ward") if isinstance(info.get(k), str)}
        return SubmitInfo.model_validate(
            {
                **base,
                "sender_id": sender,
                "name": info.get("name") if isinstance(info.get("name"), str) else "",
                "phone": normalise_phone(info.get("phone")),
                **extras,
            }
        )
    if name in UNSUPPORTED_EVENTS:
        return Unsupported.model_validate({**base, "sender_id": sender, "msg_id": _str(message.get("msg_id"))})
    if name == "user_received_message":
        delivery = _ms(message.get("delivery_time"))
        source: dict[str, Any] = message
        if delivery is None and "delivery_time" in body:
            delivery = _ms(body.get("delivery_time"))
            source = body
        if delivery is not None:
            tracking = source.get("tracking_id")
            return ZnsReceipt.model_validate(
                {
                    **base,
                    "msg_id": _str(source.get("msg_id")),
                    "tracking_id": (
                        str(tracking) if isinstance(tracking, (str, int)) and not isinstance(tracking, bool) else None
                    ),
                    "delivery_time": delivery,
                }
            )
        ids = message.get("msg_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            single = _str(message.get("msg_id"))
            ids = [single] if single else None
        return OaReceipt.model_validate({**base, "user_id": _id(body.get("recipient")), "msg_ids": ids})
    return OtherEvent.model_validate({**base, "sender_id": sender})


def parse_event(raw: bytes) -> Event | None:
    """The event in a webhook body, or None when it is not one the bot can read. Never raises."""
    try:
        body = json.loads(raw)
        if not isinstance(body, dict):
            return None
        return _build(body)
    except (ValueError, TypeError, ValidationError, RecursionError, UnicodeDecodeError):
        return None
    except Exception:  # noqa: BLE001 - the guarantee is "never raises" on hostile input
        return None


def event_key(event: Event) -> str:
    """The unique inbox key of an event, so Zalo's retries of it are handled once.

    Zalo retries a webhook by resending the identical body (same `msg_id`, same `timestamp`;
    the driver's `retry` and [Z15]), so the key is built only from body fields:
    - events with a message id use it: `<event_name>:<msg_id>` (the event name keeps a ZNS
      receipt's msg_id apart from an inbound message's; the OA receipt joins its sorted ids);
    - follow, unfollow and submit-info carry none, so `<event_name>:<sender>:<timestamp>`:
      two of them from one person in the same millisecond are the same event anyway.
    """
    if isinstance(event, (TextMessage, Unsupported)) and event.msg_id:
        return f"{event.event_name}:{event.msg_id}"
    if isinstance(event, ZnsReceipt):
        return f"{event.event_name}:{event.msg_id}"
    if isinstance(event, OaReceipt) and event.msg_ids:
        return f"{event.event_name}:{','.join(sorted(event.msg_ids))}"
    sender = getattr(event, "sender_id", None) or getattr(event, "user_id", None) or "-"
    return f"{event.event_name}:{sender}:{event.timestamp}"


__all__ = [
    "ACTION_PREFIX",
    "Event",
    "Follow",
    "OaReceipt",
    "OtherEvent",
    "SubmitInfo",
    "TextMessage",
    "Unfollow",
    "Unsupported",
    "ZnsReceipt",
    "event_key",
    "parse_event",
]
