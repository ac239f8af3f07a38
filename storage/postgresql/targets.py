"""Figures of units on PostgreSQL: baselines and targets, and new participants since a baseline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from bot.domain.records import Baseline, Target
from storage.postgresql.db import Database, Tx
from storage.sqlite.targets import ENROLMENT_KIND_SQL


async def upsert_baselines(tx: Tx, rows: Iterable[Baseline]) -> int:
    """Insert or replace baselines inside the caller's transaction; returns how many."""
    params = [(b.unit_code, b.scheme, b.as_of.isoformat(), b.participants) for b in rows]
    await tx.executemany(
        "INSERT INTO unit_baselines(unit_code, scheme, as_of, participants) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT(unit_code, scheme, as_of) DO UPDATE SET participants = excluded.participants",
        params,
    )
    return len(params)


async def upsert_targets(tx: Tx, rows: Iterable[Target]) -> int:
    """Insert or replace targets inside the caller's transaction; returns how many."""
    params = [
        (t.unit_code, t.scheme, t.period, None if t.target_pct is None else str(t.target_pct), t.target_count)
        for t in rows
    ]
    await tx.executemany(
        "INSERT INTO unit_targets(unit_code, scheme, period, target_pct, target_count)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT(unit_code, scheme, period) DO UPDATE SET"
        " target_pct = excluded.target_pct, target_count = excluded.target_count",
        params,
    )
    return len(params)


class FiguresRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def import_targets(self, rows: Sequence[Target]) -> int:
        async with self.db.transaction() as tx:
            return await upsert_targets(tx, rows)

    async def latest_baselines(self, on: date | None = None) -> list[Baseline]:
        """Per unit and scheme, the latest baseline dated on or before `on` (all when None)."""
        limit = (on or date.max).isoformat()
        rows = await self.db.fetch(
            "SELECT b.unit_code, b.scheme, b.as_of, b.participants FROM unit_baselines b"
            " WHERE b.as_of = (SELECT MAX(x.as_of) FROM unit_baselines x"
            " WHERE x.unit_code = b.unit_code AND x.scheme = b.scheme AND x.as_of <= $1)",
            limit,
        )
        return [
            Baseline(code, scheme, date.fromisoformat(as_of), int(participants))
            for code, scheme, as_of, participants in rows
        ]

    async def targets(self, period: str | None = None) -> list[Target]:
        """Targets of one period, or per unit and scheme those of the latest period."""
        if period is not None:
            rows = await self.db.fetch(
                "SELECT unit_code, scheme, period, target_pct, target_count FROM unit_targets"
                " WHERE period = $1",
                period,
            )
        else:
            rows = await self.db.fetch(
                "SELECT t.unit_code, t.scheme, t.period, t.target_pct, t.target_count"
                " FROM unit_targets t WHERE t.period = (SELECT MAX(period) FROM unit_targets x"
                " WHERE x.unit_code = t.unit_code AND x.scheme = t.scheme)"
            )
        return [
            Target(code, scheme, per, None if pct is None else Decimal(pct), count)
            for code, scheme, per, pct, count in rows
        ]

    async def periods(self) -> list[str]:
        rows = await self.db.fetch("SELECT DISTINCT period FROM unit_targets ORDER BY period")
        return [row[0] for row in rows]

    async def new_participants(
        self, cutoffs: Sequence[tuple[str, str, date | None]]
    ) -> dict[tuple[str, str], int]:
        """Active enrolments per (unit, kind) logged after each cutoff date (see the SQLite
        engine for the rules); the units are one array parameter."""
        by_day: dict[str, dict[str, set[str]]] = {}
        for unit_code, kind, since in cutoffs:
            day = since.isoformat() if since else ""
            by_day.setdefault(day, {}).setdefault(unit_code, set()).add(kind)
        counts: dict[tuple[str, str], int] = {}
        for day, wanted in by_day.items():
            rows = await self.db.fetch(
                f"SELECT e.unit_code, {ENROLMENT_KIND_SQL} AS kind, COUNT(*) FROM enrolments e"
                " WHERE e.status = 'active' AND e.created_on > $1"
                " AND e.unit_code = ANY($2::text[])"
                " GROUP BY e.unit_code, 2",
                day, sorted(wanted),
            )
            for unit_code, kind, count in rows:
                if kind in wanted.get(unit_code, ()):
                    counts[(unit_code, kind)] = int(count)
        return counts
