"""Rate and campaign data files: the shipped files, lookup by date, and strict validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.campaigns import CampaignBook, CampaignsError, Scheme
from bot.domain.rates import RateBook, RatesError, RatesInForce, RefusalReason, Refused, describe_rates


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


# --------------------------------------------------------------------------- shipped rates.toml


def test_shipped_file_loads_and_answers_from_2022(book: RateBook) -> None:
    assert book.first_date == date(2022, 1, 1)
    assert isinstance(book.at(date(2022, 1, 1)), RatesInForce)
    for changed in (date(2023, 7, 1), date(2023, 12, 3), date(2024, 7, 1), date(2025, 7, 1), date(2026, 7, 1)):
        assert changed in book.change_dates()


def test_before_the_first_row_is_refused(book: RateBook) -> None:
    with pytest.raises(Refused) as info:
        book.at(date(2021, 12, 31))
    assert info.value.reason is RefusalReason.NO_RATES
    assert info.value.available_from == date(2022, 1, 1)  # the reply says from when it can answer


def test_load_with_explicit_path_equals_packaged(book: RateBook) -> None:
    path = Path(__file__).resolve().parents[1] / "bot" / "data" / "rates.toml"
    assert RateBook.load(path).base_salary == book.base_salary


@pytest.mark.parametrize(
    ("day", "amount", "source"),
    [
        (date(2023, 6, 30), 1_490_000, "NĐ 38/2019/NĐ-CP"),
        (date(2023, 7, 1), 1_800_000, "NĐ 24/2023/NĐ-CP"),
        (date(2024, 6, 30), 1_800_000, "NĐ 24/2023/NĐ-CP"),
        (date(2024, 7, 1), 2_340_000, "NĐ 73/2024/NĐ-CP"),
        (date(2026, 6, 30), 2_340_000, "NĐ 73/2024/NĐ-CP"),
        (date(2026, 7, 1), 2_530_000, "NĐ 161/2026/NĐ-CP"),
        (date(2040, 1, 1), 2_530_000, "NĐ 161/2026/NĐ-CP"),
    ],
)
def test_base_salary_by_date(book: RateBook, day: date, amount: int, source: str) -> None:
    rates = book.at(day)
    assert rates.base_salary.amount == amount
    assert rates.base_salary.source == source


def test_household_source_changes_on_2025_08_15(book: RateBook) -> None:
    """NĐ 188/2025 takes effect on 15/08/2025 and repeals NĐ 146/2018 (Điều 7, the ladder) only
    then (Điều 70 khoản 5): from 01/07 to 14/08/2025 the ladder still came from NĐ 146/2018."""
    before, gap, last_old, after = (
        book.at(date(2025, 6, 30)),
        book.at(date(2025, 7, 1)),
        book.at(date(2025, 8, 14)),
        book.at(date(2025, 8, 15)),
    )
    for rates in (before, gap, last_old):
        assert rates.bhyt_household.source == "NĐ 146/2018/NĐ-CP Điều 7"
        assert rates.bhyt_household.effective_to == date(2025, 8, 14)
    assert "14/08/2025" in (gap.bhyt_household.note or "")
    assert after.bhyt_household.source == "NĐ 188/2025/NĐ-CP Điều 6 khoản 5"
    assert after.bhyt_household.effective_from == date(2025, 8, 15)
    assert date(2025, 8, 15) in book.change_dates()
    for rates in (before, gap, last_old, after):
        assert rates.bhyt_household.rate_percent == Decimal("4.5")
        assert rates.bhyt_household.ladder_percent == (100, 70, 60, 50, 40)
        assert rates.bhyt_household.allowed_months == (3, 6, 12)
        assert rates.bhyt_household.max_members == 20


@pytest.mark.parametrize(
    ("group", "before", "after"),
    [
        ("can_ngheo", 70, 70),
        ("hoc_sinh", 30, 50),
        ("nong_lam_ngu_diem", 30, 30),
        ("dtts_vung_thoat_kho", 70, 70),
        ("y_te_thon", None, 50),
        ("ngheo", 100, 100),
        ("dtts_vung_kho", 100, 100),
        ("tre_em_duoi_6", 100, 100),
        ("bao_tro_xa_hoi", 100, 100),
    ],
)
def test_bhyt_support_on_2025_07_01(book: RateBook, group: str, before: int | None, after: int) -> None:
    old = book.at(date(2025, 6, 30)).bhyt_support
    new = book.at(date(2025, 7, 1)).bhyt_support
    assert (old.groups[group].percent if group in old.groups else None) == before
    assert new.groups[group].percent == after
    assert new.source.startswith("NĐ 188/2025")


def test_unconfirmed_figures_are_marked_in_the_data(book: RateBook) -> None:
    rates = book.at(date(2026, 11, 23))
    assert "chưa được xác nhận" in (rates.bhyt_support.groups["nong_lam_ngu_diem"].note or "")
    assert "2.200.000" in (rates.bhxh_voluntary.poverty_line_note or "")


def test_ethnic_minority_support_starts_2023_12_03(book: RateBook) -> None:
    assert "dtts_vung_thoat_kho" not in book.at(date(2023, 12, 2)).bhyt_support.groups
    group = book.at(date(2023, 12, 3)).bhyt_support.groups["dtts_vung_thoat_kho"]
    assert (group.percent, group.source) == (70, "NĐ 75/2023/NĐ-CP")


@pytest.mark.parametrize(
    ("day", "ngheo", "can_ngheo", "dtts", "khac", "source"),
    [
        (date(2025, 6, 30), 30, 25, 10, 10, "NĐ 134/2015/NĐ-CP Điều 14"),
        (date(2025, 7, 1), 50, 40, 30, 20, "NĐ 159/2025/NĐ-CP"),
    ],
)
def test_voluntary_support_on_2025_07_01(
    book: RateBook, day: date, ngheo: int, can_ngheo: int, dtts: int, khac: int, source: str
) -> None:
    vol = book.at(day).bhxh_voluntary
    expected = {"ngheo": ngheo, "can_ngheo": can_ngheo, "dtts": dtts, "khac": khac}
    if day >= date(2025, 7, 1):
        expected["xa_dao_dac_khu"] = 50  # island communes and special zones (NĐ 159/2025)
    assert {k: g.percent for k, g in vol.support.items()} == expected
    assert vol.source == source
    assert (vol.rate_percent, vol.poverty_line, vol.max_support_months) == (22, 1_500_000, 120)
    assert vol.allowed_months == (1, 3, 6, 12)


@pytest.mark.parametrize(
    ("day", "maximum"),
    [(date(2026, 6, 30), 46_800_000), (date(2026, 7, 1), 50_600_000)],
)
def test_voluntary_income_range_follows_base_salary(book: RateBook, day: date, maximum: int) -> None:
    rates = book.at(day)
    assert (rates.min_income, rates.max_income, rates.voluntary_support_base) == (1_500_000, maximum, 330_000)


def test_describe_rates_prints_figures_and_sources(book: RateBook) -> None:
    text = describe_rates(book.at(date(2026, 11, 23)))
    for expected in (
        "23/11/2026",
        "2.530.000 đ",
        "NĐ 161/2026/NĐ-CP",
        "113.850 đ",
        "1.366.200 đ",
        "45.540 đ",
        "y_te_thon",
        "50.600.000 đ",
        "66.000 đ",
        "NĐ 159/2025/NĐ-CP",
    ):
        assert expected in text


# --------------------------------------------------------------------------- 2026-2030 poverty standard (issue 11)


def test_voluntary_rows_split_on_2027_01_01(book: RateBook) -> None:
    old, new = book.at(date(2026, 12, 31)), book.at(date(2027, 1, 1))
    assert old.bhxh_voluntary.effective_to == date(2026, 12, 31)
    assert (old.min_income, old.voluntary_support_base) == (1_500_000, 330_000)
    assert old.bhxh_voluntary.poverty_line_source == "NĐ 07/2021/NĐ-CP, giữ đến 31/12/2026 theo NĐ 351/2025/NĐ-CP"
    assert new.bhxh_voluntary.effective_from == date(2027, 1, 1)
    assert new.bhxh_voluntary.effective_to is None
    assert (new.min_income, new.max_income, new.voluntary_support_base) == (2_200_000, 50_600_000, 484_000)
    assert new.bhxh_voluntary.poverty_line_source == "NĐ 351/2025/NĐ-CP (chuẩn nghèo đa chiều 2026-2030)"
    vol = new.bhxh_voluntary
    assert (vol.rate_percent, vol.max_income_multiplier, vol.max_support_months) == (22, 20, 120)
    assert vol.allowed_months == (1, 3, 6, 12)
    assert vol.source == "NĐ 159/2025/NĐ-CP"
    supports = {key: new.voluntary_support_monthly(group) for key, group in vol.support.items()}
    assert supports == {
        "ngheo": 242_000,
        "xa_dao_dac_khu": 242_000,
        "can_ngheo": 193_600,
        "dtts": 145_200,
        "khac": 96_800,
    }
    assert date(2027, 1, 1) in book.change_dates()


def test_island_wording_moved_out_of_the_poor_household_note(book: RateBook) -> None:
    for day in (date(2025, 7, 1), date(2027, 1, 1)):
        vol = book.at(day).bhxh_voluntary
        assert "đảo" not in (vol.support["ngheo"].note or "")
        assert vol.support["xa_dao_dac_khu"].label == "Người sống ở xã đảo, đặc khu"


def test_bhyt_tables_unchanged_across_2027_01_01(book: RateBook) -> None:
    old, new = book.at(date(2026, 12, 31)), book.at(date(2027, 1, 1))
    assert old.bhyt_household == new.bhyt_household
    assert old.bhyt_support == new.bhyt_support
    assert [new.bhyt_member_monthly(i) for i in range(1, 6)] == [113_850, 79_695, 68_310, 56_925, 45_540]


@pytest.mark.parametrize(
    ("group", "percent", "source"),
    [
        ("dan_quan", 100, "Luật BHYT sửa đổi số 51/2024/QH15"),
        ("nguoi_75_tuat", 100, "Luật BHYT sửa đổi số 51/2024/QH15"),
        ("huu_tri_xa_hoi", 100, "Luật BHYT sửa đổi số 51/2024/QH15"),
        ("nan_nhan_mua_ban_nguoi", 50, "NĐ 188/2025/NĐ-CP"),
    ],
)
def test_new_bhyt_groups_from_2025_07_01(book: RateBook, group: str, percent: int, source: str) -> None:
    assert group not in book.at(date(2025, 6, 30)).bhyt_support.groups
    found = book.at(date(2025, 7, 1)).bhyt_support.groups[group]
    assert (found.percent, found.source) == (percent, source)
    assert book.support_group_available_from(group, date(2024, 1, 1)) == date(2025, 7, 1)


def test_bao_tro_xa_hoi_note_no_longer_carries_the_new_groups(book: RateBook) -> None:
    group = book.at(date(2025, 7, 1)).bhyt_support.groups["bao_tro_xa_hoi"]
    assert group.note is None


def test_time_limited_groups_carry_a_caveat(book: RateBook) -> None:
    for day in (date(2023, 12, 3), date(2025, 7, 1), date(2027, 1, 1)):
        caveat = book.at(day).bhyt_support.groups["dtts_vung_thoat_kho"].caveat or ""
        assert "36 tháng" in caveat and "hỏi BHXH xã" in caveat
    victims = book.at(date(2025, 7, 1)).bhyt_support.groups["nan_nhan_mua_ban_nguoi"]
    assert "12 tháng" in (victims.caveat or "")


def test_describe_rates_on_2027_01_01(book: RateBook) -> None:
    text = describe_rates(book.at(date(2027, 1, 1)))
    for expected in (
        "01/01/2027",
        "từ 2.200.000 đ",
        "NĐ 351/2025/NĐ-CP",
        "484.000 đ",
        "242.000 đ",
        "193.600 đ",
        "145.200 đ",
        "96.800 đ",
        "xa_dao_dac_khu",
        "nan_nhan_mua_ban_nguoi",
        "dan_quan",
        "⚠ Chỉ áp dụng trong 36 tháng",
        "1.366.200 đ",
    ):
        assert expected in text, expected
    assert "330.000 đ" not in text


def test_caveat_is_read_from_the_file_and_must_not_be_empty(tmp_path: Path) -> None:
    line = 'groups.can_ngheo = { percent = 70, label = "Hộ cận nghèo" }'
    with_caveat = 'groups.can_ngheo = { percent = 70, label = "Hộ cận nghèo", caveat = "Hỏi BHXH xã." }'
    loaded = RateBook.load(_write(tmp_path, VALID.replace(line, with_caveat)))
    assert loaded.at(date(2024, 7, 1)).bhyt_support.groups["can_ngheo"].caveat == "Hỏi BHXH xã."
    message = _error(tmp_path, VALID.replace(line, with_caveat.replace("Hỏi BHXH xã.", "")))
    assert "field groups.can_ngheo.caveat: String should have at least 1 character" in message


# --------------------------------------------------------------------------- broken rates files

VALID = """\
[[base_salary]]
effective_from = 2024-07-01
effective_to = 2026-06-30
amount = 2_340_000
source = "NĐ 73/2024/NĐ-CP"

