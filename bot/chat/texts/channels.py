"""The few words channel adapters and the HTTP server show on their own (not from a flow):
the answers of a download link that no longer works, the Zalo phone-sharing form, and what
admins are told when the Zalo channel stops."""

from __future__ import annotations

__all__ = [
    "FILE_LINK_EXPIRED",
    "FILE_LINK_INVALID",
    "ZALO_REAUTH_NEEDED",
    "ZALO_PHONE_FORM_SUBTITLE",
    "ZALO_PHONE_FORM_TITLE",
]

# GET /files/<token> (handlers/http/files.py): plain text, nothing about the file.
FILE_LINK_EXPIRED = "Liên kết tải tệp đã hết hạn. Hãy yêu cầu lại tệp trong cuộc trò chuyện với bot."
FILE_LINK_INVALID = "Liên kết tải tệp không hợp lệ."

# Zalo's request_user_info form (handlers/zalo/render.py): title <= 100 characters, and the
# first element needs a subtitle (ZALO.md §2).
ZALO_PHONE_FORM_TITLE = "Chia sẻ số điện thoại"
ZALO_PHONE_FORM_SUBTITLE = "Bấm vào đây để gửi số điện thoại Zalo của bạn cho bot."

# Told to admins on their other channels when Zalo refuses the OA refresh token (bot/cli/serve.py):
# the Zalo channel stops, the others keep running; the log says how to re-authorise.
ZALO_REAUTH_NEEDED = (
    "⚠️ Zalo đã từ chối mã làm mới (refresh token) của Official Account, nên kênh Zalo của bot "
    "đã dừng; Telegram vẫn hoạt động bình thường. Tin nhắn và lời nhắc qua Zalo đang được giữ lại, "
    "không gửi lại bằng mã cũ. Người quản trị OA cần cấp quyền lại cho ứng dụng Zalo, đặt mã mới "
    "vào ZALO_REFRESH_TOKEN rồi khởi động lại bot (hướng dẫn chi tiết nằm trong nhật ký của bot)."
)
