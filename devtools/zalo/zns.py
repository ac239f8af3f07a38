"""The ZNS side of the emulator: `POST /message/template` with a template registry.

Body `{"phone","template_id","template_data":{...},"tracking_id"[, "mode":"development"]}`,
header `access_token` (the OA token) [Z15][Z21]. Success [Z15]:
`{"error":0,"message":"Success","data":{"msg_id","sent_time","quota":{"dailyQuota","remainingQuota"}}}`
with `sent_time` in ms and the quota figures as decimal *strings*, as in [Z15]'s sample
(an adapter should read them with int()).

Checks, in this order (the order is the emulator's choice; Zalo's is unpublished):
access token (−124) → JSON/template id (−109) → template status (−131 pending, −146 disabled)
→ template data: every registered param present as a non-empty string/number, no unknown
ones (−112) → phone normalised to 84… (−108) → development mode to a non-admin (−127)
→ night 22:00–06:00 Asia/Ho_Chi_Minh on the emulator clock (−133) → OA daily quota (−144)
→ template daily quota (−147) → number bound to a Zalo account (−118) → refusals (−139 this
type, −141 this OA). Refused sends do not count against the quota. Development sends count
neither. The quota resets at local midnight on the emulator clock.

After an accepted send, a `user_received_message` receipt is POSTed, signed, to the webhook URL
after `receipt_delay` real seconds (or when `release_receipts()` is called), unless the phone
was registered with `receives=False` (switched off / never delivered). Two shapes, both seen
in sources: "nested" `{..., "sender":{"id":oa_id}, "message":{"msg_id","tracking_id",
"delivery_time"}}` [Z37] (default) and "flat" `{"sender":oa_id,"recipient":phone,
"msg_id","tracking_id","delivery_time",...}` [Z15]. Neither carries the Zalo UID [Z28].
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from aiohttp import web

from bot.domain.clock import Clock

from .common import (
    HCM,
    JSON,
    ZNS_ACCOUNT_MISSING,
    ZNS_DEV_MODE_NOT_ADMIN,
    ZNS_NIGHT,
    ZNS_OA_DAILY_QUOTA,
    ZNS_PHONE_INVALID,
    ZNS_REFUSED_OA,
    ZNS_REFUSED_TYPE,
    ZNS_TEMPLATE_DAILY_QUOTA,
    ZNS_TEMPLATE_DATA_INVALID,
    ZNS_TEMPLATE_DISABLED,
    ZNS_TEMPLATE_INVALID,
    ZNS_TEMPLATE_NOT_APPROVED,
    ZaloApiError,
    ZaloLimits,
    normalise_phone,
    to_ms,
)


@dataclass(frozen=True)
class ZnsTemplate:
    """A registered template: its id, required params, price (integer đồng) and state."""

    template_id: str
    params: tuple[str, ...]
    price: int = 300
    status: Literal["approved", "pending", "disabled"] = "approved"
    daily_quota: int | None = None


@dataclass
class ZnsPhone:
    """A phone number as Zalo knows it (`bound`: has a Zalo account)."""

    phone: str
    bound: bool = True
    refused: Literal["type", "oa"] | None = None
    admin: bool = False
    receives: bool = True


@dataclass(frozen=True)
class ZnsMessage:
    """One accepted ZNS send (also the timed-out-after-acceptance ones)."""

    msg_id: str
    phone: str
    template_id: str
    template_data: JSON
    tracking_id: str | None
    sent_at: datetime
    development: bool
    price: int


class ZnsService:
    """Template registry, phone book, quotas and the record of accepted sends."""

    def __init__(self, clock: Clock, limits: ZaloLimits) -> None:
        self.clock = clock
        self.limits = limits
        self.daily_quota = limits.zns_daily_quota
        self.templates: dict[str, ZnsTemplate] = {}
        self.phones: dict[str, ZnsPhone] = {}
        self.any_phone_bound = False  # True: unregistered valid numbers count as bound
        self.sent: list[ZnsMessage] = []
        self._used: Counter[date] = Counter()
        self._template_used: Counter[tuple[date, str]] = Counter()

    def add_template(self, template: ZnsTemplate) -> None:
        self.templates[template.template_id] = template

    def add_phone(self, phone: ZnsPhone) -> None:
        normal = normalise_phone(phone.phone)
        if normal is None:
            raise ValueError("not a Vietnamese mobile number")
        phone.phone = normal
        self.phones[normal] = phone

    def remaining_today(self) -> int:
        return max(0, self.daily_quota - self._used[self._today()])

    def _today(self) -> date:
        return self.clock.now().astimezone(HCM).date()

    def _is_night(self) -> bool:
        hour = self.clock.now().astimezone(HCM).hour
        start, end = self.limits.night_start_hour, self.limits.night_end_hour
        return hour >= start or hour < end

    async def handle_send(self, request: web.Request) -> tuple[JSON, ZnsMessage]:
        """Validate and accept one send; the server schedules the receipt."""
        try:
            body = await request.json()
        except ValueError:
            raise ZaloApiError(ZNS_TEMPLATE_DATA_INVALID, "Body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ZaloApiError(ZNS_TEMPLATE_DATA_INVALID, "Body must be an object")
        template = self.templates.get(str(body.get("template_id", "")))
        if template is None:
            raise ZaloApiError(ZNS_TEMPLATE_INVALID, "Template ID is invalid")
        if template.status == "pending":
            raise ZaloApiError(ZNS_TEMPLATE_NOT_APPROVED, "Template is not approved")
        if template.status == "disabled":
            raise ZaloApiError(ZNS_TEMPLATE_DISABLED, "Template is disabled for low quality")
        data = body.get("template_data")
        if not isinstance(data, dict) or set(data) != set(template.params) or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip() for v in data.values()
        ):
            raise ZaloApiError(ZNS_TEMPLATE_DATA_INVALID, "Template data is invalid")
        phone = normalise_phone(body.get("phone"))
        if phone is None:
            raise ZaloApiError(ZNS_PHONE_INVALID, "Phone number is invalid")
        record = self.phones.get(phone)
        development = body.get("mode") == "development"
        if development and (record is None or not record.admin):
            raise ZaloApiError(ZNS_DEV_MODE_NOT_ADMIN, "Development mode sends only to admins", phone)
        if self._is_night():
            raise ZaloApiError(ZNS_NIGHT, "This template may not be sent at night (22:00-06:00)", phone)
        today = self._today()
        if not development:
            if self._used[today] >= self.daily_quota:
                raise ZaloApiError(ZNS_OA_DAILY_QUOTA, "OA has reached its daily quota", phone)
            if template.daily_quota is not None and self._template_used[(today, template.template_id)] >= template.daily_quota:
                raise ZaloApiError(ZNS_TEMPLATE_DAILY_QUOTA, "Template has reached its daily quota", phone)
        if record is None and self.any_phone_bound:
            record = ZnsPhone(phone)
        if record is None or not record.bound:
            raise ZaloApiError(ZNS_ACCOUNT_MISSING, "Zalo account does not exist or is disabled", phone)
        if record.refused == "type":
            raise ZaloApiError(ZNS_REFUSED_TYPE, "User refused this message type", phone)
        if record.refused == "oa":
            raise ZaloApiError(ZNS_REFUSED_OA, "User refused messages from this OA", phone)
        if not development:
            self._used[today] += 1
            self._template_used[(today, template.template_id)] += 1
        tracking = body.get("tracking_id")
        message = ZnsMessage(
            msg_id=secrets.token_hex(10),
            phone=phone,
            template_id=template.template_id,
            template_data=dict(data),
            tracking_id=str(tracking) if tracking is not None else None,
            sent_at=self.clock.now(),
            development=development,
            price=template.price,
        )
        self.sent.append(message)
        answer = {
            "error": 0,
            "message": "Success",
            "data": {
                "msg_id": message.msg_id,
                "sent_time": str(to_ms(message.sent_at)),
                "quota": {
                    "dailyQuota": str(self.daily_quota),
                    "remainingQuota": str(self.remaining_today()),
                },
            },
        }
        return answer, message

    def receives(self, phone: str) -> bool:
        record = self.phones.get(phone)
        return record.receives if record is not None else True
