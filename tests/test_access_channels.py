"""Admin rights are per channel: an id listed in ADMIN_TELEGRAM_IDS is an admin on Telegram
only, one in ADMIN_ZALO_IDS on Zalo only (ids of different channels may be the same number);
members are found by (channel, user id)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.chat.model import TELEGRAM, ZALO_OA
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from bot.imports.organisation import import_units
from bot.services import Services
from bot.settings import Settings
from tests.conftest import DEFAULT_NOW

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "data" / "samples"
ON_TELEGRAM, ON_ZALO = 4242, 2424


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=tmp_path / "access.sqlite3",
        admin_telegram_ids=(ON_TELEGRAM,),
        admin_zalo_ids=f"{ON_ZALO}",
    )
    built = build_services(settings)
    await built.storage.connect()
    try:
        yield built
    finally:
        await built.storage.close()


async def test_admins_are_admins_only_on_the_channel_they_are_listed_for(services: Services) -> None:
    access = services.access
    assert (await access.actor(ON_TELEGRAM, TELEGRAM.name)).role is Role.ADMIN
    assert (await access.actor(ON_TELEGRAM, ZALO_OA.name)).role is Role.CITIZEN
    assert (await access.actor(ON_ZALO, ZALO_OA.name)).role is Role.ADMIN
    assert (await access.actor(ON_ZALO, TELEGRAM.name)).role is Role.CITIZEN
    admin = await access.actor(ON_ZALO, ZALO_OA.name)
    assert admin.channel == ZALO_OA.name and admin.scope_code is None


async def test_a_member_is_found_on_their_own_channel_only(services: Services) -> None:
    await import_units(SAMPLES / "units_cang_long.csv", services.units, services.clock)
    await services.members.add(
        full_name="Đoàn Thị My", role=Role.OFFICIAL, unit_code="CL06", actor=CLI_ACTOR,
        at=DEFAULT_NOW, user_id=777, channel=ZALO_OA.name,
    )
    official = await services.access.actor(777, ZALO_OA.name)
    assert (official.role, official.scope_code) == (Role.OFFICIAL, "CL06")
    assert (await services.access.actor(777, TELEGRAM.name)).role is Role.CITIZEN


async def test_a_member_with_a_user_id_needs_a_channel(services: Services) -> None:
    await import_units(SAMPLES / "units_cang_long.csv", services.units, services.clock)
    with pytest.raises(ValueError, match="channel"):
        await services.members.add(
            full_name="Ai Đó", role=Role.AGENT, unit_code="CL06", actor=CLI_ACTOR,
            at=DEFAULT_NOW, user_id=778,
        )
