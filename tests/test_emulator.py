"""The Bot API emulator, driven by the real PTB `Bot` and `Application` over HTTP.

If the emulator accepted what Telegram refuses (or refused what it accepts), every end-to-end
test built on it would be lying, so its rules are tested here against PTB's own client.
"""

from __future__ import annotations

import asyncio
import html
import json
import struct
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from devtools.telegram_emulator import (
    BotApiEmulator,
    Button,
    EmulatorLimits,
    NoSuchButton,
    parse_html,
    parse_markdown_v2,
    utf16_len,
    validate_html,
)

# PTB warns about its own RetryAfter.retry_after type change whenever it builds the message.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

TOKEN = "123456:EMULATOR-test"
UNLIMITED = EmulatorLimits(global_per_second=None, per_chat_interval=None)


def png_bytes(width: int = 3, height: int = 2) -> bytes:
    """A tiny valid PNG, so sendPhoto can report real dimensions."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def inline(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Inline keyboard from (label, callback_data) rows; data starting with http is a url."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, url=data)
                if data.startswith("http")
                else InlineKeyboardButton(label, callback_data=data)
                for label, data in row
            ]
            for row in rows
        ]
    )


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(token=TOKEN, limits=UNLIMITED)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


class FloodClock:
    """The emulator's monotonic clock for flood limits, moved by hand: a limit test then sits
    exactly where it means to in the window however slow the machine is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def flood_clock() -> FloodClock:
    return FloodClock()


@pytest.fixture
async def limited_emu(flood_clock: FloodClock) -> AsyncIterator[BotApiEmulator]:
    # Telegram's limits: 30/s overall, 1/s per chat; time stands still unless the test moves it.
    emulator = BotApiEmulator(token=TOKEN, monotonic=flood_clock)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def make_bot(emulator: BotApiEmulator, **request_kwargs: float) -> Bot:
    request = HTTPXRequest(**request_kwargs) if request_kwargs else None
    return Bot(TOKEN, base_url=emulator.base_url, base_file_url=emulator.base_file_url, request=request)


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with make_bot(emu) as b:
        yield b


async def raw_post(emulator: BotApiEmulator, path: str, **kwargs: object) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.post(emulator.api_base_url + path, **kwargs) as response:  # type: ignore[arg-type]
            return response.status, await response.json()


# ---- markup parsing ----------------------------------------------------------------------------


def test_validate_html_accepts_telegram_html_and_returns_visible_text() -> None:
    visible = validate_html("<b>Chào</b> <i>bạn</i> &lt;3 &amp; &quot;x&quot; &#65;&#x42;")
    assert visible == 'Chào bạn <3 & "x" AB'
    text, entities = parse_html(
        '😀 <b>đậm <i>nghiêng</i></b> <a href="https://x.vn/?a=1&amp;b=2">link</a>'
    )
    assert text == "😀 đậm nghiêng link"
    assert entities == [
        {"offset": 3, "length": 11, "type": "bold"},  # the emoji counts 2 UTF-16 units
        {"offset": 7, "length": 7, "type": "italic"},
        {"offset": 15, "length": 4, "type": "text_link", "url": "https://x.vn/?a=1&b=2"},
    ]
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><blockquote expandable>q</blockquote>'
    )
    assert text == "x = 1q"
    assert entities[0] == {"offset": 0, "length": 5, "type": "pre", "language": "python"}
    assert entities[1]["type"] == "expandable_blockquote"
    spoilers = '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><u>u</u><s>s</s>'
    assert validate_html(spoilers) == "stus"


@pytest.mark.parametrize(
    ("markup", "fragment"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b & c", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("dòng 1<br>dòng 2", 'Unsupported start tag "br"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("Tom & Jerry", "Character '&' at byte offset 4"),
        ("&nbsp;", "Character '&'"),
        ('<a href="x>y</a>', "Unclosed end of attribute value"),
        ("<b", "Unclosed start tag"),
    ],
)
def test_validate_html_rejects_like_telegram(markup: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="^Bad Request: can't parse entities: ") as info:
        validate_html(markup)
    assert fragment in str(info.value)


