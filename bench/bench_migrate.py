"""`./dev bench migrate`: `bhxh-bot migrate-data` on the province dataset, timed.

The dataset: `bench.datasets.build_province` (1,000 units, ~4,900 agents with a year of team
rosters, 1,000,000 enrolments) and 1,000,000 lapsed cards (`bench.datasets.lapsed_cards`,
~333,000 households with one linked person each), with one reminder round queued so that the
outbox holds what a running deployment's does (~278,000 rows), in a SQLite file written
through the product's storage. Then the operator's command, in its own process:

    DATABASE_PATH=<that file> python -m bot migrate-data --to "$BENCH_DATABASE_URL?schema=bench_<hex>"

into a fresh schema (dropped afterwards). Printed: the wall time, the child's peak RSS, the rows
per table on both sides and migrate-data's own verdict (exit 0 and "counts and tallies agree"
only when every table's rows and its tallies match). Then, as a second opinion from outside
the command, the product's services answer the same questions on both engines and the answers
are compared: the year's tallies rolled up the tree, the year's top 10 agents, the province's
coverage table and the reminder counts of the province. Before that, three reads are timed on
the copy as migrate-data leaves it, then after `VACUUM (ANALYZE)` (what statistics change).

Then an experiment on the same file (BENCH_MIGRATE_EXPERIMENT=0 skips it): migrate-data's own
copy (`copy_from_sqlite`: each table's secondary indexes and foreign keys dropped before its
COPY and recreated before its commit) run in this process into fresh schemas, timed per table,
with the index builds' `maintenance_work_mem` (`copy.INDEX_BUILD_MEMORY`, SET LOCAL) left at
the server's (64 MB by default; what migrate-data does), at 256 MB and at 1 GB: what more
memory would buy.

BENCH_UNITS, BENCH_ENROLMENTS, BENCH_CARDS (defaults 1,000 / 1,000,000 / 1,000,000) for a
smaller run; BENCH_DATABASE_URL names the server (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mib, report, timed
from bench.datasets import TODAY, YEAR_START
from bench.pg import (
    CARDS_AT,
    Dataset,
    build_sqlite_dataset,
    counts_of,
    engine_settings,
    env_int,
    fresh_schema,
    migrate_with_cli,
    pg_problem,
    server_url,
    vacuum_analyze,
)
from bot.bootstrap import open_services
from bot.domain.clock import ManualClock
from bot.domain.summary import SummaryKind
from bot.services import Services
from bot.services.tallies import Period


async def _queue_round(data: Dataset) -> tuple[int, float]:
    async with open_services(engine_settings(data.path, None), ManualClock(CARDS_AT)) as services:
        with timed() as queued:
            count = await services.reminders.queue_round(CARDS_AT)
    return count, queued.seconds


async def _answers(services: Services) -> dict[str, Any]:
    """The same questions asked of one engine through the product's services."""
    year = Period(YEAR_START, TODAY, "2026")
    scope = await services.units.subtree_codes("P")
    return {
        "units rolled up the tree, province, year": await services.tallies.unit_tallies(None, year),
        "top 10 agents, province, year": await services.tallies.leaders(None, year, 10),
        "coverage, province (all units)": await services.organisation.coverage_rows(),
        "reminder counts, province, November": await services.reminders.reminder_counts(
            scope, date(2026, 11, 1), TODAY),
    }


async def _pg_timings(data: Dataset, schema_url: str) -> dict[str, float]:
    """Seconds of a few reads on the PostgreSQL copy (best of 2)."""
    year = Period(YEAR_START, TODAY, "2026")
    seconds: dict[str, float] = {}
    async with open_services(engine_settings(data.path, schema_url), ManualClock(CARDS_AT)) as services:
        reads = {
            "units rolled up the tree, province, year": lambda: services.tallies.unit_tallies(None, year),
            "coverage, province": lambda: services.organisation.coverage_rows(),
            "gather a commune's summary": lambda: services.summaries.gather(
                data.province.communes[0], SummaryKind.DAILY, TODAY),
        }
        for name, read in reads.items():
            best = float("inf")
            for _ in range(2):
                with timed() as once:
                    await read()
                best = min(best, once.seconds)
            seconds[name] = best
    return seconds


async def _second_opinion(data: Dataset, schema_url: str) -> list[str]:
    """Names of the answers that differ between the engines (empty: all agree)."""
    answers = []
    for url in (None, schema_url):
        async with open_services(engine_settings(data.path, url), ManualClock(CARDS_AT)) as services:
            answers.append(await _answers(services))
    lite, pg = answers
    return [name for name in lite if lite[name] != pg[name]]


