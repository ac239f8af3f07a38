"""The Zalo transport (handlers/zalo) against the Zalo emulator over real HTTP.

Real httpx clients talk to devtools.zalo.ZaloEmulator on 127.0.0.1; webhooks the
emulator's driver POSTs land on a small aiohttp receiver here that verifies them with
handlers.zalo.signature and parses them with handlers.zalo.events. The only test double is
the in-memory TokenStore below (the SQLite store comes with the adapter).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp import web

from bot.domain.clock import ManualClock
from devtools.zalo import ZaloEmulator, ZaloLimits
from handlers.zalo.errors import ErrorClass
from handlers.zalo.events import SubmitInfo, TextMessage, ZnsReceipt, event_key, parse_event
from handlers.zalo.oa_client import OAClient, Sent, Uploaded
from handlers.zalo.signature import Rejected, Verified, verify
from handlers.zalo.tokens import ReauthorisationNeeded, TokenManager, TokenState
from handlers.zalo.transport import ZaloError
from handlers.zalo.zns_client import ZNSClient, ZnsSent

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
APP_ID = "1846293017365428190"
APP_SECRET = "app-secret-key"
OA_SECRET = "oa-secret-key"
LIMITS = ZaloLimits(
    receipt_delay=0.01, webhook_retry_delays=(0.01, 0.02), send_per_second=None, upload_per_second=None
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
PDF = b"%PDF-1.4\n" + b"x" * 200
SHORT = httpx.Timeout(0.3, connect=1.0)


# ---- plumbing -------------------------------------------------------------------------------------


@dataclass
class MemoryStore:
    """TokenStore for tests: keeps the pair in memory; `fail` makes save() raise."""

    state: TokenState | None = None
    saves: list[TokenState] = field(default_factory=list)
    fail: bool = False

    async def load(self) -> TokenState | None:
        return self.state

    async def save(self, state: TokenState) -> None:
        if self.fail:
            raise OSError("disk full")
        self.saves.append(state)
        self.state = state


class Receiver:
    """The bot's webhook endpoint reduced to: verify, parse, de-duplicate by event key."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.results: list[Verified | Rejected] = []
        self.events: list[Any] = []
        self.keys: list[str] = []
        self.duplicates = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now_ms = int(self.clock.now().timestamp() * 1000)
        result = verify(
            body, request.headers.get("X-ZEvent-Signature"), app_id=APP_ID, oa_secret_key=OA_SECRET, now_ms=now_ms
        )
        self.results.append(result)
        if isinstance(result, Rejected):
            return web.Response(status=401, text=result.reason)
        event = parse_event(body)
        assert event is not None
        key = event_key(event)
        if key in self.keys:
            self.duplicates += 1
        else:
            self.keys.append(key)
            self.events.append(event)
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/zalo/webhook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/zalo/webhook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
def zclock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 1, 10, 0, tzinfo=TZ))


@pytest.fixture
async def receiver(zclock: ManualClock) -> AsyncIterator[Receiver]:
    r = Receiver(zclock)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
async def emu(zclock: ManualClock, receiver: Receiver) -> AsyncIterator[ZaloEmulator]:
    e = ZaloEmulator(clock=zclock, webhook_url=receiver.url, limits=LIMITS)
    await e.start()
    try:
        yield e
    finally:
        await e.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def seeded_store(emu: ZaloEmulator, clock: ManualClock) -> MemoryStore:
    pair = emu.issue_tokens()
    return MemoryStore(TokenState(pair.access_token, clock.now() + timedelta(seconds=pair.expires_in), pair.refresh_token))


def manager(
    emu: ZaloEmulator, http: httpx.AsyncClient, clock: ManualClock, store: MemoryStore, **kwargs: Any
) -> TokenManager:
    return TokenManager(
        http,
        oauth_base_url=emu.oauth_base_url,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        store=store,
        clock=clock,
        **kwargs,
    )


@dataclass
class World:
    emu: ZaloEmulator
    clock: ManualClock
    store: MemoryStore
    tokens: TokenManager
    oa: OAClient
    zns: ZNSClient


