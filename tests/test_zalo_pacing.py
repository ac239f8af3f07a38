"""Zalo's request rates held by every instance together (issue 10; handlers/pacing.py):
the OA client's messages (ZALO_MAX_PER_SECOND) and the ZNS client's sends (ZNS_MAX_PER_SECOND)
each wait for one pace shared through the database (`storage.contract.RateBudget`).

Two instances are two clients, each with its own pacer and storage connections, on one fresh
database of each engine. The Zalo emulator records when each request arrives; in no 0.9 s do
more arrive than the rate allows in a second (0.1 s of slack for request jitter on a busy
machine, as tests/test_rate_budget.py allows Telegram's). No speed is asserted beyond that bound.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from bot.domain.zns import ZnsTemplates
from devtools.zalo.common import SlidingWindow
from handlers.pacing import SendPacer
from handlers.zalo.channel import OA_STREAM
from handlers.zalo.oa_client import OAClient, Sent
from handlers.zalo.zns_client import ZNSClient, ZnsSent
from handlers.zalo.zns_sender import ZNS_CHANNEL
from storage.engines import open_storage
from tests.conftest import TZ
from tests.storage_engines import ENGINES, EngineSettings
from tests.test_rate_budget import two_instances
from tests.zalo_world import FAST, ZaloWorld, zalo_world
from tests.zns_support import phone

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
RATE = 10  # the settings' default, ZALO_MAX_PER_SECOND and ZNS_MAX_PER_SECOND
PER_INSTANCE = 15  # of each kind: 30 OA messages and 30 ZNS in all, about 3 s at 9.6 a second
SLACK = 0.1


class Arrivals(SlidingWindow):
    """The emulator's rate window of one endpoint, replaced by one that refuses nothing and
    notes when each request arrived (the event loop's clock: the emulator runs in this one)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.times: list[float] = []

    def allow(self) -> bool:
        self.times.append(asyncio.get_running_loop().time())
        return True

    def busiest(self, span: float = 1.0 - SLACK) -> int:
        """The most arrivals within any `span` seconds."""
        times = sorted(self.times)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= span:
                start += 1
            most = max(most, end - start + 1)
        return most


def _record(world: ZaloWorld) -> tuple[Arrivals, Arrivals]:
    oa, zns = Arrivals(), Arrivals()
    world.emulator._windows["message/cs"] = oa
    world.emulator._windows["message/template"] = zns
    return oa, zns


def _template(world: ZaloWorld) -> tuple[str, dict[str, str]]:
    reminder = ZnsTemplates.load().reminder
    world.emulator.add_template(reminder.template_id, list(reminder.params))
    world.emulator.zns.any_phone_bound = True
    return reminder.template_id, {name: "giá trị" for name in reminder.params}


def _people(world: ZaloWorld, count: int) -> list[str]:
    """People who wrote to the OA just now (so it may write to them)."""
    ids = []
    for n in range(count):
        user = world.emulator.add_user(f"Người {n}")
        world.emulator.oa.users[user.user_id].last_interaction = world.clock.now()
        ids.append(user.user_id)
    return ids


async def _send_from_two_instances(engine: str, tmp_path: Path, shared: bool) -> tuple[Arrivals, Arrivals]:
    """Each of two instances sends PER_INSTANCE OA messages and PER_INSTANCE ZNS at once;
    every one is accepted; returns the arrivals of each kind."""
    limits = replace(FAST, send_per_second=None, zns_per_second=None, zns_daily_quota=1000)
    async with zalo_world(tmp_path, ManualClock(NOON), limits=limits) as world, two_instances(engine, tmp_path) as storages:
        oa_arrivals, zns_arrivals = _record(world)
        template, data = _template(world)
        people = _people(world, 2 * PER_INSTANCE)
        sends = []
        for number, storage in enumerate(storages):
            oa_pacer, zns_pacer = SendPacer(RATE, OA_STREAM), SendPacer(RATE, ZNS_CHANNEL)
            if shared:
                oa_pacer.share(storage.coordination)
                zns_pacer.share(storage.coordination)
            oa = OAClient(world.http, world.settings.zalo_api_base_url, world.channel.tokens, pacer=oa_pacer)
            zns = ZNSClient(world.http, world.settings.zalo_zns_base_url, world.channel.tokens, pacer=zns_pacer)
            for k in range(PER_INSTANCE):
                n = number * PER_INSTANCE + k
                sends.append(oa.send_text(people[n], f"Tin số {n}"))
                sends.append(zns.send_template(phone(n + 1), template, data, f"t{n}"))
        results = await asyncio.gather(*sends)
    assert all(isinstance(r, (Sent, ZnsSent)) for r in results), [r for r in results if not isinstance(r, (Sent, ZnsSent))]
    assert len(oa_arrivals.times) == len(zns_arrivals.times) == 2 * PER_INSTANCE
    return oa_arrivals, zns_arrivals


@pytest.mark.parametrize("engine", ENGINES)
async def test_two_instances_sending_to_zalo_stay_within_the_rate_together(engine: str, tmp_path: Path) -> None:
    oa, zns = await _send_from_two_instances(engine, tmp_path, shared=True)
    assert oa.busiest() <= RATE, sorted(oa.times)
    assert zns.busiest() <= RATE, sorted(zns.times)


async def test_without_the_shared_pace_two_instances_send_twice_the_rate(tmp_path: Path) -> None:
    """The control: each instance alone keeps 9.6 a second; together they do not."""
    oa, zns = await _send_from_two_instances("sqlite", tmp_path, shared=False)
    assert oa.busiest() > RATE + 3 and zns.busiest() > RATE + 3


async def test_one_instance_alone_keeps_the_rate_and_the_retry_after_a_refused_token_waits_too(
    tmp_path: Path,
) -> None:
    """Unshared, the local pace holds; a request repeated after Zalo refused the access token
    (−124) is a request like any other and takes its own slot."""
    async with zalo_world(tmp_path, ManualClock(NOON), limits=replace(FAST, zns_per_second=None)) as world:
        _, zns_arrivals = _record(world)
        template, data = _template(world)
        pacer = SendPacer(RATE, ZNS_CHANNEL)
        zns = ZNSClient(world.http, world.settings.zalo_zns_base_url, world.channel.tokens, pacer=pacer)
        world.emulator.fail_next("message/template", "error", code=-124)
        results = await asyncio.gather(*(zns.send_template(phone(n), template, data, f"t{n}") for n in range(1, 25)))
    assert all(isinstance(r, ZnsSent) for r in results)
    # 25 requests; the refused one is answered before the emulator's window notes it, so the
    # 24 noted include the repeat, paced as the others
    assert world.emulator.requests["message/template"] == 25 and len(zns_arrivals.times) == 24
    assert zns_arrivals.busiest() <= RATE


async def test_a_database_that_does_not_answer_leaves_the_local_pace_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = open_storage(EngineSettings(None, tmp_path / "gone.sqlite3"))
    await storage.connect()
    await storage.close()
    async with zalo_world(tmp_path, ManualClock(NOON), limits=replace(FAST, zns_per_second=None)) as world:
        _, zns_arrivals = _record(world)
        template, data = _template(world)
        pacer = SendPacer(RATE, ZNS_CHANNEL)
        pacer.share(storage.coordination)
        zns = ZNSClient(world.http, world.settings.zalo_zns_base_url, world.channel.tokens, pacer=pacer)
        with caplog.at_level(logging.WARNING, logger="handlers.pacing"):
            results = await asyncio.gather(*(zns.send_template(phone(n), template, data, f"t{n}") for n in range(1, 15)))
    assert all(isinstance(r, ZnsSent) for r in results)
    assert zns_arrivals.busiest() <= RATE
    warnings = [r for r in caplog.records if "shared send pace (zns) unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_a_pacer_s_figures_follow_the_setting() -> None:
    pacer = SendPacer(10, ZNS_CHANNEL)
    assert pacer.window_limit == 10 and abs(pacer.spacing - 1 / 9.6) < 1e-9 and abs(pacer.window - 10 / 9.6) < 1e-9
    slow = SendPacer(0.5, ZNS_CHANNEL)  # one every 2.08 s
    assert slow.window_limit == 1 and abs(slow.window - slow.spacing) < 1e-9
    with pytest.raises(ValueError):
        SendPacer(0, ZNS_CHANNEL)
