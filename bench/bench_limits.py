"""Telegram's limit as Telegram counts it, behind a real network: the two scenarios of issue 12.

The emulator counts 30 messages a second over *any* sliding second at the server (arrival
time, no slack) and 1 a second per chat, and puts a 60 ms round trip (plus 0-10 ms jitter each
way) in front of every request (bench/common.py: `telegram_limits`). The bot runs as in
production: its limiter at TELEGRAM_MAX_PER_SECOND=30 with the default safety margin.

1. A reminder fan-out to BENCH_FANOUT (default 5,000) people (bench/bench_reminders.py).
2. Free-text questions offered at twice the limit (60 a second) for BENCH_OFFER_SECONDS
   (default 30) by people who each ask every ~10 s (bench/bench_citizen_e2e.py).

Each reports the accepted messages' rate as a fraction of 30/s (first to last arrival), the
429s the emulator gave, the busiest sliding second and the most requests in flight at once.

`./dev bench limits`
"""

from __future__ import annotations

import asyncio
import os

from bench.bench_citizen_e2e import measure_offered
from bench.bench_reminders import bench_sending


def run() -> None:
    asyncio.run(bench_sending(int(os.environ.get("BENCH_FANOUT", "5000"))))
    asyncio.run(measure_offered(rate=60.0, seconds=float(os.environ.get("BENCH_OFFER_SECONDS", "30"))))


if __name__ == "__main__":
    run()
