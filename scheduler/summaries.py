"""The officials' evening summaries: a clock-driven, restart-safe, exactly-once fan-out.

A PTB JobQueue job ticks every SCHEDULER_TICK_SECONDS (default 30 s). Each tick reads the
injected clock; from SUMMARY_TIME (default 17:00 Asia/Ho_Chi_Minh) until midnight, a round sends
today's summary to every subscribed official and team leader who has not had it: one message,
one chart (sendPhoto), one workbook (sendDocument), for the subtree of their own unit. On
Mondays the weekly digest goes the same way to those who turned it on. A bot that was down at
17:00 therefore sends when it comes back the same day (within one tick), and never twice.

Exactly once, and the crash window
----------------------------------
The ledger `summary_runs` has one row per (member, kind, local date), inserted before anything
is sent; a second round, in this process or after a restart, finds it and sends nothing again.
Each of the three outputs is marked `sending` right before its request and counted in
`parts_done` right after Telegram accepts it. If the process dies between those two writes,
the part may or may not have reached the chat: the next round (which first turns leftover
`sending` rows into "that part is done, uncertain") never sends that part again, and resumes
with the next part. So nothing is ever delivered twice; the price is that, in that window of
one request, one part can be lost. A part Telegram certainly refused with RetryAfter is retried
on the next tick; a chat that blocked the bot (403) is not written to again that day.

Telegram's limits: with the project's `BotRateLimiter` the sends are marked bulk (1 a second per
chat, 30 a second overall, RetryAfter honoured); without it (PTB's AIORateLimiter has no
per-chat limit), the three sends to one chat are spaced by `chat_spacing` seconds here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from telegram import Bot
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.chat.texts import summaries as replies_summary
from bot.domain.records import KIND_DAILY, KIND_WEEKLY, PARTS, Recipient
from bot.domain.summary import SummaryKind
from bot.logsafety import describe_exception
from bot.services import Services
from bot.services.summaries import WEEKLY_WEEKDAY, SummaryPackage
from scheduler.rounds import rounds_of

log = logging.getLogger(__name__)

JOB_NAME = "officials-summaries"
CONCURRENCY = 8  # recipients served at once (each one's three sends are sequential)
CHAT_SPACING = 1.0  # seconds between two sends to one chat when no bulk limiter does it
MISFIRE_GRACE_SECONDS = 3600

_KIND = {KIND_DAILY: SummaryKind.DAILY, KIND_WEEKLY: SummaryKind.WEEKLY}


@dataclass
class SummaryRoundReport:
    """What one round did (the demo and the tests read it)."""

    day: date | None = None
    started: bool = False  # False: before SUMMARY_TIME, nothing was due
    due: int = 0
    completed: int = 0  # runs finished with all three parts delivered in this round
    parts_sent: int = 0
    resumed: int = 0  # runs that continued a summary cut short earlier
    failed: int = 0
    uncertain: int = 0
    retry_later: int = 0
    recovered: int = 0  # parts left in flight by a previous process, never re-sent
    packages_built: int = 0
    errors: list[str] = field(default_factory=list)


def _policy(bot: Bot) -> tuple[Any, bool]:
    """rate_limit_args for bulk sends, and whether the limiter spaces sends per chat."""
    try:
        from handlers.telegram.ratelimit import BotRateLimiter, SendPolicy
    except ImportError:  # pragma: no cover - the limiter module is part of the project
        return None, False
    limiter = getattr(bot, "rate_limiter", None)
    if isinstance(limiter, BotRateLimiter):
        return SendPolicy(bulk=True), True
    return None, False


async def send_part(
    bot: Bot, chat_id: int, package: SummaryPackage, part: int, rate_limit_args: Any = None
) -> None:
    """Send output number `part` (0 message, 1 chart, 2 workbook) of a summary to a chat."""
    extra: dict[str, Any] = {}
    if rate_limit_args is not None:
        extra["rate_limit_args"] = rate_limit_args
    if part == 0:
        await bot.send_message(chat_id, package.text, **extra)
    elif part == 1:
        if package.chart is None:
            return  # nothing drawn (logged when building); the message and workbook still go
        await bot.send_photo(
            chat_id,
            photo=package.chart,
            filename=package.chart_name,
            caption=replies_summary.chart_caption(package.data),
            **extra,
        )
    else:
        await bot.send_document(
            chat_id,
            document=package.workbook,
            filename=package.workbook_name,
            caption=replies_summary.workbook_caption(package.data),
            **extra,
        )


async def send_package(bot: Bot, chat_id: int, package: SummaryPackage, spacing: float = 0.0) -> None:
    """All three outputs to one chat, in order (the on-demand /baocao)."""
    for part in range(PARTS):
        if part and spacing:
            await asyncio.sleep(spacing)
        await send_part(bot, chat_id, package, part)


class _Round:
    def __init__(self, services: Services, bot: Bot, report: SummaryRoundReport, chat_spacing: float) -> None:
        self.services = services
        self.summaries = services.summaries
        self.repo = services.summaries.repo
        self.bot = bot
        self.report = report
        self.policy, self.limited = _policy(bot)
        self.spacing = 0.0 if self.limited else chat_spacing
        self.packages: dict[tuple[str, str], asyncio.Task[SummaryPackage]] = {}
        self.cache = services.summaries.new_cache(services.clock.now().date())
        self.gate = asyncio.Semaphore(CONCURRENCY)

    def package(self, kind: str, unit_code: str, day: date) -> asyncio.Task[SummaryPackage]:
        """One build per unit and kind per round, shared by everyone of that unit."""
        key = (kind, unit_code)
        task = self.packages.get(key)
        if task is None:
            task = asyncio.ensure_future(
                self.summaries.build(unit_code, _KIND[kind], day, cache=self.cache)
            )
            self.packages[key] = task
            self.report.packages_built += 1
        return task

    async def serve(self, recipient: Recipient, kind: str, day: date) -> None:
        async with self.gate:
            try:
                package = await self.package(kind, recipient.unit_code, day)
            except Exception as exc:  # a broken unit must not stop the others
                log.error("summary for unit %s could not be built: %s", recipient.unit_code, describe_exception(exc))
                self.report.errors.append(type(exc).__name__)
                return
            now = self.services.clock.now()
            done = await self.repo.claim(recipient, kind, day, now)
            if done is None:
                return  # someone else's, or finished meanwhile
            if done:
                self.report.resumed += 1
            for part in range(done, PARTS):
                if part > done and self.spacing:
                    await asyncio.sleep(self.spacing)
                if not await _to_the_end(self._send(recipient, kind, day, package, part)):
                    return
            self.report.completed += 1

    async def _send(self, r: Recipient, kind: str, day: date, package: SummaryPackage, part: int) -> bool:
        """One part; True to go on with the next one."""
        if not await self.repo.start_part(r.member_id, kind, day, part):
            return False
        try:
            await send_part(self.bot, r.chat_id, package, part, self.policy)
        except RetryAfter:
            await self.repo.part_retry(r.member_id, kind, day, "RetryAfter")
            self.report.retry_later += 1
            return False
        except Forbidden:
            await self.repo.finish(r.member_id, kind, day, "failed", "Forbidden", self.services.clock.now())
            self.report.failed += 1
            return False
        except NetworkError as exc:  # timed out or cut: it may have arrived, never send it again
            await self.repo.part_uncertain(r.member_id, kind, day, part, type(exc).__name__, self.services.clock.now())
            self.report.uncertain += 1
            return True
        except TelegramError as exc:
            await self.repo.finish(r.member_id, kind, day, "failed", type(exc).__name__, self.services.clock.now())
            self.report.failed += 1
            return False
        except Exception as exc:
            log.error("summary part %d to member %d failed: %s", part, r.member_id, describe_exception(exc))
            await self.repo.part_uncertain(r.member_id, kind, day, part, type(exc).__name__, self.services.clock.now())
            self.report.uncertain += 1
            return False
        await self.repo.part_done(r.member_id, kind, day, part, self.services.clock.now())
        self.report.parts_sent += 1
        return True


async def _all_settled(tasks: list[asyncio.Task[None]]) -> None:
    """Await every recipient's task. Cancelled (shutting down), wait until each has recorded
    its part in flight before going on: a plain ``gather`` would end at the first cancelled
    child and let the stop close the database under the others."""
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        for task in tasks:  # gather cancelled them already; a second cancel would cut
            if not task.done() and not task.cancelling():  # a part in flight short
                task.cancel()
        pending = [task for task in tasks if not task.done()]
        if pending:
            await asyncio.wait(pending)
        raise


async def _to_the_end(step: Coroutine[Any, Any, bool]) -> bool:
    """Run one part (mark, send, record) to its end even when the round is cancelled meanwhile
    (shutting down): the part in flight is recorded, then the cancellation goes on, so a
    stopped round leaves no part 'sending' and the next round resumes with the next part."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task}, timeout=15)  # never cancels the part itself
        raise


