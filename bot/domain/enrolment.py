"""Pure rules of logging an enrolment: the draft, one-line parsing, validation, price, period.

An agent reports a new participant either step by step (`/ghi`, then answers) or on one line
(`/ghi bhyt Nguyễn Văn An 8423001234 12 tháng`). Both paths fill the same `EnrolmentDraft`;
`next_step` says what is still missing, so a one-liner that leaves something out continues as
the guided flow with what was understood already filled in.

Nothing here does I/O or reads a clock: callers pass the date, the rate book and the campaign.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.domain.campaigns import Campaign, Scheme
from bot.domain.engine import (
    Refused,
    quote_bhxh_voluntary,
    quote_bhyt_household,
    quote_bhyt_supported,
)
from bot.domain.rates import RateBook
from bot.parsing import questions as textparse
from bot.parsing.numbers import is_ascii_digits, parse_bounded_int

__all__ = [
    "BHYT_SCHEMES",
    "CodeKind",
    "DRAFT_TIMEOUT",
    "EnrolmentDraft",
    "ExistingPeriod",
    "InputError",
    "ParsedLine",
    "PeriodPlan",
    "Priced",
    "Scheme",
    "Step",
    "add_months",
    "allowed_months",
    "apply_typed_answer",
    "draft_expired",
    "family_schemes",
    "is_not_a_name",
    "next_step",
    "parse_line",
    "plan_period",
    "price",
    "validate_amount",
    "validate_code",
    "validate_income",
    "validate_months",
    "validate_name",
    "validate_position",
    "validate_reason",
]

# Longest message part we read at all: a real one-liner is well under 200 characters.
MAX_LINE_CHARS = 300
MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 7
MAX_REASON_CHARS = 200
MIN_REASON_CHARS = 3
MAX_POSITION = 20
BHYT_MONTHS: tuple[int, ...] = (3, 6, 12)
BHXH_MONTHS: tuple[int, ...] = (1, 3, 6, 12)
# A new entry within this many days before the covering period ends is a renewal: the card
# continues without a gap (DOMAIN 3.5), so the new period starts the day after the old one.
RENEWAL_WINDOW_DAYS = 30
DEFAULT_BHXH_GROUP = "khac"

BHYT_SCHEMES: frozenset[Scheme] = frozenset({Scheme.BHYT_HOUSEHOLD, Scheme.BHYT_SUPPORTED})


class CodeKind(StrEnum):
    BHXH = "bhxh"  # 10-digit social-insurance code
    CCCD = "cccd"  # 12-digit citizen ID


class Step(StrEnum):
    """What the guided flow asks next (also the names of editable fields)."""

    SCHEME = "scheme"
    NAME = "name"
    CODE = "code"
    MONTHS = "months"
    POSITION = "position"
    GROUP = "group"
    INCOME = "income"
    RELATIVE = "relative"
    REASON = "reason"
    CONFIRM = "confirm"
    PAID = "paid"  # the amount actually collected: asked only when the agent edits it


class InputError(ValueError):
    """A value the agent typed is not acceptable; `key` names the reply text to show."""

    def __init__(self, key: str, **details: object) -> None:
        super().__init__(key)
        self.key = key
        self.details = details


class EnrolmentDraft(BaseModel):
    """What is known so far about one enrolment; JSON-serialisable for PTB persistence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Scheme | None = None
    name: str | None = None
    code: str | None = None
    months: int | None = None
    position: int | None = None  # place on the household ladder (BHYT hộ gia đình)
    group: str | None = None  # BHYT support group or voluntary BHXH support group
    income: int | None = None  # voluntary BHXH chosen monthly income
    is_relative: bool | None = None
    amount_paid: int | None = None  # None: exactly the engine's amount
    reason: str | None = None  # why amount_paid differs from the engine

    def with_(self, **changes: object) -> EnrolmentDraft:
        return self.model_copy(update=changes)

    def with_scheme(self, scheme: Scheme) -> EnrolmentDraft:
        """Change the scheme, forgetting answers that only made sense for the old one."""
        if scheme == self.scheme:
            return self
        keep_months = self.months if self.months in allowed_months(scheme) else None
        return self.with_(
            scheme=scheme, months=keep_months, position=None, group=None, income=None,
            amount_paid=None, reason=None,
        )

    def cleared(self, step: Step) -> EnrolmentDraft:
        """The draft with one field forgotten, so the flow asks it again (the Sửa button)."""
        if step == Step.SCHEME:
            return self.with_(scheme=None, group=None, income=None, position=None,
                              amount_paid=None, reason=None)
        if step == Step.REASON:
            return self.with_(amount_paid=None, reason=None)
        if step in (Step.GROUP, Step.INCOME, Step.MONTHS, Step.POSITION):
            return self.with_(**{step.value: None, "amount_paid": None, "reason": None})
        if step == Step.RELATIVE:
            return self.with_(is_relative=None)
        if step in (Step.NAME, Step.CODE):
            return self.with_(**{step.value: None})
        return self

    def to_state(self) -> dict[str, object]:
        """Plain JSON for user_data (the persistence stores JSON)."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_state(cls, data: object) -> EnrolmentDraft:
        """Back from user_data; anything unreadable becomes an empty draft, never an error."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls.model_validate(data)
        except ValidationError:
            return cls()

    @property
    def code_kind(self) -> CodeKind | None:
        if self.code is None:
            return None
        return CodeKind.CCCD if len(self.code) == 12 else CodeKind.BHXH


