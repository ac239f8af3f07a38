"""The scheduler on its own: APScheduler 3's AsyncIOScheduler, started and stopped by the wiring.

The runner holds what the scheduled jobs need (the services, the senders by channel, the
rounds in progress) and no channel library: any channel adapter, or none (a CLI command, a
test), can start it. Jobs are declared before `start` (`repeat`), and the AsyncIOScheduler is
created in `start`, inside the running event loop it then uses.

Shutdown guarantee (kept from the JobQueue days, tested in tests/test_e2e_reminders.py and
tests/test_e2e_summaries.py): `stop` first cancels the running rounds and waits until each has
settled (a reminder row waiting for its slot is given back, a request in flight is awaited and
recorded, a summary part in flight is recorded), refuses new rounds, and only then shuts the
scheduler down; so the caller may close the channels and the database right after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.services import Services
from scheduler.rounds import RoundTasks
from scheduler.sending import Senders

log = logging.getLogger(__name__)

__all__ = ["SchedulerRunner"]


@dataclass(frozen=True)
class _Repeating:
    name: str
    work: Callable[[SchedulerRunner], Awaitable[None]]
    every: float
    options: dict[str, Any] = field(default_factory=dict)


class SchedulerRunner:
    """Runs the registered jobs every few seconds on the event loop it is started in."""

    def __init__(self, services: Services, senders: Senders) -> None:
        self.services = services
        self.senders = senders
        # The ZNS queue (scheduler/zns.ZnsQueue) when the wiring built one (Zalo configured).
        self.zns: Any = None
        self.rounds = RoundTasks()
        self._jobs: list[_Repeating] = []
        self._scheduler: AsyncIOScheduler | None = None

    def repeat(
        self, name: str, work: Callable[[SchedulerRunner], Awaitable[None]], every: float, **options: Any
    ) -> None:
        """Run `work(runner)` every `every` seconds, the first time one interval after start.
        `options` are APScheduler job options (misfire_grace_time, coalesce, max_instances)."""
        if self._scheduler is not None:
            raise RuntimeError("declare jobs before the runner starts")
        self._jobs.append(_Repeating(name, work, every, options))

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> None:
        """Start ticking on the running event loop (call from inside it)."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(), timezone=self.services.settings.tz
        )
        for job in self._jobs:
            scheduler.add_job(
                job.work,
                IntervalTrigger(seconds=job.every, timezone=self.services.settings.tz),
                args=(self,),
                id=job.name,
                name=job.name,
                **job.options,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(job.name for job in self._jobs) or "no jobs")

    async def stop(self) -> None:
        """Cancel the running rounds (each records what it had in flight), then stop ticking.
        Safe to call when never started, and more than once."""
        await self.rounds.cancel_all()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn

    def job(self, name: str) -> Job | None:
        """The scheduled job called `name` (None before start or when unknown)."""
        return self._scheduler.get_job(name) if self._scheduler is not None else None

