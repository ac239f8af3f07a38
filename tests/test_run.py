"""`bhxh-bot run`: every configured channel in one process, on one set of services.

The real composition root (bot/cli/serve.py) against the Telegram emulator and the Zalo
emulator at once, over HTTP, on a real SQLite file: in-process (to reach the running parts) and
as the installed command in a subprocess (settings from the environment, SIGTERM).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.chat.model import ZALO_OA, Person, Reply
from bot.chat.rich import t
from bot.chat.texts.channels import ZALO_REAUTH_NEEDED
from bot.cli.serve import Running, serve, started
from bot.domain.clock import ManualClock
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator
from devtools.zalo import ZaloEmulator
from devtools.zalo.driver import EmulatedZaloUser
from scheduler.reminders import run_reminder_round
from tests.conftest import ADMIN_ID, TOKEN, TZ
from tests.reminder_support import link_people
from tests.test_cli import run_cli
from tests.zalo_world import FAST

QUESTION = "bhyt hộ gia đình 3 người 12 tháng bao nhiêu"
EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)  # inside the campaign and the allowed hours
ROOT = Path(__file__).resolve().parents[1]
ZALO_SETTINGS = ("ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_REFRESH_TOKEN", "PUBLIC_BASE_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def figures(text: str) -> list[str]:
    """The money amounts in an answer (headings differ by channel, figures must not)."""
    return re.findall(r"\d[\d.]*\s?đ", text)


@pytest.fixture
async def zalo() -> AsyncIterator[ZaloEmulator]:
    emu = ZaloEmulator(limits=replace(FAST))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def both_channels(emulator: BotApiEmulator, zalo: ZaloEmulator, db: Path, refresh_token: str) -> dict[str, str]:
    """The environment of a bot on Telegram and Zalo, each against its emulator."""
    port = free_port()
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.api_base_url,
        "ADMIN_TELEGRAM_IDS": str(ADMIN_ID),
        "DATABASE_PATH": str(db),
        "ZALO_APP_ID": zalo.app_id,
        "ZALO_APP_SECRET": zalo.app_secret,
        "ZALO_OA_SECRET_KEY": zalo.oa_secret_key,
        "ZALO_REFRESH_TOKEN": refresh_token,
        "ZALO_API_BASE_URL": zalo.api_base_url,
        "ZALO_OAUTH_BASE_URL": zalo.oauth_base_url,
        "ZALO_ZNS_BASE_URL": zalo.zns_base_url,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }


def settings_of(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {name.lower(): value for name, value in env.items()}
    values["admin_telegram_ids"] = (int(env["ADMIN_TELEGRAM_IDS"]),)
    values["scheduler_tick_seconds"] = 3600
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def zalo_answer(zalo: ZaloEmulator, user: EmulatedZaloUser, text: str, before: int) -> list[str]:
    """`user` says `text`; the texts the OA sent back (the process's worker answers on its own)."""
    await user.say(text)
    await zalo.wait_until(lambda: len([m for m in user.inbox if m.text]) > before, timeout=15)
    return [m.text for m in user.inbox if m.text][before:]


# ---------------------------------------------------------------------------------------------
# In-process: the composition root's running parts


@dataclass
class OneProcess:
    running: Running
    clock: ManualClock
    zalo: ZaloEmulator  # on the bot's calendar: its windows and token expiry follow `clock`


@pytest.fixture
async def bot(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[OneProcess]:
    clock = ManualClock(EVENING)
    zalo = ZaloEmulator(clock=clock, limits=replace(FAST))
    await zalo.start()
    try:
        env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
        async with started(settings_of(env), clock=clock) as running:
            assert running.http_base_url is not None
            zalo.webhook_url = f"{running.http_base_url}/zalo/webhook"
            yield OneProcess(running, clock, zalo)
    finally:
        await zalo.stop()


async def test_one_process_answers_a_telegram_and_a_zalo_citizen_on_one_set_of_services(
    bot: OneProcess, emulator: BotApiEmulator
) -> None:
    running, zalo = bot.running, bot.zalo
    assert running.channels == ["telegram", "zalo_oa"]
    assert running.telegram is not None and running.zalo is not None
    assert running.runner.running and running.runner.services is running.services
    assert running.runner.senders is running.senders  # the scheduler sends on every channel

    citizen = emulator.user(4242, first_name="An")
    await citizen.say(QUESTION)
    (on_telegram,) = await citizen.replies(timeout=15)
    on_zalo = await zalo_answer(zalo, zalo.add_user("Trần Thị Bình"), QUESTION, 0)
    assert figures(on_telegram.plain_text)
    assert figures(on_zalo[0]) == figures(on_telegram.plain_text)
    assert all(len(text) <= ZALO_OA.max_text for text in on_zalo)

    # One database: both people are users of the one conversation core.
    db = sqlite3.connect(running.services.storage.path)  # type: ignore[attr-defined]
    try:
        channels = {row[0] for row in db.execute("SELECT DISTINCT channel FROM chat_users")}
    finally:
        db.close()
    assert channels == {"telegram", "zalo_oa"}

    async with httpx.AsyncClient() as http:
        health = await http.get(f"{running.http_base_url}/healthz")
    assert (health.status_code, health.text) == (200, "ok")


async def test_a_reminder_round_reaches_a_zalo_follower_through_the_zalo_sender(
    bot: OneProcess,
) -> None:
    running, clock, zalo = bot.running, bot.clock, bot.zalo
    services = running.services
    follower = zalo.add_user("Lê Thị Cúc")
    await zalo_answer(zalo, follower, "xin chào", 0)  # she wrote to the OA: the window is open
    user_id = await services.storage.identities.user_id(ZALO_OA.name, follower.user_id, clock.now())
    await link_people(services.cards.repo, [user_id], clock.now(), channel=ZALO_OA.name)
    before = len(follower.inbox)

    report = await run_reminder_round(services, running.runner.senders)

    assert report.sent == 1 and report.sent_by_channel == {ZALO_OA.name: 1}
    reminder = [m for m in follower.inbox[before:] if m.text]
    assert reminder and "Gia hạn 12 tháng cho 1 người: 1.366.200 đ" in (reminder[0].text or "")
    titles = [b.title for m in follower.inbox[before:] for b in m.buttons]
    assert "Tôi đã gia hạn" in titles
    assert all(m.kind == "proactive" for m in follower.inbox[before:])  # not a reply to her message
    db = sqlite3.connect(services.storage.path)  # type: ignore[attr-defined]
    try:
        rows = db.execute("SELECT channel, status FROM reminder_outbox").fetchall()
    finally:
        db.close()
    assert rows == [(ZALO_OA.name, "sent")]
    # A second round sends nothing more: exactly one reminder.
    assert (await run_reminder_round(services, running.runner.senders)).sent == 0


async def test_the_zalo_sender_maps_a_closed_window_to_refused_and_an_unknown_person(
    bot: OneProcess,
) -> None:
    running, clock, zalo = bot.running, bot.clock, bot.zalo
    sender = running.senders[ZALO_OA.name]
    stranger = zalo.add_user("Người chưa nhắn")  # follows, never wrote: no window
    user_id = await running.services.storage.identities.user_id(ZALO_OA.name, stranger.user_id, clock.now())
    closed = await sender.send(Person(ZALO_OA.name, str(user_id)), Reply(t("Nhắc gia hạn")))
    assert type(closed).__name__ == "Refused" and "zalo" in closed.reason  # type: ignore[union-attr]
    assert stranger.inbox == []
    nobody = await sender.send(Person(ZALO_OA.name, "987654321"), Reply(t("Nhắc gia hạn")))
    assert type(nobody).__name__ == "Refused"


async def test_a_refused_zalo_refresh_token_tells_the_admin_on_telegram_and_telegram_keeps_running(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = "refresh-token-nobody-issued-0123456789"
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", dead)
    admin = emulator.user(ADMIN_ID, first_name="Quản trị")
    caplog.set_level(logging.INFO)
    async with started(settings_of(env)) as running:
        zalo.webhook_url = f"{running.http_base_url}/zalo/webhook"
        await zalo.add_user().say(QUESTION)  # the answer needs a token: the refresh is refused
        (notice,) = await admin.replies(timeout=15)
        assert notice.plain_text == ZALO_REAUTH_NEEDED
        assert running.zalo.tokens.reauthorisation_needed is not None
        citizen = emulator.user(4343, first_name="Hoa")
        await citizen.say(QUESTION)
        (answer,) = await citizen.replies(timeout=15)
        assert figures(answer.plain_text)
        assert running.notices == ["telegram"]
    assert "re-authorisation needed" in caplog.text and "Zalo channel stopped" in caplog.text
    assert dead not in caplog.text


async def test_an_instance_with_scheduled_work_off_answers_but_runs_no_rounds(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path
) -> None:
    """SCHEDULER_ENABLED=false: the second instance of a two-instance deployment (docs/DEPLOY.md)
    answers people and never starts the scheduler."""
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
    settings = settings_of(env).model_copy(update={"scheduler_enabled": False})
    async with started(settings) as running:
        assert not running.runner.running
        citizen = emulator.user(4545, first_name="Bình")
        await citizen.say(QUESTION)
        (answer,) = await citizen.replies(timeout=15)
        assert figures(answer.plain_text)


# ---------------------------------------------------------------------------------------------
# The command, in a subprocess


def test_with_no_channel_configured_run_names_each_channels_settings(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    telegram, zalo = lines
    assert telegram.startswith("bhxh-bot: error: Telegram") and "TELEGRAM_BOT_TOKEN" in telegram
    assert zalo.startswith("bhxh-bot: error: Zalo")
    assert all(name in zalo for name in ZALO_SETTINGS)
    assert "Traceback" not in result.stderr


def test_zalo_settings_alone_without_a_public_address_name_it(tmp_path: Path) -> None:
    env = {"ZALO_APP_ID": "1", "ZALO_APP_SECRET": "s", "ZALO_OA_SECRET_KEY": "k", "DATABASE_PATH": str(tmp_path / "b.db")}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PUBLIC_BASE_URL" in lines[0], result.stderr


async def test_the_command_answers_both_channels_then_exits_cleanly_on_sigterm(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path
) -> None:
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env={**base, "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        zalo.webhook_url = f"{env['PUBLIC_BASE_URL']}/zalo/webhook"
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"{env['PUBLIC_BASE_URL']}/healthz")).text == "ok":
                        break
                except httpx.TransportError:
                    pass
                assert process.returncode is None, "the bot exited while starting"
                await asyncio.sleep(0.1)
        citizen = emulator.user(5151, first_name="Minh")
        await citizen.say(QUESTION)
        (on_telegram,) = await citizen.replies(timeout=30)
        on_zalo = await zalo_answer(zalo, zalo.add_user(), QUESTION, 0)
        assert figures(on_zalo[0]) == figures(on_telegram.plain_text) != []
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = stderr.decode()
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "stopping" in text and "scheduler started" in text
    assert TOKEN.split(":")[1] not in text


async def test_a_token_telegram_refuses_mid_run_ends_the_run_and_closes_everything(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path
) -> None:
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
    seen: list[Running] = []

    async def revoke(running: Running) -> None:
        seen.append(running)
        citizen = emulator.user(6161, first_name="Lan")
        await citizen.say(QUESTION)
        await citizen.replies(timeout=15)
        emulator.token = "999999:revoked-by-botfather"  # the next getUpdates is refused (401)
        await citizen.say("xin chào")  # ends the long poll in progress

    answered = await asyncio.wait_for(
        serve(settings_of(env), handle_signals=False, on_ready=revoke), timeout=60
    )
    assert answered is False  # `run` then prints the one line naming TELEGRAM_BOT_TOKEN, exit 3
    (running,) = seen
    assert running.token_refused and not running.runner.running
    async with httpx.AsyncClient() as http:  # the other channels closed too: the HTTP server is gone
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{running.http_base_url}/healthz")


async def test_a_port_already_taken_stops_start_up_naming_the_setting(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.api_base_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "WEBHOOK_PORT": str(port),
        }
        result = await asyncio.to_thread(run_cli, "run", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith("bhxh-bot: error: WEBHOOK_PORT is invalid") and str(port) in lines[-1]