def allowed_months(scheme: Scheme) -> tuple[int, ...]:
    return BHXH_MONTHS if scheme == Scheme.BHXH_VOLUNTARY else BHYT_MONTHS


def family_schemes(scheme: Scheme) -> tuple[Scheme, ...]:
    """Schemes that count as the same for duplicates: one person holds one BHYT card."""
    if scheme in BHYT_SCHEMES:
        return (Scheme.BHYT_HOUSEHOLD, Scheme.BHYT_SUPPORTED)
    return (scheme,)


def next_step(draft: EnrolmentDraft, expected: int | None = None) -> Step:
    """The first thing still missing, in the order the guided flow asks.

    `expected` is the engine's amount once the draft is priced: a different amount paid
    without a reason stops at REASON.
    """
    if draft.scheme is None:
        return Step.SCHEME
    if draft.name is None:
        return Step.NAME
    if draft.code is None:
        return Step.CODE
    if draft.months is None:
        return Step.MONTHS
    if draft.scheme == Scheme.BHYT_HOUSEHOLD and draft.position is None:
        return Step.POSITION
    if draft.scheme != Scheme.BHYT_HOUSEHOLD and draft.group is None:
        return Step.GROUP
    if draft.scheme == Scheme.BHXH_VOLUNTARY and draft.income is None:
        return Step.INCOME
    if draft.is_relative is None:
        return Step.RELATIVE
    if (
        expected is not None
        and draft.amount_paid is not None
        and draft.amount_paid != expected
        and not draft.reason
    ):
        return Step.REASON
    return Step.CONFIRM


# --------------------------------------------------------------------------- validation


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").strip()


def _is_name_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category.startswith("L") or category.startswith("M") or ch in "'’-."


def validate_name(text: str) -> str:
    """A participant's full name: letters only, 2 to 7 words, each word capitalised.

    Agents type names without diacritics or in lower case; capitalising every word keeps the
    monthly form readable. Digits, emoji and one-word names are refused.
    """
    raw = _clean(text)
    if not raw:
        raise InputError("name_empty")
    if len(raw) > MAX_NAME_CHARS:
        raise InputError("name_long", limit=MAX_NAME_CHARS)
    words = raw.split()
    if any(not all(_is_name_char(ch) for ch in word) for word in words):
        raise InputError("name_chars")
    if not any(ch.isalpha() for ch in raw):
        raise InputError("name_chars")
    if len(words) < 2:
        raise InputError("name_short")
    if len(words) > MAX_NAME_WORDS:
        raise InputError("name_long", limit=MAX_NAME_CHARS)
    return " ".join(word[:1].upper() + word[1:].lower() for word in words)


_CODE_SEPARATORS_RE = re.compile(r"[\s.\-]")


