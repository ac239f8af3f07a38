"""The fan-out rounds running in this process, so that a shutdown can stop them at once.

A reminder round to 5,000 people takes about three minutes at Telegram's limits, longer than a
supervisor waits before SIGKILL, so a stop must not wait for it. Every round runs as a task
tracked here, and the scheduler's runner (scheduler/runner.py) cancels them first when it
stops, before the channels and the database close. A cancelled round stops at a safe point:
a reminder row waiting for its slot is given back ('pending'), a request in flight is awaited
and recorded, a summary part in flight is recorded; the next start resumes from the outbox and
ledger, sending nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class RoundTasks:
    """Tracks the rounds of one runner; ``cancel_all`` stops them and refuses new ones."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None:
        """Run ``work`` as a tracked task; None (``work`` closed unstarted) once stopping."""
        if self.stopping:
            work.close()
            return None
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def cancel_all(self) -> int:
        """Cancel every running round and wait until each has settled (a round's own
        cancellation records what it had in flight); returns how many were running."""
        self.stopping = True
        tasks = [task for task in self.tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            log.info("stopping: %d scheduled round(s) cancelled, in-flight sends are recorded", len(tasks))
            with contextlib.suppress(Exception):
                await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

