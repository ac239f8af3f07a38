"""Agents' handlers: /ghi (guided and one-line), /huy, /huyghi, /toi, /nhom, /bangxephang,
/thidua, /xuat.

Thin: parse the message or button, call `EnrolmentService` / `TallyService`, render with
`bot.replies_agent`. The /ghi draft lives in `user_data` and the conversation state in the
persistent ConversationHandler, so a half-finished entry survives a restart of the bot.

A draft never holds the chat hostage: PTB's `conversation_timeout` (JobQueue) drops it after
`DRAFT_TIMEOUT` without an answer; since timeout jobs do not survive a restart, each draft also
carries the time it was last saved (injected clock), and a late answer to an old draft drops it
too. A cost question or a greeting typed where the name is asked, and /start, /bhyt, /bhxh at
any step, end the draft with a word about it and are answered by the citizen flow.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.chat.model import TELEGRAM
from bot.chat.texts import cost as replies
from bot.chat.texts import enrolment as texts
from bot.domain.coverage import Measure
from bot.domain.engine import RefusalReason, Refused
from bot.domain.enrolment import (
    DRAFT_TIMEOUT,
    MAX_LINE_CHARS,
    EnrolmentDraft,
    InputError,
    Priced,
    Scheme,
    Step,
    allowed_months,
    apply_typed_answer,
    draft_expired,
    is_not_a_name,
    next_step,
    parse_line,
    validate_months,
    validate_reason,
)
from bot.domain.roles import Role
from bot.parsing.numbers import parse_bounded_int, parse_id
from bot.reports.monthly_xlsx import build_workbook, report_filename
from bot.services.access import Actor
from bot.services.enrolment import DuplicateEntry, Logged, NotAllowed
from bot.services.tallies import Period
from handlers.telegram import citizen
from handlers.telegram.context import BotContext

log = logging.getLogger(__name__)

CONVERSATION = "ghi"
FLOW_KEY = "ghi"
STATE = "ghi"  # one state: what is being asked is kept with the draft in user_data
PENDING_PAID = Step.PAID.value  # the "Sửa số tiền" question, not a step of the normal order
PENDING_EDIT = "edit"

_SCHEME_CODES = {"h": Scheme.BHYT_HOUSEHOLD, "s": Scheme.BHYT_SUPPORTED, "v": Scheme.BHXH_VOLUNTARY}
_SCHEME_KEYS = {v: k for k, v in _SCHEME_CODES.items()}
_POSITION_CHOICES = (1, 2, 3, 4, 5)
_MONTH_ARG = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{4})$", re.ASCII)


# --- who is talking ---------------------------------------------------------------------------


async def _actor(update: Update, context: BotContext) -> Actor:
    user = update.effective_user
    assert user is not None
    return await context.services.access.actor(user.id, channel=TELEGRAM.name)


async def _member_or_refuse(update: Update, context: BotContext) -> Actor | None:
    """The sender if they may log; otherwise a polite refusal and None."""
    actor = await _actor(update, context)
    if context.services.enrolments.can_log(actor):
        return actor
    text = texts.ADMIN_NOT_MEMBER if actor.is_admin else texts.NOT_MEMBER
    await _send(update, context, text)
    return None


async def _send(update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


# --- the draft in user_data -------------------------------------------------------------------


def _flow(context: BotContext) -> tuple[EnrolmentDraft, str | None]:
    data: dict[str, Any] = (context.user_data or {}).get(FLOW_KEY) or {}
    return EnrolmentDraft.from_state(data.get("draft")), data.get("pending")


def _save(context: BotContext, draft: EnrolmentDraft, pending: str) -> None:
    """Keep the draft, the question asked, and when (for `draft_expired`)."""
    context.user_data[FLOW_KEY] = {  # type: ignore[index]
        "draft": draft.to_state(),
        "pending": pending,
        "at": context.services.clock.now().isoformat(),
    }


def _expired(context: BotContext) -> bool:
    """Is there a draft left unanswered longer than DRAFT_TIMEOUT (e.g. across a restart)?"""
    data = (context.user_data or {}).get(FLOW_KEY)
    if not data:
        return False
    return draft_expired(data.get("at"), context.services.clock.now())


def _timeout_minutes() -> int:
    return int(DRAFT_TIMEOUT.total_seconds() // 60)


def _clear(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(FLOW_KEY, None)


# --- keyboards --------------------------------------------------------------------------------


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _cancel_row() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(texts.BUTTON_CANCEL, callback_data="g:x")]


def _step_keyboard(context: BotContext, step: Step, draft: EnrolmentDraft) -> InlineKeyboardMarkup:
    rates = context.services.rates.at(context.services.today())
    buttons: list[list[InlineKeyboardButton]] = []
    if step == Step.SCHEME:
        buttons = [
            [InlineKeyboardButton(label, callback_data=f"g:s:{_SCHEME_KEYS[scheme]}")]
            for scheme, label in texts.SCHEME_LABELS.items()
        ]
    elif step == Step.MONTHS and draft.scheme is not None:
        row = rates.bhxh_voluntary if draft.scheme == Scheme.BHXH_VOLUNTARY else rates.bhyt_household
        months = [m for m in row.allowed_months if m in allowed_months(draft.scheme)]
        buttons = _rows(
            [
                InlineKeyboardButton(replies.LABELS.months(m), callback_data=f"g:m:{m}")
                for m in months
            ],
            4,
        )
    elif step == Step.POSITION:
        buttons = _rows(
            [
                InlineKeyboardButton(
                    f"Người thứ {n}" + (" trở đi" if n == _POSITION_CHOICES[-1] else ""),
                    callback_data=f"g:p:{n}",
                )
                for n in _POSITION_CHOICES
            ],
            3,
        )
    elif step == Step.GROUP and draft.scheme is not None:
        buttons = [
            [InlineKeyboardButton(label, callback_data=f"g:g:{key}")]
            for key, label in _groups(context, draft.scheme)
        ]
    elif step == Step.INCOME:
        buttons = _rows(
            [
                InlineKeyboardButton(replies.LABELS.amount(a), callback_data=f"g:i:{a}")
                for a in replies.LABELS.income_suggestions(rates)
            ],
            2,
        )
    elif step == Step.RELATIVE:
        buttons = [[
            InlineKeyboardButton(texts.BUTTON_RELATIVE_YES, callback_data="g:r:1"),
            InlineKeyboardButton(texts.BUTTON_RELATIVE_NO, callback_data="g:r:0"),
        ]]
    return InlineKeyboardMarkup([*buttons, _cancel_row()])


def _groups(context: BotContext, scheme: Scheme) -> list[tuple[str, str]]:
    rates = context.services.rates.at(context.services.today())
    if scheme == Scheme.BHXH_VOLUNTARY:
        return replies.LABELS.bhxh_groups(rates)
    return replies.LABELS.bhyt_groups(rates)


def _group_keys(context: BotContext, draft: EnrolmentDraft) -> frozenset[str]:
    """Support groups in force today for the draft's scheme (what a typed group may be)."""
    if draft.scheme is None:
        return frozenset()
    return frozenset(key for key, _ in _groups(context, draft.scheme))


