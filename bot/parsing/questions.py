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
    "names_scheme",
    "place_key",
    "place_within",
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
    OFF_TOPIC = "OFF_TOPIC"  # insurance the bot does not quote (life, compulsory, vehicle...)
    HELP = "HELP"
    GREETING = "GREETING"
    UNKNOWN = "UNKNOWN"


class Question(BaseModel):
    """A parsed free-text question; any value the text does not state is None.

    Besides the values it used, the question says what it found and did *not* use
    (`unused`: a stray number, a second date, a clause it cannot apply), so the dialogue can
    refuse to print a figure for a different question than the one asked.
    """

    model_config = ConfigDict(frozen=True)

    intent: Intent
    members: int | None = None
    months: int | None = None
    income: int | None = None
    group: str | None = None
    on: date | None = None
    # household members who already have a card of another group ("2 người có thẻ hộ nghèo
    # rồi"); when set, `members` already excludes them (DOMAIN: not counted on the ladder)
    covered: int | None = None
    # children named in a household ("2 vợ chồng với 3 đứa nhỏ"): under 6 or students they
    # have their own card, so the dialogue asks before counting them
    children: int | None = None
    adults: int | None = None
    # where the person lives, as a place key ("angiang"), see `place_key`
    area: str | None = None
    # places the person said they do not live in ("không ở An Giang"): no co-funding hint
    not_areas: tuple[str, ...] = ()
    # OFF_TOPIC: which insurance ("nhan_tho", "bat_buoc", "xe", "that_nghiep")
    topic: str | None = None
    # an ethnic group was named; for BHYT the commune decides free vs 70 %: ask
    ethnic: bool = False
    # the members already covered hold *household* cards (their ladder position matters)
    household_cards: bool = False
    # "con em 2 tuổi với em": the child's card is free, one adult buys (members=1, covered=1)
    free_child_adult: bool = False
    # "mua thêm cho 1 người nữa": members join a household that already has cards; the
    # ladder position is asked
    extra_member: bool = False
    # "mức thấp nhất": the lowest income on the date asked about
    lowest_income: bool = False
    # when a card expired (not the payment date; the question is priced on today)
    expired: date | None = None
    # a second question in the same message ("..., còn hộ thường thì bao nhiêu"): answered
    # one at a time, the reply says which part comes later
    second_question: str | None = None
    # what was found but not used, as short Vietnamese fragments for the reply
    unused: tuple[str, ...] = ()


# --- normalisation ------------------------------------------------------------------------

_WHITESPACE_RE = re.compile(r"\s+")
_NON_WORD_RE = re.compile(r"[^a-z0-9]+", _A)


def _clip(text: object) -> str:
    """The part of the input we look at; tolerate non-str so callers can never make us raise."""
    if not isinstance(text, str):
        return ""
    clipped = text[:MAX_INPUT_CHARS]
    if len(text) > MAX_INPUT_CHARS and not text[MAX_INPUT_CHARS].isspace():
        # a word or number cut at the boundary ("2t" of "2tr", "12" of "1234") is not what
        # the person typed: drop its head
        clipped = _TRAILING_TOKEN_RE.sub("", clipped)
    return clipped


_TRAILING_TOKEN_RE = re.compile(r"\S+$")


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
          # "1tr5", "2tr500"; but in "3tr12 tháng" / "2tr6 tháng" the digits are the months
          | (?P<m_frac>(?:12|1|3|6)(?![\d])(?!\s?(?:thang|th|t|nam|quy|nguoi(?!\sdan)|ng){_NOT_LETTER})
              |(?!(?:12|1|3|6)(?![\d]))\d{{1,3}}(?![\d])(?!\s?(?:nguoi(?!\sdan)|ng){_NOT_LETTER}))
          | \s(?P<m_frac2>\d(?![\d]|[.,/]\d)|\d{{3}}(?![\d]|[.,/]\d))  # "4 triệu 2", "2 triệu 500"
            (?!\s?(?:nguoi(?!\sdan)|ng|thang|th|t|nam|quy|khau|tv|thanh|tuoi|lan|dua|con|be|chau){_NOT_LETTER})
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
        elif m.group("m_frac") or m.group("m_frac2"):
            value += Decimal("0." + (m.group("m_frac") or m.group("m_frac2"))) * _MILLION
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


def _amount_match(norm: str) -> tuple[int, tuple[int, int]] | None:
    """The first money amount in already-normalised text, with the span it was read from."""
    for m in _AMOUNT_RE.finditer(norm):
        try:
            amount = _amount_from_match(m)
        except (InvalidOperation, ValueError):
            amount = None
        if amount is not None:
            return amount, m.span()
    return None


def _first_amount(norm: str) -> int | None:
    """The first money amount in already-normalised text."""
    found = _amount_match(norm)
    return None if found is None else found[0]


def parse_amount(text: str) -> int | None:
    """Money in whole đồng from "2tr", "1,5 triệu", "1tr5", "1.500.000", "800k", "2 củ"...

    The first amount in the text wins. A bare number counts only with thousands grouping or
    from 100.000 up (so "2" or "12" is not money); 10+ digit runs (codes, phones) never count.
    """
    try:
        return _first_amount(_without_dates(_prepare(text)))
    except Exception:  # noqa: BLE001 - a parser on user input must never raise
        return None


# --- dates ---------------------------------------------------------------------------------

_DATE_RE = re.compile(r"(?<![\d.,/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d])", _A)

# Every other way people write a date; each gives (day, month, year word) groups.
_VERBAL_DATE_RE = re.compile(
    r"\bngay (?P<d>\d{1,2}) thang (?P<m>\d{1,2})(?: nam |\s?[/-]\s?)(?P<y>\d{4})(?!\d)", _A
)
_MONTH_OF_YEAR_RE = re.compile(
    r"(?:\bthang\s?)?(?<![\d.,/-])(?P<m>\d{1,2})\s?[/-]\s?(?P<y>\d{4})(?!\d)"
    r"|\bthang (?P<m2>\d{1,2}) (?:cua )?nam (?P<y2>\d{4}|nay|ngoai|truoc|sau|toi)\b",
    _A,
)
_PART_OF_YEAR_RE = re.compile(
    r"\b(?P<part>dau|cuoi) nam (?P<y>\d{4}|nay|ngoai|truoc|sau|toi)\b", _A
)
_RELATIVE_YEARS = {"nay": 0, "ngoai": -1, "truoc": -1, "sau": 1, "toi": 1}
# "ngày mai", "tuần sau", "tháng sau", "sang năm": dates relative to today. "Năm ngoái" alone
# names no day (reported as unused). Not "3 tháng sau" (a count of months) nor "sáu tháng".
_RELATIVE_DATE_RE = re.compile(
    r"\b(?P<tomorrow>ngay mai|sang mai|chieu mai|toi mai|trua mai)\b"
    # a bare "mai" is tomorrow only in a clear time position: "mai đóng", "mai tôi mua"
    r"|(?<!\bten )(?<!\bten la )(?<!\bchi )(?<!\bco )(?<!\bhoa )(?<!\banh )(?<!\bbe )(?<!\bba )(?<!\bong )"
    r"\b(?P<tomorrow2>mai)\s(?=(?:dong|mua|nop|gia han|lam|di|toi|em|minh|tui|chung toi|moi|se|con|la)\b)"
    r"|(?<!\d )(?<!\d)\b(?P<week>tuan (?:sau|toi))\b"
    r"|(?<!\d )(?<!\d)(?<!\bhang )(?<!\bmoi )(?<!\btheo )(?<!\btung )\b(?P<month>thang (?:sau|toi))\b(?!\s?\d)(?!\s(?:tet|nua)\b)"
    # "sang năm 2 người 12 tháng": a count after it does not undo the year
    r"|(?<!\d )\b(?P<year>(?:tu )?nam (?:sau|toi)|sang nam)\b(?!\s?\d{4})"
    r"|\b(?P<past>nam ngoai|nam truoc|nam roi)\b"
    # past or vague days: never silently today (reported as unused, so the bot asks)
    r"|(?<!\d )(?<!\d)\b(?P<vague>hom qua|hom kia|hom truoc|tuan truoc|tuan roi|thang truoc|thang roi"
    r"|sau tet|truoc tet|dip tet|thang gieng|cuoi nam|dau nam|giua nam|cuoi thang|dau thang|giua thang"
    r"|dau thang sau|cuoi thang sau)\b(?!\s(?:nay|sau|toi|ngoai|truoc|\d))",
    _A,
)
# How a vague day is quoted back (the person's words, with their diacritics).
_VAGUE_DAY_LABELS = {
    "hom qua": "hôm qua", "hom kia": "hôm kia", "hom truoc": "hôm trước", "tuan truoc": "tuần trước",
    "tuan roi": "tuần rồi", "thang truoc": "tháng trước", "thang roi": "tháng rồi", "sau tet": "sau Tết",
    "truoc tet": "trước Tết", "dip tet": "dịp Tết", "thang gieng": "tháng Giêng", "cuoi nam": "cuối năm",
    "dau nam": "đầu năm", "giua nam": "giữa năm", "cuoi thang": "cuối tháng", "dau thang": "đầu tháng",
    "giua thang": "giữa tháng", "dau thang sau": "đầu tháng sau", "cuoi thang sau": "cuối tháng sau",
    "nam ngoai": "năm ngoái", "nam truoc": "năm trước", "nam roi": "năm rồi",
}
# "mai" that is not clearly tomorrow (nor a name): asked, never assumed.
_UNCLEAR_MAI_RE = re.compile(
    r"(?<!\bten )(?<!\bten la )(?<!\bchi )(?<!\bco )(?<!\bhoa )(?<!\banh )(?<!\bbe )(?<!\bba )(?<!\bong )"
    r"(?<!\bngay )(?<!\bsang )(?<!\bchieu )(?<!\btoi )(?<!\btrua )\bmai\b",
    _A,
)
# "1/1 năm sau", "năm sau 1/1": a day of next year.
_NEXT_YEAR_DAY_RE = re.compile(
    r"(?<![\d/.-])(?:ngay\s)?(?P<d>\d{1,2})/(?P<m>\d{1,2})(?![\d/])\s(?:nam sau|sang nam|nam toi)\b"
    r"|\b(?:nam sau|sang nam|nam toi)\s(?:ngay\s|tu\s|tu ngay\s)?(?P<d2>\d{1,2})/(?P<m2>\d{1,2})(?![\d/])",
    _A,
)
# "năm 2027", "từ 2027", "từ năm 2027": a year (never money, never months).
_YEAR_NUMBER_RE = re.compile(r"\b(?:tu nam|nam|tu)\s(?P<y>19\d\d|20\d\d|2100)(?!\d|[.,]\d)", _A)


