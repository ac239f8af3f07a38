"""Time as a dependency: domain and scheduler code ask a Clock, tests move a ManualClock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current aware time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock in the configured time zone."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class ManualClock:
    """A clock tests set and advance; never moves on its own."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start
        self.tz = start.tzinfo

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta


def today(clock: Clock) -> date:
    """The local calendar date of the clock."""
    return clock.now().date()
