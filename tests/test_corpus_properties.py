"""Never a silent guess, as a property: a valid cost question plus one clause the bot may not
use (a stray number, a second date, a group word, "2 người đã có thẻ", another insurance)
never gets a figure for the question without that clause. The outcome is either an Ask that
says what was understood ("Mình hiểu ..."), or an Answer whose draft reflects the clause."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.cost import Answer, Ask, CostDialogue, Scheme
from bot.chat.rich import to_html
from bot.chat.texts import cost as replies
from bot.domain.campaigns import CampaignBook
from bot.domain.rates import RateBook
from bot.parsing import questions as textparse

TODAY = date(2026, 11, 23)
DIALOGUE = CostDialogue(RateBook.load(), CampaignBook.load(), replies.LABELS)

HOUSEHOLD = st.builds(
    lambda t, n, m: ("h", t.format(n=n, m=m), n),
    st.sampled_from([
        "bhyt hộ gia đình {n} người {m} tháng", "bhyt ho gia dinh {n} nguoi {m} thang",
        "mua bhyt cho {n} ng {m} th", "thẻ bhyt cả nhà {n} khẩu {m} tháng",
    ]),
    st.integers(3, 6),
    st.sampled_from([3, 6, 12]),
)
VOLUNTARY = st.builds(
    lambda t, amount, group, m: ("v", t.format(a=amount, g=group, m=m), None),
    st.sampled_from(["bhxh tự nguyện {a} {g} {m}", "đóng bhxh tn mức {a}, {g}, {m}"]),
    st.sampled_from(["2tr", "1,5 triệu", "3 củ", "2.000.000 đ", "4 triệu 2", "1tr5"]),
    st.sampled_from(["hộ nghèo", "cận nghèo", "người dân bình thường", "dân tộc thiểu số"]),
    st.sampled_from(["hằng tháng", "12 tháng", "6 tháng"]),
)
SUPPORTED = st.builds(
    lambda g, m: ("s", f"bhyt {g} {m} tháng", None),
    st.sampled_from(["cận nghèo", "học sinh", "hộ nông lâm ngư nghiệp có mức sống trung bình"]),
    st.sampled_from([3, 6, 12]),
)
BASE = st.one_of(HOUSEHOLD, VOLUNTARY, SUPPORTED)

STRAY_NUMBER = st.builds(
    lambda n, form: ("number", form.format(n=n)),
    st.integers(1, 9_999_999_999),
    st.sampled_from(["{n}", "số {n}", "mã {n}", "sđt {n}"]),
)
DATE = st.builds(
    lambda d: ("date", d.strftime("%d/%m/%Y")),
    st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31)),
)
GROUP_WORD = st.sampled_from([("group", w) for w in ("hộ cận nghèo", "học sinh", "hộ nghèo", "xã đảo")])
COVERED = st.integers(1, 2).map(lambda c: ("covered", f"{c} người đã có thẻ rồi"))
OTHER_INSURANCE = st.sampled_from([("other", w) for w in ("bảo hiểm xe máy", "bảo hiểm nhân thọ")])
CLAUSE = st.one_of(STRAY_NUMBER, DATE, GROUP_WORD, COVERED, OTHER_INSURANCE)


def _reflects(kind: str, clause: str, scheme_kind: str, members: int | None, answer: Answer) -> bool:
    """Does the answer use the clause? (a figure for a different question otherwise)"""
    draft = answer.draft
    if kind == "date":
        return answer.on.strftime("%d/%m/%Y") == clause
    if kind == "group":
        key = textparse.parse_bhyt_group(clause) if draft.scheme != Scheme.BHXH_VOLUNTARY else textparse.parse_bhxh_group(clause)
        if key is None or draft.group is None:
            return False
        # several groups named: the most favourable support applies (DOMAIN §3.3, §3.4)
        rates = DIALOGUE.rates.at(answer.on)
        table = rates.bhxh_voluntary.support if draft.scheme == Scheme.BHXH_VOLUNTARY else rates.bhyt_support.groups
        if draft.group == key:
            return True
        # a group the rate book lacks on that date (a newer key) supports nothing yet
        other = table[key].percent if key in table else 0
        return table[draft.group].percent >= other
    if kind == "covered":
        count = int(clause.split()[0])
        return draft.covered == count and members is not None and draft.members == members - count
    return False  # a stray number or another insurance is never part of a cost


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE, CLAUSE, st.booleans())
def test_an_unused_clause_never_gets_a_silent_figure(base: tuple[str, str, int | None], clause: tuple[str, str], before: bool) -> None:
    scheme_kind, question, members = base
    kind, words = clause
    text = f"{words}, {question}" if before else f"{question}, {words}"
    outcome = DIALOGUE.respond(textparse.parse_question(text, TODAY), TODAY)
    if isinstance(outcome, Answer):
        assert _reflects(kind, words, scheme_kind, members, outcome), (text, outcome.draft)
        assert to_html(replies.answer_text(outcome)).startswith("<i>Tính cho: ")
    else:
        assert isinstance(outcome, Ask), (text, outcome)
        shown = replies.ask_text(outcome, DIALOGUE.rates.at(outcome.draft.on or TODAY)).plain
        assert "Mình hiểu" in shown or outcome.refused is not None or outcome.field == "group", (text, shown)
        assert "Tổng" not in shown and "Bạn đóng" not in shown


@settings(max_examples=200, deadline=None)
@given(BASE)
def test_the_valid_questions_themselves_get_a_figure(base: tuple[str, str, int | None]) -> None:
    """The property above is not vacuous: without the clause the same questions are answered."""
    _, question, _ = base
    outcome = DIALOGUE.respond(textparse.parse_question(question, TODAY), TODAY)
    assert isinstance(outcome, Answer), (question, outcome)


# --- the review's families, generalised -----------------------------------------------------

NEGATED_GROUP = st.builds(
    lambda neg, words_key: (f"{neg} {words_key[0]}", words_key[1]),
    st.sampled_from(["ko phải", "không phải", "không thuộc", "hết", "không còn là",
                     # as typed (second review): "k", "hông", "đâu", "chẳng", not yet recognised, former
                     "k phải", "hông phải", "đâu phải", "chẳng phải", "chưa được công nhận", "trước là",
                     "trước đây là"]),
    st.sampled_from([
        ("hộ cận nghèo", {"can_ngheo"}), ("hộ nghèo", {"ngheo"}), ("sinh viên", {"hoc_sinh"}),
        ("học sinh", {"hoc_sinh"}), ("dân tộc", {"dtts", "dtts_vung_kho", "dtts_vung_thoat_kho"}),
        ("người dân tộc thiểu số", {"dtts", "dtts_vung_kho", "dtts_vung_thoat_kho"}),
    ]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE, NEGATED_GROUP, st.booleans())
def test_a_negated_group_is_never_applied(
    base: tuple[str, str, int | None], negated: tuple[str, set[str]], before: bool
) -> None:
    """"ko phải hộ cận nghèo, bhyt ...": the negated group never prices the answer, nor any
    button of the ask (unless the base question itself names that group positively)."""
    _, question, _ = base
    words, keys = negated
    text = f"{words}, {question}" if before else f"{question}, {words}"
    outcome = DIALOGUE.respond(textparse.parse_question(text, TODAY), TODAY)
    named = {textparse.parse_bhyt_group(question), textparse.parse_bhxh_group(question)}
    if named & keys:
        return  # the same group said and unsaid: covered by the unclear-negation corpus cases
    if isinstance(outcome, Answer):
        assert outcome.draft.group not in keys, (text, outcome.draft)
    else:
        assert isinstance(outcome, Ask), (text, outcome)
        assert outcome.draft.group not in keys, (text, outcome.draft)


RELATIVE = st.sampled_from([
    ("ngày mai", date(2026, 11, 24)), ("mai", date(2026, 11, 24)), ("tuần sau", date(2026, 11, 30)),
    ("tháng sau", date(2026, 12, 1)), ("sang năm", date(2027, 1, 1)), ("năm sau", date(2027, 1, 1)),
    ("từ năm sau", date(2027, 1, 1)), ("năm ngoái", None),
    # past or vague days name no day the bot may assume: always asked
    ("hôm qua", None), ("hôm kia", None), ("tuần trước", None), ("tháng trước", None),
    ("sau tết", None), ("tháng giêng", None), ("cuối năm", None), ("cuối tháng", None),
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE, RELATIVE, st.booleans())
def test_a_relative_date_is_used_or_asked(
    base: tuple[str, str, int | None], relative: tuple[str, date | None], before: bool
) -> None:
    """A relative date word is never dropped: the answer is for that day (from the injected
    today, 23/11/2026), or the bot asks. "Năm ngoái" names no day: always asked."""
    _, question, _ = base
    words, day = relative
    text = f"{words} {question}" if before else f"{question} {words}"
    outcome = DIALOGUE.respond(textparse.parse_question(text, TODAY), TODAY)
    if isinstance(outcome, Answer):
        assert day is not None and outcome.on == day, (text, outcome.on)
    else:
        assert isinstance(outcome, Ask), (text, outcome)
        assert day is None or outcome.draft.on in (day, None), (text, outcome.draft)
        if day is None:
            assert outcome.reason == "unused", (text, outcome)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VOLUNTARY, st.integers(1900, 2100), st.sampled_from(["năm {y}", "sinh năm {y}", "từ {y}", "từ năm {y}"]), st.booleans())
def test_a_year_is_never_an_income_nor_months(
    base: tuple[str, str, int | None], year: int, form: str, before: bool
) -> None:
    """"năm 2027", "sinh năm 1970": a year is a year (a later one the pricing date, a past one
    or a birth year never the income, the months or the date of a figure)."""
    _, question, _ = base
    words = form.format(y=year)
    text = f"{words}, {question}" if before else f"{question}, {words}"
    parsed = textparse.parse_question(text, TODAY)
    assert parsed.income != year and parsed.months != year, (text, parsed)
    assert parsed.income is None or parsed.income >= 1_000_000, (text, parsed)
    if parsed.on is not None:
        assert not form.startswith("sinh") and year > TODAY.year, (text, parsed)
        assert parsed.on == date(year, 1, 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE, st.sampled_from(["em tên Mai", "chị Mai hỏi", "nhà ở Hoa Mai", "mãi mới hỏi", "tên em là Mai"]), st.booleans())
def test_a_name_or_mai_is_never_tomorrow(base: tuple[str, str, int | None], words: str, before: bool) -> None:
    """"Mai" as a name or place and "mãi" (forever) never move the pricing date."""
    _, question, _ = base
    text = f"{words}, {question}" if before else f"{question}, {words}"
    parsed = textparse.parse_question(text, TODAY)
    assert parsed.on is None, (text, parsed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from([3, 6, 12]),
       st.sampled_from(["{a} người à nhầm, {b} người", "{a} người, ý là {b} người", "không phải {a} người mà {b} người",
                        "{a} người. À quên, {b} người"]))
def test_a_corrected_count_is_the_one_used(first: int, second: int, months: int, form: str) -> None:
    """A value corrected in the same message is never priced with its superseded value."""
    text = f"bhyt hộ gia đình {form.format(a=first, b=second)} {months} tháng"
    outcome = DIALOGUE.respond(textparse.parse_question(text, TODAY), TODAY)
    if isinstance(outcome, Answer):
        assert outcome.draft.members == second, (text, outcome.draft)
    else:
        assert isinstance(outcome, Ask) and outcome.draft.members in (second, None), (text, outcome)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE, st.integers(1, 24), st.sampled_from(["-{n} tháng", "-{n} người", "−{n} tháng", "- {n} tháng"]))
def test_a_negative_count_is_never_its_digits(base: tuple[str, str, int | None], n: int, form: str) -> None:
    """"-3 tháng": never priced as 3 months (nor 3 people)."""
    _, question, _ = base
    text = f"{question} {form.format(n=n)}"
    outcome = DIALOGUE.respond(textparse.parse_question(text, TODAY), TODAY)
    assert isinstance(outcome, Ask), (text, outcome)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.sampled_from([3, 6, 12]), st.sampled_from(["{n} người {m} tháng", "{n} ng {m} th", "{n} người, {m} tháng ạ"]))
def test_a_typed_answer_keeps_every_value_it_states(n: int, m: int, form: str) -> None:
    """Typed to "mấy người?": "3 người 6 tháng" fills both fields, never drops the months."""
    from bot.chat.cost import CostDraft, apply_typed_answer

    draft = CostDraft(scheme=Scheme.BHYT_HOUSEHOLD)
    filled = apply_typed_answer(draft, "members", form.format(n=n, m=m), TODAY)
    assert filled is not None and filled.members == n and filled.months == m, (form, filled)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["hạn thẻ", "thẻ hạn tới", "thẻ còn hạn đến", "hạn đến", "hết hạn vào", "thẻ hết hạn"]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 6, 30)),
    st.sampled_from(["bhyt hộ gia đình 2 người 12 tháng", "bhyt cận nghèo 6 tháng"]),
)
def test_a_card_date_is_never_the_pricing_date(phrase: str, day: date, question: str) -> None:
    """A card's validity or expiry date never prices the answer, and "Thẻ cũ đã hết hạn" is
    said only for a date already past."""
    text = f"{question}, {phrase} {day.day}/{day.month}/{day.year}"
    outcome = DIALOGUE.respond(textparse.parse_question(text, TODAY), TODAY)
    assert isinstance(outcome, Answer), (text, outcome)
    assert outcome.on == TODAY, (text, outcome.on)
    shown = replies.answer_text(outcome).plain
    assert ("Thẻ cũ đã hết hạn" in shown) == (day < TODAY), (text, shown)
