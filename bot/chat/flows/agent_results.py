"""Agents' entries and results: /huy with its "eh:" buttons, /huyghi, /toi, /nhom,
/bangxephang, /thidua and the monthly form /xuat.

Each command checks who asks first (agent_access): citizens see no unit data at all, members
see their unit's subtree, an admin without a unit sees the whole tree. Leaderboards carry no
participant codes, and agents of other units are masked (bot.chat.texts.enrolment).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import date

from bot.chat.flow import Turn
from bot.chat.flows.agent_access import NOT_MEMBER, is_citizen, logging_member, not_a_logger
from bot.chat.flows.agent_log import drop_draft, open_draft
from bot.chat.model import Button, File, Out, Reply
from bot.chat.rich import t
from bot.chat.texts import enrolment as texts
from bot.domain.coverage import Measure
from bot.domain.enrolment import InputError, validate_reason
from bot.parsing.numbers import parse_bounded_int, parse_id
from bot.reports.monthly_xlsx import build_workbook, report_filename
from bot.services.enrolment import NotAllowed
from bot.services.tallies import Period

_MONTH_ARG = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{4})$", re.ASCII)


# --- /huy: withdraw one's own last entry (or drop the open /ghi draft) ----------------------------


async def huy(turn: Turn) -> Sequence[Out]:
    """With a /ghi draft open, /huy drops the draft (nothing was stored yet); otherwise it
    offers to withdraw the sender's last entry of the past 24 hours."""
    if await open_draft(turn) is not None:
        await drop_draft(turn)
        return [Reply(texts.DRAFT_DROPPED)]
    member = logging_member(turn)
    if member is None:
        return [not_a_logger(turn)]
    entry = await turn.services.enrolments.withdrawable(member)
    if entry is None:
        return [Reply(texts.NOTHING_TO_WITHDRAW)]
    buttons = ((
        Button(texts.BUTTON_WITHDRAW, payload=f"eh:w:{entry.id}"),
        Button(texts.BUTTON_KEEP, payload="eh:k"),
    ),)
    return [Reply(texts.withdraw_question(entry), buttons=buttons)]


async def on_withdraw_button(turn: Turn) -> Sequence[Out]:
    """"eh:w:<id>" withdraws that entry if it is the sender's own and recent; "eh:k" keeps it.
    Anything else (forged, too old, someone else's) changes nothing."""
    parts = turn.payload.split(":")
    if parts == ["eh", "k"]:
        return [Reply(texts.WITHDRAW_KEPT, replace_pressed=True)]
    entry_id = parse_id(parts[2]) if len(parts) == 3 and parts[1] == "w" else None
    if entry_id is None:
        return [Reply(texts.EXPIRED_BUTTON)]
    member = logging_member(turn)
    if member is None:
        return [not_a_logger(turn)]
    services = turn.services
    entry = await services.enrolments.withdraw(member, entry_id)
    if entry is None:
        return [Reply(texts.WITHDRAW_TOO_LATE)]
    period = Period.month_of(turn.today)
    counts = await services.tallies.agent_counts(member.id, period)
    return [Reply(texts.withdrawn_text(entry, counts, period.start.month), replace_pressed=True)]


# --- /huyghi: an official voids an entry --------------------------------------------------------------


async def huyghi(turn: Turn) -> Sequence[Out]:
    if is_citizen(turn):
        return [NOT_MEMBER]
    args = turn.args
    entry_id = parse_id(args[0].removeprefix("#")) if args else None
    if len(args) < 2 or entry_id is None:
        return [Reply(texts.VOID_USAGE)]
    try:
        reason = validate_reason(" ".join(args[1:]))
    except InputError as problem:
        return [Reply(t(texts.error_text(problem), "\n", texts.VOID_USAGE))]
    outcome = await turn.services.enrolments.void(turn.actor, entry_id, reason)
    if isinstance(outcome, NotAllowed):
        return [Reply(texts.void_refused(outcome.key, entry_id))]
    return [Reply(texts.voided_text(outcome.enrolment, outcome.unit_name, reason))]


# --- tallies ---------------------------------------------------------------------------------


async def toi(turn: Turn) -> Sequence[Out]:
    member = logging_member(turn)
    if member is None:
        return [not_a_logger(turn)]
    services = turn.services
    results = await services.tallies.my_results(member, turn.today)
    unit_name = await services.enrolments.unit_name(member.unit_code)
    return [Reply(texts.my_results_text(results, unit_name))]


