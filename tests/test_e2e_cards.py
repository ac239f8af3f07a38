"""Lapsed cards end to end through the emulator: importing lists as documents, linking by the
person's own contact, /hethan, the reminder buttons, and the agents' /danhsach."""

from __future__ import annotations

import codecs
import csv
import io
import threading
from importlib import resources

import openpyxl
import pytest

from bot.domain.records import CLI_ACTOR, UnitRecord
from bot.domain.roles import Role
from bot.imports import tables
from bot.services import Services
from devtools import hostile_files as hostile
from devtools.telegram_emulator import BotApiEmulator, EmulatedUser
from tests.conftest import ADMIN_ID, DEFAULT_NOW, BotHarness

SAMPLES = resources.files("bot") / "data" / "samples"
CSV = (SAMPLES / "the_het_han_2026.csv").read_bytes()
XLSX = (SAMPLES / "the_het_han_2026.xlsx").read_bytes()
# Kim Thị Linh's card (household HGD130001 with Kim Bích Lan, Xã Nhị Long CL13) carries this phone.
LINH_PHONE = "0791566859"
AGENT_ID, OFFICIAL_ID, CITIZEN_ID, OTHER_ID = 6101, 6102, 6103, 6104


async def seed(services: Services) -> None:
    await services.units.import_tree(
        [
            UnitRecord("CL", "Huyện Càng Long", None, "huyện"),
            UnitRecord("CL13", "Xã Nhị Long", "CL", "xã", pay_points="Đại lý thu Ấp 1, Xã Nhị Long"),
            UnitRecord("CL07", "Xã Tân Bình", "CL", "xã"),
        ],
        [], [], DEFAULT_NOW,
    )
    await services.members.add(full_name="Ngô Thị Sáu", role=Role.AGENT, unit_code="CL13", actor=CLI_ACTOR,
                               at=DEFAULT_NOW, user_id=AGENT_ID, channel="telegram")
    await services.members.add(full_name="Phan Văn Bảy", role=Role.OFFICIAL, unit_code="CL", actor=CLI_ACTOR,
                               at=DEFAULT_NOW, user_id=OFFICIAL_ID, channel="telegram")


async def import_sample(services: Services) -> None:
    await services.cards.import_list(CSV, "the_het_han_2026.csv", None)


async def cards_count(harness: BotHarness) -> int:
    return await harness.services.cards.repo.count()


# --------------------------------------------------------------------------- importing lists


async def test_admin_sends_the_sample_list_and_gets_the_report(harness: BotHarness, emulator: BotApiEmulator) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    await admin.send_document("the_het_han_2026.csv", CSV)
    (report,) = await admin.replies(timeout=10)
    text = report.plain_text
    assert "372 dòng, nhập 369 người" in text and "Thêm mới 369" in text
    for line in ("Dòng 13", "Dòng 21", "Dòng 42", "Dòng 373: lặp lại dòng 27"):
        assert line in text
    assert "45 người không có số điện thoại" in text
    await admin.send_document("the_het_han_2026.xlsx", XLSX)
    (again,) = await admin.replies(timeout=10)
    assert "không đổi 369" in again.plain_text and "Dòng 15" in again.plain_text
    assert await cards_count(harness) == 369


async def test_wrong_people_and_broken_files_write_nothing(harness: BotHarness, emulator: BotApiEmulator) -> None:
    citizen = emulator.user(CITIZEN_ID, first_name="Tư")
    await citizen.send_document("danh_sach.xlsx", XLSX)
    (refusal,) = await citizen.replies()
    assert "Chỉ cán bộ phụ trách hoặc quản trị" in refusal.plain_text
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    for name, content, expected in (
        ("hong.xlsx", b"PK\x03\x04 broken zip", "Tệp bị hỏng"),
        ("cu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old", ".xlsx"),
        ("sai_cot.csv", "Họ và tên,Mã số BHXH\nA,8423000001\n".encode(), "Mã đơn vị, Hạn thẻ đến"),
        ("trong.csv", b"", "không có dòng"),
    ):
        await admin.send_document(name, content)
        (answer,) = await admin.replies()
        assert expected in answer.plain_text and "Chưa nhập gì" in answer.plain_text
    assert await cards_count(harness) == 0


