"""A bot process for the fan-out and crash tests: the real Application on the given SQLite file,
against the emulator running in the test process, running reminder rounds.

    python -m tests.reminder_worker DB_PATH API_BASE_URL CLOCK_FILE ISO_TIME [ISO_TIME ...]

One round per ISO time. The clock is injected as usual, read from CLOCK_FILE: the worker
writes each round's time there, and the test may overwrite it during a round (e.g. to let the
evening end in the middle of a fan-out). Each round prints one line: `round k: key=value ...`.
Running the bot in its own process also gives it its own core: the emulator's work stays in
the test process.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from bot.settings import Settings
from handlers.telegram.app import SERVICES_KEY, build_application, running, senders_of
from scheduler.reminders import run_reminder_round
from tests.reminder_support import FAST_LIMITS, install_limiter

TOKEN = "123456:TEST-token-for-the-local-emulator"


class FileClock:
    """The injected clock, read from a file the test can rewrite (re-read when it changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = -1
        self._now = datetime.min

    def set(self, moment: datetime) -> None:
        self.path.write_text(moment.isoformat(), encoding="utf-8")

    def now(self) -> datetime:
        stamp = os.stat(self.path).st_mtime_ns
        if stamp != self._stamp:
            text = self.path.read_text(encoding="utf-8").strip()
            if text:  # a writer may be halfway; keep the last time read
                self._now = datetime.fromisoformat(text)
                self._stamp = stamp
        return self._now


async def main(db_path: str, base_url: str, clock_file: str, times: list[str]) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=base_url,
        database_path=Path(db_path),
        scheduler_tick_seconds=3600,
        **FAST_LIMITS,
    )
    clock = FileClock(Path(clock_file))
    clock.set(datetime.fromisoformat(times[0]))
    application = build_application(settings, token=TOKEN, clock=clock)
    install_limiter(application, settings)
    async with running(application, poll_timeout=1):
        for number, at in enumerate(times, start=1):
            clock.set(datetime.fromisoformat(at))
            report = await run_reminder_round(application.bot_data[SERVICES_KEY], senders_of(application))
            print(
                f"round {number}: recovered={report.recovered} queued={report.queued} sent={report.sent}"
                f" blocked={report.blocked} retried={report.retried} outside_hours={report.outside_hours}",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
