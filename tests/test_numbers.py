"""The one parser of numbers that come from people and payloads: ASCII only, bounded, never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing.numbers import SQLITE_MAX_INT, is_ascii_digits, parse_bounded_int, parse_id


def test_ascii_digits_within_bounds() -> None:
    assert parse_bounded_int("12", max_digits=2) == 12
    assert parse_bounded_int("007", max_digits=3) == 7
    assert parse_bounded_int("0", max_digits=1) == 0
    assert parse_bounded_int("12", max_digits=2, lo=1, hi=12) == 12
    assert parse_bounded_int("13", max_digits=2, lo=1, hi=12) is None
    assert parse_bounded_int("0", max_digits=2, lo=1) is None
    assert parse_bounded_int("123", max_digits=2) is None


def test_unicode_digits_signs_and_blanks_are_refused() -> None:
    for text in ("²", "①②", "١٢", "１２", "𝟏𝟐", "-1", "+1", " 1", "1 ", "1_000", "1.0", "", None, "0x1f"):
        assert parse_bounded_int(text, max_digits=20) is None, text
        assert not is_ascii_digits(text, max_digits=20), text


def test_sqlite_bounds() -> None:
    assert parse_bounded_int(str(SQLITE_MAX_INT), max_digits=19) == SQLITE_MAX_INT
    assert parse_bounded_int(str(SQLITE_MAX_INT + 1), max_digits=19) is None
    assert parse_bounded_int("9" * 20, max_digits=30) is None  # 20 digits: above SQLite's INTEGER
    assert parse_id("9" * 20) is None
    assert parse_id("9" * 12) == 999_999_999_999
    assert parse_id("0") is None
    assert parse_bounded_int("1" * 5000, max_digits=12) is None  # no conversion of huge input


@settings(max_examples=500, derandomize=True)
@given(st.text(max_size=40), st.integers(min_value=1, max_value=25))
def test_never_raises_and_only_returns_what_was_written(text: str, digits: int) -> None:
    value = parse_bounded_int(text, max_digits=digits, lo=0, hi=10**15)
    if value is not None:
        assert text.isascii() and text.isdigit() and len(text) <= digits
        assert int(text) == value and 0 <= value <= 10**15
