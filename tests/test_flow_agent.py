"""The agents' flow through the conversation core, without any chat platform (RecordingChat).

/ghi guided with a correction, a Zalo agent logging, forged "g:" and "eh:" buttons from people
who may not press them or from a finished draft, a draft surviving a new core on the same
database, the draft's timeout, /huy mid-draft, and the results commands. The Telegram
end-to-end tests (tests/test_e2e_agent.py) check the same flow through the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.chat.commands import BUTTON_NOT_ALLOWED
from bot.chat.flow import Flow, Turn
from bot.chat.flows.agent_log import GHI_SESSION
from bot.chat.model import Alert, Out, Person, Reply, Text
from bot.chat.rich import t
from bot.chat.router import Conversations
from bot.domain.clock import ManualClock
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from storage.sqlite.sessions import IdentityRepository, SessionRepository
from tests.agent_world import AN, CITIZEN_ID, LEADER, OFFICIAL_B, seed_world
from tests.conftest import DEFAULT_NOW
from tests.flow_harness import RecordingChat, flow_world

ZALO_ID = "5829461037285910372"  # 19 digits, as Zalo user ids are


@pytest.fixture
async def agents(world: Any) -> Any:
    await seed_world(world.services, DEFAULT_NOW)
    return world


async def rows(world: Any, status: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM enrolments" + (" WHERE status = ?" if status else "")
    return int(await world.services.storage.db.fetchval(sql, (status,) if status else ()))


async def draft_of(world: Any, channel: str, user_id: int) -> dict[str, Any] | None:
    return await world.services.storage.sessions.get(channel, user_id, GHI_SESSION)


def payloads(chat: RecordingChat) -> list[str]:
    return [b.payload for b in chat.buttons() if b.payload is not None]


async def test_guided_entry_with_a_correction(agents: Any) -> None:
    chat = agents.chat(AN.user_id, first_name="Hoa")
    await chat.text("/ghi")
    assert chat.labels() == ["BHYT hộ gia đình", "BHYT được hỗ trợ", "BHXH tự nguyện", "✖️ Huỷ"]
    assert payloads(chat) == ["g:s:h", "g:s:s", "g:s:v", "g:x"]
    await chat.press("g:s:h")
    assert "Họ và tên người tham gia?" in chat.said()
    await chat.text("trần văn cường")
    assert "của Trần Văn Cường?" in chat.said()
    await chat.text("8423007777")
    assert chat.labels() == ["3 tháng", "6 tháng", "12 tháng", "✖️ Huỷ"]
    await chat.press_label("12 tháng")
    await chat.press_label("Người thứ 2")
    await chat.press_label("Không phải người thân")
    assert "Trần Văn Cường · mã 8423007777 · 12 tháng · 956.340 đ (người thứ 2)" in chat.said()
    assert payloads(chat) == ["g:ok", "g:ed", "g:x"]
    # Typed text on the card is not an answer: the buttons are.
    await chat.text("ok")
    assert chat.said() == "Bạn bấm Xác nhận, Sửa hoặc Huỷ ở tin nhắn trên nhé."
    await chat.press("g:ed")
    assert "g:e:name" in payloads(chat) and "g:e:reason" in payloads(chat)
    await chat.press("g:e:name")
    await chat.text("Trần Văn Cường Em")
    assert "Trần Văn Cường Em · mã 8423007777" in chat.said()
    await chat.press("g:ok")
    (done,) = chat.replies()
    assert done.replace_pressed and done.text.plain.startswith("Đã ghi (số 1)")
    assert not done.buttons
    stored = await agents.services.storage.db.fetchone("SELECT participant_name, household_position FROM enrolments")
    assert tuple(stored) == ("Trần Văn Cường Em", 2)
    assert await draft_of(agents, "telegram", AN.user_id) is None
    # The card's buttons, pressed again, change nothing.
    await chat.press("g:ok")
    assert "đã xong hoặc đã huỷ" in chat.said()
    assert await rows(agents) == 1


async def test_a_zalo_agent_logs_and_sees_their_results(agents: Any) -> None:
    services = agents.services
    user_id = await services.storage.identities.user_id("zalo_oa", ZALO_ID, DEFAULT_NOW)
    member_id = await services.members.add(
        full_name="Lý Thị Thu", role=Role.AGENT, unit_code="CL01", actor=CLI_ACTOR, at=DEFAULT_NOW,
        user_id=user_id, channel="zalo_oa",
    )
    chat = RecordingChat(agents.conversations, Person("zalo_oa", ZALO_ID))
    await chat.text("/ghi bhyt Nguyễn Văn An 8423001234")
    assert "Nguyễn Văn An · mã 8423001234" in chat.said() and "12 tháng" in chat.labels()
    await chat.text("12 tháng")  # typed instead of pressed
    assert "1.366.200 đ (người thứ 1)" in chat.said() and "Người thân của bạn: không" in chat.said()
    await chat.press("g:ed")
    await chat.press("g:e:relative")
    await chat.press("g:r:1")
    assert "1.366.200 đ (người thứ 1)" in chat.said() and "Người thân của bạn: có" in chat.said()
    await chat.press("g:ok")
    assert chat.said().startswith("Đã ghi (số 1): BHYT hộ gia đình · Nguyễn Văn An")
    stored = await services.storage.db.fetchone("SELECT agent_id, is_relative FROM enrolments")
    assert tuple(stored) == (member_id, 1)
    await chat.text("/toi")
    assert "Đã vận động 1 người (BHYT 1, BHXH tự nguyện 0)" in chat.said()
    # The Telegram person with the same integer id is somebody else: a citizen, no draft.
    telegram_twin = agents.chat(user_id)
    await telegram_twin.text("/toi")
    assert "dành cho người vận động" in telegram_twin.said()


async def test_forged_buttons_from_a_citizen_change_nothing(agents: Any) -> None:
    citizen = agents.chat(CITIZEN_ID)
    for payload in ("g:s:h", "g:ok", "g:x", "g:e:name", "eh:w:1", "eh:k"):
        await citizen.press(payload)
        assert citizen.last[:2] == [Alert(BUTTON_NOT_ALLOWED), Reply(t(BUTTON_NOT_ALLOWED))], payload
    for command in ("/ghi bhyt Nguyễn Văn An 8423001234 12 tháng", "/huy", "/toi", "/xuat", "/huyghi 1 thử"):
        await citizen.text(command)
        assert "dành cho người vận động" in citizen.said(), command
    assert await draft_of(agents, "telegram", CITIZEN_ID) is None
    assert await rows(agents) == 0


async def test_stale_and_forged_buttons_of_an_agent_change_nothing(agents: Any) -> None:
    chat = agents.chat(AN.user_id)
    await chat.press("g:s:h")  # no draft open
    assert "đã xong hoặc đã huỷ" in chat.said()
    await chat.text("/ghi bhyt Nguyễn Văn An 8423001234")
    before = await draft_of(agents, "telegram", AN.user_id)
    for payload in ("g:m:7", "g:s:z", "g:zz", "g:" + "9" * 60, "g:m:12:x", "g:m:abc"):
        await chat.press(payload)
        (alert, reply) = chat.last
        assert isinstance(alert, Alert) and alert.text == reply.text.plain  # type: ignore[union-attr]
        assert "Nút không hợp lệ" in alert.text or "câu hỏi trước" in alert.text, payload
    for payload in ("g:ok", "g:p:2", "g:e:name"):
        await chat.press(payload)
        assert "câu hỏi trước" in chat.said(), payload
    assert await draft_of(agents, "telegram", AN.user_id) == before
    for junk in ("", "   ", "5 tháng", "x" * 5000):
        await chat.text(junk)
        assert chat.replies() and "g:x" in payloads(chat), junk
    assert await draft_of(agents, "telegram", AN.user_id) == before
    for payload in ("eh:w:abc", "eh:w:1", "eh:x"):
        await chat.press(payload)
        assert "Không huỷ được" in chat.said() or "đã xong" in chat.said(), payload
    await chat.press("g:x")
    assert chat.said() == "Đã huỷ, không ghi gì. Gõ /ghi để ghi người khác." and chat.replies()[0].replace_pressed
    assert await rows(agents) == 0


async def test_a_draft_survives_a_new_core_on_the_same_database(agents: Any, tmp_path: Path, clock: ManualClock) -> None:
    chat = agents.chat(AN.user_id)
    await chat.text("/ghi")
    await chat.press("g:s:v")
    await chat.text("Lò Thị Mai")
    async with flow_world(tmp_path / "flows.db", clock) as restarted:
        again = restarted.chat(AN.user_id)
        await again.text("8423006666")
        assert "BHXH tự nguyện · Lò Thị Mai · mã 8423006666" in again.said()
        assert "Phương thức đóng" in again.said()


async def test_the_draft_times_out_at_the_next_message(agents: Any, clock: ManualClock) -> None:
    chat = agents.chat(AN.user_id)
    await chat.text("/ghi bhyt")
    clock.advance(timedelta(minutes=31))
    await chat.press("g:s:h")  # a button of the expired draft: only the notice
    assert [o.text.plain for o in chat.replies()] == [
        "⌛ Lần ghi người tham gia đang dở đã quá 30 phút không có trả lời nên bot đã bỏ, chưa lưu gì. "
        "Gõ /ghi để ghi lại từ đầu."
    ]
    await chat.text("/ghi bhyt")
    clock.advance(timedelta(minutes=31))
    await chat.text("/toi")  # another command: told first, then answered
    notice, results = chat.replies()
    assert "quá 30 phút" in notice.text.plain and "Kết quả của bạn" in results.text.plain
    assert await draft_of(agents, "telegram", AN.user_id) is None


async def test_commands_mid_draft_pass_or_end_it_as_before(agents: Any) -> None:
    chat = agents.chat(AN.user_id)
    await chat.text("/ghi bhyt Nguyễn Văn An")
    await chat.text("/toi")  # another command passes: the draft stays open
    assert "Kết quả của bạn" in chat.said()
    await chat.text("8423001234")
    assert "Nguyễn Văn An · mã 8423001234" in chat.said()
    await chat.text("/ghi")  # starts afresh
    assert "Loại nào?" in chat.said()
    await chat.text("/huy")  # drops the draft, not a stored entry
    assert chat.said() == "Đã bỏ bản nháp đang ghi. (Muốn huỷ bản ghi vừa lưu? Gõ /huy lần nữa.)"
    await chat.text("/huy")
    assert "không có bản ghi nào trong 24 giờ qua" in chat.said()


async def _stand_in_core(world: Any) -> Conversations:
    """The agent flow and a stand-in for the citizen flow, which answers anything."""
    from bot.chat.flows import agent

    async def anything(turn: Turn) -> Sequence[Out]:
        return [Reply(t("citizen: ", turn.text or type(turn.event).__name__))]

    citizen = Flow("citizen", on_text=anything, on_other=anything)
    db = world.services.storage.db
    return Conversations(world.services, [agent.FLOW, citizen], SessionRepository(db), IdentityRepository(db))


async def test_leaving_the_draft_is_said_before_the_next_flow_answers(agents: Any) -> None:
    """A greeting where the name is asked, or /start, ends the draft with a word, and the
    event goes on to the flow that answers it."""
    chat = RecordingChat(await _stand_in_core(agents), Person("telegram", str(AN.user_id)))
    await chat.text("/ghi bhyt")
    await chat.text("xin chào")
    notice, answer = chat.replies()
    assert notice.text.plain.startswith("ℹ️ Đã dừng lần ghi người tham gia đang dở")
    assert answer.text.plain == "citizen: xin chào"
    await chat.text("Nguyễn Văn An")  # no draft any more: not a name for /ghi
    assert chat.said() == "citizen: Nguyễn Văn An"
    await chat.text("/ghi bhyt")
    await chat.text("/start")
    assert [r.text.plain[:9] for r in chat.replies()] == ["ℹ️ Đã dừn", "citizen: "]
    await chat.text("/ghi bhyt")
    outputs = await agents.conversations.handle(Text(Person("telegram", str(AN.user_id)), "bhyt 3 người 12 tháng bao nhiêu?"))
    replies = [o for o in outputs if isinstance(o, Reply)]
    assert replies[0].text.plain.startswith("ℹ️ Đã dừng lần ghi người tham gia đang dở")
    assert "Tính cho:" in replies[1].text.plain  # the real citizen flow answers the question
    assert await draft_of(agents, "telegram", AN.user_id) is None


async def test_results_withdraw_and_the_monthly_form(agents: Any) -> None:
    chat = agents.chat(AN.user_id)
    for line in ("bhyt Nguyễn Văn An 8423001234 12 tháng", "bhxh Trần Thị Bình 8423005678 2tr hằng tháng"):
        await chat.text(f"/ghi {line}")
        await chat.press("g:ok")
        assert chat.said().startswith("Đã ghi")
    await chat.text("/huy")
    assert "Trần Thị Bình" in chat.said() and payloads(chat) == ["eh:w:2", "eh:k"]
    await chat.press("eh:k")
    assert chat.said() == "Đã giữ nguyên bản ghi." and chat.replies()[0].replace_pressed
    other = agents.chat(LEADER.user_id)
    await other.press("eh:w:2")  # someone else's entry
    assert "Không huỷ được" in other.said()
    await chat.press("eh:w:2")
    assert "Đã huỷ bản ghi số 2 (Trần Thị Bình)" in chat.said() and "còn 1 người" in chat.said()
    assert await rows(agents, "active") == 1
    await other.text("/xuat 11/2026")
    (form,) = other.files()
    assert form.name == "phu-luc-02_2026-11_to-1.xlsx" and form.kind == "xlsx"
    assert form.caption is not None and "1 người tham gia" in form.caption.plain
    import io

    sheet = openpyxl.load_workbook(io.BytesIO(form.content)).active
    assert any(cell.value == "Nguyễn Văn An" for row in sheet.iter_rows() for cell in row)
    await other.text("/xuat 13/2026")
    assert "Cách dùng" in other.said()
    board = agents.chat(OFFICIAL_B.user_id)
    await board.text("/bangxephang")
    assert "Bảng xếp hạng · tháng 11/2026 · Xã Mỹ Cẩm" in board.said() and "8423" not in board.said()
    await board.text("/bangxephang cl01")
    assert board.said() == "Không tìm thấy đơn vị này trong phạm vi của bạn."
    await board.text("/huyghi 1 ghi nhầm")
    assert "Không tìm thấy bản ghi số 1" in board.said()
    await board.text("/thidua")
    assert "Thi đua vận động người thân" in board.said()


def test_rich_texts_render_the_html_they_replaced() -> None:
    """The move to rich text kept every bold and italic where the hand-written HTML had it,
    and a participant's name is literal text whatever it holds."""
    from bot.chat.rich import to_html
    from bot.chat.texts import enrolment as texts
    from bot.domain.engine import RefusalReason, Refused
    from bot.domain.enrolment import EnrolmentDraft, InputError, Scheme, Step

    assert to_html(texts.NOT_MEMBER) == (
        "Lệnh này dành cho người vận động, tổ trưởng và cán bộ đã tham gia đơn vị trên bot. "
        "Nếu bạn được mời, gõ <b>/thamgia MÃ</b> với mã được cấp.\n"
        "Bạn vẫn có thể tính tiền đóng BHYT, BHXH tự nguyện: gõ /start."
    )
    assert to_html(texts.PRESS_A_BUTTON) == "Bạn bấm <b>Xác nhận</b>, <b>Sửa</b> hoặc <b>Huỷ</b> ở tin nhắn trên nhé."
    assert to_html(texts.error_text(InputError("code_length", length=9))) == (
        "Mã bạn gõ có 9 chữ số. Mã số BHXH có <b>10</b> chữ số, CCCD có <b>12</b> chữ số. Gõ lại mã nhé."
    )
    assert to_html(texts.error_text(InputError("months_not_allowed", allowed=(3, 6, 12)))) == (
        "Chỉ đóng được theo các kỳ 3, 6, 12 tháng. Bạn chọn lại nhé."
    )
    assert to_html(texts.VOID_USAGE) == (
        "Cách dùng: <b>/huyghi SỐ lý do</b>, ví dụ <i>/huyghi 125 ghi trùng người đã có thẻ</i>. "
        "Số bản ghi có trong báo cáo tháng (/xuat) và tin xác nhận của người ghi."
    )
    assert to_html(texts.EXPORT_USAGE) == "Cách dùng: <b>/xuat MM/YYYY</b>, ví dụ <i>/xuat 11/2026</i> (mặc định: tháng này)."
    draft = EnrolmentDraft().with_scheme(Scheme.BHYT_HOUSEHOLD)
    assert to_html(texts.ask_text(Step.NAME, draft)) == (
        "<i>BHYT hộ gia đình</i>\nHọ và tên người tham gia? (ví dụ: <i>Nguyễn Văn An</i>)"
    )
    named = draft.with_(name="<b>An</b> & Co")
    assert to_html(texts.ask_text(Step.CODE, named)) == (
        "<i>BHYT hộ gia đình · &lt;b&gt;An&lt;/b&gt; &amp; Co</i>\n"
        "Mã số BHXH (10 chữ số) hoặc số CCCD (12 chữ số) của &lt;b&gt;An&lt;/b&gt; &amp; Co?"
    )
    low = texts.refusal(Refused(RefusalReason.INCOME_BELOW_MIN, limit=1_500_000))
    assert to_html(low) == (
        "Mức thu nhập chọn đóng thấp nhất là <b>1.500.000 đ</b>/tháng (chuẩn nghèo khu vực nông thôn)."
    )
