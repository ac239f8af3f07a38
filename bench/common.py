"""Helpers shared by the benchmarks: timing, peak memory and the machine they ran on."""

from __future__ import annotations

import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


def machine() -> str:
    """One line naming the machine, for the README next to the figures."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {sys.version.split()[0]}, {platform.system()}"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    timer = Timer()
    start = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - start


def report(name: str, **figures: object) -> None:
    parts = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"{name}: {parts}", flush=True)


BENCH_TOKEN = "123456:BENCH-token-for-the-local-emulator"


@asynccontextmanager
async def bot_on_emulator(rate_limited: bool, now: datetime) -> AsyncIterator[tuple[Any, Any]]:
    """The production Application on a temporary database, polling a limit-free emulator.

    The emulator's own limits are off so that the figure is the bot's; `rate_limited` keeps or
    drops the bot-side limiter (Telegram's 30 messages a second). Yields (emulator, application).
    """
    from bot.app import build_application, running
    from bot.clock import ManualClock
    from bot.emulator import BotApiEmulator, EmulatorLimits
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        emulator = BotApiEmulator(
            token=BENCH_TOKEN, limits=EmulatorLimits(global_per_second=None, per_chat_interval=None)
        )
        await emulator.start()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=BENCH_TOKEN,
            telegram_api_base_url=emulator.api_base_url,
            database_path=Path(tmp) / "bench.sqlite3",
        )
        clock = ManualClock(now.replace(tzinfo=settings.tz) if now.tzinfo is None else now)
        app = build_application(settings, token=BENCH_TOKEN, clock=clock, rate_limited=rate_limited)
        try:
            async with running(app, poll_timeout=1):
                yield emulator, app
        finally:
            await emulator.stop()