def _confirm_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_CONFIRM, callback_data="g:ok"),
        InlineKeyboardButton(texts.BUTTON_EDIT, callback_data="g:ed"),
        InlineKeyboardButton(texts.BUTTON_CANCEL, callback_data="g:x"),
    ]])


def _edit_keyboard(draft: EnrolmentDraft) -> InlineKeyboardMarkup:
    steps = [Step.SCHEME, Step.NAME, Step.CODE, Step.MONTHS]
    if draft.scheme == Scheme.BHYT_HOUSEHOLD:
        steps.append(Step.POSITION)
    else:
        steps.append(Step.GROUP)
    if draft.scheme == Scheme.BHXH_VOLUNTARY:
        steps.append(Step.INCOME)
    steps += [Step.RELATIVE, Step.REASON]
    buttons = [
        InlineKeyboardButton(texts.EDIT_LABELS[s], callback_data=f"g:e:{s.value}") for s in steps
    ]
    return InlineKeyboardMarkup([*_rows(buttons, 3), _cancel_row()])


# --- moving the flow on ------------------------------------------------------------------------


_REFUSAL_STEP = {
    RefusalReason.INCOME_BELOW_MIN: Step.INCOME,
    RefusalReason.INCOME_ABOVE_MAX: Step.INCOME,
    RefusalReason.MONTHS_NOT_ALLOWED: Step.MONTHS,
    RefusalReason.MEMBERS_RANGE: Step.POSITION,
    RefusalReason.GROUP_NOT_AVAILABLE: Step.GROUP,
    RefusalReason.UNKNOWN_GROUP: Step.GROUP,
}


