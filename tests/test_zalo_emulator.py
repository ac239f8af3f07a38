"""The Zalo emulator over real HTTP: every limit, error code, token rule, quota and webhook.

Later Zalo tests run the real adapter against this emulator, so its answers must be right:
each test here calls it with a plain aiohttp client, as the adapter will, and checks the wire
answer. Webhooks go to a small receiving aiohttp server in the test, which verifies signatures
with its own hashlib computation (not the emulator's helper).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.domain.clock import ManualClock
from devtools.zalo import (
    NoSuchButton,
    ZaloEmulator,
    ZaloLimits,
    compute_signature,
    normalise_phone,
    pkce_challenge,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
APP_ID = "1846293017365428190"
OA_SECRET = "oa-secret-key"
APP_SECRET = "app-secret-key"
FAST = ZaloLimits(receipt_delay=0.01, webhook_retry_delays=(0.01, 0.02))
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
PDF = b"%PDF-1.4\n" + b"x" * 100


# ---- test plumbing ------------------------------------------------------------------------------


class Receiver:
    """The bot's webhook endpoint, reduced to recording what arrives and answering a status."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # answers for the next posts; then 200
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200, text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/zalo/oa", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/zalo/oa"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 3.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.posts) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - loop.time()))


def verify(headers: dict[str, str], body: bytes, secret: str = OA_SECRET) -> bool:
    """The receiving side's check, written independently of the emulator."""
    timestamp = json.loads(body)["timestamp"]
    expected = hashlib.sha256((APP_ID + body.decode() + timestamp + secret).encode()).hexdigest()
    got = headers.get("X-ZEvent-Signature", "")
    return got in (expected, "mac=" + expected)


@pytest.fixture
def zclock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 1, 10, 0, tzinfo=TZ))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


async def make_emu(clock: ManualClock, receiver: Receiver | None = None, **kwargs: Any) -> ZaloEmulator:
    kwargs.setdefault("limits", FAST)
    emu = ZaloEmulator(clock=clock, webhook_url=receiver.url if receiver else None, **kwargs)
    await emu.start()
    return emu


@pytest.fixture
async def emu(zclock: ManualClock, receiver: Receiver) -> AsyncIterator[ZaloEmulator]:
    e = await make_emu(zclock, receiver)
    try:
        yield e
    finally:
        await e.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_json(http: aiohttp.ClientSession, url: str, body: Any, token: str | None) -> dict[str, Any]:
    headers = {"access_token": token} if token is not None else {}
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status == 200
        return await response.json()


async def send(http: aiohttp.ClientSession, emu: ZaloEmulator, token: str, body: Any) -> dict[str, Any]:
    return await post_json(http, emu.api_base_url + "/v3.0/oa/message/cs", body, token)


async def zns(http: aiohttp.ClientSession, emu: ZaloEmulator, token: str, **body: Any) -> dict[str, Any]:
    return await post_json(http, emu.zns_base_url + "/message/template", body, token)


async def upload(
    http: aiohttp.ClientSession, emu: ZaloEmulator, token: str, kind: str, name: str, data: bytes
) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name)
    async with http.post(emu.api_base_url + f"/v2.0/oa/upload/{kind}", data=form, headers={"access_token": token}) as r:
        assert r.status == 200
        return await r.json()


async def token_call(http: aiohttp.ClientSession, emu: ZaloEmulator, secret: str = APP_SECRET, **form: str) -> dict[str, Any]:
    form.setdefault("app_id", APP_ID)
    async with http.post(emu.oauth_base_url + "/v4/oa/access_token", data=form, headers={"secret_key": secret}) as r:
        assert r.status == 200
        return await r.json()


