"""/ghi: the guided and one-line logging of a participant, with "g:" buttons and typed answers.

The draft, the question being asked and when it was saved live in the person's session
(`GHI_SESSION`, in the database), so a half-finished entry survives a restart and another
instance of the bot continues it. While a draft is open this flow claims the person's typed
text and non-text messages; commands and other buttons pass, as they did under the old
conversation handler, except:

- /huy drops the draft (agent_results.huy), /ghi starts afresh;
- /start, /bhyt, /bhxh, /bhxhtn, or a cost question or greeting typed where the name is asked,
  end the draft with a word about it, and the message is then answered as if no /ghi was open;
- a draft left unanswered for `DRAFT_TIMEOUT` is dropped at the person's next message, with a
  word about it (there is no timer: the saved time decides, across restarts too).

Nothing is stored until the confirmation button is pressed; every button is checked against
the question pending, so an old or forged button changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.chat.flow import Turn
from bot.chat.flows.agent_access import logging_member, not_a_logger
from bot.chat.model import Alert, Button, Command, Out, Press, Reply, Rows, Text
from bot.chat.rich import Rich, join, t
from bot.chat.texts import cost as cost_texts
from bot.chat.texts import enrolment as texts
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
)
from bot.parsing.numbers import parse_bounded_int
from bot.services.enrolment import DuplicateEntry, Logged

GHI_SESSION = "agent.ghi"
BUTTON_PREFIX = "g:"
PENDING_PAID = Step.PAID.value  # the "Sửa số tiền" question, not a step of the normal order
PENDING_EDIT = "edit"
# Citizen commands that end an open draft before they are answered (the old fallbacks).
LEAVING_COMMANDS = frozenset({"start", "bhyt", "bhxh", "bhxhtn"})

_SCHEME_CODES = {"h": Scheme.BHYT_HOUSEHOLD, "s": Scheme.BHYT_SUPPORTED, "v": Scheme.BHXH_VOLUNTARY}
_SCHEME_KEYS = {v: k for k, v in _SCHEME_CODES.items()}
_POSITION_CHOICES = (1, 2, 3, 4, 5)


# --- the draft in the session -------------------------------------------------------------------


async def open_draft(turn: Turn) -> dict[str, Any] | None:
    """The open /ghi session of the sender (draft, pending question, saved at), or None."""
    return await turn.session.get(GHI_SESSION)


async def drop_draft(turn: Turn) -> None:
    await turn.session.clear(GHI_SESSION)


def _read(state: dict[str, Any]) -> tuple[EnrolmentDraft, str | None]:
    pending = state.get("pending")
    return EnrolmentDraft.from_state(state.get("draft")), pending if isinstance(pending, str) else None


async def _save(turn: Turn, draft: EnrolmentDraft, pending: str) -> None:
    """Keep the draft, the question asked, and when (for `draft_expired`)."""
    await turn.session.put(
        GHI_SESSION, {"draft": draft.to_state(), "pending": pending, "at": turn.now.isoformat()}
    )


def _expired(turn: Turn, state: dict[str, Any]) -> bool:
    at = state.get("at")
    return draft_expired(at if isinstance(at, str) else None, turn.now)


def _timeout_notice() -> Reply:
    return Reply(texts.draft_expired(int(DRAFT_TIMEOUT.total_seconds() // 60)))


# --- buttons ----------------------------------------------------------------------------------------


def _rows(buttons: list[Button], per_row: int) -> Rows:
    return tuple(tuple(buttons[n : n + per_row]) for n in range(0, len(buttons), per_row))


_CANCEL_ROW: tuple[Button, ...] = (Button(texts.BUTTON_CANCEL, payload="g:x"),)


def _groups(turn: Turn, scheme: Scheme) -> list[tuple[str, str]]:
    rates = turn.services.rates.at(turn.today)
    if scheme == Scheme.BHXH_VOLUNTARY:
        return cost_texts.LABELS.bhxh_groups(rates)
    return cost_texts.LABELS.bhyt_groups(rates)


def _group_keys(turn: Turn, draft: EnrolmentDraft) -> frozenset[str]:
    """Support groups in force today for the draft's scheme (what a typed group may be)."""
    if draft.scheme is None:
        return frozenset()
    return frozenset(key for key, _ in _groups(turn, draft.scheme))


