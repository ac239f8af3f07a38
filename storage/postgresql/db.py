"""The PostgreSQL database: a connection pool, transactions, forward-only migrations.

Unlike SQLite, PostgreSQL has many writers at once, and more than one bot instance may share the
database. So the guarantees the SQLite engine gets from its one serialised writer are spelled
out per write in the repositories: compare-and-set UPDATEs (`... WHERE status = 'pending'`),
`INSERT ... ON CONFLICT`, row locks (`FOR UPDATE`, `SKIP LOCKED` for claims) and, where a
decision reads several rows first (the duplicate check of an enrolment, queueing reminders,
claiming an inbox event), a transaction-scoped advisory lock naming what is decided.

`transaction()` runs at READ COMMITTED on one pooled connection; a unique violation inside it
comes out as the contract's `DuplicateError` after the rollback. Reads outside a transaction
take any pooled connection and see committed data only.

Migrations: `storage/postgresql/migrations/NNNN_name.sql`, applied in order, each in its own
transaction with its `schema_migrations` row, under `pg_advisory_lock`, so two instances that
start together migrate once (the second waits, then finds nothing to do).

The place: a `postgresql://` (or `postgres://`) URL as libpq and asyncpg read it, plus one
query parameter of ours, `schema=NAME`: the schema the bot's tables live in (created if
absent; default `public`). Tests give each test its own schema this way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from storage.contract import DuplicateError

log = logging.getLogger(__name__)

_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# pg_advisory_lock key of the migration runner ("bhxh" "mig" as bytes): any constant will do,
# as long as nothing else in the database takes it.
MIGRATION_LOCK = 0x62687868_6D6967

Record = Any  # asyncpg.Record: indexable by position and by column name


class MigrationError(Exception):
    """A migration file is misnamed, duplicated or failed to apply."""


def migration_files() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every packaged PostgreSQL migration, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("storage.postgresql.migrations").iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(numbers) != len(set(numbers)):
        raise MigrationError(f"duplicate migration numbers in {numbers}")
    return found


def split_url(url: str) -> tuple[str, str]:
    """(the URL asyncpg connects to, the schema) of a DATABASE_URL; `schema=` is ours."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.lower() in ("postgres", "postgresql") else parts.scheme
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "public"
    kept: list[tuple[str, str]] = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _SCHEMA_RE.match(schema):
        raise ValueError("DATABASE_URL is invalid: schema must be lower-case letters, digits and _")
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment)), schema


def rowcount(status: str) -> int:
    """Rows an INSERT/UPDATE/DELETE touched, from its command tag ('UPDATE 3', 'INSERT 0 1')."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class Tx:
    """The statements of one transaction (what `Database.transaction()` yields)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute(self, sql: str, *params: Any) -> int:
        """Run one statement; returns how many rows it touched."""
        return rowcount(await self.conn.execute(sql, *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self.conn.executemany(sql, rows)

    async def fetch(self, sql: str, *params: Any) -> list[Record]:
        return list(await self.conn.fetch(sql, *params))

    async def fetchrow(self, sql: str, *params: Any) -> Record | None:
        return await self.conn.fetchrow(sql, *params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        return await self.conn.fetchval(sql, *params)

    async def lock(self, name: str) -> None:
        """A transaction-scoped advisory lock on `name`: held until commit or rollback, so
        whoever decides the same thing next waits and then sees this transaction's rows."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", name)


class Database:
    """A pool of connections to one PostgreSQL database (one schema); repositories call it."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.dsn, self.schema = split_url(url)
        self._min_size = min_size
        self._max_size = max_size
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("Database.connect() was not awaited")
        return self._pool

    async def connect(self) -> None:
        """Open the pool (creating the schema if needed) and apply pending migrations. Idempotent."""
        if self._pool is not None:
            return
        first = await asyncpg.connect(self.dsn)
        try:
            await first.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        except asyncpg.UniqueViolationError:  # another instance created it a moment ago
            pass
        finally:
            await first.close()
        pool = await asyncpg.create_pool(
            self.dsn,
            min_size=self._min_size,
            max_size=self._max_size,
            server_settings={"search_path": self.schema, "timezone": "UTC"},
        )
        self._pool = pool
        try:
            await self._migrate()
        except BaseException:
            self._pool = None  # not connected: the next connect() starts again
            await pool.close()
            raise

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                applied = {row[0] for row in await conn.fetch("SELECT number FROM schema_migrations")}
                for number, name, sql in migration_files():
                    if number in applied:
                        continue
                    log.info("applying migration %s", name)
                    try:
                        async with conn.transaction():
                            await conn.execute(sql)
                            await conn.execute(
                                "INSERT INTO schema_migrations(number, name) VALUES ($1, $2)", number, name
                            )
                    except asyncpg.PostgresError as exc:
                        raise MigrationError(f"migration {name} failed: {exc}") from exc
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """All statements inside commit together or not at all; a unique violation comes out as
        the contract's `DuplicateError` (after the rollback)."""
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    yield Tx(conn)
            except asyncpg.UniqueViolationError as exc:
                raise DuplicateError(str(exc)) from exc

    async def execute(self, sql: str, *params: Any) -> int:
        """One write statement in its own transaction; returns how many rows it touched."""
        async with self.transaction() as tx:
            return await tx.execute(sql, *params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def fetch(self, sql: str, *params: Any) -> list[Record]:
        """Rows of committed data."""
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(sql, *params))

    async def fetchrow(self, sql: str, *params: Any) -> Record | None:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(sql, *params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql, *params)
