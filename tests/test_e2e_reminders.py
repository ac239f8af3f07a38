"""Reminders end to end: the real bot against an emulator that enforces Telegram's limits and
injects faults. Exactly one reminder each, only inside allowed hours, never to people who opted
out or blocked the bot, and a process killed mid fan-out that restarts without losing or
repeating anyone.

Time: the injected clock (ManualClock here, a file-backed one in the worker process) drives
calendar decisions (hours, intervals, back-off). Rate limits are physical time; a 5,000-person
fan-out at Telegram's 30/s would take ~170 s, so these tests run the emulator at twenty times
the rate (600/s overall, 0.05 s per chat) and the bot a little under it
(tests/reminder_support.py): the limits are still enforced by the emulator (a 429 for any
excess) and kept by the bot; the per-chat and overall limits at Telegram's real values are
tested in test_ratelimit.py and measured in bench/bench_reminders.py. No test here counts on
the machine being idle: a 429 that request jitter adds must be honoured and retried like the
injected ones, never assumed absent.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
from scheduler.leases import LEASE
from scheduler.reminders import JOB_NAME, run_reminder_round
from tests.conftest import TOKEN, TZ, BotHarness
from tests.reminder_support import (
    FAST_EMULATOR,
    FAST_LIMITS,
    install_limiter,
    link_people,
    people,
    register_chats,
    reminders_per_chat,
)
from tests.storage_engines import ENGINES, database_url, opened_storage

EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def limited() -> AsyncIterator[BotApiEmulator]:
    """Telegram's limits, twenty times faster (see the module docstring)."""
    emu = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(**FAST_EMULATOR))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture(params=ENGINES)
async def bot(request: pytest.FixtureRequest, limited: BotApiEmulator, tmp_path: Path) -> AsyncIterator[BotHarness]:
    """The bot on each storage engine (PostgreSQL: a fresh schema); the tests that read the
    SQLite file itself, or run the bot as a subprocess on one, build their own."""
    path = tmp_path / "bot.sqlite3"
    async with database_url(request.param, path) as url:
        harness = BotHarness(limited, path, ManualClock(EVENING), database_url=url, **FAST_LIMITS)
        await harness.start()
        install_limiter(harness.application, harness.settings())
        try:
            yield harness
        finally:
            await harness.stop()


async def round_(bot: BotHarness):  # type: ignore[no-untyped-def]
    return await run_reminder_round(bot.services, bot.senders)


async def statuses(bot: BotHarness) -> dict[str, int]:
    return await bot.services.reminders.repo.status_counts()


# --------------------------------------------------------------------------- the bot in its own process


def _worker(db: Path, base_url: str, clock_file: Path, *times: datetime) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reminder_worker", str(db), base_url, str(clock_file),
         *(t.isoformat() for t in times)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _rounds(out: str) -> list[dict[str, str]]:
    """The worker's `round k: key=value ...` lines as dicts."""
    return [dict(part.split("=") for part in line.split(": ", 1)[1].split()) for line in out.splitlines()
            if line.startswith("round ")]


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _status_counts(path: Path) -> dict[str, int]:
    with _db(path) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM reminder_outbox GROUP BY status").fetchall())


async def _prepare(path: Path, everyone: list[int], opted_out: list[int] = ()) -> None:  # type: ignore[assignment]
    async with opened_storage(path) as storage:
        await link_people(storage.cards, everyone, EVENING)
        for user in opted_out:
            await storage.reminders.set_opted_out(user, True, EVENING, channel="telegram")


