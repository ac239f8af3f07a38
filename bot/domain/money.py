"""Money and percentage helpers.

Money is always an ``int`` number of đồng; percentages are ``Decimal``. Floats never appear:
a float cannot represent 4,5 % exactly, and one stray float is enough to make a quote differ
from the official table by a đồng.

Formatting follows Vietnamese conventions: ``.`` groups thousands, ``,`` is the decimal mark.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["MINUS", "format_number", "format_pct", "format_vnd", "percent_of", "round_vnd"]

#: U+2212, the typographic minus: it does not break a line and reads better than "-".
MINUS = "\u2212"

_HUNDRED = Decimal(100)


def _require_exact(value: object, name: str) -> None:
    """Reject floats (and bools) early: they are always a programming error here."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"{name} must be int or Decimal, not {type(value).__name__}")


def round_vnd(value: Decimal | int) -> int:
    """Round to a whole đồng, half up (away from zero), as the official tables do."""
    _require_exact(value, "value")
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: Decimal | int) -> int:
    """``percent`` % of ``amount``, rounded once to the đồng.

    The single place where a percentage turns into money, so every module rounds alike.
    """
    _require_exact(amount, "amount")
    _require_exact(percent, "percent")
    return round_vnd(Decimal(amount) * Decimal(percent) / _HUNDRED)


def _group_thousands(digits: str) -> str:
    """'1366200' -> '1.366.200' (digits only, no sign)."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def format_number(value: int) -> str:
    """8766 -> '8.766'; negatives get a real minus sign (−66.000)."""
    _require_exact(value, "value")
    number = int(value)
    sign = MINUS if number < 0 else ""
    return sign + _group_thousands(str(abs(number)))


def format_vnd(amount: int) -> str:
    """1366200 -> '1.366.200 đ'."""
    return f"{format_number(amount)} đ"


def format_pct(value: Decimal | int, places: int | None = None) -> str:
    """Decimal('93.0843'), places=2 -> '93,08%'.

    With ``places=None`` the value is shown as written, without trailing zeros
    (Decimal('4.5') -> '4,5%', Decimal('70') -> '70%'), which suits legal rates.
    """
    _require_exact(value, "value")
    number = Decimal(value)
    if places is None:
        text = _plain(number)
    else:
        if places < 0:
            raise ValueError("places must be >= 0")
        text = f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    sign = ""
    if text.startswith("-"):
        text = text[1:]
        sign = MINUS if Decimal(text) != 0 else ""
    whole, _, fraction = text.partition(".")
    body = _group_thousands(whole) + ("," + fraction if fraction else "")
    return f"{sign}{body}%"


def _plain(number: Decimal) -> str:
    """Fixed-point text without trailing zeros or exponent ('70', '4.5', '0.25')."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
