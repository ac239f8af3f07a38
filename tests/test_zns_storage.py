"""The ZNS rows of the reminder outbox, on every engine (tests.storage_engines.ENGINES): who is
queued on which channel, a claim and its outcome recorded once, an interrupted send that becomes
'unknown' and is never offered again, Zalo's receipt settling it, the masked list, the figures
by channel and cost, and the cards a ZNS is about. Through the storage contract only (the rows
checked with plain SQL where the contract has no read)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.reminders import Cadence, SelectionWindow
from bot.domain.zns import tracking_id
from storage.contract import Storage
from tests.conftest import TZ
from tests.storage_engines import ENGINES, RawSql, opened_storage
from tests.test_storage_contract import BASELINES, TARGETS, UNITS
from tests.zns_support import BASIS, LAPSED_ON, card, phone

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
WINDOW = SelectionWindow(NOON.date(), LAPSED_ON - timedelta(days=60), NOON.date() - timedelta(days=1), None)
CAMPAIGNS = [("ky-2026", WINDOW)]


@pytest.fixture(params=ENGINES)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with opened_storage(tmp_path / "zns.sqlite3", request.param) as opened:
        await opened.units.import_tree(UNITS, BASELINES, TARGETS, NOON)
        yield opened


async def test_the_channel_of_each_reminder_is_chosen_when_it_is_queued(storage: Storage) -> None:
    """Telegram-linked -> telegram (also when linked on Zalo too); a Zalo follower inside the
    free window -> zalo_oa; silent for three days -> zns; not linked -> zns; a list without a
    legal basis -> nobody; an opt-out on a chat covers the phone's ZNS too."""
    cards, reminders = storage.cards, storage.reminders
    await cards.import_cards([card(n) for n in range(1, 7)], "l.csv", NOON, legal_basis=BASIS)
    await cards.import_cards([card(9)], "other.csv", NOON)
    await cards.link_phones([(1, phone(1))], NOON, "telegram")
    await cards.link_phones([(2, phone(2)), (3, phone(3)), (11, phone(1)), (6, phone(6))], NOON, "zalo_oa")
    await reminders.record_interaction(11, NOON)
    await reminders.record_interaction(2, NOON - timedelta(hours=3))
    await reminders.record_interaction(3, NOON - timedelta(days=3))
    await reminders.record_interaction(6, NOON)
    await reminders.set_opted_out(6, True, NOON, "zalo_oa")
    await reminders.record_follower(4, True, NOON)  # an unrelated id: no effect
    assert await reminders.queue_due_all(CAMPAIGNS, Cadence(7, 3), NOON) == 2
    assert await reminders.queue_zns(CAMPAIGNS, NOON) == 3
    rows = await RawSql(storage).fetchall(
        "SELECT channel, COALESCE(phone, person_key) FROM reminder_outbox ORDER BY 2, 1"
    )
    assert rows == [("telegram", phone(1)), ("zalo_oa", phone(2)), ("zns", phone(3)), ("zns", phone(4)),
                    ("zns", phone(5))]
    assert await reminders.queue_zns(CAMPAIGNS, NOON + timedelta(days=1)) == 0  # one per phone and expiry
    assert await reminders.zns_backlog() == 3
    assert [row.phone for row in await reminders.next_pending_zns(NOON)] == [phone(3), phone(4), phone(5)]
    assert [row.channel for row in await reminders.next_pending(NOON)] == ["telegram", "zalo_oa"]