def test_markdown_v2_needs_escaping() -> None:
    assert parse_markdown_v2(r"*Giá* 1\.000đ \- _ok_")[0] == "Giá 1.000đ - ok"
    with pytest.raises(ValueError, match="Character '.' is reserved"):
        parse_markdown_v2("Giá 1.000đ")
    with pytest.raises(ValueError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*đậm")


def test_utf16_len() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("ố") == 1
    assert utf16_len("😀") == 2


# ---- HTTP surface --------------------------------------------------------------------------------


async def test_get_me_and_chat(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "bhxh_test_bot", True)
    emu.user(1001, first_name="An", last_name="Nguyễn")
    chat = await bot.get_chat(1001)
    assert (chat.id, chat.type, chat.first_name, chat.last_name) == (1001, "private", "An", "Nguyễn")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.get_chat(999)


async def test_unknown_method_wrong_token_and_json_bodies(emu: BotApiEmulator) -> None:
    emu.user(1001)
    status, body = await raw_post(emu, f"/bot{TOKEN}/noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await raw_post(emu, "/bot999:WRONG/getMe")
    assert (status, body["description"]) == (401, "Unauthorized")
    status, body = await raw_post(
        emu,
        f"/bot{TOKEN}/sendMessage",
        json={
            "chat_id": 1001,
            "text": "<b>hi</b>",
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        },
    )
    assert status == 200 and body["ok"]
    assert body["result"]["text"] == "hi" and body["result"]["entities"][0]["type"] == "bold"
    assert body["result"]["reply_markup"] == {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    # method names are case-insensitive on Telegram
    status, body = await raw_post(emu, f"/bot{TOKEN}/getme")
    assert status == 200 and body["result"]["username"] == "bhxh_test_bot"


async def test_send_message_validation(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(1001)
    cases = [
        (dict(text="<b>x", parse_mode="HTML"), "can't parse entities"),
        (dict(text="a < b & c", parse_mode="HTML"), "can't parse entities"),
        (dict(text="   "), "message text is empty"),
        (dict(text="<b> </b>", parse_mode="HTML"), "message text is empty"),
        (dict(text="x" * 4097), "message is too long"),
        (dict(text="😀" * 2049), "message is too long"),  # 4098 UTF-16 units
        (
            dict(text="ok", reply_markup=inline([("x", "ố" * 21 + "xx")])),
            "BUTTON_DATA_INVALID",  # 65 bytes in UTF-8
        ),
        (
            dict(text="ok", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x")]])),
            "Text buttons are unallowed in the inline keyboard",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(BadRequest, match="(?i)" + message):
            await bot.send_message(1001, **kwargs)  # type: ignore[arg-type]
    assert emu.sent == []
    assert [r.error_code for r in emu.rejected] == [400] * len(cases)
    assert emu.requests["sendMessage"] == len(cases)

    # the limits themselves are allowed
    await bot.send_message(1001, "x" * 4096)
    await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # markup doesn't count
    keyboard = inline([("x", "ố" * 21 + "x")])  # 64 bytes
    await bot.send_message(1001, "Tom &amp; Jerry &lt;3", parse_mode="HTML", reply_markup=keyboard)
    assert emu.sent[-1].plain_text == "Tom & Jerry <3"
    assert emu.sent[-1].buttons == [[Button("x", callback_data="ố" * 21 + "x")]]
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(555, "hi")


async def test_caption_limit_and_document_photo_round_trip(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(1001)
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_document(1001, document=b"abc", filename="a.txt", caption="c" * 1025)

    content = b"PK\x03\x04 fake xlsx \x00\xff" * 100
    message = await bot.send_document(
        1001, document=content, filename="danh sách.xlsx", caption="<b>Danh sách</b>", parse_mode="HTML"
    )
    assert message.document.file_name == "danh sách.xlsx"
    assert message.caption == "Danh sách"
    record = emu.sent[-1]
    assert record.method == "sendDocument"
    assert (record.file_name, record.file_bytes) == ("danh sách.xlsx", content)
    assert record.mime_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert record.plain_text == "Danh sách" and record.text == "<b>Danh sách</b>"

    picture = png_bytes(3, 2)
    photo_message = await bot.send_photo(1001, photo=picture, caption="Biểu đồ")
    assert (photo_message.photo[-1].width, photo_message.photo[-1].height) == (3, 2)
    assert emu.sent[-1].method == "sendPhoto" and emu.sent[-1].file_bytes == picture

    # the bot can fetch what it sent, and resend by file_id
    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    again = await bot.send_document(1001, document=message.document.file_id)
    assert again.document.file_id == message.document.file_id
    assert emu.sent[-1].file_bytes == content


async def test_user_document_reaches_the_bot_and_downloads(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(1001, first_name="An")
    content = "mã BHXH;họ tên\n0123456789;Nguyễn An\n".encode()
    await user.send_document("the_het_han.csv", content, caption="danh sách")
    [update] = await bot.get_updates()
    document = update.message.document
    assert document.file_name == "the_het_han.csv"
    assert (document.mime_type, document.file_size) == ("text/csv", len(content))
    assert update.message.caption == "danh sách"
    file = await bot.get_file(document)
    assert file.file_path.startswith(emu.base_file_url)
    assert bytes(await file.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_get_updates_offset_semantics(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(1001, first_name="An")
    for text in ("một", "hai", "ba"):
        await user.say(text)
    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["một", "hai", "ba"]
    assert [u.update_id for u in first] == sorted(u.update_id for u in first)
    # not confirmed yet: handed out again
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [u.update_id for u in first[:2]]
    # confirming with offset drops them for good
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    assert await bot.get_updates() == ()
    assert emu.pending_updates == 0
    await user.say("bốn")
    [fourth] = await bot.get_updates(offset=first[-1].update_id + 1)
    assert fourth.message.text == "bốn" and fourth.update_id == first[-1].update_id + 1
    # message ids grow per chat and the message objects deserialize completely
    assert fourth.message.message_id == 4
    assert fourth.message.from_user.first_name == "An" and fourth.message.chat.type == "private"


async def test_long_poll_wakes_up_and_newer_poll_ends_older(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(1001)
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=120))
    await emu.wait_until(lambda: emu.polls_waiting == 1)  # the poll is parked, empty-handed
    await user.say("xin chào")
    # Woken by the message: a poll that was not would sit out its 120 s (the generous guard
    # only stops a broken emulator from hanging the suite).
    [update] = await asyncio.wait_for(poll, timeout=60)
    assert update.message.text == "xin chào"
    # empty long poll honours the timeout (a lower bound: a busy machine only adds to it)
    started = loop.time()
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0.2) == ()  # type: ignore[arg-type]
    assert loop.time() - started >= 0.15
    # a second poller (another bot instance) terminates the first one with 409
    async with make_bot(emu) as other:
        waiting = asyncio.create_task(bot.get_updates(timeout=120))
        await emu.wait_until(lambda: emu.polls_waiting == 1)
        await other.get_updates(timeout=0)
        with pytest.raises(Conflict, match="(?i)terminated by other getUpdates request"):
            await waiting


async def test_edits_delete_and_callback_answers(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(1001)
    keyboard = inline([("3 tháng", "m:3"), ("Trang", "https://baohiemxahoi.gov.vn")])
    message = await bot.send_message(1001, "Chọn kỳ", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "Chọn kỳ", chat_id=1001, message_id=message.message_id, reply_markup=keyboard
        )
    # an edit without reply_markup drops the keyboard, as on Telegram
    edited = await bot.edit_message_text(
        "<i>Đã chọn</i>", chat_id=1001, message_id=message.message_id, parse_mode="HTML"
    )
    assert edited.text == "Đã chọn" and edited.reply_markup is None and edited.edit_date is not None
    [state] = emu.messages_for(1001)
    assert (state.plain_text, state.buttons, state.edited) == ("Đã chọn", [], True)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=1001, message_id=message.message_id)
    await bot.edit_message_reply_markup(chat_id=1001, message_id=message.message_id, reply_markup=keyboard)
    assert emu.messages_for(1001)[0].button_texts == ["3 tháng", "Trang"]
    assert [m.method for m in emu.sent] == ["sendMessage", "editMessageText", "editMessageReplyMarkup"]
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=1001, message_id=99)
    own = await user.say("tin của tôi")
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=1001, message_id=own)

    query_id = await user.press("3 tháng")
    [update] = [u for u in await bot.get_updates() if u.callback_query]
    query = update.callback_query
    assert (query.id, query.data, query.from_user.id) == (query_id, "m:3", 1001)
    assert query.message.message_id == message.message_id
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "m:3"
    assert await query.answer("Đã ghi nhận")
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await query.answer()
    assert emu.callback_answers[-1].text == "Đã ghi nhận"

    assert await bot.delete_message(1001, message.message_id)
    assert emu.messages_for(1001) == []
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(1001, message.message_id)


async def test_press_helpers(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(1001)
    with pytest.raises(NoSuchButton):
        await user.press_index(1)
    old = await bot.send_message(1001, "cũ", reply_markup=inline([("12 tháng (giảm)", "old")]))
    keyboard = inline([("3 tháng", "m:3"), ("6 tháng", "m:6")], [("Mở", "https://example.vn")])
    await bot.send_message(1001, "mới", reply_markup=keyboard)
    await user.press("6 tháng")
    await user.press("12 tháng")  # no exact label anywhere: contains, on the older message
    await user.press_index(1)
    await user.press_data(old.message_id, "forged:data")
    updates = await bot.get_updates()
    assert [u.callback_query.data for u in updates] == ["m:6", "old", "m:3", "forged:data"]
    assert updates[1].callback_query.message.message_id == old.message_id
    with pytest.raises(NoSuchButton, match="no inline button"):
        await user.press("24 tháng")
    with pytest.raises(NoSuchButton, match="no callback_data"):
        await user.press_index(3)
    with pytest.raises(NoSuchButton):
        await user.press_index(9)


async def test_contact_sharing(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(1001, first_name="An", phone="0912345678")
    await user.share_contact()
    await user.share_contact(phone="0987654321", own=False)
    await user.share_contact(phone="0977777777", own=False, contact_user_id=2002)
    own, forged, other = [u.message.contact for u in await bot.get_updates()]
    assert (own.phone_number, own.user_id) == ("0912345678", 1001)
    assert (forged.phone_number, forged.user_id) == ("0987654321", None)
    assert other.user_id == 2002


async def test_commands_chat_action_and_reply_keyboard(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(1001)
    assert await bot.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("bhyt", "Tính BHYT")])
    assert emu.commands == [
        {"command": "start", "description": "Bắt đầu"},
        {"command": "bhyt", "description": "Tính BHYT"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "bhyt"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == () and emu.commands == []

    assert await bot.send_chat_action(1001, "typing")
    assert emu.chat_actions == [(1001, "typing")]
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(1001, "dancing")

    markup = ReplyKeyboardMarkup([[KeyboardButton("Gửi số điện thoại", request_contact=True)]])
    message = await bot.send_message(1001, "Chia sẻ số", reply_markup=markup)
    assert message.reply_markup is None  # Telegram only echoes inline keyboards
    assert emu.sent[-1].keyboard == [[Button("Gửi số điện thoại", request_contact=True)]]
    assert emu.sent[-1].buttons == []


# ---- limits, blocks, faults ----------------------------------------------------------------------


async def test_per_chat_limit(limited_emu: BotApiEmulator, flood_clock: FloodClock) -> None:
    emu = limited_emu
    emu.user(1001)
    emu.user(1002)
    async with make_bot(emu) as bot:
        await bot.send_message(1001, "một")
        flood_clock.now += 0.5
        with pytest.raises(RetryAfter):
            await bot.send_message(1001, "hai")
        await bot.send_message(1002, "khác chat thì được")
    assert [m.plain_text for m in emu.sent] == ["một", "khác chat thì được"]
    [rejection] = emu.rejected
    assert (rejection.method, rejection.chat_id, rejection.error_code) == ("sendMessage", 1001, 429)
    assert rejection.description == "Too Many Requests: retry after 1"
    assert rejection.at == flood_clock.now
    status, body = await raw_post(emu, f"/bot{TOKEN}/sendMessage", data={"chat_id": "1001", "text": "ba"})
    assert status == 429 and body["parameters"]["retry_after"] >= 1 and body["error_code"] == 429
    flood_clock.now += 0.5  # a second after "một": the chat is free again
    status, body = await raw_post(emu, f"/bot{TOKEN}/sendMessage", data={"chat_id": "1001", "text": "bốn"})
    assert status == 200 and body["ok"] is True


async def test_global_limit(limited_emu: BotApiEmulator, flood_clock: FloodClock) -> None:
    emu = limited_emu
    for chat in range(1, 32):
        emu.user(chat)
    async with make_bot(emu) as bot:
        for chat in range(1, 31):  # 30 sends within one instant of the emulator's clock
            await bot.send_message(chat, "nhắc gia hạn")
        flood_clock.now += 0.9
        with pytest.raises(RetryAfter):
            await bot.send_message(31, "nhắc gia hạn")
        # edits and callback answers are not counted
        await bot.edit_message_text("đã sửa", chat_id=1, message_id=1)
        assert len([m for m in emu.sent if m.method == "sendMessage"]) == 30
        assert [r.error_code for r in emu.rejected] == [429]
        flood_clock.now += 0.1  # the window has moved past the first 30
        await bot.send_message(31, "nhắc gia hạn")
    assert len([m for m in emu.sent if m.method == "sendMessage"]) == 31


async def test_the_global_limit_counts_any_sliding_second_not_calendar_seconds(
    limited_emu: BotApiEmulator, flood_clock: FloodClock
) -> None:
    """20 messages at x.6 and 10 at y.1 are 30 within one sliding second although no calendar
    second holds more than 20: a 31st at y.2 is refused. Once the 20 are a full second old,
    there is room again. The counters say what the server saw."""
    emu = limited_emu
    for chat in range(1, 33):
        emu.user(chat)
    flood_clock.now = 1000.6
    async with make_bot(emu) as bot:
        for chat in range(1, 21):
            await bot.send_message(chat, "a")
        flood_clock.now = 1001.1
        for chat in range(21, 31):
            await bot.send_message(chat, "b")
        flood_clock.now = 1001.2
        with pytest.raises(RetryAfter):
            await bot.send_message(31, "c")
        flood_clock.now = 1001.6  # the 20 from 1000.6 have left the window (t - 1, t]
        await bot.send_message(31, "c")
        await bot.send_message(32, "d")
    stats = emu.stats
    assert (stats.sends, stats.flood_429, stats.injected_429) == (32, 1, 0)
    assert stats.max_per_sliding_second == 30
    assert [r.at for r in emu.rejected] == [1001.2]


async def test_network_delay_and_requests_in_flight() -> None:
    """With a round trip configured, a request is counted (and stamped) half a round trip
    after it left, and its answer comes back the other half later; requests overlap, and the
    emulator records how many were in flight at once. Lower bounds only."""
    limits = EmulatorLimits(global_per_second=None, per_chat_interval=None, network_delay=0.2)
    async with BotApiEmulator(token=TOKEN, limits=limits) as emu:
        for chat in range(1, 6):
            emu.user(chat)
        loop = asyncio.get_running_loop()
        async with make_bot(emu) as bot:
            before = loop.time()
            await asyncio.gather(*(bot.send_message(chat, "x") for chat in range(1, 6)))
            after = loop.time()
        assert len(emu.sent) == 5
        assert all(m.timestamp >= before + 0.1 - 1e-3 for m in emu.sent)
        assert after >= min(m.timestamp for m in emu.sent) + 0.1 - 1e-3
        assert emu.stats.max_in_flight >= 2 and emu.stats.in_flight == 0
        assert emu.stats.requests >= 5


def test_limits_default_to_telegram_counted_exactly() -> None:
    limits = EmulatorLimits()
    assert (limits.global_per_second, limits.per_chat_interval, limits.tolerance) == (30, 1.0, 0.0)
    assert (limits.network_delay, limits.network_jitter) == (0.0, 0.0)


async def test_rejected_sends_do_not_count(flood_clock: FloodClock) -> None:
    limits = EmulatorLimits(global_per_second=None, per_chat_interval=0.2, tolerance=0.0)
    async with BotApiEmulator(token=TOKEN, limits=limits, monotonic=flood_clock) as emu:
        emu.user(1001)
        async with make_bot(emu) as bot:
            await bot.send_message(1001, "một")
            flood_clock.now += 0.1
            with pytest.raises(RetryAfter):
                await bot.send_message(1001, "hai")
            flood_clock.now += 0.12  # 0.22 s after the first send, 0.12 s after the refused one
            await bot.send_message(1001, "ba")
        assert [m.plain_text for m in emu.sent] == ["một", "ba"]
        assert [m.timestamp for m in emu.sent] == [1000.0, pytest.approx(1000.22)]


async def test_blocked_user(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(1001)
    emu.block(1001)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(1001, "nhắc")
    emu.unblock(1001)
    await bot.send_message(1001, "nhắc")
    assert len(emu.sent) == 1 and emu.rejected[0].error_code == 403


async def test_fail_next_faults(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(1001)
    emu.user(1002)
    emu.fail_next("sendMessage", "429", retry_after=7)
    with pytest.raises(RetryAfter, match="(?i)7"):
        await bot.send_message(1001, "a")
    emu.fail_next("sendMessage", "500", count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="(?i)Internal Server Error"):
            await bot.send_message(1001, "a")
    emu.fail_next("sendMessage", "403", chat_id=1002)
    await bot.send_message(1001, "chat 1001 không bị ảnh hưởng")
    with pytest.raises(Forbidden):
        await bot.send_message(1002, "a")
    assert [m.plain_text for m in emu.sent] == ["chat 1001 không bị ảnh hưởng"]
    assert [r.error_code for r in emu.rejected] == [429, 500, 500, 403]
    assert emu.requests["sendMessage"] == 5


async def test_fail_next_timeout(emu: BotApiEmulator) -> None:
    emu.user(1001)
    # The held requests outlast the client's read timeout by far (the emulator releases them
    # when it stops), so the client times out however slow the machine is.
    async with make_bot(emu, read_timeout=0.5) as bot:
        emu.fail_next("sendMessage", "timeout", hold_seconds=60)
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "mất")
        assert emu.sent == []
        emu.fail_next("sendMessage", "timeout_after_send", hold_seconds=60)
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "đã gửi nhưng không có trả lời")
        assert [m.plain_text for m in emu.sent] == ["đã gửi nhưng không có trả lời"]
        await bot.send_message(1001, "bình thường")
    assert len(emu.sent) == 2


# ---- the real Application ----------------------------------------------------------------------


async def start_app(emu: BotApiEmulator, *handlers: object) -> Application:
    app = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    for handler in handlers:
        app.add_handler(handler)  # type: ignore[arg-type]
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)  # type: ignore[union-attr]
    return app


async def stop_app(app: Application) -> None:
    await app.updater.stop()  # type: ignore[union-attr]
    await app.stop()
    await app.shutdown()


async def test_application_command_button_and_document(emu: BotApiEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        name = html.escape(update.effective_user.first_name)
        keyboard = inline([("12 tháng", "months:12"), ("6 tháng", "months:6")])
        await update.message.reply_text(
            f"<b>Chào {name}</b> args={context.args}", parse_mode="HTML", reply_markup=keyboard
        )

    async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()
        await query.edit_message_text(f"Bạn chọn {query.data}")
        await query.message.reply_text("Cảm ơn")

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        file = await update.message.document.get_file()
        data = await file.download_as_bytearray()
        await update.message.reply_document(
            document=bytes(data).upper(), filename="ket_qua.txt", caption=f"{len(data)} byte"
        )

    app = await start_app(
        emu,
        CommandHandler("start", start),
        CallbackQueryHandler(chosen),
        MessageHandler(filters.Document.ALL, document),
    )
    try:
        user = emu.user(1001, first_name="An <3")
        reply = await user.ask("/start@bhxh_test_bot 3 người")
        assert reply.plain_text == "Chào An <3 args=['3', 'người']"
        assert reply.button_texts == ["12 tháng", "6 tháng"]
        await user.press("12 tháng")
        edit, thanks = await user.replies(count=2)
        assert (edit.method, edit.plain_text) == ("editMessageText", "Bạn chọn months:12")
        assert edit.buttons == []
        assert thanks.plain_text == "Cảm ơn"
        assert emu.callback_answers and emu.callback_answers[0].chat_id == 1001

        await user.send_document("ds.txt", b"abc")
        [result] = await user.replies()
        assert (result.method, result.file_name) == ("sendDocument", "ket_qua.txt")
        assert (result.file_bytes, result.plain_text) == (b"ABC", "3 byte")
        assert await user.settle(quiet=0.05) == []
        with pytest.raises(TimeoutError, match="expected 1 output"):
            await user.replies(timeout=0.1)
    finally:
        await stop_app(app)
    assert emu.rejected == []
    assert all(count == 1 for count in emu.updates_delivered.values())
    assert emu.pending_updates == 0  # the shutdown poll confirmed everything


async def test_restart_does_not_redeliver(emu: BotApiEmulator) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.message.text)
        await update.message.reply_text("ok")

    user = emu.user(1001)
    handler = MessageHandler(filters.TEXT, record)
    app = await start_app(emu, handler)
    try:
        await user.ask("một")
    finally:
        await stop_app(app)
    await user.say("hai")  # while the bot is down
    app = await start_app(emu, handler)
    try:
        [reply] = await user.replies()
        assert reply.plain_text == "ok"
    finally:
        await stop_app(app)
    assert seen == ["một", "hai"]
    assert emu.rejected == []


def test_emulator_records_are_plain_data() -> None:
    emulator = BotApiEmulator()
    with pytest.raises(RuntimeError):
        _ = emulator.api_base_url
    with pytest.raises(ValueError):
        emulator.fail_next("sendMessage", "boom")  # type: ignore[arg-type]
    assert json.dumps(emulator.commands) == "[]"
