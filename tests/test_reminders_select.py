"""Who is reminded and when: the pure rules, the campaign file, and the SQL that must agree."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cards import Card
from bot.domain.records import AuditActor, UnitRecord
from bot.domain.reminders import (
    Cadence,
    DueReason,
    Hours,
    ReminderCampaign,
    ReminderPlan,
    ReminderPlanError,
    backoff,
    card_reason,
    is_person_due,
    selection_window,
)
from bot.domain.roles import Role
from storage.contract import Storage
from tests.storage_engines import ENGINES, RawSql, opened_storage

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(9, 0), tzinfo=TZ)
CAMPAIGN = ReminderCampaign(
    code="T-2026", name="Thử", year=2026, start=date(2026, 10, 1), end=date(2026, 12, 31), expiring_within_days=30
)


# --------------------------------------------------------------------------- campaigns as data


def test_packaged_plan_and_defaults() -> None:
    plan = ReminderPlan.load()
    (campaign,) = plan.running_on(TODAY)
    assert campaign.window_from == date(2026, 1, 1) and campaign.window_to == date(2026, 9, 30)
    bare = ReminderCampaign(code="X", name="X", year=2025, start=date(2025, 10, 1), end=date(2025, 12, 31))
    assert (bare.window_from, bare.window_to, bare.expiring_within_days) == (date(2025, 1, 1), date(2025, 9, 30), 0)
    assert plan.running_on(date(2027, 1, 1)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[campaign]]\ncode = "A"\nname = "A"\nyear = 2026\nstart = 2026-10-01\nend = 2026-09-01\n', "before start"),
        ('[[campaign]]\ncode = "A"\nname = "A"\nyear = 2026\nstart = 2026-10-01\nend = 2026-12-01\ncolour = 1\n', "colour"),
        ('[[campaign]]\ncode = "A"\nname = "A"\nyear = 2026\nstart = 2026-10-01\nend = 2026-12-01\n' * 2, "already used"),
        ("[[campaign]\n", "invalid TOML"),
        ('[[campaign]]\ncode = "A"\nname = "A"\nyear = 2026\nstart = 2026-10-01\nend = 2026-12-01\n'
         "lapsed_from = 2026-09-01\nlapsed_to = 2026-01-01\n", "lapsed_to"),
    ],
)
def test_broken_plan_names_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "reminders.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReminderPlanError) as caught:
        ReminderPlan.load(path)
    assert message in str(caught.value)


# --------------------------------------------------------------------------- pure rules


def test_card_reason_window_boundaries() -> None:
    reason = lambda valid_to, **kw: card_reason(CAMPAIGN, valid_to, TODAY, kw.get("renewed", False), kw.get("claimed", False))  # noqa: E731
    assert reason(date(2025, 12, 31)) is None
    assert reason(date(2026, 1, 1)) is DueReason.LAPSED
    assert reason(date(2026, 9, 30)) is DueReason.LAPSED
    assert reason(date(2026, 10, 15)) is None  # lapsed after the window: not this campaign
    assert reason(TODAY - timedelta(days=1)) is None
    assert reason(TODAY) is DueReason.EXPIRING
    assert reason(TODAY + timedelta(days=30)) is DueReason.EXPIRING
    assert reason(TODAY + timedelta(days=31)) is None
    assert reason(date(2026, 3, 1), renewed=True) is None
    assert reason(date(2026, 3, 1), claimed=True) is None
    early = ReminderCampaign(code="E", name="E", year=2026, start=date(2026, 3, 1), end=date(2026, 12, 31))
    # A window still open: only cards already expired (before today) count as lapsed.
    assert card_reason(early, date(2026, 3, 10), date(2026, 3, 10), False, False) is None
    assert card_reason(early, date(2026, 3, 9), date(2026, 3, 10), False, False) is DueReason.LAPSED


def test_cadence() -> None:
    cadence = Cadence(interval_days=7, max_count=3)
    due = lambda **kw: is_person_due(  # noqa: E731
        cadence, TODAY, kw.get("counted", 0), kw.get("last_on"), kw.get("open_row", False),
        kw.get("opted_out", False), kw.get("blocked", False), kw.get("has_due_card", True),
    )
    assert due()
    assert due(counted=1, last_on=TODAY - timedelta(days=7))
    assert not due(counted=1, last_on=TODAY - timedelta(days=6))
    assert not due(counted=3, last_on=TODAY - timedelta(days=60))
    assert not due(open_row=True)
    assert not due(opted_out=True)
    assert not due(blocked=True)
    assert not due(has_due_card=False)


def test_hours() -> None:
    hours = Hours(time(8, 0), time(20, 0))
    at = lambda h, m=0: datetime(2026, 11, 23, h, m, tzinfo=TZ)  # noqa: E731
    assert not hours.allows(at(7, 59)) and hours.allows(at(8)) and hours.allows(at(19, 59)) and not hours.allows(at(20))
    assert hours.next_opening(at(21)) == datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    assert hours.next_opening(at(6)) == at(8)
    assert hours.next_opening(at(9)) == at(9)
    night = Hours(time(22, 0), time(2, 0))
    assert night.allows(at(23)) and night.allows(at(1)) and not night.allows(at(12))


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20) == timedelta(hours=1)


# --------------------------------------------------------------------------- SQL == rules


@pytest.fixture(params=ENGINES)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Each engine, opened as the application opens it: these tests check its SQL."""
    async with opened_storage(tmp_path / "select.sqlite3", request.param) as opened:
        yield opened


