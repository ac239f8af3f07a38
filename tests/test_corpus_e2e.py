"""A subset of the cost-question corpus end to end: real Application <-> emulator over HTTP.

One question of every family (the first, and the last, of each in the corpus), asked on the
corpus's injected day, must give the person the same outcome as through the dialogue alone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

import pytest

from bot.domain.clock import ManualClock
from bot.domain.money import format_vnd
from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import TZ, BotHarness
from tests.test_corpus import CORPUS, RATES

pytestmark = pytest.mark.asyncio

AMOUNT = re.compile(r"\d[\d.]* đ")
_users = iter(range(300_000, 399_999))


def _subset() -> list[dict[str, Any]]:
    chosen: dict[str, list[dict[str, Any]]] = {}
    for item in CORPUS:
        chosen.setdefault(item["family"], []).append(item)
    return [item for items in chosen.values() for item in {id(i): i for i in (items[0], items[-1])}.values()]


SUBSET = _subset()


@pytest.mark.parametrize("item", SUBSET, ids=[i["id"] for i in SUBSET])
async def test_corpus_question_end_to_end(
    harness: BotHarness, emulator: BotApiEmulator, clock: ManualClock, item: dict[str, Any]
) -> None:
    required = item.get("requires_group")
    on = date.fromisoformat(item.get("on") or item["today"])
    if required and required not in RATES.at(on).bhyt_support.groups and required not in RATES.at(on).bhxh_voluntary.support:
        pytest.skip(f"rate book has no group {required!r} on that date yet")
    clock.set(datetime.combine(date.fromisoformat(item["today"]), time(10, 0), tzinfo=TZ))
    user = emulator.user(next(_users), first_name="Hoa")
    reply = await user.ask(item["text"])
    text = reply.plain_text
    for phrase in item.get("says", []):
        assert phrase in text, text
    for phrase in item.get("says_not", []):
        assert phrase not in text, text
    assert all(
        len(b.callback_data.encode()) < 64 for row in reply.buttons for b in row if b.callback_data
    )
    expect = item["expect"]
    if expect == "answer":
        assert text.startswith("Tính cho: "), text
        if "total" in item and "person" not in item:
            assert f"Tổng: {format_vnd(item['total'])}" in text
        elif "person" in item:
            assert f"Bạn đóng: {format_vnd(item['person'])}" in text
        else:
            assert f"Bạn đóng: {format_vnd(item['monthly_net'])}/tháng" in text
    elif expect == "ask":
        assert "Mình hiểu" in text or "nhóm nào" in text, text
        assert "Tổng" not in text and "Bạn đóng" not in text
        assert reply.button_texts
    elif expect == "ask_field":
        assert "Tổng" not in text and "Bạn đóng" not in text, text
        assert reply.button_texts
    elif expect in ("no_figure", "stop"):
        assert not AMOUNT.search(text), text
    else:
        assert text.startswith("Tính cho: "), text
    for expected in item.get("buttons", [])[:1]:
        # the first button the review checked, pressed as the person would
        await user.press(expected["label"])
        (after,) = await user.replies()
        if "total" in expected:
            assert f"Tổng: {format_vnd(expected['total'])}" in after.plain_text, after.plain_text
        elif "person" in expected:
            assert f"Bạn đóng: {format_vnd(expected['person'])}" in after.plain_text, after.plain_text
        elif "monthly_net" in expected:
            assert f"Bạn đóng: {format_vnd(expected['monthly_net'])}/tháng" in after.plain_text, after.plain_text
        else:
            assert "Tổng" not in after.plain_text and "Bạn đóng" not in after.plain_text
