"""Zalo's request rates, kept by every instance on one database together.

Zalo publishes no rate for the OA API or ZNS; one secondary guide claims 20 sends a second and
5 uploads (ZALO.md §6). So the bot throttles lower, by settings: ``ZALO_MAX_PER_SECOND`` for
the OA's messages and uploads (one stream: uploads are rare, a chart now and then) and
``ZNS_MAX_PER_SECOND`` for template messages, default 10 each.

A ``SendPacer`` works as the Telegram limiter's overall stream does
(handlers/telegram/ratelimit.py, which this module does not import: the Zalo adapter never
imports the Telegram one), in three steps before each request:
1. a local, evenly paced slot: releases ``spacing`` apart, where any ``limit`` consecutive ones
   span ``1 / (1 - margin)`` seconds (margin 4 %: 9.6 a second for a limit of 10), so request
   jitter on the way does not put one too many into a second at Zalo's end;
2. shared (``share``): the next release of the stream common to every instance on the database
   (``storage.contract.RateBudget.reserve_send``, one upsert on the database's clock), the same
   spacing after the one reserved before it by any instance, and the wait for it;
3. the hard rule, right before the request: at most ``limit`` releases in any ``window``
   (``limit`` x ``spacing``) seconds, counted locally and, shared, in one window of every
   instance's admissions (``RateBudget.admit_send``), so releases that bunch up (an event loop
   that stalled) still keep the limit together.

Reserving the local slot is one synchronous step, so concurrent callers need no lock and never
overtake each other; any number of requests are in flight at once. When the database does not
answer, sends go on at this instance's own pace (logged at most once a minute): a reply is
worth more than the shared pace, and Zalo's refusal of a rate (−32) is retried as any
RETRY_LATER answer is.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_SAFETY_MARGIN", "SHARED_WARNING_SECONDS", "SendPacer", "SharedPace"]

#: Releases at the limit x (1 - 0.04): the Telegram limiter's margin, measured there
#: (`./dev bench limits`); Zalo's own jitter tolerance is unknown.
DEFAULT_SAFETY_MARGIN = 0.04

#: Seconds between two warnings that the shared pace's database did not answer.
SHARED_WARNING_SECONDS = 60.0


class SharedPace(Protocol):
    """The part of ``storage.contract.RateBudget`` a pacer uses (named here: the Zalo adapter
    never imports storage; the wiring passes ``storage.coordination``)."""

    async def reserve_send(self, stream: str, spacing: float) -> float: ...

    async def admit_send(self, stream: str, limit: int, window: float) -> float: ...


class SendPacer:
    """At most ``per_second`` requests a second on one stream, less the margin, from this
    instance alone or (``share``) from every instance sharing the budget together."""

    def __init__(
        self,
        per_second: float,
        stream: str,
        *,
        safety_margin: float = DEFAULT_SAFETY_MARGIN,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``stream``: the name shared by every instance (one per Zalo API and OA);
        ``clock``: monotonic seconds (default: the event loop's)."""
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        if not 0 <= safety_margin < 0.5:
            raise ValueError("safety_margin must be in [0, 0.5)")
        self.per_second = per_second
        self.stream = stream
        #: Seconds between two releases: any `per_second` consecutive ones span 1 / (1 - margin) s.
        self.spacing = 1.0 / ((1.0 - safety_margin) * per_second)
        #: The hard rule: at most `window_limit` releases in any `window` seconds.
        self.window_limit = max(1, round(per_second))
        self.window = self.window_limit * self.spacing
        self.shared: SharedPace | None = None
        self._clock = clock
        self._next_release = 0.0
        self._released: deque[float] = deque()
        self._warned = float("-inf")

    def share(self, budget: SharedPace) -> None:
        """Pace with every other instance that shares ``budget`` (one database) and this
        pacer's stream: together at most this pacer's rate."""
        self.shared = budget

    def now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    async def acquire(self) -> None:
        """Wait until one request may go now (see the module's three steps)."""
        now = self.now()
        slot = max(now, self._next_release)
        self._next_release = slot + self.spacing
        if slot > now:
            await asyncio.sleep(slot - now)
        await self._shared_wait()
        released = self._released
        while True:
            now = self.now()
            while released and released[0] <= now - self.window:
                released.popleft()
            if len(released) >= self.window_limit:
                await asyncio.sleep(released[0] + self.window - now)
                continue
            if (wait := await self._shared_admit()) > 0:
                await asyncio.sleep(wait)
                continue
            released.append(self.now())
            return

    async def _shared_wait(self) -> None:
        """Wait for this request's release in the shared stream (none when not shared; a
        database that does not answer leaves the local pace)."""
        if self.shared is None:
            return
        try:
            wait = await self.shared.reserve_send(self.stream, self.spacing)
        except Exception as exc:  # noqa: BLE001 - the database is away: the local pace holds
            self._warn(exc)
            return
        if wait > 0:
            await asyncio.sleep(wait)

    async def _shared_admit(self) -> float:
        """0 when the shared window admits this request now (always, when not shared or the
        database does not answer), else the seconds until it has room."""
        if self.shared is None:
            return 0.0
        try:
            return await self.shared.admit_send(self.stream, self.window_limit, self.window)
        except Exception as exc:  # noqa: BLE001 - the database is away: the local window holds
            self._warn(exc)
            return 0.0

    def _warn(self, exc: Exception) -> None:
        """Tell the operator, at most once a minute, that this stream goes at the local pace."""
        now = self.now()
        if now - self._warned >= SHARED_WARNING_SECONDS:
            self._warned = now
            log.warning(
                "shared Zalo pace (%s) unavailable, pacing this instance alone: %s", self.stream, type(exc).__name__
            )
