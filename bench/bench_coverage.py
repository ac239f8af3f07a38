"""Seed 003 coverage over a province: 1,000 units, 1,000,000 enrolments (time, peak memory).

Builds the dataset with `bench.datasets.build_province` (its build time is printed too), then
times `OrganisationService.coverage_rows` (baselines + new participants since the baseline,
rolled up the tree, against targets) for the province, one district and one commune: best of
3, with the peak Python memory of one run (tracemalloc) and the process's peak RSS.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mib, report, timed
from bench.datasets import TODAY, build_province, sqlite_db
from bot.bootstrap import build_services
from bot.domain.clock import ManualClock
from bot.settings import Settings


async def _best(name: str, query: Callable[[], Awaitable[Any]]) -> Any:
    best = float("inf")
    result = None
    for _ in range(3):
        start = time.perf_counter()
        result = await query()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    await query()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report(name, best_ms=f"{best * 1000:.0f}", peak_python_mib=f"{peak / 2**20:.1f}")
    return result


async def _run(units: int, enrolments: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_path=Path(tmp) / "coverage.sqlite3")  # type: ignore[call-arg]
        now = datetime(TODAY.year, TODAY.month, TODAY.day, 17, 0, tzinfo=settings.tz)
        services = build_services(settings, ManualClock(now))
        await services.storage.connect()
        try:
            with timed() as build:
                province = await build_province(sqlite_db(services.storage), units=units, enrolments=enrolments)
            size = Path(settings.database_path).stat().st_size / 2**20
            report(
                "province dataset (bench.datasets.build_province)",
                units=province.units, agents=len(province.agents), enrolments=province.enrolments,
                seconds=f"{build.seconds:.1f}",
                parts=" ".join(f"{k}:{v:.1f}s" for k, v in province.seconds.items()),
                db_mib=f"{size:.0f}",
            )
            org = services.organisation
            rows = await _best("coverage, province (all units)", lambda: org.coverage_rows())
            assert len(rows) == province.units
            await _best("coverage, one district", lambda: org.coverage_rows(province.districts[7]))
            await _best("coverage, one commune", lambda: org.coverage_rows(province.communes[0]))
            report("coverage peak RSS", mib=f"{peak_rss_mib():.0f}")
        finally:
            await services.storage.close()


def run(units: int = 1000, enrolments: int = 1_000_000) -> None:
    asyncio.run(_run(units, enrolments))


if __name__ == "__main__":
    run()
