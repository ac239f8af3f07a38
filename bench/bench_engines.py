"""`./dev bench engines`: the tallies, coverage, summaries and reminder-selection benchmarks on
SQLite and on PostgreSQL side by side, one table per benchmark, as ratios PG/SQLite.

One dataset for both engines, built once: the province of `bench.datasets.build_province`
(1,000 units, ~4,900 agents, 1,000,000 enrolments) and the reminder benchmark's 1,000,000
lapsed cards (~333,000 households, one linked person each) in a SQLite file, then copied to a
fresh PostgreSQL schema by the product's own `bhxh-bot migrate-data` (bench/pg.py), which
checks counts and tallies. Then `VACUUM (ANALYZE)` on the copy (a bulk load leaves the planner
without statistics until autovacuum passes; the figure is printed). Then each operation runs
on both engines through the same services (`bot.bootstrap.build_services` over the storage
the settings name), SQLite then PostgreSQL one operation at a time, so that a busy spell on a
shared machine falls on both: reads best of 3 (summaries best of 2; once when a run takes
over 3 s), writes once, in the same order on both (the first reminder round queues on each engine from the same state).

The PostgreSQL server is BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test),
its schema dropped afterwards; when it is unreachable the benchmark says so and times SQLite
alone. Sizes: BENCH_UNITS (1,000), BENCH_ENROLMENTS (1,000,000), BENCH_CARDS (1,000,000).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.bench_tallies import tally_queries
from bench.common import peak_rss_mib, report
from bench.datasets import TODAY
from bench.pg import (
    CARDS_AT,
    Dataset,
    build_sqlite_dataset,
    engine_settings,
    env_int,
    fresh_schema,
    migrate_with_cli,
    pg_problem,
    server_url,
    vacuum_analyze,
)
from bot.bootstrap import build_services
from bot.domain.clock import ManualClock
from bot.domain.enrolment import parse_line
from bot.domain.roles import Member
from bot.domain.summary import SummaryKind
from bot.services import Services
from bot.services.enrolment import Logged

Run = Callable[[], Awaitable[Any]]


@dataclass
class Subjects:
    """One engine's services and what the operations are asked about (the same on both)."""

    services: Services
    district: list[str]
    commune: str
    agent: Member


#: (benchmark, operation, repeats, the operation given one engine's subjects)
Operation = tuple[str, str, int, Callable[[Subjects], Run]]


def _log_one() -> Callable[[Subjects], Run]:
    counter = iter(range(10_000))

    def bind(s: Subjects) -> Run:
        async def log_one() -> Any:
            code = f"77{next(counter):08d}"
            outcome = await s.services.enrolments.log(
                s.agent, parse_line(f"bhyt Nguyễn Văn An {code} 12 tháng").draft
            )
            assert isinstance(outcome, Logged)
            return outcome

        return log_one

    return bind


def _tally(index: int) -> Callable[[Subjects], Run]:
    return lambda s: tally_queries(s.services, s.district, s.commune, s.agent)[index][1]


def _coverage(unit: str | None) -> Callable[[Subjects], Run]:
    return lambda s: lambda: s.services.organisation.coverage_rows(unit)


def _summary(unit: str, whole: bool) -> Callable[[Subjects], Run]:
    def bind(s: Subjects) -> Run:
        summaries = s.services.summaries
        if whole:
            return lambda: summaries.build(unit, SummaryKind.DAILY, TODAY)
        return lambda: summaries.gather(unit, SummaryKind.DAILY, TODAY)

    return bind


def operations(data: Dataset, tally_names: list[str]) -> list[Operation]:
    """Every operation timed on both engines, by benchmark, in the order they run (the writes
    of the reminder round last: the reads see the dataset as copied)."""
    p = data.province
    ops: list[Operation] = []
    for index, name in enumerate(tally_names):
        ops.append(("tallies", name, 3, _tally(index)))
    ops.append(("tallies", "log one entry (duplicate check + insert + /toi figures)", 3, _log_one()))
    for label, unit in (("province (all units)", None), ("one district", p.districts[7]), ("one commune", p.communes[0])):
        ops.append(("coverage", f"coverage, {label}", 3, _coverage(unit)))
    for label, unit in (("province (P)", "P"), ("district (P07)", "P07"), ("commune", p.communes[0])):
        ops.append(("summaries", f"gather the figures, {label}", 2, _summary(unit, whole=False)))
        ops.append(("summaries", f"whole summary (figures, message, chart, workbook, form), {label}", 2,
                    _summary(unit, whole=True)))
    cards = data.cards
    ops.append(("reminders", f"re-import {len(cards):,} cards, all unchanged", 1,
                lambda s: lambda: s.services.storage.cards.import_cards(cards, "bench", CARDS_AT)))
    ops.append(("reminders", "select and queue, first round", 1, lambda s: lambda: s.services.reminders.queue_round(CARDS_AT)))
    ops.append(("reminders", "second round (nothing new)", 1, lambda s: lambda: s.services.reminders.queue_round(CARDS_AT)))
    return ops


