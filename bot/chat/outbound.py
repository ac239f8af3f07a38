"""The messages the bot sends outside a conversation, as neutral `Reply` values.

The reminder outbox (scheduler/reminders.py) and the summary ledger (scheduler/summaries.py)
send these through a channel's `Sender`; they never build channel markup themselves. The words
come from bot.chat.texts (cards for the reminder, summaries for the captions) and the summary
renderer (bot.domain.summary); this module only puts them into replies.

Those texts are written as Telegram HTML today (b, i and code tags, escaped with `esc`). Until
they are rewritten as `Rich`, `rich_from_html` reads that small, fixed subset back into `Rich`
(any other tag is a programming error, raised here rather than sent); a text that already is
`Rich` passes through unchanged, so the builders keep working as the texts move over.
"""

from __future__ import annotations

from html.parser import HTMLParser

from bot.chat.model import File, Reply
from bot.chat.rich import Rich, Run, Style, t
from bot.chat.texts import cards as card_texts
from bot.chat.texts import summaries as summary_texts
from bot.domain.money import format_vnd
from bot.domain.rates import format_date
from bot.domain.zns import ZnsField, ZnsTemplate
from bot.services.cards import ReminderContent
from bot.services.summaries import SummaryPackage

__all__ = [
    "SUMMARY_PARTS",
    "as_rich",
    "reminder_reply",
    "rich_from_html",
    "summary_parts",
]

SUMMARY_PARTS = 3  # message, chart (PNG), workbook (XLSX): one ledger step each

_STYLE_OF_TAG = {"b": Style(bold=True), "i": Style(italic=True), "code": Style(code=True)}


class _RichReader(HTMLParser):
    """Collects runs from HTML made only of b/i/code tags and escaped text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[Run] = []
        self.open: list[str] = []

    def _style(self) -> Style:
        style = Style()
        for tag in self.open:
            style = style.merged(_STYLE_OF_TAG[tag])
        return style

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _STYLE_OF_TAG or attrs:
            raise ValueError(f"unsupported markup <{tag}> in an outbound text")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ValueError(f"unbalanced </{tag}> in an outbound text")
        self.open.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise ValueError(f"unsupported markup <{tag}/> in an outbound text")

    def handle_data(self, data: str) -> None:
        self.runs.append(Run(data, self._style()))


def rich_from_html(html: str) -> Rich:
    """Rich text from Telegram HTML limited to b, i and code (what bot.chat.texts writes).

    Guarantee: `to_html(rich_from_html(s))` shows the same text with the same styles as `s`,
    and `to_plain` gives the words without tags or entities. Raises ValueError for any other
    tag or an unbalanced one, so a malformed text fails where it is built, not at the channel.
    """
    reader = _RichReader()
    reader.feed(html)
    reader.close()
    if reader.open:
        raise ValueError(f"unclosed <{reader.open[-1]}> in an outbound text")
    return Rich(reader.runs)


def as_rich(text: str | Rich) -> Rich:
    """`text` as Rich: unchanged when it already is, read from the texts' HTML otherwise."""
    return text if isinstance(text, Rich) else rich_from_html(text)


def reminder_reply(content: ReminderContent) -> Reply:
    """A lapsed-card reminder: the text of bot.chat.texts.cards and its three buttons
    (another cost, "I renewed", stop reminders), the same on every channel."""
    return Reply(
        as_rich(card_texts.reminder_text(content)),
        buttons=card_texts.reminder_buttons(),
    )


def summary_parts(package: SummaryPackage) -> tuple[Reply | None, ...]:
    """An official's summary as `SUMMARY_PARTS` replies, sent one ledger step at a time: the
    message, the chart (None when it could not be drawn: the rest still goes out) and the
    workbook, each file with its caption."""
    chart: Reply | None = None
    if package.chart is not None:
        chart = Reply(
            t(),
            files=(File(package.chart_name, package.chart, "png",
                        as_rich(summary_texts.chart_caption(package.data))),),
        )
    workbook = Reply(
        t(),
        files=(File(package.workbook_name, package.workbook, "xlsx",
                    as_rich(summary_texts.workbook_caption(package.data))),),
    )
    return (Reply(as_rich(package.text)), chart, workbook)


def _masked_name(full_name: str) -> str:
    """"Nguyễn Thị Lan" -> "N. T. Lan": enough for the person to recognise, little for a
    stranger holding a recycled number."""
    words = full_name.split()
    if len(words) <= 1:
        return full_name
    return " ".join(f"{w[0]}." for w in words[:-1]) + " " + words[-1]


def zns_template_data(content: ReminderContent, template: ZnsTemplate) -> dict[str, str]:
    """The parameters of a ZNS reminder, each filled from the field zns_templates.toml names
    (Vietnamese values; Zalo refuses empty ones, so a missing figure becomes a dash)."""
    first = content.due[0].card
    total = sum(h.cost.total for h in content.households if h.cost is not None)
    pay = content.pay.pay_points or content.pay.unit_name or "-"
    values = {
        ZnsField.NAME: first.full_name,
        ZnsField.NAME_MASKED: _masked_name(first.full_name),
        ZnsField.BHXH_MASKED: "******" + first.bhxh_code[-4:],
        ZnsField.EXPIRY_DATE: format_date(min(v.card.valid_to for v in content.due)),
        ZnsField.AMOUNT: format_vnd(total) if total else "-",
        ZnsField.PEOPLE: str(len(content.due)),
        ZnsField.PAY_PLACE: pay[:90],  # Zalo: a table value holds 3-90 characters
    }
    return {name: values[field] for name, field in template.params.items()}
