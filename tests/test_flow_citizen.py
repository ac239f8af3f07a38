"""The citizen conversation through the conversation core, without any chat platform.

Cost questions typed and tapped to their figures, a person on Zalo, the open question kept in
the database across a restart, and bad input (forged buttons, junk text, stickers) that is
answered and changes nothing. The Telegram end-to-end tests (tests/test_e2e_citizen.py) check
the same conversation through the adapter and the emulator.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.chat.flows import citizen
from bot.chat.model import (
    DocumentIn,
    ForeignContact,
    Menu,
    Person,
    PhoneShared,
    Reply,
    Unsupported,
)
from bot.chat.rich import to_html
from bot.chat.router import Conversations
from bot.chat.texts import cost as replies
from bot.domain.clock import ManualClock
from storage.sqlite.sessions import IdentityRepository, SessionRepository
from tests.conftest import TZ
from tests.flow_harness import RecordingChat, flow_world

MENU_LABELS = [label for label, _ in replies.MENU_BUTTONS]
ZALO_ID = "3215498712365478901"  # 19 digits, as Zalo user ids are


async def _pending(world: Any, chat: RecordingChat) -> dict[str, Any] | None:
    """The open question stored for the person of `chat` (None when nothing is asked)."""
    person = chat.person
    if person.channel == "telegram":
        user_id = int(person.id)
    else:
        user_id = await world.services.storage.identities.user_id(person.channel, person.id, world.clock.now())
    return await world.services.storage.sessions.get(person.channel, user_id, citizen.PENDING_SESSION)


async def test_a_typed_question_gets_its_figure_and_next_steps(world: Any) -> None:
    chat = world.chat(601)
    await chat.text("bhyt hộ gia đình 1 người 12 tháng")
    (reply,) = chat.replies()
    said = chat.said()
    assert said.startswith("Tính cho: BHYT hộ gia đình · 1 người · 12 tháng · ngày 23/11/2026")
    assert "Tổng: 1.366.200 đ" in said
    assert "Tính theo quy định ngày 23/11/2026." in said and replies.PAY_WHERE in said
    # bold total and italic basis survive as styles, not as characters
    html = to_html(reply.text)
    assert "<b>Tổng: 1.366.200 đ</b>" in html and html.startswith("<i>Tính cho: ")
    assert chat.labels() == ["🔁 Tính lại", "👴 BHXH tự nguyện", "🪪 Thẻ của tôi"]
    assert [b.payload for b in chat.buttons()][1:] == ["m:tn", "rc:cards"]
    assert not chat.menus()  # a citizen keeps the default menu
    assert await _pending(world, chat) is None


async def test_buttons_lead_from_the_command_to_the_figure(world: Any) -> None:
    chat = world.chat(602)
    await chat.text("/bhyt")
    assert chat.said() == "Bạn muốn tính BHYT cho ai?"
    assert chat.labels()[0] == "Hộ gia đình" and "Hộ cận nghèo (70%)" in chat.labels()
    await chat.press_label("Hộ gia đình")
    assert "Hộ gia đình có mấy người" in chat.said()
    assert chat.labels() == [f"{n} người" for n in range(1, 7)]
    assert [len(row) for row in chat.replies()[0].buttons] == [3, 3]  # short labels, three a row
    await chat.press_label("3 người")
    assert chat.said() == "BHYT hộ gia đình · 3 người\nBạn muốn đóng cho bao lâu?"
    assert (await _pending(world, chat)) == {"draft": "q1|h|3||||", "asking": "months"}
    three_months = chat.buttons()[0].payload
    await chat.press_label("12 tháng")
    assert "Tổng: 3.142.260 đ" in chat.said()
    assert await _pending(world, chat) is None
    # An older button of the same conversation still gives its own figure.
    assert three_months is not None
    await chat.press(three_months)
    assert "Tổng: 785.565 đ" in chat.said()  # 3 months: 341.550 + 239.085 + 204.930
    # "Again" starts the same scheme over; the other scheme's button opens voluntary BHXH.
    await chat.press_label("Tính lại")
    assert "Hộ gia đình có mấy người" in chat.said()
    await chat.press("m:tn")
    assert "Bạn chọn mức thu nhập" in chat.said()


async def test_a_person_on_zalo_asks_and_types_answers(world: Any) -> None:
    chat = world.chat(ZALO_ID, channel="zalo_oa", first_name="Hoa")
    await chat.text("/start")
    assert chat.said().startswith("Chào Hoa! Mình giúp bạn tính tiền đóng BHYT hộ gia đình")
    assert chat.labels() == MENU_LABELS
    await chat.press_label("BHXH tự nguyện")
    assert "Bạn chọn mức thu nhập làm căn cứ đóng mỗi tháng (từ 1.500.000 đ đến 50.600.000 đ)" in chat.said()
    await chat.text("2tr")  # typed instead of tapped
    assert chat.said() == (
        "BHXH tự nguyện · thu nhập 2.000.000 đ\nBạn thuộc nhóm nào? (để tính mức Nhà nước hỗ trợ)"
    )
    stored = await _pending(world, chat)
    assert stored == {"draft": "q1|v|||2000000||", "asking": "group"}
    await chat.press_label("Người dân khác")
    await chat.text("hằng tháng")
    said = chat.said()
    assert "Tính cho: BHXH tự nguyện · thu nhập 2.000.000 đ · Người dân khác · hằng tháng" in said
    assert "- Mức đóng 22%: 440.000 đ/tháng" in said
    assert "Bạn đóng:" in said and "/tháng" in said
    assert await _pending(world, chat) is None
    # The open question is kept for the Zalo person only: someone else's answer does not use it.
    await chat.text("/bhxh")
    stored = await _pending(world, chat)
    assert stored is not None and stored["asking"] == "income"
    other = world.chat(610)
    await other.text("3tr")
    assert "Bạn thuộc nhóm nào" not in other.said()
    assert await _pending(world, chat) == stored


async def test_the_open_question_survives_a_restart(tmp_path: Path) -> None:
    """The question being asked is in the database: a new core on the same file (a restart)
    completes it from a typed answer, and an old button still gives its figure."""
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    db = tmp_path / "restart.db"
    async with flow_world(db, clock) as before:
        chat = before.chat(603)
        await chat.text("bhyt ho gia dinh 3 nguoi")
        assert "bao lâu" in chat.said()
        old_button = chat.buttons()[0].payload
        zalo = before.chat(ZALO_ID, channel="zalo_oa")
        await zalo.text("bhxh tu nguyen 2 trieu")
        assert "Bạn thuộc nhóm nào?" in zalo.said()
    async with flow_world(db, clock) as after:
        chat = after.chat(603)
        await chat.text("12 tháng")
        assert "Tổng: 3.142.260 đ" in chat.said()
        assert old_button is not None
        await chat.press(old_button)
        assert "Tổng: 785.565 đ" in chat.said()
        zalo = after.chat(ZALO_ID, channel="zalo_oa")
        await zalo.text("hộ cận nghèo")
        assert "BHXH tự nguyện · thu nhập 2.000.000 đ · Hộ cận nghèo" in zalo.said()
        assert "phương thức nào" in zalo.said()


async def test_a_typed_answer_that_says_more_keeps_what_was_given(world: Any) -> None:
    chat = world.chat(604)
    await chat.text("bhyt hộ gia đình 12 tháng")
    assert "mấy người" in chat.said()
    await chat.text("3 người lớn")
    said = chat.said()
    assert "3 người · 12 tháng" in said and "Tổng: 3.142.260 đ" in said


async def test_an_unclear_answer_asks_again_and_keeps_the_question(world: Any) -> None:
    chat = world.chat(605)
    await chat.text("bhyt ho gia dinh 3 nguoi")
    stored = await _pending(world, chat)
    await chat.text("qwerty zxcv")
    first, again = chat.replies()
    assert first.text.plain == "Mình chưa hiểu câu trả lời. Bạn gõ số tháng: 3, 6 hoặc 12, hoặc bấm nút nhé."
    assert not first.buttons
    assert "Bạn muốn đóng cho bao lâu?" in again.text.plain
    assert [b.label for b in again.flat_buttons] == ["3 tháng", "6 tháng", "12 tháng"]
    assert await _pending(world, chat) == stored


async def test_forged_and_stale_buttons_change_nothing(world: Any) -> None:
    chat = world.chat(606)
    await chat.text("bhyt ho gia dinh 3 nguoi")
    stored = await _pending(world, chat)
    assert stored is not None
    expired = replies.EXPIRED_BUTTON.plain
    for payload in ["q1|zz|1|1|1|1|1", "q1|", "m:zzz", "m:", "something-else", "q1|h|3|12|||" + "9" * 80]:
        await chat.press(payload)
        assert chat.said() == expired, payload
        assert chat.labels() == MENU_LABELS
        assert await _pending(world, chat) == stored, payload
    # A draft out of range is a real draft: it is refused with the reason, not computed.
    await chat.press("q1|h|999999|12|||")
    assert "từ 1 đến 20 người" in chat.said()


async def test_junk_text_is_echoed_literally_with_the_menu(world: Any) -> None:
    chat = world.chat(607)
    await chat.text("<b>xyz</b> & co")
    (reply,) = chat.replies()
    assert reply.text.plain.startswith("Mình chưa hiểu “<b>xyz</b> & co”.")
    assert "&lt;b&gt;xyz&lt;/b&gt; &amp; co" in to_html(reply.text)  # shown, never markup
    assert chat.labels() == MENU_LABELS
    await chat.text("x" * 500)
    assert "x" * 60 + "…”" in chat.said() and "x" * 61 not in chat.said()
    assert await _pending(world, chat) is None


async def test_greeting_help_and_commands(world: Any) -> None:
    chat = world.chat(608, first_name="<i>Minh</i>")
    await chat.text("xin chào")
    assert chat.said().startswith("Chào <i>Minh</i>! ")
    await chat.text("/huongdan")
    assert chat.said() == replies.HELP_TEXT.plain and chat.labels() == MENU_LABELS
    await chat.press("m:help")
    assert chat.said() == replies.HELP_TEXT.plain
    await chat.text("/bhyt 3 người 12 tháng")
    assert "Tổng: 3.142.260 đ" in chat.said()
    await chat.text("/bhyt 12 tháng")  # household or supported is still to be chosen
    assert chat.said() == "Bạn muốn tính BHYT cho ai?"
    assert chat.labels()[0] == "Hộ gia đình"
    await chat.text("/BHXHTN")
    assert "Bạn chọn mức thu nhập" in chat.said()
    # /start drops the open question
    assert await _pending(world, chat) is not None
    await chat.text("/start")
    assert await _pending(world, chat) is None


async def test_off_topic_questions_say_what_the_bot_computes(world: Any) -> None:
    chat = world.chat(609)
    await chat.text("bhyt ho gia dinh 3 nguoi")
    await chat.text("bảo hiểm nhân thọ bao nhiêu tiền")
    said = chat.said()
    assert "Bot không tính bảo hiểm nhân thọ" in said and "Bot tính được: BHYT hộ gia đình" in said
    assert chat.labels() == MENU_LABELS
    assert await _pending(world, chat) is None


def _citizen_only(world: Any) -> Conversations:
    db = world.services.storage.db
    return Conversations(world.services, [citizen.FLOW], SessionRepository(db), IdentityRepository(db))


async def test_the_citizen_flow_alone_answers_every_kind_of_event(world: Any) -> None:
    """It is the router's last resort: whatever arrives gets an answer with the menu."""
    core = _citizen_only(world)
    person = Person("zalo_oa", ZALO_ID)
    chat = RecordingChat(core, person)
    await chat.text("/khongco")
    assert chat.said() == replies.UNKNOWN_COMMAND.plain and chat.labels() == MENU_LABELS
    await chat.press("rc:cards")  # a prefix no flow of this core answers
    assert chat.said() == replies.EXPIRED_BUTTON.plain

    async def fetch() -> bytes:
        raise AssertionError("a citizen's file is never downloaded")

    expected = {
        Unsupported(person, "photo"): replies.PHOTO_WARNING.plain,
        Unsupported(person, "sticker"): replies.NON_TEXT.plain,
        Unsupported(person, "empty_button"): replies.EXPIRED_BUTTON.plain,
        ForeignContact(person): replies.NON_TEXT.plain,
        PhoneShared(person, "0912345678"): replies.NON_TEXT.plain,
        DocumentIn(person, "the.jpg", 3, fetch): replies.NON_TEXT.plain,
    }
    for event, text in expected.items():
        outputs = await core.handle(event)
        said = [o for o in outputs if isinstance(o, Reply)]
        assert [r.text.plain for r in said] == [text], event
        assert [b.label for b in said[0].flat_buttons] == MENU_LABELS
        assert not [o for o in outputs if isinstance(o, Menu)]