async def _subjects(services: Services, data: Dataset) -> Subjects:
    district = await services.units.subtree_codes("P07")
    commune = district[1] if len(district) > 1 else district[0]
    member_id = next(m for m, unit, _ in data.province.agents if unit == commune)
    agent = await services.members.get(member_id)
    assert agent is not None
    return Subjects(services, district, commune, agent)


#: An operation that takes longer than this once is not repeated (its noise is small beside it).
LONG = 3.0


async def _best(run: Run, repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - start)
        if best > LONG:
            break
    return best, result


def _size(result: Any) -> str:
    if isinstance(result, int):
        return f"{result:,}"
    if hasattr(result, "__len__"):
        return f"{len(result):,} rows"
    return ""


WIDTH = 76  # the operation column


def _header(title: str, engines: list[str]) -> None:
    head = f"{'operation'.ljust(WIDTH)}  " + "  ".join(f"{e + ' ms':>14}" for e in engines)
    if len(engines) == 2:
        head += f"  {'PG/SQLite':>9}"
    print(f"\n{title}\n{head}\n{'-' * len(head)}", flush=True)


def _row(name: str, seconds: dict[str, float], size: str, engines: list[str]) -> None:
    """One operation's line, printed as soon as it is measured (a long run shows progress)."""
    line = f"{name.ljust(WIDTH)}  " + "  ".join(f"{seconds[e] * 1000:>14,.1f}" for e in engines)
    if len(engines) == 2:
        line += f"  {seconds[engines[1]] / seconds[engines[0]]:>8.2f}x"
    print(f"{line}  {size}".rstrip(), flush=True)


async def compare(data: Dataset, urls: dict[str, str | None]) -> None:
    """Time every operation on each engine (`urls`: engine -> DATABASE_URL, None for the
    SQLite file) and print one table per benchmark."""
    clock = ManualClock(datetime(TODAY.year, TODAY.month, TODAY.day, 17, 0, tzinfo=CARDS_AT.tzinfo))
    opened: dict[str, Subjects] = {}
    try:
        for engine, url in urls.items():
            services = build_services(engine_settings(data.path, url), clock)
            await services.storage.connect()
            opened[engine] = await _subjects(services, data)
        engines = list(opened)
        first = opened[engines[0]]
        names = [name for name, _ in tally_queries(first.services, first.district, first.commune, first.agent)]
        current = ""
        for bench, name, repeats, bind in operations(data, names):
            if bench != current:
                _header(bench, engines)
                current = bench
            seconds: dict[str, float] = {}
            size = ""
            for engine in engines:
                seconds[engine], result = await _best(bind(opened[engine]), repeats)
                size = _size(result)
            _row(name, seconds, size, engines)
    finally:
        for subjects in opened.values():
            await subjects.services.storage.close()


async def _run(units: int, enrolments: int, cards: int) -> None:
    url = server_url()
    problem = await pg_problem(url)
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        data = await build_sqlite_dataset(Path(tmp) / "engines.sqlite3", units, enrolments, cards)
        report(
            "engines dataset (SQLite, built once)", units=data.province.units, enrolments=f"{enrolments:,}",
            cards=f"{len(data.cards):,}", households=f"{data.households:,}",
            province_s=f"{data.seconds['province']:.0f}", cards_s=f"{data.seconds['cards']:.0f}",
            db_mib=f"{data.mib:.0f}",
        )
        if problem is not None:
            print(f"PostgreSQL unreachable at {url} ({problem}): SQLite only (set BENCH_DATABASE_URL)", flush=True)
            await compare(data, {"sqlite": None})
            return
        async with fresh_schema(url) as schema_url:
            migrated = await migrate_with_cli(data.path, schema_url)
            if not migrated.agreed:
                raise RuntimeError(f"migrate-data failed ({migrated.returncode}): {migrated.stderr or migrated.stdout}")
            analyzed = await vacuum_analyze(schema_url)
            report(
                "copied to PostgreSQL by `bhxh-bot migrate-data` (counts and tallies agree)",
                seconds=f"{migrated.seconds:.0f}", vacuum_analyze_s=f"{analyzed:.0f}", server=url,
            )
            await compare(data, {"sqlite": None, "postgresql": schema_url})
    report("\nengines", peak_rss_mib=f"{peak_rss_mib():.0f}")


def run() -> None:
    asyncio.run(_run(env_int("BENCH_UNITS", 1000), env_int("BENCH_ENROLMENTS", 1_000_000), env_int("BENCH_CARDS", 1_000_000)))


if __name__ == "__main__":
    run()