def _relative_date(m: re.Match[str], today: date | None) -> date | None:
    """The date a relative phrase means on `today`; None when it names no day."""
    if today is None or m.group("past") or m.group("vague"):
        return None
    if m.group("tomorrow") or m.group("tomorrow2"):
        return date.fromordinal(today.toordinal() + 1)
    if m.group("week"):
        return date.fromordinal(today.toordinal() + 7)
    if m.group("month"):
        return date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return date(today.year + 1, 1, 1)


def _year(word: str, today: date | None) -> int | None:
    """2025 from "2025", this year from "nay" (needs today), None when it cannot be known."""
    if word.isdigit():
        return int(word)
    if today is None or word not in _RELATIVE_YEARS:
        return None
    return today.year + _RELATIVE_YEARS[word]


def _safe_date(year: int | None, month: int, day: int) -> date | None:
    if year is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_from_match(m: re.Match[str]) -> date | None:
    year = int(m.group(4))
    if len(m.group(4)) == 2:
        year += 2000  # "10/10/25": nobody asks about the 1920s here
    return _safe_date(year, int(m.group(3)), int(m.group(1)))


def _date_candidates(norm: str, today: date | None) -> list[tuple[int, int, date | None]]:
    """Every date-like span in text order, with the date it means (None: cannot be known)."""
    found: list[tuple[int, int, date | None]] = []

    def add(m: re.Match[str], value: date | None) -> None:
        start, end = m.span()
        if not any(s < end and start < e for s, e, _ in found):
            found.append((start, end, value))

    for m in _NEXT_YEAR_DAY_RE.finditer(norm):
        year = None if today is None else today.year + 1
        add(m, _safe_date(year, int(m.group("m") or m.group("m2")), int(m.group("d") or m.group("d2"))))
    for m in _DATE_RE.finditer(norm):
        add(m, _date_from_match(m))
    for m in _VERBAL_DATE_RE.finditer(norm):
        add(m, _safe_date(int(m.group("y")), int(m.group("m")), int(m.group("d"))))
    for m in _MONTH_OF_YEAR_RE.finditer(norm):
        month = m.group("m") or m.group("m2")
        year = _year(m.group("y") or m.group("y2"), today)
        add(m, _safe_date(year, int(month), 1))
    for m in _PART_OF_YEAR_RE.finditer(norm):
        year = _year(m.group("y"), today)
        add(m, _safe_date(year, 1 if m.group("part") == "dau" else 12, 1))
    for m in _RELATIVE_DATE_RE.finditer(norm):
        add(m, _relative_date(m, today))
    for m in _YEAR_NUMBER_RE.finditer(norm):
        year = int(m.group("y"))
        # a later year prices on its first day; this year or a past one names no day: asked
        ahead = today is not None and year > today.year
        add(m, date(year, 1, 1) if ahead else None)
    found.sort()
    return found


def _first_date(norm: str, today: date | None = None) -> date | None:
    for _, _, value in _date_candidates(norm, today):
        if value is not None:
            return value
    return None


_UNIT_WORDS_AFTER = frozenset(
    {"nguoi", "ng", "thang", "th", "nam", "tuoi", "lan", "khau", "dua", "con", "be", "chau", "trieu",
     "tr", "k", "nghin", "ngan", "quy", "tv", "thanh"}
)


def _context(
    text: str, span: tuple[int, int], words: int = 2, after_words: int | None = None,
    units_only: bool = False,
) -> str:
    """A few words around a span, so a stray "2" is quoted as "ngoài ra 2 người"."""
    before: list[str] = []
    for word in reversed(text[: span[0]].split()[-words:] if words else []):
        if any(ch.isdigit() for ch in word) or word[-1:] in ",.;:!?":
            break  # another number is quoted on its own; a clause ends at punctuation
        before.insert(0, word)
    after: list[str] = []
    after_words = words if after_words is None else after_words
    for word in text[span[1]:].split()[:after_words] if after_words else []:
        if any(ch.isdigit() for ch in word) or (units_only and word.strip(",.;:!?") not in _UNIT_WORDS_AFTER):
            break
        after.append(word)
        if word[-1:] in ",.;:!?":
            break
    return " ".join(before + [text[span[0]:span[1]].strip()] + after).strip(" ,.;:!?")


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Spaces over the spans, keeping every other character where it was (spans stay valid)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _without_dates(norm: str) -> str:
    """Blank out dates so "01/07/2026" is read neither as months nor as money."""
    return _blank(norm, [(s, e) for s, e, _ in _date_candidates(norm, None)])


def parse_date(text: str, today: date | None = None) -> date | None:
    """The first valid date: dd/mm/yyyy (also d/m/yy, dd-mm-yyyy, dd.mm.yyyy), "ngày 2 tháng 1
    năm 2026", "tháng 8/2024" (the 1st), "đầu năm 2025"; "năm nay" forms need `today`."""
    try:
        return _first_date(_prepare(text), today)
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
_HOUSEHOLD_COUNT_RE = re.compile(
    r"\b(?:ca nha|nha|gia dinh|ca gia dinh|nha toi|nha minh|nha em)\s(?:co\s|gom\s)?(?P<digits>\d{1,2})\b"
    r"(?!\s?(?:thang|th|t|nam|tuoi|tr|trieu|cu|k|nghin|ngan|quy|lan|dua|con|be|chau)\b)(?![.,/-]?\d)",
    _A,
)
_ALONE_RE = re.compile(r"\b(?:mot minh|1 minh)\b", _A)


def _members_match(norm: str) -> tuple[int, tuple[int, int]] | None:
    for m in _MEMBERS_RE.finditer(norm):
        value = _count_value(m.group("digits"), m.group("word"))
        if value:
            return value, m.span()
    whole = _HOUSEHOLD_COUNT_RE.search(norm)
    if whole:  # "cả nhà 5"
        return int(whole.group("digits")), whole.span()
    alone = _ALONE_RE.search(norm)
    if alone:
        return 1, alone.span()
    return None


def _members(norm: str) -> int | None:
    found = _members_match(norm)
    return None if found is None else found[0]


def parse_members(text: str) -> int | None:
    """Household size from "3 người", "4 thành viên", "5 khẩu", "3 ng", "ba người"."""
    try:
        return _members(_without_dates(_prepare(text)))
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

