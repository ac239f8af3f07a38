"""Lapsed-card reminders at scale.

1. Selecting and queueing: 1,000,000 cards in ~333,000 households across 1,000 units, expiries
   spread over 2026, one linked Telegram user per household. Times the import (upsert of a
   monthly list), then one selection round (`ReminderService.queue_round`: the SQL that finds
   every person due and writes their outbox rows) and a second round (nothing new: the
   idempotence check), with the process's peak RSS and tracemalloc's peak for the round.
2. Sustained sending: the real Application against the local emulator with Telegram's limits
   (30 messages a second overall, 1 a second per chat), one reminder each to BENCH_SEND people;
   rate = messages / (last - first arrival), as a ratio of 30/s, and the 429s the emulator gave.

`python -m bench reminders`; BENCH_CARDS (default 1,000,000) and BENCH_SEND (default 900) for
a smaller or larger run.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import peak_rss_mib, report, timed
from bot.app import SERVICES_KEY, build_application, running
from bot.cards import Card
from bot.clock import ManualClock
from bot.emulator import BotApiEmulator, EmulatorLimits
from bot.ratelimit import BotRateLimiter
from bot.settings import Settings
from scheduler.reminders import run_reminder_round
from storage.cards import CardRepository
from storage.db import Database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
TOKEN = "100000003:BENCH-token-for-the-local-emulator"
FIRST_USER = 10_000_000


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


def _cards(count: int, seed: int = 2026, all_due: bool = False) -> tuple[list[Card], list[tuple[int, str]]]:
    """Households of 1 to 5 (mean 3); the first member carries the phone and links Telegram.
    Expiries are spread over 2026 (``all_due``: all in January-September)."""
    rng = random.Random(seed)
    cards: list[Card] = []
    links: list[tuple[int, str]] = []
    household = 0
    while len(cards) < count:
        household += 1
        unit = f"U{household % 1000:04d}"
        valid_to = date(2026, 1, 1) + timedelta(days=rng.randrange(270 if all_due else 365))
        phone = f"09{household:08d}"
        links.append((FIRST_USER + household, phone))
        for member in range(min(rng.randint(1, 5), count - len(cards))):
            code = f"{len(cards):010d}"
            cards.append(Card(
                bhxh_code=code, full_name=f"Người {code}", unit_code=unit, valid_to=valid_to,
                card_code=f"GD484{code}", household_code=f"H{household}", sex="nu",
                birth_date=date(1960 + member * 9, 1, 1), phone=phone if member == 0 else None,
            ))
    return cards, links


def _settings(path: Path, base_url: str = "http://127.0.0.1:9") -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, telegram_api_base_url=base_url,
        database_path=path, scheduler_tick_seconds=3600,
    )


async def bench_selection(count: int) -> None:
    cards, links = _cards(count)
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        db = Database(path)
        await db.connect()
        repo = CardRepository(db)
        with timed() as imported:
            counts = await repo.import_cards(cards, "bench", NOW)
            await repo.link_phones(links, NOW)
        with timed() as reimported:
            again = await repo.import_cards(cards, "bench", NOW)
        await db.close()
        del cards
        report(
            "reminders import", cards=f"{counts.added:,}", households=f"{len(links):,}",
            import_s=f"{imported.seconds:.1f}", reimport_unchanged=f"{again.unchanged:,}",
            reimport_s=f"{reimported.seconds:.1f}",
        )
        application = build_application(_settings(path), token=TOKEN, clock=ManualClock(NOW))
        services = application.bot_data[SERVICES_KEY]
        await services.db.connect()
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
            await services.db.close()
        report(
            "reminders select+queue", cards=f"{count:,}", linked_people=f"{len(links):,}",
            queued=f"{queued:,}", seconds=f"{first.seconds:.1f}",
            second_round_queued=requeued, second_round_s=f"{second.seconds:.1f}",
            python_peak_kib=f"{traced_peak / 1024:.0f}",
            rss_growth_during_round_mib=f"{round_peak - rss_before:.0f}",
            process_peak_rss_mib=f"{peak_rss_mib():.0f}",
        )


async def bench_sending(people: int) -> None:
    emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=30, per_chat_interval=1.0))
    await emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
            settings = _settings(Path(tmp) / "send.sqlite3", emulator.api_base_url)
            application = build_application(settings, token=TOKEN, clock=ManualClock(NOW))
            if not isinstance(application.bot.rate_limiter, BotRateLimiter):
                application.bot._rate_limiter = BotRateLimiter.from_settings(settings)  # noqa: SLF001
            async with running(application, poll_timeout=1):
                services = application.bot_data[SERVICES_KEY]
                cards, links = _cards(people * 5, all_due=True)
                links = links[:people]
                await services.cards.repo.import_cards(cards, "bench", NOW)
                await services.cards.repo.link_phones(links, NOW)
                for user, _ in links:
                    emulator.user(user)
                with timed() as elapsed:
                    result = await run_reminder_round(services, application.bot)
        stamps = sorted(m.timestamp for m in emulator.sent if m.method == "sendMessage")
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
        # Arrivals in any one-second window (the emulator allows 20 ms of network jitter).
        busiest = max(sum(1 for u in stamps if t <= u < t + 0.98) for t in stamps)
        report(
            "reminders send @30/s", people=people, sent=result.sent, seconds=f"{elapsed.seconds:.1f}",
            rate_per_s=f"{rate:.2f}", ratio_of_limit=f"{rate / 30:.3f}",
            busiest_second=busiest, emulator_429=sum(1 for r in emulator.rejected if r.error_code == 429),
        )
    finally:
        await emulator.stop()


def run() -> None:
    asyncio.run(bench_selection(int(os.environ.get("BENCH_CARDS", "1000000"))))
    asyncio.run(bench_sending(int(os.environ.get("BENCH_SEND", "900"))))


if __name__ == "__main__":
    run()
