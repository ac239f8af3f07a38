"""Repository of one-time invites (stored as hashes) and of failed attempts to use them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.records import AuditActor, Invite, Redeemed
from bot.domain.roles import Role
from storage.sqlite.db import Database
from storage.sqlite.members import insert_member, record_event

_COLUMNS = (
    "code_hash, role, unit_code, team_id, member_id, full_name, created_by, created_by_user,"
    " created_at, expires_at, used_at, used_by_member"
)


def _invite(row: object) -> Invite:
    values = list(row)  # type: ignore[call-overload]
    values[1] = Role(values[1])
    return Invite(*values)


class InviteRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        code_hash: str,
        role: Role,
        unit_code: str,
        team_id: int | None,
        member_id: int | None,
        full_name: str | None,
        created_by: int | None,
        created_by_user: int | None,
        channel: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        await self.db.execute(
            "INSERT INTO invites(code_hash, role, unit_code, team_id, member_id, full_name,"
            " created_by, created_by_user, channel, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                code_hash,
                role.value,
                unit_code,
                team_id,
                member_id,
                full_name,
                created_by,
                created_by_user,
                channel,
                created_at.isoformat(timespec="seconds"),
                expires_at.isoformat(timespec="seconds"),
            ),
        )

    async def get(self, code_hash: str) -> Invite | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM invites WHERE code_hash = ?", (code_hash,))
        return None if row is None else _invite(row)

    async def open_in_units(self, unit_codes: Sequence[str], now: datetime) -> list[Invite]:
        """Unused, unexpired invites for the given units, newest first."""
        if not unit_codes:
            return []
        marks = ", ".join("?" for _ in unit_codes)
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM invites WHERE unit_code IN ({marks}) AND used_at IS NULL"
            " AND expires_at > ? ORDER BY created_at DESC",
            (*unit_codes, now.isoformat(timespec="seconds")),
        )
        return [_invite(r) for r in rows]

    async def redeem(
        self, code_hash: str, *, channel: str, user_id: int, display_name: str, now: datetime, month: str
    ) -> Redeemed | None:
        """Use an invite: mark it used and make the person a member, all or nothing.

        None when the code is unknown, used or expired, or the member it would claim is gone:
        the caller answers all of these the same way.
        """
        stamp = now.isoformat(timespec="seconds")
        async with self.db.transaction() as conn:
            async with conn.execute(
                f"SELECT {_COLUMNS} FROM invites WHERE code_hash = ?", (code_hash,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            invite = _invite(row)
            if invite.used_at is not None or datetime.fromisoformat(invite.expires_at) <= now:
                return None
            granted_by = AuditActor(invite.created_by, invite.created_by_user, channel)
            claimed = invite.member_id is not None
            if claimed:
                cur = await conn.execute(
                    "UPDATE members SET user_id = ?, channel = ?, role = ?, updated_at = ?"
                    " WHERE id = ? AND user_id IS NULL AND active = 1",
                    (user_id, channel, invite.role.value, stamp, invite.member_id),
                )
                if cur.rowcount != 1:
                    return None
                member_id = int(invite.member_id)  # type: ignore[arg-type]
                await conn.execute(
                    "UPDATE members SET unit_code = ? WHERE id = ?", (invite.unit_code, member_id)
                )
                await record_event(
                    conn, member_id, "claimed", granted_by, stamp, None,
                    f"{invite.role.value}@{invite.unit_code}",
                )
            else:
                member_id = await insert_member(
                    conn,
                    channel=channel,
                    user_id=user_id,
                    full_name=invite.full_name or display_name,
                    role=invite.role,
                    unit_code=invite.unit_code,
                    title=None,
                    at=stamp,
                )
                await record_event(
                    conn, member_id, "joined", granted_by, stamp, None,
                    f"{invite.role.value}@{invite.unit_code}",
                )
            if invite.team_id is not None:
                await conn.execute(
                    "INSERT INTO team_rosters(team_id, month, member_id, is_leader) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(team_id, month, member_id) DO UPDATE SET is_leader = excluded.is_leader",
                    (invite.team_id, month, member_id, int(invite.role == Role.TEAM_LEADER)),
                )
            await conn.execute(
                "UPDATE invites SET used_at = ?, used_by_member = ? WHERE code_hash = ?",
                (stamp, member_id, code_hash),
            )
        return Redeemed(member_id, invite.role, invite.unit_code, invite.team_id, claimed)

    async def record_failure(self, channel: str, user_id: int, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO join_failures(channel, user_id, at) VALUES (?, ?, ?)",
            (channel, user_id, at.isoformat(timespec="seconds")),
        )

    async def failures_since(self, channel: str, user_id: int, since: datetime) -> list[str]:
        """ISO times of the user's failed attempts after `since`, oldest first."""
        rows = await self.db.fetchall(
            "SELECT at FROM join_failures WHERE channel = ? AND user_id = ? AND at > ? ORDER BY at",
            (channel, user_id, since.isoformat(timespec="seconds")),
        )
        return [r[0] for r in rows]

    async def purge_failures(self, before: datetime) -> None:
        """Forget old failures (they only matter for the throttle window)."""
        await self.db.execute(
            "DELETE FROM join_failures WHERE at < ?", (before.isoformat(timespec="seconds"),)
        )