def validate_code(text: str) -> str:
    """A 10-digit BHXH code or a 12-digit CCCD number (spaces, dots, dashes ignored)."""
    raw = _CODE_SEPARATORS_RE.sub("", textparse.normalize(text or "")[: MAX_LINE_CHARS])
    if not raw:
        raise InputError("code_empty")
    if not is_ascii_digits(raw, max_digits=MAX_LINE_CHARS):
        raise InputError("code_chars")
    if len(raw) not in (10, 12):
        raise InputError("code_length", length=len(raw))
    return raw


def validate_months(scheme: Scheme, months: int | None) -> int:
    allowed = allowed_months(scheme)
    if months is None:
        raise InputError("months_unclear", allowed=allowed)
    if months not in allowed:
        raise InputError("months_not_allowed", allowed=allowed, value=months)
    return months


def validate_position(value: int | None) -> int:
    if value is None or value < 1:
        raise InputError("position_unclear")
    if value > MAX_POSITION:
        raise InputError("position_range", limit=MAX_POSITION)
    return value


def validate_amount(text: str) -> int:
    """A sum of money typed as "1.366.200", "1tr366", "800k" (letters alone are refused)."""
    if len(text or "") > MAX_LINE_CHARS:
        raise InputError("too_long", limit=MAX_LINE_CHARS)
    amount = textparse.parse_amount(text)
    if amount is None:
        words = textparse.normalize(text)
        digits = parse_bounded_int(words, max_digits=9)
        if digits is not None and digits > 0:
            amount = digits
        elif words.strip("0") == "" and words:
            amount = 0
    if amount is None:
        raise InputError("amount_unclear")
    return amount


def validate_income(text: str) -> int:
    if len(text or "") > MAX_LINE_CHARS:
        raise InputError("too_long", limit=MAX_LINE_CHARS)
    amount = textparse.parse_amount(text)
    if amount is None:
        raise InputError("income_unclear")
    return amount


def validate_reason(text: str) -> str:
    reason = " ".join(_clean(text).split())
    if len(reason) < MIN_REASON_CHARS:
        raise InputError("reason_short")
    if len(reason) > MAX_REASON_CHARS:
        raise InputError("reason_long", limit=MAX_REASON_CHARS)
    return reason


_YES_RE = re.compile(r"^(?:co|co a|phai|dung|vang|u|uh|yes|y|nguoi than|co nguoi than|la nguoi than)$")
_NO_RE = re.compile(r"^(?:khong|ko|k|no|n|khong phai|khong a|khong phai nguoi than)$")


# --- leaving the guided flow -------------------------------------------------------------------

# A draft nobody answered for this long is dropped: days later, "xin chào" is not a name.
DRAFT_TIMEOUT = timedelta(minutes=30)
# Words that name a scheme or ask a price: never part of a person's name.
_COST_QUESTION_RE = re.compile(
    r"\b(?:bhyt|bhxh|bhxhtn|bh yt|bh xh|bao hiem|bao nhieu|bn tien|may tien|het bao|muc dong)\b",
    re.ASCII,
)
# A greeting or a call for help is made of these words only, with a key word or phrase in it.
_CHAT_WORDS = frozenset({
    "xin", "chao", "hello", "helo", "hi", "hey", "alo", "allo", "a", "lo", "oi", "nha", "nhe",
    "ban", "bot", "ad", "admin", "em", "anh", "chi", "co", "chu", "bac", "moi", "nguoi", "ca",
    "help", "giup", "tro", "huong", "dan", "toi", "minh", "voi", "menu", "start", "bat", "dau",
    "cach", "dung",
})
_CHAT_KEYS = frozenset({"chao", "hello", "helo", "hi", "hey", "alo", "allo", "help", "giup", "menu", "start"})
_CHAT_PHRASES_RE = re.compile(r"\b(?:huong dan|bat dau|cach dung)\b", re.ASCII)  # "Hương" is a name


