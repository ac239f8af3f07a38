"""/mucdong: the figures in force on a day with their legal basis, on every channel.

The example of adding a citizen command: the flow (bot/chat/flows/citizen.py), its words
(bot/chat/texts/cost.py), the command table (bot/chat/commands.py) and this test; no channel
file. Figures are DOMAIN.md's: the household ladder at 2.530.000 đ, voluntary BHXH at 22 % of
the rural poverty line (1.500.000 đ until 31/12/2026, 2.200.000 đ from 01/01/2027).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat.commands import commands_for
from bot.domain.roles import Role

LADDER_12_MONTHS = ["1.366.200 đ", "956.340 đ", "819.720 đ", "683.100 đ", "546.480 đ"]


@pytest.mark.parametrize("channel, user", [("telegram", "700001"), ("zalo_oa", "8457962349872349234")])
async def test_today_shows_the_ladder_the_voluntary_floor_and_the_coming_change(world: Any, channel: str, user: str) -> None:
    chat = world.chat(user, channel=channel)
    await chat.text("/mucdong")
    said = chat.said()
    assert said.startswith("📋 Mức đóng áp dụng ngày 23/11/2026")
    assert "Lương cơ sở: 2.530.000 đ/tháng (NĐ 161/2026/NĐ-CP)" in said
    assert [line.split(": ")[1] for line in said.splitlines() if line.startswith("• Người thứ")] == LADDER_12_MONTHS
    assert "• Thu nhập từ 1.500.000 đ đến 50.600.000 đ/tháng" in said
    assert "• Đóng thấp nhất: 330.000 đ/tháng" in said
    assert "Người thuộc hộ nghèo: 165.000 đ/tháng" in said and "Đối tượng khác: 66.000 đ/tháng" in said
    assert "⏳ Từ 01/01/2027 mức đóng thay đổi. Xem trước: /mucdong 01/01/2027" in said
    assert chat.buttons(), "the answer carries the citizen menu"


async def test_a_date_shows_the_rows_in_force_then(world: Any) -> None:
    chat = world.chat(700002)
    await chat.text("/mucdong 01/01/2027")
    said = chat.said()
    assert said.startswith("📋 Mức đóng áp dụng ngày 01/01/2027")
    assert "• Thu nhập từ 2.200.000 đ" in said and "• Đóng thấp nhất: 484.000 đ/tháng" in said
    assert "Người thuộc hộ nghèo: 242.000 đ/tháng" in said and "Đối tượng khác: 96.800 đ/tháng" in said
    assert "⏳" not in said  # no later row in the tables


@pytest.mark.parametrize("typed", ["abc", "32/13/2026", "01/01/1990", "x" * 5000])
async def test_a_date_it_cannot_read_or_price_is_answered_and_changes_nothing(world: Any, typed: str) -> None:
    chat = world.chat(700003)
    await chat.text(f"/mucdong {typed}")
    assert chat.said().startswith("Ngày chưa đúng.")


def test_citizens_see_it_in_their_menu() -> None:
    assert "mucdong" in [name for name, _ in commands_for(Role.CITIZEN)]
