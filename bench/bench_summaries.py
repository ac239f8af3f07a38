"""Officials' summaries over a province: 1,000 units, 1,000,000 enrolments, 200 officials.

Builds the province with `bench.datasets.build_province`, adds 200 officials (the province,
its 20 districts, 179 communes), then times, for the province, a district and a commune:
gathering the figures (tallies, seed 003 coverage, competition, monthly form rows), rendering
the message, drawing the chart (PNG) and writing the workbook (XLSX with Phụ lục 02), with the
peak Python memory of one whole build (tracemalloc). Then one scheduled round for all 200
officials through the local emulator with Telegram's limits (30 messages a second overall,
1 a second per chat): 600 outputs, the wall time it takes and the process's peak RSS.

`python -m bench summaries`; set BENCH_UNITS / BENCH_ENROLMENTS for a smaller run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

from bench.common import peak_rss_mib, report, timed
from bench.datasets import TODAY, build_province, sqlite_db
from bot.domain.clock import ManualClock
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from bot.domain.summary import SummaryKind, render_summary
from bot.reports.summary_chart import render_chart
from bot.reports.summary_xlsx import build_summary_workbook
from bot.services import Services
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
from handlers.telegram.app import SERVICES_KEY, build_application, running, senders_of
from scheduler.summaries import run_summary_round

TOKEN = "100000002:BENCH-token-for-the-local-emulator"
OFFICIALS = 200
OFFICIAL_IDS = 2_000_000


async def _add_officials(services: Services, districts: list[str], communes: list[str], n: int) -> list[int]:
    now = services.clock.now()
    scopes = (["P"] + districts + communes)[:n]
    ids = []
    for k, unit in enumerate(scopes):
        user_id = OFFICIAL_IDS + k
        await services.members.add(
            full_name=f"Cán Bộ Phụ Trách {k:03d}", role=Role.OFFICIAL, unit_code=unit,
            actor=CLI_ACTOR, at=now, user_id=user_id, channel="telegram",
        )
        ids.append(user_id)
    return ids


async def _one(services: Services, label: str, unit: str) -> None:
    """Time each stage of one build (best of 2), then its peak Python memory."""
    summaries = services.summaries
    best: dict[str, float] = {}
    for _ in range(2):
        stages: dict[str, float] = {}
        start = time.perf_counter()
        data = await summaries.gather(unit, SummaryKind.DAILY, TODAY)
        stages["gather"] = time.perf_counter() - start
        start = time.perf_counter()
        text = render_summary(data)
        stages["message"] = time.perf_counter() - start
        start = time.perf_counter()
        png = render_chart(data)
        stages["chart"] = time.perf_counter() - start
        start = time.perf_counter()
        package = await summaries.package(data)  # month's rows + Phụ lục 02 + workbook (+ chart again)
        stages["workbook_and_form"] = time.perf_counter() - start - stages["chart"]
        start = time.perf_counter()
        build_summary_workbook(data)
        stages["workbook_alone"] = time.perf_counter() - start
        for key, value in stages.items():
            best[key] = min(best.get(key, value), value)
    tracemalloc.start()
    await summaries.build(unit, SummaryKind.DAILY, TODAY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = best["gather"] + best["message"] + best["chart"] + best["workbook_and_form"]
    report(
        f"  one summary, {label}",
        children=len(data.children),
        coverage_rows=len(data.coverage_rows),
        gather_ms=f"{best['gather'] * 1000:.0f}",
        message_ms=f"{best['message'] * 1000:.1f}",
        chart_ms=f"{best['chart'] * 1000:.0f}",
        workbook_ms=f"{best['workbook_alone'] * 1000:.0f}",
        workbook_with_form_ms=f"{best['workbook_and_form'] * 1000:.0f}",
        total_ms=f"{total * 1000:.0f}",
        peak_python_mib=f"{peak / 2**20:.0f}",
        message_chars=len(text),
        png_kib=f"{len(png) / 1024:.0f}",
        xlsx_kib=f"{len(package.workbook) / 1024:.0f}",
    )


async def _run(units: int, enrolments: int, officials: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=30, per_chat_interval=1.0))
        await emulator.start()
        try:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                telegram_bot_token=TOKEN,
                telegram_api_base_url=emulator.api_base_url,
                database_path=Path(tmp) / "summaries.sqlite3",
                scheduler_tick_seconds=3600,
            )
            clock = ManualClock(datetime(TODAY.year, TODAY.month, TODAY.day, 16, 0, tzinfo=settings.tz))
            application = build_application(settings, token=TOKEN, clock=clock)
            async with running(application, poll_timeout=1):
                services: Services = application.bot_data[SERVICES_KEY]
                with timed() as build:
                    province = await build_province(sqlite_db(services.storage), units=units, enrolments=enrolments)
                    ids = await _add_officials(services, province.districts, province.communes, officials)
                report(
                    "summary dataset", units=province.units, enrolments=province.enrolments,
                    officials=len(ids), seconds=f"{build.seconds:.0f}",
                )
                await _one(services, "province (P)", "P")
                await _one(services, "district (P07)", "P07")
                await _one(services, "commune", province.communes[0])

                for user_id in ids:
                    emulator.user(user_id, first_name="Cán bộ")
                clock.set(datetime(TODAY.year, TODAY.month, TODAY.day, 17, 0, tzinfo=settings.tz))
                with timed() as fan_out:
                    result = await run_summary_round(services, senders_of(application))
                outputs = sum(1 for m in emulator.sent if m.method in ("sendMessage", "sendPhoto", "sendDocument"))
                report(
                    "  scheduled round, all officials",
                    recipients=result.due, completed=result.completed, outputs=outputs,
                    packages_built=result.packages_built, rejected_429=len(emulator.rejected),
                    seconds=f"{fan_out.seconds:.1f}",
                    outputs_per_second=f"{outputs / fan_out.seconds:.1f}",
                )
            report("summaries", peak_rss_mib=f"{peak_rss_mib():.0f}")
        finally:
            await emulator.stop()


def run(units: int | None = None, enrolments: int | None = None, officials: int | None = None) -> None:
    asyncio.run(
        _run(
            units or int(os.environ.get("BENCH_UNITS", 1000)),
            enrolments or int(os.environ.get("BENCH_ENROLMENTS", 1_000_000)),
            officials or int(os.environ.get("BENCH_OFFICIALS", OFFICIALS)),
        )
    )


if __name__ == "__main__":
    run()
