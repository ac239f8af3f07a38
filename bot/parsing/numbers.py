"""Numbers typed by people or carried in button payloads, parsed one safe way.

`str.isdigit()` accepts "²", "①" and Arabic-Indic digits that `int()` then refuses or reads
differently, and `int()` happily turns 20 digits into a value SQLite cannot bind
(INTEGER is 64-bit signed). Every number that comes from outside goes through
`parse_bounded_int`, which accepts ASCII digits only, bounds their count and the value, and
never raises: the caller answers `None` with a clear reply.
"""

from __future__ import annotations

# SQLite stores INTEGER in 8 bytes; anything above cannot be bound as a parameter.
SQLITE_MAX_INT = 2**63 - 1
# Row ids (members, teams, enrolments) never need more digits than this.
ID_MAX_DIGITS = 12

_ASCII_DIGITS = frozenset("0123456789")


def parse_bounded_int(
    text: str | None,
    *,
    max_digits: int,
    lo: int = 0,
    hi: int = SQLITE_MAX_INT,
) -> int | None:
    """The non-negative integer written in `text` (ASCII digits 0-9 only, no sign, no spaces,
    at most `max_digits` digits, within [lo, hi]), or None for anything else.

    Never raises, whatever the input: Unicode digits, signs, huge strings and None give None.
    The length is checked before conversion, so a 4096-digit string costs nothing.
    """
    if not text or not isinstance(text, str) or len(text) > max_digits:
        return None
    if not _ASCII_DIGITS.issuperset(text):
        return None
    value = int(text)
    if value < lo or value > hi:
        return None
    return value


def parse_id(text: str | None) -> int | None:
    """A database row id from a payload or an argument: 1..10^12-1, ASCII digits only."""
    return parse_bounded_int(text, max_digits=ID_MAX_DIGITS, lo=1)


def is_ascii_digits(text: str | None, *, max_digits: int) -> bool:
    """True when `text` is 1..max_digits ASCII digits (what `str.isdigit` should have meant)."""
    return bool(text) and isinstance(text, str) and len(text) <= max_digits and _ASCII_DIGITS.issuperset(text)
