"""One-time invites (stored as hashes) and failed attempts to use them, on PostgreSQL.

Redeeming locks the invite row (`FOR UPDATE`): two people (or two instances) using one code at
once are served one after the other, and the second finds it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.records import AuditActor, Invite, Redeemed
from bot.domain.roles import Role
from storage.postgresql.db import Database
from storage.postgresql.members import insert_member, record_event
from storage.postgresql.teams import _UPSERT_ROSTER
from storage.sqlite.invites import _COLUMNS, _invite


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
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            code_hash, role.value, unit_code, team_id, member_id, full_name, created_by, created_by_user,
            channel, created_at.isoformat(timespec="seconds"), expires_at.isoformat(timespec="seconds"),
        )

    async def get(self, code_hash: str) -> Invite | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM invites WHERE code_hash = $1", code_hash)
        return None if row is None else _invite(row)

    async def open_in_units(self, unit_codes: Sequence[str], now: datetime) -> list[Invite]:
        """Unused, unexpired invites for the given units, newest first."""
        if not unit_codes:
            return []
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM invites WHERE unit_code = ANY($1::text[]) AND used_at IS NULL"
            " AND expires_at > $2 ORDER BY created_at DESC",
            list(unit_codes), now.isoformat(timespec="seconds"),
        )
        return [_invite(r) for r in rows]

    async def redeem(
        self, code_hash: str, *, channel: str, user_id: int, display_name: str, now: datetime, month: str
    ) -> Redeemed | None:
        """Use an invite: mark it used and make the person a member, all or nothing.

        None when the code is unknown, used or expired, or the member it would claim is gone.
        """
        stamp = now.isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(f"SELECT {_COLUMNS} FROM invites WHERE code_hash = $1 FOR UPDATE", code_hash)
            if row is None:
                return None
            invite = _invite(row)
            if invite.used_at is not None or datetime.fromisoformat(invite.expires_at) <= now:
                return None
            granted_by = AuditActor(invite.created_by, invite.created_by_user, channel)
            claimed = invite.member_id is not None
            if claimed:
                changed = await tx.execute(
                    "UPDATE members SET user_id = $1, channel = $2, role = $3, updated_at = $4,"
                    " unit_code = $5 WHERE id = $6 AND user_id IS NULL AND active = 1",
                    user_id, channel, invite.role.value, stamp, invite.unit_code, invite.member_id,
                )
                if changed != 1:
                    return None
                member_id = int(invite.member_id)  # type: ignore[arg-type]
                await record_event(
                    tx, member_id, "claimed", granted_by, stamp, None, f"{invite.role.value}@{invite.unit_code}"
                )
            else:
                member_id = await insert_member(
                    tx, channel=channel, user_id=user_id, full_name=invite.full_name or display_name,
                    role=invite.role, unit_code=invite.unit_code, title=None, at=stamp,
                )
                await record_event(
                    tx, member_id, "joined", granted_by, stamp, None, f"{invite.role.value}@{invite.unit_code}"
                )
            if invite.team_id is not None:
                await tx.execute(_UPSERT_ROSTER, invite.team_id, month, member_id, int(invite.role == Role.TEAM_LEADER))
            await tx.execute(
                "UPDATE invites SET used_at = $1, used_by_member = $2 WHERE code_hash = $3", stamp, member_id, code_hash
            )
        return Redeemed(member_id, invite.role, invite.unit_code, invite.team_id, claimed)

    async def record_failure(self, channel: str, user_id: int, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO join_failures(channel, user_id, at) VALUES ($1, $2, $3)",
            channel, user_id, at.isoformat(timespec="seconds"),
        )

    async def failures_since(self, channel: str, user_id: int, since: datetime) -> list[str]:
        """ISO times of the user's failed attempts after `since`, oldest first."""
        rows = await self.db.fetch(
            "SELECT at FROM join_failures WHERE channel = $1 AND user_id = $2 AND at > $3 ORDER BY at",
            channel, user_id, since.isoformat(timespec="seconds"),
        )
        return [r[0] for r in rows]

    async def purge_failures(self, before: datetime) -> None:
        """Forget old failures (they only matter for the throttle window)."""
        await self.db.execute("DELETE FROM join_failures WHERE at < $1", before.isoformat(timespec="seconds"))
