"""The membership flow through the conversation core, without any chat platform.

Invites made on one channel are used on another; a membership belongs to the channel of the
person who typed the code (a Zalo person who joins is not a member on Telegram under the same
integer id); forged /moi buttons and junk arguments are answered and change nothing.
"""

from __future__ import annotations

import pytest

from bot.chat.commands import BUTTON_NOT_ALLOWED
from bot.chat.model import Alert, Menu, Reply
from bot.chat.rich import t
from bot.chat.texts.organisation import INVALID_CODE
from bot.domain.roles import Role
from tests.flow_harness import FlowWorld, RecordingChat
from tests.test_e2e_membership import AGENT, TAN_AN, code_in, seed_org

pytestmark = pytest.mark.asyncio

ZALO_ID = "8457962349872349234"  # 19 digits, as Zalo user ids are
ZALO_OA = "zalo_oa"


async def _counts(world: FlowWorld) -> tuple[int, ...]:
    db = world.services.storage.db
    return tuple(
        [
            int(await db.fetchval(f"SELECT COUNT(*) FROM {table}"))
            for table in ("invites", "members", "member_events", "team_rosters")
        ]
    )


async def _user_id(world: FlowWorld, chat: RecordingChat) -> int:
    value = await world.services.storage.db.fetchval(
        "SELECT id FROM chat_identities WHERE channel = ? AND external_id = ?", (chat.person.channel, chat.person.id)
    )
    assert value is not None
    return int(value)


async def test_an_invite_used_on_zalo_gives_the_role_on_zalo_only(world: FlowWorld) -> None:
    await seed_org(world.services)
    official = world.chat(TAN_AN, first_name="Hồng")
    await official.text("/moi agent CL06 CL06-NHOM1")
    (made,) = official.replies()
    assert not made.replace_pressed and "Xã Tân An (CL06)" in made.text.plain and "Nhóm 1" in made.text.plain
    code = code_in(made.text.plain)

    zalo = world.chat(ZALO_ID, channel=ZALO_OA, first_name="Sáu <b>")
    await zalo.text(f"/thamgia {code}")
    said = zalo.said()
    assert "Chào mừng Sáu <b>! Bạn đã là người vận động của Xã Tân An (CL06)." in said and "/ghi" in said
    (menu,) = zalo.menus()  # the new role's commands, sent once
    assert "ghi" in [command for command, _ in menu.entries]
    user_id = await _user_id(world, zalo)
    member = await world.services.members.by_user(user_id, ZALO_OA)
    assert member is not None and member.role == Role.AGENT and member.unit_code == "CL06"
    assert member.channel == ZALO_OA
    assert await world.services.members.by_user(user_id, "telegram") is None
    await zalo.text("/vaitro")
    assert "Bạn là người vận động · Xã Tân An (CL06)." in zalo.said() and "Nhóm 1" in zalo.said()
    assert not zalo.menus()  # unchanged role: no menu again

    # The same integer id on Telegram is somebody else: still a citizen, who may join there.
    same_number = world.chat(user_id, first_name="Khác")
    await same_number.text("/vaitro")
    assert "người dân" in same_number.said()
    await same_number.text(f"/thamgia {code}")
    assert same_number.said() == INVALID_CODE  # the code was used on Zalo
    assert await world.services.members.by_user(user_id, "telegram") is None


async def test_guided_invite_from_a_zalo_official_and_claiming_a_roster_name(world: FlowWorld) -> None:
    await seed_org(world.services)
    admin = world.chat(900001, first_name="Admin")
    await admin.text("/moi canbo CL06")
    zalo = world.chat(ZALO_ID, channel=ZALO_OA, first_name="Hà")
    await zalo.text(f"/thamgia {code_in(admin.said())}")
    assert "cán bộ phụ trách của Xã Tân An (CL06)" in zalo.said()

    await zalo.text("/moi")
    assert zalo.labels() == ["Người vận động", "Tổ trưởng", "Cán bộ phụ trách"]
    assert "Mời người tham gia với vai trò nào?" in zalo.said() and "/moi VAI_TRÒ MÃ_ĐƠN_VỊ [MÃ_NHÓM]" in zalo.said()
    await zalo.press_label("Người vận động")
    (units,) = zalo.replies()
    assert units.replace_pressed and zalo.labels() == ["CL06 · Xã Tân An"]
    await zalo.press_label("CL06 · Xã Tân An")
    assert zalo.labels() == ["Nhóm 1 (CL06-NHOM1)", "Nhóm 2 (CL06-NHOM2)", "Không vào nhóm nào"]
    await zalo.press_label("Nhóm 1 (CL06-NHOM1)")
    assert "Huỳnh Thị Ngọc" in zalo.labels() and zalo.labels()[-1] == "➕ Người mới"
    assert all(len((b.payload or "").encode()) <= 64 for b in zalo.buttons())  # Telegram's limit too
    placeholder = await world.services.storage.db.fetchval("SELECT id FROM members WHERE full_name = 'Huỳnh Thị Ngọc'")
    await zalo.press_label("Huỳnh Thị Ngọc")
    assert "Dành cho: Huỳnh Thị Ngọc" in zalo.said() and zalo.labels() == []
    creator = await world.services.storage.db.fetchval("SELECT channel FROM invites WHERE member_id IS NOT NULL")
    assert creator == ZALO_OA

    before = await _counts(world)
    ngoc = world.chat(700123, first_name="Ngọc")
    await ngoc.text(f"/thamgia {code_in(zalo.outputs[-1].text.plain)}")  # type: ignore[union-attr]
    assert "người vận động" in ngoc.said()
    member = await world.services.members.by_user(700123, "telegram")
    assert member is not None and member.id == placeholder  # claimed, not duplicated
    assert (await _counts(world))[1] == before[1]