@pytest.fixture
def world(emu: ZaloEmulator, http: httpx.AsyncClient, zclock: ManualClock) -> World:
    store = seeded_store(emu, zclock)
    tokens = manager(emu, http, zclock, store)
    return World(
        emu,
        zclock,
        store,
        tokens,
        OAClient(http, emu.api_base_url, tokens, timeout=SHORT),
        ZNSClient(http, emu.zns_base_url, tokens, timeout=SHORT),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def error(result: object) -> ZaloError:
    assert isinstance(result, ZaloError), result
    return result


# ---- OA messages ------------------------------------------------------------------------------


async def test_reply_and_proactive_text(world: World) -> None:
    user = world.emu.add_user()
    post = await user.say("hello")
    msg_id = post.event["message"]["msg_id"]
    reply = await world.oa.send_text(user.user_id, "reply text", reply_to_msg_id=msg_id)
    assert isinstance(reply, Sent) and reply.quota_type == "reply"
    proactive = await world.oa.send_text(user.user_id, "later text")
    assert isinstance(proactive, Sent) and proactive.quota_type == "purchase_quota"
    delivered = await user.replies(count=2)
    assert [(m.message_id, m.kind, m.text) for m in delivered] == [
        (reply.message_id, "reply", "reply text"),
        (proactive.message_id, "proactive", "later text"),
    ]


async def test_buttons_are_query_hide_and_a_tap_comes_back_as_text(world: World, receiver: Receiver) -> None:
    user = world.emu.add_user()
    await user.say("menu")
    buttons = [(f"Item {i}", f"#a:item{i}") for i in range(5)]
    sent = await world.oa.send_buttons(user.user_id, "Pick one", buttons)
    assert isinstance(sent, Sent)
    (menu,) = await user.replies()
    assert menu.text == "Pick one" and menu.button_titles == [t for t, _ in buttons]
    assert {b.type for b in menu.buttons} == {"oa.query.hide"}
    await user.press("Item 3")
    tapped = receiver.events[-1]
    assert isinstance(tapped, TextMessage) and tapped.action_id == "item3" and tapped.sender_id == user.user_id


async def test_limits_are_refused_before_sending(world: World) -> None:
    user = world.emu.add_user()
    await user.say("hi")
    cases = [
        await world.oa.send_text(user.user_id, "x" * 2001),
        await world.oa.send_text(user.user_id, "  "),
        await world.oa.send_buttons(user.user_id, "Pick", [(f"B{i}", f"#a:{i}") for i in range(6)]),
        await world.oa.send_buttons(user.user_id, "Pick", [("t" * 101, "#a:x")]),
        await world.oa.send_buttons(user.user_id, "Pick", [("Title", "p" * 1001)]),
        await world.oa.upload_image(PNG + b"\0" * (1024 * 1024)),
        await world.oa.upload_image(PDF),
        await world.oa.upload_file(b"PK\x03\x04xlsx", "summary.xlsx"),
        await world.oa.upload_file(PDF + b"x" * (5 * 1024 * 1024), "big.pdf"),
    ]
    for result in cases:
        assert error(result).cls is ErrorClass.NEVER_RETRY and result.code == 0
    assert world.emu.requests["message/cs"] == 0
    assert world.emu.requests["upload/image"] == 0 and world.emu.requests["upload/file"] == 0
    # exactly at the limits: accepted by the emulator
    assert isinstance(await world.oa.send_text(user.user_id, "x" * 2000), Sent)
    exactly = PNG + b"\0" * (1024 * 1024 - len(PNG))
    assert isinstance(await world.oa.upload_image(exactly), Uploaded)


async def test_image_and_file_upload_then_send(world: World) -> None:
    user = world.emu.add_user()
    await user.say("chart please")
    image = await world.oa.upload_image(PNG)
    assert isinstance(image, Uploaded)
    assert world.emu.oa.uploads[image.ref].data == PNG
    assert isinstance(await world.oa.send_image(user.user_id, image.ref, text="Progress"), Sent)
    document = await world.oa.upload_file(PDF, "summary.pdf")
    assert isinstance(document, Uploaded)
    assert isinstance(await world.oa.send_file(user.user_id, document.ref), Sent)
    media, file = await user.replies(count=2)
    assert (media.attachment_type, media.attachment_ref, media.text) == ("media", image.ref, "Progress")
    assert (file.attachment_type, file.attachment_ref) == ("file", document.ref)
    unknown = await world.oa.send_image(user.user_id, "no-such-attachment")
    assert error(unknown).code == -201 and unknown.cls is ErrorClass.NEVER_RETRY


async def test_request_user_info_and_the_submitted_phone(world: World, receiver: Receiver) -> None:
    user = world.emu.add_user(phone="0912 345 678")
    await user.say("register")
    assert isinstance(await world.oa.request_user_info(user.user_id, "BHXH", "Share your phone", "https://x.invalid/a.png"), Sent)
    (form,) = await user.replies()
    assert form.attachment_type == "request_user_info"
    await user.submit_info()
    info = receiver.events[-1]
    assert isinstance(info, SubmitInfo) and info.phone == "84912345678" and info.sender_id == user.user_id


async def test_oa_error_classes(world: World) -> None:
    emu, oa = world.emu, world.oa
    user = emu.add_user()
    stranger = emu.add_user(follower=False)  # never interacted: −230
    await user.say("hi")
    unknown_user = error(await oa.send_text("0000", "x"))
    assert (unknown_user.code, unknown_user.cls) == (-201, ErrorClass.NEVER_RETRY)
    outside = error(await oa.send_text(stranger.user_id, "x"))
    assert (outside.code, outside.cls) == (-230, ErrorClass.OUTSIDE_WINDOW)
    emu.oa.proactive_left = 0
    no_quota = error(await oa.send_text(user.user_id, "x"))  # no message_id: proactive, none left
    assert (no_quota.code, no_quota.cls) == (-213, ErrorClass.OUTSIDE_WINDOW)
    emu.oa.proactive_left = 100
    for code, cls in ((289, ErrorClass.STOP_QUEUE), (10000, ErrorClass.RETRY_LATER), (-32, ErrorClass.RETRY_LATER),
                      (12008, ErrorClass.OUTSIDE_WINDOW), (-210, ErrorClass.NEVER_RETRY), (777, ErrorClass.NEVER_RETRY)):
        emu.fail_next("message/cs", "error", code=code)
        got = error(await oa.send_text(user.user_id, "x"))
        assert (got.code, got.cls) == (code, cls)
    emu.fail_next("message/cs", "5xx", status=502)
    bad_gateway = error(await oa.send_text(user.user_id, "x"))
    assert (bad_gateway.cls, bad_gateway.http_status) == (ErrorClass.UNKNOWN_OUTCOME, 502)
    emu.fail_next("upload/image", "error", code=-210)
    assert error(await oa.upload_image(PNG)).cls is ErrorClass.NEVER_RETRY
    assert emu.oa.delivered == []  # none of the above was delivered


async def test_503_is_retry_later(world: World) -> None:
    user = world.emu.add_user()
    await user.say("hi")
    world.emu.fail_next("message/cs", "5xx", status=503)
    got = error(await world.oa.send_text(user.user_id, "x"))
    assert (got.cls, got.http_status) == (ErrorClass.RETRY_LATER, 503)
    assert world.emu.oa.delivered == []


async def test_timeout_after_accept_is_unknown_outcome_and_not_resent(world: World) -> None:
    user = world.emu.add_user()
    await user.say("hi")
    world.emu.fail_next("message/cs", "timeout_after_accept", hold_seconds=2.0)
    got = error(await world.oa.send_text(user.user_id, "maybe sent"))
    assert got.cls is ErrorClass.UNKNOWN_OUTCOME and not got.sent_nothing
    assert world.emu.requests["message/cs"] == 1  # no automatic resend
    assert [m.text for m in world.emu.oa.delivered] == ["maybe sent"]  # it did go out
    # a hold that did nothing looks the same from here: the client cannot tell, so also unknown
    world.emu.fail_next("message/cs", "timeout", hold_seconds=2.0)
    assert error(await world.oa.send_text(user.user_id, "held")).cls is ErrorClass.UNKNOWN_OUTCOME
    assert world.emu.requests["message/cs"] == 2 and len(world.emu.oa.delivered) == 1


async def test_connection_refused_is_retry_later(world: World, http: httpx.AsyncClient) -> None:
    dead = OAClient(http, f"http://127.0.0.1:{free_port()}/openapi", world.tokens, timeout=SHORT)
    got = error(await dead.send_text("123", "x"))
    assert got.cls is ErrorClass.RETRY_LATER and got.sent_nothing
    zns = ZNSClient(http, f"http://127.0.0.1:{free_port()}/business", world.tokens, timeout=SHORT)
    assert error(await zns.send_template("0912000001", "T", {"a": "b"}, "t-1")).cls is ErrorClass.RETRY_LATER


# ---- ZNS ------------------------------------------------------------------------------------------


async def test_zns_send_normalises_the_phone_and_reads_the_quota(world: World, receiver: Receiver) -> None:
    emu = world.emu
    emu.add_template("T1", ["ho_ten", "ngay_het_han"])
    emu.add_phone("0912000001")
    sent = await world.zns.send_template("091.200.0001", "T1", {"ho_ten": "A", "ngay_het_han": "31/12/2026"}, "outbox-1")
    assert isinstance(sent, ZnsSent)
    assert (sent.remaining_quota, sent.daily_quota) == (499, 500)
    assert sent.sent_time_ms == int(world.clock.now().timestamp() * 1000)
    (message,) = emu.zns.sent
    assert (message.phone, message.tracking_id, message.msg_id) == ("84912000001", "outbox-1", sent.msg_id)
    await emu.wait_until(lambda: bool(receiver.events))
    receipt = receiver.events[-1]
    assert isinstance(receipt, ZnsReceipt) and (receipt.msg_id, receipt.tracking_id) == (sent.msg_id, "outbox-1")
    invalid = error(await world.zns.send_template("12345", "T1", {"ho_ten": "A", "ngay_het_han": "x"}, "outbox-2"))
    assert (invalid.code, invalid.cls) == (0, ErrorClass.NEVER_RETRY)
    assert emu.requests["message/template"] == 1  # the invalid phone never left


async def test_zns_daily_quota_runs_out(zclock: ManualClock, http: httpx.AsyncClient) -> None:
    async with ZaloEmulator(clock=zclock, limits=replace(LIMITS, zns_daily_quota=2)) as emu:
        tokens = manager(emu, http, zclock, seeded_store(emu, zclock))
        zns = ZNSClient(http, emu.zns_base_url, tokens, timeout=SHORT)
        emu.add_template("T", ["ho_ten"])
        emu.zns.any_phone_bound = True
        quotas = []
        for i in range(2):
            sent = await zns.send_template(f"091200000{i}", "T", {"ho_ten": "A"}, f"r{i}")
            assert isinstance(sent, ZnsSent)
            quotas.append((sent.remaining_quota, sent.daily_quota))
        assert quotas == [(1, 2), (0, 2)]
        full = error(await zns.send_template("0912000009", "T", {"ho_ten": "A"}, "r9"))
        assert (full.code, full.cls) == (-144, ErrorClass.STOP_QUEUE)
        zclock.set(datetime(2026, 12, 2, 8, 0, tzinfo=TZ))  # next day: the quota is back
        again = await zns.send_template("0912000009", "T", {"ho_ten": "A"}, "r9")
        assert isinstance(again, ZnsSent) and again.remaining_quota == 1


async def test_zns_error_classes(world: World, http: httpx.AsyncClient) -> None:
    emu, zns = world.emu, world.zns
    emu.add_template("T", ["ho_ten"])
    emu.add_template("PENDING", ["ho_ten"], status="pending")
    emu.add_template("OFF", ["ho_ten"], status="disabled")
    emu.add_template("ONE", ["ho_ten"], daily_quota=1)
    emu.add_phone("0912000001")
    emu.add_phone("0912000002", bound=False)
    emu.add_phone("0912000003", refused="type")
    emu.add_phone("0912000004", refused="oa")
    data = {"ho_ten": "A"}
    cases: list[tuple[tuple[str, str, dict[str, str]], int, ErrorClass]] = [
        (("0912000001", "NOPE", data), -109, ErrorClass.STOP_QUEUE),
        (("0912000001", "PENDING", data), -131, ErrorClass.STOP_QUEUE),
        (("0912000001", "OFF", data), -146, ErrorClass.STOP_QUEUE),
        (("0912000001", "T", {"wrong": "A"}), -112, ErrorClass.NEVER_RETRY),
        (("0912000002", "T", data), -118, ErrorClass.NEVER_RETRY),
        (("0912000003", "T", data), -139, ErrorClass.NEVER_RETRY),
        (("0912000004", "T", data), -141, ErrorClass.NEVER_RETRY),
    ]
    for (phone, template, values), code, cls in cases:
        got = error(await zns.send_template(phone, template, values, "row"))
        assert (got.code, got.cls) == (code, cls), template
    assert isinstance(await zns.send_template("0912000001", "ONE", data, "a"), ZnsSent)
    per_template = error(await zns.send_template("0912000001", "ONE", data, "b"))
    assert (per_template.code, per_template.cls) == (-147, ErrorClass.STOP_QUEUE)
    for code, cls in ((-115, ErrorClass.STOP_QUEUE), (-135, ErrorClass.STOP_QUEUE), (-114, ErrorClass.NEVER_RETRY)):
        emu.fail_next("message/template", "error", code=code)
        got = error(await zns.send_template("0912000001", "T", data, "c"))
        assert (got.code, got.cls) == (code, cls)
    dev = ZNSClient(http, emu.zns_base_url, world.tokens, development=True, timeout=SHORT)
    not_admin = error(await dev.send_template("0912000001", "T", data, "d"))
    assert (not_admin.code, not_admin.cls) == (-127, ErrorClass.NEVER_RETRY)
    world.clock.set(datetime(2026, 12, 1, 22, 30, tzinfo=TZ))
    night = error(await zns.send_template("0912000001", "T", data, "e"))
    assert (night.code, night.cls) == (-133, ErrorClass.RETRY_LATER)
    assert [m.tracking_id for m in emu.zns.sent] == ["a"]


async def test_zns_timeout_after_accept_is_unknown_and_the_receipt_settles_it(world: World, receiver: Receiver) -> None:
    emu = world.emu
    emu.add_template("T", ["ho_ten"])
    emu.add_phone("0912000001")
    emu.fail_next("message/template", "timeout_after_accept", hold_seconds=2.0)
    got = error(await world.zns.send_template("0912000001", "T", {"ho_ten": "A"}, "outbox-42"))
    assert got.cls is ErrorClass.UNKNOWN_OUTCOME
    assert emu.requests["message/template"] == 1 and len(emu.zns.sent) == 1
    await emu.wait_until(lambda: bool(receiver.events))
    receipt = receiver.events[-1]
    assert isinstance(receipt, ZnsReceipt) and receipt.tracking_id == "outbox-42"


async def test_zns_flat_receipt_bare_signature(zclock: ManualClock, receiver: Receiver, http: httpx.AsyncClient) -> None:
    async with ZaloEmulator(
        clock=zclock, webhook_url=receiver.url, limits=LIMITS, receipt_shape="flat", signature_style="bare"
    ) as emu:
        zns = ZNSClient(http, emu.zns_base_url, manager(emu, http, zclock, seeded_store(emu, zclock)), timeout=SHORT)
        emu.add_template("T", ["ho_ten"])
        emu.add_phone("0912000001")
        sent = await zns.send_template("0912000001", "T", {"ho_ten": "A"}, "flat-1")
        assert isinstance(sent, ZnsSent)
        await emu.wait_until(lambda: bool(receiver.events))
        assert isinstance(receiver.results[-1], Verified)
        receipt = receiver.events[-1]
        assert isinstance(receipt, ZnsReceipt) and (receipt.msg_id, receipt.tracking_id) == (sent.msg_id, "flat-1")


# ---- tokens -----------------------------------------------------------------------------------


async def test_expiry_on_the_clock_triggers_one_refresh_saved_before_use(world: World) -> None:
    emu, clock = world.emu, world.clock
    user = emu.add_user()
    await user.say("hi")
    old = world.store.state
    assert old is not None
    assert isinstance(await world.oa.send_text(user.user_id, "one"), Sent)
    assert emu.tokens.refreshes == 0
    clock.advance(timedelta(hours=24, minutes=45))  # 15 min left: not yet within the margin
    assert isinstance(await world.oa.send_text(user.user_id, "two"), Sent)
    assert emu.tokens.refreshes == 0
    clock.advance(timedelta(minutes=6))  # 9 min left: refresh first
    assert isinstance(await world.oa.send_text(user.user_id, "three"), Sent)
    assert isinstance(await world.oa.send_text(user.user_id, "four"), Sent)
    assert emu.tokens.refreshes == 1 and world.tokens.refresh_count == 1
    assert [r.code for r in emu.rejected] == []  # the old token was never refused: refreshed in time
    (saved,) = world.store.saves
    assert saved.refresh_token != old.refresh_token
    assert emu.tokens.current_refresh_tokens == [saved.refresh_token]
    assert emu.tokens.refresh_uses[old.refresh_token] == 1
    assert saved.access_expires_at == clock.now() + timedelta(seconds=90000)


async def test_fifty_concurrent_sends_across_expiry_refresh_once(world: World) -> None:
    emu = world.emu
    users = [emu.add_user(user_id=f"u{i}") for i in range(50)]
    for user in users:
        emu.oa.interact(user.user_id)  # each wrote to the OA (no webhook needed here)
    world.clock.advance(timedelta(hours=26))  # the access token is past its expiry everywhere
    results = await asyncio.gather(*(world.oa.send_text(u.user_id, "reminder") for u in users))
    assert all(isinstance(r, Sent) for r in results)
    assert emu.tokens.refreshes == 1 and emu.tokens.reused_refresh_tokens == []
    # Zalo expires a token the manager still believes valid: 50 sends refused at once, one refresh
    emu.tokens.expire_access()
    results = await asyncio.gather(*(world.oa.send_text(u.user_id, "again") for u in users))
    assert all(isinstance(r, Sent) for r in results)
    assert emu.tokens.refreshes == 2 and emu.tokens.reused_refresh_tokens == []
    assert [r.code for r in emu.rejected].count(-216) >= 1
    assert len(world.store.saves) == 2 and len(emu.oa.delivered) == 100


async def test_refused_token_twice_gives_refresh_token_class(world: World) -> None:
    user = world.emu.add_user()
    await user.say("hi")
    world.emu.fail_next("message/cs", "error", 2, code=-216)
    got = error(await world.oa.send_text(user.user_id, "x"))
    assert (got.code, got.cls) == (-216, ErrorClass.REFRESH_TOKEN)
    assert world.emu.tokens.refreshes == 1 and world.emu.requests["message/cs"] == 2
    # ZNS: −124 → refresh → sent once more
    world.emu.add_template("T", ["ho_ten"])
    world.emu.add_phone("0912000001")
    world.emu.tokens.expire_access()
    sent = await world.zns.send_template("0912000001", "T", {"ho_ten": "A"}, "t")
    assert isinstance(sent, ZnsSent) and world.emu.tokens.refreshes == 2
    assert [r.code for r in world.emu.rejected if r.endpoint == "message/template"] == [-124]


async def test_refused_refresh_stops_zalo_calls_and_tells_admins_once(
    emu: ZaloEmulator, http: httpx.AsyncClient, zclock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="handlers.zalo")
    notices: list[ReauthorisationNeeded] = []

    async def tell_admins(problem: ReauthorisationNeeded) -> None:
        notices.append(problem)

    store = seeded_store(emu, zclock)
    tokens = manager(emu, http, zclock, store, on_reauth_needed=tell_admins)
    oa = OAClient(http, emu.api_base_url, tokens, timeout=SHORT)
    user = emu.add_user()
    await user.say("hi")
    emu.tokens.revoke()
    zclock.advance(timedelta(hours=25))
    first = error(await oa.send_text(user.user_id, "x"))
    assert (first.code, first.cls) == (-118, ErrorClass.STOP_QUEUE)
    more = await asyncio.gather(*(oa.send_text(user.user_id, "x") for _ in range(10)))
    assert all(error(r).cls is ErrorClass.STOP_QUEUE for r in more)
    assert emu.requests["access_token"] == 1  # the dead token was presented once, never again
    assert emu.requests["message/cs"] == 0
    assert len(notices) == 1 and notices[0].code == -118
    assert "ZALO_REFRESH_TOKEN" in notices[0].guidance and "/v4/oa/permission" in notices[0].guidance
    assert tokens.reauthorisation_needed is notices[0]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "ZALO_REFRESH_TOKEN" in errors[0].getMessage()
    assert store.state is not None
    assert store.state.refresh_token not in caplog.text and store.state.access_token not in caplog.text
    with pytest.raises(ReauthorisationNeeded):
        await tokens.access_token()
    # the operator re-authorises: a fresh consent's refresh token brings the channel back
    await tokens.reauthorise(emu.issue_tokens().refresh_token)
    assert tokens.reauthorisation_needed is None
    assert isinstance(await oa.send_text(user.user_id, "back"), Sent)
    assert len(notices) == 1


async def test_reused_refresh_token_enters_reauth(emu: ZaloEmulator, http: httpx.AsyncClient, zclock: ManualClock) -> None:
    pair = emu.issue_tokens()
    # a second process with its own store spends the same refresh token first: the lockout a
    # single refresher prevents (two refreshers cannot share a single-use token)
    other = manager(emu, http, zclock, MemoryStore(), initial_refresh_token=pair.refresh_token)
    await other.access_token()
    tokens = manager(emu, http, zclock, MemoryStore(), initial_refresh_token=pair.refresh_token)
    with pytest.raises(ReauthorisationNeeded) as caught:
        await tokens.access_token()
    assert caught.value.code == -14014
    assert emu.tokens.refresh_uses[pair.refresh_token] == 2
    with pytest.raises(ReauthorisationNeeded):
        await tokens.access_token()
    assert emu.tokens.refresh_uses[pair.refresh_token] == 2


async def test_first_authorisation_from_the_configured_refresh_token(
    emu: ZaloEmulator, http: httpx.AsyncClient, zclock: ManualClock
) -> None:
    pair = emu.issue_tokens()
    store = MemoryStore()
    tokens = manager(emu, http, zclock, store, initial_refresh_token=pair.refresh_token)
    token = await tokens.access_token()
    assert store.state is not None and store.state.access_token == token
    assert emu.tokens.refresh_uses[pair.refresh_token] == 1
    # a restart reads the store, not the (spent) configured token
    again = manager(emu, http, zclock, store, initial_refresh_token=pair.refresh_token)
    assert await again.access_token() == token
    assert emu.tokens.refresh_uses[pair.refresh_token] == 1
    nothing = manager(emu, http, zclock, MemoryStore())
    with pytest.raises(ReauthorisationNeeded):
        await nothing.access_token()


async def test_a_failed_save_holds_the_new_token_back(world: World) -> None:
    emu = world.emu
    user = emu.add_user()
    await user.say("hi")
    world.clock.advance(timedelta(hours=25))
    world.store.fail = True
    held = error(await world.oa.send_text(user.user_id, "x"))
    assert held.cls is ErrorClass.RETRY_LATER and held.sent_nothing
    assert emu.tokens.refreshes == 1 and emu.requests["message/cs"] == 0  # new token not used
    again = error(await world.oa.send_text(user.user_id, "x"))
    assert again.cls is ErrorClass.RETRY_LATER
    assert emu.tokens.refreshes == 1 and emu.requests["access_token"] == 1  # no second refresh
    world.store.fail = False
    assert isinstance(await world.oa.send_text(user.user_id, "x"), Sent)
    assert emu.tokens.refreshes == 1
    (saved,) = world.store.saves
    assert emu.tokens.current_refresh_tokens == [saved.refresh_token]


async def test_transient_token_endpoint_failure_is_retry_later(world: World) -> None:
    emu = world.emu
    user = emu.add_user()
    await user.say("hi")
    world.clock.advance(timedelta(hours=25))
    emu.fail_next("access_token", "5xx", status=503)
    got = error(await world.oa.send_text(user.user_id, "x"))
    assert got.cls is ErrorClass.RETRY_LATER and world.tokens.reauthorisation_needed is None
    emu.fail_next("access_token", "error", code=10000)
    got = error(await world.oa.send_text(user.user_id, "x"))
    assert got.cls is ErrorClass.RETRY_LATER and world.tokens.reauthorisation_needed is None
    assert emu.requests["message/cs"] == 0
    assert isinstance(await world.oa.send_text(user.user_id, "x"), Sent)
    assert emu.tokens.refreshes == 1 and emu.requests["access_token"] == 3


# ---- webhook signatures of what the emulator sends -------------------------------------------


async def test_webhooks_verified_in_both_styles_and_retries_deduplicated(
    emu: ZaloEmulator, receiver: Receiver
) -> None:
    user = emu.add_user()
    mac = await user.say("hello")
    assert mac.headers["X-ZEvent-Signature"].startswith("mac=") and mac.status == 200
    emu.driver.signature_style = "bare"
    bare = await user.say("hello again")
    assert not bare.headers["X-ZEvent-Signature"].startswith("mac=") and bare.status == 200
    retry = await emu.driver.retry(bare, num_retry=1)
    follow = await user.follow()
    follow_retry = await emu.driver.retry(follow, num_retry=2)
    assert retry.status == follow_retry.status == 200
    await user.send_image()
    await user.send_sticker()
    await user.unfollow()
    assert receiver.duplicates == 2
    assert [type(e).__name__ for e in receiver.events] == [
        "TextMessage", "TextMessage", "Follow", "Unsupported", "Unsupported", "Unfollow"
    ]
    assert [e.sender_id for e in receiver.events] == [user.user_id] * 6
    assert all(isinstance(r, Verified) for r in receiver.results) and len(receiver.results) == 8


async def test_bad_missing_stale_and_future_webhooks_are_refused(emu: ZaloEmulator, receiver: Receiver, zclock: ManualClock) -> None:
    user = emu.add_user()
    bad = await user.say("forged", signature="bad")
    missing = await user.say("unsigned", signature="missing")
    stale = await emu.driver.post_stale(emu.driver.text_event(user.user_id, "old"))
    future = await emu.driver.post(emu.driver.text_event(user.user_id, "early"), at=zclock.now() + timedelta(minutes=6))
    assert [p.status for p in (bad, missing, stale, future)] == [401, 401, 401, 401]
    assert [p.answer for p in (bad, missing, stale, future)] == ["bad_signature", "missing_signature", "stale", "future"]
    assert receiver.events == []
    # the same event from another app id is refused although its signature is self-consistent
    other = ZaloEmulator(app_id="999", clock=zclock, webhook_url=receiver.url, limits=LIMITS)
    try:
        foreign = await other.driver.post(other.driver.text_event("u", "hi"))
        assert (foreign.status, foreign.answer) == (401, "app_id_mismatch")
    finally:
        await other.driver.close()
