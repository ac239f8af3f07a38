"""A ZNS reminder world for tests: the Zalo emulator and the real Zalo channel (webhook, inbox,
worker with the reminder events hook) from tests/zalo_world.py, the bot's services on the same
SQLite file, and a ZnsQueue over the real ZNSClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.bootstrap import build_services
from bot.domain.cards import Card
from bot.domain.clock import ManualClock
from bot.domain.reminders import Hours
from bot.domain.zns import ZnsTemplates
from bot.services import Services
from devtools.zalo import ZaloLimits
from handlers.zalo.zns_sender import ReminderEvents, zns_queue
from scheduler.reminders import RoundReport, run_reminder_round
from scheduler.zns import ZnsQueue
from tests.zalo_world import FAST, ZaloWorld, zalo_world

LAPSED_ON = date(2026, 9, 18)
BASIS = "Công văn 123/BHXH-QLT ngày 01/10/2026"


def phone(n: int) -> str:
    return f"09{n:08d}"


def card(n: int, unit: str = "CL01") -> Card:
    """Person n: one household, one lapsed card carrying their phone."""
    return Card(
        bhxh_code=f"{n:010d}", full_name=f"Nguyễn Thị Người{n}", unit_code=unit, valid_to=LAPSED_ON,
        card_code=f"GD48484{n:010d}"[:15], household_code=f"H{n}", sex="nu",
        birth_date=date(1985, 1, 1), phone=phone(n),
    )


@dataclass
class ZnsWorld:
    zalo: ZaloWorld
    services: Services
    queue: ZnsQueue
    clock: ManualClock

    async def round(self, at: datetime) -> RoundReport:
        self.clock.set(at)
        return await run_reminder_round(self.services, {}, self.queue)

    async def receipts(self) -> None:
        """Every receipt the emulator holds is posted, and the worker handles the inbox."""
        await self.zalo.emulator.release_receipts()
        while await self.zalo.drain():
            pass

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import sqlite3

        conn = sqlite3.connect(self.zalo.db.path)
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()


@asynccontextmanager
async def zns_world(
    tmp_path: Path, clock: ManualClock, limits: ZaloLimits = FAST, zns_enabled: bool = True
) -> AsyncIterator[ZnsWorld]:
    templates = ZnsTemplates.load()
    holder: dict[str, Any] = {}

    async def on_event(event: Any) -> None:
        await holder["events"](event)

    async with zalo_world(
        tmp_path, clock, limits=replace(limits, receipt_delay=None), worker_options={"on_event": on_event}
    ) as zalo:
        settings = zalo.settings.model_copy(update={"zns_enabled": zns_enabled})
        services = build_services(settings, clock)
        await services.storage.connect()
        try:
            holder["events"] = ReminderEvents(
                services.reminders.repo, services.storage.identities.user_id, clock, templates.price_per_message
            )
            zalo.emulator.add_template(templates.reminder.template_id, list(templates.reminder.params))
            zalo.emulator.zns.any_phone_bound = True
            queue = zns_queue(zalo.channel, settings, templates, Hours())
            queue.concurrency = 8
            yield ZnsWorld(zalo, services, queue, clock)
        finally:
            await services.storage.close()
