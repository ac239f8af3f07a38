"""The ZNS part of a reminder round: queue phones, then send paid template messages, each at
most once.

Run by ``scheduler.reminders.run_reminder_round`` after the chat rows (same round lock, so a
person linked on a chat is queued there first and never sent a ZNS), when the wiring gave it a
``ZnsQueue`` and ``ZNS_ENABLED`` is on. A round:
1. turns rows a dead process left 'sending' into 'unknown' once their lease ended (see
   "Exactly once" below; a live instance's rows in flight are left alone);
2. queues one ZNS per eligible phone (storage/sqlite/reminder_zns.py states who);
3. inside the ZNS hours (default 08:00-20:00 local, ``ZNS_HOURS_START``/``_END``) and while the
   queue is not paused, sends pending rows oldest first, ``ZNS_CONCURRENCY`` at once.

The pause is shared. The daily quota and Zalo's night belong to the OA, not to one process:
when one instance learns that no quota is left today (or meets a night refusal), every
instance on the database must stop, not each spend a refused request to learn it. So each
pause decided here (``bot.domain.zns.ZnsPause``) is written to the database at once
(``storage.contract.ChannelPauses``, channel ``zns``; only ever later), and every instance
reads it at the start of the round, before each batch and before claiming each row (one
primary-key read), and adopts it. A database that does not answer leaves this instance's own
pause (logged); the claim that follows then fails as any other write would. A send already
past its claim when another instance pauses still goes (at most ``ZNS_CONCURRENCY`` per
instance), and is recorded as its answer says.

One row: claim it ('sending', attempt id and tracking id, committed), send the template, record
the answer at once:
- accepted -> 'sent' with Zalo's msg id and the price (zns_templates.toml); when the answer
  says no quota is left today, the queue pauses until the next morning;
- NIGHT (−133) -> back to 'pending' for the next morning, and the queue pauses till then;
- DAILY_LIMIT (−144 OA / −147 template) -> back to 'pending' for the next morning, queue paused;
- STOP_QUEUE (wallet, template not approved, OA not verified, re-authorisation) -> back to
  'pending' with the reason; no more ZNS this round (logged as an error for the operator);
- RETRY_LATER -> 'pending' after a back-off, at most ``MAX_ATTEMPTS`` (nothing was sent, so
  giving up as 'failed' repeats nothing);
- NEVER_RETRY -> 'refused' with the reason; a person who refused the OA (−139/−141) is never
  queued again;
- UNKNOWN (a timeout after the request was written, a dropped connection, a 5xx) -> 'unknown'.

Exactly once. Telegram reminders are at least once (scheduler/reminders.py); a ZNS is paid and
comes from an official sender, so here an unknown outcome is NEVER resent automatically: the
row stays 'unknown' until Zalo's delivery receipt (``user_received_message``, matched by
tracking id, see ``reconcile``) makes it 'delivered', or an admin looks at it
(``bhxh-bot reminders unknown``). A process killed during a request leaves its row 'sending';
the first round after its lease ended (scheduler/leases.py), on any instance, makes it
'unknown', the same way. A kill anywhere else repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.chat.outbound import zns_template_data
from bot.domain.records import ZnsRow
from bot.domain.reminders import Hours, backoff
from bot.domain.zns import ZNS, ZnsAccepted, ZnsAction, ZnsFailed, ZnsOutcome, ZnsPause, ZnsTemplates, tracking_id
from bot.services import Services
from bot.services.cards import ReminderContent
from scheduler.leases import INSTANCE_ID, lease_until

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # RETRY_LATER answers before a row is given up as 'failed' (nothing was sent)
BATCH = 100
_BOOT = uuid.uuid4().hex[:8]


class ZnsPort(Protocol):
    """Sends one template to one phone and says what happened (handlers/zalo/zns_sender.py);
    never raises for Zalo's answer, never retries by itself."""

    async def send(self, phone: str, template_id: str, data: dict[str, str], tracking_id: str) -> ZnsOutcome: ...


class ZnsQueue:
    """What the ZNS rounds of one process share: the port, the templates, the hours, the pause."""

    def __init__(self, port: ZnsPort, templates: ZnsTemplates, hours: Hours, concurrency: int = 4) -> None:
        self.port = port
        self.templates = templates
        self.hours = hours
        self.concurrency = concurrency
        self.pause = ZnsPause(hours)


