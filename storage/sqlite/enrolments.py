"""Repository of enrolments logged by agents and their audit trail.

Nothing is ever deleted: a withdrawal (by the agent) or a void (by an official) is a status
change plus an `enrolment_events` row saying who, when and why, written in the same transaction.
The duplicate check and the insert also share one transaction (BEGIN IMMEDIATE, serialised by
`Database.transaction`), so two agents logging the same person at once cannot both succeed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import aiosqlite

from bot.domain.records import (
    STATUS_VOIDED,
    STATUS_WITHDRAWN,
    Duplicate,
    Enrolment,
    EnrolmentEvent,
    NewEnrolment,
    Planner,
    ReportRow,
    StatusActor,
)
from storage.sqlite.db import Database

_COLUMNS = (
    "id, agent_id, unit_code, team_id, campaign_code, scheme, participant_name,"
    " participant_code, code_kind, months, period_start, period_end, support_group, income,"
    " household_position, amount_expected, amount_paid, amount_reason, is_relative, status,"
    " created_at, created_on"
)


def _enrolment(row: Sequence[object]) -> Enrolment:
    values = list(row)
    values[10] = date.fromisoformat(str(values[10]))
    values[11] = date.fromisoformat(str(values[11]))
    values[18] = bool(values[18])
    values[20] = datetime.fromisoformat(str(values[20]))
    values[21] = date.fromisoformat(str(values[21]))
    return Enrolment(*values)  # type: ignore[arg-type]


def stamp(at: datetime) -> str:
    """How times are stored: ISO local time with offset, seconds precision (sortable as text
    within one zone, which Asia/Ho_Chi_Minh is: no daylight saving)."""
    return at.isoformat(timespec="seconds")


def scope_param(unit_codes: Sequence[str]) -> str:
    """Unit codes as one JSON parameter for `IN (SELECT value FROM json_each(?))`: any number
    of codes without hitting SQLite's variable limit."""
    return json.dumps(list(unit_codes))


class EnrolmentRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_unless_duplicate(
        self, new: NewEnrolment, family: Sequence[str], plan: Planner
    ) -> Enrolment | Duplicate:
        """Check for an overlapping active entry and insert, in one transaction."""
        marks = ", ".join("?" for _ in family)
        at = stamp(new.created_at)
        async with self.db.transaction() as conn:
            async with conn.execute(
                f"SELECT {_COLUMNS} FROM enrolments WHERE participant_code = ?"
                f" AND scheme IN ({marks}) AND status = 'active' ORDER BY period_start",
                (new.participant_code, *family),
            ) as cur:
                existing = [_enrolment(tuple(r)) for r in await cur.fetchall()]
            decided = plan(existing)
            if isinstance(decided, Enrolment):
                unit_name = await _unit_name(conn, decided.unit_code)
                return Duplicate(decided, unit_name)
            start, end = decided
            cur = await conn.execute(
                "INSERT INTO enrolments(agent_id, unit_code, team_id, campaign_code, scheme,"
                " participant_name, participant_code, code_kind, months, period_start, period_end,"
                " support_group, income, household_position, amount_expected, amount_paid,"
                " amount_reason, is_relative, status, created_at, created_on)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                (
                    new.agent_id, new.unit_code, new.team_id, new.campaign_code, new.scheme,
                    new.participant_name, new.participant_code, new.code_kind, new.months,
                    start.isoformat(), end.isoformat(), new.support_group, new.income,
                    new.household_position, new.amount_expected, new.amount_paid,
                    new.amount_reason, int(new.is_relative), at, new.created_at.date().isoformat(),
                ),
            )
            enrolment_id = int(cur.lastrowid or 0)
            await _record_event(conn, enrolment_id, "created", StatusActor(new.agent_id), None, at)
            async with conn.execute(
                f"SELECT {_COLUMNS} FROM enrolments WHERE id = ?", (enrolment_id,)
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _enrolment(tuple(row))

    async def get(self, enrolment_id: int) -> Enrolment | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM enrolments WHERE id = ?", (enrolment_id,))
        return None if row is None else _enrolment(tuple(row))

    async def last_active_of_agent(self, agent_id: int, since: datetime) -> Enrolment | None:
        """The agent's most recent active entry logged at or after `since`."""
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM enrolments WHERE agent_id = ? AND status = 'active'"
            " AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (agent_id, stamp(since)),
        )
        return None if row is None else _enrolment(tuple(row))

    async def change_status(
        self,
        enrolment_id: int,
        status: str,
        actor: StatusActor,
        reason: str | None,
        at: datetime,
        *,
        only_agent_id: int | None = None,
        logged_since: datetime | None = None,
    ) -> Enrolment | None:
        """Withdraw or void an active entry with its audit row; None if nothing matched.

        The conditions (still active, the agent's own, recent enough) are part of the UPDATE,
        so a double press or a race cannot change an entry twice.
        """
        action = {STATUS_WITHDRAWN: "withdrawn", STATUS_VOIDED: "voided"}[status]
        sql = "UPDATE enrolments SET status = ? WHERE id = ? AND status = 'active'"
        params: list[object] = [status, enrolment_id]
        if only_agent_id is not None:
            sql += " AND agent_id = ?"
            params.append(only_agent_id)
        if logged_since is not None:
            sql += " AND created_at >= ?"
            params.append(stamp(logged_since))
        async with self.db.transaction() as conn:
            cur = await conn.execute(sql, params)
            if cur.rowcount != 1:
                return None
            await _record_event(conn, enrolment_id, action, actor, reason, stamp(at))
            async with conn.execute(
                f"SELECT {_COLUMNS} FROM enrolments WHERE id = ?", (enrolment_id,)
            ) as cur:
                row = await cur.fetchone()
        return None if row is None else _enrolment(tuple(row))

    async def events(self, enrolment_id: int) -> list[EnrolmentEvent]:
        rows = await self.db.fetchall(
            "SELECT enrolment_id, action, actor_member_id, actor_user_id, reason, at"
            " FROM enrolment_events WHERE enrolment_id = ? ORDER BY id",
            (enrolment_id,),
        )
        return [
            EnrolmentEvent(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5])) for r in rows
        ]

    async def report_rows(
        self,
        day_from: date,
        day_to: date,
        *,
        unit_codes: Sequence[str] | None = None,
        team_id: int | None = None,
    ) -> list[ReportRow]:
        """Active entries logged between two days (inclusive), for the monthly form.

        Restricted to a team (a team leader's form) and/or a set of units (an official's
        scope); ordered by team, agent and time as a team leader would list them.
        """
        sql = (
            "SELECT e.id, m.full_name, u.name, t.name, e.participant_name, e.participant_code,"
            " e.scheme, e.months, e.amount_paid, e.created_on"
            " FROM enrolments e JOIN members m ON m.id = e.agent_id"
            " JOIN units u ON u.code = m.unit_code LEFT JOIN teams t ON t.id = e.team_id"
            " WHERE e.status = 'active' AND e.created_on BETWEEN ? AND ?"
        )
        params: list[object] = [day_from.isoformat(), day_to.isoformat()]
        if team_id is not None:
            sql += " AND e.team_id = ?"
            params.append(team_id)
        if unit_codes is not None:
            sql += " AND e.unit_code IN (SELECT value FROM json_each(?))"
            params.append(scope_param(unit_codes))
        sql += " ORDER BY t.name IS NULL, t.name, m.full_name, e.created_at, e.id"
        rows = await self.db.fetchall(sql, params)
        return [
            ReportRow(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), int(r[8]),
                date.fromisoformat(r[9]),
            )
            for r in rows
        ]


async def _unit_name(conn: aiosqlite.Connection, code: str) -> str:
    async with conn.execute("SELECT name FROM units WHERE code = ?", (code,)) as cur:
        row = await cur.fetchone()
    return code if row is None else str(row[0])


async def _record_event(
    conn: aiosqlite.Connection,
    enrolment_id: int,
    action: str,
    actor: StatusActor,
    reason: str | None,
    at: str,
) -> None:
    await conn.execute(
        "INSERT INTO enrolment_events(enrolment_id, actor_member_id, actor_user_id, actor_channel,"
        " action, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (enrolment_id, actor.member_id, actor.user_id, actor.channel, action, reason, at),
    )