# "1 năm rưỡi": a year and a half.
_AND_A_HALF_RE = re.compile(
    rf"(?:{_COUNT_DIGITS}\s?|{_PERIOD_COUNT_WORD}\s)nam ruoi\b|\bmot nam ruoi\b", _A
)
# A scheme or group named only to be set aside.
_SET_ASIDE_RE = re.compile(
    r"\b(?:dang |da |co |duoc |nhan |vua )?huong luong huu\b|\b(?:dang co|da co|nhan|lanh|an|dang nhan|dang lanh) luong huu\b"
    r"|\bnghi huu\b|\bve huu\b"
    r"|\bkhong (?:mua|hoi|phai|can|dong|tinh|lay)\s(?:the\s)?(?:bhyt|bh yt|bao hiem y te|bhxh|bao hiem xa hoi)"
    r"(?:\s(?:ho gia dinh|hgd|hoc sinh|sinh vien|tu nguyen|tn))?\b"
    r"|[^,.;!?]{1,40}\?\s?(?:khong|khong phai|ko)\s?[,.]"
    r"|\bkhong co (?:ai|nguoi|chau|be|dua|con|tre)(?: nao)? (?:duoi|be hon) (?:6|sau)(?: tuoi)?\b",
    _A,
)
# "con em dưới 6 tuổi" said with a member count: a household child whose card is free.
_UNDER_SIX_CHILD_RE = re.compile(
    rf"(?:(?:{_COUNT_DIGITS}\s?|{_COUNT_WORD}\s)(?:dua|con|chau|be|tre)(?:\s(?:nho|con))?\s"
    r"|\b(?:con|be|chau|dua nho|dua)(?:\s(?:e|em|toi|minh|tui|nha|nho))?\s)(?:la\s|thi\s|moi\s)?"
    r"(?:duoi|chua du|chua toi) (?:6|sau) tuoi\b",
    _A,
)
# A bare year with "đồng" (usually "đóng", pay) after it is a year, not money.
_YEAR_AS_MONEY_RE = re.compile(r"(?:19\d\d|20\d\d|2100)\s?(?:dong|d)?", _A)
# "3 người à nhầm, 4 người", "ý là 3 triệu", "à quên, 6 tháng thôi", "không phải 12 tháng mà 6
# tháng": a correction marker; a value said after it replaces the same kind of value before it.
_CORRECTION_RE = re.compile(
    r"\b(?:a nham|nham roi|nham|y la|y minh la|y em la|a quen|quen|sua lai|xin sua|dinh chinh)\b"
    r"|\bkhong phai\b[^,.;]{1,30}?\bma\b",
    _A,
)

# "-3 tháng", "-3": a negative count, not 3.
_MINUS_RE = re.compile(r"(?:(?<=\s)|^)[-\u2212\u2013]\s?\d{1,3}(?![\d/.-])(?:\s?(?:thang|th|t|nguoi|ng|nam)\b)?", _A)

_MAX_MONTHS = 120
_MAX_YEARS = 10


_Span = tuple[int, int]


def _explicit_months(norm: str) -> tuple[int, _Span] | None:
    for m in _MONTHS_RE.finditer(norm):
        value = _count_value(m.group("digits"), m.group("word"))
        if value and value <= _MAX_MONTHS:
            return value, m.span()
    return None


def _years_as_months(norm: str) -> tuple[int, _Span] | None:
    for m in _YEARS_RE.finditer(norm):
        value = _count_value(m.group("digits"), m.group("word"))
        if value and value <= _MAX_YEARS:
            return value * 12, m.span()
    return None


def _quarters_as_months(norm: str) -> tuple[int, _Span] | None:
    m = _QUARTERS_RE.search(norm)
    if m is None:
        return None
    count = _count_value(m.group("digits"), m.group("word")) or 1
    return (count * 3, m.span()) if count <= 4 else None


def _months_match(norm: str, allow_monthly: bool) -> tuple[int, _Span] | None:
    """Period length in months and its span; explicit counts beat "cả năm" or "hằng tháng"."""
    for reader in (_explicit_months, _years_as_months):
        found = reader(norm)
        if found is not None:
            return found
    for pattern, value in ((_HALF_YEAR_RE, 6), (_WHOLE_YEAR_RE, 12)):
        m = pattern.search(norm)
        if m is not None:
            return value, m.span()
    found = _quarters_as_months(norm)
    if found is not None:
        return found
    if allow_monthly:
        m = _MONTHLY_RE.search(norm)
        if m is not None:
            return 1, m.span()
    return None


def _months(norm: str, allow_monthly: bool) -> int | None:
    found = _months_match(norm, allow_monthly)
    return None if found is None else found[0]


def parse_months(text: str) -> int | None:
    """Months of the period: "12 tháng", "6 th", "12t", "1 năm" (12), "nửa năm" (6), "quý" (3),
    "cả năm" (12), "hằng tháng"/"mỗi tháng" (1). A bare "12" is not months: see parse_int_choice.
    """
    try:
        return _months(_without_dates(_prepare(text)), allow_monthly=True)
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
_POOR = (
    r"(?<!can )(?<!thoat )(?<!khong )(?<!khong phai ho )(?<!khong phai )(?<!khong thuoc ho )"
    r"(?<!khong la ho )\bngheo\b"
)
_NEAR_POOR = r"\bcan ngheo\b|\bhcn\b"
# Ethnic groups people name ("người Ê Đê", "dân tộc Chăm"); the prefix keeps "Tày" apart from
# "Tây Ninh", "Thái" from "Thái Bình", "Dao" from "xã đảo". Any of them is an ethnic minority.
_ETHNIC_NAMES = (
    r"e de|ede|cham(?! chi| soc)|khmer|kho me|khome|tay(?! ninh| nguyen| bac| nam| ba lo)"
    r"|thai(?! binh| nguyen| lan)|muong|h ?mong|hmong|mong(?! muon)|nung|dao|gia rai|jrai|jarai"
    r"|ba na|bahnar|xo dang|sedang|san diu|san chay|co ho|ra glai|raglai|x ?tieng|hre"
    r"|m ?nong|co tu|gie trieng|ta oi|chu ru|kho mu|ha nhi|la chi|lo lo|pa then|chut|brau"
    r"|ro mam|si la|pu peo|co lao|bo y|la hu|phu la|hoa|thieu so"
)
# Not "dong bao" alone (đồng bào): it is also "đóng bao [nhiêu]", how much to pay.
_ETHNIC = (
    rf"\bdtts\b|\bdan toc\b(?! kinh\b)|\b(?:nguoi|dan|dong bao|toc|bao) (?:dan toc )?(?:{_ETHNIC_NAMES})\b"
)
_LEFT_HARDSHIP = (
    r"\bthoat kho\b|\bthoat khoi (?:vung |xa )?(?:dac biet )?kho\b"
    r"|\bra khoi (?:danh sach )?(?:vung |xa )?(?:dac biet )?kho\b"
    r"|\bkhong con (?:la |thuoc )?(?:vung |xa )(?:dac biet )?kho\b"
)
_HARDSHIP_AREA = r"\bdac biet kho khan\b|\bdbkk\b|\bvung kho\b|\bxa kho khan\b|\bvung sau vung xa\b"
_ISLAND = r"\bxa dao\b|\bhai dao\b|\bdac khu\b|\bhuyen dao\b|\bo dao\b"
# "được nhà nước hỗ trợ": a supported card, group not said yet.
_STATE_SUPPORT_RE = re.compile(
    r"\b(?:nha nuoc|ngan sach|chinh phu|nn) (?:ho tro|tra|dong|cap)\b|\bdien (?:duoc )?ho tro\b"
    r"|\bdoi tuong (?:duoc )?ho tro\b|\bduoc ho tro\b",
    _A,
)

# BHYT groups in order of support, most generous first: when a text names several, the
# person gets the highest applicable level, so the first match is the right key.
_BHYT_FREE_BEFORE_AREA: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ngheo", _re(_POOR)),
    ("tre_em_duoi_6", _re(
        r"\bduoi (?:6|sau) tuoi\b|\btre (?:em |nho |con )?duoi (?:6|sau)\b|\btre so sinh\b"
    )),
    ("huu_tri_xa_hoi", _re(r"\bhuu tri xa hoi\b")),
    ("nguoi_75_tuat", _re(r"^(?=.*\btuat\b)(?=.*\b(?:75|bay muoi lam)\b)")),
    ("dan_quan", _re(r"\bdan quan\b")),
    ("nan_nhan_mua_ban_nguoi", _re(
        r"\bmua ban nguoi\b|\bbuon ban nguoi\b|\bbi mua ban\b|\bbi buon ban\b"
    )),
    ("bao_tro_xa_hoi", _re(r"\bbao tro xa hoi\b|\bbtxh\b|\btro cap xa hoi\b")),
)
_BHYT_AFTER_AREA: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("can_ngheo", _re(_NEAR_POOR)),
    ("dtts_vung_thoat_kho", _re(_LEFT_HARDSHIP)),
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
_ETHNIC_RE = _re(_ETHNIC)
_ISLAND_RE = _re(_ISLAND)

# Voluntary BHXH support, most generous first ("the highest applicable level applies").
_BHXH_GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ngheo", _re(_POOR)),
    ("xa_dao_dac_khu", _ISLAND_RE),
    ("can_ngheo", _re(_NEAR_POOR)),
    ("dtts", _ETHNIC_RE),
    ("khac", _re(
        r"\bnguoi dan\b(?! toc)|\bbinh thuong\b|\bdoi tuong khac\b|\bkhac\b"
        r"|\bkhong thuoc\b|\bthong thuong\b|\bdan toc kinh\b|\bnguoi kinh\b"
    )),
)


def _first_key(words: str, groups: tuple[tuple[str, re.Pattern[str]], ...]) -> str | None:
    for key, pattern in groups:
        if pattern.search(words):
            return key
    return None


