"""Demo of the officials' summaries: `:tomtat [huyen|xa]` in `./dev demo`.

Registered in devtools/demo/session.py (META_COMMANDS). The newcomer becomes an official of the sample
district (or of Xã Tân An) and receives at once what arrives every evening at SUMMARY_TIME:
the summary message, the progress chart (PNG) and the workbook (XLSX), through the real
`/baocao` command; the terminal shows the files by name and size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services
    from devtools.demo.session import DemoSession

DEFAULT_PERSONA = "huyen"  # the official of Huyện Càng Long (devtools/demo/session.py, organisation)
PERSONAS = ("huyen", "xa")
WAIT_SECONDS = 60.0


async def send_summary(services: Services, session: DemoSession, args: str) -> str:
    key = (args.split() or [DEFAULT_PERSONA])[0]
    from devtools.demo.session import PERSONAS as ALL_PERSONAS

    if key not in PERSONAS or key not in ALL_PERSONAS:
        return f"(dùng :tomtat huyen hoặc :tomtat xa; có sẵn: {', '.join(p for p in PERSONAS if p in ALL_PERSONAS)})"
    session.switch(key)
    at = services.settings.summary_time.strftime("%H:%M")
    session.print(f"(bot gửi ngay tin tổng hợp, biểu đồ và tệp Excel như mỗi ngày lúc {at})")
    session.print(f"{session.persona.first_name}: /baocao")
    await session.user.say("/baocao")
    try:
        outputs = await session.user.replies(count=3, timeout=WAIT_SECONDS)
    except TimeoutError:
        return "(chưa nhận đủ tin tổng hợp; thử lại :tomtat)"
    session.show(outputs)
    return "(tắt tin hằng ngày: /tomtat tat · báo cáo theo kỳ: /baocao CL06 01/11/2026 23/11/2026)"