def _assert_429s_honoured(emulator: BotApiEmulator, injected: int) -> None:
    """Every 429 - the injected ones, and any that request jitter on a busy machine adds - was
    honoured: nothing more went to the refused chat until its retry_after had passed (the
    refused reminders themselves were sent again: the caller checks everyone got exactly one).
    Other chats are not held by a stray 429 (handlers/telegram/ratelimit.py): it costs only what it asks."""
    refusals = [r for r in emulator.rejected if r.error_code == 429]
    assert len(refusals) >= injected
    for refusal in refusals:
        match = re.search(r"retry after (\d+)", refusal.description)
        assert match, refusal
        # what reached Telegram for that chat afterwards: the reminder, or a refusal (403 for
        # someone who blocked the bot)
        later = sorted(
            [m.timestamp for m in emulator.sent if m.method == "sendMessage" and m.chat_id == refusal.chat_id]
            + [r.at for r in emulator.rejected if r.chat_id == refusal.chat_id and r is not refusal]
        )
        following = next((t for t in later if t > refusal.at), None)
        assert following is not None, refusal  # the refused reminder was tried again
        assert following >= refusal.at + int(match[1]), refusal


async def _finish(worker: subprocess.Popen[str], timeout: float = 150) -> list[dict[str, str]]:
    out, err = await asyncio.to_thread(worker.communicate, timeout=timeout)
    assert worker.returncode == 0, err[-3000:]
    return _rounds(out)