async def _advance(
    update: Update, context: BotContext, draft: EnrolmentDraft, notes: list[str] | None = None
) -> object:
    """Ask the first missing value, or show the confirmation card. Returns the next state."""
    notes = list(notes or [])
    step = next_step(draft)
    priced: Priced | None = None
    if step == Step.CONFIRM:
        quote = context.services.enrolments.quote(draft)
        if isinstance(quote, Refused):
            notes.append(replies.refusal_text(quote))
            back = _REFUSAL_STEP.get(quote.reason)
            if back is None:
                _clear(context)
                await _send(update, context, "\n".join(notes))
                return ConversationHandler.END
            draft = draft.cleared(back)
            step = next_step(draft)
        else:
            priced = quote
            step = next_step(draft, priced.expected)
    prefix = "\n".join(notes) + ("\n\n" if notes else "")
    if priced is not None and step == Step.REASON:
        _save(context, draft, Step.REASON.value)
        await _send(
            update, context, prefix + texts.reason_question(priced.expected, draft.amount_paid or 0),
            InlineKeyboardMarkup([_cancel_row()]),
        )
        return STATE
    if priced is not None and step == Step.CONFIRM:
        _save(context, draft, Step.CONFIRM.value)
        await _send(update, context, prefix + texts.confirm_text(draft, priced), _confirm_keyboard())
        return STATE
    _save(context, draft, step.value)
    rates = context.services.rates.at(context.services.today())
    await _send(update, context, prefix + texts.ask_text(step, draft, rates), _step_keyboard(context, step, draft))
    return STATE


# --- /ghi ------------------------------------------------------------------------------------


async def ghi_start(update: Update, context: BotContext) -> object:
    """/ghi alone starts the guided flow; /ghi followed by a line fills what it can."""
    if await _member_or_refuse(update, context) is None:
        _clear(context)
        return ConversationHandler.END
    message = update.effective_message
    assert message is not None
    parts = (message.text or "").split(None, 1)
    rest = parts[1] if len(parts) > 1 else ""
    if len(rest) > MAX_LINE_CHARS:
        note = texts.error_text(InputError("too_long", limit=MAX_LINE_CHARS))
        return await _advance(update, context, EnrolmentDraft(), [note])
    parsed = parse_line(rest)
    notes = [texts.error_text(problem) for problem in parsed.problems[:2]]
    return await _advance(update, context, parsed.draft, notes)


async def on_flow_text(update: Update, context: BotContext) -> object:
    """A typed answer to the question being asked."""
    message = update.effective_message
    assert message is not None
    if _expired(context):
        return await _leave_flow(update, context, texts.draft_expired(_timeout_minutes()), citizen.on_text)
    draft, pending = _flow(context)
    text = message.text or ""
    if pending == Step.NAME.value and is_not_a_name(text):
        return await _leave_flow(update, context, texts.DRAFT_LEFT, citizen.on_text)
    if pending is None:
        return await _advance(update, context, draft)
    if pending in (Step.CONFIRM.value, PENDING_EDIT):
        await _send(update, context, texts.PRESS_A_BUTTON)
        return STATE
    try:
        updated = apply_typed_answer(draft, pending, text, _group_keys(context, draft))
    except InputError as problem:
        await _send(update, context, texts.error_text(problem), _pending_keyboard(context, pending, draft))
        return STATE
    return await _advance(update, context, updated)


def _pending_keyboard(context: BotContext, pending: str, draft: EnrolmentDraft) -> InlineKeyboardMarkup:
    try:
        return _step_keyboard(context, Step(pending), draft)
    except ValueError:
        return InlineKeyboardMarkup([_cancel_row()])


