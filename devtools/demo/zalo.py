"""`./dev demo --channel zalo`: the bot on a Zalo Official Account, offline, as a walk-through.

What runs is the product as `bhxh-bot run` composes it (bot/cli/serve.py `started`): the real
HTTP server with `POST /zalo/webhook` and the signed download links, the inbox worker, the Zalo
renderer and sender, the conversation core and the scheduler's summary round, on a temporary
SQLite file with the sample data. Zalo itself is the local emulator (devtools/zalo): people post
signed webhooks through it, and what the bot sends lands in their emulated Zalo inbox, which the
terminal shows the way the emulator received it (text, up to 5 buttons, uploaded images, links).

The walk-through is a list of named steps (`ZALO_STEPS`), each an async function of the one
`ZaloDemo` it shares with the others. A feature adds its own step with a few lines, e.g.

    async def new_feature(demo: ZaloDemo) -> None: ...
    ZALO_STEPS.insert(step_index("official-summary"), Step("new-feature", "…", new_feature))

and its settings (`ZALO_SETTINGS`) and set-up (`ZALO_SEEDERS`) beside it, as the ZNS reminder
step does (`zns_enabled`; the template registered at the emulator, the list's legal basis). The clock is a `ManualClock` (09:00 on the
day) moved only by steps (`demo.clock`): the summary step moves it to SUMMARY_TIME and the last
step past the links' expiry, so a step that needs daytime (a ZNS reminder) goes before those.

With a keyboard the demo waits for Enter between steps; without one (a pipe, CI, `</dev/null`)
it runs straight through, like the Telegram demo's scripted run.
"""

from __future__ import annotations

import asyncio
import re
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import httpx

from bot.chat.model import ZALO_OA
from bot.cli.serve import Running, started
from bot.domain.clock import ManualClock, SystemClock
from bot.services import Services
from bot.settings import Settings
from devtools.zalo import DeliveredMessage, EmulatedZaloUser, ZaloEmulator, ZaloLimits
from handlers.http.files import DEFAULT_TTL as LINK_TTL  # what bhxh-bot run gives FileLinks
from scheduler.summaries import run_summary_round

REPLY_TIMEOUT = 20.0
MORNING = time(9, 0)
FAST = ZaloLimits(receipt_delay=0.05, webhook_retry_delays=(0.05, 0.1))

CITIZEN_NAME = "Nguyễn Thị Lan"
CITIZEN_QUESTION = "bhyt hộ gia đình 3 người 12 tháng"
TAPS = ("Tính lại", "3 người", "12 tháng")  # button titles the citizen taps, in order
OFFICIAL_NAME = "Trần Minh Đức"  # the sample district official of devtools/demo/session.py
OFFICIAL_UNIT = "CL"
ZNS_LEGAL_BASIS = "Kế hoạch phát triển người tham gia BHYT hộ gia đình năm 2026 (mẫu)"
ZNS_DEMO_PHONE = "84912000001"  # the citizen persona's row of devtools/demo/cards.py, as Zalo writes it


@dataclass(frozen=True)
class Step:
    """One named part of the walk-through: `key` for code, `title` for the person watching."""

    key: str
    title: str
    run: Callable[[ZaloDemo], Awaitable[None]]


