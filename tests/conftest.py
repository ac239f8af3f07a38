"""Shared fixtures: the real Application, built by the production factory, against the emulator.

Nothing of ours is mocked. Telegram is the only thing emulated (it cannot be reached from a
test), SQLite is a real file under tmp_path, and time comes from a ManualClock the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import ManualClock
from bot.services import Services
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
from handlers.telegram.app import SERVICES_KEY, build_application, running, scheduler_of, senders_of
from scheduler.runner import SchedulerRunner
from scheduler.sending import Senders
from tests.storage_engines import PG_SKIP_REASON, server_url

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TOKEN = "123456:TEST-token-for-the-local-emulator"
ADMIN_ID = 900001
# The reference day of the domain brief's examples (base salary 2.530.000 đ).
DEFAULT_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


class BotHarness:
    """Starts, stops and restarts the real bot on one database file, like an operator would."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        db_path: Path,
        clock: ManualClock,
        **settings: Any,
    ) -> None:
        self.emulator = emulator
        self.db_path = db_path
        self.clock = clock
        self.settings_overrides = settings
        self.application: Any = None
        self._running: Any = None

    def settings(self) -> Settings:
        values: dict[str, Any] = {
            "telegram_api_base_url": self.emulator.api_base_url,
            "database_path": self.db_path,
            "admin_telegram_ids": (ADMIN_ID,),
            "scheduler_tick_seconds": 3600,
        }
        values.update(self.settings_overrides)
        return Settings(_env_file=None, telegram_bot_token=TOKEN, **values)  # type: ignore[call-arg]

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]

    @property
    def scheduler(self) -> SchedulerRunner:
        """The running bot's scheduler (its jobs, rounds and senders)."""
        return scheduler_of(self.application)

    @property
    def senders(self) -> Senders:
        """The senders by channel the scheduled rounds use."""
        return senders_of(self.application)

    async def start(self) -> None:
        self.application = build_application(self.settings(), token=TOKEN, clock=self.clock)
        self._running = running(self.application, poll_timeout=1)
        await self._running.__aenter__()

    async def stop(self) -> None:
        if self._running is not None:
            await self._running.__aexit__(None, None, None)
            self._running = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture(autouse=True)
def _no_operator_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their own settings: an operator's environment must not leak into them."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DEFAULT_NOW)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    # Conversations relax the per-chat limit (a person's own back-and-forth); fan-out tests
    # build their own emulator with Telegram's full limits.
    emu = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=30, per_chat_interval=None))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def harness(emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    bot = BotHarness(emulator, tmp_path / "bot.sqlite3", clock)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Any]:
    """The conversation core without any channel (tests/flow_harness.py)."""
    from tests.flow_harness import flow_world

    async with flow_world(tmp_path / "flows.db", clock) as opened:
        yield opened


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line when the PostgreSQL half was skipped (no server at TEST_DATABASE_URL): on a
    newcomer's machine the SQLite half still runs; `.ci/run` checks the server first
    (`./dev postgres`), so there it fails instead."""
    skipped = [
        report for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and PG_SKIP_REASON in str(report.longrepr[2])
    ]
    if skipped:
        terminalreporter.write_line(
            f"skipped the PostgreSQL half: {len(skipped)} tests ({PG_SKIP_REASON} at {server_url()};"
            " start a server or set TEST_DATABASE_URL, see ./dev postgres)"
        )
