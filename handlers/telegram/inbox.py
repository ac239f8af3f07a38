"""The Telegram inbox worker: updates the webhook stored, fed to the PTB Application.

In webhook mode (handlers/telegram/webhook.py) no update reaches PTB's `update_queue`: each is
claimed from the shared inbox, turned back into an `Update` (`Update.de_json`) and handled by
`Application.process_update`, the same handlers as in polling mode (the adapter, the error net).

Guarantees:
- each update is claimed under a lease (default 2 min) by one worker of one instance at a time;
  one person's updates are handled one after another, oldest first, across any number of
  workers, instances and restarts (the inbox's claim order), so `/ghi` and button flows see
  them in order; different people's run concurrently (`concurrency` loops);
- an update is marked done once PTB handled it (a handler that raised has already gone through
  the error net, which tells the person); `process_update` itself raising is retried after
  `retry_backoff` up to `max_attempts` claims, then marked failed; an unreadable payload is
  marked failed at once. Logs name exception types, never the update's content;
- `stop(grace)` stops claiming, lets the updates in hand finish for up to `grace` seconds and
  cancels the rest: their leases expire and another worker (this instance after a restart, or
  another instance) takes them over, so a stopped worker never loses an update;
- handled updates older than `keep` are purged from the inbox every hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import Application

from bot.domain.clock import Clock
from bot.domain.inbox import InboxEvent, InboxStore
from bot.logsafety import describe_exception
from handlers.telegram.webhook import CHANNEL

log = logging.getLogger(__name__)

__all__ = ["TelegramInboxWorker"]

KEEP_HANDLED = timedelta(days=7)
PURGE_EVERY_SECONDS = 3600.0


class TelegramInboxWorker:
    """Handles the Telegram updates of the inbox; `start()`/`stop()` around the bot's life, or
    `drain()` to handle what is due now."""

    def __init__(
        self,
        inbox: InboxStore,
        application: Application,
        clock: Clock,
        *,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 3,
        retry_backoff: timedelta = timedelta(seconds=30),
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        keep: timedelta = KEEP_HANDLED,
    ) -> None:
        if max_attempts < 1 or concurrency < 1 or lease <= timedelta(0):
            raise ValueError("max_attempts and concurrency must be >= 1, lease positive")
        self._inbox = inbox
        self._application = application
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff = retry_backoff
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._keep = keep
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_hand = 0
        self.handled = 0  # updates finished by this worker (done or failed)

    def wake(self) -> None:
        """A new update is in the inbox (the webhook calls this): claim without waiting for the poll."""
        self._wake.set()

    @property
    def in_hand(self) -> int:
        """Updates claimed and being handled right now."""
        return self._in_hand

    async def run_once(self) -> bool:
        """Claim and handle one due update; False when none is claimable now."""
        item = await self._inbox.claim(CHANNEL, self._clock.now(), self._lease, self._max_attempts)
        if item is None:
            return False
        self._in_hand += 1
        try:
            await self._handle(item)
        finally:
            self._in_hand -= 1
        return True

    async def drain(self) -> int:
        """Handle updates until none is claimable now; returns how many were handled."""
        count = 0
        while await self.run_once():
            count += 1
        return count

    async def start(self) -> None:
        """Start `concurrency` loops and the hourly purge in the running event loop."""
        if self._tasks:
            return
        self._stopping = False
        self._stopped.clear()
        self._tasks = [asyncio.create_task(self._loop(), name=f"telegram-inbox-{n}") for n in range(self._concurrency)]
        self._tasks.append(asyncio.create_task(self._purge_loop(), name="telegram-inbox-purge"))

    async def stop(self, grace: float = 20.0) -> None:
        """Stop claiming; wait up to `grace` seconds for the updates in hand, then cancel what is
        left (its lease expires and the update is taken over: never lost)."""
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        _, pending = await asyncio.wait(tasks, timeout=grace)
        left = self._in_hand
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if left:
            log.warning("Telegram inbox: %s update(s) left to another worker at shutdown", left)

    async def _loop(self) -> None:
        """Claim and handle until stopping; a loop finishes the update in hand before it ends."""
        while not self._stopping:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive a storage hiccup
                log.error("Telegram inbox: claim failed: %s", describe_exception(error))
                busy = False
            if busy or self._stopping:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _purge_loop(self) -> None:
        while not self._stopping:
            try:
                removed = await self._inbox.purge_handled(self._clock.now() - self._keep)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - tidying is never worth stopping for
                log.error("Telegram inbox: purge failed: %s", describe_exception(error))
            else:
                if removed:
                    log.info("Telegram inbox: %s handled update(s) purged", removed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), PURGE_EVERY_SECONDS)

    async def _handle(self, item: InboxEvent) -> None:
        try:
            update = Update.de_json(json.loads(item.payload), self._application.bot)
        except Exception as error:  # noqa: BLE001 - an unreadable payload never becomes readable
            log.error("Telegram inbox: update %s unreadable: %s", item.event_key, describe_exception(error))
            await self._inbox.fail(item, self._clock.now(), "unreadable payload")
            self.handled += 1
            return
        try:
            await self._application.process_update(update)
        except Exception as raised:  # noqa: BLE001 - one bad update must not stop the channel
            log.error(
                "Telegram inbox: handling update %s failed (attempt %s of %s): %s",
                item.event_key, item.attempts, self._max_attempts, describe_exception(raised),
            )
            now = self._clock.now()
            reason = f"handling raised {type(raised).__name__}"
            if item.attempts >= self._max_attempts:
                await self._inbox.fail(item, now, reason)
                self.handled += 1
            else:
                await self._inbox.retry_later(item, now, now + self._backoff, reason)
            return
        await self._inbox.complete(item, self._clock.now())
        self.handled += 1
