"""Teams and their monthly rosters on PostgreSQL (seed 002: members change every month)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.domain.records import CLI_ACTOR, RosterEntry, RosterImportResult, RosterRecord, Team, TeamRecord
from bot.domain.roles import Role
from storage.postgresql.db import Database
from storage.postgresql.members import insert_member, record_event
from storage.sqlite.members import _COLUMNS as MEMBER_COLUMNS
from storage.sqlite.members import NO_CHANNEL, _member
from storage.sqlite.teams import _TEAM_COLUMNS

_UPSERT_ROSTER = (
    "INSERT INTO team_rosters(team_id, month, member_id, is_leader) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT(team_id, month, member_id) DO UPDATE SET is_leader = excluded.is_leader"
)


class TeamRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_code(self, code: str) -> Team | None:
        row = await self.db.fetchrow(f"SELECT {_TEAM_COLUMNS} FROM teams WHERE code = $1", code)
        return None if row is None else Team(*row)

    async def get(self, team_id: int) -> Team | None:
        row = await self.db.fetchrow(f"SELECT {_TEAM_COLUMNS} FROM teams WHERE id = $1", team_id)
        return None if row is None else Team(*row)

    async def in_units(self, unit_codes: Sequence[str]) -> list[Team]:
        if not unit_codes:
            return []
        rows = await self.db.fetch(
            f"SELECT {_TEAM_COLUMNS} FROM teams WHERE unit_code = ANY($1::text[]) ORDER BY code", list(unit_codes)
        )
        return [Team(*r) for r in rows]

    async def roster(self, team_id: int, month: str) -> list[RosterEntry]:
        """Who is in the team in a month ('YYYY-MM'), leaders first."""
        cols = ", ".join(f"m.{c.strip()}" for c in MEMBER_COLUMNS.split(","))
        rows = await self.db.fetch(
            f"SELECT {cols}, r.is_leader FROM team_rosters r JOIN members m ON m.id = r.member_id"
            " WHERE r.team_id = $1 AND r.month = $2 ORDER BY r.is_leader DESC, m.full_name",
            team_id, month,
        )
        return [RosterEntry(_member(tuple(r)[:7]), bool(r[7])) for r in rows]

    async def team_of(self, member_id: int, month: str) -> Team | None:
        """The member's team in a month (the lowest team id if rosters list them twice)."""
        row = await self.db.fetchrow(
            "SELECT t.id, t.code, t.name, t.unit_code FROM team_rosters r"
            " JOIN teams t ON t.id = r.team_id WHERE r.member_id = $1 AND r.month = $2"
            " ORDER BY t.id LIMIT 1",
            member_id, month,
        )
        return None if row is None else Team(*row)

    async def months(self, team_id: int) -> list[str]:
        rows = await self.db.fetch(
            "SELECT DISTINCT month FROM team_rosters WHERE team_id = $1 ORDER BY month", team_id
        )
        return [r[0] for r in rows]

    async def add_to_roster(self, team_id: int, month: str, member_id: int, is_leader: bool) -> None:
        await self.db.execute(_UPSERT_ROSTER, team_id, month, member_id, int(is_leader))

    async def import_rosters(
        self,
        teams: Sequence[TeamRecord],
        roster: Sequence[RosterRecord],
        name_key: Callable[[str], str],
        now: datetime,
    ) -> RosterImportResult:
        """Upsert teams, find or create their people, and replace each (team, month) roster.

        The rules are the SQLite engine's (storage/sqlite/teams.py). Roster imports take one
        advisory lock: two at once would each create the same new person.
        """
        stamp = now.isoformat(timespec="seconds")
        teams_created = teams_updated = members_created = 0
        async with self.db.transaction() as tx:
            await tx.lock("teams:import")
            team_ids: dict[str, tuple[int, str]] = {}
            for team in teams:
                row = await tx.fetchrow("SELECT id FROM teams WHERE code = $1", team.code)
                if row is None:
                    new_id = await tx.fetchval(
                        "INSERT INTO teams(code, name, unit_code) VALUES ($1, $2, $3) RETURNING id",
                        team.code, team.name, team.unit_code,
                    )
                    team_ids[team.code] = (int(new_id), team.unit_code)
                    teams_created += 1
                else:
                    await tx.execute(
                        "UPDATE teams SET name = $1, unit_code = $2 WHERE id = $3", team.name, team.unit_code, row[0]
                    )
                    team_ids[team.code] = (int(row[0]), team.unit_code)
                    teams_updated += 1

            people: dict[tuple[str, str], tuple[int, str]] = {}  # (unit, key) -> (id, role)
            units = sorted({unit for _, unit in team_ids.values()})
            if units:
                for member_id, full_name, role, unit in await tx.fetch(
                    "SELECT id, full_name, role, unit_code FROM members WHERE unit_code = ANY($1::text[])"
                    " AND active = 1 ORDER BY id",
                    units,
                ):
                    people.setdefault((unit, name_key(full_name)), (int(member_id), role))

            leaders = {(team_ids[r.team_code][1], name_key(r.full_name)) for r in roster if r.is_leader}
            cleared: set[tuple[int, str]] = set()
            for entry in roster:
                team_id, unit = team_ids[entry.team_code]
                key = (unit, name_key(entry.full_name))
                leads = key in leaders
                if key not in people:
                    role = Role.TEAM_LEADER if leads else Role.AGENT
                    member_id = await insert_member(
                        tx, channel=NO_CHANNEL, user_id=None, full_name=entry.full_name, role=role,
                        unit_code=unit, title=entry.title, at=stamp,
                    )
                    await record_event(tx, member_id, "imported", CLI_ACTOR, stamp, None, f"{role.value}@{unit}")
                    people[key] = (member_id, role.value)
                    members_created += 1
                member_id, role_value = people[key]
                if leads and role_value == Role.AGENT.value:
                    await tx.execute(
                        "UPDATE members SET role = $1, updated_at = $2 WHERE id = $3",
                        Role.TEAM_LEADER.value, stamp, member_id,
                    )
                    await record_event(
                        tx, member_id, "role_changed", CLI_ACTOR, stamp, role_value, Role.TEAM_LEADER.value
                    )
                    people[key] = (member_id, Role.TEAM_LEADER.value)
                if entry.title:
                    await tx.execute(
                        "UPDATE members SET title = $1 WHERE id = $2 AND (title IS NULL OR title = '')",
                        entry.title, member_id,
                    )
                if (team_id, entry.month) not in cleared:
                    await tx.execute("DELETE FROM team_rosters WHERE team_id = $1 AND month = $2", team_id, entry.month)
                    cleared.add((team_id, entry.month))
                await tx.execute(_UPSERT_ROSTER, team_id, entry.month, member_id, int(entry.is_leader))
        return RosterImportResult(teams_created, teams_updated, members_created, len(roster))
