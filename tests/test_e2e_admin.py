"""Admins and officials list units and members, change and remove members, read coverage."""

from __future__ import annotations

import pytest

from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import ADMIN_ID, BotHarness
from tests.test_e2e_membership import AGENT, DISTRICT, LEADER, TAN_AN, TAN_BINH, seed_org

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def org(harness: BotHarness) -> tuple[BotHarness, dict[int, int]]:
    ids = await seed_org(harness.services)
    return harness, ids


async def test_admin_lists_units_down_the_tree(org, emulator: BotApiEmulator) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    top = await admin.ask("/donvi")
    assert "Các đơn vị cấp cao nhất (2)" in top.plain_text
    assert top.button_texts == ["CL · Huyện Càng Long", "NP · Xã Ngọc Phụng"]
    await admin.press("NP · Xã Ngọc Phụng")
    (commune,) = await admin.replies()
    text = commune.plain_text
    assert "Xã Ngọc Phụng (NP)" in text and "Dân số 8.060" in text and "Đơn vị trực thuộc (7)" in text
    assert "NP06 Thôn Hưng Long" in text
    await admin.press("NP06 · Thôn Hưng Long")
    (village,) = await admin.replies()
    assert "Thôn Hưng Long (NP06)" in village.plain_text and "Dân số 1.604" in village.plain_text
    await admin.press("⬆️ Lên cấp trên")
    (back,) = await admin.replies()
    assert "Đơn vị trực thuộc (7)" in back.plain_text
    team_unit = await admin.ask("/donvi cl06")
    assert "Nhóm 1 (CL06-NHOM1)" in team_unit.plain_text
    assert "Không tìm thấy đơn vị" in (await admin.ask("/donvi KHONGCO")).plain_text
    assert "Cách dùng" in (await admin.ask("/donvi a b c")).plain_text


async def test_admin_lists_members_and_changes_and_removes_one_with_audit(org, emulator: BotApiEmulator) -> None:
    harness, ids = org
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    page = await admin.ask("/thanhvien CL06")
    text = page.plain_text
    assert "Thành viên · Xã Tân An (CL06)" in text and "Đỗ Văn Tư" in text and "chưa kết nối bot" in text
    agent_id = ids[AGENT]
    await admin.press(f"Đỗ Văn Tư (#{agent_id})")
    (card,) = await admin.replies()
    assert "Vai trò: người vận động" in card.plain_text
    assert card.button_texts == ["Đổi thành tổ trưởng", "Đổi thành cán bộ phụ trách", "⛔ Ngừng hoạt động"]
    await admin.press("Đổi thành tổ trưởng")
    (changed,) = await admin.replies()
    assert "Đã cập nhật" in changed.plain_text and "Vai trò: tổ trưởng" in changed.plain_text
    assert "đổi vai trò: người vận động → tổ trưởng (bởi quản trị viên)" in changed.plain_text
    moved = await admin.ask(f"/suatv {agent_id} cl07")
    assert "Đơn vị: Xã Tân Bình (CL07)" in moved.plain_text
    events = await harness.services.members.events(agent_id)
    assert [(e.action, e.old_value, e.new_value, e.actor_user_id) for e in events[1:]] == [
        ("role_changed", "agent", "team_leader", ADMIN_ID),
        ("unit_changed", "CL06", "CL07", ADMIN_ID),
    ]
    assert all(e.at.startswith("2026-11-23T09:00") for e in events)
    ask = await admin.ask(f"/xoatv #{agent_id}")
    assert "Ngừng hoạt động" in ask.plain_text and ask.button_texts == ["⛔ Xác nhận ngừng", "✖️ Huỷ"]
    await admin.press("⛔ Xác nhận ngừng")
    (done,) = await admin.replies()
    assert "Đã ngừng hoạt động Đỗ Văn Tư" in done.plain_text
    member = await harness.services.members.get(agent_id)
    assert member is not None and not member.active  # kept, never deleted
    former = emulator.user(AGENT, first_name="Tư")
    assert "người dân" in (await former.ask("/vaitro")).plain_text
    assert "Không tìm thấy thành viên" in (await admin.ask(f"/suatv {agent_id} agent")).plain_text
    assert "Cách dùng" in (await admin.ask("/suatv abc")).plain_text
    assert "Cách dùng" in (await admin.ask("/xoatv")).plain_text