async def test_fanout_to_5000_exactly_once_inside_hours_with_faults(limited: BotApiEmulator, tmp_path: Path) -> None:
    """5,000 linked people, 40 opted out, 40 who blocked the bot; 429s, 500s and timeouts on
    the way; the evening ends (20:00) in the middle of the fan-out; the rest goes next morning."""
    db_path, clock_file = tmp_path / "fanout.sqlite3", tmp_path / "clock"
    everyone = people(100_000, 5_000)
    opted_out, blocked = everyone[:40], everyone[40:80]
    await _prepare(db_path, everyone, opted_out)
    register_chats(limited, everyone)
    for user in blocked:
        limited.block(user)
    limited.fail_next("sendMessage", "429", count=2, retry_after=1)
    limited.fail_next("sendMessage", "500", count=2)
    limited.fail_next("sendMessage", "timeout", count=2, hold_seconds=0.3)

    worker = _worker(
        db_path, limited.api_base_url, clock_file,
        datetime(2026, 11, 23, 19, 59, tzinfo=TZ),  # round 1: the evening ends during it
        datetime(2026, 11, 23, 21, 30, tzinfo=TZ),  # round 2: night, nothing may go
        datetime(2026, 11, 24, 8, 0, tzinfo=TZ),  # round 3: next morning
        datetime(2026, 11, 24, 8, 5, tzinfo=TZ),  # round 4: after the back-off of the failures
    )
    try:
        await limited.wait_until(lambda: len(limited.sent) >= 1_500, timeout=120)
        clock_file.write_text(datetime(2026, 11, 23, 20, 0, tzinfo=TZ).isoformat(), encoding="utf-8")
        evening, night, morning, later = await _finish(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert int(evening["queued"]) == 5_000 - 40 and evening["outside_hours"] == "True"
    assert 1_500 <= int(evening["sent"]) < 4_900
    assert night["sent"] == "0" and night["outside_hours"] == "True"
    assert morning["queued"] == "0" and later["queued"] == "0"  # nobody is queued twice

    counts = reminders_per_chat(limited)
    expected = set(everyone) - set(opted_out) - set(blocked)
    assert set(counts) == expected and set(counts.values()) == {1}
    assert {r.chat_id for r in limited.rejected if r.error_code == 403} == set(blocked)
    assert _status_counts(db_path) == {"sent": len(expected), "blocked": 40}  # nothing left over
    _assert_429s_honoured(limited, injected=2)
    with _db(db_path) as conn:
        claimed = [datetime.fromisoformat(r[0]) for r in conn.execute(
            "SELECT claimed_at FROM reminder_outbox WHERE status = 'sent'")]
    assert all(time(8, 0) <= moment.time() < time(20, 0) for moment in claimed)


async def test_sigkill_mid_fanout_then_restart_gives_exactly_one_each(limited: BotApiEmulator, tmp_path: Path) -> None:
    """SIGKILL while reminder requests are in flight (one held by the emulator, not delivered;
    others claimed and waiting for their slot or on the way), then a restart on the same SQLite
    file: nobody is lost, nobody gets two."""
    db_path, clock_file = tmp_path / "crash.sqlite3", tmp_path / "clock"
    everyone = people(300_000, 600)
    await _prepare(db_path, everyone)
    register_chats(limited, everyone)

    first = _worker(db_path, limited.api_base_url, clock_file, EVENING)
    try:
        await limited.wait_until(lambda: len(limited.sent) >= 300, timeout=90)
        # From now on every request is held: neither delivered nor refused. Once all the
        # worker's REMINDER_CONCURRENCY (8) workers are stuck in one, every earlier request has
        # been answered and recorded (a worker records its row before taking the next), so the
        # kill cuts exactly those 8 requests.
        limited.fail_next("sendMessage", "timeout", count=1_000, hold_seconds=60)
        held = lambda: limited.requests["sendMessage"] - len(limited.sent) - len(limited.rejected)  # noqa: E731
        await limited.wait_until(lambda: held() >= 8, timeout=30)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    assert 300 <= len(limited.sent) < 600
    left = _status_counts(db_path)
    assert held() == 8 and left["sending"] == 8  # the requests that were cut off
    assert left["sent"] == len(reminders_per_chat(limited))  # everything delivered is recorded
    assert sum(left.values()) == 600
    assert limited.clear_faults() > 0  # the network is back for the restart

    # The restart comes after the dead process's leases ended (scheduler/leases.py): before
    # that, its rows in flight could be another live instance's and are left alone.
    (restart,) = await _finish(_worker(db_path, limited.api_base_url, clock_file, EVENING + LEASE))
    assert restart["recovered"] == str(left["sending"])
    counts = reminders_per_chat(limited)
    assert set(counts) == set(everyone) and set(counts.values()) == {1}
    assert _status_counts(db_path) == {"sent": 600}


# --------------------------------------------------------------------------- smaller behaviours


async def test_cadence_interval_max_count_claims_and_counts(bot: BotHarness, limited: BotApiEmulator) -> None:
    services = bot.services
    clock = bot.clock
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    ann, binh, chi = people(700, 3)
    await link_people(services.cards.repo, [ann, binh, chi], clock.now())
    register_chats(limited, [ann, binh, chi])
    sent_days: list[int] = []
    for day in range(0, 30):
        clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=TZ) + timedelta(days=day))
        report = await round_(bot)
        if report.sent:
            sent_days.append(day)
        if day == 0:
            person = limited.user(chi)
            await person.press("Tôi đã gia hạn")  # Chi says she renewed after the first one
            (thanks,) = await person.replies()
            assert "Cảm ơn" in thanks.plain_text
    assert sent_days == [0, 7, 14]  # every 7 days, at most 3 times
    counts = reminders_per_chat(limited)
    assert counts == {ann: 3, binh: 3, chi: 1}

    # Binh's renewal arrives in a newer list: counted as renewed after a reminder.
    (binh_card,) = [linked.card for linked in await services.cards.repo.linked_cards(binh, channel="telegram")]
    later = replace(binh_card, valid_to=binh_card.valid_to + timedelta(days=365))
    await services.cards.repo.import_cards([later], "newer list", clock.now())
    stats = await services.reminders.reminder_counts(["CL01"], datetime(2026, 11, 2).date(), clock.now().date())
    assert stats.total.reminded == 3 and stats.total.reached == 3
    assert stats.total.renewed_after_reminder == 1
    assert stats.total.eligible == 1  # Ann; Chi claimed, Binh renewed
    assert stats.by_unit["CL01"] == stats.total
    today = await services.reminders.reminder_counts(["CL01"], clock.now().date(), clock.now().date())
    assert today.total.reminded == 0 and today.total.renewed_after_reminder == 1


