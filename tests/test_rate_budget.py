"""Telegram's limit held across instances: one paced stream shared through the database
(`storage.contract.RateBudget`, storage/*/coordination.py; `BotRateLimiter.share`).

Two limiters on one database stand for two instances on one bot token: each alone paces at
28.8 a second, together they would send twice that; shared, they send 28.8 a second together.
Checked against the emulator counting Telegram's 30 a second at arrival, on both engines."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ExtBot

from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
from handlers.telegram.ratelimit import BULK, BotRateLimiter
from storage.contract import Storage
from storage.engines import open_storage
from tests.storage_engines import ENGINES, EngineSettings, database_url

TOKEN = "123456:TEST-token-for-the-shared-budget"
PER_INSTANCE = 45


@asynccontextmanager
async def two_instances(engine: str, tmp_path: Path) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two storages, each with its own connections, on one fresh database."""
    path = tmp_path / "shared.sqlite3"
    async with database_url(engine, path) as url, AsyncExitStack() as stack:
        opened = []
        for _ in range(2):
            storage = open_storage(EngineSettings(url, path))
            await storage.connect()
            stack.push_async_callback(storage.close)
            opened.append(storage)
        yield opened[0], opened[1]


@asynccontextmanager
async def two_bots(
    engine: str, tmp_path: Path, emulator: BotApiEmulator, shared: bool, **limiter: Any
) -> AsyncIterator[list[ExtBot[None]]]:
    """Two bots on one token, each with its own limiter (`limiter`: BotRateLimiter's arguments
    beyond the 30/s) and its own storage on one fresh database; the limiters share the budget
    when `shared`. Initialised for the block, shut down after it."""
    async with two_instances(engine, tmp_path) as storages:
        bots = []
        for storage in storages:
            rate_limiter = BotRateLimiter(30, **limiter)
            if shared:
                rate_limiter.share(storage.coordination)
            bots.append(ExtBot(TOKEN, base_url=emulator.base_url, rate_limiter=rate_limiter))
        for bot in bots:
            await bot.initialize()
        try:
            yield bots
        finally:
            for bot in bots:
                await bot.shutdown()


@pytest.mark.parametrize("engine", ENGINES)
async def test_reservations_from_two_instances_form_one_paced_stream(engine: str, tmp_path: Path) -> None:
    """Whichever instance reserves, each release is one spacing after the one before it;
    another stream is paced on its own."""
    spacing = 60.0
    async with two_instances(engine, tmp_path) as (one, two):
        waits = []
        for storage in (one, two, one, two):
            waits.append(await storage.coordination.reserve_send("telegram", spacing))
        other = await two.coordination.reserve_send("another-bot", spacing)
    assert waits[0] == 0.0 and other == 0.0
    for before, after in zip(waits, waits[1:], strict=False):
        # one spacing later, less the time the reservations took (far below 10 s)
        assert spacing - 10 < after - before <= spacing


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_shared_window_admits_the_limit_from_every_instance_then_says_how_long(
    engine: str, tmp_path: Path
) -> None:
    """Three in a minute: whichever instance asks, the first three are admitted and the fourth
    is told to wait for the first to leave the window (and is not counted); another stream
    has its own window."""
    async with two_instances(engine, tmp_path) as (one, two):
        admitted = [await storage.coordination.admit_send("telegram", 3, 60.0) for storage in (one, two, one)]
        refused = [await storage.coordination.admit_send("telegram", 3, 60.0) for storage in (two, one)]
        other = await two.coordination.admit_send("another-bot", 3, 60.0)
        wider = await one.coordination.admit_send("telegram", 4, 60.0)  # a higher limit has room
        narrower = await two.coordination.admit_send("telegram", 2, 60.0)
    assert admitted == [0.0, 0.0, 0.0] and other == 0.0 and wider == 0.0
    assert all(50 < wait <= 60 for wait in refused), refused  # 60 s less the moments since
    assert 50 < narrower <= 60


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_shared_window_slides(engine: str, tmp_path: Path) -> None:
    """Once the oldest admission is older than the window, there is room again."""
    async with two_instances(engine, tmp_path) as (one, two):
        assert await one.coordination.admit_send("telegram", 2, 0.3) == 0.0
        assert await two.coordination.admit_send("telegram", 2, 0.3) == 0.0
        wait = await one.coordination.admit_send("telegram", 2, 0.3)
        assert 0 < wait <= 0.3
        await asyncio.sleep(wait + 0.02)
        assert await two.coordination.admit_send("telegram", 2, 0.3) == 0.0


async def send_all(
    engine: str,
    tmp_path: Path,
    shared: bool,
    tolerance: float = 0.1,
    meanwhile: Callable[[BotApiEmulator], Awaitable[None]] | None = None,
) -> BotApiEmulator:
    """Two limiters (two instances) each send PER_INSTANCE bulk messages at once to an emulator
    enforcing Telegram's 30/s (over 1 s less `tolerance`), while `meanwhile(emulator)` runs;
    returns the emulator after every message arrived, each exactly once (429s retried)."""
    limits = EmulatorLimits(global_per_second=30, per_chat_interval=1.0, tolerance=tolerance)
    emulator = BotApiEmulator(token=TOKEN, limits=limits)
    await emulator.start()
    try:
        async with two_bots(engine, tmp_path, emulator, shared, per_chat_interval=1.0) as bots:
            chats = [emulator.user(700 + i).id for i in range(2 * PER_INSTANCE)]
            await asyncio.gather(
                *([meanwhile(emulator)] if meanwhile is not None else []),
                *(bots[i % 2].send_message(chat, "tin", rate_limit_args=BULK) for i, chat in enumerate(chats)),
            )
        delivered = Counter(m.chat_id for m in emulator.sent)
        assert delivered == {chat: 1 for chat in chats}  # every message exactly once (429s retried)
        return emulator
    finally:
        await emulator.stop()


