"""Scheduled sends go through the sender of each person's channel, with the same ledgers.

The reminder outbox and the summary ledger know no channel library: here they run against
recording senders (channel doubles implementing `bot.chat.model.Sender`) for Zalo's channel
name and for Telegram's, on a real SQLite file, without Telegram or its emulator. What the
Telegram sender does with the Bot API's answers is covered end to end in
tests/test_e2e_reminders.py and tests/test_e2e_summaries.py; the second-to-last test here
checks its "chat not found" mapping against the emulator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.chat.model import (
    TELEGRAM,
    ZALO_OA,
    Blocked,
    Capabilities,
    Delivered,
    Person,
    Reply,
    RetryAfter,
    SendResult,
    Unknown,
)
from bot.domain.clock import ManualClock
from bot.domain.records import CLI_ACTOR, KIND_DAILY
from bot.domain.roles import Role
from bot.imports.organisation import import_units
from bot.services import Services
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator
from scheduler.reminders import NO_SENDER, run_reminder_round
from scheduler.summaries import run_summary_round
from tests.conftest import TZ, BotHarness
from tests.reminder_support import link_people, people

ZALO = ZALO_OA.name
EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)
SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "data" / "samples"


class RecordingSender:
    """A channel double: records every send and answers from a per-person script (then
    Delivered). It paces nothing, so the rounds space and wait out RetryAfter themselves."""

    def __init__(self, capabilities: Capabilities, script: dict[str, list[SendResult]] | None = None) -> None:
        self._capabilities = capabilities
        self.script = script or {}
        self.attempts: list[tuple[Person, Reply]] = []
        self.delivered: list[tuple[Person, Reply]] = []

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def send(self, person: Person, reply: Reply) -> SendResult:
        self.attempts.append((person, reply))
        planned = self.script.get(person.id)
        result = planned.pop(0) if planned else Delivered(f"m{len(self.delivered)}")
        if isinstance(result, Delivered):
            self.delivered.append((person, reply))
        return result

    def per_person(self) -> Counter[str]:
        return Counter(person.id for person, _ in self.delivered)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(_env_file=None, database_path=tmp_path / "senders.sqlite3")  # type: ignore[call-arg]
    built = build_services(settings, ManualClock(EVENING))
    await built.storage.connect()
    try:
        yield built
    finally:
        await built.storage.close()


async def test_a_second_channel_is_reminded_through_its_own_sender_exactly_once(services: Services) -> None:
    """Zalo rows go through the Zalo sender with the outbox's guarantees: one reminder each,
    a blocked person recorded and never written to again, a RetryAfter waited out and sent
    once, an unknown outcome sent again later (at least once, as on Telegram)."""
    ann, binh, cuc, dung = (str(u) for u in people(5100, 4))
    await link_people(services.cards.repo, [int(ann), int(binh), int(cuc), int(dung)], EVENING, channel=ZALO)
    zalo = RecordingSender(ZALO_OA, {
        binh: [Blocked()],
        cuc: [RetryAfter(0.01)],
        dung: [Unknown("TimedOut")],
    })
    first = await run_reminder_round(services, {ZALO: zalo})
    assert (first.queued, first.sent, first.blocked, first.rate_limited, first.retried) == (4, 2, 1, 1, 1)
    assert first.sent_by_channel == {ZALO: 2} and first.no_sender == 0
    assert await services.reminders.repo.status_counts() == {"sent": 2, "blocked": 1, "pending": 1}
    assert await services.reminders.repo.is_blocked(int(binh), ZALO)
    assert not await services.reminders.repo.is_blocked(int(binh), TELEGRAM.name)  # per channel

    person, reply = zalo.delivered[0]
    assert person == Person(ZALO, ann)
    assert reply.text.plain.startswith("Chào") and "Không muốn nhận nhắc nữa" in reply.text.plain
    assert [b.payload for b in reply.flat_buttons] == ["rc:cost", "rc:done", "rc:stop"]

    services.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    second = await run_reminder_round(services, {ZALO: zalo})
    assert (second.queued, second.sent) == (0, 1)
    third = await run_reminder_round(services, {ZALO: zalo})
    assert (third.queued, third.sent, len(zalo.attempts)) == (0, 0, 6)
    assert zalo.per_person() == {ann: 1, cuc: 1, dung: 1}
    assert await services.reminders.repo.status_counts() == {"sent": 3, "blocked": 1}


async def test_rows_of_a_channel_without_a_sender_wait_visibly_and_go_once_it_is_configured(
    services: Services,
) -> None:
    zalo_people = people(5200, 2)
    telegram_people = people(5300, 3)
    await link_people(services.cards.repo, zalo_people, EVENING, channel=ZALO)
    await link_people(services.cards.repo, telegram_people, EVENING, channel=TELEGRAM.name)
    zalo = RecordingSender(ZALO_OA)
    first = await run_reminder_round(services, {ZALO: zalo})
    assert (first.queued, first.sent, first.no_sender, first.skipped) == (5, 2, 3, 0)
    assert "no sender 3" in first.summary()
    assert await services.reminders.repo.status_counts() == {"sent": 2, "pending": 3}
    assert await services.reminders.repo.waiting_by_channel() == {(TELEGRAM.name, NO_SENDER): 3}
    assert {person.channel for person, _ in zalo.delivered} == {ZALO}

    telegram = RecordingSender(TELEGRAM)
    second = await run_reminder_round(services, {ZALO: zalo, TELEGRAM.name: telegram})
    assert (second.sent, second.no_sender) == (3, 0)
    assert telegram.per_person() == {str(u): 1 for u in telegram_people}
    assert zalo.per_person() == {str(u): 1 for u in zalo_people}
    assert await services.reminders.repo.status_counts() == {"sent": 5}


async def test_an_official_on_a_second_channel_gets_one_summary_through_its_sender(services: Services) -> None:
    """Officials are selected on every channel; each gets message, chart and workbook once,
    through their own channel's sender; one whose channel has no sender is held, visibly."""
    await import_units(SAMPLES / "units_cang_long.csv", services.units, services.clock)
    now = services.clock.now()
    on_zalo = await services.members.add(
        full_name="Đoàn Thị My", role=Role.OFFICIAL, unit_code="CL06", actor=CLI_ACTOR, at=now,
        user_id=7001, channel=ZALO,
    )
    on_telegram = await services.members.add(
        full_name="Văn Hà Thu", role=Role.OFFICIAL, unit_code="CL02", actor=CLI_ACTOR, at=now,
        user_id=7002, channel=TELEGRAM.name,
    )
    services.clock.set(datetime(2026, 11, 24, 17, 5, tzinfo=TZ))  # type: ignore[attr-defined]
    zalo = RecordingSender(ZALO_OA)
    report = await run_summary_round(services, {ZALO: zalo}, chat_spacing=0)
    assert (report.due, report.completed, report.parts_sent, report.no_sender) == (2, 1, 3, 1)
    assert [person for person, _ in zalo.delivered] == [Person(ZALO, "7001")] * 3
    text, chart, workbook = (reply for _, reply in zalo.delivered)
    assert text.text.plain.startswith("📊 Tổng hợp 24/11/2026 · Xã Tân An") and not text.files
    assert [f.kind for f in chart.files] == ["png"] and chart.files[0].content.startswith(b"\x89PNG")
    assert [f.kind for f in workbook.files] == ["xlsx"] and workbook.files[0].name.endswith(".xlsx")
    runs = {r.member_id: r for r in await services.summaries.repo.runs(services.clock.now().date(), KIND_DAILY)}
    assert (runs[on_zalo].status, runs[on_zalo].parts_done) == ("sent", 3)
    assert (runs[on_telegram].status, runs[on_telegram].parts_done, runs[on_telegram].error) == (
        "claimed", 0, "no_sender")

    again = await run_summary_round(services, {ZALO: zalo}, chat_spacing=0)
    assert again.parts_sent == 0 and again.no_sender == 1 and len(zalo.attempts) == 3
    telegram = RecordingSender(TELEGRAM)
    last = await run_summary_round(services, {ZALO: zalo, TELEGRAM.name: telegram}, chat_spacing=0)
    assert (last.completed, last.parts_sent, last.no_sender) == (1, 3, 0)
    assert telegram.per_person() == {"7002": 3} and len(zalo.attempts) == 3


