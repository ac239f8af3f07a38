"""What SQLAlchemy Core (async) would cost the SQLite engine's hot queries, measured.

Issue 10 suggested writing the queries once in SQLAlchemy Core 2 (asyncio extension over
aiosqlite and asyncpg) unless a measurement says otherwise. This compares, on one SQLite file
migrated by the SQLite engine, the same three hot paths three ways:

- raw: aiosqlite, as the SQLite engine runs them (one connection, `?` parameters);
- core: SQLAlchemy Core expressions (`select(members).where(...)`, `func.count()`, `insert()`)
  on `create_async_engine("sqlite+aiosqlite://")`, the statement cache on;
- text: SQLAlchemy executing the same SQL text (`text()`): its execution layer alone.

Hot paths: a point read (a member by chat account, every update), a tally (entries per scheme
of a month in a scope of units, every summary and /baocao) and a batch insert (5,000 contact
phones in one transaction, imports and demo data). Figures are per operation (median of 5
runs); the ratio is SQLAlchemy / raw. SQLAlchemy is not a dependency of the bot: install it by
hand (`pip install 'sqlalchemy[asyncio]'`) to run this, standalone:

    .venv/bin/python -m bench.bench_sqlalchemy_overhead

Measured on the project's machine (2 cores, shared with other jobs, so +-20 % between runs),
2026-12-01, SQLAlchemy 2.0, per operation, ratio to raw aiosqlite:

    point read   raw 0.254 ms   core 1.212 ms (4.77x)   text 0.823 ms (3.24x)
    tally        raw 105 ms     core 494 ms   (4.69x)   text 89 ms    (0.85x)
    batch 5,000  raw 56 ms      core 56 ms    (1.00x)   text 131 ms   (2.34x)

(A first run without the warm-up pass gave 6.74x / 2.95x for the point read.) The point read is
what every update does, several times: SQLAlchemy is out for the SQLite engine, see
storage/postgresql/engine.py.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bench.common import machine, report

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
MEMBERS = 2_000
ENROLMENTS = 200_000
UNITS = [f"CL{n:02d}" for n in range(1, 41)]
POINT_READS = 2_000
TALLIES = 50
BATCH = 5_000
RUNS = 5


async def _build(path: Path) -> None:
    """The SQLite engine's schema (its migrations), with members and a month of enrolments."""
    from storage.sqlite.engine import SQLiteStorage

    storage = SQLiteStorage(path)
    await storage.connect()
    await storage.close()
    async with aiosqlite.connect(path) as conn:
        stamp = NOW.isoformat()
        await conn.execute("INSERT INTO units(code, name, updated_at) VALUES ('CL', 'Huyện', ?)", (stamp,))
        await conn.executemany(
            "INSERT INTO units(code, name, parent_code, updated_at) VALUES (?, ?, 'CL', ?)",
            [(code, f"Xã {code}", stamp) for code in UNITS],
        )
        await conn.executemany(
            "INSERT INTO members(id, channel, user_id, full_name, role, unit_code, created_at, updated_at)"
            " VALUES (?, 'telegram', ?, ?, 'agent', ?, ?, ?)",
            [(n, 100_000 + n, f"Người {n}", UNITS[n % len(UNITS)], stamp, stamp) for n in range(1, MEMBERS + 1)],
        )
        schemes = ("bhyt_household", "bhyt_supported", "bhxh_voluntary")
        await conn.executemany(
            "INSERT INTO enrolments(agent_id, unit_code, scheme, participant_name, participant_code, code_kind,"
            " months, period_start, period_end, amount_expected, amount_paid, created_at, created_on)"
            " VALUES (?, ?, ?, 'x', ?, 'bhxh', 12, '2026-11-01', '2027-10-31', 1, 1, ?, ?)",
            [
                (1 + n % MEMBERS, UNITS[n % len(UNITS)], schemes[n % 3], f"84{n:08d}", stamp,
                 f"2026-11-{1 + n % 28:02d}")
                for n in range(ENROLMENTS)
            ],
        )
        await conn.commit()


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


async def _time(operation: Callable[[], Awaitable[None]], count: int) -> float:
    """Seconds per operation: the median of RUNS runs of `count` operations."""
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await operation()
        samples.append((time.perf_counter() - start) / count)
    return _median(samples)


