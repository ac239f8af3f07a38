"""A small organisation for the agents' tests, created through the repositories.

District CL with communes CL01 (Xã Tân An, staff 4, 10.000 people of whom 9.000 had BHYT on
30/06/2026, target 95 %) and CL02 (Xã Mỹ Cẩm); CL01 has two teams with November 2026 rosters. Each person has a Telegram user id the emulator can speak as.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.domain.records import CLI_ACTOR, Baseline, RosterRecord, Target, TeamRecord, UnitRecord
from bot.domain.roles import Role
from bot.services import Services

MONTH = "2026-11"


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    role: Role
    unit: str


AN = Person(5001, "Nguyễn Thị Hoa", Role.AGENT, "CL01")
BINH = Person(5002, "Trần Văn Bình", Role.AGENT, "CL01")
CUONG = Person(5003, "Lê Văn Tài", Role.AGENT, "CL02")
LEADER = Person(5004, "Phạm Thị Biên", Role.TEAM_LEADER, "CL01")
OFFICIAL_A = Person(5005, "Đoàn Thị My", Role.OFFICIAL, "CL01")
OFFICIAL_B = Person(5006, "Văn Hà Thu", Role.OFFICIAL, "CL02")
DISTRICT = Person(5007, "Phan Nghiêm Hà Châu", Role.OFFICIAL, "CL")
PEOPLE = (AN, BINH, CUONG, LEADER, OFFICIAL_A, OFFICIAL_B, DISTRICT)
CITIZEN_ID = 5999


@dataclass
class World:
    member_ids: dict[int, int]  # user id -> member id
    team_ids: dict[str, int]


def name_key(name: str) -> str:
    return " ".join(name.lower().split())


async def seed_world(services: Services, now: datetime) -> World:
    units = [
        UnitRecord("CL", "Huyện Càng Long", None, "district"),
        UnitRecord("CL01", "Xã Tân An", "CL", "commune", population=10_000, staff_count=4),
        UnitRecord("CL02", "Xã Mỹ Cẩm", "CL", "commune", staff_count=2),
    ]
    baselines = [Baseline("CL01", "bhyt", date(2026, 6, 30), 9_000)]
    targets = [Target("CL01", "bhyt", "2026", Decimal("95"), None)]
    await services.units.import_tree(units, baselines, targets, now)
    ids: dict[int, int] = {}
    for p in PEOPLE:
        ids[p.user_id] = await services.members.add(
            full_name=p.name, role=p.role, unit_code=p.unit, actor=CLI_ACTOR, at=now, user_id=p.user_id, channel="telegram"
        )
    teams = [TeamRecord("TO1", "Tổ 1", "CL01"), TeamRecord("TO2", "Tổ 2", "CL01")]
    roster = [
        RosterRecord("TO1", MONTH, LEADER.name, None, True),
        RosterRecord("TO1", MONTH, AN.name, None, False),
        RosterRecord("TO2", MONTH, BINH.name, None, False),
    ]
    await services.teams.import_rosters(teams, roster, name_key, now)
    team_ids = {}
    for code in ("TO1", "TO2"):
        team = await services.teams.by_code(code)
        assert team is not None
        team_ids[code] = team.id
    return World(ids, team_ids)