async def on_flow_other(update: Update, context: BotContext) -> object:
    """Photos, stickers, voice in the middle of /ghi: ask for text, change nothing."""
    if _expired(context):
        return await _leave_flow(
            update, context, texts.draft_expired(_timeout_minutes()), citizen.on_other_message
        )
    await _send(update, context, texts.NON_TEXT_IN_FLOW)
    return STATE


_Answer = Callable[[Update, BotContext], Awaitable[None]]


async def _leave_flow(update: Update, context: BotContext, notice: str, answer: _Answer) -> object:
    """Drop the draft (nothing was stored), say so, and let `answer` (the citizen flow) reply
    to the message as if no /ghi had been open."""
    _clear(context)
    await _send(update, context, notice)
    await answer(update, context)
    return ConversationHandler.END


def _leaving_for(answer: _Answer) -> Callable[[Update, BotContext], Awaitable[object]]:
    """A fallback of the /ghi conversation for a citizen command (/start, /bhyt, /bhxh): the
    agent has moved on, so the draft ends before the command is answered."""

    async def leave(update: Update, context: BotContext) -> object:
        return await _leave_flow(update, context, texts.DRAFT_LEFT, answer)

    leave.__name__ = f"leave_for_{getattr(answer, '__name__', 'command')}"
    return leave


async def on_flow_timeout(update: Update, context: BotContext) -> None:
    """PTB's conversation_timeout fired: no answer for DRAFT_TIMEOUT. Drop the draft, say so."""
    _clear(context)
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, texts.draft_expired(_timeout_minutes()))
    except TelegramError:
        log.warning("could not tell a chat that its /ghi draft expired")


