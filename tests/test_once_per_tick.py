"""Scheduled work runs once per tick across instances (scheduler/runner.py), on both engines.

Two runners, each with its own services and connections, share one database as two instances
would. Ticks are numbered from the wall clock the runner is given, so the tests move it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from bot.bootstrap import open_services
from bot.services import Services
from bot.settings import Settings
from scheduler.runner import SchedulerRunner
from tests.storage_engines import ENGINES, database_url

EVERY = 30.0


class Wall:
    """Unix seconds the tests set."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def instances(engine: str, tmp_path: Path, count: int) -> AsyncIterator[list[Services]]:
    """`count` sets of services on one fresh database, each with its own connections."""
    async with database_url(engine, tmp_path / "shared.sqlite3") as url:
        settings = Settings(_env_file=None, database_path=tmp_path / "unused.sqlite3", database_url=url)  # type: ignore[call-arg]
        async with AsyncExitStack() as stack:
            yield [await stack.enter_async_context(open_services(settings)) for _ in range(count)]


def counting_runner(services: Services, name: str, wall: Wall, runs: list[tuple[str, float]]) -> SchedulerRunner:
    runner = SchedulerRunner(services, {}, instance=name, wall=wall)

    async def work(r: SchedulerRunner) -> None:
        runs.append((r.instance, wall.now))

    runner.repeat("count", work, EVERY)
    return runner


@pytest.mark.parametrize("engine", ENGINES)
async def test_two_instances_ticking_together_run_each_tick_once(engine: str, tmp_path: Path) -> None:
    runs: list[tuple[str, float]] = []
    wall = Wall(1_800_000_000.0)
    async with instances(engine, tmp_path, 2) as (one, two):
        runners = [counting_runner(one, "a", wall, runs), counting_runner(two, "b", wall, runs)]
        for _ in range(6):
            ran = await asyncio.gather(*(r.run_tick("count") for r in runners))
            assert sorted(ran) == [False, True]
            wall.now += 7.0  # still the same tick: nobody runs it again
            assert await asyncio.gather(*(r.run_tick("count") for r in runners)) == [False, False]
            wall.now += EVERY - 7.0
    ticks = Counter(at for _, at in runs)
    assert len(runs) == 6 and set(ticks.values()) == {1}


@pytest.mark.parametrize("engine", ENGINES)
async def test_an_instance_that_dies_mid_job_costs_its_tick_only(engine: str, tmp_path: Path) -> None:
    wall = Wall(1_800_000_000.0)
    started = asyncio.Event()
    async with database_url(engine, tmp_path / "shared.sqlite3") as url:
        settings = Settings(_env_file=None, database_path=tmp_path / "unused.sqlite3", database_url=url)  # type: ignore[call-arg]
        async with open_services(settings) as survivor:
            runs: list[tuple[str, float]] = []
            doomed_services = open_services(settings)
            doomed = SchedulerRunner(await doomed_services.__aenter__(), {}, instance="doomed", wall=wall)

            async def hang(r: SchedulerRunner) -> None:
                started.set()
                await asyncio.Event().wait()  # never finishes: the instance dies in here

            doomed.repeat("count", hang, EVERY)
            task = asyncio.ensure_future(doomed.run_tick("count"))
            await started.wait()
            # It dies: its job never ends and its connections are gone.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await doomed_services.__aexit__(None, None, None)

            other = counting_runner(survivor, "survivor", wall, runs)
            assert await other.run_tick("count") is False  # the dead instance's tick stays its own
            wall.now += EVERY
            assert await other.run_tick("count") is True  # the next tick is not blocked
            assert runs == [("survivor", wall.now)]


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_real_scheduler_on_two_instances_runs_no_tick_twice(engine: str, tmp_path: Path) -> None:
    """APScheduler ticking for real (every 0.1 s) in two runners: every run has its own tick."""
    runs: list[tuple[str, int]] = []
    enough = asyncio.Event()
    async with instances(engine, tmp_path, 2) as pair:
        runners = []
        for index, services in enumerate(pair):
            runner = SchedulerRunner(services, {}, instance=f"i{index}")

            async def work(r: SchedulerRunner) -> None:
                runs.append((r.instance, r.ran_tick["count"]))
                if len(runs) >= 12:
                    enough.set()

            runner.repeat("count", work, 0.1)
            runners.append(runner)
        for runner in runners:
            runner.start()
        try:
            await asyncio.wait_for(enough.wait(), timeout=30)
        finally:
            for runner in runners:
                await runner.stop()
    ticks = Counter(tick for _, tick in runs)
    assert ticks.most_common(1)[0][1] == 1, ticks