[[base_salary]]
effective_from = 2026-07-01
amount = 2_530_000
source = "NĐ 161/2026/NĐ-CP"

[[bhyt_household]]
effective_from = 2024-01-01
rate_percent = 4.5
ladder_percent = [100, 70, 60, 50, 40]
allowed_months = [3, 6, 12]
max_members = 20
source = "NĐ 146/2018/NĐ-CP Điều 7"

[[bhyt_support]]
effective_from = 2024-01-01
source = "NĐ 146/2018/NĐ-CP Điều 4"
groups.can_ngheo = { percent = 70, label = "Hộ cận nghèo" }

[[bhxh_voluntary]]
effective_from = 2024-01-01
rate_percent = 22
rate_source = "Luật BHXH"
poverty_line = 1_500_000
poverty_line_source = "NĐ 07/2021/NĐ-CP"
max_income_multiplier = 20
max_support_months = 120
allowed_months = [1, 3, 6, 12]
source = "NĐ 134/2015/NĐ-CP"
support.khac = { percent = 10, label = "Đối tượng khác" }
"""

MIDDLE_ROW = """\
[[base_salary]]
effective_from = 2024-07-01
effective_to = 2026-06-30
amount = 2_340_000
source = "NĐ 73/2024/NĐ-CP"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(RatesError) as info:
        RateBook.load(_write(tmp_path, text))
    return str(info.value)


