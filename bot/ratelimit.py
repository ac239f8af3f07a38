"""Bot-side rate limiter: Telegram's 30 messages a second overall, 1 a second per private chat
for bulk sends, 20 a minute per group, and retries that honour ``RetryAfter``.

Why not PTB's ``AIORateLimiter`` as is (22.8):
* it retries nothing unless ``max_retries`` is set, and has no per-private-chat limit;
* its 429 pause is an ``asyncio.Event`` that *any* finishing request sets again, so a pause is
  released early by an unrelated request, or by a shorter pause ending (PTB issue 5338). Here
  the pause is a monotonic deadline that only ever moves later: nothing can release it early;
* aiolimiter's leaky bucket lets a full bucket drain and refill within one second, so up to
  twice the rate can land in a one-second window. An exact sliding window never exceeds it.

Interactive replies are not slowed by the per-chat limit: a person's own back-and-forth comes
at human speed and Telegram tolerates short bursts in a private chat. The limit applies to
bulk sends (reminders), marked with ``rate_limit_args=SendPolicy(bulk=True)``; every message
is still recorded per chat, so a reminder never follows a reply to the same chat within the
interval. Bulk sends are also paced evenly (one every 1/30 s), so during a fan-out a reply to
someone waits for the next free slot (tens of milliseconds), not for the next second. Overall
and group limits apply to everything that names a chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["BULK", "BotRateLimiter", "SendPolicy", "SlidingWindow", "retry_after_seconds"]

#: Added to every RetryAfter pause: Telegram counts whole seconds.
RETRY_MARGIN = 0.1


@dataclass(frozen=True)
class SendPolicy:
    """What a caller passes as ``rate_limit_args``.

    ``bulk``: apply the per-private-chat interval (reminders, fan-outs).
    ``max_retries``: RetryAfter retries for this request (None: the limiter's default).
    ``reserved``: the caller already took the slots with ``BotRateLimiter.reserve`` (the
    reminder job does, so that no waiting happens between claiming a row and sending it).
    """

    bulk: bool = False
    max_retries: int | None = None
    reserved: bool = False


BULK = SendPolicy(bulk=True)


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds, served first come first.

    Each caller reserves the earliest slot that keeps the window exact (no later than the
    ``limit``-th previous slot plus ``period``), then sleeps until it. Reserving is one
    synchronous step, so concurrent callers need no lock and cannot overtake each other.
    """

    def __init__(self, limit: int, period: float, now: Callable[[], float]) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._now = now
        self._slots: deque[float] = deque()

    def reserve(self) -> float:
        """Take the next slot; returns how long to wait for it (0: now)."""
        now = self._now()
        while self._slots and self._slots[0] <= now - self.period:
            self._slots.popleft()
        slot = now
        if self._slots:
            slot = max(slot, self._slots[-1])
        if len(self._slots) >= self.limit:
            slot = max(slot, self._slots[-self.limit] + self.period)
        self._slots.append(slot)
        return slot - now

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    @property
    def idle(self) -> bool:
        return not self._slots or self._slots[-1] <= self._now() - self.period


class BotRateLimiter(BaseRateLimiter[SendPolicy | int]):
    """Throttles every request that names a chat and retries on ``RetryAfter``.

    ``rate_limit_args`` may be a ``SendPolicy`` or, as with ``AIORateLimiter``, an int
    (the number of retries).
    """

    def __init__(
        self,
        overall_per_second: float = 30,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        max_retries: int = 3,
        max_retry_after: float = 120.0,
    ) -> None:
        if overall_per_second <= 0 or per_chat_interval < 0 or group_per_minute < 1 or max_retries < 0:
            raise ValueError("rate limits must be positive")
        self.overall_per_second = overall_per_second
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        # A window of one second holding `overall_per_second` sends; for fractional rates
        # (tests scale time) use a window that holds a whole number of sends.
        limit = max(1, round(overall_per_second))
        self._overall = SlidingWindow(limit, limit / overall_per_second, self._clock)
        self._chat_last: dict[int, float] = {}  # last (or reserved) send per private chat
        self._groups: dict[int | str, SlidingWindow] = {}
        self._paused_until = 0.0
        self._bulk_next = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BotRateLimiter:
        """The limiter bot.app installs: TELEGRAM_MAX_PER_SECOND, TELEGRAM_CHAT_INTERVAL_SECONDS."""
        return cls(
            overall_per_second=settings.telegram_max_per_second,
            per_chat_interval=settings.telegram_chat_interval_seconds,
            max_retries=3,
        )

    # --------------------------------------------------------------------- PTB interface

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendPolicy | int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        policy = _policy(rate_limit_args)
        retries = self.max_retries if policy.max_retries is None else policy.max_retries
        chat = _chat_key(data.get("chat_id"))
        reserved = policy.reserved
        attempt = 0
        while True:
            await self.wait_pause()
            if chat is not None and not reserved:
                await self._take_slots(chat, policy.bulk)
            reserved = False  # a retry takes fresh slots
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                pause = min(retry_after_seconds(exc), self.max_retry_after)
                self.pause_for(pause)
                if attempt >= retries:
                    log.warning("%s: rate limited, giving up after %d retries", endpoint, retries)
                    raise
                attempt += 1
                log.info("%s: rate limited, retrying in %.1f s", endpoint, pause + RETRY_MARGIN)

    # --------------------------------------------------------------------- for bulk senders

    async def reserve(self, chat_id: int | str, bulk: bool = True) -> None:
        """Wait for and take the slots of one message to ``chat_id`` now.

        The reminder job calls this before claiming an outbox row and then sends with
        ``SendPolicy(bulk=True, reserved=True)``: the claim and the request are then not
        separated by a wait, which keeps the "claimed but not sent" window tiny.
        """
        await self.wait_pause()
        chat = _chat_key(chat_id)
        if chat is not None:
            await self._take_slots(chat, bulk)

    def pause_for(self, seconds: float) -> None:
        """Halt every request for ``seconds`` (+ margin); a pause only ever moves later."""
        until = self._clock() + max(0.0, seconds) + RETRY_MARGIN
        self._paused_until = max(self._paused_until, until)

    async def wait_pause(self) -> None:
        """Return once no RetryAfter pause is in force (a pause may grow while we wait)."""
        while (delay := self._paused_until - self._clock()) > 0:
            await asyncio.sleep(delay)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    # --------------------------------------------------------------------- internals

    @staticmethod
    def _clock() -> float:
        return asyncio.get_running_loop().time()

    async def _take_slots(self, chat: int | str, bulk: bool) -> None:
        if isinstance(chat, int) and chat > 0:
            if bulk and self.per_chat_interval > 0:
                await self._chat_slot(chat)
            else:
                self._chat_last[chat] = self._clock()
        else:
            await self._group(chat).acquire()
        if bulk:
            await self._bulk_pace()
        await self._overall.acquire()

    async def _bulk_pace(self) -> None:
        """Spread bulk sends evenly (1/30 s apart) instead of 30 at the top of each second:
        the window then always has a slot freeing soon, so a person's own reply during a
        fan-out waits at most a few tens of milliseconds."""
        now = self._clock()
        slot = max(now, self._bulk_next)
        self._bulk_next = slot + 1.0 / self.overall_per_second
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _chat_slot(self, chat: int) -> None:
        now = self._clock()
        last = self._chat_last.get(chat)
        slot = now if last is None else max(now, last + self.per_chat_interval)
        self._chat_last[chat] = slot
        self._forget_old_chats()
        if slot > now:
            await asyncio.sleep(slot - now)

    def _forget_old_chats(self) -> None:
        """Keep memory flat over a 5,000-chat fan-out: drop chats whose interval has passed."""
        if len(self._chat_last) <= 4096:
            return
        horizon = self._clock() - self.per_chat_interval
        for chat, last in list(self._chat_last.items()):
            if last < horizon:
                del self._chat_last[chat]

    def _group(self, chat: int | str) -> SlidingWindow:
        window = self._groups.get(chat)
        if window is None:
            if len(self._groups) > 512:
                for key, old in list(self._groups.items()):
                    if old.idle:
                        del self._groups[key]
            window = self._groups[chat] = SlidingWindow(self.group_per_minute, 60.0, self._clock)
        return window


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (PTB 22 stores a timedelta; `.retry_after` may warn)."""
    period = getattr(exc, "_retry_after", None)
    if isinstance(period, timedelta):
        return period.total_seconds()
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _policy(args: SendPolicy | int | None) -> SendPolicy:
    if isinstance(args, SendPolicy):
        return args
    if isinstance(args, int) and not isinstance(args, bool):
        return SendPolicy(max_retries=max(0, args))
    return SendPolicy()


def _chat_key(chat_id: object) -> int | str | None:
    """Integer chat ids stay ints ("123" too); "@channel" names are their own group."""
    if chat_id is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(chat_id)  # type: ignore[call-overload]
    return str(chat_id)