def kinds_due(day: date) -> list[str]:
    """The daily summary every day; the weekly digest on Mondays too."""
    return [KIND_DAILY, KIND_WEEKLY] if day.weekday() == WEEKLY_WEEKDAY else [KIND_DAILY]


async def run_summary_round(
    services: Services, bot: Bot, *, chat_spacing: float = CHAT_SPACING
) -> SummaryRoundReport:
    """Send every summary due now; safe to call at any time, any number of times.

    Rounds are serialised (one at a time per process). Before SUMMARY_TIME nothing is due.
    """
    report = SummaryRoundReport()
    async with services.summaries.round_lock:
        now = services.clock.now()
        day = now.date()
        report.day = day
        report.recovered = await services.summaries.repo.recover_interrupted(now)
        if now.time() < services.settings.summary_time:
            return report
        report.started = True
        work = _Round(services, bot, report, chat_spacing)
        for kind in kinds_due(day):
            due = await services.summaries.repo.due(kind, day)
            report.due += len(due)
            await _all_settled([asyncio.ensure_future(work.serve(r, kind, day)) for r in due])
        for task in work.packages.values():
            if not task.done():  # pragma: no cover - every serve awaited its package
                task.cancel()
    if report.due:
        log.info(
            "summaries %s: due %d, completed %d, parts %d, failed %d, uncertain %d, retry %d",
            day, report.due, report.completed, report.parts_sent, report.failed,
            report.uncertain, report.retry_later,
        )
    return report


async def _tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a round in the background unless one is running: the tick itself stays instant,
    so APScheduler never skips or stacks ticks while a long fan-out goes on. The round is a
    task the application cancels first when it stops (scheduler/rounds.py)."""
    application = context.application
    services: Services = application.bot_data["services"]
    running = services.summaries.round_task
    if running is not None and not running.done():
        return
    services.summaries.round_task = rounds_of(application).start(
        application, _logged_round(services, application.bot), "summary-round"
    )


async def _logged_round(services: Services, bot: Bot) -> None:
    try:
        await run_summary_round(services, bot)
    except Exception as exc:  # keep the job alive; the next tick tries again
        log.error("summary round failed: %s", describe_exception(exc))


def register(application: Application) -> None:
    """Tick every SCHEDULER_TICK_SECONDS; the first tick one interval after start-up."""
    job_queue = application.job_queue
    if job_queue is None:  # pragma: no cover - the project installs python-telegram-bot[job-queue]
        log.warning("no job queue: daily summaries are off")
        return
    settings = application.bot_data["services"].settings
    interval = settings.scheduler_tick_seconds
    job_queue.run_repeating(
        _tick,
        interval=interval,
        first=interval,
        name=JOB_NAME,
        job_kwargs={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1},
    )
