"""ZNS client: one template message to one phone number (`POST /message/template`).

Shapes (ZALO.md §3, [Z15][Z21][Z29], checked against devtools/zalo/zns.py): body
`{"phone": "84…", "template_id", "template_data": {...}, "tracking_id"[, "mode":
"development"]}`, header `access_token` (the OA token); success `{"error": 0, "data": {"msg_id",
"sent_time", "quota": {"dailyQuota", "remainingQuota"}}}` with the quota figures possibly as
decimal strings (read with int()).

Guarantees:
- the phone is normalised to 84… first; a number that is not a Vietnamese mobile is refused
  without sending (NEVER_RETRY);
- no retry of its own: every outcome goes back to the caller's outbox, including
  UNKNOWN_OUTCOME (a timeout after the request was written: the message may have gone; the
  delivery receipt, matched by `tracking_id`, settles it). The one exception is a refused
  access token (−124), which proves nothing was sent: refreshed, then sent once more;
- the daily quota Zalo reports in each answer is returned, so the sender can pause before
  −144 rather than after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from handlers.pacing import SendPacer

from .errors import Api, ErrorClass
from .phone import normalise_phone
from .tokens import TokenManager
from .transport import DEFAULT_TIMEOUT, JSON, ZaloError, call, local_refusal

TEMPLATE_PATH = "/message/template"

ZnsError = ZaloError  # same fields: code (raw Zalo code, 0 if none), cls, reason, http_status


@dataclass(frozen=True)
class ZnsSent:
    """Zalo accepted the message; quota figures as Zalo reported them (None if absent)."""

    msg_id: str
    remaining_quota: int | None
    daily_quota: int | None
    sent_time_ms: int | None = None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


class ZNSClient:
    """Sends approved ZNS templates; never retries a send by itself."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        zns_base_url: str,
        tokens: TokenManager,
        *,
        development: bool = False,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        pacer: SendPacer | None = None,
    ) -> None:
        """`pacer`: every send waits for it (ZNS_MAX_PER_SECOND, shared by the instances on
        one database); None: unpaced."""
        self._http = http
        self._url = zns_base_url.rstrip("/") + TEMPLATE_PATH
        self._tokens = tokens
        self._development = development  # "mode": "development": test sends to admins only
        self._timeout = timeout
        self.pacer = pacer
        self._pace = pacer.acquire if pacer is not None else None

    async def send_template(
        self, phone: str, template_id: str, data: dict[str, str], tracking_id: str
    ) -> ZnsSent | ZnsError:
        """Send template `template_id` with `data` to `phone`; `tracking_id` (the outbox row id)
        comes back in the delivery receipt."""
        number = normalise_phone(phone)
        if number is None:
            return local_refusal("not a Vietnamese mobile number")
        body: JSON = {
            "phone": number,
            "template_id": template_id,
            "template_data": dict(data),
            "tracking_id": tracking_id,
        }
        if self._development:
            body["mode"] = "development"
        outcome = await call(
            self._http, self._url, api=Api.ZNS, tokens=self._tokens, timeout=self._timeout, pace=self._pace, json=body
        )
        if isinstance(outcome, ZaloError):
            return outcome
        answer = outcome.get("data")
        msg_id = answer.get("msg_id") if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or not isinstance(msg_id, str) or not msg_id:
            return ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, "success answer without msg_id", 200)
        raw_quota = answer.get("quota")
        quota = raw_quota if isinstance(raw_quota, dict) else {}
        return ZnsSent(
            msg_id=msg_id,
            remaining_quota=_int(quota.get("remainingQuota")),
            daily_quota=_int(quota.get("dailyQuota")),
            sent_time_ms=_int(answer.get("sent_time")),
        )


__all__ = ["ZNSClient", "ZnsError", "ZnsSent", "normalise_phone"]
