"""Masking of personal data (phones, BHXH codes, CCCD) for summaries, leaderboards and logs."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """0912345678 -> 0912***678: enough for a person to recognise their own number."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "***"
    return f"{digits[:4]}***{digits[-3:]}"


def mask_code(code: str | None) -> str:
    """8423001234 -> 84*****234; also for 12-digit CCCD numbers."""
    if not code:
        return ""
    code = code.strip()
    if len(code) < 6:
        return "***"
    return f"{code[:2]}{'*' * (len(code) - 5)}{code[-3:]}"


def mask_name(full_name: str) -> str:
    """Nguyễn Thị Hoa -> Nguyễn T. Hoa: how leaderboards name agents of other units."""
    parts = full_name.split()
    if len(parts) <= 2:
        return full_name
    middle = " ".join(f"{p[0]}." for p in parts[1:-1])
    return f"{parts[0]} {middle} {parts[-1]}"
