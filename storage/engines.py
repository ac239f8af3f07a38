"""The one place that chooses the storage engine from the settings.

`DATABASE_URL` unset: SQLite at `DATABASE_PATH`. `sqlite:///relative/path` or
`sqlite:////absolute/path`: SQLite at that path. `postgresql://user@host:port/db` (or
`postgres://`; `?schema=name` puts the tables in that schema): PostgreSQL (storage/postgresql).
Any other scheme stops start-up with one line naming the engines this build supports. Each
engine meets `storage.contract.Storage`; nothing else chooses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the contract (and its records) load with the engine, not with the CLI's parser
    from storage.contract import Storage

SUPPORTED_ENGINES = ("sqlite", "postgresql")
_POSTGRES_SCHEMES = ("postgresql", "postgres")


class EngineError(ValueError):
    """DATABASE_URL names an engine this build does not have, or no place."""


class StorageSettings(Protocol):
    """What choosing an engine reads from `bot.settings.Settings`."""

    @property
    def database_url(self) -> str | None: ...

    @property
    def database_path(self) -> Path: ...


def engine_of(url: str | None) -> tuple[str, str | None]:
    """(engine, place) of a DATABASE_URL; (sqlite, None) when unset: use DATABASE_PATH."""
    if url is None or not url.strip():
        return "sqlite", None
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise EngineError(f"DATABASE_URL is invalid: not a database URL ({_supported()})")
    scheme = scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        if not rest.strip("/"):
            raise EngineError("DATABASE_URL is invalid: no server (postgresql://user@host:5432/db)")
        return "postgresql", url.strip()
    if scheme != "sqlite":
        raise EngineError(f"DATABASE_URL is invalid: no engine '{scheme}' ({_supported()})")
    if not rest.startswith("/") or rest == "/":
        raise EngineError("DATABASE_URL is invalid: no file path (sqlite:///data/bot.sqlite3)")
    return "sqlite", rest[1:]


def _supported() -> str:
    return "supported engines: sqlite:///path, postgresql://user@host:5432/db"


def missing_database(settings: StorageSettings) -> str | None:
    """One line saying the database the settings name does not exist yet, or None.

    Read-only commands (reports) check this first: opening would create an empty database
    and answer from it, which hides a wrong path.
    """
    engine, place = engine_of(settings.database_url)
    if engine == "sqlite":
        path = Path(place) if place else settings.database_path
        if not path.exists():
            return f"database {path} not found ({'DATABASE_URL' if place else 'DATABASE_PATH'})"
    return None


def open_storage(settings: StorageSettings) -> Storage:
    """The storage the settings name, not yet connected (`await storage.connect()`)."""
    engine, place = engine_of(settings.database_url)
    if engine == "sqlite":
        from storage.sqlite.engine import SQLiteStorage

        return SQLiteStorage(Path(place) if place else settings.database_path)
    if engine == "postgresql" and place is not None:
        from storage.postgresql.engine import PostgresStorage

        return PostgresStorage(place)
    raise EngineError(f"DATABASE_URL is invalid: no engine '{engine}' ({_supported()})")  # pragma: no cover