async def _replace_pressed(update: Update, context: BotContext, text: str) -> None:
    """Turn the pressed message into the outcome (one call, and its buttons are gone), or send
    the outcome as a new message if the pressed one cannot be edited."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text)
            return
        except TelegramError:
            pass  # too old or already edited: say it in a new message
    await _send(update, context, text)


async def on_flow_button(update: Update, context: BotContext) -> object:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    draft, pending = _flow(context)
    parts = data.split(":")
    kind = parts[1] if len(parts) > 1 else ""
    value = parts[2] if len(parts) > 2 else ""
    if kind == "x" and len(parts) == 2:
        await query.answer()
        _clear(context)
        await _replace_pressed(update, context, texts.CANCELLED)
        return ConversationHandler.END
    if _expired(context):
        await query.answer()
        _clear(context)
        await _send(update, context, texts.draft_expired(_timeout_minutes()))
        return ConversationHandler.END
    try:
        updated, follow = _button(kind, value, len(parts), draft, pending, context)
    except InputError as problem:
        # Buttons of an earlier question stay harmless: the pending question decides.
        text = texts.STALE_BUTTON if problem.key == "stale" else texts.INVALID_BUTTON
        await query.answer(text, show_alert=True)
        await _send(update, context, text)
        return STATE
    await query.answer()
    if follow == "confirm":
        return await _confirm(update, context, draft)
    if follow == "edit":
        _save(context, draft, PENDING_EDIT)
        await _send(update, context, texts.EDIT_QUESTION, _edit_keyboard(draft))
        return STATE
    if follow == PENDING_PAID:
        quote = context.services.enrolments.quote(draft)
        expected = quote.expected if isinstance(quote, Priced) else 0
        _save(context, updated, PENDING_PAID)
        await _send(update, context, texts.ask_amount_paid(expected), InlineKeyboardMarkup([_cancel_row()]))
        return STATE
    return await _advance(update, context, updated)


def _button(
    kind: str, value: str, n_parts: int, draft: EnrolmentDraft, pending: str | None, context: BotContext
) -> tuple[EnrolmentDraft, str | None]:
    """Validate a pressed button against the question asked; InputError for forged data."""
    expects = {
        "s": Step.SCHEME.value, "m": Step.MONTHS.value, "p": Step.POSITION.value,
        "g": Step.GROUP.value, "i": Step.INCOME.value, "r": Step.RELATIVE.value,
    }
    if kind not in (*expects, "ok", "ed", "e"):
        raise InputError("forged")
    if kind in ("ok", "ed") and n_parts == 2:
        if pending != Step.CONFIRM.value:
            raise InputError("stale")
        return draft, "confirm" if kind == "ok" else "edit"
    if kind == "e" and n_parts == 3:
        if pending != PENDING_EDIT:
            raise InputError("stale")
        if value == Step.REASON.value:
            return draft.cleared(Step.REASON), PENDING_PAID
        try:
            step = Step(value)
        except ValueError:
            raise InputError("forged") from None
        if step not in texts.EDIT_LABELS:
            raise InputError("forged")
        return draft.cleared(step), None
    if n_parts != 3 or expects.get(kind) != pending:
        raise InputError("stale")
    if kind == "s":
        scheme = _SCHEME_CODES.get(value)
        if scheme is None:
            raise InputError("forged")
        return draft.with_scheme(scheme), None
    if kind in ("m", "p", "i"):
        number = parse_bounded_int(value, max_digits=9)
        if number is None:
            raise InputError("forged")
        if kind == "m":
            assert draft.scheme is not None
            return draft.with_(months=validate_months(draft.scheme, number)), None
        if kind == "p":
            if number not in _POSITION_CHOICES:
                raise InputError("forged")
            return draft.with_(position=number), None
        return draft.with_(income=number), None
    if kind == "g":
        assert draft.scheme is not None
        if value not in dict(_groups(context, draft.scheme)):
            raise InputError("forged")
        return draft.with_(group=value), None
    if kind == "r" and value in ("0", "1"):
        return draft.with_(is_relative=value == "1"), None
    raise InputError("forged")


async def _confirm(update: Update, context: BotContext, draft: EnrolmentDraft) -> object:
    actor = await _member_or_refuse(update, context)
    if actor is None or actor.member is None:
        _clear(context)
        return ConversationHandler.END
    outcome = await context.services.enrolments.log(actor.member, draft)
    if isinstance(outcome, Logged):
        _clear(context)
        await _replace_pressed(update, context, texts.logged_text(outcome.results, outcome.enrolment))
        return ConversationHandler.END
    if isinstance(outcome, DuplicateEntry):
        _clear(context)
        await _replace_pressed(update, context, texts.duplicate_text(outcome))
        return ConversationHandler.END
    # Refused by the engine or no longer valid: back to the flow, with the reason.
    note = replies.refusal_text(outcome) if isinstance(outcome, Refused) else texts.error_text(outcome)
    return await _advance(update, context, draft, [note])


async def on_flow_huy(update: Update, context: BotContext) -> object:
    """/huy while a draft is open drops the draft (nothing was stored yet)."""
    _clear(context)
    await _send(update, context, texts.DRAFT_DROPPED)
    return ConversationHandler.END


async def on_stale_flow_button(update: Update, context: BotContext) -> None:
    """A /ghi button pressed after that entry was logged or cancelled (or forged)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await _send(update, context, texts.EXPIRED_BUTTON)


# --- /huy: withdraw one's own last entry -----------------------------------------------------------


async def huy(update: Update, context: BotContext) -> None:
    actor = await _member_or_refuse(update, context)
    if actor is None or actor.member is None:
        return
    entry = await context.services.enrolments.withdrawable(actor.member)
    if entry is None:
        await _send(update, context, texts.NOTHING_TO_WITHDRAW)
        return
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_WITHDRAW, callback_data=f"eh:w:{entry.id}"),
        InlineKeyboardButton(texts.BUTTON_KEEP, callback_data="eh:k"),
    ]])
    await _send(update, context, texts.withdraw_question(entry), markup)


