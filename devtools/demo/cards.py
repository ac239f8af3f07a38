"""The lapsed-card part of `./dev demo`: the sample list, a household for the citizen persona,
and meta-commands to share a contact and to run a reminder round now.

Registered in devtools/demo/session.py (DEMO_SEEDERS, META_COMMANDS). Try, as the citizen:
    /hethan   then  :sdt   (share your own number: links your household)
    :nhac     (a reminder round now: your reminder arrives with its buttons)
and as the agent (`:ai vandong`): /danhsach.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING

from bot.domain.records import UnitRecord
from handlers.telegram.ratelimit import BotRateLimiter

if TYPE_CHECKING:
    from bot.services import Services
    from devtools.demo.session import DemoSession

SAMPLE = "the_het_han_2026.csv"
DEMO_UNIT = "CL06"
# The citizen persona of devtools/demo/session.py ("dan", Lan, 0912000001) joins household HGD060091 of the
# sample list (Xã Tân An, cards lapsed on 18/09/2026), so the demo shows a real household.
DEMO_ROW = (
    "STT,Mã hộ gia đình,Họ và tên,Mã số BHXH,Mã thẻ BHYT,Ngày sinh,Giới tính,Số điện thoại,Địa chỉ,"
    "Mã đơn vị,Hạn thẻ từ,Hạn thẻ đến\n"
    '1,HGD060091,Nguyễn Thị Lan,8423990001,GD4848423990001,12/03/1990,Nữ,0912 000 001,'
    '"Ấp 3, Xã Tân An",CL06,19/09/2025,18/09/2026\n'
)
DEMO_PAY_POINTS = "Điểm thu Bưu điện xã Tân An (Ấp 1), thứ Hai đến thứ Bảy, 7:30-16:30"


async def seed_cards(services: Services) -> None:
    """Import the sample list and the persona's row; give Xã Tân An a pay point."""
    data = (resources.files("bot") / "data" / "samples" / SAMPLE).read_bytes()
    await services.cards.import_list(data, SAMPLE, None, source=f"demo:{SAMPLE}")
    await services.cards.import_list(DEMO_ROW.encode("utf-8"), "demo.csv", None, source="demo")
    unit = await services.units.get(DEMO_UNIT)
    if unit is not None and not unit.pay_points:
        record = UnitRecord(
            unit.code, unit.name, unit.parent_code, unit.level,
            pay_points=DEMO_PAY_POINTS, present=frozenset({"pay_points"}),
        )
        await services.units.import_tree([record], [], [], services.clock.now())


async def share_contact(services: Services, session: DemoSession, args: str) -> str:
    """`:sdt` shares the persona's own number (the 📱 button); `:sdt khac` someone else's."""
    user = session.user
    phone = user.phone or "0912000001"
    if args.strip().lower() in ("khac", "khác"):
        await user.share_contact("0912000099", own=False, first_name="Người khác")
        return f"({session.persona.first_name} gửi số điện thoại của NGƯỜI KHÁC)"
    await user.share_contact(phone)
    return f"({session.persona.first_name} bấm nút 📱 Chia sẻ số điện thoại: {phone})"


async def run_round(services: Services, session: DemoSession, args: str) -> str:
    """`:nhac` runs one reminder round now and says what was sent."""
    from telegram.ext import ExtBot

    from bot.chat.model import TELEGRAM
    from devtools.demo.session import DEMO_TOKEN
    from handlers.telegram.sender import TelegramSender
    from scheduler.reminders import run_reminder_round

    bot = ExtBot(DEMO_TOKEN, base_url=session.emulator.base_url, rate_limiter=BotRateLimiter())
    async with bot:
        report = await run_reminder_round(services, {TELEGRAM.name: TelegramSender(bot)})
    now: datetime = services.clock.now()
    if report.outside_hours and not report.sent:
        start = services.reminders.hours.start.strftime("%H:%M")
        return f"(lượt nhắc lúc {now:%H:%M}: ngoài giờ gửi, các tin chờ đến {start} sáng mai)"
    who = ", ".join(str(uid) for uid in report.sent_to[:10]) or "không ai"
    return (
        f"(lượt nhắc lúc {now:%H:%M %d/%m/%Y}: xếp hàng {report.queued}, đã gửi {report.sent} "
        f"[tới: {who}], chặn bot {report.blocked}, lỗi {report.failed}, thử lại sau {report.retried})"
    )
