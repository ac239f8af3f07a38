"""Moving a SQLite deployment's data into an empty PostgreSQL database (`bhxh-bot migrate-data`).

Guarantees:
- the target is the migrated PostgreSQL schema, and it must be empty: a non-empty target is
  refused before anything is written (`--resume` instead continues a copy that stopped: tables
  already holding exactly the source's rows are skipped, empty ones are copied, any other
  state is refused);
- each table is copied in ONE transaction with one `COPY` streamed from SQLite (asyncpg's
  `copy_records_to_table`, the fastest way in), parents before children (foreign keys read from
  the catalog), so a table is either whole or empty, never half there;
- in that same transaction the table's secondary indexes and its foreign keys are dropped
  before the COPY and recreated from their catalog definitions after it (an index built once
  is cheaper than one updated per row; bench migrate: less than half the time). The primary key and
  the indexes of UNIQUE/EXCLUDE constraints (or that a foreign key refers to) stay and check
  every row as it comes; CHECK and NOT NULL constraints stay; a unique index is rebuilt (which
  checks it) and every foreign key is added back validated, so nothing goes unchecked. DDL is
  transactional: a table that fails is rolled back to empty with its indexes and constraints
  exactly as the migrations made them, and the copy stops with one line naming the table
  (`--resume` continues once the source is fixed);
- the two schemas must have the same tables and the same columns per table (checked first: a
  deployment whose SQLite file has a migration PostgreSQL lacks, or the reverse, is refused
  by name, never copied in part);
- identity sequences continue after the copied ids, so new rows never collide;
- the pacing state of the sends (`TRANSIENT`: a fraction of a second's worth, meaningful only
  to the instances running now) is not copied; every other table is;
- every copied table is ANALYZEd, so the first reports after the move get good plans;
- afterwards the row counts of every table and a few tallies (active enrolments per scheme with
  the money paid, outbox rows per status, cards per unit) are compared on both sides.

The source is read through a read-only connection; the caller first brings the SQLite file's
schema up to date the way the bot does at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from storage.contract import DuplicateError
from storage.postgresql.db import Database

log = logging.getLogger(__name__)

BATCH = 10_000

#: maintenance_work_mem for the rebuilding of a table's indexes after its COPY (SET LOCAL: that
#: transaction only); None keeps the server's. None: 256 MB or 1 GB built the province's indexes
#: no faster than the default 64 MB (bench migrate's experiment), and a managed server's
#: memory is the operator's to spend.
INDEX_BUILD_MEMORY: str | None = None

#: Tables whose rows only matter to the instances running now (the shared send pace and its
#: window): not copied, not compared.
TRANSIENT = frozenset({"send_pace", "send_window"})

# (name, SQL) answered by both engines, compared after the copy.
TALLIES: tuple[tuple[str, str], ...] = (
    ("active enrolments per scheme (count, money paid)",
     "SELECT scheme, COUNT(*), SUM(amount_paid) FROM enrolments WHERE status = 'active' GROUP BY scheme ORDER BY scheme"),
    ("reminders per status", "SELECT status, COUNT(*) FROM reminder_outbox GROUP BY status ORDER BY status"),
    ("cards per unit", "SELECT unit_code, COUNT(*) FROM cards GROUP BY unit_code ORDER BY unit_code"),
)


class CopyError(Exception):
    """The copy cannot start or did not end equal (one line for the operator)."""


@dataclass
class CopyReport:
    """Rows per table on each side, the tallies that differ, and what was skipped (resumed)."""

    counts: list[tuple[str, int, int]] = field(default_factory=list)  # (table, sqlite, postgresql)
    skipped: list[str] = field(default_factory=list)
    tally_mismatches: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return all(a == b for _, a, b in self.counts) and not self.tally_mismatches


async def tables_in_order(db: Database) -> list[str]:
    """The base tables of the target schema (not schema_migrations nor `TRANSIENT`), parents
    before children."""
    names = [
        row[0]
        for row in await db.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1"
            " AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name",
            db.schema,
        )
        if row[0] not in TRANSIENT
    ]
    parents: dict[str, set[str]] = {name: set() for name in names}
    for child, parent in await db.fetch(
        "SELECT c.relname, p.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        " JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = k.connamespace"
        " WHERE k.contype = 'f' AND n.nspname = $1",
        db.schema,
    ):
        if child != parent and child in parents:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(name for name, needs in parents.items() if not needs - set(ordered))
        if not ready:
            raise CopyError(f"foreign keys form a cycle among {sorted(parents)}")
        for name in ready:
            ordered.append(name)
            del parents[name]
    return ordered


async def _pg_columns(db: Database, table: str) -> list[str]:
    rows = await db.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
        " ORDER BY ordinal_position",
        db.schema, table,
    )
    return [row[0] for row in rows]


async def _sqlite_columns(source: aiosqlite.Connection, table: str) -> list[str]:
    async with source.execute(f'PRAGMA table_info("{table}")') as cur:
        return [row[1] for row in await cur.fetchall()]


async def _sqlite_count(source: aiosqlite.Connection, table: str) -> int:
    async with source.execute(f'SELECT COUNT(*) FROM "{table}"') as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _rows(source: aiosqlite.Connection, table: str, columns: list[str]) -> AsyncIterator[tuple[Any, ...]]:
    """Every row of a SQLite table, in batches (rowid order: parents of a self-reference first)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    async with source.execute(f'SELECT {cols} FROM "{table}" ORDER BY rowid') as cur:
        while True:
            batch = await cur.fetchmany(BATCH)
            if not batch:
                return
            for row in batch:
                yield tuple(row)


