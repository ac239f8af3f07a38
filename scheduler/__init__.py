"""Scheduled jobs (PTB JobQueue over APScheduler). Each feature adds its registrar here."""

from __future__ import annotations

from collections.abc import Callable

from telegram.ext import Application

from scheduler import reminders, summaries

JOB_REGISTRARS: list[Callable[[Application], None]] = [summaries.register, reminders.register]


def register_jobs(application: Application) -> None:
    for register in JOB_REGISTRARS:
        register(application)
