"""Shared pieces of the Zalo emulator: limits, errors, records, rate windows, faults, signing.

See `devtools.zalo.server` for what is emulated and where each shape comes from.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

JSON = dict[str, Any]
HCM = ZoneInfo("Asia/Ho_Chi_Minh")

# Endpoint keys used by `fail_next`, `requests` and `rejected`.
Endpoint = Literal["message/cs", "upload/image", "upload/file", "access_token", "message/template"]
ENDPOINTS: tuple[str, ...] = (
    "message/cs",
    "upload/image",
    "upload/file",
    "access_token",
    "message/template",
)
FaultKind = Literal["error", "5xx", "timeout", "timeout_after_accept"]
SignatureStyle = Literal["mac", "bare"]
ReceiptShape = Literal["nested", "flat"]

# ---- error codes ------------------------------------------------------------------------------
# OA (openapi.zalo.me) [Z18 goclaw errors.go, Z19, Z26]
OA_ACCESS_TOKEN_INVALID = -216
OA_PARAMS_INVALID = -201
OA_SIZE_EXCEEDED = -210  # also: text longer than 2,000 characters
OA_OUTSIDE_48H = -213
OA_NOT_INTERACTED_7_DAYS = -230
RATE_LIMITED = -32  # GUESS: Zalo publishes no per-second limit nor its error code
# OAuth v4 (oauth.zaloapp.com) [Z18, Z19 token_source.go/auth.go]
OAUTH_INVALID_GRANT = -118  # refresh token expired/revoked/unknown
OAUTH_REFRESH_TOKEN_USED = -14014  # observed on a dead refresh token; here: the second use
OAUTH_APP_INVALID = -14001  # GUESS: unknown app_id / wrong secret_key header
OAUTH_PARAMS_INVALID = -14002  # GUESS: missing field / unknown grant_type
OAUTH_CODE_INVALID = -14019  # GUESS: authorization code unknown, used, expired or PKCE mismatch
# ZNS (business.openapi.zalo.me) [Z29]
ZNS_PHONE_INVALID = -108
ZNS_TEMPLATE_INVALID = -109
ZNS_TEMPLATE_DATA_INVALID = -112
ZNS_ACCOUNT_MISSING = -118
ZNS_ACCESS_TOKEN_INVALID = -124
ZNS_DEV_MODE_NOT_ADMIN = -127
ZNS_TEMPLATE_NOT_APPROVED = -131
ZNS_NIGHT = -133
ZNS_REFUSED_TYPE = -139
ZNS_REFUSED_OA = -141
ZNS_OA_DAILY_QUOTA = -144
ZNS_TEMPLATE_DISABLED = -146
ZNS_TEMPLATE_DAILY_QUOTA = -147


class ZaloApiError(Exception):
    """A Zalo error answer (HTTP 200, `{"error": code, "message": ...}`), raised by handlers."""

    def __init__(self, code: int, message: str, subject: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.subject = subject  # user id or phone the call was about, for `rejected`


@dataclass(frozen=True)
class ZaloLimits:
    """Every limit and timing of the emulator; `dataclasses.replace` one to configure a test.

    Sizes/lengths are Zalo's published or measured values (see server.py). Rates are unpublished:
    `send_per_second`/`upload_per_second` follow a secondary guide [Z15] and are None-able.
    Durations are on the emulator clock except `latency`, `receipt_delay` and
    `webhook_retry_delays`, which are real seconds (they pace the test, not the story).
    """

    text_max: int = 2000
    buttons_max: int = 5
    button_title_max: int = 100
    button_payload_max: int = 1000
    elements_max: int = 5
    image_max_bytes: int = 1024 * 1024
    file_max_bytes: int = 5 * 1024 * 1024
    free_replies: int = 8
    reply_window: timedelta = timedelta(hours=48)
    consult_window: timedelta = timedelta(days=7)
    proactive_allowance: int = 1000  # proactive sends left (the month's; never reset here)
    send_per_second: int | None = 20
    upload_per_second: int | None = 5
    zns_per_second: int | None = None
    access_token_ttl: int = 90000  # seconds, sent as `expires_in` (25 h) [Z20]
    refresh_token_ttl: timedelta = timedelta(days=90)
    code_ttl: timedelta = timedelta(minutes=10)
    zns_daily_quota: int = 500  # an OA's starting daily cap [Z30]
    night_start_hour: int = 22
    night_end_hour: int = 6
    zns_price: int = 300  # default per-message price of a template, integer đồng
    replay_window: timedelta = timedelta(minutes=5)  # the driver's notion of "stale" [Z17]
    latency: float = 0.0
    receipt_delay: float | None = 0.05  # None: receipts wait for `release_receipts()`
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1)


@dataclass(frozen=True)
class Rejection:
    """A call the emulator refused: Zalo error code, rate limit or injected fault."""

    endpoint: str
    code: int
    message: str
    subject: str | None = None


class SlidingWindow:
    """At most `limit` events in any one-second window of the event loop's monotonic clock."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        """Count one event if the window has room; False (and count nothing) otherwise."""
        if self.limit is None:
            return True
        now = asyncio.get_running_loop().time()
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


@dataclass
class Fault:
    """One pending injected fault (see `ZaloEmulator.fail_next`)."""

    endpoint: str
    kind: FaultKind
    remaining: int
    code: int | None = None
    status: int = 502
    hold_seconds: float = 2.0


@dataclass
class Pulse:
    """Wakes every waiter on `notify()`; waiters re-check their condition afterwards."""

    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass


def to_ms(moment: datetime) -> int:
    """Unix milliseconds of an aware datetime (Zalo's unit for every timestamp)."""
    return int(moment.timestamp() * 1000)


def dumps(payload: JSON) -> bytes:
    """The exact bytes a webhook body is sent (and signed) as: compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def compute_signature(app_id: str, raw_body: bytes | str, timestamp: str, oa_secret_key: str) -> str:
    """`X-ZEvent-Signature` without prefix: sha256 hex of app_id + raw body + timestamp + OA secret.

    [Z16 chatwoot zalo_events_job.rb, Z17 goclaw webhook_signature.go]. `timestamp` is the body's
    own `timestamp` field as the decimal string of milliseconds; the key is the OA secret key, not
    the app secret.
    """
    body = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
    return hashlib.sha256(f"{app_id}{body}{timestamp}{oa_secret_key}".encode()).hexdigest()


def signature_header(digest: str, style: SignatureStyle) -> str:
    """The header value: `mac=<hex>` (chatwoot compares this) or bare hex (goclaw)."""
    return f"mac={digest}" if style == "mac" else digest


def normalise_phone(raw: object) -> str | None:
    """A Vietnamese mobile number as `84` + 9 digits, or None when it is not one.

    Accepted [Z29]: `84xxxxxxxxx`, `+84xxxxxxxxx`, `0xxxxxxxxx` and bare `xxxxxxxxx`; spaces,
    dots and dashes are ignored. The subscriber part must start with 3, 5, 7, 8 or 9 (mobile).
    """
    if not isinstance(raw, str):
        return None
    digits = raw.strip().replace(" ", "").replace(".", "").replace("-", "")
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("84"):
            return None
    if not digits.isdigit():
        return None
    if digits.startswith("84") and len(digits) == 11:
        rest = digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        rest = digits[1:]
    elif len(digits) == 9:
        rest = digits
    else:
        return None
    if rest[0] not in "35789":
        return None
    return "84" + rest
