"""The Zalo OA channel end to end over HTTP: the emulator's driver posts signed webhooks to the
real server, the worker drains the real inbox (a SQLite file; the signature, retry, order and
running-worker tests on PostgreSQL too), replies go to the emulator's OA API.

A small scripted conversation stands in for the conversation core at the one seam
(`Conversation = Callable[[Incoming], Awaitable[Sequence[Reply]]]`); everything else is real.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.chat.model import Command, ForeignContact, PhoneShared, Press, Text, Unsupported
from bot.domain.clock import ManualClock
from devtools.zalo import compute_signature
from handlers.http.app import build_http_app, serving
from handlers.zalo.tokens import TokenManager
from storage.sqlite.zalo_tokens import SqliteTokenStore
from tests.storage_engines import ENGINES
from tests.zalo_world import XLSX, ScriptedConversation, ZaloWorld, long_text, png_bytes, zalo_world

EMPTY = {"pending": 0, "working": 0, "done": 0, "failed": 0}


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ZaloWorld]:
    async with zalo_world(tmp_path, clock) as w:
        yield w


@pytest.fixture(params=ENGINES)
async def any_world(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> AsyncIterator[ZaloWorld]:
    """The world on each storage engine: the inbox, identities and token pair of several
    instances live in PostgreSQL, so what the channel promises must hold there too."""
    async with zalo_world(tmp_path, clock, engine=request.param) as w:
        yield w


async def _inbox_rows(world: ZaloWorld) -> list[dict[str, object]]:
    rows = await world.db.fetchall("SELECT * FROM inbox ORDER BY id")
    return [dict(row) for row in rows]


# ---- refused webhooks change nothing ---------------------------------------------------------


async def test_forged_missing_and_stale_signatures_are_refused_and_store_nothing(any_world: ZaloWorld) -> None:
    world = any_world
    user = world.emulator.add_user()
    forged = await user.say("xin chào", signature="bad")
    missing = await user.say("xin chào", signature="missing")
    stale = await world.emulator.driver.post_stale(world.emulator.driver.text_event(user.user_id, "xin chào"))
    bare_forged = await world.emulator.driver.post(
        world.emulator.driver.text_event(user.user_id, "xin chào"), signature="bad", style="bare"
    )
    assert [forged.status, missing.status, stale.status, bare_forged.status] == [401, 401, 401, 401]
    assert await world.counts() == EMPTY
    assert await world.drain() == 0
    assert world.conversation.received == [] and world.emulator.oa.delivered == []


async def test_a_future_timestamp_an_oversized_body_and_a_non_json_body_are_refused(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    future = await world.emulator.driver.post(
        world.emulator.driver.text_event(user.user_id, "xin chào"), at=world.clock.now() + timedelta(minutes=6)
    )
    assert future.status == 401
    body = b"not json"
    signature = "mac=" + compute_signature(world.emulator.app_id, body, "1", world.emulator.oa_secret_key)
    garbage = await world.http.post(world.webhook_url, content=body, headers={"X-ZEvent-Signature": signature})
    assert garbage.status_code == 400
    huge = await world.http.post(world.webhook_url, content=b"{" + b" " * 70_000 + b"}", headers={"X-ZEvent-Signature": signature})
    assert huge.status_code == 413
    assert await world.counts() == EMPTY


async def test_both_signature_styles_are_accepted(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    mac = await world.emulator.driver.post(world.emulator.driver.text_event(user.user_id, "một"), style="mac")
    bare = await world.emulator.driver.post(world.emulator.driver.text_event(user.user_id, "hai"), style="bare")
    assert (mac.status, bare.status) == (200, 200)
    assert (await world.counts())["pending"] == 2


# ---- once, in order ----------------------------------------------------------------------------


async def test_the_same_event_delivered_three_times_is_answered_once(any_world: ZaloWorld) -> None:
    world = any_world
    user = world.emulator.add_user()
    first = await user.say("xin chào")
    again = await world.emulator.driver.retry(first, 1)
    third = await world.emulator.driver.retry(first, 2)
    assert [first.status, again.status, third.status] == [200, 200, 200]
    assert await world.drain() == 1
    assert await world.drain() == 0
    replies = await user.replies()
    assert [m.text for m in replies] == ["Bạn viết: xin chào"]
    assert replies[0].kind == "reply"  # sent as a reply to the person's message: free
    assert user.inbox == replies
    assert len(world.conversation.received) == 1
    assert await world.counts() == {**EMPTY, "done": 1}
    # A retry arriving after the event was handled (its payload already cleared) is still known.
    late = await world.emulator.driver.retry(first, 3)
    assert late.status == 200 and await world.drain() == 0
    assert len(world.conversation.received) == 1 and user.inbox == replies


async def test_the_running_worker_answers_without_being_asked(any_world: ZaloWorld) -> None:
    world = any_world
    async with world.channel.running():
        user = world.emulator.add_user()
        await user.say("chào bot")
        replies = await user.replies(timeout=10)
    assert [m.text for m in replies] == ["Bạn viết: chào bot"]


async def test_a_5000_character_reply_arrives_as_messages_of_at_most_2000_in_order(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    await user.say("dài")
    await world.drain()
    messages = await user.replies()
    assert len(messages) == 3
    texts = [m.text or "" for m in messages]
    assert all(0 < len(text) <= 2000 for text in texts)
    # Cut at paragraph breaks: nothing lost, nothing reordered.
    assert "\n\n".join(texts) == long_text()
    assert all(text.startswith("Đoạn ") for text in texts)


async def test_an_8_button_menu_arrives_as_5_plus_3_and_a_press_comes_back_as_press(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    await user.say("menu")
    await world.drain()
    messages = await user.replies()
    assert [len(m.buttons) for m in messages] == [5, 3]
    assert messages[0].text == "Chọn một mục:" and messages[1].text == "Chọn tiếp:"
    buttons = [b for m in messages for b in m.buttons]
    assert [b.title for b in buttons] == [f"Lựa chọn {n}" for n in range(1, 9)]
    assert {b.type for b in buttons} == {"oa.query.hide"}
    assert [b.payload for b in buttons] == [f"#a:opt{n}" for n in range(1, 9)]
    await user.press("Lựa chọn 7")
    await world.drain()
    assert world.conversation.received[-1] == Press(world.conversation.received[0].person, "opt7")
    assert [m.text for m in await user.replies()] == ["Bạn chọn opt7"]


async def test_one_persons_events_are_handled_in_order(any_world: ZaloWorld) -> None:
    world = any_world
    user = world.emulator.add_user()
    for word in ("một", "hai", "ba", "bốn"):
        await user.say(word)
    other = world.emulator.add_user("Trần Thị Bình")
    await other.say("năm")
    await asyncio.gather(world.drain(), world.drain(), world.drain())
    mine = [e.text for e in world.conversation.received if isinstance(e, Text) and e.person.id == user.user_id]
    assert mine == ["một", "hai", "ba", "bốn"]
    assert [m.text for m in await user.replies(4)] == [f"Bạn viết: {w}" for w in ("một", "hai", "ba", "bốn")]


# ---- files ---------------------------------------------------------------------------------------


async def test_a_png_arrives_as_an_uploaded_image_and_an_xlsx_as_a_link_that_expires(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    await user.say("báo cáo")
    await world.drain()
    text, image, link = await user.replies(3)
    assert text.text == "Báo cáo hôm nay:"
    assert image.attachment_type == "media"
    upload = world.emulator.oa.uploads[image.attachment_ref or ""]
    assert upload.kind == "image" and upload.data == png_bytes()
    [button] = link.buttons
    assert button.type == "oa.open.url" and button.title.startswith("Tải Báo cáo tháng 11")
    url = button.payload["url"]
    assert url.startswith(world.server.base_url + "/files/")
    got = await world.http.get(url)
    assert got.status_code == 200 and got.content == XLSX
    assert got.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20th%C3%A1ng%2011.xlsx" in got.headers["content-disposition"]
    # Forged: another signature, or a later expiry with the old signature.
    file_id, expires, signature = url.rsplit("/", 1)[1].split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (f"{file_id}.{expires}.{flipped}", f"{file_id}.{int(expires) + 86400}.{signature}", "x", "../../etc"):
        refused = await world.http.get(f"{world.server.base_url}/files/{forged}")
        assert refused.status_code in (403, 404) and "xlsx" not in refused.text.lower()
        assert refused.text == "Liên kết tải tệp không hợp lệ." or refused.status_code == 404
    world.clock.advance(timedelta(hours=23, minutes=59))
    assert (await world.http.get(url)).content == XLSX
    world.clock.advance(timedelta(minutes=1))
    expired = await world.http.get(url)
    assert expired.status_code == 404 and expired.text.startswith("Liên kết tải tệp đã hết hạn")
    assert await world.links.purge_expired() == 1
    assert (await world.http.get(url)).status_code == 404


async def test_a_png_over_1_mb_is_scaled_down_and_uploaded(world: ZaloWorld) -> None:
    big = png_bytes((900, 900), noise=True)
    assert len(big) > 1024 * 1024
    user = world.emulator.add_user()
    await user.say("ảnh lớn")
    await world.drain()
    caption, image = await user.replies(2)
    assert caption.text == "Biểu đồ lớn:" and image.attachment_type == "media"
    upload = world.emulator.oa.uploads[image.attachment_ref or ""]
    assert upload.data.startswith(b"\x89PNG") and len(upload.data) <= 1024 * 1024
    assert world.emulator.rejected == []


# ---- what a person sends becomes the right Incoming --------------------------------------------


async def test_commands_phone_forms_and_unsupported_kinds(world: ZaloWorld) -> None:
    user = world.emulator.add_user(phone="0912345678")
    await user.say("/giabhyt 3  12")
    await user.say("số")
    await world.drain()
    replies = await user.replies(3)
    assert replies[0].text == "Lệnh giabhyt 3 12"
    assert replies[2].attachment_type == "request_user_info"
    await user.submit_info()
    await user.say("0912345678")  # a typed number is only text
    await user.send_sticker()
    await user.follow()
    await world.drain()
    assert len(await user.replies(4)) == 4
    await user.unfollow()
    await world.drain()
    person = world.conversation.received[0].person
    assert world.conversation.received == [
        Command(person, "giabhyt", ("3", "12")),
        Text(person, "số"),
        PhoneShared(person, "84912345678"),
        Text(person, "0912345678"),
        Unsupported(person, "sticker"),
        Command(person, "start"),
    ]
    assert await world.counts() == {**EMPTY, "done": 7}  # the unfollow is recorded, not answered
    assert user.inbox[-1].text == "Lệnh start"


async def test_a_submission_about_another_user_is_not_a_shared_phone(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    event = world.emulator.driver.submit_info_event(user.user_id, "84912345678", "An")
    event["user_id_by_app"] = "1234567890123456789"
    assert (await world.emulator.driver.post(event)).status == 200
    await world.drain()
    assert world.conversation.received == [ForeignContact(world.conversation.received[0].person)]


async def test_a_submitted_phone_never_reaches_the_log_and_leaves_the_inbox_once_done(
    world: ZaloWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # Our own code at DEBUG; libraries stay at the floors bot.logsafety holds them to in
    # production (aiosqlite would print SQL parameters at DEBUG).
    for name in ("handlers", "storage", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    user = world.emulator.add_user(phone="0987654321")
    await user.submit_info()
    await world.drain()
    await user.replies()
    assert world.conversation.received[-1] == PhoneShared(world.conversation.received[-1].person, "84987654321")
    logged = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records)
    assert "987654321" not in logged
    [row] = await _inbox_rows(world)
    assert row["state"] == "done" and row["payload"] is None
    assert "987654321" not in repr(row)


# ---- leases and failures -----------------------------------------------------------------------


async def test_a_worker_killed_mid_event_is_taken_over_after_its_lease(tmp_path: Path, clock: ManualClock) -> None:
    conversation = ScriptedConversation(block=asyncio.Event())
    options = {"lease": timedelta(minutes=2)}
    async with zalo_world(tmp_path, clock, conversation=conversation, worker_options=options) as world:
        user = world.emulator.add_user()
        await user.say("chậm")
        await user.say("sau đó")
        doomed = asyncio.create_task(world.channel.worker.run_once())
        while not conversation.received:
            await asyncio.sleep(0.01)
        assert (await world.counts())["working"] == 1
        doomed.cancel()  # the worker dies holding the lease
        await asyncio.gather(doomed, return_exceptions=True)
        conversation.block.set()  # type: ignore[union-attr]
        # The lease is still live: nobody takes the event, nor the same person's next one.
        assert await world.drain() == 0
        assert user.inbox == []
        world.clock.advance(timedelta(minutes=2, seconds=1))
        assert await world.drain() == 2
        assert [m.text for m in await user.replies(2)] == ["Bạn viết: chậm", "Bạn viết: sau đó"]
        rows = await _inbox_rows(world)
        assert [(r["state"], r["attempts"]) for r in rows] == [("done", 2), ("done", 1)]


async def test_a_failing_conversation_is_retried_then_marked_failed_and_the_person_moves_on(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = ScriptedConversation(raise_on="hỏng")
    options = {"max_attempts": 2, "retry_backoff": timedelta(seconds=30)}
    async with zalo_world(tmp_path, clock, conversation=conversation, worker_options=options) as world:
        user = world.emulator.add_user()
        await user.say("hỏng")
        await user.say("tiếp")
        assert await world.drain() == 1  # tried once; the next event waits behind it
        assert user.inbox == []
        world.clock.advance(timedelta(seconds=31))
        assert await world.drain() == 2  # second try fails for good; the next one goes
        assert [m.text for m in await user.replies()] == ["Bạn viết: tiếp"]
        rows = await _inbox_rows(world)
        assert [(r["state"], r["attempts"], r["error"]) for r in rows] == [
            ("failed", 2, "handling raised RuntimeError"),
            ("done", 1, None),
        ]
    assert "0912345678" not in caplog.text and "RuntimeError" in caplog.text


async def test_a_refused_send_is_recorded_and_never_resent(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    world.emulator.fail_next("message/cs", "error", code=-230)
    await user.say("xin chào")
    assert await world.drain() == 1
    assert await world.drain() == 0
    [row] = await _inbox_rows(world)
    assert row["state"] == "done" and str(row["error"]).startswith("outside_window")
    assert user.inbox == []


# ---- server, tokens --------------------------------------------------------------------------


async def test_healthz_and_duplicate_routes(world: ZaloWorld) -> None:
    answer = await world.http.get(world.server.base_url + "/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")
    with pytest.raises(ValueError, match="two routes"):
        build_http_app(world.channel.routes(), world.channel.routes())
    async with serving(build_http_app(), "127.0.0.1", 0) as other:
        assert (await world.http.get(other.base_url + "/healthz")).status_code == 200
    with pytest.raises(httpx.ConnectError):
        await world.http.get(other.base_url + "/healthz")


async def test_the_new_refresh_token_is_stored_before_use_and_survives_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_path = tmp_path / "bot.sqlite3"
    async with zalo_world(tmp_path, clock, db_path=db_path) as world:
        user = world.emulator.add_user()
        await user.say("xin chào")
        await world.drain()
        await user.replies()
        row = await world.db.fetchone("SELECT refresh_token, access_token FROM zalo_tokens")
        assert row is not None
        assert row["refresh_token"] in world.emulator.tokens.current_refresh_tokens
        assert world.emulator.tokens.access_valid(row["access_token"])
        seed = world.settings.zalo_refresh_token
        assert seed is not None and row["refresh_token"] != seed
        assert world.emulator.tokens.refresh_uses[seed] == 1
        assert world.channel.tokens.refresh_count == 1
        # A restart: a new manager on the same database uses the stored pair, no refresh.
        assert world.settings.zalo_app_id is not None
        store = SqliteTokenStore(world.db, world.settings.zalo_app_id, clock, seed=seed)
        restarted = TokenManager(
            world.http,
            oauth_base_url=world.settings.zalo_oauth_base_url,
            app_id=world.settings.zalo_app_id,
            app_secret=world.settings.zalo_app_secret or "",
            store=store,
            clock=clock,
            initial_refresh_token=seed,
        )
        assert await restarted.access_token() == row["access_token"]
        assert restarted.refresh_count == 0 and world.emulator.tokens.reused_refresh_tokens == []
        # The operator re-authorised and set a new ZALO_REFRESH_TOKEN: the stored pair is ignored.
        assert await SqliteTokenStore(world.db, world.settings.zalo_app_id, clock, seed="new-seed").load() is None
        assert await SqliteTokenStore(world.db, "another-app", clock, seed=seed).load() is None


async def test_raw_event_body_is_stored_exactly_and_signed_on_those_bytes(world: ZaloWorld) -> None:
    user = world.emulator.add_user()
    post = await user.say("xin chào")
    [row] = await _inbox_rows(world)
    assert row["payload"] == post.body.decode("utf-8")
    assert row["event_key"] == f"user_send_text:{json.loads(post.body)['message']['msg_id']}"
    assert row["person_id"] == user.user_id and row["kind"] == "user_send_text"


async def test_every_event_reaches_the_on_event_hook_receipts_and_unfollows_included(
    tmp_path: Path, clock: ManualClock
) -> None:
    seen: list[str] = []

    async def record(event: object) -> None:
        seen.append(getattr(event, "event_name", "?"))

    async with zalo_world(tmp_path, clock, worker_options={"on_event": record}) as world:
        user = world.emulator.add_user()
        await user.follow()
        await user.say("xin chào")
        await user.unfollow()
        receipt = world.emulator.driver.oa_received_event(user.user_id, ["m1", "m2"])
        assert (await world.emulator.driver.post(receipt)).status == 200
        assert await world.drain() == 4
    assert seen == ["follow", "user_send_text", "unfollow", "user_received_message"]
    assert [type(e).__name__ for e in world.conversation.received] == ["Command", "Text"]


async def test_housekeeping_deletes_expired_files_and_week_old_events_only(world: ZaloWorld) -> None:
    """`run` tidies every hour: files of expired links and events handled over a week ago go;
    a live link, a recent event and an unhandled one stay (handlers/zalo/channel.tidy_once)."""
    from handlers.zalo.channel import KEEP_HANDLED, tidy_once

    user = world.emulator.add_user()
    await user.say("báo cáo")
    await world.drain()
    *_, link = await user.replies(3)
    url = link.buttons[0].payload["url"]
    assert await tidy_once(world.links, world.inbox, world.clock) == (0, 0)  # nothing old yet
    world.clock.advance(KEEP_HANDLED + timedelta(minutes=1))
    await user.say("mới")  # handled now: kept
    await world.drain()
    pending = world.emulator.add_user()
    await pending.say("chưa xử lý")  # stored, not handled: kept whatever its age
    before = await world.counts()
    assert await tidy_once(world.links, world.inbox, world.clock) == (1, 1)
    after = await world.counts()
    assert after["done"] == before["done"] - 1 and after.get("pending", 0) == before.get("pending", 0) == 1
    assert (await world.http.get(url)).status_code == 404
