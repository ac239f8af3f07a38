"""The officials' evening summaries: a clock-driven, restart-safe, exactly-once fan-out.

A scheduler job (scheduler/runner.py) ticks every SCHEDULER_TICK_SECONDS (default 30 s). Each tick reads the
injected clock; from SUMMARY_TIME (default 17:00 Asia/Ho_Chi_Minh) until midnight, a round sends
today's summary to every subscribed official and team leader who has not had it, on the
channel they use (through its `Sender`): one message, one chart, one workbook (neutral replies
from bot.chat.outbound.summary_parts), for the subtree of their own unit. On
Mondays the weekly digest goes the same way to those who turned it on. A bot that was down at
17:00 therefore sends when it comes back the same day (within one tick), and never twice.

Exactly once, and the crash window
----------------------------------
The ledger `summary_runs` has one row per (member, kind, local date), inserted before anything
is sent; a second round, in this process or after a restart, finds it and sends nothing again.
Each of the three outputs is marked `sending` right before its request and counted in
`parts_done` right after Telegram accepts it. If the process dies between those two writes,
the part may or may not have reached the chat: the next round (which first turns leftover
`sending` rows whose lease ended into "that part is done, uncertain") never sends that part
again, and resumes with the next part. So nothing is ever delivered twice; the price is that, in that window of
one request, one part can be lost. Per `SendResult`: Delivered counts the part; RetryAfter (the
channel certainly refused it for now) is retried on the next tick; Unknown (timed out, cut)
counts it as done, uncertain, and goes on; Blocked (Telegram's 403) and Refused end the run as
failed, not written to again that day; a channel down (`ChannelDown`) leaves the part due for
the next tick. A member whose channel has no sender configured is claimed and held
('claimed', error 'no_sender'), counted in the report, and due again every round.

Several instances: a claim records this instance (scheduler/leases.py) and a lease, renewed
at each part; another instance neither resumes a run nor recovers its part in flight while the
lease runs (on PostgreSQL a run being claimed is skipped, `FOR UPDATE SKIP LOCKED`), so the
instances share the fan-out and a dead one's runs are taken over after at most the lease. A
run this instance leaves resumable (retry later, shutting down) is released at once.

Rates: a sender that paces its channel (`scheduler.sending.Paced`: Telegram with the project's
`BotRateLimiter`, 1 a second per chat, 30 a second overall, RetryAfter honoured) spaces the
three sends to one chat itself; otherwise they are spaced by `chat_spacing` seconds here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.chat.model import Blocked, Delivered, Person, Refused, Reply, RetryAfter, Sender, SendResult, Unknown
from bot.chat.outbound import summary_parts
from bot.domain.records import KIND_DAILY, KIND_WEEKLY, PARTS, Recipient
from bot.domain.summary import SummaryKind
from bot.logsafety import describe_exception
from bot.services import Services
from bot.services.summaries import WEEKLY_WEEKDAY, SummaryPackage
from scheduler.leases import INSTANCE_ID, lease_until
from scheduler.runner import SchedulerRunner
from scheduler.sending import ChannelDown, Senders, paced

log = logging.getLogger(__name__)

JOB_NAME = "officials-summaries"
CONCURRENCY = 8  # recipients served at once (each one's three sends are sequential)
CHAT_SPACING = 1.0  # seconds between two sends to one chat when no bulk limiter does it
MISFIRE_GRACE_SECONDS = 3600
NO_SENDER = "no_sender"

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
    no_sender: int = 0  # runs held: no sender configured for the member's channel
    packages_built: int = 0
    errors: list[str] = field(default_factory=list)


class SendFailed(Exception):
    """A summary sent on demand did not fully arrive (`result` says what the channel said)."""

    def __init__(self, part: int, result: SendResult) -> None:
        super().__init__(f"part {part}: {type(result).__name__}")
        self.part = part
        self.result = result


async def send_package(sender: Sender, person: Person, package: SummaryPackage, spacing: float = 0.0) -> None:
    """All three outputs to one person, in order (the on-demand /baocao); raises `SendFailed`
    at the first part the channel did not accept, so the caller can apologise."""
    first = True
    for part, reply in enumerate(summary_parts(package)):
        if reply is None:
            continue  # no chart drawn (logged when building); the rest still goes out
        if not first and spacing:
            await asyncio.sleep(spacing)
        first = False
        result = await sender.send(person, reply)
        if not isinstance(result, Delivered):
            raise SendFailed(part, result)


class _Round:
    def __init__(self, services: Services, senders: Senders, report: SummaryRoundReport, chat_spacing: float) -> None:
        self.services = services
        self.summaries = services.summaries
        self.repo = services.summaries.repo
        self.senders = senders
        self.report = report
        self.chat_spacing = chat_spacing
        self.unsent_channels: set[str] = set()
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
            sender = self.senders.get(recipient.channel)
            if sender is None:
                await self._hold(recipient, kind, day)
                return
            spacing = 0.0 if paced(sender) is not None else self.chat_spacing
            try:
                package = await self.package(kind, recipient.unit_code, day)
            except Exception as exc:  # a broken unit must not stop the others
                log.error("summary for unit %s could not be built: %s", recipient.unit_code, describe_exception(exc))
                self.report.errors.append(type(exc).__name__)
                return
            now = self.services.clock.now()
            done = await self.repo.claim(recipient, kind, day, now, lease_until(now), INSTANCE_ID)
            if done is None:
                return  # another instance's, or finished meanwhile
            if done:
                self.report.resumed += 1
            parts = summary_parts(package)
            person = Person(recipient.channel, str(recipient.chat_id))
            try:
                for part in range(done, PARTS):
                    if part > done and spacing:
                        await asyncio.sleep(spacing)
                    if not await _to_the_end(self._send(sender, person, recipient, kind, day, parts[part], part)):
                        return
                self.report.completed += 1
            finally:
                # Left resumable (retry later, or shutting down): any instance may resume it now.
                await asyncio.shield(self.repo.release(recipient.member_id, kind, day, INSTANCE_ID))

    async def _hold(self, recipient: Recipient, kind: str, day: date) -> None:
        """No sender for the member's channel: claim the run and hold it with the reason, so it
        is visible in the ledger and due again once the channel is configured."""
        # No lease: an instance that has a sender for this channel may take it at once.
        if await self.repo.claim(recipient, kind, day, self.services.clock.now(), None, INSTANCE_ID) is None:
            return
        await self.repo.hold(recipient.member_id, kind, day, NO_SENDER)
        self.report.no_sender += 1
        if recipient.channel not in self.unsent_channels:
            self.unsent_channels.add(recipient.channel)
            log.warning("summaries wait: no sender for channel %s", recipient.channel)

    async def _send(
        self, sender: Sender, person: Person, r: Recipient, kind: str, day: date, reply: Reply | None, part: int
    ) -> bool:
        """One part; True to go on with the next one."""
        if not await self.repo.start_part(r.member_id, kind, day, part, lease_until(self.services.clock.now())):
            return False
        now = self.services.clock.now
        try:
            result: SendResult = Delivered() if reply is None else await sender.send(person, reply)
        except ChannelDown as exc:  # certainly not sent: due again on the next tick
            await self.repo.part_retry(r.member_id, kind, day, exc.reason[:64])
            self.report.retry_later += 1
            return False
        except Exception as exc:
            log.error("summary part %d to member %d failed: %s", part, r.member_id, describe_exception(exc))
            await self.repo.part_uncertain(r.member_id, kind, day, part, type(exc).__name__, self.services.clock.now())
            self.report.uncertain += 1
            return False
        if isinstance(result, Delivered):  # (no chart drawn counts as done: nothing to send)
            await self.repo.part_done(r.member_id, kind, day, part, now())
            self.report.parts_sent += 1
            return True
        if isinstance(result, RetryAfter):
            await self.repo.part_retry(r.member_id, kind, day, "RetryAfter")
            self.report.retry_later += 1
            return False
        if isinstance(result, Unknown):  # timed out or cut: it may have arrived, never send it again
            await self.repo.part_uncertain(r.member_id, kind, day, part, result.reason[:64], now())
            self.report.uncertain += 1
            return True
        error = "blocked" if isinstance(result, Blocked) else result.reason[:64]
        assert isinstance(result, (Blocked, Refused))
        await self.repo.finish(r.member_id, kind, day, "failed", error, now())
        self.report.failed += 1
        return False


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
    services: Services, senders: Senders, *, chat_spacing: float = CHAT_SPACING
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
        work = _Round(services, senders, report, chat_spacing)
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
    if report.no_sender:
        log.warning("summaries %s: %d wait for a channel with no sender", day, report.no_sender)
    return report


async def _tick(runner: SchedulerRunner) -> None:
    """Start a round in the background unless one is running: the tick itself stays instant,
    so APScheduler never skips or stacks ticks while a long fan-out goes on. The round is a
    task the runner cancels first when it stops (scheduler/rounds.py)."""
    services = runner.services
    running = services.summaries.round_task
    if running is not None and not running.done():
        return
    services.summaries.round_task = runner.rounds.start(
        _logged_round(services, runner.senders), "summary-round"
    )


async def _logged_round(services: Services, senders: Senders) -> None:
    try:
        await run_summary_round(services, senders)
    except Exception as exc:  # keep the job alive; the next tick tries again
        log.error("summary round failed: %s", describe_exception(exc))


def register(runner: SchedulerRunner) -> None:
    """Tick every SCHEDULER_TICK_SECONDS; the first tick one interval after start-up."""
    runner.repeat(
        JOB_NAME,
        _tick,
        runner.services.settings.scheduler_tick_seconds,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        coalesce=True,
        max_instances=1,
    )
