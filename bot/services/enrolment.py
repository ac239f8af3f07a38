"""Application service of enrolment logging: price a draft, log it, withdraw, void, report.

Channel-agnostic (no Telegram here): the chat handlers and the command line pass members,
actors and drafts, and get plain results back. Time comes from the injected clock; the amount
comes from the cost engine at the day of logging (the day the participant pays).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.campaigns import Campaign, CampaignBook
from bot.domain.clock import Clock
from bot.domain.engine import Refused
from bot.domain.enrolment import (
    EnrolmentDraft,
    ExistingPeriod,
    InputError,
    Priced,
    Step,
    family_schemes,
    next_step,
    plan_period,
    try_price,
    validate_code,
    validate_months,
    validate_name,
)
from bot.domain.privacy import mask_name
from bot.domain.rates import RateBook
from bot.domain.records import (
    STATUS_VOIDED,
    STATUS_WITHDRAWN,
    Duplicate,
    Enrolment,
    NewEnrolment,
    ReportRow,
    StatusActor,
    Team,
)
from bot.domain.roles import CAN_EXPORT, CAN_LOG, CAN_VOID, Member, Role
from bot.services.access import AccessService, Actor
from bot.services.tallies import MyResults, Period, TallyService, month_key
from storage.contract import EnrolmentStore, MemberStore, TallyStore, TeamStore, UnitStore

# An agent may take back their own entry for this long; later, an official voids it.
WITHDRAW_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Logged:
    enrolment: Enrolment
    results: MyResults


@dataclass(frozen=True)
class DuplicateEntry:
    """Why an entry was refused: the same person is already covered (agent masked).

    `in_scope` False: the existing entry belongs to a unit outside the sender's own subtree;
    then no date, unit, period or agent is carried at all, so a reply cannot reveal another
    area's work (anyone can type a code; only the refusal itself is unavoidable)."""

    code: str
    scheme: str
    logged_on: date | None
    unit_name: str
    period_end: date | None
    by_self: bool
    agent_masked: str
    in_scope: bool = True


@dataclass(frozen=True)
class NotAllowed:
    """The sender may not do this (a citizen, an agent voiding, an entry out of scope...)."""

    key: str


@dataclass(frozen=True)
class Voided:
    enrolment: Enrolment
    unit_name: str


@dataclass(frozen=True)
class MonthlyReport:
    """What the Phụ lục 02 form shows for one month and one scope."""

    month: date  # first day of the month
    scope_label: str
    rows: list[ReportRow]
    mask_codes: bool


