"""Who may use what: every command and every button prefix with the roles allowed, in one table.

The command menus (`bot.chat.commands`) and the button gate (`bot.chat.router`) both read
this table, so a button can never do what its command refuses. A forged callback payload of a
prefix the sender's role may not use is answered with `BUTTON_NOT_ALLOWED` before any feature
handler runs, and changes nothing. The services keep their own checks (scope, role) behind it:
the gate is the first line, not the only one.
"""

from __future__ import annotations

from bot.domain.roles import CAN_EXPORT, CAN_INVITE, CAN_LOG, CAN_VOID, Role

EVERYONE: frozenset[Role] = frozenset(Role)
MEMBERS: frozenset[Role] = frozenset({Role.AGENT, Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN})
LOGGERS: frozenset[Role] = frozenset(CAN_LOG)
EXPORTERS: frozenset[Role] = frozenset(CAN_EXPORT)
VOIDERS: frozenset[Role] = frozenset(CAN_VOID)
INVITERS: frozenset[Role] = frozenset(CAN_INVITE)
MANAGERS: frozenset[Role] = frozenset({Role.OFFICIAL, Role.ADMIN})
SUMMARY: frozenset[Role] = frozenset({Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN})

# Every command the bot registers, with the roles that may use it. The handlers refuse the
# others with their own words (and the services check again); the menus show only these.
COMMAND_ROLES: dict[str, frozenset[Role]] = {
    # citizens' features: everyone
    "start": EVERYONE,
    "help": EVERYONE,
    "huongdan": EVERYONE,
    "bhyt": EVERYONE,
    "bhxh": EVERYONE,
    "bhxhtn": EVERYONE,
    "hethan": EVERYONE,
    "nhac": EVERYONE,
    "dunglai": EVERYONE,
    "thamgia": EVERYONE,
    "vaitro": EVERYONE,
    # agents and up
    "ghi": LOGGERS,
    "huy": LOGGERS,
    "toi": LOGGERS,
    "nhom": LOGGERS,
    "bangxephang": MEMBERS,
    "thidua": MEMBERS,
    "danhsach": MEMBERS,
    # team leaders and up
    "xuat": EXPORTERS,
    "baocao": SUMMARY,
    "tomtat": SUMMARY,
    # officials and admins
    "huyghi": VOIDERS,
    "moi": INVITERS,
    "thanhvien": MANAGERS,
    "donvi": MANAGERS,
    "suatv": MANAGERS,
    "xoatv": MANAGERS,
    "baophu": MANAGERS,
}

# Every callback-data prefix the bot puts on a button, with the roles that may press it.
BUTTON_ROLES: dict[str, frozenset[Role]] = {
    "q1|": EVERYONE,  # cost question drafts (citizen flow)
    "m:": EVERYONE,  # the main menu
    "rc:": EVERYONE,  # lapsed-card reminders and /hethan (acts on the presser's own cards only)
    "g:": LOGGERS,  # the /ghi flow
    "eh:": LOGGERS,  # /huy: withdraw one's own last entry
    "iv|": INVITERS,  # the guided /moi flow (teams, roster names)
    "dv|": MANAGERS,  # /donvi units
    "tv|": MANAGERS,  # /thanhvien members
    "bp|": MANAGERS,  # /baophu coverage
}

BUTTON_NOT_ALLOWED = (
    "Nút này dành cho cán bộ phụ trách hoặc người vận động, bạn không dùng được. "
    "Gõ /vaitro để xem vai trò của bạn, /help để xem bot giúp được gì."
)


def button_prefix(data: str | None) -> str | None:
    """The table prefix a callback payload starts with, or None for unknown or empty data."""
    if not data:
        return None
    for prefix in BUTTON_ROLES:
        if data.startswith(prefix):
            return prefix
    return None


def may_press(role: Role, data: str | None) -> bool:
    """May this role press a button carrying `data`? Unknown prefixes are anyone's: they only
    get the "button expired" answer, which reveals and changes nothing."""
    prefix = button_prefix(data)
    return prefix is None or role in BUTTON_ROLES[prefix]


def may_use_command(role: Role, command: str) -> bool:
    """May this role use the command? Unknown commands are anyone's (they get the menu)."""
    roles = COMMAND_ROLES.get(command.lower())
    return roles is None or role in roles
