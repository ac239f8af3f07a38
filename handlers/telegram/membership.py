"""Joining: /moi (officials and admins make one-time invites), /thamgia CODE, /vaitro.

Thin: parse, call `OrganisationService`, render with `bot.replies_org`. The guided /moi flow
keeps its whole state in the callback data ("iv|..."), so a restart or an old message never
leaves it half-way; every press is checked again by the service (scope, role), so forged data
gets nothing more than typing would.
"""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.chat.model import TELEGRAM
from bot.chat.texts import organisation as texts
from bot.domain.roles import Role
from bot.parsing.numbers import ID_MAX_DIGITS, parse_bounded_int
from bot.parsing.questions import normalize
from bot.services.access import Actor
from bot.services.organisation import InviteCreated, Reason, Refused, month_key
from handlers.telegram.context import BotContext

log = logging.getLogger(__name__)

PREFIX = "iv|"
MAX_ARGS_CHARS = 200
_CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


async def actor_of(update: Update, context: BotContext) -> Actor:
    user = update.effective_user
    assert user is not None
    return await context.services.access.actor(user.id, channel=TELEGRAM.name)


def role_from_word(word: str) -> Role | None:
    key = re.sub(r"[^a-z_]", "", normalize(word))
    return texts.ROLE_WORDS.get(key)


