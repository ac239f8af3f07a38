"""Vietnamese mobile numbers in the one form ZNS is safest with: `84` + 9 digits [Z29]."""

from __future__ import annotations

_MOBILE_PREFIXES = "35789"  # first digit of the subscriber part of a VN mobile number


def normalise_phone(raw: object) -> str | None:
    """`84xxxxxxxxx`, or None when `raw` is not a Vietnamese mobile number.

    Accepted: `0xxxxxxxxx`, `+84xxxxxxxxx`, `84xxxxxxxxx` and the bare 9-digit subscriber part,
    with spaces, dots, dashes or parentheses anywhere. The subscriber part must start with 3, 5,
    7, 8 or 9 (mobile ranges; landlines cannot receive ZNS). Never raises.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    for sep in (" ", ".", "-", "(", ")", "\u00a0"):
        text = text.replace(sep, "")
    if text.startswith("+"):
        text = text[1:]
        if not text.startswith("84"):
            return None
    if not text.isascii() or not text.isdigit():
        return None
    if len(text) == 11 and text.startswith("84"):
        rest = text[2:]
    elif len(text) == 10 and text.startswith("0"):
        rest = text[1:]
    elif len(text) == 9:
        rest = text
    else:
        return None
    if rest[0] not in _MOBILE_PREFIXES:
        return None
    return "84" + rest


__all__ = ["normalise_phone"]
