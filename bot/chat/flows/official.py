"""Officials and team leaders: /tomtat (summary subscriptions) and /baocao (the summary now).

Channel-neutral: parse the arguments, call `SummaryService`, answer with
`bot.chat.texts.summaries`. Citizens and agents get a polite refusal; a unit outside the
sender's area gets the same answer as a unit that does not exist.

/baocao answers with three replies, in the order the evening round sends them: the summary
message, the chart (PNG) and the workbook (XLSX), each file with its caption. The summary text
and the captions are still Telegram HTML (bot.domain.summary renders it, and the scheduler
sends it as it is), so `_from_html` reads that fixed subset (b, i, code) back into Rich here.
When the neutral summary replies of bot.chat.outbound land, this flow should use them instead.
Building the package takes a few seconds for a province; only this person's own next messages
wait meanwhile (the adapters handle different people concurrently).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from html.parser import HTMLParser

from bot.chat.flow import Flow, Turn
from bot.chat.model import File, Out, Reply
from bot.chat.rich import Rich, Run, Style, t
from bot.chat.texts import summaries as texts
from bot.domain.roles import Role
from bot.logsafety import describe_exception
from bot.parsing.questions import normalize
from bot.services.access import Actor
from bot.services.summaries import CAN_SUMMARY, RefusalKey, SummaryPackage, SummaryRefusal, parse_report_args

__all__ = ["FLOW", "summary_replies"]

log = logging.getLogger(__name__)

_ON = {"bat", "on", "mo"}
_OFF = {"tat", "off", "dung", "ngung"}
_WEEK = {"tuan", "hang tuan", "week", "weekly"}
_STYLE_OF_TAG = {"b": Style(bold=True), "i": Style(italic=True), "code": Style(code=True)}


class _Reader(HTMLParser):
    """Runs from HTML made only of b/i/code tags and escaped text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[Run] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _STYLE_OF_TAG or attrs:
            raise ValueError(f"unsupported markup <{tag}> in a summary text")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ValueError(f"unbalanced </{tag}> in a summary text")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        style = Style()
        for tag in self.open:
            style = style.merged(_STYLE_OF_TAG[tag])
        self.runs.append(Run(data, style))


def _from_html(html: str) -> Rich:
    """Rich text from the summary's HTML (b, i, code and escaped text only). Raises ValueError
    for any other markup, so a malformed summary fails here and is answered as a failure."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    if reader.open:
        raise ValueError(f"unclosed <{reader.open[-1]}> in a summary text")
    return Rich(reader.runs)


def summary_replies(package: SummaryPackage) -> list[Out]:
    """The summary message, the chart (left out when it could not be drawn: the rest still
    goes) and the workbook, each file with the captions the evening round uses."""
    out: list[Out] = [Reply(_from_html(package.text))]
    if package.chart is not None:
        caption = _from_html(texts.chart_caption(package.data))
        out.append(Reply(t(), files=(File(package.chart_name, package.chart, "png", caption),)))
    caption = _from_html(texts.workbook_caption(package.data))
    out.append(Reply(t(), files=(File(package.workbook_name, package.workbook, "xlsx", caption),)))
    return out


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
        return summary_replies(result)
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