def _rows(buttons: list[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer a command with a message, a button press by editing the pressed message (or,
    when that message cannot carry text, e.g. a document under a forged button, a new one)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:  # pressing twice: same text, nothing to change
            if "not modified" in str(exc).lower():
                return
        chat = update.effective_chat
        assert chat is not None
        await query.get_bot().send_message(chat.id, text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)  # type: ignore[union-attr]


# ---- /moi ------------------------------------------------------------------------------------


async def invite_command(update: Update, context: BotContext) -> None:
    """/moi alone: guided with buttons. /moi ROLE UNIT [TEAM]: at once."""
    actor = await actor_of(update, context)
    service = context.services.organisation
    refused = service.may_invite(actor)
    if refused:
        await reply(update, texts.refusal(refused))
        return
    args = context.args or []
    if not args:
        options = await service.invite_options(actor)
        if isinstance(options, Refused):
            await reply(update, texts.refusal(options))
            return
        buttons = [
            InlineKeyboardButton(texts.role_label(r).capitalize(), callback_data=f"{PREFIX}r|{texts.ROLE_SHORT[r]}")
            for r in options.roles
        ]
        await reply(update, f"{texts.ASK_ROLE}\n\n{texts.INVITE_USAGE}", _rows(buttons))
        return
    role = role_from_word(args[0])
    if len(" ".join(args)) > MAX_ARGS_CHARS or len(args) < 2 or role is None or not _CODE_RE.match(args[1]):
        await reply(update, texts.BAD_INVITE_LINE)
        return
    unit_code = args[1]
    team = " ".join(args[2:]) or None
    if team is not None and not _CODE_RE.match(team):
        from bot.imports.organisation import team_code_for  # "Nhóm 1" -> "CL06-NHOM1"

        team = team_code_for(unit_code.upper(), team)
    result = await service.create_invite(actor, role, unit_code, team)
    await _send_invite(update, context, result)


async def _send_invite(update: Update, context: BotContext, result: InviteCreated | Refused) -> None:
    if isinstance(result, Refused):
        await reply(update, texts.refusal(result))
        return
    await reply(update, texts.invite_created(result, context.services.settings.invite_ttl_hours))


async def on_invite_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    parts = (query.data or "").split("|")
    actor = await actor_of(update, context)
    service = context.services.organisation
    step = parts[1] if len(parts) > 2 else ""
    role = texts.ROLE_FROM_SHORT.get(parts[2]) if len(parts) > 2 else None
    unit_code = parts[3] if len(parts) > 3 else None
    # 0 means "no team" / "a new person"; ids are ASCII digits within SQLite's INTEGER.
    team_id = parse_bounded_int(parts[4], max_digits=ID_MAX_DIGITS) if len(parts) > 4 else None
    member_id = parse_bounded_int(parts[5], max_digits=ID_MAX_DIGITS) if len(parts) > 5 else None
    if (
        role is None
        or len(parts) > 6
        or (unit_code is not None and not _CODE_RE.match(unit_code))
        or (len(parts) > 4 and team_id is None)
        or (len(parts) > 5 and member_id is None)
    ):
        await reply(update, texts.STALE_BUTTON)
        return
    if step == "r":
        options = await service.invite_options(actor)
        if isinstance(options, Refused):
            await reply(update, texts.refusal(options))
            return
        if role not in options.roles:
            await reply(update, texts.refusal(Refused(Reason.ROLE_TOO_HIGH, role.value)))
            return
        buttons = [
            InlineKeyboardButton(f"{u.code} · {u.name}"[:60], callback_data=f"{PREFIX}u|{parts[2]}|{u.code}")
            for u in options.units[:30]
        ]
        await reply(update, texts.ask_unit(role), _rows(buttons, 2))
        return
    if unit_code is None:
        await reply(update, texts.STALE_BUTTON)
        return
    if step == "u":
        teams = await service.teams_for_invite(actor, unit_code)
        if teams:
            unit = await context.services.units.get(unit_code)
            buttons = [
                InlineKeyboardButton(f"{t.name} ({t.code})"[:60], callback_data=f"{PREFIX}t|{parts[2]}|{unit_code}|{t.id}")
                for t in teams[:20]
            ]
            buttons.append(InlineKeyboardButton(texts.BUTTON_NO_TEAM, callback_data=f"{PREFIX}t|{parts[2]}|{unit_code}|0"))
            if unit is not None:
                await reply(update, texts.ask_team(role, unit), _rows(buttons))
                return
        step, team_id = "t", 0
    if step == "t":
        people = await service.unclaimed(actor, unit_code, team_id or None)
        unit = await context.services.units.get(unit_code)
        if people and unit is not None:
            base = f"{PREFIX}m|{parts[2]}|{unit_code}|{team_id or 0}"
            buttons = [InlineKeyboardButton(p.full_name[:60], callback_data=f"{base}|{p.id}") for p in people[:20]]
            buttons.append(InlineKeyboardButton(texts.BUTTON_NEW_PERSON, callback_data=f"{base}|0"))
            await reply(update, texts.ask_person(unit), _rows(buttons))
            return
        member_id = 0
    if step in ("t", "m"):
        result = await service.create_invite(actor, role, unit_code, team_id or None, member_id or None)
        await _send_invite(update, context, result)
        return
    await reply(update, texts.STALE_BUTTON)


# ---- /thamgia --------------------------------------------------------------------------------


async def join_command(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    typed = " ".join(context.args or [])
    if not typed:
        await reply(update, texts.JOIN_USAGE)
        return
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    result = await context.services.organisation.join(user.id, typed, name, channel=TELEGRAM.name)
    if isinstance(result, Refused):
        await reply(update, texts.refusal(result))
        return
    await reply(update, texts.joined(result, name))


# ---- /vaitro ---------------------------------------------------------------------------------


async def role_command(update: Update, context: BotContext) -> None:
    actor = await actor_of(update, context)
    services = context.services
    unit = await services.units.get(actor.scope_code) if actor.scope_code else None
    team_name = None
    if actor.member is not None:
        team = await services.teams.team_of(actor.member.id, month_key(services.today()))
        team_name = team.name if team else None
    await reply(update, texts.my_role(actor.role, unit, team_name, actor.is_admin and actor.scope_code is None))


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("moi", invite_command, filters=private))
    application.add_handler(CommandHandler("thamgia", join_command, filters=private))
    application.add_handler(CommandHandler("vaitro", role_command, filters=private))
    application.add_handler(CallbackQueryHandler(on_invite_button, pattern=r"^iv\|"))
