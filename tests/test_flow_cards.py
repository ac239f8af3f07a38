"""The lapsed-card flow through the recording channel (no Telegram): linking by a verified phone,
someone else's contact, a Zalo person, the reminder buttons, /danhsach, and documents that are
fetched only when the role and the announced size allow it."""

from __future__ import annotations

import io
from collections.abc import Sequence

import openpyxl
import pytest

from bot.chat.flow import Flow, Turn
from bot.chat.flows import cards as cards_flow
from bot.chat.model import DocumentIn, Out, Person, Reply, SwapButtons
from bot.chat.rich import t, to_html
from bot.chat.router import Conversations
from bot.chat.texts import cards as texts
from bot.imports.cards import MAX_FILE_BYTES
from storage.sqlite.sessions import IdentityRepository, SessionRepository
from tests.conftest import ADMIN_ID
from tests.flow_harness import FlowWorld, RecordingChat
from tests.test_e2e_cards import AGENT_ID, CITIZEN_ID, CSV, LINH_PHONE, seed

ZALO_ID = "4013876543210987654"  # a Zalo user id: 19 digits, text everywhere


async def sample(world: FlowWorld) -> None:
    await seed(world.services)
    await world.services.cards.import_list(CSV, "the_het_han_2026.csv", None)


async def linked_phones(world: FlowWorld) -> int:
    return int(await world.services.storage.db.fetchval("SELECT COUNT(*) FROM contact_phones"))


async def claims(world: FlowWorld) -> int:
    return int(await world.services.storage.db.fetchval("SELECT COUNT(*) FROM renewal_claims"))


# --------------------------------------------------------------------------- linking


async def test_own_phone_links_the_household_and_hethan_shows_it(world: FlowWorld) -> None:
    await sample(world)
    chat = world.chat(CITIZEN_ID, first_name="Linh")
    await chat.text("/hethan")
    (ask,) = chat.replies()
    assert ask.ask_phone and not ask.buttons and "Chia sẻ số điện thoại" in ask.text.plain
    assert "<b>📱 Chia sẻ số điện thoại</b>" in to_html(ask.text)  # the button's name in bold

    await chat.phone(LINH_PHONE)
    linked, overview = chat.replies()
    assert "Đã liên kết 2 thẻ BHYT với số 0791***859" in linked.text.plain
    assert not linked.ask_phone and not linked.buttons
    assert "Kim Thị Linh" in overview.text.plain and "Kim Bích Lan" in overview.text.plain
    assert "8423000925" not in overview.text.plain and "84*****925" in overview.text.plain
    assert "Gia hạn 12 tháng cho hộ 2 người: 2.322.540 đ" in overview.text.plain
    assert "<b>2.322.540 đ</b>" in to_html(overview.text)
    assert chat.labels() == ["Tính chi phí khác", "Tôi đã gia hạn", "Không nhận nhắc nữa"]
    assert [b.payload for b in chat.buttons()] == ["rc:cost", "rc:done", "rc:stop"]
    assert await world.services.cards.repo.phone_of(CITIZEN_ID, "telegram") == LINH_PHONE

    await chat.text("/hethan")  # linked now: the overview, no phone request
    (again,) = chat.replies()
    assert not again.ask_phone and again.text == overview.text


async def test_someone_elses_contact_changes_nothing_and_asks_again(world: FlowWorld) -> None:
    await sample(world)
    chat = world.chat(CITIZEN_ID, first_name="Tư")
    await chat.foreign_contact()
    (answer,) = chat.replies()
    assert answer.ask_phone
    assert "số điện thoại của chính bạn" in answer.text.plain and "Chưa có gì thay đổi" in answer.text.plain
    assert await linked_phones(world) == 0
    await chat.text("/hethan")
    (ask,) = chat.replies()
    assert ask.ask_phone and ask.text == texts.ASK_CONTACT


