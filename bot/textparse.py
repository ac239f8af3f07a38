"""Pure parsing of Vietnamese free text as people really type it (no I/O).

Citizens write "bhyt ho gia dinh 4 nguoi 6 thang", "đóng bhxh tự nguyện 3tr, tôi là người dân
tộc thiểu số" or "1tr5": with or without diacritics, with slang units and with either "." or ","
as a thousands separator or a decimal mark. Everything here works on a *normalised* copy of the
text (lowercase ASCII, see `normalize`), so a pattern is written once and matches both spellings.

Robustness rules, because this runs on every message a stranger sends:
- never raise, whatever the input (control characters, emoji, 10.000 characters, empty);
- bounded time: only the first `MAX_INPUT_CHARS` characters are looked at, and every pattern is
  linear (no nested quantifiers over the same characters), so no catastrophic backtracking.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

from pydantic import BaseModel, ConfigDict

__all__ = [
    "MAX_INPUT_CHARS",
    "Intent",
    "Question",
    "normalize",
    "parse_amount",
    "parse_bhxh_group",
    "parse_bhyt_group",
    "parse_date",
    "parse_int_choice",
    "parse_members",
    "parse_months",
    "parse_question",
]

# A chat question never needs more; capping keeps every call cheap on hostile input.
MAX_INPUT_CHARS = 500

# Regex flags for everything matched against normalised text: ASCII classes, so \d is [0-9]
# (int() of other scripts' digits would surprise us) and \b means an ASCII word boundary.
_A = re.ASCII
_AX = re.ASCII | re.VERBOSE


class Intent(str, Enum):
    """What the person is asking about."""

    BHYT_HOUSEHOLD = "BHYT_HOUSEHOLD"
    BHYT_SUPPORTED = "BHYT_SUPPORTED"
    BHXH_VOLUNTARY = "BHXH_VOLUNTARY"
    HELP = "HELP"
    GREETING = "GREETING"
    UNKNOWN = "UNKNOWN"


class Question(BaseModel):
    """A parsed free-text question; any value the text does not state is None."""

    model_config = ConfigDict(frozen=True)

    intent: Intent
    members: int | None = None
    months: int | None = None
    income: int | None = None
    group: str | None = None
    on: date | None = None


# --- normalisation ------------------------------------------------------------------------

_WHITESPACE_RE = re.compile(r"\s+")
_NON_WORD_RE = re.compile(r"[^a-z0-9]+", _A)


def _clip(text: object) -> str:
    """The part of the input we look at; tolerate non-str so callers can never make us raise."""
    if not isinstance(text, str):
        return ""
    return text[:MAX_INPUT_CHARS]


def _strip_char(ch: str) -> str:
    """Drop combining marks (tones, hats, horns), turn control/format characters into spaces."""
    category = unicodedata.category(ch)
    if category == "Mn":
        return ""
    if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return " "
    return ch


def normalize(text: str) -> str:
    """Lowercase, diacritic-free, single-spaced text, used for matching only (never shown).

    NFKC first folds compatibility forms people's keyboards produce (full-width digits, "？"),
    then NFD splits every accented letter into base + marks so the marks can be dropped; "đ"
    is a letter of its own in Unicode (no decomposition), hence the explicit replacement.
    """
    text = _clip(text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = unicodedata.normalize("NFD", text)
    text = "".join(_strip_char(ch) for ch in text)
    text = text.replace("đ", "d").replace("Đ", "d")
    text = unicodedata.normalize("NFC", text)
    return _WHITESPACE_RE.sub(" ", text).strip()


def _words(norm: str) -> str:
    """Letters and digits only, single-spaced: keyword matching must ignore punctuation/emoji."""
    return _NON_WORD_RE.sub(" ", norm).strip()


# --- numbers and amounts -------------------------------------------------------------------

# A number starts where no digit (or digit + separator) precedes it, so "1.500.000" is never
# re-read from its middle. Separators are "." or ","; their meaning is decided in Python.
_NUMBER = r"(?<!\d)(?<!\d[.,])\d+(?:[.,]\d+)*"
_NOT_LETTER = r"(?![a-z])"

_AMOUNT_RE = re.compile(
    rf"""
    (?P<num>{_NUMBER})
    \s?
    (?:
        (?P<million>trieu|tr|cu){_NOT_LETTER}          # "2tr", "2 triệu", "2 củ"
        (?:
            \s?(?P<m_thou>\d{{1,3}})\s?(?:k|nghin|ngan){_NOT_LETTER}   # "2 triệu 500 nghìn"
          | (?P<m_frac>\d{{1,3}})(?![\d])                # "1tr5", "2tr500"
          | \s(?P<half>ruoi){_NOT_LETTER}                # "1 triệu rưỡi"
        )?
      | (?P<thousand>k|nghin|ngan){_NOT_LETTER}          # "800k", "800 nghìn"
      | (?P<currency>vnd|dong|d){_NOT_LETTER}            # "5.000.000đ", "5000000 vnd"
    )?
    """,
    _AX,
)

_MILLION = Decimal(1_000_000)
_THOUSAND = Decimal(1_000)
# Without a unit a bare number is money only from this value up ("2" is not an amount) ...
_BARE_MIN = 100_000
# ... and only up to 9 digits: 10+ digit runs are BHXH codes, phone numbers or CCCD numbers.
_BARE_MAX_DIGITS = 9
# With only a currency word ("3 đồng" is usually "3 đóng", pay) demand a plausible sum.
_CURRENCY_MIN = 1_000
# Longer digit runs are not money anyone types; skipping them keeps Decimal exact.
_MAX_DIGITS = 15


def _split_number(num: str) -> tuple[list[str], list[str]]:
    """Digit groups and the separators between them."""
    groups = re.split(r"[.,]", num)
    seps = [ch for ch in num if ch in ".,"]
    return groups, seps


def _number_value(num: str, single_sep_is_decimal: bool) -> tuple[Decimal, bool] | None:
    """Read "1.500.000", "1,5", "1,500.5"; returns (value, used thousands grouping) or None.

    One separator followed by exactly three digits is thousands grouping ("1.500" = 1500)
    unless a million unit follows ("1.5tr", "1,500 triệu" read as 1,5 million: nobody asks
    about billions here). Several equal separators with 3-digit groups are grouping; a
    different last separator is the decimal mark ("1.500,5").
    """
    groups, seps = _split_number(num)
    if sum(len(g) for g in groups) > _MAX_DIGITS or any(not g for g in groups):
        return None
    if not seps:
        return Decimal(groups[0]), False
    if len(seps) == 1:
        if single_sep_is_decimal or len(groups[1]) != 3:
            return Decimal(f"{groups[0]}.{groups[1]}"), False
        return Decimal(groups[0] + groups[1]), True
    if all(s == seps[0] for s in seps) and all(len(g) == 3 for g in groups[1:]):
        return Decimal("".join(groups)), True
    head_seps, last_sep = seps[:-1], seps[-1]
    if (
        all(s == head_seps[0] for s in head_seps)
        and last_sep != head_seps[0]
        and all(len(g) == 3 for g in groups[1:-1])
    ):
        return Decimal("".join(groups[:-1]) + "." + groups[-1]), True
    return None


def _round_dong(value: Decimal) -> int:
    """Whole đồng, half up, as the rest of the project rounds money."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _amount_from_match(m: re.Match[str]) -> int | None:
    """The đồng value of one candidate, or None when it is not money after all."""
    num = m.group("num")
    if m.group("million"):
        read = _number_value(num, single_sep_is_decimal=True)
        if read is None:
            return None
        value = read[0] * _MILLION
        if m.group("m_thou"):
            value += Decimal(m.group("m_thou")) * _THOUSAND
        elif m.group("m_frac"):
            value += Decimal("0." + m.group("m_frac")) * _MILLION
        elif m.group("half"):
            value += _MILLION / 2
    elif m.group("thousand"):
        read = _number_value(num, single_sep_is_decimal=False)
        if read is None:
            return None
        value = read[0] * _THOUSAND
    else:
        read = _number_value(num, single_sep_is_decimal=False)
        if read is None:
            return None
        value, grouped = read
        if not grouped and value != value.to_integral_value():
            return None  # "1,5" with no unit: not a sum of money
        if m.group("currency"):
            if value < _CURRENCY_MIN:
                return None
        elif not grouped and (value < _BARE_MIN or len(num) > _BARE_MAX_DIGITS):
            return None
    amount = _round_dong(value)
    return amount if amount > 0 else None


