"""ZNS's daily quota and Zalo's night hold for every instance on one database together (issue
10): the pause one instance decides is kept in the database (`storage.contract.ChannelPauses`,
migration 0046) and every other instance adopts it before sending.

Two "instances" are two services, each with its own storage connections, on one fresh database
of each engine, each with its own ZNS queue (the product's `zns_queue`, shared as serve wires
it), both sending to the Zalo emulator. The emulator records every request it got
(`requests`) and every one it refused (`rejected`): once one instance met the day's refusal
(or the answer that no quota is left), the other sends no request that day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.domain.clock import ManualClock
from bot.domain.reminders import Hours
from bot.domain.zns import ZNS, ZnsPause, ZnsTemplates
from bot.services import Services
from devtools.zalo import ZaloLimits
from handlers.zalo.zns_sender import zns_queue
from scheduler.reminders import run_reminder_round
from scheduler.zns import ZnsQueue, ZnsReport
from tests.conftest import TZ
from tests.storage_engines import ENGINES, database_url
from tests.test_rate_budget import two_instances
from tests.zalo_world import FAST, ZaloWorld, zalo_world
from tests.zns_support import BASIS, card

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
MORNING = NOON.replace(hour=8) + timedelta(days=1)
TEMPLATE = "message/template"


# --------------------------------------------------------------------------- the rule and the store


def test_a_pause_from_elsewhere_is_adopted_only_when_it_ends_later() -> None:
    pause = ZnsPause(Hours())
    assert pause.adopt(MORNING, "daily quota") and pause.active(NOON) and not pause.active(MORNING)
    assert not pause.adopt(NOON + timedelta(hours=1), "night refusal")
    assert (pause.until, pause.reason) == (MORNING, "daily quota")
    assert pause.pause_till_morning(NOON, "night refusal") == MORNING  # the same morning
    later = MORNING + timedelta(days=1)
    assert pause.adopt(later, "night refusal") and (pause.until, pause.reason) == (later, "night refusal")


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_pause_written_by_one_instance_is_read_by_the_other_and_only_moves_later(
    engine: str, tmp_path: Path
) -> None:
    async with two_instances(engine, tmp_path) as (one, two):
        assert await two.coordination.channel_paused_until(ZNS, NOON) is None
        kept = await one.coordination.pause_channel(ZNS, MORNING, "daily quota")
        assert kept == MORNING and kept.tzinfo is not None
        paused = await two.coordination.channel_paused_until(ZNS, NOON)
        assert paused == (MORNING, "daily quota")
        assert paused is not None and paused[0].utcoffset() == timedelta(0)  # kept in UTC
        # an earlier end (another instance's night refusal, say) does not shorten it
        assert await two.coordination.pause_channel(ZNS, NOON + timedelta(hours=1), "night refusal") == MORNING
        assert await one.coordination.channel_paused_until(ZNS, NOON) == (MORNING, "daily quota")
        later = MORNING + timedelta(days=1)
        assert await two.coordination.pause_channel(ZNS, later, "night refusal") == later
        assert await one.coordination.channel_paused_until(ZNS, MORNING) == (later, "night refusal")
        # ended at its end; another channel has its own
        assert await one.coordination.channel_paused_until(ZNS, later) is None
        assert await one.coordination.channel_paused_until("another", NOON) is None
        with pytest.raises(ValueError):
            await one.coordination.pause_channel(ZNS, later.replace(tzinfo=None), "naive")


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_pause_is_kept_to_the_second_in_utc_whatever_the_zone(engine: str, tmp_path: Path) -> None:
    async with two_instances(engine, tmp_path) as (one, two):
        until = datetime(2026, 11, 25, 1, 0, 30, tzinfo=UTC)  # 08:00:30 in Hà Nội
        await one.coordination.pause_channel(ZNS, until.astimezone(TZ), "daily quota")
        assert await two.coordination.channel_paused_until(ZNS, until - timedelta(seconds=1)) == (until, "daily quota")
        assert await two.coordination.channel_paused_until(ZNS, until) is None


# --------------------------------------------------------------------------- two queues


@dataclass
class Instance:
    services: Services
    queue: ZnsQueue

    async def round(self, clock: ManualClock, at: datetime) -> ZnsReport:
        clock.set(at)
        report = await run_reminder_round(self.services, {}, self.queue)
        assert report.zns is not None
        return report.zns


@asynccontextmanager
async def two_zns_instances(
    engine: str, tmp_path: Path, clock: ManualClock, limits: ZaloLimits, template_quota: int | None = None
) -> AsyncIterator[tuple[ZaloWorld, Instance, Instance]]:
    """The emulator and the Zalo channel (tests/zalo_world.py), and two instances on one fresh
    database of `engine`, each with its ZNS queue (one request at a time); 8 people due."""
    templates = ZnsTemplates.load()
    path = tmp_path / "shared.sqlite3"
    async with (
        zalo_world(tmp_path, clock, limits=replace(limits, receipt_delay=None)) as zalo,
        database_url(engine, path) as url,
        AsyncExitStack() as stack,
    ):
        zalo.emulator.add_template(
            templates.reminder.template_id, list(templates.reminder.params), daily_quota=template_quota
        )
        zalo.emulator.zns.any_phone_bound = True
        settings = zalo.settings.model_copy(update={"zns_enabled": True, "database_url": url, "database_path": path})
        instances = []
        for _ in range(2):
            services = build_services(settings, clock)
            await services.storage.connect()
            stack.push_async_callback(services.storage.close)
            queue = zns_queue(zalo.channel, settings, templates, Hours(), shared=services.storage.coordination)
            queue.concurrency = 1
            instances.append(Instance(services, queue))
        await instances[0].services.cards.repo.import_cards(
            [card(n) for n in range(1, 9)], "l.csv", clock.now(), legal_basis=BASIS
        )
        yield zalo, instances[0], instances[1]


# (what runs out, emulator limits, template quota, when the first round runs)
CASES = {
    "template quota refused (-147)": (FAST, 3, NOON),
    "OA quota used up (remainingQuota 0)": (replace(FAST, zns_daily_quota=3), None, NOON),
    "night refusal (-133)": (replace(FAST, night_start_hour=19), None, NOON.replace(hour=19, minute=30)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("engine", ENGINES)
async def test_once_one_instance_learns_the_day_is_over_the_other_sends_nothing_more_that_day(
    engine: str, case: str, tmp_path: Path
) -> None:
    limits, template_quota, first = CASES[case]
    clock = ManualClock(first)
    async with two_zns_instances(engine, tmp_path, clock, limits, template_quota) as (zalo, one, two):
        emulator = zalo.emulator
        report = await one.round(clock, first)
        assert report.paused_until == MORNING, report.summary()
        asked, refused, accepted = emulator.requests[TEMPLATE], len(emulator.rejected), len(emulator.zns.sent)
        assert refused <= 1 and asked == accepted + refused  # the one refusal that taught it, if any
        # The other instance's rounds that day: paused by what the first learned, no request.
        report = await two.round(clock, first + timedelta(minutes=1))
        assert (report.sent, report.retried) == (0, 0)
        assert (report.paused_until, report.pause_reason) == (MORNING, one.queue.pause.reason)
        await asyncio.gather(
            one.round(clock, first + timedelta(minutes=20)), two.round(clock, first + timedelta(minutes=20))
        )
        assert (emulator.requests[TEMPLATE], len(emulator.rejected)) == (asked, refused)
        # The next morning either instance goes on.
        report = await two.round(clock, MORNING)
        assert report.sent > 0 and emulator.requests[TEMPLATE] > asked


@pytest.mark.parametrize("engine", ENGINES)
async def test_two_instances_sending_at_once_meet_the_quota_refusal_once_each_at_most(
    engine: str, tmp_path: Path
) -> None:
    """Both instances fan out at once, one request in flight each: when the template's quota
    runs out, the request the other instance already had on its way may be refused too, and
    nothing after it, by either, that day."""
    clock = ManualClock(NOON)
    async with two_zns_instances(engine, tmp_path, clock, FAST, template_quota=3) as (zalo, one, two):
        emulator = zalo.emulator
        reports = await asyncio.gather(one.round(clock, NOON), two.round(clock, NOON))
        assert sum(r.sent for r in reports) == len(emulator.zns.sent) == 3
        refusals = [r.code for r in emulator.rejected]
        assert 1 <= len(refusals) <= 2 and set(refusals) == {-147}, refusals
        asked = emulator.requests[TEMPLATE]
        for instance in (one, two, one, two):
            report = await instance.round(clock, NOON + timedelta(hours=1))
            assert report.paused_until == MORNING
        assert emulator.requests[TEMPLATE] == asked