async def test_an_official_imports_only_inside_their_units(harness: BotHarness, emulator: BotApiEmulator) -> None:
    await seed(harness.services)
    await harness.services.members.add(full_name="Cán bộ xã", role=Role.OFFICIAL, unit_code="CL13",
                                       actor=CLI_ACTOR, at=DEFAULT_NOW, user_id=6109, channel="telegram")
    commune = emulator.user(6109, first_name="Chín")
    await commune.send_document("the_het_han_2026.csv", CSV)
    (report,) = await commune.replies(timeout=10)
    # 19 rows of Xã Nhị Long, one without a BHXH code; the other communes are outside.
    assert "nhập 18 người" in report.plain_text and "ngoài phạm vi" in report.plain_text
    assert await cards_count(harness) == 18


# --------------------------------------------------------------------------- linking


async def test_own_contact_links_the_household_and_hethan_shows_status_and_cost(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    await seed(harness.services)
    await import_sample(harness.services)
    person = emulator.user(CITIZEN_ID, first_name="Linh", phone="+84 791 566 859")
    await person.say("/hethan")
    (ask,) = await person.replies()
    (button,) = [b for row in ask.keyboard for b in row]
    assert button.text == "📱 Chia sẻ số điện thoại" and button.request_contact
    await person.share_contact()
    linked, overview = await person.replies(count=2)
    assert "Đã liên kết 2 thẻ BHYT với số 0791***859" in linked.plain_text
    text = overview.plain_text
    assert "Kim Thị Linh" in text and "Kim Bích Lan" in text and "8423000925" not in text
    assert "hết hạn ngày 03/09/2026 (đã quá 81 ngày)" in text
    assert "Gia hạn 12 tháng cho hộ 2 người: 2.322.540 đ" in text
    assert "03/12/2026" in text  # last day to renew without the 30-day wait
    assert overview.button_texts == ["Tính chi phí khác", "Tôi đã gia hạn", "Không nhận nhắc nữa"]
    assert await harness.services.cards.repo.phone_of(CITIZEN_ID, channel="telegram") == LINH_PHONE


async def test_a_forged_contact_links_nothing(harness: BotHarness, emulator: BotApiEmulator) -> None:
    await import_sample(harness.services)
    person = emulator.user(CITIZEN_ID, first_name="Tư")
    await person.share_contact(LINH_PHONE, own=False)  # someone else's card, no user id
    await person.share_contact(LINH_PHONE, own=False, contact_user_id=OTHER_ID)  # another user's
    for answer in await person.replies(count=2):
        assert "số điện thoại của chính bạn" in answer.plain_text and "Chưa có gì thay đổi" in answer.plain_text
    assert await harness.services.cards.repo.phone_of(CITIZEN_ID, channel="telegram") is None
    assert await harness.services.storage.db.fetchval("SELECT COUNT(*) FROM contact_phones") == 0
    await person.say("/hethan")
    (ask,) = await person.replies()
    assert "Chia sẻ số điện thoại" in ask.plain_text


async def test_an_unknown_number_is_said_plainly(harness: BotHarness, emulator: BotApiEmulator) -> None:
    await import_sample(harness.services)
    person = emulator.user(CITIZEN_ID, first_name="Tư", phone="0999888777")
    await person.share_contact()
    (answer,) = await person.replies()
    assert "Chưa tìm thấy thẻ BHYT nào có số 0999***777" in answer.plain_text
    assert await harness.services.cards.repo.phone_of(CITIZEN_ID, channel="telegram") is None


# --------------------------------------------------------------------------- buttons and choices


async def linked_person(harness: BotHarness, emulator: BotApiEmulator) -> EmulatedUser:
    await seed(harness.services)
    await import_sample(harness.services)
    person = emulator.user(CITIZEN_ID, first_name="Linh", phone=LINH_PHONE)
    await person.share_contact()
    await person.replies(count=2)
    return person


async def test_buttons_recompute_claim_undo_stop_and_resume(harness: BotHarness, emulator: BotApiEmulator) -> None:
    person = await linked_person(harness, emulator)
    services = harness.services
    await person.press("Tính chi phí khác")
    (ask,) = await person.replies()
    assert ask.button_texts == ["3 tháng", "6 tháng", "12 tháng"]
    await person.press("6 tháng")
    (six,) = await person.replies()
    assert "Gia hạn 6 tháng cho hộ 2 người: 1.161.270 đ" in six.plain_text

    await person.press_data(six.message_id, "rc:m:5")  # forged: not a choice
    await person.press_data(six.message_id, "rc:xóa-hết")
    for answer in await person.replies(count=2):
        assert "không còn dùng được" in answer.plain_text

    await person.say("/hethan")
    (overview,) = await person.replies()
    await person.press("Tôi đã gia hạn")
    (claimed,) = await person.replies()
    assert "Kim Thị Linh" in claimed.plain_text and claimed.button_texts == ["Tôi bấm nhầm"]
    assert await services.storage.db.fetchval("SELECT COUNT(*) FROM renewal_claims WHERE status = 'pending'") == 2
    mine = await services.cards.my_cards(CITIZEN_ID, channel="telegram")
    assert all(c.claimed for c in mine.cards)
    await person.press("Tôi bấm nhầm")
    (undone,) = await person.replies()
    assert "Đã bỏ báo gia hạn" in undone.plain_text
    assert await services.storage.db.fetchval("SELECT COUNT(*) FROM renewal_claims") == 0

    await person.press_data(overview.message_id, "rc:stop")
    stopped = await person.replies()
    assert "Đã dừng nhắc" in stopped[0].plain_text
    assert await services.reminders.is_opted_out(CITIZEN_ID, channel="telegram")
    await person.say("/nhac")
    (resumed,) = await person.replies()
    assert "Đã bật nhắc" in resumed.plain_text and "tối đa 3 lần" in resumed.plain_text
    # Each person's updates are handled in order: the stop press, swap included, is done by now.
    (pressed,) = [m for m in emulator.messages_for(CITIZEN_ID) if m.message_id == overview.message_id]
    assert pressed.button_texts == ["Tính chi phí khác", "Tôi đã gia hạn", "Nhận nhắc lại"]
    assert not await services.reminders.is_opted_out(CITIZEN_ID, channel="telegram")
    await person.say("/dunglai")
    await person.say("/dunglai")
    first, second = await person.replies(count=2)
    assert "Đã dừng nhắc" in first.plain_text and "đã dừng nhắc từ trước" in second.plain_text


async def test_buttons_of_an_unlinked_person_change_nothing(harness: BotHarness, emulator: BotApiEmulator) -> None:
    person = emulator.user(OTHER_ID, first_name="Lạ")
    message_id = await person.say("xin chào")
    await person.replies()
    await person.press_data(message_id, "rc:done")
    (answer,) = await person.replies()
    assert "chưa liên kết" in answer.plain_text
    assert await harness.services.storage.db.fetchval("SELECT COUNT(*) FROM renewal_claims") == 0


# --------------------------------------------------------------------------- the agents' list


def read_xlsx(content: bytes) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(r) for r in book.active.iter_rows(values_only=True)]


