"""Storage for tests, opened the way the application opens it (`storage.engines.open_storage`).

`ENGINES` lists the engines the storage tests run against: SQLite (a fresh file) and
PostgreSQL (a fresh schema on the server named by `TEST_DATABASE_URL`, default
postgresql://postgres@127.0.0.1:5432/test, dropped after the test). When that server cannot be
reached, the PostgreSQL half is skipped with `PG_SKIP_REASON` (tests/conftest.py counts those
skips in one line); `.ci/run` runs `./dev postgres` first, so on the project's machines an
unreachable server fails the build instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.contract import Storage
from storage.engines import open_storage

ENGINES = ("sqlite", "postgresql")
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SKIP_REASON = "PostgreSQL unreachable"

_reachable: dict[str, str | None] = {}


def server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL


@dataclass(frozen=True)
class EngineSettings:
    """The two settings `open_storage` reads."""

    database_url: str | None
    database_path: Path


def engine_url(engine: str, path: Path, schema: str | None = None) -> str:
    """The DATABASE_URL of a database of this engine: for SQLite the file `path`, for
    PostgreSQL the test server with its tables in `schema` (see `fresh_schema`)."""
    if engine == "sqlite":
        return f"sqlite:///{path}"
    if engine == "postgresql":
        base = server_url()
        return f"{base}{'&' if '?' in base else '?'}schema={schema or 'public'}"
    raise ValueError(f"no test database for engine {engine!r}")


async def postgres_problem() -> str | None:
    """Why the test server cannot be used (one line), or None; asked once per run."""
    url = server_url()
    if url not in _reachable:
        import asyncpg

        try:
            conn = await asyncio.wait_for(asyncpg.connect(url), timeout=5)
            await conn.close()
            _reachable[url] = None
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
            _reachable[url] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return _reachable[url]


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A new, empty schema on the test server, dropped (with everything in it) afterwards.
    Skips the test when the server is unreachable."""
    problem = await postgres_problem()
    if problem is not None:
        pytest.skip(f"{PG_SKIP_REASON} at {server_url()} ({problem})")
    import asyncpg

    schema = f"t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(server_url())
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        yield schema
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


@asynccontextmanager
async def database_url(engine: str, path: Path) -> AsyncIterator[str]:
    """The DATABASE_URL of a fresh database of `engine` for the block (SQLite: the file)."""
    if engine == "postgresql":
        async with fresh_schema() as schema:
            yield engine_url(engine, path, schema)
    else:
        yield engine_url(engine, path)


@asynccontextmanager
async def opened_storage(path: Path, engine: str = "sqlite") -> AsyncIterator[Storage]:
    """A connected storage on a fresh database, closed after the block."""
    async with database_url(engine, path) as url:
        storage = open_storage(EngineSettings(url, path))
        await storage.connect()
        try:
            yield storage
        finally:
            await storage.close()


class RawSql:
    """Plain SQL against either engine's own handle, for tests that set up or check rows
    directly: write `?` placeholders (SQLite's); on PostgreSQL they become `$1, $2, ...`.
    Rows come back as tuples."""

    def __init__(self, storage: Storage) -> None:
        self.db = storage.db  # type: ignore[attr-defined]  # the engine's own handle
        self.postgres = storage.engine == "postgresql"

    def _sql(self, sql: str) -> str:
        if not self.postgres:
            return sql
        parts = sql.split("?")
        return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))

    async def execute(self, sql: str, *params: object) -> int:
        if self.postgres:
            return int(await self.db.execute(self._sql(sql), *params))
        return int(await self.db.execute(sql, params))

    async def fetchall(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        if self.postgres:
            return [tuple(row) for row in await self.db.fetch(self._sql(sql), *params)]
        return [tuple(row) for row in await self.db.fetchall(sql, params)]
