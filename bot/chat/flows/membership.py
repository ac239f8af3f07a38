"""Joining: /moi (officials and admins make one-time invites), /thamgia CODE, /vaitro.

Channel-neutral: parse, call `OrganisationService`, answer with `bot.chat.texts.organisation`.
The guided /moi flow keeps its whole state in the button payloads ("iv|STEP|ROLE|UNIT|TEAM|
MEMBER", unchanged from the Telegram handlers so old buttons keep working), not in a session:
each press carries everything the next step needs, so a restart, a second instance or an old
message never leaves it half-way, and nothing is left to expire. Every press is checked again
by the service (scope, role), so a forged payload gets nothing more than typing would.

Joining binds the membership to the channel of the person who typed the code
(`OrganisationService.join(..., channel=turn.channel)`): a Zalo person who joins is a member on
Zalo only, and the same integer id on another channel stays a citizen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.chat.flow import Flow, Turn
from bot.chat.model import Button, Out, Press, Reply, Rows
from bot.chat.rich import Rich, t
from bot.chat.texts import organisation as texts
from bot.domain.roles import Role
from bot.imports.organisation import team_code_for
from bot.parsing.numbers import ID_MAX_DIGITS, parse_bounded_int
from bot.parsing.questions import normalize
from bot.services.organisation import InviteCreated, Reason, Refused, month_key

__all__ = ["FLOW", "PREFIX", "answer", "is_code", "role_from_word", "rows_of"]

PREFIX = "iv|"
MAX_ARGS_CHARS = 200
MAX_LABEL = 60
_CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


def is_code(text: str) -> bool:
    """A unit or team code as people type it: 1-32 letters, digits, "_", "." or "-"."""
    return bool(_CODE_RE.match(text))


def role_from_word(word: str) -> Role | None:
    """The role a typed word names ("totruong", "cán bộ", "agent"), or None."""
    key = re.sub(r"[^a-z_]", "", normalize(word))
    return texts.ROLE_WORDS.get(key)


def answer(turn: Turn, text: Rich | str, buttons: Rows = ()) -> list[Out]:
    """One reply: a new message for a command, the pressed message replaced for a button
    (channels that cannot edit send it as a new message)."""
    rich = text if isinstance(text, Rich) else t(text)
    return [Reply(rich, buttons, replace_pressed=isinstance(turn.event, Press))]


def rows_of(buttons: Sequence[Button], per_row: int = 1) -> Rows:
    """Buttons in rows of `per_row`, in order."""
    return tuple(tuple(buttons[n : n + per_row]) for n in range(0, len(buttons), per_row))


# ---- /moi ------------------------------------------------------------------------------------


async def invite_command(turn: Turn) -> Sequence[Out]:
    """/moi alone: guided with buttons. /moi ROLE UNIT [TEAM]: at once."""
    service = turn.services.organisation
    refused = service.may_invite(turn.actor)
    if refused:
        return answer(turn, texts.refusal(refused))
    args = turn.args
    if not args:
        options = await service.invite_options(turn.actor)
        if isinstance(options, Refused):
            return answer(turn, texts.refusal(options))
        buttons = [
            Button(texts.role_label(r).capitalize(), payload=f"{PREFIX}r|{texts.ROLE_SHORT[r]}") for r in options.roles
        ]
        return answer(turn, texts.ask_role(), rows_of(buttons))
    role = role_from_word(args[0])
    if len(" ".join(args)) > MAX_ARGS_CHARS or len(args) < 2 or role is None or not is_code(args[1]):
        return answer(turn, texts.BAD_INVITE_LINE)
    unit_code = args[1]
    team = " ".join(args[2:]) or None
    if team is not None and not is_code(team):
        team = team_code_for(unit_code.upper(), team)  # "Nhóm 1" -> "CL06-NHOM1"
    result = await service.create_invite(turn.actor, role, unit_code, team)
    return _invite_made(turn, result)


def _invite_made(turn: Turn, result: InviteCreated | Refused) -> list[Out]:
    if isinstance(result, Refused):
        return answer(turn, texts.refusal(result))
    return answer(turn, texts.invite_created(result, turn.services.settings.invite_ttl_hours))


async def on_invite_button(turn: Turn) -> Sequence[Out]:
    """A step of the guided /moi: "iv|r|ROLE", "iv|u|ROLE|UNIT", "iv|t|ROLE|UNIT|TEAM",
    "iv|m|ROLE|UNIT|TEAM|MEMBER" (0: no team / a new person). Malformed payloads get the
    stale-button answer and change nothing."""
    parts = turn.payload.split("|")
    actor = turn.actor
    services = turn.services
    service = services.organisation
    step = parts[1] if len(parts) > 2 else ""
    role = texts.ROLE_FROM_SHORT.get(parts[2]) if len(parts) > 2 else None
    unit_code = parts[3] if len(parts) > 3 else None
    # 0 means "no team" / "a new person"; ids are ASCII digits within SQLite's INTEGER.
    team_id = parse_bounded_int(parts[4], max_digits=ID_MAX_DIGITS) if len(parts) > 4 else None
    member_id = parse_bounded_int(parts[5], max_digits=ID_MAX_DIGITS) if len(parts) > 5 else None
    if (
        role is None
        or len(parts) > 6
        or (unit_code is not None and not is_code(unit_code))
        or (len(parts) > 4 and team_id is None)
        or (len(parts) > 5 and member_id is None)
    ):
        return answer(turn, texts.STALE_BUTTON)
    if step == "r":
        options = await service.invite_options(actor)
        if isinstance(options, Refused):
            return answer(turn, texts.refusal(options))
        if role not in options.roles:
            return answer(turn, texts.refusal(Refused(Reason.ROLE_TOO_HIGH, role.value)))
        buttons = [
            Button(f"{u.code} · {u.name}"[:MAX_LABEL], payload=f"{PREFIX}u|{parts[2]}|{u.code}")
            for u in options.units[:30]
        ]
        return answer(turn, texts.ask_unit(role), rows_of(buttons, 2))
    if unit_code is None:
        return answer(turn, texts.STALE_BUTTON)
    if step == "u":
        teams = await service.teams_for_invite(actor, unit_code)
        if teams:
            unit = await services.units.get(unit_code)
            buttons = [
                Button(f"{team.name} ({team.code})"[:MAX_LABEL], payload=f"{PREFIX}t|{parts[2]}|{unit_code}|{team.id}")
                for team in teams[:20]
            ]
            buttons.append(Button(texts.BUTTON_NO_TEAM, payload=f"{PREFIX}t|{parts[2]}|{unit_code}|0"))
            if unit is not None:
                return answer(turn, texts.ask_team(role, unit), rows_of(buttons))
        step, team_id = "t", 0
    if step == "t":
        people = await service.unclaimed(actor, unit_code, team_id or None)
        unit = await services.units.get(unit_code)
        if people and unit is not None:
            base = f"{PREFIX}m|{parts[2]}|{unit_code}|{team_id or 0}"
            buttons = [Button(p.full_name[:MAX_LABEL].strip() or f"#{p.id}", payload=f"{base}|{p.id}") for p in people[:20]]
            buttons.append(Button(texts.BUTTON_NEW_PERSON, payload=f"{base}|0"))
            return answer(turn, texts.ask_person(unit), rows_of(buttons))
        member_id = 0
    if step in ("t", "m"):
        result = await service.create_invite(actor, role, unit_code, team_id or None, member_id or None)
        return _invite_made(turn, result)
    return answer(turn, texts.STALE_BUTTON)


# ---- /thamgia --------------------------------------------------------------------------------


async def join_command(turn: Turn) -> Sequence[Out]:
    """/thamgia CODE: become the member the invite names, on this channel."""
    typed = " ".join(turn.args)
    if not typed:
        return answer(turn, texts.JOIN_USAGE)
    profile = turn.profile
    name = " ".join(p for p in (profile.first_name, profile.last_name) if p) if profile else ""
    result = await turn.services.organisation.join(turn.user_id, typed, name, channel=turn.channel)
    if isinstance(result, Refused):
        return answer(turn, texts.refusal(result))
    return answer(turn, texts.joined(result, name))


# ---- /vaitro ---------------------------------------------------------------------------------


async def role_command(turn: Turn) -> Sequence[Out]:
    """/vaitro: the person's role, unit and team this month, with their commands."""
    actor = turn.actor
    services = turn.services
    unit = await services.units.get(actor.scope_code) if actor.scope_code else None
    team_name = None
    if actor.member is not None:
        team = await services.teams.team_of(actor.member.id, month_key(turn.today))
        team_name = team.name if team else None
    return answer(turn, texts.my_role(actor.role, unit, team_name, actor.is_admin and actor.scope_code is None))


FLOW = Flow(
    "membership",
    commands={"moi": invite_command, "thamgia": join_command, "vaitro": role_command},
    buttons={PREFIX: on_invite_button},
)
