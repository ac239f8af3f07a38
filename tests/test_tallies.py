"""Logging, withdrawing, voiding and tallies through the services, on a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.domain.clock import ManualClock
from bot.domain.enrolment import EnrolmentDraft, InputError, Scheme, parse_line
from bot.domain.roles import Member
from bot.services import Services
from bot.services.enrolment import DuplicateEntry, Logged, NotAllowed, Voided
from bot.services.tallies import Period, SchemeCounts, rank_desc, share
from bot.settings import Settings
from tests.agent_world import AN, BINH, CUONG, DISTRICT, LEADER, OFFICIAL_A, OFFICIAL_B, World, seed_world
from tests.conftest import ADMIN_ID, DEFAULT_NOW

CAMPAIGN_TOML = """
[[campaign]]
code = "LX-2026-11"
name = "Thi đua cao điểm tháng 11/2026"
start = 2026-11-15
end = 2026-11-30
source = "Kế hoạch thử nghiệm"
"""


@pytest.fixture
async def services(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Services]:
    campaigns = tmp_path / "campaigns.toml"
    campaigns.write_text(CAMPAIGN_TOML, encoding="utf-8")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=tmp_path / "tallies.sqlite3",
        admin_telegram_ids=(ADMIN_ID,),
        campaigns_path=campaigns,
    )
    built = build_services(settings, clock)
    await built.storage.connect()
    try:
        yield built
    finally:
        await built.storage.close()


@pytest.fixture
async def world(services: Services) -> World:
    return await seed_world(services, DEFAULT_NOW)


async def member(services: Services, world: World, user_id: int) -> Member:
    found = await services.members.get(world.member_ids[user_id])
    assert found is not None
    return found


async def log(services: Services, who: Member, line: str) -> Logged | DuplicateEntry:
    outcome = await services.enrolments.log(who, parse_line(line).draft)
    assert isinstance(outcome, (Logged, DuplicateEntry)), outcome
    return outcome


async def count_rows(services: Services) -> int:
    return int(await services.storage.db.fetchval("SELECT COUNT(*) FROM enrolments"))


async def test_logging_stores_everything_and_tallies_follow(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    first = await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert isinstance(first, Logged)
    e = first.enrolment
    assert (e.agent_id, e.unit_code, e.team_id) == (an.id, "CL01", world.team_ids["TO1"])
    assert e.campaign_code == "LX-2026-11"
    assert (e.scheme, e.participant_name, e.participant_code, e.code_kind) == (
        "bhyt_household", "Nguyễn Văn An", "8423001234", "bhxh")
    assert (e.amount_expected, e.amount_paid, e.household_position) == (1_366_200, 1_366_200, 1)
    assert (e.period_start, e.period_end) == (date(2026, 11, 23), date(2027, 11, 22))
    second = await log(services, an, "bhxh Trần Thị Bình 001203004567 2tr 12 tháng người thân")
    assert isinstance(second, Logged)
    assert second.enrolment.code_kind == "cccd" and second.enrolment.is_relative
    results = second.results
    assert results.month_counts == SchemeCounts(1, 0, 1)
    assert results.team is not None and results.team.rank == 1 and results.teams_in_race == 2
    assert results.campaign_counts == SchemeCounts(1, 0, 1)
    events = await services.enrolments.repo.events(e.id)
    assert [(ev.action, ev.actor_member_id) for ev in events] == [("created", an.id)]


async def test_amount_different_from_engine_needs_a_reason(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    draft = parse_line("bhyt Nguyễn Văn Bảy 8423001237 12 tháng thu 1.300.000").draft
    refused = await services.enrolments.log(an, draft)
    assert isinstance(refused, InputError) and refused.key == "incomplete"
    ok = await services.enrolments.log(an, draft.with_(reason="xã hỗ trợ thêm"))
    assert isinstance(ok, Logged)
    assert (ok.enrolment.amount_expected, ok.enrolment.amount_paid) == (1_366_200, 1_300_000)
    assert ok.enrolment.amount_reason == "xã hỗ trợ thêm"


async def test_duplicates_are_refused_across_bhyt_kinds_and_units(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    cuong = await member(services, world, CUONG.user_id)
    binh = await member(services, world, BINH.user_id)
    await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    # Same unit: the details (when, where, who masked, until when).
    dup = await log(services, binh, "bhyt cận nghèo Nguyễn Văn An 8423001234 6 tháng")
    assert isinstance(dup, DuplicateEntry) and dup.in_scope
    assert dup.unit_name == "Xã Tân An" and dup.logged_on == date(2026, 11, 23)
    assert dup.period_end == date(2027, 11, 22) and not dup.by_self
    assert dup.agent_masked == "Nguyễn T. Hoa"
    # Another commune (not under the sender's): refused, and nothing of the other area carried.
    dup = await log(services, cuong, "bhyt cận nghèo Nguyễn Văn An 8423001234 6 tháng")
    assert isinstance(dup, DuplicateEntry) and not dup.in_scope
    assert (dup.unit_name, dup.logged_on, dup.period_end, dup.agent_masked) == ("", None, None, "")
    # Voluntary BHXH is another scheme: the same person may join it.
    other = await log(services, cuong, "bhxh Nguyễn Văn An 8423001234 2tr hằng tháng")
    assert isinstance(other, Logged)
    assert await count_rows(services) == 2


async def test_concurrent_logs_of_one_person_store_one_row(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    binh = await member(services, world, BINH.user_id)
    draft = parse_line("bhyt Nguyễn Văn An 8423001234 12 tháng").draft
    outcomes = await asyncio.gather(
        *(services.enrolments.log(who, draft) for who in (an, binh, an, binh))
    )
    assert sum(isinstance(o, Logged) for o in outcomes) == 1
    assert sum(isinstance(o, DuplicateEntry) for o in outcomes) == 3
    assert await count_rows(services) == 1


async def test_early_renewal_continues_the_card(services: Services, world: World, clock: ManualClock) -> None:
    an = await member(services, world, AN.user_id)
    first = await log(services, an, "bhyt Nguyễn Văn An 8423001234 3 tháng")
    assert isinstance(first, Logged) and first.enrolment.period_end == date(2027, 2, 22)
    clock.advance(timedelta(days=80))  # 11/02/2027: 11 days before the card ends
    renewed = await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert isinstance(renewed, Logged)
    assert renewed.enrolment.period_start == date(2027, 2, 23)
    again = await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert isinstance(again, DuplicateEntry) and again.by_self


async def test_withdraw_within_24_hours_only(services: Services, world: World, clock: ManualClock) -> None:
    an = await member(services, world, AN.user_id)
    binh = await member(services, world, BINH.user_id)
    logged = await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert isinstance(logged, Logged)
    entry_id = logged.enrolment.id
    assert await services.enrolments.withdraw(binh, entry_id) is None  # not theirs
    last = await services.enrolments.withdrawable(an)
    assert last is not None and last.id == entry_id
    withdrawn = await services.enrolments.withdraw(an, entry_id)
    assert withdrawn is not None and withdrawn.status == "withdrawn"
    assert await services.enrolments.withdraw(an, entry_id) is None  # twice: nothing happens
    month = Period.month_of(clock.now().date())
    assert await services.tallies.agent_counts(an.id, month) == SchemeCounts()
    # The person may now be logged again (the withdrawn row no longer blocks it).
    again = await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert isinstance(again, Logged)
    clock.advance(timedelta(hours=24, minutes=1))
    assert await services.enrolments.withdrawable(an) is None
    assert await services.enrolments.withdraw(an, again.enrolment.id) is None
    actions = [ev.action for ev in await services.enrolments.repo.events(entry_id)]
    assert actions == ["created", "withdrawn"]
    assert await count_rows(services) == 2  # nothing deleted


async def test_void_in_scope_with_reason(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    logged = await log(services, an, "bhyt Nguyễn Văn An 8423001234 12 tháng")
    assert isinstance(logged, Logged)
    entry_id = logged.enrolment.id
    access = services.access
    outside = await services.enrolments.void(await access.actor(OFFICIAL_B.user_id, channel="telegram"), entry_id, "thử")
    assert outside == NotAllowed("void_not_found")
    agent = await services.enrolments.void(await access.actor(AN.user_id, channel="telegram"), entry_id, "thử")
    assert agent == NotAllowed("void_role")
    missing = await services.enrolments.void(await access.actor(OFFICIAL_A.user_id, channel="telegram"), 999, "thử")
    assert missing == NotAllowed("void_not_found")
    voided = await services.enrolments.void(await access.actor(DISTRICT.user_id, channel="telegram"), entry_id, "ghi trùng")
    assert isinstance(voided, Voided) and voided.enrolment.status == "voided"
    again = await services.enrolments.void(await access.actor(ADMIN_ID, channel="telegram"), entry_id, "lần nữa")
    assert again == NotAllowed("void_not_active")
    events = await services.enrolments.repo.events(entry_id)
    assert [(e.action, e.reason, e.actor_user_id) for e in events] == [
        ("created", None, None), ("voided", "ghi trùng", DISTRICT.user_id)]
    assert await services.tallies.new_enrolments(None, date(2026, 11, 1), date(2026, 11, 30)) == SchemeCounts()


async def test_unit_tallies_roll_up_and_scope(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    binh = await member(services, world, BINH.user_id)
    cuong = await member(services, world, CUONG.user_id)
    await log(services, an, "bhyt Nguyễn Văn An 8423000001 12 tháng")
    await log(services, an, "bhyt Nguyễn Văn Ba 8423000002 12 tháng")
    await log(services, binh, "bhxh Nguyễn Văn Tư 8423000003 2tr hằng tháng")
    await log(services, cuong, "bhyt Lê Văn Năm 8423000004 6 tháng")
    period = Period.month_of(date(2026, 11, 23))
    tallies = {t.code: t for t in await services.tallies.unit_tallies(None, period)}
    assert tallies["CL"].total == SchemeCounts(3, 0, 1) and tallies["CL"].own == SchemeCounts()
    assert tallies["CL01"].total == SchemeCounts(2, 0, 1) and tallies["CL01"].depth == 1
    ranking = await services.tallies.unit_ranking(None, period)
    assert [u.code for u in ranking] == ["CL01", "CL02"]
    leaders = await services.tallies.leaders(None, period, limit=2)
    assert [(a.name, a.counts.total) for a in leaders] == [("Nguyễn Thị Hoa", 2), ("Trần Văn Bình", 1)]
    only_b = await services.tallies.leaders(["CL02"], period)
    assert [a.name for a in only_b] == ["Lê Văn Tài"]
    assert await services.tallies.new_enrolments(["CL02"], period.start, period.end) == SchemeCounts(1, 0, 0)
    days = await services.tallies.by_day(None, period.start, period.end)
    assert days == {date(2026, 11, 23): SchemeCounts(3, 0, 1)}
    teams = await services.tallies.team_ranking("CL01", date(2026, 11, 23))
    assert [(t.name, t.counts.total, t.rank) for t in teams] == [("Tổ 1", 2, 1), ("Tổ 2", 1, 2)]
    team = await services.tallies.team_results(an, date(2026, 11, 23))
    assert team is not None and [m.member.full_name for m in team.members] == ["Phạm Thị Biên", "Nguyễn Thị Hoa"]
    assert team.target.bhyt == 2
    assert await services.tallies.team_results(cuong, date(2026, 11, 23)) is None


async def test_competition_counts_staff_with_relatives(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    binh = await member(services, world, BINH.user_id)
    leader = await member(services, world, LEADER.user_id)
    await log(services, an, "bhyt Nguyễn Văn Một 8423000011 12 tháng người thân")
    await log(services, an, "bhyt Nguyễn Văn Hai 8423000012 12 tháng người thân")  # same staff
    await log(services, binh, "bhyt Trần Văn Ba 8423000013 12 tháng người thân")
    await log(services, leader, "bhxh Phạm Văn Bốn 8423000014 2tr hằng tháng người thân")
    await log(services, leader, "bhyt Phạm Văn Năm 8423000015 12 tháng")  # not a relative
    campaign = services.tallies.campaign_on(date(2026, 11, 23))
    assert campaign is not None
    rows = await services.tallies.competition(None, Period.of_campaign(campaign))
    cl01 = next(r for r in rows if r.unit_code == "CL01")
    assert (cl01.staff, cl01.with_bhyt, cl01.with_bhxh) == (4, 2, 1)
    assert cl01.bhyt_share == Decimal("50.00") and cl01.bhxh_share == Decimal("25.00")
    assert not cl01.bhyt_met and not cl01.bhxh_met
    district = next(r for r in rows if r.unit_code == "CL")  # no staff figure: its members count
    assert (district.staff, district.staff_from_members, district.with_bhyt) == (1, True, 0)
    before = await services.tallies.competition(None, Period(date(2026, 11, 1), date(2026, 11, 14), "trước"))
    assert all(r.with_bhyt == 0 for r in before)


def test_ranks_and_shares() -> None:
    assert rank_desc([5, 7, 5, 1]) == [2, 1, 2, 4]
    assert share(1, 3) == Decimal("33.33") and share(2, 3) == Decimal("66.67")
    assert share(1, 0) is None and share(1, None) is None


async def test_monthly_report_scopes(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    cuong = await member(services, world, CUONG.user_id)
    await log(services, an, "bhyt Nguyễn Văn An 8423000001 12 tháng")
    await log(services, cuong, "bhyt Lê Văn Năm 8423000004 6 tháng")
    access = services.access
    month = date(2026, 11, 1)
    leader = await services.enrolments.monthly_report(await access.actor(LEADER.user_id, channel="telegram"), month)
    assert not isinstance(leader, NotAllowed)
    assert leader.scope_label == "Tổ 1" and not leader.mask_codes
    assert [r.participant_name for r in leader.rows] == ["Nguyễn Văn An"]
    official_b = await services.enrolments.monthly_report(await access.actor(OFFICIAL_B.user_id, channel="telegram"), month)
    assert not isinstance(official_b, NotAllowed) and official_b.mask_codes
    assert [r.participant_name for r in official_b.rows] == ["Lê Văn Năm"]
    assert await services.enrolments.monthly_report(
        await access.actor(OFFICIAL_B.user_id, channel="telegram"), month, "CL01") == NotAllowed("unit_not_found")
    assert await services.enrolments.monthly_report(await access.actor(AN.user_id, channel="telegram"), month) == NotAllowed("export_role")
    admin = await services.enrolments.monthly_report(await access.actor(ADMIN_ID, channel="telegram"), month)
    assert not isinstance(admin, NotAllowed) and len(admin.rows) == 2
    october = await services.enrolments.monthly_report(await access.actor(LEADER.user_id, channel="telegram"), date(2026, 10, 1))
    assert october == NotAllowed("export_no_team")


async def test_log_revalidates_the_draft(services: Services, world: World) -> None:
    an = await member(services, world, AN.user_id)
    forged = EnrolmentDraft(scheme=Scheme.BHYT_HOUSEHOLD, name="A", code="123", months=12, position=1, is_relative=False)
    outcome = await services.enrolments.log(an, forged)
    assert isinstance(outcome, InputError)
    assert await count_rows(services) == 0
