"""Pure rules of logging: one-line parsing, validation, price from the engine, periods."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.campaigns import CampaignBook
from bot.domain.engine import RefusalReason, Refused
from bot.domain.enrolment import (
    EnrolmentDraft,
    ExistingPeriod,
    InputError,
    Scheme,
    Step,
    add_months,
    apply_typed_answer,
    coverage_end,
    family_schemes,
    next_step,
    parse_line,
    plan_period,
    price,
    validate_amount,
    validate_code,
    validate_name,
    validate_reason,
)
from bot.domain.rates import RateBook

ON = date(2026, 11, 23)


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


# (line, expected draft fields) - the phrasings agents use, with and without diacritics.
PHRASINGS: list[tuple[str, dict[str, object]]] = [
    ("bhyt Nguyễn Văn An 8423001234 12 tháng",
     dict(scheme=Scheme.BHYT_HOUSEHOLD, name="Nguyễn Văn An", code="8423001234", months=12, position=1, is_relative=False)),
    ("bhxh Trần Thị Bình 8423005678 2tr 12 tháng người thân",
     dict(scheme=Scheme.BHXH_VOLUNTARY, name="Trần Thị Bình", income=2_000_000, months=12, group="khac", is_relative=True)),
    ("bhyt nguyen van an 8423001234 6 thang",
     dict(name="Nguyen Van An", months=6, scheme=Scheme.BHYT_HOUSEHOLD)),
    ("BHYT hộ gia đình Hồ Văn Nam 8423001235 12 tháng người thứ 2",
     dict(name="Hồ Văn Nam", position=2, scheme=Scheme.BHYT_HOUSEHOLD)),
    ("bhyt hgd Lê Thị Thắng 8423001236 3 tháng", dict(name="Lê Thị Thắng", months=3)),
    ("bhyt cận nghèo Lê Thị Cúc 8423009999 6 tháng",
     dict(scheme=Scheme.BHYT_SUPPORTED, group="can_ngheo", name="Lê Thị Cúc", months=6)),
    ("bhxh tự nguyện Nguyễn Văn Tư 8423005679 1,5 triệu hằng tháng hộ cận nghèo",
     dict(name="Nguyễn Văn Tư", income=1_500_000, months=1, group="can_ngheo")),
    ("bhxh tn Pham Thi Hoa 001203004567 3tr 1 năm",
     dict(name="Pham Thi Hoa", code="001203004567", income=3_000_000, months=12)),
    ("bhyt Nguyễn Văn Bảy mã số 8423001237 12 tháng thu 1.300.000 lý do xã hỗ trợ thêm",
     dict(name="Nguyễn Văn Bảy", code="8423001237", amount_paid=1_300_000, reason="xã hỗ trợ thêm")),
    ("bhyt 8423001238 Đỗ Thị Na 6 tháng", dict(name="Đỗ Thị Na", code="8423001238", months=6)),
    ("bhyt học sinh Lò Vinh Quang 8423001239 12 tháng",
     dict(scheme=Scheme.BHYT_SUPPORTED, group="hoc_sinh", name="Lò Vinh Quang")),
    ("bhxh Văn Hà Thu 8423001240 5 triệu 6 tháng dân tộc thiểu số người thân",
     dict(name="Văn Hà Thu", income=5_000_000, months=6, group="dtts", is_relative=True)),
    ("BHYT NGO THI PHUONG 8423001242 12t nguoi than", dict(name="Ngo Thi Phuong", months=12, is_relative=True)),
    ("bhyt Tạ Thị Yến 001203004999 nửa năm người thứ 3", dict(months=6, position=3, code="001203004999")),
    ("bảo hiểm y tế hộ gia đình Đinh Thị Trang 8423001244 1 năm người thứ 5",
     dict(scheme=Scheme.BHYT_HOUSEHOLD, name="Đinh Thị Trang", months=12, position=5)),
    ("bhyt Hồ Văn Nam 8423001245 12 tháng không phải người thân", dict(name="Hồ Văn Nam", is_relative=False)),
]


@pytest.mark.parametrize(("line", "expected"), PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_one_line_phrasings(line: str, expected: dict[str, object]) -> None:
    parsed = parse_line(line)
    assert parsed.problems == []
    for key, value in expected.items():
        assert getattr(parsed.draft, key) == value, key
    assert next_step(parsed.draft) == Step.CONFIRM


def test_ambiguous_lines_keep_what_was_understood() -> None:
    no_code = parse_line("bhyt Nguyễn Văn An 12 tháng")
    assert no_code.draft.name == "Nguyễn Văn An" and no_code.draft.months == 12
    assert next_step(no_code.draft) == Step.CODE

    bad_code = parse_line("bhyt Nguyễn Văn An 842300123 12 tháng")
    assert [p.key for p in bad_code.problems] == ["code_length"]
    assert bad_code.problems[0].details == {"length": 9}
    assert bad_code.draft.code is None and bad_code.draft.name == "Nguyễn Văn An"

    five_months = parse_line("bhyt Tạ Thị Yến 8423001243 5 tháng")
    assert [p.key for p in five_months.problems] == ["months_not_allowed"]
    assert next_step(five_months.draft) == Step.MONTHS

    no_scheme = parse_line("Nguyễn Văn An 8423001234")
    assert no_scheme.draft.scheme is None and next_step(no_scheme.draft) == Step.SCHEME

    voluntary_no_income = parse_line("bhxh Trần Thị Bình 8423005678 12 tháng")
    assert next_step(voluntary_no_income.draft) == Step.INCOME


@pytest.mark.parametrize(
    "line",
    ["", "   ", "😀😀😀", "/ghi", "x" * 10_000, "bhyt " + "🙂" * 400, "\u202e\u0000 bhyt",
     "bhyt Nguyễn 😀 8423001241 12 tháng"],
)
def test_hostile_lines_never_raise(line: str) -> None:
    parsed = parse_line(line)
    assert parsed.draft.name is None or parsed.draft.name.replace(" ", "").isalpha()


def test_long_line_is_refused_with_a_limit() -> None:
    parsed = parse_line("bhyt " + "a" * 5000)
    assert [p.key for p in parsed.problems] == ["too_long"]
    assert parsed.draft == EnrolmentDraft()


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_parse_line_total(text: str) -> None:
    parsed = parse_line(text)
    if parsed.draft.code is not None:
        assert len(parsed.draft.code) in (10, 12) and parsed.draft.code.isdigit()


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [("", "name_empty"), ("   ", "name_empty"), ("An", "name_short"), ("Nguyễn 123", "name_chars"),
     ("Nguyễn 😀 An", "name_chars"), ("A" * 61, "name_long"), ("<b>Nguyễn</b> An", "name_chars")],
)
def test_bad_names(text: str, key: str) -> None:
    with pytest.raises(InputError) as err:
        validate_name(text)
    assert err.value.key == key


def test_names_are_capitalised() -> None:
    assert validate_name("  nguyễn   thị  hoa ") == "Nguyễn Thị Hoa"
    assert validate_name("ĐẶNG THỊ THANH THỦY") == "Đặng Thị Thanh Thủy"


@pytest.mark.parametrize(
    ("text", "key"),
    [("842300123", "code_length"), ("84230012345", "code_length"), ("84230O1234", "code_chars"),
     ("", "code_empty"), ("８４２３００１２３４", None), ("8423 001 234", None), ("😀", "code_chars")],
)
def test_codes(text: str, key: str | None) -> None:
    if key is None:
        assert validate_code(text) == "8423001234"
        return
    with pytest.raises(InputError) as err:
        validate_code(text)
    assert err.value.key == key


def test_amounts_and_reasons() -> None:
    assert validate_amount("1.300.000") == 1_300_000
    assert validate_amount("1tr3") == 1_300_000
    assert validate_amount("0") == 0
    for bad in ("abc", "mười", "", "1,5", "😀"):
        with pytest.raises(InputError):
            validate_amount(bad)
    assert validate_reason("  xã   hỗ trợ ") == "xã hỗ trợ"
    with pytest.raises(InputError):
        validate_reason("ok")


def test_changing_scheme_forgets_what_no_longer_applies() -> None:
    draft = EnrolmentDraft(scheme=Scheme.BHXH_VOLUNTARY, months=1, income=2_000_000, group="khac")
    changed = draft.with_scheme(Scheme.BHYT_HOUSEHOLD)
    assert changed.months is None and changed.income is None and changed.group is None
    assert EnrolmentDraft.from_state({"scheme": "forged"}) == EnrolmentDraft()
    assert EnrolmentDraft.from_state(draft.to_state()) == draft


# --- price ---------------------------------------------------------------------------------------


def _draft(line: str) -> EnrolmentDraft:
    return parse_line(line).draft


@pytest.mark.parametrize(
    ("line", "amount"),
    [
        ("bhyt Nguyễn Văn An 8423001234 12 tháng", 1_366_200),
        ("bhyt Hồ Văn Nam 8423001235 12 tháng người thứ 2", 956_340),
        ("bhyt Hồ Văn Nam 8423001235 12 tháng người thứ 3", 819_720),
        ("bhyt Hồ Văn Nam 8423001235 6 tháng người thứ 6", 273_240),
        ("bhyt cận nghèo Lê Thị Cúc 8423009999 6 tháng", 204_930),
        ("bhxh Nguyễn Văn Tư 8423005679 1,5 triệu hằng tháng", 264_000),
        ("bhxh Nguyễn Văn Tư 8423005679 5tr 12 tháng cận nghèo", 11_616_000),
    ],
)
def test_price_from_the_engine(book: RateBook, line: str, amount: int) -> None:
    assert price(book, ON, _draft(line)).expected == amount


def test_price_refusals_and_campaign_cofunding(book: RateBook) -> None:
    with pytest.raises(Refused) as err:
        price(book, ON, _draft("bhxh Nguyễn Văn Tư 8423005679 800k hằng tháng"))
    assert err.value.reason == RefusalReason.INCOME_BELOW_MIN
    campaign = CampaignBook.load().by_code("AG-2024-11")
    draft = EnrolmentDraft(
        scheme=Scheme.BHYT_SUPPORTED, name="Lò Thị Mai", code="8423001299", months=3,
        group="dtts_vung_thoat_kho", is_relative=False,
    )
    assert price(book, date(2024, 11, 5), draft, campaign).expected == 20_000
    assert price(book, date(2024, 11, 5), draft, None).expected == 94_770


# --- periods and duplicates -----------------------------------------------------------------------


def test_periods() -> None:
    assert coverage_end(date(2026, 11, 12), 12) == date(2027, 11, 11)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert coverage_end(date(2026, 11, 23), 3) == date(2027, 2, 22)
    assert family_schemes(Scheme.BHYT_SUPPORTED) == (Scheme.BHYT_HOUSEHOLD, Scheme.BHYT_SUPPORTED)
    assert family_schemes(Scheme.BHXH_VOLUNTARY) == (Scheme.BHXH_VOLUNTARY,)


def test_plan_period_duplicate_and_renewal() -> None:
    covered = ExistingPeriod(1, date(2026, 11, 12), date(2027, 11, 11))
    dup = plan_period(ON, 12, [covered])
    assert dup.duplicate_of == covered and dup.start is None

    ending = ExistingPeriod(2, date(2026, 2, 1), date(2026, 12, 10))
    renewal = plan_period(ON, 12, [ending])
    assert renewal.renewal and renewal.start == date(2026, 12, 11)
    assert renewal.end == date(2027, 12, 10)

    # Already renewed ahead: the early renewal would overlap the prepaid period.
    ahead = ExistingPeriod(3, date(2026, 12, 11), date(2027, 12, 10))
    assert plan_period(ON, 12, [ending, ahead]).duplicate_of == ahead

    lapsed = ExistingPeriod(4, date(2025, 1, 1), date(2025, 12, 31))
    fresh = plan_period(ON, 3, [lapsed])
    assert fresh.start == ON and not fresh.renewal


def test_typed_answers_in_the_guided_flow() -> None:
    draft = EnrolmentDraft()
    draft = apply_typed_answer(draft, Step.SCHEME, "bhxh tự nguyện")
    assert draft.scheme == Scheme.BHXH_VOLUNTARY
    draft = apply_typed_answer(draft, Step.NAME, "lò thị mai")
    draft = apply_typed_answer(draft, Step.CODE, "8423 006 666")
    draft = apply_typed_answer(draft, Step.MONTHS, "hằng tháng")
    assert (draft.name, draft.code, draft.months) == ("Lò Thị Mai", "8423006666", 1)
    with pytest.raises(InputError) as err:
        apply_typed_answer(draft, Step.GROUP, "cận nghèo", frozenset({"khac"}))
    assert err.value.key == "group_unclear"
    draft = apply_typed_answer(draft, Step.GROUP, "hộ cận nghèo", frozenset({"khac", "can_ngheo"}))
    draft = apply_typed_answer(draft, Step.INCOME, "1tr5")
    assert apply_typed_answer(draft, Step.RELATIVE, "Có ạ").is_relative is True
    assert apply_typed_answer(draft, Step.RELATIVE, "không phải").is_relative is False
    with pytest.raises(InputError):
        apply_typed_answer(draft, Step.RELATIVE, "có lẽ")
    assert apply_typed_answer(draft, Step.PAID, "300k").amount_paid == 300_000
    with pytest.raises(InputError) as err:
        apply_typed_answer(draft, Step.NAME, "x" * 10_000)
    assert err.value.key == "too_long"
    assert next_step(draft, expected=198_000) == Step.RELATIVE


@pytest.mark.parametrize(
    "text",
    ["xin chào", "Xin chào bạn!", "chào em", "hello", "hi bot", "Alo", "menu", "giúp tôi với", "hướng dẫn",
     "BHYT hộ gia đình 3 người bao nhiêu?", "đóng bhxh tự nguyện 2 triệu", "bao nhiêu tiền 1 năm",
     "bảo hiểm y tế mấy tiền"],
)
def test_greetings_and_cost_questions_are_not_names(text: str) -> None:
    from bot.domain.enrolment import is_not_a_name

    assert is_not_a_name(text)


@pytest.mark.parametrize(
    "text",
    ["Nguyễn Văn An", "Trần Thị Chào", "Lò Văn Hi", "Hồ Gia Định", "Nguyễn Thị Bảo Hiền", "Chị Hương",
     "Anh Dũng", "", "😀😀", "x" * 10_000],
)
def test_names_with_chat_words_stay_names(text: str) -> None:
    from bot.domain.enrolment import is_not_a_name

    assert not is_not_a_name(text)


def test_a_draft_expires_after_the_timeout() -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.domain.enrolment import DRAFT_TIMEOUT, draft_expired

    saved = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert not draft_expired(saved.isoformat(), saved + DRAFT_TIMEOUT)
    assert draft_expired(saved.isoformat(), saved + DRAFT_TIMEOUT + timedelta(seconds=1))
    # Saved before drafts carried a time, or garbled: as old as can be.
    assert draft_expired(None, saved) and draft_expired("yesterday", saved)
    assert draft_expired("2026-11-23T09:00:00", saved)  # naive: cannot be compared, dropped
