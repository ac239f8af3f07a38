"""Repository of members (people with a role in a unit) and the audit trail of their changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain.records import AuditActor, MemberDetail, MemberEvent
from bot.domain.roles import Member, Role
from storage.sqlite.db import Database

_COLUMNS = "id, channel, user_id, full_name, role, unit_code, active"


def _member(row: Iterable[Any]) -> Member:
    id_, channel, user_id, full_name, role, unit_code, active = row
    return Member(id_, channel, user_id, full_name, Role(role), unit_code, bool(active))


async def record_event(
    conn: aiosqlite.Connection,
    member_id: int,
    action: str,
    actor: AuditActor,
    at: str,
    old_value: str | None = None,
    new_value: str | None = None,
) -> None:
    """Append one audit row inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO member_events(member_id, action, old_value, new_value, actor_member_id,"
        " actor_user_id, actor_channel, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (member_id, action, old_value, new_value, actor.member_id, actor.user_id, actor.channel, at),
    )


# The channel of a member no chat user has claimed yet (a roster placeholder): it has none;
# joining with an invite sets the channel and user id together (storage/invites.py).
NO_CHANNEL = ""


async def insert_member(
    conn: aiosqlite.Connection,
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
    cur = await conn.execute(
        "INSERT INTO members(channel, user_id, full_name, role, unit_code, title, active,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (channel, user_id, full_name, role.value, unit_code, title, at, at),
    )
    return int(cur.lastrowid or 0)


class MemberRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_user(self, user_id: int, channel: str) -> Member | None:
        """The active membership of a chat user, or None (a citizen)."""
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM members WHERE channel = ? AND user_id = ? AND active = 1",
            (channel, user_id),
        )
        return None if row is None else _member(row)

    async def get(self, member_id: int) -> Member | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,))
        return None if row is None else _member(row)

    async def detail(self, member_id: int) -> MemberDetail | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS}, title, created_at, updated_at FROM members WHERE id = ?",
            (member_id,),
        )
        if row is None:
            return None
        return MemberDetail(_member(tuple(row)[:7]), row[7], row[8], row[9])

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
        async with self.db.transaction() as conn:
            member_id = await insert_member(
                conn,
                channel=channel or NO_CHANNEL,
                user_id=user_id,
                full_name=full_name,
                role=role,
                unit_code=unit_code,
                title=title,
                at=stamp,
            )
            await record_event(conn, member_id, "created", actor, stamp, None, f"{role.value}@{unit_code}")
        return member_id

    async def in_units(
        self, unit_codes: Sequence[str], *, offset: int = 0, limit: int = 20, active: bool = True
    ) -> list[MemberDetail]:
        """Members of the given units, ordered by unit then name (a page)."""
        if not unit_codes:
            return []
        marks = ", ".join("?" for _ in unit_codes)
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS}, title, created_at, updated_at FROM members"
            f" WHERE unit_code IN ({marks}) AND active = ?"
            " ORDER BY unit_code, full_name, id LIMIT ? OFFSET ?",
            (*unit_codes, int(active), limit, offset),
        )
        return [MemberDetail(_member(tuple(r)[:7]), r[7], r[8], r[9]) for r in rows]

    async def count_in_units(self, unit_codes: Sequence[str], active: bool = True) -> int:
        if not unit_codes:
            return 0
        marks = ", ".join("?" for _ in unit_codes)
        return int(
            await self.db.fetchval(
                f"SELECT COUNT(*) FROM members WHERE unit_code IN ({marks}) AND active = ?",
                (*unit_codes, int(active)),
            )
            or 0
        )

    async def counts_by_unit(self) -> dict[str, int]:
        """Active members per unit code (unit lists show them)."""
        rows = await self.db.fetchall(
            "SELECT unit_code, COUNT(*) FROM members WHERE active = 1 GROUP BY unit_code"
        )
        return {row[0]: int(row[1]) for row in rows}

    async def unclaimed_in_unit(self, unit_code: str) -> list[Member]:
        """Active members without a chat account (imported from rosters), for invites."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM members WHERE unit_code = ? AND user_id IS NULL"
            " AND active = 1 ORDER BY full_name",
            (unit_code,),
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
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE members SET active = 0, updated_at = ? WHERE id = ? AND active = 1",
                (stamp, member_id),
            )
            if cur.rowcount != 1:
                return False
            await record_event(conn, member_id, "deactivated", actor, stamp, "1", "0")
        return True

    async def _change(
        self, member_id: int, column: str, value: str, action: str, actor: AuditActor, at: datetime
    ) -> bool:
        assert column in ("role", "unit_code")
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as conn:
            async with conn.execute(
                f"SELECT {column} FROM members WHERE id = ? AND active = 1", (member_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            old = row[0]
            if old == value:
                return True
            await conn.execute(
                f"UPDATE members SET {column} = ?, updated_at = ? WHERE id = ?",
                (value, stamp, member_id),
            )
            await record_event(conn, member_id, action, actor, stamp, old, value)
        return True

    async def events(self, member_id: int) -> list[MemberEvent]:
        rows = await self.db.fetchall(
            "SELECT member_id, action, old_value, new_value, actor_member_id, actor_user_id, at"
            " FROM member_events WHERE member_id = ? ORDER BY id",
            (member_id,),
        )
        return [MemberEvent(*r) for r in rows]
