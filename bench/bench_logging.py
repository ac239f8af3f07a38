"""Enrolments logged per second end to end: emulator -> PTB Application -> SQLite -> reply.

Many agents log at once, each by the one-line path as experienced agents do: `/ghi bhyt ...`,
wait for the confirmation card, press Xác nhận, wait for "Đã ghi" (two updates, two replies,
the duplicate check and the insert in one transaction, the agent's month tally and team rank).
Measured without the rate limiter (the bot's own capacity) and with Telegram's 30/s limiter.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.common import bot_on_emulator, peak_rss_mib, report, timed
from bot.domain.records import CLI_ACTOR, RosterRecord, TeamRecord, UnitRecord
from bot.domain.roles import Role
from bot.services import Services
from handlers.telegram.app import SERVICES_KEY

FIRST_USER = 600_000
TEMPLATES = (
    "bhyt Nguyễn Văn An {code} 12 tháng",
    "bhxh Trần Thị Bình {code} 2tr 12 tháng người thân",
    "bhyt hgd le thi thang {code} 6 thang nguoi thu 2",
    "bhyt cận nghèo Lê Thị Cúc {code} 6 tháng",
)


async def _seed(services: Services, agents: int, now: datetime) -> None:
    units = [UnitRecord("P", "Tỉnh Thử", None, "province")] + [
        UnitRecord(f"C{i:02d}", f"Xã {i:02d}", "P", "commune") for i in range(10)
    ]
    await services.units.import_tree(units, [], [], now)
    teams = [TeamRecord(f"T{i:02d}", f"Tổ {i:02d}", f"C{i % 10:02d}") for i in range(20)]
    roster = []
    for i in range(agents):
        name = f"Người Vận Động {i:04d}"
        unit = f"C{i % 10:02d}"
        await services.members.add(
            full_name=name, role=Role.AGENT, unit_code=unit, actor=CLI_ACTOR, at=now, user_id=FIRST_USER + i, channel="telegram"
        )
        roster.append(RosterRecord(f"T{(i % 20):02d}", "2026-11", name, None, False))
    await services.teams.import_rosters(teams, roster, lambda n: n.lower(), now)


async def _measure(agents: int, entries: int, rate_limited: bool) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    async with bot_on_emulator(rate_limited, now) as (emulator, app):
        services: Services = app.bot_data[SERVICES_KEY]
        await _seed(services, agents, now)
        people = [emulator.user(FIRST_USER + i, first_name=f"A{i}") for i in range(agents)]

        async def work(index: int) -> None:
            person = people[index]
            for n in range(entries):
                code = f"84{index:04d}{n:04d}"
                line = TEMPLATES[(index + n) % len(TEMPLATES)].format(code=code)
                card = await person.ask(f"/ghi {line}", timeout=120)
                assert "Kiểm tra lại" in card.plain_text, card.plain_text
                await person.press("✅ Xác nhận")
                (done,) = await person.replies(timeout=120)
                assert done.plain_text.startswith("Đã ghi"), done.plain_text

        with timed() as t:
            await asyncio.gather(*(work(i) for i in range(agents)))
        total = agents * entries
        label = "with Telegram's 30/s limiter" if rate_limited else "no limiter (capacity)"
        report(
            f"logging end to end (/ghi line + Xác nhận), {label}",
            agents=agents,
            entries=total,
            seconds=f"{t.seconds:.1f}",
            entries_per_second=f"{total / t.seconds:,.1f}",
            peak_rss_mib=f"{peak_rss_mib():.0f}",
        )


def run(agents: int = 50, entries: int = 10) -> None:
    asyncio.run(_measure(agents, entries, rate_limited=False))
    asyncio.run(_measure(agents, entries, rate_limited=True))


if __name__ == "__main__":
    run()
