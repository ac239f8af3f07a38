"""`GET /metrics` of `bhxh-bot run`: what happened, counted where it happened, read over HTTP.

Counters are process-wide (one registry per process, as Prometheus expects), so each test reads
them before and after what it does and checks the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.cli.serve import Running, started
from bot.domain.clock import ManualClock
from devtools.telegram_emulator import BotApiEmulator
from scheduler.reminders import run_reminder_round
from tests.reminder_support import link_people
from tests.test_run import EVENING, QUESTION, free_port
from tests.test_telegram_webhook import SECRET, settings_of, webhook_env

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(running: Running) -> tuple[str, Samples]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{running.http_base_url}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return answer.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def running(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Running]:
    env = webhook_env(emulator, tmp_path / "bot.sqlite3", free_port())
    async with started(settings_of(env), clock=ManualClock(EVENING)) as bot:
        yield bot


async def test_updates_replies_and_webhook_answers_are_counted(running: Running, emulator: BotApiEmulator) -> None:
    _, before = await scrape(running)
    citizen = emulator.user(8181, first_name="Tâm")
    first = await citizen.say(QUESTION)
    await citizen.replies(timeout=15)
    await emulator.post_again(first)
    async with httpx.AsyncClient() as http:
        await http.post(f"{running.http_base_url}/telegram/webhook", json={"update_id": 1}, headers={
            "X-Telegram-Bot-Api-Secret-Token": SECRET[::-1]})
    await citizen.say("xin chào")
    await citizen.replies(timeout=15)
    text, after = await scrape(running)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("bhxh_updates_total", channel="telegram", outcome="answered") == 2
    assert grew("bhxh_reply_seconds_count", channel="telegram") == 2
    assert grew("bhxh_webhook_requests_total", channel="telegram", result="stored") == 2
    assert grew("bhxh_webhook_requests_total", channel="telegram", result="duplicate") == 1
    assert grew("bhxh_webhook_requests_total", channel="telegram", result="refused") == 1
    assert "bhxh_zns_quota_pauses_total" in text  # defined for the ZNS sender, exposed from the start
    assert "process_resident_memory_bytes" in text or "python_info" in text
    assert "8181" not in text  # no person in a label


async def test_a_reminder_round_shows_in_sends_by_result_and_outbox_depth(
    running: Running, emulator: BotApiEmulator
) -> None:
    services = running.services
    people = [8201, 8202, 8203]
    for user_id in people:
        emulator.user(user_id, first_name="Người")
    emulator.block(8203)
    await link_people(services.cards.repo, people, services.clock.now())
    _, before = await scrape(running)

    report = await run_reminder_round(services, running.runner.senders)

    _, after = await scrape(running)
    assert report.sent == 2
    delivered = value(after, "bhxh_sends_total", channel="telegram", result="delivered")
    assert delivered - value(before, "bhxh_sends_total", channel="telegram", result="delivered") == 2
    blocked = value(after, "bhxh_sends_total", channel="telegram", result="blocked")
    assert blocked - value(before, "bhxh_sends_total", channel="telegram", result="blocked") == 1
    counts = await services.storage.reminders.status_counts()
    assert counts and sum(counts.values()) == 3
    for state, count in counts.items():  # the gauge is the database's figure at scrape time
        assert value(after, "bhxh_outbox_rows", state=state) == count


async def test_a_429_from_telegram_is_counted(running: Running, emulator: BotApiEmulator) -> None:
    _, before = await scrape(running)
    citizen = emulator.user(8301, first_name="Phúc")
    emulator.fail_next("sendMessage", "429", retry_after=1, chat_id=8301)
    await citizen.say(QUESTION)
    await citizen.replies(timeout=15)  # the limiter waited as asked and sent again
    _, after = await scrape(running)
    grew = value(after, "bhxh_rate_limited_total", channel="telegram") - value(before, "bhxh_rate_limited_total", channel="telegram")
    assert grew == 1