@dataclass
class ZnsReport:
    """What the ZNS part of a round did (counts only: safe to log)."""

    interrupted: int = 0  # rows a dead process left 'sending', now 'unknown'
    queued: int = 0
    sent: int = 0
    unknown: int = 0
    refused: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    backlog: int = 0  # rows still pending after the round
    outside_hours: bool = False
    paused_until: datetime | None = None
    pause_reason: str | None = None
    stopped: str | None = None  # why the queue stopped (STOP_QUEUE), for the operator
    sent_phones: list[str] = field(default_factory=list)

    def summary(self) -> str:
        pause = f", paused until {self.paused_until:%d/%m %H:%M} ({self.pause_reason})" if self.paused_until else ""
        stop = f", stopped: {self.stopped}" if self.stopped else ""
        return (
            f"zns queued {self.queued}, sent {self.sent}, unknown {self.unknown}, refused {self.refused},"
            f" failed {self.failed}, retry later {self.retried}, skipped {self.skipped},"
            f" interrupted {self.interrupted}, backlog {self.backlog}"
            f"{', outside hours' if self.outside_hours else ''}{pause}{stop}"
        )


async def zns_round(services: Services, queue: ZnsQueue) -> ZnsReport:
    """The ZNS part of a round; the caller holds ``services.reminders.round_lock``."""
    repo = services.reminders.repo
    now = services.clock.now()
    report = ZnsReport()
    report.interrupted = await repo.settle_interrupted_zns(now)
    if report.interrupted:
        log.warning("zns: %d interrupted sends are 'unknown' (never resent; receipts settle them)", report.interrupted)
    if services.settings.zns_enabled:
        report.queued = await services.reminders.queue_zns(now)
        await _shared_pause(services, queue)
        await _drain(services, queue, report)
    report.backlog = await repo.zns_backlog()
    if queue.pause.active(services.clock.now()):
        report.paused_until, report.pause_reason = queue.pause.until, queue.pause.reason
    if report.backlog and (report.paused_until or report.stopped):
        log.warning("zns: %d reminders wait (%s)", report.backlog, report.pause_reason or report.stopped)
    return report


class _Stop:
    """Why the fan-out stops: hours, pause or a stopped queue (shared by the row tasks)."""

    def __init__(self) -> None:
        self.reason: str | None = None


