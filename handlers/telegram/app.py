"""The Telegram application: PTB wired over the services `bot.bootstrap.build_services` builds
(the one wiring; this module opens no storage of its own)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.bootstrap import build_services
from bot.chat.commands import commands_for
from bot.domain.clock import Clock
from bot.domain.roles import Role
from bot.services import Services
from bot.settings import Settings
from handlers.telegram.context import BotContext
from handlers.telegram.persistence import StoragePersistence
from handlers.telegram.ratelimit import BotRateLimiter
from handlers.telegram.updates import PerPersonUpdateProcessor

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


class BotApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, stopping the scheduled fan-outs first.

    ``Application.stop`` waits for running jobs and tasks; a reminder round to thousands of
    people would hold a shutdown for minutes (and a supervisor then SIGKILLs). Here the rounds
    are cancelled before anything else stops (scheduler/rounds.py): rows not yet sent are
    given back, requests in flight are awaited and recorded, and the next start resumes.
    Used by every path: ``run_polling`` in production and ``running`` below.
    """

    async def stop(self) -> None:
        from scheduler.rounds import rounds_of

        if self.running:
            await rounds_of(self).cancel_all()
        await super().stop()


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
    from handlers.telegram.routing import register_handlers  # the handlers import this module
    from scheduler import register_jobs

    services = build_services(settings, clock)
    base = settings.telegram_api_base_url
    builder = ApplicationBuilder().application_class(BotApplication)
    if rate_limited:
        builder = builder.rate_limiter(BotRateLimiter.from_settings(settings))
    application = (
        builder
        .token(token or settings.require_token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .persistence(StoragePersistence(services.storage.conversations, settings.persistence_interval_seconds))
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        # Different people concurrently, each person in order (handlers/telegram/updates.py): one admin's
        # upload must not make every citizen wait. PTB's docs ask ConversationHandler users
        # for sequential updates; its state is per chat and user, and per-person ordering is
        # exactly that guarantee, so the /ghi conversation stays safe.
        .concurrent_updates(PerPersonUpdateProcessor())
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    register_handlers(application)
    register_jobs(application)
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    await services.storage.connect()
    citizen_menu = [BotCommand(c, d) for c, d in commands_for(Role.CITIZEN)]
    await application.bot.set_my_commands(citizen_menu)


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    await services.storage.close()


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