def _first_amount(norm: str) -> int | None:
    """The first money amount in already-normalised text."""
    for m in _AMOUNT_RE.finditer(norm):
        try:
            amount = _amount_from_match(m)
        except (InvalidOperation, ValueError):
            amount = None
        if amount is not None:
            return amount
    return None


def parse_amount(text: str) -> int | None:
    """Money in whole đồng from "2tr", "1,5 triệu", "1tr5", "1.500.000", "800k", "2 củ"...

    The first amount in the text wins. A bare number counts only with thousands grouping or
    from 100.000 up (so "2" or "12" is not money); 10+ digit runs (codes, phones) never count.
    """
    try:
        return _first_amount(_without_dates(normalize(text)))
    except Exception:  # noqa: BLE001 - a parser on user input must never raise
        return None


# --- dates ---------------------------------------------------------------------------------

_DATE_RE = re.compile(r"(?<![\d.,/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\d])", _A)
# "tháng 7/2026": month/year, never a quoting date, but its digits must not feed other parsers.
_MONTH_YEAR_RE = re.compile(r"(?<![\d.,/-])\d{1,2}[/-]\d{4}(?!\d)", _A)


def _date_from_match(m: re.Match[str]) -> date | None:
    try:
        return date(int(m.group(4)), int(m.group(3)), int(m.group(1)))
    except ValueError:
        return None


