"""The one command table: which commands exist, who may use them and each role's menu, and
which button prefixes each role may press.

The router (bot/chat/router.py) refuses a button press whose prefix the sender's role may not
use, with `BUTTON_NOT_ALLOWED`, before any flow runs, so a forged payload changes nothing; the
menus (`commands_for`) show a role only what `COMMAND_ROLES` allows it. Flows refuse a command
of another role with their own words, and the services keep their own checks (scope, role)
behind both: the table is the first line, not the only one. tests/test_commands.py checks that
every command here is answered by a flow and every flow's command is here.
"""

from __future__ import annotations

from bot.chat.texts import cards as replies_cards
from bot.chat.texts import cost as replies
from bot.chat.texts import enrolment as replies_agent
from bot.chat.texts import organisation as replies_org
from bot.chat.texts import summaries as replies_summary
from bot.chat.texts.common import BUTTON_NOT_ALLOWED
from bot.domain.roles import CAN_EXPORT, CAN_INVITE, CAN_LOG, CAN_VOID, Role

__all__ = [
    "BUTTON_NOT_ALLOWED",
    "BUTTON_ROLES",
    "COMMAND_ROLES",
    "MENUS",
    "button_prefix",
    "commands_for",
    "may_press",
    "may_use_command",
]

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
    "mucdong": EVERYONE,
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


# --- menus ----------------------------------------------------------------------------------

_ALL: dict[str, str] = dict(
    replies.COMMANDS
    + replies_cards.COMMANDS
    + replies_org.ORG_COMMANDS
    + replies_agent.AGENT_COMMANDS
    + replies_summary.COMMANDS
)

_CITIZEN = ["start", "bhyt", "bhxh", "mucdong", "hethan", "nhac", "dunglai", "thamgia", "help"]
_AGENT = ["ghi", "huy", "toi", "nhom", "bangxephang", "danhsach", "vaitro", "bhyt", "bhxh", "help"]
_TEAM_LEADER = _AGENT[:5] + ["xuat", "baocao", "tomtat"] + _AGENT[5:]
_OFFICIAL = [
    "baocao", "tomtat", "bangxephang", "baophu", "thidua", "xuat", "danhsach", "huyghi",
    "moi", "thanhvien", "donvi", "ghi", "vaitro", "bhyt", "bhxh", "help",
]
MENUS: dict[Role, list[str]] = {
    Role.CITIZEN: _CITIZEN,
    Role.AGENT: _AGENT,
    Role.TEAM_LEADER: _TEAM_LEADER,
    Role.OFFICIAL: _OFFICIAL,
    Role.ADMIN: _OFFICIAL,
}


def commands_for(role: Role) -> list[tuple[str, str]]:
    """(command, Vietnamese description) pairs for the role's menu, most used first.

    Only commands `COMMAND_ROLES` allows the role: the menu and the gate read one table.
    """
    return [(name, _ALL[name]) for name in MENUS[role] if role in COMMAND_ROLES[name]]
