"""The few words channel adapters and the HTTP server show on their own (not from a flow):
the answers of a download link that no longer works, and the Zalo phone-sharing form."""

from __future__ import annotations

__all__ = [
    "FILE_LINK_EXPIRED",
    "FILE_LINK_INVALID",
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
