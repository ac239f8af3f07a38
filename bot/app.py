"""Application wiring: the one factory production, tests, the demo and benchmarks all use."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.campaigns import CampaignBook
from bot.clock import Clock, SystemClock
from bot.context import BotContext
from bot.rates import RateBook
from bot.replies import COMMANDS
from bot.services import Services
from bot.settings import Settings
from storage.db import Database
from storage.telegram_persistence import SQLitePersistence
from bot.access import AccessService
from storage.members import MemberRepository
from storage.units import UnitRepository
from storage.users import UserRepository

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Load the rate tables and campaigns (failing early and clearly) and open nothing yet."""
    db = Database(settings.database_path)
    units = UnitRepository(db)
    members = MemberRepository(db)
    return Services(
        settings=settings,
        clock=clock or SystemClock(settings.tz),
        db=db,
        rates=RateBook.load(settings.rates_path),
        campaigns=CampaignBook.load(settings.campaigns_path),
        users=UserRepository(db),
        units=units,
        members=members,
        access=AccessService(settings.admin_telegram_ids, members, units),
    )


def build_application(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Clock | None = None,
    rate_limited: bool = True,
) -> Application:
    """Build the python-telegram-bot Application with every handler and job registered.

    `rate_limited=False` is for benchmarks that measure the bot's own capacity; production,
    tests and the demo always keep Telegram's limits.
    """
    from handlers import register_handlers  # handlers import bot.*, so import late
    from scheduler import register_jobs

    services = build_services(settings, clock)
    base = settings.telegram_api_base_url
    builder = ApplicationBuilder()
    if rate_limited:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = (
        builder
        .token(token or settings.require_token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .persistence(SQLitePersistence(services.db, settings.persistence_interval_seconds))
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    register_handlers(application)
    register_jobs(application)
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    await services.db.connect()
    await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    await services.db.close()


@asynccontextmanager
async def running(application: Application, poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Start polling as `run_polling` does, without owning the event loop (tests, demo, bench).

    Pending updates are never dropped: messages sent while the bot was down are answered.
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0,
        timeout=poll_timeout,
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
    )
    try:
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
