"""The reminder job: select who is due into the SQLite outbox, then send within allowed hours.

A round (``run_reminder_round``), run by a PTB JobQueue tick or called directly by tests and
the demo:
1. puts back to 'pending' any row a dead process left 'sending' (see "Crashes" below);
2. queues one reminder per person due today, per running campaign (idempotent);
3. if the injected clock is inside the allowed hours, sends pending rows oldest first,
   ``REMINDER_CONCURRENCY`` (default 8) at once, until none is left or the hours end (the rest
   wait for the next morning's ticks). Several requests are in flight so that a real network's
   round trip (60 ms) does not cap the rate: the rate limiter alone decides when each leaves.

Sending one row: claim it ('sending' + attempt id, committed), take the rate limiter's slots
(overall 30/s less the safety margin, 1/s for that chat), send, record the outcome at once:
- accepted -> 'sent';
- 403 -> 'blocked', and the person is recorded as blocked: never messaged again (until they
  ask for reminders with /nhac, which means they unblocked the bot);
- 429 -> the row goes straight back to 'pending', its chat (or, when several chats are refused,
  every request) pauses for exactly retry_after (a deadline that nothing shortens), then the
  same row is tried again; when retry_after is longer than the limiter waits in line
  (``max_retry_after``, 2 min), the row is left for a later round, not before retry_after,
  and when every send is paused that long the round stops and leaves the rest pending;
- 400 (chat gone, bad request) -> 'failed', not retried;
- timeouts, 5xx, network errors -> back to 'pending' with a back-off on the injected clock
  (30 s, 1 min, 2 min ... up to 1 h), at most ``MAX_ATTEMPTS`` attempts, then 'failed'.
A row claimed but still waiting for its slot when the round is cancelled or the hours end is
given back ('pending') before anything is sent.

Exactly one reminder each. The outbox makes selection idempotent (one row per person per
n-th reminder), each row is claimed by exactly one worker (the claim is a compare-and-set on
'pending'), and each worker records its row's outcome right after its own request, so the only
moment that can go either way is, per row, the request between claim and record (at most
``REMINDER_CONCURRENCY`` such requests at a time). Telegram offers no idempotency
key, so when that request ends without an answer (a timeout, or the process dying) nobody can
tell whether the message arrived. We choose *at least once* there: such a row is sent again.
A person who misses a reminder may let their card pass the 3-month mark and lose the 30 days
and their 5-year status; a rare second copy of the same message costs them a glance. So:
- Crashes: a row found 'sending' at the start of a round belongs to a dead process (rounds
  hold a lock, and a cancelled round first waits for every in-flight send to be recorded);
  it returns to 'pending' and is sent again. A kill anywhere else (waiting for a slot, a 429
  pause, between rows, outside hours) loses and repeats nothing.
- Timeouts are retried with back-off, for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.chat.texts import cards as replies_cards
from bot.domain.records import OutboxRow
from bot.domain.reminders import backoff
from bot.logsafety import describe_exception
from bot.services import Services
from bot.services.cards import ReminderContent
from handlers.telegram.context import BotContext
from handlers.telegram.ratelimit import BotRateLimiter, SendPolicy, retry_after_seconds
from scheduler.rounds import rounds_of

log = logging.getLogger(__name__)

JOB_NAME = "lapsed-card-reminders"
MAX_ATTEMPTS = 6  # transient failures before a row is given up as 'failed'
MAX_429_IN_A_ROW = 5  # then the row waits for a later round
LONGEST_429_WAIT = 120.0  # seconds a round waits out a 429 for a row (without our limiter)
BATCH = 50  # rows read (and their reminders composed) together
BULK_POLICY = SendPolicy(bulk=True, reserved=True, max_retries=0)
_BOOT = uuid.uuid4().hex[:8]  # names this process in attempt ids


@dataclass
class RoundReport:
    """What one round did (counts only: no personal data, safe to log and print)."""

    started_at: datetime
    recovered: int = 0
    queued: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    skipped: int = 0
    outside_hours: bool = False
    sent_to: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"queued {self.queued}, sent {self.sent}, blocked {self.blocked}, failed {self.failed}, "
            f"retry later {self.retried}, 429s {self.rate_limited}, skipped {self.skipped}, "
            f"recovered {self.recovered}{', outside hours' if self.outside_hours else ''}"
        )


def keyboard(rows: replies_cards.Buttons) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def run_reminder_round(services: Services, bot: Bot) -> RoundReport:
    """One round: recover, queue, and drain the outbox while the hours allow."""
    reminders = services.reminders
    async with reminders.round_lock:
        now = services.clock.now()
        report = RoundReport(started_at=now)
        report.recovered = await reminders.repo.recover_sending()
        if report.recovered:
            log.warning("reminders: %d interrupted sends will be sent again", report.recovered)
        report.queued = await reminders.queue_round(now)
        await _drain(services, bot, report)
        log.info("reminder round: %s", report.summary())
        return report


class _Workers:
    """At most ``size`` rows being sent at once; remembers why the fan-out must stop."""

    def __init__(self, size: int) -> None:
        self.gate = asyncio.Semaphore(size)
        self.tasks: set[asyncio.Task[bool]] = set()
        self.outside_hours = False
        self.error: BaseException | None = None

    @property
    def stopped(self) -> bool:
        return self.outside_hours or self.error is not None

    async def start(self, work: Coroutine[Any, Any, bool]) -> bool:
        """Wait for a free worker and start ``work`` on it; False (and ``work`` closed,
        never started) when the fan-out stopped meanwhile."""
        try:
            await self.gate.acquire()
        except asyncio.CancelledError:
            work.close()
            raise
        if self.stopped:
            self.gate.release()
            work.close()
            return False
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[bool]) -> None:
        self.tasks.discard(task)
        self.gate.release()
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.error = self.error or error
        elif task.result() is False:
            self.outside_hours = True

    async def wait(self) -> None:
        """Until every started row is settled; then raise the first error a row raised."""
        while self.tasks:
            await asyncio.wait(set(self.tasks))
        if self.error is not None:
            raise self.error

    async def cancel(self) -> None:
        """Cancel every row and wait until each has recorded its outcome: a row waiting for
        its slot is given back ('pending'), a request in flight is awaited and recorded."""
        tasks = set(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


async def _drain(services: Services, bot: Bot, report: RoundReport) -> None:
    """Send pending rows, oldest first, ``REMINDER_CONCURRENCY`` at once, while the hours allow.

    Several requests are in flight so that the network's round trip does not cap the rate;
    each row still goes claim -> send -> record on its own (see ``_send_row``), and the round
    does not return, even when cancelled, before every claimed row is recorded.
    """
    reminders = services.reminders
    clock = services.clock
    limiter = _limiter(bot)
    workers = _Workers(services.settings.reminder_concurrency)
    after = 0
    try:
        while not workers.stopped:
            if not reminders.hours.allows(clock.now()):
                workers.outside_hours = True
                break
            if limiter is not None and limiter.paused_for > limiter.max_retry_after:
                # Telegram paused the whole bot for longer than a round waits in line: the
                # rows stay pending for a round after the pause.
                log.warning("reminders: every send paused %.0f s; the rest waits for a later round", limiter.paused_for)
                break
            batch = await reminders.repo.next_pending(clock.now(), after, limit=BATCH)
            if not batch:
                break
            contents = await _contents(services, batch)
            for row in batch:
                after = row.id
                work = _send_row(services, bot, row, contents.get(row.id), report, limiter)
                if not await workers.start(work):
                    break
        await workers.wait()
    except asyncio.CancelledError:
        await workers.cancel()
        raise
    finally:
        report.outside_hours = report.outside_hours or workers.outside_hours


def _limiter(bot: Bot) -> BotRateLimiter | None:
    limiter = getattr(bot, "rate_limiter", None)
    return limiter if isinstance(limiter, BotRateLimiter) else None


async def _contents(services: Services, rows: list[OutboxRow]) -> dict[int, ReminderContent]:
    """What each row's reminder says, read for the whole batch at once. A person who opts out
    or says they renewed meanwhile is still protected: their pending rows are skipped in the
    same transaction, and a row is only sent once its claim finds it still pending."""
    reminders = services.reminders
    by_campaign: dict[tuple[str, str], list[OutboxRow]] = {}
    for row in rows:
        by_campaign.setdefault((row.campaign_code, row.channel), []).append(row)
    contents: dict[int, ReminderContent] = {}
    for (code, channel), group in by_campaign.items():
        campaign = reminders.plan.by_code(code)
        if campaign is None or channel != "telegram":
            continue
        found = await reminders.contents_for([r.user_id for r in group], campaign, channel)
        for row in group:
            if row.user_id in found:
                contents[row.id] = found[row.user_id]
    return contents


async def _send_row(
    services: Services,
    bot: Bot,
    row: OutboxRow,
    content: ReminderContent | None,
    report: RoundReport,
    limiter: BotRateLimiter | None,
) -> bool:
    """Send one row (or settle it); False when the allowed hours ended before it was sent.

    Claim (committed, with the hours checked at the very time the claim records), then wait
    for the rate limiter's slot, check the hours again, send, and record the outcome at once.
    Waiting for the slot *after* the claim keeps database writes out of the time between the
    limiter's release and the request, so the safety margin is not spent on our own delays.
    A row cancelled or stopped by the hours while it waits for its slot is given back
    ('pending'): nothing was sent, so nothing is lost or repeated.
    """
    repo = services.reminders.repo
    hours = services.reminders.hours
    clock = services.clock
    attempt = f"{_BOOT}:{row.id}:{row.attempts + 1}"
    if content is None:  # renewed, claimed or unlinked since it was queued
        await _shielded(_skip(services, row, attempt))
        report.skipped += 1
        return True
    text = replies_cards.reminder_text(content)
    markup = keyboard(replies_cards.reminder_buttons())
    for tries in range(1, MAX_429_IN_A_ROW + 1):
        attempt = f"{_BOOT}:{row.id}:{row.attempts + tries}"
        if not hours.allows(clock.now()):
            return False
        claimed = await _shielded(repo.claim(row.id, attempt, clock.now()), give_back=(repo, row.id, attempt, clock))
        if claimed != "claimed":
            report.skipped += 1
            return True
        try:
            if limiter is not None:
                await limiter.reserve(row.user_id, bulk=True)
        except asyncio.CancelledError:
            await repo.retry_later(row.id, attempt, clock.now(), "interrupted")
            raise
        if not hours.allows(clock.now()):
            await repo.retry_later(row.id, attempt, clock.now(), "hours")
            return False
        outcome = asyncio.ensure_future(
            _attempt(services, bot, row, attempt, row.attempts + tries, text, markup, limiter)
        )
        try:
            result = await asyncio.shield(outcome)
        except asyncio.CancelledError:
            # Shutting down: let the request in flight finish and be recorded first.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(outcome, timeout=15)
            raise
        if result == "sent":
            report.sent += 1
            report.sent_to.append(row.user_id)
            return True
        if result == "429":
            report.rate_limited += 1
            continue  # the limiter holds this chat (or everyone) for exactly retry_after
        if result == "blocked":
            report.blocked += 1
        elif result == "failed":
            report.failed += 1
        else:
            report.retried += 1
        return True
    # Still flooded: leave the row for a later round.
    report.retried += 1
    return True


async def _skip(services: Services, row: OutboxRow, attempt: str) -> None:
    repo = services.reminders.repo
    if await repo.claim(row.id, attempt, services.clock.now()) == "claimed":
        await repo.finish(row.id, attempt, "skipped", services.clock.now(), error="nothing_due")


async def _shielded(
    work: Coroutine[Any, Any, Any], give_back: tuple[Any, int, str, Any] | None = None
) -> Any:
    """Run a database step to its end even if the round is cancelled meanwhile: a claim whose
    commit went through must not be lost with the cancelled coroutine that awaited it (the row
    would stay 'sending' though nothing was sent). With ``give_back``, a claim that succeeded
    as the round was being cancelled is given back ('pending') before the cancellation goes on."""
    step = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(step)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            result = await step
            if give_back is not None and result == "claimed":
                repo, row_id, attempt, clock = give_back
                await repo.retry_later(row_id, attempt, clock.now(), "interrupted")
        raise


async def _attempt(
    services: Services,
    bot: Bot,
    row: OutboxRow,
    attempt: str,
    attempts: int,
    text: str,
    markup: InlineKeyboardMarkup,
    limiter: BotRateLimiter | None,
) -> str:
    """Send the claimed row once and record the outcome; returns what happened."""
    repo = services.reminders.repo
    clock = services.clock
    try:
        kwargs = {"rate_limit_args": BULK_POLICY} if limiter is not None else {}
        message = await bot.send_message(
            row.user_id, text, parse_mode=ParseMode.HTML, reply_markup=markup, **kwargs
        )
    except RetryAfter as exc:
        # The limiter has already recorded the pause (BotRateLimiter.retry_after), for the
        # full time Telegram asked. A pause longer than a round waits in line leaves the row
        # for a later round, not before retry_after on the injected clock either.
        wait = retry_after_seconds(exc)
        if wait > (limiter.max_retry_after if limiter is not None else LONGEST_429_WAIT):
            await repo.retry_later(row.id, attempt, clock.now() + timedelta(seconds=wait), "429")
            return "retry"
        await repo.retry_later(row.id, attempt, clock.now(), "429")
        if limiter is None:
            await asyncio.sleep(wait)
        return "429"
    except Forbidden:
        await repo.finish(row.id, attempt, "blocked", clock.now(), error="403")
        return "blocked"
    except BadRequest as exc:
        log.warning("reminder row %d refused: %s", row.id, type(exc).__name__)
        await repo.finish(row.id, attempt, "failed", clock.now(), error="400")
        return "failed"
    except InvalidToken:
        await repo.retry_later(row.id, attempt, clock.now(), "token")
        raise
    except TelegramError as exc:  # TimedOut, NetworkError (5xx, connection): transient
        error = type(exc).__name__[:32]
        if attempts >= MAX_ATTEMPTS:
            await repo.finish(row.id, attempt, "failed", clock.now(), error=error)
            return "failed"
        await repo.retry_later(row.id, attempt, clock.now() + backoff(attempts), error)
        return "retry"
    await repo.finish(row.id, attempt, "sent", clock.now(), message_id=message.message_id)
    return "sent"


async def _tick(context: BotContext) -> None:
    """Run one round as a task the application cancels first when it stops (scheduler/rounds.py),
    so a shutdown does not wait for the whole fan-out; the tick lasts as long as its round, so
    ticks never stack."""
    task = rounds_of(context.application).start(
        context.application, run_reminder_round(context.services, context.bot), "reminder-round"
    )
    if task is None:  # the application is stopping
        return
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    if task.cancelled():
        log.info("reminder round stopped for shutdown; the next start resumes from the outbox")
        return
    error = task.exception()
    if isinstance(error, InvalidToken):
        log.error("reminder round stopped: the bot token is refused")
    elif error is not None:
        log.error("reminder round failed; the next tick resumes from the outbox: %s", describe_exception(error))


def register(application: Application) -> None:
    """Tick every SCHEDULER_TICK_SECONDS. A late tick still runs (misfire grace), ticks that
    pile up while a long fan-out runs collapse into one, and only one runs at a time."""
    services: Services = application.bot_data["services"]
    interval = services.settings.scheduler_tick_seconds
    job_queue = application.job_queue
    if job_queue is None:  # PTB installed without the job-queue extra
        log.warning("no JobQueue: reminders run only when called")
        return
    job_queue.run_repeating(
        _tick,
        interval=interval,
        first=interval,
        name=JOB_NAME,
        job_kwargs={
            "misfire_grace_time": max(60, int(interval * 2)),
            "coalesce": True,
            "max_instances": 1,
        },
    )
