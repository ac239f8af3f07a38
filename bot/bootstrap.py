"""The one wiring: the services of the application over the storage the settings choose.

`run` (through the Telegram adapter), every CLI command, the demo, the tests and the benchmarks
build their services here, so no command opens its own database or picks an engine:
`storage.engines.open_storage` does, from `DATABASE_URL`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.chat.model import TELEGRAM, ZALO_OA
from bot.domain.campaigns import CampaignBook
from bot.domain.clock import Clock, SystemClock
from bot.domain.rates import RateBook
from bot.services import Services
from bot.services.access import AccessService
from bot.services.cards import build_card_services
from bot.services.enrolment import build_enrolment_services
from bot.services.organisation import OrganisationService
from bot.services.summaries import build_summary_service
from bot.settings import Settings
from storage.contract import Storage
from storage.engines import open_storage


def build_services(settings: Settings, clock: Clock | None = None, storage: Storage | None = None) -> Services:
    """Load the rate tables, campaigns and reminder plan (failing early and clearly) and wire
    every service over one storage; opens nothing yet (`await services.storage.connect()`).

    `storage` defaults to the engine the settings name; a caller passes one only to share a
    storage it already holds.
    """
    store = storage if storage is not None else open_storage(settings)
    the_clock = clock or SystemClock(settings.tz)
    admins = {TELEGRAM.name: settings.admin_telegram_ids, ZALO_OA.name: settings.admin_zalo_ids}
    access = AccessService(admins, store.members, store.units)
    organisation = OrganisationService(
        clock=the_clock,
        access=access,
        units=store.units,
        members=store.members,
        teams=store.teams,
        invites=store.invites,
        figures=store.figures,
        invite_ttl=timedelta(hours=settings.invite_ttl_hours),
    )
    rates = RateBook.load(settings.rates_path)
    campaigns = CampaignBook.load(settings.campaigns_path)
    tallies, enrolments = build_enrolment_services(
        store.enrolments, store.tallies, access, store.members, store.units, store.teams, rates, campaigns,
        the_clock,
    )
    cards, reminders = build_card_services(
        store.cards, store.reminders, store.users, store.units, store.members, rates, campaigns, the_clock,
        settings,
    )
    summaries = build_summary_service(
        store.summaries, the_clock, store.units, store.teams, access, tallies, organisation, enrolments, reminders
    )
    return Services(
        settings=settings,
        clock=the_clock,
        storage=store,
        rates=rates,
        campaigns=campaigns,
        users=store.users,
        units=store.units,
        members=store.members,
        access=access,
        teams=store.teams,
        invites=store.invites,
        figures=store.figures,
        organisation=organisation,
        tallies=tallies,
        enrolments=enrolments,
        cards=cards,
        reminders=reminders,
        summaries=summaries,
    )


@asynccontextmanager
async def open_services(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Services]:
    """`build_services`, connected for the block and closed after it, even on error: what a
    one-shot command (an import, a report) or a test needs."""
    services = build_services(settings, clock)
    await services.storage.connect()
    try:
        yield services
    finally:
        await services.storage.close()