def is_not_a_name(text: str) -> bool:
    """True when an answer to "the participant's full name?" is clearly something else: a
    cost question ("bhyt 3 người bao nhiêu?") or a greeting / call for help ("xin chào",
    "menu"). Then the agent has moved on, and the message is answered as a question.

    Cautious on purpose: a name that merely contains such a word ("Trần Thị Chào", "Lò Văn
    Hi", "Hồ Gia Định") stays a name.
    """
    words = re.findall(r"[a-z0-9]+", textparse.normalize((text or "")[:MAX_LINE_CHARS]))
    if not words:
        return False
    if _COST_QUESTION_RE.search(" ".join(words)):
        return True
    if not set(words) <= _CHAT_WORDS:
        return False
    return not _CHAT_KEYS.isdisjoint(words) or _CHAT_PHRASES_RE.search(" ".join(words)) is not None


def draft_expired(saved_at: str | None, now: datetime, timeout: timedelta = DRAFT_TIMEOUT) -> bool:
    """Was the draft saved at `saved_at` (ISO time) longer than `timeout` before `now`?

    A draft without a readable time was saved before drafts were stamped: it is that old.
    """
    if not saved_at:
        return True
    try:
        return now - datetime.fromisoformat(saved_at) > timeout
    except (TypeError, ValueError):
        return True


def apply_typed_answer(
    draft: EnrolmentDraft, step: str, text: str, group_keys: frozenset[str] = frozenset()
) -> EnrolmentDraft:
    """The draft with a typed answer to the question `step`; InputError when unusable.

    `group_keys` are the support groups in force (a typed group must be one of them).
    """
    text = (text or "").strip()
    if len(text) > MAX_LINE_CHARS:
        raise InputError("too_long", limit=MAX_LINE_CHARS)
    if step == Step.SCHEME:
        scheme = parse_line(text).draft.scheme
        if scheme is None:
            raise InputError("choose_button")
        return draft.with_scheme(scheme)
    if step == Step.NAME:
        return draft.with_(name=validate_name(text))
    if step == Step.CODE:
        return draft.with_(code=validate_code(text))
    if draft.scheme is None:
        raise InputError("incomplete")
    if step == Step.MONTHS:
        months = textparse.parse_months(text) or textparse.parse_int_choice(text)
        return draft.with_(months=validate_months(draft.scheme, months))
    if step == Step.POSITION:
        return draft.with_(position=validate_position(textparse.parse_int_choice(text)))
    if step == Step.GROUP:
        if draft.scheme == Scheme.BHXH_VOLUNTARY:
            key = textparse.parse_bhxh_group(text)
        else:
            key = textparse.parse_bhyt_group(text)
        if key is None or key not in group_keys:
            raise InputError("group_unclear")
        return draft.with_(group=key)
    if step == Step.INCOME:
        return draft.with_(income=validate_income(text))
    if step == Step.RELATIVE:
        words = " ".join(re.findall(r"[a-z0-9]+", textparse.normalize(text)))
        if _YES_RE.match(words):
            return draft.with_(is_relative=True)
        if _NO_RE.match(words):
            return draft.with_(is_relative=False)
        raise InputError("choose_button")
    if step == Step.PAID:
        return draft.with_(amount_paid=validate_amount(text), reason=None)
    if step == Step.REASON:
        return draft.with_(reason=validate_reason(text))
    raise InputError("choose_button")


# --------------------------------------------------------------------------- one-line parsing


@dataclass
class ParsedLine:
    """What a one-liner states, plus the problems found (reply keys, in order)."""

    draft: EnrolmentDraft
    problems: list[InputError] = field(default_factory=list)