async def test_stop_button_opt_out_and_blocked_people_are_not_messaged(bot: BotHarness, limited: BotApiEmulator) -> None:
    services = bot.services
    ann, binh, cuc = people(800, 3)
    await link_people(services.cards.repo, [ann, binh, cuc], bot.clock.now())
    register_chats(limited, [ann, binh, cuc])
    limited.block(cuc)
    first = await round_(bot)
    assert (first.sent, first.blocked) == (2, 1)
    assert await services.reminders.repo.is_blocked(cuc, channel="telegram")
    person = limited.user(ann)
    (reminder,) = [m for m in limited.sent if m.chat_id == ann]
    assert reminder.button_texts == ["Tính chi phí khác", "Tôi đã gia hạn", "Không nhận nhắc nữa"]
    assert "Chào chị" in reminder.plain_text and "hết hạn ngày 18/09/2026" in reminder.plain_text
    assert "Gia hạn 12 tháng cho 1 người: 1.366.200 đ" in reminder.plain_text
    await person.press("Không nhận nhắc nữa")
    await person.replies()
    assert (await services.reminders.is_opted_out(ann, channel="telegram"))
    # Queued for next week, then Binh opts out before it goes: it is not sent.
    bot.clock.advance(timedelta(days=7))
    await services.reminders.queue_round(bot.clock.now())
    await services.reminders.opt_out(binh, channel="telegram")
    rejected = len(limited.rejected)
    report = await round_(bot)
    assert report.sent == 0
    assert reminders_per_chat(limited) == {ann: 1, binh: 1}
    assert len(limited.rejected) == rejected  # Cuc, who blocked the bot, was not even tried
    # Cuc unblocks the bot and asks for reminders again: she is reminded from then on.
    limited.unblock(cuc)
    await limited.user(cuc).say("/nhac")
    await limited.user(cuc).replies()
    bot.clock.advance(timedelta(days=7))
    assert (await round_(bot)).sent == 1 and reminders_per_chat(limited)[cuc] == 1


async def test_a_real_client_timeout_is_retried_and_an_answer_lost_after_delivery_is_sent_again(
    bot: BotHarness, limited: BotApiEmulator
) -> None:
    """At least once (scheduler/reminders.py): a request that ends without an answer is sent
    again. When Telegram had not delivered it, that is exactly one; when it had (the answer was
    lost), the person gets a second copy: the documented price of never losing a reminder."""
    ann, binh = people(900, 2)
    await link_people(bot.services.cards.repo, [ann, binh], bot.clock.now())
    register_chats(limited, [ann, binh])
    limited.fail_next("sendMessage", "timeout", chat_id=ann, hold_seconds=6)  # beyond PTB's 5 s
    limited.fail_next("sendMessage", "timeout_after_send", chat_id=binh, hold_seconds=0.2)
    first = await round_(bot)
    assert first.retried == 2 and first.sent == 0
    bot.clock.advance(timedelta(minutes=1))
    second = await round_(bot)
    assert second.sent == 2
    assert reminders_per_chat(limited) == {ann: 1, binh: 2}


async def test_the_tick_job_is_registered_with_a_misfire_grace(bot: BotHarness) -> None:
    job = bot.scheduler.job(JOB_NAME)
    assert job is not None
    assert job.misfire_grace_time >= 60 and job.coalesce and job.max_instances == 1


async def test_outside_the_campaign_nothing_is_queued(bot: BotHarness, limited: BotApiEmulator) -> None:
    ann, = people(950, 1)
    await link_people(bot.services.cards.repo, [ann], bot.clock.now())
    register_chats(limited, [ann])
    bot.clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=TZ))
    report = await round_(bot)
    assert report.queued == 0 and report.sent == 0


