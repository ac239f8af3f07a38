"""Organisation services: invites and joining, member administration, unit lists, coverage.

Channel-agnostic (no Telegram here): every method takes the resolved `Actor` and plain values
and returns a plain result or a `Refused` with a reason the channel turns into words. Scope is
enforced here, not in handlers: an official of commune A gets the same "not found" for commune
B as for a unit that does not exist, so nothing outside the scope leaks.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain import invites as invite_codes
from bot.domain.clock import Clock
from bot.domain.coverage import BaselineFigure, CoverageRow, TargetSpec, UnitInput, compute_coverage
from bot.domain.records import AuditActor, MemberDetail, Team, Unit
from bot.domain.roles import CAN_INVITE, Member, Role
from bot.services.access import AccessService, Actor
from storage.contract import DuplicateError, FigureStore, InviteStore, MemberStore, TeamStore, UnitStore

log = logging.getLogger(__name__)

RANK = {Role.CITIZEN: 0, Role.AGENT: 1, Role.TEAM_LEADER: 2, Role.OFFICIAL: 3, Role.ADMIN: 4}
INVITABLE = (Role.AGENT, Role.TEAM_LEADER, Role.OFFICIAL)
CAN_MANAGE = frozenset({Role.OFFICIAL, Role.ADMIN})
JOIN_FAILURES_PER_HOUR = 5
MEMBERS_PER_PAGE = 10
MAX_NAME = 120


class Reason(StrEnum):
    CITIZEN = "citizen"  # not a member at all: polite refusal
    NOT_ALLOWED = "not_allowed"  # a member whose role may not do this
    UNIT_NOT_FOUND = "unit_not_found"  # unknown OR outside the actor's scope (same answer)
    TEAM_NOT_FOUND = "team_not_found"
    MEMBER_NOT_FOUND = "member_not_found"
    ROLE_TOO_HIGH = "role_too_high"
    SELF = "self"  # an actor changing their own membership
    ALREADY_MEMBER = "already_member"
    IS_ADMIN = "is_admin"
    INVALID_CODE = "invalid_code"  # unknown, used, expired or malformed: one answer
    THROTTLED = "throttled"
    NO_UNITS = "no_units"


@dataclass(frozen=True)
class Refused:
    reason: Reason
    detail: str | None = None  # e.g. the member's current role for ALREADY_MEMBER
    minutes: int | None = None  # THROTTLED: when to try again


@dataclass(frozen=True)
class InviteCreated:
    code: str  # shown once, as ABCDE-FGHJK
    role: Role
    unit: Unit
    team: Team | None
    member_name: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Joined:
    member_id: int
    role: Role
    unit: Unit
    team: Team | None
    claimed: bool


@dataclass(frozen=True)
class UnitLine:
    unit: Unit
    children: int
    members: int


@dataclass(frozen=True)
class UnitsView:
    unit: Unit | None  # None: the admin's top level
    path: list[Unit]  # ancestors within the actor's scope, root first
    children: list[UnitLine]
    members: int  # active members of this unit itself
    teams: list[Team]
    can_go_up: str | None  # code of the parent to go back to, if inside scope


@dataclass(frozen=True)
class MembersPage:
    unit: Unit | None
    items: list[MemberDetail]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class MemberView:
    detail: MemberDetail
    unit: Unit | None
    can_manage: bool
    roles: list[Role]  # roles the actor may give this member


@dataclass(frozen=True)
class InviteOptions:
    roles: list[Role]
    units: list[Unit]  # units in scope the actor may pick (top of scope first)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def audit_actor(actor: Actor) -> AuditActor:
    return AuditActor(actor.member.id if actor.member else None, actor.user_id, actor.channel)


class OrganisationService:
    def __init__(
        self,
        *,
        clock: Clock,
        access: AccessService,
        units: UnitStore,
        members: MemberStore,
        teams: TeamStore,
        invites: InviteStore,
        figures: FigureStore,
        invite_ttl: timedelta = timedelta(hours=72),
    ) -> None:
        self.clock = clock
        self.access = access
        self.units = units
        self.members = members
        self.teams = teams
        self.invites = invites
        self.figures = figures
        self.invite_ttl = invite_ttl

    # ---- permissions ---------------------------------------------------------------------

    @staticmethod
    def _gate(actor: Actor, allowed: frozenset[Role] | set[Role]) -> Refused | None:
        if actor.role == Role.CITIZEN:
            return Refused(Reason.CITIZEN)
        if actor.role not in allowed:
            return Refused(Reason.NOT_ALLOWED, actor.role.value)
        return None

    def may_invite(self, actor: Actor) -> Refused | None:
        """None when the actor may create invites (officials and admins)."""
        return self._gate(actor, CAN_INVITE)

    def may_manage(self, actor: Actor) -> Refused | None:
        """None when the actor may list units and members (officials and admins)."""
        return self._gate(actor, CAN_MANAGE)

    async def _unit_in_scope(self, actor: Actor, code: str | None) -> Unit | None:
        if not code:
            return None
        code = code.strip().upper()
        if len(code) > 32 or not await self.access.can_see(actor, code):
            return None
        return await self.units.get(code)

    async def _default_unit(self, actor: Actor) -> Unit | None:
        return await self.units.get(actor.scope_code) if actor.scope_code else None

    @staticmethod
    def roles_for(actor: Actor) -> list[Role]:
        """Roles the actor may give: never above their own."""
        return [r for r in INVITABLE if RANK[r] <= RANK[actor.role]]

    # ---- invites ---------------------------------------------------------------------------

    async def invite_options(self, actor: Actor) -> InviteOptions | Refused:
        refused = self._gate(actor, CAN_INVITE)
        if refused:
            return refused
        if actor.scope_code:
            top = await self.units.get(actor.scope_code)
            units = [top] if top else []
            units += await self.units.children(actor.scope_code)
        else:
            roots = await self.units.roots()
            units = list(roots)
            for root in roots:
                units += await self.units.children(root.code)
        if not units:
            return Refused(Reason.NO_UNITS)
        return InviteOptions(self.roles_for(actor), [u for u in units if u is not None])

    async def teams_for_invite(self, actor: Actor, unit_code: str) -> list[Team]:
        """Teams of the unit (and of its ancestors within scope) a new member may join.

        Only for those who may invite: a forged invite button shows an agent nothing."""
        if self._gate(actor, CAN_INVITE):
            return []
        unit = await self._unit_in_scope(actor, unit_code)
        if unit is None:
            return []
        codes = [unit.code] + [c for c in await self.units.ancestors(unit.code) if await self.access.can_see(actor, c)]
        return await self.teams.in_units(codes)

    async def _team_in_scope(self, actor: Actor, team: str | int | None) -> Team | None | Refused:
        """A team by code (typed) or id (buttons), if the actor may see its unit."""
        if team is None or team == "" or team == 0:
            return None
        if isinstance(team, int):
            found = await self.teams.get(team)
        else:
            found = await self.teams.by_code(team.strip().upper()[:40])
        if found is None or not await self.access.can_see(actor, found.unit_code):
            return Refused(Reason.TEAM_NOT_FOUND, str(team)[:40])
        return found

    async def unclaimed(self, actor: Actor, unit_code: str, team_id: int | None = None) -> list[Member]:
        """People imported from rosters who have no chat account yet: the team's this month,
        else the unit's. An invite can be made for one of them. Only for those who may
        invite: roster names never reach an agent through a forged button."""
        if self._gate(actor, CAN_INVITE):
            return []
        unit = await self._unit_in_scope(actor, unit_code)
        if unit is None:
            return []
        if team_id:
            team = await self._team_in_scope(actor, team_id)
            if team is None or isinstance(team, Refused):
                return []
            roster = await self.teams.roster(team.id, month_key(self.clock.now().date()))
            return [e.member for e in roster if e.member.user_id is None and e.member.active]
        return await self.members.unclaimed_in_unit(unit.code)

    async def create_invite(
        self,
        actor: Actor,
        role: Role | str,
        unit_code: str,
        team: str | int | None = None,
        member_id: int | None = None,
    ) -> InviteCreated | Refused:
        """A one-time code binding the person who uses it to a role, unit and team."""
        refused = self._gate(actor, CAN_INVITE)
        if refused:
            return refused
        try:
            role = Role(role)
        except ValueError:
            return Refused(Reason.ROLE_TOO_HIGH, str(role)[:20])
        if role not in INVITABLE or RANK[role] > RANK[actor.role]:
            return Refused(Reason.ROLE_TOO_HIGH, role.value)
        unit = await self._unit_in_scope(actor, unit_code)
        if unit is None:
            return Refused(Reason.UNIT_NOT_FOUND, (unit_code or "")[:32])
        found_team = await self._team_in_scope(actor, team)
        if isinstance(found_team, Refused):
            return found_team
        member_name = None
        if member_id is not None:
            target = await self.members.get(member_id)
            if (
                target is None
                or not target.active
                or target.user_id is not None
                or not await self.access.can_see(actor, target.unit_code)
            ):
                return Refused(Reason.MEMBER_NOT_FOUND)
            member_name = target.full_name
        now = self.clock.now()
        code = invite_codes.new_code()
        expires = now + self.invite_ttl
        await self.invites.create(
            code_hash=invite_codes.code_hash(code),
            role=role,
            unit_code=unit.code,
            team_id=found_team.id if found_team else None,
            member_id=member_id,
            full_name=member_name,
            created_by=actor.member.id if actor.member else None,
            created_by_user=actor.user_id,
            channel=actor.channel,
            created_at=now,
            expires_at=expires,
        )
        log.info("invite created for role %s in unit %s", role.value, unit.code)
        return InviteCreated(invite_codes.display(code), role, unit, found_team, member_name, expires)

    async def join(self, user_id: int, typed_code: str, display_name: str, channel: str) -> Joined | Refused:
        """Use an invite. Wrong, used, expired and made-up codes get one answer and change
        nothing; after 5 failures in an hour the person must wait."""
        actor = await self.access.actor(user_id, channel)
        if actor.is_admin:
            return Refused(Reason.IS_ADMIN)
        if actor.member is not None:
            unit = await self.units.get(actor.member.unit_code)
            return Refused(Reason.ALREADY_MEMBER, f"{actor.member.role.value}|{unit.name if unit else actor.member.unit_code}")
        now = self.clock.now()
        window_start = now - timedelta(hours=1)
        failures = await self.invites.failures_since(channel, user_id, window_start)
        if len(failures) >= JOIN_FAILURES_PER_HOUR:
            oldest = datetime.fromisoformat(failures[-JOIN_FAILURES_PER_HOUR])
            wait = oldest + timedelta(hours=1) - now
            return Refused(Reason.THROTTLED, minutes=max(1, math.ceil(wait.total_seconds() / 60)))
        code = invite_codes.normalize(typed_code)
        redeemed = None
        if code is not None:
            name = " ".join((display_name or "").split())[:MAX_NAME] or "Thành viên"
            try:
                redeemed = await self.invites.redeem(
                    invite_codes.code_hash(code),
                    channel=channel,
                    user_id=user_id,
                    display_name=name,
                    now=now,
                    month=month_key(now.date()),
                )
            except DuplicateError:  # joined twice at the same instant: keep the first
                redeemed = None
        if redeemed is None:
            await self.invites.record_failure(channel, user_id, now)
            await self.invites.purge_failures(now - timedelta(days=1))
            return Refused(Reason.INVALID_CODE)
        unit = await self.units.get(redeemed.unit_code)
        team = await self.teams.get(redeemed.team_id) if redeemed.team_id else None
        assert unit is not None
        log.info("member %s joined as %s", redeemed.member_id, redeemed.role.value)
        return Joined(redeemed.member_id, redeemed.role, unit, team, redeemed.claimed)

    # ---- units and members -----------------------------------------------------------------

    async def units_view(self, actor: Actor, code: str | None = None) -> UnitsView | Refused:
        """A unit of the actor's scope with its children (admins start at the top level)."""
        refused = self._gate(actor, CAN_MANAGE)
        if refused:
            return refused
        counts = await self.members.counts_by_unit()
        if code:
            unit = await self._unit_in_scope(actor, code)
            if unit is None:
                return Refused(Reason.UNIT_NOT_FOUND, code[:32])
        else:
            unit = await self._default_unit(actor)
        if unit is None:  # admin without a unit: the roots
            roots = await self.units.roots()
            if not roots:
                return Refused(Reason.NO_UNITS)
            lines = [UnitLine(u, len(await self.units.children(u.code)), counts.get(u.code, 0)) for u in roots]
            return UnitsView(None, [], lines, 0, [], None)
        children = await self.units.children(unit.code)
        lines = [UnitLine(c, len(await self.units.children(c.code)), counts.get(c.code, 0)) for c in children]
        path: list[Unit] = []
        for ancestor in reversed(await self.units.ancestors(unit.code)):
            if await self.access.can_see(actor, ancestor):
                found = await self.units.get(ancestor)
                if found:
                    path.append(found)
        up = path[-1].code if path else ("" if actor.scope_code is None else None)
        return UnitsView(unit, path, lines, counts.get(unit.code, 0), await self.teams.in_units([unit.code]), up)

    async def members_page(self, actor: Actor, code: str | None = None, page: int = 0) -> MembersPage | Refused:
        """Active members of a unit's subtree (the actor's scope by default), a page at a time."""
        refused = self._gate(actor, CAN_MANAGE)
        if refused:
            return refused
        if code:
            unit = await self._unit_in_scope(actor, code)
            if unit is None:
                return Refused(Reason.UNIT_NOT_FOUND, code[:32])
            codes = await self.units.subtree_codes(unit.code)
        else:
            unit = await self._default_unit(actor)
            codes = await self.access.scope_codes(actor)
        total = await self.members.count_in_units(codes)
        pages = max(1, -(-total // MEMBERS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        items = await self.members.in_units(codes, offset=page * MEMBERS_PER_PAGE, limit=MEMBERS_PER_PAGE)
        return MembersPage(unit, items, page, pages, total)

    async def _managed(self, actor: Actor, member_id: int) -> tuple[MemberDetail, bool] | Refused:
        refused = self._gate(actor, CAN_MANAGE)
        if refused:
            return refused
        detail = await self.members.detail(member_id)
        if detail is None or not detail.member.active or not await self.access.can_see(actor, detail.member.unit_code):
            return Refused(Reason.MEMBER_NOT_FOUND)
        is_self = actor.member is not None and actor.member.id == member_id
        may = actor.is_admin or RANK[detail.member.role] < RANK[actor.role]
        return detail, (may and not is_self)

    async def member_view(self, actor: Actor, member_id: int) -> MemberView | Refused:
        found = await self._managed(actor, member_id)
        if isinstance(found, Refused):
            return found
        detail, may = found
        unit = await self.units.get(detail.member.unit_code)
        roles = [r for r in self.roles_for(actor) if r != detail.member.role] if may else []
        return MemberView(detail, unit, may, roles)

    async def _check_change(self, actor: Actor, member_id: int) -> MemberDetail | Refused:
        found = await self._managed(actor, member_id)
        if isinstance(found, Refused):
            return found
        detail, may = found
        if not may:
            is_self = actor.member is not None and actor.member.id == member_id
            return Refused(Reason.SELF if is_self else Reason.NOT_ALLOWED, actor.role.value)
        return detail

    async def change_role(self, actor: Actor, member_id: int, role: Role | str) -> MemberView | Refused:
        detail = await self._check_change(actor, member_id)
        if isinstance(detail, Refused):
            return detail
        try:
            role = Role(role)
        except ValueError:
            return Refused(Reason.ROLE_TOO_HIGH, str(role)[:20])
        if role not in self.roles_for(actor):
            return Refused(Reason.ROLE_TOO_HIGH, role.value)
        await self.members.change_role(member_id, role, audit_actor(actor), self.clock.now())
        return await self.member_view(actor, member_id)

    async def change_unit(self, actor: Actor, member_id: int, unit_code: str) -> MemberView | Refused:
        detail = await self._check_change(actor, member_id)
        if isinstance(detail, Refused):
            return detail
        unit = await self._unit_in_scope(actor, unit_code)
        if unit is None:
            return Refused(Reason.UNIT_NOT_FOUND, (unit_code or "")[:32])
        await self.members.change_unit(member_id, unit.code, audit_actor(actor), self.clock.now())
        return await self.member_view(actor, member_id)

    async def deactivate(self, actor: Actor, member_id: int) -> MemberDetail | Refused:
        detail = await self._check_change(actor, member_id)
        if isinstance(detail, Refused):
            return detail
        await self.members.deactivate(member_id, audit_actor(actor), self.clock.now())
        return detail

    # ---- coverage --------------------------------------------------------------------------

    async def coverage(self, actor: Actor, code: str | None = None, period: str | None = None) -> tuple[Unit, list[CoverageRow]] | Refused:
        """Coverage rows of a unit in scope and its children (officials and admins)."""
        refused = self._gate(actor, CAN_MANAGE)
        if refused:
            return refused
        unit = await self._unit_in_scope(actor, code) if code else await self._default_unit(actor)
        if unit is None and not code and actor.scope_code is None:
            roots = await self.units.roots()
            unit = roots[0] if roots else None
        if unit is None:
            return Refused(Reason.UNIT_NOT_FOUND if code else Reason.NO_UNITS, (code or "")[:32])
        rows = await self.coverage_rows(unit.code, period=period)
        return unit, rows

    async def coverage_rows(
        self, root: str | None = None, *, period: str | None = None, on: date | None = None
    ) -> list[CoverageRow]:
        """Seed 003 coverage for the subtree of `root` (everything when None), from stored
        baselines and targets plus the active enrolments logged since each baseline."""
        on = on or self.clock.now().date()
        inputs = await load_coverage_inputs(self.units, self.figures, root, period=period, on=on)
        return compute_coverage(inputs, root=root)


async def load_coverage_inputs(
    units_repo: UnitStore,
    figures: FigureStore,
    root: str | None = None,
    *,
    period: str | None = None,
    on: date | None = None,
) -> list[UnitInput]:
    """Units with their figures, and the new participants since each unit's baseline.

    A unit counts enrolments from its own baseline date, else its nearest ancestor's, else
    the latest of its descendants' (so a district without figures of its own counts what is
    logged directly at it from when its communes' figures stand).
    """
    all_units = await units_repo.all()
    parent = {u.code: u.parent_code for u in all_units}
    wanted = set(await units_repo.subtree_codes(root)) if root else set(parent)
    baselines: dict[str, dict[str, BaselineFigure]] = {}
    for b in await figures.latest_baselines(on):
        baselines.setdefault(b.unit_code, {})[b.scheme] = BaselineFigure(b.as_of, b.participants)
    targets: dict[str, dict[str, TargetSpec]] = {}
    for t in await figures.targets(period):
        targets.setdefault(t.unit_code, {})[t.scheme] = TargetSpec(t.target_pct, t.target_count)
    cutoffs = _cutoffs(parent, baselines, wanted)
    new = await figures.new_participants(cutoffs)
    inputs = []
    for unit in all_units:
        if unit.code not in wanted:
            continue
        inputs.append(
            UnitInput(
                code=unit.code,
                name=unit.name,
                parent_code=unit.parent_code,
                level=unit.level,
                population=unit.population,
                labour_force=unit.labour_force,
                baselines=baselines.get(unit.code, {}),
                targets=targets.get(unit.code, {}),
                new={kind: n for (code, kind), n in new.items() if code == unit.code},
            )
        )
    return inputs


def _cutoffs(
    parent: dict[str, str | None],
    baselines: dict[str, dict[str, BaselineFigure]],
    wanted: set[str],
) -> list[tuple[str, str, date | None]]:
    children: dict[str, list[str]] = {}
    for code, up in parent.items():
        if up is not None:
            children.setdefault(up, []).append(code)

    def own(code: str, kind: str) -> date | None:
        figure = baselines.get(code, {}).get(kind)
        return figure.as_of if figure else None

    def from_above(code: str, kind: str) -> date | None:
        seen = set()
        current: str | None = code
        while current is not None and current not in seen:
            seen.add(current)
            day = own(current, kind)
            if day is not None:
                return day
            current = parent.get(current)
        return None

    def from_below(code: str, kind: str) -> date | None:
        stack, best, seen = list(children.get(code, [])), None, set()
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            day = own(c, kind)
            if day is not None and (best is None or day > best):
                best = day
            stack.extend(children.get(c, []))
        return best

    out = []
    for code in sorted(wanted):
        for kind in ("bhyt", "bhxh_tn"):
            out.append((code, kind, from_above(code, kind) or from_below(code, kind)))
    return out
