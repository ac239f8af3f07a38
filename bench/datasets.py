"""Province-sized datasets for the benchmarks: 1,000 units, 1,000,000 enrolments in < 60 s,
and the lapsed cards of the reminder benchmarks (`lapsed_cards`).

`build_province(db, ...)` fills an empty, migrated database with
- a unit tree: province "P", 20 districts "P00".."P19", communes "Pdd-cccc" (the rest), each
  commune with population, labour force, staff count, baselines at 31/12/2025 and 2026 targets
  (so coverage has seed-003-like figures);
- agents (5 per commune by default) with chat user ids 1_000_000 + 10 x commune + k, one team
  per commune ("T-<commune>") with a roster for every month of 2026;
- enrolments spread over 1/1/2026 .. 23/11/2026 (3 % withdrawn or voided, 10 % relatives).
Everything is written with executemany inside one transaction per table (the enrolments'
indexes are dropped during the load and rebuilt once, with the migrations' own SQL), so other
benchmarks can import it and stay fast. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.domain.cards import Card
from storage.contract import Storage
from storage.sqlite.db import Database
from storage.sqlite.engine import SQLiteStorage

YEAR_START = date(2026, 1, 1)
TODAY = date(2026, 11, 23)
BASELINE_DAY = date(2025, 12, 31)
DISTRICTS = 20
STAMP = "2026-01-01T08:00:00+07:00"
SCHEMES = ("bhyt_household",) * 12 + ("bhyt_supported",) * 3 + ("bhxh_voluntary",) * 5


@dataclass
class Province:
    """What was built, for benchmarks to pick their subjects from."""

    units: int
    communes: list[str]
    districts: list[str]
    agents: list[tuple[int, str, int]]  # (member id, commune, chat user id)
    teams: dict[str, int]  # commune -> team id
    enrolments: int
    seconds: dict[str, float] = field(default_factory=dict)


def sqlite_db(storage: Storage) -> Database:
    """The SQLite handle of `storage`: the datasets are written (and some figures read) with
    SQL, so the benchmarks run on the SQLite engine; another engine is refused here, clearly."""
    if not isinstance(storage, SQLiteStorage):
        raise TypeError(f"the benchmarks need the SQLite engine, not {storage.engine!r}")
    return storage.db


def commune_codes(units: int) -> list[str]:
    return [f"P{c % DISTRICTS:02d}-{c:04d}" for c in range(max(0, units - 1 - DISTRICTS))]


async def build_province(
    db: Database,
    units: int = 1000,
    enrolments: int = 1_000_000,
    agents: int | None = None,
    seed: int = 1,
) -> Province:
    """Fill `db` (connected, migrated, empty) with a province; see the module docstring.

    `agents` is the total number of agents (default 5 per commune), spread over the communes.
    """
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    communes = commune_codes(units)
    if not communes:
        raise ValueError(f"units must be at least {DISTRICTS + 2}")
    districts = [f"P{d:02d}" for d in range(DISTRICTS)]
    n_agents = agents if agents is not None else 5 * len(communes)

    start = time.perf_counter()
    unit_rows: list[tuple[Any, ...]] = [("P", "Tỉnh Mẫu", None, "tỉnh", None, None, None, STAMP)]
    unit_rows += [(d, f"Huyện {d}", "P", "huyện", None, None, None, STAMP) for d in districts]
    figures: dict[str, tuple[int, int]] = {}
    for code in communes:
        population = rng.randrange(4_000, 16_000)
        labour = population * 51 // 100
        figures[code] = (population, labour)
        unit_rows.append((code, f"Xã {code}", code[:3], "xã", population, labour, 20, STAMP))
    baselines, targets = [], []
    for code, (population, labour) in figures.items():
        bhyt = population * rng.randrange(80, 97) // 100
        bb = labour * rng.randrange(10, 25) // 100
        tn = labour * rng.randrange(2, 8) // 100
        bhtn = bb * 95 // 100
        day = BASELINE_DAY.isoformat()
        baselines += [(code, "bhyt", day, bhyt), (code, "bhxh_bb", day, bb), (code, "bhxh_tn", day, tn), (code, "bhtn", day, bhtn)]
        targets += [
            (code, "bhyt", "2026", "95", None),
            (code, "bhxh", "2026", f"{rng.randrange(2000, 2800) / 100:.2f}", None),
            (code, "bhxh_tn", "2026", f"{rng.randrange(400, 900) / 100:.2f}", None),
            (code, "bhtn", "2026", f"{rng.randrange(1000, 1900) / 100:.2f}", None),
        ]
    targets += [("P", s, "2026", pct, None) for s, pct in (("bhyt", "95"), ("bhxh", "22.69"), ("bhxh_tn", "6.17"), ("bhtn", "15.66"))]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO units(code, name, parent_code, level, population, labour_force, staff_count, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            unit_rows,
        )
        await conn.executemany(
            "INSERT INTO unit_baselines(unit_code, scheme, as_of, participants) VALUES (?, ?, ?, ?)", baselines
        )
        await conn.executemany(
            "INSERT INTO unit_targets(unit_code, scheme, period, target_pct, target_count) VALUES (?, ?, ?, ?, ?)",
            targets,
        )
    timings["units"] = time.perf_counter() - start

    start = time.perf_counter()
    agent_rows = []
    for i in range(n_agents):
        index = i % len(communes)
        k = i // len(communes)
        user_id = 1_000_000 + index * 10 + k
        agent_rows.append(("telegram", user_id, f"Người Vận Động {index:04d} {k}", "agent", communes[index], STAMP, STAMP))
    months = [f"2026-{m:02d}" for m in range(1, TODAY.month + 1)]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO members(channel, user_id, full_name, role, unit_code, active, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            agent_rows,
        )
        await conn.executemany(
            "INSERT INTO teams(code, name, unit_code) VALUES (?, ?, ?)",
            [(f"T-{c}", f"Tổ {c}", c) for c in communes],
        )
    member_rows = await db.fetchall("SELECT id, unit_code, user_id FROM members WHERE role = 'agent' ORDER BY id")
    team_ids = {row[1]: int(row[0]) for row in await db.fetchall("SELECT id, unit_code FROM teams")}
    agents_built = [(int(r[0]), str(r[1]), int(r[2])) for r in member_rows]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO team_rosters(team_id, month, member_id, is_leader) VALUES (?, ?, ?, ?)",
            (
                (team_ids[unit], month, member_id, int(k == 0))
                for month in months
                for k, (member_id, unit, _) in enumerate(agents_built)
            ),
        )
    timings["members"] = time.perf_counter() - start

    start = time.perf_counter()
    await _load_enrolments(db, rng, agents_built, team_ids, enrolments)
    timings["enrolments"] = time.perf_counter() - start
    return Province(
        units=len(unit_rows),
        communes=communes,
        districts=districts,
        agents=agents_built,
        teams=team_ids,
        enrolments=enrolments,
        seconds=timings,
    )


def _enrolment_rows(
    rng: random.Random, agents: list[tuple[int, str, int]], teams: dict[str, int], n: int
) -> Iterator[tuple[Any, ...]]:
    days = (TODAY - YEAR_START).days + 1
    calendar = [YEAR_START + timedelta(days=d) for d in range(days)]
    iso = [d.isoformat() for d in calendar]
    stamps = [f"{d}T09:00:00+07:00" for d in iso]
    ends = {m: [(d + timedelta(days=30 * m)).isoformat() for d in calendar] for m in (1, 3, 6, 12)}
    n_agents, n_schemes = len(agents), len(SCHEMES)
    for i in range(n):
        member_id, unit, _ = agents[rng.randrange(n_agents)]
        d = rng.randrange(days)
        scheme = SCHEMES[rng.randrange(n_schemes)]
        months = 12 if scheme != "bhxh_voluntary" else (1, 3, 6, 12)[rng.randrange(4)]
        roll = rng.random()
        status = "active" if roll > 0.03 else ("withdrawn" if roll > 0.015 else "voided")
        yield (
            member_id, unit, teams[unit], None, scheme, f"Người Tham Gia {i}", str(8_400_000_000 + i),
            "bhxh", months, iso[d], ends[months][d], None, None, 1, 100_000, 100_000,
            int(rng.random() < 0.1), status, stamps[d], iso[d],
        )


async def _load_enrolments(
    db: Database, rng: random.Random, agents: list[tuple[int, str, int]], teams: dict[str, int], n: int
) -> None:
    """Drop the table's indexes, bulk insert, rebuild them (far faster than keeping them)."""
    indexes = await db.fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'enrolments' AND sql IS NOT NULL"
    )
    async with db.transaction() as conn:
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        await conn.executemany(
            "INSERT INTO enrolments(agent_id, unit_code, team_id, campaign_code, scheme,"
            " participant_name, participant_code, code_kind, months, period_start, period_end,"
            " support_group, income, household_position, amount_expected, amount_paid, is_relative,"
            " status, created_at, created_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _enrolment_rows(rng, agents, teams, n),
        )
        for _, sql in indexes:
            await conn.execute(sql)


