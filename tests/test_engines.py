"""One place chooses the storage engine (storage/engines.py), and every command goes through it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bot.bootstrap import build_services, open_services
from bot.cli import EXIT_CONFIG, main
from bot.domain.records import UnitRecord
from bot.settings import Settings
from storage.engines import EngineError, engine_of, missing_database, open_storage
from tests.storage_engines import EngineSettings, database_url, server_url

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def settings(tmp_path: Path, url: str | None) -> Settings:
    return Settings(_env_file=None, database_path=tmp_path / "default.sqlite3", database_url=url)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, ("sqlite", None)),
        ("", ("sqlite", None)),
        ("sqlite:///data/bot.sqlite3", ("sqlite", "data/bot.sqlite3")),
        ("sqlite:////var/lib/bot.sqlite3", ("sqlite", "/var/lib/bot.sqlite3")),
        ("SQLite:///x.sqlite3", ("sqlite", "x.sqlite3")),
        ("postgresql://bot@db:5432/bhxh", ("postgresql", "postgresql://bot@db:5432/bhxh")),
        ("postgres://bot@db/bhxh?schema=hcm", ("postgresql", "postgres://bot@db/bhxh?schema=hcm")),
    ],
)
def test_database_urls_name_the_engine_and_place(url: str | None, expected: tuple[str, str | None]) -> None:
    assert engine_of(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://x/y", "no engine 'mysql'"),
        ("postgresql://", "no server"),
        ("data/bot.sqlite3", "not a database URL"),
        ("sqlite://", "no file path"),
        ("sqlite:///", "no file path"),
    ],
)
def test_an_unknown_engine_or_a_url_without_a_place_is_refused_naming_the_supported_ones(
    tmp_path: Path, url: str, says: str
) -> None:
    with pytest.raises(EngineError) as refused:
        open_storage(settings(tmp_path, url))
    message = str(refused.value)
    assert says in message and "DATABASE_URL" in message and "\n" not in message
    if "no engine" in says or "not a database" in says:
        assert "sqlite:///path" in message and "postgresql://" in message


async def test_unset_url_opens_sqlite_at_database_path_and_a_url_its_own_file(tmp_path: Path) -> None:
    default = open_storage(settings(tmp_path, None))
    assert default.engine == "sqlite" and default.path == tmp_path / "default.sqlite3"  # type: ignore[attr-defined]
    chosen = tmp_path / "sub" / "chosen.sqlite3"
    assert missing_database(settings(tmp_path, f"sqlite:///{chosen}")) == f"database {chosen} not found (DATABASE_URL)"
    async with open_services(settings(tmp_path, f"sqlite:///{chosen}")) as services:
        assert services.storage.engine == "sqlite"
        await services.units.roots()
    assert chosen.exists() and not (tmp_path / "default.sqlite3").exists()
    assert missing_database(settings(tmp_path, f"sqlite:///{chosen}")) is None
    assert missing_database(EngineSettings(None, tmp_path / "default.sqlite3")) == (
        f"database {tmp_path / 'default.sqlite3'} not found (DATABASE_PATH)"
    )


def test_services_share_the_storage_they_were_built_on(tmp_path: Path) -> None:
    services = build_services(settings(tmp_path, None))
    storage = services.storage
    assert services.units is storage.units and services.members is storage.members
    assert services.cards.repo is storage.cards and services.enrolments.repo is storage.enrolments
    assert services.summaries.repo is storage.summaries and services.reminders.repo is storage.reminders


def test_the_cli_refuses_an_unknown_engine_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "mysql://bot@localhost/bhxh")
    assert main(["report", "monthly", "--month", "11/2026", "--out", "x.xlsx"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no engine 'mysql'" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing created


async def test_a_postgresql_url_opens_the_postgresql_engine_in_its_schema(tmp_path: Path) -> None:
    async with database_url("postgresql", tmp_path / "unused") as url:
        storage = open_storage(settings(tmp_path, url))
        assert storage.engine == "postgresql"
        async with open_services(settings(tmp_path, url)) as services:
            assert services.storage.engine == "postgresql"
            await services.units.import_tree([UnitRecord("CL", "Huyện Càng Long", None, "district")], [], [], NOW)
            assert [u.code for u in await services.units.roots()] == ["CL"]
        schema = url.rsplit("schema=", 1)[1]
        conn = await asyncpg.connect(server_url())
        try:
            tables = await conn.fetchval(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'units'", schema
            )
        finally:
            await conn.close()
        assert tables == 1 and not (tmp_path / "default.sqlite3").exists()