@dataclass
class ZaloDemo:
    """What every step shares: the running bot, the emulated Zalo, the clock, the terminal."""

    running: Running
    emulator: ZaloEmulator
    clock: ManualClock
    http: httpx.AsyncClient
    out: TextIO
    people: dict[str, EmulatedZaloUser] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)  # download links the bot sent, in order

    @property
    def services(self) -> Services:
        return self.running.services

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def person(self, key: str, display_name: str) -> EmulatedZaloUser:
        """The emulated Zalo user `key` (made on first use, following the OA)."""
        if key not in self.people:
            self.people[key] = self.emulator.add_user(display_name)
        return self.people[key]

    async def user_id(self, user: EmulatedZaloUser) -> int:
        """The integer id the bot's tables give this Zalo user (made on first use)."""
        return await self.services.storage.identities.user_id(ZALO_OA.name, user.user_id, self.clock.now())

    async def says(self, user: EmulatedZaloUser, text: str) -> list[DeliveredMessage]:
        """`user` writes `text` to the OA (a signed webhook); print it and the bot's answer."""
        self.print(f"{user.state.display_name}: {text}")
        before, handled = len(user.inbox), self.handled
        post = await user.say(text)
        self.print(f"     (Zalo gửi sự kiện có chữ ký tới bot: HTTP {post.status})")
        return self.show(await self.answer(user, before, handled))

    async def taps(self, user: EmulatedZaloUser, title: str) -> list[DeliveredMessage]:
        """`user` taps the query button whose title contains `title`, on the latest message
        that has one (a person may tap a button of any message still on screen); Zalo posts
        its hidden payload back as a text event."""
        for message in reversed(user.inbox):
            button = next((b for b in message.buttons if b.query is not None and title in b.title), None)
            if button is not None:
                break
        else:
            raise LookupError(f"no button {title!r} in what the OA sent")
        assert button.query is not None
        self.print(f"{user.state.display_name} bấm nút «{button.title}»")
        self.print(f"     (Zalo gửi lại mã ẩn của nút: {button.query})")
        before, handled = len(user.inbox), self.handled
        await user.press_payload(button.query)
        return self.show(await self.answer(user, before, handled))

    @property
    def handled(self) -> int:
        """Inbox events the bot's Zalo worker has finished (it finishes one after sending
        every message of its answer)."""
        return int(self.running.zalo.worker.handled)

    async def answer(self, user: EmulatedZaloUser, before: int, handled: int) -> list[DeliveredMessage]:
        """The OA messages `user` got after the `before` first, once the worker has finished
        the event posted after it had finished `handled`."""
        await self.emulator.wait_until(
            lambda: self.handled > handled and len(user.inbox) > before, timeout=REPLY_TIMEOUT
        )
        return user.inbox[before:]

    def show(self, messages: list[DeliveredMessage]) -> list[DeliveredMessage]:
        """Print `messages` and keep the download links they carry (`links`)."""
        for message in messages:
            self.print(self.render(message))
            self.links += [
                str(b.payload["url"]) for b in message.buttons if isinstance(b.payload, dict) and "url" in b.payload
            ]
        return messages

    def render(self, message: DeliveredMessage) -> str:
        """One OA message as the person's Zalo shows it (what the emulator accepted)."""
        lines: list[str] = []
        if message.attachment_type == "media" and message.attachment_ref:
            upload = self.emulator.oa.uploads.get(message.attachment_ref)
            size = len(upload.data) if upload else 0
            limit = self.emulator.limits.image_max_bytes
            lines.append(f"Bot: [ảnh biểu đồ đã tải lên Zalo: {_n(size)} byte, dưới giới hạn {_n(limit)} byte của Zalo]")
        elif message.attachment_type == "file" and message.attachment_ref:
            upload = self.emulator.oa.uploads.get(message.attachment_ref)
            lines.append(f"Bot: [tệp {upload.filename if upload else ''}]")
        elif message.attachment_type == "request_user_info":
            lines.append("Bot: [biểu mẫu Zalo: xin chia sẻ số điện thoại]")
        if message.text:
            lines.append("Bot: " + message.text.replace("\n", "\n     "))
        numbered = 0
        for button in message.buttons:
            if button.query is not None:
                numbered += 1
                lines.append(f"     [{numbered}] {button.title}")
            elif isinstance(button.payload, dict) and "url" in button.payload:
                lines.append(f"     [liên kết] {button.title}\n         {button.payload['url']}")
        return "\n".join(lines)


Seeder = Callable[[ZaloDemo], Awaitable[None]]
# What a step needs set up before the first step: sample data (`demo.services`), templates or
# phones at the emulator (`demo.emulator`). Run in order once the bot runs, after `_seed` has
# loaded the organisation, the lapsed-card list and today's entries.
ZALO_SEEDERS: list[Seeder] = []
# Settings a step needs (names as in bot/settings.py), on top of the emulator's addresses.
ZALO_SETTINGS: dict[str, Any] = {}


