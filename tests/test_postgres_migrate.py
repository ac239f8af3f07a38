"""`bhxh-bot migrate-data`: a SQLite deployment moved onto an empty PostgreSQL database.

A small deployment is built through the SQLite engine's stores, copied with the command, and
then read back through the PostgreSQL engine's stores: the same answers, new rows get new ids,
and a second copy into the now non-empty database is refused. The reminder selection of
tests/test_reminders_select.py is also checked on PostgreSQL this way: its random scenario is
built on SQLite (where the rules' answer is known), copied, and queued on PostgreSQL.
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
from storage.postgresql.copy import copy_from_sqlite
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