async def nhom(turn: Turn) -> Sequence[Out]:
    member = logging_member(turn)
    if member is None:
        return [not_a_logger(turn)]
    results = await turn.services.tallies.team_results(member, turn.today)
    if results is None:
        return [Reply(texts.NO_TEAM)]
    return [Reply(texts.team_results_text(results))]


async def _unit_arg(turn: Turn, raw: str) -> str:
    """A unit code typed as an argument, in any case (``cl01`` is CL01), as /baocao reads it:
    the code as typed when such a unit exists, else upper-cased."""
    code = raw.strip()[:64]
    if await turn.services.units.get(code) is None:
        return code.upper()
    return code


async def _scope(turn: Turn) -> tuple[list[str] | None, str, str | None] | Reply:
    """The units the sender asks about (codes, label, root): their scope, or a unit in it named
    as an argument; a refusal when that unit is outside it. An admin without a unit sees the
    whole tree (codes None, root None)."""
    services = turn.services
    actor = turn.actor
    if turn.args:
        code = await _unit_arg(turn, turn.args[0])
        if not await services.access.can_see(actor, code):
            return Reply(texts.UNIT_NOT_FOUND)
        return await services.units.subtree_codes(code), await services.enrolments.unit_name(code), code
    if actor.scope_code is None:
        return None, texts.ALL_UNITS, None
    scope = await services.access.scope_codes(actor)
    return scope, await services.enrolments.unit_name(actor.scope_code), actor.scope_code


async def bangxephang(turn: Turn) -> Sequence[Out]:
    if is_citizen(turn):
        return [NOT_MEMBER]
    found = await _scope(turn)
    if isinstance(found, Reply):
        return [found]
    scope, name, root = found
    services = turn.services
    actor = turn.actor
    period = Period.month_of(turn.today)
    units = await services.tallies.unit_ranking(scope, period)
    agents = await services.tallies.leaders(scope, period, limit=10)
    coverage = {
        row.code: row.figures[Measure.BHYT]
        for row in await services.organisation.coverage_rows(root)
        if Measure.BHYT in row.figures and row.figures[Measure.BHYT].coverage is not None
    }
    viewer = actor.member.unit_code if actor.member else None
    text = texts.leaderboard_text(name, period, units, agents, viewer, reveal_all=actor.is_admin, coverage=coverage)
    return [Reply(text)]


async def thidua(turn: Turn) -> Sequence[Out]:
    if is_citizen(turn):
        return [NOT_MEMBER]
    found = await _scope(turn)
    if isinstance(found, Reply):
        return [found]
    scope, name, _ = found
    services = turn.services
    campaign = services.tallies.campaign_on(turn.today)
    period = Period.of_campaign(campaign) if campaign else Period.month_of(turn.today)
    rows = await services.tallies.competition(scope, period)
    return [Reply(texts.competition_text(name, period, rows))]


# --- /xuat: the monthly form ------------------------------------------------------------------------


def _month_arg(raw: str, default: date) -> date | None:
    """"11/2026" (or 11.2026, 11-2026) as the first day of that month; None when unreadable."""
    m = _MONTH_ARG.match(raw.strip()[:16])
    number = parse_bounded_int(m.group(1), max_digits=2, lo=1, hi=12) if m else None
    year = parse_bounded_int(m.group(2), max_digits=4, lo=2000, hi=2100) if m else None
    if number is None or year is None:
        return None
    return default.replace(year=year, month=number)


async def xuat(turn: Turn) -> Sequence[Out]:
    """Phụ lục 02 for a month as an XLSX file: team leaders their team, officials their unit."""
    if is_citizen(turn):
        return [NOT_MEMBER]
    services = turn.services
    args = turn.args
    month: date | None = turn.today.replace(day=1)
    if args:
        month = _month_arg(args[0], turn.today.replace(day=1))
        if month is None:
            return [Reply(texts.EXPORT_USAGE)]
    assert month is not None
    unit_code = await _unit_arg(turn, args[1]) if len(args) > 1 else None
    report = await services.enrolments.monthly_report(turn.actor, month, unit_code)
    if isinstance(report, NotAllowed):
        return [Reply(texts.export_refused(report.key, month))]
    if not report.rows:
        return [Reply(texts.export_empty(month, report.scope_label))]
    # openpyxl takes a while for a big month: build off the event loop, from plain rows.
    content = await asyncio.to_thread(
        build_workbook, report.rows, month, report.scope_label, turn.today, report.mask_codes
    )
    caption = texts.export_caption(month, report.scope_label, len(report.rows), report.mask_codes)
    workbook = File(report_filename(month, report.scope_label), content, "xlsx", caption=caption)
    return [Reply(t(), files=(workbook,))]
