"""The unit tree on PostgreSQL (province -> commune -> village, or a city's departments)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.domain.records import UNIT_FIELDS, Baseline, Target, TreeImportResult, Unit, UnitRecord
from storage.postgresql import targets as figures_sql
from storage.postgresql.db import Database
from storage.sqlite.units import _COLUMNS

_SUBTREE = (
    "WITH RECURSIVE sub(code) AS (SELECT code FROM units WHERE code = $1"
    " UNION SELECT u.code FROM units u JOIN sub ON u.parent_code = sub.code)"
)


class UnitRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, code: str) -> Unit | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM units WHERE code = $1", code)
        return None if row is None else Unit(*row)

    async def children(self, code: str) -> list[Unit]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM units WHERE parent_code = $1 ORDER BY code", code)
        return [Unit(*row) for row in rows]

    async def roots(self) -> list[Unit]:
        """Units without a parent (provinces, districts or cities loaded as top level)."""
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM units WHERE parent_code IS NULL ORDER BY code")
        return [Unit(*row) for row in rows]

    async def all(self) -> list[Unit]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM units ORDER BY code")
        return [Unit(*row) for row in rows]

    async def all_codes(self) -> list[str]:
        """Every unit code, in order: an admin's scope."""
        rows = await self.db.fetch("SELECT code FROM units ORDER BY code")
        return [row[0] for row in rows]

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM units") or 0)

    async def subtree(self, code: str) -> list[Unit]:
        """The unit and everything below it, as rows (for reports and coverage)."""
        rows = await self.db.fetch(
            f"{_SUBTREE} SELECT {_COLUMNS} FROM units WHERE code IN (SELECT code FROM sub) ORDER BY code", code
        )
        return [Unit(*row) for row in rows]

    async def subtree_codes(self, code: str) -> list[str]:
        """The unit and every unit below it: an official's scope."""
        rows = await self.db.fetch(f"{_SUBTREE} SELECT code FROM sub", code)
        return [row[0] for row in rows]

    async def in_scope(self, scope_code: str, code: str) -> bool:
        """Is `code` inside the subtree of `scope_code`? (walks up from `code`)."""
        row = await self.db.fetchrow(
            "WITH RECURSIVE up(code, parent_code) AS ("
            " SELECT code, parent_code FROM units WHERE code = $1"
            " UNION SELECT u.code, u.parent_code FROM units u JOIN up ON u.code = up.parent_code)"
            " SELECT 1 FROM up WHERE code = $2",
            code, scope_code,
        )
        return row is not None

    async def ancestors(self, code: str) -> list[str]:
        """Codes from the unit's parent up to the root (for breadcrumbs and checks)."""
        rows = await self.db.fetch(
            "WITH RECURSIVE up(code, parent_code, depth) AS ("
            " SELECT code, parent_code, 0 FROM units WHERE code = $1"
            " UNION SELECT u.code, u.parent_code, up.depth + 1 FROM units u"
            " JOIN up ON u.code = up.parent_code)"
            " SELECT code FROM up WHERE depth > 0 ORDER BY depth",
            code,
        )
        return [row[0] for row in rows]

    async def parent_map(self) -> dict[str, str | None]:
        """code -> parent code of every stored unit (imports check cycles against it)."""
        rows = await self.db.fetch("SELECT code, parent_code FROM units")
        return {row[0]: row[1] for row in rows}

    async def import_tree(
        self,
        units: Sequence[UnitRecord],
        baselines: Iterable[Baseline],
        targets: Iterable[Target],
        now: datetime,
    ) -> TreeImportResult:
        """Upsert units (given parents first), their baselines and targets, all or nothing.
        Imports of the tree take one advisory lock, so two at once cannot count a unit twice."""
        stamp = now.isoformat(timespec="seconds")
        created = updated = 0
        async with self.db.transaction() as tx:
            await tx.lock("units:import")
            existing = {row[0] for row in await tx.fetch("SELECT code FROM units")}
            for unit in units:
                sql, params = _upsert_unit_sql(unit, stamp)
                await tx.execute(sql, *params)
                if unit.code in existing:
                    updated += 1
                else:
                    created += 1
                    existing.add(unit.code)
            n_baselines = await figures_sql.upsert_baselines(tx, baselines)
            n_targets = await figures_sql.upsert_targets(tx, targets)
        return TreeImportResult(created, updated, n_baselines, n_targets)


def _upsert_unit_sql(unit: UnitRecord, stamp: str) -> tuple[str, list[object]]:
    """(sql, params): INSERT ... ON CONFLICT DO UPDATE of the columns the file has."""
    values = {name: getattr(unit, name) for name in UNIT_FIELDS}
    insert_cols = ["code", *UNIT_FIELDS, "updated_at"]
    params: list[object] = [unit.code, *(values[name] for name in UNIT_FIELDS), stamp]
    updates = [f"{name} = excluded.{name}" for name in UNIT_FIELDS if name in unit.present]
    updates.append("updated_at = excluded.updated_at")
    placeholders = ", ".join(f"${n}" for n in range(1, len(insert_cols) + 1))
    sql = (
        f"INSERT INTO units({', '.join(insert_cols)}) VALUES ({placeholders})"
        f" ON CONFLICT(code) DO UPDATE SET {', '.join(updates)}"
    )
    if values["level"] is None:  # level is NOT NULL: an absent level inserts ''
        params[insert_cols.index("level")] = ""
    return sql, params
