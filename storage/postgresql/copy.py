"""Moving a SQLite deployment's data into an empty PostgreSQL database (`bhxh-bot migrate-data`).

Guarantees:
- the target is the migrated PostgreSQL schema, and it must be empty: a non-empty target is
  refused before anything is written (`--resume` instead continues a copy that stopped: tables
  already holding exactly the source's rows are skipped, empty ones are copied, any other
  state is refused);
- each table is copied in ONE transaction with one `COPY` streamed from SQLite (asyncpg's
  `copy_records_to_table`, the fastest way in), parents before children (foreign keys read from
  the catalog), so a table is either whole or empty, never half there;
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

from storage.postgresql.db import Database

log = logging.getLogger(__name__)

BATCH = 10_000

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
                async with target.transaction() as tx:
                    await tx.conn.copy_records_to_table(
                        table, records=_rows(source, table, columns), columns=columns, schema_name=target.schema
                    )
                    await _continue_identity(tx.conn, table)
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
