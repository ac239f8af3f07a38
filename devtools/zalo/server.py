"""A local Zalo (OA API v3 + OAuth v4 + ZNS) server for the tests of the Zalo channel.

Zalo cannot be reached from a test and a mocked client would hide what hurts in production:
a 2,001-character reply, a sixth button, an expired token refreshed twice, a reminder sent at
23:00, a daily quota that runs out in the middle of a fan-out, a timeout after which the message
did go out. So the real adapter talks HTTP to this emulator, pointed at it by configuration:

    emu = ZaloEmulator(clock=clock, webhook_url=bot_webhook_url)
    await emu.start()
    ZALO_API_BASE_URL   = emu.api_base_url     # default https://openapi.zalo.me
    ZALO_OAUTH_BASE_URL = emu.oauth_base_url   # default https://oauth.zaloapp.com
    ZALO_ZNS_BASE_URL   = emu.zns_base_url     # default https://business.openapi.zalo.me
    tokens = emu.issue_tokens()                # what the OA admin's consent would give

One aiohttp server on 127.0.0.1 serves the three hosts' paths (each base URL has its own path
prefix so a client that joins paths wrongly fails). Test code plays the people through
`emu.add_user(...)` → `EmulatedZaloUser` (`say`, `press`, `follow`, `submit_info`, `replies`) and
the raw `emu.driver` (signed webhooks, bad or stale signatures, identical retries); it inspects
`emu.oa.delivered`, `emu.zns.sent`, `emu.receipts`, `emu.rejected`, `emu.requests` and
`emu.tokens.refresh_uses`.

What is emulated, and the source of each shape (keys [Zn] as in the project's Zalo research
brief, §8; each source was re-read for this module where marked ✓):
- `POST /v3.0/oa/message/cs` with header `access_token` (oa.py): body and answer shapes
  [Z15 hoangnd25 doc ✓, Z19 goclaw send.go ✓]; text ≤ 2,000 else −210 [Z19 ✓]; image via
  template/media with attachment_id, bare image attachment −201 [Z19 ✓]; file as
  `{"type":"file","payload":{"token"|"attachment_id"}}` (both accepted: [Z15 ✓] says token,
  goclaw builds attachment_id [Z19 ✓]); buttons oa.query.show/hide, oa.open.url/phone/sms, ≤ 5,
  title ≤ 100, payload ≤ 1,000 [Z23][Z24][Z25]; button templates accepted with or without
  `template_type: "button"` and with the text in `message.text` or `payload.text` (both forms
  appear in sources); `request_user_info` elements [Z23 esms ✓]; the 48 h / 8 free replies
  window [Z14] and −213/−230 [Z26] — see oa.py for the exact rule chosen.
- `POST /v2.0/oa/upload/image|file` (oa.py): 1 MB jpg/png, 5 MB PDF/DOC/DOCX, −210, silent
  refusal of other types [Z19 ✓ upload.go/send.go/endpoints.go].
- `POST /v4/oa/access_token` under the OAuth base (oauth.py) [Z19 ✓ auth.go, token_source.go];
  access token invalid → −216 on the OA API [Z18 ✓], −124 on ZNS [Z29].
- `POST /message/template` under the ZNS base (zns.py) [Z15 ✓ answer sample, Z29 codes,
  Z30 quota]; the delivery receipt [Z15 ✓ flat][Z37 ✓ nested].
- Webhook signature and event shapes (driver.py) [Z16 ✓ chatwoot: `mac=` prefix; Z17 ✓ goclaw:
  bare hex, ±5 min window]. Both prefix styles can be produced (`signature_style`).

Every Zalo error is HTTP 200 with `{"error": <code>, "message": ...}` (Zalo's convention);
injected "5xx" faults are the only non-200 answers besides "timeout" faults (held, then 504).

GUESSES to pin with a recorded fixture before go-live: the rate-limit code (−32) and rates
(20/s send, 5/s upload [Z15]); −201 for button/element limits and unknown user ids; the OAuth
error codes other than −118/−14014 (−14001 app/secret, −14002 params, −14019 code); which of
−118/−14014 Zalo answers for a reused refresh token (here −14014; −118 for revoked/expired);
`follow` vs `user_follow`; sender/recipient in the OA `user_received_message`; the order of the
ZNS checks; the ZNS quota figures as strings; whether the old access token stays valid after a
refresh (here it does, until it expires).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.domain.clock import Clock, SystemClock

from .common import (
    HCM,
    JSON,
    OA_ACCESS_TOKEN_INVALID,
    RATE_LIMITED,
    ZNS_ACCESS_TOKEN_INVALID,
    Fault,
    FaultKind,
    Pulse,
    ReceiptShape,
    Rejection,
    SignatureStyle,
    SlidingWindow,
    ZaloApiError,
    ZaloLimits,
    dumps,
    to_ms,
)
from .driver import SIGNATURE_HEADER, EmulatedZaloUser, ZaloWebhookDriver
from .oa import OfficialAccount, ZaloUserState
from .oauth import TokenAuthority, TokenPair
from .zns import ZnsMessage, ZnsPhone, ZnsService, ZnsTemplate

API_PREFIX = "/openapi"
OAUTH_PREFIX = "/oauth"
ZNS_PREFIX = "/business"


@dataclass(frozen=True)
class ReceiptDelivery:
    """One POST of a ZNS delivery receipt to the webhook URL (retries are separate entries)."""

    msg_id: str
    tracking_id: str | None
    status: int  # HTTP status the receiver answered (0: connection failed)
    attempt: int  # 0 first, then 1, 2 ... (the `num_retry` header)
    body: bytes
    headers: dict[str, str]


class ZaloEmulator:
    """In-process Zalo: OA messages and uploads, OAuth tokens, ZNS with receipts, faults."""

    def __init__(
        self,
        *,
        app_id: str = "1846293017365428190",
        app_secret: str = "app-secret-key",
        oa_id: str = "2931746501938475621",
        oa_secret_key: str = "oa-secret-key",
        clock: Clock | None = None,
        limits: ZaloLimits | None = None,
        webhook_url: str | None = None,
        signature_style: SignatureStyle = "mac",
        receipt_shape: ReceiptShape = "nested",
        oa_receipts: bool = False,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.oa_id = oa_id
        self.oa_secret_key = oa_secret_key
        self.clock: Clock = clock or SystemClock(ZoneInfo("Asia/Ho_Chi_Minh"))
        self.limits = limits or ZaloLimits()
        self.receipt_shape: ReceiptShape = receipt_shape
        # True: every accepted message/cs is followed (after `receipt_delay`) by a signed OA
        # `user_received_message` (no delivery_time), as Zalo sends when the event is subscribed.
        self.oa_receipts = oa_receipts
        self.rejected: list[Rejection] = []
        self.requests: Counter[str] = Counter()
        self.receipts: list[ReceiptDelivery] = []
        self.tokens = TokenAuthority(app_id, app_secret, self.clock, self.limits)
        self.oa = OfficialAccount(self.clock, self.limits, self.rejected)
        self.zns = ZnsService(self.clock, self.limits)
        self.driver = ZaloWebhookDriver(
            app_id,
            oa_id,
            oa_secret_key,
            self.clock,
            url=webhook_url,
            signature_style=signature_style,
            replay_window=self.limits.replay_window,
        )
        self.changed = Pulse()
        self._windows = {
            "message/cs": SlidingWindow(self.limits.send_per_second),
            "upload/image": SlidingWindow(self.limits.upload_per_second),
            "upload/file": SlidingWindow(self.limits.upload_per_second),
            "access_token": SlidingWindow(None),
            "message/template": SlidingWindow(self.limits.zns_per_second),
        }
        self._faults: list[Fault] = []
        self._pending_receipts: list[ZnsMessage] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base_url = ""

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = a free port); the base URLs are valid afterwards."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post(API_PREFIX + "/v3.0/oa/message/cs", self._route("message/cs", self._send))
        app.router.add_post(API_PREFIX + "/v2.0/oa/upload/image", self._route("upload/image", self._upload_image))
        app.router.add_post(API_PREFIX + "/v2.0/oa/upload/file", self._route("upload/file", self._upload_file))
        app.router.add_post(OAUTH_PREFIX + "/v4/oa/access_token", self._route("access_token", self._token))
        app.router.add_post(ZNS_PREFIX + "/message/template", self._route("message/template", self._zns_send))
        self._stopping.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._base_url = f"http://{host}:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Release held requests, cancel pending receipts and close the server."""
        self._stopping.set()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.driver.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ZaloEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _base(self) -> str:
        if not self._base_url:
            raise RuntimeError("emulator not started")
        return self._base_url

    @property
    def api_base_url(self) -> str:
        """Stands for https://openapi.zalo.me (ZALO_API_BASE_URL); no trailing slash."""
        return self._base() + API_PREFIX

    @property
    def oauth_base_url(self) -> str:
        """Stands for https://oauth.zaloapp.com (ZALO_OAUTH_BASE_URL); no trailing slash."""
        return self._base() + OAUTH_PREFIX

    @property
    def zns_base_url(self) -> str:
        """Stands for https://business.openapi.zalo.me (ZALO_ZNS_BASE_URL); no trailing slash."""
        return self._base() + ZNS_PREFIX

    @property
    def webhook_url(self) -> str | None:
        """Where webhooks (driver events and ZNS receipts) are POSTed."""
        return self.driver.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.driver.url = url

    # ---- scenario set-up -------------------------------------------------------------------

    def issue_tokens(self) -> TokenPair:
        """A valid (access, refresh) pair, as the OA admin's consent would give."""
        return self.tokens.issue()

    def add_user(
        self,
        display_name: str = "Nguyễn Văn An",
        *,
        user_id: str | None = None,
        phone: str | None = None,
        follower: bool = True,
    ) -> EmulatedZaloUser:
        """A person who can talk to the OA. Following does not open the window by itself;
        call `await user.follow()` or `say()` for that."""
        uid = user_id or str(secrets.randbelow(9 * 10**18) + 10**18)
        self.oa.users[uid] = ZaloUserState(uid, display_name, phone=phone, follower=follower)
        return EmulatedZaloUser(self, uid)

    def user(self, user_id: str) -> EmulatedZaloUser:
        """The driver of an existing person."""
        if user_id not in self.oa.users:
            raise KeyError(user_id)
        return EmulatedZaloUser(self, user_id)

    def add_template(
        self,
        template_id: str,
        params: tuple[str, ...] | list[str],
        *,
        price: int | None = None,
        status: Literal["approved", "pending", "disabled"] = "approved",
        daily_quota: int | None = None,
    ) -> ZnsTemplate:
        """Register a ZNS template with its required params (and price in integer đồng)."""
        template = ZnsTemplate(
            template_id, tuple(params), price if price is not None else self.limits.zns_price, status, daily_quota
        )
        self.zns.add_template(template)
        return template

    def add_phone(
        self,
        phone: str,
        *,
        bound: bool = True,
        refused: Literal["type", "oa"] | None = None,
        admin: bool = False,
        receives: bool = True,
    ) -> ZnsPhone:
        """Register a phone number (any accepted format) for ZNS."""
        record = ZnsPhone(phone, bound=bound, refused=refused, admin=admin, receives=receives)
        self.zns.add_phone(record)
        return record

    def fail_next(
        self,
        endpoint: str,
        kind: FaultKind,
        count: int = 1,
        *,
        code: int | None = None,
        status: int = 502,
        hold_seconds: float = 2.0,
    ) -> None:
        """Make the next `count` calls of `endpoint` fail.

        endpoint: "message/cs", "upload/image", "upload/file", "access_token", "message/template".
        kind: "error" answers Zalo error `code` (HTTP 200); "5xx" answers HTTP `status`;
        "timeout" holds the request `hold_seconds` and answers 504 with nothing done;
        "timeout_after_accept" does the call (the message counts as sent, a ZNS receipt still
        comes later) and then holds and answers 504: the ambiguous outcome.
        """
        if endpoint not in self._windows:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        if kind not in ("error", "5xx", "timeout", "timeout_after_accept"):
            raise ValueError(f"unknown fault kind {kind!r}")
        if kind == "error" and code is None:
            raise ValueError("kind='error' needs code=")
        self._faults.append(Fault(endpoint, kind, count, code, status, hold_seconds))

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds; re-checked after every call and receipt."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            await self.changed.wait(min(remaining, 0.05))

    async def release_receipts(self, which: Callable[[ZnsMessage], bool] | None = None) -> None:
        """Deliver the receipts held back (`receipt_delay=None`) now, and wait for them: all,
        or those `which` selects (the others stay held)."""
        chosen = [m for m in self._pending_receipts if which is None or which(m)]
        self._pending_receipts = [m for m in self._pending_receipts if not (which is None or which(m))]
        await asyncio.gather(*(self._deliver_receipt(m) for m in chosen))

    @property
    def pending_receipts(self) -> int:
        return len(self._pending_receipts)

    # ---- HTTP ------------------------------------------------------------------------------

    def _route(
        self, endpoint: str, handler: Callable[[web.Request], Awaitable[JSON]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            self.requests[endpoint] += 1
            try:
                return await self._serve(endpoint, request, handler)
            finally:
                self.changed.notify()

        return serve

    async def _serve(
        self, endpoint: str, request: web.Request, handler: Callable[[web.Request], Awaitable[JSON]]
    ) -> web.StreamResponse:
        if self.limits.latency > 0:
            await asyncio.sleep(self.limits.latency)
        fault = self._take_fault(endpoint)
        if fault is not None:
            if fault.kind == "timeout":
                self.rejected.append(Rejection(endpoint, 0, "injected timeout"))
                await self._hold(fault.hold_seconds)
                return web.Response(status=504, text="Gateway Timeout")
            if fault.kind == "5xx":
                self.rejected.append(Rejection(endpoint, 0, f"injected HTTP {fault.status}"))
                return web.Response(status=fault.status, text="Internal error")
            if fault.kind == "error":
                assert fault.code is not None
                self.rejected.append(Rejection(endpoint, fault.code, "injected"))
                return self._json(self._error_body(endpoint, fault.code, "Injected error"))
        try:
            if not self._windows[endpoint].allow():
                raise ZaloApiError(RATE_LIMITED, "Request rate exceeds the limit")
            payload = await handler(request)
        except ZaloApiError as error:
            self.rejected.append(Rejection(endpoint, error.code, error.message, error.subject))
            return self._json(self._error_body(endpoint, error.code, error.message))
        if fault is not None and fault.kind == "timeout_after_accept":
            await self._hold(fault.hold_seconds)
            return web.Response(status=504, text="Gateway Timeout")
        return self._json(payload)

    def _take_fault(self, endpoint: str) -> Fault | None:
        for fault in self._faults:
            if fault.endpoint == endpoint and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _hold(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    @staticmethod
    def _error_body(endpoint: str, code: int, message: str) -> JSON:
        body: JSON = {"error": code, "message": message}
        if endpoint == "access_token":
            body["error_name"] = message
            body["error_description"] = message
        return body

    @staticmethod
    def _json(payload: JSON) -> web.Response:
        return web.Response(
            status=200, text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
        )

    def _check_access(self, request: web.Request, code: int) -> None:
        if not self.tokens.access_valid(request.headers.get("access_token")):
            raise ZaloApiError(code, "Access token is invalid or expired")

    async def _send(self, request: web.Request) -> JSON:
        self._check_access(request, OA_ACCESS_TOKEN_INVALID)
        answer = await self.oa.handle_send(request)
        if self.oa_receipts and self.webhook_url:
            event = self.driver.oa_received_event(answer["data"]["user_id"], [answer["data"]["message_id"]])
            self._spawn(self._post_oa_receipt(event, self.limits.receipt_delay or 0.0))
        return answer

    async def _post_oa_receipt(self, event: JSON, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await self.driver.post(event)
        except (aiohttp.ClientError, TimeoutError):
            pass  # the receiver is down: Zalo would retry; receipts of OA messages are advisory
        self.changed.notify()

    async def _upload_image(self, request: web.Request) -> JSON:
        self._check_access(request, OA_ACCESS_TOKEN_INVALID)
        return await self.oa.handle_upload(request, "image")

    async def _upload_file(self, request: web.Request) -> JSON:
        self._check_access(request, OA_ACCESS_TOKEN_INVALID)
        return await self.oa.handle_upload(request, "file")

    async def _token(self, request: web.Request) -> JSON:
        return await self.tokens.handle(request)

    async def _zns_send(self, request: web.Request) -> JSON:
        self._check_access(request, ZNS_ACCESS_TOKEN_INVALID)
        answer, message = await self.zns.handle_send(request)
        if self.zns.receives(message.phone):
            if self.limits.receipt_delay is None:
                self._pending_receipts.append(message)
            else:
                self._spawn(self._deliver_receipt(message, self.limits.receipt_delay))
        return answer

    # ---- receipts --------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_receipt(self, message: ZnsMessage, delay: float = 0.0) -> None:
        """POST the signed receipt; retry on a non-2xx answer with `num_retry`, like Zalo."""
        if delay > 0:
            await asyncio.sleep(delay)
        url = self.webhook_url
        if not url:
            return
        event = self.driver.zns_received_event(
            message.msg_id, message.tracking_id, message.phone, self.clock.now(), self.receipt_shape
        )
        timestamp = str(to_ms(self.clock.now()))
        event["timestamp"] = timestamp
        body = dumps(event)
        base_headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.driver.sign(body, timestamp)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        delays = (0.0, *self.limits.webhook_retry_delays)
        for attempt, pause in enumerate(delays):
            if pause > 0:
                await asyncio.sleep(pause)
            headers = dict(base_headers)
            if attempt:
                headers["num_retry"] = str(attempt)
            try:
                async with self._session.post(url, data=body, headers=headers) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            self.receipts.append(ReceiptDelivery(message.msg_id, message.tracking_id, status, attempt, body, headers))
            self.changed.notify()
            if 200 <= status < 300:
                return


__all__ = ["HCM", "ReceiptDelivery", "ZaloEmulator"]
