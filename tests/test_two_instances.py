"""Two instances against one PostgreSQL (issue 10, "Done when", second bullet).

Two real bot processes (tests/two_instances.py: `bhxh-bot run` with the clock read from a file),
each on its own port in webhook mode, share one fresh PostgreSQL schema and one Telegram
emulator that enforces Telegram's limits (it answers 429 to any message over them, counted at
arrival over sliding windows). Both run the scheduler. What must hold, whichever instance does
the work and whatever happens to one of them:

1. the same updates delivered to both instances are answered once each, in order per person
   (the shared inbox);
2. a reminder fan-out with one instance SIGKILLed mid-way and restarted later reaches every
   person once: at most the documented at-least-once cases (a request in flight at the kill,
   at most REMINDER_CONCURRENCY of them) get a second copy, and the two instances together stay
   within the overall limit (leases on the outbox, a rate budget shared through the database);
3. the 17:00 summaries go out once (once-per-tick scheduling across instances, ledger claims).

Sizes: the fan-out runs at twice Telegram's rates (60 messages a second overall, one per chat
every 0.5 s, the emulator and the bot scaled alike) to 1,000 people, about 20 s of sending. Not
faster: on the project's 2 cores two instances on PostgreSQL reach about 110 sends a second
together, so at 5x the limit would never be approached and the shared budget not tested; at 2x
one instance alone can fill the limit, and two without a shared budget overrun it.
TWO_INSTANCES_PEOPLE and TWO_INSTANCES_SPEED change them. The Done-when figures (5,000 people
at Telegram's real 30/s, about 3 minutes) run by hand: `./dev test -m slow tests/test_two_instances.py`.

Time: the injected clock of both processes runs 60 times faster than the wall clock from the
moment the fan-out starts (one wall second is one minute for the bot), so a dead instance's
claims outlive their lease within seconds, while a live instance's claims (each held for a
request of milliseconds) never look expired. Rate limits are wall time, as at Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.bootstrap import open_services
from bot.domain.clock import ManualClock
from bot.domain.enrolment import parse_line
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from bot.imports.organisation import import_units
from bot.services.enrolment import Logged
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
from storage.engines import open_storage
from tests.conftest import TZ
from tests.reminder_support import link_people, people, register_chats
from tests.storage_engines import EngineSettings, engine_url, fresh_schema, server_url
from tests.test_run import free_port
from tests.two_instances import (
    TOKEN,
    ChatTally,
    Instance,
    Rates,
    emulator_ahead,
    eventually,
    instance_env,
    write_clock,
)

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "data" / "samples"
EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)  # inside the campaign and the reminder hours
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
TUESDAY_EARLY = datetime(2026, 11, 24, 16, 59, 0, tzinfo=TZ)  # no weekly digest on a Tuesday
SUMMARY_OUTPUTS = ("sendMessage", "sendPhoto", "sendDocument")
REMINDER_MARKER = "Tôi đã gia hạn"  # a button only reminders carry
REMINDER_CONCURRENCY = Settings.model_fields["reminder_concurrency"].default
CLOCK_SPEED = 60  # injected seconds per wall second during the fan-out


@dataclass
class World:
    """One schema, one emulator, two instances (A and B) and the file clock they read."""

    emulator: BotApiEmulator
    database_url: str
    schema: str
    a: Instance
    b: Instance
    clock_file: Path

    @property
    def instances(self) -> tuple[Instance, Instance]:
        return self.a, self.b

    async def start_both(self) -> None:
        """Both at once (their migrations race for the lock), then webhooks fanned out to both."""
        await asyncio.gather(self.a.start(), self.b.start())
        self.emulator.fan_out_webhook([self.a.webhook_url, self.b.webhook_url])

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(server_url(), server_settings={"search_path": self.schema})
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def counts(self, table: str, column: str, where: str = "TRUE") -> dict[str, int]:
        rows = await self.query(f"SELECT {column}, COUNT(*) FROM {table} WHERE {where} GROUP BY {column}")
        return {str(r[0]): int(r[1]) for r in rows}


@contextlib.asynccontextmanager
async def clock_directory(fallback: Path) -> AsyncIterator[Path]:
    """Where the clock file lives: in memory (/dev/shm) where there is one, else `fallback`.

    Why: the emulator's process rewrites the file ten times a second and both instances stat it
    at every reading of the time; on a disk busy with other work a write blocked the emulator's
    event loop for 80-300 ms (asyncio debug, 33 times in a 5,000-person fan-out), and requests
    that arrived meanwhile were stamped together when it resumed: a second over Telegram's limit
    made by the test, not by the bot."""
    memory = Path("/dev/shm")
    if not memory.is_dir():
        yield fallback
        return
    directory = Path(tempfile.mkdtemp(prefix="bhxh-clock-", dir=memory))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.asynccontextmanager
async def world(
    tmp_path: Path, limits: EmulatorLimits, rates: Rates, start: datetime, tick_seconds: float,
    seed: Callable[[str], Awaitable[None]] | None = None,
) -> AsyncIterator[World]:
    """A fresh schema (seeded by `seed(database_url)` before any instance starts), the emulator
    with `limits`, and two instances not yet started; everything stopped afterwards."""
    async with fresh_schema() as schema, clock_directory(tmp_path) as clocks:
        url = engine_url("postgresql", tmp_path / "unused.sqlite3", schema)
        if seed is not None:
            await seed(url)
        emulator = BotApiEmulator(token=TOKEN, limits=limits)
        await emulator.start()
        clock_file = clocks / "clock"
        write_clock(clock_file, start)
        pair = []
        for name in ("a", "b"):
            env = instance_env(
                emulator=emulator, database_url=url, port=free_port(), data_dir=tmp_path,
                rates=rates, tick_seconds=tick_seconds,
            )
            pair.append(Instance(name, env, clock_file, tmp_path / f"instance-{name}.log"))
        here = World(emulator, url, schema, pair[0], pair[1], clock_file)
        try:
            yield here
        finally:
            await asyncio.gather(*(instance.stop() for instance in here.instances))
            await emulator.stop()


async def _seeded(url: str, path: Path, clock: ManualClock, fill: Callable[[Any], Awaitable[None]]) -> None:
    """Open the schema the way the bot does (migrations included), fill it, close it."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, database_url=url, database_path=path,
    )
    async with open_services(settings, clock) as services:
        await fill(services)


