"""Two instances sharing one database (two storages, two connections or pools), on every engine:
the reminder outbox and the summary ledger are claimed with leases (scheduler/leases.py).

Instance A claims and "dies" (just stops); B's recovery leaves A's rows alone until A's lease
ends on the injected clock, and takes them over after: chat rows back to 'pending' (the
documented at-least-once case), ZNS rows to 'unknown' (never resent), summary parts counted as
done, uncertain. Both claiming at once never claim the same row or run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.reminders import Cadence
from bot.domain.roles import Role
from scheduler.leases import LEASE
from storage.contract import Storage
from storage.engines import open_storage
from tests.storage_engines import ENGINES, EngineSettings, database_url
from tests.test_storage_contract import BASELINES, NOW, TARGETS, UNITS, WINDOW, card, member
from tests.zns_support import BASIS

SECOND = timedelta(seconds=1)


@pytest.fixture(params=ENGINES)
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Storage, Storage]]:
    """Instances A and B: two storages opened on one fresh database."""
    path = tmp_path / "shared.sqlite3"
    async with database_url(request.param, path) as url:
        a, b = (open_storage(EngineSettings(url, path)) for _ in range(2))
        await a.connect()
        await b.connect()
        try:
            await a.units.import_tree(UNITS, BASELINES, TARGETS, NOW)
            yield a, b
        finally:
            await a.close()
            await b.close()


async def _queue(storage: Storage, people: int) -> list[int]:
    cards = [card(n) for n in range(1, people + 1)]
    await storage.cards.import_cards(cards, "list.csv", NOW)
    await storage.cards.link_phones([(7000 + n, c.phone or "") for n, c in enumerate(cards, 1)], NOW, "telegram")
    assert await storage.reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW) == people
    return [row.id for row in await storage.reminders.next_pending(NOW)]


async def test_a_dead_instances_outbox_rows_are_taken_over_only_after_its_lease(pair: tuple[Storage, Storage]) -> None:
    a, b = pair
    ids = await _queue(a, 4)
    for row_id in ids[:3]:
        assert await a.reminders.claim(row_id, f"a-{row_id}", NOW, NOW + LEASE, "host-a:1:aa") == "claimed"
    # A dies. B's rounds while A's lease runs: A's rows are neither recovered nor offered.
    assert await b.reminders.recover_sending(NOW + LEASE - SECOND) == 0
    assert [row.id for row in await b.reminders.next_pending(NOW + LEASE - SECOND)] == ids[3:]
    assert await b.reminders.claim(ids[0], "b-early", NOW + SECOND, NOW + SECOND + LEASE, "host-b:2:bb") == "gone"
    # The lease ends: B takes them over (sent again: the documented at-least-once case).
    assert await b.reminders.recover_sending(NOW + LEASE) == 3
    assert [row.id for row in await b.reminders.next_pending(NOW + LEASE)] == ids
    at = NOW + LEASE
    assert await b.reminders.claim(ids[0], "b-0", at, at + LEASE, "host-b:2:bb") == "claimed"
    assert not await a.reminders.finish(ids[0], f"a-{ids[0]}", "sent", at, message_id="late")  # A's attempt is over
    assert await b.reminders.finish(ids[0], "b-0", "sent", at, message_id="1")
    assert await b.reminders.recover_sending(at + LEASE) == 0  # nothing left in flight


async def test_a_dead_instances_zns_rows_become_unknown_only_after_its_lease(pair: tuple[Storage, Storage]) -> None:
    a, b = pair
    await a.cards.import_cards([card(1), card(2)], "list.csv", NOW, legal_basis=BASIS)
    assert await a.reminders.queue_zns([("ky-2026", WINDOW)], NOW) == 2
    first, second = await a.reminders.next_pending_zns(NOW)
    assert await a.reminders.claim_zns(first.id, "a-1", NOW, NOW + LEASE, "host-a:1:aa") == "claimed"
    assert await b.reminders.settle_interrupted_zns(NOW + LEASE - SECOND) == 0
    assert await b.reminders.unknown_zns() == []
    assert await b.reminders.settle_interrupted_zns(NOW + LEASE) == 1
    assert [row.id for row in await b.reminders.unknown_zns()] == [first.id]
    assert [row.id for row in await b.reminders.next_pending_zns(NOW + LEASE)] == [second.id]  # never resent


async def test_two_instances_claiming_every_row_at_once_claim_each_once(pair: tuple[Storage, Storage]) -> None:
    a, b = pair
    ids = await _queue(a, 24)
    results = await asyncio.gather(
        *(s.reminders.claim(row_id, f"{name}-{row_id}", NOW, NOW + LEASE, name)
          for row_id in ids for name, s in (("a", a), ("b", b)))
    )
    assert results.count("claimed") == len(ids) and results.count("gone") == len(ids)
    assert await b.reminders.status_counts() == {"sending": len(ids)}


async def test_a_dead_instances_summary_is_resumed_only_after_its_lease(pair: tuple[Storage, Storage]) -> None:
    a, b = pair
    official = await member(a, 6301, Role.OFFICIAL)
    day = NOW.date()
    (recipient,) = await a.summaries.due("daily", day)
    assert await a.summaries.claim(recipient, "daily", day, NOW, NOW + LEASE, "a") == 0
    # A holds the run between parts: B may not take it while A's lease runs.
    assert await b.summaries.claim(recipient, "daily", day, NOW + SECOND, NOW + LEASE, "b") is None
    assert await a.summaries.claim(recipient, "daily", day, NOW + SECOND, NOW + LEASE, "a") == 0  # A's own
    assert await a.summaries.start_part(official, "daily", day, 0, NOW + LEASE)
    await a.summaries.part_done(official, "daily", day, 0, NOW)
    assert await a.summaries.start_part(official, "daily", day, 1, NOW + 2 * SECOND + LEASE)
    # A dies sending part 2. Before its lease ends, B neither recovers nor resumes the run.
    before = NOW + LEASE
    assert await b.summaries.recover_interrupted(before) == 0
    assert await b.summaries.claim(recipient, "daily", day, before, before + LEASE, "b") is None
    # After: part 2 counts as done (uncertain, never re-sent) and B resumes with part 3.
    after = NOW + 2 * SECOND + LEASE
    assert await b.summaries.recover_interrupted(after) == 1
    assert await b.summaries.claim(recipient, "daily", day, after, after + LEASE, "b") == 2
    assert await b.summaries.start_part(official, "daily", day, 2, after + LEASE)
    await b.summaries.part_done(official, "daily", day, 2, after)
    (run,) = await b.summaries.runs(day, "daily")
    assert (run.status, run.parts_done) == ("sent", 3)


async def test_a_released_summary_is_resumable_at_once_and_concurrent_claims_take_each_run_once(
    pair: tuple[Storage, Storage],
) -> None:
    a, b = pair
    for n in range(6):
        await member(a, 6400 + n, Role.OFFICIAL)
    day = NOW.date()
    due = await a.summaries.due("daily", day)
    results = await asyncio.gather(
        *(s.summaries.claim(r, "daily", day, NOW, NOW + LEASE, name) for r in due for name, s in (("a", a), ("b", b)))
    )
    assert results.count(0) == len(due) and results.count(None) == len(due)
    # A is told to retry later (or stops) and gives its runs back: B may resume them at once.
    mine = [r for r, got in zip(due, results[::2], strict=True) if got == 0]
    for r in mine:
        await a.summaries.release(r.member_id, "daily", day, "a")
    taken = [await b.summaries.claim(r, "daily", day, NOW + SECOND, NOW + LEASE, "b") for r in due]
    assert taken == [0] * len(due)