def _bhyt_group(words: str) -> str | None:
    """The BHYT group named; an ethnic group alone is *not* one (free or 70 %: ask)."""
    key = _first_key(words, _BHYT_FREE_BEFORE_AREA)
    if key is not None:
        return key
    if _HARDSHIP_AREA_RE.search(words) and not _LEFT_HARDSHIP_RE.search(words):
        return "dtts_vung_kho"
    return _first_key(words, _BHYT_AFTER_AREA)


def parse_bhyt_group(text: str) -> str | None:
    """The BHYT support group key named in the text ("cận nghèo" -> "can_ngheo"), or None.

    "Dân tộc thiểu số" alone gives None: whether the card is free or 70 % depends on the
    commune, which the text does not say, so the caller must ask rather than guess.
    """
    try:
        return _bhyt_group(_words(_without_negated_groups(_prepare(text))))
    except Exception:  # noqa: BLE001
        return None


def parse_bhxh_group(text: str) -> str | None:
    """The voluntary-BHXH support group key ("ngheo", "xa_dao_dac_khu", "can_ngheo", "dtts",
    "khac"), or None."""
    try:
        return _first_key(_words(_without_negated_groups(_prepare(text))), _BHXH_GROUPS)
    except Exception:  # noqa: BLE001
        return None


def _without_negated_groups(norm: str) -> str:
    """"k phải hộ nghèo" names no group: a negated group is blanked, never selected."""
    return _blank(norm, [m.span() for m in _NEGATED_GROUP_RE.finditer(norm)])


# --- what people type: teencode, typos, spoken numbers ----------------------------------------

_TEENCODE = {
    "ko": "khong", "k0": "khong", "hok": "khong", "khg": "khong", "kh0ng": "khong",
    "dc": "duoc", "dk": "duoc", "bn": "bao nhieu", "bnhieu": "bao nhieu", "nhiu": "nhieu",
    "mk": "minh", "mik": "minh", "mjk": "minh", "hoc xinh": "hoc sinh", "sinh zien": "sinh vien",
    "ngeo": "ngheo", "nghoe": "ngheo", "nguoj": "nguoi", "ngoui": "nguoi",
    "nguoii": "nguoi", "thag": "thang", "thnag": "thang", "ngyen": "nguyen",
    "nguyn": "nguyen", "bhyte": "bhyt", "bhty": "bhyt", "bhtyt": "bhyt", "bxhh": "bhxh",
    "bhhx": "bhxh", "vs": "voi", "z": "vay", "j": "gi",
}
_TEENCODE_RE = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(sorted(map(re.escape, _TEENCODE), key=len, reverse=True))
    + r")(?![a-z0-9])",
    _A,
)
# "2 000 000" (spaces as thousands separators): make it "2.000.000".
_SPACED_THOUSANDS_RE = re.compile(r"(?<![\d.,])\d{1,3}(?: \d{3}){2,}(?![\d])|(?<![\d.,])\d{3} 000(?![\d])", _A)
# "hai triệu rưỡi", "mười lăm triệu": number words before a money unit become digits.
_WORD_MONEY_RE = re.compile(rf"\b(?P<w>{_NUMBER_WORD})\s(?P<unit>trieu|cu)\b", _A)
# "1 triệu sáu" (1,6 triệu): a digit word right after the unit.
_WORD_TAIL_RE = re.compile(
    r"(?<=\d )(?P<unit>trieu|cu) (?P<w>mot|hai|ba|bon|tu|nam|sau|bay|tam|chin)\b"
    r"(?! (?:nguoi|ng|thang|nam|khau|tuoi|lan|dua)\b)",
    _A,
)


# Before diacritics are dropped: "mãi" (forever) and a capitalised "Mai" inside a sentence (a
# name, "Hoa Mai") are never "mai" (tomorrow). Both become a word no date pattern reads.
_RAW_NOT_TOMORROW_RE = re.compile(
    "\\b[mM](?:\u00e3|\u00c3|a\u0303|A\u0303)[iI]\\b"  # "mãi", composed or not
    "|(?<=[^\\s.!?\u2026])\\s{1,2}Mai\\b"  # "chị Mai", "Hoa Mai": a name
)


def _not_tomorrow(m: re.Match[str]) -> str:
    """Same length (the input cap stays where it was), a word no date pattern reads."""
    word = m.group(0)
    head = len(word) - len(word.lstrip())
    return word[:head] + "m" + "q" * (len(word) - head - 2) + "i"
# Negations people type: "k phải", "hông phải", "đâu phải", "chẳng phải", "chả phải".
_NEGATION_SPELLINGS_RE = re.compile(
    r"(?<![a-z0-9])(?:k|kh|hong|hok|hem|dau|chang|deo)\s(?=phai\b|thuoc\b|la\s(?:ho|nguoi|dan)\b)"
    r"|(?<![a-z0-9])(?:k|kh|hong)\s(?=co\s(?:ai|nguoi|the)\b|con\s(?:la|thuoc)\b)",
    _A,
)


def _prepare(text: object) -> str:
    """`normalize`, then undo teencode/typos and write spoken amounts with digits."""
    if isinstance(text, str):
        text = _RAW_NOT_TOMORROW_RE.sub(_not_tomorrow, text)
    norm = normalize(text)  # type: ignore[arg-type]
    norm = _NEGATION_SPELLINGS_RE.sub("khong ", norm)
    norm = _TEENCODE_RE.sub(lambda m: _TEENCODE[m.group(0)], norm)
    norm = _SPACED_THOUSANDS_RE.sub(lambda m: m.group(0).replace(" ", "."), norm)
    norm = _WORD_MONEY_RE.sub(
        lambda m: f"{_number_word_value(m.group('w'))} {m.group('unit')}", norm
    )
    return _WORD_TAIL_RE.sub(lambda m: f"{m.group('unit')} {_DIGIT_WORDS[m.group('w')]}", norm)


# --- places -------------------------------------------------------------------------------

_PROVINCES = (
    "an giang|ba ria vung tau|vung tau|bac giang|bac kan|bac can|bac lieu|bac ninh|ben tre"
    "|binh dinh|binh duong|binh phuoc|binh thuan|ca mau|can tho|cao bang|da nang|dak lak"
    "|dac lac|daklak|dak nong|dien bien|dong nai|dong thap|gia lai|ha giang|ha nam|ha noi"
    "|ha tinh|hai duong|hai phong|hau giang|hoa binh|hung yen|khanh hoa|kien giang|kon tum"
    "|lai chau|lam dong|lang son|lao cai|long an|nam dinh|nghe an|ninh binh|ninh thuan"
    "|phu tho|phu yen|quang binh|quang nam|quang ngai|quang ninh|quang tri|soc trang|son la"
    "|tay ninh|thai binh|thai nguyen|thanh hoa|thua thien hue|hue|tien giang|tra vinh"
    "|tuyen quang|vinh long|vinh phuc|yen bai|ho chi minh|tp hcm|tphcm|hcm|sai gon"
    # towns and districts of An Giang people name instead of the province
    "|long xuyen|chau doc|tan chau|cho moi|an phu|tinh bien|tri ton|chau phu|thoai son|phu tan"
)
_PLACE_ALIASES = {
    "vung tau": "bariavungtau", "bac can": "backan", "dac lac": "daklak", "dak lak": "daklak",
    "hue": "thuathienhue", "tp hcm": "hochiminh", "tphcm": "hochiminh", "hcm": "hochiminh",
    "sai gon": "hochiminh",
}
# Towns and districts, with the province they belong to.
_PLACE_PARENT = {
    town: "angiang"
    for town in ("longxuyen", "chaudoc", "tanchau", "chomoi", "anphu", "tinhbien", "triton",
                 "chauphu", "thoaison", "phutan")
}
_PLACE_RE = re.compile(
    rf"\b(?:(?:o|tai|song o|nha o|que|que o|thuoc|tinh|tp|thanh pho|thi xa|huyen)\s)*"
    rf"(?P<place>{_PROVINCES})\b",
    _A,
)
_PLACE_PREFIX_RE = re.compile(r"^(?:tinh|thanh pho|tp|huyen|thi xa|xa|quan)\s", _A)


def _place_from(name: str) -> str:
    return _PLACE_ALIASES.get(name, name.replace(" ", ""))


def place_within(place: str | None, area: str | None) -> bool:
    """True when the place key `place` is the area `area` or lies inside it (a town of it)."""
    if place is None or area is None:
        return False
    return place == area or _PLACE_PARENT.get(place) == area


def place_key(text: str) -> str | None:
    """A short key for the province named in `text` ("Tỉnh An Giang" -> "angiang"), or None.

    Campaign areas and questions go through the same function, so "ở An Giang", "an giang"
    and "Tỉnh An Giang" all meet on one key (also used in button payloads: short, ASCII).
    """
    try:
        norm = _PLACE_PREFIX_RE.sub("", _words(_prepare(text)))
        m = _PLACE_RE.search(norm)
        return None if m is None else _place_from(m.group("place"))
    except Exception:  # noqa: BLE001
        return None


# --- clauses about the household --------------------------------------------------------------

