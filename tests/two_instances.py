"""Two `bhxh-bot run` processes on one PostgreSQL schema and one Telegram emulator.

Support for tests/test_two_instances.py (issue 10: two instances against one database, each of
which may die at any time). Each `Instance` is the bot as deployed in docs/DEPLOY.md: its own
process and port, webhook mode with the same public TELEGRAM_WEBHOOK_URL and secret as the other,
the same DATABASE_URL. The emulator stands in for Telegram and for the load balancer: in fan-out
mode (`BotApiEmulator.fan_out_webhook`) it posts every update to both instances' addresses.

Run as a module, this is the bot process:

    python -m tests.two_instances CLOCK_FILE

which is `bhxh-bot run` (bot.cli.cmd_run: settings from the environment, logging, `serve`) with
one difference: the injected clock is read from CLOCK_FILE (tests/reminder_worker.FileClock), so
a test decides what time it is for both processes (17:00 for the summaries, inside the reminder
hours) and may move it while they run. Rate limits and ticks stay on wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from devtools.telegram_emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TEST-token-for-the-local-emulator"
SECRET = "two-instances-secret-" + "y" * 16
# What both instances register with setWebhook (docs/DEPLOY.md: one public address in front of
# both); the emulator delivers to each instance's own port instead (fan-out).
PUBLIC_WEBHOOK_URL = "https://bot.two-instances.invalid/telegram/webhook"
READY_TIMEOUT = 60.0
#: The scheduling priority (nice value) the instances run at: the test process's own at import.
INSTANCE_NICENESS = os.getpriority(os.PRIO_PROCESS, 0)
#: How much higher the emulator's process runs while it measures (`emulator_ahead`).
EMULATOR_BOOST = 10


@contextlib.contextmanager
def emulator_ahead() -> Iterator[bool]:
    """Run this process (the emulator's: it stands for Telegram's servers) ahead of the instances
    for the CPU while the block runs; yields whether it could (root may, others may not).

    Why: the emulator counts Telegram's limits at a request's arrival, stamped when its event
    loop reads the request. Telegram's servers do not share our 2 cores; the emulator does, and
    on a loaded machine its loop waited up to 1 s for the CPU (measured during the 5,000-person
    fan-out with other work running: every second over the limit began with 5-8 requests
    stamped within 1 ms of each other right after such a wait, the instances' sends before it
    evenly spaced). Such stamps measure our machine, not the bot. The instances keep
    `INSTANCE_NICENESS` (`Instance.start`), so they compete for the CPU as before."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, INSTANCE_NICENESS - EMULATOR_BOOST)
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, INSTANCE_NICENESS)


@dataclass(frozen=True)
class Rates:
    """Telegram's limits, scaled by `speed` for the emulator and the bot alike: `per_second`
    messages a second overall, one per chat every `chat_interval` seconds. speed=1 is Telegram."""

    speed: float = 1.0

    @property
    def per_second(self) -> int:
        return round(30 * self.speed)

    @property
    def chat_interval(self) -> float:
        return 1.0 / self.speed


