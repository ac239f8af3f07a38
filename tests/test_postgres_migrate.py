"""`bhxh-bot migrate-data`: a SQLite deployment moved onto an empty PostgreSQL database.

A small deployment is built through the SQLite engine's stores, copied with the command, and
then read back through the PostgreSQL engine's stores: the same answers, new rows get new ids,
and a second copy into the now non-empty database is refused. The reminder selection of
tests/test_reminders_select.py is also checked on PostgreSQL this way: its random scenario is
built on SQLite (where the rules' answer is known), copied, and queued on PostgreSQL.

The copy drops each table's secondary indexes and foreign keys for its COPY and recreates them
in the same transaction: after a copy the schema's indexes and constraints are exactly a freshly
migrated schema's, and a table that fails (a row breaking a CHECK in the middle of the COPY, a
key pointing nowhere found when the foreign key is added back) is left empty with all of them,
the copy stops with one line naming it, and `--resume` finishes once the source is fixed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.records import AuditActor, StatusActor
from bot.domain.reminders import Cadence, selection_window
from bot.domain.roles import Role
from storage.contract import Storage
from storage.postgresql.copy import CopyError, copy_from_sqlite
from storage.postgresql.db import Database
from storage.postgresql.engine import PostgresStorage
from storage.sqlite.engine import SQLiteStorage
from tests.storage_engines import database_url, opened_storage
from tests.test_reminders_select import CAMPAIGN, TODAY, _scenario
from tests.test_reminders_select import NOW as SELECT_NOW
from tests.test_storage_contract import BASELINES, NOW, TARGETS, UNITS, WINDOW, card, new_enrolment, one_period_each


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[str]:
    async with database_url("postgresql", tmp_path / "unused") as url:
        yield url


async def deployment(storage: Storage) -> int:
    """Units, members, enrolments (one voided), cards with links, queued reminders, sessions."""
    await storage.units.import_tree(UNITS, BASELINES, TARGETS, NOW)
    agent = await storage.members.add(
        full_name="Người thu", role=Role.AGENT, unit_code="CL01", actor=AuditActor(), at=NOW, user_id=501,
        channel="telegram",
    )
    for n in range(1, 6):
        await storage.enrolments.add_unless_duplicate(new_enrolment(agent, f"84000000{n:02d}"), ["bhyt_household"], one_period_each)
    logged = await storage.enrolments.last_active_of_agent(agent, NOW - timedelta(hours=1))
    assert logged is not None
    await storage.enrolments.change_status(logged.id, "voided", StatusActor(agent), "sai", NOW)
    await storage.cards.import_cards([card(n) for n in range(1, 21)], "list.csv", NOW)
    await storage.cards.link_phones([(7000 + n, card(n).phone or "") for n in range(1, 11)], NOW, "telegram")
    await storage.reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW)
    await storage.sessions.write("telegram", 501, {"draft": {"line": "x"}}, NOW)
    await storage.identities.user_id("zalo", "1234567890123456789", NOW)
    return agent


async def test_migrate_data_copies_every_table_checks_counts_and_refuses_a_non_empty_target(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bot.sqlite3"
    async with opened_storage(source) as lite:
        agent = await deployment(lite)
        month = (NOW.date().replace(day=1), NOW.date())
        totals = await lite.tallies.totals(None, *month)
        linked = await lite.cards.linked_cards(7001, "telegram")
        statuses = await lite.reminders.status_counts()
    monkeypatch.setenv("DATABASE_PATH", str(source))

    assert await _run_cli(["migrate-data", "--to", target]) == 0
    out = capsys.readouterr().out
    assert "counts and tallies agree" in out
    assert any(line.split()[:3] == ["enrolments", "5", "5"] for line in out.splitlines())
    assert any(line.split()[:3] == ["cards", "20", "20"] for line in out.splitlines())

    pg = PostgresStorage(target)
    await pg.connect()
    try:
        assert await pg.tallies.totals(None, *month) == totals == {"bhyt_household": 4}
        assert await pg.cards.linked_cards(7001, "telegram") == linked
        assert await pg.reminders.status_counts() == statuses
        # The copied tables were ANALYZEd (planner statistics), the empty ones left alone.
        analysed = {
            row[0] for row in await pg.db.fetch(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
                " AND last_analyze IS NOT NULL"
            )
        }
        assert {"cards", "enrolments", "units"} <= analysed
        assert await pg.sessions.get("telegram", 501, "draft") == {"line": "x"}
        assert await pg.identities.user_id("zalo", "1234567890123456789", NOW) == 1
        member = await pg.members.by_user(501, "telegram")
        assert member is not None and member.id == agent
        newcomer = await pg.members.add(
            full_name="Người mới", role=Role.AGENT, unit_code="CL02", actor=AuditActor(), at=NOW, user_id=502,
            channel="telegram",
        )
        assert newcomer > agent  # identities continue after the copied ids
    finally:
        await pg.close()

    assert await _run_cli(["migrate-data", "--to", target]) == 2
    assert "not empty" in capsys.readouterr().err


async def _run_cli(argv: list[str]) -> int:
    """The command runs its own event loop: run it in a thread, as from a shell."""
    import asyncio

    return await asyncio.to_thread(main, argv)


async def test_reminder_selection_on_postgresql_agrees_with_the_rules(tmp_path: Path, target: str) -> None:
    lite = SQLiteStorage(tmp_path / "select.sqlite3")
    await lite.connect()
    try:
        expected = await _scenario(lite, 3)
    finally:
        await lite.close()
    pg = PostgresStorage(target)
    await pg.connect()
    try:
        report = await copy_from_sqlite(tmp_path / "select.sqlite3", pg.db)
        assert report.equal
        before = {r[0] for r in await pg.db.fetch("SELECT DISTINCT user_id FROM reminder_outbox WHERE status = 'pending'")}
        queued = await pg.reminders.queue_due(CAMPAIGN.code, selection_window(CAMPAIGN, TODAY), Cadence(7, 3), SELECT_NOW)
        after = {r[0] for r in await pg.db.fetch("SELECT user_id FROM reminder_outbox WHERE status = 'pending'")}
        assert after - before == {user for user, due in expected.items() if due}
        assert queued == len(after - before) > 0
    finally:
        await pg.close()


async def test_a_sqlite_file_at_another_migration_is_refused_before_anything_is_copied(
    tmp_path: Path, target: str
) -> None:
    import aiosqlite

    from storage.postgresql.copy import CopyError

    source = tmp_path / "ahead.sqlite3"
    async with opened_storage(source) as lite:
        await lite.units.import_tree(UNITS, BASELINES, TARGETS, NOW)
    async with aiosqlite.connect(source) as conn:  # a migration PostgreSQL has not got yet
        await conn.execute("CREATE TABLE zns_outbox (id INTEGER PRIMARY KEY)")
        await conn.commit()
    pg = PostgresStorage(target)
    await pg.connect()
    try:
        with pytest.raises(CopyError, match="zns_outbox"):
            await copy_from_sqlite(source, pg.db)
        assert await pg.units.count() == 0
    finally:
        await pg.close()


Shape = tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]


async def _shape(db: Database) -> Shape:
    """Every index (table, name, definition) and constraint (table, name, type, definition,
    validated, deferrable) of the schema, with the schema's name taken out."""
    prefix = f"{db.schema}."
    indexes = frozenset(
        (r[0], r[1], r[2].replace(prefix, ""))
        for r in await db.fetch("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1", db.schema)
    )
    constraints = frozenset(
        (r[0], r[1], r[2], r[3], str(r[4]), str(r[5]))
        for r in await db.fetch(
            "SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated, k.condeferrable"
            " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.connamespace = $1::regnamespace",
            db.schema,
        )
    )
    return indexes, constraints


