"""Campaign co-funding as data (``bot/data/campaigns.toml``).

Campaigns promise local extras on top of the legal support (seed 000: an ethnic-minority
person pays a flat 20.000 đ for a 3-month card, the BHXH office adds 60.000 đ and the commune
or donors cover the rest). Such promises differ per campaign and end on a date, so they are
data, validated as strictly as the rate tables; the engine does the arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictInt, ValidationError, model_validator

from bot.domain.rates import DataFileError, load_toml, validation_message
from bot.parsing.questions import place_key, place_within

__all__ = ["Campaign", "CampaignBook", "CampaignsError", "CoFunding", "Funder", "Scheme"]

CAMPAIGNS_FILE = "campaigns.toml"


class CampaignsError(DataFileError):
    """campaigns.toml is invalid."""


class Scheme(StrEnum):
    """What is being paid for; co-funding is defined for supported BHYT cards only."""

    BHYT_HOUSEHOLD = "bhyt_household"
    BHYT_SUPPORTED = "bhyt_supported"
    BHXH_VOLUNTARY = "bhxh_voluntary"


_Date = Annotated[date, Strict()]
_Money = Annotated[StrictInt, Field(ge=0)]
_Text = Annotated[str, Field(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Funder(_Frozen):
    """Someone who pays part of a card: a fixed amount, or the remainder in a quote."""

    name: _Text
    amount: _Money


class CoFunding(_Frozen):
    """For one scheme, group and period: the person's flat amount and who pays the rest."""

    scheme: Scheme
    group: _Text
    months: Annotated[StrictInt, Field(ge=1)]
    person_pays: _Money
    funders: tuple[Funder, ...] = ()
    remainder_funder: _Text
    note: _Text | None = None

    @model_validator(mode="after")
    def _supported_scheme(self) -> CoFunding:
        if self.scheme is not Scheme.BHYT_SUPPORTED:
            raise ValueError(f"co-funding is only defined for scheme {Scheme.BHYT_SUPPORTED.value!r}")
        return self

    @property
    def fixed_total(self) -> int:
        """What the person and the fixed funders pay together."""
        return self.person_pays + sum(f.amount for f in self.funders)


_Share = Annotated[StrictInt, Field(ge=0, le=100)]


class Competition(_Frozen):
    """Seed 004's rule: the share (percent) of a unit's staff who bring at least one relative
    into BHYT and into voluntary BHXH."""

    bhyt_share: _Share = 100
    bhxh_share: _Share = 50
    note: _Text | None = None


class Campaign(_Frozen):
    """An enrolment campaign: dates (inclusive), the schemes it counts, co-funding promises
    and, for a competition, its rule."""

    code: _Text
    name: _Text
    start: _Date
    end: _Date
    source: _Text
    area: _Text | None = None
    note: _Text | None = None
    schemes: Annotated[tuple[Scheme, ...], Field(min_length=1)] = tuple(Scheme)
    competition: Competition | None = None
    cofunding: tuple[CoFunding, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        seen: set[tuple[Scheme, str, int]] = set()
        for number, rule in enumerate(self.cofunding, start=1):
            key = (rule.scheme, rule.group, rule.months)
            if key in seen:
                raise ValueError(f"cofunding[{number}] repeats scheme {rule.scheme.value}, group {rule.group}, months {rule.months}")
            seen.add(key)
        if self.cofunding and self.area and place_key(self.area) is None:
            # co-funding applies only to people of the area, matched by place key
            raise ValueError(f"area {self.area!r} names no known province or town: its co-funding could never apply")
        return self

    def is_active_on(self, d: date) -> bool:
        """True when ``d`` is within the campaign's dates."""
        return self.start <= d <= self.end

    @property
    def area_key(self) -> str | None:
        """The area as a place key ("Tỉnh An Giang" -> "angiang"); None without an area or
        when the area names no known province."""
        return place_key(self.area) if self.area else None

    def applies_in(self, area: str | None) -> bool | None:
        """Does the campaign's co-funding apply to a person living in ``area`` (a place key)?

        True without an area (it applies everywhere) or when the keys match, False when the
        person lives elsewhere, None when the person did not say where: the caller must not
        assume the area (a campaign's extras are for its own people only).
        """
        if self.area is None:
            return True
        if area is None:
            return None
        return place_within(area, self.area_key)

    def counts(self, scheme: Scheme | str) -> bool:
        """Does an enrolment in this scheme count for the campaign?"""
        return Scheme(scheme) in self.schemes

    def cofunding_for(self, scheme: Scheme | str, group: str, months: int) -> CoFunding | None:
        """The co-funding rule for exactly this scheme, group and period, if any."""
        for rule in self.cofunding:
            if rule.scheme == scheme and rule.group == group and rule.months == months:
                return rule
        return None


class CampaignBook(_Frozen):
    """All campaigns of campaigns.toml."""

    name: str = CAMPAIGNS_FILE
    campaigns: tuple[Campaign, ...] = ()

    @classmethod
    def load(cls, path: Path | str | None = None) -> CampaignBook:
        """Load and validate campaigns.toml (the packaged one when ``path`` is None)."""
        name, doc = load_toml(path, CAMPAIGNS_FILE, CampaignsError)
        return cls.from_document(doc, name=name)

    @classmethod
    def from_document(cls, doc: dict[str, Any], name: str = CAMPAIGNS_FILE) -> CampaignBook:
        """Validate a parsed document; raises CampaignsError naming the campaign row."""
        unknown = sorted(set(doc) - {"campaign"})
        if unknown:
            raise CampaignsError(f"{name}: unknown table {unknown[0]!r} (expected 'campaign')")
        raw = doc.get("campaign", [])
        if not isinstance(raw, list):
            raise CampaignsError(f"{name}: campaign: must be an array of tables ([[campaign]])")
        campaigns = tuple(_load_campaign(name, number, item) for number, item in enumerate(raw, start=1))
        _check_unique_codes(name, campaigns)
        return cls(name=name, campaigns=campaigns)

    def competition_on(self, d: date) -> Competition | None:
        """The competition rule of the first running campaign that has one."""
        for campaign in self.active_on(d):
            if campaign.competition is not None:
                return campaign.competition
        return None

    def active_on(self, d: date) -> list[Campaign]:
        """Campaigns running on ``d``, in file order."""
        return [c for c in self.campaigns if c.is_active_on(d)]

    def by_code(self, code: str) -> Campaign | None:
        """The campaign with this code, if any."""
        return next((c for c in self.campaigns if c.code == code), None)


def _row_label(number: int, raw: object) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    return f"campaign row {number} (code {code})" if code is not None else f"campaign row {number}"


def _load_campaign(name: str, number: int, raw: object) -> Campaign:
    if not isinstance(raw, dict):
        raise CampaignsError(f"{name}: {_row_label(number, raw)}: must be a table")
    try:
        return Campaign.model_validate(raw)
    except ValidationError as exc:
        raise CampaignsError(f"{name}: {_row_label(number, raw)}: {validation_message(exc)}") from None


def _check_unique_codes(name: str, campaigns: Sequence[Campaign]) -> None:
    seen: dict[str, int] = {}
    for number, campaign in enumerate(campaigns, start=1):
        if campaign.code in seen:
            raise CampaignsError(
                f"{name}: campaign row {number} (code {campaign.code}): code already used by row {seen[campaign.code]}"
            )
        seen[campaign.code] = number
