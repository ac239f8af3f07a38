"""Telegram by webhook: `bhxh-bot run` with TELEGRAM_WEBHOOK_URL against the emulator over HTTP.

The real composition root (bot/cli/serve.py) registers the webhook with the emulator, which then
POSTs every update to `POST /telegram/webhook` on the bot's HTTP server with the secret header;
the route stores it in the inbox and the inbox worker hands it to the PTB Application. Real
SQLite file, real HTTP both ways, nothing of ours mocked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli.serve import Running, started
from bot.domain.clock import ManualClock
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator
from handlers.http.app import build_http_app, serving
from handlers.telegram.webhook import SECRET_HEADER, TelegramWebhook
from storage.sqlite.db import Database
from storage.sqlite.inbox import SqliteInbox
from tests.conftest import TOKEN, TZ
from tests.test_cli import run_cli
from tests.test_run import QUESTION, figures, free_port

EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)
SECRET = "webhook-secret-" + "x" * 20
LEASE = timedelta(minutes=2)


def webhook_env(emulator: BotApiEmulator, db: Path, port: int) -> dict[str, str]:
    """A Telegram-only bot that takes its updates by webhook on 127.0.0.1:`port`."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.api_base_url,
        "DATABASE_PATH": str(db),
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }


def settings_of(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {name.lower(): value for name, value in env.items()}
    values["scheduler_tick_seconds"] = 3600
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def inbox_rows(db: Path) -> list[tuple[str, str, str]]:
    """(event_key, person_id, state) of the Telegram rows of the inbox, read from the file."""
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT event_key, person_id, state FROM inbox WHERE channel = 'telegram' ORDER BY id"
        ).fetchall()
    finally:
        con.close()


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `condition()` holds (checked every 20 ms), failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@dataclass
class WebhookBot:
    running: Running
    url: str
    db: Path


@pytest.fixture
async def bot(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[WebhookBot]:
    port = free_port()
    env = webhook_env(emulator, tmp_path / "bot.sqlite3", port)
    async with started(settings_of(env), clock=ManualClock(EVENING)) as running:
        yield WebhookBot(running, env["TELEGRAM_WEBHOOK_URL"], tmp_path / "bot.sqlite3")


async def test_a_citizen_writing_by_webhook_is_answered_and_nothing_is_polled(
    bot: WebhookBot, emulator: BotApiEmulator
) -> None:
    assert emulator.webhook_url == bot.url and emulator.webhook_secret == SECRET
    citizen = emulator.user(7171, first_name="Hà")
    update_id = await citizen.say(QUESTION)
    (answer,) = await citizen.replies(timeout=15)
    assert figures(answer.plain_text)
    assert emulator.webhook_posts == [(update_id, 200)]
    assert emulator.requests["getUpdates"] == 0
    await eventually(lambda: inbox_rows(bot.db) == [(str(update_id), "7171", "done")])
    async with httpx.AsyncClient() as http:
        info = (await http.post(f"{emulator.api_base_url}/bot{TOKEN}/getWebhookInfo")).json()["result"]
    assert info["url"] == bot.url and info["pending_update_count"] == 0
    assert "message" in info["allowed_updates"] and "callback_query" in info["allowed_updates"]


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(bot: WebhookBot) -> None:
    update = {"update_id": 900001, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                                 "from": {"id": 5, "is_bot": False, "first_name": "X"}, "text": "hi"}}
    async with httpx.AsyncClient() as http:
        wrong = await http.post(bot.url, json=update, headers={SECRET_HEADER: "not-the-secret-at-all-000"})
        missing = await http.post(bot.url, json=update)
        near = await http.post(bot.url, json=update, headers={SECRET_HEADER: SECRET[:-1]})
    assert (wrong.status_code, missing.status_code, near.status_code) == (403, 401, 403)
    assert inbox_rows(bot.db) == []


