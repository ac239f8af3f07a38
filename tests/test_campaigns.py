"""Campaigns as data: dates, the schemes they count, competition rules, co-funding."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.domain.campaigns import CampaignBook, CampaignsError, Scheme


def test_the_seed_004_competition_runs_with_its_rule_only_in_its_dates() -> None:
    book = CampaignBook.load()
    assert book.competition_on(date(2024, 11, 14)) is None
    rule = book.competition_on(date(2024, 11, 20))
    assert rule is not None and (rule.bhyt_share, rule.bhxh_share) == (100, 50)
    assert book.competition_on(date(2024, 12, 1)) is None


def test_a_campaign_counts_only_its_schemes(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text(
        '[[campaign]]\ncode = "X"\nname = "Chỉ BHYT"\nstart = 2026-11-01\nend = 2026-11-30\n'
        'source = "thử"\nschemes = ["bhyt_household"]\n',
        encoding="utf-8",
    )
    (campaign,) = CampaignBook.load(path).active_on(date(2026, 11, 23))
    assert campaign.counts(Scheme.BHYT_HOUSEHOLD)
    assert not campaign.counts("bhxh_voluntary")


@pytest.mark.parametrize(
    "extra",
    ['competition = { bhyt_share = 120 }', 'schemes = ["bhyt_lifetime"]', 'schemes = []', "prize = 1"],
)
def test_a_bad_campaign_row_is_refused_naming_it(tmp_path: Path, extra: str) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text(
        '[[campaign]]\ncode = "X"\nname = "Thử"\nstart = 2026-11-01\nend = 2026-11-30\n'
        f'source = "thử"\n{extra}\n',
        encoding="utf-8",
    )
    with pytest.raises(CampaignsError, match="campaign"):
        CampaignBook.load(path)


def test_cofunding_applies_only_in_the_campaigns_area() -> None:
    """Seed 000's co-funding is An Giang's: a person from elsewhere gets the legal figure, one
    who did not say where is asked (None), never assumed to live there."""
    campaign = CampaignBook.load().by_code("AG-2024-11")
    assert campaign is not None and campaign.area_key == "angiang"
    assert campaign.applies_in("angiang") is True
    assert campaign.applies_in("longxuyen") is True  # a city of An Giang
    assert campaign.applies_in("camau") is False
    assert campaign.applies_in(None) is None


def test_a_campaign_without_an_area_applies_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text(
        '[[campaign]]\ncode = "X"\nname = "X"\nstart = 2024-11-01\nend = 2024-11-30\nsource = "s"\n',
        encoding="utf-8",
    )
    (campaign,) = CampaignBook.load(path).campaigns
    assert campaign.area_key is None
    assert campaign.applies_in(None) is True and campaign.applies_in("camau") is True


def test_an_area_the_bot_cannot_recognise_is_refused_when_it_has_cofunding(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text(
        '[[campaign]]\ncode = "X"\nname = "X"\nstart = 2024-11-01\nend = 2024-11-30\nsource = "s"\n'
        'area = "Vùng Đất Hứa"\n'
        '[[campaign.cofunding]]\nscheme = "bhyt_supported"\ngroup = "can_ngheo"\nmonths = 3\n'
        'person_pays = 1000\nremainder_funder = "r"\n',
        encoding="utf-8",
    )
    with pytest.raises(CampaignsError, match="campaign row 1 \\(code X\\).*Vùng Đất Hứa"):
        CampaignBook.load(path)
