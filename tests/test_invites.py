"""Invite codes and joining at the service level (real SQLite file, ManualClock)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import invites
from bot.domain.clock import ManualClock
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from bot.imports.organisation import import_teams, import_units, sample_bytes
from bot.services.access import AccessService
from bot.services.organisation import InviteCreated, Joined, OrganisationService, Reason, Refused
from storage.engines import open_storage
from tests.conftest import DEFAULT_NOW
from tests.storage_engines import EngineSettings, engine_url

ADMIN = 1


def test_codes_are_random_unambiguous_and_normalised() -> None:
    codes = {invites.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 10 and set(c) <= set(invites.ALPHABET) for c in codes)
    assert not set("01OIL") & set(invites.ALPHABET)
    code = "ABCDE23456"
    assert invites.display(code) == "ABCDE-23456"
    for typed in ("ABCDE-23456", "abcde 23456", " abcde-23456 ", "ＡＢＣＤＥ２３４５６"):
        assert invites.normalize(typed) == code
    for bad in ("", "ABCDE", "ABCDE-2345O", "😀" * 10, "A" * 10_000, "ABCDE-234567"):
        assert invites.normalize(bad) is None
    assert invites.code_hash(code) != code and len(invites.code_hash(code)) == 64


@pytest.fixture
async def org(tmp_path: Path):
    storage = open_storage(EngineSettings(engine_url("sqlite", tmp_path / "invites.sqlite3"), tmp_path / "invites.sqlite3"))
    await storage.connect()
    db = storage.db  # the SQLite engine's handle: rows checked with SQL
    clock = ManualClock(DEFAULT_NOW)
    units, members, teams = storage.units, storage.members, storage.teams
    await import_units("u.csv", units, clock, data=sample_bytes("units_cang_long.csv"))
    await import_teams("t.csv", units, teams, clock, data=sample_bytes("teams_cang_long.csv"))
    access = AccessService({"telegram": (ADMIN,)}, members, units)
    service = OrganisationService(
        clock=clock, access=access, units=units, members=members, teams=teams,
        invites=storage.invites, figures=storage.figures,
    )
    ids = {}
    for user_id, name, role, unit in [
        (10, "Cán Bộ Huyện", Role.OFFICIAL, "CL"),
        (11, "Cán Bộ Tân An", Role.OFFICIAL, "CL06"),
        (12, "Cán Bộ Tân Bình", Role.OFFICIAL, "CL07"),
        (13, "Người Vận Động", Role.AGENT, "CL06"),
    ]:
        ids[user_id] = await members.add(full_name=name, role=role, unit_code=unit, actor=CLI_ACTOR, at=clock.now(), user_id=user_id, channel="telegram")
    try:
        yield service, clock, db
    finally:
        await storage.close()


async def invite(service: OrganisationService, user_id: int, *args, **kwargs) -> InviteCreated:
    actor = await service.access.actor(user_id, channel="telegram")
    result = await service.create_invite(actor, *args, **kwargs)
    assert isinstance(result, InviteCreated), result
    return result


async def test_join_makes_the_member_and_the_code_is_single_use(org) -> None:
    service, clock, db = org
    created = await invite(service, 11, Role.AGENT, "cl06", "CL06-NHOM1")
    assert created.expires_at == clock.now() + timedelta(hours=72)
    stored = await db.fetchall("SELECT code_hash FROM invites")
    assert [r[0] for r in stored] == [invites.code_hash(created.code.replace("-", ""))]
    assert created.code.replace("-", "") not in str([tuple(r) for r in await db.fetchall("SELECT * FROM invites")])
    joined = await service.join(500, created.code.lower(), "Trần Văn Mới", channel="telegram")
    assert isinstance(joined, Joined) and joined.role == Role.AGENT and joined.unit.code == "CL06"
    member = await service.members.by_user(500, channel="telegram")
    assert member is not None and member.full_name == "Trần Văn Mới"
    team = await service.teams.team_of(member.id, "2026-11")
    assert team is not None and team.code == "CL06-NHOM1"
    events = await service.members.events(member.id)
    assert [(e.action, e.actor_member_id) for e in events] == [("joined", (await service.members.by_user(11, channel="telegram")).id)]  # type: ignore[union-attr]
    again = await service.join(501, created.code, "Người Khác", channel="telegram")
    assert again == Refused(Reason.INVALID_CODE)
    assert await service.members.by_user(501, channel="telegram") is None


async def test_expired_and_guessed_codes_change_nothing(org) -> None:
    service, clock, db = org
    created = await invite(service, 10, Role.TEAM_LEADER, "CL07")
    before = await db.fetchval("SELECT COUNT(*) FROM members")
    clock.advance(timedelta(hours=72))
    assert await service.join(600, created.code, "Trễ Hạn", channel="telegram") == Refused(Reason.INVALID_CODE)
    assert await service.join(601, "ABCDE-FGHJK", "Đoán Mò", channel="telegram") == Refused(Reason.INVALID_CODE)
    assert await db.fetchval("SELECT COUNT(*) FROM members") == before
    assert await db.fetchval("SELECT COUNT(*) FROM invites WHERE used_at IS NOT NULL") == 0


async def test_throttle_after_five_failures_per_hour(org) -> None:
    service, clock, _ = org
    created = await invite(service, 11, Role.AGENT, "CL06")
    for _ in range(5):
        assert await service.join(700, "ZZZZZ-ZZZZZ", "Kẻ Đoán", channel="telegram") == Refused(Reason.INVALID_CODE)
    blocked = await service.join(700, created.code, "Kẻ Đoán", channel="telegram")
    assert isinstance(blocked, Refused) and blocked.reason == Reason.THROTTLED and blocked.minutes == 60
    clock.advance(timedelta(minutes=30))
    blocked = await service.join(700, created.code, "Kẻ Đoán", channel="telegram")
    assert isinstance(blocked, Refused) and blocked.minutes == 30
    clock.advance(timedelta(minutes=31))
    assert isinstance(await service.join(700, created.code, "Kẻ Đoán", channel="telegram"), Joined)  # the code was not spent


async def test_roles_and_scope_when_inviting(org) -> None:
    service, _, _ = org
    tan_an = await service.access.actor(11, channel="telegram")
    agent = await service.access.actor(13, channel="telegram")
    citizen = await service.access.actor(999, channel="telegram")
    assert await service.create_invite(citizen, Role.AGENT, "CL06") == Refused(Reason.CITIZEN)
    assert await service.create_invite(agent, Role.AGENT, "CL06") == Refused(Reason.NOT_ALLOWED, "agent")
    assert await service.create_invite(tan_an, Role.AGENT, "CL07") == Refused(Reason.UNIT_NOT_FOUND, "CL07")
    assert await service.create_invite(tan_an, Role.AGENT, "NOPE") == Refused(Reason.UNIT_NOT_FOUND, "NOPE")
    assert await service.create_invite(tan_an, Role.AGENT, "CL06", "CL07-NHOM1") == Refused(Reason.TEAM_NOT_FOUND, "CL07-NHOM1")
    assert (await service.create_invite(tan_an, "admin", "CL06")).reason == Reason.ROLE_TOO_HIGH  # type: ignore[union-attr]
    assert isinstance(await service.create_invite(tan_an, Role.OFFICIAL, "CL06"), InviteCreated)
    district = await service.access.actor(10, channel="telegram")
    assert isinstance(await service.create_invite(district, Role.AGENT, "CL07", "CL07-NHOM1"), InviteCreated)
    admin = await service.access.actor(ADMIN, channel="telegram")
    assert isinstance(await service.create_invite(admin, Role.OFFICIAL, "CL"), InviteCreated)
    options = await service.invite_options(tan_an)
    assert [u.code for u in options.units] == ["CL06"]  # type: ignore[union-attr]
    assert options.roles == [Role.AGENT, Role.TEAM_LEADER, Role.OFFICIAL]  # type: ignore[union-attr]


async def test_claiming_a_roster_member_and_refusals_for_members_and_admins(org) -> None:
    service, _, db = org
    official = await service.access.actor(11, channel="telegram")
    people = await service.unclaimed(official, "CL06", (await service.teams.by_code("CL06-NHOM1")).id)  # type: ignore[union-attr]
    assert sorted(p.full_name for p in people) == ["Huỳnh Thị Ngọc", "Nguyễn Văn Tâm", "Phạm Thị Hoa"]
    hoa = next(p for p in people if p.full_name == "Phạm Thị Hoa")
    created = await invite(service, 11, Role.AGENT, "CL06", "CL06-NHOM1", member_id=hoa.id)
    assert created.member_name == "Phạm Thị Hoa"
    joined = await service.join(800, created.code, "Hoa Telegram", channel="telegram")
    assert isinstance(joined, Joined) and joined.claimed and joined.member_id == hoa.id
    claimed = await service.members.get(hoa.id)
    assert claimed is not None and claimed.user_id == 800 and claimed.full_name == "Phạm Thị Hoa"
    # Someone else's roster entry cannot be invited twice once claimed.
    assert await service.create_invite(official, Role.AGENT, "CL06", None, hoa.id) == Refused(Reason.MEMBER_NOT_FOUND)
    # Members and admins do not need codes; nothing is spent.
    other = await invite(service, 11, Role.AGENT, "CL06")
    already = await service.join(800, other.code, "Hoa", channel="telegram")
    assert isinstance(already, Refused) and already.reason == Reason.ALREADY_MEMBER
    assert await service.join(ADMIN, other.code, "Admin", channel="telegram") == Refused(Reason.IS_ADMIN)
    assert await db.fetchval("SELECT COUNT(*) FROM invites WHERE used_at IS NULL") == 1