async def test_bad_and_unknown_phones_link_nothing(world: FlowWorld) -> None:
    await sample(world)
    chat = world.chat(CITIZEN_ID)
    await chat.phone("+1 202 555 0100")  # not Vietnamese
    assert chat.said() == texts.BAD_PHONE
    await chat.phone("0999888777")  # Vietnamese, on no card
    assert "Chưa tìm thấy thẻ BHYT nào có số 0999***777" in chat.said() and "Chưa có gì thay đổi" in chat.said()
    assert await linked_phones(world) == 0


async def test_a_zalo_person_links_by_their_verified_phone_and_uses_the_buttons(world: FlowWorld) -> None:
    await sample(world)
    chat = world.chat(ZALO_ID, channel="zalo_oa", first_name="Linh")
    await chat.text("/hethan")
    (ask,) = chat.replies()
    assert ask.ask_phone
    await chat.phone(LINH_PHONE)
    linked, overview = chat.replies()
    assert "Đã liên kết 2 thẻ BHYT" in linked.text.plain and "Kim Thị Linh" in overview.text.plain
    user_id = await world.services.storage.identities.user_id("zalo_oa", ZALO_ID, world.clock.now())
    assert await world.services.cards.repo.phone_of(user_id, "zalo_oa") == LINH_PHONE
    assert await world.services.cards.repo.phone_of(user_id, "telegram") is None  # channels kept apart

    await chat.press_label("Tôi đã gia hạn")
    assert "Kim Thị Linh" in chat.said() and chat.labels() == ["Tôi bấm nhầm"]
    assert await world.services.storage.db.fetchval(
        "SELECT COUNT(*) FROM renewal_claims WHERE channel = 'zalo_oa' AND user_id = ?", (user_id,)
    ) == 2
    await chat.press_label("Tôi bấm nhầm")
    assert "Đã bỏ báo gia hạn" in chat.said() and await claims(world) == 0
    await chat.text("/dunglai")
    assert chat.said() == texts.STOPPED
    assert await world.services.reminders.is_opted_out(user_id, channel="zalo_oa")
    assert not await world.services.reminders.is_opted_out(user_id, channel="telegram")


# --------------------------------------------------------------------------- buttons


async def linked(world: FlowWorld) -> RecordingChat:
    await sample(world)
    chat = world.chat(CITIZEN_ID, first_name="Linh")
    await chat.phone(LINH_PHONE)
    return chat


async def test_stop_and_resume_swap_the_pressed_messages_button(world: FlowWorld) -> None:
    chat = await linked(world)
    reminders = world.services.reminders
    await chat.press(texts.CB_STOP)
    reply, swap = chat.last
    assert isinstance(reply, Reply) and reply.text == t(texts.STOPPED)
    assert isinstance(swap, SwapButtons)
    assert [b.label for row in swap.buttons for b in row] == ["Tính chi phí khác", "Tôi đã gia hạn", "Nhận nhắc lại"]
    assert await reminders.is_opted_out(CITIZEN_ID, channel="telegram")
    await chat.press(texts.CB_STOP)
    assert texts.ALREADY_STOPPED in chat.said()

    await chat.press(texts.CB_RESUME)
    resumed, swap_back = chat.last
    assert isinstance(resumed, Reply) and "Đã bật nhắc" in resumed.text.plain and not resumed.ask_phone
    assert isinstance(swap_back, SwapButtons) and swap_back.buttons == texts.reminder_buttons(opted_out=False)
    assert not await reminders.is_opted_out(CITIZEN_ID, channel="telegram")
    await chat.text("/hethan")
    assert chat.labels()[-1] == "Không nhận nhắc nữa"


