"""The ZNS rules one at a time: Zalo's codes to actions (through the real client against the
emulator), allowed hours and the next morning, the quota pause and its resumption, the
template file, the channel of a reminder, the legal-basis flag of an imported list."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.cli import main as cli_main
from bot.domain.campaigns import CampaignsError
from bot.domain.clock import ManualClock
from bot.domain.reminders import Hours
from bot.domain.zns import (
    ZALO_OA,
    ZNS,
    ZnsAccepted,
    ZnsAction,
    ZnsFailed,
    ZnsPause,
    ZnsTemplates,
    ZnsTemplatesError,
    choose_channel,
    next_morning,
)
from bot.settings import Settings
from handlers.zalo.errors import ZNS_CODES, ErrorClass
from handlers.zalo.transport import ZaloError
from handlers.zalo.zns_sender import zns_outcome
from tests.conftest import TZ
from tests.zns_support import BASIS, card, phone, zns_world

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- codes -> actions


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (-133, ZnsAction.NIGHT),
        (-144, ZnsAction.DAILY_LIMIT),
        (-147, ZnsAction.DAILY_LIMIT),
        (-115, ZnsAction.STOP_QUEUE),
        (-131, ZnsAction.STOP_QUEUE),
        (-135, ZnsAction.STOP_QUEUE),
        (-146, ZnsAction.STOP_QUEUE),
        (-108, ZnsAction.NEVER_RETRY),
        (-118, ZnsAction.NEVER_RETRY),
        (-139, ZnsAction.NEVER_RETRY),
        (-141, ZnsAction.NEVER_RETRY),
        (-32, ZnsAction.RETRY_LATER),
        (-999, ZnsAction.NEVER_RETRY),  # unmapped: refused, reaches a person, never loops
    ],
)
async def test_each_zalo_answer_becomes_one_action_through_the_real_client(
    tmp_path: Path, code: int, action: ZnsAction
) -> None:
    async with zns_world(tmp_path, ManualClock(NOON)) as world:
        world.zalo.emulator.fail_next("message/template", "error", code=code)
        outcome = await world.queue.port.send(phone(7), world.queue.templates.reminder.template_id, _data(world), "t1")
        assert isinstance(outcome, ZnsFailed) and outcome.action is action and outcome.code == code
        assert outcome.refused_by_user == (code in (-139, -141))


async def test_a_timeout_after_the_request_was_written_is_unknown_and_accepted_carries_the_quota(
    tmp_path: Path,
) -> None:
    async with zns_world(tmp_path, ManualClock(NOON)) as world:
        world.zalo.emulator.fail_next("message/template", "timeout_after_accept", hold_seconds=0.01)
        template = world.queue.templates.reminder.template_id
        outcome = await world.queue.port.send(phone(7), template, _data(world), "t1")
        assert isinstance(outcome, ZnsFailed) and outcome.action is ZnsAction.UNKNOWN
        accepted = await world.queue.port.send(phone(8), template, _data(world), "t2")
        assert isinstance(accepted, ZnsAccepted) and accepted.msg_id
        assert accepted.remaining_quota == world.zalo.emulator.zns.remaining_today()


def test_every_mapped_zns_code_has_an_action() -> None:
    for code, (cls, _) in ZNS_CODES.items():
        outcome = zns_outcome(ZaloError(code, cls, "x"))
        assert isinstance(outcome, ZnsFailed)
        if cls is ErrorClass.STOP_QUEUE and code not in (-144, -147):
            assert outcome.action is ZnsAction.STOP_QUEUE
    assert zns_outcome(ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, "x")).action is ZnsAction.UNKNOWN  # type: ignore[union-attr]


def _data(world: object) -> dict[str, str]:
    return {name: "giá trị" for name in world.queue.templates.reminder.params}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- hours and pause


def test_allowed_hours_and_the_next_morning() -> None:
    hours = Hours()
    assert hours.allows(NOON.replace(hour=8)) and not hours.allows(NOON.replace(hour=20))
    assert not hours.allows(NOON.replace(hour=7, minute=59))
    assert next_morning(hours, NOON.replace(hour=19, minute=30)) == NOON.replace(hour=8) + timedelta(days=1)
    assert next_morning(hours, NOON.replace(hour=6)) == NOON.replace(hour=8)
    late = Hours(time(9, 30), time(17, 0))
    assert next_morning(late, NOON) == NOON.replace(hour=9, minute=30) + timedelta(days=1)


def test_the_quota_pause_lasts_until_the_next_morning() -> None:
    pause = ZnsPause(Hours())
    assert not pause.active(NOON)
    assert not pause.after_accepted(NOON, ZnsAccepted("m", 3, 500))
    assert pause.after_accepted(NOON, ZnsAccepted("m", 0, 500))
    assert pause.active(NOON + timedelta(hours=7)) and pause.active(NOON + timedelta(hours=19, minutes=59))
    assert not pause.active(NOON + timedelta(hours=20))  # 08:00 the next day: resumes
    assert not ZnsPause(Hours()).after_accepted(NOON, ZnsAccepted("m", None, None))


async def test_a_quota_answer_pauses_the_queue_and_it_resumes_the_next_day(tmp_path: Path) -> None:
    clock = ManualClock(NOON)
    async with zns_world(tmp_path, clock) as world:
        world.zalo.emulator.zns.daily_quota = 3
        await world.services.cards.repo.import_cards([card(n) for n in range(1, 6)], "l.csv", NOON, legal_basis=BASIS)
        report = await world.round(NOON)
        assert report.zns is not None and report.zns.sent == 3 and report.zns.backlog == 2
        assert report.zns.paused_until == NOON.replace(hour=8) + timedelta(days=1)
        report = await world.round(NOON + timedelta(hours=2))  # same day: nothing is tried
        assert report.zns is not None and report.zns.sent == 0 and len(world.zalo.emulator.zns.sent) == 3
        report = await world.round(NOON.replace(hour=8) + timedelta(days=1))
        assert report.zns is not None and report.zns.sent == 2 and report.zns.backlog == 0


# --------------------------------------------------------------------------- templates


def test_the_packaged_template_file_loads_and_matches_the_text_to_submit() -> None:
    templates = ZnsTemplates.load()
    assert templates.price_per_message == 300
    docs = (ROOT / "docs" / "ZALO-OA.md").read_text(encoding="utf-8")
    section = docs[docs.index("### 5. Mẫu tin ZNS") : docs.index("### 6.")]
    assert set(re.findall(r"`<([a-z_]+)>`", section)) - {"chu_thuong_khong_dau"} == set(templates.reminder.params)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('price_per_message = 300\n[reminder]\ntemplate_id = "1"\n[reminder.params]\nho_ten = "tuoi"', "reminder.params"),
        ('price_per_message = 300\n[reminder]\ntemplate_id = "1"\n[reminder.params]\nHo_Ten = "name"', "Ho_Ten"),
        ('price_per_message = -1\n[reminder]\ntemplate_id = "1"\n[reminder.params]\nho_ten = "name"', "price_per_message"),
        ('price_per_message = 300\n[reminder]\ntemplate_id = "1"\n[reminder.params]\n'
         + "\n".join(f'p{n} = "name"' for n in range(11)), "1 to 10 parameters"),
        ('price_per_message = 300\n[reminder]\n[reminder.params]\nho_ten = "name"', "template_id"),
    ],
)
def test_a_wrong_template_file_stops_start_up_with_one_line(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "zns.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ZnsTemplatesError) as raised:
        ZnsTemplates.load(path)
    assert named in str(raised.value) and "\n" not in str(raised.value)
    assert isinstance(raised.value, CampaignsError)  # start-up reports these in one line
    settings = Settings(_env_file=None, zns_templates_path=path, database_path=tmp_path / "b.sqlite3")  # type: ignore[call-arg]
    with pytest.raises(ZnsTemplatesError):
        build_services(settings)


# --------------------------------------------------------------------------- channel choice


def test_the_channel_of_a_reminder_is_the_cheapest_that_reaches_the_person() -> None:
    assert choose_channel("telegram", True, True, True) == "telegram"
    assert choose_channel(None, True, True, True) == ZALO_OA
    assert choose_channel(ZALO_OA, True, True, True) == ZALO_OA
    assert choose_channel(ZALO_OA, True, False, True) == ZNS  # linked on Zalo, the window closed
    assert choose_channel(None, True, False, True) == ZNS
    assert choose_channel(None, False, False, True) == ZNS
    assert choose_channel(None, True, False, False) is None  # the agents' door list
    assert choose_channel(None, False, False, False) is None


async def test_channel_choice_in_the_outbox(tmp_path: Path) -> None:
    """Telegram-linked -> telegram; Zalo follower inside the window -> zalo_oa; follower silent
    for three days -> zns; not linked -> zns; list without legal basis -> nobody."""
    clock = ManualClock(NOON)
    async with zns_world(tmp_path, clock) as world:
        repo, cards, reminders = world.services.cards.repo, world.services.cards.repo, world.services.reminders
        await cards.import_cards([card(n) for n in range(1, 6)], "l.csv", NOON, legal_basis=BASIS)
        await cards.import_cards([card(9)], "other.csv", NOON)
        await repo.link_phones([(1, phone(1))], NOON, channel="telegram")
        await repo.link_phones([(2, phone(2)), (3, phone(3)), (11, phone(1))], NOON, channel="zalo_oa")
        await reminders.repo.record_interaction(11, NOON)  # person 1 on Zalo too: Telegram wins
        await reminders.repo.record_interaction(2, NOON - timedelta(hours=3))
        await reminders.repo.record_interaction(3, NOON - timedelta(days=3))
        await reminders.repo.record_follower(4, True, NOON)  # follows, unrelated id: no effect
        assert await reminders.queue_round(NOON) == 2
        assert await reminders.queue_zns(NOON) == 3
        rows = world.rows("SELECT channel, COALESCE(phone, person_key) FROM reminder_outbox ORDER BY 2")
        assert rows == [("telegram", phone(1)), ("zalo_oa", phone(2)), ("zns", phone(3)), ("zns", phone(4)),
                        ("zns", phone(5))]
        assert await reminders.queue_zns(NOON + timedelta(days=1)) == 0  # one per phone and expiry


async def test_zns_off_queues_nothing_and_an_opt_out_in_between_is_honoured(tmp_path: Path) -> None:
    clock = ManualClock(NOON)
    async with zns_world(tmp_path, clock, zns_enabled=False) as world:
        await world.services.cards.repo.import_cards([card(n) for n in range(1, 3)], "l.csv", NOON, legal_basis=BASIS)
        report = await world.round(NOON)
        assert report.zns is not None and report.zns.queued == 0 and not world.zalo.emulator.zns.sent
    async with zns_world(tmp_path / "b", clock) as world:
        repo = world.services.reminders.repo
        await world.services.cards.repo.import_cards([card(n) for n in range(1, 3)], "l.csv", NOON, legal_basis=BASIS)
        assert await world.services.reminders.queue_zns(NOON) == 2
        # Person 1 links on Telegram and opts out before the round sends.
        await world.services.cards.repo.link_phones([(1, phone(1))], NOON, channel="telegram")
        await repo.set_opted_out(1, True, NOON, "telegram")
        report = await world.round(NOON)
        assert report.zns is not None and report.zns.sent == 1 and report.zns.skipped == 1
        assert [m.phone for m in world.zalo.emulator.zns.sent] == ["84" + phone(2)[1:]]


# --------------------------------------------------------------------------- legal basis


def test_the_import_command_records_the_legal_basis_and_a_plain_import_clears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "the_het_han_2026.csv"
    target.write_bytes((resources.files("bot") / "data" / "samples" / "the_het_han_2026.csv").read_bytes())
    cli_main(["import", "cards", str(target), "--legal-basis", BASIS])
    conn = sqlite3.connect(tmp_path / "cli.sqlite3")
    try:
        assert conn.execute("SELECT COUNT(*), COUNT(contact_basis), MIN(contact_basis) FROM cards").fetchone() == (369, 369, BASIS)
        cli_main(["import", "cards", str(target)])
        assert conn.execute("SELECT COUNT(contact_basis) FROM cards").fetchone() == (0,)
    finally:
        conn.close()


async def test_follows_messages_and_unfollows_through_the_webhook_decide_the_oa_window(tmp_path: Path) -> None:
    """The worker's reminder hook keeps the follower table from real signed events: a person
    linked on Zalo who wrote within 48 h gets the OA reminder (free); once they unfollow, the
    reminder about the next expiry goes by ZNS (their list has a legal basis)."""
    clock = ManualClock(NOON)
    async with zns_world(tmp_path, clock) as world:
        services = world.services
        lan = world.zalo.emulator.add_user("Trần Thị Lan")
        await lan.follow()
        await lan.say("xin chào")
        while await world.zalo.drain():
            pass
        user_id = await services.storage.identities.user_id(ZALO_OA, lan.user_id, NOON)
        await services.cards.repo.import_cards([card(1)], "l.csv", NOON, legal_basis=BASIS)
        await services.cards.repo.link_phones([(user_id, phone(1))], NOON, channel=ZALO_OA)
        assert world.rows("SELECT following FROM zalo_followers WHERE user_id = ?", user_id) == [(1,)]
        assert await services.reminders.queue_round(NOON) == 1
        assert await services.reminders.queue_zns(NOON) == 0  # the OA reaches her for free
        await lan.unfollow()
        while await world.zalo.drain():
            pass
        assert world.rows("SELECT following FROM zalo_followers WHERE user_id = ?", user_id) == [(0,)]
        later = NOON + timedelta(days=1)
        conn = sqlite3.connect(world.zalo.db.path)
        conn.execute("UPDATE cards SET valid_to = '2026-09-25'")  # a newer expiry on the list
        conn.execute("UPDATE reminder_outbox SET status = 'sent', done_on = '2026-11-24'")  # the OA reminder went
        conn.commit()
        conn.close()
        assert await services.reminders.queue_zns(later) == 1  # unfollowed: ZNS by phone


# --------------------------------------------------------------------------- the summary


def test_the_daily_summary_shows_zns_figures_only_once_zns_was_used() -> None:
    from openpyxl import load_workbook

    from bot.domain.summary import ReminderFigures, render_summary
    from bot.reports.summary_xlsx import build_summary_workbook
    from devtools.telegram_emulator import validate_html
    from tests.test_summary import seed_003_rows, summary_of

    plain = validate_html(render_summary(summary_of(seed_003_rows())))
    assert "ZNS" not in plain
    zns = ReminderFigures(1240, 1200, 87, by_zns=900, zns_delivered=850, refused=12, unknown=3, zns_cost=270_000)
    data = summary_of(seed_003_rows(), reminders_to_date=zns)
    plain = validate_html(render_summary(data))
    assert "qua ZNS 900 tin, Zalo xác nhận đã giao 850, bị từ chối 12, chưa rõ 3, chi phí 270.000 đ." in plain
    import io

    sheet = load_workbook(io.BytesIO(build_summary_workbook(data))).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(row[:6] == ["Từ đầu chiến dịch nhắc hạn", 900, 850, 12, 3, 270_000] for row in values)


async def test_a_stop_keeps_the_backlog_a_refusal_keeps_its_reason_an_unknown_is_never_resent(tmp_path: Path) -> None:
    clock = ManualClock(NOON)
    async with zns_world(tmp_path, clock) as world:
        emu = world.zalo.emulator
        world.queue.concurrency = 1  # one request at a time: the faults meet known rows
        emu.add_phone(phone(3), bound=False)  # −118: no Zalo account
        await world.services.cards.repo.import_cards([card(n) for n in range(1, 5)], "l.csv", NOON, legal_basis=BASIS)
        emu.fail_next("message/template", "error", code=-115)  # the wallet is empty
        report = await world.round(NOON)
        assert report.zns is not None and report.zns.sent == 0 and report.zns.backlog == 4
        assert report.zns.stopped is not None and "-115" in report.zns.stopped
        assert world.rows("SELECT status, error_class, attempts FROM reminder_outbox WHERE id = 1") == [
            ("pending", "stop_queue", 0)]
        emu.fail_next("message/template", "timeout_after_accept", hold_seconds=0.01)  # row 1: unknown
        report = await world.round(NOON + timedelta(minutes=5))
        assert report.zns is not None and (report.zns.sent, report.zns.unknown, report.zns.refused) == (2, 1, 1)
        assert world.rows("SELECT status, error FROM reminder_outbox WHERE phone = ?", phone(3)) == [
            ("refused", "zalo -118: no Zalo account for this phone, or disabled")]
        report = await world.round(NOON + timedelta(days=1))  # nothing is resent, ever
        assert report.zns is not None and report.zns.sent == 0 and len(emu.zns.sent) == 3
        assert world.rows("SELECT status FROM reminder_outbox WHERE id = 1") == [("unknown",)]
        await world.receipts()
        assert world.rows("SELECT status FROM reminder_outbox WHERE id = 1") == [("delivered",)]


# --------------------------------------------------------------------------- the migration


async def test_migration_0042_keeps_the_rows_of_an_existing_outbox(tmp_path: Path) -> None:
    """A database at 0041 with Telegram rows (integer message ids) upgrades in place: the rows
    keep their status and history, gain the person's phone as their key, and queueing goes on
    without repeating them."""
    from storage.sqlite.db import Database, migration_files

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for number, name, sql in migration_files():
        if number < 42:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations(number, name) VALUES (?, ?)", (number, name))
    conn.execute("INSERT INTO contact_phones(channel, user_id, phone, verified_at) VALUES ('telegram', 7, ?, 'x')",
                 (phone(7),))
    conn.execute(
        "INSERT INTO reminder_outbox(campaign_code, channel, user_id, seq, queued_at, queued_on, status, done_on,"
        " message_id) VALUES ('NHAC-2026', 'telegram', 7, 1, 'x', '2026-11-20', 'sent', '2026-11-20', 4242)"
    )
    conn.commit()
    conn.close()
    db = Database(path)
    await db.connect()
    try:
        row = await db.fetchone(
            "SELECT channel, user_id, person_key, card_expiry, status, message_id, typeof(message_id), cost"
            " FROM reminder_outbox"
        )
        assert tuple(row or ()) == ("telegram", 7, phone(7), None, "sent", "4242", "text", 0)
    finally:
        await db.close()