def _first_date(norm: str) -> date | None:
    for m in _DATE_RE.finditer(norm):
        found = _date_from_match(m)
        if found is not None:
            return found
    return None


def _without_dates(norm: str) -> str:
    """Blank out dates so "01/07/2026" is read neither as months nor as money."""
    norm = _DATE_RE.sub(" ", norm)
    return _MONTH_YEAR_RE.sub(" ", norm)


def parse_date(text: str) -> date | None:
    """The first valid dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) date; else None."""
    try:
        return _first_date(normalize(text))
    except Exception:  # noqa: BLE001
        return None


# --- Vietnamese number words ---------------------------------------------------------------

_DIGIT_WORDS: dict[str, int] = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5,
    "sau": 6, "bay": 7, "tam": 8, "chin": 9,
}
_SINGLE_WORDS = "mot|hai|ba|bon|tu|nam|sau|bay|tam|chin"
# Before "tháng"/"năm" a lone "tư" is "từ" (from: "từ tháng 7"), never a count of four.
_PERIOD_SINGLE_WORDS = "mot|hai|ba|bon|nam|sau|bay|tam|chin"
_TENS_WORDS = "hai|ba|bon|nam|sau|bay|tam|chin"
_UNIT_WORDS = "mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin"


def _number_word_pattern(singles: str) -> str:
    """Count words: "ba", "mười hai" (12), "hai mươi" (20), "mười lăm" (15).

    "mươi" and "mười" both normalise to "muoi"; `singles` varies because a lone word can be
    ambiguous in one context and not in another.
    """
    return rf"(?:(?:(?:{_TENS_WORDS})\s)?muoi(?:\s(?:{_UNIT_WORDS}))?|(?:{singles}))"


_NUMBER_WORD = _number_word_pattern(_SINGLE_WORDS)
_NUMBER_WORD_RE = re.compile(
    rf"(?:(?P<tens>{_TENS_WORDS})\s)?(?P<ten>muoi)(?:\s(?P<unit>{_UNIT_WORDS}))?"
    rf"|(?P<single>{_SINGLE_WORDS})",
    _A,
)