# ------------------------------------------------------------------------------------------------
# 1. The same updates delivered to both instances are answered once, in order


QUESTIONS = [(1, 12), (2, 6), (3, 3), (4, 12)]  # (people, months): each answer names its own


def _asked(n: int, months: int) -> str:
    return f"bhyt hộ gia đình {n} người {months} tháng bao nhiêu"


def _answered(text: str) -> tuple[int, int] | None:
    match = re.search(r"· (\d+) người · (\d+) tháng", text)
    return (int(match[1]), int(match[2])) if match else None


async def test_the_same_updates_delivered_to_both_instances_are_answered_once_in_order(tmp_path: Path) -> None:
    async with world(tmp_path, EmulatorLimits(), Rates(), EVENING, tick_seconds=3600) as w:
        await w.start_both()
        citizens = [w.emulator.user(uid, first_name=f"Dân{uid}") for uid in people(61_000, 8)]
        for n, months in QUESTIONS:  # everyone's messages interleaved, nobody waits for answers
            for citizen in citizens:
                await citizen.say(_asked(n, months))
        total = len(QUESTIONS) * len(citizens)

        async def settled() -> bool:
            counts = await w.counts("inbox", "state", "channel = 'telegram'")
            return counts.get("done", 0) == total and sum(counts.values()) == total

        await eventually(settled, 60, "every update handled")  # each answered before marked done

        # Both instances received every update (and accepted it: stored, or a duplicate).
        updates = set(w.emulator.updates_delivered)
        assert len(updates) == total and w.emulator.pending_updates == 0
        for instance in w.instances:
            accepted = {uid for url, uid, status in w.emulator.webhook_deliveries
                        if url == instance.webhook_url and status == 200}
            assert accepted == updates, instance.name
        # One answer per message, in the order the person wrote them.
        for citizen in citizens:
            answers = [_answered(m.plain_text) for m in citizen.history()]
            assert answers == QUESTIONS, citizen.id
        rows = await w.query("SELECT event_key, COUNT(*) FROM inbox GROUP BY event_key HAVING COUNT(*) > 1")
        assert rows == []
        codes = await asyncio.gather(*(instance.stop() for instance in w.instances))
        assert codes == [0, 0], [instance.log_tail() for instance in w.instances]


# ------------------------------------------------------------------------------------------------
# 2. A reminder fan-out, one instance SIGKILLed mid-way and restarted later


