"""Officials' summaries end to end: the real bot, the emulator, a real database (a SQLite file,
and again a fresh PostgreSQL schema), and time moved by the ManualClock. The scheduler ticks for real (every 0.2 s of wall time); what it
decides depends only on the injected clock and the ledger."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.domain.clock import ManualClock
from bot.domain.enrolment import parse_line
from bot.domain.records import CLI_ACTOR, KIND_DAILY, Recipient
from bot.domain.roles import Role
from bot.imports.organisation import import_units
from bot.reports.summary_chart import CHART_WIDTH_PX
from bot.reports.summary_xlsx import SHEET_BHYT, SHEET_MONTHLY
from bot.services import Services
from bot.services.enrolment import Logged
from devtools.telegram_emulator import BotApiEmulator, EmulatedUser, SentMessage
from scheduler.summaries import run_summary_round
from tests.conftest import TZ, BotHarness
from tests.storage_engines import ENGINES, RawSql, database_url

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "data" / "samples"
MONDAY = datetime(2026, 11, 23, 16, 0, tzinfo=TZ)  # a Monday: weekly digests go out too
OUTPUTS = ("sendMessage", "sendPhoto", "sendDocument")

# (user id, name, role, unit): officials of two communes and of the district, a team leader,
# and agents who must get no summary.
TAN_AN = (8101, "Đoàn Thị My", Role.OFFICIAL, "CL06")
MY_CAM = (8102, "Văn Hà Thu", Role.OFFICIAL, "CL02")
DISTRICT = (8103, "Phan Nghiêm Hà Châu", Role.OFFICIAL, "CL")
LEADER = (8104, "Phạm Thị Biên", Role.TEAM_LEADER, "CL06")
AGENT_TAN_AN = (8105, "Nguyễn Thị Hoa", Role.AGENT, "CL06")
AGENT_MY_CAM = (8106, "Lê Văn Tài", Role.AGENT, "CL02")
PEOPLE = (TAN_AN, MY_CAM, DISTRICT, LEADER, AGENT_TAN_AN, AGENT_MY_CAM)
RECIPIENTS = (TAN_AN, MY_CAM, DISTRICT, LEADER)
CITIZEN = 8199


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture(params=ENGINES)
async def bot(
    request: pytest.FixtureRequest, emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    path = tmp_path / "summaries.sqlite3"
    async with database_url(request.param, path) as url:
        harness = BotHarness(emulator, path, clock, scheduler_tick_seconds=0.2, database_url=url)
        await harness.start()
        await seed(harness.services)
        try:
            yield harness
        finally:
            await harness.stop()


async def seed(services: Services) -> None:
    """Seed 003's district from the packaged sample, six people, entries in two communes."""
    now = services.clock.now()
    await import_units(SAMPLES / "units_cang_long.csv", services.units, services.clock)
    ids = {}
    for user_id, name, role, unit in PEOPLE:
        ids[user_id] = await services.members.add(
            full_name=name, role=role, unit_code=unit, actor=CLI_ACTOR, at=now, user_id=user_id, channel="telegram"
        )
    entries = {
        AGENT_TAN_AN[0]: ["bhyt Trần Văn An 8423001234 12 tháng", "bhxh Trần Thị Bé 8423001235 2tr 12 tháng"],
        AGENT_MY_CAM[0]: ["bhyt Võ Văn Cường 8423009876 6 tháng"],
    }
    for user_id, lines in entries.items():
        member = await services.members.get(ids[user_id])
        assert member is not None
        for line in lines:
            assert isinstance(await services.enrolments.log(member, parse_line(line).draft), Logged)


def users(emulator: BotApiEmulator) -> dict[int, EmulatedUser]:
    return {p[0]: emulator.user(p[0], first_name=p[1].split()[-1]) for p in PEOPLE}


def outputs(emulator: BotApiEmulator, user_id: int) -> list[SentMessage]:
    return [m for m in emulator.sent_to(user_id) if m.method in OUTPUTS]


async def all_summaries_sent(emulator: BotApiEmulator, ids: list[int], each: int = 3) -> None:
    await emulator.wait_until(lambda: all(len(outputs(emulator, i)) >= each for i in ids), timeout=30)


