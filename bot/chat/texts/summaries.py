"""Vietnamese texts of the officials' summaries and reports.

The replies of /tomtat and /baocao are Rich text (bot.chat.rich): what the person typed is
literal text by construction. `chart_caption` and `workbook_caption` still return Telegram
HTML (escaped with `esc`) because the scheduler's summary round sends them as captions as they
are; the /baocao flow reads them back into Rich. The summary itself is rendered by
`bot.domain.summary.render_summary`.
"""

from __future__ import annotations

from datetime import time
from html import escape

from bot.chat.rich import Rich, b, code, lines, t
from bot.domain.records import SummaryPrefs
from bot.domain.summary import SummaryData, SummaryKind

# (command, description) for setMyCommands; bot/chat/commands.py picks them per role.
COMMANDS: list[tuple[str, str]] = [
    ("baocao", "Báo cáo tiến độ địa bàn: tin nhắn, biểu đồ, Excel"),
    ("tomtat", "Bật/tắt tin tổng hợp hằng ngày và hằng tuần"),
]


def clip(text: object, limit: int = 60) -> str:
    """At most `limit` characters of `text`, "…" marking a cut (names, typed units)."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def esc(text: object, limit: int = 60) -> str:
    """`clip`, escaped for Telegram HTML (the captions the scheduler sends as they are)."""
    return escape(clip(text, limit), quote=False)


NOT_FOR_CITIZENS = (
    "Lệnh này dành cho cán bộ phụ trách và tổ trưởng. Nếu bạn được giao phụ trách một địa bàn, "
    "hãy xin mã mời rồi gửi /thamgia MÃ. Muốn tính tiền đóng BHYT, BHXH, bạn gõ /start."
)
NOT_FOR_AGENTS = (
    "Báo cáo địa bàn dành cho cán bộ phụ trách và tổ trưởng. Kết quả của bạn: /toi; của tổ: /nhom."
)
ADMIN_WITHOUT_UNIT = (
    "Tin tổng hợp tự động gửi cho cán bộ và tổ trưởng theo đơn vị của họ. Bạn xem báo cáo bất cứ "
    "lúc nào bằng /baocao MÃ_ĐƠN_VỊ."
)
NO_UNIT = t(
    "Có nhiều đơn vị cấp trên cùng: bạn gõ thêm mã đơn vị, ví dụ ", code("/baocao CL"), " hoặc ",
    code("/baocao CL 01/11/2026 23/11/2026"), ".",
)
DATES = t(
    "Ngày chưa đúng. Gõ ", code("/baocao [đơn vị] từ-ngày đến-ngày"), ", ngày dạng NN/TT/NNNN, ví dụ ",
    code("/baocao CL06 01/11/2026 23/11/2026"), ". Kỳ báo cáo tối đa 1 năm và bắt đầu không muộn hơn hôm nay.",
)
TOO_LONG = t("Lệnh dài quá. Gõ ", code("/baocao"), ", hoặc ", code("/baocao MÃ_ĐƠN_VỊ 01/11/2026 23/11/2026"), ".")
FAILED_TO_SEND = "Xin lỗi, chưa gửi được báo cáo. Bạn thử lại sau ít phút nhé."


def unit_not_found(typed: str) -> Rich:
    """The same answer for a unit that does not exist and one outside the sender's area."""
    return t(
        f"Không tìm thấy đơn vị «{clip(typed)}» trong địa bàn bạn phụ trách. Gõ mã đơn vị (ví dụ ",
        code("CL06"), ") hoặc tên đơn vị, rồi ngày nếu cần: ", code("/baocao CL06 01/11/2026 23/11/2026"), ".",
    )


def usage(prefs: SummaryPrefs, at: time) -> Rich:
    daily = t("đang ", b("bật" if prefs.daily else "tắt"))
    weekly = t("đang ", b("bật" if prefs.weekly else "tắt"))
    return lines(
        t(f"Tin tổng hợp hằng ngày (lúc {at.strftime('%H:%M')}): ", daily, "."),
        t("Tin tổng hợp hằng tuần (thứ Hai): ", weekly, "."),
        t("• ", code("/tomtat tat"), " / ", code("/tomtat bat"), ": tắt, bật tin hằng ngày"),
        t("• ", code("/tomtat tuan bat"), " / ", code("/tomtat tuan tat"), ": bật, tắt tin hằng tuần"),
        t("• ", code("/baocao"), ": nhận ngay tin, biểu đồ và tệp Excel của địa bàn"),
    )


def daily_changed(on: bool, at: time) -> str:
    if on:
        return (
            f"Đã bật. Mỗi ngày lúc {at.strftime('%H:%M')} bạn nhận tin tổng hợp, biểu đồ và tệp "
            "Excel của địa bàn. Tắt: /tomtat tat"
        )
    return "Đã tắt tin tổng hợp hằng ngày. Xem khi cần: /baocao. Bật lại: /tomtat bat"


def weekly_changed(on: bool, at: time) -> str:
    if on:
        return (
            f"Đã bật tin tổng hợp hằng tuần: thứ Hai lúc {at.strftime('%H:%M')}, số liệu 7 ngày "
            "trước. Tắt: /tomtat tuan tat"
        )
    return "Đã tắt tin tổng hợp hằng tuần. Bật lại: /tomtat tuan bat"


def chart_caption(data: SummaryData) -> str:
    return f"Tiến độ BHYT so với chỉ tiêu · {esc(data.unit_name)}"


def workbook_caption(data: SummaryData) -> str:
    what = "Bảng tổng hợp" if data.kind is not SummaryKind.RANGE else "Báo cáo"
    return f"{what} đầy đủ: bao phủ BHYT, BHXH, BHTN, thi đua, Phụ lục 02 · {esc(data.unit_name)}"