async def test_fanout_behind_a_network_keeps_every_sliding_second_under_the_limit(tmp_path: Path) -> None:
    """Telegram's limit counted at arrival over any sliding second, behind a 60 ms round trip
    with jitter: the fan-out keeps several requests in flight (one at a time could not keep
    up with the round trip) and never puts one message too many into a server-side second,
    so it gets no 429 at all. The limits run at 100/s to keep the test short, and the bot's
    safety margin is wide (30 %) so that a busy machine's pauses cannot decide the outcome;
    the default margin at Telegram's real 30/s is measured by `./dev bench limits`."""
    limits = EmulatorLimits(global_per_second=100, per_chat_interval=0.05, network_delay=0.06, network_jitter=0.005)
    emulator = BotApiEmulator(token=TOKEN, limits=limits)
    await emulator.start()
    bot = BotHarness(
        emulator, tmp_path / "net.sqlite3", ManualClock(EVENING),
        telegram_max_per_second=100, telegram_chat_interval_seconds=0.05, telegram_safety_margin=0.3,
    )
    await bot.start()
    try:
        install_limiter(bot.application, bot.settings())
        everyone = people(400_000, 400)
        await link_people(bot.services.cards.repo, everyone, EVENING)
        register_chats(emulator, everyone)
        report = await round_(bot)
    finally:
        await bot.stop()
        await emulator.stop()
    assert report.sent == 400 and report.rate_limited == 0
    assert emulator.stats.flood_429 == 0 and not emulator.rejected
    assert emulator.stats.max_in_flight > 1  # several reminder requests were in flight at once
    assert emulator.stats.in_flight == 0  # and the round returned only once all were answered
    counts = reminders_per_chat(emulator)
    assert set(counts) == set(everyone) and set(counts.values()) == {1}


async def test_a_429_holds_only_its_chat_and_the_row_is_sent_once(bot: BotHarness, limited: BotApiEmulator) -> None:
    """A 429 (injected for one person) costs that person's reminder exactly the retry_after
    Telegram gave, and nothing else: the others go meanwhile; the refused row is sent again,
    once."""
    everyone = people(960, 12)
    await link_people(bot.services.cards.repo, everyone, bot.clock.now())
    register_chats(limited, everyone)
    refused = everyone[0]
    limited.fail_next("sendMessage", "429", chat_id=refused, retry_after=1)
    report = await round_(bot)
    assert report.sent == 12 and report.rate_limited == 1
    counts = reminders_per_chat(limited)
    assert set(counts) == set(everyone) and set(counts.values()) == {1}
    (refusal,) = [r for r in limited.rejected if r.error_code == 429]
    resent = next(m.timestamp for m in limited.sent if m.chat_id == refused)
    assert resent >= refusal.at + 1  # the refused chat waited what Telegram asked
    others = [m.timestamp for m in limited.sent if m.chat_id != refused]
    assert any(refusal.at < t < resent for t in others)  # the others were not held by it
    assert await statuses(bot) == {"sent": 12}


async def test_a_cancelled_round_waits_for_every_request_in_flight_to_be_recorded(
    bot: BotHarness, limited: BotApiEmulator
) -> None:
    """Shutting down mid fan-out cancels the round; it returns only once every row claimed by
    a worker is recorded: the requests in flight (held here by the emulator, then refused) are
    awaited and their rows put back for a retry, rows waiting for their slot are given back.
    Nothing is left 'sending', so nothing is sent twice after a restart."""
    everyone = people(980, 40)
    await link_people(bot.services.cards.repo, everyone, bot.clock.now())
    register_chats(limited, everyone)
    await limited.wait_until(lambda: limited.polls_waiting > 0)
    limited.fail_next("sendMessage", "timeout", count=3, hold_seconds=0.5)
    round_task = asyncio.ensure_future(round_(bot))
    held = lambda: limited.requests["sendMessage"] - len(limited.sent) - len(limited.rejected)  # noqa: E731
    await limited.wait_until(lambda: held() >= 3, timeout=30)
    round_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await round_task
    assert held() == 0  # the round did not return before the held requests were answered
    counts = await statuses(bot)
    assert "sending" not in counts
    assert counts.get("pending", 0) >= 3 and sum(counts.values()) == 40
    assert counts.get("sent", 0) == len(reminders_per_chat(limited))
    # The next round sends the rest, once each.
    bot.clock.advance(timedelta(minutes=5))
    await round_(bot)
    per_chat = reminders_per_chat(limited)
    assert set(per_chat) == set(everyone) and set(per_chat.values()) == {1}