#: The chat user id of the first lapsed-card household's linked person (then +1 per household).
FIRST_USER = 10_000_000


def lapsed_cards(
    count: int, seed: int = 2026, all_due: bool = False, units: Sequence[str] = ()
) -> tuple[list[Card], list[tuple[int, str]]]:
    """Households of 1 to 5 (mean 3); the first member carries the phone and links Telegram.
    Expiries are spread over 2026 (``all_due``: all in January-September). Households go
    round `units` (a province's communes), else round 1,000 codes "U0000".."U0999" outside
    any unit tree (the reminder benchmark's own, which no query scopes by unit)."""
    rng = random.Random(seed)
    cards: list[Card] = []
    links: list[tuple[int, str]] = []
    household = 0
    while len(cards) < count:
        household += 1
        unit = units[household % len(units)] if units else f"U{household % 1000:04d}"
        valid_to = date(2026, 1, 1) + timedelta(days=rng.randrange(270 if all_due else 365))
        phone = f"09{household:08d}"
        links.append((FIRST_USER + household, phone))
        for member in range(min(rng.randint(1, 5), count - len(cards))):
            code = f"{len(cards):010d}"
            cards.append(Card(
                bhxh_code=code, full_name=f"Người {code}", unit_code=unit, valid_to=valid_to,
                card_code=f"GD484{code}", household_code=f"H{household}", sex="nu",
                birth_date=date(1960 + member * 9, 1, 1), phone=phone if member == 0 else None,
            ))
    return cards, links