# ---- the steps -------------------------------------------------------------------------------


async def citizen_asks(demo: ZaloDemo) -> None:
    """A citizen's free-text question; the answer carries Zalo query buttons (at most 5)."""
    citizen = demo.person("citizen", CITIZEN_NAME)
    demo.print(f"({CITIZEN_NAME} nhắn cho Zalo OA của BHXH huyện, bằng lời của mình)")
    await demo.says(citizen, CITIZEN_QUESTION)


async def citizen_taps(demo: ZaloDemo) -> None:
    """The citizen taps buttons: each hidden payload comes back and the bot answers; a menu
    longer than Zalo's 5 buttons arrives split over two messages."""
    citizen = demo.person("citizen", CITIZEN_NAME)
    messages = await demo.taps(citizen, TAPS[0])
    if len([m for m in messages if m.buttons]) > 1:
        demo.print(f"(Zalo cho tối đa {ZALO_OA.max_buttons_per_message} nút mỗi tin: menu dài được chia thành nhiều tin)")
    for title in TAPS[1:]:
        await demo.taps(citizen, title)


async def official_summary(demo: ZaloDemo) -> None:
    """At SUMMARY_TIME the scheduler's round sends the district official the day's summary on
    Zalo: the message, the chart (an image uploaded to Zalo) and the workbook as a signed link."""
    official = demo.person("official", OFFICIAL_NAME)
    settings = demo.services.settings
    demo.print(f"({OFFICIAL_NAME}, cán bộ huyện Càng Long, xem tin tổng hợp hằng ngày đã bật chưa;"
               " Zalo chỉ cho OA nhắn người đã nhắn OA gần đây)")
    await demo.says(official, "/tomtat")
    evening = datetime.combine(demo.clock.now().date(), settings.summary_time, tzinfo=settings.tz)
    demo.clock.set(max(demo.clock.now(), evening + timedelta(minutes=5)))
    demo.print(f"(đồng hồ của bot: {demo.clock.now():%H:%M %d/%m/%Y}, giờ gửi tin tổng hợp hằng ngày)")
    before = len(official.inbox)
    report = await run_summary_round(demo.services, demo.running.senders, chat_spacing=0.0)
    demo.print(f"(lượt gửi tin tổng hợp: {report.due} người nhận, {report.parts_sent} phần đã gửi)")
    demo.show(official.inbox[before:])  # the round returns once every part was sent


