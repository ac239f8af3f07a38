"""The SQLite inbox (storage/inbox.py) on a real database file: once per key, leases, order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from storage.sqlite.db import Database
from storage.sqlite.inbox import SqliteInbox

LEASE = timedelta(minutes=2)


@pytest.fixture
async def inbox(tmp_path: Path) -> AsyncIterator[SqliteInbox]:
    db = Database(tmp_path / "inbox.sqlite3")
    await db.connect()
    try:
        yield SqliteInbox(db)
    finally:
        await db.close()


async def test_an_event_key_is_stored_once_per_channel(inbox: SqliteInbox, clock: ManualClock) -> None:
    now = clock.now()
    assert await inbox.add("zalo", "user_send_text:1", "u1", "user_send_text", "{}", now)
    assert not await inbox.add("zalo", "user_send_text:1", "u1", "user_send_text", '{"other": 1}', now)
    assert await inbox.add("telegram", "user_send_text:1", "u1", "user_send_text", "{}", now)
    assert (await inbox.counts("zalo"))["pending"] == 1


async def test_one_person_at_a_time_oldest_first_others_in_parallel(inbox: SqliteInbox, clock: ManualClock) -> None:
    now = clock.now()
    for key, person in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("r", None), ("a3", "A")):
        await inbox.add("zalo", key, person, "k", "{}", now)
    first = await inbox.claim("zalo", now, LEASE, 3)
    second = await inbox.claim("zalo", now, LEASE, 3)
    third = await inbox.claim("zalo", now, LEASE, 3)
    assert [e.event_key for e in (first, second, third) if e] == ["a1", "b1", "r"]
    assert await inbox.claim("zalo", now, LEASE, 3) is None  # a2 waits behind a1
    assert first is not None and await inbox.complete(first, now)
    nxt = await inbox.claim("zalo", now, LEASE, 3)
    assert nxt is not None and nxt.event_key == "a2"


async def test_concurrent_claims_never_share_an_event(inbox: SqliteInbox, clock: ManualClock) -> None:
    now = clock.now()
    for n in range(20):
        await inbox.add("zalo", f"e{n}", f"p{n}", "k", "{}", now)
    claimed = await asyncio.gather(*(inbox.claim("zalo", now, LEASE, 3) for _ in range(25)))
    keys = [e.event_key for e in claimed if e is not None]
    assert sorted(keys) == sorted(f"e{n}" for n in range(20))


async def test_an_expired_lease_is_taken_over_and_the_old_owner_can_no_longer_finish(
    inbox: SqliteInbox, clock: ManualClock
) -> None:
    await inbox.add("zalo", "e", "p", "k", '{"phone": "84912345678"}', clock.now())
    dead = await inbox.claim("zalo", clock.now(), LEASE, 3)
    assert dead is not None and "84912345678" not in repr(dead)
    clock.advance(LEASE - timedelta(seconds=1))
    assert await inbox.claim("zalo", clock.now(), LEASE, 3) is None
    clock.advance(timedelta(seconds=1))
    heir = await inbox.claim("zalo", clock.now(), LEASE, 3)
    assert heir is not None and heir.id == dead.id and heir.attempts == 2
    assert not await inbox.complete(dead, clock.now())
    assert await inbox.complete(heir, clock.now())
    assert await inbox.counts("zalo") == {"pending": 0, "working": 0, "done": 1, "failed": 0}


async def test_an_event_every_worker_dies_on_is_abandoned_after_max_attempts(
    inbox: SqliteInbox, clock: ManualClock
) -> None:
    await inbox.add("zalo", "poison", "p", "k", "{}", clock.now())
    await inbox.add("zalo", "next", "p", "k", "{}", clock.now())
    for _ in range(2):
        assert (await inbox.claim("zalo", clock.now(), LEASE, 2)) is not None
        clock.advance(LEASE)
    after = await inbox.claim("zalo", clock.now(), LEASE, 2)
    assert after is not None and after.event_key == "next"
    assert (await inbox.counts("zalo"))["failed"] == 1


async def test_retry_later_holds_the_event_and_the_persons_next_one(inbox: SqliteInbox, clock: ManualClock) -> None:
    await inbox.add("zalo", "e1", "p", "k", "{}", clock.now())
    await inbox.add("zalo", "e2", "p", "k", "{}", clock.now())
    event = await inbox.claim("zalo", clock.now(), LEASE, 3)
    assert event is not None
    assert await inbox.retry_later(event, clock.now(), clock.now() + timedelta(seconds=30), "boom")
    assert await inbox.claim("zalo", clock.now(), LEASE, 3) is None
    clock.advance(timedelta(seconds=30))
    again = await inbox.claim("zalo", clock.now(), LEASE, 3)
    assert again is not None and again.event_key == "e1" and again.attempts == 2


async def test_handled_rows_are_purged_after_a_while_and_open_ones_never(inbox: SqliteInbox, clock: ManualClock) -> None:
    for key in ("old", "open"):
        await inbox.add("zalo", key, key, "k", "{}", clock.now())
    event = await inbox.claim("zalo", clock.now(), LEASE, 3)
    assert event is not None and event.event_key == "old"
    assert await inbox.complete(event, clock.now())
    assert await inbox.purge_handled(clock.now()) == 0  # handled exactly then: not before
    clock.advance(timedelta(days=8))
    assert await inbox.purge_handled(clock.now() - timedelta(days=7)) == 1
    assert await inbox.counts("zalo") == {"pending": 1, "working": 0, "done": 0, "failed": 0}
