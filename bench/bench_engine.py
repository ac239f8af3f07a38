"""Cost-engine answers per second, and free text parsed + answered per second (no I/O)."""

from __future__ import annotations

import itertools
from datetime import date

from bench.common import report, timed
from bot.chat.cost import Answer, CostDialogue, draft_from_question
from bot.chat.rich import to_html
from bot.chat.texts import cost as replies
from bot.domain.campaigns import CampaignBook
from bot.domain.engine import quote_bhxh_voluntary, quote_bhyt_household, quote_bhyt_supported
from bot.domain.rates import RateBook
from bot.parsing import questions as textparse

PHRASES = [
    "bhyt hộ gia đình 3 người 12 tháng",
    "bhyt ho gia dinh 6 nguoi 6 thang",
    "dong bhxh tu nguyen muc 3,5tr ho can ngheo 12 thang",
    "bhxh tự nguyện 1,5 triệu người dân khác hằng tháng",
    "bhyt cận nghèo 12 tháng",
]


def run(n: int = 50_000) -> None:
    book = RateBook.load()
    days = [date(2024, 11, 5), date(2025, 3, 10), date(2026, 11, 23)]
    calls = itertools.cycle(
        [
            lambda d: quote_bhyt_household(book, d, members=3, months=12),
            lambda d: quote_bhyt_household(book, d, members=20, months=6),
            lambda d: quote_bhyt_supported(book, d, group="can_ngheo", months=12),
            lambda d: quote_bhxh_voluntary(book, d, income=5_000_000, group="can_ngheo", months=12),
        ]
    )
    with timed() as t:
        for i in range(n):
            next(calls)(days[i % 3])
    report("engine quotes", n=n, seconds=f"{t.seconds:.2f}", per_second=f"{n / t.seconds:,.0f}")

    dialogue = CostDialogue(book, CampaignBook.load(), replies.LABELS)
    today = date(2026, 11, 23)
    m = n // 5
    with timed() as t:
        for i in range(m):
            draft = draft_from_question(textparse.parse_question(PHRASES[i % len(PHRASES)]))
            outcome = dialogue.advance(draft, today)  # type: ignore[arg-type]
            assert isinstance(outcome, Answer)
            to_html(replies.answer_text(outcome))  # the message text Telegram is sent
    report("free text -> parsed, quoted, rendered (no I/O)", n=m, seconds=f"{t.seconds:.2f}", per_second=f"{m / t.seconds:,.0f}")


if __name__ == "__main__":
    run()
