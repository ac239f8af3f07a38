"""Members (people with a role in a unit) and the audit trail of their changes, on PostgreSQL.

One active membership per chat account is the partial unique index `members_user`; a second
one fails with the contract's `DuplicateError` whichever instance writes it. A change reads the
current value under `FOR UPDATE`, so two changes of one member at once audit both in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.records import AuditActor, MemberDetail, MemberEvent
from bot.domain.roles import Member, Role
from storage.postgresql.db import Database, Tx
from storage.sqlite.members import _COLUMNS, NO_CHANNEL, _member


async def record_event(
    tx: Tx,
    member_id: int,
    action: str,
    actor: AuditActor,
    at: str,
    old_value: str | None = None,
    new_value: str | None = None,
) -> None:
    """Append one audit row inside the caller's transaction."""
    await tx.execute(
        "INSERT INTO member_events(member_id, action, old_value, new_value, actor_member_id,"
        " actor_user_id, actor_channel, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        member_id, action, old_value, new_value, actor.member_id, actor.user_id, actor.channel, at,
    )


async def insert_member(
    tx: Tx,
    *,
    channel: str,
    user_id: int | None,
    full_name: str,
    role: Role,
    unit_code: str,
    title: str | None,
    at: str,
) -> int:
    """Insert a member row inside the caller's transaction; returns its id."""
    return int(
        await tx.fetchval(
            "INSERT INTO members(channel, user_id, full_name, role, unit_code, title, active,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
            channel, user_id, full_name, role.value, unit_code, title, at,
        )
    )


def _detail(row: Sequence[object]) -> MemberDetail:
    values = tuple(row)
    return MemberDetail(_member(values[:7]), values[7], values[8], values[9])  # type: ignore[arg-type]


class MemberRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_user(self, user_id: int, channel: str) -> Member | None:
        """The active membership of a chat user, or None (a citizen)."""
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM members WHERE channel = $1 AND user_id = $2 AND active = 1",
            channel, user_id,
        )
        return None if row is None else _member(row)

    async def get(self, member_id: int) -> Member | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM members WHERE id = $1", member_id)
        return None if row is None else _member(row)

    async def detail(self, member_id: int) -> MemberDetail | None:
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS}, title, created_at, updated_at FROM members WHERE id = $1", member_id
        )
        return None if row is None else _detail(row)

    async def add(
        self,
        *,
        full_name: str,
        role: Role,
        unit_code: str,
        actor: AuditActor,
        at: datetime,
        user_id: int | None = None,
        channel: str | None = None,
        title: str | None = None,
    ) -> int:
        """Create a member (with its audit row); returns the id. A member with a chat user
        needs that user's `channel`; one without (claimed later by invite) has none."""
        if user_id is not None and not channel:
            raise ValueError("a member with a user id needs the channel of that user")
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            member_id = await insert_member(
                tx, channel=channel or NO_CHANNEL, user_id=user_id, full_name=full_name, role=role,
                unit_code=unit_code, title=title, at=stamp,
            )
            await record_event(tx, member_id, "created", actor, stamp, None, f"{role.value}@{unit_code}")
        return member_id

    async def in_units(
        self, unit_codes: Sequence[str], *, offset: int = 0, limit: int = 20, active: bool = True
    ) -> list[MemberDetail]:
        """Members of the given units, ordered by unit then name (a page)."""
        if not unit_codes:
            return []
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS}, title, created_at, updated_at FROM members"
            " WHERE unit_code = ANY($1::text[]) AND active = $2"
            " ORDER BY unit_code, full_name, id LIMIT $3 OFFSET $4",
            list(unit_codes), int(active), limit, offset,
        )
        return [_detail(r) for r in rows]

    async def count_in_units(self, unit_codes: Sequence[str], active: bool = True) -> int:
        if not unit_codes:
            return 0
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM members WHERE unit_code = ANY($1::text[]) AND active = $2",
                list(unit_codes), int(active),
            )
            or 0
        )

    async def counts_by_unit(self) -> dict[str, int]:
        """Active members per unit code (unit lists show them)."""
        rows = await self.db.fetch("SELECT unit_code, COUNT(*) FROM members WHERE active = 1 GROUP BY unit_code")
        return {row[0]: int(row[1]) for row in rows}

    async def unclaimed_in_unit(self, unit_code: str) -> list[Member]:
        """Active members without a chat account (imported from rosters), for invites."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM members WHERE unit_code = $1 AND user_id IS NULL"
            " AND active = 1 ORDER BY full_name",
            unit_code,
        )
        return [_member(r) for r in rows]

    async def change_role(self, member_id: int, role: Role, actor: AuditActor, at: datetime) -> bool:
        """Set the role of an active member; False when it does not exist or is inactive."""
        return await self._change(member_id, "role", role.value, "role_changed", actor, at)

    async def change_unit(self, member_id: int, unit_code: str, actor: AuditActor, at: datetime) -> bool:
        return await self._change(member_id, "unit_code", unit_code, "unit_changed", actor, at)

    async def deactivate(self, member_id: int, actor: AuditActor, at: datetime) -> bool:
        """Mark a member inactive (never deleted: their enrolments keep pointing at them)."""
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE members SET active = 0, updated_at = $1 WHERE id = $2 AND active = 1", stamp, member_id
            )
            if changed != 1:
                return False
            await record_event(tx, member_id, "deactivated", actor, stamp, "1", "0")
        return True

    async def _change(
        self, member_id: int, column: str, value: str, action: str, actor: AuditActor, at: datetime
    ) -> bool:
        assert column in ("role", "unit_code")
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                f"SELECT {column} FROM members WHERE id = $1 AND active = 1 FOR UPDATE", member_id
            )
            if row is None:
                return False
            old = row[0]
            if old == value:
                return True
            await tx.execute(
                f"UPDATE members SET {column} = $1, updated_at = $2 WHERE id = $3", value, stamp, member_id
            )
            await record_event(tx, member_id, action, actor, stamp, old, value)
        return True

    async def events(self, member_id: int) -> list[MemberEvent]:
        rows = await self.db.fetch(
            "SELECT member_id, action, old_value, new_value, actor_member_id, actor_user_id, at"
            " FROM member_events WHERE member_id = $1 ORDER BY id",
            member_id,
        )
        return [MemberEvent(*r) for r in rows]
