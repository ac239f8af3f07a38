"""Scheduled jobs on APScheduler, run by `scheduler.runner.SchedulerRunner`; no channel library.

Each feature adds its registrar here; the wiring builds the runner with the senders of the
configured channels and calls `register_jobs` before starting it.
"""

from __future__ import annotations

from collections.abc import Callable

from scheduler import reminders, summaries
from scheduler.runner import SchedulerRunner

JOB_REGISTRARS: list[Callable[[SchedulerRunner], None]] = [summaries.register, reminders.register]


def register_jobs(runner: SchedulerRunner) -> None:
    """Declare every feature's job on `runner` (before it starts)."""
    for register in JOB_REGISTRARS:
        register(runner)