async def on_withdraw_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    parts = (query.data or "").split(":")
    if parts == ["eh", "k"]:
        await _replace_pressed(update, context, texts.WITHDRAW_KEPT)
        return
    entry_id = parse_id(parts[2]) if len(parts) == 3 and parts[1] == "w" else None
    if entry_id is None:
        await _send(update, context, texts.EXPIRED_BUTTON)
        return
    actor = await _member_or_refuse(update, context)
    if actor is None or actor.member is None:
        return
    services = context.services
    entry = await services.enrolments.withdraw(actor.member, entry_id)
    if entry is None:
        await _send(update, context, texts.WITHDRAW_TOO_LATE)
        return
    period = Period.month_of(services.today())
    counts = await services.tallies.agent_counts(actor.member.id, period)
    await _replace_pressed(update, context, texts.withdrawn_text(entry, counts, period.start.month))


# --- /huyghi: an official voids an entry --------------------------------------------------------------


async def huyghi(update: Update, context: BotContext) -> None:
    actor = await _actor(update, context)
    if actor.role == Role.CITIZEN:
        await _send(update, context, texts.NOT_MEMBER)
        return
    args = context.args or []
    entry_id = parse_id(args[0].removeprefix("#")) if args else None
    if len(args) < 2 or entry_id is None:
        await _send(update, context, texts.VOID_USAGE)
        return
    try:
        reason = validate_reason(" ".join(args[1:]))
    except InputError as problem:
        await _send(update, context, texts.error_text(problem) + "\n" + texts.VOID_USAGE)
        return
    outcome = await context.services.enrolments.void(actor, entry_id, reason)
    if isinstance(outcome, NotAllowed):
        await _send(update, context, texts.VOID_TEXTS[outcome.key].format(id=entry_id))
        return
    await _send(update, context, texts.voided_text(outcome.enrolment, outcome.unit_name, reason))


# --- tallies ---------------------------------------------------------------------------------


async def toi(update: Update, context: BotContext) -> None:
    actor = await _member_or_refuse(update, context)
    if actor is None or actor.member is None:
        return
    services = context.services
    results = await services.tallies.my_results(actor.member, services.today())
    unit_name = await services.enrolments.unit_name(actor.member.unit_code)
    await _send(update, context, texts.my_results_text(results, unit_name))


async def nhom(update: Update, context: BotContext) -> None:
    actor = await _member_or_refuse(update, context)
    if actor is None or actor.member is None:
        return
    services = context.services
    results = await services.tallies.team_results(actor.member, services.today())
    if results is None:
        await _send(update, context, texts.NO_TEAM)
        return
    await _send(update, context, texts.team_results_text(results))


async def _unit_arg(context: BotContext, raw: str) -> str:
    """A unit code typed as an argument, in any case (``cl01`` is CL01), as /baocao reads it:
    the code as typed when such a unit exists, else upper-cased."""
    code = raw.strip()[:64]
    if await context.services.units.get(code) is None:
        return code.upper()
    return code


async def _scope(
    update: Update, context: BotContext, actor: Actor
) -> tuple[list[str] | None, str, str | None] | None:
    """The units the actor asks about (codes, label, root): their scope, or a unit in it named
    as an argument. An admin without a unit sees the whole tree (codes None, root None)."""
    services = context.services
    args = context.args or []
    if args:
        code = await _unit_arg(context, args[0])
        if not await services.access.can_see(actor, code):
            await _send(update, context, texts.EXPORT_TEXTS["unit_not_found"])
            return None
        return await services.units.subtree_codes(code), await services.enrolments.unit_name(code), code
    if actor.scope_code is None:
        return None, "Tất cả đơn vị", None
    scope = await services.access.scope_codes(actor)
    return scope, await services.enrolments.unit_name(actor.scope_code), actor.scope_code


async def bangxephang(update: Update, context: BotContext) -> None:
    actor = await _actor(update, context)
    if actor.role == Role.CITIZEN:
        await _send(update, context, texts.NOT_MEMBER)
        return
    found = await _scope(update, context, actor)
    if found is None:
        return
    scope, name, root = found
    services = context.services
    period = Period.month_of(services.today())
    units = await services.tallies.unit_ranking(scope, period)
    agents = await services.tallies.leaders(scope, period, limit=10)
    coverage = {
        row.code: row.figures[Measure.BHYT]
        for row in await services.organisation.coverage_rows(root)
        if Measure.BHYT in row.figures and row.figures[Measure.BHYT].coverage is not None
    }
    viewer = actor.member.unit_code if actor.member else None
    text = texts.leaderboard_text(
        name, period, units, agents, viewer, reveal_all=actor.is_admin, coverage=coverage
    )
    await _send(update, context, text)