async def test_months_claim_and_undo(world: FlowWorld) -> None:
    chat = await linked(world)
    await chat.press_label("Tính chi phí khác")
    assert chat.said() == texts.ASK_MONTHS and chat.labels() == ["3 tháng", "6 tháng", "12 tháng"]
    await chat.press_label("6 tháng")
    assert "Gia hạn 6 tháng cho hộ 2 người: 1.161.270 đ" in chat.said()
    await chat.press(texts.CB_RENEWED)
    assert "Cảm ơn bạn!" in chat.said() and await claims(world) == 2
    await chat.press(texts.CB_RENEWED)  # nothing left to claim
    assert chat.said() == texts.NOTHING_TO_CLAIM
    await chat.press(texts.CB_UNDO)
    assert chat.said() == texts.CLAIM_UNDONE and await claims(world) == 0
    await chat.press(texts.CB_UNDO)
    assert chat.said() == texts.NOTHING_TO_UNDO


@pytest.mark.parametrize("payload", ["rc:m:5", "rc:m:", "rc:m:012", "rc:m:3x", "rc:xóa-hết", "rc:", "rc:stop2"])
async def test_forged_buttons_answer_and_change_nothing(world: FlowWorld, payload: str) -> None:
    chat = await linked(world)
    await chat.press(payload)
    assert chat.said() == texts.BUTTON_EXPIRED and not chat.buttons()
    assert await claims(world) == 0 and not await world.services.reminders.is_opted_out(CITIZEN_ID, channel="telegram")


async def test_buttons_of_an_unlinked_person_change_nothing(world: FlowWorld) -> None:
    await sample(world)
    chat = world.chat(CITIZEN_ID + 1)
    for payload in (texts.CB_RENEWED, texts.CB_COST, f"{texts.CB_MONTHS}6", texts.CB_UNDO):
        await chat.press(payload)
        (answer,) = chat.replies()
        assert answer.ask_phone and "chưa liên kết" in answer.text.plain
    await chat.press(texts.CB_CARDS)  # "Thẻ của tôi" from the menu: the same as /hethan
    (ask,) = chat.replies()
    assert ask.ask_phone and ask.text == texts.ASK_CONTACT
    assert await claims(world) == 0 and await linked_phones(world) == 0


async def test_nhac_asks_an_unlinked_person_for_their_phone(world: FlowWorld) -> None:
    chat = world.chat(CITIZEN_ID)
    await chat.text("/nhac")
    (answer,) = chat.replies()
    assert answer.ask_phone and "Đã bật nhắc" in answer.text.plain and "tối đa 3 lần" in answer.text.plain
    assert "Chia sẻ số điện thoại" in answer.text.plain
    await chat.text("/dunglai")
    await chat.text("/dunglai")
    assert chat.said() == texts.ALREADY_STOPPED


# --------------------------------------------------------------------------- /danhsach


async def test_danhsach_sends_the_list_and_its_workbook_and_refuses_citizens(world: FlowWorld) -> None:
    await sample(world)
    agent = world.chat(AGENT_ID, first_name="Sáu")
    await agent.text("/danhsach")
    (reply,) = agent.replies()
    assert "Xã Nhị Long" in reply.text.plain and "18 người" in reply.text.plain and "0791566859" in reply.text.plain
    assert "<b>Hết hạn thẻ BHYT, chưa gia hạn · Xã Nhị Long</b>" in to_html(reply.text)
    (workbook,) = reply.files
    assert workbook.kind == "xlsx" and workbook.name.endswith(".xlsx")
    assert workbook.caption == t("Danh sách đầy đủ: 18 người")
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[2][:3] == ("STT", "Họ và tên", "Mã số BHXH") and len(rows[3:]) == 18

    citizen = world.chat(CITIZEN_ID)
    await citizen.text("/danhsach")
    assert citizen.said() == texts.STAFF_ONLY and not citizen.files()


async def test_danhsach_with_nobody_lapsed_sends_no_file(world: FlowWorld) -> None:
    await seed(world.services)
    agent = world.chat(AGENT_ID)
    await agent.text("/danhsach")
    assert "Không có ai hết hạn thẻ" in agent.said() and not agent.files()


# --------------------------------------------------------------------------- documents


