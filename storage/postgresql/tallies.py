"""Aggregate queries over active enrolments on PostgreSQL: per unit, agent, team, day.

The same queries as storage/sqlite/tallies.py over the same partial covering indexes; a scope
of units is one array parameter (`= ANY($n::text[])`) instead of SQLite's JSON one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.domain.records import AgentRow, Counts, RelativesRow, TeamRow, UnitRow
from storage.postgresql.db import Database


def _where(
    day_from: date, day_to: date, unit_codes: Sequence[str] | None, first: int = 1
) -> tuple[str, list[object]]:
    """Active rows logged between two days (params $first, $first+1) within a scope."""
    sql = f"e.status = 'active' AND e.created_on BETWEEN ${first} AND ${first + 1}"
    params: list[object] = [day_from.isoformat(), day_to.isoformat()]
    if unit_codes is not None:
        sql += f" AND e.unit_code = ANY(${first + 2}::text[])"
        params.append(list(unit_codes))
    return sql, params


class TallyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def totals(self, unit_codes: Sequence[str] | None, day_from: date, day_to: date) -> Counts:
        """Entries per scheme in a scope (None: every unit) between two days, inclusive."""
        where, params = _where(day_from, day_to, unit_codes)
        rows = await self.db.fetch(f"SELECT e.scheme, COUNT(*) FROM enrolments e WHERE {where} GROUP BY e.scheme", *params)
        return {r[0]: int(r[1]) for r in rows}

    async def per_unit(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> dict[str, Counts]:
        """Entries per unit (the agent's unit when logged) and scheme."""
        where, params = _where(day_from, day_to, unit_codes)
        rows = await self.db.fetch(
            f"SELECT e.unit_code, e.scheme, COUNT(*) FROM enrolments e WHERE {where} GROUP BY e.unit_code, e.scheme",
            *params,
        )
        out: dict[str, Counts] = {}
        for unit_code, scheme, n in rows:
            out.setdefault(unit_code, {})[scheme] = int(n)
        return out

    async def per_day(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> dict[date, Counts]:
        where, params = _where(day_from, day_to, unit_codes)
        rows = await self.db.fetch(
            f"SELECT e.created_on, e.scheme, COUNT(*) FROM enrolments e WHERE {where} GROUP BY e.created_on, e.scheme",
            *params,
        )
        out: dict[date, Counts] = {}
        for day, scheme, n in rows:
            out.setdefault(date.fromisoformat(day), {})[scheme] = int(n)
        return out

    async def per_agent(
        self,
        unit_codes: Sequence[str] | None,
        day_from: date,
        day_to: date,
        limit: int | None = None,
    ) -> list[AgentRow]:
        """Agents by number of entries (most first), with their name and unit."""
        where, params = _where(day_from, day_to, unit_codes)
        if limit is not None:
            params.append(limit)
        sql = (
            "WITH per AS (SELECT e.agent_id AS agent_id, COUNT(*) AS n,"
            " COUNT(*) FILTER (WHERE e.scheme = 'bhyt_household') AS h,"
            " COUNT(*) FILTER (WHERE e.scheme = 'bhyt_supported') AS s,"
            " COUNT(*) FILTER (WHERE e.scheme = 'bhxh_voluntary') AS v"
            f" FROM enrolments e WHERE {where} GROUP BY e.agent_id"
            " ORDER BY n DESC, e.agent_id" + (f" LIMIT ${len(params)}" if limit is not None else "") + ")"
            " SELECT per.agent_id, m.full_name, m.unit_code, u.name, per.h, per.s, per.v"
            " FROM per JOIN members m ON m.id = per.agent_id JOIN units u ON u.code = m.unit_code"
            " ORDER BY per.n DESC, m.full_name, per.agent_id"
        )
        rows = await self.db.fetch(sql, *params)
        return [
            AgentRow(
                r[0], r[1], r[2], r[3],
                {"bhyt_household": int(r[4]), "bhyt_supported": int(r[5]), "bhxh_voluntary": int(r[6])},
            )
            for r in rows
        ]

    async def of_agent(self, agent_id: int, day_from: date, day_to: date) -> Counts:
        where, params = _where(day_from, day_to, None, first=2)
        rows = await self.db.fetch(
            f"SELECT e.scheme, COUNT(*) FROM enrolments e WHERE e.agent_id = $1 AND {where} GROUP BY e.scheme",
            agent_id, *params,
        )
        return {r[0]: int(r[1]) for r in rows}

    async def per_team(self, team_ids: Sequence[int], day_from: date, day_to: date) -> dict[int, Counts]:
        """Entries per team (the team the agent was on when logging) and scheme."""
        if not team_ids:
            return {}
        where, params = _where(day_from, day_to, None, first=2)
        rows = await self.db.fetch(
            "SELECT e.team_id, e.scheme, COUNT(*) FROM enrolments e"
            f" WHERE e.team_id = ANY($1::bigint[]) AND {where} GROUP BY e.team_id, e.scheme",
            [int(t) for t in team_ids], *params,
        )
        out: dict[int, Counts] = {}
        for team_id, scheme, n in rows:
            out.setdefault(int(team_id), {})[scheme] = int(n)
        return out

    async def per_agent_in_team(self, team_id: int, day_from: date, day_to: date) -> dict[int, Counts]:
        where, params = _where(day_from, day_to, None, first=2)
        rows = await self.db.fetch(
            "SELECT e.agent_id, e.scheme, COUNT(*) FROM enrolments e"
            f" WHERE e.team_id = $1 AND {where} GROUP BY e.agent_id, e.scheme",
            team_id, *params,
        )
        out: dict[int, Counts] = {}
        for agent_id, scheme, n in rows:
            out.setdefault(int(agent_id), {})[scheme] = int(n)
        return out

    async def teams_with_roster(self, unit_code: str, month: str) -> list[TeamRow]:
        """Teams of a unit that have a roster in the month ('YYYY-MM'): who competes then."""
        rows = await self.db.fetch(
            "SELECT t.id, t.code, t.name, t.unit_code FROM teams t WHERE t.unit_code = $1"
            " AND EXISTS (SELECT 1 FROM team_rosters r WHERE r.team_id = t.id AND r.month = $2)"
            " ORDER BY t.code",
            unit_code, month,
        )
        return [TeamRow(int(r[0]), r[1], r[2], r[3]) for r in rows]

    async def relatives_per_unit(
        self, unit_codes: Sequence[str] | None, day_from: date, day_to: date
    ) -> list[RelativesRow]:
        """Distinct staff per unit with >= 1 relative enrolled in BHYT / in voluntary BHXH."""
        where, params = _where(day_from, day_to, unit_codes)
        rows = await self.db.fetch(
            "SELECT e.unit_code,"
            " COUNT(DISTINCT CASE WHEN e.scheme != 'bhxh_voluntary' THEN e.agent_id END),"
            " COUNT(DISTINCT CASE WHEN e.scheme = 'bhxh_voluntary' THEN e.agent_id END)"
            f" FROM enrolments e WHERE {where} AND e.is_relative = 1 GROUP BY e.unit_code",
            *params,
        )
        return [RelativesRow(r[0], int(r[1]), int(r[2])) for r in rows]

    async def units(self, unit_codes: Sequence[str] | None) -> list[UnitRow]:
        """Name, parent and staff count of the units of a scope (None: all)."""
        if unit_codes is None:
            rows = await self.db.fetch("SELECT code, name, parent_code, staff_count FROM units ORDER BY code")
        else:
            rows = await self.db.fetch(
                "SELECT code, name, parent_code, staff_count FROM units WHERE code = ANY($1::text[]) ORDER BY code",
                list(unit_codes),
            )
        return [UnitRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def active_members_per_unit(self, unit_codes: Sequence[str] | None) -> dict[str, int]:
        """Members per unit: the staff count when a unit's figure is missing."""
        if unit_codes is None:
            rows = await self.db.fetch("SELECT unit_code, COUNT(*) FROM members WHERE active = 1 GROUP BY unit_code")
        else:
            rows = await self.db.fetch(
                "SELECT unit_code, COUNT(*) FROM members WHERE active = 1 AND unit_code = ANY($1::text[])"
                " GROUP BY unit_code",
                list(unit_codes),
            )
        return {r[0]: int(r[1]) for r in rows}

    async def unit_target_counts(self, unit_codes: Sequence[str] | None, period: str) -> dict[str, Counts]:
        """Count targets (not rates) per unit and scheme for a period ('2026' or a campaign)."""
        sql = "SELECT unit_code, scheme, target_count FROM unit_targets WHERE period = $1 AND target_count IS NOT NULL"
        params: list[object] = [period]
        if unit_codes is not None:
            sql += " AND unit_code = ANY($2::text[])"
            params.append(list(unit_codes))
        out: dict[str, Counts] = {}
        for unit_code, scheme, n in await self.db.fetch(sql, *params):
            out.setdefault(unit_code, {})[scheme] = int(n)
        return out