async def _fresh_shape(tmp_path: Path) -> Shape:
    """The indexes and constraints of a schema the migrations just made."""
    async with database_url("postgresql", tmp_path / "fresh") as url:
        fresh = PostgresStorage(url)
        await fresh.connect()
        try:
            return await _shape(fresh.db)
        finally:
            await fresh.close()


async def test_after_a_copy_the_indexes_and_constraints_are_those_the_migrations_made(
    tmp_path: Path, target: str
) -> None:
    source = tmp_path / "bot.sqlite3"
    async with opened_storage(source) as lite:
        await deployment(lite)
    expected = await _fresh_shape(tmp_path)
    pg = PostgresStorage(target)
    await pg.connect()
    try:
        report = await copy_from_sqlite(source, pg.db)
        assert report.equal
        indexes, constraints = await _shape(pg.db)
        assert indexes == expected[0] and constraints == expected[1]
        # The deferred kinds were there to drop and recreate: enrolments' secondary indexes
        # (among them partial ones), a unique index that backs no constraint, foreign keys.
        assert {"enrolments_active_day", "members_user", "cards_phone"} <= {name for _, name, _ in indexes}
        assert ("enrolments", "enrolments_agent_id_fkey") in {(t, n) for t, n, kind, *_ in constraints if kind == "f"}
        assert await pg.db.fetchval("SELECT COUNT(*) FROM enrolments") == 5
    finally:
        await pg.close()