_SCHEME_PHRASES: tuple[tuple[tuple[str, ...], Scheme], ...] = (
    (("bao", "hiem", "xa", "hoi", "tu", "nguyen"), Scheme.BHXH_VOLUNTARY),
    (("bhxh", "tu", "nguyen"), Scheme.BHXH_VOLUNTARY),
    (("bao", "hiem", "xa", "hoi"), Scheme.BHXH_VOLUNTARY),
    (("bhxh", "tn"), Scheme.BHXH_VOLUNTARY),
    (("bhxhtn",), Scheme.BHXH_VOLUNTARY),
    (("bhxh",), Scheme.BHXH_VOLUNTARY),
    (("tu", "nguyen"), Scheme.BHXH_VOLUNTARY),
    (("bao", "hiem", "y", "te", "ho", "gia", "dinh"), Scheme.BHYT_HOUSEHOLD),
    (("bhyt", "ho", "gia", "dinh"), Scheme.BHYT_HOUSEHOLD),
    (("bhyt", "hgd"), Scheme.BHYT_HOUSEHOLD),
    (("bao", "hiem", "y", "te"), Scheme.BHYT_HOUSEHOLD),
    (("bhyt",), Scheme.BHYT_HOUSEHOLD),
    (("ho", "gia", "dinh"), Scheme.BHYT_HOUSEHOLD),
    (("hgd",), Scheme.BHYT_HOUSEHOLD),
)
_HOUSEHOLD_WORDS = ("hgd", "ho gia dinh")

# Words that never belong to a name when they sit next to it; pairs catch "tự nguyện" vs the
# surname "Nguyễn" (both "nguyen" without diacritics) and "hộ nghèo" vs the surname "Hồ".
_STOP_WORDS = frozenset({
    "bhyt", "bhxh", "bhxhtn", "hgd", "tn", "dtts", "hs", "sv", "hssv", "hcn", "bh", "yt",
    "cccd", "ten", "ngheo", "lydo",
})
# "12 tháng", "3 người", "2 triệu": after a number these are units, not a name ("Nam", "Thắng").
_UNIT_WORDS = frozenset({"thang", "th", "nam", "nguoi", "ng", "tuoi", "trieu", "tr", "k",
                         "nghin", "ngan", "dong", "d", "vnd", "cu", "ruoi"})
# Labels typed before the code: "mã số 8423001234", "CCCD 0012...", "mã BHXH ...".
_CODE_LABELS = frozenset({"ma", "so", "cccd", "bhxh", "mabhxh", "masobhxh", "msbhxh", "mst", "maso"})
_STOP_PAIRS = frozenset({
    ("tu", "nguyen"), ("gia", "dinh"), ("ho", "gia"), ("y", "te"), ("xa", "hoi"),
    ("bao", "hiem"), ("hiem", "y"), ("hiem", "xa"), ("hoc", "sinh"), ("sinh", "vien"),
    ("dan", "toc"), ("thieu", "so"), ("can", "ngheo"), ("ho", "ngheo"), ("nguoi", "than"),
    ("nguoi", "thu"), ("than", "nhan"), ("ly", "do"), ("da", "thu"), ("so", "tien"),
    ("thu", "nhap"), ("ho", "can"), ("nong", "nghiep"), ("bao", "tro"), ("tre", "em"),
    ("ma", "so"), ("ho", "ten"),
})

_RELATIVE_RE = re.compile(r"\b(?:nguoi than|than nhan|nguoi nha|ruot thit)\b", re.ASCII)
_NOT_RELATIVE_RE = re.compile(
    r"\b(?:khong phai|khong la|ko phai|k phai|khong) (?:nguoi than|than nhan|nguoi nha)\b", re.ASCII
)
_POSITION_WORDS = {"nhat": 1, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6}
_POSITION_RE = re.compile(
    r"\b(?:(?:nguoi|ng|thanh vien|tv)\s?thu\s?(?P<a>\d{1,2}|nhat|hai|ba|bon|tu|nam|sau)"
    r"|thu\s(?P<b>\d{1,2}|nhat|hai|ba|bon|tu|nam|sau)\s?(?:trong (?:ho|nha)))(?![\d.,])",
    re.ASCII,
)
_PAID_MARKERS: tuple[tuple[str, ...], ...] = (
    ("da", "thu"), ("so", "tien"), ("da", "dong"), ("thu", "tien"), ("thu",), ("tien",),
)
_CODE_TOKEN_RE = re.compile(r"^\d+$", re.ASCII)


@dataclass
class _Token:
    text: str  # as typed, without surrounding punctuation
    norm: str  # lowercase ASCII letters and digits (textparse.normalize, punctuation dropped)
    used: bool = False

    @property
    def has_digit(self) -> bool:
        return any(ch.isdigit() for ch in self.norm)

    @property
    def is_word(self) -> bool:
        return bool(self.norm) and self.norm.isalpha()


