"""Who is talking: citizen, agent, team leader, official or admin, and which units they see.

Admins come from the settings, per channel (ADMIN_TELEGRAM_IDS, ADMIN_ZALO_IDS: an id is an
admin only on the channel it was listed for, since ids of different channels may collide) and
see every unit; a member sees their unit's subtree; everyone else is a citizen and sees no unit
data at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.domain.roles import Member, Role
from storage.contract import MemberStore, UnitStore


@dataclass(frozen=True)
class Actor:
    """The sender of a message, resolved to a role and a scope."""

    user_id: int
    channel: str
    role: Role
    member: Member | None
    scope_code: str | None  # None: admin without a unit = the whole tree

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class AccessService:
    def __init__(
        self, admin_ids: Mapping[str, Iterable[int]], members: MemberStore, units: UnitStore
    ) -> None:
        """`admin_ids`: the admins' user ids by channel name."""
        self.admin_ids: dict[str, frozenset[int]] = {
            channel: frozenset(ids) for channel, ids in admin_ids.items()
        }
        self.members = members
        self.units = units

    def is_admin_id(self, user_id: int, channel: str) -> bool:
        """Is `user_id` listed as an admin for `channel`?"""
        return user_id in self.admin_ids.get(channel, frozenset())

    async def actor(self, user_id: int, channel: str) -> Actor:
        """Who (`user_id` on `channel`) is writing: admin, member or citizen, and their scope."""
        member = await self.members.by_user(user_id, channel)
        if self.is_admin_id(user_id, channel):
            return Actor(user_id, channel, Role.ADMIN, member, member.unit_code if member else None)
        if member is None:
            return Actor(user_id, channel, Role.CITIZEN, None, None)
        return Actor(user_id, channel, member.role, member, member.unit_code)

    async def can_see(self, actor: Actor, unit_code: str) -> bool:
        """Is the unit inside the actor's scope? Citizens see none; admins see all."""
        if actor.role == Role.CITIZEN:
            return False
        if actor.is_admin and actor.scope_code is None:
            return await self.units.get(unit_code) is not None
        assert actor.scope_code is not None
        return await self.units.in_scope(actor.scope_code, unit_code)

    async def scope_codes(self, actor: Actor) -> list[str]:
        """Every unit code the actor may see (empty for citizens)."""
        if actor.role == Role.CITIZEN:
            return []
        if actor.scope_code is None:
            return await self.units.all_codes()
        return await self.units.subtree_codes(actor.scope_code)
