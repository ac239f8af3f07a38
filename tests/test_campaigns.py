"""Campaigns as data: dates, the schemes they count, competition rules, co-funding."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.campaigns import CampaignBook, CampaignsError, Scheme


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
