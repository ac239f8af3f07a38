"""The Zalo webhook under an open-loop load: `./dev bench zalo-webhook`.

Signed `user_send_text` events (a citizen's cost question each, from distinct people) are POSTed
at a fixed rate (default 30 a second for 20 s, whatever the bot does) to the product as
operators run it: `python -m bot run` in a process of its own, Zalo only, its HTTP server on a
free port, SQLite in a temporary directory, every setting at its production default. Zalo is the
emulator in this process (as Zalo runs on its own servers), with a 60 ms round trip on every API
call and no per-second send limit of its own (Zalo publishes none), so the figure is the bot's.

Reported:
- the webhook's answer latency, from the POST to its HTTP 200 (the event stored in the inbox,
  nothing else done: Zalo wants that within about 2 s), p50/p99/max;
- end to end, from the POST to the answer reaching the person's emulated Zalo inbox (the worker
  claimed the event, ran the conversation and sent the reply), p50/p99/max, and how long after
  the first POST every event had been answered.

A few questions are answered first and not counted (the first send fetches the OA token). The
answer latency on a kept-alive connection is ~40 ms while the bot's own handling takes a few:
Nagle's algorithm on the server's sockets meets the client's delayed ACK, because
handlers/http/app.py `serving` does not set TCP_NODELAY (with it set: ~4 ms; see the README).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx

from bench.common import NETWORK_DELAY, ROOT, Instrument, machine, report
from devtools.zalo import EmulatedZaloUser, ZaloEmulator, ZaloLimits

RATE = 30.0  # events offered a second
SECONDS = 20.0
WARM_UP = 5  # questions answered before the clock starts (not counted)
QUESTIONS = (
    "bhyt hộ gia đình 3 người 12 tháng",
    "bhxh tự nguyện 2tr 12 tháng",
    "bhyt ho gia dinh 2 nguoi 6 thang",
    "bhxh tu nguyen 1tr5 hang thang",
    "bhyt hgd 4 người 12 tháng",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(emulator: ZaloEmulator, db: Path, refresh_token: str, port: int) -> dict[str, str]:
    """What an operator puts in the environment for a Zalo-only bot (here: at the emulator)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_PATH=str(db),
        ZALO_APP_ID=emulator.app_id,
        ZALO_APP_SECRET=emulator.app_secret,
        ZALO_OA_SECRET_KEY=emulator.oa_secret_key,
        ZALO_REFRESH_TOKEN=refresh_token,
        ZALO_API_BASE_URL=emulator.api_base_url,
        ZALO_OAUTH_BASE_URL=emulator.oauth_base_url,
        ZALO_ZNS_BASE_URL=emulator.zns_base_url,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    return env


async def _wait_healthy(base_url: str, bot: asyncio.subprocess.Process, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient() as http:
        while loop.time() < deadline:
            if bot.returncode is not None:
                raise RuntimeError(f"the bot exited with {bot.returncode} while starting")
            try:
                if (await http.get(f"{base_url}/healthz", timeout=1.0)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the bot's HTTP server did not come up")


def _percentiles(values: list[float]) -> dict[str, str]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50_ms": f"{at(0.50) * 1000:.0f}", "p99_ms": f"{at(0.99) * 1000:.0f}", "max_ms": f"{ordered[-1] * 1000:.0f}"}


async def measure(rate: float = RATE, seconds: float = SECONDS) -> None:
    """Offer `rate` events a second for `seconds` to the bot in its own process; wait until
    every one is answered; report both latencies."""
    emulator = ZaloEmulator(limits=replace(ZaloLimits(), latency=NETWORK_DELAY, send_per_second=None,
                                           upload_per_second=None, receipt_delay=None))
    await emulator.start()
    total = int(rate * seconds)
    people: list[EmulatedZaloUser] = [emulator.add_user(f"Người {i}") for i in range(total)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-zalo-") as tmp:
            port = _free_port()
            env = _environment(emulator, Path(tmp) / "bot.sqlite3", emulator.issue_tokens().refresh_token, port)
            base_url = f"http://127.0.0.1:{port}"
            emulator.webhook_url = f"{base_url}/zalo/webhook"
            with open(Path(tmp) / "bot.log", "wb") as log:
                bot = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", cwd=tmp, env=env, stdout=log, stderr=log,
                )
                try:
                    await _wait_healthy(base_url, bot)
                    await _warm_up(emulator)
                    await _offer(emulator, people, rate, seconds)
                finally:
                    if bot.returncode is None:
                        bot.terminate()
                    code = await bot.wait()
            tail = (Path(tmp) / "bot.log").read_text(encoding="utf-8", errors="replace")[-1500:]
        if code != 0:
            print(f"the bot exited with {code}:\n{tail}", flush=True)
    finally:
        await emulator.stop()


async def _warm_up(emulator: ZaloEmulator, count: int = WARM_UP) -> None:
    """A few questions answered before measuring: the first send fetches the OA access token
    and the first answers load the rate tables, once per process, not per event."""
    for i in range(count):
        person = emulator.add_user(f"Khởi động {i}")
        await person.say(QUESTIONS[i % len(QUESTIONS)])
        await person.replies(timeout=30)
    emulator.oa.delivered.clear()


async def _offer(emulator: ZaloEmulator, people: list[EmulatedZaloUser], rate: float, seconds: float) -> None:
    total = len(people)
    loop = asyncio.get_running_loop()
    posted_at: list[datetime] = []
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def post(person: EmulatedZaloUser, text: str) -> None:
        before = loop.time()
        answer = await person.say(text)
        latencies.append(loop.time() - before)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1

    async with Instrument() as instrument:
        tasks: list[asyncio.Task[None]] = []
        start = loop.time()
        for i, person in enumerate(people):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            posted_at.append(emulator.clock.now())
            tasks.append(asyncio.ensure_future(post(person, QUESTIONS[i % len(QUESTIONS)])))
        offered_for = loop.time() - start
        await asyncio.gather(*tasks)
        await emulator.wait_until(lambda: all(p.state.inbox for p in people), timeout=seconds * 6 + 60)
        pauses = len(instrument.pauses)
    answered = [p.state.inbox[0].at for p in people]
    end_to_end = [(a - p).total_seconds() for a, p in zip(answered, posted_at, strict=True)]
    all_answered = (max(answered) - posted_at[0]).total_seconds()
    drained = (max(answered) - posted_at[-1]).total_seconds()
    report(
        f"Zalo webhook, open loop {rate:.0f} events/s for {seconds:.0f} s, distinct people, "
        f"`python -m bot run` (production settings), emulator 60 ms round trip",
        events=total,
        offered_per_s=f"{total / offered_for:.1f}",
        http_status=statuses,
        **{f"answer_{k}": v for k, v in _percentiles(latencies).items()},
        **{f"e2e_{k}": v for k, v in _percentiles(end_to_end).items()},
        all_answered_after_s=f"{all_answered:.1f}",
        last_answer_after_last_post_ms=f"{drained * 1000:.0f}",
        oa_messages=len(emulator.oa.delivered),
        rejected=len(emulator.rejected),
        instrument_pauses_over_20ms=pauses,
    )


def run() -> None:
    asyncio.run(measure())


if __name__ == "__main__":
    print(f"machine: {machine()}", flush=True)
    run()