@dataclass(frozen=True)
class FanOut:
    size: int
    rates: Rates


def default_fan_out() -> FanOut:
    return FanOut(
        int(os.environ.get("TWO_INSTANCES_PEOPLE") or 1_000),
        Rates(float(os.environ.get("TWO_INSTANCES_SPEED") or 2)),
    )


async def _accelerated_clock(clock_file: Path, start: datetime) -> None:
    """The injected clock from `start` on, CLOCK_SPEED times faster than the wall clock."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while True:
        write_clock(clock_file, start + timedelta(seconds=(loop.time() - began) * CLOCK_SPEED))
        await asyncio.sleep(0.1)


async def reminder_fan_out_with_a_kill(tmp_path: Path, plan: FanOut) -> None:
    """The scenario (see the module docstring); `plan` sets its size and speed."""
    everyone = people(500_000, plan.size)
    limit = plan.rates.per_second
    limits = EmulatorLimits(global_per_second=limit, per_chat_interval=plan.rates.chat_interval)

    async def seed(url: str) -> None:
        storage = open_storage(EngineSettings(url, tmp_path / "unused.sqlite3"))
        await storage.connect()
        try:
            await link_people(storage.cards, everyone, MORNING)
        finally:
            await storage.close()

    flood_allowance = max(3, plan.size // 100)
    third = 30 + plan.size / (3 * limit * 0.5)  # seconds: a third of the fan-out at half the rate

    async with world(tmp_path, limits, plan.rates, MORNING, tick_seconds=1.0, seed=seed) as w, \
            contextlib.AsyncExitStack() as stack:
        ahead = stack.enter_context(emulator_ahead())
        emulator = w.emulator
        register_chats(emulator, everyone)
        reminded = ChatTally(emulator, ("sendMessage",), REMINDER_MARKER)

        def broken() -> str | None:
            """A failure already certain: fail now rather than wait for the fan-out to end."""
            twice = sum(1 for n in reminded().values() if n > 1)
            if twice > REMINDER_CONCURRENCY:
                return f"{twice} people reminded twice already (at most {REMINDER_CONCURRENCY} may be)"
            if emulator.stats.flood_429 > flood_allowance:
                return (f"{emulator.stats.flood_429} sends refused for the flood limit already; busiest second"
                        f" asked {emulator.stats.max_asked_per_sliding_second} of {limit}")
            return None

        await w.start_both()
        ticking = asyncio.ensure_future(_accelerated_clock(w.clock_file, MORNING))
        try:
            await eventually(lambda: len(reminded()) >= plan.size // 3, third, "a third reminded", broken=broken)
            await w.a.kill()
            killed_at = asyncio.get_running_loop().time()  # the emulator's clock (same loop)
            await eventually(lambda: len(reminded()) >= 2 * plan.size // 3, third, "two thirds reminded", broken=broken)
            await w.a.start()  # later, on the same database

            async def finished() -> bool:
                return await w.counts("reminder_outbox", "status") == {"sent": plan.size}

            await eventually(finished, 2 * third, "every row of the outbox sent", broken=broken)
        finally:
            ticking.cancel()
        codes = await asyncio.gather(*(instance.stop() for instance in w.instances))

    counts = reminded()
    twice = sorted(person for person, n in counts.items() if n > 1)
    stats = emulator.stats
    print(  # the figures, shown when the test fails
        f"fan-out {plan.size} at {limit}/s: reminded {len(counts)}, twice {len(twice)}"
        f" (after the kill: {sum(1 for p in twice if min(m.timestamp for m in emulator.sent if m.chat_id == p) >= killed_at)}),"
        f" flood 429s {stats.flood_429}, busiest second accepted {stats.max_per_sliding_second}"
        f" asked {stats.max_asked_per_sliding_second}, in flight at most {stats.max_in_flight}"
        f"{'' if ahead else ' (the emulator could not run ahead of the instances)'}"
    )
    assert set(counts) == set(everyone)  # nobody lost
    assert max(counts.values()) <= 2
    # The documented at-least-once cases only: requests the killed instance had in flight.
    assert len(twice) <= REMINDER_CONCURRENCY, f"{len(twice)} people reminded twice"
    for person in twice:
        first = min(m.timestamp for m in emulator.sent if m.chat_id == person)
        assert first < killed_at, person  # its first copy left before the kill
    # Telegram's overall limit held across both instances: what was accepted, and what was
    # asked (the instances did not lean on 429s; a stray one from timing jitter is tolerated).
    assert stats.max_per_sliding_second <= limit
    assert stats.flood_429 <= flood_allowance, (
        f"{stats.flood_429} sends refused for the flood limit; busiest second asked "
        f"{stats.max_asked_per_sliding_second} of {limit}"
    )
    assert codes == [0, 0]


async def test_a_fan_out_with_one_instance_killed_mid_way_reaches_everyone_once(tmp_path: Path) -> None:
    await reminder_fan_out_with_a_kill(tmp_path, default_fan_out())


@pytest.mark.slow
async def test_the_done_when_fan_out_5000_people_at_telegrams_real_rate(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Issue 10's figures: 5,000 people, 30 messages a second, about 3 minutes (`-m slow`)."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("about 3 minutes: run with `./dev test -m slow tests/test_two_instances.py`")
    await reminder_fan_out_with_a_kill(tmp_path, FanOut(5_000, Rates(1)))


# ------------------------------------------------------------------------------------------------
# 3. The daily summaries go out once


OFFICIALS = [  # (user id, role, unit): one per commune, the district, and team leaders
    *[(8300 + n, Role.OFFICIAL, f"CL{n:02d}") for n in range(1, 11)],
    (8320, Role.OFFICIAL, "CL"),
    (8321, Role.TEAM_LEADER, "CL06"),
    (8322, Role.TEAM_LEADER, "CL02"),
]
AGENTS = [(8350, Role.AGENT, "CL06"), (8351, Role.AGENT, "CL02")]


async def _seed_summaries(services: Any) -> None:
    now = services.clock.now()
    await import_units(SAMPLES / "units_cang_long.csv", services.units, services.clock)
    ids = {}
    for user_id, role, unit in [*OFFICIALS, *AGENTS]:
        ids[user_id] = await services.members.add(
            full_name=f"Cán bộ {user_id}", role=role, unit_code=unit, actor=CLI_ACTOR, at=now,
            user_id=user_id, channel="telegram",
        )
    for user_id, line in [(8350, "bhyt Trần Văn An 8423001234 12 tháng"), (8351, "bhyt Võ Văn Cường 8423009876 6 tháng")]:
        member = await services.members.get(ids[user_id])
        assert isinstance(await services.enrolments.log(member, parse_line(line).draft), Logged)


async def test_the_daily_summaries_go_out_once_with_both_instances_scheduling(tmp_path: Path) -> None:
    """Both instances tick every 0.2 s from 17:00; answers take 0.3 s to come back, so each
    instance's rounds run while the other's parts are in flight."""

    async def seed(url: str) -> None:
        await _seeded(url, tmp_path / "unused.sqlite3", ManualClock(TUESDAY_EARLY), _seed_summaries)

    limits = EmulatorLimits(network_delay=0.3)  # Telegram's limits, answers in flight a while
    async with world(tmp_path, limits, Rates(), TUESDAY_EARLY, tick_seconds=0.2, seed=seed) as w:
        emulator = w.emulator
        for user_id, _, _ in [*OFFICIALS, *AGENTS]:
            emulator.user(user_id, first_name=f"CB{user_id}")
        await w.start_both()
        assert emulator.sent == []  # before 17:00 nothing is due
        write_clock(w.clock_file, TUESDAY_EARLY.replace(minute=0, hour=17, second=5))
        day = TUESDAY_EARLY.date().isoformat()

        async def finished() -> bool:
            runs = await w.counts("summary_runs", "status", f"local_date = '{day}'")
            return sum(runs.values()) == len(OFFICIALS) and not {"claimed", "sending"} & set(runs)

        await eventually(finished, 90, "every summary run finished")
        write_clock(w.clock_file, TUESDAY_EARLY.replace(minute=30, hour=17))  # later ticks: nothing more
        codes = await asyncio.gather(*(instance.stop() for instance in w.instances))
        runs = await w.counts("summary_runs", "status", f"local_date = '{day}'")

    for user_id, _, _ in OFFICIALS:
        methods = [m.method for m in emulator.sent_to(user_id) if m.method in SUMMARY_OUTPUTS]
        assert methods == list(SUMMARY_OUTPUTS), user_id  # each part once, in order
    for user_id, _, _ in AGENTS:
        assert emulator.sent_to(user_id) == []
    assert runs == {"sent": len(OFFICIALS)}  # none lost as 'uncertain', none failed
    assert codes == [0, 0]
