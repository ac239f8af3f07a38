"""ZNS sends a second through the product's client: `./dev bench zns-send`.

`handlers/zalo/zns_client.ZNSClient.send_template` (with the real token manager and its SQLite
token store) sends one approved template to each of `COUNT` distinct phone numbers, at most
`REMINDER_CONCURRENCY` requests at a time (the reminder fan-out's setting, default 8: the
product's concurrency for sending reminders), against the emulator's `POST /message/template`
behind a 60 ms round trip, inside the allowed hours and with a daily quota that does not run
out. Delivery receipts are held back (the figure is the send path alone). The emulator runs in a
process of its own, as Zalo does, so its work does not slow the client's event loop. Also
measured one at a time, for reference: a round trip per send.

The bound is concurrency ÷ round trip (8 ÷ 60 ms ≈ 133/s); what is reported is how close the
client comes to it, every send accepted once.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.common import NETWORK_DELAY, machine, peak_rss_mib, report, timed
from bot.domain.clock import ManualClock
from bot.settings import Settings
from devtools.zalo import ZaloEmulator, ZaloLimits
from handlers.zalo.tokens import TokenManager
from handlers.zalo.zns_client import ZNSClient, ZnsSent
from storage.sqlite.db import Database
from storage.sqlite.zalo_tokens import SqliteTokenStore

COUNT = 2000
SERIAL_COUNT = 100
MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # allowed hours
TEMPLATE = "bench-reminder"
PARAMS = ("customer_name", "card_code", "expiry_date", "amount")


def _phones(count: int, offset: int = 0) -> list[str]:
    """Distinct Vietnamese mobile numbers as lists carry them (0 + 9 digits)."""
    return [f"09{12_000_000 + offset + i:08d}" for i in range(count)]


def _data(i: int) -> dict[str, str]:
    return {
        "customer_name": f"Nguyễn Văn {i}",
        "card_code": f"GD48484{i:08d}",
        "expiry_date": "18/09/2026",
        "amount": "1.366.200",
    }


async def _send_all(client: ZNSClient, phones: list[str], concurrency: int) -> tuple[float, int]:
    """Send to every phone, `concurrency` at a time; (seconds, accepted)."""
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in enumerate(phones):
        queue.put_nowait(item)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        while not queue.empty():
            i, phone = queue.get_nowait()
            outcome = await client.send_template(phone, TEMPLATE, _data(i), tracking_id=f"bench-{phone}")
            if isinstance(outcome, ZnsSent):
                accepted += 1

    with timed() as t:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return t.seconds, accepted


async def serve_emulator(count: int) -> None:
    """The emulator's side, in a process of its own (as Zalo runs on its own servers, so its work
    does not slow the client's event loop): prints its base URL and the refresh token, serves
    until stdin closes, then prints how many sends it accepted."""
    import sys

    clock = ManualClock(MORNING)
    limits = replace(
        ZaloLimits(), latency=NETWORK_DELAY, zns_daily_quota=10 * count, zns_per_second=None, receipt_delay=None
    )
    emulator = ZaloEmulator(clock=clock, limits=limits)
    await emulator.start()
    emulator.zns.any_phone_bound = True
    emulator.add_template(TEMPLATE, PARAMS)
    pair = emulator.issue_tokens()
    print(emulator.oauth_base_url, emulator.zns_base_url, pair.refresh_token, emulator.app_id, emulator.app_secret, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    print(len(emulator.zns.sent), emulator.requests["access_token"], len(emulator.rejected), flush=True)
    await emulator.stop()


async def measure(count: int = COUNT, serial_count: int = SERIAL_COUNT) -> None:
    import sys

    from bench.common import ROOT

    concurrency = Settings(_env_file=None).reminder_concurrency  # type: ignore[call-arg]
    zalo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_zalo_zns", "emulator", str(count + serial_count + 1),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    assert zalo.stdin is not None and zalo.stdout is not None
    oauth_url, zns_url, refresh_token, app_id, app_secret = (await zalo.stdout.readline()).decode().split()
    clock = ManualClock(MORNING)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-zns-") as tmp:
            db = Database(Path(tmp) / "bot.sqlite3")
            await db.connect()
            try:
                async with httpx.AsyncClient() as http:
                    tokens = TokenManager(
                        http, oauth_base_url=oauth_url, app_id=app_id, app_secret=app_secret, clock=clock,
                        store=SqliteTokenStore(db, app_id, clock, seed=refresh_token),
                        initial_refresh_token=refresh_token,
                    )
                    client = ZNSClient(http, zns_url, tokens)
                    await client.send_template(_phones(1, 9_000_000)[0], TEMPLATE, _data(0), "warm-up")
                    serial_s, serial_ok = await _send_all(client, _phones(serial_count, 5_000_000), 1)
                    seconds, accepted = await _send_all(client, _phones(count), concurrency)
            finally:
                await db.close()
    finally:
        zalo.stdin.close()
        counts = (await zalo.stdout.read()).decode().split()
        await zalo.wait()
    sent, refreshes, rejected = (int(n) for n in counts)
    bound = concurrency / NETWORK_DELAY
    report(
        f"ZNS sends through ZNSClient, {concurrency} at a time (REMINDER_CONCURRENCY), 60 ms round trip, "
        "emulator in its own process",
        sends=count,
        accepted=accepted,
        seconds=f"{seconds:.1f}",
        per_second=f"{accepted / seconds:.1f}",
        of_bound=f"{accepted / seconds / bound:.2f} of {bound:.0f}/s",
        one_at_a_time_per_second=f"{serial_ok / serial_s:.1f} ({serial_count} sends)",
        emulator_accepted=sent,
        token_refreshes=refreshes,
        rejected=rejected,
        peak_rss_mib=f"{peak_rss_mib():.0f}",
    )


def run() -> None:
    asyncio.run(measure())


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["emulator"]:
        asyncio.run(serve_emulator(int(sys.argv[2])))
    else:
        print(f"machine: {machine()}", flush=True)
        run()
