"""The ZNS fan-out end to end: 5,000 phones of an imported list, the emulator's daily quota at
2,000, Zalo's night longer than ours (−133 inside our hours), injected timeouts and errors,
over several days of the injected clock: every eligible person gets exactly one ZNS, none
outside the allowed hours, nobody opted out, linked on Telegram or on a list without a legal
basis gets one, unknown outcomes are settled by delivery receipts and never resent."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.domain.clock import ManualClock
from bot.domain.money import format_number, format_vnd
from devtools.zalo import ZaloLimits
from tests.conftest import TZ
from tests.zalo_world import FAST
from tests.zns_support import BASIS, card, phone, zns_world

PEOPLE = 5000
DAY1 = datetime(2026, 11, 23, 19, 30, tzinfo=TZ)  # 19:30: our hours allow it, Zalo's night began
QUOTA = 2000


def _local(phone84: str) -> str:
    return "0" + phone84[2:]


async def test_five_thousand_phones_each_get_exactly_one_zns_across_the_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock(DAY1)
    limits = ZaloLimits(**{**FAST.__dict__, "zns_daily_quota": QUOTA, "night_start_hour": 19})
    async with zns_world(tmp_path, clock, limits) as world:
        emu = world.zalo.emulator
        cards = world.services.cards.repo
        at = clock.now()
        eligible = [card(n) for n in range(1, PEOPLE + 1)]
        await cards.import_cards(eligible, "list-2026.xlsx", at, legal_basis=BASIS)
        no_basis = [card(n) for n in range(100_001, 100_201)]
        await cards.import_cards(no_basis, "other.xlsx", at)  # no legal basis: never ZNS
        # 100 of the list linked on Telegram (their chat reminder covers them), 50 of them opted out.
        linked = list(range(1, 101))
        await cards.link_phones([(n, phone(n)) for n in linked], at, channel="telegram")
        for n in linked[:50]:
            await world.services.reminders.repo.set_opted_out(n, True, at, "telegram")
        refusing = range(4001, 4021)  # refused this OA in Zalo (−141): refused once, never again
        for n in refusing:
            emu.add_phone(phone(n), refused="oa")
        eligible_phones = {phone(n) for n in range(101, PEOPLE + 1)}

        # Day 1, 19:30: Zalo answers −133: the queue waits for the next morning.
        report = await world.round(DAY1)
        assert report.zns is not None and report.zns.queued == len(eligible_phones)
        assert report.zns.sent == 0 and report.zns.paused_until == DAY1.replace(hour=8, minute=0) + timedelta(days=1)
        await world.round(DAY1.replace(hour=21))  # outside our hours: nothing
        assert not emu.zns.sent

        # Faults for the next morning: timeouts after acceptance (unknown, then a receipt),
        # timeouts with nothing done (unknown for good: an admin's list), rate limits (later).
        emu.fail_next("message/template", "timeout_after_accept", 25, hold_seconds=0.01)
        emu.fail_next("message/template", "error", 15, code=-32)
        day = DAY1.replace(hour=8, minute=0) + timedelta(days=1)
        emu.fail_next("message/template", "timeout", 5, hold_seconds=0.01)
        for number in range(4):
            report = await world.round(day + timedelta(days=number))
            assert report.zns is not None
            if number < 2:
                assert report.zns.paused_until is not None  # the quota ran out
            await world.round(day + timedelta(days=number, hours=3))  # retries after back-off
        await world.receipts()

        sent = Counter(_local(m.phone) for m in emu.zns.sent)
        assert max(sent.values()) == 1  # nobody twice, whatever happened
        assert set(sent) <= eligible_phones
        assert not set(sent) & {phone(n) for n in refusing}
        for m in emu.zns.sent:  # none outside the allowed hours
            local = m.sent_at.astimezone(TZ)
            assert 8 <= local.hour < 20
        per_day = Counter(m.sent_at.astimezone(TZ).date() for m in emu.zns.sent)
        assert max(per_day.values()) <= QUOTA

        statuses = dict(world.rows("SELECT status, COUNT(*) FROM reminder_outbox WHERE channel = 'zns' GROUP BY status"))
        unknown = world.rows("SELECT phone FROM reminder_outbox WHERE channel = 'zns' AND status = 'unknown'")
        assert statuses.get("pending", 0) == 0 and statuses.get("sending", 0) == 0
        assert statuses["refused"] == len(refusing)
        # Timeouts after acceptance were settled by their receipts; the 5 with nothing done stay
        # unknown (never resent) and are what an admin is shown, masked.
        assert len(unknown) == 5 and not {row[0] for row in unknown} & set(sent)
        listed = await world.services.reminders.repo.unknown_zns()
        assert len(listed) == 5 and all("***" in row.phone_masked and len(row.phone_masked) == 10 for row in listed)
        assert statuses["delivered"] == len(sent)
        assert set(sent) | {row[0] for row in unknown} | {phone(n) for n in refusing} == eligible_phones

        # A later round sends nothing more: one ZNS per phone and expiry, ever.
        before = len(emu.zns.sent)
        report = await world.round(day + timedelta(days=8))
        assert report.zns is not None and report.zns.queued == 0 and len(emu.zns.sent) == before

        counts = await world.services.reminders.reminder_counts(["CL01"], day.date() - timedelta(days=2), day.date() + timedelta(days=9))
        assert counts.total.by_zns == len(sent) + 5
        assert counts.total.delivered == len(sent) and counts.total.unknown == 5
        assert counts.total.refused == len(refusing)
        assert counts.total.zns_cost == len(sent) * world.queue.templates.price_per_message

        # The admin's list of unknown rows and the figures, from the command line.
        monkeypatch.setenv("DATABASE_PATH", str(world.zalo.db.path))
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        assert await asyncio.to_thread(cli_main, ["reminders", "unknown"]) == 0
        listing = capsys.readouterr().out
        assert "5 tin ZNS chưa rõ" in listing and all(row.phone_masked in listing for row in listed)
        assert not any(row[0] in listing for row in unknown)  # never a whole number
        assert await asyncio.to_thread(cli_main, ["reminders", "counts", "--days", "400"]) == 0
        figures = capsys.readouterr().out
        assert f"ZNS {format_number(len(sent) + 5)}" in figures and "chưa rõ 5" in figures
        assert format_vnd(len(sent) * 300) in figures