async def test_telegram_chat_not_found_is_blocked_and_never_tried_again(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """TelegramSender maps 400 "chat not found" to Blocked: the row is 'blocked', the person
    recorded as blocked on Telegram, and the next week's round does not write to them."""
    harness = BotHarness(emulator, tmp_path / "bot.sqlite3", ManualClock(EVENING))
    await harness.start()
    try:
        ann, ghost = people(5400, 2)
        await link_people(harness.services.cards.repo, [ann, ghost], EVENING)
        emulator.user(ann, first_name="An")  # the ghost never opened a chat with the bot
        report = await run_reminder_round(harness.services, harness.senders)
        assert (report.sent, report.blocked) == (1, 1)
        assert await harness.services.reminders.repo.is_blocked(ghost, TELEGRAM.name)
        tried = emulator.requests["sendMessage"]
        harness.clock.advance(timedelta(days=7))
        assert (await run_reminder_round(harness.services, harness.senders)).sent == 1
        assert emulator.requests["sendMessage"] == tried + 1  # only Ann
    finally:
        await harness.stop()


def test_the_wiring_registers_a_sender_for_each_configured_channel(tmp_path: Path) -> None:
    from handlers.telegram.app import build_application, senders_of
    from tests.conftest import TOKEN

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, database_path=tmp_path / "w.sqlite3"
    )
    application = build_application(settings, token=TOKEN)
    senders = senders_of(application)
    assert set(senders) == {TELEGRAM.name}
    assert senders[TELEGRAM.name].capabilities == TELEGRAM
