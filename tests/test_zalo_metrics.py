"""Zalo in the operators' metrics: webhook answers by result, updates by outcome, reply latency,
and paid ZNS sends by result with the quota pauses (bot/observability/metrics.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.domain.clock import ManualClock
from bot.domain.zns import ZnsAction, ZnsFailed
from handlers.zalo.zns_client import ZnsSent
from handlers.zalo.zns_sender import count_outcome as count_zns
from handlers.zalo.zns_sender import zns_outcome
from tests.zalo_world import ZaloWorld, zalo_world


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ZaloWorld]:
    async with zalo_world(tmp_path, clock) as w:
        yield w


async def test_webhook_answers_and_handled_updates_are_counted_by_result(world: ZaloWorld) -> None:
    stored = value("bhxh_webhook_requests_total", channel="zalo", result="stored")
    duplicate = value("bhxh_webhook_requests_total", channel="zalo", result="duplicate")
    refused = value("bhxh_webhook_requests_total", channel="zalo", result="refused")
    answered = value("bhxh_updates_total", channel="zalo_oa", outcome="answered")
    latencies = value("bhxh_reply_seconds_count", channel="zalo_oa")
    user = world.emulator.add_user("Lan")

    event = world.emulator.driver.text_event(user.user_id, "xin chào")
    assert (await world.emulator.driver.post(event)).status == 200
    assert (await world.emulator.driver.post(event)).status == 200  # Zalo's retry of the same event
    assert (await user.say("xin chào", signature="bad")).status == 401
    assert await world.drain() == 1

    assert value("bhxh_webhook_requests_total", channel="zalo", result="stored") == stored + 1
    assert value("bhxh_webhook_requests_total", channel="zalo", result="duplicate") == duplicate + 1
    assert value("bhxh_webhook_requests_total", channel="zalo", result="refused") == refused + 1
    assert value("bhxh_updates_total", channel="zalo_oa", outcome="answered") == answered + 1
    assert value("bhxh_reply_seconds_count", channel="zalo_oa") == latencies + 1


def test_zns_sends_are_counted_by_result_and_quota_pauses_when_none_is_left() -> None:
    accepted = value("bhxh_sends_total", channel="zns", result="accepted")
    limited = value("bhxh_sends_total", channel="zns", result="daily_limit")
    pauses = value("bhxh_zns_quota_pauses_total")

    count_zns(zns_outcome(ZnsSent("m1", remaining_quota=5, daily_quota=10)))
    count_zns(zns_outcome(ZnsSent("m2", remaining_quota=0, daily_quota=10)))
    count_zns(ZnsFailed(ZnsAction.DAILY_LIMIT, -144, "quota"))

    assert value("bhxh_sends_total", channel="zns", result="accepted") == accepted + 2
    assert value("bhxh_sends_total", channel="zns", result="daily_limit") == limited + 1
    assert value("bhxh_zns_quota_pauses_total") == pauses + 2
