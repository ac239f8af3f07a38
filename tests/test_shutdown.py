"""Graceful shutdown of `bhxh-bot run`, as the installed command in a subprocess (SIGTERM).

An update the webhook accepted and the bot is in the middle of answering when SIGTERM arrives is
finished before the process exits: answered once, its inbox row done (not left to a lease that
a restart would take over and answer again), exit code 0, and every log line a JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import httpx

from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import TOKEN
from tests.test_run import QUESTION, ROOT, free_port
from tests.test_telegram_webhook import webhook_env


async def wait_ready(base_url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"{base_url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert process.returncode is None, "the bot exited while starting"
            await asyncio.sleep(0.1)
    raise AssertionError("the bot never became ready")


async def test_sigterm_mid_answer_finishes_the_update_then_exits_cleanly(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    port = free_port()
    env = {**webhook_env(emulator, db, port), "LOG_FORMAT": "json", "SCHEDULER_TICK_SECONDS": "3600"}
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env={**base, "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        # From now on every answer from Telegram takes a second to come back: the bot is still
        # waiting for it when the emulator has recorded the message.
        emulator.limits = replace(emulator.limits, network_delay=2.0)
        citizen = emulator.user(9191, first_name="Thu")
        update_id = await citizen.say(QUESTION)
        await citizen.replies(timeout=30)  # recorded by "Telegram"; the bot has not heard back yet
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = stderr.decode()
    assert process.returncode == 0, text[-3000:]
    records = [json.loads(line) for line in text.splitlines()]  # LOG_FORMAT=json: every line
    messages = [r["message"] for r in records]
    assert "stopping" in messages and "Traceback" not in text
    assert not any("left to another worker" in m for m in messages)
    assert TOKEN.split(":")[1] not in text
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT event_key, state FROM inbox WHERE channel = 'telegram'").fetchall()
    finally:
        con.close()
    assert rows == [(str(update_id), "done")]  # finished, not left for a restart to answer again
    assert len(citizen.history()) == 1