def _step_buttons(turn: Turn, step: Step, draft: EnrolmentDraft) -> Rows:
    rates = turn.services.rates.at(turn.today)
    labels = cost_texts.LABELS
    rows: Rows = ()
    if step == Step.SCHEME:
        rows = tuple(
            (Button(label, payload=f"g:s:{_SCHEME_KEYS[scheme]}"),) for scheme, label in texts.SCHEME_LABELS.items()
        )
    elif step == Step.MONTHS and draft.scheme is not None:
        row = rates.bhxh_voluntary if draft.scheme == Scheme.BHXH_VOLUNTARY else rates.bhyt_household
        months = [m for m in row.allowed_months if m in allowed_months(draft.scheme)]
        rows = _rows([Button(labels.months(m), payload=f"g:m:{m}") for m in months], 4)
    elif step == Step.POSITION:
        last = _POSITION_CHOICES[-1]
        rows = _rows(
            [Button(texts.position_label(n, n == last), payload=f"g:p:{n}") for n in _POSITION_CHOICES], 3
        )
    elif step == Step.GROUP and draft.scheme is not None:
        rows = tuple((Button(label, payload=f"g:g:{key}"),) for key, label in _groups(turn, draft.scheme))
    elif step == Step.INCOME:
        rows = _rows(
            [Button(labels.amount(a), payload=f"g:i:{a}") for a in labels.income_suggestions(rates)], 2
        )
    elif step == Step.RELATIVE:
        rows = ((
            Button(texts.BUTTON_RELATIVE_YES, payload="g:r:1"),
            Button(texts.BUTTON_RELATIVE_NO, payload="g:r:0"),
        ),)
    return (*rows, _CANCEL_ROW)


def _pending_buttons(turn: Turn, pending: str, draft: EnrolmentDraft) -> Rows:
    try:
        return _step_buttons(turn, Step(pending), draft)
    except ValueError:
        return (_CANCEL_ROW,)


_CONFIRM_BUTTONS: Rows = ((
    Button(texts.BUTTON_CONFIRM, payload="g:ok"),
    Button(texts.BUTTON_EDIT, payload="g:ed"),
    Button(texts.BUTTON_CANCEL, payload="g:x"),
),)


def _edit_buttons(draft: EnrolmentDraft) -> Rows:
    steps = [Step.SCHEME, Step.NAME, Step.CODE, Step.MONTHS]
    steps.append(Step.POSITION if draft.scheme == Scheme.BHYT_HOUSEHOLD else Step.GROUP)
    if draft.scheme == Scheme.BHXH_VOLUNTARY:
        steps.append(Step.INCOME)
    steps += [Step.RELATIVE, Step.REASON]
    buttons = [Button(texts.EDIT_LABELS[s], payload=f"g:e:{s.value}") for s in steps]
    return (*_rows(buttons, 3), _CANCEL_ROW)


# --- moving the flow on ---------------------------------------------------------------------------

_REFUSAL_STEP = {
    RefusalReason.INCOME_BELOW_MIN: Step.INCOME,
    RefusalReason.INCOME_ABOVE_MAX: Step.INCOME,
    RefusalReason.MONTHS_NOT_ALLOWED: Step.MONTHS,
    RefusalReason.MEMBERS_RANGE: Step.POSITION,
    RefusalReason.GROUP_NOT_AVAILABLE: Step.GROUP,
    RefusalReason.UNKNOWN_GROUP: Step.GROUP,
}


async def _advance(turn: Turn, draft: EnrolmentDraft, notes: Sequence[Rich] = ()) -> list[Out]:
    """Ask the first missing value, or show the confirmation card; the draft is saved with
    the question asked. A refusal the agent cannot fix by answering again ends the draft."""
    said = list(notes)
    step = next_step(draft)
    priced: Priced | None = None
    if step == Step.CONFIRM:
        quote = turn.services.enrolments.quote(draft)
        if isinstance(quote, Refused):
            said.append(texts.refusal(quote))
            back = _REFUSAL_STEP.get(quote.reason)
            if back is None:
                await drop_draft(turn)
                return [Reply(join("\n", said))]
            draft = draft.cleared(back)
            step = next_step(draft)
        else:
            priced = quote
            step = next_step(draft, priced.expected)
    prefix = t(join("\n", said), "\n\n") if said else t()
    if priced is not None and step == Step.REASON:
        await _save(turn, draft, Step.REASON.value)
        question = texts.reason_question(priced.expected, draft.amount_paid or 0)
        return [Reply(prefix + question, buttons=(_CANCEL_ROW,))]
    if priced is not None and step == Step.CONFIRM:
        await _save(turn, draft, Step.CONFIRM.value)
        return [Reply(prefix + texts.confirm_text(draft, priced), buttons=_CONFIRM_BUTTONS)]
    await _save(turn, draft, step.value)
    rates = turn.services.rates.at(turn.today)
    return [Reply(prefix + texts.ask_text(step, draft, rates), buttons=_step_buttons(turn, step, draft))]


# --- /ghi ---------------------------------------------------------------------------------------------


async def ghi(turn: Turn) -> Sequence[Out]:
    """/ghi alone starts the guided flow; /ghi followed by a line fills what it can. An open
    draft is replaced (the agent starts again)."""
    if logging_member(turn) is None:
        await drop_draft(turn)
        return [not_a_logger(turn)]
    rest = " ".join(turn.args)
    if len(rest) > MAX_LINE_CHARS:
        note = texts.error_text(InputError("too_long", limit=MAX_LINE_CHARS))
        return await _advance(turn, EnrolmentDraft(), [note])
    parsed = parse_line(rest)
    return await _advance(turn, parsed.draft, [texts.error_text(problem) for problem in parsed.problems[:2]])


# --- while a draft is open ------------------------------------------------------------------------------


