"""Free-text questions answered per second end to end: emulator -> PTB Application -> reply.

Many people ask at once; each waits for the answer before asking again, as people do. Measured
twice: with the production rate limiter (Telegram allows a bot 30 messages a second, so that is
the ceiling) and without it, which shows the bot's own capacity on this machine.

`measure_offered` (run by `./dev bench limits`) is the other way round: questions arrive at a
fixed rate whatever the bot does (twice Telegram's limit), against an emulator that counts the
limit over any sliding second behind a 60 ms round trip; the bot must answer at the limit,
without a 429.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.bench_engine import PHRASES
from bench.common import (
    BENCH_TOKEN,
    TELEGRAM_LIMIT,
    Instrument,
    bot_on_emulator,
    limit_figures,
    peak_rss_mib,
    report,
    start_bot_process,
    telegram_limits,
    timed,
)
from devtools.telegram_emulator import BotApiEmulator, SentMessage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


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


async def measure_offered(rate: float, seconds: float, people: int = 600) -> None:
    """Questions offered at `rate` a second for `seconds` (open loop: one every 1/rate s, each
    person asking every people/rate s) to the production bot in its own process
    (bench/bot_process.py), behind Telegram's limits counted over any sliding second and a
    60 ms round trip; waits until every question is answered."""
    emulator = BotApiEmulator(token=BENCH_TOKEN, limits=telegram_limits())
    await emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-offered-") as tmp:
            persons = [emulator.user(600_000 + i, first_name=f"U{i}") for i in range(people)]
            ids = {p.id for p in persons}
            bot = await start_bot_process("serve", Path(tmp) / "bot.sqlite3", emulator, NOW)
            assert bot.stdout is not None and bot.stdin is not None
            ready = (await bot.stdout.readline()).decode().strip()
            await emulator.wait_until(lambda: emulator.polls_waiting > 0, timeout=30)
            instrument = Instrument()
            await instrument.__aenter__()
            total = int(rate * seconds)
            loop = asyncio.get_running_loop()
            asked: dict[int, list[float]] = {}
            start = loop.time()
            for i in range(total):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                person = persons[i % people]
                await person.say(PHRASES[i % len(PHRASES)])
                asked.setdefault(person.id, []).append(loop.time())
            offered_for = loop.time() - start

            def answers() -> list[SentMessage]:
                return [m for m in emulator.sent if m.method == "sendMessage" and m.chat_id in ids]

            await emulator.wait_until(lambda: len(answers()) >= total, timeout=seconds * 4 + 60)
            await instrument.__aexit__()
            bot.stdin.close()
            await bot.wait()
        waits: list[float] = []
        seen: dict[int, int] = {}
        for message in answers():
            k = seen.get(message.chat_id, 0)
            seen[message.chat_id] = k + 1
            if k < len(asked[message.chat_id]):
                waits.append(message.timestamp - asked[message.chat_id][k])
        waits.sort()
        report(
            f"free text offered at {rate / TELEGRAM_LIMIT:.0f}x the limit ({rate:.0f}/s for {seconds:.0f} s), "
            f"60 ms round trip, sliding-second limits (bot: {ready})",
            questions=total,
            offered_per_s=f"{total / offered_for:.1f}",
            answers=len(answers()),
            **limit_figures(emulator),
            wait_median_s=f"{waits[len(waits) // 2]:.1f}",
            wait_max_s=f"{waits[-1]:.1f}",
            **instrument.figures(emulator),
        )
    finally:
        await emulator.stop()


def run(users: int = 100, questions: int = 5) -> None:
    asyncio.run(_measure(users, questions, rate_limited=False))
    asyncio.run(_measure(users, questions, rate_limited=True))


if __name__ == "__main__":
    run()