async def copy_from_sqlite(
    sqlite_path: Path, target: Database, *, resume: bool = False, progress: Callable[[str], None] = log.info
) -> CopyReport:
    """Copy every table of the SQLite file into the (migrated) PostgreSQL target; see the module."""
    source = await aiosqlite.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        tables = await tables_in_order(target)
        async with source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name <> 'schema_migrations' ORDER BY name"
        ) as cur:
            only_sqlite = sorted({row[0] for row in await cur.fetchall()} - set(tables) - TRANSIENT)
        if only_sqlite:
            raise CopyError(
                f"tables {', '.join(only_sqlite)} exist in SQLite only: both engines must be at the same migration"
            )
        plan: list[tuple[str, list[str], int, int]] = []  # (table, columns, sqlite rows, pg rows)
        for table in tables:
            pg_cols = await _pg_columns(target, table)
            lite_cols = await _sqlite_columns(source, table)
            if sorted(pg_cols) != sorted(lite_cols):
                raise CopyError(
                    f"table {table} differs between the engines (SQLite: {', '.join(lite_cols) or 'absent'};"
                    f" PostgreSQL: {', '.join(pg_cols)}): both must be at the same migration"
                )
            pg_rows = int(await target.fetchval(f'SELECT COUNT(*) FROM "{table}"'))
            plan.append((table, pg_cols, await _sqlite_count(source, table), pg_rows))
        filled = [(t, n) for t, _, _, n in plan if n]
        if filled and not resume:
            raise CopyError(
                "the PostgreSQL database is not empty (" + ", ".join(f"{t}: {n} rows" for t, n in filled[:5])
                + "): migrate-data copies into an empty database only"
            )
        report = CopyReport()
        for table, columns, lite_rows, pg_rows in plan:
            if pg_rows:
                if pg_rows != lite_rows:
                    raise CopyError(f"cannot resume: {table} holds {pg_rows} rows, the SQLite file {lite_rows}")
                report.skipped.append(table)
                continue
            if lite_rows:
                await _copy_table(source, target, table, columns)
            progress(f"{table}: {lite_rows} rows")
        # Fresh statistics: without them the planner keeps its guesses for an empty table (the
        # year's tallies took 1,9 s after the copy, 0,5 s after ANALYZE: bench migrate), and
        # autovacuum may be off or slow to come.
        for table, _, lite_rows, _ in plan:
            if lite_rows:
                async with target.transaction() as tx:
                    await tx.execute(f'ANALYZE "{table}"')
        for table, _, lite_rows, _ in plan:
            report.counts.append((table, lite_rows, int(await target.fetchval(f'SELECT COUNT(*) FROM "{table}"'))))
        for name, sql in TALLIES:
            async with source.execute(sql) as cur:
                lite = [tuple(r) for r in await cur.fetchall()]
            pg = [tuple(r) for r in await target.fetch(sql)]
            if lite != pg:
                report.tally_mismatches.append(name)
        return report
    finally:
        await source.close()