def _number_word_value(word: str) -> int | None:
    """12 from "muoi hai", 20 from "hai muoi", 3 from "ba"."""
    m = _NUMBER_WORD_RE.fullmatch(word)
    if m is None:
        return None
    if m.group("single"):
        return _DIGIT_WORDS[m.group("single")]
    tens = _DIGIT_WORDS[m.group("tens")] if m.group("tens") else 1
    unit = _DIGIT_WORDS[m.group("unit")] if m.group("unit") else 0
    return tens * 10 + unit


def _count_value(digits: str | None, word: str | None) -> int | None:
    if digits:
        return int(digits)
    if word:
        return _number_word_value(word)
    return None


# Digits that start a count: not the tail of "1.500", "1,5" or "1/2".
_COUNT_DIGITS = r"(?<![\d/])(?<!\d[.,])(?P<digits>\d{1,3})"
_COUNT_WORD = rf"\b(?P<word>{_NUMBER_WORD})"
_PERIOD_COUNT_WORD = rf"\b(?P<word>{_number_word_pattern(_PERIOD_SINGLE_WORDS)})"

# --- members ---------------------------------------------------------------------------------

# Number words only count before a person noun: "năm" is also "year", "sáu"/"sau" also "after".
_PERSON_NOUN = r"(?:nguoi|ng|thanh vien|tv|nhan khau|khau|suat)(?![a-z])"
_MEMBERS_RE = re.compile(
    rf"(?:{_COUNT_DIGITS}\s?|{_COUNT_WORD}\s){_PERSON_NOUN}",
    _A,
)
_ALONE_RE = re.compile(r"\b(?:mot minh|1 minh)\b", _A)


def _members(norm: str) -> int | None:
    for m in _MEMBERS_RE.finditer(norm):
        value = _count_value(m.group("digits"), m.group("word"))
        if value:
            return value
    if _ALONE_RE.search(norm):
        return 1
    return None


def parse_members(text: str) -> int | None:
    """Household size from "3 người", "4 thành viên", "5 khẩu", "3 ng", "ba người"."""
    try:
        return _members(_without_dates(normalize(text)))
    except Exception:  # noqa: BLE001
        return None


# --- months ----------------------------------------------------------------------------------

# Not "tháng 12" (December) nor "tháng 5 năm 2026": the count must come before the unit, the
# unit must not be followed by a 4-digit year, and the count must not follow "tháng"/"ngày".
_NOT_AFTER_MONTH = r"(?<!thang\s)(?<!ngay\s)(?<!th\s)"
_MONTHS_RE = re.compile(
    rf"{_NOT_AFTER_MONTH}(?:{_COUNT_DIGITS}\s?(?:thang|th|t)(?!\s?\d{{4}})"
    # "sáu tháng" is 6 months but "sau tháng 7" is "after July": a word count needs no number
    rf"|{_PERIOD_COUNT_WORD}\sthang(?!\s?\d))(?![a-z0-9])",
    _A,
)
_YEARS_RE = re.compile(
    rf"{_NOT_AFTER_MONTH}(?:{_COUNT_DIGITS}\s?|{_PERIOD_COUNT_WORD}\s)nam(?![a-z0-9])(?!\s?\d{4})"
    r"(?!\s(?:tuoi|nay|sau|truoc|toi|ngoai)\b)",
    _A,
)
_QUARTERS_RE = re.compile(
    r"(?:(?<![\d.,])(?P<digits>\d)\s?|\b(?P<word>mot|hai|ba|bon)\s|\b(?:moi|hang|theo|tung)\s)?"
    r"(?<![a-z])quy(?![a-z])",
    _A,
)
_HALF_YEAR_RE = re.compile(r"\b(?:nua nam|1/2 nam|6 thang mot lan)\b", _A)
_WHOLE_YEAR_RE = re.compile(r"\b(?:ca nam|hang nam|moi nam|theo nam|tron nam|mot nam)\b", _A)
# Paying every month: only meaningful for voluntary BHXH (BHYT has no monthly mode).
_MONTHLY_RE = re.compile(r"\b(?:hang|moi|theo|tung)\s(?:thang)\b", _A)