OVERLAPPING_CAMPAIGNS = """
[[campaign]]
code = "NHAC-2026"
name = "Nhắc gia hạn thẻ BHYT hết hạn năm 2026"
year = 2026
start = 2026-10-01
end = 2026-12-31
lapsed_from = 2026-01-01
lapsed_to = 2026-09-30

[[campaign]]
code = "NHAC-Q4"
name = "Nhắc gia hạn quý 4"
year = 2026
start = 2026-10-01
end = 2026-12-31
lapsed_from = 2026-07-01
lapsed_to = 2026-10-31
"""


async def test_overlapping_campaigns_send_one_reminder_per_person_per_interval(
    limited: BotApiEmulator, tmp_path: Path
) -> None:
    """Two campaigns covering the same card on the same day (the reviewer's NHAC-2026 and
    NHAC-Q4, card lapsed 18/09/2026): one reminder per person per REMINDER_INTERVAL_DAYS,
    whatever the campaign, and the count per campaign still stops at REMINDER_MAX_COUNT."""
    plan = tmp_path / "reminders.toml"
    plan.write_text(OVERLAPPING_CAMPAIGNS, encoding="utf-8")
    harness = BotHarness(
        limited, tmp_path / "bot.sqlite3", ManualClock(EVENING), reminder_campaigns_path=plan, **FAST_LIMITS
    )
    await harness.start()
    try:
        everyone = people(1500, 5)
        await link_people(harness.services.cards.repo, everyone, harness.clock.now())
        register_chats(limited, everyone)
        first = await round_(harness)
        assert first.queued == 5 and first.sent == 5
        assert reminders_per_chat(limited) == {user: 1 for user in everyone}
        # The next days, inside the interval: nothing from either campaign.
        for _ in range(6):
            harness.clock.advance(timedelta(days=1))
            assert (await round_(harness)).queued == 0
        assert reminders_per_chat(limited) == {user: 1 for user in everyone}
        # A week later: one more each, not two.
        harness.clock.advance(timedelta(days=1))
        assert (await round_(harness)).sent == 5
        assert reminders_per_chat(limited) == {user: 2 for user in everyone}
        history = await harness.services.reminders.repo.history(everyone[0], channel="telegram")
        assert [(code, seq) for code, seq, _, _ in history] == [("NHAC-2026", 1), ("NHAC-2026", 2)]
        # Officials' figures count each person and card once, whatever the overlap.
        today = harness.clock.now().date()
        stats = await harness.services.reminders.reminder_counts(["CL01"], today - timedelta(days=7), today)
        assert stats.total.eligible == 5 and stats.total.reminded == 5
    finally:
        await harness.stop()


async def test_a_429_longer_than_a_round_waits_leaves_the_row_until_retry_after(
    bot: BotHarness, limited: BotApiEmulator
) -> None:
    """Telegram asks one chat to wait 300 s (more than the limiter's 120 s in line): the round
    sends the others and leaves that row; a round before the 300 s are over (on the injected
    clock, and on the limiter's) does not try it; one after them sends it, once."""
    everyone = people(1600, 6)
    await link_people(bot.services.cards.repo, everyone, bot.clock.now())
    register_chats(limited, everyone)
    refused = everyone[0]
    limited.fail_next("sendMessage", "429", chat_id=refused, retry_after=300)
    first = await round_(bot)
    assert first.sent == 5 and first.retried == 1
    limiter = bot.application.bot.rate_limiter
    assert limiter.chat_paused_for(refused) > 250  # the full 300 s, not 120
    tried = lambda: limited.requests["sendMessage"]  # noqa: E731
    before = tried()
    bot.clock.advance(timedelta(seconds=290))
    again = await round_(bot)
    assert again.sent == 0 and tried() == before  # not retried before retry_after
    assert await statuses(bot) == {"sent": 5, "pending": 1}
    loop = asyncio.get_running_loop()
    limiter.time_source = lambda: loop.time() + 301  # the limiter's clock past the pause too
    bot.clock.advance(timedelta(seconds=11))
    last = await round_(bot)
    assert last.sent == 1 and tried() == before + 1
    assert reminders_per_chat(limited) == {user: 1 for user in everyone}
    assert await statuses(bot) == {"sent": 6}


