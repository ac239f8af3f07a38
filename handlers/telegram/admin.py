"""Admins and officials: units (/donvi), members (/thanhvien, /suatv, /xoatv), coverage (/baophu).

Thin: parse, call `OrganisationService` (which enforces scope and roles on every call, button
presses included), render with `bot.replies_org`. Callback data: "dv|CODE" (a unit),
"tv|p|CODE|PAGE" (a members page), "tv|v|ID" (a member), "tv|r|ID|ROLE" (change role),
"tv|x|ID" / "tv|X|ID" (ask / confirm deactivation), "bp|CODE" (coverage).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.chat.texts import organisation as texts
from bot.parsing.numbers import parse_bounded_int, parse_id
from bot.services.organisation import MembersPage, MemberView, Refused, UnitsView
from handlers.telegram.context import BotContext
from handlers.telegram.membership import actor_of, reply, role_from_word

_CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_ID_RE = re.compile(r"^#?([0-9]{1,9})$", re.ASCII)


def _code_arg(context: BotContext) -> tuple[str | None, bool]:
    """The unit code typed after a command, and whether what was typed is usable."""
    args = context.args or []
    if not args:
        return None, True
    if len(args) > 1 or not _CODE_RE.match(args[0]):
        return None, False
    return args[0].upper(), True


# ---- units -----------------------------------------------------------------------------------


def units_keyboard(view: UnitsView) -> InlineKeyboardMarkup:
    kids = [
        InlineKeyboardButton(f"{line.unit.code} · {line.unit.name}"[:60], callback_data=f"dv|{line.unit.code}")
        for line in view.children[:30]
    ]
    rows = [kids[i : i + 2] for i in range(0, len(kids), 2)]
    tools: list[InlineKeyboardButton] = []
    if view.unit is not None:
        tools.append(InlineKeyboardButton(texts.BUTTON_MEMBERS, callback_data=f"tv|p|{view.unit.code}|0"))
        tools.append(InlineKeyboardButton(texts.BUTTON_COVERAGE, callback_data=f"bp|{view.unit.code}"))
    if view.can_go_up is not None:
        tools.append(InlineKeyboardButton(texts.BUTTON_UP, callback_data=f"dv|{view.can_go_up}"))
    if tools:
        rows.append(tools)
    return InlineKeyboardMarkup(rows)


async def show_units(update: Update, context: BotContext, code: str | None) -> None:
    actor = await actor_of(update, context)
    view = await context.services.organisation.units_view(actor, code)
    if isinstance(view, Refused):
        await reply(update, texts.refusal(view))
        return
    await reply(update, texts.units_view(view), units_keyboard(view))


async def _unit_command(
    update: Update, context: BotContext, command: str, show: Callable[[Update, BotContext, str | None], Awaitable[None]]
) -> None:
    """`/command [UNIT_CODE]`: show it, or say how to use the command (or why it is refused)."""
    code, ok = _code_arg(context)
    if not ok:
        actor = await actor_of(update, context)
        refused = context.services.organisation.may_manage(actor)
        usage = f"Cách dùng: <code>/{command}</code> hoặc <code>/{command} MÃ_ĐƠN_VỊ</code>"
        await reply(update, texts.refusal(refused) if refused else usage)
        return
    await show(update, context, code)


async def units_command(update: Update, context: BotContext) -> None:
    await _unit_command(update, context, "donvi", show_units)


async def on_unit_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    code = (query.data or "").partition("|")[2]
    if code and not _CODE_RE.match(code):
        await reply(update, texts.STALE_BUTTON)
        return
    await show_units(update, context, code or None)


# ---- members ---------------------------------------------------------------------------------


def members_keyboard(page: MembersPage) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(f"{d.member.full_name} (#{d.member.id})"[:60], callback_data=f"tv|v|{d.member.id}")]
        for d in page.items
    ]
    where = page.unit.code if page.unit else "-"
    nav = []
    if page.page > 0:
        nav.append(InlineKeyboardButton(texts.BUTTON_PREV, callback_data=f"tv|p|{where}|{page.page - 1}"))
    if page.page + 1 < page.pages:
        nav.append(InlineKeyboardButton(texts.BUTTON_NEXT, callback_data=f"tv|p|{where}|{page.page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def member_keyboard(view: MemberView) -> InlineKeyboardMarkup | None:
    if not view.can_manage:
        return None
    member_id = view.detail.member.id
    rows = [
        [InlineKeyboardButton(texts.role_button(r), callback_data=f"tv|r|{member_id}|{texts.ROLE_SHORT[r]}")]
        for r in view.roles
    ]
    rows.append([InlineKeyboardButton(texts.BUTTON_DEACTIVATE, callback_data=f"tv|x|{member_id}")])
    return InlineKeyboardMarkup(rows)


async def show_members(update: Update, context: BotContext, code: str | None, page: int = 0) -> None:
    actor = await actor_of(update, context)
    result = await context.services.organisation.members_page(actor, code, page)
    if isinstance(result, Refused):
        await reply(update, texts.refusal(result))
        return
    await reply(update, texts.members_page(result), members_keyboard(result))


async def show_member(update: Update, context: BotContext, member_id: int, prefix: str = "") -> None:
    actor = await actor_of(update, context)
    view = await context.services.organisation.member_view(actor, member_id)
    if isinstance(view, Refused):
        await reply(update, texts.refusal(view))
        return
    events = await context.services.members.events(member_id)
    await reply(update, prefix + texts.member_view(view, events), member_keyboard(view))


async def members_command(update: Update, context: BotContext) -> None:
    code, ok = _code_arg(context)
    if not ok:
        actor = await actor_of(update, context)
        refused = context.services.organisation.may_manage(actor)
        await reply(update, texts.refusal(refused) if refused else "Cách dùng: <code>/thanhvien</code> hoặc <code>/thanhvien MÃ_ĐƠN_VỊ</code>")
        return
    await show_members(update, context, code)


async def edit_member_command(update: Update, context: BotContext) -> None:
    """/suatv ID ROLE or /suatv ID UNIT."""
    actor = await actor_of(update, context)
    service = context.services.organisation
    refused = service.may_manage(actor)
    if refused:
        await reply(update, texts.refusal(refused))
        return
    args = context.args or []
    match = _ID_RE.match(args[0]) if args else None
    member_id = parse_id(match.group(1)) if match else None
    if len(args) != 2 or member_id is None:
        await reply(update, texts.EDIT_USAGE)
        return
    role = role_from_word(args[1])
    if role is not None:
        result = await service.change_role(actor, member_id, role)
    elif _CODE_RE.match(args[1]):
        result = await service.change_unit(actor, member_id, args[1])
    else:
        await reply(update, texts.EDIT_USAGE)
        return
    if isinstance(result, Refused):
        await reply(update, texts.refusal(result))
        return
    await show_member(update, context, member_id, prefix="✅ Đã cập nhật.\n")


async def remove_member_command(update: Update, context: BotContext) -> None:
    """/xoatv ID: asks for confirmation with a button."""
    actor = await actor_of(update, context)
    service = context.services.organisation
    refused = service.may_manage(actor)
    if refused:
        await reply(update, texts.refusal(refused))
        return
    args = context.args or []
    match = _ID_RE.match(args[0]) if len(args) == 1 else None
    member_id = parse_id(match.group(1)) if match else None
    if member_id is None:
        await reply(update, texts.REMOVE_USAGE)
        return
    await _ask_deactivate(update, context, member_id)


async def _ask_deactivate(update: Update, context: BotContext, member_id: int) -> None:
    actor = await actor_of(update, context)
    view = await context.services.organisation.member_view(actor, member_id)
    if isinstance(view, Refused):
        await reply(update, texts.refusal(view))
        return
    if not view.can_manage:
        refused = await context.services.organisation.deactivate(actor, member_id)  # explains why
        await reply(update, texts.refusal(refused) if isinstance(refused, Refused) else texts.STALE_BUTTON)
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.BUTTON_CONFIRM_DEACTIVATE, callback_data=f"tv|X|{member_id}"),
                InlineKeyboardButton(texts.BUTTON_CANCEL, callback_data=f"tv|v|{member_id}"),
            ]
        ]
    )
    await reply(update, texts.confirm_deactivate(view.detail), markup)


async def on_member_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    parts = (query.data or "").split("|")
    action = parts[1] if len(parts) > 2 else ""
    if action == "p" and len(parts) == 4:
        code = None if parts[2] == "-" else parts[2]
        page = parse_bounded_int(parts[3], max_digits=4)
        if page is None or (code is not None and not _CODE_RE.match(code)):
            await reply(update, texts.STALE_BUTTON)
            return
        await show_members(update, context, code, page)
        return
    member_id = parse_id(parts[2]) if len(parts) > 2 else None
    if member_id is None:
        await reply(update, texts.STALE_BUTTON)
        return
    actor = await actor_of(update, context)
    service = context.services.organisation
    if action == "v":
        await show_member(update, context, member_id)
    elif action == "r" and len(parts) == 4 and parts[3] in texts.ROLE_FROM_SHORT:
        result = await service.change_role(actor, member_id, texts.ROLE_FROM_SHORT[parts[3]])
        if isinstance(result, Refused):
            await reply(update, texts.refusal(result))
        else:
            await show_member(update, context, member_id, prefix="✅ Đã cập nhật.\n")
    elif action == "x":
        await _ask_deactivate(update, context, member_id)
    elif action == "X":
        result = await service.deactivate(actor, member_id)
        await reply(update, texts.refusal(result) if isinstance(result, Refused) else texts.deactivated(result))
    else:
        await reply(update, texts.STALE_BUTTON)


# ---- coverage --------------------------------------------------------------------------------


async def show_coverage(update: Update, context: BotContext, code: str | None) -> None:
    actor = await actor_of(update, context)
    result = await context.services.organisation.coverage(actor, code)
    if isinstance(result, Refused):
        await reply(update, texts.refusal(result))
        return
    unit, rows = result
    await reply(update, texts.coverage(unit, rows))


async def coverage_command(update: Update, context: BotContext) -> None:
    await _unit_command(update, context, "baophu", show_coverage)


async def on_coverage_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    code = (query.data or "").partition("|")[2]
    if not _CODE_RE.match(code):
        await reply(update, texts.STALE_BUTTON)
        return
    await show_coverage(update, context, code)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("donvi", units_command, filters=private))
    application.add_handler(CommandHandler("thanhvien", members_command, filters=private))
    application.add_handler(CommandHandler("suatv", edit_member_command, filters=private))
    application.add_handler(CommandHandler("xoatv", remove_member_command, filters=private))
    application.add_handler(CommandHandler("baophu", coverage_command, filters=private))
    application.add_handler(CallbackQueryHandler(on_unit_button, pattern=r"^dv\|"))
    application.add_handler(CallbackQueryHandler(on_member_button, pattern=r"^tv\|"))
    application.add_handler(CallbackQueryHandler(on_coverage_button, pattern=r"^bp\|"))