_EDGE_PUNCT = ",;:!?()[]{}\"'“”‘’«»"


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for piece in text.split():
        shown = piece.strip(_EDGE_PUNCT)
        if shown.endswith(".") and not shown.rstrip(".").replace(".", "").isdigit():
            shown = shown.rstrip(".")  # a full stop ends a sentence; dots inside numbers stay
        norm = textparse.normalize(shown)
        if norm:
            out.append(_Token(shown, norm))
    return out


def _match_phrase(tokens: list[_Token], start: int, phrase: tuple[str, ...]) -> bool:
    if start + len(phrase) > len(tokens):
        return False
    return all(tokens[start + i].norm == word for i, word in enumerate(phrase))


def _take_scheme(tokens: list[_Token]) -> Scheme | None:
    """The scheme named by the first words (the usual form), else anywhere in the line."""
    for start in range(len(tokens)):
        for phrase, scheme in _SCHEME_PHRASES:
            if _match_phrase(tokens, start, phrase):
                for token in tokens[start : start + len(phrase)]:
                    token.used = True
                return scheme
    return None


def _is_stop(tokens: list[_Token], i: int) -> bool:
    """Is token i a keyword rather than part of a name (given its neighbours)?"""
    word = tokens[i].norm
    if word in _STOP_WORDS:
        return True
    if word in _UNIT_WORDS and i > 0 and tokens[i - 1].has_digit:
        return True
    before = tokens[i - 1].norm if i > 0 else ""
    after = tokens[i + 1].norm if i + 1 < len(tokens) else ""
    return (before, word) in _STOP_PAIRS or (word, after) in _STOP_PAIRS


def _name_run_before(tokens: list[_Token], anchor: int) -> list[int]:
    run: list[int] = []
    i = anchor - 1
    labels = 0
    while i >= 0 and labels < 3 and not tokens[i].used and tokens[i].norm in _CODE_LABELS:
        tokens[i].used = True
        labels += 1
        i -= 1
    while i >= 0 and not tokens[i].used and tokens[i].is_word and not _is_stop(tokens, i):
        run.append(i)
        i -= 1
    return run[::-1]


def _name_run_after(tokens: list[_Token], anchor: int) -> list[int]:
    run: list[int] = []
    i = anchor + 1
    while i < len(tokens) and not tokens[i].used and tokens[i].is_word and not _is_stop(tokens, i):
        run.append(i)
        i += 1
    return run


def _take_reason(tokens: list[_Token]) -> str | None:
    """Everything after "lý do" is the reason for a different amount."""
    for i in range(len(tokens)):
        if tokens[i].norm == "lydo" or _match_phrase(tokens, i, ("ly", "do")):
            width = 1 if tokens[i].norm == "lydo" else 2
            rest = tokens[i + width :]
            for token in tokens[i:]:
                token.used = True
            text = " ".join(t.text for t in rest).strip(" :-")
            return text or None
    return None


def _take_code(tokens: list[_Token], problems: list[InputError]) -> tuple[str | None, int | None]:
    """The 10- or 12-digit identifier and its index; else a digit run too long to be money
    (9 to 15 digits) is reported as a malformed code."""
    for i, token in enumerate(tokens):
        if not token.used and _CODE_TOKEN_RE.match(token.norm) and len(token.norm) in (10, 12):
            token.used = True
            return token.norm, i
    for i, token in enumerate(tokens):
        if not token.used and _CODE_TOKEN_RE.match(token.norm) and 9 <= len(token.norm) <= 15:
            token.used = True
            problems.append(InputError("code_length", length=len(token.norm)))
            return None, i
    return None, None


