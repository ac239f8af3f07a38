"""Enrolments logged by agents and their audit trail, on PostgreSQL.

Nothing is ever deleted (see storage/sqlite/enrolments.py). The duplicate check and the insert
share one transaction that first takes an advisory lock on the participant's code: SQLite gets
this from its single writer; here two agents (on two instances) logging the same person at once
are served one after the other, and the second sees the first's entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

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
from storage.postgresql.db import Database, Tx
from storage.sqlite.enrolments import _COLUMNS, _enrolment, stamp


class EnrolmentRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_unless_duplicate(
        self, new: NewEnrolment, family: Sequence[str], plan: Planner
    ) -> Enrolment | Duplicate:
        """Check for an overlapping active entry and insert, in one transaction."""
        at = stamp(new.created_at)
        async with self.db.transaction() as tx:
            await tx.lock(f"enrolment:{new.participant_code}")
            rows = await tx.fetch(
                f"SELECT {_COLUMNS} FROM enrolments WHERE participant_code = $1"
                " AND scheme = ANY($2::text[]) AND status = 'active' ORDER BY period_start",
                new.participant_code, list(family),
            )
            decided = plan([_enrolment(tuple(r)) for r in rows])
            if isinstance(decided, Enrolment):
                name = await tx.fetchval("SELECT name FROM units WHERE code = $1", decided.unit_code)
                return Duplicate(decided, decided.unit_code if name is None else str(name))
            start, end = decided
            row = await tx.fetchrow(
                "INSERT INTO enrolments(agent_id, unit_code, team_id, campaign_code, scheme,"
                " participant_name, participant_code, code_kind, months, period_start, period_end,"
                " support_group, income, household_position, amount_expected, amount_paid,"
                " amount_reason, is_relative, status, created_at, created_on)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
                f" $18, 'active', $19, $20) RETURNING {_COLUMNS}",
                new.agent_id, new.unit_code, new.team_id, new.campaign_code, new.scheme,
                new.participant_name, new.participant_code, new.code_kind, new.months,
                start.isoformat(), end.isoformat(), new.support_group, new.income,
                new.household_position, new.amount_expected, new.amount_paid,
                new.amount_reason, int(new.is_relative), at, new.created_at.date().isoformat(),
            )
            assert row is not None
            await _record_event(tx, int(row[0]), "created", StatusActor(new.agent_id), None, at)
        return _enrolment(tuple(row))

    async def get(self, enrolment_id: int) -> Enrolment | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM enrolments WHERE id = $1", enrolment_id)
        return None if row is None else _enrolment(tuple(row))

    async def last_active_of_agent(self, agent_id: int, since: datetime) -> Enrolment | None:
        """The agent's most recent active entry logged at or after `since`."""
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM enrolments WHERE agent_id = $1 AND status = 'active'"
            " AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT 1",
            agent_id, stamp(since),
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

        The conditions are part of the UPDATE (compare-and-set), so a double press or a race
        between instances cannot change an entry twice.
        """
        action = {STATUS_WITHDRAWN: "withdrawn", STATUS_VOIDED: "voided"}[status]
        sql = "UPDATE enrolments SET status = $1 WHERE id = $2 AND status = 'active'"
        params: list[object] = [status, enrolment_id]
        if only_agent_id is not None:
            params.append(only_agent_id)
            sql += f" AND agent_id = ${len(params)}"
        if logged_since is not None:
            params.append(stamp(logged_since))
            sql += f" AND created_at >= ${len(params)}"
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(sql + f" RETURNING {_COLUMNS}", *params)
            if row is None:
                return None
            await _record_event(tx, enrolment_id, action, actor, reason, stamp(at))
        return _enrolment(tuple(row))

    async def events(self, enrolment_id: int) -> list[EnrolmentEvent]:
        rows = await self.db.fetch(
            "SELECT enrolment_id, action, actor_member_id, actor_user_id, reason, at"
            " FROM enrolment_events WHERE enrolment_id = $1 ORDER BY id",
            enrolment_id,
        )
        return [EnrolmentEvent(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5])) for r in rows]

    async def report_rows(
        self,
        day_from: date,
        day_to: date,
        *,
        unit_codes: Sequence[str] | None = None,
        team_id: int | None = None,
    ) -> list[ReportRow]:
        """Active entries logged between two days (inclusive), for the monthly form."""
        sql = (
            "SELECT e.id, m.full_name, u.name, t.name, e.participant_name, e.participant_code,"
            " e.scheme, e.months, e.amount_paid, e.created_on"
            " FROM enrolments e JOIN members m ON m.id = e.agent_id"
            " JOIN units u ON u.code = m.unit_code LEFT JOIN teams t ON t.id = e.team_id"
            " WHERE e.status = 'active' AND e.created_on BETWEEN $1 AND $2"
        )
        params: list[object] = [day_from.isoformat(), day_to.isoformat()]
        if team_id is not None:
            params.append(team_id)
            sql += f" AND e.team_id = ${len(params)}"
        if unit_codes is not None:
            params.append(list(unit_codes))
            sql += f" AND e.unit_code = ANY(${len(params)}::text[])"
        sql += " ORDER BY t.name IS NULL, t.name, m.full_name, e.created_at, e.id"
        rows = await self.db.fetch(sql, *params)
        return [
            ReportRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), int(r[8]), date.fromisoformat(r[9]))
            for r in rows
        ]


async def _record_event(
    tx: Tx, enrolment_id: int, action: str, actor: StatusActor, reason: str | None, at: str
) -> None:
    await tx.execute(
        "INSERT INTO enrolment_events(enrolment_id, actor_member_id, actor_user_id, actor_channel,"
        " action, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        enrolment_id, actor.member_id, actor.user_id, actor.channel, action, reason, at,
    )
