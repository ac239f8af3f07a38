"""Repository of members (people with a role in a unit)."""

from __future__ import annotations

from storage.db import Database
from bot.roles import Member, Role

_COLUMNS = "id, channel, user_id, full_name, role, unit_code, active"


def _member(row: object) -> Member:
    id_, channel, user_id, full_name, role, unit_code, active = row  # type: ignore[misc]
    return Member(id_, channel, user_id, full_name, Role(role), unit_code, bool(active))


class MemberRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_user(self, user_id: int, channel: str = "telegram") -> Member | None:
        """The active membership of a chat user, or None (a citizen)."""
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM members WHERE channel = ? AND user_id = ? AND active = 1",
            (channel, user_id),
        )
        return None if row is None else _member(row)

    async def get(self, member_id: int) -> Member | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,))
        return None if row is None else _member(row)
