"""`./dev bench gather-sql`: where one summary's gather spends its time, statement by statement,
on SQLite and on PostgreSQL (a diagnosis, not a figure for the README).

The engines benchmark found a commune's summary taking tens of seconds once a million linked
cards exist; this names the statements. The province dataset with its lapsed cards
(bench/pg.py, smaller by default: 100 units, 20,000 enrolments, BENCH_CARDS=200,000) is built
on SQLite and copied by `bhxh-bot migrate-data` (then VACUUM ANALYZE); the daily summary of
each scope asked (below) is gathered on each engine while the engines' read methods are wrapped, in this
process only, to add up the seconds per SQL text. Prints the five costliest statements per
engine. Without a PostgreSQL server it diagnoses SQLite alone.

- `BENCH_SCOPES`: which summaries, comma-separated among `commune`, `district`, `province`
  (default `commune`); each is gathered twice and the second (warm) run is reported.
- `BENCH_OUTBOX=1` (the default): one reminder round is queued on the dataset and its rows
  given outcomes (sent, delivered, refused, unknown, blocked, failed; one in three by ZNS with
  a cost; done over November), as a running campaign has, so the summary's reminder figures
  count something; `0` leaves the outbox empty, as the first version of this diagnosis did.
- `BENCH_DATASET=<file>`: keep the SQLite dataset there and reuse it when it exists (the
  migrations of the checked-out code are applied when it is opened), so a change can be timed
  before and after on the same data (`BENCH_UNITS`, `BENCH_ENROLMENTS`, `BENCH_CARDS` only
  matter when it is built; a `.province` file beside it names its communes and districts).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.datasets import TODAY, Province
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


async def _gather(label: str, settings_url: str | None, path: Path, scopes: dict[str, str]) -> None:
    async with open_services(engine_settings(path, settings_url), ManualClock(CARDS_AT)) as services:
        for name, unit in scopes.items():
            for _ in range(2):  # the second, warm run is the one reported
                SPENT.clear()
                with timing_sql():
                    start = time.perf_counter()
                    data = await services.summaries.gather(unit, SummaryKind.DAILY, TODAY)
                    total = time.perf_counter() - start
            print(f"{label}: the {name}'s ({unit}) summary gathered in {total:.2f} s"
                  f" (reminders to date: {data.reminders_to_date}); costliest statements:", flush=True)
            for sql, seconds in sorted(SPENT.items(), key=lambda item: -item[1])[:5]:
                print(f"  {seconds:7.2f} s  {sql}", flush=True)


def _scopes(province: Province) -> dict[str, str]:
    wanted = [w.strip() for w in (os.environ.get("BENCH_SCOPES") or "commune").split(",") if w.strip()]
    known = {"commune": province.communes[0], "district": province.districts[0], "province": "P"}
    return {name: known[name] for name in wanted}


def settle_outbox(path: Path) -> int:
    """Give the queued reminders the outcomes a running campaign has (see the module's doc);
    returns how many rows were settled. Plain SQL on the file: a benchmark's shortcut."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE reminder_outbox SET"
            " status = CASE id % 8 WHEN 0 THEN 'sent' WHEN 1 THEN 'sent' WHEN 2 THEN 'delivered'"
            "   WHEN 3 THEN 'refused' WHEN 4 THEN 'unknown' WHEN 5 THEN 'blocked' WHEN 6 THEN 'failed'"
            "   ELSE 'pending' END,"
            " done_on = CASE WHEN id % 8 = 7 THEN NULL ELSE date('2026-11-01', '+' || (id % 23) || ' days') END,"
            " done_at = CASE WHEN id % 8 = 7 THEN NULL"
            "   ELSE date('2026-11-01', '+' || (id % 23) || ' days') || 'T10:00:00+07:00' END"
        )
        # One in three by ZNS (to the person's phone, 220 đồng each when it went out).
        conn.execute(
            "UPDATE reminder_outbox SET channel = 'zns', user_id = NULL,"
            " phone = (SELECT cp.phone FROM contact_phones cp WHERE cp.channel = reminder_outbox.channel"
            "          AND cp.user_id = reminder_outbox.user_id),"
            " cost = CASE WHEN status IN ('sent', 'delivered', 'unknown') THEN 220 ELSE 0 END"
            " WHERE id % 3 = 0 AND EXISTS (SELECT 1 FROM contact_phones cp"
            "   WHERE cp.channel = reminder_outbox.channel AND cp.user_id = reminder_outbox.user_id)"
        )
        return int(conn.execute("SELECT COUNT(*) FROM reminder_outbox WHERE done_on IS NOT NULL").fetchone()[0])


async def _dataset(path: Path, units: int, enrolments: int, cards: int) -> Province:
    """The dataset at `path`: built (with its outbox, unless BENCH_OUTBOX=0) when missing."""
    marker = path.with_suffix(".province")
    if path.exists() and marker.exists():
        communes, districts = marker.read_text().split("\n", 1)
        return Province(units=units, communes=communes.split(","), districts=districts.split(","),
                        agents=[], teams={}, enrolments=enrolments)
    data: Dataset = await build_sqlite_dataset(path, units, enrolments, cards)
    if os.environ.get("BENCH_OUTBOX", "1") != "0":
        async with open_services(engine_settings(path, None), ManualClock(CARDS_AT)) as services:
            queued = await services.reminders.queue_round(CARDS_AT)
        print(f"outbox: {queued:,} reminders queued, {settle_outbox(path):,} given an outcome", flush=True)
    marker.write_text(",".join(data.province.communes) + "\n" + ",".join(data.province.districts))
    return data.province


async def _run(units: int, enrolments: int, cards: int) -> None:
    url = server_url()
    problem = await pg_problem(url)
    with tempfile.TemporaryDirectory(prefix="bench-gather-sql-") as tmp:
        kept = os.environ.get("BENCH_DATASET")
        path = Path(kept) if kept else Path(tmp) / "gather.sqlite3"
        province = await _dataset(path, units, enrolments, cards)
        scopes = _scopes(province)
        print(f"dataset: {units} units, {enrolments:,} enrolments, {cards:,} cards", flush=True)
        await _gather("sqlite", None, path, scopes)
        if problem is not None:
            print(f"PostgreSQL unreachable at {url} ({problem}): SQLite only")
            return
        async with fresh_schema(url) as schema_url:
            migrated = await migrate_with_cli(path, schema_url)
            if not migrated.agreed:
                raise RuntimeError(f"migrate-data failed: {migrated.stderr or migrated.stdout}")
            await vacuum_analyze(schema_url)
            await _gather("postgresql", schema_url, path, scopes)


def run() -> None:
    asyncio.run(_run(env_int("BENCH_UNITS", 100), env_int("BENCH_ENROLMENTS", 20_000), env_int("BENCH_CARDS", 200_000)))


if __name__ == "__main__":
    run()