def _take_paid(tokens: list[_Token]) -> int | None:
    """ "thu 1.300.000", "đã thu 1tr3", "số tiền 500k": the amount actually collected."""
    for i in range(len(tokens)):
        if tokens[i].used:
            continue
        for marker in _PAID_MARKERS:
            if not _match_phrase(tokens, i, marker):
                continue
            after = i + len(marker)
            if after < len(tokens) and tokens[after].norm == "nhap":  # "thu nhập": income
                break
            if marker == ("thu",) and i > 0 and tokens[i - 1].norm in ("nguoi", "ng", "tv", "vien"):
                break  # "người thứ 2": the household position
            span = tokens[after : after + 3]
            amount = textparse.parse_amount(" ".join(t.text for t in span)) if span else None
            if amount is None:
                break
            for token in tokens[i : after + 1]:
                token.used = True
            # The amount may span "1 triệu 300 nghìn": mark the words that belong to it.
            for token in span[1:]:
                if token.has_digit or token.norm in ("tr", "trieu", "k", "nghin", "ngan", "d", "dong", "vnd"):
                    token.used = True
                else:
                    break
            return amount
    return None


def _rest_text(tokens: list[_Token]) -> str:
    return " ".join(t.text for t in tokens if not t.used)


def _position(norm: str) -> int | None:
    m = _POSITION_RE.search(norm)
    if m is None:
        return None
    value = m.group("a") or m.group("b")
    number = parse_bounded_int(value, max_digits=2)
    return number if number is not None else _POSITION_WORDS.get(value)


def parse_line(text: str) -> ParsedLine:
    """Read a one-line enrolment. Never raises; problems are returned for the reply.

    The scheme comes first; the name is the run of plain words next to the code; period,
    support group, income, household position, relative flag, amount collected ("thu ...") and
    a reason ("lý do ...") may follow in any order. Defaults of the one-line path: 1st member
    of the household, not a relative, voluntary-BHXH group "others".
    """
    problems: list[InputError] = []
    raw = _clean(text)
    if len(raw) > MAX_LINE_CHARS:
        return ParsedLine(EnrolmentDraft(), [InputError("too_long", limit=MAX_LINE_CHARS)])
    tokens = _tokens(raw)
    if not tokens:
        return ParsedLine(EnrolmentDraft(), [])
    scheme = _take_scheme(tokens)
    reason = _take_reason(tokens)
    code, code_at = _take_code(tokens, problems)
    # The name: the plain words just before the code (or before the first number), else
    # just after the code.
    if code_at is None:
        code_at = next((i for i, t in enumerate(tokens) if not t.used and t.has_digit), len(tokens))
    run = _name_run_before(tokens, code_at)
    if not run and code_at < len(tokens):
        run = _name_run_after(tokens, code_at)
    name: str | None = None
    if run:
        for i in run:
            tokens[i].used = True
        try:
            name = validate_name(" ".join(tokens[i].text for i in run))
        except InputError as exc:
            problems.append(exc)
    paid = _take_paid(tokens)
    rest = _rest_text(tokens)
    norm_rest = textparse.normalize(rest)
    relative = bool(_RELATIVE_RE.search(norm_rest)) and not _NOT_RELATIVE_RE.search(norm_rest)
    voluntary = scheme == Scheme.BHXH_VOLUNTARY
    months = textparse.parse_months(rest) if scheme is not None else None
    if months is not None and scheme is not None and months not in allowed_months(scheme):
        problems.append(InputError("months_not_allowed", allowed=allowed_months(scheme), value=months))
        months = None
    group: str | None = None
    income: int | None = None
    position: int | None = None
    if voluntary:
        group = textparse.parse_bhxh_group(rest) or DEFAULT_BHXH_GROUP
        income = textparse.parse_amount(rest)
    elif scheme is not None:
        bhyt_group = textparse.parse_bhyt_group(rest)
        if bhyt_group is not None and not any(w in norm_rest for w in _HOUSEHOLD_WORDS):
            scheme = Scheme.BHYT_SUPPORTED
            group = bhyt_group
        if scheme == Scheme.BHYT_HOUSEHOLD:
            position = _position(norm_rest) or 1
            if position > MAX_POSITION:
                problems.append(InputError("position_range", limit=MAX_POSITION))
                position = None
        if paid is None:
            paid = textparse.parse_amount(rest)  # BHYT: a bare amount is what was collected
    draft = EnrolmentDraft(
        scheme=scheme,
        name=name,
        code=code,
        months=months,
        position=position,
        group=group,
        income=income,
        is_relative=relative if scheme is not None else None,
        amount_paid=paid,
        reason=reason if paid is not None and reason else None,
    )
    return ParsedLine(draft, problems)


