"""The reminder figures of the summaries after their speed-up (migration 0047), on every engine:

- the outbox figures, now counted in one pass per person (`outbox_counts_sql`), equal a count
  of the rows by hand: people (not rows) per outcome, per unit, by channel, and the ZNS cost;
- the eligible figure left out (``eligible=False``, as the summaries ask) changes nothing else;
- SQLite's two shapes of the renewed-after figure (from the scope's cards, from the span's
  renewals) give the same figure, and the chooser picks one of them;
- a summary gathered through the services shows the same reminder figures as the reminder
  service's full counts for the period and the campaign to date.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import open_services
from bot.domain.clock import ManualClock
from bot.domain.records import ReminderStats
from bot.domain.reminders import Cadence, SelectionWindow
from bot.domain.summary import ReminderFigures, SummaryKind
from bot.settings import Settings
from storage.contract import Storage
from tests.conftest import TZ
from tests.storage_engines import ENGINES, RawSql, database_url, opened_storage
from tests.test_storage_contract import BASELINES, TARGETS, UNITS
from tests.zns_support import BASIS, LAPSED_ON, card, phone

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TZ)
DAY = NOON.date()
WINDOW = SelectionWindow(DAY, LAPSED_ON - timedelta(days=60), DAY - timedelta(days=1), None)
CAMPAIGNS = [("ky-2026", WINDOW)]
ATTEMPTED = {"sent", "delivered", "unknown", "blocked", "failed"}
# Outcome per outbox row, in id order: (status, days before DAY it was done, cost).
OUTCOMES = [
    ("sent", 0, 0), ("delivered", 1, 300), ("refused", 2, 0), ("unknown", 0, 300), ("blocked", 3, 0),
    ("failed", 1, 0), ("sent", 40, 0), ("pending", 0, 0), ("delivered", 0, 300), ("sent", 5, 0),
]


async def _world(storage: Storage) -> None:
    """Ten people in two communes: some linked on Telegram, the rest reached by ZNS; every
    reminder given an outcome (one outside the span, one still pending), a second reminder
    of one person (the same person counts once), and one card renewed after its reminder."""
    await storage.units.import_tree(UNITS, BASELINES, TARGETS, NOON)
    cards = [card(n, "CL01" if n <= 6 else "CL02") for n in range(1, 11)]
    await storage.cards.import_cards(cards, "l.csv", NOON - timedelta(days=50), legal_basis=BASIS)
    await storage.cards.link_phones([(n, phone(n)) for n in (1, 2, 7, 8)], NOON - timedelta(days=50), "telegram")
    assert await storage.reminders.queue_due_all(CAMPAIGNS, Cadence(7, 3), NOON - timedelta(days=50)) == 4
    assert await storage.reminders.queue_zns(CAMPAIGNS, NOON - timedelta(days=50)) == 6
    raw = RawSql(storage)
    ids = [int(row[0]) for row in await raw.fetchall("SELECT id FROM reminder_outbox ORDER BY id")]
    for row_id, (status, days_before, cost) in zip(ids, OUTCOMES, strict=True):
        done = None if status == "pending" else (DAY - timedelta(days=days_before)).isoformat()
        await raw.execute("UPDATE reminder_outbox SET status = ?, done_on = ?, cost = ? WHERE id = ?",
                          status, done, cost, row_id)
    # The first row's person reminded a second time (seq 2), refused this time.
    await raw.execute(
        "INSERT INTO reminder_outbox(campaign_code, channel, user_id, phone, person_key, card_expiry, seq,"
        " unit_code, queued_at, queued_on, status, done_on, cost)"
        " SELECT campaign_code, channel, user_id, phone, person_key, card_expiry, seq + 1, unit_code,"
        " queued_at, queued_on, 'delivered', ?, 0 FROM reminder_outbox WHERE id = ?",
        DAY.isoformat(), ids[0],
    )
    # Person 1's card renewed after their reminder: a newer list with a later expiry.
    renewed = replace(cards[0], valid_to=LAPSED_ON + timedelta(days=365))
    await storage.cards.import_cards([renewed, *cards[1:]], "newer.csv", NOON, legal_basis=BASIS)


def _by_hand(rows: list[tuple[object, ...]], day_from: date, day_to: date) -> dict[str, dict[str, int]]:
    """The outbox figures of the rows (unit, channel, user id, phone, status, done_on, cost)."""
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sets = {"reminded": ATTEMPTED, "reached": {"sent", "delivered"}, "blocked": {"blocked"},
            "delivered": {"delivered"}, "refused": {"refused"}, "unknown": {"unknown"}}
    for unit, channel, user_id, phone_, status, done_on, cost in rows:
        if done_on is None or not day_from.isoformat() <= str(done_on) <= day_to.isoformat():
            continue
        person = f"{channel}:{user_id if user_id is not None else phone_}"
        for name, statuses in sets.items():
            if status in statuses:
                people[(str(unit), name)].add(person)
        if status in ATTEMPTED:
            people[(str(unit), f"by_{channel}")].add(person)
            if channel == "zns":
                figures[str(unit)]["zns_cost"] += int(str(cost))
    for (unit, name), who in people.items():
        figures[unit][name] = len(who)
    return {unit: dict(values) for unit, values in figures.items()}


@pytest.fixture(params=ENGINES)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with opened_storage(tmp_path / "counts.sqlite3", request.param) as opened:
        await _world(opened)
        yield opened


async def test_the_outbox_figures_in_one_pass_equal_a_count_by_hand(storage: Storage) -> None:
    rows = await RawSql(storage).fetchall(
        "SELECT unit_code, channel, user_id, phone, status, done_on, cost FROM reminder_outbox"
    )
    for day_from in (DAY, DAY - timedelta(days=7), DAY - timedelta(days=60)):
        counts = await storage.reminders.reminder_counts(["CL01", "CL02"], day_from, DAY, ["ky-2026"], [WINDOW])
        expected = _by_hand(rows, day_from, DAY)
        for unit, stats in counts.by_unit.items():
            shown = {name: getattr(stats, name) for name in expected.get(unit, {})}
            assert shown == expected.get(unit, {}), (unit, day_from)
        assert set(expected) <= set(counts.by_unit)
    week = await storage.reminders.reminder_counts(["CL01", "CL02"], DAY - timedelta(days=7), DAY, ["ky-2026"], [WINDOW])
    assert week.total.reminded > week.total.reached > 0 and week.total.zns_cost > 0
    assert week.total.renewed_after_reminder == 1 and week.total.eligible > 0


async def test_leaving_the_eligible_figure_out_changes_nothing_else(storage: Storage) -> None:
    for day_from in (DAY, DAY - timedelta(days=60)):
        full = await storage.reminders.reminder_counts(["CL01", "CL02"], day_from, DAY, ["ky-2026"], [WINDOW])
        without = await storage.reminders.reminder_counts(["CL01", "CL02"], day_from, DAY, ["ky-2026"], [])
        assert full.total.eligible > 0 and without.total.eligible == 0
        rest = {unit: replace(stats, eligible=0) for unit, stats in full.by_unit.items()}
        assert {unit: stats for unit, stats in rest.items() if stats != ReminderStats()} == without.by_unit
        assert replace(full.total, eligible=0) == without.total


async def test_sqlite_s_two_shapes_of_the_renewed_after_figure_agree(tmp_path: Path) -> None:
    from storage.sqlite.reminders import RENEWED_AFTER_FROM_RENEWALS_SQL, RENEWED_AFTER_SQL

    async with opened_storage(tmp_path / "shapes.sqlite3", "sqlite") as storage:
        await _world(storage)
        repo = storage.reminders
        for scope in (["CL01"], ["CL02"], ["CL01", "CL02"]):
            for day_from in (DAY, DAY - timedelta(days=60)):
                span = (day_from.isoformat(), DAY.isoformat())
                params = (*span, *span, json.dumps(scope), json.dumps(["ky-2026"]))
                per_card = await storage.db.fetchall(RENEWED_AFTER_SQL, params)  # type: ignore[attr-defined]
                per_renewal = await storage.db.fetchall(RENEWED_AFTER_FROM_RENEWALS_SQL, params)  # type: ignore[attr-defined]
                assert [tuple(r) for r in per_card] == [tuple(r) for r in per_renewal]
                chosen = await repo._renewed_after_sql(json.dumps(scope), span)  # type: ignore[attr-defined]
                assert chosen in (RENEWED_AFTER_SQL, RENEWED_AFTER_FROM_RENEWALS_SQL)
        assert [tuple(r) for r in per_card] == [("CL01", 1)]


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_summary_shows_the_reminder_service_s_figures(engine: str, tmp_path: Path) -> None:
    """The summary asks without the eligible figure; what it shows is the full counts'."""
    path = tmp_path / "summary.sqlite3"
    async with database_url(engine, path) as url:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_path=path, database_url=url,
            telegram_bot_token="100000005:TEST-token-never-used", scheduler_tick_seconds=3600,
        )
        async with open_services(settings, ManualClock(NOON)) as services:
            await _world(services.storage)
            campaigns = services.reminders.running_campaigns(DAY)
            assert campaigns, "the packaged plan runs a campaign on the test day"
            raw = RawSql(services.storage)
            await raw.execute("UPDATE reminder_outbox SET campaign_code = ?", campaigns[0].code)
            data = await services.summaries.gather("CL", SummaryKind.DAILY, DAY)
            start = min(c.start for c in campaigns)
            for figures, day_from in ((data.reminders_period, DAY), (data.reminders_to_date, min(start, DAY))):
                full = (await services.reminders.reminder_counts(["CL", "CL01", "CL02"], day_from, DAY)).total
                assert full.eligible > 0
                assert figures == ReminderFigures(
                    full.reminded, full.reached, full.renewed_after_reminder, full.by_zns, full.delivered,
                    full.refused, full.unknown, full.zns_cost,
                )
            assert data.reminders_to_date is not None and data.reminders_to_date.sent > 0
