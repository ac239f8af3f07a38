"""Repository of the unit tree (province -> commune -> village, or a city's departments)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    parent_code: str | None
    level: str
    population: int | None
    labour_force: int | None
    staff_count: int | None
    pay_points: str | None


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
