"""The offline demo: the real bot against the local emulator, chatted with in the terminal.

`./dev demo` starts the emulator and the production Application on a temporary database,
loads the sample data, and lets a person type as a citizen (or, with `:ai ROLE`, as an admin,
official or agent). Buttons are shown as numbered choices; `#n` presses button n.
`./dev demo --script FILE` reads the same input from a file and prints the transcript.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO

from bot.domain.clock import ManualClock, SystemClock
from bot.services import Services
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator, EmulatedUser, EmulatorLimits, SentMessage
from handlers.telegram.app import SERVICES_KEY, build_application, running

DEMO_TOKEN = "100000001:DEMO-token-for-the-offline-emulator"
QUIET_SECONDS = 0.35
REPLY_TIMEOUT = 15.0


@dataclass(frozen=True)
class Persona:
    """Someone the newcomer can be in the demo."""

    key: str
    user_id: int
    first_name: str
    description: str
    phone: str | None = None


PERSONAS: dict[str, Persona] = {
    "dan": Persona("dan", 700001, "Lan", "người dân hỏi mức đóng", phone="0912000001"),
}
DEFAULT_PERSONA = "dan"
DEMO_ADMIN_ID = 700000

# Feature modules add sample data here (units, teams, members, cards, ...). Each seeder gets
# the live services after the database is open and migrated.
Seeder = Callable[[Services], Awaitable[None]]
DEMO_SEEDERS: list[Seeder] = []

# Feature modules add demo-only meta-commands (":name args") here, e.g. ":nhac" to run a
# reminder round now. A handler returns text to print.
MetaCommand = Callable[[Services, "DemoSession", str], Awaitable[str]]
META_COMMANDS: dict[str, tuple[str, MetaCommand]] = {}

# Organisation (bot/imports/organisation.py): the sample trees of seeds 003 and 001, the seed-002-shaped
# roster, and people to be: an admin, officials of the district and of one commune, a team
# leader and an agent of Nhóm 1 in Xã Tân An, and a newcomer who can join with a /moi code.
_ORG_PEOPLE = (
    ("quantri", DEMO_ADMIN_ID, "Quản trị", "quản trị viên (mọi đơn vị)", None),
    ("huyen", 700010, "Minh", "cán bộ phụ trách Huyện Càng Long (CL)", ("Trần Minh Đức", "official", "CL", None)),
    ("xa", 700011, "Hồng", "cán bộ phụ trách Xã Tân An (CL06)", ("Lê Thị Hồng", "official", "CL06", None)),
    ("totruong", 700012, "Tâm", "tổ trưởng Nhóm 1, Xã Tân An", ("Nguyễn Văn Tâm", "team_leader", "CL06", "CL06-NHOM1")),
    ("vandong", 700013, "Hoa", "người vận động Nhóm 1, Xã Tân An", ("Phạm Thị Hoa", "agent", "CL06", "CL06-NHOM1")),
    ("moi", 700014, "Bình", "người mới, chưa có vai trò (thử /thamgia MÃ)", None),
)
for _key, _uid, _first, _desc, _ in _ORG_PEOPLE:
    PERSONAS[_key] = Persona(_key, _uid, _first, _desc)


async def _seed_organisation(services: Services) -> None:
    from bot.imports.organisation import DemoMember, seed_demo_organisation

    people = [DemoMember(uid, *member) for _, uid, _, _, member in _ORG_PEOPLE if member]
    await seed_demo_organisation(services, people, "telegram")


DEMO_SEEDERS.append(_seed_organisation)


# Lapsed cards (devtools/demo/cards.py): the sample list, the citizen's household, a reminder round.
async def _seed_cards(services: Services) -> None:
    from devtools.demo.cards import seed_cards

    await seed_cards(services)


async def _meta_share_contact(services: Services, session: DemoSession, args: str) -> str:
    from devtools.demo.cards import share_contact

    return await share_contact(services, session, args)


async def _meta_reminders(services: Services, session: DemoSession, args: str) -> str:
    from devtools.demo.cards import run_round

    return await run_round(services, session, args)


DEMO_SEEDERS.append(_seed_cards)
META_COMMANDS["sdt"] = ("chia sẻ số điện thoại của bạn (nút 📱); :sdt khac = số người khác", _meta_share_contact)
META_COMMANDS["nhac"] = ("chạy ngay một lượt nhắc gia hạn thẻ và xem đã gửi gì", _meta_reminders)


# Agents (devtools/demo/agents.py): sample entries on the trees, and ":ghi" to log as the sample agent.
async def _seed_enrolments(services: Services) -> None:
    from devtools.demo.agents import seed_enrolments

    await seed_enrolments(services)


async def _meta_agent(services: Services, session: DemoSession, args: str) -> str:
    from devtools.demo.agents import become_agent

    return await become_agent(services, session, args)


DEMO_SEEDERS.append(_seed_enrolments)
META_COMMANDS["ghi"] = ("làm người vận động: ghi người tham gia, xem /toi, /bangxephang", _meta_agent)


# Officials' summaries (devtools/demo/summaries.py): the evening summary, chart and workbook at once.
async def _meta_summary(services: Services, session: DemoSession, args: str) -> str:
    from devtools.demo.summaries import send_summary

    return await send_summary(services, session, args)


META_COMMANDS["tomtat"] = ("làm cán bộ (huyen|xa): nhận ngay tin tổng hợp, biểu đồ, Excel", _meta_summary)

HELP = """\
Gõ tin nhắn như trên Telegram (ví dụ: bhyt hộ gia đình 3 người, /start, /help).
  #n        bấm nút số n của tin nhắn gần nhất
  :ai VAI   đổi người đang chat ({personas})
  :help     xem hướng dẫn này;  :quit  thoát{extra}
