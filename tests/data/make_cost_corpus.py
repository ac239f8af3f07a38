"""Writes tests/data/cost_corpus.json: cost questions written the way citizens type them.

Run by hand (``python tests/data/make_cost_corpus.py``) after editing; the tests read only the
JSON. The expected figures come from the official tables typed below (DOMAIN §3.1-3.4: the
monthly amounts per household member, the support shares, the voluntary-BHXH support per month),
never from the bot's engine: a figure here is a table value times a number of months.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("cost_corpus.json")

# Days the questions are asked on (the injected "today").
NEW = "2026-11-23"  # base 2.530.000 đ, NĐ 188/2025 and NĐ 159/2025 in force
OLD = "2025-03-10"  # base 2.340.000 đ, NĐ 146/2018 and NĐ 134/2015
MID = "2025-09-15"  # base 2.340.000 đ, new support rules
CAMPAIGN = "2024-11-05"  # base 2.340.000 đ, seed 000 campaign AG-2024-11 running

# §3.2: monthly amount of the 1st, 2nd, 3rd, 4th, 5th+ household member, per base salary.
HOUSEHOLD_MONTH = {
    2_340_000: (105_300, 73_710, 63_180, 52_650, 42_120),
    2_530_000: (113_850, 79_695, 68_310, 56_925, 45_540),
}
# §3.3: 4,5 % of the base a month (a supported card's full monthly amount).
FULL_MONTH = {2_340_000: 105_300, 2_530_000: 113_850}
BASE = {NEW: 2_530_000, OLD: 2_340_000, MID: 2_340_000, CAMPAIGN: 2_340_000}
# §3.4: state support per month (share of 22 % x 1.500.000 = 330.000 đ).
VOLUNTARY_SUPPORT_NEW = {"ngheo": 165_000, "xa_dao_dac_khu": 165_000, "can_ngheo": 132_000,
                         "dtts": 99_000, "khac": 66_000}
VOLUNTARY_SUPPORT_OLD = {"ngheo": 99_000, "can_ngheo": 82_500, "dtts": 33_000, "khac": 33_000}

corpus: list[dict[str, Any]] = []


def household_total(base: int, members: int, months: int) -> int:
    ladder = HOUSEHOLD_MONTH[base]
    return sum(ladder[min(i, 4)] for i in range(members)) * months


def add(family: str, text: str, today: str, expect: str, **fields: Any) -> None:
    corpus.append({"family": family, "text": text, "today": today, "expect": expect, **fields})


def household(family: str, text: str, today: str, members: int, months: int, *,
              base: int | None = None, on: str | None = None, covered: int | None = None) -> None:
    total = household_total(base or BASE[today], members, months)
    extra: dict[str, Any] = {"members": members, "months": months, "total": total}
    if on:
        extra["on"] = on
    if covered:
        extra["covered"] = covered
    add(family, text, today, "answer", **extra)


# 1. households, many spellings
PLAIN = [
    "bhyt hộ gia đình {n} người {m} tháng",
    "bhyt ho gia dinh {n} nguoi {m} thang",
    "mua bhyt cho {n} ng {m} th hết bn",
    "thẻ bhyt cả nhà {n} khẩu {m} tháng",
    "bh y tế hgd {n} thành viên {m}t",
    "nhà mình {n} người mua bảo hiểm y tế {m} tháng hết bao nhiêu",
    "BHYT {n} NGUOI {m} THANG",
    "cho mik hỏi bhyt hộ gia đình {n} người đóng {m} tháng bao nhiêu ạ",
]
for template in PLAIN:
    for n in (1, 2, 3, 4, 5, 6):
        for m in (3, 6, 12):
            household("household", template.format(n=n, m=m), NEW, n, m)
for n in (1, 3, 6):
    household("household", f"bhyt hộ gia đình {n} người cả năm", NEW, n, 12)
    household("household", f"bhyt hộ gia đình {n} người nửa năm", NEW, n, 6)
    household("household", f"bhyt ho gia dinh {n} nguoi 1 quy", NEW, n, 3)
    household("household", f"bhyt hộ gia đình {n} người 12 tháng", OLD, n, 12)
for n in (7, 8, 10):
    household("household", f"bhyt hộ gia đình {n} người 12 tháng", NEW, n, 12)

# people named instead of counted: a couple is two people
for text, n, m in (("nhà có 2 ông bà già với vợ chồng tôi, mua bhyt 1 năm", 4, 12),
                   ("mình muốn mua bhyt cho bố mẹ 12 tháng", 2, 12),
                   ("bhyt cho 2 vợ chồng 12 tháng", 2, 12), ("vợ chồng tôi mua bhyt 6 tháng", 2, 6),
                   ("mua bhyt cho ông bà với bố mẹ 3 tháng", 4, 3)):
    household("household", text, NEW, n, m)

# 2. households with members who already have a card
COVERED = [
    "nhà {t} người, {c} người có thẻ hộ nghèo rồi, mua cho mấy người còn lại {m} tháng",
    "gia đình {t} người, {c} người đã có thẻ bhyt học sinh, mua bhyt cho số còn lại {m} tháng",
    "nhà có {t} người, {c} ng có bhyt công ty rồi, mua bhyt {m} tháng cho những người còn lại",
    "nha {t} nguoi, {c} nguoi co the huu roi, mua bhyt cho may nguoi con lai {m} thang",
]
for template in COVERED:
    for t, c in ((6, 2), (5, 1), (4, 2), (7, 3), (3, 1)):
        for m in (6, 12):
            household("household_covered", template.format(t=t, c=c, m=m), NEW, t - c, m, covered=c)

for t, c, m in ((5, 2, 12), (6, 1, 6), (4, 2, 3), (7, 2, 12)):
    household("household_covered",
              f"nhà {t} người trong đó {c} đứa có bhyt học sinh rồi, mua bhyt cho {t - c} người còn lại {m} tháng",
              NEW, t - c, m, covered=c)
    # the rest does not add up: asked, not guessed
    add("unused_clause",
        f"nhà {t} người trong đó {c} đứa có bhyt học sinh rồi, mua bhyt cho {t - c + 1} người còn lại {m} tháng",
        NEW, "ask", says=["Mình hiểu", "chưa dùng"])

# 3. households with children: under 6 / students have their own card, so the bot asks
CHILDREN = [
    ("2 vợ chồng với {k} đứa nhỏ mua bhyt {m} tháng", 2),
    ("vợ chồng tôi và {k} con muốn mua bhyt hộ gia đình {m} tháng", 2),
    ("bố mẹ với {k} bé, bhyt {m} tháng hết bn", 2),
    ("2 vợ chồng và {k} cháu mua bảo hiểm y tế {m} tháng", 2),
]
for template, adults in CHILDREN:
    for k in (1, 2, 3):
        for m in (6, 12):
            add("household_children", template.format(k=k, m=m), NEW, "ask",
                says=["Mình hiểu", f"{k} cháu", "dưới 6 tuổi"])

add("household_children", "bố mẹ và vợ chồng tôi với 2 đứa nhỏ bhyt 12 tháng", NEW, "ask",
    says=["Mình hiểu", "6 người", "2 cháu"])

# 4. dates in every common form
DATES = [
    ("tính theo tháng 8/2024", "2024-08-01", 2_340_000),
    ("ngày 2 tháng 1 năm 2026", "2026-01-02", 2_340_000),
    ("10/10/25", "2025-10-10", 2_340_000),
    ("hồi đầu năm 2025", "2025-01-01", 2_340_000),
    ("từ tháng 7 năm nay", "2026-07-01", 2_530_000),
    ("ngày 15/03/2025", "2025-03-15", 2_340_000),
    ("tháng 5 năm 2026", "2026-05-01", 2_340_000),
    ("cuối năm 2025", "2025-12-01", 2_340_000),
    ("1-6-2026", "2026-06-01", 2_340_000),
    ("1.7.2026", "2026-07-01", 2_530_000),
    ("tháng 6/2026", "2026-06-01", 2_340_000),
    ("đầu năm ngoái", "2025-01-01", 2_340_000),
    ("30/6/2026", "2026-06-30", 2_340_000),
]
for phrase, on, base in DATES:
    for n in (1, 2, 3, 4):
        household("dates", f"bhyt hộ gia đình {n} người 12 tháng {phrase}", NEW, n, 12, base=base, on=on)
# the old voluntary rule by date (DOMAIN §4 example 7)
for phrase, on in (("ngày 20/05/2025", "2025-05-20"), ("20/5/25", "2025-05-20"),
                   ("tháng 5/2025", "2025-05-01"), ("hồi đầu năm 2025", "2025-01-01")):
    add("dates", f"bhxh tu nguyen 1,5tr ho ngheo hang thang {phrase}", NEW, "answer",
        income=1_500_000, group="ngheo", months=1, on=on,
        monthly_net=330_000 - VOLUNTARY_SUPPORT_OLD["ngheo"])


def voluntary(family: str, text: str, today: str, income: int, group: str, months: int,
              support: dict[str, int], **extra: Any) -> None:
    net = income * 22 // 100 - support[group]
    add(family, text, today, "answer", income=income, group=group, months=months,
        monthly_net=net, period_net=net * months, **extra)


# 5. money as people say it
MONEY = [
    ("4 triệu 2", 4_200_000), ("1 triệu 6", 1_600_000), ("hai triệu rưỡi", 2_500_000),
    ("3 củ", 3_000_000), ("2.000.000 đ", 2_000_000), ("2 000 000", 2_000_000),
    ("1tr5", 1_500_000), ("5tr", 5_000_000), ("1.800.000đ", 1_800_000), ("ba triệu", 3_000_000),
    ("2 triệu 500 nghìn", 2_500_000), ("1 triệu rưỡi", 1_500_000), ("2,5 triệu", 2_500_000),
    ("3.5tr", 3_500_000),
]
GROUP_WORDS = [("hộ nghèo", "ngheo"), ("cận nghèo", "can_ngheo"),
               ("dân tộc thiểu số", "dtts"), ("người dân bình thường", "khac")]
for phrase, income in MONEY:
    for words, group in GROUP_WORDS:
        voluntary("money_spoken", f"bhxh tự nguyện {phrase} {words} hằng tháng", NEW, income,
                  group, 1, VOLUNTARY_SUPPORT_NEW)
        voluntary("money_spoken", f"đóng bhxh tn mức {phrase}, {words}, 12 tháng", NEW, income,
                  group, 12, VOLUNTARY_SUPPORT_NEW)

# 6. ethnic groups by name
ETHNIC = ["Ê Đê", "Chăm", "Khmer", "Tày", "Thái", "Mường", "H'Mông", "Nùng", "Dao", "Gia Rai",
          "Ba Na", "Xơ Đăng"]
for name in ETHNIC:
    voluntary("group_ethnic", f"bhxh tự nguyện 2tr, tôi là người {name}, hằng tháng", NEW,
              2_000_000, "dtts", 1, VOLUNTARY_SUPPORT_NEW)
    voluntary("group_ethnic", f"em người {name} đóng bhxh tự nguyện 3 triệu 6 tháng", NEW,
              3_000_000, "dtts", 6, VOLUNTARY_SUPPORT_NEW)
    add("group_ethnic", f"bhyt cho người {name} 3 tháng", NEW, "ask",
        says=["Mình hiểu", "dân tộc thiểu số", "miễn phí", "70%"])

# 7. island communes and special zones (voluntary BHXH, from 2025-07-01)
for place in ("xã đảo", "đặc khu", "xa dao", "hải đảo"):
    voluntary("group_island", f"bhxh tự nguyện 2tr, nhà ở {place}, hằng tháng", NEW, 2_000_000,
              "xa_dao_dac_khu", 1, VOLUNTARY_SUPPORT_NEW, requires_group="xa_dao_dac_khu")
    voluntary("group_island", f"bhxh tn 1tr5 {place} 12 tháng", MID, 1_500_000,
              "xa_dao_dac_khu", 12, VOLUNTARY_SUPPORT_NEW, requires_group="xa_dao_dac_khu")

# 8. "được nhà nước hỗ trợ": a supported card, the group is asked
for text in ("bhyt được nhà nước hỗ trợ 12 tháng", "bhyt dc nha nuoc ho tro bn",
             "thẻ bhyt diện được hỗ trợ 6 tháng", "bảo hiểm y tế được ngân sách hỗ trợ",
             "bhyt doi tuong duoc ho tro 3 thang"):
    add("group_state_supported", text, NEW, "ask", says=["nhóm nào"])


def supported(family: str, text: str, today: str, group: str, percent: int, months: int,
              **extra: Any) -> None:
    total = FULL_MONTH[BASE[today]] * months
    person = total * (100 - percent) // 100
    add(family, text, today, "answer", group=group, months=months, total=total, person=person,
        **extra)


# 9. typos and teencode
for text, group, pct, m in (
    ("bhyt cận nghẹo 12 tháng", "can_ngheo", 70, 12), ("bhyt hoc xinh 12 th", "hoc_sinh", 50, 12),
    ("bhyt cân nghèo 6 thang", "can_ngheo", 70, 6), ("bhyt can ngeo 3 th", "can_ngheo", 70, 3),
    ("bhyt sinh zien 1 năm", "hoc_sinh", 50, 12), ("bhyt hoc sinh 6 thang bn", "hoc_sinh", 50, 6),
    ("bhyt ho can nghoe 12 thag", "can_ngheo", 70, 12), ("the bhyt hs 3 th dc ko", "hoc_sinh", 50, 3),
    ("bhyt nông nghiệp mức sống trung bình 12 tháng", "nong_lam_ngu_diem", 30, 12),
    ("bhyt y te thon ban 6 thang", "y_te_thon", 50, 6),
    ("bhyt học sinh lớp 10 12 tháng", "hoc_sinh", 50, 12),
    ("tôi là sinh viên năm 3 mua bhyt 12 tháng", "hoc_sinh", 50, 12),
    ("bhyt hs lop 7 6 thang", "hoc_sinh", 50, 6),
):
    supported("group_typo", text, NEW, group, pct, m)
for text, group, pct, m in (("bhyt học sinh 12 tháng", "hoc_sinh", 30, 12),
                            ("bhyt can ngheo 6 thang", "can_ngheo", 70, 6)):
    supported("group_typo", text, OLD, group, pct, m)
for text, n, m in (("bhyt ho gia dinh 3 ng 12 th bn z", 3, 12), ("cho mk hoi bhyt 2 ng 6 th het bn", 2, 6),
                   ("bhyt hgd 4 ng 3 th dc ko", 4, 3), ("bhyt ko phai ho ngheo 3 nguoi 12 thang", 3, 12),
                   ("mik mua bhyt 5 ng 1 nam het bn", 5, 12)):
    household("group_typo", text, NEW, n, m)
for text, income, group, m in (
    ("bhxh tu nguyen 2tr dong 1 lan 12 thang ho can ngheo", 2_000_000, "can_ngheo", 12),
    ("bhxh tn 2tr ko thuoc dien gi hang thang", 2_000_000, "khac", 1),
    ("bhxh tn 1tr5 ho ngheo dc ho tro bn 1 thang", 1_500_000, "ngheo", 1),
    ("bhxh tu nguyen 3 cu can ngheo 12 th bn", 3_000_000, "can_ngheo", 12),
    ("bxhh tự nguyện 2tr hộ nghèo hằng tháng", 2_000_000, "ngheo", 1),
):
    voluntary("group_typo", text, NEW, income, group, m, VOLUNTARY_SUPPORT_NEW)

# 10. a small child: a free card, no cost question
for text in ("con em 2 tuổi mua bhyt bn", "bé 3 tuổi có phải mua bhyt ko", "cháu 5 tuổi mua bảo hiểm y tế bao nhiêu",
             "bhyt cho con 1 tuổi", "con tôi 4 tuổi đóng bhyt bao nhiêu", "be 2 tuoi mua bhyt o dau",
             "bhyt trẻ em dưới 6 tuổi", "bhyt hộ nghèo", "bhyt cho tre so sinh", "em bé 1 tuổi bhyt bn"):
    add("free_card", text, NEW, "no_figure", says=["miễn phí"])

# 11. insurance the bot does not quote
for text in ("bảo hiểm nhân thọ cho 3 người bao nhiêu", "mua bh nhân thọ prudential 1 năm hết bn",
             "bhxh bắt buộc công ty đóng bao nhiêu", "bảo hiểm xã hội bắt buộc 5 triệu đóng bao nhiêu",
             "bảo hiểm xe máy bao nhiêu", "bh xe may 1 nam bn", "bảo hiểm ô tô 7 chỗ bao nhiêu",
             "bảo hiểm thất nghiệp được bao nhiêu", "bhtn 2tr", "mua bảo hiểm nhân thọ cho con 12 tháng",
             "bao hiem oto", "bảo hiểm trách nhiệm dân sự xe máy", "manulife cho 2 người", "aia 1 năm bn",
             "bảo hiểm giáo dục cho con", "bh that nghiep nhan 3 thang", "bhxh bat buoc 6 thang",
             "công ty đóng bhxh cho em 6tr thì bao nhiêu", "bảo hiểm nhân thọ dai ichi", "oto 5 cho bao hiem bn"):
    add("off_topic", text, NEW, "no_figure", says=["không tính"])

# 12. something in the question the bot cannot use: it says what it understood and asks
for n, m, extra in ((5, 12, "15"), (3, 12, "ngày 01/01/2026 và 01/07/2026"), (2, 6, "sđt 0912345678"),
                    (4, 12, "năm 2025"), (3, 6, "tháng 12"), (2, 12, "người thứ 2"),
                    (3, 12, "31/02/2026"), (4, 6, "vợ tôi đã có thẻ rồi"), (2, 12, "45 tuổi"),
                    (3, 3, "bảo hiểm xe máy"), (5, 6, "3 triệu"), (1, 12, "mã 79"),
                    (6, 12, "6 tháng"), (2, 12, "10 người")):
    for template in ("bhyt hộ gia đình {n} người {m} tháng {x}", "{x}, bhyt ho gia dinh {n} nguoi {m} thang"):
        add("unused_clause", template.format(n=n, m=m, x=extra), NEW, "ask", says=["Mình hiểu", "chưa dùng"])
for text in ("bhxh tự nguyện 2tr hộ nghèo hằng tháng 2 người", "bhxh tn 3tr khac 12 thang 5tr",
             "bhxh tự nguyện 2tr học sinh hằng tháng", "bhyt cận nghèo 12 tháng 15",
             "bhyt học sinh 12 tháng xã đảo", "bhyt can ngheo 6 thang ngay 01/01/2026 va 02/02/2026"):
    add("unused_clause", text, NEW, "ask", says=["Mình hiểu", "chưa dùng"])

# 13. campaign co-funding (seed 000, DOMAIN §4 example 4) only in the campaign's area
for text in ("bhyt dtts xã đã thoát khó 3 tháng ở An Giang", "bhyt dan toc thieu so xa thoat kho an giang 3 thang",
             "tôi ở Long Xuyên, bhyt dtts thoát khó 3 tháng", "bhyt dtts thoat kho tinh an giang 1 quy"):
    supported("campaign", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, 3, person_override=20_000,
              says=["60.000 đ", "14.770 đ", "Tỉnh An Giang"])
for text in ("bhyt dtts xã đã thoát khó 3 tháng", "bhyt dân tộc xã thoát khó 3 tháng",
             "bhyt dtts thoat kho 1 quy"):
    supported("campaign", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, 3,
              says=["Nếu bạn sống ở", "Tỉnh An Giang", "20.000 đ"])
for text in ("bhyt dtts thoát khó ở Cần Thơ 3 tháng", "bhyt dtts thoat kho o ca mau 3 thang"):
    supported("campaign", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, 3, says_not=["An Giang"])
for text in ("bhyt dtts thoát khó 6 tháng ở An Giang", "bhyt dtts thoát khó 12 tháng"):
    months = 6 if "6" in text else 12
    supported("campaign", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, months, says_not=["20.000 đ"])

# 14. groups added by NĐ 188/2025 (keys added to rates.toml by the rate tables' owner)
for text, group in (("bhyt dân quân tự vệ", "dan_quan"), ("bhyt cho dan quan thuong truc", "dan_quan"),
                    ("bhyt người 75 tuổi hưởng tuất", "nguoi_75_tuat"), ("bhyt người trên 75 tuổi hưởng trợ cấp tuất", "nguoi_75_tuat"),
                    ("bhyt người hưởng hưu trí xã hội", "huu_tri_xa_hoi"), ("bhyt tro cap huu tri xa hoi", "huu_tri_xa_hoi")):
    add("group_new_2025", text, NEW, "group", group=group, requires_group=group)
# Trafficking victims are supported 50 % (not a free card): the period is part of the question.
for text, months in (("bhyt nạn nhân mua bán người 12 tháng", 12), ("bhyt cho nguoi bi mua ban 6 thang", 6)):
    supported("group_new_2025", text, NEW, "nan_nhan_mua_ban_nguoi", 50, months,
              requires_group="nan_nhan_mua_ban_nguoi", says=["12 tháng kể từ khi được xác định là nạn nhân"])


# --- 15-23: the independent review's reproductions (issue 11 follow-up) -----------------------
DEC = "2026-12-01"  # base 2.530.000 đ; the 2027 voluntary row starts in 31 days
# §3.4 from 2027-01-01: 22 % x 2.200.000 = 484.000 đ; support 50 / 40 / 30 / 20 %.
GROSS_MIN_2027 = 484_000
SUPPORT_2027 = {"ngheo": 242_000, "can_ngheo": 193_600, "dtts": 145_200, "khac": 96_800}
BASE[DEC] = 2_530_000


def button(label: str, **expected: Any) -> dict[str, Any]:
    """What pressing the offered button labelled `label` must lead to: a household "total",
    a supported "person" share, a voluntary "monthly_net", or "field" (the next question)."""
    return {"label": label, **expected}


# 15. a negated group is never applied
for text, n, m in (
    ("ko phải hộ cận nghèo mua bhyt 1 người 12 tháng", 1, 12),
    ("nhà em hết hộ cận nghèo rồi, mua bhyt 1 người 12 tháng", 1, 12),
    ("không phải sinh viên, mua bhyt 12 tháng 1 người", 1, 12),
    ("không thuộc hộ nghèo, mua bhyt hộ gia đình 2 người 12 tháng", 2, 12),
    ("ko phai hs, bhyt 1 nguoi 6 thang", 1, 6),
    ("không còn là hộ cận nghèo nữa, bhyt 3 người 12 tháng", 3, 12),
):
    household("negation", text, NEW, n, m)
add("negation", "ko phải hộ cận nghèo mua bhyt 12 tháng", NEW, "ask_field", field="members",
    scheme="h", says_not=["cận nghèo"])
for text, income, months, today in (
    ("ko phải dân tộc, đóng bhxh tự nguyện 2tr hằng tháng", 2_000_000, 1, NEW),
    ("ko phải dân tộc, đóng bhxh tự nguyện 2tr hằng tháng", 2_000_000, 1, DEC),
    ("dân tộc Kinh đóng bhxh tự nguyện 2tr hằng tháng", 2_000_000, 1, NEW),
    ("em dân tộc kinh, bhxh tn 3tr 1 tháng", 3_000_000, 1, NEW),
    ("tôi không phải người Tày, bhxh tự nguyện 2tr hằng tháng", 2_000_000, 1, NEW),
    ("không còn là hộ cận nghèo, đóng bhxh tn 3tr 12 tháng", 3_000_000, 12, NEW),
    ("người kinh, bhxh tự nguyện 3 triệu 6 tháng", 3_000_000, 6, NEW),
):
    voluntary("negation", text, today, income, "khac", months, VOLUNTARY_SUPPORT_NEW)
# whose group is negated is unclear: asked, and confirming asks the group (never dtts)
add("negation", "chồng em là người dân tộc, em thì không, đóng bhxh tự nguyện 2tr hằng tháng cho em",
    NEW, "ask", says=["Mình hiểu", "thì không"], says_not=["dân tộc thiểu số"],
    buttons=[button("✅ Đúng, tính như vậy", field="group")])
add("negation", "vợ tôi hộ nghèo, tôi thì không, bhxh tn 2tr hằng tháng", NEW, "ask",
    says=["Mình hiểu"], says_not=["Hộ nghèo"], buttons=[button("✅ Đúng, tính như vậy", field="group")])

# 16. adults and children are added, never read as "3 of whom 2 children"
for text, adults, kids, m, adults_total, all_total in (
    # 3 adults 12 months: (113.850 + 79.695 + 68.310) x 12; 5: + 56.925 + 45.540
    ("3 người lớn 2 trẻ em mua bảo hiểm y tế 12 tháng", 3, 2, 12, 3_142_260, 4_371_840),
    ("nhà có 3 người lớn, 2 đứa con, mua bhyt 12 tháng", 3, 2, 12, 3_142_260, 4_371_840),
    ("bhyt 3 ng lớn 2 trẻ 12 tháng", 3, 2, 12, 3_142_260, 4_371_840),
    # 4 adults: 318.780 x 12; 6 people: + 2 x 45.540
    ("4 người lớn và 2 cháu nhỏ mua bhyt 12 tháng", 4, 2, 12, 3_825_360, 4_918_320),
    # 2 adults 6 months: 193.545 x 6; 3: + 68.310 x 6
    ("hai người lớn với 1 bé bhyt 6 tháng", 2, 1, 6, 1_161_270, 1_571_130),
):
    add("adults_children", text, NEW, "ask", says=["Mình hiểu", f"{adults + kids} người", f"{kids} cháu"],
        buttons=[button(f"Chỉ tính {adults} người lớn", total=adults_total),
                 button(f"Tính cả {adults + kids} người", total=all_total)])

# 17. relative dates are used (relative to today) or asked about
household("relative_dates", "tháng sau mới mua bhyt 1 người 12 tháng", "2026-06-20", 1, 12,
          base=2_530_000, on="2026-07-01")
household("relative_dates", "mai mua bhyt 1 người 6 tháng", "2026-06-30", 1, 6,
          base=2_530_000, on="2026-07-01")
household("relative_dates", "ngày mai em mua bhyt hộ gia đình 2 người 12 tháng", "2026-06-30", 2, 12,
          base=2_530_000, on="2026-07-01")
household("relative_dates", "tuần sau mua bhyt hộ gia đình 2 người 12 tháng", NEW, 2, 12,
          on="2026-11-30")
household("relative_dates", "sang năm mua bhyt 1 người 12 tháng", NEW, 1, 12, on="2027-01-01")
household("relative_dates", "từ năm sau mua bhyt 3 người 12 tháng", NEW, 3, 12, on="2027-01-01")
household("relative_dates", "năm sau mua bhyt hộ gia đình 1 người 3 tháng", "2025-12-15", 1, 3,
          base=2_340_000, on="2026-01-01")
# 31/12/2026 + 1 day = 01/01/2027: 1.500.000 is below the new minimum of 2.200.000
add("relative_dates", "ngày mai đóng bhxh tự nguyện 1tr5 hằng tháng hộ nghèo", "2026-12-31", "ask_field",
    field="income", on="2027-01-01", says=["2.200.000 đ"],
    buttons=[button("Tính với 2.200.000 đ", monthly_net=GROSS_MIN_2027 - SUPPORT_2027["ngheo"])])
add("relative_dates", "năm ngoái mua bhyt 1 người 12 tháng hết bao nhiêu", NEW, "ask",
    says=["Mình hiểu", "chưa dùng"])

# 18. a card's expiry date is not the payment date: priced on today
for text, n in (("thẻ bhyt hết hạn tháng 5/2026 giờ mua lại 1 người 12 tháng", 1),
                ("thẻ hết hạn từ 15/3/2026, nay gia hạn bhyt 2 người 12 tháng", 2),
                ("bhyt hết hạn ngày 1/10/2026, mua lại hộ gia đình 3 người 12 tháng", 3),
                ("the bhyt het han 30/6/2026 gio mua lai 1 nguoi 12 thang", 1)):
    household("expiry_vs_payment", text, NEW, n, 12)
    corpus[-1]["says"] = ["hết hạn", "23/11/2026"]

# 19. a year is a year, an age is an age: never an income nor months
add("year_not_income", "năm 2027 đóng bhxh tự nguyện mức thấp nhất bao nhiêu", NEW, "ask_field",
    field="group", on="2027-01-01", says=["2.200.000 đ"], says_not=["2.027"],
    buttons=[button("Người dân khác", field="months")])
add("year_not_income", "năm 2027 đóng bhxh tự nguyện mức thấp nhất hằng tháng bao nhiêu", NEW, "ask_field",
    field="group", on="2027-01-01", says=["2.200.000 đ"], says_not=["2.027"],
    buttons=[button("Người dân khác", monthly_net=GROSS_MIN_2027 - SUPPORT_2027["khac"]),
             button("Hộ nghèo", monthly_net=GROSS_MIN_2027 - SUPPORT_2027["ngheo"])])
for text in ("năm 2027 đóng bhxh tự nguyện 2 triệu hằng tháng", "từ 2027 đóng bhxh tự nguyện 2 triệu hằng tháng",
             "từ năm 2027 em đóng bhxh tn 2tr hằng tháng"):
    add("year_not_income", text, NEW, "ask_field", field="income", on="2027-01-01",
        says=["2.200.000 đ"], says_not=["2.027"])
for text, income, group, months in (
    ("em sinh năm 2000 đóng bhxh tự nguyện 2 triệu hằng tháng, người dân bình thường", 2_000_000, "khac", 1),
    ("sinh năm 1970 đóng bhxh tự nguyện 2 triệu hằng tháng hộ nghèo", 2_000_000, "ngheo", 1),
    ("em 25t đóng bhxh tự nguyện 2 triệu hằng tháng, hộ cận nghèo", 2_000_000, "can_ngheo", 1),
    ("tôi 45 tuổi đóng bhxh tn 3tr 12 tháng người dân bình thường", 3_000_000, "khac", 12),
    ("sn 1985, bhxh tự nguyện 3 triệu 6 tháng hộ cận nghèo", 3_000_000, "can_ngheo", 6),
):
    voluntary("year_not_income", text, NEW, income, group, months, VOLUNTARY_SUPPORT_NEW)
add("year_not_income", "em sinh năm 2000 đóng bhxh tự nguyện 2 triệu hằng tháng", NEW, "ask_field",
    field="group", says_not=["2.000 đ"])

# 20. co-funding only where the person lives now (seed 000: Tỉnh An Giang)
for text in ("người dtts xã thoát khó không ở An Giang bhyt 3 thang",
             "bhyt dtts xã thoát khó 3 tháng quê An Giang, đang ở Cần Thơ",
             "bhyt dtts xã thoát khó 3 tháng trước ở An Giang giờ chuyển lên Bình Dương",
             "bhyt dtts xã thoát khó 3 tháng ở Tân Châu, Tây Ninh",
             "bhyt dtts xã thoát khó 3 tháng ở Chợ Mới Bắc Kạn",
             "bhyt dtts thoát khó 3 tháng ở Tân Châu",
             "bhyt dtts thoát khó 3 tháng, quê ở Long Xuyên"):
    supported("area_negation", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, 3,
              says_not=["Bạn đóng: 20.000 đ", "· ở Tỉnh An Giang"])
for text in ("bhyt dtts thoát khó 3 tháng ở Tân Châu, An Giang",
             "bhyt dtts thoát khó 3 tháng, quê Cần Thơ, giờ ở An Giang"):
    supported("area_negation", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, 3, person_override=20_000,
              says=["· ở Tỉnh An Giang"])

# 21. members who already hold household cards: the ladder position is asked
add("covered_household_cards",
    "nhà 4 người, 2 người đã có thẻ bhyt hộ gia đình rồi, mua thêm cho 2 người còn lại 12 tháng",
    NEW, "ask", says=["Mình hiểu", "người thứ 3"],
    # 3rd + 4th: (68.310 + 56.925) x 12; a new household: (113.850 + 79.695) x 12
    buttons=[button("Họ mua thẻ hộ trong năm nay: tính từ người thứ 3", total=1_502_820),
             button("Tính như hộ mới", total=2_322_540)])
add("covered_household_cards",
    "nhà 5 người, 3 người có thẻ hộ gia đình rồi, mua cho 2 người còn lại 6 tháng",
    NEW, "ask", says=["Mình hiểu", "người thứ 4"],
    # 4th + 5th: (56.925 + 45.540) x 6; a new household: (113.850 + 79.695) x 6
    buttons=[button("Họ mua thẻ hộ trong năm nay: tính từ người thứ 4", total=614_790),
             button("Tính như hộ mới", total=1_161_270)])

# 22. a second person or group is never dropped
add("second_person", "con em 2 tuổi với em mua bhyt 12 tháng", NEW, "ask",
    says=["Mình hiểu", "miễn phí", "1 người"], buttons=[button("1 người", total=1_366_200)])
add("second_person", "bé 3 tuổi và mẹ nó mua bhyt 6 tháng", NEW, "ask",
    says=["Mình hiểu", "miễn phí"], buttons=[button("1 người", total=683_100)])
add("second_person", "sinh viên người dân tộc mua bhyt 1 năm", NEW, "ask",
    says=["Mình hiểu", "miễn phí"],
    # 1.366.200 x 50 % and x 30 %
    buttons=[button("Học sinh, sinh viên (50%)", person=683_100),
             button("DTTS ở xã ra khỏi vùng khó khăn (70%)", person=409_860),
             button("DTTS vùng khó khăn (miễn phí)", person=0)])

# 23. paying once for several years: said not computable yet, the usual periods offered
add("five_years", "đóng 2 triệu bhxh tự nguyện 5 năm 1 lần", NEW, "ask_field", field="months",
    says=["chưa tính được"], says_not=["Chỉ đóng được"], buttons=[button("12 tháng", field="group")])
add("five_years", "đóng 2 triệu bhxh tự nguyện 5 năm 1 lần, hộ nghèo", NEW, "ask_field", field="months",
    says=["chưa tính được"],
    buttons=[button("12 tháng", monthly_net=440_000 - VOLUNTARY_SUPPORT_NEW["ngheo"])])

# 24. the answer warns before the next voluntary-BHXH rates start
voluntary("rate_change", "bhxh tự nguyện 2tr người dân bình thường hằng tháng", DEC, 2_000_000, "khac", 1,
          VOLUNTARY_SUPPORT_NEW, says=["01/01/2027", "2.200.000 đ"])
voluntary("rate_change", "bhxh tự nguyện 2tr người dân bình thường hằng tháng", "2026-09-15", 2_000_000,
          "khac", 1, VOLUNTARY_SUPPORT_NEW, says_not=["01/01/2027"])

# 25. other review findings
add("off_topic", "bảo hiểm tai nạn học sinh", NEW, "no_figure", says=["không tính"])
add("off_topic", "bảo hiểm thân thể học sinh bao nhiêu", NEW, "no_figure", says=["không tính"])
add("off_topic", "bhyt bắt buộc công ty đóng mấy phần trăm", NEW, "no_figure", says=["không tính"])
add("off_topic", "ko bít mua bhyt ở đâu", NEW, "no_figure", says=["VssID"], says_not=["mấy người"])
add("dates", "bhyt hộ gia đình 2 người 12 tháng 1/1/2099", NEW, "stop", says=["chưa biết"])
add("group_new_2025", "1/3/2025 dân quân thường trực bhyt", "2025-03-01", "ask_field", field="group",
    says=["01/07/2025"], says_not=["bao lâu"])


# --- 26-40: the second independent review's reproductions ------------------------------------
JUNE = "2026-06-30"  # base 2.340.000 đ (the 2.530.000 đ base starts tomorrow)
BASE[JUNE] = 2_340_000
CAMPAIGN_LATE = "2024-11-15"  # base 2.340.000 đ, seed 000 campaign AG-2024-11 running
BASE[CAMPAIGN_LATE] = 2_340_000

# 26. negations as typed: "k", "hông", "đâu phải", "chẳng phải", "chưa được công nhận", former
for text in ("nhà k phải hộ nghèo k phải cận nghèo, bhxh tự nguyện 2tr 12 tháng",
             "đâu phải hộ nghèo, bhxh tự nguyện 2tr 12 tháng",
             "trước đây là hộ nghèo giờ thì không, bhxh tự nguyện 2tr 12 tháng"):
    # 22 % x 2.000.000 - 66.000 = 374.000 a month
    voluntary("negation_typed", text, DEC, 2_000_000, "khac", 12, VOLUNTARY_SUPPORT_NEW)
# 2.200.000 - 66.000
voluntary("negation_typed", "bhxh tự nguyện 10 triệu, hông phải hộ cận nghèo, 1 tháng", DEC, 10_000_000,
          "khac", 1, VOLUNTARY_SUPPORT_NEW)
for text in ("bhyt 1 người 12 tháng, trước là hộ nghèo nay thoát nghèo rồi",
             "chẳng phải hộ cận nghèo, bhyt 1 người 12 tháng",
             "chưa được công nhận hộ cận nghèo, bhyt 1 người 12 tháng",
             "k phải hộ nghèo, mua bhyt 1 người 12 tháng"):
    household("negation_typed", text, DEC, 1, 12)
add("negation_typed", "bhyt dân quân không thường trực 12 tháng", NEW, "ask_field", field="members",
    scheme="h", says_not=["miễn phí"])

# 27. "Mai" is a name and "mãi" is "forever": never tomorrow (30/06: tomorrow has a new base)
for text in ("em tên Mai, mua bhyt 1 người 12 tháng", "ở Hoa Mai mua bhyt 1 người 12 tháng",
             "mãi không mua được, bhyt 1 người 12 tháng", "chị Mai hỏi bhyt 1 người 12 tháng"):
    household("name_not_date", text, JUNE, 1, 12)  # 105.300 x 12, priced today
household("name_not_date", "mai đóng bhyt 1 người 12 tháng", JUNE, 1, 12, base=2_530_000, on="2026-07-01")
add("name_not_date", "bhyt 1 người 12 tháng mai", JUNE, "ask", says=["Mình hiểu", "mai"])

# 28. a card's validity date is neither the payment date nor "expired"
household("expiry_vs_payment", "bhyt hộ gia đình 2 người 12 tháng, hạn thẻ 15/7/2026", JUNE, 2, 12)
corpus[-1].update(says=["còn hạn đến ngày 15/07/2026"], says_not=["Thẻ cũ đã hết hạn"])
supported("expiry_vs_payment", "dtts ra khỏi vùng khó khăn bhyt 3 tháng ở An Giang, thẻ hạn tới 1/12/2024",
          CAMPAIGN_LATE, "dtts_vung_thoat_kho", 70, 3, person_override=20_000,
          says=["còn hạn đến ngày 01/12/2024"], says_not=["Thẻ cũ đã hết hạn"])
household("expiry_vs_payment", "thẻ còn hạn đến 15/12/2026, bhyt 1 người 12 tháng", NEW, 1, 12)
corpus[-1].update(says=["còn hạn đến ngày 15/12/2026"], says_not=["Thẻ cũ đã hết hạn"])
household("expiry_vs_payment", "bhyt hết hạn vào 1/12/2026, mua 1 người 12 tháng", NEW, 1, 12)
corpus[-1].update(says=["còn hạn đến ngày 01/12/2026"], says_not=["Thẻ cũ đã hết hạn"])
voluntary("expiry_vs_payment", "bhxh tự nguyện 2tr hộ nghèo 12 tháng, thẻ hết hạn 1/10/2026", NEW,
          2_000_000, "ngheo", 12, VOLUNTARY_SUPPORT_NEW, says_not=["hết hạn"])

# 29. past and vague days are asked, never silently today; "năm sau 1/1" is next year's day
for text in ("hôm qua mua bhyt 1 người 12 tháng", "hôm kia mua bhyt 1 người 12 tháng",
             "tuần trước mua bhyt 1 người 12 tháng", "tháng trước mua bhyt 1 người 12 tháng",
             "sau tết mua bhyt 1 người 12 tháng", "tháng giêng mua bhyt 1 người 12 tháng",
             "cuối năm mua bhyt 1 người 12 tháng", "cuối tháng mua bhyt 1 người 12 tháng"):
    add("relative_dates", text, NEW, "ask", says=["Mình hiểu", "chưa dùng"])
household("relative_dates", "năm sau 1/1 mua bhyt 1 người 12 tháng", NEW, 1, 12, on="2027-01-01")
household("relative_dates", "bhyt hộ gia đình sang năm 2 người 12 tháng", NEW, 2, 12, on="2027-01-01")
household("relative_dates", "bhyt hộ gia đình năm sau 3 người 6 tháng", NEW, 3, 6, on="2027-01-01")

# 30. members named rather than counted
household("members_named", "mua bhyt cho bố mẹ và tôi 12 tháng", NEW, 3, 12)
household("members_named", "mua bhyt ông bà nội ngoại 12 tháng", NEW, 4, 12)
household("members_named", "bhyt anh chị em tôi 3 người và tôi 12 tháng", NEW, 4, 12)
household("members_named", "nhà 4 người, tôi có thẻ công ty rồi, mua bhyt cho những người còn lại 12 tháng",
          NEW, 3, 12, covered=1)
household("members_named", "bhyt cả nhà 4 người trừ tôi 12 tháng", NEW, 3, 12)
household("members_named", "bhyt hộ gia đình 3 người 12 tháng ngoài ra 2 người có thẻ công ty", NEW, 3, 12)
household("members_named", "tôi đang hưởng lương hưu, mua bhyt cho vợ 12 tháng", NEW, 1, 12)
add("members_named", "tôi có thẻ công ty rồi, vợ và 2 con mua bhyt hộ gia đình 12 tháng", NEW, "ask",
    says=["Mình hiểu", "3 người", "2 cháu"],
    buttons=[button("Chỉ tính 1 người lớn", total=1_366_200), button("Tính cả 3 người", total=3_142_260)])
add("members_named", "bhyt hộ gia đình mua thêm cho 1 người nữa 12 tháng", NEW, "ask", says=["Mình hiểu"],
    # the 2nd member: 79.695 x 12; a new household: 113.850 x 12
    buttons=[button("Những người kia mua thẻ hộ trong năm nay: người thứ 2", total=956_340),
             button("Tính như hộ mới", total=1_366_200)])

# 31. periods and numbers read once
add("period_numbers", "bhyt hộ gia đình 1 người 1 năm rưỡi", NEW, "ask_field", field="months",
    says=["3, 6, 12 tháng"], says_not=["Tổng"])
for text, income, months in (("bhxh tự nguyện 3tr12 tháng hộ nghèo", 3_000_000, 12),
                             ("bhxh tự nguyện 2tr6 tháng hộ nghèo", 2_000_000, 6)):
    voluntary("period_numbers", text, DEC, income, "ngheo", months, VOLUNTARY_SUPPORT_NEW)
add("period_numbers", "bhxh tự nguyện 1tr5 thang 1 lan ho ngheo", DEC, "ask", says=["Mình hiểu", "1.500.000 đ"])
for text in ("bhyt hộ gia đình 12 tháng -3 người", "bhyt hộ gia đình 2 người -3 tháng"):
    add("period_numbers", text, NEW, "ask", says=["Mình hiểu", "-3"])
add("period_numbers", "bhxh tự nguyện 2026 đóng 1 tháng", NEW, "ask", says=["Mình hiểu", "2026"],
    says_not=["2.026"])

# 32. a scheme or group set aside is not the question
add("set_aside", "ko mua bhyt hộ gia đình, chỉ hỏi bhxh tự nguyện 2 triệu 1 tháng", NEW, "ask_field",
    field="group", scheme="v")
voluntary("set_aside", "ko mua bhyt hộ gia đình, chỉ hỏi bhxh tự nguyện 2 triệu 1 tháng, hộ nghèo", NEW,
          2_000_000, "ngheo", 1, VOLUNTARY_SUPPORT_NEW)
household("set_aside", "bhyt học sinh? không, tôi hỏi bhyt hộ gia đình 2 người 12 tháng", NEW, 2, 12)
household("set_aside", "bhyt hộ gia đình 3 người 12 tháng, không có ai dưới 6 tuổi", NEW, 3, 12)
add("set_aside", "bhyt hộ gia đình 3 ng 12 thang, con e duoi 6 tuoi", NEW, "ask",
    says=["Mình hiểu", "3 người", "1 cháu"],
    buttons=[button("Chỉ tính 2 người lớn", total=2_322_540), button("Tính cả 3 người", total=3_142_260)])
for text in ("bhyt dtts thoát khó 3 tháng, tôi không ở An Giang",
             "bhyt dtts thoát khó 3 tháng, không phải người An Giang"):
    supported("set_aside", text, CAMPAIGN, "dtts_vung_thoat_kho", 70, 3,
              says_not=["Nếu bạn sống ở", "20.000 đ"])

# 33. corrections: the later value is the one meant
household("corrections", "bhyt hộ gia đình 3 người à nhầm, 4 người 12 tháng", NEW, 4, 12)
household("corrections", "bhyt hộ gia đình 2 người 12 tháng. À quên, 6 tháng thôi", NEW, 2, 6)
household("corrections", "bhyt hộ gia đình 2 người không phải 12 tháng mà 6 tháng", NEW, 2, 6)
voluntary("corrections", "bhxh tự nguyện hộ nghèo 2 triệu ý là 3 triệu 12 tháng", NEW, 3_000_000, "ngheo", 12,
          VOLUNTARY_SUPPORT_NEW)

# 34. two questions in one message: one is never answered in silence for both
add("two_questions", "bhyt hộ nghèo thì bao nhiêu, còn hộ thường thì bao nhiêu", NEW, "ask",
    says=["Mình hiểu", "mình trả lời phần trên trước", "“còn hộ thường thì bao nhiêu”"])
add("two_questions", "bhyt hộ gia đình 2 người 12 tháng và bhxh tự nguyện 2 triệu 1 tháng", NEW, "ask",
    says=["Mình hiểu", "mình trả lời phần trên trước", "“BHXH tự nguyện”"])


def main() -> None:
    for number, item in enumerate(corpus, start=1):
        item["id"] = f"{item['family']}-{number:03d}"
        if "person_override" in item:
            item["person"] = item.pop("person_override")
    OUT.write_text(json.dumps(corpus, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(corpus)} questions -> {OUT}")


if __name__ == "__main__":
    main()
