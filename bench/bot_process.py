"""The production bot in a process of its own, for the limit benchmarks (bench/bench_limits.py).

    python -m bench.bot_process serve  DB API_BASE_URL ISO_NOW   # answer until stdin closes
    python -m bench.bot_process remind DB API_BASE_URL ISO_NOW   # one reminder round, then exit

The emulator (Telegram, and the people) runs in the benchmark's process, as Telegram runs on
its own servers: its clock and counts are not disturbed by the bot's own work, and the bot's
pauses (garbage collection, a busy machine) reach it as they would reach Telegram. Settings
come from the environment like in production (TELEGRAM_MAX_PER_SECOND,
TELEGRAM_SAFETY_MARGIN, REMINDER_CONCURRENCY...).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bench.common import BENCH_TOKEN, update_processor_label
from bot.domain.clock import ManualClock
from bot.settings import Settings
from handlers.telegram.app import SERVICES_KEY, build_application, running, senders_of
from scheduler.reminders import run_reminder_round


async def main(mode: str, db_path: str, base_url: str, now: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=BENCH_TOKEN,
        telegram_api_base_url=base_url,
        database_path=Path(db_path),
        scheduler_tick_seconds=3600,
    )
    clock = ManualClock(datetime.fromisoformat(now))
    application = build_application(settings, token=BENCH_TOKEN, clock=clock)
    label = update_processor_label(application, 64) if mode == "serve" else ""
    async with running(application, poll_timeout=1):
        if mode == "remind":
            report = await run_reminder_round(application.bot_data[SERVICES_KEY], senders_of(application))
            print(f"sent={report.sent} rate_limited={report.rate_limited} retried={report.retried}", flush=True)
        else:
            print(f"ready updates={label}", flush=True)
            await asyncio.to_thread(sys.stdin.read)  # until the benchmark closes our stdin


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
