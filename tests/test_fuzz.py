"""Hostile input through the real bot: ten thousand updates, every role, no crash.

Random Unicode (digits of other scripts, right-to-left marks, zero-width spaces, emoji), huge
(4096 characters) and HTML/markup text, every command with hostile arguments, forged callback
payloads of every prefix (20-digit numbers, Unicode digits, markup, empty parts), contacts (own
and forged, with odd numbers) and documents (garbage bytes under list names) are sent by
citizens, agents, team leaders, officials and an admin, concurrently, through the emulator to
the Application built by the production factory. The seed is fixed, so a failure replays.

Asserted: no ERROR log record (so no traceback from a handler), no reply is the apology, every
message got at least one reply and every button press was answered. The bot-side rate limiter
is off and the emulator's flood limits are relaxed: this is about input, not about pacing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat.commands import BUTTON_ROLES, COMMAND_ROLES
from bot.chat.texts import cost as replies
from bot.domain.clock import ManualClock
from bot.services import Services
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator, EmulatedUser, EmulatorLimits
from handlers.telegram.app import SERVICES_KEY, build_application, running
from tests.agent_world import PEOPLE, seed_world
from tests.conftest import ADMIN_ID, DEFAULT_NOW, TOKEN
from tests.test_button_roles import answered

SEED = 20261123
UPDATES = int(__import__("os").environ.get("FUZZ_UPDATES", "10000"))
USERS = 40  # concurrent chats; the updates are shared among them

HUGE_NUMBER = "9" * 20
UNICODE_DIGITS = "²³¹①②③④⑩٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९০১২৩৪৫৬৭৮৯０１２３４５６７８９𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟘𝟙๑๒๓"
ODD = "\u200b\u200e\u200f\u202e\ufeff\u0301\u0300\u0323\x00\x7f\t\r\n\u2028"
MARKUP = [
    "<b>", "</b>", "<i>x</i>", "<code>", "</code>", "<pre>", "&amp;", "&lt;", "&#0;", "&", "<",
    "<a href='javascript:alert(1)'>x</a>", "<script>", "]]>", "{{7*7}}", "%s%n", "'; DROP TABLE units;--",
    "=HYPERLINK(\"http://x\")", "@cmd", "#1", "`", "*_~|", "\\", "\"",
]
WORDS = [
    "bhyt", "bhxh", "hộ gia đình", "tự nguyện", "người", "tháng", "năm", "triệu", "tr", "k", "đ",
    "cận nghèo", "học sinh", "xin chào", "thẻ", "mã", "CL01", "CL", "CL02", "TO1", "agent", "tổ trưởng",
    "cán bộ", "bat", "tat", "tuan", "0912345678", "8423001234", "079123456789", "-1", "0", "00",
    "1e9", "nan", "inf", "1,5", "1.500.000", "3/2026", "13/2026", "02/1999", "31/02/2026", "01/01/0001",
]
ARG_PIECES = [
    "", " ", "²", "①②", "١٢", "１２", HUGE_NUMBER, "9" * 400, "-5", "+7", "0", "#0", "#" + HUGE_NUMBER,
    "<b>x</b>", "&", "CL01", "cl01", "CL99", "../../etc", "a" * 300, "tuan bat", "bat", "tat",
    "12/2026", "²/2026", "1/١٢٣٤", "0/2026", "13/2026", "agent", "to_truong", "official", "admin",
    "01/11/2026 30/11/2026", "CL01 01/11/2026 ①/11/2026", "Nhóm 1", "\u202e", "😀" * 50,
]
CALLBACK_PIECES = [
    "", "0", "1", "2", "12", HUGE_NUMBER, "²", "①②", "١٢", "-1", "a", "o", "t", "h", "s", "v", "y",
    "p", "r", "x", "X", "k", "w", "ok", "ed", "e", "m", "u", "CL01", "CL", "CL99", "<b>", "&", "-",
    "stop", "on", "cards", "cost", "done", "undo", "hgd", "tn", "help", "bhyt", "name", "code", "reason",
]


# The shapes of real payloads, with a hostile value in the numeric or code slot.
HOSTILE = ["²", "①②", "١٢", "１２", "𝟏𝟐", HUGE_NUMBER, "9" * 30, "-1", "0", "", "<b>1</b>", "&", "1 2", "#²"]
PAYLOAD_SHAPES = [
    "tv|v|{}", "tv|x|{}", "tv|X|{}", "tv|r|{}|o", "tv|p|CL01|{}", "tv|p|{}|0", "dv|{}", "bp|{}",
    "iv|r|{}", "iv|u|a|{}", "iv|t|a|CL01|{}", "iv|m|a|CL01|0|{}", "iv|m|a|CL01|{}|0", "iv|t|o|{}|0",
    "eh:w:{}", "g:m:{}", "g:p:{}", "g:i:{}", "g:s:{}", "g:r:{}", "g:e:{}", "rc:m:{}",
    "q1|h|{}|12||||", "q1|h|2|{}||||", "q1|v|||{}|khac|", "q1|h|2|12|||{}", "q1|s|||||{}", "m:{}",
]
NUMERIC_COMMANDS = [
    "huyghi", "xuat", "suatv", "xoatv", "baocao", "moi", "donvi", "thanhvien", "baophu",
    "bangxephang", "thidua", "tomtat", "thamgia", "ghi", "bhyt", "bhxh", "huy", "danhsach",
]
# Partial /ghi lines that leave the draft at a question a hostile button or answer then meets.
FLOW_OPENERS = [
    "/ghi bhyt Nguyễn Văn An 8423001234",  # months asked
    "/ghi bhxh Trần Thị Bình 8423005678 12 tháng",  # group or income asked
    "/ghi bhyt Lê Văn Cúc 8423001299 12 tháng",  # position asked
    "/ghi",  # scheme asked
    "/ghi bhyt",  # name asked
    "/ghi bhyt Nguyễn Văn An",  # code asked
    "/ghi bhyt Nguyễn Văn An 8423001234 12 tháng người thứ 1 thu 5000",  # reason asked
]


def targeted_command(rng: random.Random) -> str:
    name = rng.choice(NUMERIC_COMMANDS)
    args = [rng.choice(HOSTILE)] + [rng.choice(HOSTILE + WORDS) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.5:  # a plausible tail (a reason, a unit), so the hostile slot is read
        args.append(rng.choice(["gõ nhầm mã người tham gia", "CL01", "01/11/2026 30/11/2026", "agent"]))
    return f"/{name} {' '.join(args)}".rstrip()


def targeted_payload(rng: random.Random) -> str:
    return rng.choice(PAYLOAD_SHAPES).format(rng.choice(HOSTILE))


def random_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:  # random code points across the planes (surrogates excluded)
        points = [rng.choice((rng.randrange(0x20, 0x2FF), rng.randrange(0x300, 0xD7FF), rng.randrange(0xE000, 0x10FFFF))) for _ in range(rng.randint(1, 60))]
        return "".join(chr(p) for p in points)
    if kind == 1:  # huge
        alphabet = rng.choice([UNICODE_DIGITS, "0123456789", "á ê ơ ư đ ", "<b>&", ODD + "x"])
        return "".join(rng.choice(alphabet) for _ in range(4096))
    if kind == 2:  # markup
        return " ".join(rng.choice(MARKUP + WORDS) for _ in range(rng.randint(1, 12)))
    if kind == 3:  # Unicode digits among words
        return " ".join(rng.choice(WORDS + list(UNICODE_DIGITS) + [HUGE_NUMBER]) for _ in range(rng.randint(1, 8)))
    if kind == 4:  # odd characters
        return "".join(rng.choice(ODD + UNICODE_DIGITS + "abc ") for _ in range(rng.randint(1, 40)))
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10)))


def random_command(rng: random.Random) -> str:
    name = rng.choice([*COMMAND_ROLES, "khongco", "ghi@bot", "GHI", "moi", "huyghi", "xuat", "suatv", "xoatv"])
    args = " ".join(rng.choice(ARG_PIECES + WORDS) for _ in range(rng.randint(0, 5)))
    text = f"/{name} {args}".rstrip()
    if rng.random() < 0.05:
        text += " " + random_text(rng)
    return text[:4096]


def random_payload(rng: random.Random) -> str:
    prefix = rng.choice([*BUTTON_ROLES, "zz:", "", "q1", "iv", "tv|p"])
    parts = [rng.choice(CALLBACK_PIECES) for _ in range(rng.randint(0, 6))]
    sep = "|" if prefix.endswith("|") else ":"
    data = prefix + sep.join(parts)
    if rng.random() < 0.1:
        data += random_text(rng)[:40]
    return data.encode("utf-8")[:64].decode("utf-8", "ignore") or "x"


def random_phone(rng: random.Random) -> str:
    return rng.choice([
        "0912345678", "+84912345678", "84912345678", "0836 974 222", "①②③", "", "+", HUGE_NUMBER,
        "0" * 30, "<b>0912</b>", "091234567８", "+1 555 0100", "٠٩١٢٣٤٥٦٧٨",
    ])


def garbage_document(rng: random.Random) -> tuple[str, bytes]:
    name = rng.choice(["danh_sach.csv", "the.xlsx", "cu.xls", "anh.pdf", "x.CSV", "<b>.xlsx", "a" * 200 + ".csv", ".csv"])
    size = rng.choice([0, 1, 17, 500, 4000])
    body = bytes(rng.randrange(256) for _ in range(size))
    if rng.random() < 0.3:
        body = ("Mã số BHXH,Họ và tên\n" + "\n".join(f"{rng.choice(ARG_PIECES)},{rng.choice(WORDS)}" for _ in range(5))).encode()
    if rng.random() < 0.2:
        body = b"PK\x03\x04" + body  # looks like a zip (xlsx) and is not
    return name, body


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above, from any logger, while the bot runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def fast_bot(tmp_path: Path) -> AsyncIterator[tuple[BotApiEmulator, Services]]:
    emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=None, per_chat_interval=None))
    await emulator.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=emulator.api_base_url,
        database_path=tmp_path / "fuzz.sqlite3",
        admin_telegram_ids=(ADMIN_ID,),
        scheduler_tick_seconds=3600,
    )
    application = build_application(settings, token=TOKEN, clock=ManualClock(DEFAULT_NOW), rate_limited=False)
    try:
        async with running(application, poll_timeout=1):
            yield emulator, application.bot_data[SERVICES_KEY]
    finally:
        await emulator.stop()


async def _one_user(emulator: BotApiEmulator, user: EmulatedUser, rng: random.Random, count: int, tally: dict[str, int]) -> None:
    await user.say("/start")
    await user.replies(count=1, timeout=30)
    kinds = ["text", "command", "targeted_command", "button", "targeted_button", "flow", "contact", "document"]
    weights = [18, 18, 15, 15, 17, 7, 5, 5]
    for _ in range(count):
        kind = rng.choices(kinds, weights=weights)[0]
        tally[kind] = tally.get(kind, 0) + 1
        if kind in ("button", "targeted_button"):
            bot_messages = [m for m in user.history() if m.message_id in emulator._messages.get(user.id, {})]
            target = bot_messages[-1].message_id if bot_messages else None
            if target is None:  # the bot deleted everything: ask for a fresh menu first
                await user.say("/start")
                await user.replies(count=1, timeout=30)
                target = user.history()[-1].message_id
            data = random_payload(rng) if kind == "button" else targeted_payload(rng)
            query_id = await user.press_data(target, data)
            await answered(emulator, query_id, timeout=30)
            await user.settle(quiet=0.02, timeout=30)
            continue
        if kind == "text":
            await user.say(random_text(rng))
        elif kind == "command":
            await user.say(random_command(rng))
        elif kind == "targeted_command":
            await user.say(targeted_command(rng))
        elif kind == "flow":  # open a draft at some question, then answer it with hostile text
            await user.say(rng.choice(FLOW_OPENERS))
            await user.replies(count=1, timeout=30)
            await user.settle(quiet=0.02, timeout=30)
            if rng.random() < 0.5:
                await user.say(rng.choice(HOSTILE + [random_text(rng)]) or "x")
            else:  # a forged button of the flow, on the question just asked
                shape = rng.choice([p for p in PAYLOAD_SHAPES if p.startswith("g:")])
                query_id = await user.press_data(user.history()[-1].message_id, shape.format(rng.choice(HOSTILE)))
                await answered(emulator, query_id, timeout=30)
                await user.settle(quiet=0.02, timeout=30)
                continue
        elif kind == "contact":
            own = rng.random() < 0.5
            await user.share_contact(random_phone(rng), own=own, contact_user_id=rng.choice([None, user.id + 1, 1]))
        else:
            name, body = garbage_document(rng)
            await user.send_document(name, body)
        await user.replies(count=1, timeout=30)  # every message is answered
        await user.settle(quiet=0.02, timeout=30)


async def test_ten_thousand_hostile_updates_leave_no_traceback(fast_bot: tuple[BotApiEmulator, Services]) -> None:
    emulator, services = fast_bot
    await seed_world(services, DEFAULT_NOW)
    errors = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(errors)
    tally: dict[str, int] = {}
    try:
        people = [p.user_id for p in PEOPLE] + [ADMIN_ID]
        ids = people + [6000 + n for n in range(USERS - len(people))]
        per_user, extra = divmod(UPDATES, len(ids))
        async with asyncio.TaskGroup() as group:
            for n, user_id in enumerate(ids):
                user = emulator.user(user_id, first_name=f"U{n}", phone=f"09{user_id:08d}")
                rng = random.Random(SEED * 1000 + n)
                group.create_task(_one_user(emulator, user, rng, per_user + (1 if n < extra else 0), tally))
    finally:
        root.removeHandler(errors)
    assert sum(tally.values()) == UPDATES
    assert all(tally.get(k, 0) > UPDATES // 50 for k in ("text", "command", "button", "contact", "document")), tally
    assert all(tally.get(k, 0) > UPDATES // 20 for k in ("targeted_command", "targeted_button", "flow")), tally
    rejected = sorted({f"{r.method}: {r.description}" for r in emulator.rejected})
    assert [f"{r.name}: {r.getMessage()[:300]}" for r in errors.records] == [], rejected
    apologies = [m for m in emulator.sent if m.plain_text == replies.INTERNAL_ERROR or replies.INTERNAL_ERROR in (m.text or "")]
    assert apologies == []
    assert not any(r.error_code >= 500 for r in emulator.rejected)