async def _break_row(source: Path, sql: str) -> None:
    """Write a row the SQLite engine would refuse (its own checks turned off for this connection)."""
    import aiosqlite

    async with aiosqlite.connect(source) as conn:
        await conn.execute("PRAGMA foreign_keys = OFF")
        await conn.execute("PRAGMA ignore_check_constraints = ON")
        await conn.execute(sql)
        await conn.commit()


async def _table_rows(db: Database) -> dict[str, int]:
    tables = [r[0] for r in await db.fetch("SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'r'", db.schema)]
    return {t: int(await db.fetchval(f'SELECT COUNT(*) FROM "{t}"')) for t in tables}


async def test_a_row_breaking_a_check_mid_copy_leaves_its_table_empty_with_its_indexes_and_constraints(
    tmp_path: Path, target: str
) -> None:
    source = tmp_path / "bot.sqlite3"
    async with opened_storage(source) as lite:
        await deployment(lite)
    await _break_row(source, "UPDATE enrolments SET amount_paid = -1 WHERE id = 3")  # the 3rd of 5 rows
    expected = await _fresh_shape(tmp_path)
    pg = PostgresStorage(target)
    await pg.connect()
    try:
        with pytest.raises(CopyError, match=r"^table enrolments was not copied .*enrolments_amount_paid_check") as failed:
            await copy_from_sqlite(source, pg.db)
        assert "\n" not in str(failed.value) and "8400000003" not in str(failed.value)  # one line, no row data
        rows = await _table_rows(pg.db)
        assert rows["enrolments"] == 0 and rows["units"] > 0 and rows["members"] == 1  # parents came first
        assert await _shape(pg.db) == expected
    finally:
        await pg.close()


async def test_a_key_pointing_nowhere_fails_when_the_foreign_key_is_added_back_and_resume_finishes_once_fixed(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bot.sqlite3"
    async with opened_storage(source) as lite:
        agent = await deployment(lite)
    await _break_row(source, "UPDATE enrolments SET agent_id = 999999 WHERE id = 3")
    expected = await _fresh_shape(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(source))

    assert await _run_cli(["migrate-data", "--to", target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "table enrolments was not copied" in err and "enrolments_agent_id_fkey" in err
    pg = PostgresStorage(target)
    await pg.connect()
    try:
        assert (await _table_rows(pg.db))["enrolments"] == 0
        assert await _shape(pg.db) == expected  # the foreign key is back, validated, as are the indexes
    finally:
        await pg.close()

    await _break_row(source, f"UPDATE enrolments SET agent_id = {agent} WHERE id = 3")
    assert await _run_cli(["migrate-data", "--to", target, "--resume"]) == 0
    out = capsys.readouterr().out
    assert "counts and tallies agree" in out
    kept = next(line for line in out.splitlines() if line.startswith("kept from the earlier run"))
    assert "units" in kept and "members" in kept and "enrolments" not in kept
    pg = PostgresStorage(target)
    await pg.connect()
    try:
        assert (await _table_rows(pg.db))["enrolments"] == 5
        assert await _shape(pg.db) == expected
    finally:
        await pg.close()