def test_minimal_valid_file_loads(tmp_path: Path) -> None:
    book = RateBook.load(_write(tmp_path, VALID))
    assert book.at(date(2026, 7, 1)).base_salary.amount == 2_530_000


def test_overlap_names_table_and_row(tmp_path: Path) -> None:
    earlier = MIDDLE_ROW.replace("2026-06-30", "2024-12-31").replace("2024-07-01", "2024-01-01")
    text = VALID.replace(MIDDLE_ROW, earlier + "\n" + MIDDLE_ROW)
    message = _error(tmp_path, text)
    assert message.endswith("rates.toml: base_salary row 2 (effective_from 2024-07-01): overlaps row 1 (ends 2024-12-31)")


def test_overlap_example_from_the_brief(tmp_path: Path) -> None:
    rows = """\
[[base_salary]]
effective_from = 2023-07-01
effective_to = 2024-06-30
amount = 1_800_000
source = "a"

[[base_salary]]
effective_from = 2024-07-01
effective_to = 2024-12-31
amount = 2_340_000
source = "b"

[[base_salary]]
effective_from = 2024-07-01
amount = 2_340_000
source = "c"
"""
    text = VALID.split("[[bhyt_household]]")[1]
    message = _error(tmp_path, rows + "\n[[bhyt_household]]" + text)
    assert message.endswith("rates.toml: base_salary row 3 (effective_from 2024-07-01): overlaps row 2 (ends 2024-12-31)")
    assert str(tmp_path) in message