async def test_a_zns_is_claimed_once_recorded_once_and_an_interrupted_one_is_never_offered_again(
    storage: Storage,
) -> None:
    reminders = storage.reminders
    await storage.cards.import_cards([card(n) for n in range(1, 4)], "l.csv", NOON, legal_basis=BASIS)
    assert await reminders.queue_zns(CAMPAIGNS, NOON) == 3
    first, second, third = await reminders.next_pending_zns(NOON)
    assert (first.phone, first.card_expiry, first.attempts) == (phone(1), LAPSED_ON.isoformat(), 0)

    assert await reminders.claim_zns(first.id, "a1", NOON) == "claimed"
    assert await reminders.claim_zns(first.id, "a2", NOON) == "gone"
    assert await reminders.finish_zns(first.id, "a1", "sent", NOON, message_id="m-1", cost=300)
    assert not await reminders.finish_zns(first.id, "a1", "sent", NOON, message_id="m-1", cost=300)

    # Row 2: the process dies during its request. The next round settles it 'unknown'.
    assert await reminders.claim_zns(second.id, "b1", NOON) == "claimed"
    assert await reminders.settle_interrupted_zns(NOON + timedelta(minutes=5)) == 1
    assert [row.id for row in await reminders.next_pending_zns(NOON + timedelta(days=1))] == [third.id]
    assert not await reminders.finish_zns(second.id, "b1", "sent", NOON, message_id="late")
    (unknown,) = await reminders.unknown_zns()
    assert (unknown.id, unknown.phone_masked, unknown.reason) == (second.id, "0900***002", "interrupted")
    assert phone(2) not in repr(unknown)

    # Row 3: nothing sent (a quota answer): pending again, the attempt not counted.
    assert await reminders.claim_zns(third.id, "c1", NOON) == "claimed"
    assert await reminders.retry_zns(third.id, "c1", NOON + timedelta(hours=20), "quota", "daily_limit", counted=False)
    assert await reminders.next_pending_zns(NOON + timedelta(hours=1)) == []
    (again,) = await reminders.next_pending_zns(NOON + timedelta(hours=20))
    assert (again.id, again.attempts) == (third.id, 0)

    # Zalo's receipt names row 2 by its tracking id: settled, once.
    assert await reminders.reconcile_receipt(tracking_id(second.id), None, NOON + timedelta(hours=1), 300)
    assert not await reminders.reconcile_receipt(tracking_id(second.id), None, NOON + timedelta(hours=1), 300)
    assert await reminders.reconcile_receipt(None, "m-1", NOON + timedelta(hours=1), 300)  # by message id
    assert await reminders.unknown_zns() == []
    assert await reminders.status_counts() == {"delivered": 2, "pending": 1}

    counts = await reminders.reminder_counts(["CL01"], NOON.date(), NOON.date(), ["ky-2026"], [WINDOW])
    total = counts.total
    assert (total.by_zns, total.delivered, total.reached, total.zns_cost) == (2, 2, 2, 600)
    assert await reminders.units_with_reminders() == [("CL01",)]


async def test_a_person_who_links_a_chat_or_opts_out_after_queueing_is_not_sent_a_zns(storage: Storage) -> None:
    reminders = storage.reminders
    await storage.cards.import_cards([card(n) for n in range(1, 3)], "l.csv", NOON, legal_basis=BASIS)
    assert await reminders.queue_zns(CAMPAIGNS, NOON) == 2
    one, two = await reminders.next_pending_zns(NOON)
    await storage.cards.link_phones([(1, phone(1)), (2, phone(2))], NOON, "telegram")
    await reminders.set_opted_out(2, True, NOON, "telegram")
    assert await reminders.claim_zns(one.id, "a", NOON) == "linked"
    assert await reminders.claim_zns(two.id, "b", NOON) == "opted_out"
    assert await reminders.status_counts() == {"skipped": 2}


async def test_the_legal_basis_is_recorded_per_list_and_a_plain_import_clears_it(storage: Storage) -> None:
    reminders = storage.reminders
    await storage.cards.import_cards([card(1)], "l.csv", NOON, legal_basis=BASIS)
    await storage.cards.import_cards([card(1)], "again.csv", NOON + timedelta(days=1))
    assert await reminders.queue_zns(CAMPAIGNS, NOON) == 0
    await storage.cards.import_cards([card(1)], "again.csv", NOON + timedelta(days=2), legal_basis=BASIS)
    assert await reminders.queue_zns(CAMPAIGNS, NOON) == 1


async def test_the_cards_a_zns_is_about_are_the_phones_and_their_households(storage: Storage) -> None:
    from dataclasses import replace

    own = card(1)
    relative = replace(card(2), household_code=own.household_code, phone=None)
    await storage.cards.import_cards([relative, own, card(3)], "l.csv", NOON, legal_basis=BASIS)
    found = await storage.cards.cards_of_phones([phone(1), phone(3), phone(8)])
    assert sorted(found) == [phone(1), phone(3)]
    assert [(linked.card.bhxh_code, linked.own) for linked in found[phone(1)]] == [
        (own.bhxh_code, True), (relative.bhxh_code, False)]
    assert [linked.card for linked in found[phone(3)]] == [card(3)]
