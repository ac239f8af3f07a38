"""Vietnamese mobile numbers in the one form ZNS is safest with: `84` + 9 digits [Z29]."""

from __future__ import annotations

from bot.imports.cards import normalize_phone

_MOBILE_PREFIXES = "35789"  # first digit of the subscriber part of a VN mobile number


def normalise_phone(raw: object) -> str | None:
    """`84xxxxxxxxx`, or None when `raw` is not a Vietnamese mobile number. Never raises.

    Reading is the lapsed-card lists' (`bot.imports.cards.normalize_phone`: `0…`, `+84…`,
    `84…`, the bare subscriber part, separators anywhere, ASCII digits only), so a number
    on a list and the same number submitted on Zalo always meet. The subscriber part must
    start with 3, 5, 7, 8 or 9: landlines cannot receive ZNS.
    """
    if not isinstance(raw, str):
        return None
    try:
        local = normalize_phone(raw.replace("\u00a0", " "))
    except ValueError:
        return None
    if local is None or len(local) != 10 or local[1] not in _MOBILE_PREFIXES:
        return None
    return "84" + local[1:]


__all__ = ["normalise_phone"]
