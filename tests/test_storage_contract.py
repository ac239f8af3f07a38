"""What every storage engine must do, checked through the repositories' protocols.

Each test takes the `engine` fixture: a connected `storage.contract.Storage` built by
`storage.engines.open_storage` on a fresh database, once per engine of
`tests.storage_engines.ENGINES` (SQLite and PostgreSQL; each passes every test unchanged, and
gives its own `open_write` below). The tests speak only the contract
(`Storage` and its stores) except `open_write`, the one engine-specific hook: a write
transaction held open, so that a read can be made while it is.

What is stated: imports are idempotent (the same file twice changes nothing), duplicates are
refused (one active membership per chat account, one enrolment per person and period even
when two agents log at once, an invite used once), the reminder outbox and the summary ledger
claim each row for one attempt at a time and record it once, reads see committed data only,
a failed write leaves nothing, and the audit trail is kept (nothing deleted).
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cards import Card
from bot.domain.records import (
    AuditActor as Actor,
)
from bot.domain.records import (
    Baseline,
    Duplicate,
    Enrolment,
    NewEnrolment,
    Recipient,
    RosterRecord,
    StatusActor,
    Target,
    TeamRecord,
    UnitRecord,
)
from bot.domain.reminders import Cadence, SelectionWindow
from bot.domain.roles import Role
from storage.contract import DuplicateError, Storage
from tests.storage_engines import ENGINES, opened_storage

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
MONTH = "2026-11"
UNITS = [
    UnitRecord("CL", "Huyện Càng Long", None, "district"),
    UnitRecord("CL01", "Xã Tân An", "CL", "commune", population=10_000, staff_count=4),
    UnitRecord("CL02", "Xã Mỹ Cẩm", "CL", "commune", staff_count=2),
]
BASELINES = [Baseline("CL01", "bhyt", date(2026, 6, 30), 9_000)]
TARGETS = [Target("CL01", "bhyt", "2026", Decimal("95"), None)]
# The window of a campaign reminding on 23/11/2026 of cards lapsed since 1/1/2026.
WINDOW = SelectionWindow(NOW.date(), date(2026, 1, 1), NOW.date() - timedelta(days=1), None)


@dataclass
class Engine:
    """One engine under test: its storage, and a write transaction it can hold open."""

    name: str
    storage: Storage
    # Insert a unit `code` in a write transaction and hold the transaction open for the block.
    open_write: Callable[[str], AbstractAsyncContextManager[None]]


def _sqlite_open_write(storage: Storage) -> Callable[[str], AbstractAsyncContextManager[None]]:
    db = storage.db  # type: ignore[attr-defined]  # the SQLite engine's own handle

    @asynccontextmanager
    async def open_write(code: str) -> AsyncIterator[None]:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO units(code, name, parent_code, level, updated_at) VALUES (?, ?, 'CL', 'commune', ?)",
                (code, "Xã Đang Ghi", NOW.isoformat()),
            )
            yield

    return open_write


def _postgres_open_write(storage: Storage) -> Callable[[str], AbstractAsyncContextManager[None]]:
    db = storage.db  # type: ignore[attr-defined]  # the PostgreSQL engine's own handle

    @asynccontextmanager
    async def open_write(code: str) -> AsyncIterator[None]:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO units(code, name, parent_code, level, updated_at) VALUES ($1, $2, 'CL', 'commune', $3)",
                code, "Xã Đang Ghi", NOW.isoformat(),
            )
            yield

    return open_write


OPEN_WRITE = {"sqlite": _sqlite_open_write, "postgresql": _postgres_open_write}


@pytest.fixture(params=ENGINES)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    async with opened_storage(tmp_path / "contract.sqlite3", request.param) as storage:
        await storage.units.import_tree(UNITS, BASELINES, TARGETS, NOW)
        yield Engine(request.param, storage, OPEN_WRITE[request.param](storage))


def card(n: int, valid_to: date = date(2026, 9, 18), unit: str = "CL01") -> Card:
    return Card(
        bhxh_code=f"84{n:08d}", full_name=f"Nguyễn Thị Người{n}", unit_code=unit, valid_to=valid_to,
        card_code=f"GD4848{n:09d}", household_code=f"H{n}", sex="nu", birth_date=date(1985, 1, 1),
        phone=f"09{n:08d}",
    )


async def member(storage: Storage, user_id: int | None, role: Role = Role.AGENT, unit: str = "CL01") -> int:
    return await storage.members.add(
        full_name=f"Người {user_id}", role=role, unit_code=unit, actor=Actor(), at=NOW, user_id=user_id,
        channel="telegram",
    )


def new_enrolment(agent_id: int, code: str = "8400000001", scheme: str = "bhyt_household") -> NewEnrolment:
    return NewEnrolment(
        agent_id=agent_id, unit_code="CL01", team_id=None, campaign_code=None, scheme=scheme,
        participant_name="Trần Văn Tham Gia", participant_code=code, code_kind="bhxh", months=12,
        support_group=None, income=None, household_position=1, amount_expected=1_263_600,
        amount_paid=1_263_600, amount_reason=None, is_relative=False, created_at=NOW,
    )


def one_period_each(existing: list[Enrolment]) -> tuple[date, date] | Enrolment:
    """A planner: any active entry of the person is a duplicate; else a year from today."""
    return existing[0] if existing else (NOW.date(), NOW.date() + timedelta(days=365))


# ---------------------------------------------------------------------------- idempotent imports


async def test_importing_the_same_card_list_twice_changes_nothing(engine: Engine) -> None:
    cards = engine.storage.cards
    listed = [card(n) for n in range(1, 51)]
    first = await cards.import_cards(listed, "the_het_han.csv", NOW)
    stored = [await cards.get(c.bhxh_code) for c in listed]
    again = await cards.import_cards(listed, "the_het_han.csv", NOW + timedelta(hours=1))
    assert (first.added, first.updated, first.unchanged) == (50, 0, 0)
    assert (again.added, again.updated, again.unchanged, again.renewed) == (0, 0, 50, 0)
    assert await cards.count() == 50
    assert [await cards.get(c.bhxh_code) for c in listed] == stored == listed


async def test_importing_the_same_unit_tree_and_rosters_twice_changes_nothing(engine: Engine) -> None:
    storage = engine.storage
    before = (await storage.units.all(), await storage.figures.latest_baselines(), await storage.figures.targets())
    again = await storage.units.import_tree(UNITS, BASELINES, TARGETS, NOW + timedelta(hours=1))
    assert (again.created, again.updated) == (0, len(UNITS))
    assert (await storage.units.all(), await storage.figures.latest_baselines(), await storage.figures.targets()) == before

    teams = [TeamRecord("CL01-T1", "Tổ 1", "CL01")]
    roster = [RosterRecord("CL01-T1", MONTH, "Phạm Thị Biên", "Tổ trưởng", True),
              RosterRecord("CL01-T1", MONTH, "Nguyễn Thị Hoa", None, False)]

    def key(name: str) -> str:
        return " ".join(name.lower().split())

    first = await storage.teams.import_rosters(teams, roster, key, NOW)
    team = await storage.teams.by_code("CL01-T1")
    assert team is not None
    listed = await storage.teams.roster(team.id, MONTH)
    second = await storage.teams.import_rosters(teams, roster, key, NOW + timedelta(hours=1))
    assert (first.teams_created, first.members_created) == (1, 2)
    assert (second.teams_created, second.teams_updated, second.members_created) == (0, 1, 0)
    assert await storage.teams.roster(team.id, MONTH) == listed
    assert await storage.members.count_in_units(["CL01"]) == 2


async def test_queueing_reminders_twice_queues_nothing_twice(engine: Engine) -> None:
    storage = engine.storage
    await storage.cards.import_cards([card(1), card(2)], "list.csv", NOW)
    await storage.cards.link_phones([(7001, card(1).phone or ""), (7002, card(2).phone or "")], NOW, "telegram")
    assert await storage.reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW) == 2
    assert await storage.reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW) == 0
    assert await storage.reminders.status_counts() == {"pending": 2}


# ---------------------------------------------------------------------------- duplicates refused


async def test_a_second_active_membership_for_one_chat_account_is_refused(engine: Engine) -> None:
    storage = engine.storage
    first = await member(storage, 6001)
    with pytest.raises(DuplicateError):
        await member(storage, 6001, Role.OFFICIAL, "CL02")
    found = await storage.members.by_user(6001, "telegram")
    assert found is not None and found.id == first and found.role is Role.AGENT
    assert await storage.members.count_in_units(["CL01", "CL02"]) == 1
    assert await storage.members.count_in_units(["CL02"]) == 0


async def test_two_agents_logging_the_same_person_at_once_store_one_entry(engine: Engine) -> None:
    storage = engine.storage
    agents = [await member(storage, 6101), await member(storage, 6102)]
    results = await asyncio.gather(
        *(storage.enrolments.add_unless_duplicate(new_enrolment(a), ["bhyt_household"], one_period_each) for a in agents)
    )
    stored = [r for r in results if isinstance(r, Enrolment)]
    refused = [r for r in results if isinstance(r, Duplicate)]
    assert len(stored) == 1 and len(refused) == 1
    assert refused[0].existing == stored[0] and refused[0].unit_name == "Xã Tân An"
    assert await storage.tallies.totals(None, NOW.date(), NOW.date()) == {"bhyt_household": 1}
    # Later, the same again: still refused, still one entry.
    again = await storage.enrolments.add_unless_duplicate(new_enrolment(agents[0]), ["bhyt_household"], one_period_each)
    assert isinstance(again, Duplicate) and again.existing.id == stored[0].id
    assert await storage.tallies.totals(None, NOW.date(), NOW.date()) == {"bhyt_household": 1}


async def test_an_invite_is_used_once(engine: Engine) -> None:
    storage = engine.storage
    official = await member(storage, 6201, Role.OFFICIAL)
    await storage.invites.create(
        code_hash="h" * 64, role=Role.AGENT, unit_code="CL01", team_id=None, member_id=None, full_name=None,
        created_by=official, created_by_user=6201, channel="telegram", created_at=NOW,
        expires_at=NOW + timedelta(hours=48),
    )
    used = await storage.invites.redeem("h" * 64, channel="telegram", user_id=6202, display_name="Lan", now=NOW, month=MONTH)
    assert used is not None and used.role is Role.AGENT and not used.claimed
    assert await storage.invites.redeem(
        "h" * 64, channel="telegram", user_id=6203, display_name="Cúc", now=NOW, month=MONTH
    ) is None
    assert await storage.members.by_user(6203, "telegram") is None
    invite = await storage.invites.get("h" * 64)
    assert invite is not None and invite.used_by_member == used.member_id


async def test_a_renewal_claim_is_recorded_once(engine: Engine) -> None:
    storage = engine.storage
    await storage.cards.import_cards([card(1)], "list.csv", NOW)
    pair = [(card(1).bhxh_code, card(1).valid_to)]
    assert await storage.reminders.add_claims(7001, pair, NOW, "telegram") == 1
    assert await storage.reminders.add_claims(7001, pair, NOW + timedelta(minutes=1), "telegram") == 0


# ---------------------------------------------------------------------------- outbox claims and leases


async def test_an_outbox_row_is_claimed_by_one_attempt_and_recorded_once(engine: Engine) -> None:
    reminders = engine.storage.reminders
    await engine.storage.cards.import_cards([card(1)], "list.csv", NOW)
    await engine.storage.cards.link_phones([(7001, card(1).phone or "")], NOW, "telegram")
    await reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW)
    (row,) = await reminders.next_pending(NOW)
    assert (row.channel, row.user_id, row.seq) == ("telegram", 7001, 1)

    assert await reminders.claim(row.id, "attempt-1", NOW) == "claimed"
    # Held by attempt 1: neither offered again nor claimable, and no one else can record it.
    assert await reminders.next_pending(NOW + timedelta(minutes=5)) == []
    assert await reminders.claim(row.id, "attempt-2", NOW) == "gone"
    assert not await reminders.finish(row.id, "attempt-2", "sent", NOW, message_id="1")
    assert await reminders.status_counts() == {"sending": 1}

    # The process holding it (claimed without a lease) died: the next round's recovery takes
    # it over for a new attempt; the dead attempt can no longer record anything.
    assert await reminders.recover_sending(NOW) == 1
    (again,) = await reminders.next_pending(NOW + timedelta(minutes=10))
    assert again.id == row.id
    assert await reminders.claim(row.id, "attempt-3", NOW) == "claimed"
    assert not await reminders.finish(row.id, "attempt-1", "sent", NOW, message_id="2")
    assert await reminders.finish(row.id, "attempt-3", "sent", NOW, message_id="3")
    assert not await reminders.finish(row.id, "attempt-3", "sent", NOW, message_id="4")  # recorded once
    assert await reminders.status_counts() == {"sent": 1}
    assert [status for _, _, status, _ in await reminders.history(7001, "telegram")] == ["sent"]


async def test_a_row_of_someone_who_opted_out_is_never_claimed(engine: Engine) -> None:
    reminders = engine.storage.reminders
    await engine.storage.cards.import_cards([card(1)], "list.csv", NOW)
    await engine.storage.cards.link_phones([(7001, card(1).phone or "")], NOW, "telegram")
    await reminders.queue_due("ky-2026", WINDOW, Cadence(7, 3), NOW)
    (row,) = await reminders.next_pending(NOW)
    await engine.storage.reminders.set_opted_out(7002, True, NOW, "telegram")  # someone else: no effect
    assert await reminders.claim(row.id, "attempt-1", NOW) == "claimed"
    assert await reminders.retry_later(row.id, "attempt-1", NOW + timedelta(seconds=30), "retry")
    assert await reminders.next_pending(NOW) == []  # not before its retry time
    assert await reminders.set_opted_out(7001, True, NOW, "telegram")
    assert await reminders.next_pending(NOW + timedelta(minutes=1)) == []
    assert await reminders.claim(row.id, "attempt-2", NOW + timedelta(minutes=1)) == "gone"
    assert await reminders.status_counts() == {"skipped": 1}


async def test_a_summary_is_claimed_part_by_part_and_never_sent_twice(engine: Engine) -> None:
    storage = engine.storage
    official = await member(storage, 6301, Role.OFFICIAL)
    day = NOW.date()
    due = await storage.summaries.due("daily", day)
    assert [r.member_id for r in due] == [official]
    recipient: Recipient = due[0]
    assert await storage.summaries.claim(recipient, "daily", day, NOW) == 0
    assert await storage.summaries.start_part(official, "daily", day, 0)
    assert await storage.summaries.claim(recipient, "daily", day, NOW) is None  # a part in flight
    assert not await storage.summaries.start_part(official, "daily", day, 0)
    await storage.summaries.part_done(official, "daily", day, 0, NOW)
    # A process dies while sending part 2: that part counts as done (uncertain), never re-sent.
    assert await storage.summaries.start_part(official, "daily", day, 1)
    assert await storage.summaries.recover_interrupted(NOW) == 1
    assert await storage.summaries.claim(recipient, "daily", day, NOW) == 2
    assert await storage.summaries.start_part(official, "daily", day, 2)
    await storage.summaries.part_done(official, "daily", day, 2, NOW)
    (run,) = await storage.summaries.runs(day, "daily")
    assert (run.status, run.parts_done, run.attempts) == ("sent", 3, 3)
    assert await storage.summaries.due("daily", day) == []
    assert await storage.summaries.claim(recipient, "daily", day, NOW) is None


# ---------------------------------------------------------------------------- committed-only reads


async def test_reads_see_committed_data_only(engine: Engine) -> None:
    units = engine.storage.units
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with engine.open_write("CL09"):
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    try:
        assert await units.get("CL09") is None
        assert "CL09" not in await units.subtree_codes("CL")
        assert await units.count() == len(UNITS)
    finally:
        release.set()
        await task
    assert (found := await units.get("CL09")) is not None and found.parent_code == "CL"
    assert "CL09" in await units.subtree_codes("CL")


async def test_a_write_that_fails_half_way_leaves_nothing(engine: Engine) -> None:
    storage = engine.storage
    broken = [UnitRecord("CL03", "Xã Mới", "CL", "commune"), UnitRecord("CL04", "Xã Lạc", "NO-SUCH", "commune")]
    with pytest.raises(Exception):  # noqa: B017  # the engine's own error for a missing parent
        await storage.units.import_tree(broken, [], [], NOW)
    assert await storage.units.get("CL03") is None and await storage.units.get("CL04") is None
    assert await storage.units.count() == len(UNITS)


# ---------------------------------------------------------------------------- audit trail


async def test_membership_changes_leave_their_audit_rows(engine: Engine) -> None:
    storage = engine.storage
    official = await member(storage, 6401, Role.OFFICIAL, "CL")
    agent = await member(storage, 6402)
    by = Actor(member_id=official, user_id=6401, channel="telegram")
    assert await storage.members.change_role(agent, Role.TEAM_LEADER, by, NOW)
    assert await storage.members.change_unit(agent, "CL02", by, NOW)
    assert await storage.members.deactivate(agent, by, NOW)
    assert not await storage.members.deactivate(agent, by, NOW)  # already inactive: no second row
    events = await storage.members.events(agent)
    assert [(e.action, e.old_value, e.new_value) for e in events] == [
        ("created", None, "agent@CL01"),
        ("role_changed", "agent", "team_leader"),
        ("unit_changed", "CL01", "CL02"),
        ("deactivated", "1", "0"),
    ]
    assert all(e.actor_member_id == official and e.actor_user_id == 6401 for e in events[1:])
    kept = await storage.members.get(agent)  # never deleted
    assert kept is not None and not kept.active and kept.role is Role.TEAM_LEADER
    assert await storage.members.by_user(6402, "telegram") is None


async def test_a_voided_entry_is_kept_with_who_voided_it_and_why(engine: Engine) -> None:
    storage = engine.storage
    official = await member(storage, 6501, Role.OFFICIAL)
    agent = await member(storage, 6502)
    entry = await storage.enrolments.add_unless_duplicate(new_enrolment(agent), ["bhyt_household"], one_period_each)
    assert isinstance(entry, Enrolment)
    voided = await storage.enrolments.change_status(
        entry.id, "voided", StatusActor(official, 6501, "telegram"), "Ghi nhầm người", NOW + timedelta(hours=1)
    )
    assert voided is not None and voided.status == "voided"
    assert await storage.enrolments.change_status(
        entry.id, "voided", StatusActor(official, 6501, "telegram"), "Lần hai", NOW + timedelta(hours=2)
    ) is None
    events = await storage.enrolments.events(entry.id)
    assert [(e.action, e.actor_member_id, e.reason) for e in events] == [
        ("created", agent, None),
        ("voided", official, "Ghi nhầm người"),
    ]
    kept = await storage.enrolments.get(entry.id)
    assert kept is not None and kept.status == "voided" and kept.participant_code == entry.participant_code
    assert await storage.tallies.totals(None, NOW.date(), NOW.date()) == {}  # counts only active entries


async def test_joining_by_invite_leaves_its_audit_row(engine: Engine) -> None:
    storage = engine.storage
    official = await member(storage, 6601, Role.OFFICIAL)
    await storage.invites.create(
        code_hash="j" * 64, role=Role.AGENT, unit_code="CL01", team_id=None, member_id=None, full_name="Lan",
        created_by=official, created_by_user=6601, channel="telegram", created_at=NOW,
        expires_at=NOW + timedelta(hours=48),
    )
    joined = await storage.invites.redeem("j" * 64, channel="telegram", user_id=6602, display_name="Lan", now=NOW, month=MONTH)
    assert joined is not None
    (event,) = await storage.members.events(joined.member_id)
    assert (event.action, event.new_value, event.actor_member_id) == ("joined", "agent@CL01", official)


# ---------------------------------------------------------------------------- the contract's shape


def test_every_engine_store_has_every_contract_method_with_its_parameters(tmp_path: Path) -> None:
    """The protocols and each engine's classes cannot drift apart unnoticed: every method the
    contract declares exists on the engine's store, async, taking the same parameters."""
    from storage import contract
    from storage.engines import open_storage
    from tests.storage_engines import EngineSettings, engine_url

    for name in ENGINES:
        storage = open_storage(EngineSettings(engine_url(name, tmp_path / "shape.db"), tmp_path / "shape.db"))
        for field_name, protocol_name in typing.get_type_hints(contract.Storage).items():
            protocol = getattr(contract, protocol_name.__name__, None) if isinstance(protocol_name, type) else None
            if protocol is None:
                continue  # `engine: str`
            store = getattr(storage, field_name)
            for method, declared in vars(protocol).items():
                if method.startswith("_") or not inspect.iscoroutinefunction(declared):
                    continue
                actual = getattr(store, method, None)
                assert actual is not None and inspect.iscoroutinefunction(actual), f"{name}: {field_name}.{method}"
                wanted = list(inspect.signature(declared).parameters)[1:]
                assert list(inspect.signature(actual).parameters) == wanted, f"{name}: {field_name}.{method}"
