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

Once per tick across instances (tested in tests/test_once_per_tick.py on both engines): every
instance may run the scheduler against one database. Each job's ticks are numbered from the
real time, ``floor(unix time / interval)``, the same in every instance; before running its job
an instance claims (job, tick) in the database (`CoordinationStore.claim_tick`, one insert
that only one instance's call creates) and runs the job only when its claim made the row. The
claim is neither a lock nor a lease: an instance that dies mid-job loses that one tick and
blocks nothing; the next tick is a new row, claimed by whichever instance ticks first. A tick
the database could not record is skipped (logged), never run unclaimed. The tick number comes
from the wall clock, not the injected `Clock`, because it names APScheduler's own real-time
tick: a test's ManualClock stands still while the scheduler ticks for real.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.logsafety import describe_exception
from bot.services import Services
from scheduler.rounds import RoundTasks
from scheduler.sending import Senders

log = logging.getLogger(__name__)

__all__ = ["KEEP_CLAIMS_SECONDS", "SchedulerRunner", "instance_id"]

#: How long a job's claimed ticks are kept in `job_runs` (for an operator's look), in seconds.
KEEP_CLAIMS_SECONDS = 3600


def instance_id() -> str:
    """A name for this process among the instances: host, pid and a random part (a restarted
    process with a reused pid is still another instance). Recorded with each claimed tick."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class _Repeating:
    name: str
    work: Callable[[SchedulerRunner], Awaitable[None]]
    every: float
    options: dict[str, Any] = field(default_factory=dict)


class SchedulerRunner:
    """Runs the registered jobs every few seconds on the event loop it is started in."""

    def __init__(
        self,
        services: Services,
        senders: Senders,
        *,
        instance: str | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``instance``: this process's name in the claims (default `instance_id()`);
        ``wall``: Unix seconds that number the ticks (tests inject their own)."""
        self.services = services
        self.senders = senders
        self.instance = instance or instance_id()
        self.wall = wall
        #: The tick each job last ran for in this instance (what `run_tick` claimed).
        self.ran_tick: dict[str, int] = {}
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
                self.run_tick,
                IntervalTrigger(seconds=job.every, timezone=self.services.settings.tz),
                args=(job.name,),
                id=job.name,
                name=job.name,
                **job.options,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "scheduler started (instance %s): %s",
            self.instance, ", ".join(job.name for job in self._jobs) or "no jobs",
        )

    async def run_tick(self, name: str) -> bool:
        """One tick of the job ``name``: claim the tick the wall clock is in and run the job
        if this call claimed it (what APScheduler calls; tests call it directly). Returns
        whether the job ran here."""
        job = next((j for j in self._jobs if j.name == name), None)
        if job is None:
            raise KeyError(name)
        tick = math.floor(self.wall() / job.every)
        keep = max(1, math.ceil(KEEP_CLAIMS_SECONDS / job.every))
        try:
            claimed = await self.services.storage.coordination.claim_tick(name, tick, self.instance, keep)
        except Exception as exc:  # the database is away: skip this tick, the next one tries again
            log.error("job %s: tick %d not claimed, skipped: %s", name, tick, describe_exception(exc))
            return False
        if not claimed:
            return False
        self.ran_tick[name] = tick
        await job.work(self)
        return True

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

