"""The engine benchmarks' helpers (bench/pg.py) on a tiny dataset: the SQLite file they build,
`bhxh-bot migrate-data` run as its own process into a fresh schema, and the counts the
benchmark reads back from what the command printed. Guards the benchmark against drifting from
the command (a changed output format would make `counts_of` read nothing); no timings."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bench.pg import build_sqlite_dataset, counts_of, fresh_schema, migrate_with_cli, with_schema
from storage.postgresql.db import split_url
from tests.storage_engines import PG_SKIP_REASON, postgres_problem, server_url


def test_with_schema_adds_the_engines_parameter() -> None:
    assert split_url(with_schema("postgresql://u@h:5432/db", "bench_x")) == ("postgresql://u@h:5432/db", "bench_x")
    assert split_url(with_schema("postgresql://u@h/db?sslmode=disable", "b")) == (
        "postgresql://u@h/db?sslmode=disable", "b")


async def test_migrate_with_cli_copies_the_dataset_and_drops_its_schema(tmp_path: Path) -> None:
    problem = await postgres_problem()
    if problem is not None:
        pytest.skip(f"{PG_SKIP_REASON} at {server_url()} ({problem})")
    data = await build_sqlite_dataset(tmp_path / "tiny.sqlite3", units=25, enrolments=300, cards=40)
    async with fresh_schema(server_url()) as url:
        migrated = await migrate_with_cli(data.path, url)
        schema = split_url(url)[1]
    assert migrated.agreed, migrated.stderr or migrated.stdout
    counts = counts_of(migrated)
    assert counts["enrolments"] == (300, 300)
    assert counts["cards"] == (40, 40)
    assert counts["contact_phones"] == (data.households, data.households)
    assert counts["units"] == (data.province.units, data.province.units)
    conn = await asyncpg.connect(server_url())
    try:
        assert await conn.fetchval("SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1", schema) == 0
    finally:
        await conn.close()
