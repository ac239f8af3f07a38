"""The PostgreSQL engine's own guarantees, with two instances (two pools) on one database.

The contract suite (tests/test_storage_contract.py) runs on PostgreSQL too, from one instance;
these check what SQLite gets from its single writer and PostgreSQL must get otherwise: two
instances starting together migrate once, and two instances claiming, queueing or taking
inbox events at the same moment never both get the same work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.reminders import Cadence
from storage.contract import DuplicateError
from storage.engines import open_storage
from storage.postgresql.db import migration_files, split_url
from storage.postgresql.engine import PostgresStorage
from tests.storage_engines import EngineSettings, database_url
from tests.test_storage_contract import BASELINES, NOW, TARGETS, UNITS, WINDOW, card


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    async with database_url("postgresql", tmp_path / "unused") as opened:
        yield opened


def instance(url: str, tmp_path: Path) -> PostgresStorage:
    storage = open_storage(EngineSettings(url, tmp_path / "unused"))
    assert isinstance(storage, PostgresStorage)
    return storage


async def test_two_instances_starting_together_migrate_once(url: str, tmp_path: Path) -> None:
    first, second = instance(url, tmp_path), instance(url, tmp_path)
    await asyncio.gather(first.connect(), second.connect())
    try:
        rows = await first.db.fetch("SELECT number FROM schema_migrations ORDER BY number")
        assert [r[0] for r in rows] == [n for n, _, _ in migration_files()]
        await second.close()
        await second.connect()  # reopening applies nothing twice
        assert await second.db.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(rows)
    finally:
        await first.close()
        await second.close()


def test_the_schema_comes_from_the_url_and_must_be_a_plain_name() -> None:
    assert split_url("postgres://bot@db:5432/bhxh?schema=hcm&sslmode=require") == (
        "postgresql://bot@db:5432/bhxh?sslmode=require", "hcm"
    )
    assert split_url("postgresql://bot@db/bhxh")[1] == "public"
    with pytest.raises(ValueError, match="schema"):
        split_url("postgresql://bot@db/bhxh?schema=x;drop")


async def test_a_unique_violation_in_a_transaction_is_the_contracts_duplicate_error(url: str, tmp_path: Path) -> None:
    storage = instance(url, tmp_path)
    await storage.connect()
    try:
        with pytest.raises(DuplicateError):
            async with storage.db.transaction() as tx:
                await tx.execute("INSERT INTO ptb_user_data(user_id, data) VALUES (1, '{}')")
                await tx.execute("INSERT INTO ptb_user_data(user_id, data) VALUES (1, '{}')")
        assert await storage.db.fetchval("SELECT COUNT(*) FROM ptb_user_data") == 0
    finally:
        await storage.close()


async def two_instances(url: str, tmp_path: Path, people: int) -> tuple[PostgresStorage, PostgresStorage]:
    """Two connected instances on one database with `people` linked, due people."""
    one, two = instance(url, tmp_path), instance(url, tmp_path)
    await one.connect()
    await two.connect()
    await one.units.import_tree(UNITS, BASELINES, TARGETS, NOW)
    cards = [card(n) for n in range(1, people + 1)]
    await one.cards.import_cards(cards, "list.csv", NOW)
    await one.cards.link_phones([(7000 + n, c.phone or "") for n, c in enumerate(cards, 1)], NOW, "telegram")
    return one, two


async def test_two_instances_queueing_at_once_queue_each_person_once(url: str, tmp_path: Path) -> None:
    one, two = await two_instances(url, tmp_path, 20)
    try:
        queued = await asyncio.gather(
            *(s.reminders.queue_due_all([("ky-2026", WINDOW), ("q4", WINDOW)], Cadence(7, 3), NOW) for s in (one, two, one))
        )
        assert sum(queued) == 20
        assert await one.reminders.status_counts() == {"pending": 20}
    finally:
        await one.close()
        await two.close()


async def test_two_instances_claiming_every_row_at_once_claim_each_row_once(url: str, tmp_path: Path) -> None:
    one, two = await two_instances(url, tmp_path, 30)
    try:
        await one.reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW)
        rows = await one.reminders.next_pending(NOW)
        assert len(rows) == 30
        results = await asyncio.gather(
            *(s.reminders.claim(row.id, f"{name}-{row.id}", NOW)
              for row in rows for name, s in (("one", one), ("two", two)))
        )
        assert results.count("claimed") == 30 and results.count("gone") == 30
        assert await two.reminders.status_counts() == {"sending": 30}
    finally:
        await one.close()
        await two.close()


async def test_two_instances_taking_inbox_events_never_hold_two_of_one_person(url: str, tmp_path: Path) -> None:
    one, two = instance(url, tmp_path), instance(url, tmp_path)
    await one.connect()
    await two.connect()
    try:
        for n in range(12):
            assert await one.inbox.add("zalo", f"event-{n}", f"person-{n % 3}", "user_send_text", "{}", NOW)
        lease = timedelta(minutes=5)
        taken = await asyncio.gather(*(s.inbox.claim("zalo", NOW, lease, 3) for s in (one, two) * 4))
        held = [event for event in taken if event is not None]
        # Three people: one event each can be held at a time, the oldest of each.
        assert sorted(event.event_key for event in held) == ["event-0", "event-1", "event-2"]
        assert (await two.inbox.counts("zalo"))["working"] == 3
    finally:
        await one.close()
        await two.close()


async def test_migration_0042_keeps_the_rows_of_an_existing_outbox(url: str, tmp_path: Path) -> None:
    """A database at 0041 with Telegram rows (integer message ids) upgrades in place: the rows
    keep their id, status and history, gain the person's phone as their key, and the new
    constraints hold (as SQLite's rebuild does: tests/test_zns_rules.py)."""
    import asyncpg

    from storage.postgresql.db import split_url

    dsn, schema = split_url(url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for number, name, sql in migration_files():
            if number < 42:
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations(number, name) VALUES ($1, $2)", number, name)
        await conn.execute("INSERT INTO contact_phones VALUES ('telegram', 7, '0900000007', 'x')")
        await conn.execute(
            "INSERT INTO reminder_outbox(id, campaign_code, channel, user_id, seq, queued_at, queued_on, status,"
            " done_on, message_id) VALUES (5, 'NHAC-2026', 'telegram', 7, 1, 'x', '2026-11-20', 'sent',"
            " '2026-11-20', 4242), (6, 'NHAC-2026', 'telegram', 8, 1, 'x', '2026-11-20', 'pending', NULL, NULL)"
        )
    finally:
        await conn.close()
    storage = instance(url, tmp_path)
    await storage.connect()
    try:
        rows = await storage.db.fetch(
            "SELECT id, person_key, card_expiry, status, message_id, cost FROM reminder_outbox ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [
            (5, "0900000007", None, "sent", "4242", 0), (6, "telegram:8", None, "pending", None, 0)]
        with pytest.raises(DuplicateError):  # the new (person, expiry, step) key: one reminder each
            await storage.db.execute(
                "INSERT INTO reminder_outbox(campaign_code, channel, user_id, person_key, card_expiry, seq,"
                " queued_at, queued_on) VALUES ('Q4', 'zalo_oa', 9, 'p', '2026-09-18', 1, 'x', 'x'),"
                " ('Q4', 'telegram', 10, 'p', '2026-09-18', 1, 'x', 'x')"
            )
    finally:
        await storage.close()