def test_gap_names_table_and_row(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("effective_from = 2026-07-01", "effective_from = 2026-07-02"))
    assert "base_salary row 2 (effective_from 2026-07-02): gap after row 1 (ends 2026-06-30)" in message


def test_rows_out_of_order(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("effective_from = 2026-07-01", "effective_from = 2024-06-01"))
    assert "base_salary row 2 (effective_from 2024-06-01): not in date order: starts before row 1 (2024-07-01)" in message


def test_open_ended_row_not_last(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("effective_to = 2026-06-30\n", ""))
    assert "base_salary row 1 (effective_from 2024-07-01): open-ended (no effective_to) but not the last row" in message


def test_unknown_key_in_row(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("max_members = 20", "max_members = 20\nmax_member = 20"))
    assert "bhyt_household row 1 (effective_from 2024-01-01)" in message
    assert "field max_member: Extra inputs are not permitted" in message


def test_unknown_key_in_group(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace('percent = 70, label', 'percent = 70, lable = "x", label'))
    assert "bhyt_support row 1 (effective_from 2024-01-01): field groups.can_ngheo.lable" in message


def test_unknown_table(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID + '\n[[base_salaries]]\neffective_from = 2024-01-01\n')
    assert "unknown table 'base_salaries'" in message


def test_missing_table(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.split("[[bhxh_voluntary]]")[0])
    assert "bhxh_voluntary: missing" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("amount = 2_530_000", "amount = -2_530_000", "base_salary row 2 (effective_from 2026-07-01): field amount"),
        ("rate_percent = 4.5", "rate_percent = -4.5", "bhyt_household row 1 (effective_from 2024-01-01): field rate_percent"),
        ("[100, 70, 60, 50, 40]", "[100, 70, -60, 50, 40]", "bhyt_household row 1 (effective_from 2024-01-01): field ladder_percent[3]"),
        ("percent = 10", "percent = -10", "bhxh_voluntary row 1 (effective_from 2024-01-01): field support.khac.percent"),
        ("poverty_line = 1_500_000", "poverty_line = -1", "bhxh_voluntary row 1 (effective_from 2024-01-01): field poverty_line"),
    ],
)
def test_negative_values_are_rejected(tmp_path: Path, old: str, new: str, where: str) -> None:
    message = _error(tmp_path, VALID.replace(old, new))
    assert where in message
    assert "greater than or equal to 0" in message


