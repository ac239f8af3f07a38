"""The lapsed-card flow: linking by a verified phone, /hethan, the reminder buttons, /dunglai and
/nhac, the agents' /danhsach, and lists sent as documents by officials and admins.

Channel-neutral: a phone arrives as `PhoneShared` only when the channel proved it is the
sender's own (Telegram: their own contact; Zalo: `user_submit_info`), and someone else's contact
as `ForeignContact`, which links nothing. Button payloads ("rc:...") carry no personal data, so
a forged press can only ever act on the person who pressed it; unknown payloads change nothing.
A document is fetched only after the role and the announced size allowed it, so a citizen's
file or an oversized one is never downloaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.chat.flow import Flow, Turn
from bot.chat.model import DocumentIn, File, ForeignContact, Out, PhoneShared, Reply, SwapButtons
from bot.chat.rich import t
from bot.chat.texts import cards as texts
from bot.domain.roles import Role
from bot.imports.cards import CHAT_MAX_ROWS, MAX_FILE_BYTES, CardFileError, FileProblem
from bot.parsing.numbers import parse_bounded_int
from bot.services.cards import LinkOutcome

__all__ = ["FLOW", "IMPORT_ROLES", "LIST_ROLES"]

IMPORT_ROLES = frozenset({Role.ADMIN, Role.OFFICIAL})
LIST_ROLES = frozenset({Role.ADMIN, Role.OFFICIAL, Role.TEAM_LEADER, Role.AGENT})

# Non-staff sending a list-looking file are told only officials send lists; any other file of
# theirs gets the citizens' reply to a non-text message (the citizen flow's on_other).
_LIST_EXTENSIONS = (".csv", ".xlsx", ".xls")
_MAX_NAME = 120  # characters of a file name kept for the report and the import's source


# --- citizens ---------------------------------------------------------------------------------


async def _show_cards(turn: Turn) -> list[Out]:
    """Each linked card's status and the household's renewal cost, or the phone request."""
    services, user_id, channel = turn.services, turn.user_id, turn.channel
    if not await services.cards.is_linked(user_id, channel=channel):
        return [Reply(texts.ASK_CONTACT, ask_phone=True)]
    mine = await services.cards.my_cards(user_id, channel=channel)
    opted_out = await services.reminders.is_opted_out(user_id, channel=channel)
    return [Reply(texts.my_cards_text(mine, opted_out), buttons=texts.reminder_buttons(opted_out))]


async def hethan(turn: Turn) -> Sequence[Out]:
    """/hethan: each linked card's status and the household's renewal cost."""
    return await _show_cards(turn)


async def on_phone(turn: Turn) -> Sequence[Out] | None:
    """A verified own phone links every card carrying it; someone else's contact links nothing
    and asks again for the person's own phone."""
    event = turn.event
    if isinstance(event, ForeignContact):
        return [Reply(texts.NOT_OWN_CONTACT, ask_phone=True)]
    if not isinstance(event, PhoneShared):
        return None
    # The channel verified the phone is the sender's own: the sender is the contact's owner.
    result = await turn.services.cards.link_contact(turn.user_id, turn.user_id, event.phone, channel=turn.channel)
    if result.outcome is LinkOutcome.NOT_OWN:
        return [Reply(texts.NOT_OWN_CONTACT, ask_phone=True)]
    if result.outcome is LinkOutcome.BAD_PHONE:
        return [Reply(t(texts.BAD_PHONE))]
    if result.outcome is LinkOutcome.NO_CARDS:
        return [Reply(texts.no_cards_text(result.phone or ""))]
    assert result.cards is not None and result.phone is not None
    return [Reply(texts.linked_text(result.cards, result.phone)), *await _show_cards(turn)]


async def dunglai(turn: Turn) -> Sequence[Out]:
    """/dunglai: stop reminders (saying so when they already were)."""
    changed = await turn.services.reminders.opt_out(turn.user_id, channel=turn.channel)
    return [Reply(t(texts.STOPPED if changed else texts.ALREADY_STOPPED))]


async def nhac(turn: Turn) -> Sequence[Out]:
    """/nhac: reminders on again (and unblocked); an unlinked person is asked for their phone."""
    services = turn.services
    await services.reminders.opt_in(turn.user_id, channel=turn.channel)
    linked = await services.cards.is_linked(turn.user_id, channel=turn.channel)
    text = texts.resumed_text(services.reminders.cadence, services.reminders.hours, linked)
    return [Reply(text, ask_phone=not linked)]


