"""Admins and officials: units (/donvi), members (/thanhvien, /suatv, /xoatv), coverage (/baophu).

Channel-neutral: parse, call `OrganisationService` (which enforces scope and roles on every
call, button presses included), answer with `bot.chat.texts.organisation`. Button payloads are
the ones the Telegram handlers used, so old buttons keep working: "dv|CODE" (a unit),
"tv|p|CODE|PAGE" (a members page), "tv|v|ID" (a member), "tv|r|ID|ROLE" (change role),
"tv|x|ID" / "tv|X|ID" (ask / confirm deactivation), "bp|CODE" (coverage). Each payload carries
everything its step needs, so there is no session; a forged one is answered like a typed
command for the same unit or member would be, and changes nothing the actor may not change.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from bot.chat.flow import Flow, Turn
from bot.chat.flows.membership import answer, is_code, role_from_word, rows_of
from bot.chat.model import Button, Out, Rows
from bot.chat.rich import Rich
from bot.chat.texts import organisation as texts
from bot.parsing.numbers import parse_bounded_int, parse_id
from bot.services.organisation import MembersPage, MemberView, Refused, UnitsView

__all__ = ["FLOW"]

MAX_LABEL = 60
_ID_RE = re.compile(r"^#?([0-9]{1,9})$", re.ASCII)

Show = Callable[[Turn, "str | None"], Awaitable[list[Out]]]


def _code_arg(args: Sequence[str]) -> tuple[str | None, bool]:
    """The unit code typed after a command, and whether what was typed is usable."""
    if not args:
        return None, True
    if len(args) > 1 or not is_code(args[0]):
        return None, False
    return args[0].upper(), True


async def _unit_command(turn: Turn, command: str, show: Show) -> list[Out]:
    """`/command [UNIT_CODE]`: show it, or say how to use the command (or why it is refused)."""
    unit_code, ok = _code_arg(turn.args)
    if not ok:
        refused = turn.services.organisation.may_manage(turn.actor)
        return answer(turn, texts.refusal(refused) if refused else texts.unit_command_usage(command))
    return await show(turn, unit_code)


# ---- units -----------------------------------------------------------------------------------


def units_buttons(view: UnitsView) -> Rows:
    """Sub-units two per row, then the tools of the unit shown (members, coverage, up)."""
    kids = [
        Button(f"{line.unit.code} · {line.unit.name}"[:MAX_LABEL], payload=f"dv|{line.unit.code}")
        for line in view.children[:30]
    ]
    rows = list(rows_of(kids, 2))
    tools: list[Button] = []
    if view.unit is not None:
        tools.append(Button(texts.BUTTON_MEMBERS, payload=f"tv|p|{view.unit.code}|0"))
        tools.append(Button(texts.BUTTON_COVERAGE, payload=f"bp|{view.unit.code}"))
    if view.can_go_up is not None:
        tools.append(Button(texts.BUTTON_UP, payload=f"dv|{view.can_go_up}"))
    if tools:
        rows.append(tuple(tools))
    return tuple(rows)


async def show_units(turn: Turn, unit_code: str | None) -> list[Out]:
    """A unit of the actor's scope (their own, or the top level for an admin) with buttons;
    outside the scope the same "not found" as a unit that does not exist."""
    view = await turn.services.organisation.units_view(turn.actor, unit_code)
    if isinstance(view, Refused):
        return answer(turn, texts.refusal(view))
    return answer(turn, texts.units_view(view), units_buttons(view))


async def units_command(turn: Turn) -> Sequence[Out]:
    """/donvi [CODE]: the units in the actor's scope, browsable with buttons."""
    return await _unit_command(turn, "donvi", show_units)


async def on_unit_button(turn: Turn) -> Sequence[Out]:
    """"dv|CODE" (empty: the top of the scope); a malformed code is a stale button."""
    unit_code = turn.payload.partition("|")[2]
    if unit_code and not is_code(unit_code):
        return answer(turn, texts.STALE_BUTTON)
    return await show_units(turn, unit_code or None)