def test_percent_above_100_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("percent = 70", "percent = 170"))
    assert "field groups.can_ngheo.percent: Input should be less than or equal to 100" in message


def test_money_must_be_whole_dong(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("amount = 2_530_000", "amount = 2530000.5"))
    assert "base_salary row 2 (effective_from 2026-07-01): field amount: Input should be a valid integer" in message


def test_quoted_date_is_rejected_with_field(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("effective_from = 2026-07-01", 'effective_from = "2026-07-01"'))
    assert "base_salary row 2 (effective_from 2026-07-01): field effective_from: Input should be a valid date" in message


def test_impossible_date_names_the_row(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("effective_from = 2026-07-01", "effective_from = 2026-02-30"))
    assert "rates.toml: base_salary row 2: invalid TOML" in message
    assert "line 8" in message


def test_end_before_start(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace("effective_to = 2026-06-30", "effective_to = 2024-06-30"))
    assert "base_salary row 1 (effective_from 2024-07-01): effective_to 2024-06-30 is before effective_from 2024-07-01" in message


def test_missing_source(tmp_path: Path) -> None:
    message = _error(tmp_path, VALID.replace('source = "NĐ 161/2026/NĐ-CP"\n', ""))
    assert "base_salary row 2 (effective_from 2026-07-01): field source: Field required" in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RatesError, match="cannot read"):
        RateBook.load(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- campaigns.toml


def test_shipped_campaigns_load() -> None:
    campaigns = CampaignBook.load()
    campaign = campaigns.by_code("AG-2024-11")
    assert campaign is not None
    assert (campaign.start, campaign.end) == (date(2024, 11, 1), date(2024, 11, 30))
    rule = campaign.cofunding_for(Scheme.BHYT_SUPPORTED, "dtts_vung_thoat_kho", 3)
    assert rule is not None
    assert rule.person_pays == 20_000
    assert [(f.name, f.amount) for f in rule.funders] == [("Cơ quan BHXH", 60_000)]
    assert rule.remainder_funder
    assert campaign.cofunding_for("bhyt_supported", "dtts_vung_thoat_kho", 6) is None
    assert campaign.cofunding_for("bhyt_supported", "can_ngheo", 3) is None


def test_campaign_groups_exist_in_rates(book: RateBook) -> None:
    for campaign in CampaignBook.load().campaigns:
        for rule in campaign.cofunding:
            assert rule.group in book.at(campaign.start).bhyt_support.groups


@pytest.mark.parametrize(
    ("day", "active"),
    [(date(2024, 10, 31), False), (date(2024, 11, 1), True), (date(2024, 11, 30), True), (date(2024, 12, 1), False)],
)
def test_campaign_active_on(day: date, active: bool) -> None:
    assert bool(CampaignBook.load().active_on(day)) is active


CAMPAIGN = """\
[[campaign]]
code = "X-1"
name = "Test"
start = 2024-11-01
end = 2024-11-30
source = "Plan"

[[campaign.cofunding]]
scheme = "bhyt_supported"
group = "dtts_vung_thoat_kho"
months = 3
person_pays = 20_000
funders = [{ name = "BHXH", amount = 60_000 }]
remainder_funder = "Donors"
"""


def _campaign_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "campaigns.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CampaignsError) as info:
        CampaignBook.load(path)
    return str(info.value)


def test_empty_campaign_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text("# none\n", encoding="utf-8")
    assert CampaignBook.load(path).active_on(date(2024, 11, 5)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("person_pays = 20_000", "person_pays = 20_000\nperson_pay = 1", "campaign row 1 (code X-1): field cofunding[1].person_pay: Extra inputs"),
        ("amount = 60_000", "amount = -60_000", "campaign row 1 (code X-1): field cofunding[1].funders[1].amount"),
        ("end = 2024-11-30", "end = 2024-10-30", "campaign row 1 (code X-1): end 2024-10-30 is before start 2024-11-01"),
        ('scheme = "bhyt_supported"', 'scheme = "bhxh_voluntary"', "campaign row 1 (code X-1): field cofunding[1]: co-funding is only defined"),
        ('scheme = "bhyt_supported"', 'scheme = "bhyt"', "campaign row 1 (code X-1): field cofunding[1].scheme"),
        ('start = 2024-11-01', 'start = "1/11/2024"', "campaign row 1 (code X-1): field start: Input should be a valid date"),
        ('source = "Plan"\n', "", "campaign row 1 (code X-1): field source: Field required"),
    ],
)
def test_broken_campaigns_name_the_row(tmp_path: Path, old: str, new: str, expected: str) -> None:
    message = _campaign_error(tmp_path, CAMPAIGN.replace(old, new))
    assert "campaigns.toml: " in message
    assert expected in message


def test_duplicate_campaign_code(tmp_path: Path) -> None:
    message = _campaign_error(tmp_path, CAMPAIGN + "\n" + CAMPAIGN)
    assert "campaign row 2 (code X-1): code already used by row 1" in message


def test_duplicate_cofunding_rule(tmp_path: Path) -> None:
    rule = CAMPAIGN.split("source = \"Plan\"\n")[1]
    message = _campaign_error(tmp_path, CAMPAIGN + rule)
    assert "campaign row 1 (code X-1): cofunding[2] repeats scheme bhyt_supported" in message


def test_unknown_campaign_table(tmp_path: Path) -> None:
    message = _campaign_error(tmp_path, CAMPAIGN.replace("[[campaign]]", "[[campagin]]", 1))
    assert "unknown table" in message
