"""The citizen conversation: menu, /bhyt and /bhxh guided questions, free text, follow-ups.

Handlers parse, ask `CostDialogue` for the next step and turn it into replies. The question
being asked lives in the person's session ("citizen.cost": the draft and the field asked), in
the database, so a typed answer after a restart still completes it; every button carries its
whole draft, so an old button never sends a person back to the start either.

This flow comes last in `bot.chat.flows.all_flows`: its `on_text` answers any text and its
`on_other` anything no other flow answered (unknown commands, unknown or expired buttons,
photos, stickers...), so the router always has an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from bot.chat.cost import (
    Answer,
    Ask,
    Choice,
    CostDialogue,
    CostDraft,
    Field,
    OffTopic,
    Outcome,
    Scheme,
    Stop,
    apply_typed_answer,
    draft_from_question,
)
from bot.chat.flow import Flow, Turn
from bot.chat.model import Button, Command, Out, Press, Reply, Rows, Unsupported
from bot.chat.rich import Rich, paragraphs
from bot.chat.texts import cost as replies
from bot.chat.texts import organisation as org_replies
from bot.domain.engine import Refused
from bot.domain.roles import Role
from bot.parsing import questions as textparse

__all__ = ["FLOW", "PENDING_SESSION", "menu_rows"]

PENDING_SESSION = "citizen.cost"
DRAFT_PREFIX = "q1|"
MENU_PREFIX = "m:"
SHORT_LABEL = 14
_MENU_SCHEMES = {"hgd": Scheme.BHYT_HOUSEHOLD, "tn": Scheme.BHXH_VOLUNTARY, "bhyt": Scheme.BHYT}


def _dialogue(turn: Turn) -> CostDialogue:
    return CostDialogue(turn.services.rates, turn.services.campaigns, replies.LABELS)


# --- buttons --------------------------------------------------------------------------------


def menu_rows() -> Rows:
    """The citizen menu: one button per row (BHYT household, voluntary BHXH, supported BHYT,
    my cards, help); other flows offer it after their own answers too."""
    return tuple((Button(label, payload=payload),) for label, payload in replies.MENU_BUTTONS)


def _choice_rows(choices: list[Choice]) -> Rows:
    """Short labels three to a row (numbers, months), long ones one per row."""
    buttons = [Button(c.label, payload=c.draft.encode()) for c in choices]
    if all(len(c.label) <= SHORT_LABEL for c in choices):
        return tuple(tuple(buttons[n : n + 3]) for n in range(0, len(buttons), 3))
    return tuple((button,) for button in buttons)


def _after_answer_rows(answer: Answer) -> Rows:
    """Again / the other scheme / my cards; and, when a campaign's co-funding would apply in
    its area, a first row that recomputes for a person living there."""
    draft = answer.draft
    again = CostDraft(scheme=draft.scheme, on=draft.on)
    if draft.scheme == Scheme.BHXH_VOLUNTARY:
        other = (replies.MENU_BUTTONS[0][0], "m:hgd")
    else:
        other = (replies.MENU_BUTTONS[1][0], "m:tn")
    cards_label, cards_payload = replies.MY_CARDS_BUTTON
    rows: list[tuple[Button, ...]] = [
        (Button(replies.ANSWER_AGAIN, payload=again.encode()), Button(other[0], payload=other[1])),
        (Button(cards_label, payload=cards_payload),),
    ]
    area_label = replies.campaign_area_button(answer)
    if area_label and answer.hint is not None:
        rows.insert(0, (Button(area_label, payload=answer.hint.draft.encode()),))
    return tuple(rows)


def _with_menu(text: Rich) -> list[Out]:
    return [Reply(text, menu_rows())]


# --- dialogue steps -------------------------------------------------------------------------


async def _reply_to(turn: Turn, outcome: Outcome | OffTopic) -> list[Out]:
    """One dialogue step as a reply; remembers the field being asked, if any, and forgets
    it otherwise (an answer, a stop, an off-topic question close the question)."""
    if isinstance(outcome, Ask):
        rates = turn.services.rates.at(outcome.draft.on or turn.today)
        await turn.session.put(PENDING_SESSION, {"draft": outcome.draft.encode(), "asking": outcome.field})
        return [Reply(replies.ask_text(outcome, rates), _choice_rows(outcome.choices))]
    await turn.session.clear(PENDING_SESSION)
    if isinstance(outcome, OffTopic):
        return _with_menu(replies.off_topic_text(outcome))
    if isinstance(outcome, Answer):
        return [Reply(replies.answer_text(outcome), _after_answer_rows(outcome))]
    assert isinstance(outcome, Stop)
    return _with_menu(replies.stop_text(outcome))


async def _advance(turn: Turn, draft: CostDraft) -> list[Out]:
    return await _reply_to(turn, _dialogue(turn).advance(draft, turn.today))


# --- commands -------------------------------------------------------------------------------


async def start(turn: Turn) -> Sequence[Out]:
    """/start: the greeting and the menu; a question left open is dropped. A member (agent,
    team leader, official, admin) is also told their role and where their own commands are."""
    await turn.session.clear(PENDING_SESSION)
    greeting = replies.greeting(turn.first_name)
    if turn.actor.role is not Role.CITIZEN:
        greeting = paragraphs(greeting, org_replies.staff_hint(turn.actor.role))
    return _with_menu(greeting)


async def help_command(turn: Turn) -> Sequence[Out]:
    """/help, /huongdan: what the bot does, how to type a question, the safety warning."""
    return _with_menu(replies.HELP_TEXT)


async def bhyt_command(turn: Turn) -> Sequence[Out]:
    """/bhyt [what people would type after it, e.g. "3 người 12 tháng"]."""
    return await _command_with_text(turn, "bhyt", Scheme.BHYT)


async def bhxh_command(turn: Turn) -> Sequence[Out]:
    """/bhxh, /bhxhtn [income, group, period]."""
    return await _command_with_text(turn, "bhxh tự nguyện", Scheme.BHXH_VOLUNTARY)


async def _command_with_text(turn: Turn, prefix: str, scheme: Scheme) -> list[Out]:
    rest = " ".join(turn.args)
    today = turn.today
    if rest:
        question = textparse.parse_question(f"{prefix} {rest}", today)
        draft = draft_from_question(question)
        plain_household = (
            draft is not None and not question.unused and not question.children
            and scheme == Scheme.BHYT and draft.scheme == Scheme.BHYT_HOUSEHOLD
            and draft.members is None
        )
        if draft is not None and not plain_household:
            outcome = _dialogue(turn).respond(question, today)
            if outcome is not None:
                return await _reply_to(turn, outcome)
        if plain_household and draft is not None:
            # "/bhyt 12 tháng": household or supported is still to be chosen
            return await _advance(turn, draft.with_(scheme=Scheme.BHYT))
    return await _advance(turn, CostDraft(scheme=scheme))


# --- free text ------------------------------------------------------------------------------


async def _pending(turn: Turn) -> tuple[CostDraft | None, Field | None]:
    """The open question's draft and the field asked; (None, None) when none is open or the
    stored value is unreadable (then it is as if nothing was asked)."""
    stored = await turn.session.get(PENDING_SESSION)
    if not stored:
        return None, None
    draft = CostDraft.decode(str(stored.get("draft", "")))
    asking = stored.get("asking")
    for field in get_args(Field):
        if asking == field:
            return draft, field
    return draft, None


async def on_text(turn: Turn) -> Sequence[Out]:
    """A question typed the way people write, or a typed answer to the open question. Always
    answers: what is not understood gets the menu."""
    text = turn.text
    today = turn.today
    question = textparse.parse_question(text, today)
    previous, asking = await _pending(turn)
    stated = draft_from_question(question)
    if (
        previous is not None and stated is not None and stated.scheme == previous.scheme
        and not textparse.names_scheme(text)
    ):
        # "3 người lớn, 2 trẻ em", "2 vợ chồng", "cả nhà 5" typed as the answer to "mấy
        # người?": keep the period, date and income already given (nothing typed is dropped)
        question = question.model_copy(
            update={
                "months": question.months or previous.months,
                "on": question.on or previous.on,
                "income": question.income or previous.income,
                "group": question.group or previous.group,
            }
        )
    outcome = _dialogue(turn).respond(question, today)
    if outcome is not None:
        return await _reply_to(turn, outcome)
    if previous is not None and asking:
        filled = apply_typed_answer(previous, asking, text, today)
        if filled is not None:
            return await _advance(turn, filled)
        if question.intent == textparse.Intent.UNKNOWN:
            return [Reply(replies.unclear_answer(asking)), *await _advance(turn, previous)]
    if question.intent == textparse.Intent.HELP:
        return await help_command(turn)
    if question.intent == textparse.Intent.GREETING:
        return await start(turn)
    return _with_menu(replies.unknown_text(text))


# --- buttons --------------------------------------------------------------------------------


async def on_draft_button(turn: Turn) -> Sequence[Out]:
    """A "q1|" button: the draft it carries, one step further (forged or outdated: the menu)."""
    draft = CostDraft.decode(turn.payload)
    if draft is None:
        return _with_menu(replies.EXPIRED_BUTTON)
    return await _advance(turn, draft)


async def on_menu_button(turn: Turn) -> Sequence[Out]:
    """An "m:" menu button: help, or the first question of a scheme."""
    choice = turn.payload.removeprefix(MENU_PREFIX)
    if choice == "help":
        return await help_command(turn)
    scheme = _MENU_SCHEMES.get(choice)
    if scheme is None:
        return _with_menu(replies.EXPIRED_BUTTON)
    return await _advance(turn, CostDraft(scheme=scheme))


# --- anything else --------------------------------------------------------------------------


async def on_other(turn: Turn) -> Sequence[Out]:
    """The last answer of the bot: never silence, and nothing changes.

    An unknown command gets the menu; an unknown or expired button (any payload no flow took)
    says so; a photo gets a word about never sending card photos; anything else (stickers,
    voice, files, contacts no other flow took) is told the bot reads text."""
    event = turn.event
    if isinstance(event, Command):
        return _with_menu(replies.UNKNOWN_COMMAND)
    if isinstance(event, Press) or (isinstance(event, Unsupported) and event.kind == "empty_button"):
        return _with_menu(replies.EXPIRED_BUTTON)
    if isinstance(event, Unsupported) and event.kind == "photo":
        return _with_menu(replies.PHOTO_WARNING)
    return _with_menu(replies.NON_TEXT)


async def rates_command(turn: Turn) -> Sequence[Out]:
    """/mucdong [date]: the figures in force today (or on the date typed), with their basis."""
    typed = " ".join(turn.args)[:40]
    on = turn.today if not typed else textparse.parse_date(typed, turn.today)
    if on is None:
        return _with_menu(replies.RATES_BAD_DATE)
    book = turn.services.rates
    try:
        rates = book.at(on)
    except Refused:
        return _with_menu(replies.RATES_BAD_DATE)
    return _with_menu(replies.rates_text(rates, book.next_change(on)))


FLOW = Flow(
    "citizen",
    commands={
        "start": start,
        "help": help_command,
        "huongdan": help_command,
        "bhyt": bhyt_command,
        "bhxh": bhxh_command,
        "bhxhtn": bhxh_command,
        "mucdong": rates_command,
    },
    buttons={DRAFT_PREFIX: on_draft_button, MENU_PREFIX: on_menu_button},
    on_text=on_text,
    on_other=on_other,
)