def instance_env(
    *,
    emulator: BotApiEmulator,
    database_url: str,
    port: int,
    data_dir: Path,
    rates: Rates,
    tick_seconds: float,
    safety_margin: float = 0.1,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one instance (the settings docs/DEPLOY.md gives each of the two)."""
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.api_base_url,
        "DATABASE_URL": database_url,
        "DATABASE_PATH": str(data_dir / "unused.sqlite3"),  # the files directory sits beside it
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_URL": PUBLIC_WEBHOOK_URL,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "SCHEDULER_ENABLED": "true",
        "SCHEDULER_TICK_SECONDS": str(tick_seconds),
        "TELEGRAM_MAX_PER_SECOND": str(rates.per_second),
        "TELEGRAM_CHAT_INTERVAL_SECONDS": str(rates.chat_interval),
        "TELEGRAM_SAFETY_MARGIN": str(safety_margin),
        "LOG_LEVEL": "INFO",
    }
    env.update(extra or {})
    return env


@dataclass
class Instance:
    """One bot process (`python -m tests.two_instances CLOCK_FILE`), its log in a file (a pipe
    nobody reads would fill up and stall the process)."""

    name: str
    env: dict[str, str]
    clock_file: Path
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    _logs: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.env["WEBHOOK_PORT"])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/telegram/webhook"

    async def start(self) -> None:
        """Start the process (again, after a stop or a kill); returns once it is ready."""
        assert self.process is None or self.process.returncode is not None, f"{self.name} is running"
        self.starts += 1
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed right after
        try:
            log.write(f"---- {self.name}: start {self.starts}\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.two_instances", str(self.clock_file),
                env={**base, "PYTHONPATH": str(ROOT), **self.env},
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        with contextlib.suppress(ProcessLookupError):  # not the emulator's priority (emulator_ahead)
            os.setpriority(os.PRIO_PROCESS, self.process.pid, INSTANCE_NICENESS)
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Until GET /readyz answers 200 (database and Telegram reachable)."""
        assert self.process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        async with httpx.AsyncClient() as http:
            while loop.time() < deadline:
                try:
                    if (await http.get(f"{self.base_url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.process.returncode is None, f"{self.name} exited while starting:\n{self.log_tail()}"
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} never became ready:\n{self.log_tail()}")

    async def kill(self) -> None:
        """SIGKILL: the process dies at once, whatever it was doing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait for the exit (graceful shutdown); SIGKILL when it does not end."""
        process = self.process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
        return process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]


def write_clock(clock_file: Path, moment: datetime) -> None:
    """Set the time both instances read (tests/reminder_worker.FileClock re-reads on change)."""
    clock_file.write_text(moment.isoformat(), encoding="utf-8")


def per_chat(emulator: BotApiEmulator, methods: tuple[str, ...], marker: str | None = None) -> Counter[int]:
    """How many messages of `methods` each chat received (containing `marker` in a button, when given)."""
    return Counter(
        m.chat_id for m in emulator.sent
        if m.method in methods and (marker is None or marker in m.button_texts)
    )


class ChatTally:
    """`per_chat`, counted as messages come: each call reads only what was sent since the one
    before (the fan-out test asks twenty times a second over up to 5,000 messages; counting them
    all each time kept the emulator's event loop busy for tens of milliseconds, which delays the
    stamping of arriving requests). Returns the same, updated Counter each time."""

    def __init__(self, emulator: BotApiEmulator, methods: tuple[str, ...], marker: str | None = None) -> None:
        self.emulator = emulator
        self.methods = methods
        self.marker = marker
        self._read = 0
        self._counts: Counter[int] = Counter()

    def __call__(self) -> Counter[int]:
        sent = self.emulator.sent
        for m in sent[self._read:]:
            if m.method in self.methods and (self.marker is None or self.marker in m.button_texts):
                self._counts[m.chat_id] += 1
        self._read = len(sent)
        return self._counts


async def eventually(
    condition: object, timeout: float, what: str, step: float = 0.1, broken: Callable[[], str | None] | None = None
) -> None:
    """Wait until `condition()` (sync or async) holds, failing after `timeout` seconds, or at
    once when `broken()` names a failure already certain (no waiting out the timeout for it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()  # type: ignore[operator]
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        failure = broken() if broken is not None else None
        if failure:
            raise AssertionError(f"{what}: {failure}")
        if loop.time() >= deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s")
        await asyncio.sleep(step)


async def _serve(clock_file: Path) -> int:
    """`bhxh-bot run` with the file clock (see the module docstring)."""
    from bot.cli import EXIT_CONFIG, EXIT_TOKEN_REFUSED, configure_logging
    from bot.cli.serve import serve
    from bot.settings import SettingsError, load_settings
    from tests.reminder_worker import FileClock

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"two_instances: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    try:
        answered = await serve(settings, clock=FileClock(clock_file))
    except SettingsError as exc:
        print(f"two_instances: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0 if answered else EXIT_TOKEN_REFUSED


if __name__ == "__main__":
    sys.exit(asyncio.run(_serve(Path(sys.argv[1]))))