# "2 người có thẻ hộ nghèo rồi", "1 đứa đã có bhyt học sinh": members already covered.
_COVERED_RE = re.compile(
    rf"(?:{_COUNT_DIGITS}|\b(?P<word>{_NUMBER_WORD})|(?<![a-z] )\b(?P<one>toi|minh|tui|vo toi|chong toi|vo em|chong em))\s?"
    r"(?:nguoi|ng|dua|chau|be|thanh vien|tv|dua con|con)?\s?(?:thi |do |la )?"
    r"(?P<already>(?:da |duoc |dang |van )?)(?:co|huong|duoc cap|cap|dong) (?:the|bhyt|bao hiem|bh)\b"
    r"(?P<tail>[a-z ]{0,40}?)(?:\b(?P<roi>roi|r)\b|(?=[,.;:!?]|$|\s(?:mua|con lai|thi|nen|gio|muon|can mua|dong|tinh)\b))",
    _A,
)
_CARD_KIND_RE = re.compile(
    r"\b(?:ngheo|hoc sinh|sinh vien|huu|cong ty|co quan|khac|rieng|mien phi|tre em|chinh sach"
    r"|quan doi|cong an|bhyt|bao tro|dtts|dan toc)\b",
    _A,
)
_LOOSE_COVERED_RE = re.compile(r"\bda co (?:the|bhyt)\b|\bco (?:the|bhyt) roi\b", _A)
_HOUSEHOLD_TOTAL_RE = re.compile(
    r"\b(?:nha|gia dinh|ho|hgd|ca nha|tong|tat ca|nha co|ho co)\b[a-z ]{0,12}$", _A
)
_REST_RE = re.compile(r"\bcon lai\b|\bnhung nguoi kia\b|\bso con lai\b", _A)
_ADULTS_RE = re.compile(
    r"(?:(?<![\d.,])(?P<digits>\d)\s?|\b(?P<word>hai)\s)?\b(?:(?P<four>ong ba noi ngoai|ong ba ca noi lan ngoai)"
    r"|vo chong|ong ba|bo me|ba me|cha me)\b"
    # "bố mẹ và tôi": the person asking is one more
    r"(?P<me>\s(?:va|voi|cung)\s(?:toi|em|minh|tui|con)\b(?!\s(?:\d{1,2}|mot|hai|ba|bon|nam)\s?(?:con|dua|chau|be|nguoi|ng)\b))?",
    _A,
)
_ONE_SUBJECTS = frozenset({"toi", "minh", "tui", "vo", "chong"})
# Two questions in one message: "..., còn hộ thường thì bao nhiêu".
_SECOND_QUESTION_RE = re.compile(
    r"\b(?:con|va|con neu|the con|neu la)\s[a-z ]{1,30}?\b(?:thi|la)\s(?:bao nhieu|bn|sao|the nao|nhieu)\b", _A
)
# "vợ và 2 con": one adult named with the children.
_ONE_ADULT_RE = re.compile(
    r"\b(?:vo|chong|bo|me|ba|ong)(?:\s(?:toi|em|minh|tui))?\s(?:va|voi|cung)\s(?=(?:\d|mot|hai|ba|bon|nam)\s?(?:dua|con|chau|be|tre))", _A
)
# "3 người và tôi": one more than counted.
_AND_ME_RE = re.compile(r"^\s*,?\s*(?:va|voi|cung|them|cong)\s(?:toi|em|minh|tui)\b(?!\s(?:\d{1,2}|mot|hai|ba|bon|nam)\s?(?:con|dua|chau|be|nguoi|ng)\b)", _A)
# "cả nhà 4 người trừ tôi", "trừ 2 người": left out of the count.
_EXCEPT_RE = re.compile(
    r"\b(?:tru|khong tinh|khong ke|bot)\s(?:ra\s)?(?:(?P<digits>\d{1,2})\s?(?:nguoi|ng)\b|(?P<one>toi|em|minh|tui|anh|chi|vo|chong|bo|me|ong|ba)\b)",
    _A,
)
# "ngoài ra 2 người có thẻ công ty": people besides the members counted.
_BESIDES_RE = re.compile(r"\b(?:ngoai ra|ngoai|con co|them|ben canh do|con)\b", _A)
# "mua thêm cho 1 người nữa": a member joins a household that already has cards.
_EXTRA_MEMBER_RE = re.compile(r"\bthem\b(?:\s(?:cho|vao|mua|\d{1,2}|mot|hai|ba|nguoi|ng|nua)){1,5}\b|\bnua\b", _A)
_ADD_MEMBER_RE = re.compile(r"\b(?:mua|dong|cho|dang ky)\s(?:them|bo sung)\b|\b(?:\d{1,2}|mot|hai|ba) (?:nguoi|ng) nua\b(?!\s(?:nam|thang)\b)", _A)
# "mua bhyt cho vợ": one person named.
_ONE_PERSON_RE = re.compile(
    r"\bcho\s(?P<who>vo|chong|bo|me|ba|ong|con|chau|em|anh|chi)(?:\s(?:toi|em|minh|tui|anh|chi|no))?\b"
    r"(?!\s(?:va|voi|cung|ca|chong|vo|me|ba|\d|mot|hai)\b)",
    _A,
)
_KIDS_RE = re.compile(
    rf"(?:{_COUNT_DIGITS}\s?|{_COUNT_WORD}\s)"
    r"(?:dua nho|dua con|dua|chau nho|chau|be|con nho|con|tre nho|tre con|tre)(?![a-z])",
    _A,
)
_AGE_RE = re.compile(r"(?<![\d.,])(?P<age>\d{1,3})\s?tuoi\b", _A)
_CHILD_WORD_RE = re.compile(r"\b(?:con|be|chau|tre|em be|dua)\b", _A)
_FREE_CHILD_AGE = 6
_GRADE_RE = re.compile(r"\blop \d{1,2}\b|\b(?:sinh vien|sv) nam (?:\d|thu \d)\b", _A)
_ONCE_RE = re.compile(r"(?<![\d.,])(?:1|mot) lan\b", _A)
_UNDER_SIX_RE = re.compile(r"\bduoi (?:6|sau)(?: tuoi)?\b", _A)

# A group said *not* to apply ("ko phải hộ cận nghèo", "hết hộ cận nghèo", "không phải dân
# tộc"): never applied. Filler words between the negation and the group are allowed.
_NEGATED_GROUP_RE = re.compile(
    r"\b(?:khong phai|khong thuoc|khong la|khong con|chua phai|het|khong co|ra khoi|thoat"
    r"|chua duoc cong nhan|chua duoc xet|chua duoc cong nhan la|khong duoc cong nhan"
    # a former group: "trước là hộ nghèo", "trước đây là hộ nghèo (giờ thì không)"
    r"|truoc la|truoc day la|truoc day|hoi truoc la|nam ngoai la)\s"
    r"(?:(?:la|ho|nguoi|dien|doi tuong|gia dinh|thuoc|nha|dan|o|song o|con|em|minh)\s){0,3}"
    r"(?P<group>can ngheo|hcn|ngheo|sinh vien|hoc sinh|hssv|hs|sv|dan toc(?: thieu so)?|dtts"
    r"|thieu so|xa dao|dac khu|hai dao|bao tro xa hoi|btxh|dan quan|y te thon"
    r"|nong lam ngu(?: diem)?(?: nghiep)?|(?:nong|lam|ngu|diem) nghiep|huu tri xa hoi"
    rf"|{_ETHNIC_NAMES})\b"
    r"|\b(?P<group2>dan quan)(?: tu ve)? khong thuong truc\b",
    _A,
)
# "chồng em là người dân tộc, em thì không": whose group is it? Asked, never guessed.
_NEGATION_UNCLEAR_RE = re.compile(
    r"\b(?:em|toi|minh|tui|con|vo|chong|anh|chi|me|bo)\s(?:thi|lai)\s(?:khong|chua)\b", _A
)
# "3 người lớn", "hai người lớn": adults counted separately from the children named.
_GROWNUPS_RE = re.compile(
    rf"(?:{_COUNT_DIGITS}\s?|{_COUNT_WORD}\s)(?:nguoi|ng) lon\b", _A
)
# "em 25t", "tôi 40t": an age, not 25 months.
_AGE_T_RE = re.compile(
    r"\b(?:em|toi|minh|tui|anh|chi|co|chu|bac|ong|ba|me|bo|vo|chong|nguoi|nam nay)\s"
    r"(?P<age>\d{1,3})\s?t\b",
    _A,
)
# "sinh năm 2000", "sn 1970": a birth year, neither money nor the pricing date.
_BIRTH_YEAR_RE = re.compile(r"\b(?:sinh nam|sinh|sn|nam sinh)\s(?:nam\s)?(?:19\d\d|20\d\d|2100)(?!\d|[.,]\d)", _A)
# A date said to be when a card expired is not the payment date (DOMAIN §3: the amount is
# fixed on the payment date).
_EXPIRY_BEFORE_RE = re.compile(
    r"\b(?:het han|het hieu luc|the het|bhyt het|dut|qua han|han the|han bhyt|the han|the con han"
    r"|con han|han su dung|han den|han toi|hieu luc den|hieu luc toi|co gia tri den|gia tri den)\b"
    r"(?:\s(?:tu|vao|ngay|thang|luc|hoi|roi|tu ngay|tu thang|nam|la|den|toi|het|cua the|dung))*\s*[:=]?\s*$",
    _A,
)
# Members who already have a *household* card: the ladder may continue from them.
_HOUSEHOLD_CARD_RE = re.compile(r"\bho gia dinh\b|\bhgd\b|\btheo ho\b", _A)
# "mức thấp nhất": the lowest income of the date asked about.
_LOWEST_INCOME_RE = re.compile(r"\b(?:muc )?(?:thap nhat|toi thieu|it nhat|nho nhat)\b", _A)
# "con em 2 tuổi với em": a second person besides the free-card child.
_WITH_ADULT_RE = re.compile(
    r"\b(?:voi|va|cung|ca)\s(?:em|toi|minh|tui|me|bo|vo|chong|anh|chi|me no|bo no)\b", _A
)
# Places that do not say where the person lives now: "không ở", "quê", "trước ở".
_NOT_LIVING_RE = re.compile(
    r"\b(?:khong|chua|que|truoc|truoc day|tung|da tung|cu|goc|xuat than)\b"
    r"(?:\s(?:phai|con|song|o|tai|nha|quan|la|day|nguoi|o tai|huong))*\s*$",
    _A,
)

