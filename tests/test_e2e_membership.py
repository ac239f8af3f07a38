"""Joining end to end: /moi and /thamgia through the real Application and the emulator."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.chat.texts.organisation import CITIZEN_REFUSAL, INVALID_CODE
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from bot.imports.organisation import import_teams, import_units, sample_bytes
from bot.services import Services
from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import ADMIN_ID, BotHarness

pytestmark = pytest.mark.asyncio

DISTRICT = 910001  # official of Huyện Càng Long (CL)
TAN_AN = 910002  # official of Xã Tân An (CL06): "commune A"
TAN_BINH = 910003  # official of Xã Tân Bình (CL07): "commune B"
AGENT = 910004  # agent of CL06
LEADER = 910005  # team leader of CL06
CODE_RE = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b")
_next = iter(range(920_000, 929_999))


async def seed_org(services: Services) -> dict[int, int]:
    """The sample trees and roster, and one person per role; returns user id -> member id."""
    for name in ("units_cang_long.csv", "units_ngoc_phung.csv"):
        await import_units(name, services.units, services.clock, data=sample_bytes(name))
    await import_teams("t.csv", services.units, services.teams, services.clock, data=sample_bytes("teams_cang_long.csv"))
    ids = {}
    for user_id, name, role, unit in [
        (DISTRICT, "Trần Minh Đức", Role.OFFICIAL, "CL"),
        (TAN_AN, "Lê Thị Hồng", Role.OFFICIAL, "CL06"),
        (TAN_BINH, "Võ Văn Bảy", Role.OFFICIAL, "CL07"),
        (AGENT, "Đỗ Văn Tư", Role.AGENT, "CL06"),
        (LEADER, "Mai Thị Năm", Role.TEAM_LEADER, "CL06"),
    ]:
        ids[user_id] = await services.members.add(
            full_name=name, role=role, unit_code=unit, actor=CLI_ACTOR, at=services.clock.now(), user_id=user_id, channel="telegram"
        )
    return ids


@pytest.fixture
async def org(harness: BotHarness) -> BotHarness:
    await seed_org(harness.services)
    return harness


def code_in(text: str) -> str:
    match = CODE_RE.search(text)
    assert match, text
    return match.group(0)


async def member_count(services: Services) -> int:
    return int(await services.storage.db.fetchval("SELECT COUNT(*) FROM members"))


async def test_an_agent_joins_with_a_code_typed_on_one_line(org: BotHarness, emulator: BotApiEmulator) -> None:
    official = emulator.user(TAN_AN, first_name="Hồng")
    reply = await official.ask("/moi agent CL06 CL06-NHOM1")
    text = reply.plain_text
    assert "Mã mời" in text and "người vận động" in text and "Xã Tân An (CL06)" in text and "Nhóm 1" in text
    assert "26/11/2026" in text  # 72 hours from 23/11/2026 09:00
    code = code_in(text)
    newcomer = emulator.user(next(_next), first_name="Sáu", last_name="Nguyễn <b>")
    welcome = await newcomer.ask(f"/thamgia {code}")
    assert "Chào mừng Sáu Nguyễn <b>!" in welcome.plain_text  # escaped, shown as typed
    assert "người vận động của Xã Tân An (CL06)" in welcome.plain_text and "/ghi" in welcome.plain_text
    role = await newcomer.ask("/vaitro")
    assert "người vận động" in role.plain_text and "Nhóm 1" in role.plain_text
    member = await org.services.members.by_user(newcomer.id, channel="telegram")
    assert member is not None and member.role == Role.AGENT and member.unit_code == "CL06"
    # The same code a second time: the answer of a code that never existed.
    other = emulator.user(next(_next), first_name="Bảy")
    assert (await other.ask(f"/thamgia {code}")).plain_text == INVALID_CODE
    assert await org.services.members.by_user(other.id, channel="telegram") is None


async def test_guided_invite_with_buttons_claims_a_roster_member(org: BotHarness, emulator: BotApiEmulator) -> None:
    official = emulator.user(TAN_AN, first_name="Hồng")
    first = await official.ask("/moi")
    assert first.button_texts == ["Người vận động", "Tổ trưởng", "Cán bộ phụ trách"]
    await official.press("Người vận động")
    (units,) = await official.replies()
    assert units.button_texts == ["CL06 · Xã Tân An"]  # commune A only
    await official.press("CL06 · Xã Tân An")
    (teams,) = await official.replies()
    assert teams.button_texts == ["Nhóm 1 (CL06-NHOM1)", "Nhóm 2 (CL06-NHOM2)", "Không vào nhóm nào"]
    await official.press("Nhóm 1 (CL06-NHOM1)")
    (people,) = await official.replies()
    assert "Huỳnh Thị Ngọc" in people.button_texts and people.button_texts[-1] == "➕ Người mới"
    assert all(len((d or "").encode()) < 64 for d in people.callback_datas)
    placeholder = await org.services.storage.db.fetchval("SELECT id FROM members WHERE full_name = 'Huỳnh Thị Ngọc'")
    await official.press("Huỳnh Thị Ngọc")
    (made,) = await official.replies()
    assert "Dành cho: Huỳnh Thị Ngọc" in made.plain_text and made.button_texts == []
    count = await member_count(org.services)
    ngoc = emulator.user(next(_next), first_name="Ngọc")
    welcome = await ngoc.ask(f"/thamgia {code_in(made.plain_text)}")
    assert "người vận động" in welcome.plain_text
    member = await org.services.members.by_user(ngoc.id, channel="telegram")
    assert member is not None and member.id == placeholder and member.full_name == "Huỳnh Thị Ngọc"
    assert await member_count(org.services) == count  # claimed, not duplicated


async def test_expired_used_and_guessed_codes_change_nothing(org: BotHarness, emulator: BotApiEmulator) -> None:
    official = emulator.user(DISTRICT, first_name="Đức")
    code = code_in((await official.ask("/moi totruong CL07")).plain_text)
    used = code_in((await official.ask("/moi agent CL07")).plain_text)
    first = emulator.user(next(_next), first_name="Một")
    assert "Chào mừng" in (await first.ask(f"/thamgia {used}")).plain_text
    before = await member_count(org.services)
    org.clock.advance(timedelta(hours=72, seconds=1))
    late = emulator.user(next(_next), first_name="Trễ")
    answers = {
        (await late.ask(f"/thamgia {code}")).plain_text,  # expired
        (await late.ask(f"/thamgia {used}")).plain_text,  # used
        (await late.ask("/thamgia ABCDE-FGHJK")).plain_text,  # guessed
        (await late.ask("/thamgia 😀😀😀")).plain_text,  # not even a code
    }
    assert answers == {INVALID_CODE}
    assert await member_count(org.services) == before
    assert await org.services.storage.db.fetchval("SELECT COUNT(*) FROM invites WHERE used_at IS NULL") == 1
    # A fifth failure, then the throttle, whatever is typed.
    assert (await late.ask("/thamgia " + "X" * 5000)).plain_text == INVALID_CODE
    throttled = (await late.ask(f"/thamgia {code}")).plain_text
    assert "sai mã nhiều lần" in throttled and "60 phút" in throttled
    assert await member_count(org.services) == before


async def test_citizen_and_agent_get_polite_refusals(org: BotHarness, emulator: BotApiEmulator) -> None:
    citizen = emulator.user(next(_next), first_name="Lan")
    for command in ("/moi", "/moi agent CL06", "/donvi", "/thanhvien", "/suatv 1 agent", "/xoatv 1", "/baophu CL"):
        reply = await citizen.ask(command)
        assert reply.plain_text == CITIZEN_REFUSAL, command
    assert "người dân" in (await citizen.ask("/vaitro")).plain_text
    assert "/thamgia" in (await citizen.ask("/thamgia")).plain_text
    agent = emulator.user(AGENT, first_name="Tư")
    refusal = (await agent.ask("/moi agent CL06")).plain_text
    assert "chỉ cán bộ phụ trách hoặc quản trị viên" in refusal and "người vận động" in refusal
    assert "đã là người vận động của Xã Tân An" in (await agent.ask("/thamgia ABCDE-FGHJK")).plain_text
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    assert "quản trị viên" in (await admin.ask("/thamgia ABCDE-FGHJK")).plain_text


async def test_official_of_commune_a_cannot_invite_for_commune_b(org: BotHarness, emulator: BotApiEmulator) -> None:
    official = emulator.user(TAN_AN, first_name="Hồng")
    for command in ("/moi agent CL07", "/moi agent CL", "/moi agent NP01"):
        text = (await official.ask(command)).plain_text
        assert "Không tìm thấy đơn vị" in text and "phạm vi" in text, command
    text = (await official.ask("/moi agent CL06 CL07-NHOM1")).plain_text
    assert "Không tìm thấy nhóm" in text
    # Forged buttons get nothing more than typing.
    for forged in ("iv|u|a|CL07", "iv|t|a|CL07|0", "iv|m|a|CL07|0|0", "iv|m|z|CL06|0|0", "iv|x", "iv|t|a|CL06|abc"):
        menu = await official.ask("/moi")
        await official.press_data(menu.message_id, forged)
        (answer,) = await official.replies()
        assert "Mã mời" not in answer.plain_text, forged
    assert await org.services.storage.db.fetchval("SELECT COUNT(*) FROM invites") == 0
    # Usage help for a malformed line, and roles above one's own are refused.
    assert "Bot chưa hiểu lệnh" in (await official.ask("/moi quantri CL06")).plain_text
    assert "Bot chưa hiểu lệnh" in (await official.ask("/moi agent " + "😀" * 3000)).plain_text
    leader = emulator.user(LEADER, first_name="Năm")
    assert "chỉ cán bộ phụ trách" in (await leader.ask("/moi agent CL06")).plain_text


async def test_district_official_and_admin_invite_below_and_at_their_level(org: BotHarness, emulator: BotApiEmulator) -> None:
    district = emulator.user(DISTRICT, first_name="Đức")
    text = (await district.ask("/moi canbo CL07")).plain_text
    assert "cán bộ phụ trách · Xã Tân Bình (CL07)" in text
    text = (await district.ask("/moi agent CL06 Nhóm 2")).plain_text  # team by name
    assert "Nhóm 2 (CL06-NHOM2)" in text
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    text = (await admin.ask("/moi canbo NP")).plain_text
    code = code_in(text)
    newcomer = emulator.user(next(_next), first_name="Phụng")
    assert "cán bộ phụ trách của Xã Ngọc Phụng (NP)" in (await newcomer.ask(f"/thamgia {code}")).plain_text
    assert "/moi tạo mã mời" in (await newcomer.ask("/vaitro")).plain_text
