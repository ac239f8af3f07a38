"""Lapsed-card reminders at scale.

1. Selecting and queueing: 1,000,000 cards in ~333,000 households across 1,000 units, expiries
   spread over 2026, one linked Telegram user per household. Times the import (upsert of a
   monthly list), then one selection round (`ReminderService.queue_round`: the SQL that finds
   every person due and writes their outbox rows) and a second round (nothing new: the
   idempotence check), with the process's peak RSS and tracemalloc's peak for the round.
2. Sustained sending: the production bot in its own process against the local emulator
   counting Telegram's limits over any sliding second (30 a second overall, 1 a second per
   chat) behind a 60 ms round trip, one reminder each to BENCH_SEND people; rate = messages /
   (last - first arrival), as a fraction of 30/s, the 429s the emulator gave, the busiest
   sliding second and the most requests in flight.

`python -m bench reminders`; BENCH_CARDS (default 1,000,000) and BENCH_SEND (default 5,000) for
a smaller or larger run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import tracemalloc
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import (
    BENCH_TOKEN,
    Instrument,
    limit_figures,
    peak_rss_mib,
    report,
    start_bot_process,
    telegram_limits,
    timed,
)
from bench.datasets import lapsed_cards as _cards
from bot.bootstrap import open_services
from bot.domain.clock import ManualClock
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator
from handlers.telegram.app import SERVICES_KEY, build_application

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
TOKEN = "100000003:BENCH-token-for-the-local-emulator"


def _reset_peak_rss() -> bool:
    """Linux: restart the process's peak-RSS count (VmHWM), to measure one step alone."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _status_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _settings(path: Path, base_url: str = "http://127.0.0.1:9") -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, telegram_api_base_url=base_url,
        database_path=path, scheduler_tick_seconds=3600,
    )


async def bench_selection(count: int) -> None:
    cards, links = _cards(count)
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        async with open_services(_settings(path), ManualClock(NOW)) as opened:
            repo = opened.storage.cards
            with timed() as imported:
                counts = await repo.import_cards(cards, "bench", NOW)
                await repo.link_phones(links, NOW, channel="telegram")
            with timed() as reimported:
                again = await repo.import_cards(cards, "bench", NOW)
        del cards
        report(
            "reminders import", cards=f"{counts.added:,}", households=f"{len(links):,}",
            import_s=f"{imported.seconds:.1f}", reimport_unchanged=f"{again.unchanged:,}",
            reimport_s=f"{reimported.seconds:.1f}",
        )
        application = build_application(_settings(path), token=TOKEN, clock=ManualClock(NOW))
        services = application.bot_data[SERVICES_KEY]
        await services.storage.connect()
        try:
            measured = _reset_peak_rss()
            rss_before = _status_mib("VmRSS")
            tracemalloc.start()
            with timed() as first:
                queued = await services.reminders.queue_round(NOW)
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            round_peak = _status_mib("VmHWM") if measured else float("nan")
            with timed() as second:
                requeued = await services.reminders.queue_round(NOW)
        finally:
            await services.storage.close()
        report(
            "reminders select+queue", cards=f"{count:,}", linked_people=f"{len(links):,}",
            queued=f"{queued:,}", seconds=f"{first.seconds:.1f}",
            second_round_queued=requeued, second_round_s=f"{second.seconds:.1f}",
            python_peak_kib=f"{traced_peak / 1024:.0f}",
            rss_growth_during_round_mib=f"{round_peak - rss_before:.0f}",
            process_peak_rss_mib=f"{peak_rss_mib():.0f}",
        )


async def bench_sending(people: int) -> None:
    """One reminder each to `people` people: the production bot in its own process
    (bench/bot_process.py) against the emulator counting Telegram's limits over any sliding
    second at arrival, behind a 60 ms round trip (bench/common.py: `telegram_limits`)."""
    emulator = BotApiEmulator(token=BENCH_TOKEN, limits=telegram_limits())
    await emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
            path = Path(tmp) / "send.sqlite3"
            async with open_services(_settings(path), ManualClock(NOW)) as opened:
                repo = opened.storage.cards
                cards, links = _cards(people * 5, all_due=True)
                links = links[:people]
                await repo.import_cards(cards, "bench", NOW)
                await repo.link_phones(links, NOW, channel="telegram")
            for user, _ in links:
                emulator.user(user)
            async with Instrument() as instrument:
                with timed() as elapsed:
                    bot = await start_bot_process("remind", path, emulator, NOW)
                    out, _ = await bot.communicate()
            line = out.decode().strip().splitlines()[-1] if out else f"exit {bot.returncode}"
        report(
            f"reminder fan-out, 60 ms round trip, sliding-second limits (bot: {line})",
            people=people, seconds=f"{elapsed.seconds:.1f}", **limit_figures(emulator),
            **instrument.figures(emulator),
        )
    finally:
        await emulator.stop()


def run() -> None:
    asyncio.run(bench_selection(int(os.environ.get("BENCH_CARDS", "1000000"))))
    asyncio.run(bench_sending(int(os.environ.get("BENCH_SEND", "5000"))))


if __name__ == "__main__":
    run()
