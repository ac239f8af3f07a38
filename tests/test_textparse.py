"""Table-driven tests of free-text parsing: the phrasings people really type, with and
without diacritics, plus properties (never raises) on arbitrary input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.parsing.questions import (
    MAX_INPUT_CHARS,
    Intent,
    Question,
    normalize,
    parse_amount,
    parse_bhxh_group,
    parse_bhyt_group,
    parse_date,
    parse_int_choice,
    parse_members,
    parse_months,
    parse_question,
    place_key,
)

H = Intent.BHYT_HOUSEHOLD
S = Intent.BHYT_SUPPORTED
V = Intent.BHXH_VOLUNTARY


# --- normalize ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bảo Hiểm Y Tế", "bao hiem y te"),
        ("ĐÓNG   bhxh\ttự nguyện\n", "dong bhxh tu nguyen"),
        ("hộ cận nghèo", "ho can ngheo"),
        ("Đ đ", "d d"),
        # decomposed input (combining marks typed separately) gives the same result
        ("nghe\u0300o", "ngheo"),
        ("１２ tháng", "12 thang"),
        ("a\x00b", "a b"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


# --- amounts --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2tr", 2_000_000),
        ("2 tr", 2_000_000),
        ("2 triệu", 2_000_000),
        ("2 trieu", 2_000_000),
        ("2 TRIỆU", 2_000_000),
        ("1,5 triệu", 1_500_000),
        ("1.5tr", 1_500_000),
        ("3,5tr", 3_500_000),
        ("1tr5", 1_500_000),
        ("2tr5", 2_500_000),
        ("1tr500", 1_500_000),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1500000", 1_500_000),
        ("1500k", 1_500_000),
        ("800k", 800_000),
        ("800 nghìn", 800_000),
        ("800 ngàn", 800_000),
        ("800 nghin", 800_000),
        ("2 củ", 2_000_000),
        ("2 cu", 2_000_000),
        ("1.5 triệu đồng", 1_500_000),
        ("5.000.000đ", 5_000_000),
        ("5000000 vnd", 5_000_000),
        ("5.000.000 VNĐ", 5_000_000),
        ("2 triệu 500 nghìn", 2_500_000),
        ("2tr500k", 2_500_000),
        ("1 triệu rưỡi", 1_500_000),
        ("1,2345tr", 1_234_500),
        ("1,23456789tr", 1_234_568),  # 1.234.567,89 rounds half up
        ("0,0000005tr", 1),  # 0,5 đồng rounds half up
        ("1.500,5", 1_501),  # "," as the decimal mark after "." grouping
        ("mức 3,5tr/tháng", 3_500_000),
        ("lương 150000", 150_000),
        ("thu nhập: 2.000.000đ.", 2_000_000),
    ],
)
def test_parse_amount(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2",
        "12",
        "99999",  # bare and below 100.000
        "12 tháng",
        "3 người",
        "1,5",  # a decimal without a unit is not money
        "8423001234",  # a 10-digit BHXH code
        "0912345678",  # a phone number
        "ngày 10/03/2025",
        "3 đóng",
        "2 trăm",
        "0tr",
        "không có số nào",
        "🙂🙂🙂",
    ],
)
def test_parse_amount_none(text: str) -> None:
    assert parse_amount(text) is None


# --- whole questions ------------------------------------------------------------------------

# text, intent, members, months, income, group, on
QUESTIONS: list[tuple[str, Intent, int | None, int | None, int | None, str | None, date | None]] = [
    # the brief's phrasings
    ("bhyt hộ gia đình 3 người", H, 3, None, None, None, None),
    ("bhyt ho gia dinh 4 nguoi 6 thang", H, 4, 6, None, None, None),
    ("mua bảo hiểm y tế cho 2 người hết bao nhiêu", H, 2, None, None, None, None),
    ("bhxh tự nguyện 2 triệu", V, None, None, 2_000_000, None, None),
    ("dong bhxh tu nguyen muc 3,5tr ho can ngheo 12 thang", V, None, 12, 3_500_000,
     "can_ngheo", None),
    ("đóng bhxh tự nguyện 3tr, tôi là người dân tộc thiểu số, đóng hằng tháng", V, None, 1,
     3_000_000, "dtts", None),
    ("bhxh tu nguyen 800k", V, None, None, 800_000, None, None),
    # household BHYT, many spellings
    ("BHYT HGĐ 5 khẩu 12 tháng", H, 5, 12, None, None, None),
    ("bhyt hgd 5 khau 12t", H, 5, 12, None, None, None),
    ("thẻ bhyt cả nhà 4 thành viên, 1 năm", H, 4, 12, None, None, None),
    ("the y te gia dinh ba nguoi nua nam", H, 3, 6, None, None, None),
    ("bh y tế 3 ng 6 th", H, 3, 6, None, None, None),
    ("bảo hiểm y tế hộ gia đình năm người cả năm", H, 5, 12, None, None, None),
    ("bhyt 2 người 1 quý", H, 2, 3, None, None, None),
    ("Bhyt hộ gia đình 3 người ngày 10/03/2025", H, 3, None, None, None, date(2025, 3, 10)),
    ("bhyt 3 nguoi 12 thang tu 01/07/2026", H, 3, 12, None, None, date(2026, 7, 1)),
    ("bhyt 3 người 12 tháng 31/02/2026", H, 3, 12, None, None, None),  # invalid date
    ("bhyt ho gia dinh 6 nguoi 6 thang ngay 23-11-2026", H, 6, 6, None, None,
     date(2026, 11, 23)),
    ("  BHYT!!!  hộ   gia đình,,, 3 NGƯỜI 🙏🙏 ", H, 3, None, None, None, None),
    ("gia đình tôi có 4 người thì đóng bao nhiêu", H, 4, None, None, None, None),
    ("mua bảo hiểm cho 2 người", H, 2, None, None, None, None),
    ("bhyt mười hai tháng cho hai người", H, 2, 12, None, None, None),
    ("bhyt 3 người đóng hàng tháng", H, 3, None, None, None, None),  # no monthly BHYT
    # supported BHYT groups
    ("bhyt cận nghèo 6 tháng", S, None, 6, None, "can_ngheo", None),
    ("bhyt ho can ngheo", S, None, None, None, "can_ngheo", None),
    ("thẻ bhyt hộ nghèo", S, None, None, None, "ngheo", None),
    ("bhyt hoc sinh 12 thang", S, None, 12, None, "hoc_sinh", None),
    ("bảo hiểm y tế sinh viên", S, None, None, None, "hoc_sinh", None),
    ("bhyt cho sv 1 năm", S, None, 12, None, "hoc_sinh", None),
    ("bhyt hộ nông lâm ngư nghiệp có mức sống trung bình", S, None, None, None,
     "nong_lam_ngu_diem", None),
    # an ethnic minority is free or 70 % depending on the commune: no group until asked
    ("bhyt dan toc thieu so 3 thang", S, None, 3, None, None, None),
    ("bhyt dtts xã đã thoát khó 3 thang", S, None, 3, None, "dtts_vung_thoat_kho", None),
    ("bhyt dtts vùng đặc biệt khó khăn", S, None, None, None, "dtts_vung_kho", None),
    ("bhyt trẻ em dưới 6 tuổi", S, None, None, None, "tre_em_duoi_6", None),
    ("bhyt nhân viên y tế thôn bản 6 tháng", S, None, 6, None, "y_te_thon", None),
    ("bhyt bảo trợ xã hội", S, None, None, None, "bao_tro_xa_hoi", None),
    ("hoc sinh dong bao nhieu", S, None, None, None, "hoc_sinh", None),
    # voluntary BHXH
    ("BHXH TN 1.500.000 hộ nghèo", V, None, None, 1_500_000, "ngheo", None),
    ("bhxhtn 5tr can ngheo 12 thang", V, None, 12, 5_000_000, "can_ngheo", None),
    ("bảo hiểm xã hội tự nguyện mức 2 củ mỗi tháng", V, None, 1, 2_000_000, None, None),
    ("bhxh 2tr", V, None, None, 2_000_000, None, None),
    ("bhxh 1500000 người dân bình thường", V, None, None, 1_500_000, "khac", None),
    ("muốn có lương hưu thì đóng bao nhiêu", V, None, None, None, None, None),
    ("bhxh tu nguyen 1tr5 theo quy", V, None, 3, 1_500_000, None, None),
    ("đóng bhxh tự nguyện 1 năm 3 triệu", V, None, 12, 3_000_000, None, None),
    ("bhxh tự nguyện 5.000.000đ, 6 tháng, 01/07/2026", V, None, 6, 5_000_000, None,
     date(2026, 7, 1)),
    ("bhxh tự nguyện thu nhập 2tr, hằng tháng", V, None, 1, 2_000_000, None, None),
    # help, greeting, unknown
    ("?", Intent.HELP, None, None, None, None, None),
    ("help", Intent.HELP, None, None, None, None, None),
    ("Hướng dẫn", Intent.HELP, None, None, None, None, None),
    ("tro giup", Intent.HELP, None, None, None, None, None),
    ("Xin chào!", Intent.GREETING, None, None, None, None, None),
    ("alo", Intent.GREETING, None, None, None, None, None),
    ("hi", Intent.GREETING, None, None, None, None, None),
    ("chào bạn, bhyt 3 người", H, 3, None, None, None, None),
    ("thời tiết hôm nay thế nào", Intent.UNKNOWN, None, None, None, None, None),
    ("bhtn 2tr", Intent.OFF_TOPIC, None, None, None, None, None),  # unemployment insurance
    ("", Intent.UNKNOWN, None, None, None, None, None),
    ("🙂🙂🙂", Intent.UNKNOWN, None, None, None, None, None),
]


@pytest.mark.parametrize(
    ("text", "intent", "members", "months", "income", "group", "on"),
    QUESTIONS,
    ids=[q[0] or "<empty>" for q in QUESTIONS],
)
def test_parse_question(
    text: str,
    intent: Intent,
    members: int | None,
    months: int | None,
    income: int | None,
    group: str | None,
    on: date | None,
) -> None:
    q = parse_question(text)
    fields = {"intent", "members", "months", "income", "group", "on"}
    assert q.model_dump(include=fields) == Question(
        intent=intent, members=members, months=months, income=income, group=group, on=on
    ).model_dump(include=fields)
    # nothing found in these questions is left unused, except where listed
    assert q.unused == UNUSED_IN.get(text, ())


# Questions of QUESTIONS holding something the parse cannot use: the dialogue must ask.
UNUSED_IN: dict[str, tuple[str, ...]] = {
    "bhyt 3 người 12 tháng 31/02/2026": ("31/02/2026",),
}


def test_question_is_frozen() -> None:
    q = parse_question("bhyt 3 người")
    with pytest.raises(ValidationError):
        q.members = 4  # type: ignore[misc]


def test_months_not_confused_with_dates() -> None:
    assert parse_question("bhyt 3 người tháng 12").months is None
    assert parse_question("bhyt tháng 5 năm 2026").months is None
    assert parse_question("bhyt 3 người 01/12/2026").months is None
    assert parse_question("bhyt 4 người từ tháng 7/2026").months is None  # "từ", not "tư" (4)
    assert parse_question("bhyt 4 người từ tháng 7/2026").members == 4


# --- follow-up answers ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 người", 3), ("3 nguoi", 3), ("4 thành viên", 4), ("5 khẩu", 5), ("3 ng", 3),
        ("ba người", 3), ("bốn người", 4), ("tư người", 4), ("năm người", 5), ("sáu người", 6),
        ("bay nguoi", 7), ("mười người", 10), ("một mình tôi", 1),
        ("3", None), ("năm 2026", None), ("sau này", None), ("", None),
    ],
)
def test_parse_members(text: str, expected: int | None) -> None:
    assert parse_members(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 tháng", 12), ("12 thang", 12), ("12t", 12), ("6 th", 6), ("3 tháng", 3),
        ("1 năm", 12), ("một năm", 12), ("1 nam", 12), ("2 năm", 24), ("nửa năm", 6),
        ("nua nam", 6), ("1/2 năm", 6), ("quý", 3), ("1 quý", 3), ("2 quý", 6), ("cả năm", 12),
        ("hằng tháng", 1), ("hàng tháng", 1), ("mỗi tháng", 1), ("hang thang", 1),
        ("moi thang", 1), ("theo tháng", 1), ("1 tháng", 1), ("sáu tháng", 6),
        ("12", None), ("tháng 12", None), ("sau tháng 7", None), ("năm 2026", None),
        ("5 tuổi", None), ("", None),
    ],
)
def test_parse_months(text: str, expected: int | None) -> None:
    assert parse_months(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3), (" 12 ", 12), ("3 người", 3), ("12 tháng", 12), ("12t", 12), ("ba", 3),
        ("3 ạ", 3), ("6 thang nhe", 6), ("3.", 3), ("👍 3", 3),
        ("3tr", None), ("năm 2026", None), ("1234", None), ("abc", None), ("", None),
    ],
)
def test_parse_int_choice(text: str, expected: int | None) -> None:
    assert parse_int_choice(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cận nghèo", "can_ngheo"), ("can ngheo", "can_ngheo"), ("hộ nghèo", "ngheo"),
        ("ho ngheo", "ngheo"), ("học sinh", "hoc_sinh"), ("sinh vien", "hoc_sinh"),
        ("hs", "hoc_sinh"), ("nông nghiệp mức sống trung bình", "nong_lam_ngu_diem"),
        ("diêm nghiệp", "nong_lam_ngu_diem"), ("dân tộc thiểu số", None),
        ("dtts", None), ("người dân tộc", None),  # free or 70 %: the commune decides, ask
        ("dtts xã đã thoát khỏi vùng khó khăn", "dtts_vung_thoat_kho"),
        ("dtts vùng khó khăn", "dtts_vung_kho"), ("y tế thôn", "y_te_thon"),
        ("cán bộ thôn", "y_te_thon"), ("trẻ em dưới 6 tuổi", "tre_em_duoi_6"),
        ("bảo trợ xã hội", "bao_tro_xa_hoi"),
        ("học sinh hộ cận nghèo", "can_ngheo"),  # the more generous support applies
        ("không biết", None), ("", None),
    ],
)
def test_parse_bhyt_group(text: str, expected: str | None) -> None:
    assert parse_bhyt_group(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hộ nghèo", "ngheo"), ("ngheo", "ngheo"), ("cận nghèo", "can_ngheo"),
        ("hộ cận nghèo", "can_ngheo"), ("dân tộc thiểu số", "dtts"), ("dtts", "dtts"),
        ("người dân tộc", "dtts"), ("người dân", "khac"), ("bình thường", "khac"),
        ("khác", "khac"), ("đối tượng khác", "khac"),
        ("cận nghèo, dân tộc", "can_ngheo"),  # the highest support level wins
        ("đã thoát nghèo", None), ("", None),
    ],
)
def test_parse_bhxh_group(text: str, expected: str | None) -> None:
    assert parse_bhxh_group(text) == expected


# --- robustness -----------------------------------------------------------------------------

HOSTILE = [
    "1." * 5_000,
    "1," * 5_000,
    "1" * 10_000,
    "9" * 400 + "tr",
    "bhyt " * 2_000,
    "a" * 10_000,
    " " * 10_000,
    "\x00\x01\x02\x1b[31m\u200b\u202e\ufeff",
    "🙂" * 3_000,
    "tr" * 5_000,
    "1tr" * 3_000,
    "muoi " * 2_000 + "nguoi",
    "1/" * 5_000,
    "\ud800",  # a lone surrogate
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_are_safe(text: str) -> None:
    for parser in (parse_question, parse_amount, parse_months, parse_members,
                   parse_int_choice, parse_bhyt_group, parse_bhxh_group, normalize):
        parser(text)


def test_only_the_first_characters_are_read() -> None:
    tail = " bhyt 3 người"
    assert parse_question("x" * MAX_INPUT_CHARS + tail).intent == Intent.UNKNOWN


def test_non_string_input_does_not_raise() -> None:
    assert parse_question(None).intent == Intent.UNKNOWN  # type: ignore[arg-type]
    assert parse_amount(12) is None  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2_000))
def test_parse_question_never_raises(text: str) -> None:
    q = parse_question(text)
    assert isinstance(q, Question)


_VIET_ALPHABET = "0123456789.,/- trieukngihcuđồộậngườithángămquýbhytxhdtsv?🙂"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_VIET_ALPHABET, max_size=600))
def test_parsers_never_raise_on_near_miss_text(text: str) -> None:
    """Text made of the pieces the patterns look for, to reach the deeper branches."""
    parse_question(text)
    amount = parse_amount(text)
    assert amount is None or amount > 0
    months = parse_months(text)
    assert months is None or 1 <= months <= 120
    parse_members(text)
    parse_int_choice(text)


# --- what citizens really type (issue 11) ---------------------------------------------------

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tính theo tháng 8/2024", date(2024, 8, 1)),
        ("ngày 2 tháng 1 năm 2026", date(2026, 1, 2)),
        ("10/10/25", date(2025, 10, 10)),
        ("hồi đầu năm 2025", date(2025, 1, 1)),
        ("từ tháng 7 năm nay", date(2026, 7, 1)),
        ("cuối năm ngoái", date(2025, 12, 1)),
        ("tháng 5 năm 2026", date(2026, 5, 1)),
        ("31/02/2026", None),
        ("năm 2025", None),  # a year alone is no date: the dialogue asks
    ],
)
def test_parse_date_forms(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY) == expected


def test_relative_dates_need_today() -> None:
    assert parse_date("từ tháng 7 năm nay") is None
    assert parse_question("bhyt 3 người 12 tháng từ tháng 7 năm nay").unused == ("tháng 7 năm nay",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 triệu 2", 4_200_000), ("1 triệu 6", 1_600_000), ("hai triệu rưỡi", 2_500_000),
        ("3 củ", 3_000_000), ("2.000.000 đ", 2_000_000), ("2 000 000", 2_000_000),
        ("1tr5", 1_500_000), ("800k", 800_000), ("mười lăm triệu", 15_000_000),
        ("2 triệu 500", 2_500_000), ("4 triệu 2, hộ nghèo", 4_200_000),
        ("2 triệu 6 tháng", 2_000_000),  # "6 tháng" is the period, not 2,6 triệu
    ],
)
def test_spoken_amounts(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "members", "covered"),
    [
        ("nhà 6 người, 2 người có thẻ hộ nghèo rồi, mua cho mấy người còn lại 6 tháng", 4, 2),
        ("gia đình 5 người, 1 người đã có thẻ bhyt học sinh, mua bhyt cho số còn lại", 4, 1),
        ("nhà có 4 người, 2 ng có bhyt công ty rồi, mua bhyt cho những người còn lại", 2, 2),
    ],
)
def test_members_who_already_have_a_card_are_not_counted(text: str, members: int, covered: int) -> None:
    q = parse_question(text, TODAY)
    assert (q.intent, q.members, q.covered, q.unused) == (H, members, covered, ())


def test_a_covered_clause_without_a_household_total_is_not_guessed() -> None:
    q = parse_question("mua bhyt cho 4 người 12 tháng, 2 người có thẻ rồi", TODAY)
    assert q.members == 4 and q.covered is None and q.unused == ("2 người đã có thẻ",)


def test_children_are_reported_not_silently_counted() -> None:
    q = parse_question("2 vợ chồng với 3 đứa nhỏ", TODAY)
    assert (q.intent, q.members, q.children, q.adults) == (H, 5, 3, 2)


@pytest.mark.parametrize("name", ["Ê Đê", "Chăm", "Khmer", "Tày", "H'Mông", "Gia Rai", "Xơ Đăng"])
def test_ethnic_group_names(name: str) -> None:
    assert parse_bhxh_group(f"tôi là người {name}") == "dtts"
    q = parse_question(f"bhyt cho người {name} 3 tháng", TODAY)
    assert (q.intent, q.group, q.ethnic) == (S, None, True)


@pytest.mark.parametrize("text", ["tây ninh", "người thái bình", "xã đảo", "chăm chỉ"])
def test_places_and_words_are_not_ethnic_groups(text: str) -> None:
    assert parse_bhxh_group(text) != "dtts"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("bảo hiểm nhân thọ cho 3 người", "nhan_tho"), ("bhxh bắt buộc 6tr", "bat_buoc"),
        ("bảo hiểm xe máy bao nhiêu", "xe"), ("bảo hiểm thất nghiệp", "that_nghiep"),
    ],
)
def test_off_topic_insurance(text: str, topic: str) -> None:
    q = parse_question(text, TODAY)
    assert (q.intent, q.topic, q.members) == (Intent.OFF_TOPIC, topic, None)


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("bhyt cận nghẹo", "can_ngheo"), ("bhyt hoc xinh", "hoc_sinh"), ("bhyt can ngeo", "can_ngheo"),
        ("bhyt dân quân", "dan_quan"), ("bhyt người 75 tuổi hưởng tuất", "nguoi_75_tuat"),
        ("bhyt hưu trí xã hội", "huu_tri_xa_hoi"), ("bhyt nạn nhân mua bán người", "nan_nhan_mua_ban_nguoi"),
        ("con em 2 tuổi mua bhyt bn", "tre_em_duoi_6"),
    ],
)
def test_groups_as_people_name_them(text: str, group: str) -> None:
    q = parse_question(text, TODAY)
    assert (q.intent, q.group, q.unused) == (S, group, ())


def test_teencode() -> None:
    q = parse_question("cho mk hoi bhyt 2 ng 6 th het bn", TODAY)
    assert (q.intent, q.members, q.months) == (H, 2, 6)
    assert parse_question("bhxh tn 2tr ko thuoc dien gi hang thang", TODAY).group == "khac"
    assert parse_question("bhyt ko phai ho ngheo 3 nguoi 12 thang", TODAY).group is None


@pytest.mark.parametrize(
    ("text", "key"),
    [("Tỉnh An Giang", "angiang"), ("ở an giang", "angiang"), ("TP Long Xuyên", "longxuyen"),
     ("Cà Mau", "camau"), ("không biết", None)],
)
def test_place_key(text: str, key: str | None) -> None:
    assert place_key(text) == key


# --- the review's findings (issue 11 follow-up) ----------------------------------------------

REVIEW_DAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "intent", "group"),
    [
        ("ko phải hộ cận nghèo mua bhyt 12 tháng", H, None),
        ("nhà em hết hộ cận nghèo rồi, mua bhyt 1 người 12 tháng", H, None),
        ("không phải sinh viên, mua bhyt 12 tháng 1 người", H, None),
        ("ko phải dân tộc, đóng bhxh tự nguyện 2tr hằng tháng", V, "khac"),
        ("dân tộc Kinh đóng bhxh tự nguyện 2tr hằng tháng", V, "khac"),
        ("em dân tộc kinh, bhxh tn 3tr 1 tháng", V, "khac"),
        ("không phải hộ nghèo, là hộ cận nghèo, bhyt 12 tháng", S, "can_ngheo"),
    ],
)
def test_a_negated_group_is_never_the_group(text: str, intent: Intent, group: str | None) -> None:
    q = parse_question(text, REVIEW_DAY)
    assert (q.intent, q.group, q.unused) == (intent, group, ())


def test_an_unclear_negation_drops_the_group_and_is_reported() -> None:
    q = parse_question("chồng em là người dân tộc, em thì không, đóng bhxh tự nguyện 2tr hằng tháng cho em", REVIEW_DAY)
    assert q.group is None and q.unused and q.income == 2_000_000


def test_adults_and_children_are_added() -> None:
    q = parse_question("3 người lớn 2 trẻ em mua bảo hiểm y tế 12 tháng", REVIEW_DAY)
    assert (q.intent, q.members, q.adults, q.children, q.months) == (H, 5, 3, 2, 12)
    q = parse_question("2 vợ chồng với 3 đứa nhỏ mua bhyt 12 tháng", REVIEW_DAY)
    assert (q.members, q.adults, q.children) == (5, 2, 3)


@pytest.mark.parametrize(
    ("text", "today", "on"),
    [
        ("ngày mai đóng bhxh tự nguyện 1tr5 hằng tháng hộ nghèo", date(2026, 12, 31), date(2027, 1, 1)),
        ("tháng sau mới mua bhyt 1 người 12 tháng", date(2026, 6, 20), date(2026, 7, 1)),
        ("tháng sau mua bhyt 1 người 12 tháng", date(2026, 12, 5), date(2027, 1, 1)),
        ("tuần sau mua bhyt 1 người 12 tháng", date(2026, 11, 23), date(2026, 11, 30)),
        ("sang năm mua bhyt 1 người 12 tháng", date(2026, 11, 23), date(2027, 1, 1)),
        ("từ năm sau mua bhyt 1 người 12 tháng", date(2026, 11, 23), date(2027, 1, 1)),
        ("năm 2027 đóng bhxh tự nguyện 2 triệu hằng tháng", date(2026, 11, 23), date(2027, 1, 1)),
        ("từ 2027 đóng bhxh tự nguyện 2 triệu hằng tháng", date(2026, 11, 23), date(2027, 1, 1)),
    ],
)
def test_relative_dates_and_later_years_price_on_their_day(text: str, today: date, on: date) -> None:
    q = parse_question(text, today)
    assert q.on == on and q.unused == ()
    assert q.income is None or q.income >= 1_500_000


def test_a_past_year_or_last_year_is_reported_not_used() -> None:
    assert parse_question("năm ngoái mua bhyt 1 người 12 tháng", REVIEW_DAY).unused
    q = parse_question("năm 2025 đóng bhxh tự nguyện 2 triệu hằng tháng", REVIEW_DAY)
    assert q.on is None and q.income == 2_000_000 and q.unused


def test_three_months_later_is_a_count_not_next_month() -> None:
    assert parse_question("bhyt 1 người 6 tháng", REVIEW_DAY).on is None
    assert parse_question("bhyt hộ gia đình 1 người sáu tháng", REVIEW_DAY).months == 6


@pytest.mark.parametrize(
    "text",
    [
        "em sinh năm 2000 đóng bhxh tự nguyện 2 triệu hằng tháng",
        "sinh năm 1970 đóng bhxh tự nguyện 2 triệu hằng tháng",
        "em 25t đóng bhxh tự nguyện 2 triệu hằng tháng",
        "tôi 45 tuổi đóng bhxh tự nguyện 2 triệu hằng tháng",
    ],
)
def test_a_birth_year_or_an_age_is_neither_income_nor_months(text: str) -> None:
    q = parse_question(text, REVIEW_DAY)
    assert (q.income, q.months, q.on, q.unused) == (2_000_000, 1, None, ())


@pytest.mark.parametrize(
    ("text", "expired", "members"),
    [
        ("thẻ bhyt hết hạn tháng 5/2026 giờ mua lại 1 người 12 tháng", date(2026, 5, 1), 1),
        ("thẻ hết hạn từ 15/3/2026, nay gia hạn bhyt 2 người 12 tháng", date(2026, 3, 15), 2),
    ],
)
def test_a_card_expiry_date_is_not_the_payment_date(text: str, expired: date, members: int) -> None:
    q = parse_question(text, REVIEW_DAY)
    assert (q.on, q.expired, q.members, q.unused) == (None, expired, members, ())


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("người dtts xã thoát khó không ở An Giang bhyt 3 thang", None),
        ("bhyt dtts xã thoát khó 3 tháng quê An Giang, đang ở Cần Thơ", "cantho"),
        ("bhyt dtts xã thoát khó 3 tháng trước ở An Giang giờ chuyển lên Bình Dương", "binhduong"),
        ("bhyt dtts xã thoát khó 3 tháng ở Tân Châu, Tây Ninh", "tayninh"),
        ("bhyt dtts xã thoát khó 3 tháng ở Chợ Mới Bắc Kạn", "backan"),
        ("bhyt dtts xã thoát khó 3 tháng ở Tân Châu", None),
        ("bhyt dtts xã thoát khó 3 tháng ở Long Xuyên", "longxuyen"),
        ("bhyt dtts xã thoát khó 3 tháng ở Tân Châu, An Giang", "angiang"),
    ],
)
def test_the_area_is_where_the_person_lives_now(text: str, area: str | None) -> None:
    assert parse_question(text, date(2024, 11, 5)).area == area


def test_members_with_household_cards_are_marked() -> None:
    q = parse_question(
        "nhà 4 người, 2 người đã có thẻ bhyt hộ gia đình rồi, mua thêm cho 2 người còn lại 12 tháng", REVIEW_DAY
    )
    assert (q.members, q.covered, q.household_cards) == (2, 2, True)
    q = parse_question("nhà 4 người, 2 người có thẻ hộ nghèo rồi, mua cho 2 người còn lại 12 tháng", REVIEW_DAY)
    assert (q.members, q.covered, q.household_cards) == (2, 2, False)


def test_a_free_child_with_a_parent_keeps_the_parent() -> None:
    q = parse_question("con em 2 tuổi với em mua bhyt 12 tháng", REVIEW_DAY)
    assert (q.intent, q.members, q.months, q.free_child_adult) == (H, 1, 12, True)
    assert parse_question("con em 2 tuổi mua bhyt bn", REVIEW_DAY).group == "tre_em_duoi_6"


def test_a_student_of_an_ethnic_minority_is_asked() -> None:
    q = parse_question("sinh viên người dân tộc mua bhyt 1 năm", REVIEW_DAY)
    assert (q.intent, q.group, q.ethnic) == (S, "hoc_sinh", True)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("bảo hiểm tai nạn học sinh", "tai_nan"),
        ("bảo hiểm thân thể học sinh", "tai_nan"),
        ("bhyt bắt buộc công ty đóng mấy phần trăm", "bat_buoc"),
        ("ko bít mua bhyt ở đâu", "o_dau"),
    ],
)
def test_questions_that_are_not_a_cost(text: str, topic: str) -> None:
    q = parse_question(text, REVIEW_DAY)
    assert (q.intent, q.topic) == (Intent.OFF_TOPIC, topic)


def test_a_word_cut_at_the_length_limit_is_dropped_and_reported() -> None:
    head = "bhxh tự nguyện hộ nghèo hằng tháng "
    text = head + "." * (MAX_INPUT_CHARS - len(head) - 2) + " 2tr"
    q = parse_question(text, REVIEW_DAY)
    assert q.income is None and q.months == 1 and q.unused


def test_a_count_of_people_with_a_buying_word_is_a_household_question() -> None:
    # "mua", "đóng", "thẻ", "bao nhiêu", "hết" with a number of people and no scheme named:
    # BHYT hộ gia đình (the answer's "Tính cho" line shows that reading); a bare count is not.
    for text in ("3 người đóng 12 tháng", "4 nguoi mua the 6 thang", "2 người hết bao nhiêu"):
        assert parse_question(text).intent == Intent.BHYT_HOUSEHOLD, text
    assert parse_question("3 người").intent == Intent.UNKNOWN
