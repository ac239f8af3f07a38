"""`./dev bench gather-sql`: where one summary's gather spends its time, statement by statement,
on SQLite and on PostgreSQL (a diagnosis, not a figure for the README).

The engines benchmark found a commune's summary taking tens of seconds once a million linked
cards exist; this names the statements. The province dataset with its lapsed cards
(bench/pg.py, smaller by default: 100 units, 20,000 enrolments, BENCH_CARDS=200,000) is built
on SQLite and copied by `bhxh-bot migrate-data` (then VACUUM ANALYZE); one commune's daily
summary is gathered on each engine while the engines' read methods are wrapped, in this
process only, to add up the seconds per SQL text. Prints the five costliest statements per
engine. Without a PostgreSQL server it diagnoses SQLite alone.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.datasets import TODAY
from bench.pg import (
    CARDS_AT,
    build_sqlite_dataset,
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

SPENT: dict[str, float] = defaultdict(float)


@contextmanager
def timing_sql() -> Iterator[None]:
    """Wrap both engines' read methods to add each statement's seconds to SPENT; undone after."""
    import storage.postgresql.db as pg
    import storage.sqlite.db as lite

    saved: list[tuple[type, str, Any]] = []
    targets: list[tuple[type, tuple[str, ...]]] = [
        (lite.Database, ("fetchall", "fetchone", "fetchval")), (pg.Database, ("fetch", "fetchrow", "fetchval")),
    ]
    for cls, names in targets:
        for name in names:
            original = getattr(cls, name)
            saved.append((cls, name, original))
            setattr(cls, name, _timed(original))
    try:
        yield
    finally:
        for owner, attr, method in saved:
            setattr(owner, attr, method)


def _timed(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await original(self, sql, *args, **kwargs)
        finally:
            SPENT[" ".join(sql.split())[:150]] += time.perf_counter() - start

    return wrapper


async def _gather(label: str, settings_url: str | None, path: Path, commune: str) -> None:
    async with open_services(engine_settings(path, settings_url), ManualClock(CARDS_AT)) as services:
        SPENT.clear()
        with timing_sql():
            start = time.perf_counter()
            await services.summaries.gather(commune, SummaryKind.DAILY, TODAY)
            total = time.perf_counter() - start
    print(f"{label}: one commune's summary gathered in {total:.2f} s; costliest statements:", flush=True)
    for sql, seconds in sorted(SPENT.items(), key=lambda item: -item[1])[:5]:
        print(f"  {seconds:7.2f} s  {sql}", flush=True)


async def _run(units: int, enrolments: int, cards: int) -> None:
    url = server_url()
    problem = await pg_problem(url)
    with tempfile.TemporaryDirectory(prefix="bench-gather-sql-") as tmp:
        data = await build_sqlite_dataset(Path(tmp) / "gather.sqlite3", units, enrolments, cards)
        commune = data.province.communes[0]
        print(f"dataset: {units} units, {enrolments:,} enrolments, {cards:,} cards", flush=True)
        await _gather("sqlite", None, data.path, commune)
        if problem is not None:
            print(f"PostgreSQL unreachable at {url} ({problem}): SQLite only")
            return
        async with fresh_schema(url) as schema_url:
            migrated = await migrate_with_cli(data.path, schema_url)
            if not migrated.agreed:
                raise RuntimeError(f"migrate-data failed: {migrated.stderr or migrated.stdout}")
            await vacuum_analyze(schema_url)
            await _gather("postgresql", schema_url, data.path, commune)


def run() -> None:
    asyncio.run(_run(env_int("BENCH_UNITS", 100), env_int("BENCH_ENROLMENTS", 20_000), env_int("BENCH_CARDS", 200_000)))


if __name__ == "__main__":
    run()
