"""Tallies of enrolments against targets: per agent, team, unit (rolled up the tree), campaign
and day, and the seed 004 competition (staff who brought relatives in).

`TallyService` is what every reader calls: the agent's /toi, a team's /nhom, the leaderboard,
and the evening summaries (scheduler). It takes plain values (unit codes, dates, members) and
returns plain results; the SQL is in `storage.tallies`, the wording in the reply modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from bot.domain.campaigns import Campaign, CampaignBook
from bot.domain.records import TeamRow
from bot.domain.roles import Member
from bot.domain.tallies import (
    AGENT_MONTHLY_TARGET,
    AgentTally,
    CompetitionRow,
    CompetitionRules,
    MyResults,
    Period,
    SchemeCounts,
    SchemeTarget,
    TeamMemberTally,
    TeamResults,
    TeamTally,
    UnitTally,
    month_key,
    rank_desc,
    share,
)
from storage.contract import TallyStore, TeamStore

__all__ = [
    "AGENT_MONTHLY_TARGET",
    "AgentTally",
    "CompetitionRow",
    "CompetitionRules",
    "MyResults",
    "Period",
    "SchemeCounts",
    "TallyService",
    "TeamMemberTally",
    "TeamResults",
    "TeamTally",
    "UnitTally",
    "month_key",
]


class TallyService:
    def __init__(self, tallies: TallyStore, teams: TeamStore, campaigns: CampaignBook) -> None:
        self.tallies = tallies
        self.teams = teams
        self.campaigns = campaigns

    # ---- building blocks for every reader (summaries call these) -----------------------------

    def campaign_on(self, day: date, scheme: str | None = None) -> Campaign | None:
        """The campaign an entry logged on `day` counts for: the first running one that
        counts the scheme (any scheme when none is given)."""
        for campaign in self.campaigns.active_on(day):
            if scheme is None or campaign.counts(scheme):
                return campaign
        return None

    async def new_enrolments(
        self, scope_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> SchemeCounts:
        """Active entries logged in a scope (None: all units) between two days, inclusive."""
        return SchemeCounts.of(await self.tallies.totals(scope_codes, day_from, day_to))

    async def by_day(
        self, scope_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> dict[date, SchemeCounts]:
        """Entries per day (days without entries are absent)."""
        rows = await self.tallies.per_day(scope_codes, day_from, day_to)
        return {day: SchemeCounts.of(counts) for day, counts in sorted(rows.items())}

    async def agent_counts(self, member_id: int, period: Period) -> SchemeCounts:
        """One agent's active entries in a period."""
        return SchemeCounts.of(await self.tallies.of_agent(member_id, period.start, period.end))

    async def leaders(
        self, scope_codes: Sequence[str] | None, period: Period, limit: int = 10
    ) -> list[AgentTally]:
        """The agents with most entries in the scope and period, most first."""
        rows = await self.tallies.per_agent(scope_codes, period.start, period.end, limit)
        return [
            AgentTally(r.member_id, r.full_name, r.unit_code, r.unit_name, SchemeCounts.of(r.counts))
            for r in rows
        ]

    async def unit_tallies(
        self,
        scope_codes: Sequence[str] | None,
        period: Period,
        target_period: str | None = None,
    ) -> list[UnitTally]:
        """Every unit of the scope with its own entries and the total rolled up its subtree.

        Units come in tree order (parents before children, siblings by code); `target_period`
        ('2026' or a campaign code) attaches count targets when they were imported.
        """
        units = await self.tallies.units(scope_codes)
        own = await self.tallies.per_unit(scope_codes, period.start, period.end)
        targets = (
            await self.tallies.unit_target_counts(scope_codes, target_period) if target_period else {}
        )
        codes = {u.code for u in units}
        children: dict[str | None, list[str]] = {}
        for u in units:
            parent = u.parent_code if u.parent_code in codes else None
            children.setdefault(parent, []).append(u.code)
        by_code = {u.code: u for u in units}
        totals: dict[str, SchemeCounts] = {}
        depth: dict[str, int] = {}
        order: list[str] = []
        stack: list[tuple[str, int, bool]] = [(c, 0, False) for c in reversed(children.get(None, []))]
        while stack:  # iterative post-order: trees can be deep, recursion is not needed
            code, d, done = stack.pop()
            if done:
                totals[code] = sum(
                    (totals[c] for c in children.get(code, [])), SchemeCounts.of(own.get(code))
                )
                continue
            depth[code] = d
            order.append(code)
            stack.append((code, d, True))
            stack.extend((c, d + 1, False) for c in reversed(children.get(code, [])))
        return [
            UnitTally(
                code,
                by_code[code].name,
                by_code[code].parent_code,
                depth[code],
                SchemeCounts.of(own.get(code)),
                totals[code],
                _target(targets.get(code)),
            )
            for code in order
        ]

    async def unit_ranking(
        self, scope_codes: Sequence[str] | None, period: Period, level: int = 1
    ) -> list[UnitTally]:
        """Units at one depth of the scope (default: the children of the top unit), ranked by
        their rolled-up totals; a scope of one unit ranks that unit alone."""
        tallies = await self.unit_tallies(scope_codes, period)
        at_level = [t for t in tallies if t.depth == level] or [t for t in tallies if t.depth == 0]
        return sorted(at_level, key=lambda t: (-t.total.total, t.name))

    async def team_ranking(self, unit_code: str, day: date) -> list[TeamTally]:
        """Teams of a unit with a roster in the month of `day`, ranked by entries that month."""
        period = Period.month_of(day)
        teams = await self.tallies.teams_with_roster(unit_code, month_key(day))
        counts = await self.tallies.per_team([t.team_id for t in teams], period.start, period.end)
        return _ranked(teams, counts)

    async def competition(
        self,
        scope_codes: Sequence[str] | None,
        period: Period,
        rules: CompetitionRules | None = None,
    ) -> list[CompetitionRow]:
        """Seed 004 per unit: staff with >= 1 relative enrolled in BHYT / voluntary BHXH,
        as shares of the staff count, against the rules: given, else those of the campaign
        running at the end of the period, else seed 004's 100 % / 50 %."""
        if rules is None:
            rule = self.campaigns.competition_on(period.end)
            rules = (
                CompetitionRules(Decimal(rule.bhyt_share), Decimal(rule.bhxh_share))
                if rule is not None
                else CompetitionRules()
            )
        units = await self.tallies.units(scope_codes)
        relatives = {
            r.unit_code: r
            for r in await self.tallies.relatives_per_unit(scope_codes, period.start, period.end)
        }
        members = await self.tallies.active_members_per_unit(scope_codes)
        rows: list[CompetitionRow] = []
        for u in units:
            rel = relatives.get(u.code)
            with_bhyt = rel.staff_with_bhyt if rel else 0
            with_bhxh = rel.staff_with_bhxh if rel else 0
            staff = u.staff_count if u.staff_count else members.get(u.code)
            if not staff and not with_bhyt and not with_bhxh:
                continue  # a unit without staff (a village) takes no part
            bhyt_share = share(with_bhyt, staff)
            bhxh_share = share(with_bhxh, staff)
            rows.append(
                CompetitionRow(
                    u.code,
                    u.name,
                    staff,
                    not u.staff_count,
                    with_bhyt,
                    with_bhxh,
                    bhyt_share,
                    bhxh_share,
                    bhyt_share is not None and bhyt_share >= rules.bhyt_share,
                    bhxh_share is not None and bhxh_share >= rules.bhxh_share,
                )
            )
        rows.sort(key=lambda r: (-(r.bhyt_share or 0) - (r.bhxh_share or 0), r.name))
        return rows

    # ---- what one person asks --------------------------------------------------------------------

    async def my_results(self, member: Member, day: date) -> MyResults:
        """/toi: the member's entries this month, today and in the running campaign."""
        month = Period.month_of(day)
        month_counts = SchemeCounts.of(await self.tallies.of_agent(member.id, month.start, month.end))
        today_counts = SchemeCounts.of(await self.tallies.of_agent(member.id, day, day))
        campaign = self.campaign_on(day)
        campaign_period = Period.of_campaign(campaign).until(day) if campaign else None
        campaign_counts = (
            SchemeCounts.of(
                await self.tallies.of_agent(member.id, campaign_period.start, campaign_period.end)
            )
            if campaign_period
            else None
        )
        standing, racing = await self._standing(member, day)
        return MyResults(
            member, month, month_counts, today_counts, AGENT_MONTHLY_TARGET,
            campaign_period, campaign_counts, standing, racing,
        )

    async def team_results(self, member: Member, day: date) -> TeamResults | None:
        """/nhom: the member's team this month, member by member; None without a team."""
        team = await self.teams.team_of(member.id, month_key(day))
        if team is None:
            return None
        month = Period.month_of(day)
        ranking = await self.team_ranking(team.unit_code, day)
        mine = next((t for t in ranking if t.team_id == team.id), None)
        if mine is None:
            mine = TeamTally(team.id, team.code, team.name, SchemeCounts(), len(ranking) + 1)
        roster = await self.teams.roster(team.id, month_key(day))
        per_agent = await self.tallies.per_agent_in_team(team.id, month.start, month.end)
        members = [
            TeamMemberTally(entry.member, entry.is_leader, SchemeCounts.of(per_agent.get(entry.member.id)))
            for entry in roster
        ]
        return TeamResults(mine, max(len(ranking), 1), month, members)

    async def _standing(self, member: Member, day: date) -> tuple[TeamTally | None, int]:
        team = await self.teams.team_of(member.id, month_key(day))
        if team is None:
            return None, 0
        ranking = await self.team_ranking(team.unit_code, day)
        mine = next((t for t in ranking if t.team_id == team.id), None)
        return mine, len(ranking)


def _target(counts: Mapping[str, int] | None) -> SchemeTarget | None:
    if not counts:
        return None
    return SchemeTarget(bhyt=counts.get("bhyt", 0), bhxh=counts.get("bhxh_tn", counts.get("bhxh", 0)))


def _ranked(teams: Sequence[TeamRow], counts: Mapping[int, Mapping[str, int]]) -> list[TeamTally]:
    tallies = [SchemeCounts.of(counts.get(t.team_id)) for t in teams]
    ranks = rank_desc([c.total for c in tallies])
    out = [
        TeamTally(t.team_id, t.code, t.name, c, r) for t, c, r in zip(teams, tallies, ranks)
    ]
    return sorted(out, key=lambda t: (t.rank, t.code))
