"""A bot process for the ZNS fan-out and SIGKILL test: the real services on the given SQLite
file, the real ZNS client and token manager against the Zalo emulator running in the test
process, running reminder rounds (settings from the environment, as `bhxh-bot run` reads them).

    python -m tests.zns_worker CLOCK_FILE ISO_TIME [ISO_TIME ...]

One round per ISO time, written to CLOCK_FILE first (the emulator in the test process reads the
same file, so both agree on the time). Each round prints `round k: <zns summary>`. The test
process runs the webhook, the inbox and the Zalo worker that settles rows from receipts.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

import httpx

from bot.bootstrap import build_services
from bot.settings import Settings
from handlers.zalo.tokens import TokenManager
from handlers.zalo.zns_client import ZNSClient
from handlers.zalo.zns_sender import ZnsSender
from scheduler.reminders import run_reminder_round
from scheduler.zns import ZnsQueue
from storage.sqlite.engine import SQLiteStorage
from storage.sqlite.zalo_tokens import SqliteTokenStore
from tests.reminder_worker import FileClock


async def main(clock_file: str, times: list[str]) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    clock = FileClock(Path(clock_file))
    clock.set(datetime.fromisoformat(times[0]))
    services = build_services(settings, clock)
    await services.storage.connect()
    storage = services.storage
    assert isinstance(storage, SQLiteStorage) and settings.zalo_app_id and settings.zalo_app_secret
    async with httpx.AsyncClient() as http:
        tokens = TokenManager(
            http,
            oauth_base_url=settings.zalo_oauth_base_url,
            app_id=settings.zalo_app_id,
            app_secret=settings.zalo_app_secret,
            store=SqliteTokenStore(storage.db, settings.zalo_app_id, clock, seed=settings.zalo_refresh_token),
            clock=clock,
            initial_refresh_token=settings.zalo_refresh_token,
        )
        reminders = services.reminders
        assert reminders.zns_templates is not None
        queue = ZnsQueue(
            ZnsSender(ZNSClient(http, settings.zalo_zns_base_url, tokens)),
            reminders.zns_templates,
            reminders.zns_hours,
            settings.zns_concurrency,
        )
        try:
            for number, at in enumerate(times, start=1):
                clock.set(datetime.fromisoformat(at))
                report = await run_reminder_round(services, {}, queue)
                assert report.zns is not None
                print(f"round {number}: {report.zns.summary()}", flush=True)
        finally:
            await services.storage.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
