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


#: The network the limit benchmarks assume between the bot and Telegram: a 60 ms round trip
#: (30 ms each way) with 0-10 ms of random jitter each way.
NETWORK_DELAY = 0.06
NETWORK_JITTER = 0.01
TELEGRAM_LIMIT = 30


def telegram_limits(delay: float = NETWORK_DELAY, jitter: float = NETWORK_JITTER) -> Any:
    """Telegram's limits as Telegram counts them (any sliding second, at the server, no slack:
    30 overall, 1 per chat) behind a real network's round trip."""
    from devtools.telegram_emulator import EmulatorLimits

    return EmulatorLimits(
        global_per_second=TELEGRAM_LIMIT, per_chat_interval=1.0, tolerance=0.0,
        network_delay=delay, network_jitter=jitter,
    )


def limit_figures(emulator: Any, methods: frozenset[str] = frozenset({"sendMessage"})) -> dict[str, object]:
    """What the server saw: accepted sends, their rate over the run as a fraction of 30/s,
    429s, the busiest sliding second and the most message requests in flight at once."""
    stamps = sorted(m.timestamp for m in emulator.sent if m.method in methods and not m.edited)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    rate = (len(stamps) - 1) / span if len(stamps) > 1 else float("nan")
    stats = emulator.stats
    return {
        "accepted": len(stamps),
        "rate_per_s": f"{rate:.2f}",
        "of_30_per_s": f"{rate / TELEGRAM_LIMIT:.3f}",
        "flood_429": stats.flood_429,
        "max_in_any_sliding_second": stats.max_per_sliding_second,
        "max_sends_in_flight": stats.max_in_flight,
    }


def update_processor_label(application: Any, count: int) -> str:
    """A label naming the application's update processor for the report.

    handlers/telegram/app.py handles different people's updates concurrently (handlers/telegram/updates.py); a serial
    processor would cap replies near 1 / round trip whatever the limiter allows, so the
    benchmark refuses to measure one rather than patch it. ``count`` is the least it expects."""
    current = application.update_processor
    if current.max_concurrent_updates < count:
        raise RuntimeError(f"handlers/telegram/app.py handles {current.max_concurrent_updates} updates at once; expected {count}")
    return f"{type(current).__name__}({current.max_concurrent_updates}) from handlers/telegram/app.py"


@asynccontextmanager
async def bot_on_emulator(
    rate_limited: bool,
    now: datetime,
    limits: Any = None,
    concurrent_updates: int = 0,
    **settings_kwargs: Any,
) -> AsyncIterator[tuple[Any, Any]]:
    """The production Application on a temporary database, polling the emulator.

    By default the emulator's own limits are off so that the figure is the bot's; `limits`
    (an EmulatorLimits) puts Telegram's limits and a network in front of it. `rate_limited`
    keeps or drops the bot-side limiter (Telegram's 30 messages a second). Yields (emulator,
    application).
    """
    from bot.domain.clock import ManualClock
    from bot.settings import Settings
    from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
    from handlers.telegram.app import build_application, running

    with tempfile.TemporaryDirectory() as tmp:
        emulator = BotApiEmulator(
            token=BENCH_TOKEN, limits=limits or EmulatorLimits(global_per_second=None, per_chat_interval=None)
        )
        await emulator.start()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=BENCH_TOKEN,
            telegram_api_base_url=emulator.api_base_url,
            database_path=Path(tmp) / "bench.sqlite3",
            **settings_kwargs,
        )
        clock = ManualClock(now.replace(tzinfo=settings.tz) if now.tzinfo is None else now)
        app = build_application(settings, token=BENCH_TOKEN, clock=clock, rate_limited=rate_limited)
        if concurrent_updates:
            update_processor_label(app, concurrent_updates)
        try:
            async with running(app, poll_timeout=1):
                yield emulator, app
        finally:
            await emulator.stop()


ROOT = Path(__file__).resolve().parents[1]


async def start_bot_process(mode: str, db_path: Path, emulator: Any, now: datetime) -> Any:
    """Start bench/bot_process.py (`serve` or `remind`) against `emulator`; returns the
    asyncio subprocess (stdin, stdout piped). Settings pass through the environment."""
    import asyncio

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ") or k.startswith(
        ("TELEGRAM_", "REMINDER_"))}
    env["PYTHONPATH"] = str(ROOT)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bot_process", mode, str(db_path), emulator.api_base_url, now.isoformat(),
        cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )


class Instrument:
    """The benchmark's own process (the emulator: Telegram's side) while it measures.

    No garbage collection meanwhile: a collection pass over its records pauses it for tens of
    milliseconds, and requests that reach it during a pause are stamped together when it
    resumes, as if they had arrived together, which they did not (a pause of the measuring
    instrument, not of the bot or the network). The bot's own process keeps its garbage
    collector, as in production. The pauses the instrument still suffers (a busy machine) are
    recorded, so that a report can say which 429s followed one."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []  # (when, how long) of pauses >= 20 ms
        self._task: Any = None

    async def __aenter__(self) -> Instrument:
        import asyncio
        import gc

        gc.collect()
        gc.disable()
        loop = asyncio.get_running_loop()

        async def watch() -> None:
            while True:
                before = loop.time()
                await asyncio.sleep(0.002)
                late = loop.time() - before - 0.002
                if late >= 0.02:
                    self.pauses.append((before, late))

        self._task = asyncio.ensure_future(watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        import gc

        self._task.cancel()
        gc.enable()

    def after_pause(self, emulator: Any) -> int:
        """Flood 429s that came within a second after a pause of the instrument."""
        return sum(
            1 for r in emulator.rejected
            if r.error_code == 429 and "retry after" in r.description
            and any(at - 0.1 <= r.at <= at + late + 1.0 for at, late in self.pauses)
        )

    def figures(self, emulator: Any) -> dict[str, object]:
        return {
            "instrument_pauses_over_20ms": len(self.pauses),
            "longest_ms": f"{max((late for _, late in self.pauses), default=0) * 1000:.0f}",
            "429s_within_1s_after_one": self.after_pause(emulator),
        }