async def test_the_same_update_posted_twice_is_answered_once(bot: WebhookBot, emulator: BotApiEmulator) -> None:
    citizen = emulator.user(7272, first_name="Long")
    first = await citizen.say(QUESTION)
    await citizen.replies(timeout=15)
    assert await emulator.post_again(first) == 200  # Telegram's retry, or a second instance's copy
    # The same person's next message is handled after anything of theirs before it: once it
    # is answered, a duplicate that had been stored would have been answered too.
    await citizen.say("xin chào")
    await citizen.replies(timeout=15)
    assert len(citizen.history()) == 2  # one answer to each message
    assert [row[0] for row in inbox_rows(bot.db)].count(str(first)) == 1


async def test_a_webhook_url_without_a_secret_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
    }
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_WEBHOOK_SECRET is missing" in lines[0], result.stderr
    short = run_cli("run", env={**env, "TELEGRAM_WEBHOOK_SECRET": "short"}, cwd=tmp_path)
    assert short.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET is invalid" in short.stderr


# ---------------------------------------------------------------------------------------------
# The route alone, on a real inbox


@pytest.fixture
async def route(tmp_path: Path, clock: ManualClock) -> AsyncIterator[tuple[str, SqliteInbox]]:
    db = Database(tmp_path / "inbox.sqlite3")
    await db.connect()
    inbox = SqliteInbox(db)
    webhook = TelegramWebhook(inbox, clock, secret=SECRET, max_body_bytes=4096)
    try:
        async with serving(build_http_app(webhook.routes())) as served:
            yield f"{served.base_url}/telegram/webhook", inbox
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"update_id": "7"}', 400),
        (b'{"update_id": 7, "message": {"text": "' + b"a" * 5000 + b'"}}', 413),
    ],
)
async def test_what_is_not_an_update_is_refused_before_the_inbox(
    route: tuple[str, SqliteInbox], body: bytes, status: int
) -> None:
    url, inbox = route
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, content=body, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == status
    assert sum((await inbox.counts("telegram")).values()) == 0


async def test_an_update_is_stored_under_its_id_for_its_sender(route: tuple[str, SqliteInbox], clock: ManualClock) -> None:
    url, inbox = route
    press = {"update_id": 41, "callback_query": {"id": "q", "from": {"id": 99, "is_bot": False, "first_name": "A"},
                                                 "chat_instance": "c", "data": "x"}}
    async with httpx.AsyncClient() as http:
        answers = [await http.post(url, json=press, headers={SECRET_HEADER: SECRET}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    event = await inbox.claim("telegram", clock.now(), LEASE, 3)
    assert event is not None and (event.event_key, event.person_id, event.kind) == ("41", "99", "callback_query")
    assert await inbox.claim("telegram", clock.now(), LEASE, 3) is None






# ---------------------------------------------------------------------------------------------
# The emulator's webhook mode, and back to polling


async def test_the_emulator_retries_a_refused_post_and_polling_works_again_after_delete_webhook(
    emulator: BotApiEmulator, route: tuple[str, SqliteInbox]
) -> None:
    url, inbox = route
    api = f"{emulator.api_base_url}/bot{TOKEN}"
    async with httpx.AsyncClient() as http:
        wrong = await http.post(f"{api}/setWebhook", data={"url": url, "secret_token": "not-the-secret"})
        assert wrong.json()["ok"]
        update_id = await emulator.user(31, first_name="A").say("xin chào")
        await eventually(lambda: len(emulator.webhook_posts) >= 2)  # refused (403), posted again
        assert {status for _, status in emulator.webhook_posts} == {403}
        info = (await http.post(f"{api}/getWebhookInfo")).json()["result"]
        assert info["pending_update_count"] == 1 and "403" in info["last_error_message"]
        conflict = await http.post(f"{api}/getUpdates")
        assert conflict.status_code == 409

        await http.post(f"{api}/setWebhook", data={"url": url, "secret_token": SECRET})
        await eventually(lambda: (update_id, 200) in emulator.webhook_posts)
        assert (await inbox.counts("telegram"))["pending"] == 1

        await http.post(f"{api}/deleteWebhook")
        later = await emulator.user(31, first_name="A").say("còn đó không")
        polled = (await http.post(f"{api}/getUpdates", data={"timeout": "0"})).json()["result"]
    assert [u["update_id"] for u in polled] == [later]