_MAX_MONTHS = 120
_MAX_YEARS = 10


def _explicit_months(norm: str) -> int | None:
    for m in _MONTHS_RE.finditer(norm):
        value = _count_value(m.group("digits"), m.group("word"))
        if value and value <= _MAX_MONTHS:
            return value
    return None


def _years_as_months(norm: str) -> int | None:
    for m in _YEARS_RE.finditer(norm):
        value = _count_value(m.group("digits"), m.group("word"))
        if value and value <= _MAX_YEARS:
            return value * 12
    return None


def _quarters_as_months(norm: str) -> int | None:
    m = _QUARTERS_RE.search(norm)
    if m is None:
        return None
    count = _count_value(m.group("digits"), m.group("word")) or 1
    return count * 3 if count <= 4 else None


def _months(norm: str, allow_monthly: bool) -> int | None:
    """Period length in months; explicit counts beat words like "cả năm" or "hằng tháng"."""
    for reader in (_explicit_months, _years_as_months):
        value = reader(norm)
        if value is not None:
            return value
    if _HALF_YEAR_RE.search(norm):
        return 6
    if _WHOLE_YEAR_RE.search(norm):
        return 12
    value = _quarters_as_months(norm)
    if value is not None:
        return value
    if allow_monthly and _MONTHLY_RE.search(norm):
        return 1
    return None


def parse_months(text: str) -> int | None:
    """Months of the period: "12 tháng", "6 th", "12t", "1 năm" (12), "nửa năm" (6), "quý" (3),
    "cả năm" (12), "hằng tháng"/"mỗi tháng" (1). A bare "12" is not months: see parse_int_choice.
    """
    try:
        return _months(_without_dates(normalize(text)), allow_monthly=True)
    except Exception:  # noqa: BLE001
        return None


# --- a typed answer to a follow-up question -------------------------------------------------

_CHOICE_RE = re.compile(
    rf"(?:(?:chon|la|cho|dong|khoang|tam|so)\s)?"
    rf"(?:(?P<digits>\d{{1,3}})|(?P<word>{_NUMBER_WORD}))"
    rf"(?:\s?(?:nguoi|ng|thanh vien|tv|nhan khau|khau|thang|th|t))?"
    rf"(?:\s(?:a|nhe|nha|thoi|ok|oke|nhe a|a nhe))?",
    _A,
)


def parse_int_choice(text: str) -> int | None:
    """A bare small integer typed as an answer: "3", "3 người", "12 tháng", "ba", "3 ạ".

    The whole message must be that answer (punctuation and emoji aside), so "3tr" or "năm
    2026" are not choices.
    """
    try:
        words = _words(normalize(text))
        m = _CHOICE_RE.fullmatch(words)
        if m is None:
            return None
        return _count_value(m.group("digits"), m.group("word"))
    except Exception:  # noqa: BLE001
        return None


# --- support groups ----------------------------------------------------------------------

def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _A)


# "cận nghèo" and "thoát nghèo" contain "nghèo": a poor household is "nghèo" on its own.
_POOR = r"(?<!can )(?<!thoat )(?<!khong )\bngheo\b"
_NEAR_POOR = r"\bcan ngheo\b|\bhcn\b"
# Not "dong bao" (đồng bào): it is also "đóng bao [nhiêu]", how much to pay.
_ETHNIC = r"\bdtts\b|\bdan toc\b"
_LEFT_HARDSHIP = (
    r"\bthoat kho\b|\bthoat khoi (?:vung |xa )?(?:dac biet )?kho\b"
    r"|\bra khoi (?:danh sach )?(?:vung |xa )?(?:dac biet )?kho\b"
    r"|\bkhong con (?:la |thuoc )?(?:vung |xa )(?:dac biet )?kho\b"
)
_HARDSHIP_AREA = r"\bdac biet kho khan\b|\bdbkk\b|\bvung kho\b|\bxa kho khan\b|\bvung sau vung xa\b"

