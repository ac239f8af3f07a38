"""Repository of the unit tree (province -> commune -> village, or a city's departments)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.domain.records import UNIT_FIELDS, Baseline, Target, TreeImportResult, Unit, UnitRecord
from storage.sqlite import targets as figures_sql
from storage.sqlite.db import Database

_COLUMNS = "code, name, parent_code, level, population, labour_force, staff_count, pay_points"


class UnitRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, code: str) -> Unit | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM units WHERE code = ?", (code,))
        return None if row is None else Unit(*row)

    async def children(self, code: str) -> list[Unit]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM units WHERE parent_code = ? ORDER BY code", (code,)
        )
        return [Unit(*row) for row in rows]

    async def roots(self) -> list[Unit]:
        """Units without a parent (provinces, districts or cities loaded as top level)."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM units WHERE parent_code IS NULL ORDER BY code"
        )
        return [Unit(*row) for row in rows]

    async def all(self) -> list[Unit]:
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM units ORDER BY code")
        return [Unit(*row) for row in rows]

    async def all_codes(self) -> list[str]:
        """Every unit code, in order: an admin's scope."""
        rows = await self.db.fetchall("SELECT code FROM units ORDER BY code")
        return [row[0] for row in rows]

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM units") or 0)

    async def subtree(self, code: str) -> list[Unit]:
        """The unit and everything below it, as rows (for reports and coverage)."""
        rows = await self.db.fetchall(
            "WITH RECURSIVE sub(code) AS (SELECT code FROM units WHERE code = ?"
            " UNION SELECT u.code FROM units u JOIN sub ON u.parent_code = sub.code)"
            f" SELECT {_COLUMNS} FROM units WHERE code IN (SELECT code FROM sub) ORDER BY code",
            (code,),
        )
        return [Unit(*row) for row in rows]

    async def subtree_codes(self, code: str) -> list[str]:
        """The unit and every unit below it: an official's scope."""
        rows = await self.db.fetchall(
            "WITH RECURSIVE sub(code) AS (SELECT code FROM units WHERE code = ?"
            " UNION SELECT u.code FROM units u JOIN sub ON u.parent_code = sub.code)"
            " SELECT code FROM sub",
            (code,),
        )
        return [row[0] for row in rows]

    async def in_scope(self, scope_code: str, code: str) -> bool:
        """Is `code` inside the subtree of `scope_code`? (walks up from `code`)."""
        row = await self.db.fetchone(
            "WITH RECURSIVE up(code, parent_code) AS ("
            " SELECT code, parent_code FROM units WHERE code = ?"
            " UNION SELECT u.code, u.parent_code FROM units u JOIN up ON u.code = up.parent_code)"
            " SELECT 1 FROM up WHERE code = ?",
            (code, scope_code),
        )
        return row is not None

    async def ancestors(self, code: str) -> list[str]:
        """Codes from the unit's parent up to the root (for breadcrumbs and checks)."""
        rows = await self.db.fetchall(
            "WITH RECURSIVE up(code, parent_code, depth) AS ("
            " SELECT code, parent_code, 0 FROM units WHERE code = ?"
            " UNION SELECT u.code, u.parent_code, up.depth + 1 FROM units u"
            " JOIN up ON u.code = up.parent_code)"
            " SELECT code FROM up WHERE depth > 0 ORDER BY depth",
            (code,),
        )
        return [row[0] for row in rows]

    async def parent_map(self) -> dict[str, str | None]:
        """code -> parent code of every stored unit (imports check cycles against it)."""
        rows = await self.db.fetchall("SELECT code, parent_code FROM units")
        return {row[0]: row[1] for row in rows}

    async def import_tree(
        self,
        units: Sequence[UnitRecord],
        baselines: Iterable[Baseline],
        targets: Iterable[Target],
        now: datetime,
    ) -> TreeImportResult:
        """Upsert units (given parents first), their baselines and targets, all or nothing."""
        stamp = now.isoformat(timespec="seconds")
        existing = set((await self.parent_map()).keys())
        created = updated = 0
        async with self.db.transaction() as conn:
            for unit in units:
                await conn.execute(*_upsert_unit_sql(unit, stamp))
                if unit.code in existing:
                    updated += 1
                else:
                    created += 1
                    existing.add(unit.code)
            n_baselines = await figures_sql.upsert_baselines(conn, baselines)
            n_targets = await figures_sql.upsert_targets(conn, targets)
        return TreeImportResult(created, updated, n_baselines, n_targets)


def _upsert_unit_sql(unit: UnitRecord, stamp: str) -> tuple[str, tuple[object, ...]]:
    """INSERT ... ON CONFLICT DO UPDATE of the columns the file has."""
    values = {name: getattr(unit, name) for name in UNIT_FIELDS}
    insert_cols = ["code", *UNIT_FIELDS, "updated_at"]
    params: list[object] = [unit.code, *(values[name] for name in UNIT_FIELDS), stamp]
    updates = [f"{name} = excluded.{name}" for name in UNIT_FIELDS if name in unit.present]
    updates.append("updated_at = excluded.updated_at")
    placeholders = ", ".join("?" for _ in insert_cols)
    sql = (
        f"INSERT INTO units({', '.join(insert_cols)}) VALUES ({placeholders})"
        f" ON CONFLICT(code) DO UPDATE SET {', '.join(updates)}"
    )
    # level is NOT NULL: an absent level inserts ''.
    if values["level"] is None:
        params[insert_cols.index("level")] = ""
    return sql, tuple(params)
