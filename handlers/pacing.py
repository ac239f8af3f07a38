"""One stream of requests kept under a rate, by this instance alone or by every instance on one
database together: Telegram's 30 messages a second (handlers/telegram/ratelimit.py, which adds
the per-chat and per-group limits and 429 handling around it), Zalo's OA messages and ZNS
template messages (handlers/zalo: ``ZALO_MAX_PER_SECOND``, ``ZNS_MAX_PER_SECOND``; Zalo
publishes no rate, ZALO.md §6, so the bot throttles below one guide's guess of 20).

A ``SendPacer`` lets a request go in three steps:
1. a local, evenly paced slot: releases ``spacing`` apart, where any ``limit`` consecutive ones
   span ``1 / (1 - margin)`` seconds (margin 4 %: 28.8 a second for Telegram's 30), so request
   jitter on the way does not put one too many into a second at the server. Reserving the slot
   is one synchronous step, so callers need no lock and never overtake each other; any number
   of requests are in flight at once;
2. shared (``share``): the next release of the stream common to every instance on the
   database (``storage.contract.RateBudget.reserve_send``, one upsert on the database's clock),
   the same spacing after the one reserved before it by any instance, and the wait for it;
3. the hard rule, right before the request: at most ``limit`` releases in any ``window``
   (``limit`` x ``spacing``) seconds, counted on the times requests were *actually* released,
   locally and, shared, in one window of every instance's admissions
   (``RateBudget.admit_send``). Paced slots alone are not enough: when the event loop (or the
   machine) was busy, the waiters whose slots passed wake up together, and an instance's
   overdue requests plus another instance's paced ones would put a burst into one second at
   the server (measured, Telegram at 30/s, two instances on a loaded 2-core machine: 36 asked
   in the busiest second, 18 refused, before the shared window).

A request released just before the process stops running for a while (garbage collection, a
busy machine) reaches the network only when it resumes, possibly together with requests
released after it; a stall watch counts such releases from the end of the pause
(``_stall_watch``), so the request ``limit`` places later keeps a full window from when they
really left.

When the database does not answer, requests go on at this instance's own pace (logged at most
once a minute): a reply is worth more than the shared pace, and the server's refusal of a rate
is still waited out as asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_SAFETY_MARGIN", "SHARED_WARNING_SECONDS", "STALL_SECONDS", "SendPacer", "SharedPace"]

#: Default safety margin: releases at the limit x (1 - 0.04). Chosen by measurement for
#: Telegram (`./dev bench limits`, README): with 0.04 neither a 5,000-person fan-out nor free
#: text at twice the limit got a 429 behind a 60 ms round trip with jitter; with 0.03 the free
#: text still got a few. Zalo's own tolerance is unknown; its limits are set lower instead.
DEFAULT_SAFETY_MARGIN = 0.04

#: Seconds between two warnings that the shared pace's database did not answer.
SHARED_WARNING_SECONDS = 60.0

#: How often the pacer checks, while requests are recent, that the process has not been
#: paused; a check this much late means it was (``SendPacer._stall_watch``).
STALL_SECONDS = 0.005


class SharedPace(Protocol):
    """The part of ``storage.contract.RateBudget`` a pacer uses (named here: the channel
    adapters never import storage; the wiring passes ``storage.coordination``)."""

    async def reserve_send(self, stream: str, spacing: float) -> float: ...

    async def admit_send(self, stream: str, limit: int, window: float) -> float: ...


class SharedWarning:
    """Tells the operator, at most once a minute per holder, that the shared pace is away."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._warned = float("-inf")

    def __call__(self, stream: str, exc: Exception) -> None:
        now = self._clock()
        if now - self._warned >= SHARED_WARNING_SECONDS:
            self._warned = now
            log.warning("shared send pace (%s) unavailable, pacing this instance alone: %s", stream, type(exc).__name__)


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
        """``stream``: the name shared by every instance (one per API and account);
        ``clock``: monotonic seconds (default: the event loop's), read at every use."""
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        if not 0 <= safety_margin < 0.5:
            raise ValueError("safety_margin must be in [0, 0.5)")
        self.per_second = per_second
        self.stream = stream
        #: Seconds between two releases: any `per_second` consecutive ones span 1 / (1 - margin) s
        #: (for fractional rates, as tests use, the same proportion).
        self.spacing = 1.0 / ((1.0 - safety_margin) * per_second)
        #: The hard rule: at most `window_limit` releases in any `window` seconds.
        self.window_limit = max(1, round(per_second))
        self.window = self.window_limit * self.spacing
        self.shared: SharedPace | None = None
        self._clock = clock
        self._next_release = 0.0
        self._released: deque[float] = deque()
        self._watch: asyncio.Future[None] | None = None
        self.warn = SharedWarning(self.now)

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
        await self.shared_wait(self.stream, self.spacing)
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
            self._watch_stalls()
            return

    async def shared_wait(self, stream: str, spacing: float) -> None:
        """Wait for this request's release in ``stream``, shared with the other instances (none
        when not shared; a database that does not answer leaves the local pace)."""
        if self.shared is None:
            return
        try:
            wait = await self.shared.reserve_send(stream, spacing)
        except Exception as exc:  # noqa: BLE001 - the database is away: the local pace holds
            self.warn(stream, exc)
            return
        if wait > 0:
            await asyncio.sleep(wait)

    async def shutdown(self) -> None:
        """Stop the stall watch, if running."""
        if self._watch is not None and not self._watch.done():
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        self._watch = None

    async def _shared_admit(self) -> float:
        """0 when the shared window admits this request now (always, when not shared or the
        database does not answer: the local window still holds), else the seconds until it has
        room."""
        if self.shared is None:
            return 0.0
        try:
            return await self.shared.admit_send(self.stream, self.window_limit, self.window)
        except Exception as exc:  # noqa: BLE001 - the database is away: the local window holds
            self.warn(self.stream, exc)
            return 0.0

    def _watch_stalls(self) -> None:
        """Run ``_stall_watch`` while requests are recent (one task, started on demand)."""
        if self._watch is None or self._watch.done():
            self._watch = asyncio.ensure_future(self._stall_watch(self.now()))

    async def _stall_watch(self, started: float) -> None:
        """Count requests released just before a pause of the process from the pause's end.
        Wakes every ``STALL_SECONDS`` while a request is in the window; ``started``: when the
        request that started the watch was released."""
        released = self._released
        expected = started + STALL_SECONDS
        while released and released[-1] > self.now() - self.window:
            now = self.now()
            if now <= expected:
                await asyncio.sleep(STALL_SECONDS)
                now = self.now()
            if now - expected > STALL_SECONDS:
                since = expected - 2 * STALL_SECONDS  # the last check that saw the loop running
                for index in range(len(released) - 1, -1, -1):
                    if released[index] < since:
                        break
                    released[index] = now
            expected = now + STALL_SECONDS
