"""Vietnamese words shared by every channel's layout (page headings, download links).

They live here, with the other reply texts, and not in handlers/: an adapter adds no words.
"""

from __future__ import annotations

from bot.chat.layout import LayoutTexts

__all__ = ["BUTTON_NOT_ALLOWED", "LAYOUT_TEXTS"]

LAYOUT_TEXTS = LayoutTexts(
    more_buttons="Chọn tiếp:",
    choose="Mời chọn:",
    file_link="Tệp {name}: bấm nút dưới đây để tải về (liên kết dùng được trong 24 giờ).",
    download_label="Tải {name}",
    share_phone="📱 Chia sẻ số điện thoại",
)

# A button the person's role may not press (bot.chat.router refuses it before any flow).
BUTTON_NOT_ALLOWED = (
    "Nút này dành cho cán bộ phụ trách hoặc người vận động, bạn không dùng được. "
    "Gõ /vaitro để xem vai trò của bạn, /help để xem bot giúp được gì."
)
