"""`/healthz` and `/readyz` of `bhxh-bot run`, over HTTP against the emulators.

/readyz says whether a load balancer may send this instance work: the database answers a read,
Telegram answers getMe (cached, so probes do not become Telegram traffic), Zalo's tokens work;
503 names what failed, and 503 "stopping" once the instance is shutting down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from bot.cli.serve import started
from bot.domain.clock import ManualClock
from devtools.telegram_emulator import BotApiEmulator
from devtools.zalo import ZaloEmulator
from handlers.http.app import build_http_app, serving
from handlers.http.gate import Gate
from handlers.http.health import NotReady, Readiness, cached
from tests.test_run import EVENING, both_channels, settings_of
from tests.test_telegram_webhook import eventually
from tests.zalo_world import FAST


@pytest.fixture
async def zalo() -> AsyncIterator[ZaloEmulator]:
    emu = ZaloEmulator(clock=ManualClock(EVENING), limits=replace(FAST))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_a_running_bot_is_ready_and_probes_cost_telegram_one_getme(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path
) -> None:
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
    async with started(settings_of(env), clock=ManualClock(EVENING)) as running:
        base = running.http_base_url
        assert (await get(f"{base}/healthz")).text == "ok"
        before = emulator.requests["getMe"]
        first, second = await get(f"{base}/readyz"), await get(f"{base}/readyz")
        assert first.status_code == second.status_code == 200
        assert first.json() == {"status": "ready", "checks": {"database": "ok", "telegram": "ok", "zalo_oa": "ok"}}
        assert emulator.requests["getMe"] == before + 1  # the second probe used the cached answer


async def test_zalo_refusing_the_refresh_token_makes_the_instance_not_ready_naming_zalo(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path
) -> None:
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", "refresh-token-nobody-issued-0123456789")
    async with started(settings_of(env), clock=ManualClock(EVENING)) as running:
        zalo.webhook_url = f"{running.http_base_url}/zalo/webhook"
        await zalo.add_user().say("xin chào")  # answering needs a token: the refresh is refused
        await eventually(lambda: running.zalo.tokens.reauthorisation_needed is not None)
        answer = await get(f"{running.http_base_url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["zalo_oa"]
    assert answer.json()["checks"] == {"database": "ok", "telegram": "ok", "zalo_oa": "re-authorisation needed"}


async def test_a_closed_database_is_named(emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path) -> None:
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
    async with started(settings_of(env), clock=ManualClock(EVENING)) as running:
        await running.runner.stop()  # nothing may write while the database is away
        await running.services.storage.close()
        try:
            answer = await get(f"{running.http_base_url}/readyz")
        finally:
            await running.services.storage.connect()
    assert answer.status_code == 503 and answer.json()["failed"] == ["database"]


async def test_a_stopping_instance_is_not_ready_and_refuses_new_webhook_posts(
    emulator: BotApiEmulator, zalo: ZaloEmulator, tmp_path: Path
) -> None:
    env = both_channels(emulator, zalo, tmp_path / "bot.sqlite3", zalo.issue_tokens().refresh_token)
    async with started(settings_of(env), clock=ManualClock(EVENING)) as running:
        running.gate.close()
        ready = await get(f"{running.http_base_url}/readyz")
        async with httpx.AsyncClient() as http:
            post = await http.post(f"{running.http_base_url}/zalo/webhook", content=b"{}")
        health = await get(f"{running.http_base_url}/healthz")
    assert (ready.status_code, ready.json()["status"]) == (503, "stopping")
    assert post.status_code == 503 and post.text == "stopping"
    assert health.status_code == 200  # the process still serves: only new work is refused


# ---------------------------------------------------------------------------------------------
# The route and the cache alone


async def test_each_failed_check_is_named_by_its_type_never_its_message() -> None:
    async def fine() -> None:
        return None

    async def broken() -> None:
        raise ConnectionError("db at 10.0.0.5 refused user bhxh 0912345678")

    async def slow() -> None:
        await asyncio.Event().wait()

    async def down() -> None:
        raise NotReady("re-authorisation needed")

    readiness = Readiness({"a": fine, "b": broken, "c": slow, "d": down}, timeout=0.05)
    async with serving(build_http_app(readiness.routes())) as served:
        answer = await get(f"{served.base_url}/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "not ready",
        "failed": ["b", "c", "d"],
        "checks": {"a": "ok", "b": "ConnectionError", "c": "timeout", "d": "re-authorisation needed"},
    }
    assert "0912345678" not in answer.text


async def test_a_cached_check_runs_once_per_ttl_and_remembers_a_failure() -> None:
    moment = [0.0]
    calls: list[float] = []
    fail = [False]

    async def check() -> None:
        calls.append(moment[0])
        if fail[0]:
            raise TimeoutError

    once = cached(check, ttl=30, now=lambda: moment[0])
    await once()
    await once()
    moment[0], fail[0] = 29.0, True
    await once()  # within the ttl: the earlier success stands
    moment[0] = 30.0
    with pytest.raises(TimeoutError):
        await once()
    moment[0], fail[0] = 59.0, False
    with pytest.raises(TimeoutError):
        await once()  # the failure stands for its ttl too
    assert calls == [0.0, 30.0]


async def test_a_gate_refuses_posts_only_once_closed() -> None:
    gate = Gate()
    readiness = Readiness({}, gate=gate)
    async with serving(build_http_app(readiness.routes(), gate=gate)) as served:
        async with httpx.AsyncClient() as http:
            open_post = await http.post(f"{served.base_url}/nowhere")
            gate.close()
            closed_post = await http.post(f"{served.base_url}/nowhere")
            ready = await http.get(f"{served.base_url}/readyz")
    assert (open_post.status_code, closed_post.status_code, ready.status_code) == (404, 503, 503)



