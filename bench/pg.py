"""What the engine benchmarks share: the PostgreSQL server, a throwaway schema on it, the
province dataset with its lapsed cards built once on SQLite, and `bhxh-bot migrate-data` run
on it as an operator runs it.

- The server is `BENCH_DATABASE_URL` (default postgresql://postgres@127.0.0.1:5432/test); each
  run puts its tables in a fresh schema `bench_<hex>` (the engine's own `?schema=` parameter)
  and drops it afterwards, so runs never see each other's rows. `pg_problem` says in one line
  why the server cannot be used, so a benchmark can run SQLite alone and say so.
- `build_sqlite_dataset` writes `bench.datasets.build_province` (units, agents, enrolments)
  and the reminder benchmark's lapsed cards (`bench.datasets.lapsed_cards`: households, one
  linked person each, here in the province's communes so that the summaries' reminder figures
  count them) into a new SQLite file through the product's storage: the data the tallies,
  coverage, summaries and reminders benchmarks measure, in one file.
- `migrate_with_cli` runs the product's command (`python -m bot migrate-data --to URL`) in its
  own process with only DATABASE_PATH set, so the copy is the operator's code path, timed from
  outside, with the child's peak RSS and its own verdict (exit status and printed table).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import ROOT, timed
from bench.datasets import TODAY, Province, build_province, lapsed_cards, sqlite_db
from bot.bootstrap import open_services
from bot.domain.cards import Card
from bot.domain.clock import ManualClock
from bot.settings import Settings

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: 09:00 on the province dataset's "today": when the reminder benchmark imports and queues.
CARDS_AT = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def with_schema(url: str, schema: str) -> str:
    """`url` with the engine's `schema=` parameter (storage/postgresql/db.py: `split_url`)."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


async def pg_problem(url: str) -> str | None:
    """Why the server at `url` cannot be used (one line), or None when it answers."""
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), timeout=5)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    await conn.close()
    return None


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """The DATABASE_URL of a new, empty schema on the server; the schema and everything in it
    is dropped afterwards, whatever happened (an interrupted run leaves nothing behind but
    what a killed process cannot clean: `bench_*` schemas, safe to drop by hand)."""
    import asyncpg

    schema = f"bench_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        yield with_schema(url, schema)
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def vacuum_analyze(schema_url: str) -> float:
    """VACUUM (ANALYZE) every table of the schema; returns the seconds it took.

    After a bulk COPY the planner has no statistics and the visibility map is empty until
    autovacuum passes (and autovacuum may be off, as on the project's test server), so the
    queries would be timed against a state no running deployment stays in; operators run this
    after a migration (docs/DEPLOY.md)."""
    import asyncpg

    from storage.postgresql.db import split_url

    dsn, schema = split_url(schema_url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        tables = [r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
        )]
        start = time.perf_counter()
        for table in tables:
            await conn.execute(f'VACUUM (ANALYZE) "{schema}"."{table}"')
        return time.perf_counter() - start
    finally:
        await conn.close()


def sqlite_settings(path: Path) -> Settings:
    return Settings(_env_file=None, database_path=path, scheduler_tick_seconds=3600)  # type: ignore[call-arg]


def engine_settings(sqlite_path: Path, url: str | None) -> Settings:
    """Settings naming the SQLite file (url None) or the PostgreSQL schema `url`."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_path=sqlite_path, database_url=url, scheduler_tick_seconds=3600,
        telegram_bot_token="100000004:BENCH-token-never-used",
    )


@dataclass
class Dataset:
    """The SQLite file built once, and what the benchmarks pick their subjects from."""

    path: Path
    province: Province
    cards: list[Card]
    households: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def mib(self) -> float:
        return self.path.stat().st_size / 2**20


async def build_sqlite_dataset(path: Path, units: int, enrolments: int, cards: int) -> Dataset:
    """The province (`build_province`) and `cards` lapsed cards with their linked people, in a
    new SQLite file at `path`, written through the product's SQLite storage."""
    seconds: dict[str, float] = {}
    async with open_services(sqlite_settings(path), ManualClock(CARDS_AT)) as services:
        with timed() as built:
            province = await build_province(sqlite_db(services.storage), units=units, enrolments=enrolments)
        seconds["province"] = built.seconds
        card_list, links = lapsed_cards(cards, units=province.communes)
        with timed() as imported:
            await services.storage.cards.import_cards(card_list, "bench", CARDS_AT)
            await services.storage.cards.link_phones(links, CARDS_AT, channel="telegram")
        seconds["cards"] = imported.seconds
    return Dataset(path=path, province=province, cards=card_list, households=len(links), seconds=seconds)


@dataclass
class Migrated:
    """One `bhxh-bot migrate-data` run: wall time, exit status, what it printed, child's RSS."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mib: float

    @property
    def agreed(self) -> bool:
        return self.returncode == 0 and "counts and tallies agree" in self.stdout


async def migrate_with_cli(sqlite_path: Path, target_url: str) -> Migrated:
    """Run `python -m bot migrate-data --to target_url` on the SQLite file, as an operator
    would (its own process, DATABASE_PATH from the environment, no .env: run in an empty
    directory), and time it from outside."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    env["PYTHONPATH"] = str(ROOT)
    env["DATABASE_PATH"] = str(sqlite_path)
    with tempfile.TemporaryDirectory(prefix="bench-migrate-cwd-") as cwd:
        start = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "migrate-data", "--to", target_url,
            cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        peak = asyncio.ensure_future(_watch_peak_rss(process.pid))
        out, err = await process.communicate()
        seconds = time.perf_counter() - start
        peak.cancel()
    return Migrated(seconds, process.returncode or 0, out.decode(), err.decode(), _peaks.pop(process.pid, float("nan")))


_peaks: dict[int, float] = {}


async def _watch_peak_rss(pid: int) -> None:
    """Keep the child's VmHWM (its peak RSS since exec; Linux) in `_peaks[pid]` until it exits.
    Not `getrusage(RUSAGE_CHILDREN)`: that counts the pages a forked child shares with this
    (large) process before its exec."""
    while True:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        _peaks[pid] = max(_peaks.get(pid, 0.0), int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            return
        await asyncio.sleep(0.2)


def counts_of(migrated: Migrated) -> dict[str, tuple[int, int]]:
    """{table: (sqlite rows, postgresql rows)} from the table migrate-data prints."""
    found: dict[str, tuple[int, int]] = {}
    for line in migrated.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit() and not line.startswith(" "):
            found[parts[0]] = (int(parts[1]), int(parts[2]))
    return found


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def summary_line(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
