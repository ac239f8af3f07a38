"""Tally queries over 1,000,000 enrolments in 1,000 units: time and peak memory.

A province of 1,000 units (20 districts, 979 communes), ~4,900 agents in ~980 teams, and a
year of enrolments (3 % withdrawn or voided). Each query a reader makes (the agent's /toi, the
leaderboard, the evening summary's figures, the competition, the monthly form, logging one more
entry with its duplicate check) is timed (best of 3) and its peak Python memory measured with
tracemalloc; the process's peak RSS is printed at the end.

The province is built by `bench.datasets.build_province` (shared with the other benchmarks).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mib, report, timed
from bench.datasets import TODAY, YEAR_START, build_province, sqlite_db
from bot.bootstrap import build_services
from bot.domain.clock import ManualClock
from bot.domain.enrolment import parse_line
from bot.domain.roles import Member
from bot.services import Services
from bot.services.enrolment import Logged
from bot.services.tallies import Period
from bot.settings import Settings


def tally_queries(
    services: Services, district: list[str], commune: str, agent: Member
) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """The reads this benchmark times, by name (shared with bench/bench_engines.py)."""
    t = services.tallies
    month = Period.month_of(TODAY)
    year = Period(YEAR_START, TODAY, "2026")
    campaign = Period(date(2026, 11, 15), date(2026, 11, 30), "chiến dịch")
    return [
        ("new enrolments, province, one day", lambda: t.new_enrolments(None, TODAY, TODAY)),
        ("new enrolments, province, month", lambda: t.new_enrolments(None, month.start, month.end)),
        ("new enrolments, district scope (json), month",
         lambda: t.new_enrolments(district, month.start, month.end)),
        ("per day, province, month", lambda: t.by_day(None, month.start, month.end)),
        ("units rolled up the tree, province, month", lambda: t.unit_tallies(None, month)),
        ("units rolled up the tree, province, year (all rows)", lambda: t.unit_tallies(None, year)),
        ("unit ranking, district, month", lambda: t.unit_ranking(district, month)),
        ("top 10 agents, province, month", lambda: t.leaders(None, month, 10)),
        ("top 10 agents, province, year", lambda: t.leaders(None, year, 10)),
        ("top 10 agents, district, month", lambda: t.leaders(district, month, 10)),
        ("competition (seed 004), province, 16 days", lambda: t.competition(None, campaign)),
        ("team ranking of a commune, month", lambda: t.team_ranking(commune, TODAY)),
        ("/toi of one agent (month, today, team rank)", lambda: t.my_results(agent, TODAY)),
        ("monthly form rows, district", lambda: services.enrolments.repo.report_rows(
            month.start, month.end, unit_codes=district)),
    ]


async def _measure_one(name: str, query: Callable[[], Awaitable[Any]]) -> None:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = await query()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    await query()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = len(result) if hasattr(result, "__len__") else 1
    report(f"  {name}", ms=f"{best * 1000:.1f}", peak_python_kib=f"{peak / 1024:.0f}", rows=size)


async def _run(units: int, enrolments: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_path=Path(tmp) / "tallies.sqlite3")  # type: ignore[call-arg]
        now = datetime(TODAY.year, TODAY.month, TODAY.day, 17, 0, tzinfo=settings.tz)
        services = build_services(settings, ManualClock(now))
        await services.storage.connect()
        try:
            db = sqlite_db(services.storage)
            with timed() as build:
                await build_province(db, units=units, enrolments=enrolments)
            total = await db.fetchval("SELECT COUNT(*) FROM enrolments")
            n_units = await db.fetchval("SELECT COUNT(*) FROM units")
            size_mib = Path(settings.database_path).stat().st_size / 2**20
            report(
                "tally dataset", units=n_units, enrolments=total,
                seconds=f"{build.seconds:.0f}", db_mib=f"{size_mib:.0f}",
            )
            district = await services.units.subtree_codes("P07")
            commune = district[1] if len(district) > 1 else district[0]
            agent_row = await db.fetchone(
                "SELECT id FROM members WHERE unit_code = ? ORDER BY id LIMIT 1", (commune,)
            )
            assert agent_row is not None
            agent = await services.members.get(int(agent_row[0]))
            assert agent is not None
            queries = tally_queries(services, district, commune, agent)
            for name, query in queries:
                await _measure_one(name, query)

            counter = iter(range(10_000))

            async def log_one() -> Any:
                code = f"77{next(counter):08d}"
                outcome = await services.enrolments.log(
                    agent, parse_line(f"bhyt Nguyễn Văn An {code} 12 tháng").draft
                )
                assert isinstance(outcome, Logged)
                return outcome

            await _measure_one("log one entry (duplicate check + insert + /toi figures)", log_one)
            report("tallies", peak_rss_mib=f"{peak_rss_mib():.0f}")
        finally:
            await services.storage.close()


def run(units: int = 1000, enrolments: int = 1_000_000) -> None:
    asyncio.run(_run(units, enrolments))


if __name__ == "__main__":
    run()
