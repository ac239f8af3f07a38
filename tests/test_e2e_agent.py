"""Agents end to end: the real Application <-> emulator over HTTP, a real SQLite file.

Logging by the guided flow and by one-liners, duplicates, withdrawals, voids, tallies, the
monthly form, scopes between communes, a citizen's refusal, bad input at every step, and a
half-finished entry surviving a restart.
"""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest

from bot.domain.clock import ManualClock
from bot.reports.monthly_xlsx import HEADER_ROW, TOTAL_LABEL
from devtools.telegram_emulator import BotApiEmulator, EmulatedUser
from tests.agent_world import (
    AN,
    BINH,
    CITIZEN_ID,
    CUONG,
    DISTRICT,
    LEADER,
    OFFICIAL_A,
    OFFICIAL_B,
    Person,
    World,
    seed_world,
)
from tests.conftest import ADMIN_ID, DEFAULT_NOW, BotHarness

CONFIRM = "✅ Xác nhận"


@pytest.fixture
async def world(harness: BotHarness) -> World:
    return await seed_world(harness.services, DEFAULT_NOW)


def speak_as(emulator: BotApiEmulator, person: Person) -> EmulatedUser:
    return emulator.user(person.user_id, first_name=person.name.split()[-1])


async def rows(harness: BotHarness, status: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM enrolments" + (" WHERE status = ?" if status else "")
    return int(await harness.services.storage.db.fetchval(sql, (status,) if status else ()))


async def log_line(user: EmulatedUser, line: str) -> str:
    card = await user.ask(f"/ghi {line}")
    assert "Kiểm tra lại trước khi ghi" in card.plain_text, card.plain_text
    await user.press(CONFIRM)
    (done,) = await user.replies()
    assert done.plain_text.startswith("Đã ghi"), done.plain_text
    return card.plain_text


ONE_LINERS: list[tuple[str, str]] = [
    ("bhyt Nguyễn Văn An 8423001234 12 tháng", "BHYT hộ gia đình · Nguyễn Văn An · mã 8423001234 · 12 tháng · 1.366.200 đ (người thứ 1)"),
    ("bhxh Trần Thị Bình 8423005678 2tr 12 tháng người thân", "4.488.000 đ (Người dân khác)"),
    ("BHYT hộ gia đình Hồ Văn Nam 8423001235 12 tháng người thứ 2", "956.340 đ (người thứ 2)"),
    ("bhyt hgd le thi thang 8423001236 3 thang", "Le Thi Thang · mã 8423001236 · 3 tháng · 341.550 đ"),
    ("bhyt cận nghèo Lê Thị Cúc 8423009999 6 tháng", "BHYT được hỗ trợ · Lê Thị Cúc · mã 8423009999 · 6 tháng · 204.930 đ (Hộ cận nghèo)"),
    ("bhxh tự nguyện Nguyễn Văn Tư 8423005679 1,5 triệu hằng tháng hộ cận nghèo", "hằng tháng · thu nhập 1.500.000 đ · 198.000 đ (Hộ cận nghèo)"),
    ("bhxh tn Pham Thi Hoa 001203004567 3tr 1 năm", "mã 001203004567 · 12 tháng · thu nhập 3.000.000 đ · 7.128.000 đ"),
    ("bhyt Nguyễn Văn Bảy mã số 8423001237 12 tháng thu 1.300.000 lý do xã hỗ trợ thêm", "Thực thu: 1.300.000 đ · lý do: xã hỗ trợ thêm"),
    ("bhyt 8423001238 Đỗ Thị Na 6 tháng", "Đỗ Thị Na · mã 8423001238 · 6 tháng · 683.100 đ"),
    ("bhyt học sinh Lò Vinh Quang 8423001239 12 tháng", "683.100 đ (Học sinh, sinh viên)"),
    ("bhxh Văn Hà Thu 8423001240 5 triệu 6 tháng dân tộc thiểu số người thân", "6.006.000 đ (Người dân tộc thiểu số)"),
    ("BHYT NGO THI PHUONG 8423001242 12t nguoi than", "Ngo Thi Phuong · mã 8423001242 · 12 tháng · 1.366.200 đ"),
    ("bhyt Tạ Thị Yến 001203004999 nửa năm người thứ 3", "6 tháng · 409.860 đ (người thứ 3)"),
    ("bảo hiểm y tế hộ gia đình Đinh Thị Trang 8423001244 1 năm người thứ 5", "12 tháng · 546.480 đ (người thứ 5)"),
]


async def test_one_line_phrasings(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    agent = speak_as(emulator, AN)
    for line, expected in ONE_LINERS:
        card = await log_line(agent, line)
        assert expected in card, (line, card)
    assert await rows(harness) == len(ONE_LINERS) == 14
    me = await agent.ask("/toi")
    assert "Đã vận động 14 người (BHYT 10, BHXH tự nguyện 4)" in me.plain_text
    assert "✅ đã đạt" in me.plain_text and "Tổ 1: thứ 1/2" in me.plain_text
    relatives = await harness.services.storage.db.fetchval("SELECT COUNT(*) FROM enrolments WHERE is_relative = 1")
    assert relatives == 3


async def test_start_tells_a_member_their_role_under_the_greeting(
    harness: BotHarness, emulator: BotApiEmulator, world: World
) -> None:
    """/start is the citizens' calculator for everyone; a member is also told their role and
    where their own commands are, rather than only the calculator's menu."""
    hello = await speak_as(emulator, AN).ask("/start")
    assert hello.plain_text.startswith("Chào ")
    assert "Bạn đang dùng bot với vai trò người vận động: /ghi ghi người tham gia mới" in hello.plain_text
    assert "/vaitro" in hello.plain_text
    assert "🏥 BHYT hộ gia đình" in hello.button_texts


async def test_guided_flow_with_edits_and_a_reason(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    agent = speak_as(emulator, AN)
    ask = await agent.ask("/ghi")
    assert ask.button_texts[:3] == ["BHYT hộ gia đình", "BHYT được hỗ trợ", "BHXH tự nguyện"]
    await agent.press("BHYT hộ gia đình")
    (name_q,) = await agent.replies()
    assert "Họ và tên" in name_q.plain_text
    code_q = await agent.ask("trần văn cường")
    assert "Mã số BHXH (10 chữ số) hoặc số CCCD (12 chữ số) của Trần Văn Cường" in code_q.plain_text
    months_q = await agent.ask("8423007777")
    assert months_q.button_texts == ["3 tháng", "6 tháng", "12 tháng", "✖️ Huỷ"]
    await agent.press("12 tháng")
    (position_q,) = await agent.replies()
    assert "người thứ mấy" in position_q.plain_text
    await agent.press("Người thứ 2")
    (relative_q,) = await agent.replies()
    assert "người thân của bạn" in relative_q.plain_text
    await agent.press("Không phải người thân")
    (card,) = await agent.replies()
    assert "Trần Văn Cường · mã 8423007777 · 12 tháng · 956.340 đ (người thứ 2)" in card.plain_text
    assert card.button_texts == [CONFIRM, "✏️ Sửa", "✖️ Huỷ"]

    await agent.press("✏️ Sửa")
    (edit_q,) = await agent.replies()
    assert "Họ tên" in edit_q.button_texts and "Số tiền đã thu" in edit_q.button_texts
    await agent.press("Họ tên")
    (_,) = await agent.replies()
    card = await agent.ask("Trần Văn Cường Em")
    assert "Trần Văn Cường Em · mã 8423007777" in card.plain_text

    await agent.press("✏️ Sửa")
    await agent.replies()
    await agent.press("Số tiền đã thu")
    (paid_q,) = await agent.replies()
    assert "956.340 đ" in paid_q.plain_text
    bad = await agent.ask("một ít")
    assert "Số tiền chưa đúng" in bad.plain_text
    reason_q = await agent.ask("900k")
    assert "900.000 đ khác mức tính theo quy định 956.340 đ" in reason_q.plain_text
    card = await agent.ask("hộ được xã hỗ trợ thêm")
    assert "Thực thu: 900.000 đ · lý do: hộ được xã hỗ trợ thêm" in card.plain_text
    await agent.press(CONFIRM)
    (done,) = await agent.replies()
    assert "Đã ghi" in done.plain_text and "/huy trong 24 giờ" in done.plain_text
    stored = await harness.services.storage.db.fetchone(
        "SELECT participant_name, amount_expected, amount_paid, amount_reason, household_position FROM enrolments"
    )
    assert tuple(stored) == ("Trần Văn Cường Em", 956_340, 900_000, "hộ được xã hỗ trợ thêm", 2)
    # The pressed card lost its buttons: pressing it again changes nothing.
    assert await rows(harness) == 1


async def test_one_liner_missing_values_continue_as_guided_flow(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    agent = speak_as(emulator, AN)
    ask = await agent.ask("/ghi bhxh Trần Thị Bình 8423005678 hằng tháng")
    assert "Mức thu nhập Trần Thị Bình chọn đóng" in ask.plain_text
    low = await agent.ask("800k")
    assert "thấp nhất là 1.500.000 đ" in low.plain_text and "Mức thu nhập" in low.plain_text
    card = await agent.ask("1tr5")
    assert "264.000 đ (Người dân khác)" in card.plain_text
    no_code = await agent.ask("/ghi bhyt Nguyễn Văn An 842300123 12 tháng")
    assert "Mã bạn gõ có 9 chữ số" in no_code.plain_text and "Mã số BHXH" in no_code.plain_text
    card = await agent.ask("8423001234")
    assert "Nguyễn Văn An · mã 8423001234 · 12 tháng" in card.plain_text


async def test_half_finished_entry_survives_a_restart(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    agent = speak_as(emulator, AN)
    await agent.ask("/ghi")
    await agent.press("BHXH tự nguyện")
    await agent.replies()
    await agent.ask("Lò Thị Mai")
    await harness.restart()
    months_q = await agent.ask("8423006666")
    assert "BHXH tự nguyện · Lò Thị Mai · mã 8423006666" in months_q.plain_text
    assert "Phương thức đóng" in months_q.plain_text


async def test_bad_input_at_every_step_writes_nothing(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    agent = speak_as(emulator, AN)
    too_long = await agent.ask("/ghi " + "x" * 10_000)
    assert "dài quá" in too_long.plain_text
    ask = await agent.ask("/ghi")
    scheme_msg = ask.message_id
    # Forged and stale callback data on the scheme question.
    for data in ("g:s:z", "g:zz", "g:" + "9" * 60, "g:s:h:x", "g:e:name"):
        await agent.press_data(scheme_msg, data)
        (answer,) = await agent.replies()
        assert "Nút không hợp lệ" in answer.plain_text or "câu hỏi trước" in answer.plain_text, data
    for data in ("g:m:12", "g:ok", "g:r:1"):
        await agent.press_data(scheme_msg, data)
        (answer,) = await agent.replies()
        assert "Nút này thuộc một câu hỏi trước" in answer.plain_text, data
    await agent.press("BHYT hộ gia đình")
    await agent.replies()
    for text, fragment in [
        ("Nguyễn 123", "chỉ gồm chữ cái"),
        ("😀😀😀", "chỉ gồm chữ cái"),
        ("An", "ít nhất 2 chữ"),
        ("x" * 10_000, "dài quá"),
        ("<b>Nguyễn</b> An", "chỉ gồm chữ cái"),
    ]:
        reply = await agent.ask(text)
        assert fragment in reply.plain_text, (text, reply.plain_text)
    await agent.ask("Nguyễn Văn An")
    for text, fragment in [("842300123", "9 chữ số"), ("abcdefghij", "chỉ gồm chữ số"), ("8423-001-23", "9 chữ số")]:
        reply = await agent.ask(text)
        assert fragment in reply.plain_text, (text, reply.plain_text)
    months_q = await agent.ask("8423001234")
    reply = await agent.ask("5 tháng")
    assert "3, 6, 12 tháng" in reply.plain_text
    await agent.press_data(months_q.message_id, "g:m:7")
    (answer,) = await agent.replies()
    assert "Nút không hợp lệ" in answer.plain_text
    await agent.ask("12 tháng")
    reply = await agent.ask("abc")
    assert "người thứ mấy" in reply.plain_text
    await agent.press_data(reply.message_id, "g:p:99")
    (answer,) = await agent.replies()
    assert "Nút không hợp lệ" in answer.plain_text
    await agent.send_document("the.jpg", b"\xff\xd8", "image/jpeg")
    (answer,) = await agent.replies()
    assert "chỉ đọc được chữ" in answer.plain_text
    await agent.press("✖️ Huỷ")
    (cancelled,) = await agent.replies()
    assert "Đã huỷ, không ghi gì" in cancelled.plain_text
    # A button of the finished draft, pressed later.
    await agent.press_data(months_q.message_id, "g:m:12")
    (stale,) = await agent.replies()
    assert "đã xong hoặc đã huỷ" in stale.plain_text
    # Forged withdraw buttons.
    for data in ("eh:w:abc", "eh:w:1", "eh:x"):
        await agent.press_data(months_q.message_id, data)
        (answer,) = await agent.replies()
        assert "Không huỷ được" in answer.plain_text or "không còn" in answer.plain_text or "đã xong" in answer.plain_text
    assert await rows(harness) == 0
    # After all that, a clean entry still works.
    await log_line(agent, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert await rows(harness) == 1


async def test_duplicate_is_refused_with_the_other_agent_masked(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    await log_line(speak_as(emulator, AN), "bhyt Nguyễn Văn An 8423001234 12 tháng")
    same_unit = speak_as(emulator, BINH)
    await same_unit.ask("/ghi bhyt Nguyễn Văn An 8423001234 6 tháng")
    await same_unit.press(CONFIRM)
    (refused,) = await same_unit.replies()
    assert refused.plain_text == (
        "Mã 8423001234 đã được ghi BHYT ngày 23/11/2026 tại Xã Tân An (người ghi: Nguyễn T. Hoa), "
        "thẻ đến 22/11/2027. Không ghi lại để số liệu không bị tính trùng."
    )
    assert await rows(harness) == 1


async def test_duplicate_from_another_area_reveals_nothing_of_it(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    """An agent of Xã Mỹ Cẩm typing a code logged in Xã Tân An learns only that it is taken."""
    await log_line(speak_as(emulator, AN), "bhyt Nguyễn Văn An 8423001234 12 tháng")
    other = speak_as(emulator, CUONG)
    await other.ask("/ghi bhyt Nguyễn Văn An 8423001234 6 tháng")
    await other.press(CONFIRM)
    (refused,) = await other.replies()
    assert refused.plain_text == (
        "Mã này đã được ghi nhận trước đó, không ghi lại để tránh tính trùng. "
        "Nếu bạn nghĩ có nhầm lẫn, hãy báo cán bộ phụ trách."
    )
    for detail in ("23/11/2026", "22/11/2027", "Tân An", "Hoa", "Nguyễn T."):
        assert detail not in refused.plain_text
    assert await rows(harness) == 1
    # The district official above both communes still gets the details.
    district = speak_as(emulator, DISTRICT)
    await district.ask("/ghi bhyt Nguyễn Văn An 8423001234 6 tháng")
    await district.press(CONFIRM)
    (detailed,) = await district.replies()
    assert "đã được ghi BHYT ngày 23/11/2026 tại Xã Tân An" in detailed.plain_text
    assert await rows(harness) == 1


async def test_withdraw_moves_the_tallies(harness: BotHarness, emulator: BotApiEmulator, world: World, clock: ManualClock) -> None:
    agent = speak_as(emulator, AN)
    await log_line(agent, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    await log_line(agent, "bhxh Trần Thị Bình 8423005678 2tr hằng tháng")
    assert "Đã vận động 2 người" in (await agent.ask("/toi")).plain_text
    question = await agent.ask("/huy")
    assert "Trần Thị Bình" in question.plain_text
    assert question.button_texts == ["Huỷ bản ghi này", "Không, giữ lại"]
    await agent.press("Huỷ bản ghi này")
    (done,) = await agent.replies()
    assert "Đã huỷ bản ghi số 2" in done.plain_text and "còn 1 người" in done.plain_text
    assert "Đã vận động 1 người (BHYT 1, BHXH tự nguyện 0)" in (await agent.ask("/toi")).plain_text
    question = await agent.ask("/huy")
    assert "Nguyễn Văn An" in question.plain_text
    await agent.press("Không, giữ lại")
    (kept,) = await agent.replies()
    assert "giữ nguyên" in kept.plain_text
    # An open draft: /huy drops the draft, not the stored entry.
    await agent.ask("/ghi bhyt")
    dropped = await agent.ask("/huy")
    assert "Đã bỏ bản nháp" in dropped.plain_text
    clock.advance(timedelta(hours=25))
    late = await agent.ask("/huy")
    assert "không có bản ghi nào trong 24 giờ qua" in late.plain_text
    assert await rows(harness) == 2 and await rows(harness, "active") == 1


async def test_official_voids_in_scope_and_scopes_stay_apart(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    await log_line(speak_as(emulator, AN), "bhyt Nguyễn Văn An 8423001234 12 tháng")
    await log_line(speak_as(emulator, CUONG), "bhyt Lê Văn Năm 8423000004 6 tháng")
    entry_id = await harness.services.storage.db.fetchval("SELECT id FROM enrolments WHERE unit_code = 'CL01'")
    official_b = speak_as(emulator, OFFICIAL_B)
    board = (await official_b.ask("/bangxephang")).plain_text
    assert "Lê Văn Tài" in board and "Hoa" not in board and "Tân An" not in board
    assert "not" not in board and "8423" not in board
    assert "Không tìm thấy đơn vị" in (await official_b.ask("/bangxephang CL01")).plain_text
    assert "Không tìm thấy bản ghi số" in (await official_b.ask(f"/huyghi {entry_id} ghi nhầm")).plain_text
    assert "Chỉ cán bộ" in (await speak_as(emulator, AN).ask(f"/huyghi {entry_id} ghi nhầm")).plain_text
    assert "Cách dùng" in (await speak_as(emulator, OFFICIAL_A).ask("/huyghi abc")).plain_text
    assert "Cách dùng" in (await speak_as(emulator, OFFICIAL_A).ask(f"/huyghi {entry_id}")).plain_text
    district = (await speak_as(emulator, DISTRICT).ask("/bangxephang")).plain_text
    assert "Xã Tân An: 1" in district and "Xã Mỹ Cẩm: 1" in district
    assert "bao phủ BHYT 90,01%/95%" in district  # seed 003 arithmetic: (9.000 + 1) / 10.000
    assert "Nguyễn T. Hoa (Xã Tân An)" in district and "8423" not in district
    voided = await speak_as(emulator, OFFICIAL_A).ask(f"/huyghi {entry_id} ghi trùng người đã có thẻ")
    assert f"Đã huỷ bản ghi số {entry_id}" in voided.plain_text
    assert "Lý do: ghi trùng người đã có thẻ" in voided.plain_text
    assert "Đã vận động 0 người" in (await speak_as(emulator, AN).ask("/toi")).plain_text
    event = await harness.services.storage.db.fetchone(
        "SELECT action, reason, actor_member_id FROM enrolment_events WHERE action = 'voided'"
    )
    assert tuple(event) == ("voided", "ghi trùng người đã có thẻ", world.member_ids[OFFICIAL_A.user_id])
    assert "chưa có bản ghi" in (await official_b.ask("/xuat 12/2026")).plain_text
    assert "Không tìm thấy đơn vị" in (await official_b.ask("/xuat 11/2026 CL01")).plain_text
    assert "Không tìm thấy đơn vị" in (await official_b.ask("/thidua CL01")).plain_text
    admin = emulator.user(ADMIN_ID, first_name="Admin")
    assert "Tài khoản quản trị chưa gắn" in (await admin.ask("/ghi")).plain_text
    everything = (await admin.ask("/bangxephang")).plain_text
    assert "Tất cả đơn vị" in everything and "Lê Văn Tài" in everything


async def test_team_leader_and_official_export_the_month(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    an = speak_as(emulator, AN)
    await log_line(an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    await log_line(an, "bhxh Trần Thị Bình 8423005678 2tr hằng tháng")
    await log_line(speak_as(emulator, BINH), "bhyt cận nghèo Lê Thị Cúc 8423009999 6 tháng")
    leader = speak_as(emulator, LEADER)
    team = await leader.ask("/nhom")
    assert "Tổ 1 · tháng 11/2026 · thứ 1/2" in team.plain_text and "Nguyễn Thị Hoa: BHYT 1, BHXH TN 1 · ✅" in team.plain_text
    sent = await leader.ask("/xuat 11/2026")
    assert sent.method == "sendDocument" and sent.file_name == "phu-luc-02_2026-11_to-1.xlsx"
    assert "2 người tham gia" in sent.plain_text
    ws = openpyxl.load_workbook(io.BytesIO(sent.file_bytes or b"")).active
    assert ws["A2"].value == "Tháng 11/2026"
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + 3)]
    assert body[0][:6] == [1, "Nguyễn Thị Hoa", "Xã Tân An", "Tổ 1", "Nguyễn Văn An", "8423001234"]
    assert body[1][4:] == ["Trần Thị Bình", "8423005678", 374_000, None, "Hằng tháng"]
    assert body[2][1] == TOTAL_LABEL and body[2][6] == 374_000 and body[2][7] == 1_366_200
    official = await speak_as(emulator, OFFICIAL_A).ask("/xuat 11/2026")
    ws = openpyxl.load_workbook(io.BytesIO(official.file_bytes or b"")).active
    codes = [ws.cell(HEADER_ROW + i, 6).value for i in (1, 2, 3)]
    assert all("*" in c for c in codes) and "che một phần" in official.plain_text
    assert ws.cell(HEADER_ROW + 4, 8).value == 1_366_200 + 204_930
    assert "dành cho tổ trưởng" in (await an.ask("/xuat 11/2026")).plain_text
    assert "Cách dùng" in (await leader.ask("/xuat 13/2026")).plain_text
    assert "không có tổ nào" in (await leader.ask("/xuat 10/2026")).plain_text


async def test_citizen_gets_a_polite_refusal(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    citizen = emulator.user(CITIZEN_ID, first_name="Lan")
    for command in ("/ghi bhyt Nguyễn Văn An 8423001234 12 tháng", "/ghi", "/toi", "/huy", "/nhom",
                    "/bangxephang", "/xuat 11/2026", "/huyghi 1 thử", "/thidua"):
        reply = await citizen.ask(command)
        assert "dành cho người vận động" in reply.plain_text, command
    answer = await citizen.ask("bhyt hộ gia đình 1 người 12 tháng")
    assert "1.366.200 đ" in answer.plain_text
    assert await rows(harness) == 0


async def test_demo_lets_a_newcomer_log_as_the_sample_agent() -> None:
    from datetime import date

    from devtools.demo.session import run_demo

    out = io.StringIO()
    lines = [":ghi", "/ghi bhyt Nguyễn Văn An 8423001234 12 tháng", "#1", "/toi", "/bangxephang"]
    assert await run_demo(on=date(2026, 11, 23), out=out, lines=lines) == 0
    text = out.getvalue()
    assert "người vận động Nhóm 1" in text
    assert "Đã ghi (số" in text and "Kết quả của bạn · tháng 11/2026" in text
    assert "Bảng xếp hạng · tháng 11/2026 · Xã Tân An" in text and "8423001234" not in text.split("Bảng xếp hạng")[-1]


async def _at_the_name_question(agent: EmulatedUser) -> None:
    await agent.ask("/ghi")
    await agent.press("BHYT hộ gia đình")
    (name_q,) = await agent.replies()
    assert "Họ và tên" in name_q.plain_text


async def test_a_forgotten_draft_does_not_swallow_later_messages(
    harness: BotHarness, emulator: BotApiEmulator, world: World, clock: ManualClock
) -> None:
    """Days after a half-finished /ghi, and across a restart (PTB's timeout jobs are not
    persisted), "xin chào" is a greeting, not the participant's name; the calculator answers."""
    agent = speak_as(emulator, AN)
    await _at_the_name_question(agent)
    await harness.restart()
    clock.advance(timedelta(days=2))
    await agent.say("xin chào")
    notice, greeting = await agent.replies(count=2)
    assert "quá 30 phút không có trả lời" in notice.plain_text and "/ghi" in notice.plain_text
    assert greeting.plain_text.startswith("Chào Hoa!")
    answer = await agent.ask("bhyt hộ gia đình 1 người 12 tháng")
    assert "1.366.200 đ" in answer.plain_text
    # A button of the old draft, pressed after it expired, changes nothing either.
    await _at_the_name_question(agent)
    scheme_q = [m for m in emulator.sent_to(AN.user_id) if "BHYT hộ gia đình" in m.button_texts][-1]
    clock.advance(timedelta(minutes=31))
    await agent.press_data(scheme_q.message_id, "g:s:h")
    (expired,) = await agent.replies()
    assert "quá 30 phút" in expired.plain_text
    assert "Chào Hoa!" in (await agent.ask("xin chào")).plain_text
    assert await rows(harness) == 0


async def test_the_conversation_timeout_ends_the_draft(
    harness: BotHarness, emulator: BotApiEmulator, world: World, clock: ManualClock
) -> None:
    """A draft unanswered for more than 30 minutes ends: the draft keeps the time it was last
    saved (in the database, not a timer), so the agent's next message is told so, and reaches
    the citizen flow. A minute short of it, the draft is still open, and each answer restarts
    the 30 minutes."""
    agent = speak_as(emulator, AN)
    await _at_the_name_question(agent)
    clock.advance(timedelta(minutes=29))
    code_q = await agent.ask("Lò Văn Hi")
    assert "của Lò Văn Hi" in code_q.plain_text
    clock.advance(timedelta(minutes=29))
    months_q = await agent.ask("8423001234")
    assert "Lò Văn Hi · mã 8423001234" in months_q.plain_text
    clock.advance(timedelta(minutes=31))
    await agent.say("xin chào")
    notice, greeting = await agent.replies(count=2)
    assert "quá 30 phút không có trả lời" in notice.plain_text
    assert greeting.plain_text.startswith("Chào Hoa!")
    again = await agent.ask("xin chào")
    assert again.plain_text.startswith("Chào Hoa!")
    assert await rows(harness) == 0


@pytest.mark.parametrize(
    ("typed", "answered"),
    [
        ("bhyt hộ gia đình 1 người 12 tháng bao nhiêu?", "1.366.200 đ"),
        ("Xin chào bạn", "Chào Hoa!"),
        ("/start", "Chào Hoa!"),
        ("/bhyt 1 người 12 tháng", "1.366.200 đ"),
    ],
)
async def test_a_question_where_the_name_is_asked_ends_the_draft(
    harness: BotHarness, emulator: BotApiEmulator, world: World, typed: str, answered: str
) -> None:
    agent = speak_as(emulator, AN)
    await _at_the_name_question(agent)
    await agent.say(typed)
    notice, answer = await agent.replies(count=2)
    assert "Đã dừng lần ghi người tham gia đang dở, chưa lưu gì" in notice.plain_text
    assert answered in answer.plain_text
    # The flow is over: a name now is just text to the calculator, and /ghi starts afresh.
    assert "Họ và tên" not in (await agent.ask("Nguyễn Văn An")).plain_text
    await log_line(agent, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert await rows(harness) == 1


async def test_names_that_contain_greeting_words_are_still_names(
    harness: BotHarness, emulator: BotApiEmulator, world: World
) -> None:
    agent = speak_as(emulator, AN)
    await _at_the_name_question(agent)
    code_q = await agent.ask("Lò Văn Hi")
    assert "của Lò Văn Hi" in code_q.plain_text


async def test_xuat_builds_the_workbook_off_the_event_loop(
    harness: BotHarness, emulator: BotApiEmulator, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl is CPU-bound: /xuat builds the form in a worker thread (from plain rows), so
    other people's messages are not held up. The real builder runs; the test only records
    where it ran."""
    import asyncio

    import bot.chat.flows.agent_results
    from bot.reports.monthly_xlsx import build_workbook

    ran_on_loop: list[bool] = []

    def recording_build(*args: object, **kwargs: object) -> bytes:
        try:
            asyncio.get_running_loop()
            ran_on_loop.append(True)
        except RuntimeError:
            ran_on_loop.append(False)
        return build_workbook(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.chat.flows.agent_results, "build_workbook", recording_build)
    await log_line(speak_as(emulator, AN), "bhyt Nguyễn Văn An 8423001234 12 tháng")
    sent = await speak_as(emulator, LEADER).ask("/xuat 11/2026")
    assert sent.method == "sendDocument"
    assert openpyxl.load_workbook(io.BytesIO(sent.file_bytes or b"")).active.cell(HEADER_ROW + 1, 5).value == "Nguyễn Văn An"
    assert ran_on_loop == [False]


async def test_unit_arguments_are_read_in_any_case(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    """/bangxephang cl01 and /xuat 11/2026 cl01 name unit CL01, as /baocao cl01 does."""
    await log_line(speak_as(emulator, AN), "bhyt Nguyễn Văn An 8423001234 12 tháng")
    official = speak_as(emulator, OFFICIAL_A)
    upper = (await official.ask("/bangxephang CL01")).plain_text
    lower = (await official.ask("/bangxephang cl01")).plain_text
    assert "Không tìm thấy đơn vị" not in upper and lower == upper
    exported = await official.ask("/xuat 11/2026 cl01")
    assert exported.method == "sendDocument" and "1 người tham gia" in exported.plain_text
    # Still refused outside the scope, whatever the case.
    assert "Không tìm thấy đơn vị" in (await speak_as(emulator, OFFICIAL_B).ask("/bangxephang cl01")).plain_text