async def _copy_timed(sqlite_path: Path, url: str, memory: str | None) -> dict[str, float]:
    """migrate-data's own copy (`copy_from_sqlite`) in this process, with the index builds'
    maintenance_work_mem set to `memory` (None: the server's); seconds per table (from one
    progress line to the next) and, under "total", for the whole call (ANALYZE and the
    comparison included)."""
    from storage.postgresql import copy
    from storage.postgresql.engine import PostgresStorage

    target = PostgresStorage(url)
    await target.connect()
    seconds: dict[str, float] = {}
    was = copy.INDEX_BUILD_MEMORY
    copy.INDEX_BUILD_MEMORY = memory
    try:
        mark = time.perf_counter()

        def lap(line: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            seconds[line.split(":")[0]] = now - mark
            mark = now

        with timed() as whole:
            copied = await copy.copy_from_sqlite(sqlite_path, target.db, progress=lap)
        seconds["total"] = whole.seconds
        assert copied.equal, "the experiment's copy is not equal to the source"
    finally:
        copy.INDEX_BUILD_MEMORY = was
        await target.close()
    return seconds


async def _experiment(sqlite_path: Path, url: str) -> None:
    results = {}
    for memory in (None, "256MB", "1GB"):
        async with fresh_schema(url) as schema_url:
            results[memory] = await _copy_timed(sqlite_path, schema_url, memory)
    first = next(iter(results.values()))
    slow = sorted((t for t in first if t != "total"), key=lambda t: -first[t])[:4]
    for memory, seconds in results.items():
        report(
            f"experiment: migrate-data's copy, index builds with maintenance_work_mem {memory or 'the server default'}",
            total_s=f"{seconds['total']:.1f}", **{f"{t}_s": f"{seconds[t]:.1f}" for t in slow},
        )


async def _run(units: int, enrolments: int, cards: int) -> None:
    url = server_url()
    problem = await pg_problem(url)
    if problem is not None:
        print(f"migrate: PostgreSQL unreachable at {url} ({problem}); nothing to measure (set BENCH_DATABASE_URL)")
        return
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        data = await build_sqlite_dataset(Path(tmp) / "province.sqlite3", units, enrolments, cards)
        queued, queue_s = await _queue_round(data)
        report(
            "migrate dataset (SQLite)", units=data.province.units, enrolments=f"{enrolments:,}",
            cards=f"{len(data.cards):,}", households=f"{data.households:,}", reminders_queued=f"{queued:,}",
            province_s=f"{data.seconds['province']:.0f}", cards_s=f"{data.seconds['cards']:.0f}",
            queue_s=f"{queue_s:.0f}", db_mib=f"{data.mib:.0f}",
        )
        data.cards.clear()  # the copy runs in its own process; this one need not hold them
        async with fresh_schema(url) as schema_url:
            migrated = await migrate_with_cli(data.path, schema_url)
            counts = counts_of(migrated)
            width = max((len(t) for t in counts), default=5)
            for table, (lite_rows, pg_rows) in counts.items():
                if lite_rows:
                    print(f"  {table.ljust(width)}  {lite_rows:>10,}  {pg_rows:>10,}{'' if lite_rows == pg_rows else '  DIFFERENT'}")
            total = sum(lite for lite, _ in counts.values())
            report(
                "bhxh-bot migrate-data --to postgresql://…?schema=…",
                seconds=f"{migrated.seconds:.1f}", exit=migrated.returncode,
                verdict="counts and tallies agree" if migrated.agreed else "NOT EQUAL",
                tables=len(counts), rows=f"{total:,}", rows_per_s=f"{total / migrated.seconds:,.0f}",
                child_peak_rss_mib=f"{migrated.peak_rss_mib:.0f}",
            )
            if migrated.stderr.strip():
                print(f"  stderr: {migrated.stderr.strip()}")
            if migrated.agreed:
                before = await _pg_timings(data, schema_url)
                analyzed = await vacuum_analyze(schema_url)
                after = await _pg_timings(data, schema_url)
                for name in before:
                    report(f"  PostgreSQL right after the copy, then after VACUUM (ANALYZE) ({analyzed:.0f} s): {name}",
                           before_ms=f"{before[name] * 1000:.0f}", after_ms=f"{after[name] * 1000:.0f}")
                differ = await _second_opinion(data, schema_url)
                report(
                    "the product's answers on both engines (second opinion)",
                    agree="all" if not differ else "NO: " + "; ".join(differ),
                )
        if os.environ.get("BENCH_MIGRATE_EXPERIMENT", "1") != "0":
            await _experiment(data.path, url)
    report("migrate", peak_rss_mib=f"{peak_rss_mib():.0f}")


def run() -> None:
    asyncio.run(_run(env_int("BENCH_UNITS", 1000), env_int("BENCH_ENROLMENTS", 1_000_000), env_int("BENCH_CARDS", 1_000_000)))


if __name__ == "__main__":
    run()