async def on_button(turn: Turn) -> Sequence[Out]:
    """Buttons of reminders and /hethan ("rc:..."); unknown or forged payloads change nothing."""
    services, user_id, channel = turn.services, turn.user_id, turn.channel
    data = turn.payload
    if data == texts.CB_STOP:
        changed = await services.reminders.opt_out(user_id, channel=channel)
        # "Không nhận nhắc nữa" becomes "Nhận nhắc lại" on the pressed message.
        return [Reply(t(texts.STOPPED if changed else texts.ALREADY_STOPPED)),
                SwapButtons(texts.reminder_buttons(opted_out=True))]
    if data == texts.CB_RESUME:
        return [*await nhac(turn), SwapButtons(texts.reminder_buttons(opted_out=False))]
    if data == texts.CB_CARDS:
        return await _show_cards(turn)
    if not await services.cards.is_linked(user_id, channel=channel):
        return [Reply(texts.NOT_LINKED, ask_phone=True)]
    if data == texts.CB_COST:
        return [Reply(t(texts.ASK_MONTHS), buttons=texts.months_buttons())]
    if data.startswith(texts.CB_MONTHS):
        months = parse_bounded_int(data.removeprefix(texts.CB_MONTHS), max_digits=2)
        if months in texts.MONTH_CHOICES:
            assert months is not None
            mine = await services.cards.my_cards(user_id, months=months, channel=channel)
            return [Reply(texts.months_cost_text(mine), buttons=texts.months_buttons())]
    elif data == texts.CB_RENEWED:
        claimed = await services.reminders.claim_renewed(user_id, channel=channel)
        if claimed:
            return [Reply(texts.claimed_text(texts.YOU, claimed), buttons=texts.undo_buttons())]
        return [Reply(t(texts.NOTHING_TO_CLAIM))]
    elif data == texts.CB_UNDO:
        undone = await services.reminders.undo_claims(user_id, channel=channel)
        return [Reply(t(texts.CLAIM_UNDONE if undone else texts.NOTHING_TO_UNDO))]
    return [Reply(t(texts.BUTTON_EXPIRED))]


# --- agents and officials --------------------------------------------------------------------


async def danhsach(turn: Turn) -> Sequence[Out]:
    """/danhsach: lapsed, unrenewed people of the sender's units, as a message and an XLSX of
    every row (built in a worker thread: a long list must not hold the event loop)."""
    services, actor = turn.services, turn.actor
    if actor.role not in LIST_ROLES:
        return [Reply(t(texts.STAFF_ONLY))]
    scope = None if actor.scope_code is None else await services.access.scope_codes(actor)
    label = texts.ALL_UNITS
    if actor.scope_code is not None:
        unit = await services.units.get(actor.scope_code)
        label = unit.name if unit else actor.scope_code
    door = await services.cards.door_list(actor, scope, label)
    text = texts.door_list_text(door)
    if not door.rows:
        return [Reply(text)]
    workbook = await asyncio.to_thread(texts.door_list_xlsx, door)
    file = File(texts.door_list_filename(door), workbook, "xlsx", caption=texts.door_list_caption(door))
    return [Reply(text, files=(file,))]


async def on_document(turn: Turn) -> Sequence[Out] | None:
    """A file sent in a private chat. An admin or official's is read as a list by its content,
    not its name (an XLSX without extension, a CSV saved as .txt, Excel's UTF-16 "Unicode
    text"), imported, and answered with the report or a clear refusal. Anyone else's
    list-looking file gets "only officials send lists"; any other file of theirs is not this
    flow's (None: the citizens' reply to a non-text message answers). Nothing is fetched
    unless the role allows an import and the announced size is within ``MAX_FILE_BYTES``;
    lists over ``CHAT_MAX_ROWS`` rows are refused (the answer points to the command line).
    """
    event = turn.event
    if not isinstance(event, DocumentIn):
        return None
    actor = turn.actor
    if actor.role not in IMPORT_ROLES:
        if event.filename.lower().strip().endswith(_LIST_EXTENSIONS):
            return [Reply(t(texts.IMPORT_STAFF_ONLY))]
        return None
    too_large = [Reply(texts.file_error_text(FileProblem.TOO_LARGE))]
    if event.size is not None and event.size > MAX_FILE_BYTES:
        return too_large
    name = (event.filename.strip() or "danh_sach")[:_MAX_NAME]
    data = await event.fetch()
    if len(data) > MAX_FILE_BYTES:  # a channel that announced no size (or a wrong one)
        return too_large
    services = turn.services
    scope = None if actor.scope_code is None else await services.access.scope_codes(actor)
    try:
        result = await services.cards.import_list(
            data, name, scope, source=f"{turn.channel}:{name}", max_rows=CHAT_MAX_ROWS
        )
    except CardFileError as exc:
        return [Reply(texts.file_error_text(exc.problem, exc.missing, exc.limit))]
    return [Reply(texts.import_report_text(name, result))]


FLOW = Flow(
    "cards",
    commands={"hethan": hethan, "dunglai": dunglai, "nhac": nhac, "danhsach": danhsach},
    buttons={"rc:": on_button},
    on_phone=on_phone,
    on_document=on_document,
)