async def test_danhsach_for_the_agent_with_phones_of_their_unit(harness: BotHarness, emulator: BotApiEmulator) -> None:
    await seed(harness.services)
    await import_sample(harness.services)
    agent = emulator.user(AGENT_ID, first_name="Sáu")
    await agent.say("/danhsach")
    text, document = await agent.replies(count=2)
    body = text.plain_text
    assert "Xã Nhị Long" in body and "18 người" in body
    assert "0791566859" in body  # the agent responsible for CL13 sees phones
    assert "8423000925" not in body and "84*****925" in body
    rows = read_xlsx(document.file_bytes or b"")
    header = rows[2]
    assert header[:3] == ("STT", "Họ và tên", "Mã số BHXH")
    data = rows[3:]
    assert len(data) == 18
    expiries = [r[6] for r in data]
    assert expiries == sorted(expiries, key=lambda d: (d[6:], d[3:5], d[:2]))
    assert any(r[8] == "0791566859" for r in data)


async def test_danhsach_for_an_official_hides_phones_and_citizens_are_refused(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    await seed(harness.services)
    await import_sample(harness.services)
    official = emulator.user(OFFICIAL_ID, first_name="Bảy")
    await official.say("/danhsach")
    text, document = await official.replies(count=2)
    assert "Huyện Càng Long" in text.plain_text and "chỉ hiện với người thu" in text.plain_text
    assert len(text.plain_text) < 4096
    rows = read_xlsx(document.file_bytes or b"")[3:]
    assert len(rows) == 47 and {r[5] for r in rows} == {"CL07", "CL13"}  # the units of the tree
    assert all(r[8] in (None, "", "(ẩn)") for r in rows)  # no phone for an overseer
    citizen = emulator.user(CITIZEN_ID, first_name="Tư")
    await citizen.say("/danhsach")
    (refusal,) = await citizen.replies()
    assert "dành cho người thu" in refusal.plain_text


@pytest.mark.parametrize("text", ["/hethan " + "x" * 5000, "/nhac 😀😀", "/danhsach ; DROP TABLE cards"])
async def test_odd_input_gets_an_answer(harness: BotHarness, emulator: BotApiEmulator, text: str) -> None:
    person = emulator.user(CITIZEN_ID, first_name="Tư")
    await person.say(text)
    (answer,) = await person.replies()
    assert answer.plain_text


async def test_danhsach_for_an_admin_covers_every_card_even_before_units_exist(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    await import_sample(harness.services)
    lapsed = await harness.services.storage.db.fetchval("SELECT COUNT(*) FROM cards WHERE valid_to < '2026-11-23'")
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    await admin.say("/danhsach")
    text, document = await admin.replies(count=2)
    assert "tất cả đơn vị" in text.plain_text and f"{lapsed} người" in text.plain_text
    assert len(read_xlsx(document.file_bytes or b"")[3:]) == lapsed > 300


# --------------------------------------------------------------------------- review fixes

COMMUNE_OFFICIAL_ID = 6109
SHORT_HEADER = "Họ và tên,Mã số BHXH,Số điện thoại,Địa chỉ,Mã đơn vị,Hạn thẻ đến"


async def commune_official(harness: BotHarness, emulator: BotApiEmulator) -> EmulatedUser:
    """An official of Xã Nhị Long (CL13) only; the sample list is on file."""
    await seed(harness.services)
    await import_sample(harness.services)
    await harness.services.members.add(full_name="Cán bộ xã", role=Role.OFFICIAL, unit_code="CL13",
                                       actor=CLI_ACTOR, at=DEFAULT_NOW, user_id=COMMUNE_OFFICIAL_ID, channel="telegram")
    return emulator.user(COMMUNE_OFFICIAL_ID, first_name="Chín")


async def test_an_official_cannot_take_over_a_card_of_another_unit(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    official = await commune_official(harness, emulator)
    before = await harness.services.cards.repo.get("8423001330")  # Trần Thanh Cường, Xã Tân Bình (CL07)
    assert before is not None and before.unit_code == "CL07"
    upload = "\n".join([
        SHORT_HEADER,
        "Trần Thanh Cường,8423001330,0911111111,Ấp 1,CL13,31/12/2027",  # a CL07 person moved to CL13
        "Người Xã Khác,8429999999,0922222222,Ấp 9,CL07,31/12/2027",  # a row of another unit
        "Người Mới,8428888888,0933333333,Ấp 2,CL13,31/12/2027",  # in scope: taken
    ]).encode()
    await official.send_document("chiem_the.csv", upload)
    (report,) = await official.replies(timeout=10)
    text = report.plain_text
    assert "nhập 1 người" in text and "Thêm mới 1 · cập nhật 0" in text
    # Both refused rows read the same: nothing says the first code is on file in another unit.
    line_2 = next(line for line in text.splitlines() if line.startswith("• Dòng 2:"))
    line_3 = next(line for line in text.splitlines() if line.startswith("• Dòng 3:"))
    assert "ngoài phạm vi" in line_2
    assert line_2.removeprefix("• Dòng 2:") == line_3.removeprefix("• Dòng 3:")
    assert "CL07" not in text and "Tân Bình" not in text
    assert await harness.services.cards.repo.get("8423001330") == before  # unit and phone unchanged
    assert await harness.services.cards.repo.get("8429999999") is None
    assert await harness.services.cards.repo.get("8428888888") is not None


async def test_the_import_report_masks_codes_and_phones(harness: BotHarness, emulator: BotApiEmulator) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    upload = "\n".join([
        SHORT_HEADER,
        "Lê Văn A,84000000012,0912345678,Ấp 1,CL13,31/12/2026",  # 11 digits: refused
        "Lê Văn B,8423000111,091234567,Ấp 1,CL13,31/12/2026",  # 9-digit phone: dropped
    ]).encode()
    await admin.send_document("sai_so.csv", upload)
    (report,) = await admin.replies(timeout=10)
    text = report.plain_text
    assert "84000000012" not in text and "091234567" not in text
    assert "(84******012)" in text and "(0912***567)" in text


async def test_a_chat_upload_over_the_row_cap_is_refused_and_writes_nothing(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    rows = [f"Người {i},{8400000000 + i},,,CL13,31/12/2026" for i in range(20_001)]
    await admin.send_document("qua_lon.csv", "\n".join([SHORT_HEADER, *rows]).encode())
    (answer,) = await admin.replies(timeout=20)
    text = answer.plain_text
    assert "20.000 dòng" in text and "bhxh-bot import cards" in text and "Chưa nhập gì" in text
    assert await cards_count(harness) == 0


async def test_parsing_and_the_workbook_run_off_the_event_loop(
    harness: BotHarness, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heavy work (opening and reading an upload, saving /danhsach) happens in worker
    threads: a 200.000-row file used to freeze every chat and job for a minute."""
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}
    load, save = tables._Workbook.__init__, openpyxl.Workbook.save

    def spy_load(self: tables._Workbook, *args: object, **kwargs: object) -> None:
        threads["load"] = threading.get_ident()
        load(self, *args, **kwargs)

    def spy_save(self: openpyxl.Workbook, *args: object, **kwargs: object) -> None:
        threads["save"] = threading.get_ident()
        save(self, *args, **kwargs)

    monkeypatch.setattr(tables._Workbook, "__init__", spy_load)
    monkeypatch.setattr(openpyxl.Workbook, "save", spy_save)
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    await admin.send_document("the_het_han_2026.xlsx", XLSX)
    (report,) = await admin.replies(timeout=10)
    assert "nhập 369 người" in report.plain_text
    await admin.say("/danhsach")
    _, document = await admin.replies(count=2, timeout=10)
    assert document.file_bytes
    assert threads.keys() == {"load", "save"}
    assert threads["load"] != loop_thread and threads["save"] != loop_thread


async def test_nhac_clears_opt_out_and_block_together_or_not_at_all(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    person = await linked_person(harness, emulator)
    db = harness.services.storage.db
    await person.say("/dunglai")
    await person.replies()
    await db.execute(
        "INSERT INTO reminder_blocks(channel, user_id, blocked_at, blocked_on) VALUES ('telegram', ?, ?, ?)",
        (CITIZEN_ID, DEFAULT_NOW.isoformat(), DEFAULT_NOW.date().isoformat()),
    )
    # The second write of /nhac fails: the first must not stay written on its own.
    await db.execute(
        "CREATE TRIGGER no_unblock BEFORE UPDATE ON reminder_blocks BEGIN SELECT RAISE(ABORT, 'test'); END"
    )
    await person.say("/nhac")
    await person.replies()  # the error safety net answers
    assert await harness.services.reminders.is_opted_out(CITIZEN_ID, channel="telegram")
    assert await harness.services.reminders.repo.is_blocked(CITIZEN_ID, channel="telegram")
    await db.execute("DROP TRIGGER no_unblock")
    await person.say("/nhac")
    (resumed,) = await person.replies()
    assert "Đã bật nhắc" in resumed.plain_text
    assert not await harness.services.reminders.is_opted_out(CITIZEN_ID, channel="telegram")
    assert not await harness.services.reminders.repo.is_blocked(CITIZEN_ID, channel="telegram")


async def test_names_and_addresses_never_become_formulas_in_danhsach(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    risky = {
        "8427000001": ('=HYPERLINK("http://x.example/"&A1)', "+84 Ấp 1"),
        "8427000002": ("@SUM(1+1)", "-2+3 Ấp 2"),
    }
    lines = [SHORT_HEADER] + [
        f'"{name.replace(chr(34), chr(34) * 2)}",{code},,"{address}",CL13,01/09/2026'
        for code, (name, address) in risky.items()
    ]
    await harness.services.cards.import_list("\n".join(lines).encode(), "x.csv", None)
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    await admin.say("/danhsach")
    _, document = await admin.replies(count=2, timeout=10)
    sheet = openpyxl.load_workbook(io.BytesIO(document.file_bytes or b"")).active
    cells = {row[2].value: row for row in sheet.iter_rows(min_row=4)}
    assert len(cells) == 2
    for code, (name, address) in risky.items():
        row = cells[f"{code[:2]}*****{code[-3:]}"]
        assert (row[1].value, row[1].data_type) == (name, "s")
        assert (row[4].value, row[4].data_type) == (address, "s")


# --------------------------------------------------------------------------- uploads by content, hostile files, responsiveness


async def test_a_list_is_recognised_by_content_whatever_its_name(harness: BotHarness, emulator: BotApiEmulator) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    await admin.send_document("danh_sach", XLSX)  # an XLSX that lost its extension
    (first,) = await admin.replies(timeout=10)
    assert "nhập 369 người" in first.plain_text and "Thêm mới 369" in first.plain_text
    text = CSV.decode("utf-8-sig")
    unicode_text = "\n".join("\t".join(row) for row in csv.reader(io.StringIO(text)))
    for name, content in (
        ("ds.txt", CSV),  # a CSV saved as .txt
        ("Unicode text.txt", codecs.BOM_UTF16_LE + unicode_text.encode("utf-16-le")),  # Excel "Unicode text"
        ("ansi.csv", hostile.to_cp1258(text.replace("\r\n", "\n"))),  # Windows-1258, decomposed tones
    ):
        await admin.send_document(name, content)
        (report,) = await admin.replies(timeout=10)
        assert "cập nhật 0" in report.plain_text and "không đổi 369" in report.plain_text, name
    assert await cards_count(harness) == 369
    for name, content, expected in (
        ("bien_ban.pdf", b"%PDF-1.4 not a list", "Bot chỉ đọc được tệp"),
        ("ghi_chu.txt", "Họp tổ ngày mai lúc 8 giờ\n".encode(), "không giống danh sách thẻ"),
    ):
        await admin.send_document(name, content)
        (answer,) = await admin.replies()
        assert expected in answer.plain_text and "Chưa nhập gì" in answer.plain_text, name
    citizen = emulator.user(CITIZEN_ID, first_name="Tư")
    await citizen.send_document("danh_sach", XLSX)  # no list extension: the citizens' usual reply
    (polite,) = await citizen.replies()
    assert "chỉ đọc được tin nhắn chữ" in polite.plain_text
    await citizen.send_document("ds.csv", CSV)
    (refusal,) = await citizen.replies()
    assert "Chỉ cán bộ phụ trách hoặc quản trị" in refusal.plain_text
    assert await cards_count(harness) == 369


async def test_hostile_workbooks_are_refused_with_a_reason_and_write_nothing(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    for name, content, expected in (
        ("xfd.xlsx", hostile.huge_declared_range(), "Trang tính khai báo"),
        ("dong_cuoi.xlsx", hostile.last_row_numbered(), "20.000 dòng"),
        ("bom.xlsx", hostile.zip_bomb(100), "giải nén"),
        ("chu.xlsx", hostile.many_shared_strings(300_000, declared=False), "ô chữ khác nhau"),
    ):
        await admin.send_document(name, content)
        (answer,) = await admin.replies(timeout=20)
        assert expected in answer.plain_text and "Chưa nhập gì" in answer.plain_text, name
    assert await cards_count(harness) == 0


async def test_another_person_is_answered_while_a_big_upload_is_imported(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    """Order, not time: the citizen's answer is sent before the admin's import report, and
    the admin's own next message waits for their upload (each person in order)."""
    big = hostile.xlsx_of(
        [hostile.row_xml(1, hostile.CARD_HEADER), *hostile.card_rows(19_999)], dimension="A1:D20000"
    )
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    citizen = emulator.user(CITIZEN_ID, first_name="Tư")
    await admin.send_document("lon.xlsx", big)
    await admin.say("bhyt hộ gia đình 2 người 12 tháng")
    await citizen.say("bhyt hộ gia đình 3 người 12 tháng")
    (answer,) = await citizen.replies(timeout=30)
    assert "3 người" in answer.plain_text
    report, admin_answer = await admin.replies(count=2, timeout=60)
    assert "nhập 19999 người" in report.plain_text
    assert "2 người" in admin_answer.plain_text
    order = [m for m in emulator.sent if m.chat_id in (ADMIN_ID, CITIZEN_ID)]
    assert order.index(answer) < order.index(report) < order.index(admin_answer)
    assert await cards_count(harness) == 19_999