async def _drain(services: Services, queue: ZnsQueue, report: ZnsReport) -> None:
    """Send pending rows oldest first, ``queue.concurrency`` at once, while allowed."""
    repo = services.reminders.repo
    clock = services.clock
    stop = _Stop()
    gate = asyncio.Semaphore(queue.concurrency)
    tasks: set[asyncio.Task[None]] = set()
    after = 0
    try:
        while stop.reason is None:
            now = clock.now()
            if not queue.hours.allows(now):
                report.outside_hours = True
                break
            await _shared_pause(services, queue)
            if queue.pause.active(now):
                break
            batch = await repo.next_pending_zns(now, after, limit=BATCH)
            if not batch:
                break
            after = batch[-1].id
            contents = await services.reminders.zns_contents(batch)
            for row in batch:
                await gate.acquire()
                if stop.reason is not None or queue.pause.active(clock.now()) or not queue.hours.allows(clock.now()):
                    gate.release()
                    break
                task = asyncio.ensure_future(_send_row(services, queue, row, contents.get(row.id), report, stop))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                task.add_done_callback(lambda _: gate.release())
        while tasks:
            await asyncio.wait(set(tasks))
    except asyncio.CancelledError:
        # Shutting down: every request in flight is awaited and recorded (``_send_row``).
        for task in set(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    report.stopped = stop.reason


async def _send_row(
    services: Services,
    queue: ZnsQueue,
    row: ZnsRow,
    content: ReminderContent | None,
    report: ZnsReport,
    stop: _Stop,
) -> None:
    """Claim, send once, record at once. The claim and the record run to their end even when
    the round is cancelled (``_shielded``); so does a request already written."""
    repo = services.reminders.repo
    clock = services.clock
    attempt = f"{_BOOT}:{row.id}:{row.attempts + 1}"
    await _shared_pause(services, queue)  # another instance may have paused the queue meanwhile
    if stop.reason is not None or not queue.hours.allows(clock.now()) or queue.pause.active(clock.now()):
        return  # another row's answer stopped the fan-out meanwhile: this one was never claimed
    now = clock.now()
    claimed = await _shielded(repo.claim_zns(row.id, attempt, now, lease_until(now), INSTANCE_ID))
    if claimed != "claimed":
        report.skipped += 1
        return
    if content is None:  # renewed or claimed since it was queued
        await _shielded(repo.finish_zns(row.id, attempt, "skipped", clock.now(), error="nothing_due"))
        report.skipped += 1
        return
    if not queue.hours.allows(clock.now()) or queue.pause.active(clock.now()):
        await _shielded(repo.retry_zns(row.id, attempt, clock.now(), "hours", "retry_later", counted=False))
        return
    template = queue.templates.reminder
    data = zns_template_data(content, template)
    sending = asyncio.ensure_future(
        queue.port.send(row.phone, template.template_id, data, tracking_id(row.id))
    )
    try:
        outcome = await asyncio.shield(sending)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            outcome = await asyncio.wait_for(sending, timeout=15)
            await _shielded(_record(services, queue, row, attempt, outcome, report, stop))
        raise
    await _shielded(_record(services, queue, row, attempt, outcome, report, stop))


async def _record(
    services: Services,
    queue: ZnsQueue,
    row: ZnsRow,
    attempt: str,
    outcome: ZnsOutcome,
    report: ZnsReport,
    stop: _Stop,
) -> None:
    repo = services.reminders.repo
    now = services.clock.now()
    if isinstance(outcome, ZnsAccepted):
        await repo.finish_zns(
            row.id, attempt, "sent", now, message_id=outcome.msg_id, cost=queue.templates.price_per_message
        )
        report.sent += 1
        report.sent_phones.append(row.phone)
        if queue.pause.after_accepted(now, outcome):
            assert queue.pause.until is not None and queue.pause.reason is not None
            await _share(services, queue, queue.pause.until, queue.pause.reason)
            log.info("zns: daily quota used up; the rest waits for %s", queue.pause.until)
        return
    assert isinstance(outcome, ZnsFailed)
    reason = f"zalo {outcome.code}: {outcome.reason}"[:120]
    action = outcome.action
    if action is ZnsAction.UNKNOWN:
        await repo.finish_zns(row.id, attempt, "unknown", now, error=reason, error_class="unknown_outcome")
        report.unknown += 1
    elif action is ZnsAction.NEVER_RETRY:
        error_class = "refused_by_user" if outcome.refused_by_user else "never_retry"
        await repo.finish_zns(row.id, attempt, "refused", now, error=reason, error_class=error_class)
        report.refused += 1
    elif action in (ZnsAction.NIGHT, ZnsAction.DAILY_LIMIT):
        why = "night refusal" if action is ZnsAction.NIGHT else "daily quota"
        until = queue.pause.pause_till_morning(now, why)
        await repo.retry_zns(row.id, attempt, until, reason, action.value, counted=False)
        await _share(services, queue, until, why)
        report.retried += 1
    elif action is ZnsAction.STOP_QUEUE:
        await repo.retry_zns(row.id, attempt, now, reason, action.value, counted=False)
        if stop.reason is None:
            stop.reason = reason
            log.error("zns: queue stopped until a person acts: %s", reason)
        report.retried += 1
    elif row.attempts + 1 >= MAX_ATTEMPTS:
        await repo.finish_zns(row.id, attempt, "failed", now, error=reason, error_class=action.value)
        report.failed += 1
    else:
        await repo.retry_zns(row.id, attempt, now + backoff(row.attempts + 1), reason, action.value)
        report.retried += 1


async def _shared_pause(services: Services, queue: ZnsQueue) -> None:
    """Adopt the pause another instance wrote (the database's, if it ends later than this
    instance's own). A database that does not answer leaves the own pause, logged."""
    now = services.clock.now()
    try:
        shared = await services.storage.coordination.channel_paused_until(ZNS, now)
    except Exception as exc:  # noqa: BLE001 - the claim that follows meets the same database
        log.warning("zns: shared pause unreadable, this instance's own holds: %s", type(exc).__name__)
        return
    if shared is not None:
        until, reason = shared
        if queue.pause.adopt(until.astimezone(now.tzinfo), reason):
            log.info("zns: paused by another instance until %s (%s)", queue.pause.until, reason)


async def _share(services: Services, queue: ZnsQueue, until: datetime, reason: str) -> None:
    """Write this instance's pause for every instance (kept only if later than the one there),
    and adopt the one in force when it is another's."""
    try:
        kept = await services.storage.coordination.pause_channel(ZNS, until, reason)
    except Exception as exc:  # noqa: BLE001 - the pause still holds in this instance
        log.warning("zns: could not share the pause with other instances: %s", type(exc).__name__)
        return
    if kept > until:  # another instance's pause ends later: take it, with its reason
        await _shared_pause(services, queue)


async def _shielded(work: Coroutine[Any, Any, Any]) -> Any:
    """Run a database step to its end even if the round is cancelled meanwhile."""
    step = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(step)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await step
        raise


async def reconcile(services: Services, tracking: str | None, msg_id: str | None, delivered_at: datetime, price: int) -> bool:
    """A ZNS delivery receipt: the row it names becomes 'delivered' (an 'unknown' one is thereby
    settled); returns whether a row changed."""
    return await services.reminders.repo.reconcile_receipt(tracking, msg_id, delivered_at, price)