async def test_members_are_paged(org, emulator: BotApiEmulator) -> None:
    harness, _ = org
    for i in range(12):
        await harness.services.members.add(
            full_name=f"Cộng Tác Viên {i:02d}", role=Role.AGENT, unit_code="CL05", actor=CLI_ACTOR, at=harness.clock.now()
        )
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    first = await admin.ask("/thanhvien CL05")
    assert "12 người · trang 1/2" in first.plain_text and first.button_texts[-1] == "Sau ▶️"
    await admin.press("Sau ▶️")
    (second,) = await admin.replies()
    assert "trang 2/2" in second.plain_text and "Cộng Tác Viên 11" in second.plain_text
    assert second.button_texts[-1] == "◀️ Trước"
    everyone = await admin.ask("/thanhvien")
    assert "tất cả đơn vị" in everyone.plain_text and "trang 1/" in everyone.plain_text


async def test_official_of_commune_a_sees_nothing_of_commune_b(org, emulator: BotApiEmulator) -> None:
    harness, ids = org
    official = emulator.user(TAN_AN, first_name="Hồng")
    mine = await official.ask("/thanhvien")
    assert "Xã Tân An (CL06)" in mine.plain_text and "Võ Văn Bảy" not in mine.plain_text
    for command in ("/donvi CL07", "/thanhvien CL07", "/baophu CL07", "/donvi CL", "/baophu NP"):
        text = (await official.ask(command)).plain_text
        assert "Không tìm thấy đơn vị" in text and "Tân Bình" not in text, command
    for command in (f"/suatv {ids[TAN_BINH]} agent", f"/xoatv {ids[TAN_BINH]}"):
        assert "Không tìm thấy thành viên" in (await official.ask(command)).plain_text, command
    # Forged buttons for commune B.
    for forged in ("dv|CL07", "tv|p|CL07|0", f"tv|v|{ids[TAN_BINH]}", f"tv|X|{ids[TAN_BINH]}", "bp|CL07", f"tv|r|{ids[TAN_BINH]}|a"):
        menu = await official.ask("/donvi")
        await official.press_data(menu.message_id, forged)
        (answer,) = await official.replies()
        assert "Võ Văn Bảy" not in answer.plain_text and "Tân Bình" not in answer.plain_text, forged
    victim = await harness.services.members.get(ids[TAN_BINH])
    assert victim is not None and victim.active and victim.role == Role.OFFICIAL
    # Own unit: no way up to the district, and no tools on oneself.
    units = await official.ask("/donvi")
    assert "⬆️ Lên cấp trên" not in units.button_texts and "Huyện Càng Long" not in units.plain_text
    self_card = await official.ask(f"/suatv {ids[TAN_AN]} agent")
    assert "không tự đổi" in self_card.plain_text


async def test_district_official_manages_agents_but_not_other_officials(org, emulator: BotApiEmulator) -> None:
    harness, ids = org
    district = emulator.user(DISTRICT, first_name="Đức")
    refused = await district.ask(f"/suatv {ids[TAN_AN]} agent")
    assert "chỉ cán bộ phụ trách hoặc quản trị viên" in refused.plain_text
    leader = await district.ask(f"/suatv {ids[LEADER]} agent")
    assert "Vai trò: người vận động" in leader.plain_text
    moved = await district.ask(f"/suatv {ids[LEADER]} CL14")
    assert "Xã Đức Mỹ (CL14)" in moved.plain_text
    assert "Không tìm thấy đơn vị" in (await district.ask(f"/suatv {ids[LEADER]} NP01")).plain_text
    agent = emulator.user(AGENT, first_name="Tư")
    assert "chỉ cán bộ phụ trách hoặc quản trị viên" in (await agent.ask("/donvi")).plain_text


async def test_coverage_for_officials_and_admins(org, emulator: BotApiEmulator) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    text = (await admin.ask("/baophu")).plain_text
    assert "Bao phủ · Huyện Càng Long" in text
    assert "BHYT: 132.600/148.806 = 89,11% · chỉ tiêu 95% · đạt 93,80% · còn 8.766" in text
    assert "Xã An Trường: 96,34% · 101,41% · (188)" in text
    assert text.index("Xã Huyền Hội") < text.index("Xã An Trường:")  # slowest first
    official = emulator.user(TAN_AN, first_name="Hồng")
    mine = (await official.ask("/baophu")).plain_text
    assert "BHYT: 9.401/10.397 = 90,42%" in mine and "Huyền Hội" not in mine
    village = (await admin.ask("/baophu NP")).plain_text
    assert "Thôn Phú Vinh: kế hoạch 88,04% (chưa có số liệu nền)" in village
    await admin.ask("/donvi CL")
    await admin.press("📊 Bao phủ")
    (pressed,) = await admin.replies()
    assert "89,11%" in pressed.plain_text
