"""Tally values: counts per scheme, targets, periods, and the results readers show (an
agent's /toi, a team's /nhom, leaderboards, the seed 004 competition). Pure values and
arithmetic; `bot.services.tallies.TallyService` fills them from storage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.campaigns import Campaign
from bot.domain.roles import Member

__all__ = [
    "AGENT_MONTHLY_TARGET",
    "AgentTally",
    "CompetitionRow",
    "CompetitionRules",
    "MyResults",
    "Period",
    "SchemeCounts",
    "SchemeTarget",
    "TeamMemberTally",
    "TeamResults",
    "TeamTally",
    "UnitTally",
    "month_key",
    "rank_desc",
    "share",
]

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class SchemeCounts:
    """Entries per scheme; BHYT counts both the household and the supported card."""

    bhyt_household: int = 0
    bhyt_supported: int = 0
    bhxh_voluntary: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int] | None) -> SchemeCounts:
        counts = counts or {}
        return cls(
            counts.get("bhyt_household", 0),
            counts.get("bhyt_supported", 0),
            counts.get("bhxh_voluntary", 0),
        )

    @property
    def bhyt(self) -> int:
        return self.bhyt_household + self.bhyt_supported

    @property
    def bhxh(self) -> int:
        return self.bhxh_voluntary

    @property
    def total(self) -> int:
        return self.bhyt + self.bhxh

    def __add__(self, other: SchemeCounts) -> SchemeCounts:
        return SchemeCounts(
            self.bhyt_household + other.bhyt_household,
            self.bhyt_supported + other.bhyt_supported,
            self.bhxh_voluntary + other.bhxh_voluntary,
        )


@dataclass(frozen=True)
class SchemeTarget:
    """A count target for BHYT and voluntary BHXH."""

    bhyt: int
    bhxh: int

    def met_by(self, counts: SchemeCounts) -> bool:
        return counts.bhyt >= self.bhyt and counts.bhxh >= self.bhxh

    def times(self, n: int) -> SchemeTarget:
        return SchemeTarget(self.bhyt * n, self.bhxh * n)


# Seed 002: every member of a team brings at least 1 voluntary-BHXH and 1 BHYT participant a month.
AGENT_MONTHLY_TARGET = SchemeTarget(bhyt=1, bhxh=1)


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, inclusive, with the label replies show."""

    start: date
    end: date
    label: str
    campaign_code: str | None = None

    @classmethod
    def month_of(cls, day: date) -> Period:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return cls(start, end, f"tháng {day.month}/{day.year}")

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(day, day, day.strftime("%d/%m/%Y"))

    @classmethod
    def of_campaign(cls, campaign: Campaign) -> Period:
        return cls(campaign.start, campaign.end, campaign.name, campaign.code)

    def until(self, day: date) -> Period:
        """The same period cut at `day` (a campaign so far)."""
        return Period(self.start, min(self.end, max(day, self.start)), self.label, self.campaign_code)


def month_key(day: date) -> str:
    """Roster month key 'YYYY-MM' (seed 002 rosters change every month)."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class AgentTally:
    member_id: int
    name: str
    unit_code: str
    unit_name: str
    counts: SchemeCounts


@dataclass(frozen=True)
class TeamTally:
    team_id: int
    code: str
    name: str
    counts: SchemeCounts
    rank: int  # 1 = most entries; equal totals share a rank


@dataclass(frozen=True)
class UnitTally:
    code: str
    name: str
    parent_code: str | None
    depth: int  # 0 for the top units of the scope
    own: SchemeCounts  # logged by agents of this unit
    total: SchemeCounts  # rolled up: this unit and everything below it in the scope
    target: SchemeTarget | None = None  # count targets of the period, if loaded


@dataclass(frozen=True)
class CompetitionRules:
    """Seed 004: shares of staff who must bring at least one relative into each scheme."""

    bhyt_share: Decimal = Decimal(100)
    bhxh_share: Decimal = Decimal(50)


@dataclass(frozen=True)
class CompetitionRow:
    unit_code: str
    name: str
    staff: int | None  # from units.staff_count, else the unit's active members
    staff_from_members: bool
    with_bhyt: int  # staff with >= 1 relative enrolled in BHYT
    with_bhxh: int  # ... in voluntary BHXH
    bhyt_share: Decimal | None  # percent, 2 places; None when the staff count is unknown
    bhxh_share: Decimal | None
    bhyt_met: bool
    bhxh_met: bool


@dataclass(frozen=True)
class MyResults:
    """An agent's /toi: this month against the seed 002 target, today, the campaign, the team."""

    member: Member
    month: Period
    month_counts: SchemeCounts
    today_counts: SchemeCounts
    target: SchemeTarget
    campaign: Period | None = None
    campaign_counts: SchemeCounts | None = None
    team: TeamTally | None = None
    teams_in_race: int = 0


@dataclass(frozen=True)
class TeamMemberTally:
    member: Member
    is_leader: bool
    counts: SchemeCounts

    @property
    def met(self) -> bool:
        return AGENT_MONTHLY_TARGET.met_by(self.counts)


@dataclass(frozen=True)
class TeamResults:
    """A team's /nhom: each member this month, the team total against its target, the rank."""

    team: TeamTally
    teams_in_race: int
    month: Period
    members: list[TeamMemberTally] = field(default_factory=list)

    @property
    def target(self) -> SchemeTarget:
        return AGENT_MONTHLY_TARGET.times(len(self.members))


def share(part: int, whole: int | None) -> Decimal | None:
    """part / whole in percent, 2 places half up; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rank_desc(values: Sequence[int]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of values, highest first."""
    return [1 + sum(1 for other in values if other > v) for v in values]
