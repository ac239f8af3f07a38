"""The SQLite engine's own guarantees: migrations, WAL, all-or-nothing writes, committed reads.

What every engine must do is stated in tests/test_storage_contract.py; these check the SQLite
`Database` under it, opened the way the application opens it (`storage.engines.open_storage`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.sqlite.db import migration_files
from tests.storage_engines import opened_storage


async def test_migrations_apply_once_in_order_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    async with opened_storage(tmp_path / "a" / "b.sqlite3") as storage:
        db = storage.db
        applied = [row[0] for row in await db.fetchall("SELECT number FROM schema_migrations ORDER BY number")]
        assert applied == [n for n, _, _ in migration_files()]
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
    async with opened_storage(tmp_path / "a" / "b.sqlite3") as storage:  # reopening applies nothing twice
        again = storage.db
        assert await again.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(applied)
        with pytest.raises(Exception):
            await again.execute(
                "INSERT INTO members(full_name, role, unit_code, created_at, updated_at)"
                " VALUES ('x', 'agent', 'NO-SUCH-UNIT', 'now', 'now')"
            )


async def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    async with opened_storage(tmp_path / "t.sqlite3") as storage:
        db = storage.db
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO ptb_user_data(user_id, data) VALUES (1, '{}')")
                await conn.execute("INSERT INTO ptb_user_data(user_id, data) VALUES (2, '{}')")
                raise RuntimeError("crash half-way")
        assert await db.fetchval("SELECT COUNT(*) FROM ptb_user_data") == 0


async def test_reads_never_see_another_coroutines_open_transaction(tmp_path: Path) -> None:
    async with opened_storage(tmp_path / "r.sqlite3") as storage:
        db = storage.db
        inside = asyncio.Event()
        release = asyncio.Event()

        async def writer() -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO ptb_user_data(user_id, data) VALUES (7, '{}')")
                inside.set()
                await release.wait()

        task = asyncio.create_task(writer())
        await inside.wait()
        assert await db.fetchval("SELECT COUNT(*) FROM ptb_user_data") == 0
        release.set()
        await task
        assert await db.fetchval("SELECT COUNT(*) FROM ptb_user_data") == 1
