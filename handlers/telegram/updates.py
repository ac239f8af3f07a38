"""Concurrent update processing: different people at once, each person strictly in order.

PTB processes updates one at a time by default, so one slow handler (an admin's 10 MB list)
made every other citizen wait. ``PerPersonUpdateProcessor`` lets updates of different people
run concurrently while each person's updates run one after another, in arrival order:

* ordering per person is what the ``/ghi`` ConversationHandler and the citizen's button flows
  rely on (PTB documents that a ConversationHandler needs updates "processed one by one"; its
  state is keyed by chat and user, so serialising each person gives it exactly that);
* at most ``max_running`` handlers run at once (the event loop and the SQLite writer stay
  responsive);
* a flood from one account waits behind itself only: a person has at most ``max_waiting``
  updates queued, and anything beyond is dropped with a log line (no personal data) instead of
  occupying slots other people need.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["PerPersonUpdateProcessor", "person_key"]

log = logging.getLogger(__name__)

#: Handlers running at once (different people).
DEFAULT_MAX_RUNNING = 64
#: Updates of one person waiting behind the one being handled; more are dropped.
DEFAULT_MAX_WAITING = 32
#: Updates admitted at once in all (running plus waiting). PTB's own semaphore holds this many;
#: it is far above ``max_running`` so that people waiting for their own earlier update never
#: take the slots of people with nothing running.
DEFAULT_MAX_ADMITTED = 4096


def person_key(update: object) -> Hashable | None:
    """Whose update this is: the sending user, else the chat; None for anything else
    (such updates carry no conversation and run without ordering)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


@dataclass
class _Lane:
    """One person's queue: a FIFO lock (asyncio.Lock wakes waiters in order) and a count."""

    lock: asyncio.Lock
    pending: int = 0  # updates admitted for this person and not yet finished


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Each person's updates in order, different people concurrently, floods bounded.

    Guarantee: for one person, an update's handler starts only after the previous update's
    handler finished (arrival order); at most ``max_running`` handlers run at once; one person
    never holds more than one running slot, and at most ``max_waiting`` of their updates wait.
    """

    def __init__(
        self,
        max_running: int = DEFAULT_MAX_RUNNING,
        max_waiting: int = DEFAULT_MAX_WAITING,
        max_admitted: int = DEFAULT_MAX_ADMITTED,
    ) -> None:
        if max_running < 2 or max_waiting < 0 or max_admitted < max_running:
            raise ValueError("max_running >= 2, max_waiting >= 0, max_admitted >= max_running")
        super().__init__(max_admitted)
        self.max_running = max_running
        self.max_waiting = max_waiting
        self._running = asyncio.BoundedSemaphore(max_running)
        self._lanes: dict[Hashable, _Lane] = {}
        self.dropped = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this person's earlier updates, then for a running slot, then handle.

        The per-person lock is taken in the order PTB creates the tasks (the order updates
        arrived), and each task reaches ``acquire`` without awaiting anything before it, so
        FIFO wake-up keeps that order.
        """
        key = person_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(asyncio.Lock())
        if lane.pending > self.max_waiting:
            self.dropped += 1
            log.warning("update dropped: one person has %d updates waiting", lane.pending)
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # never awaited: close it so Python does not warn
            return
        lane.pending += 1
        try:
            async with lane.lock:
                async with self._running:
                    await coroutine
        finally:
            lane.pending -= 1
            if lane.pending == 0 and self._lanes.get(key) is lane:
                del self._lanes[key]

    async def initialize(self) -> None:
        """Nothing to allocate: locks are created per person on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB awaits every admitted update before shutting down."""