async def thidua(update: Update, context: BotContext) -> None:
    actor = await _actor(update, context)
    if actor.role == Role.CITIZEN:
        await _send(update, context, texts.NOT_MEMBER)
        return
    found = await _scope(update, context, actor)
    if found is None:
        return
    scope, name, _ = found
    services = context.services
    today = services.today()
    campaign = services.tallies.campaign_on(today)
    period = Period.of_campaign(campaign) if campaign else Period.month_of(today)
    rows = await services.tallies.competition(scope, period)
    await _send(update, context, texts.competition_text(name, period, rows))


# --- /xuat: the monthly form ------------------------------------------------------------------------


async def xuat(update: Update, context: BotContext) -> None:
    actor = await _actor(update, context)
    if actor.role == Role.CITIZEN:
        await _send(update, context, texts.NOT_MEMBER)
        return
    services = context.services
    args = context.args or []
    month = services.today().replace(day=1)
    if args:
        m = _MONTH_ARG.match(args[0].strip()[:16])
        number = parse_bounded_int(m.group(1), max_digits=2, lo=1, hi=12) if m else None
        year = parse_bounded_int(m.group(2), max_digits=4, lo=2000, hi=2100) if m else None
        if number is None or year is None:
            await _send(update, context, texts.EXPORT_USAGE)
            return
        month = month.replace(year=year, month=number)
    unit_code = await _unit_arg(context, args[1]) if len(args) > 1 else None
    report = await services.enrolments.monthly_report(actor, month, unit_code)
    if isinstance(report, NotAllowed):
        await _send(update, context, texts.EXPORT_TEXTS[report.key].format(month=f"{month.month:02d}/{month.year}"))
        return
    if not report.rows:
        await _send(update, context, texts.export_empty(month, report.scope_label))
        return
    # openpyxl takes a while for a big month: build off the event loop, from plain rows.
    content = await asyncio.to_thread(
        build_workbook, report.rows, month, report.scope_label, services.today(), report.mask_codes
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        document=content,
        filename=report_filename(month, report.scope_label),
        caption=texts.export_caption(month, report.scope_label, len(report.rows), report.mask_codes),
    )


# --- registration --------------------------------------------------------------------------------


def build_conversation() -> ConversationHandler:
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is intended: the draft is per person, buttons carry no state.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("ghi", ghi_start, filters=private)],
            states={
                STATE: [
                    CallbackQueryHandler(on_flow_button, pattern=r"^g:"),
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_flow_text),
                    MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, on_flow_other),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_flow_timeout)],
            },
            fallbacks=[
                CommandHandler("huy", on_flow_huy, filters=private),
                CommandHandler("start", _leaving_for(citizen.start), filters=private),
                CommandHandler("bhyt", _leaving_for(citizen.bhyt_command), filters=private),
                CommandHandler(["bhxh", "bhxhtn"], _leaving_for(citizen.bhxh_command), filters=private),
            ],
            name=CONVERSATION,
            persistent=True,
            allow_reentry=True,
            # Dropped in-process by the JobQueue; across restarts by `_expired` on the next answer.
            conversation_timeout=DRAFT_TIMEOUT,
        )


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(build_conversation())
    application.add_handler(CallbackQueryHandler(on_stale_flow_button, pattern=r"^g:"))
    application.add_handler(CallbackQueryHandler(on_withdraw_button, pattern=r"^eh:"))
    application.add_handler(CommandHandler("huy", huy, filters=private))
    application.add_handler(CommandHandler("huyghi", huyghi, filters=private))
    application.add_handler(CommandHandler("toi", toi, filters=private))
    application.add_handler(CommandHandler("nhom", nhom, filters=private))
    application.add_handler(CommandHandler("bangxephang", bangxephang, filters=private))
    application.add_handler(CommandHandler("thidua", thidua, filters=private))
    application.add_handler(CommandHandler("xuat", xuat, filters=private))