# Insurance the bot does not quote.
_OFF_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nhan_tho", _re(
        r"\bnhan tho\b|\bprudential\b|\bmanulife\b|\baia\b|\bdai ?ichi\b|\bgenerali\b"
        r"|\bfwd\b|\bbao hiem (?:suc khoe )?tu nhan\b|\bbao hiem giao duc\b"
    )),
    ("bat_buoc", _re(
        r"\b(?:bhxh|bh xh|bao hiem xa hoi|bh|bao hiem) bat buoc\b"
        r"|\bcong ty (?:dong|dang ky|tru) (?:bhxh|bao hiem)\b"
    )),
    ("xe", _re(
        r"\b(?:bao hiem|bh) (?:cho )?(?:xe|o to|oto|xe may|trach nhiem dan su|tnds)\b"
        r"|\btnds\b|\bxe may\b|\bo to\b|\boto\b"
    )),
    ("that_nghiep", _re(r"\bthat nghiep\b|\bbhtn\b")),
)
# Questions that are not a cost question even when "bhyt" is named: accident insurance sold
# at school, compulsory BHYT paid by the employer, where to buy a card.
_STRONG_OFF_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tai_nan", _re(r"\b(?:bao hiem|bh) (?:tai nan|than the)\b|\btai nan hoc sinh\b")),
    ("bat_buoc", _re(
        r"\b(?:bhyt|bh yt|bao hiem y te) bat buoc\b|\bcong ty (?:dong|tra) (?:bhyt|bao hiem y te)\b"
    )),
    ("o_dau", _re(
        r"\bmua (?:the )?(?:bhyt|bao hiem y te|bh yt|bao hiem)? ?(?:o|tai) dau\b"
        r"|\b(?:o|tai) dau (?:mua|ban|dong|lam)\b|\bmua (?:the )?(?:bhyt|bao hiem) cho nao\b"
    )),
)
_OFF_TOPIC_LABELS = {
    "nhan_tho": "bảo hiểm nhân thọ", "bat_buoc": "BHXH bắt buộc", "xe": "bảo hiểm xe",
    "that_nghiep": "bảo hiểm thất nghiệp",
}
_DIGITS_RE = re.compile(r"\d+(?:[.,/-]\d+)*", _A)


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
     "dtts_vung_kho", "dtts_vung_thoat_kho", "huu_tri_xa_hoi", "nguoi_75_tuat", "dan_quan",
     "nan_nhan_mua_ban_nguoi"}
)
# How a BHYT-only group named in a voluntary-BHXH question is shown as "not used".
_BHYT_ONLY_LABELS = {
    "hoc_sinh": "học sinh, sinh viên", "tre_em_duoi_6": "trẻ em dưới 6 tuổi",
    "y_te_thon": "y tế thôn", "nong_lam_ngu_diem": "hộ nông, lâm, ngư, diêm nghiệp",
    "bao_tro_xa_hoi": "bảo trợ xã hội", "dan_quan": "dân quân",
}
_BUY_RE = _re(r"\b(?:mua|dong|the|bao nhieu|het)\b")
_QUESTION_WORD_RE = _re(r"\b(?:bao nhieu|bn|het bao nhieu|the nao|sao)\b")
_HELP_RE = _re(r"\b(?:help|giup|tro giup|huong dan|cach dung|menu)\b")
_QUESTION_MARKS_RE = re.compile(r"[?\s]+")
_GREETING_RE = _re(r"\b(?:xin chao|chao|hello|helo|hi|hey|alo|a lo|allo)\b")


def _first_pos(pattern: re.Pattern[str], words: str) -> int | None:
    m = pattern.search(words)
    return None if m is None else m.start()


def _insurance_intent(words: str, has_amount: bool, members: int | None, household: bool) -> Intent | None:
    """BHYT or voluntary BHXH, or None; when both are named, the one named first wins."""
    bhyt_at = _first_pos(_BHYT_RE, words)
    voluntary_at = _first_pos(_BHXH_VOLUNTARY_RE, words)
    if voluntary_at is not None and (bhyt_at is None or voluntary_at < bhyt_at):
        return Intent.BHXH_VOLUNTARY
    if bhyt_at is not None:
        return _bhyt_kind(words)
    if has_amount and _BHXH_WEAK_RE.search(words):
        return Intent.BHXH_VOLUNTARY
    if _HOUSEHOLD_RE.search(words) or household:
        return _bhyt_kind(words)
    if _bhyt_group(words) in _BHYT_ONLY_GROUPS:
        return Intent.BHYT_SUPPORTED
    if members is not None and (_GENERIC_INSURANCE_RE.search(words) or _BUY_RE.search(words)):
        return Intent.BHYT_HOUSEHOLD
    if _BHXH_WEAK_RE.search(words) and (_ETHNIC_RE.search(words) or _ISLAND_RE.search(words)):
        return Intent.BHXH_VOLUNTARY
    return None


def _bhyt_kind(words: str) -> Intent:
    if _bhyt_group(words) or _ETHNIC_RE.search(words) or _STATE_SUPPORT_RE.search(words):
        return Intent.BHYT_SUPPORTED
    return Intent.BHYT_HOUSEHOLD


def _chat_intent(norm: str, words: str) -> Intent:
    if norm and _QUESTION_MARKS_RE.fullmatch(norm):
        return Intent.HELP
    if _HELP_RE.search(words):
        return Intent.HELP
    if _GREETING_RE.search(words):
        return Intent.GREETING
    return Intent.UNKNOWN


class _Reading:
    """The spans of the text a parse used, and what it found but could not use."""

    def __init__(self) -> None:
        self.used: list[_Span] = []
        self.unused: list[str] = []

    def use(self, span: _Span | None) -> None:
        if span is not None:
            self.used.append(span)

    def covers(self, span: _Span) -> bool:
        return any(s <= span[0] and span[1] <= e for s, e in self.used)


def _covered_clause(plain: str) -> tuple[int, _Span, bool] | None:
    """Members said to have a card already: (count, span, explicit). Explicit means the
    clause is unmistakable ("đã có thẻ", "... rồi", or names the card's group)."""
    for m in _COVERED_RE.finditer(plain):
        count = _count_value(m.group("digits"), m.group("word")) or (1 if m.group("one") else None)
        if not count:
            continue
        explicit = bool(m.group("already").strip() or m.group("roi") or _CARD_KIND_RE.search(m.group("tail")))
        if explicit:
            return count, m.span(), True
    return None


# A named BHYT group an ethnic-minority person may beat (free or 70 % by commune): asked.
_ETHNIC_OR_LOWER = frozenset({"hoc_sinh", "can_ngheo", "nong_lam_ngu_diem", "y_te_thon"})
_AMBIGUOUS_TOWNS = frozenset({"tanchau", "chomoi", "phutan"})


def _apply_corrections(plain: str) -> str | None:
    """The text with values superseded by a correction blanked, or None without a correction.

    For members, months and money: when one is said both before and after the last correction
    marker, the earlier one is blanked (the later one is what the person meant).
    """
    markers = list(_CORRECTION_RE.finditer(plain))
    if not markers:
        return None
    cut = markers[-1].end()
    head, spans = plain[:markers[-1].start()], [markers[-1].span()]
    tail = _blank(plain, [(0, cut)])
    for finder in (_members_match, lambda t: _months_match(t, allow_monthly=True), _amount_match):
        later = finder(tail)
        if later is None:
            continue
        for m_earlier in range(3):  # blank every earlier one of the same kind
            earlier = finder(_blank(head, spans))
            if earlier is None:
                break
            spans.append(earlier[1])
    return _blank(plain, spans)