class EnrolmentService:
    def __init__(
        self,
        repo: EnrolmentStore,
        tallies: TallyService,
        access: AccessService,
        members: MemberStore,
        units: UnitStore,
        teams: TeamStore,
        rates: RateBook,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.tallies = tallies
        self.access = access
        self.members = members
        self.units = units
        self.teams = teams
        self.rates = rates
        self.clock = clock

    # ---- who may log ---------------------------------------------------------------------------

    @staticmethod
    def can_log(actor: Actor) -> bool:
        """Members who may log: agents, team leaders, officials, and admins with a member row."""
        return actor.role in CAN_LOG and actor.member is not None

    def today(self) -> date:
        return self.clock.now().date()

    def campaign_on(self, day: date) -> Campaign | None:
        return self.tallies.campaign_on(day)

    async def team_of(self, member: Member, day: date) -> Team | None:
        return await self.teams.team_of(member.id, month_key(day))

    async def unit_name(self, code: str) -> str:
        unit = await self.units.get(code)
        return unit.name if unit else code

    # ---- pricing and logging ---------------------------------------------------------------------

    def quote(self, draft: EnrolmentDraft) -> Priced | Refused:
        """The engine's amount for the draft today (campaign co-funding included)."""
        today = self.today()
        return try_price(self.rates, today, draft, self.campaign_on(today))

    async def log(self, member: Member, draft: EnrolmentDraft) -> Logged | DuplicateEntry | Refused | InputError:
        """Validate the confirmed draft again, price it, and store it unless it duplicates."""
        now = self.clock.now()
        today = now.date()
        try:
            name = validate_name(draft.name or "")
            code = validate_code(draft.code or "")
            if draft.scheme is None:
                raise InputError("incomplete")
            validate_months(draft.scheme, draft.months)
        except InputError as problem:
            return problem
        campaign = self.tallies.campaign_on(today, draft.scheme.value)
        priced = try_price(self.rates, today, draft, campaign)
        if isinstance(priced, Refused):
            return priced
        if next_step(draft, priced.expected) != Step.CONFIRM:
            return InputError("incomplete")
        team = await self.team_of(member, today)
        paid = priced.expected if draft.amount_paid is None else draft.amount_paid
        new = NewEnrolment(
            agent_id=member.id,
            unit_code=member.unit_code,
            team_id=team.id if team else None,
            campaign_code=campaign.code if campaign else None,
            scheme=draft.scheme.value,
            participant_name=name,
            participant_code=code,
            code_kind=draft.code_kind.value if draft.code_kind else "bhxh",
            months=draft.months or 0,
            support_group=draft.group,
            income=draft.income,
            household_position=draft.position,
            amount_expected=priced.expected,
            amount_paid=paid,
            amount_reason=draft.reason if paid != priced.expected else None,
            is_relative=bool(draft.is_relative),
            created_at=now,
        )
        months = new.months

        def plan(existing: list[Enrolment]) -> tuple[date, date] | Enrolment:
            periods = [ExistingPeriod(e.id, e.period_start, e.period_end) for e in existing]
            decided = plan_period(today, months, periods)
            if decided.duplicate_of is not None:
                return next(e for e in existing if e.id == decided.duplicate_of.enrolment_id)
            assert decided.start is not None and decided.end is not None
            return decided.start, decided.end

        stored = await self.repo.add_unless_duplicate(
            new, [s.value for s in family_schemes(draft.scheme)], plan
        )
        if isinstance(stored, Duplicate):
            return await self._duplicate(stored, member)
        results = await self.tallies.my_results(member, today)
        return Logged(stored, results)

    async def _duplicate(self, found: Duplicate, member: Member) -> DuplicateEntry:
        existing = found.existing
        by_self = existing.agent_id == member.id
        if not by_self and not await self.units.in_scope(member.unit_code, existing.unit_code):
            return DuplicateEntry(
                code=existing.participant_code,
                scheme=existing.scheme,
                logged_on=None,
                unit_name="",
                period_end=None,
                by_self=False,
                agent_masked="",
                in_scope=False,
            )
        other = await self.members.get(existing.agent_id)
        return DuplicateEntry(
            code=existing.participant_code,
            scheme=existing.scheme,
            logged_on=existing.created_on,
            unit_name=found.unit_name,
            period_end=existing.period_end,
            by_self=by_self,
            agent_masked=mask_name(other.full_name) if other else "",
        )

    # ---- mistakes ------------------------------------------------------------------------------

    async def withdrawable(self, member: Member) -> Enrolment | None:
        """The member's last active entry, if logged within the last 24 hours."""
        return await self.repo.last_active_of_agent(member.id, self.clock.now() - WITHDRAW_WINDOW)

    async def withdraw(self, member: Member, enrolment_id: int) -> Enrolment | None:
        """Take back one's own entry within 24 hours; None if not (any more) possible."""
        now = self.clock.now()
        return await self.repo.change_status(
            enrolment_id,
            STATUS_WITHDRAWN,
            StatusActor(member.id),
            "rút lại trong 24 giờ",
            now,
            only_agent_id=member.id,
            logged_since=now - WITHDRAW_WINDOW,
        )

    async def void(self, actor: Actor, enrolment_id: int, reason: str) -> Voided | NotAllowed:
        """An official (or admin) voids an active entry in their scope, with a reason.

        An entry outside the scope gets the same answer as one that does not exist.
        """
        if actor.role not in CAN_VOID:
            return NotAllowed("void_role")
        entry = await self.repo.get(enrolment_id)
        if entry is None or not await self.access.can_see(actor, entry.unit_code):
            return NotAllowed("void_not_found")
        if entry.status != "active":
            return NotAllowed("void_not_active")
        changed = await self.repo.change_status(
            enrolment_id,
            STATUS_VOIDED,
            StatusActor(actor.member.id if actor.member else None, actor.user_id, actor.channel),
            reason,
            self.clock.now(),
        )
        if changed is None:
            return NotAllowed("void_not_active")
        return Voided(changed, await self.unit_name(changed.unit_code))

    # ---- the monthly form ------------------------------------------------------------------------

    async def monthly_report(
        self, actor: Actor, month: date, unit_code: str | None = None
    ) -> MonthlyReport | NotAllowed:
        """Phụ lục 02 for a month: a team leader's team, an official's scope, an admin's choice.

        Codes: the team leader submits the form to the BHXH office, which needs the full codes,
        as do admins; an official overseeing units sees them masked.
        """
        if actor.role not in CAN_EXPORT:
            return NotAllowed("export_role")
        period = Period.month_of(month)
        if unit_code is not None and not await self.access.can_see(actor, unit_code):
            return NotAllowed("unit_not_found")
        if actor.role == Role.TEAM_LEADER and unit_code is None:
            assert actor.member is not None
            team = await self.teams.team_of(actor.member.id, month_key(period.start))
            if team is None:
                return NotAllowed("export_no_team")
            rows = await self.repo.report_rows(period.start, period.end, team_id=team.id)
            return MonthlyReport(period.start, team.name, rows, mask_codes=False)
        if unit_code is None and actor.scope_code is None:
            rows = await self.repo.report_rows(period.start, period.end)
            return MonthlyReport(period.start, "Tất cả đơn vị", rows, mask_codes=False)
        root = unit_code or actor.scope_code
        assert root is not None
        scope = await self.units.subtree_codes(root)
        rows = await self.repo.report_rows(period.start, period.end, unit_codes=scope)
        return MonthlyReport(
            period.start, await self.unit_name(root), rows, mask_codes=not actor.is_admin
        )

    async def monthly_report_for_unit(self, month: date, unit_code: str | None) -> MonthlyReport | None:
        """The command line's form (the operator sees everything): a unit's subtree or all."""
        period = Period.month_of(month)
        if unit_code is None:
            rows = await self.repo.report_rows(period.start, period.end)
            return MonthlyReport(period.start, "Tất cả đơn vị", rows, mask_codes=False)
        unit = await self.units.get(unit_code)
        if unit is None:
            return None
        scope = await self.units.subtree_codes(unit_code)
        rows = await self.repo.report_rows(period.start, period.end, unit_codes=scope)
        return MonthlyReport(period.start, unit.name, rows, mask_codes=False)


def build_enrolment_services(
    enrolment_store: EnrolmentStore,
    tally_store: TallyStore,
    access: AccessService,
    members: MemberStore,
    units: UnitStore,
    teams: TeamStore,
    rates: RateBook,
    campaigns: CampaignBook,
    clock: Clock,
) -> tuple[TallyService, EnrolmentService]:
    """The tally and logging services over their stores (used by bot.bootstrap.build_services)."""
    tallies = TallyService(tally_store, teams, campaigns)
    service = EnrolmentService(
        enrolment_store, tallies, access, members, units, teams, rates, clock
    )
    return tallies, service
