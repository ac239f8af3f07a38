"""Application service of the officials' summaries: gather, package, subscriptions.

Channel-agnostic: handlers, the scheduler and the command line pass plain values (a unit
code, dates, an `Actor`) and get plain results back (`SummaryData`, `SummaryPackage`, a
`SummaryRefusal`). The figures come from the other features' public services, never from
their tables: new entries, leaders, teams and the seed 004 competition from
`bot.tallies.TallyService`; seed 003 coverage from `bot.organisation` (`coverage_rows`, which
feeds `bot.coverage.compute_coverage`); the month's Phụ lục 02 from `bot.enrolment_service` and
`bot.monthly_report`; reminder figures from the reminders feature (a `ReminderSource`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.domain.clock import Clock
from bot.domain.coverage import CoverageRow, Measure, UnitInput, compute_coverage
from bot.domain.privacy import mask_name
from bot.domain.records import KIND_DAILY, KIND_WEEKLY, SummaryPrefs, Unit
from bot.domain.roles import Role
from bot.domain.summary import (
    LeaderLine,
    ReminderFigures,
    SummaryData,
    SummaryKind,
    TeamLine,
    find_laggards,
    progress_of,
    render_summary,
    short_name,
)
from bot.logsafety import describe_exception
from bot.parsing.questions import normalize
from bot.reports.monthly_xlsx import build_workbook as build_monthly_workbook
from bot.reports.summary_chart import render_chart
from bot.reports.summary_xlsx import build_summary_workbook, workbook_filename
from bot.services.access import AccessService, Actor
from bot.services.enrolment import EnrolmentService, MonthlyReport
from bot.services.organisation import OrganisationService, load_coverage_inputs
from bot.services.tallies import CompetitionRow, Period, SchemeCounts, TallyService
from storage.contract import SummaryStore, TeamStore, UnitStore

log = logging.getLogger(__name__)

__all__ = [
    "CAN_SUMMARY",
    "CoverageInputsSource",
    "CoverageSource",
    "GatherCache",
    "MonthlySource",
    "RefusalKey",
    "ReminderServiceSource",
    "ReminderSource",
    "ReportArgs",
    "SummaryPackage",
    "SummaryRefusal",
    "SummaryService",
    "build_summary_service",
    "parse_report_args",
    "weekly_period",
]

# Who may ask for summaries and reports: officials, team leaders and admins.
CAN_SUMMARY = {Role.OFFICIAL, Role.TEAM_LEADER, Role.ADMIN}
MAX_RANGE_DAYS = 366
# Phụ lục 02 lists every participant of the month. A team's or a commune's form (tens to a few
# thousand rows) rides along with the evening summary; a province's (tens of thousands) would
# cost seconds and megabytes every evening, so above this its sheet says how to get it instead.
MAX_FORM_ROWS = 2000
#: Summaries rendered (chart, workbooks) at once in worker threads; the rest wait their turn.
RENDER_CONCURRENCY = 2
LEADERS = 5
TEAMS = 5
# The weekly digest goes out on Mondays (seed 003's weekly notices), for the week before.
WEEKLY_WEEKDAY = 0

# (root unit code, day) -> seed 003 rows of the subtree, root first (bot.organisation).
CoverageSource = Callable[[str, date], Awaitable[list[CoverageRow]]]
# day -> the coverage inputs of the whole tree (bot.organisation.load_coverage_inputs), for
# rounds that slice one load per scope with bot.coverage.compute_coverage.
CoverageInputsSource = Callable[[date], Awaitable[list[UnitInput]]]
# (first day of month, unit code) -> the Phụ lục 02 rows of the subtree, or None
# (`EnrolmentService.monthly_report_for_unit`).
MonthlySource = Callable[[date, str], Awaitable[MonthlyReport | None]]


class ReminderSource(Protocol):
    """Reminder figures of a scope (the lapsed-card reminders feature)."""

    async def figures(self, scope: Sequence[str], day_from: date, day_to: date) -> ReminderFigures: ...

    def campaign_start(self, day: date) -> date | None:
        """When the reminder campaigns running on `day` began ("to date" counts from there)."""
        ...


class ReminderCountsLike(Protocol):
    async def reminder_counts(
        self, scope_codes: list[str], day_from: date, day_to: date, *, eligible: bool = True
    ) -> Any: ...


class ReminderServiceSource:
    """Adapter over `bot.services.cards.ReminderService.reminder_counts`: its totals for a
    scope and period become the figures the summary shows.

    The eligible figure is not among them, so it is not asked for (``eligible=False``): over
    a province it was the costliest statement of the gather, counted twice per summary (the
    period and the campaign to date) and thrown away both times."""

    def __init__(self, service: ReminderCountsLike) -> None:
        self.service = service

    async def figures(self, scope: Sequence[str], day_from: date, day_to: date) -> ReminderFigures:
        counts = await self.service.reminder_counts(list(scope), day_from, day_to, eligible=False)
        total = counts.total
        return ReminderFigures(
            total.reminded, total.reached, total.renewed_after_reminder,
            total.by_zns, total.delivered, total.refused, total.unknown, total.zns_cost,
        )

    def campaign_start(self, day: date) -> date | None:
        plan = getattr(self.service, "plan", None)
        running = plan.running_on(day) if plan is not None else []
        return min((c.start for c in running), default=None)


class RefusalKey(StrEnum):
    ROLE = "role"  # citizens and agents
    NO_UNIT = "no_unit"  # an admin without a unit, with several top units: name one
    UNIT = "unit"  # not found or outside the scope: the same answer either way
    DATES = "dates"  # end before start, more than a year, or in the future


@dataclass(frozen=True)
class SummaryRefusal:
    key: RefusalKey
    detail: str | None = None


@dataclass(frozen=True)
class SummaryPackage:
    """One summary as it is sent: the message, the chart and the workbook."""

    data: SummaryData
    text: str
    chart: bytes | None  # None when the chart could not be drawn: the rest still goes out
    chart_name: str
    workbook: bytes
    workbook_name: str


@dataclass
class GatherCache:
    """Figures that do not depend on the scope, computed once per scheduled round.

    A round serves hundreds of officials of different units on one day: the coverage inputs of
    the whole tree, the per-unit tallies rolled up the tree and the competition rows per unit
    are the same for all of them, so each is loaded once and sliced per scope (a unit's
    rolled-up total is its subtree's, whatever the scope asked).
    """

    day: date
    coverage_inputs: list[UnitInput] | None = None
    rolled: dict[tuple[date, date], dict[str, SchemeCounts]] = field(default_factory=dict)
    competition: dict[tuple[date, date], list[CompetitionRow]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class ReportArgs:
    """`/baocao [unit] [from to]` as typed; `error` names what could not be read."""

    unit: str | None = None
    start: date | None = None
    end: date | None = None
    error: str | None = None


_DATE_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", re.ASCII)
MAX_ARGS_CHARS = 200


def _parse_date(text: str) -> date | None:
    match = _DATE_RE.match(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_report_args(text: str) -> ReportArgs:
    """Read `[unit] [DD/MM/YYYY DD/MM/YYYY]`: the unit is everything before the dates."""
    text = " ".join(text.split())
    if len(text) > MAX_ARGS_CHARS:
        return ReportArgs(error="too_long")
    if not text:
        return ReportArgs()
    tokens = text.split(" ")
    dated = [t for t in tokens if _DATE_RE.match(t) or re.match(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d+$", t, re.ASCII)]
    if not dated:
        return ReportArgs(unit=text)
    if len(dated) != 2 or tokens[-2:] != dated:
        return ReportArgs(error="dates")
    start, end = _parse_date(dated[0]), _parse_date(dated[1])
    if start is None or end is None:
        return ReportArgs(error="dates")
    unit = " ".join(tokens[:-2]) or None
    return ReportArgs(unit=unit, start=start, end=end)


def weekly_period(day: date) -> tuple[date, date]:
    """The seven days before `day` (a Monday digest covers Monday to Sunday before)."""
    return day - timedelta(days=7), day - timedelta(days=1)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SummaryService:
    def __init__(
        self,
        *,
        clock: Clock,
        repo: SummaryStore,
        units: UnitStore,
        teams: TeamStore,
        tallies: TallyService,
        access: AccessService,
        coverage: CoverageSource,
        coverage_inputs: CoverageInputsSource | None = None,
        monthly: MonthlySource | None = None,
        reminders: ReminderSource | None = None,
    ) -> None:
        self.clock = clock
        self.repo = repo
        self.units = units
        self.teams = teams
        self.tallies = tallies
        self.access = access
        self.coverage = coverage
        self.coverage_inputs = coverage_inputs
        self.monthly = monthly
        self.reminders = reminders
        # One scheduled round at a time per process (scheduler/summaries.py).
        self.round_lock = asyncio.Lock()
        # Drawing and workbook building run in worker threads; at most this many summaries
        # are rendered at once, so twenty officials pressing /baocao together queue instead
        # of taking every core and thread from the conversations.
        self.render_gate = asyncio.Semaphore(RENDER_CONCURRENCY)
        self.round_task: asyncio.Task[None] | None = None

    # ---- subscriptions ----------------------------------------------------------------------

    async def prefs(self, member_id: int) -> SummaryPrefs:
        return await self.repo.prefs(member_id)

    async def set_daily(self, member_id: int, on: bool) -> SummaryPrefs:
        return await self.repo.set_pref(member_id, KIND_DAILY, on, self.clock.now())

    async def set_weekly(self, member_id: int, on: bool) -> SummaryPrefs:
        return await self.repo.set_pref(member_id, KIND_WEEKLY, on, self.clock.now())

    # ---- gathering ----------------------------------------------------------------------------

    @staticmethod
    def new_cache(day: date) -> GatherCache:
        """A cache for one round of many scopes on `day` (see `GatherCache`)."""
        return GatherCache(day)

    async def gather(
        self,
        unit_code: str,
        kind: SummaryKind,
        day: date,
        start: date | None = None,
        end: date | None = None,
        cache: GatherCache | None = None,
    ) -> SummaryData:
        """The figures of one scope: `unit_code` and everything below it.

        DAILY: today, and the running campaign (else the month) so far. WEEKLY: the seven days
        before `day`. RANGE: `start`..`end`. Coverage (seed 003) counts every entry up to now.
        """
        unit = await self.units.get(unit_code)
        if unit is None:
            raise LookupError(unit_code)
        scope = await self.units.subtree_codes(unit_code)
        if kind is SummaryKind.DAILY:
            period = Period.day(day)
        elif kind is SummaryKind.WEEKLY:
            first, last = weekly_period(day)
            period = Period(first, last, "tuần")
        else:
            assert start is not None and end is not None
            period = Period(start, end, "kỳ")
        cumulative: Period | None = None
        cumulative_label: str | None = None
        if kind is not SummaryKind.RANGE:
            campaign = self.tallies.campaign_on(period.end)
            if campaign is not None:
                cumulative = Period.of_campaign(campaign).until(period.end)
                cumulative_label = "Từ đầu chiến dịch"
            else:
                cumulative = Period.month_of(period.end).until(period.end)
                cumulative_label = "Từ đầu tháng"
        standing = cumulative or period

        period_counts = await self.tallies.new_enrolments(scope, period.start, period.end)
        cumulative_counts = (
            await self.tallies.new_enrolments(scope, cumulative.start, cumulative.end)
            if cumulative is not None
            else None
        )
        rows = await self._coverage(unit_code, day, cache)
        rolled = await self._rolled(scope, standing, cache)
        root_row = next((r for r in rows if r.depth == 0), None)
        root = progress_of(root_row, rolled.get(unit_code, SchemeCounts()).total) if root_row else None
        children = [
            progress_of(r, rolled.get(r.code, SchemeCounts()).total) for r in rows if r.depth == 1
        ]
        children = find_laggards(root, children)
        agents = [
            LeaderLine(mask_name(a.name), short_name(a.unit_name), a.counts.total)
            for a in await self.tallies.leaders(scope, standing, limit=LEADERS)
            if a.counts.total > 0
        ]
        teams = await self._teams(scope, standing)
        competition = await self._competition(scope, standing, cache)
        reminders_period, reminders_to_date = await self._reminders(scope, period, standing)
        return SummaryData(
            kind=kind,
            unit_code=unit.code,
            unit_name=unit.name,
            as_of=day,
            period_start=period.start,
            period_end=period.end,
            period_counts=period_counts,
            cumulative_label=cumulative_label,
            cumulative_start=cumulative.start if cumulative else None,
            cumulative_counts=cumulative_counts,
            root=root,
            root_voluntary=root_row.figures[Measure.BHXH_TN] if root_row else None,
            children=children,
            agents=agents,
            teams=teams,
            competition=competition,
            reminders_period=reminders_period,
            reminders_to_date=reminders_to_date,
            coverage_rows=rows,
        )

    async def _coverage(self, unit_code: str, day: date, cache: GatherCache | None) -> list[CoverageRow]:
        if cache is None or self.coverage_inputs is None:
            return await self.coverage(unit_code, day)
        async with cache.lock:
            if cache.coverage_inputs is None:
                cache.coverage_inputs = await self.coverage_inputs(cache.day)
        return compute_coverage(cache.coverage_inputs, root=unit_code)

    async def _rolled(
        self, scope: Sequence[str], period: Period, cache: GatherCache | None
    ) -> dict[str, SchemeCounts]:
        """Entries per unit in the period, rolled up the tree (a unit's subtree total)."""
        if cache is None:
            return {t.code: t.total for t in await self.tallies.unit_tallies(scope, period)}
        key = (period.start, period.end)
        async with cache.lock:
            if key not in cache.rolled:
                cache.rolled[key] = {t.code: t.total for t in await self.tallies.unit_tallies(None, period)}
        return cache.rolled[key]

    async def _competition(
        self, scope: Sequence[str], period: Period, cache: GatherCache | None
    ) -> list[CompetitionRow]:
        if cache is None:
            return await self.tallies.competition(scope, period)
        key = (period.start, period.end)
        async with cache.lock:
            if key not in cache.competition:
                cache.competition[key] = await self.tallies.competition(None, period)
        wanted = set(scope)
        return [r for r in cache.competition[key] if r.unit_code in wanted]

    async def _teams(self, scope: Sequence[str], period: Period) -> list[TeamLine]:
        teams = await self.teams.in_units(scope)
        if not teams:
            return []
        counts = await self.tallies.tallies.per_team([t.id for t in teams], period.start, period.end)
        names = {u.code: u.name for u in await self.tallies.tallies.units(sorted({t.unit_code for t in teams}))}
        lines = [
            TeamLine(_short(t.name), short_name(names.get(t.unit_code, t.unit_code)), SchemeCounts.of(counts.get(t.id)).total)
            for t in teams
        ]
        lines = [line for line in lines if line.count > 0]
        lines.sort(key=lambda line: (-line.count, line.name))
        return lines[:TEAMS]

    async def _reminders(
        self, scope: Sequence[str], period: Period, standing: Period
    ) -> tuple[ReminderFigures | None, ReminderFigures | None]:
        if self.reminders is None:
            return None, None
        in_period = await self.reminders.figures(scope, period.start, period.end)
        start = self.reminders.campaign_start(period.end) or standing.start
        to_date = await self.reminders.figures(scope, min(start, period.start), period.end)
        if to_date.sent == 0 and in_period.sent == 0:
            return None, None  # no reminders in this area: leave the line out
        return in_period, to_date

    async def _month_new(
        self, scope: Sequence[str], day: date, cache: GatherCache | None = None
    ) -> dict[str, int]:
        """BHYT entries per unit this month, rolled up (column 6 of seed 003's first table)."""
        month = Period.month_of(day).until(day)
        rolled = await self._rolled(scope, month, cache)
        wanted = set(scope)
        return {code: counts.bhyt for code, counts in rolled.items() if code in wanted}

    # ---- packaging ----------------------------------------------------------------------------

    async def package(
        self, data: SummaryData, *, mask_codes: bool = True, cache: GatherCache | None = None
    ) -> SummaryPackage:
        """Render the message, the chart and the workbook (the last two in a worker thread:
        they take a fraction of a second each and must not stall the bot's event loop)."""
        scope = await self.units.subtree_codes(data.unit_code)
        month_new = await self._month_new(scope, data.period_end, cache)
        monthly_bytes: bytes | None = None
        omitted: int | None = None
        if self.monthly is not None:
            form = await self.monthly(data.period_end.replace(day=1), data.unit_code)
            if form is not None and len(form.rows) > MAX_FORM_ROWS:
                omitted = len(form.rows)
            elif form is not None:
                async with self.render_gate:
                    monthly_bytes = await asyncio.to_thread(
                        build_monthly_workbook, form.rows, form.month, form.scope_label, data.as_of, mask_codes
                    )
        text = render_summary(data)
        async with self.render_gate:
            try:
                chart: bytes | None = await asyncio.to_thread(render_chart, data)
            except Exception as exc:  # a drawing problem must not cost officials their figures
                log.error("the chart of unit %s could not be drawn: %s", data.unit_code, describe_exception(exc))
                chart = None
            workbook = await asyncio.to_thread(
                build_summary_workbook, data, month_new=month_new, monthly_form=monthly_bytes,
                monthly_rows_omitted=omitted,
            )
        return SummaryPackage(
            data, text, chart, workbook_filename(data, "png"), workbook, workbook_filename(data)
        )

    async def build(
        self,
        unit_code: str,
        kind: SummaryKind,
        day: date,
        start: date | None = None,
        end: date | None = None,
        *,
        mask_codes: bool = True,
        cache: GatherCache | None = None,
    ) -> SummaryPackage:
        data = await self.gather(unit_code, kind, day, start, end, cache)
        return await self.package(data, mask_codes=mask_codes, cache=cache)

    # ---- on demand (/baocao) -----------------------------------------------------------------

    async def for_actor(self, actor: Actor, args: ReportArgs) -> SummaryPackage | SummaryRefusal:
        """`/baocao`: the actor's own area now, or a unit in scope over a date range."""
        if actor.role not in CAN_SUMMARY:
            return SummaryRefusal(RefusalKey.ROLE)
        if args.error is not None:
            return SummaryRefusal(RefusalKey.DATES if args.error == "dates" else RefusalKey.UNIT)
        today = self.clock.now().date()
        if args.unit is not None:
            unit = await self.find_unit(actor, args.unit)
            if unit is None:
                return SummaryRefusal(RefusalKey.UNIT, args.unit)
        else:
            unit = await self._own_unit(actor)
            if unit is None:
                return SummaryRefusal(RefusalKey.NO_UNIT)
        if args.start is None or args.end is None:
            return await self.build(unit.code, SummaryKind.DAILY, today)
        if args.end < args.start or args.start > today or (args.end - args.start).days >= MAX_RANGE_DAYS:
            return SummaryRefusal(RefusalKey.DATES)
        end = min(args.end, today)
        return await self.build(unit.code, SummaryKind.RANGE, today, args.start, end)

    async def _own_unit(self, actor: Actor) -> Unit | None:
        if actor.scope_code is not None:
            return await self.units.get(actor.scope_code)
        roots = await self.units.roots()
        return roots[0] if len(roots) == 1 else None

    async def find_unit(self, actor: Actor, text: str) -> Unit | None:
        """A unit in the actor's scope by code (any case) or by name (diacritics optional).

        Outside the scope and non-existent get the same None, so nothing is revealed.
        """
        wanted = text.strip()
        if not wanted or len(wanted) > 120:
            return None
        unit = await self.units.get(wanted) or await self.units.get(wanted.upper())
        if unit is not None:
            return unit if await self.access.can_see(actor, unit.code) else None
        if actor.scope_code is not None:
            candidates = await self.units.subtree(actor.scope_code)
        elif actor.is_admin:
            candidates = await self.units.all()
        else:
            return None
        key = normalize(wanted)
        exact = [u for u in candidates if normalize(u.name) == key]
        if len(exact) == 1:
            return exact[0]
        short = [u for u in candidates if normalize(short_name(u.name)) == key]
        return short[0] if len(short) == 1 else None


def build_summary_service(
    store: SummaryStore,
    clock: Clock,
    units: UnitStore,
    teams: TeamStore,
    access: AccessService,
    tallies: TallyService,
    organisation: OrganisationService,
    enrolments: EnrolmentService,
    reminders: ReminderCountsLike | None,
) -> SummaryService:
    """Wire the summaries over the other features' services (called by bot.bootstrap.build_services)."""

    async def coverage(root: str, day: date) -> list[CoverageRow]:
        return await organisation.coverage_rows(root, on=day)

    async def coverage_inputs(day: date) -> list[UnitInput]:
        return await load_coverage_inputs(organisation.units, organisation.figures, None, on=day)

    return SummaryService(
        clock=clock,
        repo=store,
        units=units,
        teams=teams,
        tallies=tallies,
        access=access,
        coverage=coverage,
        coverage_inputs=coverage_inputs,
        monthly=enrolments.monthly_report_for_unit,
        reminders=ReminderServiceSource(reminders) if reminders is not None else None,
    )