async def _raw(path: Path) -> dict[str, float]:
    import json

    conn = await aiosqlite.connect(path, isolation_level=None)
    scope = json.dumps(UNITS[:20])
    try:
        async def point() -> None:
            for n in range(POINT_READS):
                async with conn.execute(
                    "SELECT id, channel, user_id, full_name, role, unit_code, active FROM members"
                    " WHERE channel = ? AND user_id = ? AND active = 1",
                    ("telegram", 100_001 + n % MEMBERS),
                ) as cur:
                    await cur.fetchone()

        async def tally() -> None:
            for _ in range(TALLIES):
                async with conn.execute(
                    "SELECT e.scheme, COUNT(*) FROM enrolments e WHERE e.status = 'active'"
                    " AND e.created_on BETWEEN ? AND ? AND e.unit_code IN (SELECT value FROM json_each(?))"
                    " GROUP BY e.scheme",
                    ("2026-11-01", "2026-11-30", scope),
                ) as cur:
                    await cur.fetchall()

        async def batch() -> None:
            await conn.execute("BEGIN IMMEDIATE")
            await conn.executemany(
                "INSERT INTO contact_phones(channel, user_id, phone, verified_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(channel, user_id) DO UPDATE SET phone = excluded.phone",
                [("telegram", n, f"09{n:08d}", "x") for n in range(BATCH)],
            )
            await conn.execute("COMMIT")

        return {
            "point": await _time(point, POINT_READS),
            "tally": await _time(tally, TALLIES),
            "batch": await _time(batch, 1),
        }
    finally:
        await conn.close()


async def _sqlalchemy(path: Path, expressions: bool) -> dict[str, float]:
    from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
    from sqlalchemy.dialects.sqlite import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    meta = MetaData()
    members = Table(
        "members", meta, Column("id", Integer, primary_key=True), Column("channel", String),
        Column("user_id", Integer), Column("full_name", String), Column("role", String),
        Column("unit_code", String), Column("active", Integer),
    )
    enrolments = Table(
        "enrolments", meta, Column("id", Integer, primary_key=True), Column("scheme", String),
        Column("status", String), Column("created_on", String), Column("unit_code", String),
    )
    phones = Table(
        "contact_phones", meta, Column("channel", String, primary_key=True),
        Column("user_id", Integer, primary_key=True), Column("phone", String), Column("verified_at", String),
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    scope = UNITS[:20]
    try:
        async with engine.connect() as conn:
            async def point() -> None:
                for n in range(POINT_READS):
                    user = 100_001 + n % MEMBERS
                    if expressions:
                        stmt = (
                            select(members.c.id, members.c.channel, members.c.user_id, members.c.full_name,
                                   members.c.role, members.c.unit_code, members.c.active)
                            .where(members.c.channel == "telegram", members.c.user_id == user,
                                   members.c.active == 1)
                        )
                        (await conn.execute(stmt)).first()
                    else:
                        (await conn.execute(
                            text("SELECT id, channel, user_id, full_name, role, unit_code, active FROM members"
                                 " WHERE channel = :c AND user_id = :u AND active = 1"),
                            {"c": "telegram", "u": user},
                        )).first()

            async def tally() -> None:
                for _ in range(TALLIES):
                    if expressions:
                        stmt = (
                            select(enrolments.c.scheme, func.count())
                            .where(enrolments.c.status == "active",
                                   enrolments.c.created_on.between("2026-11-01", "2026-11-30"),
                                   enrolments.c.unit_code.in_(scope))
                            .group_by(enrolments.c.scheme)
                        )
                        (await conn.execute(stmt)).all()
                    else:
                        import json

                        (await conn.execute(
                            text("SELECT e.scheme, COUNT(*) FROM enrolments e WHERE e.status = 'active'"
                                 " AND e.created_on BETWEEN :a AND :b"
                                 " AND e.unit_code IN (SELECT value FROM json_each(:s)) GROUP BY e.scheme"),
                            {"a": "2026-11-01", "b": "2026-11-30", "s": json.dumps(scope)},
                        )).all()

            async def batch() -> None:
                rows = [{"channel": "telegram", "user_id": n, "phone": f"09{n:08d}", "verified_at": "x"}
                        for n in range(BATCH)]
                stmt = insert(phones)
                stmt = stmt.on_conflict_do_update(index_elements=["channel", "user_id"],
                                                  set_={"phone": stmt.excluded.phone})
                await conn.commit()  # end the reads' implicit transaction: one write transaction
                await conn.execute(stmt, rows)
                await conn.commit()

            return {
                "point": await _time(point, POINT_READS),
                "tally": await _time(tally, TALLIES),
                "batch": await _time(batch, 1),
            }
    finally:
        await engine.dispose()


async def _main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        await _build(path)
        await _raw(path)  # warm-up: the file's pages in the cache for every contender alike
        raw = await _raw(path)
        core = await _sqlalchemy(path, expressions=True)
        textual = await _sqlalchemy(path, expressions=False)
    for name in ("point", "tally", "batch"):
        report(
            f"sqlalchemy-overhead {name}",
            raw_ms=f"{raw[name] * 1000:.3f}",
            core_ms=f"{core[name] * 1000:.3f}",
            text_ms=f"{textual[name] * 1000:.3f}",
            core_ratio=f"{core[name] / raw[name]:.2f}",
            text_ratio=f"{textual[name] / raw[name]:.2f}",
        )


def run() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    print(f"machine: {machine()}", flush=True)
    run()