async def test_at_the_set_time_each_official_gets_one_summary_of_their_own_area(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    people = users(emulator)
    # Before 17:00 nothing is due, however often the job ticks.
    early = await run_summary_round(bot.services, bot.senders)
    assert not early.started and emulator.sent == []

    clock.set(datetime(2026, 11, 23, 17, 0, 5, tzinfo=TZ))
    await all_summaries_sent(emulator, [p[0] for p in RECIPIENTS])
    again = await run_summary_round(bot.services, bot.senders)  # waits for the running round
    assert again.due == 0 and again.parts_sent == 0

    for person in RECIPIENTS:
        sent = outputs(emulator, person[0])
        assert [m.method for m in sent] == list(OUTPUTS), person
    for agent in (AGENT_TAN_AN, AGENT_MY_CAM):
        assert outputs(emulator, agent[0]) == []

    # Xã Tân An's official: Tân An only, nothing of Mỹ Cẩm.
    text, photo, document = outputs(emulator, TAN_AN[0])
    assert text.plain_text.startswith("📊 Tổng hợp 23/11/2026 · Xã Tân An")
    assert "Hôm nay: 2 người mới (BHYT 1, BHXH TN 1)." in text.plain_text
    assert "Nguyễn T. Hoa (Tân An) 2" in text.plain_text
    for foreign in ("Mỹ Cẩm", "Lê V. Tài", "Võ Văn Cường", "Huyện Càng Long"):
        assert foreign not in text.plain_text
    assert Image.open(io.BytesIO(photo.file_bytes or b"")).size[0] == CHART_WIDTH_PX
    assert photo.file_name and photo.file_name.endswith(".png")
    assert document.file_name == "tong-hop_2026-11-23_xa-tan-an.xlsx"
    wb = load_workbook(io.BytesIO(document.file_bytes or b""))
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert "Trần Văn An" in cells and "Võ Văn Cường" not in cells
    assert not any("Mỹ Cẩm" in c for c in cells)
    assert [r[1] for r in wb[SHEET_BHYT].iter_rows(min_row=6, values_only=True)] == ["Tổng cộng"]
    assert SHEET_MONTHLY in wb.sheetnames

    # The district official sees every commune, the laggards and both agents.
    district = outputs(emulator, DISTRICT[0])[0].plain_text
    assert district.startswith("📊 Tổng hợp 23/11/2026 · Huyện Càng Long")
    assert "Hôm nay: 3 người mới (BHYT 2, BHXH TN 1)." in district
    assert "⚠️ Huyền Hội" in district and "Mỹ Cẩm" in district and "Tân An" in district
    # The commune of Mỹ Cẩm: its own agent, not Tân An's.
    my_cam = outputs(emulator, MY_CAM[0])[0].plain_text
    assert "Lê V. Tài (Mỹ Cẩm) 1" in my_cam and "Tân An" not in my_cam
    assert people  # the chats exist for the emulator


async def test_after_a_restart_past_the_set_time_the_summary_goes_once(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    users(emulator)
    ids = [p[0] for p in RECIPIENTS]
    await bot.stop()  # down at 17:00
    clock.set(datetime(2026, 11, 23, 19, 30, tzinfo=TZ))
    await bot.start()  # back the same evening: the first tick catches up
    await all_summaries_sent(emulator, ids)
    await run_summary_round(bot.services, bot.senders)
    await bot.restart()
    report = await run_summary_round(bot.services, bot.senders)
    assert report.started and report.due == 0
    assert all(len(outputs(emulator, i)) == 3 for i in ids)
    runs = await bot.services.summaries.repo.runs(clock.now().date(), KIND_DAILY)
    assert sorted((r.chat_id, r.status, r.parts_done) for r in runs) == sorted((i, "sent", 3) for i in ids)

    # The next day before 17:00: nothing; after: one more each.
    clock.set(datetime(2026, 11, 24, 16, 59, tzinfo=TZ))
    assert (await run_summary_round(bot.services, bot.senders)).parts_sent == 0
    clock.set(datetime(2026, 11, 24, 17, 1, tzinfo=TZ))
    await all_summaries_sent(emulator, ids, each=6)
    await run_summary_round(bot.services, bot.senders)
    assert all(len(outputs(emulator, i)) == 6 for i in ids)


async def test_a_crash_in_the_middle_never_sends_a_part_twice(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    """Simulate a process killed after the message was sent but before it was recorded: the
    message is never repeated; the chart and workbook still come after the restart."""
    users(emulator)
    await bot.stop()
    clock.set(datetime(2026, 11, 23, 17, 30, tzinfo=TZ))
    repo = bot.services.summaries.repo
    await bot.services.storage.connect()
    tan_an_member = await bot.services.members.by_user(TAN_AN[0], channel="telegram")
    assert tan_an_member is not None
    day = clock.now().date()
    recipient = Recipient(tan_an_member.id, TAN_AN[0], TAN_AN[1], "official", "CL06", "telegram")
    assert await repo.claim(recipient, KIND_DAILY, day, clock.now()) == 0
    assert await repo.start_part(tan_an_member.id, KIND_DAILY, day, 0)  # in flight when "killed"
    await bot.services.storage.close()

    await bot.start()
    await all_summaries_sent(emulator, [MY_CAM[0], DISTRICT[0], LEADER[0]])
    await emulator.wait_until(lambda: len(outputs(emulator, TAN_AN[0])) >= 2, timeout=30)
    await run_summary_round(bot.services, bot.senders)
    assert [m.method for m in outputs(emulator, TAN_AN[0])] == ["sendPhoto", "sendDocument"]
    runs = {r.member_id: r for r in await bot.services.summaries.repo.runs(day, KIND_DAILY)}
    assert (runs[tan_an_member.id].status, runs[tan_an_member.id].error) == ("sent", "interrupted")


async def test_an_official_who_turned_it_off_gets_none_and_weekly_is_opt_in(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    people = users(emulator)
    off = (await people[MY_CAM[0]].ask("/tomtat tat")).plain_text
    assert off.startswith("Đã tắt tin tổng hợp hằng ngày")
    weekly = (await people[DISTRICT[0]].ask("/tomtat tuan bat")).plain_text
    assert weekly.startswith("Đã bật tin tổng hợp hằng tuần")
    status = (await people[DISTRICT[0]].ask("/tomtat")).plain_text
    assert "hằng ngày (lúc 17:00): đang bật" in status and "hằng tuần (thứ Hai): đang bật" in status
    refused = (await people[AGENT_TAN_AN[0]].ask("/tomtat tat")).plain_text
    assert "dành cho cán bộ phụ trách và tổ trưởng" in refused
    before = {p[0]: len(outputs(emulator, p[0])) for p in PEOPLE}

    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=TZ))
    await all_summaries_sent(emulator, [TAN_AN[0], LEADER[0]], each=before[TAN_AN[0]] + 3)
    await emulator.wait_until(lambda: len(outputs(emulator, DISTRICT[0])) >= before[DISTRICT[0]] + 6, timeout=30)
    await run_summary_round(bot.services, bot.senders)
    assert len(outputs(emulator, MY_CAM[0])) == before[MY_CAM[0]]  # turned off: nothing
    district = outputs(emulator, DISTRICT[0])[before[DISTRICT[0]]:]
    assert len(district) == 6  # the daily summary and, on a Monday, the weekly digest
    titles = [m.plain_text.split("\n")[0] for m in district if m.method == "sendMessage"]
    assert titles == [
        "📊 Tổng hợp 23/11/2026 · Huyện Càng Long",
        "📊 Tổng hợp tuần 16/11–22/11/2026 · Huyện Càng Long",
    ]


async def test_on_demand_reports_and_refusals(bot: BotHarness, emulator: BotApiEmulator) -> None:
    people = users(emulator)
    official = people[TAN_AN[0]]
    await official.say("/baocao")
    text, photo, document = await official.replies(count=3, timeout=20)
    assert (text.method, photo.method, document.method) == OUTPUTS
    assert text.plain_text.startswith("📊 Tổng hợp 23/11/2026 · Xã Tân An")

    # Another commune, a made-up code, and a code that exists outside the area: one answer.
    answers = []
    for ask in ("/baocao CL02 01/11/2026 23/11/2026", "/baocao XX99", "/baocao Mỹ Cẩm"):
        answers.append((await official.ask(ask)).plain_text)
    assert all(a.startswith("Không tìm thấy đơn vị") for a in answers)
    assert "Mỹ Cẩm" not in answers[0] and "Huyện" not in " ".join(answers)
    bad_dates = (await official.ask("/baocao 31/02/2026 23/11/2026")).plain_text
    assert bad_dates.startswith("Ngày chưa đúng")
    future = (await official.ask("/baocao 01/12/2026 31/12/2026")).plain_text
    assert future.startswith("Ngày chưa đúng")
    long = (await official.ask("/baocao " + "x" * 10_000)).plain_text
    assert long.startswith("Lệnh dài quá")

    # The district official asks for a commune by name over a range.
    district = people[DISTRICT[0]]
    await district.say("/baocao tan an 01/11/2026 30/11/2026")
    ranged = await district.replies(count=3, timeout=20)
    assert ranged[0].plain_text.startswith("📊 Báo cáo 01/11/2026–23/11/2026 · Xã Tân An")
    assert ranged[2].file_name == "bao-cao_2026-11-01_2026-11-23_xa-tan-an.xlsx"

    for junk in ("/tomtat 🙂🙂🙂", "/tomtat " + "tat " * 3000, "/tomtat tuan"):
        assert (await official.ask(junk)).plain_text.startswith("Tin tổng hợp hằng ngày (lúc 17:00): đang bật")
    assert (await bot.services.summaries.prefs(
        (await bot.services.members.by_user(TAN_AN[0], channel="telegram")).id)).daily  # type: ignore[union-attr]

    citizen = emulator.user(CITIZEN, first_name="Lan")
    assert "dành cho cán bộ phụ trách và tổ trưởng" in (await citizen.ask("/baocao")).plain_text
    assert "dành cho cán bộ phụ trách và tổ trưởng" in (await citizen.ask("/tomtat tat")).plain_text
    agent = people[AGENT_MY_CAM[0]]
    assert "/toi" in (await agent.ask("/baocao CL")).plain_text


async def test_the_demo_gives_an_official_the_summary_chart_and_workbook_at_once() -> None:
    from datetime import date

    from devtools.demo.session import run_demo

    out = io.StringIO()
    assert await run_demo(on=date(2026, 11, 23), out=out, lines=[":tomtat", ":tomtat xa"]) == 0
    transcript = out.getvalue()
    assert "📊 Tổng hợp 23/11/2026 · Huyện Càng Long" in transcript
    assert "[ảnh: tong-hop_2026-11-23_huyen-cang-long.png" in transcript
    assert "[tệp: tong-hop_2026-11-23_huyen-cang-long.xlsx" in transcript
    assert "📊 Tổng hợp 23/11/2026 · Xã Tân An" in transcript


async def test_odd_unit_names_never_cost_an_area_its_summary(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    """A `$` in a unit name (mathtext to matplotlib) and a name starting with "=" (a formula to
    a spreadsheet) are drawn and written literally: every official still gets all three parts,
    the unaffected areas as well as the affected ones."""
    from bot.domain.records import UnitRecord

    users(emulator)
    renamed = [
        UnitRecord("CL02", "Xã $x^{$ Mỹ Cẩm", "CL", "xã", present=frozenset({"name"})),
        UnitRecord("CL03", '=HYPERLINK("http://x.test","An Trường A")', "CL", "xã", present=frozenset({"name"})),
    ]
    await bot.services.units.import_tree(renamed, [], [], clock.now())
    clock.set(datetime(2026, 11, 23, 17, 0, 5, tzinfo=TZ))
    await run_summary_round(bot.services, bot.senders)  # this round or the tick's
    report = await run_summary_round(bot.services, bot.senders)
    assert report.due == 0 and report.errors == []
    runs = await bot.services.summaries.repo.runs(clock.now().date(), KIND_DAILY)
    assert sorted((r.chat_id, r.status) for r in runs) == sorted((p[0], "sent") for p in RECIPIENTS)

    text, photo, document = outputs(emulator, MY_CAM[0])
    assert text.plain_text.startswith("📊 Tổng hợp 23/11/2026 · Xã $x^{$ Mỹ Cẩm")
    assert Image.open(io.BytesIO(photo.file_bytes or b"")).size[0] == CHART_WIDTH_PX
    district = load_workbook(io.BytesIO(outputs(emulator, DISTRICT[0])[2].file_bytes or b""))
    cells = [c for ws in district.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    names = {c.value for c in cells if c.data_type == "s"}
    assert {"Xã $x^{$ Mỹ Cẩm", '=HYPERLINK("http://x.test","An Trường A")'} <= names


async def test_charts_and_workbooks_are_built_off_the_event_loop(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """matplotlib and openpyxl are CPU-bound: for /baocao and for the evening round they run
    in worker threads on plain values. The real builders run; the test records where."""
    import asyncio

    import bot.services.summaries as service_module

    where: list[tuple[str, bool]] = []

    def recording(name: str, real):  # type: ignore[no-untyped-def]
        def run(*args: object, **kwargs: object) -> bytes:
            try:
                asyncio.get_running_loop()
                where.append((name, True))
            except RuntimeError:
                where.append((name, False))
            return real(*args, **kwargs)

        return run

    for name in ("render_chart", "build_summary_workbook", "build_monthly_workbook"):
        monkeypatch.setattr(service_module, name, recording(name, getattr(service_module, name)))
    official = users(emulator)[TAN_AN[0]]
    await official.say("/baocao")
    assert [m.method for m in await official.replies(count=3, timeout=20)] == list(OUTPUTS)
    clock.set(datetime(2026, 11, 23, 17, 0, 5, tzinfo=TZ))
    await run_summary_round(bot.services, bot.senders)
    await run_summary_round(bot.services, bot.senders)
    assert all(len(outputs(emulator, p[0])) >= 3 for p in RECIPIENTS)
    assert {name for name, _ in where} == {"render_chart", "build_summary_workbook", "build_monthly_workbook"}
    assert [entry for entry in where if entry[1]] == []


async def test_stopping_the_bot_mid_round_records_the_part_in_flight_and_a_restart_finishes(
    bot: BotHarness, emulator: BotApiEmulator, clock: ManualClock
) -> None:
    """The bot is stopped while the evening round is sending (a chart held by the network):
    the stop cancels the round instead of waiting for every summary; the part in flight is
    recorded (here: no answer, so 'uncertain', never sent again), nothing is left 'sending',
    and the restarted bot sends the remaining parts, none twice."""
    users(emulator)
    ids = [p[0] for p in RECIPIENTS]
    emulator.fail_next("sendPhoto", "timeout", count=1, hold_seconds=1.0)

    def held() -> int:
        photos = sum(1 for m in emulator.sent if m.method == "sendPhoto")
        refused = sum(1 for r in emulator.rejected if r.method == "sendPhoto")
        return emulator.requests["sendPhoto"] - photos - refused

    clock.set(datetime(2026, 11, 23, 17, 30, tzinfo=TZ))
    await emulator.wait_until(lambda: held() >= 1, timeout=30)
    await bot.stop()
    assert held() == 0  # the stop waited for the part in flight to be answered and recorded
    at_stop = {i: [m.method for m in outputs(emulator, i)] for i in ids}
    (held_chat,) = {r.chat_id for r in emulator.rejected if r.method == "sendPhoto"}
    # The round was cut short: the others did not all get their workbook before the stop ended.
    assert any(len(methods) < 3 for chat, methods in at_stop.items() if chat != held_chat)
    await bot.services.storage.connect()
    statuses = Counter(run.status for run in await bot.services.summaries.repo.runs(clock.now().date()))
    # The runs cut short were given back: no lease holds them, so another instance could
    # resume them at once (scheduler/leases.py).
    held_runs = await RawSql(bot.services.storage).fetchall(
        "SELECT COUNT(*) FROM summary_runs WHERE lease_until IS NOT NULL AND status = 'claimed'"
    )
    await bot.services.storage.close()
    assert held_runs == [(0,)] and statuses.get("claimed", 0) > 0
    assert "sending" not in statuses and statuses.get("uncertain", 0) == 0

    await bot.start()
    await emulator.wait_until(
        lambda: all(outputs(emulator, i) and outputs(emulator, i)[-1].method == "sendDocument" for i in ids),
        timeout=30,
    )
    await run_summary_round(bot.services, bot.senders)
    for i in ids:
        methods = [m.method for m in outputs(emulator, i)]
        assert len(methods) == len(set(methods))  # no part twice
        assert methods in (list(OUTPUTS), ["sendMessage", "sendDocument"])  # the held chart: uncertain
    runs = await bot.services.summaries.repo.runs(clock.now().date(), KIND_DAILY)
    assert sorted(r.status for r in runs) == ["sent"] * len(ids)