# ---- members ---------------------------------------------------------------------------------


def members_buttons(page: MembersPage) -> Rows:
    """One button per member, then previous/next pages."""
    rows: list[tuple[Button, ...]] = [
        (Button(f"{d.member.full_name} (#{d.member.id})"[:MAX_LABEL], payload=f"tv|v|{d.member.id}"),)
        for d in page.items
    ]
    where = page.unit.code if page.unit else "-"
    nav: list[Button] = []
    if page.page > 0:
        nav.append(Button(texts.BUTTON_PREV, payload=f"tv|p|{where}|{page.page - 1}"))
    if page.page + 1 < page.pages:
        nav.append(Button(texts.BUTTON_NEXT, payload=f"tv|p|{where}|{page.page + 1}"))
    if nav:
        rows.append(tuple(nav))
    return tuple(rows)


def member_buttons(view: MemberView) -> Rows:
    """The roles the actor may give, and deactivation; none when they may not manage."""
    if not view.can_manage:
        return ()
    member_id = view.detail.member.id
    rows: list[tuple[Button, ...]] = [
        (Button(texts.role_button(r), payload=f"tv|r|{member_id}|{texts.ROLE_SHORT[r]}"),) for r in view.roles
    ]
    rows.append((Button(texts.BUTTON_DEACTIVATE, payload=f"tv|x|{member_id}"),))
    return tuple(rows)


async def show_members(turn: Turn, unit_code: str | None, page: int = 0) -> list[Out]:
    """One page of members of a unit in scope (the whole scope when no unit is given)."""
    result = await turn.services.organisation.members_page(turn.actor, unit_code, page)
    if isinstance(result, Refused):
        return answer(turn, texts.refusal(result))
    return answer(turn, texts.members_page(result), members_buttons(result))


async def show_member(turn: Turn, member_id: int, updated: bool = False) -> list[Out]:
    """A member's card with their last changes, and the actions the actor may take on them."""
    view = await turn.services.organisation.member_view(turn.actor, member_id)
    if isinstance(view, Refused):
        return answer(turn, texts.refusal(view))
    events = await turn.services.members.events(member_id)
    text: Rich = texts.changed(view, events) if updated else texts.member_view(view, events)
    return answer(turn, text, member_buttons(view))


async def members_command(turn: Turn) -> Sequence[Out]:
    """/thanhvien [CODE]: members of a unit (or of the whole scope), ten per page."""
    return await _unit_command(turn, "thanhvien", show_members)


async def edit_member_command(turn: Turn) -> Sequence[Out]:
    """/suatv ID ROLE or /suatv ID UNIT."""
    service = turn.services.organisation
    refused = service.may_manage(turn.actor)
    if refused:
        return answer(turn, texts.refusal(refused))
    args = turn.args
    match = _ID_RE.match(args[0]) if args else None
    member_id = parse_id(match.group(1)) if match else None
    if len(args) != 2 or member_id is None:
        return answer(turn, texts.EDIT_USAGE)
    role = role_from_word(args[1])
    if role is not None:
        result = await service.change_role(turn.actor, member_id, role)
    elif is_code(args[1]):
        result = await service.change_unit(turn.actor, member_id, args[1])
    else:
        return answer(turn, texts.EDIT_USAGE)
    if isinstance(result, Refused):
        return answer(turn, texts.refusal(result))
    return await show_member(turn, member_id, updated=True)


async def remove_member_command(turn: Turn) -> Sequence[Out]:
    """/xoatv ID: asks for confirmation with a button."""
    refused = turn.services.organisation.may_manage(turn.actor)
    if refused:
        return answer(turn, texts.refusal(refused))
    args = turn.args
    match = _ID_RE.match(args[0]) if len(args) == 1 else None
    member_id = parse_id(match.group(1)) if match else None
    if member_id is None:
        return answer(turn, texts.REMOVE_USAGE)
    return await _ask_deactivate(turn, member_id)


