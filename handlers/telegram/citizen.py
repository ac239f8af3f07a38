"""The citizen conversation: menu, /bhyt and /bhxh guided flows, free text, follow-up questions.

Handlers parse, ask `CostDialogue` for the next step and render it. The question in progress
lives in `user_data` (persisted in SQLite), and every button carries its whole draft, so neither
a restart nor an old button sends a person back to the start.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.chat.cost import (
    Answer,
    Ask,
    Choice,
    CostDialogue,
    CostDraft,
    OffTopic,
    Outcome,
    Scheme,
    Stop,
    apply_typed_answer,
    draft_from_question,
)
from bot.chat.texts import cost as replies
from bot.parsing import questions as textparse
from handlers.telegram.context import BotContext

PENDING_KEY = "cost"
SHORT_LABEL = 14


def dialogue(context: BotContext) -> CostDialogue:
    services = context.services
    return CostDialogue(services.rates, services.campaigns, replies.LABELS)


def menu_keyboard() -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(label, callback_data=data)] for label, data in replies.MENU_BUTTONS]
    return InlineKeyboardMarkup(rows)


def choices_keyboard(choices: list[Choice]) -> InlineKeyboardMarkup:
    """Short labels three to a row (numbers, months), long ones one per row."""
    buttons = [InlineKeyboardButton(c.label, callback_data=c.draft.encode()) for c in choices]
    if all(len(c.label) <= SHORT_LABEL for c in choices):
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    else:
        rows = [[b] for b in buttons]
    return InlineKeyboardMarkup(rows)


def after_answer_keyboard(draft: CostDraft, answer: Answer | None = None) -> InlineKeyboardMarkup:
    """Again / the other scheme / my cards; and, when a campaign's co-funding would apply in
    its area, a first row that recomputes for a person living there."""
    again = CostDraft(scheme=draft.scheme, on=draft.on)
    if draft.scheme == Scheme.BHXH_VOLUNTARY:
        other = (replies.MENU_BUTTONS[0][0], "m:hgd")
    else:
        other = (replies.MENU_BUTTONS[1][0], "m:tn")
    cards_label, cards_data = replies.MY_CARDS_BUTTON
    rows = [
        [
            InlineKeyboardButton(replies.ANSWER_AGAIN, callback_data=again.encode()),
            InlineKeyboardButton(other[0], callback_data=other[1]),
        ],
        [InlineKeyboardButton(cards_label, callback_data=cards_data)],
    ]
    area_label = replies.campaign_area_button(answer) if answer is not None else None
    if area_label and answer is not None and answer.hint is not None:
        rows.insert(0, [InlineKeyboardButton(area_label, callback_data=answer.hint.draft.encode())])
    return InlineKeyboardMarkup(rows)


async def send_outcome(update: Update, context: BotContext, outcome: Outcome | OffTopic) -> None:
    """Render one dialogue step and remember what is being asked, if anything."""
    chat = update.effective_chat
    assert chat is not None
    user_data: dict[str, Any] = context.user_data  # type: ignore[assignment]
    if isinstance(outcome, OffTopic):
        user_data.pop(PENDING_KEY, None)
        await context.bot.send_message(chat.id, replies.off_topic_text(outcome), reply_markup=menu_keyboard())
        return
    if isinstance(outcome, Ask):
        rates = context.services.rates.at(outcome.draft.on or context.services.today())
        user_data[PENDING_KEY] = {"draft": outcome.draft.encode(), "asking": outcome.field}
        await context.bot.send_message(
            chat.id, replies.ask_text(outcome, rates), reply_markup=choices_keyboard(outcome.choices)
        )
        return
    user_data.pop(PENDING_KEY, None)
    if isinstance(outcome, Answer):
        await context.bot.send_message(
            chat.id, replies.answer_text(outcome), reply_markup=after_answer_keyboard(outcome.draft, outcome)
        )
    elif isinstance(outcome, Stop):
        await context.bot.send_message(chat.id, replies.stop_text(outcome), reply_markup=menu_keyboard())


async def advance(update: Update, context: BotContext, draft: CostDraft) -> None:
    outcome = dialogue(context).advance(draft, context.services.today())
    await send_outcome(update, context, outcome)


# --- commands -------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    user = update.effective_user
    name = user.first_name if user else ""
    context.user_data.pop(PENDING_KEY, None)  # type: ignore[union-attr]
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        replies.greeting(name or ""), reply_markup=menu_keyboard()
    )


async def help_command(update: Update, context: BotContext) -> None:
    await update.effective_message.reply_text(replies.HELP_TEXT, reply_markup=menu_keyboard())  # type: ignore[union-attr]


async def bhyt_command(update: Update, context: BotContext) -> None:
    """/bhyt [what people would type after it, e.g. "3 người 12 tháng"]."""
    await _command_with_text(update, context, "bhyt", Scheme.BHYT)


async def bhxh_command(update: Update, context: BotContext) -> None:
    await _command_with_text(update, context, "bhxh tự nguyện", Scheme.BHXH_VOLUNTARY)


async def _command_with_text(
    update: Update, context: BotContext, prefix: str, scheme: Scheme
) -> None:
    rest = " ".join(context.args or [])
    today = context.services.today()
    if rest:
        question = textparse.parse_question(f"{prefix} {rest}", today)
        draft = draft_from_question(question)
        plain_household = (
            draft is not None and not question.unused and not question.children
            and scheme == Scheme.BHYT and draft.scheme == Scheme.BHYT_HOUSEHOLD
            and draft.members is None
        )
        if draft is not None and not plain_household:
            outcome = dialogue(context).respond(question, today)
            if outcome is not None:
                await send_outcome(update, context, outcome)
                return
        if plain_household and draft is not None:
            await advance(update, context, draft.with_(scheme=Scheme.BHYT))
            return
    await advance(update, context, CostDraft(scheme=scheme))


# --- free text ------------------------------------------------------------------------------


async def on_text(update: Update, context: BotContext) -> None:
    """A question typed the way people write, or a typed answer to the pending question."""
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text
    today = context.services.today()
    question = textparse.parse_question(text, today)
    pending = (context.user_data or {}).get(PENDING_KEY)
    previous_draft = CostDraft.decode(pending.get("draft", "")) if pending else None
    stated = draft_from_question(question)
    if (
        previous_draft is not None and stated is not None and stated.scheme == previous_draft.scheme
        and not textparse.names_scheme(text)
    ):
        # "3 người lớn, 2 trẻ em", "2 vợ chồng", "cả nhà 5" typed as the answer to "mấy
        # người?": keep the period, date and income already given (nothing typed is dropped)
        question = question.model_copy(
            update={
                "months": question.months or previous_draft.months,
                "on": question.on or previous_draft.on,
                "income": question.income or previous_draft.income,
                "group": question.group or previous_draft.group,
            }
        )
    outcome = dialogue(context).respond(question, today)
    if outcome is not None:
        await send_outcome(update, context, outcome)
        return
    if pending:
        previous = CostDraft.decode(pending.get("draft", ""))
        field = pending.get("asking")
        if previous is not None and field:
            filled = apply_typed_answer(previous, field, text, today)
            if filled is not None:
                await advance(update, context, filled)
                return
            if question.intent == textparse.Intent.UNKNOWN:
                await message.reply_text(replies.unclear_answer(field))
                await advance(update, context, previous)
                return
    if question.intent == textparse.Intent.HELP:
        await help_command(update, context)
    elif question.intent == textparse.Intent.GREETING:
        await start(update, context)
    else:
        await message.reply_text(replies.unknown_text(text), reply_markup=menu_keyboard())


async def on_other_message(update: Update, context: BotContext) -> None:
    """Photos, stickers, voice...: never silence, and a word about not sending card photos."""
    message = update.effective_message
    if message is None:
        return
    text = replies.PHOTO_WARNING if message.photo else replies.NON_TEXT
    await message.reply_text(text, reply_markup=menu_keyboard())


async def on_unknown_command(update: Update, context: BotContext) -> None:
    await update.effective_message.reply_text(replies.UNKNOWN_COMMAND, reply_markup=menu_keyboard())  # type: ignore[union-attr]


# --- buttons --------------------------------------------------------------------------------


async def on_draft_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    data = query.data or ""
    draft = CostDraft.decode(data)
    if draft is None:
        await context.bot.send_message(query.from_user.id, replies.EXPIRED_BUTTON, reply_markup=menu_keyboard())
        return
    await advance(update, context, draft)


async def on_menu_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = (query.data or "").removeprefix("m:")
    if choice == "help":
        await context.bot.send_message(query.from_user.id, replies.HELP_TEXT, reply_markup=menu_keyboard())
        return
    scheme = {"hgd": Scheme.BHYT_HOUSEHOLD, "tn": Scheme.BHXH_VOLUNTARY, "bhyt": Scheme.BHYT}.get(choice)
    if scheme is None:
        await context.bot.send_message(query.from_user.id, replies.EXPIRED_BUTTON, reply_markup=menu_keyboard())
        return
    await advance(update, context, CostDraft(scheme=scheme))


async def on_unknown_button(update: Update, context: BotContext) -> None:
    """Forged or outdated callback data: answer it and offer the menu, change nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await context.bot.send_message(query.from_user.id, replies.EXPIRED_BUTTON, reply_markup=menu_keyboard())


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", start, filters=private))
    application.add_handler(CommandHandler(["help", "huongdan"], help_command, filters=private))
    application.add_handler(CommandHandler("bhyt", bhyt_command, filters=private))
    application.add_handler(CommandHandler(["bhxh", "bhxhtn"], bhxh_command, filters=private))
    application.add_handler(CallbackQueryHandler(on_draft_button, pattern=r"^q1\|"))
    application.add_handler(CallbackQueryHandler(on_menu_button, pattern=r"^m:"))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(private & filters.COMMAND, on_unknown_command))
    application.add_handler(MessageHandler(private & ~filters.TEXT, on_other_message))
    application.add_handler(CallbackQueryHandler(on_unknown_button))