# --------------------------------------------------------------------------- price


@dataclass(frozen=True)
class Priced:
    """The engine's amount for the draft and the facts a confirmation card shows."""

    expected: int
    monthly: int | None = None  # per month (household member, supported card, BHXH net)
    support_label: str | None = None
    cofunded: bool = False


def price(book: RateBook, on: date, draft: EnrolmentDraft, campaign: Campaign | None = None) -> Priced:
    """What the participant owes on `on` for the draft, from the cost engine.

    Household BHYT: the amount of the member's own place on the ladder. Supported BHYT: what
    the person pays after the state's share and any campaign co-funding. Voluntary BHXH: the
    net for the period. Raises `Refused` (engine) or `ValueError` if the draft is incomplete.
    """
    if draft.scheme is None or draft.months is None:
        raise ValueError("draft has no scheme or months")
    if draft.scheme == Scheme.BHYT_HOUSEHOLD:
        position = draft.position or 1
        q = quote_bhyt_household(book, on, members=position, months=draft.months)
        line = q.lines[position - 1]
        return Priced(expected=line.amount, monthly=line.monthly)
    if draft.group is None:
        raise ValueError("draft has no group")
    if draft.scheme == Scheme.BHYT_SUPPORTED:
        cofunding = (
            campaign.cofunding_for(Scheme.BHYT_SUPPORTED, draft.group, draft.months) if campaign else None
        )
        s = quote_bhyt_supported(book, on, draft.group, draft.months, cofunding=cofunding)
        return Priced(expected=s.person_pays, support_label=s.group_label, cofunded=s.cofunded)
    if draft.income is None:
        raise ValueError("draft has no income")
    v = quote_bhxh_voluntary(book, on, income=draft.income, group=draft.group, months=draft.months)
    return Priced(expected=v.period_net, monthly=v.monthly_net, support_label=v.group_label)


def try_price(
    book: RateBook, on: date, draft: EnrolmentDraft, campaign: Campaign | None = None
) -> Priced | Refused:
    """`price`, with the engine's refusal returned instead of raised."""
    try:
        return price(book, on, draft, campaign)
    except Refused as refused:
        return refused


# --------------------------------------------------------------------------- periods


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31/01 + 1 -> 28/02)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def coverage_end(start: date, months: int) -> date:
    """Last day covered: 12/11/2026 + 12 months -> 11/11/2027."""
    return add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True)
class ExistingPeriod:
    """An active entry of the same person and scheme family, as the duplicate rule sees it."""

    enrolment_id: int
    period_start: date
    period_end: date


@dataclass(frozen=True)
class PeriodPlan:
    """Either the period the new entry covers, or the entry it would duplicate."""

    start: date | None = None
    end: date | None = None
    duplicate_of: ExistingPeriod | None = None
    renewal: bool = False


def _overlaps(a_start: date, a_end: date, b: ExistingPeriod) -> bool:
    return a_start <= b.period_end and b.period_start <= a_end


def plan_period(on: date, months: int, existing: list[ExistingPeriod]) -> PeriodPlan:
    """The covered period of a new entry logged on `on`, or the duplicate it would be.

    A person already covered on `on` is a duplicate, unless the cover ends within
    RENEWAL_WINDOW_DAYS: then this is an early renewal and starts the day after it ends.
    """
    start = on
    covering = [e for e in existing if e.period_start <= on <= e.period_end]
    if covering:
        last = max(covering, key=lambda e: e.period_end)
        if (last.period_end - on).days >= RENEWAL_WINDOW_DAYS:
            return PeriodPlan(duplicate_of=last)
        start = last.period_end + timedelta(days=1)
    end = coverage_end(start, months)
    for other in sorted(existing, key=lambda e: e.period_start):
        if _overlaps(start, end, other):
            return PeriodPlan(duplicate_of=other)
    return PeriodPlan(start=start, end=end, renewal=start != on)
