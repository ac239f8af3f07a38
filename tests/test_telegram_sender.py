"""TelegramSender against the Bot API emulator: neutral replies out as Bot API calls, every
answer mapped to one SendResult (handlers/telegram/sender.py), never an exception."""

from __future__ import annotations

from bot.chat.model import (
    TELEGRAM,
    Blocked,
    Button,
    Delivered,
    File,
    Person,
    Refused,
    Reply,
    RetryAfter,
    Unknown,
)
from bot.chat.rich import b, t
from devtools.telegram_emulator import BotApiEmulator
from handlers.telegram.sender import TelegramSender
from tests.conftest import BotHarness

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _person(user_id: int) -> Person:
    return Person(TELEGRAM.name, str(user_id))


async def test_a_reply_goes_out_as_html_keyboard_photo_and_document(
    harness: BotHarness, emulator: BotApiEmulator
) -> None:
    emulator.user(6001, first_name="An")
    sender = TelegramSender(harness.application.bot)
    reply = Reply(
        t("Chào ", b("<An> & gia đình"), "."),
        buttons=((Button("Tôi đã gia hạn", payload="rc:done"),),),
        files=(File("bieu-do.png", PNG, "png", t("Biểu đồ")), File("bang.xlsx", b"PK\x03\x04data", "xlsx")),
    )
    result = await sender.send(_person(6001), reply)
    assert isinstance(result, Delivered) and result.provider_id is not None
    text, photo, document = emulator.sent_to(6001)
    assert (text.method, photo.method, document.method) == ("sendMessage", "sendPhoto", "sendDocument")
    assert text.plain_text == "Chào <An> & gia đình." and text.button_texts == ["Tôi đã gia hạn"]
    assert result.provider_id == str(text.message_id)
    assert photo.file_bytes == PNG and photo.plain_text == "Biểu đồ"
    assert document.file_bytes == b"PK\x03\x04data"


async def test_each_bot_api_answer_maps_to_one_result(harness: BotHarness, emulator: BotApiEmulator) -> None:
    blocked, missing, flooded, broken, refused, partial = 6101, 6102, 6103, 6104, 6105, 6106
    for user in (blocked, flooded, broken, refused, partial):
        emulator.user(user, first_name="X")
    emulator.block(blocked)
    sender = TelegramSender(harness.application.bot)
    hello = Reply(t("Xin chào"))
    assert await sender.send(_person(blocked), hello) == Blocked()  # 403
    assert await sender.send(_person(missing), hello) == Blocked()  # 400 chat not found

    emulator.fail_next("sendMessage", "429", chat_id=flooded, retry_after=7)
    await sender.reserve(_person(flooded))
    assert await sender.send_reserved(_person(flooded), hello) == RetryAfter(7.0)

    emulator.fail_next("sendMessage", "500", chat_id=broken)
    unknown = await sender.send(_person(broken), hello)
    assert isinstance(unknown, Unknown) and unknown.reason == "NetworkError"

    empty_image = Reply(t(), files=(File("trong.png", b"", "png"),))
    gone = await sender.send(_person(refused), empty_image)
    assert isinstance(gone, Refused) and gone.reason.startswith("400 ")
    # The text arrived, then the file was refused: resending all of it would repeat the text.
    half = await sender.send(_person(partial), Reply(t("Báo cáo"), files=empty_image.files))
    assert isinstance(half, Unknown) and half.reason.startswith("partial: 400 ")
    assert [m.plain_text for m in emulator.sent_to(partial)] == ["Báo cáo"]
