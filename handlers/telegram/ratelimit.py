"""Bot-side rate limiter: Telegram's 30 messages a second overall, 1 a second per private chat
for bulk sends, 20 a minute per group, with a safety margin for the network, several requests
in flight, and 429s that cost only what Telegram asks.

Telegram counts its limits at the server, over any sliding second, at the time a request
*arrives*. Requests released exactly 1/30 s apart arrive unevenly (network jitter, a busy
event loop), so a limiter that releases at exactly 30 a second puts a 31st message into some
server-side second now and then, and gets 429. Hence the margin: releases are spaced so that
any ``limit`` consecutive ones span ``1 / (1 - margin)`` seconds (default margin 4 %: 30
messages per 1.042 s, 28.8 a second, 0.96 of the limit), so a message may arrive up to
``margin / (1 - margin)`` seconds (42 ms) later than the one ``limit`` before it without any
server-side second holding more than the limit. The per-chat interval gets the same margin.

Only release *times* are serialised: a caller reserves its slot in one synchronous step (so
callers never overtake each other and need no lock), sleeps until it, and then makes its
request; any number of requests are in flight at once, so a 60 ms round trip does not cap the
rate (one request at a time could do only 1 / (33 ms + 60 ms) = 0.36 of the limit's worth).

A 429 (``RetryAfter``) costs what Telegram asks, and only where it applies: the refused
request's chat waits exactly ``retry_after`` (a deadline that only ever moves later, so nothing
releases it early: PTB issue 5338, where ``AIORateLimiter``'s ``asyncio.Event`` is set again by
any finishing request) and the request is retried; messages to other chats keep going. A
429 for a fifth chat while four pauses are in force (``FLOOD_CHATS``) means the bot as a whole
is over Telegram's limit, not a stray message: then every request waits until the pause ends.
The chat of a request is its ``chat_id``, or its ``scope``'s chat (setMyCommands for one
person's menu). A request about no chat (answerCallbackQuery, the default setMyCommands) that
gets a 429 pauses only further requests of that method, never everyone's replies. Telegram's
``retry_after`` is honoured whatever its length: nothing goes to the paused chat before it; a
pause longer than ``max_retry_after`` is not waited out in line (the RetryAfter goes to the
caller, and the reminder job leaves its row for a later round) but still holds the chat.
After a pause, waiting bulk sends take fresh per-chat slots, so they go out a chat interval
apart, not all at once.

Why not PTB's ``AIORateLimiter``: besides issue 5338, it retries nothing unless
``max_retries`` is set, has no per-private-chat limit, and its leaky bucket lets up to twice the
rate land in one second after an idle spell.

Across instances (``share``): several instances on one bot token and one database share
Telegram's 30 a second through the database (``storage.contract.RateBudget``): every request
that names a chat takes its release from one ``handlers.pacing.SendPacer`` (the local paced
slot, the stream shared by every instance, and the hard window of actual releases shared by
every instance too; see there), so all instances together release at most 28.8 a second,
evenly paced, as one instance alone does. A bulk send to a private chat also reserves in that
chat's shared stream (the chat interval with its margin), so two instances' reminders to one
person (two campaigns) never go within the interval either; idle chat streams are purged once
a minute. The database round trips come before the request, as the other waiting does, and
cost the margin nothing but their jitter. When the database does not answer, sends go on at
the local limit (logged once a minute): a reply is worth more than the shared pace, and a 429
is still waited out as asked.

Interactive replies are not slowed by the per-chat limit: a person's own back-and-forth comes
at human speed and Telegram tolerates short bursts in a private chat. The limit applies to
bulk sends (reminders, summaries), marked with ``rate_limit_args=SendPolicy(bulk=True)``; every
message is still recorded per chat, so a reminder never follows a reply to the same chat
within the interval. All sends that name a chat share one evenly paced stream (one every
1.042/30 s), so during a fan-out a person's reply waits for the next free slot (tens of
milliseconds, a few hundred at most behind the fan-out's few reserved slots).
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

from bot.chat.model import TELEGRAM
from bot.observability.metrics import RATE_LIMITED
from bot.settings import Settings
from handlers.pacing import DEFAULT_SAFETY_MARGIN, SendPacer
from storage.contract import RateBudget

log = logging.getLogger(__name__)

__all__ = [
    "BULK",
    "DEFAULT_SAFETY_MARGIN",
    "FLOOD_CHATS",
    "BotRateLimiter",
    "SendPolicy",
    "SlidingWindow",
    "retry_after_seconds",
]

#: Seconds between two purges of the chats' idle shared streams.
SHARED_PURGE_SECONDS = 60.0

#: Different chats refused with RetryAfter within one pause that make it a flood: then every
#: request waits, not only the refused chats.
FLOOD_CHATS = 5


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
        safety_margin: float = DEFAULT_SAFETY_MARGIN,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``max_retry_after``: the longest RetryAfter waited out in line and retried; a longer
        one still pauses its chat for the full time but is raised to the caller. ``clock``:
        monotonic seconds (default: the event loop's), injectable for tests."""
        if overall_per_second <= 0 or per_chat_interval < 0 or group_per_minute < 1 or max_retries < 0:
            raise ValueError("rate limits must be positive")
        if not 0 <= safety_margin < 0.5:
            raise ValueError("safety_margin must be in [0, 0.5)")
        self.overall_per_second = overall_per_second
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.safety_margin = safety_margin
        #: The one stream every request that names a chat is released from (handlers.pacing):
        #: paced, windowed on actual releases, shared with the other instances once `share`d.
        self.overall = SendPacer(overall_per_second, TELEGRAM.name, safety_margin=safety_margin, clock=self._clock)
        #: Seconds between two releases: any `overall_per_second` consecutive releases span
        #: 1 / (1 - margin) seconds.
        self.spacing = self.overall.spacing
        #: The hard rule on actual release times: `window_limit` sends in any `window` seconds.
        self.window_limit = self.overall.window_limit
        self.window = self.overall.window
        #: Seconds between two bulk sends to one private chat, margin included.
        self.chat_spacing = per_chat_interval / (1.0 - safety_margin)
        self._chat_last: dict[int, float] = {}  # last (or reserved) send per private chat
        self._chat_paused: dict[int | str, float] = {}  # RetryAfter deadline per chat
        self._groups: dict[int | str, SlidingWindow] = {}
        self._paused_until = 0.0
        self._method_paused: dict[str, float] = {}  # RetryAfter deadline of chat-less methods
        #: Monotonic seconds (None: the event loop's clock); tests inject their own.
        self.time_source = clock
        #: The budget shared with the other instances (``share``); None: this process alone.
        self.shared: RateBudget | None = None
        self._shared_purged: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BotRateLimiter:
        """The limiter bot.app installs: TELEGRAM_MAX_PER_SECOND, TELEGRAM_CHAT_INTERVAL_SECONDS,
        TELEGRAM_SAFETY_MARGIN."""
        return cls(
            overall_per_second=settings.telegram_max_per_second,
            per_chat_interval=settings.telegram_chat_interval_seconds,
            max_retries=3,
            safety_margin=settings.telegram_safety_margin,
        )

    def share(self, budget: RateBudget, stream: str = TELEGRAM.name) -> None:
        """Pace every send with all other instances that share ``budget`` (one database) and
        ``stream`` (one bot token): together at most this limiter's release rate."""
        self.shared = budget
        self.overall.stream = stream
        self.overall.share(budget)

    @property
    def release_rate(self) -> float:
        """Releases a second the limiter allows at most: the limit x (1 - margin)."""
        return 1.0 / self.spacing

    # --------------------------------------------------------------------- PTB interface

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Stop the overall stream's stall watch, if running."""
        await self.overall.shutdown()

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
        chat = _chat_key(request_chat(data))
        reserved = policy.reserved
        attempt = 0
        while True:
            if chat is None:
                await self.wait_method_pause(endpoint)
            if not reserved:
                await self.reserve(chat, policy.bulk)
            reserved = False  # a retry takes fresh slots
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                RATE_LIMITED.labels(TELEGRAM.name).inc()
                pause = retry_after_seconds(exc)  # exactly what Telegram asked, however long
                if chat is None:
                    self.method_retry_after(endpoint, pause)
                else:
                    self.retry_after(chat, pause)
                if pause > self.max_retry_after:
                    log.warning("%s: rate limited for %.0f s, not retried in line", endpoint, pause)
                    raise
                if attempt >= retries:
                    if retries:  # callers that retry themselves (max_retries=0) log it
                        log.warning("%s: rate limited, giving up after %d retries", endpoint, retries)
                    raise
                attempt += 1
                log.info("%s: rate limited, retrying in %.1f s", endpoint, pause)

    # --------------------------------------------------------------------- for bulk senders

    async def reserve(self, chat_id: int | str | None, bulk: bool = True) -> None:
        """Wait for and take the slots of one message to ``chat_id`` now.

        The reminder job calls this right before its request and then sends with
        ``SendPolicy(bulk=True, reserved=True)``: nothing (no database write) then separates
        the release time from the request, so the margin is not spent on our own delays.
        """
        chat = _chat_key(chat_id)
        await self.wait_pause(chat)
        if chat is not None:
            await self._take_slots(chat, bulk)

    def retry_after(self, chat_id: int | str | None, seconds: float) -> None:
        """Telegram refused a request to ``chat_id`` with RetryAfter(``seconds``).

        That chat waits exactly ``seconds``. A stray 429 (network jitter put one message too
        many into a server-side second) costs nothing more. When ``FLOOD_CHATS`` different
        chats are refused within one pause, the bot as a whole is over the limit (another
        process on the same token, a lower limit than configured): every request waits too.
        Deadlines only move later.
        """
        chat = _chat_key(chat_id)
        now = self._clock()
        until = now + max(0.0, seconds)
        others = sum(1 for c, deadline in self._chat_paused.items() if c != chat and deadline > now)
        if chat is None or others + 1 >= FLOOD_CHATS:
            self._paused_until = max(self._paused_until, until)
        if chat is not None:
            self._chat_paused[chat] = max(self._chat_paused.get(chat, 0.0), until)
            if len(self._chat_paused) > 1024:
                self._chat_paused = {c: d for c, d in self._chat_paused.items() if d > now}

    def method_retry_after(self, endpoint: str, seconds: float) -> None:
        """Telegram refused a request about no chat (answerCallbackQuery, the default
        setMyCommands) with RetryAfter(``seconds``): further requests of that method wait;
        messages to chats do not (one such 429 says nothing about anyone's conversation)."""
        until = self._clock() + max(0.0, seconds)
        self._method_paused[endpoint] = max(self._method_paused.get(endpoint, 0.0), until)

    def method_paused_for(self, endpoint: str) -> float:
        """Seconds left before requests of ``endpoint`` (about no chat) may go (0: now)."""
        deadline = max(self._paused_until, self._method_paused.get(endpoint, 0.0))
        return max(0.0, deadline - self._clock())

    async def wait_method_pause(self, endpoint: str) -> None:
        """Return once no RetryAfter pause is in force for ``endpoint`` (a chat-less method)."""
        while (delay := self._method_paused.get(endpoint, 0.0) - self._clock()) > 0:
            await asyncio.sleep(delay)

    def pause_for(self, seconds: float) -> None:
        """Halt every request for ``seconds``; a pause only ever moves later."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    async def wait_pause(self, chat_id: int | str | None = None) -> None:
        """Return once no RetryAfter pause is in force for everyone or for ``chat_id``
        (a pause may grow while we wait)."""
        chat = _chat_key(chat_id)
        while (delay := self._pause_deadline(chat) - self._clock()) > 0:
            await asyncio.sleep(delay)

    @property
    def paused_for(self) -> float:
        """Seconds left of a pause of every request (0: none)."""
        return max(0.0, self._paused_until - self._clock())

    def chat_paused_for(self, chat_id: int | str) -> float:
        """Seconds left before ``chat_id`` may be written to after a RetryAfter (0: now)."""
        return max(0.0, self._pause_deadline(_chat_key(chat_id)) - self._clock())

    # --------------------------------------------------------------------- internals

    def _clock(self) -> float:
        if self.time_source is not None:
            return self.time_source()
        return asyncio.get_running_loop().time()

    def _pause_deadline(self, chat: int | str | None) -> float:
        if chat is None:
            return self._paused_until
        return max(self._paused_until, self._chat_paused.get(chat, 0.0))

    async def _take_slots(self, chat: int | str, bulk: bool) -> None:
        while True:
            if isinstance(chat, int) and chat > 0:
                if bulk and self.per_chat_interval > 0:
                    await self._chat_slot(chat)
                else:
                    # An interactive reply goes now; a bulk send already booked for later
                    # keeps its slot (and the ones after it count from it).
                    now = self._clock()
                    self._chat_last[chat] = max(self._chat_last.get(chat, now), now)
            else:
                await self._group(chat).acquire()
            await self._release_slot()
            if self._pause_deadline(chat) <= self._clock():
                return
            # A 429 came in while we waited for the slots: wait it out and take fresh ones
            # (the chat's too), so that the requests released when a pause ends are paced like
            # any others: bulk sends to one chat a chat interval apart, not 35 ms.
            await self.wait_pause(chat)

    async def _release_slot(self) -> None:
        """Release one send from the overall stream (``handlers.pacing.SendPacer.acquire``):
        an evenly paced slot first, so that a reply during a fan-out waits for the next free
        slot (tens of milliseconds, not the next second), then the hard window on actual
        release times, both shared with the other instances once ``share``d."""
        await self._purge_shared()
        await self.overall.acquire()

    async def _purge_shared(self) -> None:
        """Once a minute, forget the chats' shared streams idle for longer than a minute."""
        now = self._clock()
        if self.shared is None or (self._shared_purged is not None and now - self._shared_purged < SHARED_PURGE_SECONDS):
            return
        self._shared_purged = now
        try:
            await self.shared.purge_sends(max(SHARED_PURGE_SECONDS, 10 * self.chat_spacing))
        except Exception as exc:  # noqa: BLE001 - the database is away: the local limit still holds
            self.overall.warn(self.overall.stream, exc)

    async def _chat_slot(self, chat: int) -> None:
        now = self._clock()
        last = self._chat_last.get(chat)
        slot = now if last is None else max(now, last + self.chat_spacing)
        self._chat_last[chat] = slot
        self._forget_old_chats()
        if slot > now:
            await asyncio.sleep(slot - now)
        await self.overall.shared_wait(f"{self.overall.stream}:{chat}", self.chat_spacing)

    def _forget_old_chats(self) -> None:
        """Keep memory flat over a 5,000-chat fan-out: drop chats whose interval has passed."""
        if len(self._chat_last) <= 4096:
            return
        horizon = self._clock() - self.chat_spacing
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


def request_chat(data: dict[str, Any]) -> object:
    """The chat a request is about: its ``chat_id``, else its ``scope``'s chat (setMyCommands
    and deleteMyCommands for one person's menu carry it there); None for chat-less methods."""
    chat = data.get("chat_id")
    if chat is not None:
        return chat
    scope = data.get("scope")
    if isinstance(scope, dict):
        return scope.get("chat_id")
    return getattr(scope, "chat_id", None)


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
