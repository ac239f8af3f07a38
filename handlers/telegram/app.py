"""The Telegram application: PTB wired over the services `bot.bootstrap.build_services` builds
(the one wiring; this module opens no storage of its own)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.bootstrap import build_services
from bot.chat.commands import commands_for
from bot.chat.model import TELEGRAM, Sender
from bot.chat.router import Conversations
from bot.domain.clock import Clock
from bot.domain.roles import Role
from bot.services import Services
from bot.settings import Settings
from handlers.telegram.context import BotContext
from handlers.telegram.ratelimit import BotRateLimiter
from handlers.telegram.sender import TelegramSender
from handlers.telegram.updates import PerPersonUpdateProcessor
from scheduler.runner import SchedulerRunner
from scheduler.sending import Senders

log = logging.getLogger(__name__)

SERVICES_KEY = "services"
SCHEDULER_KEY = "scheduler"
# True when this application built its services and scheduler runner and so opens, starts,
# stops and closes them; False when a composition root (bot/cli/serve.py) shares its own.
OWNS_SERVICES_KEY = "owns_services"


class BotApplication(Application):
    """PTB's Application, stopping the scheduler (and its fan-outs) first.

    A reminder round to thousands of people would hold a shutdown for minutes (and a
    supervisor then SIGKILLs). Here the scheduler's runner stops before anything else
    (scheduler/runner.py): it cancels the rounds, rows not yet sent are given back, requests in
    flight are awaited and recorded, and the next start resumes. Used by every path:
    ``run_polling`` in production and ``running`` below.
    """

    async def stop(self) -> None:
        runner = self.bot_data.get(SCHEDULER_KEY)
        if self.running and isinstance(runner, SchedulerRunner):
            await runner.stop()
        await super().stop()


def scheduler_of(application: Application) -> SchedulerRunner:
    """The scheduler runner `build_application` wired (its senders, jobs and rounds)."""
    runner = application.bot_data[SCHEDULER_KEY]
    assert isinstance(runner, SchedulerRunner)
    return runner


def senders_of(application: Application) -> Senders:
    """The senders by channel the scheduled fan-outs use (what tests and benchmarks pass to
    ``run_reminder_round`` and ``run_summary_round``)."""
    return scheduler_of(application).senders


def build_application(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Clock | None = None,
    rate_limited: bool = True,
    services: Services | None = None,
    conversations: Conversations | None = None,
    runner: SchedulerRunner | None = None,
) -> Application:
    """Build the python-telegram-bot Application with every handler and job registered.

    `rate_limited=False` is for benchmarks that measure the bot's own capacity; production,
    tests and the demo always keep Telegram's limits.

    Alone (tests, demo, bench) it builds its own services, conversation core and scheduler
    runner, and opens, starts, stops and closes them with the application. A composition root
    running several channels in one process (`bhxh-bot run`, bot/cli/serve.py) passes all three,
    shared: the application then only answers on Telegram, and the caller connects the
    storage, starts and stops the runner (adding Telegram's sender to it) and closes the storage.
    """
    from bot.chat.flows import build_conversations
    from handlers.telegram.adapter import CONVERSATIONS_KEY
    from handlers.telegram.routing import register_handlers  # the handlers import this module
    from scheduler import register_jobs

    shared = (services, conversations, runner)
    if any(part is not None for part in shared) and not all(part is not None for part in shared):
        raise ValueError("pass services, conversations and runner together, or none of them")
    owns = services is None
    services = services if services is not None else build_services(settings, clock)
    base = settings.telegram_api_base_url
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().application_class(BotApplication)
    if rate_limited:
        builder = builder.rate_limiter(BotRateLimiter.from_settings(settings))
    application = (
        builder
        .token(token or settings.require_token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
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
    application.bot_data[OWNS_SERVICES_KEY] = owns
    application.bot_data[CONVERSATIONS_KEY] = (
        conversations
        if conversations is not None
        else build_conversations(services, services.storage.sessions, services.storage.identities)
    )
    register_handlers(application)
    if runner is None:
        # The channels configured in this process, each with its sender; the scheduler knows no
        # channel library and sends every row through the sender of the person's channel.
        senders: dict[str, Sender] = {TELEGRAM.name: TelegramSender(application.bot)}
        runner = SchedulerRunner(services, senders)
        register_jobs(runner)
    application.bot_data[SCHEDULER_KEY] = runner
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    owns = application.bot_data.get(OWNS_SERVICES_KEY, True)
    if owns:
        await services.storage.connect()
    citizen_menu = [BotCommand(c, d) for c, d in commands_for(Role.CITIZEN)]
    await application.bot.set_my_commands(citizen_menu)
    if owns:
        scheduler_of(application).start()


async def _post_shutdown(application: Application) -> None:
    if not application.bot_data.get(OWNS_SERVICES_KEY, True):
        return  # the composition root that shares them stops the runner and closes the storage
    services: Services = application.bot_data[SERVICES_KEY]
    await scheduler_of(application).stop()  # already stopped by BotApplication.stop, unless it never ran
    await services.storage.close()


def run_until_stopped(settings: Settings, token: str) -> bool:
    """Long polling against the configured Bot API server until stopped (`bhxh-bot run`).

    Pending updates are never dropped. Returns False when Telegram refuses the token (401, at
    start-up or later), so the caller can name the setting without a traceback: PTB's
    InvalidToken quotes the token.
    """
    application = build_application(settings, token=token)
    try:
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except InvalidToken:
        return False
    return True


@asynccontextmanager
async def started_application(application: Application) -> AsyncIterator[Application]:
    """Initialise and start the Application (handlers, post_init) without fetching updates:
    what polling and the webhook mode share. On exit: the updater if it polls, the
    Application (the scheduler first, BotApplication.stop), shutdown, post_shutdown."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    try:
        yield application
    finally:
        updater = application.updater
        if updater is not None and updater.running:
            try:
                await updater.stop()
            except InvalidToken:  # polling ended on it; stop the rest all the same
                log.error("Telegram refused the bot token (TELEGRAM_BOT_TOKEN) while polling")
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


@asynccontextmanager
async def running(application: Application, poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Start polling as `run_polling` does, without owning the event loop (tests, demo, bench).

    Pending updates are never dropped: messages sent while the bot was down are answered.
    PTB's start_polling deletes a webhook first, so unsetting TELEGRAM_WEBHOOK_URL is enough to
    go back to polling.
    """
    async with started_application(application):
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        yield application


class WebhookRefused(Exception):
    """Telegram refused setWebhook (an http:// URL, a port it does not post to, a bad host):
    the message is Telegram's reason, one line for the operator."""


async def set_webhook(application: Application, url: str, secret: str) -> None:
    """Ask Telegram to post every kind of update to `url` with `secret` in the
    X-Telegram-Bot-Api-Secret-Token header. Updates waiting since the bot stopped are kept (they
    will be posted). Never deleted on shutdown: with several instances behind one address, one
    instance stopping must not stop the others' updates."""
    try:
        await application.bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES, drop_pending_updates=False
        )
    except InvalidToken:
        raise
    except TelegramError as exc:
        raise WebhookRefused(f"Telegram refused TELEGRAM_WEBHOOK_URL: {exc.message}") from None
