"""Free-text questions answered per second end to end: emulator -> PTB Application -> reply.

Many people ask at once; each waits for the answer before asking again, as people do. Measured
twice: with the production rate limiter (Telegram allows a bot 30 messages a second, so that is
the ceiling) and without it, which shows the bot's own capacity on this machine.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bench.bench_engine import PHRASES
from bench.common import bot_on_emulator, peak_rss_mib, report, timed


async def _measure(users: int, questions: int, rate_limited: bool) -> None:
    async with bot_on_emulator(rate_limited, datetime(2026, 11, 23, 9, 0)) as (emulator, _app):
        people = [emulator.user(500_000 + i, first_name=f"U{i}") for i in range(users)]

        async def converse(index: int) -> None:
            person = people[index]
            for q in range(questions):
                reply = await person.ask(PHRASES[(index + q) % len(PHRASES)], timeout=120)
                assert "đ" in reply.plain_text

        with timed() as t:
            await asyncio.gather(*(converse(i) for i in range(users)))
        total = users * questions
        label = "with Telegram's 30/s limiter" if rate_limited else "no limiter (capacity)"
        report(
            f"free text end to end, {label}",
            questions=total,
            seconds=f"{t.seconds:.1f}",
            per_second=f"{total / t.seconds:,.1f}",
            peak_rss_mib=f"{peak_rss_mib():.0f}",
        )


def run(users: int = 100, questions: int = 5) -> None:
    asyncio.run(_measure(users, questions, rate_limited=False))
    asyncio.run(_measure(users, questions, rate_limited=True))


if __name__ == "__main__":
    run()
