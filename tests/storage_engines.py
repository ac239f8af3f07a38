"""Storage for tests, opened the way the application opens it (`storage.engines.open_storage`).

`ENGINES` lists the engines the storage tests run against; a PostgreSQL engine adds its name
here and a branch in `engine_url`, and every contract test runs on it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from storage.contract import Storage
from storage.engines import open_storage

ENGINES = ("sqlite",)


@dataclass(frozen=True)
class EngineSettings:
    """The two settings `open_storage` reads."""

    database_url: str | None
    database_path: Path


def engine_url(engine: str, path: Path) -> str:
    """The DATABASE_URL of a fresh database of this engine (for SQLite, the file `path`)."""
    if engine == "sqlite":
        return f"sqlite:///{path}"
    raise ValueError(f"no test database for engine {engine!r}")


@asynccontextmanager
async def opened_storage(path: Path, engine: str = "sqlite") -> AsyncIterator[Storage]:
    """A connected storage on a fresh database, closed after the block."""
    storage = open_storage(EngineSettings(engine_url(engine, path), path))
    await storage.connect()
    try:
        yield storage
    finally:
        await storage.close()
