"""The command menu each role sees in Telegram (setMyCommands), as plain data.

Citizens get the default menu; members get a menu for their role in their own chat, refreshed
when their role changes, so nobody is shown commands they cannot use.
"""

from __future__ import annotations

from bot.chat.texts import cards as replies_cards
from bot.chat.texts import cost as replies
from bot.chat.texts import enrolment as replies_agent
from bot.chat.texts import organisation as replies_org
from bot.chat.texts import summaries as replies_summary
from bot.domain.roles import Role
from bot.routes import COMMAND_ROLES

_ALL: dict[str, str] = dict(
    replies.COMMANDS
    + replies_cards.COMMANDS
    + replies_org.ORG_COMMANDS
    + replies_agent.AGENT_COMMANDS
    + replies_summary.COMMANDS
)

_CITIZEN = ["start", "bhyt", "bhxh", "hethan", "nhac", "dunglai", "thamgia", "help"]
_AGENT = ["ghi", "huy", "toi", "nhom", "bangxephang", "danhsach", "vaitro", "bhyt", "bhxh", "help"]
_TEAM_LEADER = _AGENT[:5] + ["xuat", "baocao", "tomtat"] + _AGENT[5:]
_OFFICIAL = [
    "baocao", "tomtat", "bangxephang", "baophu", "thidua", "xuat", "danhsach", "huyghi",
    "moi", "thanhvien", "donvi", "ghi", "vaitro", "bhyt", "bhxh", "help",
]
_BY_ROLE: dict[Role, list[str]] = {
    Role.CITIZEN: _CITIZEN,
    Role.AGENT: _AGENT,
    Role.TEAM_LEADER: _TEAM_LEADER,
    Role.OFFICIAL: _OFFICIAL,
    Role.ADMIN: _OFFICIAL,
}


def commands_for(role: Role) -> list[tuple[str, str]]:
    """(command, Vietnamese description) pairs for the role's menu, most used first.

    Only commands `bot.routes.COMMAND_ROLES` allows the role: the menu and the gate read one table.
    """
    return [(name, _ALL[name]) for name in _BY_ROLE[role] if role in COMMAND_ROLES[name]]
