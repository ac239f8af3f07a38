"""Roles and what each may do. A role is bound to a unit; an official's scope is the subtree."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OFFICIAL = "official"
    TEAM_LEADER = "team_leader"
    AGENT = "agent"
    CITIZEN = "citizen"  # everyone without a membership


ROLE_LABELS = {
    Role.ADMIN: "quản trị",
    Role.OFFICIAL: "cán bộ phụ trách",
    Role.TEAM_LEADER: "tổ trưởng",
    Role.AGENT: "người vận động",
    Role.CITIZEN: "người dân",
}

# Who may log enrolments, export the monthly form, void others' entries, manage invites.
CAN_LOG = {Role.AGENT, Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN}
CAN_EXPORT = {Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN}
CAN_VOID = {Role.OFFICIAL, Role.ADMIN}
CAN_INVITE = {Role.OFFICIAL, Role.ADMIN}


@dataclass(frozen=True)
class Member:
    """A person with a role in a unit (agents, team leaders, officials, admins)."""

    id: int
    channel: str
    user_id: int | None
    full_name: str
    role: Role
    unit_code: str
    active: bool = True
