"""The ZNS fan-out end to end (issue 9's "Done when"): 5,000 phones of an imported list, the
emulator's daily quota at 2,000, Zalo's night longer than ours (−133 inside our hours),
injected timeouts and errors, over several days of the injected clock, the bot in its own
process (tests/zns_worker.py) killed with SIGKILL mid-fan-out and restarted:

- every eligible person gets exactly one ZNS (or, when the outcome stayed unknown, none and is
  on the admin's list): nobody twice, whatever happened;
- none outside the allowed hours, at most the quota a day;
- nobody opted out, linked on Telegram, on a list without a legal basis or who refused the OA;
- unknown outcomes are settled by Zalo's delivery receipts and never resent.

The test process plays Zalo (the emulator) and runs the bot's webhook, inbox and Zalo worker
(receipts settle rows) on the same SQLite file; both processes read the time from one file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import build_services
from bot.cli import main as cli_main
from bot.domain.money import format_number, format_vnd
from bot.domain.zns import ZnsTemplates
from handlers.zalo.zns_sender import ReminderEvents
from tests.conftest import TZ
from tests.reminder_worker import FileClock
from tests.zalo_world import FAST, ZaloWorld, zalo_world
from tests.zns_support import BASIS, card, phone

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = 5000
QUOTA = 2000
DAY1 = datetime(2026, 11, 23, 19, 30, tzinfo=TZ)  # 19:30: our hours allow it, Zalo's night began
MORNING = DAY1.replace(hour=8, minute=0) + timedelta(days=1)
KILL_AFTER = 700  # accepted sends of the second day before the SIGKILL


def _local(phone84: str) -> str:
    return "0" + phone84[2:]


@asynccontextmanager
async def _world(tmp_path: Path, clock: FileClock) -> AsyncIterator[tuple[ZaloWorld, Any]]:
    # Receipts are held and released while the clock stands still: the bot's clock jumps hours
    # between rounds, which real receipts (seconds late) never see.
    limits = replace(FAST, zns_daily_quota=QUOTA, night_start_hour=19, receipt_delay=None)
    holder: dict[str, Any] = {}

    async def on_event(event: Any) -> None:
        await holder["events"](event)

    options = {"on_event": on_event, "concurrency": 4, "poll_seconds": 0.05}
    async with zalo_world(tmp_path, clock, limits=limits, worker_options=options) as world:  # type: ignore[arg-type]
        services = build_services(world.settings, clock)
        await services.storage.connect()
        try:
            templates = ZnsTemplates.load()
            holder["events"] = ReminderEvents(
                services.reminders.repo, services.storage.identities.user_id, clock, templates.price_per_message
            )
            world.emulator.add_template(templates.reminder.template_id, list(templates.reminder.params))
            world.emulator.zns.any_phone_bound = True
            yield world, services
        finally:
            await services.storage.close()


def _env(world: ZaloWorld) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    settings = world.settings
    env.update({
        "PYTHONPATH": str(ROOT),
        "DATABASE_PATH": str(world.db.path),
        "ZALO_APP_ID": settings.zalo_app_id or "",
        "ZALO_APP_SECRET": settings.zalo_app_secret or "",
        "ZALO_OA_SECRET_KEY": settings.zalo_oa_secret_key or "",
        "ZALO_REFRESH_TOKEN": settings.zalo_refresh_token or "",
        "ZALO_API_BASE_URL": settings.zalo_api_base_url,
        "ZALO_OAUTH_BASE_URL": settings.zalo_oauth_base_url,
        "ZALO_ZNS_BASE_URL": settings.zalo_zns_base_url,
        "ZNS_ENABLED": "true",
        "ZNS_CONCURRENCY": "8",
    })
    return env


async def _worker(world: ZaloWorld, clock_file: Path, times: list[datetime]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.zns_worker", str(clock_file), *(t.isoformat() for t in times),
        env=_env(world), cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def _finish(process: asyncio.subprocess.Process) -> str:
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode()


def _open_tracking_ids(world: ZaloWorld) -> set[str]:
    """Tracking ids of the ZNS rows whose outcome the bot does not know ('sending', 'unknown')."""
    conn = sqlite3.connect(world.db.path)
    try:
        return {row[0] for row in conn.execute(
            "SELECT tracking_id FROM reminder_outbox WHERE channel = 'zns' AND status IN ('sending', 'unknown')"
        )}
    finally:
        conn.close()


async def _receipts(world: ZaloWorld) -> None:
    """Post the receipts of every row whose outcome is unknown, and of one accepted send in 25
    (the others stay held: handling 5,000 receipts would only slow the test), then wait until
    the worker has handled the inbox."""
    wanted = _open_tracking_ids(world)
    await world.emulator.release_receipts(lambda m: m.tracking_id in wanted or int(m.msg_id, 16) % 25 == 0)
    for _ in range(600):
        counts = await world.counts()
        if counts["pending"] == 0 and counts["working"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"receipts not handled: {await world.counts()}")


async def test_five_thousand_phones_each_get_exactly_one_zns_across_days_and_a_sigkill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock_file = tmp_path / "clock.txt"
    clock = FileClock(clock_file)
    clock.set(DAY1)
    async with _world(tmp_path, clock) as (world, services):
        emu = world.emulator
        cards, reminders = services.cards.repo, services.reminders.repo
        await cards.import_cards([card(n) for n in range(1, PEOPLE + 1)], "list-2026.xlsx", DAY1, legal_basis=BASIS)
        await cards.import_cards([card(n) for n in range(100_001, 100_201)], "other.xlsx", DAY1)  # no basis
        linked = range(1, 101)  # linked on Telegram: their chat reminder covers them; half opted out
        await cards.link_phones([(n, phone(n)) for n in linked], DAY1, channel="telegram")
        for n in range(1, 51):
            await reminders.set_opted_out(n, True, DAY1, "telegram")
        refusing = range(4001, 4021)  # refused this OA in Zalo (−141)
        for n in refusing:
            emu.add_phone(phone(n), refused="oa")
        eligible = {phone(n) for n in range(101, PEOPLE + 1)}

        async with world.channel.running():
            # Day 1: −133 at 19:30 pauses the queue till the morning; 21:00 is outside our hours.
            out = await _finish(await _worker(world, clock_file, [DAY1, DAY1.replace(hour=21)]))
            assert "queued 4900" in out and "night refusal" in out and not emu.zns.sent

            # Day 2: timeouts after acceptance, rate limits, timeouts with nothing done; then the
            # bot is killed in the middle of the morning's fan-out.
            emu.fail_next("message/template", "timeout_after_accept", 25, hold_seconds=0.01)
            emu.fail_next("message/template", "error", 15, code=-32)
            emu.fail_next("message/template", "timeout", 5, hold_seconds=0.01)
            process = await _worker(world, clock_file, [MORNING])
            await emu.wait_until(lambda: len(emu.zns.sent) >= KILL_AFTER, timeout=60)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            killed_at = len(emu.zns.sent)
            assert killed_at < QUOTA
            # Receipts of the sends before the kill arrive while their rows may still be
            # 'sending': they settle them ('delivered'); the restart then leaves them alone.
            await _receipts(world)

            # Restarted: the same morning again, then the following days (retries at 11:00).
            days = [MORNING + timedelta(days=d, hours=h) for d in range(4) for h in (0, 3)]
            out = await _finish(await _worker(world, clock_file, days))
            assert "interrupted" in out and "daily quota" in out

            await _receipts(world)

        sent = Counter(_local(m.phone) for m in emu.zns.sent)
        assert max(sent.values()) == 1  # nobody twice: not the timeouts, not the kill
        assert set(sent) <= eligible  # nobody linked, opted out, or on a list without basis
        assert not set(sent) & {phone(n) for n in refusing}
        assert all(8 <= m.sent_at.astimezone(TZ).hour < 20 for m in emu.zns.sent)
        per_day = Counter(m.sent_at.astimezone(TZ).date() for m in emu.zns.sent)
        assert max(per_day.values()) <= QUOTA and len(per_day) == 3

        conn = sqlite3.connect(world.db.path)
        try:
            statuses = dict(conn.execute(
                "SELECT status, COUNT(*) FROM reminder_outbox WHERE channel = 'zns' GROUP BY status"
            ).fetchall())
            unknown = {r[0] for r in conn.execute(
                "SELECT phone FROM reminder_outbox WHERE channel = 'zns' AND status = 'unknown'"
            ).fetchall()}
            chat_rows = conn.execute("SELECT COUNT(*) FROM reminder_outbox WHERE channel <> 'zns'").fetchone()[0]
        finally:
            conn.close()
        assert statuses.get("pending", 0) == 0 and statuses.get("sending", 0) == 0
        assert statuses["refused"] == len(refusing)
        # Every accepted send is 'sent' or, its receipt in, 'delivered'; the 25 timeouts after
        # acceptance and the requests the kill cut after Zalo took them were settled by receipts.
        assert statuses.get("sent", 0) + statuses["delivered"] == len(sent)
        assert statuses["delivered"] >= 25 + len(sent) // 50
        # Unknown for good: the 5 timeouts with nothing done, and requests the kill cut before
        # they reached Zalo. Never resent; the admin's list; nobody in it received anything.
        assert len(unknown) >= 5 and not unknown & set(sent)
        assert set(sent) | unknown | {phone(n) for n in refusing} == eligible
        assert chat_rows == 50  # the linked people who did not opt out: their Telegram rows

        # The admin's list of unknown rows and the figures, from the command line.
        monkeypatch.setenv("DATABASE_PATH", str(world.db.path))
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        assert await asyncio.to_thread(cli_main, ["reminders", "unknown"]) == 0
        listing = capsys.readouterr().out
        assert f"{format_number(len(unknown))} tin ZNS chưa rõ" in listing
        assert not any(number in listing for number in unknown)  # masked, never whole
        assert await asyncio.to_thread(cli_main, ["reminders", "counts", "--days", "400"]) == 0
        figures = capsys.readouterr().out
        assert f"ZNS {format_number(len(sent) + len(unknown))}" in figures
        assert f"Zalo xác nhận đã giao {format_number(statuses['delivered'])}" in figures
        assert f"chưa rõ {format_number(len(unknown))}" in figures and format_vnd(len(sent) * 300) in figures