async def before(turn: Turn) -> Sequence[Out]:
    """End an open draft the person has left (see the module docstring), saying so; the event
    is then answered as if no draft was open. A /ghi button decides for itself (on_button)."""
    event = turn.event
    if isinstance(event, Press) and event.payload.startswith(BUTTON_PREFIX):
        return ()
    state = await open_draft(turn)
    if state is None:
        return ()
    if isinstance(event, Command) and event.name.lower() in LEAVING_COMMANDS:
        await drop_draft(turn)
        return [Reply(texts.DRAFT_LEFT)]
    if _expired(turn, state):
        await drop_draft(turn)
        return [_timeout_notice()]
    if isinstance(event, Text):
        _, pending = _read(state)
        if pending == Step.NAME.value and is_not_a_name(event.text):
            await drop_draft(turn)
            return [Reply(texts.DRAFT_LEFT)]
    return ()


async def on_text(turn: Turn) -> Sequence[Out] | None:
    """A typed answer to the question being asked; not this flow's text when no draft is open."""
    state = await open_draft(turn)
    if state is None:
        return None
    draft, pending = _read(state)
    if pending is None:
        return await _advance(turn, draft)
    if pending in (Step.CONFIRM.value, PENDING_EDIT):
        return [Reply(texts.PRESS_A_BUTTON)]
    try:
        updated = apply_typed_answer(draft, pending, turn.text, _group_keys(turn, draft))
    except InputError as problem:
        return [Reply(texts.error_text(problem), buttons=_pending_buttons(turn, pending, draft))]
    return await _advance(turn, updated)


async def on_not_text(turn: Turn) -> Sequence[Out] | None:
    """A photo, sticker, file or contact while a draft is open: ask for text, change nothing.
    Commands and buttons are never claimed here (they pass, as under the old handler)."""
    if isinstance(turn.event, Command | Press | Text):
        return None
    if await open_draft(turn) is None:
        return None
    return [Reply(texts.NON_TEXT_IN_FLOW)]


async def on_button(turn: Turn) -> Sequence[Out]:
    """A "g:" button: checked against the question pending; stale or forged ones change nothing."""
    state = await open_draft(turn)
    if state is None:
        return [Reply(texts.EXPIRED_BUTTON)]
    parts = turn.payload.split(":")
    kind = parts[1] if len(parts) > 1 else ""
    value = parts[2] if len(parts) > 2 else ""
    if kind == "x" and len(parts) == 2:
        await drop_draft(turn)
        return [Reply(texts.CANCELLED, replace_pressed=True)]
    if _expired(turn, state):
        await drop_draft(turn)
        return [_timeout_notice()]
    draft, pending = _read(state)
    try:
        updated, follow = _button(turn, kind, value, len(parts), draft, pending)
    except InputError as problem:
        # Buttons of an earlier question stay harmless: the pending question decides.
        text = texts.STALE_BUTTON if problem.key == "stale" else texts.INVALID_BUTTON
        return [Alert(text), Reply(t(text))]
    if follow == "confirm":
        return await _confirm(turn, draft)
    if follow == "edit":
        await _save(turn, draft, PENDING_EDIT)
        return [Reply(texts.EDIT_QUESTION, buttons=_edit_buttons(draft))]
    if follow == PENDING_PAID:
        quote = turn.services.enrolments.quote(draft)
        expected = quote.expected if isinstance(quote, Priced) else 0
        await _save(turn, updated, PENDING_PAID)
        return [Reply(texts.ask_amount_paid(expected), buttons=(_CANCEL_ROW,))]
    return await _advance(turn, updated)


def _button(
    turn: Turn, kind: str, value: str, n_parts: int, draft: EnrolmentDraft, pending: str | None
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
            if draft.scheme is None:
                raise InputError("forged")
            return draft.with_(months=validate_months(draft.scheme, number)), None
        if kind == "p":
            if number not in _POSITION_CHOICES:
                raise InputError("forged")
            return draft.with_(position=number), None
        return draft.with_(income=number), None
    if kind == "g":
        if draft.scheme is None or value not in dict(_groups(turn, draft.scheme)):
            raise InputError("forged")
        return draft.with_(group=value), None
    if kind == "r" and value in ("0", "1"):
        return draft.with_(is_relative=value == "1"), None
    raise InputError("forged")


async def _confirm(turn: Turn, draft: EnrolmentDraft) -> list[Out]:
    member = logging_member(turn)
    if member is None:
        await drop_draft(turn)
        return [not_a_logger(turn)]
    outcome = await turn.services.enrolments.log(member, draft)
    if isinstance(outcome, Logged):
        await drop_draft(turn)
        return [Reply(texts.logged_text(outcome.results, outcome.enrolment), replace_pressed=True)]
    if isinstance(outcome, DuplicateEntry):
        await drop_draft(turn)
        return [Reply(texts.duplicate_text(outcome), replace_pressed=True)]
    # Refused by the engine or no longer valid: back to the flow, with the reason.
    note = texts.refusal(outcome) if isinstance(outcome, Refused) else texts.error_text(outcome)
    return await _advance(turn, draft, [note])