def text_to(user_id: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    recipient: dict[str, Any] = {"user_id": user_id}
    if message_id is not None:
        recipient["message_id"] = message_id
    return {"recipient": recipient, "message": {"text": text}}


def buttons_to(user_id: str, buttons: list[dict[str, Any]], text: str = "Chọn một mục:") -> dict[str, Any]:
    return {
        "recipient": {"user_id": user_id},
        "message": {"text": text, "attachment": {"type": "template", "payload": {"buttons": buttons}}},
    }


def query(title: str, payload: str, kind: str = "oa.query.hide") -> dict[str, Any]:
    return {"title": title, "type": kind, "payload": payload}


# ---- signatures and the webhook driver ---------------------------------------------------------


def test_signature_matches_a_hand_computed_vector() -> None:
    body = '{"event_name":"user_send_text","timestamp":"1764558000000"}'
    # sha256 over the literal APP_ID + body + timestamp + OA secret, computed outside the emulator
    expected = "4710b3e1e21092d304f77dfd0467b43a7dc286fc42a14530e742e852e88c6877"
    assert hashlib.sha256((APP_ID + body + "1764558000000" + OA_SECRET).encode()).hexdigest() == expected
    assert compute_signature(APP_ID, body.encode(), "1764558000000", OA_SECRET) == expected
    assert compute_signature(APP_ID, body, "1764558000000", "app-secret-key") != expected


async def test_user_events_arrive_signed_both_styles(
    emu: ZaloEmulator, receiver: Receiver, zclock: ManualClock
) -> None:
    user = emu.add_user("Trần Thị Bình", phone="0912345678")
    post = await user.say("Xin chào")
    assert post.status == 200
    headers, body = receiver.posts[-1]
    assert body == post.body and verify(headers, body)
    assert headers["X-ZEvent-Signature"].startswith("mac=")
    event = json.loads(body)
    assert event["event_name"] == "user_send_text" and event["message"]["text"] == "Xin chào"
    assert event["sender"]["id"] == user.user_id and event["recipient"]["id"] == emu.oa_id
    assert event["timestamp"] == str(int(zclock.now().timestamp() * 1000))

    bare = await emu.driver.post(emu.driver.follow_event(user.user_id), style="bare")
    assert len(bare.headers["X-ZEvent-Signature"]) == 64 and verify(bare.headers, bare.body)
    assert json.loads(bare.body)["follower"] == {"id": user.user_id}


async def test_bad_missing_and_stale_signatures(emu: ZaloEmulator, receiver: Receiver, zclock: ManualClock) -> None:
    user = emu.add_user()
    bad = await user.say("giả mạo", signature="bad")
    assert "X-ZEvent-Signature" in bad.headers and not verify(bad.headers, bad.body)
    missing = await emu.driver.post(emu.driver.text_event(user.user_id, "không ký"), signature="missing")
    assert "X-ZEvent-Signature" not in missing.headers
    stale = await emu.driver.post_stale(emu.driver.text_event(user.user_id, "cũ"))
    assert verify(stale.headers, stale.body)  # correctly signed: only its age gives it away
    age_ms = int(zclock.now().timestamp() * 1000) - int(json.loads(stale.body)["timestamp"])
    assert age_ms > 5 * 60 * 1000
    assert len(receiver.posts) == 3


async def test_retries_resend_identical_bytes_with_num_retry(emu: ZaloEmulator, receiver: Receiver) -> None:
    user = emu.add_user()
    first = await user.say("Đăng ký BHYT")
    second = await emu.driver.retry(first, 1)
    third = await emu.driver.retry(first, 2)
    bodies = [b for _, b in receiver.posts]
    assert bodies == [first.body, first.body, first.body]
    sigs = [h["X-ZEvent-Signature"] for h, _ in receiver.posts]
    assert len(set(sigs)) == 1
    assert [h.get("num_retry") for h, _ in receiver.posts] == [None, "1", "2"]
    assert second.event_name == third.event_name == "user_send_text"


async def test_submit_info_image_sticker_and_unfollow_events(emu: ZaloEmulator, receiver: Receiver) -> None:
    user = emu.add_user("Lê Văn Cường")
    await user.submit_info(phone="+84 912 345 678", name="Lê Văn Cường", city="Hà Nội")
    await user.send_image()
    await user.send_sticker()
    await user.unfollow()
    events = [json.loads(b) for _, b in receiver.posts]
    assert [e["event_name"] for e in events] == ["user_submit_info", "user_send_image", "user_send_sticker", "unfollow"]
    assert events[0]["info"]["phone"] == "84912345678" and events[0]["info"]["city"] == "Hà Nội"
    assert events[1]["message"]["attachments"][0]["type"] == "image"
    assert events[2]["message"]["attachments"][0]["type"] == "sticker"
    assert all(verify(h, b) for h, b in receiver.posts)


# ---- OA messages ----------------------------------------------------------------------------------


async def test_text_limit_and_reply_vs_proactive(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    token = emu.issue_tokens().access_token
    user = emu.add_user()
    said = await user.say("Mức đóng BHYT?")
    msg_id = said.event["message"]["msg_id"]

    ok = await send(http, emu, token, text_to(user.user_id, "a" * 2000, msg_id))
    assert ok["error"] == 0 and ok["data"]["message_id"] and ok["data"]["quota"]["quota_type"] == "reply"
    too_long = await send(http, emu, token, text_to(user.user_id, "a" * 2001, msg_id))
    assert too_long["error"] == -210
    proactive = await send(http, emu, token, text_to(user.user_id, "Nhắc lịch"))
    assert proactive["data"]["quota"]["quota_type"] == "purchase_quota"

    replies = await user.replies(count=2)
    assert [m.kind for m in replies] == ["reply", "proactive"]
    assert replies[0].text == "a" * 2000
    assert emu.rejected[-1].code == -210


async def test_free_reply_allowance_and_windows(zclock: ManualClock, http: aiohttp.ClientSession) -> None:
    emu = await make_emu(zclock, limits=replace(FAST, proactive_allowance=1))
    try:
        token = emu.issue_tokens().access_token
        user = emu.add_user()
        emu.oa.interact(user.user_id, "m1")  # the person wrote (no webhook target needed here)
        kinds = []
        for i in range(9):
            answer = await send(http, emu, token, text_to(user.user_id, f"trả lời {i}", "m1"))
            kinds.append(answer["data"]["quota"]["quota_type"])
        assert kinds == ["reply"] * 8 + ["purchase_quota"]  # the 9th is proactive
        assert (await send(http, emu, token, text_to(user.user_id, "thêm", "m1")))["error"] == -213

        emu.oa.interact(user.user_id, "m2")  # writing again resets the allowance
        assert (await send(http, emu, token, text_to(user.user_id, "ok", "m2")))["error"] == 0
        zclock.advance(timedelta(hours=48, minutes=1))
        token = emu.issue_tokens().access_token  # the first one lived 25 h
        assert (await send(http, emu, token, text_to(user.user_id, "muộn", "m2")))["error"] == -213
        zclock.advance(timedelta(days=6))
        token = emu.issue_tokens().access_token
        assert (await send(http, emu, token, text_to(user.user_id, "quá muộn", "m2")))["error"] == -230

        stranger = emu.add_user()
        assert (await send(http, emu, token, text_to(stranger.user_id, "chào")))["error"] == -230
        assert (await send(http, emu, token, text_to("999", "chào")))["error"] == -201
        emu.oa.interact(stranger.user_id, "m3")
        emu.oa.users[stranger.user_id].unfollowed = True
        assert (await send(http, emu, token, text_to(stranger.user_id, "chào", "m3")))["error"] == -230
    finally:
        await emu.stop()


async def test_button_limits_and_press(emu: ZaloEmulator, http: aiohttp.ClientSession, receiver: Receiver) -> None:
    token = emu.issue_tokens().access_token
    user = emu.add_user()
    await user.say("menu")
    five = [query(f"Mục {i}", f"#a:item{i}") for i in range(5)]
    assert (await send(http, emu, token, buttons_to(user.user_id, five)))["error"] == 0
    bad_cases = [
        five + [query("Mục 6", "#a:item6")],
        [query("x" * 101, "#a:long")],
        [query("Dài", "p" * 1001)],
        [{"title": "Lạ", "type": "oa.callback", "payload": "x"}],
        [{"title": "Web", "type": "oa.open.url", "payload": {}}],
    ]
    for buttons in bad_cases:
        assert (await send(http, emu, token, buttons_to(user.user_id, buttons)))["error"] == -201
    mixed = [
        query("x" * 100, "p" * 1000, "oa.query.show"),
        {"title": "Trang BHXH", "type": "oa.open.url", "payload": {"url": "https://baohiemxahoi.gov.vn"}},
        {"title": "Gọi điểm thu", "type": "oa.open.phone", "payload": {"phone_code": "0241234567"}},
    ]
    assert (await send(http, emu, token, buttons_to(user.user_id, mixed)))["error"] == 0
    with_template_type = {
        "recipient": {"user_id": user.user_id},
        "message": {
            "attachment": {
                "type": "template",
                "payload": {"template_type": "button", "text": "Chọn:", "buttons": five[:2]},
            }
        },
    }
    assert (await send(http, emu, token, with_template_type))["error"] == 0

    menus = await user.replies(count=3)
    assert menus[0].button_titles == [f"Mục {i}" for i in range(5)]
    assert menus[2].text == "Chọn:"
    post = await user.press("Mục 1")
    assert json.loads(post.body)["message"]["text"] == "#a:item1"
    with pytest.raises(NoSuchButton):
        await user.press("Mục 4")  # the latest menu holds only two items


async def test_request_user_info_template(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    token = emu.issue_tokens().access_token
    user = emu.add_user()
    await user.say("đăng ký")

    def form(elements: list[dict[str, Any]]) -> dict[str, Any]:
        payload = {"template_type": "request_user_info", "elements": elements}
        return {"recipient": {"user_id": user.user_id}, "message": {"attachment": {"type": "template", "payload": payload}}}

    good = [{"title": "BHXH", "subtitle": "Chia sẻ số điện thoại", "image_url": "https://x.invalid/a.png"}]
    assert (await send(http, emu, token, form(good)))["error"] == 0
    assert (await send(http, emu, token, form([{"title": "BHXH"}])))["error"] == -201
    assert (await send(http, emu, token, form([]))) ["error"] == -201
    assert (await user.replies())[0].attachment_type == "request_user_info"


async def test_uploads_and_attachments(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    token = emu.issue_tokens().access_token
    user = emu.add_user()
    await user.say("gửi biểu đồ")

    image = await upload(http, emu, token, "image", "chart.png", PNG)
    attachment_id = image["data"]["attachment_id"]
    assert (await upload(http, emu, token, "image", "big.png", PNG + b"\0" * (1024 * 1024)))["error"] == -210
    assert (await upload(http, emu, token, "image", "chart.png", PDF))["data"] == {}  # not really a PNG
    file = await upload(http, emu, token, "file", "tom-tat.pdf", PDF)
    assert file["data"]["token"] == file["data"]["attachment_id"]
    assert (await upload(http, emu, token, "file", "tong-hop.xlsx", b"PK\x03\x04" + b"x" * 50)) == {
        "error": 0,
        "message": "Success",
        "data": {},
    }
    assert (await upload(http, emu, token, "file", "big.pdf", PDF + b"x" * (5 * 1024 * 1024)))["error"] == -210
    assert (await upload(http, emu, token, "file", "ok.docx", b"PK" + b"x" * 10))["data"]["token"]

    media = {"template_type": "media", "elements": [{"media_type": "image", "attachment_id": attachment_id}]}
    ok = await send(
        http, emu, token, {"recipient": {"user_id": user.user_id}, "message": {"attachment": {"type": "template", "payload": media}}}
    )
    assert ok["error"] == 0
    for key in ("token", "attachment_id"):
        body = {"recipient": {"user_id": user.user_id}, "message": {"attachment": {"type": "file", "payload": {key: file["data"]["token"]}}}}
        assert (await send(http, emu, token, body))["error"] == 0
    bare_image = {"type": "image", "payload": {"attachment_id": attachment_id}}
    assert (await send(http, emu, token, {"recipient": {"user_id": user.user_id}, "message": {"attachment": bare_image}}))["error"] == -201
    unknown_file = {"type": "file", "payload": {"token": "nope"}}
    assert (await send(http, emu, token, {"recipient": {"user_id": user.user_id}, "message": {"attachment": unknown_file}}))["error"] == -201
    delivered = await user.replies(count=3)
    assert [m.attachment_type for m in delivered] == ["media", "file", "file"]
    assert delivered[0].attachment_ref == attachment_id


# ---- tokens ---------------------------------------------------------------------------------------


async def test_access_token_expires_on_the_clock(emu: ZaloEmulator, http: aiohttp.ClientSession, zclock: ManualClock) -> None:
    pair = emu.issue_tokens()
    assert pair.expires_in == 90000
    user = emu.add_user()
    await user.say("hi")
    emu.add_template("T1", ["ho_ten"])
    emu.add_phone("0912345678")
    assert (await send(http, emu, pair.access_token, text_to(user.user_id, "ok")))["error"] == 0
    assert (await send(http, emu, None, text_to(user.user_id, "ok")))["error"] == -216  # type: ignore[arg-type]
    assert (await send(http, emu, "forged", text_to(user.user_id, "ok")))["error"] == -216
    zclock.advance(timedelta(seconds=89999))
    assert (await zns(http, emu, pair.access_token, phone="0912345678", template_id="T1", template_data={"ho_ten": "A"}))["error"] == 0
    zclock.advance(timedelta(seconds=1))
    assert (await send(http, emu, pair.access_token, text_to(user.user_id, "ok")))["error"] == -216
    assert (await zns(http, emu, pair.access_token, phone="0912345678", template_id="T1", template_data={"ho_ten": "A"}))["error"] == -124


async def test_refresh_tokens_are_single_use(emu: ZaloEmulator, http: aiohttp.ClientSession, zclock: ManualClock) -> None:
    first = emu.issue_tokens()
    answer = await token_call(http, emu, grant_type="refresh_token", refresh_token=first.refresh_token)
    assert answer["expires_in"] == "90000"
    assert answer["access_token"] != first.access_token and answer["refresh_token"] != first.refresh_token
    again = await token_call(http, emu, grant_type="refresh_token", refresh_token=first.refresh_token)
    assert again["error"] == -14014
    assert emu.tokens.refresh_uses[first.refresh_token] == 2 and emu.tokens.refreshes == 1
    assert emu.tokens.reused_refresh_tokens == [first.refresh_token]

    assert (await token_call(http, emu, secret="wrong", grant_type="refresh_token", refresh_token=answer["refresh_token"]))["error"] == -14001
    assert (await token_call(http, emu, grant_type="password"))["error"] == -14002
    emu.tokens.revoke(answer["refresh_token"])
    assert (await token_call(http, emu, grant_type="refresh_token", refresh_token=answer["refresh_token"]))["error"] == -118

    late = emu.issue_tokens()
    zclock.advance(timedelta(days=91))
    assert (await token_call(http, emu, grant_type="refresh_token", refresh_token=late.refresh_token))["error"] == -118


async def test_concurrent_refreshes_of_one_token_succeed_once(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    pair = emu.issue_tokens()
    answers = await asyncio.gather(
        *(token_call(http, emu, grant_type="refresh_token", refresh_token=pair.refresh_token) for _ in range(5))
    )
    assert sorted(a.get("error", 0) for a in answers) == [-14014] * 4 + [0]
    assert emu.tokens.refresh_uses[pair.refresh_token] == 5


async def test_authorization_code_with_pkce(emu: ZaloEmulator, http: aiohttp.ClientSession, zclock: ManualClock) -> None:
    verifier = "A" * 20 + "b" * 20 + "123"
    code = emu.tokens.authorization_code(pkce_challenge(verifier))
    assert (await token_call(http, emu, grant_type="authorization_code", code=code, code_verifier="wrong"))["error"] == -14019
    answer = await token_call(http, emu, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert answer["access_token"] and answer["refresh_token"]
    assert (await token_call(http, emu, grant_type="authorization_code", code=code, code_verifier=verifier))["error"] == -14019
    stale = emu.tokens.authorization_code()
    zclock.advance(timedelta(minutes=11))
    assert (await token_call(http, emu, grant_type="authorization_code", code=stale))["error"] == -14019


# ---- ZNS ------------------------------------------------------------------------------------------


def test_phone_normalisation() -> None:
    for raw in ("0912345678", "+84912345678", "84912345678", "912345678", "091 234 5678", "091.234.5678"):
        assert normalise_phone(raw) == "84912345678", raw
    for raw in ("12345", "0212345678", "+85912345678", "09123456789", "", "abc", None):
        assert normalise_phone(raw) is None, raw


async def test_zns_error_codes(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    token = emu.issue_tokens().access_token
    emu.add_template("NHAC_HAN", ["ho_ten", "ngay_het_han"], price=300)
    emu.add_template("CHO_DUYET", ["ho_ten"], status="pending")
    emu.add_template("TAT", ["ho_ten"], status="disabled")
    emu.add_phone("0912000001")
    emu.add_phone("0912000002", refused="type")
    emu.add_phone("0912000003", refused="oa")
    emu.add_phone("0912000004", bound=False)
    emu.add_phone("0912000005", admin=True)
    data = {"ho_ten": "Nguyễn Văn An", "ngay_het_han": "31/12/2026"}

    async def code(**body: Any) -> int:
        body.setdefault("template_id", "NHAC_HAN")
        body.setdefault("template_data", data)
        return (await zns(http, emu, token, **body))["error"]

    for phone in ("0912000001", "+84912000001", "84912000001"):
        assert await code(phone=phone) == 0
    assert await code(phone="01234") == -108
    assert await code(phone="0912999999") == -118  # not registered with Zalo
    assert await code(phone="0912000004") == -118
    assert await code(phone="0912000002") == -139
    assert await code(phone="0912000003") == -141
    assert await code(phone="0912000001", template_id="KHONG_CO") == -109
    assert await code(phone="0912000001", template_id="CHO_DUYET", template_data={"ho_ten": "A"}) == -131
    assert await code(phone="0912000001", template_id="TAT", template_data={"ho_ten": "A"}) == -146
    assert await code(phone="0912000001", template_data={"ho_ten": "A"}) == -112
    assert await code(phone="0912000001", template_data={**data, "thua": "x"}) == -112
    assert await code(phone="0912000001", template_data={**data, "ho_ten": ""}) == -112
    assert await code(phone="0912000001", mode="development") == -127
    assert await code(phone="0912000005", mode="development") == 0
    assert [m.phone for m in emu.zns.sent] == ["84912000001"] * 3 + ["84912000005"]
    assert emu.zns.sent[-1].development and emu.zns.remaining_today() == 500 - 3
    assert [r.code for r in emu.rejected if r.endpoint == "message/template"] == [
        -108, -118, -118, -139, -141, -109, -131, -146, -112, -112, -112, -127
    ]


async def test_zns_night_refusal_on_the_clock(emu: ZaloEmulator, http: aiohttp.ClientSession, zclock: ManualClock) -> None:
    token = emu.issue_tokens().access_token
    emu.add_template("T", ["ho_ten"])
    emu.add_phone("0912000001")
    results = {}
    for hour, minute in ((21, 59), (22, 0), (23, 30), (5, 59), (6, 0)):
        zclock.set(datetime(2026, 12, 2, hour, minute, tzinfo=TZ))
        token = emu.issue_tokens().access_token  # a token of the moment: only the hour differs
        answer = await zns(http, emu, token, phone="0912000001", template_id="T", template_data={"ho_ten": "A"})
        results[(hour, minute)] = answer["error"]
    assert results == {(21, 59): 0, (22, 0): -133, (23, 30): -133, (5, 59): -133, (6, 0): 0}
    # the night is Vietnam's, whatever zone the clock reports in
    zclock.set(datetime(2026, 12, 2, 15, 30, tzinfo=ZoneInfo("UTC")))  # 22:30 in Hà Nội
    token = emu.issue_tokens().access_token
    answer = await zns(http, emu, token, phone="0912000001", template_id="T", template_data={"ho_ten": "A"})
    assert answer["error"] == -133


async def test_zns_daily_quota(zclock: ManualClock, http: aiohttp.ClientSession) -> None:
    emu = await make_emu(zclock, limits=replace(FAST, zns_daily_quota=3))
    try:
        token = emu.issue_tokens().access_token
        emu.add_template("T", ["ho_ten"], daily_quota=None)
        emu.add_template("T2", ["ho_ten"], daily_quota=1)
        emu.zns.any_phone_bound = True
        answers = [
            await zns(http, emu, token, phone=f"09120000{i:02d}", template_id="T", template_data={"ho_ten": "A"})
            for i in range(4)
        ]
        assert [a["error"] for a in answers] == [0, 0, 0, -144]
        assert [a["data"]["quota"] for a in answers[:3]] == [
            {"dailyQuota": "3", "remainingQuota": "2"},
            {"dailyQuota": "3", "remainingQuota": "1"},
            {"dailyQuota": "3", "remainingQuota": "0"},
        ]
        zclock.set(datetime(2026, 12, 2, 0, 1, tzinfo=TZ))  # a new day, but still night
        assert (await zns(http, emu, token, phone="0912000001", template_id="T", template_data={"ho_ten": "A"}))["error"] == -133
        zclock.set(datetime(2026, 12, 2, 8, 0, tzinfo=TZ))
        assert (await zns(http, emu, token, phone="0912000001", template_id="T2", template_data={"ho_ten": "A"}))["error"] == 0
        assert (await zns(http, emu, token, phone="0912000002", template_id="T2", template_data={"ho_ten": "A"}))["error"] == -147
        assert emu.zns.remaining_today() == 2
    finally:
        await emu.stop()


async def test_zns_receipt_arrives_signed_with_tracking_id(
    emu: ZaloEmulator, receiver: Receiver, http: aiohttp.ClientSession, zclock: ManualClock
) -> None:
    token = emu.issue_tokens().access_token
    emu.add_template("T", ["ho_ten"])
    emu.add_phone("0912000001")
    answer = await zns(http, emu, token, phone="0912000001", template_id="T", template_data={"ho_ten": "A"}, tracking_id="outbox-42")
    assert answer["data"]["sent_time"] == str(int(zclock.now().timestamp() * 1000))
    await receiver.wait_for(1)
    assert len(receiver.posts) == 1
    headers, body = receiver.posts[0]
    assert verify(headers, body)
    event = json.loads(body)
    assert event["event_name"] == "user_received_message"
    assert event["message"]["msg_id"] == answer["data"]["msg_id"]
    assert event["message"]["tracking_id"] == "outbox-42"
    assert event["message"]["delivery_time"] == str(int(zclock.now().timestamp() * 1000))
    assert event["sender"] == {"id": emu.oa_id}
    assert "user_id_by_app" not in event  # ZNS receipts carry no Zalo UID


async def test_zns_receipt_flat_shape_and_retries(
    zclock: ManualClock, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    emu = await make_emu(zclock, receiver, receipt_shape="flat", signature_style="bare")
    try:
        token = emu.issue_tokens().access_token
        emu.add_template("T", ["ho_ten"])
        emu.add_phone("0912000001")
        receiver.statuses = [500, 503]  # the bot is down twice, then answers
        answer = await zns(http, emu, token, phone="0912000001", template_id="T", template_data={"ho_ten": "A"}, tracking_id="t-1")
        await receiver.wait_for(3)
        bodies = [b for _, b in receiver.posts]
        assert bodies[0] == bodies[1] == bodies[2]
        assert [h.get("num_retry") for h, _ in receiver.posts] == [None, "1", "2"]
        assert all(verify(h, b) and len(h["X-ZEvent-Signature"]) == 64 for h, b in receiver.posts)
        event = json.loads(bodies[0])
        assert event["msg_id"] == answer["data"]["msg_id"] and event["tracking_id"] == "t-1" and "delivery_time" in event
        await emu.wait_until(lambda: len(emu.receipts) == 3)
        assert [r.status for r in emu.receipts] == [500, 503, 200]
    finally:
        await emu.stop()


async def test_held_receipts_and_timeout_after_accept(
    zclock: ManualClock, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    emu = await make_emu(zclock, receiver, limits=replace(FAST, receipt_delay=None))
    try:
        token = emu.issue_tokens().access_token
        emu.add_template("T", ["ho_ten"])
        emu.add_phone("0912000001")
        emu.add_phone("0912000002", receives=False)  # switched off: accepted, never delivered
        assert (await zns(http, emu, token, phone="0912000002", template_id="T", template_data={"ho_ten": "B"}))["error"] == 0
        assert emu.pending_receipts == 0
        emu.fail_next("message/template", "timeout_after_accept", hold_seconds=1.0)
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(
                emu.zns_base_url + "/message/template",
                json={"phone": "0912000001", "template_id": "T", "template_data": {"ho_ten": "A"}, "tracking_id": "amb-1"},
                headers={"access_token": token},
                timeout=aiohttp.ClientTimeout(total=0.2),
            ) as response:
                await response.read()
        # the client never learned the msg_id, but Zalo sent it: the receipt tells
        assert [m.tracking_id for m in emu.zns.sent] == [None, "amb-1"]
        assert emu.zns.remaining_today() == 498 and emu.pending_receipts == 1
        assert receiver.posts == []
        await emu.release_receipts()
        event = json.loads(receiver.posts[0][1])
        assert event["message"]["tracking_id"] == "amb-1" and event["message"]["msg_id"] == emu.zns.sent[1].msg_id
        assert len(receiver.posts) == 1 and emu.pending_receipts == 0
    finally:
        await emu.stop()


async def test_injected_errors_5xx_and_plain_timeout(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    token = emu.issue_tokens().access_token
    emu.add_template("T", ["ho_ten"])
    emu.add_phone("0912000001")
    body = {"phone": "0912000001", "template_id": "T", "template_data": {"ho_ten": "A"}}
    emu.fail_next("message/template", "error", 2, code=-115)
    assert (await zns(http, emu, token, **body))["error"] == -115
    assert (await zns(http, emu, token, **body))["error"] == -115
    emu.fail_next("message/template", "5xx", status=503)
    async with http.post(emu.zns_base_url + "/message/template", json=body, headers={"access_token": token}) as r:
        assert r.status == 503
    emu.fail_next("message/template", "timeout", hold_seconds=0.3)
    async with http.post(emu.zns_base_url + "/message/template", json=body, headers={"access_token": token}) as r:
        assert r.status == 504
    assert emu.zns.sent == []  # nothing was accepted by the faults above
    assert (await zns(http, emu, token, **body))["error"] == 0
    emu.fail_next("access_token", "error", code=-14014)
    pair = emu.issue_tokens()
    assert (await token_call(http, emu, grant_type="refresh_token", refresh_token=pair.refresh_token))["error"] == -14014
    with pytest.raises(ValueError):
        emu.fail_next("message/nothing", "5xx")


async def test_rate_limit_per_second(zclock: ManualClock, http: aiohttp.ClientSession) -> None:
    emu = await make_emu(zclock, limits=replace(FAST, send_per_second=3, upload_per_second=1))
    try:
        token = emu.issue_tokens().access_token
        user = emu.add_user()
        emu.oa.interact(user.user_id, "m1")
        answers = await asyncio.gather(*(send(http, emu, token, text_to(user.user_id, f"{i}", "m1")) for i in range(5)))
        assert sorted(a["error"] for a in answers) == [-32, -32, 0, 0, 0]
        assert (await upload(http, emu, token, "image", "a.png", PNG))["error"] == 0
        assert (await upload(http, emu, token, "image", "b.png", PNG))["error"] == -32
        assert len(emu.oa.delivered) == 3
    finally:
        await emu.stop()


async def test_base_urls_are_distinct_hosts(emu: ZaloEmulator, http: aiohttp.ClientSession) -> None:
    token = emu.issue_tokens().access_token
    # the ZNS path under the API base is not served: a client joining URLs wrongly fails
    async with http.post(emu.api_base_url + "/message/template", json={}, headers={"access_token": token}) as r:
        assert r.status == 404
    for url in (emu.api_base_url, emu.oauth_base_url, emu.zns_base_url):
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/")


async def test_oa_receipts_when_subscribed(zclock: ManualClock, receiver: Receiver, http: aiohttp.ClientSession) -> None:
    emu = await make_emu(zclock, receiver, oa_receipts=True)
    try:
        token = emu.issue_tokens().access_token
        user = emu.add_user()
        await user.say("chào")
        answer = await send(http, emu, token, text_to(user.user_id, "Chào bạn"))
        await receiver.wait_for(2)
        headers, body = receiver.posts[1]
        event = json.loads(body)
        assert verify(headers, body) and event["event_name"] == "user_received_message"
        assert event["message"] == {"msg_ids": [answer["data"]["message_id"]]}  # no delivery_time: not ZNS
        assert event["recipient"] == {"id": user.user_id} and event["sender"] == {"id": emu.oa_id}
    finally:
        await emu.stop()