async def _continue_identity(conn: Any, table: str) -> None:
    """Make the table's identity column (if any) continue after the largest copied id."""
    sequence = await conn.fetchval(
        "SELECT pg_get_serial_sequence(quote_ident($1), a.attname) FROM pg_attribute a"
        " WHERE a.attrelid = quote_ident($1)::regclass AND a.attidentity <> '' LIMIT 1",
        table,
    )
    if sequence is not None:
        await conn.execute(
            f'SELECT setval($1, COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)', sequence
        )


@dataclass(frozen=True)
class _Deferred:
    """What a table's COPY is faster without, as the catalog defines it: its secondary indexes
    (name, `pg_get_indexdef`) and its foreign keys (name, `pg_get_constraintdef`)."""

    indexes: list[tuple[str, str]]
    foreign_keys: list[tuple[str, str]]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _deferrable(conn: Any, schema: str, table: str) -> _Deferred:
    """The table's indexes that no constraint uses (not the primary key, nor one backing a
    UNIQUE or EXCLUDE constraint, nor one a foreign key elsewhere refers to: those stay and are
    checked row by row), and its own foreign keys."""
    indexes = await conn.fetch(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = $1 AND t.relname = $2"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        " ORDER BY c.relname",
        schema, table,
    )
    keys = await conn.fetch(
        "SELECT k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
        " JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = $1 AND t.relname = $2 AND k.contype = 'f' ORDER BY k.conname",
        schema, table,
    )
    return _Deferred([(r[0], r[1]) for r in indexes], [(r[0], r[1]) for r in keys])


async def _copy_table(source: aiosqlite.Connection, target: Database, table: str, columns: list[str]) -> None:
    """One table in ONE transaction: drop its secondary indexes and foreign keys, COPY every
    row, build the indexes once and add the foreign keys back (which checks every row in one
    pass), continue its identity. Over twice as fast as a COPY that updates enrolments' seven
    indexes and checks its three keys row by row (bench migrate, the whole command: 105 s ->
    44 s), and as safe: DDL is transactional in
    PostgreSQL, so a failure anywhere (a row breaking a CHECK mid-COPY, a key pointing nowhere,
    a duplicate under a unique index) rolls back to the empty table with every index and
    constraint the migrations made, and the operator gets one line naming the table."""
    try:
        async with target.transaction() as tx:
            conn = tx.conn
            if INDEX_BUILD_MEMORY is not None:
                await conn.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            deferred = await _deferrable(conn, target.schema, table)
            for name, _ in deferred.foreign_keys:
                await conn.execute(f"ALTER TABLE {_quoted(table)} DROP CONSTRAINT {_quoted(name)}")
            for name, _ in deferred.indexes:
                await conn.execute(f"DROP INDEX {_quoted(target.schema)}.{_quoted(name)}")
            await conn.copy_records_to_table(
                table, records=_rows(source, table, columns), columns=columns, schema_name=target.schema
            )
            for _, definition in deferred.indexes:
                await conn.execute(definition)
            for name, definition in deferred.foreign_keys:
                await conn.execute(f"ALTER TABLE {_quoted(table)} ADD CONSTRAINT {_quoted(name)} {definition}")
            await _continue_identity(conn, table)
    except (asyncpg.PostgresError, DuplicateError) as exc:
        # The message only: the server's detail would quote the offending row (phone numbers).
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CopyError(
            f"table {table} was not copied (left empty, with its indexes and constraints): {reason}"
        ) from exc