def _living_area(text: str) -> tuple[str | None, list[_Span], list[str]]:
    """Where the person lives now, and the spans of every place named.

    A negated or former place ("không ở", "quê", "trước ở") never counts; of two provinces the
    later one counts; a town whose name exists in several provinces counts only through its
    province (named with it or not at all).
    """
    spans: list[_Span] = []
    elsewhere: list[str] = []
    provinces: list[str] = []
    towns: list[str] = []
    for m in _PLACE_RE.finditer(text):
        spans.append(m.span())
        head = text[max(0, m.start() - 24):m.start("place")]
        if _NOT_LIVING_RE.search(head):
            elsewhere.append(_place_from(m.group("place")))
            continue
        key = _place_from(m.group("place"))
        (towns if key in _PLACE_PARENT else provinces).append(key)
    if provinces:
        return provinces[-1], spans, elsewhere
    towns = [t for t in towns if t not in _AMBIGUOUS_TOWNS]
    return (towns[-1] if towns else None), spans, elsewhere


def _parse(text: str, today: date | None) -> Question:
    norm = _prepare(text)
    reading = _Reading()
    if isinstance(text, str) and len(text) > MAX_INPUT_CHARS:
        reading.unused.append(f"phần sau {MAX_INPUT_CHARS} ký tự đầu")
    # a birth year or an age is neither money, a count of months nor the pricing date
    personal = [m.span() for m in _BIRTH_YEAR_RE.finditer(norm)]
    personal += [m.span("age") for m in _AGE_T_RE.finditer(norm)]
    norm_dates = _blank(norm, personal)
    dates = _date_candidates(norm_dates, today)
    on: date | None = None
    expired: date | None = None
    for start, end, value in dates:
        if _EXPIRY_BEFORE_RE.search(norm_dates[max(0, start - 30):start]):
            # when the card expired, not when the person pays: priced on the payment date
            expired = expired or value
            reading.use((start, end))
        elif on is None and value is not None:
            on = value
            reading.use((start, end))
        else:
            said = norm[start:end].strip()
            reading.unused.append(_VAGUE_DAY_LABELS.get(said, said))
    plain = _blank(norm_dates, [(s, e) for s, e, _ in dates])
    for m in _UNCLEAR_MAI_RE.finditer(plain):
        reading.unused.append(_context(plain, m.span()))
    negated_ms = list(_NEGATED_GROUP_RE.finditer(plain))
    negated_words = " ".join(m.group("group") or m.group("group2") for m in negated_ms)
    plain = _blank(plain, [m.span() for m in negated_ms])
    unclear_negation = _NEGATION_UNCLEAR_RE.search(plain)
    # clauses that name a scheme or a group only to set it aside: "tôi đang hưởng lương hưu",
    # "ko mua bhyt hộ gia đình", "bhyt học sinh? không, ...", "không có ai dưới 6 tuổi"
    plain = _blank(plain, [m.span() for m in _SET_ASIDE_RE.finditer(plain)])
    for minus_m in _MINUS_RE.finditer(plain):
        reading.unused.append(_context(norm, minus_m.span(), 1))  # "-3 tháng": never 3
    plain = _blank(plain, [m.span() for m in _MINUS_RE.finditer(plain)])
    corrected = _apply_corrections(plain)
    if corrected is not None:
        plain = corrected

    # clauses about who is insured, read first and blanked so their numbers and group words
    # ("2 người có thẻ hộ nghèo rồi") are not read as the household size or the group
    clauses: list[_Span] = []
    covered_found = _covered_clause(plain)
    if covered_found is not None:
        clauses.append(covered_found[1])
    # "ông bà với vợ chồng tôi": every couple named counts (two people each, or as many as said)
    adults_ms = list(_GROWNUPS_RE.finditer(plain))
    adults = None
    for adults_m in adults_ms:
        adults = (adults or 0) + (_count_value(adults_m.group("digits"), adults_m.group("word")) or 0)
        clauses.append(adults_m.span())
    couples = list(_ADULTS_RE.finditer(_blank(plain, clauses)))
    for adults_m in couples:
        pair = 4 if adults_m.group("four") else 2
        adults = (adults or 0) + (int(adults_m.group("digits")) if adults_m.group("digits") else pair)
        adults += 1 if adults_m.group("me") else 0
        clauses.append(adults_m.span())
    adults_ms += couples
    kids_m = _KIDS_RE.search(_blank(plain, clauses))
    kids = _count_value(kids_m.group("digits"), kids_m.group("word")) if kids_m else None
    if kids_m is not None:
        clauses.append(kids_m.span())
    age_m = _AGE_RE.search(plain)
    area, place_spans, not_areas = _living_area(_blank(plain, clauses))
    for span in place_spans:
        clauses.append(span)
        reading.use(span)
    rest = _blank(plain, clauses)
    words = _words(rest)
    strong_off_topic = _first_key(words, _STRONG_OFF_TOPICS)
    if strong_off_topic == "o_dau" and _DIGITS_RE.search(rest):
        strong_off_topic = None  # "bé 2 tuổi mua bhyt ở đâu": a cost question after all
    if strong_off_topic is not None:
        return Question(intent=Intent.OFF_TOPIC, topic=strong_off_topic)

    amount_found = _amount_match(rest)
    members_found = _members_match(rest)
    under_six = _UNDER_SIX_CHILD_RE.search(plain)
    if members_found is not None and under_six is not None:
        # "3 người 12 tháng, con em dưới 6 tuổi": a household with a child whose card is free
        if kids_m is None:
            kids_m = under_six
            kids = _count_value(under_six.group("digits"), under_six.group("word")) or 1
        rest = _blank(rest, [under_six.span()])
        words = _words(rest)
    members = members_found[0] if members_found else None
    household_clause = covered_found is not None or adults is not None or kids is not None
    if amount_found is not None and _YEAR_AS_MONEY_RE.fullmatch(rest[amount_found[1][0]:amount_found[1][1]].strip()):
        amount_found = None  # "bhxh tự nguyện 2026 đóng 1 tháng": a year, never an income
    off_topic = _first_key(words, _OFF_TOPICS)
    explicit = _BHYT_RE.search(words) or _BHXH_VOLUNTARY_RE.search(words)
    if off_topic is not None and not explicit:
        return Question(intent=Intent.OFF_TOPIC, topic=off_topic)
    free_child = (
        age_m is not None and int(age_m.group("age")) < _FREE_CHILD_AGE
        and _CHILD_WORD_RE.search(words) is not None
        and members is None and adults is None and kids is None
    )
    intent = _insurance_intent(words, amount_found is not None, members, household_clause)
    if free_child and intent in (None, Intent.BHYT_HOUSEHOLD, Intent.BHYT_SUPPORTED):
        intent = Intent.BHYT_SUPPORTED
        if _WITH_ADULT_RE.search(words):
            # "con em 2 tuổi với em": the child's card is free, the parent buys as a household
            months_found = _months_match(rest, allow_monthly=False)
            reading.use(age_m.span() if age_m else None)
            if months_found is not None:
                reading.use(months_found[1])
            for m in _DIGITS_RE.finditer(plain):
                if not reading.covers(m.span()):
                    reading.unused.append(m.group(0))
            return Question(
                intent=Intent.BHYT_HOUSEHOLD, members=1, covered=1, free_child_adult=True,
                months=months_found[0] if months_found else None, on=on,
                unused=tuple(dict.fromkeys(reading.unused)),
            )
    if intent is None:
        return Question(intent=_chat_intent(norm, words), on=on)
    if off_topic is not None:
        reading.unused.append(_OFF_TOPIC_LABELS[off_topic])
    second_question: str | None = None
    second = _SECOND_QUESTION_RE.search(rest)
    if second is not None and _first_pos(_QUESTION_WORD_RE, rest[: second.start()]) is not None:
        # answered one at a time: the second part is quoted, so the bot asks
        second_question = _raw_quote(text, _context(norm, second.span(), 0))
        reading.unused.append(second_question)
    bhyt_at = _first_pos(_BHYT_RE, words)
    voluntary_at = _first_pos(_BHXH_VOLUNTARY_RE, words)
    if bhyt_at is not None and voluntary_at is not None:
        second_question = "BHYT" if intent == Intent.BHXH_VOLUNTARY else "BHXH tự nguyện"
        reading.unused.append(second_question)

    voluntary = intent == Intent.BHXH_VOLUNTARY
    # a number is read once: the digits of "1tr5" are not also "5 tháng"
    months_text = _blank(rest, [amount_found[1]]) if voluntary and amount_found else rest
    months_found = _months_match(months_text, allow_monthly=voluntary)
    half_m = _AND_A_HALF_RE.search(months_text)
    if half_m is not None:
        # "1 năm rưỡi" is 18 months (not an allowed period: refused with the allowed ones)
        years = _count_value(half_m.group("digits"), half_m.group("word")) or 1
        months_found = (years * 12 + 6, half_m.span())
    if months_found is not None:
        reading.use(months_found[1])
        for m in _ONCE_RE.finditer(rest):  # "đóng 1 lần 12 tháng": the payment mode
            reading.use(m.span())
    if intent == Intent.BHYT_SUPPORTED and members == 1 and members_found is not None:
        reading.use(members_found[1])  # "cho 1 người": a supported card is for one person
    group: str | None = None
    ethnic = _ETHNIC_RE.search(words) is not None
    covered: int | None = None
    children: int | None = None
    lowest_income = False
    household_cards = False
    extra_member = False
    ethnic_with_group = False
    if voluntary:
        group = _first_key(words, _BHXH_GROUPS)
        if group is None and negated_ms:
            group = "khac"  # "ko phải dân tộc": none of the supported groups was said
        for m in list(_AGE_T_RE.finditer(norm)) + list(_AGE_RE.finditer(plain)) + list(_BIRTH_YEAR_RE.finditer(norm)):
            reading.use(m.span())  # an age does not change a voluntary-BHXH amount
        if amount_found is not None:
            reading.use(amount_found[1])
        elif _LOWEST_INCOME_RE.search(words):
            lowest_income = True
        for key, pattern in _BHYT_FREE_BEFORE_AREA + _BHYT_AFTER_AREA:
            if key in _BHYT_ONLY_GROUPS and not key.startswith("dtts") and pattern.search(words):
                reading.unused.append(_BHYT_ONLY_LABELS.get(key, "nhóm của BHYT"))
    elif intent == Intent.BHYT_SUPPORTED:
        group = "tre_em_duoi_6" if free_child else _bhyt_group(words)
        if free_child or group == "nguoi_75_tuat":
            reading.use(age_m.span() if age_m else None)
        if group == "hoc_sinh":  # "học sinh lớp 10", "sinh viên năm 3": the same group
            for m in _GRADE_RE.finditer(rest):
                reading.use(m.span())
        if group == "tre_em_duoi_6":
            for m in _UNDER_SIX_RE.finditer(plain):
                reading.use(m.span())
    negated_again = negated_words and group is not None and (
        _first_key(negated_words, _BHXH_GROUPS) == group if voluntary
        else _bhyt_group(negated_words) == group
    )
    if unclear_negation is not None or negated_again:
        # whose group is negated is not clear: the group is asked, never applied
        reading.unused.append("… thì không" if unclear_negation else "không phải")
        group, ethnic = None, False
    if not voluntary and _ISLAND_RE.search(words):
        reading.unused.append("xã đảo, đặc khu")  # a voluntary-BHXH group only
    if intent == Intent.BHYT_HOUSEHOLD:
        if members_found is not None:
            reading.use(members_found[1])
            and_me = _AND_ME_RE.search(rest[members_found[1][1]:])
            if and_me is not None and members is not None:
                members += 1  # "anh chị em tôi 3 người và tôi"
                reading.use((members_found[1][1], members_found[1][1] + and_me.end()))
        if adults is None and kids is not None:
            one = _ONE_ADULT_RE.search(plain)
            if one is not None:  # "vợ và 2 con": one adult besides the children
                adults = 1
                adults_ms.append(one)
        if adults is not None:
            for adults_m in adults_ms:
                reading.use(adults_m.span())
            if members is None:
                members = adults + (kids or 0)
        if kids_m is not None:
            reading.use(kids_m.span())
            children = kids
            if under_six is not None and members_found is not None:
                reading.use(under_six.span())
        if covered_found is not None:
            count, span, _ = covered_found
            covered_household = _HOUSEHOLD_CARD_RE.search(plain[span[0]:span[1]]) is not None
            before = rest[: members_found[1][0]] if members_found else ""
            total_phrase = _HOUSEHOLD_TOTAL_RE.search(before) is not None or _REST_RE.search(words) is not None
            subject = plain[span[0]:span[1]].split()[:1]
            if subject and subject[0] in _ONE_SUBJECTS and not _REST_RE.search(words):
                total_phrase = False  # "4 người, vợ tôi đã có thẻ": of the 4 or besides? asked
            between = (
                rest[members_found[1][1]:span[0]] if members_found and members_found[1][1] <= span[0] else ""
            )
            if members_found is None and adults is not None and subject and subject[0] in _ONE_SUBJECTS:
                # "tôi có thẻ công ty rồi, vợ và 2 con ...": the people named are the others
                reading.use(span)
            elif members is not None and _BESIDES_RE.search(between):
                # "3 người 12 tháng, ngoài ra 2 người có thẻ công ty": besides the 3, not of them
                reading.use(span)
            elif members is None or (total_phrase and count < members):
                reading.use(span)
                covered = count
                household_cards = covered_household
                members = None if members is None else members - count
                if members is not None and members_found is not None:
                    # "... mua cho 3 người còn lại": a restatement of the rest, consistent
                    after = _blank(rest, [(0, members_found[1][1])])
                    again = _members_match(after)
                    if again is not None and again[0] == members:
                        reading.use(again[1])
            else:
                reading.unused.append(f"{count} người đã có thẻ")
                reading.use(span)  # reported as a clause, not again as a stray number
        for except_m in _EXCEPT_RE.finditer(rest):
            left_out = int(except_m.group("digits")) if except_m.group("digits") else 1
            if members is not None and left_out < members:
                members -= left_out  # "cả nhà 4 người trừ tôi"
                reading.use(except_m.span())
            else:
                reading.unused.append(_context(rest, except_m.span(), 1))
        if members is None and adults is None and kids is None:
            one_m = _ONE_PERSON_RE.search(rest)
            if one_m is not None:  # "mua bhyt cho vợ 12 tháng": one person
                members = 1
        if _ADD_MEMBER_RE.search(rest) and covered is None:
            extra_member = True  # which ladder position? asked
    elif covered_found is not None:
        reading.unused.append(f"{covered_found[0]} người đã có thẻ")
        reading.use(covered_found[1])
    if covered_found is None and _LOOSE_COVERED_RE.search(words):
        reading.unused.append("người đã có thẻ")
    for m in _DIGITS_RE.finditer(plain):
        if not reading.covers(m.span()):
            reading.unused.append(_context(norm, m.span(), 2, 1, units_only=True))
    if ethnic and group in _ETHNIC_OR_LOWER:
        # "sinh viên người dân tộc": in a difficult area the card is free, so it is asked
        ethnic_with_group = True
    return Question(
        intent=intent,
        members=members if intent == Intent.BHYT_HOUSEHOLD else None,
        months=months_found[0] if months_found else None,
        income=amount_found[0] if voluntary and amount_found else None,
        group=group,
        on=on,
        covered=covered,
        children=children,
        adults=adults if children else None,
        area=area,
        not_areas=tuple(not_areas),
        ethnic=ethnic and (group is None or ethnic_with_group) and intent == Intent.BHYT_SUPPORTED,
        household_cards=household_cards,
        extra_member=extra_member,
        lowest_income=lowest_income,
        expired=expired,
        second_question=second_question,
        unused=tuple(dict.fromkeys(_raw_quote(text, item) for item in reading.unused)),
    )