async def test_stopping_the_bot_mid_fanout_cancels_the_round_and_a_restart_sends_the_rest_once(
    tmp_path: Path,
) -> None:
    """A fan-out at Telegram's real limits (30/s, 1 s per chat), started by the scheduler's
    tick, is running when the bot is stopped: the stop does not wait for the fan-out (PTB's
    stop waits for running jobs; ours cancels the round first). Only requests already in
    flight go out after the stop began (at most REMINDER_CONCURRENCY), nothing is left
    'sending', and the restarted bot sends everyone else exactly once."""
    emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits())
    await emulator.start()
    harness = BotHarness(emulator, tmp_path / "bot.sqlite3", ManualClock(EVENING))
    await harness.start()
    try:
        everyone = people(1700, 240)
        await link_people(harness.services.cards.repo, everyone, harness.clock.now())
        register_chats(emulator, everyone)
        job = harness.scheduler.job(JOB_NAME)
        assert job is not None
        job.modify(next_run_time=datetime.now(TZ))  # the real tick, now
        await emulator.wait_until(lambda: len(reminders_per_chat(emulator)) >= 30, timeout=60)
        at_stop = len(reminders_per_chat(emulator))
        await harness.stop()
        after_stop = len(reminders_per_chat(emulator)) - at_stop
        concurrency = harness.settings().reminder_concurrency
        assert 0 <= after_stop <= concurrency
        counts = await _outbox_counts(harness.db_path)
        assert "sending" not in counts and sum(counts.values()) == len(everyone)
        assert counts["sent"] == len(reminders_per_chat(emulator)) < len(everyone) - concurrency
        # Restart: the rest, exactly once each.
        await harness.start()
        await round_(harness)
        per_chat = reminders_per_chat(emulator)
        assert set(per_chat) == set(everyone) and set(per_chat.values()) == {1}
        assert await statuses(harness) == {"sent": len(everyone)}
    finally:
        await harness.stop()
        await emulator.stop()


async def _outbox_counts(path: Path) -> dict[str, int]:
    return await asyncio.to_thread(_status_counts, path)


async def test_a_pause_of_every_send_longer_than_a_round_waits_leaves_the_rows_pending(
    bot: BotHarness, limited: BotApiEmulator
) -> None:
    """Telegram holds the whole bot for 300 s (a flood across chats): the round does not sit
    in line for it; it sends nothing and leaves every row pending for a round after the pause,
    which then sends each one once."""
    everyone = people(1650, 4)
    await link_people(bot.services.cards.repo, everyone, bot.clock.now())
    register_chats(limited, everyone)
    limiter = bot.application.bot.rate_limiter
    limiter.pause_for(300)
    report = await round_(bot)
    assert report.queued == 4 and report.sent == 0 and limited.requests["sendMessage"] == 0
    assert await statuses(bot) == {"pending": 4}
    loop = asyncio.get_running_loop()
    limiter.time_source = lambda: loop.time() + 301
    bot.clock.advance(timedelta(seconds=301))
    assert (await round_(bot)).sent == 4
    assert reminders_per_chat(limited) == {user: 1 for user in everyone}
