"""The rules from 1 January 2027 and group caveats, as a citizen meets them through the real bot.

Real Application <-> emulator over HTTP; the ManualClock moves across 31/12/2026 -> 01/01/2027.
Expected figures are copied by hand (22 % x 2.200.000 = 484.000; 20 % of it = 96.800).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.domain.clock import ManualClock
from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import TZ, BotHarness

pytestmark = pytest.mark.asyncio

_next_user = iter(range(200_000, 299_999))


def new_user(emulator: BotApiEmulator):
    return emulator.user(next(_next_user), first_name="Hoa")


async def test_two_million_is_accepted_on_2026_12_31_and_refused_on_2027_01_01(
    harness: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    user = new_user(emulator)
    clock.set(datetime(2026, 12, 31, 20, 0, tzinfo=TZ))
    ask = await user.ask("bhxh tự nguyện 2 triệu")
    assert "nhóm nào" in ask.plain_text and "thấp nhất" not in ask.plain_text
    await user.press("Người dân khác")
    await user.replies()
    await user.press("Hằng tháng")
    (answer,) = await user.replies()
    assert "Bạn đóng: 374.000 đ/tháng" in answer.plain_text  # 440.000 − 66.000

    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=TZ))
    refused = await new_user(emulator).ask("bhxh tự nguyện 2 triệu")
    assert "thấp nhất là 2.200.000 đ" in refused.plain_text
    assert "Tính với 2.200.000 đ" in refused.button_texts


async def test_minimum_income_answer_on_2027_01_01(
    harness: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=TZ))
    user = new_user(emulator)
    ask = await user.ask("/bhxh")
    assert "2.200.000 đ" in ask.button_texts and "1.500.000 đ" not in ask.button_texts
    await user.press("2.200.000 đ")
    (group_q,) = await user.replies()
    assert "Sống ở xã đảo, đặc khu" in group_q.button_texts
    await user.press("Người dân khác")
    await user.replies()
    await user.press("Hằng tháng")
    (answer,) = await user.replies()
    text = answer.plain_text
    assert "Mức đóng 22%: 484.000 đ/tháng" in text
    assert "−96.800 đ/tháng" in text
    assert "Bạn đóng: 387.200 đ/tháng" in text
    assert "01/01/2027" in text


async def test_ethnic_minority_left_commune_answer_carries_the_36_month_caveat(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    user = new_user(emulator)
    question = await user.ask("bhyt dtts 3 thang")
    # Which commune case applies is asked, never guessed (free card vs 70 %).
    assert "Xã của bạn thuộc trường hợp nào?" in question.plain_text
    choice = next(label for label in question.button_texts if "ra khỏi vùng khó khăn" in label)
    await user.press(choice)
    (reply,) = await user.replies()
    text = reply.plain_text
    assert "Bạn đóng:" in text
    assert "36 tháng kể từ khi xã ra khỏi vùng" in text and "hỏi BHXH xã" in text


async def test_trafficking_victim_group_is_quoted_with_its_caveat(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    user = new_user(emulator)
    ask = await user.ask("/bhyt")
    assert "Dân quân thường trực (miễn phí)" in ask.button_texts
    await user.press("Nạn nhân mua bán người (50%)")
    await user.replies()
    await user.press("12 tháng")
    (answer,) = await user.replies()
    text = answer.plain_text
    # 4,5 % × 2.530.000 × 12 = 1.366.200; budget 50 % = 683.100
    assert "Bạn đóng: 683.100 đ" in text
    assert "12 tháng kể từ khi được xác định là nạn nhân" in text


async def test_new_free_group_is_free_and_without_caveat(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    await user.ask("/bhyt")
    await user.press("Hưởng hưu trí xã hội (miễn phí)")
    replies = await user.replies()
    text = "\n".join(r.plain_text for r in replies)
    assert "miễn phí" in text and "Luật BHYT sửa đổi số 51/2024/QH15" in text
    assert "⚠️" not in text