def _raw_quote(text: object, fragment: str) -> str:
    """The person's own words (with their diacritics) for a normalised fragment, when the
    fragment is a run of whole words of the text; otherwise the fragment as it is."""
    if not isinstance(text, str) or not fragment or normalize(fragment) != fragment:
        return fragment
    try:
        # compared without spaces: "800 k" of the parse is the "800k" the person typed
        target = _words(fragment).replace(" ", "")
        raw = _clip(text).split()
        keys = [_words(_prepare(word)).replace(" ", "") for word in raw]
        for i in range(len(raw)):
            got = ""
            for j in range(i, len(raw)):
                got += keys[j]
                if not target.startswith(got) or not keys[j]:
                    break
                if got == target:
                    return " ".join(raw[i:j + 1]).strip(",.;:!?")
    except Exception:  # noqa: BLE001 - quoting never breaks a reply
        pass
    return fragment


def names_scheme(text: str) -> bool:
    """True when the text names BHYT or voluntary BHXH itself (a new question, not an answer)."""
    try:
        words = _words(_prepare(text))
        return bool(_BHYT_RE.search(words) or _BHXH_VOLUNTARY_RE.search(words) or _BHXH_WEAK_RE.search(words))
    except Exception:  # noqa: BLE001
        return False


def parse_question(text: str, today: date | None = None) -> Question:
    """Everything a free-text cost question states; values it does not state stay None.

    `income` is set only for voluntary BHXH and `group` only for BHYT_SUPPORTED / voluntary
    BHXH (the two key sets differ). "Hằng tháng" means 1 month only for voluntary BHXH.
    `today` resolves "tháng 7 năm nay"; without it such dates are reported as unused.
    Whatever number, date or clause the text holds but the question does not use is listed
    in `unused`, so a caller never answers a different question in silence.
    """
    try:
        return _parse(text, today)
    except Exception:  # noqa: BLE001 - a stranger's message must never crash the bot
        return Question(intent=Intent.UNKNOWN)