@pytest.mark.parametrize("engine", ENGINES)
async def test_two_instances_sharing_the_budget_stay_within_30_a_second_together(
    engine: str, tmp_path: Path
) -> None:
    # 0.1 s of slack for request jitter, as in tests/test_ratelimit.py: a busy machine can bunch
    # requests up on the way; the margin at Telegram's exact limit is `./dev bench limits`' job.
    emulator = await send_all(engine, tmp_path, shared=True)
    assert emulator.stats.flood_429 <= 3  # a stray one from a busy machine's jitter at most


async def stall_the_loop(emulator: BotApiEmulator) -> None:
    """Once 10 messages arrived, stop the whole event loop for 3 s, as a busy machine would."""
    while len(emulator.sent) < 10:
        await asyncio.sleep(0.01)
    time.sleep(3.0)  # noqa: ASYNC251 - the point: the whole loop stops


@pytest.mark.parametrize(("engine", "shared"), [*((e, True) for e in ENGINES), ("sqlite", False)])
async def test_a_stall_does_not_let_both_instances_release_their_overdue_sends_at_once(
    engine: str, shared: bool, tmp_path: Path
) -> None:
    """The event loop stops for 3 s mid-fan-out (a busy machine): every send whose paced slot
    passed meanwhile (86 at 28.8 a second, more than the 80 left) is due at once, in both
    instances. Each instance's own window lets through 30, both together 60 (the control, not
    shared); the shared window lets through 30 together, and the next 30 a window later.

    The emulator refuses what goes over 30 in 0.7 s (tolerance 0.3 s): it runs in the same busy
    process, so a loaded machine stamps arrivals late; the batches the shared window lets
    through come 1.04 s apart, so 0.7 s tells 30 from 60 without counting our own machine's
    delays."""
    emulator = await send_all(engine, tmp_path, shared, tolerance=0.3, meanwhile=stall_the_loop)
    if shared:  # nothing over 30 in any 0.7 s (the emulator's window here)
        assert emulator.stats.flood_429 == 0, emulator.stats
    else:
        assert emulator.stats.flood_429 > 10, emulator.stats


@pytest.mark.parametrize(("engine", "shared"), [*((e, True) for e in ENGINES), ("sqlite", False)])
async def test_bulk_sends_from_two_instances_to_one_chat_keep_its_interval(
    engine: str, shared: bool, tmp_path: Path
) -> None:
    """Two instances each send three bulk messages to one person (say, reminders of two
    campaigns): shared, they keep the chat's interval together; alone (the control), each
    keeps it only for its own messages and Telegram refuses some."""
    interval = 0.3
    limits = EmulatorLimits(global_per_second=30, per_chat_interval=interval, tolerance=0.05)
    emulator = BotApiEmulator(token=TOKEN, limits=limits)
    await emulator.start()
    try:
        async with two_bots(engine, tmp_path, emulator, shared, per_chat_interval=interval, max_retries=0) as bots:
            chat = emulator.user(800).id
            results = await asyncio.gather(
                *(bots[i % 2].send_message(chat, f"tin {i}", rate_limit_args=BULK) for i in range(6)),
                return_exceptions=True,
            )
    finally:
        await emulator.stop()
    refused = [r for r in results if isinstance(r, Exception)]
    if shared:
        assert refused == [] and len(emulator.sent) == 6
    else:
        assert refused and emulator.stats.flood_429 == len(refused)


async def test_without_the_shared_budget_two_instances_exceed_the_limit(tmp_path: Path) -> None:
    """The control: each instance alone keeps 28.8/s, the two together get refused."""
    emulator = await send_all("sqlite", tmp_path, shared=False)
    assert emulator.stats.flood_429 > 15


async def test_a_database_that_does_not_answer_leaves_the_local_pace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The shared pace is gone (the database closed): sends still go, at this instance's own
    pace, and the operator is told once, not at every send."""
    emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=30, per_chat_interval=None))
    await emulator.start()
    storage = open_storage(EngineSettings(None, tmp_path / "gone.sqlite3"))
    await storage.connect()
    limiter = BotRateLimiter(30)
    limiter.share(storage.coordination)
    await storage.close()
    bot = ExtBot(TOKEN, base_url=emulator.base_url, rate_limiter=limiter)
    try:
        await bot.initialize()
        chats = [emulator.user(900 + i).id for i in range(5)]
        await asyncio.gather(*(bot.send_message(chat, "tin") for chat in chats))
        assert sorted(m.chat_id for m in emulator.sent) == sorted(chats)
        warnings = [r for r in caplog.records if "shared send pace (telegram) unavailable" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        await bot.shutdown()
        await emulator.stop()
