"""The reminder job: select who is due into the SQLite outbox, then send within allowed hours.

A round (``run_reminder_round``), run by the scheduler's tick (scheduler/runner.py) or called
directly by tests and the demo, sends through the `Sender` of each row's channel (``senders``,
built by the wiring from the configured channels; this module knows no channel library):
1. puts back to 'pending' any row a dead process left 'sending' (see "Crashes" below);
2. queues one reminder per person due today, per running campaign (idempotent);
3. if the injected clock is inside the allowed hours, sends pending rows oldest first,
   ``REMINDER_CONCURRENCY`` (default 8) at once, until none is left or the hours end (the rest
   wait for the next morning's ticks). Several requests are in flight so that a real network's
   round trip (60 ms) does not cap the rate: the rate limiter alone decides when each leaves.

Sending one row: claim it ('sending' + attempt id, committed), take the channel's slot when
its sender paces itself (`scheduler.sending.Paced`; Telegram: overall 30/s less the safety
margin, 1/s for that chat), send the neutral reminder (bot.chat.outbound.reminder_reply),
record the `SendResult` at once:
- Delivered -> 'sent';
- Blocked (Telegram: 403, chat gone) -> 'blocked', and the person is recorded as blocked:
  never messaged again (until they ask for reminders with /nhac, which means they unblocked
  the bot);
- RetryAfter -> the row goes straight back to 'pending', its chat (or, when several chats are
  refused, every request) pauses for exactly retry_after (a deadline that nothing shortens),
  then the same row is tried again; when retry_after is longer than the sender waits in line
  (``max_wait``, 2 min on Telegram), the row is left for a later round, not before
  retry_after, and when every send of a channel is paused that long the round leaves that
  channel's rows pending;
- Refused (a bad request) -> 'failed', not retried;
- Unknown (timeouts, 5xx, network errors) -> back to 'pending' with a back-off on the injected
  clock (30 s, 1 min, 2 min ... up to 1 h), at most ``MAX_ATTEMPTS`` attempts, then 'failed';
- the channel down (`ChannelDown`: its credentials refused) -> the row waits ('pending') and
  the round sends nothing more on that channel.
A row whose channel has no sender configured stays 'pending' with the reason 'no_sender'
(counted in the report and logged), and goes once that channel is configured.
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
- Crashes: a claim holds its row for a lease (``scheduler.leases``: this instance's id, 5
  minutes on the injected clock, longer than any wait for a slot plus a request). A row found
  'sending' with its lease ended at the start of a round belongs to a dead process (a live
  one records every row before its lease ends, and a cancelled round first waits for every
  in-flight send to be recorded); it returns to 'pending' and is sent again, by whichever
  instance's round finds it. Rows another live instance holds are never touched, so several
  instances share one outbox. A kill anywhere else (waiting for a slot, a 429 pause, between
  rows, outside hours) loses and repeats nothing.
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

from bot.chat.model import Blocked, Delivered, Person, Refused, Reply, RetryAfter, Sender, Unknown
from bot.chat.outbound import reminder_reply
from bot.domain.records import OutboxRow
from bot.domain.reminders import backoff
from bot.logsafety import describe_exception
from bot.services import Services
from bot.services.cards import ReminderContent
from scheduler.leases import INSTANCE_ID, lease_until
from scheduler.runner import SchedulerRunner
from scheduler.sending import ChannelDown, Paced, Senders, paced
from scheduler.zns import ZnsQueue, ZnsReport, zns_round

log = logging.getLogger(__name__)

JOB_NAME = "lapsed-card-reminders"
MAX_ATTEMPTS = 6  # transient failures before a row is given up as 'failed'
MAX_429_IN_A_ROW = 5  # then the row waits for a later round
LONGEST_429_WAIT = 120.0  # seconds a round waits out a 429 for a row (sender not pacing)
BATCH = 50  # rows read (and their reminders composed) together
NO_SENDER = "no_sender"  # why a row of a channel without a sender waits
_BOOT = uuid.uuid4().hex[:8]  # names this process in attempt ids


@dataclass
class RoundReport:
    """What one round did (counts only: no personal data, safe to log and print).

    ``no_sender``: rows left pending because their channel has no sender configured;
    ``waiting``: rows left pending because their channel paused every send, or is down
    (``down`` names those channels)."""

    started_at: datetime
    recovered: int = 0
    queued: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    skipped: int = 0
    no_sender: int = 0
    waiting: int = 0
    outside_hours: bool = False
    sent_to: list[int] = field(default_factory=list)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    down: list[str] = field(default_factory=list)
    zns: ZnsReport | None = None

    def summary(self) -> str:
        return (
            f"queued {self.queued}, sent {self.sent}, blocked {self.blocked}, failed {self.failed}, "
            f"retry later {self.retried}, 429s {self.rate_limited}, skipped {self.skipped}, "
            f"no sender {self.no_sender}, waiting {self.waiting}, "
            f"recovered {self.recovered}{', outside hours' if self.outside_hours else ''}"
            f"{', down: ' + ', '.join(self.down) if self.down else ''}"
        )


async def run_reminder_round(services: Services, senders: Senders, zns: ZnsQueue | None = None) -> RoundReport:
    """One round: recover, queue, and drain the outbox while the hours allow, each row
    through the sender of its channel; then, with a ``zns`` queue, the ZNS rows
    (scheduler/zns.py: queued after the chat rows, so a linked person is reminded on the chat)."""
    reminders = services.reminders
    async with reminders.round_lock:
        now = services.clock.now()
        report = RoundReport(started_at=now)
        report.recovered = await reminders.repo.recover_sending(now)
        if report.recovered:
            log.warning("reminders: %d interrupted sends will be sent again", report.recovered)
        report.queued = await reminders.queue_round(now)
        await _drain(services, senders, report)
        if zns is not None:
            report.zns = await zns_round(services, zns)
            log.info("reminder round: %s", report.zns.summary())
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


async def _drain(services: Services, senders: Senders, report: RoundReport) -> None:
    """Send pending rows, oldest first, ``REMINDER_CONCURRENCY`` at once, while the hours allow.

    Several requests are in flight so that the network's round trip does not cap the rate;
    each row still goes claim -> send -> record on its own (see ``_send_row``), and the round
    does not return, even when cancelled, before every claimed row is recorded. Rows of a
    channel without a sender, paused for longer than it waits in line, or down, stay pending.
    """
    reminders = services.reminders
    clock = services.clock
    workers = _Workers(services.settings.reminder_concurrency)
    down: set[str] = set()
    after = 0
    try:
        while not workers.stopped:
            if not reminders.hours.allows(clock.now()):
                workers.outside_hours = True
                break
            held = _held_channels(senders, down)
            if senders and held >= set(senders):
                # Every channel paused for longer than a round waits in line (or down): the
                # rows stay pending for a round after the pause.
                log.warning("reminders: every channel is paused or down; the rest waits for a later round")
                break
            batch = await reminders.repo.next_pending(clock.now(), after, limit=BATCH)
            if not batch:
                break
            after = batch[-1].id
            sendable = await _set_aside(services, senders, held, batch, report)
            contents = await _contents(services, sendable)
            for row in sendable:
                if row.channel in down:
                    report.waiting += 1
                    continue
                work = _send_row(services, senders[row.channel], row, contents.get(row.id), report, down)
                if not await workers.start(work):
                    break
        await workers.wait()
    except asyncio.CancelledError:
        await workers.cancel()
        raise
    finally:
        report.outside_hours = report.outside_hours or workers.outside_hours
        report.down = sorted(down)


def _held_channels(senders: Senders, down: set[str]) -> set[str]:
    """Channels whose rows wait this round: down, or every send paused beyond ``max_wait``."""
    held = set(down)
    for channel, sender in senders.items():
        pacer = paced(sender)
        if pacer is not None and pacer.paused_for() > pacer.max_wait:
            held.add(channel)
    return held


async def _set_aside(
    services: Services, senders: Senders, held: set[str], batch: list[OutboxRow], report: RoundReport
) -> list[OutboxRow]:
    """The rows of ``batch`` that can go now. Rows of a channel with no sender are marked
    'no_sender' (still pending, so they go once the channel is configured) and counted; rows
    of a held channel are counted as waiting."""
    unsendable = [row for row in batch if row.channel not in senders]
    if unsendable:
        report.no_sender += len(unsendable)
        await services.reminders.repo.hold_pending([row.id for row in unsendable], NO_SENDER)
        channels = sorted({row.channel for row in unsendable})
        log.warning("reminders: %d rows wait, no sender for channel(s) %s", len(unsendable), ", ".join(channels))
    waiting = [row for row in batch if row.channel in senders and row.channel in held]
    report.waiting += len(waiting)
    return [row for row in batch if row.channel in senders and row.channel not in held]


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
        if campaign is None:
            continue
        found = await reminders.contents_for([r.user_id for r in group], campaign, channel)
        for row in group:
            if row.user_id in found:
                contents[row.id] = found[row.user_id]
    return contents


async def _send_row(
    services: Services,
    sender: Sender,
    row: OutboxRow,
    content: ReminderContent | None,
    report: RoundReport,
    down: set[str],
) -> bool:
    """Send one row (or settle it); False when the allowed hours ended before it was sent.

    Claim (committed, with the hours checked at the very time the claim records), then wait
    for the channel's slot, check the hours again, send, and record the outcome at once.
    Waiting for the slot *after* the claim keeps database writes out of the time between the
    slot's release and the request, so the limiter's safety margin is not spent on our own
    delays. A row cancelled or stopped by the hours while it waits for its slot is given back
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
    reply = reminder_reply(content)
    person = Person(row.channel, str(row.user_id))
    pacer = paced(sender)
    for tries in range(1, MAX_429_IN_A_ROW + 1):
        attempt = f"{_BOOT}:{row.id}:{row.attempts + tries}"
        if row.channel in down:
            report.waiting += 1
            return True
        if not hours.allows(clock.now()):
            return False
        now = clock.now()
        claimed = await _shielded(
            repo.claim(row.id, attempt, now, lease_until(now), INSTANCE_ID), give_back=(repo, row.id, attempt, clock)
        )
        if claimed != "claimed":
            report.skipped += 1
            return True
        try:
            if pacer is not None:
                await pacer.reserve(person)
        except asyncio.CancelledError:
            await repo.retry_later(row.id, attempt, clock.now(), "interrupted")
            raise
        if not hours.allows(clock.now()):
            await repo.retry_later(row.id, attempt, clock.now(), "hours")
            return False
        outcome = asyncio.ensure_future(
            _attempt(services, sender, pacer, person, row, attempt, row.attempts + tries, reply)
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
            report.sent_by_channel[row.channel] = report.sent_by_channel.get(row.channel, 0) + 1
            return True
        if result == "429":
            report.rate_limited += 1
            continue  # the sender holds this chat (or everyone) for exactly retry_after
        if result == "blocked":
            report.blocked += 1
        elif result == "failed":
            report.failed += 1
        elif result == "down":
            if row.channel not in down:
                down.add(row.channel)
                log.error("reminders: channel %s is down; its rows wait for a later round", row.channel)
            report.waiting += 1
        else:
            report.retried += 1
        return True
    # Still flooded: leave the row for a later round.
    report.retried += 1
    return True


async def _skip(services: Services, row: OutboxRow, attempt: str) -> None:
    repo = services.reminders.repo
    now = services.clock.now()
    if await repo.claim(row.id, attempt, now, lease_until(now), INSTANCE_ID) == "claimed":
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
    sender: Sender,
    pacer: Paced | None,
    person: Person,
    row: OutboxRow,
    attempt: str,
    attempts: int,
    reply: Reply,
) -> str:
    """Send the claimed row once and record the outcome; returns what happened."""
    repo = services.reminders.repo
    clock = services.clock
    try:
        if pacer is not None:
            result = await pacer.send_reserved(person, reply)
        else:
            result = await sender.send(person, reply)
    except ChannelDown:
        await repo.retry_later(row.id, attempt, clock.now(), "channel_down")
        return "down"
    if isinstance(result, Delivered):
        await repo.finish(row.id, attempt, "sent", clock.now(), message_id=_message_id(result))
        return "sent"
    if isinstance(result, RetryAfter):
        # A pacing sender has already recorded the pause, for the full time the channel
        # asked. A pause longer than a round waits in line leaves the row for a later round,
        # not before retry_after on the injected clock either.
        wait = result.seconds
        if wait > (pacer.max_wait if pacer is not None else LONGEST_429_WAIT):
            await repo.retry_later(row.id, attempt, clock.now() + timedelta(seconds=wait), "429")
            return "retry"
        await repo.retry_later(row.id, attempt, clock.now(), "429")
        if pacer is None:
            await asyncio.sleep(wait)
        return "429"
    if isinstance(result, Blocked):
        await repo.finish(row.id, attempt, "blocked", clock.now(), error="blocked")
        return "blocked"
    if isinstance(result, Refused):
        log.warning("reminder row %d refused by %s", row.id, row.channel)
        await repo.finish(row.id, attempt, "failed", clock.now(), error=result.reason[:64])
        return "failed"
    assert isinstance(result, Unknown)  # timed out, 5xx, network: may have arrived; resent
    error = result.reason[:32]
    if attempts >= MAX_ATTEMPTS:
        await repo.finish(row.id, attempt, "failed", clock.now(), error=error)
        return "failed"
    await repo.retry_later(row.id, attempt, clock.now() + backoff(attempts), error)
    return "retry"