async def test_forged_invite_buttons_and_junk_change_nothing(world: FlowWorld) -> None:
    await seed_org(world.services)
    official = world.chat(TAN_AN, first_name="Hồng")
    before = await _counts(world)
    forged = (
        "iv|u|a|CL07", "iv|t|a|CL07|0", "iv|m|a|CL07|0|0", "iv|m|z|CL06|0|0", "iv|x", "iv|t|a|CL06|abc",
        "iv|", "iv|r|a|CL06|0|0|0|0", "iv|m|a|CL06|0|①", "iv|m|a|CL06|0|" + "9" * 20, "iv|u|a|<b>", "iv|q|a|CL06",
    )
    for payload in forged:
        await official.press(payload)
        (answer,) = official.replies()
        assert answer.replace_pressed and "Mã mời" not in answer.text.plain, payload
        assert "Tân Bình" not in answer.text.plain, payload
    for line in ("/moi quantri CL06", "/moi agent " + "😀" * 3000, "/moi agent <b>", "/moi agent"):
        await official.text(line)
        assert official.said().startswith("Bot chưa hiểu lệnh."), line
    await official.text("/moi agent CL07")
    assert "Không tìm thấy đơn vị CL07 trong phạm vi của bạn" in official.said()
    await official.text("/moi agent CL06 CL07-NHOM1")
    assert "Không tìm thấy nhóm" in official.said()
    assert await _counts(world) == before


async def test_an_agent_and_a_zalo_citizen_cannot_press_invite_buttons(world: FlowWorld) -> None:
    await seed_org(world.services)
    before = await _counts(world)
    for chat in (world.chat(AGENT, first_name="Tư"), world.chat(ZALO_ID, channel=ZALO_OA)):
        for payload in ("iv|r|a", "iv|m|a|CL06|0|0", "iv|t|a|CL06|0"):
            await chat.press(payload)
            answered = [o for o in chat.last if not isinstance(o, Menu)]  # a member's first turn shows a menu
            assert answered == [Alert(BUTTON_NOT_ALLOWED), Reply(t(BUTTON_NOT_ALLOWED))], payload
        await chat.text("/moi agent CL06")
        assert "Mã mời" not in chat.said()
    assert await _counts(world) == before


async def test_join_usage_wrong_codes_and_a_throttle_per_channel(world: FlowWorld) -> None:
    await seed_org(world.services)
    zalo = world.chat(ZALO_ID, channel=ZALO_OA, first_name="Lan")
    await zalo.text("/thamgia")
    assert "/thamgia ABCDE-FGHJK" in zalo.said() and "Chưa có mã?" in zalo.said()
    before = await _counts(world)
    for junk in ("😀😀😀", "ABCDE-FGHJK", "<b>x</b>", "X" * 5000, "1 2 3"):
        await zalo.text(f"/thamgia {junk}")
        assert zalo.said() == INVALID_CODE, junk
    await zalo.text("/thamgia ABCDE-FGHJK")
    assert "sai mã nhiều lần" in zalo.said() and "60 phút" in zalo.said()
    # The failures were counted for the Zalo person only.
    telegram = world.chat(await _user_id(world, zalo))
    await telegram.text("/thamgia ABCDE-FGHJK")
    assert telegram.said() == INVALID_CODE
    assert (await _counts(world))[:2] == before[:2]
    assert not [o for o in zalo.outputs if isinstance(o, Menu)]  # nobody's role changed


async def test_admin_and_roles_answer_vaitro(world: FlowWorld) -> None:
    await seed_org(world.services)
    admin = world.chat(900001, first_name="Admin")
    await admin.text("/vaitro")
    assert "Bạn là quản trị · toàn bộ các đơn vị." in admin.said() and "/moi tạo mã mời" in admin.said()
    await admin.text("/thamgia ABCDE-FGHJK")
    assert "quản trị viên nên không cần mã mời" in admin.said()
    agent = world.chat(AGENT, first_name="Tư")
    await agent.text("/thamgia ABCDE-FGHJK")
    assert "Bạn đã là người vận động của Xã Tân An rồi" in agent.said()
    # An admin id on Zalo is not an admin: admin rights are granted to Telegram ids only.
    zalo = world.chat("900001", channel=ZALO_OA)
    await zalo.text("/vaitro")
    assert "người dân" in zalo.said()
