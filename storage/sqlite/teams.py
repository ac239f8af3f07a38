"""Repository of teams and their monthly rosters (seed 002: members change every month)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.domain.records import CLI_ACTOR, RosterEntry, RosterImportResult, RosterRecord, Team, TeamRecord
from bot.domain.roles import Role
from storage.sqlite.db import Database
from storage.sqlite.members import _COLUMNS as MEMBER_COLUMNS
from storage.sqlite.members import NO_CHANNEL, _member, insert_member, record_event

_TEAM_COLUMNS = "id, code, name, unit_code"


class TeamRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_code(self, code: str) -> Team | None:
        row = await self.db.fetchone(f"SELECT {_TEAM_COLUMNS} FROM teams WHERE code = ?", (code,))
        return None if row is None else Team(*row)

    async def get(self, team_id: int) -> Team | None:
        row = await self.db.fetchone(f"SELECT {_TEAM_COLUMNS} FROM teams WHERE id = ?", (team_id,))
        return None if row is None else Team(*row)

    async def in_units(self, unit_codes: Sequence[str]) -> list[Team]:
        if not unit_codes:
            return []
        marks = ", ".join("?" for _ in unit_codes)
        rows = await self.db.fetchall(
            f"SELECT {_TEAM_COLUMNS} FROM teams WHERE unit_code IN ({marks}) ORDER BY code",
            tuple(unit_codes),
        )
        return [Team(*r) for r in rows]

    async def roster(self, team_id: int, month: str) -> list[RosterEntry]:
        """Who is in the team in a month ('YYYY-MM'), leaders first."""
        cols = ", ".join(f"m.{c.strip()}" for c in MEMBER_COLUMNS.split(","))
        rows = await self.db.fetchall(
            f"SELECT {cols}, r.is_leader FROM team_rosters r JOIN members m ON m.id = r.member_id"
            " WHERE r.team_id = ? AND r.month = ? ORDER BY r.is_leader DESC, m.full_name",
            (team_id, month),
        )
        return [RosterEntry(_member(tuple(r)[:7]), bool(r[7])) for r in rows]

    async def team_of(self, member_id: int, month: str) -> Team | None:
        """The member's team in a month (the lowest team id if rosters list them twice)."""
        row = await self.db.fetchone(
            "SELECT t.id, t.code, t.name, t.unit_code FROM team_rosters r"
            " JOIN teams t ON t.id = r.team_id WHERE r.member_id = ? AND r.month = ?"
            " ORDER BY t.id LIMIT 1",
            (member_id, month),
        )
        return None if row is None else Team(*row)

    async def months(self, team_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT month FROM team_rosters WHERE team_id = ? ORDER BY month", (team_id,)
        )
        return [r[0] for r in rows]

    async def add_to_roster(self, team_id: int, month: str, member_id: int, is_leader: bool) -> None:
        await self.db.execute(
            "INSERT INTO team_rosters(team_id, month, member_id, is_leader) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(team_id, month, member_id) DO UPDATE SET is_leader = excluded.is_leader",
            (team_id, month, member_id, int(is_leader)),
        )

    async def import_rosters(
        self,
        teams: Sequence[TeamRecord],
        roster: Sequence[RosterRecord],
        name_key: Callable[[str], str],
        now: datetime,
    ) -> RosterImportResult:
        """Upsert teams, find or create their people, and replace each (team, month) roster.

        People are matched by `name_key(full_name)` within the team's unit, so a person who
        moves between teams from month to month stays one member. Roles are only raised
        (agent -> team leader), never lowered: an official listed in a roster stays official.
        """
        stamp = now.isoformat(timespec="seconds")
        teams_created = teams_updated = members_created = 0
        async with self.db.transaction() as conn:
            team_ids: dict[str, tuple[int, str]] = {}
            for team in teams:
                async with conn.execute("SELECT id FROM teams WHERE code = ?", (team.code,)) as cur:
                    row = await cur.fetchone()
                if row is None:
                    cur = await conn.execute(
                        "INSERT INTO teams(code, name, unit_code) VALUES (?, ?, ?)",
                        (team.code, team.name, team.unit_code),
                    )
                    team_ids[team.code] = (int(cur.lastrowid or 0), team.unit_code)
                    teams_created += 1
                else:
                    await conn.execute(
                        "UPDATE teams SET name = ?, unit_code = ? WHERE id = ?",
                        (team.name, team.unit_code, row[0]),
                    )
                    team_ids[team.code] = (int(row[0]), team.unit_code)
                    teams_updated += 1

            people: dict[tuple[str, str], tuple[int, str]] = {}  # (unit, key) -> (id, role)
            units = {unit for _, unit in team_ids.values()}
            for unit in units:
                async with conn.execute(
                    "SELECT id, full_name, role FROM members WHERE unit_code = ? AND active = 1"
                    " ORDER BY id",
                    (unit,),
                ) as cur:
                    for member_id, full_name, role in await cur.fetchall():
                        people.setdefault((unit, name_key(full_name)), (int(member_id), role))

            leaders = {
                (team_ids[r.team_code][1], name_key(r.full_name)) for r in roster if r.is_leader
            }
            cleared: set[tuple[int, str]] = set()
            for entry in roster:
                team_id, unit = team_ids[entry.team_code]
                key = (unit, name_key(entry.full_name))
                leads = key in leaders
                if key not in people:
                    role = Role.TEAM_LEADER if leads else Role.AGENT
                    member_id = await insert_member(
                        conn,
                        channel=NO_CHANNEL,
                        user_id=None,
                        full_name=entry.full_name,
                        role=role,
                        unit_code=unit,
                        title=entry.title,
                        at=stamp,
                    )
                    await record_event(conn, member_id, "imported", CLI_ACTOR, stamp, None, f"{role.value}@{unit}")
                    people[key] = (member_id, role.value)
                    members_created += 1
                member_id, role_value = people[key]
                if leads and role_value == Role.AGENT.value:
                    await conn.execute(
                        "UPDATE members SET role = ?, updated_at = ? WHERE id = ?",
                        (Role.TEAM_LEADER.value, stamp, member_id),
                    )
                    await record_event(
                        conn, member_id, "role_changed", CLI_ACTOR, stamp, role_value, Role.TEAM_LEADER.value
                    )
                    people[key] = (member_id, Role.TEAM_LEADER.value)
                if entry.title:
                    await conn.execute(
                        "UPDATE members SET title = ? WHERE id = ? AND (title IS NULL OR title = '')",
                        (entry.title, member_id),
                    )
                if (team_id, entry.month) not in cleared:
                    await conn.execute(
                        "DELETE FROM team_rosters WHERE team_id = ? AND month = ?", (team_id, entry.month)
                    )
                    cleared.add((team_id, entry.month))
                await conn.execute(
                    "INSERT INTO team_rosters(team_id, month, member_id, is_leader) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(team_id, month, member_id) DO UPDATE SET is_leader = excluded.is_leader",
                    (team_id, entry.month, member_id, int(entry.is_leader)),
                )
        return RosterImportResult(teams_created, teams_updated, members_created, len(roster))