async def _scenario(storage: Storage, seed: int) -> dict[int, bool]:
    """Random cards, links, renewals, claims, choices and history; returns who the rules say is due."""
    rng = random.Random(seed)
    db = RawSql(storage)
    cards_repo = storage.cards
    await storage.units.import_tree([UnitRecord("CL01", "Xã A", None, "xã")], [], [], NOW)
    member = await storage.members.add(
        full_name="Người thu", role=Role.AGENT, unit_code="CL01", actor=AuditActor(), at=NOW, channel="telegram"
    )
    cards: list[Card] = []
    for i in range(240):
        valid_to = date(2025, 11, 1) + timedelta(days=rng.randrange(0, 520))
        cards.append(Card(
            bhxh_code=f"84{i:08d}", full_name=f"Người {i}", unit_code="CL01", valid_to=valid_to,
            household_code=f"H{rng.randrange(90)}" if rng.random() < 0.9 else None,
            phone=f"09{rng.randrange(120):08d}" if rng.random() < 0.7 else None,
        ))
    await cards_repo.import_cards(cards, "test", NOW)
    phones = sorted({c.phone for c in cards if c.phone})
    users = {1000 + n: phone for n, phone in enumerate(rng.sample(phones, 60))}
    for user, phone in users.items():
        await cards_repo.link_phone(user, phone, NOW, channel="telegram")
    renewed, claimed = set(), set()
    for c in rng.sample(cards, 40):
        ends = c.valid_to + timedelta(days=rng.choice([-30, 365]))
        await db.execute(
            "INSERT INTO enrolments(agent_id, unit_code, scheme, participant_name, participant_code, code_kind,"
            " months, period_start, period_end, amount_expected, amount_paid, status, created_at, created_on)"
            " VALUES (?, 'CL01', 'bhyt_household', 'x', ?, 'bhxh', 12, ?, ?, 0, 0, ?, ?, ?)",
            member, c.bhxh_code, c.valid_to.isoformat(), ends.isoformat(),
            rng.choice(["active", "active", "voided"]), NOW.isoformat(), TODAY.isoformat(),
        )
        found = await db.fetchall("SELECT 1 FROM enrolments WHERE participant_code = ? AND status = 'active'"
                                  " AND period_end > ?", c.bhxh_code, c.valid_to.isoformat())
        if found:
            renewed.add(c.bhxh_code)
    for c in rng.sample(cards, 25):
        status = rng.choice(["pending", "confirmed", "rejected"])
        await db.execute(
            "INSERT INTO renewal_claims(user_id, bhxh_code, card_valid_to, claimed_at, claimed_on, status)"
            " VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            c.bhxh_code, c.valid_to.isoformat(), NOW.isoformat(), TODAY.isoformat(), status,
        )
        if status != "rejected":
            claimed.add(c.bhxh_code)
    history: dict[int, list[tuple[str, date]]] = {}
    for user in users:
        if rng.random() < 0.2:
            await db.execute("INSERT INTO reminder_prefs(user_id, opted_out, changed_at, changed_on) VALUES (?, 1, 'x', 'x')", user)
        if rng.random() < 0.1:
            await db.execute("INSERT INTO reminder_blocks(user_id, blocked_at, blocked_on) VALUES (?, 'x', 'x')", user)
        rows = []
        for seq in range(1, rng.randrange(0, 5)):
            status = rng.choice(["sent", "sent", "failed", "skipped", "blocked", "pending"])
            done = TODAY - timedelta(days=rng.randrange(0, 20))
            rows.append((status, done))
            await db.execute(
                "INSERT INTO reminder_outbox(campaign_code, user_id, person_key, seq, queued_at, queued_on,"
                " status, done_on) VALUES (?, ?, ?, ?, 'x', 'x', ?, ?)",
                CAMPAIGN.code, user, f"telegram:{user}", seq, status, done.isoformat() if status != "pending" else None,
            )
        history[user] = rows
    opted = {r[0] for r in await db.fetchall("SELECT user_id FROM reminder_prefs WHERE opted_out = 1")}
    blocked = {r[0] for r in await db.fetchall("SELECT user_id FROM reminder_blocks WHERE cleared_at IS NULL")}

    cadence = Cadence(7, 3)
    expected: dict[int, bool] = {}
    for user, phone in users.items():
        own = [c for c in cards if c.phone == phone]
        homes = {c.household_code for c in own if c.household_code}
        linked = {c.bhxh_code: c for c in cards if c.phone == phone or (c.household_code in homes)}
        has_due = any(
            card_reason(CAMPAIGN, c.valid_to, TODAY, c.bhxh_code in renewed, c.bhxh_code in claimed)
            for c in linked.values()
        )
        rows = history[user]
        sent_days = [d for s, d in rows if s == "sent"]
        expected[user] = is_person_due(
            cadence, TODAY,
            counted=sum(s in ("sent", "failed") for s, _ in rows),
            last_on=max(sent_days) if sent_days else None,
            open_row=any(s in ("pending", "sending") for s, _ in rows),
            opted_out=user in opted, blocked=user in blocked, has_due_card=has_due,
        )
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_sql_selection_agrees_with_the_rules(storage: Storage, seed: int) -> None:
    expected = await _scenario(storage, seed)
    db = RawSql(storage)
    repo = storage.reminders
    window = selection_window(CAMPAIGN, TODAY)
    before = {r[0] for r in await db.fetchall("SELECT DISTINCT user_id FROM reminder_outbox WHERE status = 'pending'")}
    queued = await repo.queue_due(CAMPAIGN.code, window, Cadence(7, 3), NOW)
    after = {r[0] for r in await db.fetchall("SELECT user_id FROM reminder_outbox WHERE status = 'pending'")}
    got = after - before
    assert got == {u for u, due in expected.items() if due}
    assert queued == len(got) > 0
    # Selecting again queues nobody twice.
    assert await repo.queue_due(CAMPAIGN.code, window, Cadence(7, 3), NOW) == 0
