"""Officials and team leaders: /tomtat (summary subscriptions) and /baocao (the summary now).

Channel-neutral: parse the arguments, call `SummaryService`, answer with
`bot.chat.texts.summaries`. Citizens and agents get a polite refusal; a unit outside the
sender's area gets the same answer as a unit that does not exist.

/baocao answers with the replies the evening round sends (bot.chat.outbound.summary_parts):
the summary message, the chart (PNG) and the workbook (XLSX), each file with its caption.
Building the package takes a few seconds for a province; only this person's own next messages
wait meanwhile (the adapters handle different people concurrently).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from bot.chat.flow import Flow, Turn
from bot.chat.model import Out, Reply
from bot.chat.outbound import summary_parts
from bot.chat.rich import Rich, t
from bot.chat.texts import summaries as texts
from bot.domain.roles import Role
from bot.logsafety import describe_exception
from bot.parsing.questions import normalize
from bot.services.access import Actor
from bot.services.summaries import CAN_SUMMARY, RefusalKey, SummaryRefusal, parse_report_args

__all__ = ["FLOW"]

log = logging.getLogger(__name__)

_ON = {"bat", "on", "mo"}
_OFF = {"tat", "off", "dung", "ngung"}
_WEEK = {"tuan", "hang tuan", "week", "weekly"}
def _say(text: Rich | str) -> list[Out]:
    return [Reply(text if isinstance(text, Rich) else t(text))]


def _refusal_for_role(actor: Actor) -> list[Out]:
    return _say(texts.NOT_FOR_AGENTS if actor.role == Role.AGENT else texts.NOT_FOR_CITIZENS)


async def tomtat(turn: Turn) -> Sequence[Out]:
    """/tomtat [tat|bat|tuan bat|tuan tat]: daily summary and weekly digest on or off."""
    actor = turn.actor
    if actor.role not in CAN_SUMMARY:
        return _refusal_for_role(actor)
    if actor.member is None:
        return _say(texts.ADMIN_WITHOUT_UNIT)
    service = turn.services.summaries
    at = turn.services.settings.summary_time
    words = normalize(" ".join(turn.args)[:100]).split()
    weekly = bool(words) and words[0] in _WEEK
    switch = words[1:] if weekly else words
    if len(switch) == 1 and (switch[0] in _ON or switch[0] in _OFF):
        on = switch[0] in _ON
        if weekly:
            await service.set_weekly(actor.member.id, on)
            return _say(texts.weekly_changed(on, at))
        await service.set_daily(actor.member.id, on)
        return _say(texts.daily_changed(on, at))
    return _say(texts.usage(await service.prefs(actor.member.id), at))


async def baocao(turn: Turn) -> Sequence[Out]:
    """/baocao [unit] [from to]: the summary, chart and workbook now."""
    actor = turn.actor
    if actor.role not in CAN_SUMMARY:
        return _refusal_for_role(actor)
    args = parse_report_args(" ".join(turn.args))
    if args.error == "too_long":
        return _say(texts.TOO_LONG)
    try:
        result = await turn.services.summaries.for_actor(actor, args)
        if isinstance(result, SummaryRefusal):
            return _say(_refusal_text(result, args.unit))
        return [part for part in summary_parts(result) if part is not None]
    except Exception:
        # Type and stack only: the message of an exception may quote what was typed.
        log.error("on-demand report failed: %s", describe_exception(sys.exc_info()[1]))
        return _say(texts.FAILED_TO_SEND)


def _refusal_text(refusal: SummaryRefusal, typed: str | None) -> Rich | str:
    if refusal.key is RefusalKey.UNIT:
        return texts.unit_not_found(typed or "")
    if refusal.key is RefusalKey.DATES:
        return texts.DATES
    if refusal.key is RefusalKey.NO_UNIT:
        return texts.NO_UNIT
    return texts.NOT_FOR_CITIZENS


FLOW = Flow("official", commands={"tomtat": tomtat, "baocao": baocao})
