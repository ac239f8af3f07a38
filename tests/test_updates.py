"""The update processor: different people concurrently, each person in order, floods bounded.

Driven with real PTB ``Update`` objects and events (no timing): a handler that is still
running holds its person's lane until the test releases it.
"""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from handlers.telegram.updates import PerPersonUpdateProcessor, person_key

_next_id = iter(range(1, 1_000_000))


def message_from(user_id: int) -> Update:
    update_id = next(_next_id)
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                "text": "hi",
            },
        },
        None,
    )


async def test_a_slow_update_holds_only_its_own_person() -> None:
    processor = PerPersonUpdateProcessor(max_running=4, max_waiting=8)
    log: list[str] = []
    release = asyncio.Event()

    async def slow(name: str) -> None:
        log.append(f"start {name}")
        await release.wait()
        log.append(f"end {name}")

    async def fast(name: str) -> None:
        log.append(name)

    admin, citizen = 1, 2
    tasks = [
        asyncio.create_task(processor.process_update(message_from(admin), slow("admin upload"))),
        asyncio.create_task(processor.process_update(message_from(admin), fast("admin question"))),
        asyncio.create_task(processor.process_update(message_from(citizen), fast("citizen question"))),
    ]
    while "citizen question" not in log:
        await asyncio.sleep(0)
    # The citizen was answered while the admin's upload is still running; the admin's own
    # next update waits behind the upload.
    assert log == ["start admin upload", "citizen question"]
    release.set()
    await asyncio.gather(*tasks)
    assert log == ["start admin upload", "citizen question", "end admin upload", "admin question"]


async def test_each_person_in_arrival_order() -> None:
    processor = PerPersonUpdateProcessor(max_running=8, max_waiting=64)
    seen: dict[int, list[int]] = {1: [], 2: [], 3: []}

    async def handle(user: int, n: int) -> None:
        for _ in range(n % 3):  # different lengths: without lanes the order would shuffle
            await asyncio.sleep(0)
        seen[user].append(n)

    tasks = [
        asyncio.create_task(processor.process_update(message_from(user), handle(user, n)))
        for n in range(30)
        for user in (1, 2, 3)
    ]
    await asyncio.gather(*tasks)
    assert all(order == list(range(30)) for order in seen.values())


async def test_a_flood_is_bounded_and_never_blocks_others() -> None:
    processor = PerPersonUpdateProcessor(max_running=2, max_waiting=3)
    release = asyncio.Event()
    ran: list[str] = []

    async def held(name: str) -> None:
        ran.append(name)
        await release.wait()

    flood = [
        asyncio.create_task(processor.process_update(message_from(7), held(f"flood {i}")))
        for i in range(20)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    # One running, three waiting, the other sixteen dropped (closed, never run).
    assert processor.dropped == 16
    other = asyncio.create_task(processor.process_update(message_from(8), held("other")))
    while "other" not in ran:
        await asyncio.sleep(0)
    assert ran == ["flood 0", "other"]
    release.set()
    await asyncio.gather(*flood, other)
    assert ran == ["flood 0", "other", "flood 1", "flood 2", "flood 3"]


def test_whose_update() -> None:
    assert person_key(message_from(42)) == ("user", 42)
    assert person_key(object()) is None
    with pytest.raises(ValueError):
        PerPersonUpdateProcessor(max_running=1)