# BHYT groups in order of support, most generous first: when a text names several, the
# person gets the highest applicable level, so the first match is the right key.
_BHYT_FREE_BEFORE_AREA: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ngheo", _re(_POOR)),
    ("tre_em_duoi_6", _re(
        r"\bduoi (?:6|sau) tuoi\b|\btre (?:em |nho |con )?duoi (?:6|sau)\b|\btre so sinh\b"
    )),
    ("bao_tro_xa_hoi", _re(
        r"\bbao tro xa hoi\b|\bbtxh\b|\btro cap xa hoi\b|\btro cap huu tri xa hoi\b"
    )),
)
_BHYT_AFTER_AREA: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("can_ngheo", _re(_NEAR_POOR)),
    ("dtts_vung_thoat_kho", _re(rf"{_LEFT_HARDSHIP}|{_ETHNIC}")),
    ("hoc_sinh", _re(r"\bhoc sinh\b|\bsinh vien\b|\bhs\b|\bsv\b|\bhssv\b")),
    ("y_te_thon", _re(
        r"\by te (?:thon|ap|ban)\b|\bcan bo (?:thon|ap|khu pho|to dan pho)\b"
        r"|\bco do thon\b|\bkhong chuyen trach\b|\ban ninh trat tu\b|\bnghe nhan\b"
    )),
    ("nong_lam_ngu_diem", _re(
        r"\bnong lam ngu\b|\b(?:nong|lam|ngu|diem) nghiep\b|\bmuc song trung binh\b"
    )),
)
_LEFT_HARDSHIP_RE = _re(_LEFT_HARDSHIP)
_HARDSHIP_AREA_RE = _re(_HARDSHIP_AREA)

# Voluntary BHXH support, most generous first ("the highest applicable level applies").
_BHXH_GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ngheo", _re(rf"{_POOR}|\bhai dao\b|\bdac khu\b")),
    ("can_ngheo", _re(_NEAR_POOR)),
    ("dtts", _re(_ETHNIC)),
    ("khac", _re(
        r"\bnguoi dan\b(?! toc)|\bbinh thuong\b|\bdoi tuong khac\b|\bkhac\b"
        r"|\bkhong thuoc\b|\bthong thuong\b"
    )),
)


def _first_key(words: str, groups: tuple[tuple[str, re.Pattern[str]], ...]) -> str | None:
    for key, pattern in groups:
        if pattern.search(words):
            return key
    return None


def _bhyt_group(words: str) -> str | None:
    key = _first_key(words, _BHYT_FREE_BEFORE_AREA)
    if key is not None:
        return key
    if _HARDSHIP_AREA_RE.search(words) and not _LEFT_HARDSHIP_RE.search(words):
        return "dtts_vung_kho"
    return _first_key(words, _BHYT_AFTER_AREA)


def parse_bhyt_group(text: str) -> str | None:
    """The BHYT support group key named in the text ("cận nghèo" -> "can_ngheo"), or None."""
    try:
        return _bhyt_group(_words(normalize(text)))
    except Exception:  # noqa: BLE001
        return None


def parse_bhxh_group(text: str) -> str | None:
    """The voluntary-BHXH support group key ("ngheo", "can_ngheo", "dtts", "khac"), or None."""
    try:
        return _first_key(_words(normalize(text)), _BHXH_GROUPS)
    except Exception:  # noqa: BLE001
        return None


# --- intent -------------------------------------------------------------------------------

