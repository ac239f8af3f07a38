"""The citizen conversation end to end: real Application <-> emulator over HTTP, real SQLite."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest
from telegram import BotCommandScopeChat

from bot.domain.clock import ManualClock
from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import ADMIN_ID, TZ, BotHarness

pytestmark = pytest.mark.asyncio

_next_user = iter(range(10_000, 99_999))
# A figure in a reply: "94.770 đ", "20.000 đ".
AMOUNT = re.compile(r"\d[\d.]* đ")


def new_user(emulator: BotApiEmulator, name: str = "Lan"):
    return emulator.user(next(_next_user), first_name=name)


async def test_start_shows_menu_and_commands_are_registered(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    reply = await user.ask("/start")
    assert "Chào Lan" in reply.plain_text
    assert reply.button_texts == [
        "🏥 BHYT hộ gia đình",
        "👴 BHXH tự nguyện",
        "🤝 BHYT được hỗ trợ",
        "🪪 Thẻ BHYT của tôi",
        "❓ Hướng dẫn",
    ]
    assert "vai trò" not in reply.plain_text  # a citizen is not told about members' commands
    commands = {c["command"]: c["description"] for c in emulator.commands}
    assert {"start", "bhyt", "bhxh", "help"} <= set(commands)
    assert commands["bhyt"].startswith("Tính tiền BHYT")


async def test_help_warns_about_passwords_otp_and_card_photos(harness: BotHarness, emulator: BotApiEmulator) -> None:
    reply = await new_user(emulator).ask("/help")
    text = reply.plain_text
    assert "mật khẩu" in text and "OTP" in text and "ảnh thẻ" in text


async def test_menu_household_flow_with_buttons(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    await user.ask("/start")
    await user.press("🏥 BHYT hộ gia đình")
    (members_q,) = await user.replies()
    assert "mấy người" in members_q.plain_text
    await user.press("3 người")
    (months_q,) = await user.replies()
    assert months_q.button_texts == ["3 tháng", "6 tháng", "12 tháng"]
    await user.press("12 tháng")
    (answer,) = await user.replies()
    text = answer.plain_text
    assert "Người thứ 1: 1.366.200 đ" in text
    assert "Người thứ 2: 956.340 đ (70%)" in text
    assert "Người thứ 3: 819.720 đ (60%)" in text
    assert "Tổng: 3.142.260 đ" in text
    assert "NĐ 161/2026/NĐ-CP" in text and "23/11/2026" in text
    assert "VssID" in text
    assert answer.button_texts == ["🔁 Tính lại", "👴 BHXH tự nguyện", "🪪 Thẻ của tôi"]
    await user.press("🪪 Thẻ của tôi")
    (cards,) = await user.replies()
    assert "Chia sẻ số điện thoại" in cards.plain_text


async def test_bhyt_command_supported_group_flow(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("/bhyt")
    assert "BHYT cho ai" in ask.plain_text
    assert "Hộ gia đình" in ask.button_texts
    await user.press("Hộ cận nghèo (70%)")
    (months_q,) = await user.replies()
    await user.press("6 tháng")
    (answer,) = await user.replies()
    # 4,5% x 2.530.000 x 6 = 683.100; budget 70% = 478.170; person 204.930
    assert "Mức đóng đầy đủ: 683.100 đ" in answer.plain_text
    assert "−478.170 đ" in answer.plain_text
    assert "Bạn đóng: 204.930 đ" in answer.plain_text


async def test_bhxh_command_guided_flow(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("/bhxh")
    assert "1.500.000 đ" in ask.button_texts
    await user.press("5.000.000 đ")
    (group_q,) = await user.replies()
    await user.press("Hộ cận nghèo")
    (mode_q,) = await user.replies()
    assert mode_q.button_texts == ["Hằng tháng", "3 tháng", "6 tháng", "12 tháng"]
    await user.press("12 tháng")
    (answer,) = await user.replies()
    # DOMAIN.md §4 example 6: (1.100.000 − 132.000) × 12 = 11.616.000
    assert "Mỗi lần đóng 12 tháng: 11.616.000 đ" in answer.plain_text
    assert "NĐ 159/2025/NĐ-CP" in answer.plain_text


# 25+ phrasings people really type, with and without diacritics; expected figure at 23/11/2026.
COMPLETE_PHRASINGS = [
    ("bhyt hộ gia đình 3 người 12 tháng", "Tổng: 3.142.260 đ"),
    ("bhyt ho gia dinh 3 nguoi 12 thang", "Tổng: 3.142.260 đ"),
    ("BHYT HO GIA DINH 6 NGUOI 6 THANG", "Tổng: 2.459.160 đ"),
    ("bảo hiểm y tế hộ gia đình 6 người 6 tháng", "Tổng: 2.459.160 đ"),
    ("bao hiem y te cho 1 nguoi 1 nam", "Tổng: 1.366.200 đ"),
    ("mua bhyt 2 người cả năm hết bao nhiêu", "Tổng: 2.322.540 đ"),
    ("bhyt ho gia dinh 4 nguoi 6 thang", "Tổng: 1.912.680 đ"),
    ("thẻ bhyt cả nhà 5 người 3 tháng", "Tổng: 1.092.960 đ"),
    ("bhyt 2 nguoi nua nam", "Tổng: 1.161.270 đ"),
    ("bhxh tự nguyện 1,5 triệu người dân khác hằng tháng", "Bạn đóng: 264.000 đ/tháng"),
    ("bhxh tu nguyen 1.500.000 khac hang thang", "Bạn đóng: 264.000 đ/tháng"),
    ("bhxh tn 1500k binh thuong moi thang", "Bạn đóng: 264.000 đ/tháng"),
    ("dong bhxh tu nguyen muc 5tr ho can ngheo 12 thang", "11.616.000 đ"),
    ("đóng bhxh tự nguyện 3tr, tôi là người dân tộc thiểu số, đóng hằng tháng", "Bạn đóng: 561.000 đ/tháng"),
    ("bhxh tự nguyện 2 triệu hộ nghèo 1 tháng", "Bạn đóng: 275.000 đ/tháng"),
    ("bhxh tu nguyen 2tr ho ngheo hang thang", "Bạn đóng: 275.000 đ/tháng"),
    ("bảo hiểm xã hội tự nguyện 1.5tr cận nghèo hàng tháng", "Bạn đóng: 198.000 đ/tháng"),
    ("bhxh tự nguyện 3,5tr hộ cận nghèo 12 tháng", "7.656.000 đ"),
    ("bhyt học sinh 12 tháng", "Bạn đóng: 683.100 đ"),
    ("bhyt hoc sinh 12 thang", "Bạn đóng: 683.100 đ"),
    ("bhyt cận nghèo 12 tháng", "Bạn đóng: 409.860 đ"),
    ("bhyt can ngheo 3 thang", "Bạn đóng: 102.465 đ"),
    ("bhyt hộ nghèo", "miễn phí"),
    ("bhyt trẻ em dưới 6 tuổi", "miễn phí"),
    ("bhyt hộ gia đình 3 người 12 tháng ngày 10/03/2025", "Tổng: 2.906.280 đ"),
    ("bhyt ho gia dinh 1 nguoi 12 thang ngay 10/03/2025", "Tổng: 1.263.600 đ"),
    ("bhxh tu nguyen 1,5tr ho ngheo hang thang ngay 20/05/2025", "Bạn đóng: 231.000 đ/tháng"),
    ("bhyt dtts xã đã thoát khó ở An Giang 3 thang ngay 05/11/2024", "Bạn đóng: 20.000 đ"),
]


@pytest.mark.parametrize(("text", "expected"), COMPLETE_PHRASINGS)
async def test_free_text_phrasings_answer_at_once(
    harness: BotHarness, emulator: BotApiEmulator, text: str, expected: str
) -> None:
    reply = await new_user(emulator).ask(text)
    assert expected in reply.plain_text, reply.plain_text


async def test_ethnic_card_asks_the_commune_then_campaign_cofunding_only_in_its_area(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    """DOMAIN §4 example 4, reached the way a person would: the commune decides free vs 70 %,
    and the seed-000 co-funding applies only to people of An Giang."""
    user = new_user(emulator)
    ask = await user.ask("bhyt dtts 3 thang ngay 05/11/2024")
    assert "Mình hiểu" in ask.plain_text and not AMOUNT.search(ask.plain_text)
    assert ask.button_texts == [
        "DTTS ở xã ra khỏi vùng khó khăn (70%)", "DTTS vùng khó khăn (miễn phí)", "Không thuộc các nhóm này",
    ]
    await user.press("DTTS ở xã ra khỏi vùng khó khăn (70%)")
    (legal,) = await user.replies()
    text = legal.plain_text
    # no area said: the legal figure (315.900 − 221.130), and a note naming the campaign's area
    assert "Bạn đóng: 94.770 đ" in text and "20.000 đ" in text and "Tỉnh An Giang" in text
    assert "Tính cho: BHYT · DTTS ở xã ra khỏi vùng khó khăn · 3 tháng · ngày 05/11/2024" in text
    assert legal.button_texts[0] == "📍 Tôi ở Tỉnh An Giang"
    await user.press("📍 Tôi ở Tỉnh An Giang")
    (cofunded,) = await user.replies()
    text = cofunded.plain_text
    assert "Mức đóng đầy đủ: 315.900 đ" in text
    assert "hỗ trợ 70%: −221.130 đ" in text
    assert "Cơ quan BHXH hỗ trợ: −60.000 đ" in text
    assert "UBND cấp xã hoặc mạnh thường quân hỗ trợ: −14.770 đ" in text
    assert "Bạn đóng: 20.000 đ" in text
    assert "ở Tỉnh An Giang" in text
    assert all(len(b.callback_data.encode()) < 64 for row in cofunded.buttons for b in row if b.callback_data)


async def test_campaign_cofunding_does_not_apply_elsewhere(harness: BotHarness, emulator: BotApiEmulator) -> None:
    reply = await new_user(emulator).ask("bhyt dtts thoát khó ở Cà Mau 3 tháng ngày 05/11/2024")
    assert "Bạn đóng: 94.770 đ" in reply.plain_text
    assert "20.000" not in reply.plain_text and "An Giang" not in reply.plain_text


async def test_off_topic_insurance_gets_no_figure_and_no_household_question(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    reply = await new_user(emulator).ask("bảo hiểm nhân thọ cho 3 người 12 tháng bao nhiêu")
    assert "không tính" in reply.plain_text and "nhân thọ" in reply.plain_text
    assert "mấy người" not in reply.plain_text and not AMOUNT.search(reply.plain_text)
    assert "🏥 BHYT hộ gia đình" in reply.button_texts


async def test_unused_number_is_shown_and_asked_then_confirmed(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("bhyt hộ gia đình 5 người 12 tháng 15")
    assert "Mình hiểu: BHYT hộ gia đình · 5 người · 12 tháng." in ask.plain_text
    # the stray number is quoted with the person's words around it, never bare
    assert "“tháng 15”" in ask.plain_text and "Tổng" not in ask.plain_text
    assert ask.button_texts == ["✅ Đúng, tính như vậy", "✏️ Hỏi lại từ đầu"]
    await user.press("✅ Đúng, tính như vậy")
    (answer,) = await user.replies()
    # 1.366.200 + 956.340 + 819.720 + 683.100 + 546.480
    assert "Tổng: 4.371.840 đ" in answer.plain_text


async def test_household_with_covered_members_counts_only_the_rest(harness: BotHarness, emulator: BotApiEmulator) -> None:
    reply = await new_user(emulator).ask(
        "nhà 6 người, 2 người có thẻ hộ nghèo rồi, mua cho mấy người còn lại 6 tháng"
    )
    text = reply.plain_text
    assert "Tính cho: BHYT hộ gia đình · 4 người (2 người đã có thẻ khác không tính) · 6 tháng" in text
    # (113.850 + 79.695 + 68.310 + 56.925) × 6
    assert "Tổng: 1.912.680 đ" in text


async def test_children_in_the_household_are_asked_about(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("2 vợ chồng với 3 đứa nhỏ mua bhyt 12 tháng")
    assert "Mình hiểu" in ask.plain_text and "3 cháu" in ask.plain_text and "Tổng" not in ask.plain_text
    assert ask.button_texts == ["Chỉ tính 2 người lớn", "Tính cả 5 người"]
    await user.press("Chỉ tính 2 người lớn")
    (answer,) = await user.replies()
    assert "Tổng: 2.322.540 đ" in answer.plain_text  # 1.366.200 + 956.340
    assert "3 người đã có thẻ khác không tính" in answer.plain_text


async def test_adults_and_children_typed_as_the_members_answer_are_added(harness: BotHarness, emulator: BotApiEmulator) -> None:
    """Review #2: "3 người lớn 2 trẻ em" is 5 people of whom 3 adults (never 3 of whom 2
    children), also when typed as the answer to "mấy người?"; both buttons give the right sum."""
    user = new_user(emulator)
    ask = await user.ask("bhyt hộ gia đình 12 tháng")
    assert "mấy người" in ask.plain_text
    await user.say("3 người lớn, 2 trẻ em")
    (ask,) = await user.replies()
    assert "Mình hiểu: BHYT hộ gia đình · 5 người · 12 tháng." in ask.plain_text
    assert ask.button_texts == ["Chỉ tính 3 người lớn", "Tính cả 5 người"]
    await user.press("Chỉ tính 3 người lớn")
    (answer,) = await user.replies()
    assert "Tổng: 3.142.260 đ" in answer.plain_text  # 1.366.200 + 956.340 + 819.720
    again = await new_user(emulator).ask("3 người lớn 2 trẻ em mua bảo hiểm y tế 12 tháng")
    assert again.button_texts == ["Chỉ tính 3 người lớn", "Tính cả 5 người"]


async def test_members_with_household_cards_bought_this_year_continue_the_ladder(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    """Review #7: two members already hold household cards; the bot cannot know when they
    bought them, so it asks; "this year" prices the new ones as the 3rd and 4th member."""
    user = new_user(emulator)
    ask = await user.ask(
        "nhà 4 người, 2 người đã có thẻ bhyt hộ gia đình rồi, mua thêm cho 2 người còn lại 12 tháng"
    )
    assert "Tổng" not in ask.plain_text and "người thứ 3" in ask.plain_text
    assert ask.button_texts == ["Họ mua thẻ hộ trong năm nay: tính từ người thứ 3", "Tính như hộ mới"]
    await user.press("Họ mua thẻ hộ trong năm nay: tính từ người thứ 3")
    (answer,) = await user.replies()
    assert "Tổng: 1.502.820 đ" in answer.plain_text  # 819.720 + 683.100
    assert "Người thứ 3: 819.720 đ" in answer.plain_text
    assert "tính tiếp từ người thứ 3 của hộ" in answer.plain_text
    await user.press("Tính như hộ mới")
    (fresh,) = await user.replies()
    assert "Tổng: 2.322.540 đ" in fresh.plain_text  # 1.366.200 + 956.340


async def test_household_follow_up_asks_for_the_period_with_buttons(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("bhyt ho gia dinh 3 nguoi")
    assert "bao lâu" in ask.plain_text
    assert ask.button_texts == ["3 tháng", "6 tháng", "12 tháng"]
    await user.press("12 tháng")
    (answer,) = await user.replies()
    assert "Tổng: 3.142.260 đ" in answer.plain_text


async def test_missing_members_then_typed_answer(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("mua bảo hiểm y tế hộ gia đình hết bao nhiêu")
    assert "mấy người" in ask.plain_text
    ask2 = await user.ask("4")
    assert "bao lâu" in ask2.plain_text
    answer = await user.ask("6 tháng")
    assert "Tổng: 1.912.680 đ" in answer.plain_text


async def test_voluntary_missing_group_and_mode_are_asked_in_turn(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("bhxh tự nguyện 2 triệu")
    assert "nhóm nào" in ask.plain_text
    assert "Người dân khác" in ask.button_texts
    await user.press("Người dân khác")
    (mode,) = await user.replies()
    assert "phương thức" in mode.plain_text
    await user.press("Hằng tháng")
    (answer,) = await user.replies()
    assert "Bạn đóng: 374.000 đ/tháng" in answer.plain_text  # 440.000 − 66.000


async def test_income_below_minimum_is_refused_with_the_limit(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    reply = await user.ask("bhxh tu nguyen 800k")
    assert "thấp nhất là 1.500.000 đ" in reply.plain_text
    assert reply.button_texts == ["Tính với 1.500.000 đ", "Nhập mức khác"]
    await user.press("Tính với 1.500.000 đ")
    (group_q,) = await user.replies()
    assert "nhóm nào" in group_q.plain_text


async def test_income_above_maximum_is_refused_with_the_limit(harness: BotHarness, emulator: BotApiEmulator) -> None:
    reply = await new_user(emulator).ask("bhxh tự nguyện 60 triệu")
    assert "cao nhất là 50.600.000 đ" in reply.plain_text


async def test_too_many_members_and_wrong_period_are_refused(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    reply = await user.ask("bhyt ho gia dinh 25 nguoi 12 thang")
    assert "từ 1 đến 20 người" in reply.plain_text
    reply = await user.ask("bhyt hộ gia đình 2 người 5 tháng")
    assert "3, 6, 12 tháng" in reply.plain_text
    assert reply.button_texts == ["3 tháng", "6 tháng", "12 tháng"]


async def test_date_before_the_rate_tables_is_refused(harness: BotHarness, emulator: BotApiEmulator) -> None:
    reply = await new_user(emulator).ask("bhyt ho gia dinh 2 nguoi 12 thang ngay 01/01/2015")
    assert "chưa có mức đóng cho ngày 01/01/2015" in reply.plain_text
    assert "tính được từ ngày 01/01/2022 trở đi" in reply.plain_text


async def test_the_answer_follows_the_date_of_the_rule_change(
    harness: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    user = new_user(emulator)
    clock.set(datetime(2026, 6, 30, 10, 0, tzinfo=TZ))
    before = await user.ask("bhyt ho gia dinh 1 nguoi 12 thang")
    clock.set(datetime(2026, 7, 1, 10, 0, tzinfo=TZ))
    after = await user.ask("bhyt ho gia dinh 1 nguoi 12 thang")
    assert "Tổng: 1.263.600 đ" in before.plain_text and "2.340.000" in before.plain_text
    assert "Tổng: 1.366.200 đ" in after.plain_text and "2.530.000" in after.plain_text


@pytest.mark.parametrize("text", ["xin chao ban", "asdfgh", "🙂🙂🙂", "thời tiết hôm nay thế nào"])
async def test_unknown_text_gets_a_friendly_reply_with_the_menu(
    harness: BotHarness, emulator: BotApiEmulator, text: str
) -> None:
    reply = await new_user(emulator).ask(text)
    assert reply.button_texts[:2] == ["🏥 BHYT hộ gia đình", "👴 BHXH tự nguyện"]


async def test_user_text_with_markup_characters_is_echoed_safely(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = emulator.user(next(_next_user), first_name="<b>An & *Bình*_</b>")
    hello = await user.ask("/start")
    assert "Chào <b>An & *Bình*_</b>!" in hello.plain_text
    echoed = await user.ask("a < b & c > d *x* _y_ <script>")
    assert "“a < b & c > d *x* _y_ <script>”" in echoed.plain_text
    assert not [r for r in emulator.rejected if r.chat_id == user.chat_id]


async def test_huge_and_odd_messages_get_an_answer_and_nothing_breaks(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    reply = await user.ask("bhyt " + "x" * 4000)
    assert reply.plain_text
    reply = await user.ask("\u0000\u202e\ufeff" + "👨‍👩‍👧" * 300)
    assert reply.plain_text
    assert len(reply.plain_text) <= 4096


async def test_forged_and_stale_buttons_change_nothing(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("bhyt ho gia dinh 3 nguoi")
    await user.press_data(ask.message_id, "q1|h|999999|12|||")
    (reply,) = await user.replies()
    assert "từ 1 đến 20 người" in reply.plain_text
    await user.press_data(ask.message_id, "q1|zz|1|1|1|1|1")
    (reply,) = await user.replies()
    assert "không còn dùng được" in reply.plain_text
    await user.press_data(ask.message_id, "something-else")
    (reply,) = await user.replies()
    assert "không còn dùng được" in reply.plain_text


async def test_a_file_from_a_citizen_gets_a_plain_answer_and_the_menu(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    await user.send_document(filename="the.jpg", content=b"\xff\xd8\xff", mime_type="image/jpeg")
    (reply,) = await user.replies()
    assert "chỉ đọc được tin nhắn chữ" in reply.plain_text
    assert reply.button_texts[0] == "🏥 BHYT hộ gia đình"


async def test_conversation_survives_a_restart(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("bhyt ho gia dinh 3 nguoi")
    assert "bao lâu" in ask.plain_text
    await asyncio.sleep(0.3)  # the persistence writes every 0.2 s, as production does every second
    await harness.restart()
    # The person types the answer instead of tapping: the pending question was remembered.
    answer = await user.ask("12 tháng")
    assert "Tổng: 3.142.260 đ" in answer.plain_text
    # And an old button still works after the restart.
    await user.press_data(ask.message_id, ask.callback_datas[0])
    (answer,) = await user.replies()
    assert "Tổng: 785.565 đ" in answer.plain_text  # 3 months: 341.550 + 239.085 + 204.930


async def test_messages_sent_while_the_bot_was_down_are_answered(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    await harness.stop()
    await user.say("bhyt ho gia dinh 1 nguoi 12 thang")
    await harness.start()
    (answer,) = await user.replies(timeout=10)
    assert "Tổng: 1.366.200 đ" in answer.plain_text


async def test_each_role_sees_its_own_command_menu(harness: BotHarness, emulator: BotApiEmulator) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    await admin.ask("/start")
    bot = harness.application.bot
    admin_menu = [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(ADMIN_ID))]
    assert {"baocao", "moi", "thanhvien"} <= set(admin_menu)
    default_menu = [c.command for c in await bot.get_my_commands()]
    assert {"bhyt", "bhxh", "hethan", "thamgia"} <= set(default_menu)
    assert "ghi" not in default_menu and "moi" not in default_menu


async def test_a_typed_yes_confirms_what_was_understood(harness: BotHarness, emulator: BotApiEmulator) -> None:
    user = new_user(emulator)
    ask = await user.ask("bhyt ho gia dinh 2 nguoi 12 thang, ma 79")
    assert "Mình hiểu: BHYT hộ gia đình · 2 người · 12 tháng." in ask.plain_text and "“ma 79”" in ask.plain_text
    answer = await user.ask("đúng rồi")
    assert "Tổng: 2.322.540 đ" in answer.plain_text  # 1.366.200 + 956.340
    assert answer.plain_text.startswith("Tính cho: BHYT hộ gia đình · 2 người · 12 tháng · ngày 23/11/2026")


async def test_a_message_full_of_stray_numbers_gets_a_short_question(harness: BotHarness, emulator: BotApiEmulator) -> None:
    reply = await new_user(emulator).ask("bhyt 3 người 12 tháng " + " ".join(str(n) for n in range(20, 120)))
    assert "Mình hiểu: BHYT hộ gia đình · 3 người · 12 tháng." in reply.plain_text
    assert "“tháng 20”, “21”, “22”, “23”, …" in reply.plain_text
    assert len(reply.plain_text) < 600 and "Tổng" not in reply.plain_text


async def test_a_typed_answer_fills_every_field_it_states(harness: BotHarness, emulator: BotApiEmulator) -> None:
    """Second review #7, #19: a typed answer to "mấy người?" never drops what else it says,
    and "2 vợ chồng" / "cả nhà 5" keep the period already given."""
    user = new_user(emulator)
    ask = await user.ask("bhyt hộ gia đình")
    assert "mấy người" in ask.plain_text
    answer = await user.ask("3 người 6 tháng")
    assert "Tổng: 1.571.130 đ" in answer.plain_text  # (113.850 + 79.695 + 68.310) x 6
    assert answer.plain_text.startswith("Tính cho: BHYT hộ gia đình · 3 người · 6 tháng")
    for typed, total in (("2 vợ chồng", "2.322.540 đ"), ("cả nhà 5", "4.371.840 đ")):
        other = new_user(emulator)
        ask = await other.ask("bhyt hộ gia đình 12 tháng")
        assert "mấy người" in ask.plain_text
        answer = await other.ask(typed)
        assert f"Tổng: {total}" in answer.plain_text, (typed, answer.plain_text)
        assert "12 tháng" in answer.plain_text


async def test_a_typed_answer_with_a_date_uses_that_date(harness: BotHarness, emulator: BotApiEmulator) -> None:
    """"1tr5 từ 1/1/2027" typed as the income: the 2027 minimum applies (refused below it)."""
    user = new_user(emulator)
    ask = await user.ask("bhxh tự nguyện hộ nghèo 12 tháng")
    assert "Bạn đóng" not in ask.plain_text
    reply = await user.ask("1tr5 từ 1/1/2027")
    assert "2.200.000 đ" in reply.plain_text and "Bạn đóng" not in reply.plain_text


async def test_a_negated_group_or_a_negative_number_typed_is_never_selected(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    """"k phải hộ nghèo" typed to "nhóm nào?" never selects Hộ nghèo; "-3" is not 3."""
    user = new_user(emulator)
    ask = await user.ask("bhxh tự nguyện 2 triệu hằng tháng")
    assert "nhóm nào" in ask.plain_text
    await user.say("k phải hộ nghèo")
    replies = await user.replies()
    assert replies and all("Bạn đóng" not in r.plain_text for r in replies), [r.plain_text for r in replies]
    other = new_user(emulator)
    ask = await other.ask("bhyt hộ gia đình 2 người")
    assert "bao lâu" in ask.plain_text
    await other.say("-3")
    replies = await other.replies()
    assert replies and all("Tổng" not in r.plain_text for r in replies), [r.plain_text for r in replies]


async def test_a_child_under_six_typed_with_the_count_is_asked_about(harness: BotHarness, emulator: BotApiEmulator) -> None:
    """Second review #12: "3 người, 1 đứa dưới 6 tuổi" typed to "mấy người?" keeps the period
    and asks; counting the two adults gives 1.366.200 + 956.340."""
    user = new_user(emulator)
    await user.ask("bhyt hộ gia đình 12 tháng")
    await user.say("3 người, 1 đứa dưới 6 tuổi")
    (ask,) = await user.replies()
    assert ask.button_texts == ["Chỉ tính 2 người lớn", "Tính cả 3 người"]
    await user.press("Chỉ tính 2 người lớn")
    (answer,) = await user.replies()
    assert "Tổng: 2.322.540 đ" in answer.plain_text
