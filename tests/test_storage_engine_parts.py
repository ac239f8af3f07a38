"""What each engine names for the wiring (storage.contract.Storage): the Zalo token store in
its own database, and the folder its files sit beside. `bhxh-bot run` asks the engine, never
its type (bot/cli/serve.py), so a third engine only has to answer these."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.serve import files_directory
from bot.domain.clock import ManualClock
from bot.domain.oauth import TokenState
from bot.settings import Settings
from storage.engines import open_storage
from tests.conftest import TZ
from tests.storage_engines import ENGINES, EngineSettings, database_url

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_engine_keeps_one_zalo_token_pair_per_app_and_a_new_seed_ignores_the_old(
    engine: str, tmp_path: Path
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with database_url(engine, path) as url:
        storage = open_storage(EngineSettings(url, path))
        await storage.connect()
        try:
            clock = ManualClock(NOW)
            store = storage.zalo_tokens("app", clock, "first")
            assert await store.load() is None
            for n in (1, 2):
                await store.save(TokenState(f"access-{n}", NOW + timedelta(hours=n), f"refresh-{n}"))
            again = storage.zalo_tokens("app", clock, "first")  # another instance, or a restart
            assert await again.load() == TokenState("access-2", NOW + timedelta(hours=2), "refresh-2")
            assert await storage.zalo_tokens("app", clock, "second").load() is None
            assert await storage.zalo_tokens("another-app", clock, "first").load() is None
        finally:
            await storage.close()


@pytest.mark.parametrize("engine", ENGINES)
async def test_files_sit_in_files_dir_else_beside_the_database_file_else_beside_database_path(
    engine: str, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    async with database_url(engine, path) as url:
        storage = open_storage(EngineSettings(url, path))
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, telegram_bot_token="123456:TEST-token-for-the-engine-parts", database_url=url, database_path=tmp_path / "elsewhere" / "x.db"
        )
        if engine == "sqlite":
            assert storage.files_beside == path.parent
            assert files_directory(settings, storage) == path.parent / "files"
        else:
            assert storage.files_beside is None
            assert files_directory(settings, storage) == tmp_path / "elsewhere" / "files"
        shared = settings.model_copy(update={"files_dir": tmp_path / "shared-volume"})
        assert files_directory(shared, storage) == tmp_path / "shared-volume"