def _message_id(result: Delivered) -> str | None:
    """The channel's message id as text (Zalo's ids are strings; Telegram's are numbers)."""
    return result.provider_id


async def _tick(runner: SchedulerRunner) -> None:
    """Run one round as a task the runner cancels first when it stops (scheduler/rounds.py),
    so a shutdown does not wait for the whole fan-out; the tick lasts as long as its round, so
    ticks never stack."""
    task = runner.rounds.start(run_reminder_round(runner.services, runner.senders, runner.zns), "reminder-round")
    if task is None:  # the runner is stopping
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
    if error is not None:
        log.error("reminder round failed; the next tick resumes from the outbox: %s", describe_exception(error))
        return
    report = task.result()
    if report.down:
        log.error("reminder round: channel(s) down, their rows wait: %s", ", ".join(report.down))


def register(runner: SchedulerRunner) -> None:
    """Tick every SCHEDULER_TICK_SECONDS. A late tick still runs (misfire grace), ticks that
    pile up while a long fan-out runs collapse into one, and only one runs at a time."""
    interval = runner.services.settings.scheduler_tick_seconds
    runner.repeat(
        JOB_NAME,
        _tick,
        interval,
        misfire_grace_time=max(60, int(interval * 2)),
        coalesce=True,
        max_instances=1,
    )
