"""Vietnamese texts of the officials' summaries and reports (HTML parse mode).

Anything typed by the user is escaped with `esc` before it is echoed; the summary itself is
rendered by `bot.summary.render_summary`.
"""

from __future__ import annotations

from datetime import time
from html import escape

from bot.domain.records import SummaryPrefs
from bot.domain.summary import SummaryData, SummaryKind

# (command, description) for setMyCommands; bot/chat/commands.py picks them per role.
COMMANDS: list[tuple[str, str]] = [
    ("baocao", "Báo cáo tiến độ địa bàn: tin nhắn, biểu đồ, Excel"),
    ("tomtat", "Bật/tắt tin tổng hợp hằng ngày và hằng tuần"),
]


def esc(text: object, limit: int = 60) -> str:
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return escape(value, quote=False)


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
NO_UNIT = (
    "Có nhiều đơn vị cấp trên cùng: bạn gõ thêm mã đơn vị, ví dụ <code>/baocao CL</code> hoặc "
    "<code>/baocao CL 01/11/2026 23/11/2026</code>."
)
DATES = (
    "Ngày chưa đúng. Gõ <code>/baocao [đơn vị] từ-ngày đến-ngày</code>, ngày dạng NN/TT/NNNN, "
    "ví dụ <code>/baocao CL06 01/11/2026 23/11/2026</code>. Kỳ báo cáo tối đa 1 năm và "
    "bắt đầu không muộn hơn hôm nay."
)
TOO_LONG = "Lệnh dài quá. Gõ <code>/baocao</code>, hoặc <code>/baocao MÃ_ĐƠN_VỊ 01/11/2026 23/11/2026</code>."
FAILED_TO_SEND = "Xin lỗi, chưa gửi được báo cáo. Bạn thử lại sau ít phút nhé."


def unit_not_found(typed: str) -> str:
    """The same answer for a unit that does not exist and one outside the sender's area."""
    return (
        f"Không tìm thấy đơn vị «{esc(typed)}» trong địa bàn bạn phụ trách. Gõ mã đơn vị "
        "(ví dụ <code>CL06</code>) hoặc tên đơn vị, rồi ngày nếu cần: "
        "<code>/baocao CL06 01/11/2026 23/11/2026</code>."
    )


def usage(prefs: SummaryPrefs, at: time) -> str:
    daily = "đang <b>bật</b>" if prefs.daily else "đang <b>tắt</b>"
    weekly = "đang <b>bật</b>" if prefs.weekly else "đang <b>tắt</b>"
    return (
        f"Tin tổng hợp hằng ngày (lúc {at.strftime('%H:%M')}): {daily}.\n"
        f"Tin tổng hợp hằng tuần (thứ Hai): {weekly}.\n"
        "• <code>/tomtat tat</code> / <code>/tomtat bat</code>: tắt, bật tin hằng ngày\n"
        "• <code>/tomtat tuan bat</code> / <code>/tomtat tuan tat</code>: bật, tắt tin hằng tuần\n"
        "• <code>/baocao</code>: nhận ngay tin, biểu đồ và tệp Excel của địa bàn"
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