_BHYT_RE = _re(
    r"\bbhyt\b|\bbh ?yt\b|\bbh ?y ?te\b|\bbao ?hiem ?y ?te\b|\bthe ?y ?te\b|\bbhiem y te\b"
)
_BHXH_VOLUNTARY_RE = _re(
    r"\b(?:bhxh|bh ?xh|bao hiem xa hoi|xa hoi) ?(?:tu nguyen|tn|tnguyen)\b"
    r"|\b(?:bh|bao hiem) (?:tu nguyen|tnguyen)\b"  # not "bhtn": unemployment insurance
    r"|\bbhxhtn\b|\bluong huu\b"
)
_BHXH_WEAK_RE = _re(r"\bbhxh\b|\bbh xh\b|\bbao hiem xa hoi\b|\btu nguyen\b")
_HOUSEHOLD_RE = _re(
    r"\bho gia dinh\b|\bhgd\b|\bca nha\b|\bgia dinh\b|\bnha (?:toi|minh|em|con)\b"
)
_GENERIC_INSURANCE_RE = _re(r"\bbao hiem\b|\bbh\b")
_BHYT_ONLY_GROUPS = frozenset(
    {"hoc_sinh", "tre_em_duoi_6", "y_te_thon", "nong_lam_ngu_diem", "bao_tro_xa_hoi",
     "dtts_vung_kho"}
)
_HELP_RE = _re(r"\b(?:help|giup|tro giup|huong dan|cach dung|menu)\b")
_QUESTION_MARKS_RE = re.compile(r"[?\s]+")
_GREETING_RE = _re(r"\b(?:xin chao|chao|hello|helo|hi|hey|alo|a lo|allo)\b")


def _first_pos(pattern: re.Pattern[str], words: str) -> int | None:
    m = pattern.search(words)
    return None if m is None else m.start()


def _insurance_intent(words: str, has_amount: bool, members: int | None) -> Intent | None:
    """BHYT or voluntary BHXH, or None; when both are named, the one named first wins."""
    bhyt_at = _first_pos(_BHYT_RE, words)
    voluntary_at = _first_pos(_BHXH_VOLUNTARY_RE, words)
    if voluntary_at is not None and (bhyt_at is None or voluntary_at < bhyt_at):
        return Intent.BHXH_VOLUNTARY
    if bhyt_at is not None:
        return _bhyt_kind(words)
    if has_amount and _BHXH_WEAK_RE.search(words):
        return Intent.BHXH_VOLUNTARY
    if _HOUSEHOLD_RE.search(words):
        return _bhyt_kind(words)
    if _bhyt_group(words) in _BHYT_ONLY_GROUPS:
        return Intent.BHYT_SUPPORTED
    if members is not None and _GENERIC_INSURANCE_RE.search(words):
        return Intent.BHYT_HOUSEHOLD
    return None


def _bhyt_kind(words: str) -> Intent:
    return Intent.BHYT_SUPPORTED if _bhyt_group(words) else Intent.BHYT_HOUSEHOLD


def _chat_intent(norm: str, words: str) -> Intent:
    if norm and _QUESTION_MARKS_RE.fullmatch(norm):
        return Intent.HELP
    if _HELP_RE.search(words):
        return Intent.HELP
    if _GREETING_RE.search(words):
        return Intent.GREETING
    return Intent.UNKNOWN


def _parse(text: str) -> Question:
    norm = normalize(text)
    on = _first_date(norm)
    plain = _without_dates(norm)
    words = _words(plain)
    amount = _first_amount(plain)
    members = _members(plain)
    intent = _insurance_intent(words, amount is not None, members)
    if intent is None:
        intent = _chat_intent(norm, words)
    voluntary = intent == Intent.BHXH_VOLUNTARY
    if voluntary:
        group = _first_key(words, _BHXH_GROUPS)
    elif intent == Intent.BHYT_SUPPORTED:
        group = _bhyt_group(words)
    else:
        group = None
    return Question(
        intent=intent,
        members=members,
        months=_months(plain, allow_monthly=voluntary),
        income=amount if voluntary else None,
        group=group,
        on=on,
    )


def parse_question(text: str) -> Question:
    """Everything a free-text cost question states; values it does not state stay None.

    `income` is set only for voluntary BHXH and `group` only for BHYT_SUPPORTED / voluntary
    BHXH (the two key sets differ). "Hằng tháng" means 1 month only for voluntary BHXH.
    """
    try:
        return _parse(text)
    except Exception:  # noqa: BLE001 - a stranger's message must never crash the bot
        return Question(intent=Intent.UNKNOWN)
