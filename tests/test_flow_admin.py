"""The admin flow through the conversation core, without any chat platform.

Units, members and coverage for admins and officials on any channel; forged "dv|", "tv|" and
"bp|" payloads from people who may not press them (or for units outside the presser's scope)
reach no data and change nothing; junk arguments get the usage text and change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat.commands import BUTTON_NOT_ALLOWED
from bot.chat.model import Alert, Menu, Reply
from bot.chat.rich import t
from bot.domain.roles import Role
from tests.flow_harness import FlowWorld, RecordingChat
from tests.test_e2e_membership import AGENT, LEADER, TAN_AN, TAN_BINH, code_in, seed_org

pytestmark = pytest.mark.asyncio

ADMIN = 900001
ZALO_OA = "zalo_oa"
ZALO_ID = "8457962349872349235"


async def _snapshot(world: FlowWorld) -> tuple[Any, ...]:
    """Everything an admin command could change: members (role, unit, active), the audit trail,
    invites and units."""
    db = world.services.storage.db
    members = await db.fetchall("SELECT id, role, unit_code, active, user_id, channel FROM members ORDER BY id")
    counts = [int(await db.fetchval(f"SELECT COUNT(*) FROM {table}")) for table in ("member_events", "invites", "units")]
    return (tuple(tuple(row) for row in members), *counts)


def _answered(chat: RecordingChat) -> list[Any]:
    return [o for o in chat.last if not isinstance(o, Menu)]


async def test_admin_browses_units_with_buttons_that_replace_the_message(world: FlowWorld) -> None:
    await seed_org(world.services)
    admin = world.chat(ADMIN, first_name="Admin")
    await admin.text("/donvi")
    assert "Các đơn vị cấp cao nhất (2)" in admin.said()
    assert admin.labels() == ["CL · Huyện Càng Long", "NP · Xã Ngọc Phụng"]
    assert not admin.replies()[0].replace_pressed
    await admin.press_label("NP · Xã Ngọc Phụng")
    (commune,) = admin.replies()
    assert commune.replace_pressed
    assert "Xã Ngọc Phụng (NP)" in commune.text.plain and "Dân số 8.060" in commune.text.plain
    assert admin.labels()[-3:] == ["👥 Thành viên", "📊 Bao phủ", "⬆️ Lên cấp trên"]
    assert [len(row) for row in commune.buttons] == [2, 2, 2, 1, 3]  # units two by two, then the tools
    await admin.press_label("📊 Bao phủ")
    assert "Bao phủ · Xã Ngọc Phụng" in admin.said()
    await admin.press("dv|np")  # codes are compared in upper case, as typed ones are
    assert "Xã Ngọc Phụng (NP)" in admin.said() and "Đơn vị trực thuộc (7)" in admin.said()
    await admin.press("dv|")  # "up" from a unit below the top: the admin's top level
    assert "Các đơn vị cấp cao nhất (2)" in admin.said()


async def test_forged_admin_buttons_from_an_agent_and_a_zalo_citizen_change_nothing(world: FlowWorld) -> None:
    ids = await seed_org(world.services)
    before = await _snapshot(world)
    victim = ids[TAN_BINH]
    forged = ("dv|CL", "dv|CL07", f"tv|X|{victim}", f"tv|r|{victim}|a", f"tv|v|{victim}", "tv|p|CL07|0", "bp|CL")
    for chat in (world.chat(AGENT, first_name="Tư"), world.chat(ZALO_ID, channel=ZALO_OA)):
        for payload in forged:
            await chat.press(payload)
            assert _answered(chat) == [Alert(BUTTON_NOT_ALLOWED), Reply(t(BUTTON_NOT_ALLOWED))], payload
        for command in ("/donvi CL07", f"/suatv {victim} agent", f"/xoatv {victim}", "/baophu CL", "/thanhvien"):
            await chat.text(command)
            said = chat.said()
            assert "Võ Văn Bảy" not in said and "Tân Bình" not in said and "Càng Long" not in said, command
    assert await _snapshot(world) == before


async def test_an_official_forging_buttons_for_another_commune_gets_nothing(world: FlowWorld) -> None:
    ids = await seed_org(world.services)
    before = await _snapshot(world)
    official = world.chat(TAN_AN, first_name="Hồng")
    victim = ids[TAN_BINH]
    for payload in ("dv|CL07", "dv|CL", "tv|p|CL07|0", f"tv|v|{victim}", f"tv|X|{victim}", f"tv|x|{victim}",
                    f"tv|r|{victim}|a", "bp|CL07", "bp|NP"):
        await official.press(payload)
        said = official.said()
        assert "Võ Văn Bảy" not in said and "Tân Bình" not in said, payload
        assert "Không tìm thấy" in said, payload
    assert await _snapshot(world) == before


async def test_junk_arguments_and_payloads_get_usage_and_change_nothing(world: FlowWorld) -> None:
    ids = await seed_org(world.services)
    admin = world.chat(ADMIN, first_name="Admin")
    before = await _snapshot(world)
    usage = {
        "/donvi a b c": "Cách dùng: /donvi hoặc /donvi MÃ_ĐƠN_VỊ",
        "/donvi <i>": "Cách dùng: /donvi hoặc /donvi MÃ_ĐƠN_VỊ",
        "/thanhvien 😀": "Cách dùng: /thanhvien hoặc /thanhvien MÃ_ĐƠN_VỊ",
        "/baophu x y": "Cách dùng: /baophu hoặc /baophu MÃ_ĐƠN_VỊ",
        "/suatv abc": "Cách dùng: /suatv SỐ VAI_TRÒ",
        f"/suatv {ids[AGENT]}": "Cách dùng: /suatv SỐ VAI_TRÒ",
        f"/suatv {ids[AGENT]} <b>x</b>": "Cách dùng: /suatv SỐ VAI_TRÒ",
        "/suatv ①② agent": "Cách dùng: /suatv SỐ VAI_TRÒ",
        "/suatv 9999999999 agent": "Cách dùng: /suatv SỐ VAI_TRÒ",
        "/xoatv": "Cách dùng: /xoatv SỐ",
        "/xoatv 1 2": "Cách dùng: /xoatv SỐ",
        "/xoatv #x": "Cách dùng: /xoatv SỐ",
    }
    for command, expected in usage.items():
        await admin.text(command)
        assert admin.said().startswith(expected), command
    (usage_reply,) = admin.replies()
    assert [run.style.code for run in usage_reply.text.runs if run.text == "/xoatv SỐ"] == [True]
    for payload in ("tv|", "tv|v|", "tv|v|①", "tv|v|" + "9" * 20, "tv|p|CL06|x", "tv|p|<b>|0", "tv|r|1|z",
                    f"tv|q|{ids[AGENT]}", "dv|<i>", "bp|", "bp|<b>"):
        await admin.press(payload)
        assert admin.said() == "Nút này không còn dùng được. Bạn gõ lại lệnh nhé.", payload
    await admin.text("/suatv 424242 agent")
    assert "Không tìm thấy thành viên" in admin.said()
    assert await _snapshot(world) == before


async def test_a_zalo_official_changes_and_deactivates_a_member_with_audit(world: FlowWorld) -> None:
    ids = await seed_org(world.services)
    admin = world.chat(ADMIN, first_name="Admin")
    await admin.text("/moi canbo CL06")
    zalo = world.chat(ZALO_ID, channel=ZALO_OA, first_name="Hà")
    await zalo.text(f"/thamgia {code_in(admin.said())}")
    await zalo.text("/thanhvien")
    assert "Thành viên · Xã Tân An (CL06)" in zalo.said() and "Đỗ Văn Tư" in zalo.said()
    agent_id = ids[AGENT]
    await zalo.press_label(f"Đỗ Văn Tư (#{agent_id})")
    assert zalo.labels() == ["Đổi thành tổ trưởng", "Đổi thành cán bộ phụ trách", "⛔ Ngừng hoạt động"]
    await zalo.press_label("Đổi thành tổ trưởng")
    assert zalo.said().startswith("✅ Đã cập nhật.\n👤 Đỗ Văn Tư") and "Vai trò: tổ trưởng" in zalo.said()
    await zalo.press_label("⛔ Ngừng hoạt động")
    assert zalo.labels() == ["⛔ Xác nhận ngừng", "✖️ Huỷ"]
    await zalo.press_label("⛔ Xác nhận ngừng")
    assert zalo.said() == f"Đã ngừng hoạt động Đỗ Văn Tư (#{agent_id}). Việc này được ghi lại."
    member = await world.services.members.get(agent_id)
    assert member is not None and not member.active and member.role == Role.TEAM_LEADER
    audit = await world.services.storage.db.fetchall(
        "SELECT action, actor_channel FROM member_events WHERE member_id = ? AND action != 'created' ORDER BY id",
        (agent_id,),
    )
    assert [tuple(row) for row in audit] == [("role_changed", ZALO_OA), ("deactivated", ZALO_OA)]
    # Officials manage below their level only, and never themselves.
    await zalo.text(f"/suatv {ids[TAN_AN]} agent")
    assert "chỉ cán bộ phụ trách hoặc quản trị viên" in zalo.said()
    await zalo.text(f"/suatv {ids[LEADER]} CL07")
    assert "Không tìm thấy đơn vị" in zalo.said()


async def test_members_pages_and_coverage(world: FlowWorld) -> None:
    await seed_org(world.services)
    admin = world.chat(ADMIN, first_name="Admin")
    await admin.text("/thanhvien")
    assert "tất cả đơn vị" in admin.said() and "trang 1/" in admin.said()
    await admin.text("/baophu")
    assert "BHYT: 132.600/148.806 = 89,11% · chỉ tiêu 95% · đạt 93,80% · còn 8.766" in admin.said()
    (cover,) = admin.replies()
    assert [r.text for r in cover.text.runs if r.style.bold] == ["Bao phủ · Huyện Càng Long"]