"""


class DemoSession:
    """One terminal chat: who is typing, and printing what the bot answers."""

    def __init__(self, emulator: BotApiEmulator, services: Services, out: TextIO) -> None:
        self.emulator = emulator
        self.services = services
        self.out = out
        self.persona = PERSONAS[DEFAULT_PERSONA]

    @property
    def user(self) -> EmulatedUser:
        p = self.persona
        return self.emulator.user(p.user_id, first_name=p.first_name, phone=p.phone)

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show(self, outputs: list[SentMessage]) -> None:
        for message in outputs:
            self.print(render_output(message))

    async def handle_line(self, line: str) -> bool:
        """Act on one input line; False when the person wants to stop."""
        line = line.strip()
        if not line:
            return True
        if line in (":quit", ":q", ":exit"):
            return False
        if line == ":help":
            self.print(help_text())
            return True
        if line.startswith(":ai"):
            self.switch(line[3:].strip())
            return True
        if line.startswith(":"):
            name, _, args = line[1:].partition(" ")
            if name in META_COMMANDS:
                self.print(await META_COMMANDS[name][1](self.services, self, args.strip()))
                await self.drain()
            else:
                self.print(f"(không có lệnh demo :{name}; gõ :help)")
            return True
        self.print(f"{self.persona.first_name}: {line}")
        try:
            if line.startswith("#") and line[1:].isdigit():
                await self.user.press_index(int(line[1:]))
            else:
                await self.user.say(line)
        except (LookupError, ValueError, IndexError) as exc:
            self.print(f"(không bấm được: {exc})")
            return True
        await self.drain()
        return True

    async def drain(self) -> None:
        """Print what the bot sent, waiting until it has been quiet for a moment."""
        outputs = await self.user.settle(quiet=QUIET_SECONDS, timeout=REPLY_TIMEOUT)
        self.show(outputs)

    def switch(self, key: str) -> None:
        persona = PERSONAS.get(key)
        if persona is None:
            self.print(f"(vai có sẵn: {', '.join(PERSONAS)})")
            return
        self.persona = persona
        self.print(f"(bạn đang là {persona.first_name}: {persona.description})")


def help_text() -> str:
    personas = ", ".join(f"{k} = {p.description}" for k, p in PERSONAS.items())
    extra = "".join(f"\n  :{name:<8} {desc}" for name, (desc, _) in META_COMMANDS.items())
    return HELP.format(personas=personas, extra=extra)


def render_output(message: SentMessage) -> str:
    """A bot output as terminal text: the message, files by name, buttons numbered."""
    lines: list[str] = []
    if message.method == "sendPhoto":
        lines.append(f"[ảnh: {message.file_name or 'chart.png'}, {len(message.file_bytes or b'')} byte]")
    elif message.method == "sendDocument":
        lines.append(f"[tệp: {message.file_name}, {len(message.file_bytes or b'')} byte]")
    text = message.plain_text
    if text:
        prefix = "Bot (sửa): " if message.method.startswith("edit") else "Bot: "
        lines.append(prefix + text.replace("\n", "\n     "))
    buttons = message.button_texts
    if buttons:
        lines.append("     " + "  ".join(f"[{i}] {label}" for i, label in enumerate(buttons, 1)))
    return "\n".join(lines)


async def run_demo(
    script: Path | None = None,
    on: date | None = None,
    out: TextIO | None = None,
    lines: list[str] | None = None,
) -> int:
    """Run the demo until the input ends; returns the exit code."""
    out = out or sys.stdout
    if script is not None:
        lines = script.read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory(prefix="bhxh-demo-") as tmp:
        emulator = BotApiEmulator(token=DEMO_TOKEN, limits=EmulatorLimits(per_chat_interval=None))
        await emulator.start()
        try:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                telegram_bot_token=DEMO_TOKEN,
                telegram_api_base_url=emulator.api_base_url,
                database_path=Path(tmp) / "demo.sqlite3",
                admin_telegram_ids=(DEMO_ADMIN_ID,),
            )
            clock = (
                ManualClock(datetime.combine(on, time(9, 0), tzinfo=settings.tz))
                if on
                else SystemClock(settings.tz)
            )
            application = build_application(settings, token=DEMO_TOKEN, clock=clock)
            async with running(application, poll_timeout=1):
                services: Services = application.bot_data[SERVICES_KEY]
                for seed in DEMO_SEEDERS:
                    await seed(services)
                session = DemoSession(emulator, services, out)
                session.print("=== BHXH/BHYT bot · demo ngoại tuyến (không cần Telegram) ===")
                session.print(help_text())
                await _chat(session, lines)
        finally:
            await emulator.stop()
    return 0


async def _chat(session: DemoSession, lines: list[str] | None) -> None:
    if lines is not None:
        for line in lines:
            if line.strip().startswith("//"):
                continue
            if not await session.handle_line(line):
                return
        return
    if not sys.stdin.isatty():
        session.print("(không có bàn phím: chạy một kịch bản mẫu; dùng --script FILE cho kịch bản khác)")
        for line in DEFAULT_SCRIPT:
            if not await session.handle_line(line):
                return
        return
    await session.handle_line("/start")
    while True:
        try:
            line = await asyncio.to_thread(input, "> ")
        except EOFError:
            return
        if not await session.handle_line(line):
            return


# What a non-interactive run (CI, a pipe) shows: a cost conversation end to end.
DEFAULT_SCRIPT: list[str] = [
    "/start",
    "bhyt ho gia dinh 3 nguoi",
    "#3",
    "bhxh tự nguyện 800k",
    "#1",
    "#4",
    "#1",
]