async def _ask_deactivate(turn: Turn, member_id: int) -> list[Out]:
    service = turn.services.organisation
    view = await service.member_view(turn.actor, member_id)
    if isinstance(view, Refused):
        return answer(turn, texts.refusal(view))
    if not view.can_manage:
        refused = await service.deactivate(turn.actor, member_id)  # refused: it explains why
        return answer(turn, texts.refusal(refused) if isinstance(refused, Refused) else texts.STALE_BUTTON)
    buttons: Rows = (
        (
            Button(texts.BUTTON_CONFIRM_DEACTIVATE, payload=f"tv|X|{member_id}"),
            Button(texts.BUTTON_CANCEL, payload=f"tv|v|{member_id}"),
        ),
    )
    return answer(turn, texts.confirm_deactivate(view.detail), buttons)


async def on_member_button(turn: Turn) -> Sequence[Out]:
    """"tv|p|CODE|PAGE", "tv|v|ID", "tv|r|ID|ROLE", "tv|x|ID", "tv|X|ID": every action is
    checked again by the service; anything malformed is a stale button and changes nothing."""
    parts = turn.payload.split("|")
    action = parts[1] if len(parts) > 2 else ""
    if action == "p" and len(parts) == 4:
        unit_code = None if parts[2] == "-" else parts[2]
        page = parse_bounded_int(parts[3], max_digits=4)
        if page is None or (unit_code is not None and not is_code(unit_code)):
            return answer(turn, texts.STALE_BUTTON)
        return await show_members(turn, unit_code, page)
    member_id = parse_id(parts[2]) if len(parts) > 2 else None
    if member_id is None:
        return answer(turn, texts.STALE_BUTTON)
    service = turn.services.organisation
    if action == "v":
        return await show_member(turn, member_id)
    if action == "r" and len(parts) == 4 and parts[3] in texts.ROLE_FROM_SHORT:
        result = await service.change_role(turn.actor, member_id, texts.ROLE_FROM_SHORT[parts[3]])
        if isinstance(result, Refused):
            return answer(turn, texts.refusal(result))
        return await show_member(turn, member_id, updated=True)
    if action == "x":
        return await _ask_deactivate(turn, member_id)
    if action == "X":
        done = await service.deactivate(turn.actor, member_id)
        return answer(turn, texts.refusal(done) if isinstance(done, Refused) else texts.deactivated(done))
    return answer(turn, texts.STALE_BUTTON)


# ---- coverage --------------------------------------------------------------------------------


async def show_coverage(turn: Turn, unit_code: str | None) -> list[Out]:
    """Coverage of a unit in scope and of its sub-units."""
    result = await turn.services.organisation.coverage(turn.actor, unit_code)
    if isinstance(result, Refused):
        return answer(turn, texts.refusal(result))
    unit, rows = result
    return answer(turn, texts.coverage(unit, rows))


async def coverage_command(turn: Turn) -> Sequence[Out]:
    """/baophu [CODE]: BHYT/BHXH coverage against targets, slowest sub-units first."""
    return await _unit_command(turn, "baophu", show_coverage)


async def on_coverage_button(turn: Turn) -> Sequence[Out]:
    """"bp|CODE"; a missing or malformed code is a stale button."""
    unit_code = turn.payload.partition("|")[2]
    if not is_code(unit_code):
        return answer(turn, texts.STALE_BUTTON)
    return await show_coverage(turn, unit_code)


FLOW = Flow(
    "admin",
    commands={
        "donvi": units_command,
        "thanhvien": members_command,
        "suatv": edit_member_command,
        "xoatv": remove_member_command,
        "baophu": coverage_command,
    },
    buttons={"dv|": on_unit_button, "tv|": on_member_button, "bp|": on_coverage_button},
)