class Upload:
    """A document whose download records whether it happened."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.fetched = False

    async def fetch(self) -> bytes:
        self.fetched = True
        return self.content


async def send(world: FlowWorld, person: Person, name: str, upload: Upload, size: int | None) -> list[Out]:
    return await world.conversations.handle(DocumentIn(person, name, size, upload.fetch))


def said(outputs: Sequence[Out]) -> str:
    return "\n\n".join(o.text.plain for o in outputs if isinstance(o, Reply))


async def cards_on_file(world: FlowWorld) -> int:
    return int(await world.services.cards.repo.count())


async def test_an_oversized_document_is_never_fetched(world: FlowWorld) -> None:
    admin = Person("telegram", str(ADMIN_ID))
    upload = Upload(CSV)
    answer = await send(world, admin, "the_het_han_2026.csv", upload, MAX_FILE_BYTES + 1)
    assert "Tệp quá lớn" in said(answer) and "Chưa nhập gì" in said(answer)
    assert not upload.fetched and await cards_on_file(world) == 0


async def test_a_document_of_unannounced_size_is_measured_after_download(world: FlowWorld) -> None:
    admin = Person("telegram", str(ADMIN_ID))
    upload = Upload(b"x" * (MAX_FILE_BYTES + 1))
    answer = await send(world, admin, "lon.csv", upload, None)
    assert upload.fetched and "Tệp quá lớn" in said(answer) and await cards_on_file(world) == 0


async def test_an_admins_list_is_fetched_and_imported(world: FlowWorld) -> None:
    admin = Person("telegram", str(ADMIN_ID))
    upload = Upload(CSV)
    answer = await send(world, admin, "the_het_han_2026.csv", upload, len(CSV))
    assert upload.fetched
    report = said(answer)
    assert "372 dòng, nhập 369 người" in report and "Thêm mới 369" in report
    assert await cards_on_file(world) == 369
    source = await world.services.storage.db.fetchval("SELECT source FROM cards LIMIT 1")
    assert source == "telegram:the_het_han_2026.csv"
    broken = Upload(b"PK\x03\x04 broken zip")
    answer = await send(world, admin, "hong.xlsx", broken, None)
    assert "Tệp bị hỏng" in said(answer) and "Chưa nhập gì" in said(answer)


async def test_a_citizens_document_is_never_fetched(world: FlowWorld) -> None:
    """A list-looking file: "only officials send lists"; any other file is not the cards
    flow's, and goes on to the next flow's fallback (the citizens' reply to a non-text message)."""
    answered: list[str] = []

    async def fallback(turn: Turn) -> Sequence[Out]:
        answered.append(type(turn.event).__name__)
        return [Reply(t("fallback"))]

    db = world.services.storage.db
    core = Conversations(
        world.services,
        [cards_flow.FLOW, Flow("rest", on_other=fallback)],
        SessionRepository(db),
        IdentityRepository(db),
    )
    for person in (Person("telegram", str(CITIZEN_ID)), Person("zalo_oa", ZALO_ID)):
        listing = Upload(CSV)
        answer = await core.handle(DocumentIn(person, "DS.XLSX ", len(CSV), listing.fetch))
        assert said(answer) == texts.IMPORT_STAFF_ONLY and not listing.fetched
        photo = Upload(b"\x89PNG")
        answer = await core.handle(DocumentIn(person, "the_bhyt.png", 4, photo.fetch))
        assert said(answer) == "fallback" and not photo.fetched
    assert answered == ["DocumentIn", "DocumentIn"]
    assert await cards_on_file(world) == 0


async def test_an_agent_cannot_import_a_list(world: FlowWorld) -> None:
    await seed(world.services)
    upload = Upload(CSV)
    answer = await send(world, Person("telegram", str(AGENT_ID)), "ds.csv", upload, len(CSV))
    assert said(answer) == texts.IMPORT_STAFF_ONLY and not upload.fetched
    assert await cards_on_file(world) == 0