async def link_works_then_expires(demo: ZaloDemo) -> None:
    """The workbook's link is fetched over HTTP (it works), then again after it expired."""
    if not demo.links:
        demo.print("(bot chưa gửi liên kết tải về nào)")
        return
    url = demo.links[-1]
    answer = await demo.http.get(url)
    name = _file_name(answer.headers.get("content-disposition", ""))
    demo.print(f"Mở liên kết: HTTP {answer.status_code}, tệp «{name}», {_n(len(answer.content))} byte")
    demo.clock.advance(LINK_TTL + timedelta(minutes=1))
    hours = int(LINK_TTL.total_seconds() // 3600)
    demo.print(f"(liên kết có hạn {hours} giờ; đồng hồ của bot tiến tới {demo.clock.now():%H:%M %d/%m/%Y})")
    again = await demo.http.get(url)
    demo.print(f"Mở lại liên kết: HTTP {again.status_code}: {again.text}")


async def zns_reminder(demo: ZaloDemo) -> None:
    """A reminder round with ZNS on: the lapsed-card list was imported with its legal basis, so
    people who never chatted with the bot are reminded by a ZNS template to their phone; Zalo's
    delivery receipt then settles each row."""
    from scheduler.reminders import run_reminder_round

    queue = demo.running.runner.zns
    if queue is None:
        raise LookupError("the bot built no ZNS queue (ZNS_ENABLED and the Zalo channel are needed)")
    demo.print(f"(danh sách thẻ hết hạn được nhập kèm cơ sở pháp lý: «{ZNS_LEGAL_BASIS}»; ZNS đã bật)")
    demo.print(f"(đồng hồ của bot: {demo.clock.now():%H:%M %d/%m/%Y}; ZNS chỉ gửi từ 8:00 đến 20:00)")
    before = len(demo.emulator.zns.sent)
    report = await run_reminder_round(demo.services, demo.running.senders, queue)
    zns = report.zns
    sent = demo.emulator.zns.sent[before:]
    demo.print(f"(lượt nhắc: {zns.sent if zns else 0} tin ZNS đã gửi, {zns.backlog if zns else 0} còn chờ)")
    mine = next((m for m in sent if m.phone == ZNS_DEMO_PHONE), None)
    if mine is None:
        raise LookupError(f"no ZNS reached {ZNS_DEMO_PHONE}")
    demo.print(f"Zalo của số {ZNS_DEMO_PHONE} nhận tin ZNS (mẫu {mine.template_id}, tin chính thức của OA):")
    for name, value in mine.template_data.items():
        demo.print(f"     {name}: {value}")
    states = await _settled(demo, len(sent))
    demo.print(f"(Zalo báo tin đã tới máy: bot ghi {states.get('delivered', 0)} tin «đã nhận» theo mã theo dõi;"
               " tin chưa rõ kết quả không bao giờ tự gửi lại)")


async def _settled(demo: ZaloDemo, sent: int) -> dict[str, int]:
    """The outbox's counts once the bot's worker has settled `sent` rows from Zalo's receipts
    (each receipt is a webhook event: answered 200 at once, applied by the worker after)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REPLY_TIMEOUT
    while True:
        states = await demo.services.storage.reminders.status_counts()
        if states.get("delivered", 0) >= sent or loop.time() > deadline:
            return states
        await asyncio.sleep(0.05)


async def _zns_seeder(demo: ZaloDemo) -> None:
    """The approved template at the emulator, every valid number bound to a Zalo account, and
    the sample list imported again with its legal basis (the latest import of a card decides)."""
    from devtools.demo.cards import DEMO_ROW, SAMPLE

    templates = demo.services.reminders.zns_templates
    assert templates is not None
    demo.emulator.add_template(templates.reminder.template_id, list(templates.reminder.params))
    demo.emulator.zns.any_phone_bound = True
    data = (resources.files("bot") / "data" / "samples" / SAMPLE).read_bytes()
    await demo.services.cards.import_list(data, SAMPLE, None, source=f"demo:{SAMPLE}", legal_basis=ZNS_LEGAL_BASIS)
    await demo.services.cards.import_list(
        DEMO_ROW.encode("utf-8"), "demo.csv", None, source="demo", legal_basis=ZNS_LEGAL_BASIS
    )


ZALO_SETTINGS["zns_enabled"] = True
ZALO_SEEDERS.append(_zns_seeder)


def _n(number: int) -> str:
    """12.345: thousands as Vietnamese write them."""
    return f"{number:,}".replace(",", ".")


def _file_name(disposition: str) -> str:
    from urllib.parse import unquote

    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
    return unquote(match.group(1)) if match else "?"


ZALO_STEPS: list[Step] = [
    Step("citizen-asks", "Người dân hỏi mức đóng BHYT trên Zalo", citizen_asks),
    Step("citizen-taps", "Người dân bấm các nút trong câu trả lời", citizen_taps),
    Step("zns-reminder", "Nhắc thẻ BHYT hết hạn qua ZNS tới số điện thoại trong danh sách", zns_reminder),
    Step("official-summary", "Cán bộ nhận tin tổng hợp hằng ngày: biểu đồ và liên kết tải Excel", official_summary),
    Step("link-expires", "Liên kết tải về dùng được, rồi hết hạn", link_works_then_expires),
]


def step_index(key: str) -> int:
    """Where the step `key` is in ZALO_STEPS (to insert another before it)."""
    return next(i for i, step in enumerate(ZALO_STEPS) if step.key == key)


# ---- running ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(emulator: ZaloEmulator, database: Path, refresh_token: str) -> Settings:
    port = _free_port()
    values: dict[str, Any] = {
        "database_path": database,
        "zalo_app_id": emulator.app_id,
        "zalo_app_secret": emulator.app_secret,
        "zalo_oa_secret_key": emulator.oa_secret_key,
        "zalo_refresh_token": refresh_token,
        "zalo_api_base_url": emulator.api_base_url,
        "zalo_oauth_base_url": emulator.oauth_base_url,
        "zalo_zns_base_url": emulator.zns_base_url,
        "webhook_host": "127.0.0.1",
        "webhook_port": port,
        "public_base_url": f"http://127.0.0.1:{port}",
        "scheduler_tick_seconds": 3600,  # the steps run the rounds themselves
    }
    values.update(ZALO_SETTINGS)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def _seed(demo: ZaloDemo) -> None:
    """The sample organisation with the Zalo official in it, the lapsed-card list, a few
    entries logged today (the summary has something to count), then the steps' seeders."""
    from bot.imports.organisation import DemoMember, seed_demo_organisation
    from devtools.demo.agents import seed_enrolments
    from devtools.demo.cards import seed_cards

    official = demo.person("official", OFFICIAL_NAME)
    member = DemoMember(await demo.user_id(official), OFFICIAL_NAME, "official", OFFICIAL_UNIT)
    await seed_demo_organisation(demo.services, [member], ZALO_OA.name)
    await seed_cards(demo.services)
    await seed_enrolments(demo.services)
    for seed in ZALO_SEEDERS:
        await seed(demo)


async def _pause(interactive: bool) -> bool:
    """With a keyboard, wait for Enter (False when the person types q); else go straight on."""
    if not interactive:
        return True
    try:
        answer = await asyncio.to_thread(input, "(Enter: bước tiếp theo · q: thoát) ")
    except EOFError:
        return True
    return answer.strip().lower() not in ("q", ":q", ":quit")


async def run_zalo_demo(on: date | None = None, out: TextIO | None = None, interactive: bool | None = None) -> int:
    """Run every step of ZALO_STEPS in order; returns the exit code (0 when all ran)."""
    out = out or sys.stdout
    if interactive is None:
        interactive = sys.stdin.isatty()
    tz = Settings(_env_file=None).tz  # type: ignore[call-arg]
    day = on or SystemClock(tz).now().date()
    clock = ManualClock(datetime.combine(day, MORNING, tzinfo=tz))
    emulator = ZaloEmulator(clock=clock, limits=replace(FAST))
    await emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bhxh-zalo-demo-") as tmp:
            settings = _settings(emulator, Path(tmp) / "demo.sqlite3", emulator.issue_tokens().refresh_token)
            async with started(settings, clock=clock) as running, httpx.AsyncClient() as http:
                assert running.http_base_url is not None
                emulator.webhook_url = f"{running.http_base_url}/zalo/webhook"
                demo = ZaloDemo(running, emulator, clock, http, out)
                await _seed(demo)
                demo.print("=== BHXH/BHYT bot · demo trên Zalo (ngoại tuyến: Zalo giả lập trên máy này) ===")
                demo.print(f"(bot nhận sự kiện Zalo tại {emulator.webhook_url}; hôm nay là {day:%d/%m/%Y})")
                code = await _run_steps(demo, interactive)
    finally:
        await emulator.stop()
    return code


async def _run_steps(demo: ZaloDemo, interactive: bool) -> int:
    """Every step in order; a step the bot does not answer is said plainly and the run ends
    with exit code 1 (the others still run, so the person sees what does work)."""
    code = 0
    for number, step in enumerate(ZALO_STEPS, 1):
        demo.print()
        demo.print(f"--- Bước {number}/{len(ZALO_STEPS)}: {step.title} ---")
        try:
            await step.run(demo)
        except (TimeoutError, LookupError, httpx.HTTPError) as exc:
            demo.print(f"(bước «{step.key}» không chạy được: {type(exc).__name__}: {exc})")
            code = 1
        if number < len(ZALO_STEPS) and not await _pause(interactive):
            return code
    demo.print()
    demo.print("=== Hết demo Zalo. Chat thử trên Telegram giả lập: ./dev demo ===")
    return code
