"""`bhxh-bot run`: every configured channel in one process, on one set of services.

The composition root (the CLI is an entry point, so it may name the channel adapters): one
storage opened for the whole run, one conversation core, one scheduler runner that sends through
the sender of every configured channel, and the channels themselves:

- the HTTP server (handlers/http), always: /healthz, /readyz, /metrics and the routes of the
  channels below;
- Telegram, when TELEGRAM_BOT_TOKEN is set: the PTB application on the shared services, polling
  (started as `handlers.telegram.app.running` does, not with `run_polling`, which would own the
  event loop and the signals), or, when TELEGRAM_WEBHOOK_URL is set, `POST /telegram/webhook`
  into the shared inbox, its worker, and setWebhook once the server listens;
- Zalo OA, when `settings.zalo_configured()`: its webhook and signed file links on the HTTP
  server, and the inbox worker; when Zalo refuses the refresh token the Zalo channel stops
  (the token manager logs how to re-authorise), admins are told on their other channels, and
  Telegram keeps running.

Shutdown (SIGINT/SIGTERM, or the caller's `stop` event), bounded and losing nothing:
1. the gate closes: webhook POSTs answer 503 (Telegram and Zalo retry, the load balancer tries
   another instance) and /readyz answers 503, so no new work comes in;
2. the scheduler runner stops (it cancels the rounds in progress, gives back unsent rows and
   records requests in flight);
3. the channels: the Zalo worker, the Telegram inbox worker (the updates in hand finish, for up
   to INBOX_GRACE_SECONDS; any left are taken over after their lease), the HTTP server (requests
   in flight finish, up to 5 s), Telegram polling and the PTB application;
4. the storage, last. `run` then exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import logsafety
from bot.bootstrap import open_services
from bot.chat.model import TELEGRAM, ZALO_OA, Person, Reply, Sender
from bot.chat.rich import t
from bot.chat.router import Conversations
from bot.chat.texts.channels import ZALO_REAUTH_NEEDED
from bot.domain.clock import Clock
from bot.services import Services
from bot.settings import Settings, SettingsError
from handlers.http.gate import Gate
from scheduler.runner import SchedulerRunner

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from storage.contract import Storage

log = logging.getLogger(__name__)

__all__ = ["CHANNEL_SETTINGS", "Running", "TelegramTokenRefused", "configured_channels", "serve", "started"]

# What each channel needs to start, as `run` names it when none is configured.
CHANNEL_SETTINGS: dict[str, tuple[str, ...]] = {
    "Telegram": ("TELEGRAM_BOT_TOKEN",),
    "Zalo OA": ("ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_REFRESH_TOKEN", "PUBLIC_BASE_URL"),
}

# Seconds the Telegram inbox worker lets the updates in hand finish at shutdown; what is left is
# taken over after its lease (handlers/telegram/inbox.py). With the HTTP server's 5 s and the
# scheduler's stop, `run` exits well within systemd's default 90 s (docs/DEPLOY.md uses 45 s).
INBOX_GRACE_SECONDS = 15.0

# The name asyncio gives PTB's polling task (telegram/ext/_updater.py): watched so that a token
# Telegram refuses after start-up ends the run like one refused at start-up.
_POLLING_TASK = "Updater:start_polling:polling_task"


class TelegramTokenRefused(Exception):
    """Telegram refused the bot token (401): the run ends, naming the setting."""


def configured_channels(settings: Settings) -> list[str]:
    """The channels whose settings are present, in start order."""
    channels = []
    if settings.telegram_bot_token:
        channels.append(TELEGRAM.name)
    if settings.zalo_configured():
        channels.append(ZALO_OA.name)
    return channels


def no_channel_lines(settings: Settings) -> list[str]:
    """One line per channel naming the settings it needs and those missing (what `run` prints
    when no channel is configured)."""
    lines = []
    for name, names in CHANNEL_SETTINGS.items():
        missing = [setting for setting in names if not getattr(settings, setting.lower())]
        verb = "is" if len(missing) == 1 else "are"
        lines.append(
            f"{name} needs {', '.join(names)}: {', '.join(missing)} {verb} missing"
            + (" (set it in the environment or .env, or run `./dev demo` to try the bot offline)"
               if name == "Telegram" else " (set them in the environment or .env)")
        )
    return lines


@dataclass
class Running:
    """The parts of a running bot (tests and the caller read them; nothing here is a decision)."""

    services: Services
    conversations: Conversations
    runner: SchedulerRunner
    senders: dict[str, Sender]
    stop: asyncio.Event
    telegram: Any = None  # the PTB Application, when Telegram runs
    zalo: Any = None  # the handlers.zalo.channel.ZaloChannel, when Zalo runs
    telegram_worker: Any = None  # the handlers.telegram.inbox.TelegramInboxWorker, in webhook mode
    http_base_url: str | None = None  # where the HTTP server listens
    token_refused: bool = False
    notices: list[str] = field(default_factory=list)  # channels admins were told on
    gate: Gate = field(default_factory=Gate)  # closed when stopping: webhooks and /readyz answer 503

    @property
    def channels(self) -> list[str]:
        return sorted(self.senders)


@asynccontextmanager
async def started(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Running]:
    """Every configured channel running for the block, on one set of services.

    Raises SettingsError when no channel is configured (or Zalo lacks PUBLIC_BASE_URL), and
    TelegramTokenRefused when Telegram refuses the token at start-up. On exit: the scheduler
    runner stops first, then the channels, then the storage."""
    channels = configured_channels(settings)
    if not channels:
        raise SettingsError("; ".join(no_channel_lines(settings)))
    if ZALO_OA.name in channels and not settings.public_base_url:
        raise SettingsError("PUBLIC_BASE_URL is missing: Zalo's download links need the bot's public address")
    webhook_secret = settings.webhook_secret() if TELEGRAM.name in channels and settings.telegram_webhook_url else None
    from bot.chat.flows import build_conversations
    from scheduler import register_jobs

    async with open_services(settings, clock) as services:
        conversations = build_conversations(services, services.storage.sessions, services.storage.identities)
        senders: dict[str, Sender] = {}
        runner = SchedulerRunner(services, senders)
        register_jobs(runner)
        running = Running(services, conversations, runner, senders, asyncio.Event())
        async with AsyncExitStack() as channels_stack:
            routes: list[Sequence[BaseRoute]] = []
            after_serving: list[Callable[[], Awaitable[None]]] = []
            if TELEGRAM.name in channels:
                await _start_telegram(settings, running, channels_stack, routes, after_serving, webhook_secret)
            if ZALO_OA.name in channels:
                await _prepare_zalo(settings, running, channels_stack, routes, after_serving)
            await _serve_http(settings, running, channels_stack, routes)
            for start in after_serving:
                await start()
            if settings.scheduler_enabled:
                runner.start()
            else:
                log.info("scheduled work is off in this instance (SCHEDULER_ENABLED=false)")
            log.info("bot running on %s", ", ".join(running.channels))
            try:
                yield running
            finally:
                running.gate.close()  # no new work: webhooks and /readyz answer 503 from now on
                await runner.stop()  # then: rounds cancelled, unsent rows given back
        # channels closed here (in reverse start order); the storage closes after


async def serve(
    settings: Settings,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    on_ready: Callable[[Running], Awaitable[None]] | None = None,
) -> bool:
    """Run until SIGINT/SIGTERM (or `stop` is set); False when Telegram refused the token."""
    try:
        async with started(settings, clock=clock) as running:
            if stop is not None:
                _relay(stop, running.stop)
            if handle_signals:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, running.stop.set)
            try:
                if on_ready is not None:
                    await on_ready(running)
                await running.stop.wait()
                log.info("stopping")
            finally:
                if handle_signals:
                    loop = asyncio.get_running_loop()
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.remove_signal_handler(sig)
            return not running.token_refused
    except TelegramTokenRefused:
        return False


def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    async def wait() -> None:
        await source.wait()
        target.set()

    task = asyncio.get_running_loop().create_task(wait())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


async def _start_telegram(
    settings: Settings,
    running: Running,
    stack: AsyncExitStack,
    routes: list[Sequence[BaseRoute]],
    after_serving: list[Callable[[], Awaitable[None]]],
    webhook_secret: str | None,
) -> None:
    """Telegram on the shared services: long polling, or (TELEGRAM_WEBHOOK_URL) the webhook
    route on the HTTP server, its inbox worker, and setWebhook once the server listens."""
    from handlers.telegram.app import build_application, started_application
    from handlers.telegram.app import running as polling
    from handlers.telegram.ratelimit import BotRateLimiter
    from handlers.telegram.sender import TelegramSender

    application = build_application(
        settings,
        token=settings.require_token(),
        services=running.services,
        conversations=running.conversations,
        runner=running.runner,
    )
    try:
        if webhook_secret is None:
            await stack.enter_async_context(polling(application))
        else:
            await stack.enter_async_context(started_application(application))
    except Exception as exc:
        if not logsafety.is_token_refusal(exc):  # PTB's InvalidToken (it quotes the token)
            raise
        with suppress(Exception):
            await application.shutdown()
        raise TelegramTokenRefused() from None
    running.telegram = application
    limiter = application.bot.rate_limiter
    if isinstance(limiter, BotRateLimiter):  # one pace for every instance on this database
        limiter.share(running.services.storage.coordination)
    running.senders[TELEGRAM.name] = TelegramSender(application.bot)
    if webhook_secret is not None:
        _telegram_webhook(settings, running, stack, routes, after_serving, application, webhook_secret)
        return
    for task in asyncio.all_tasks():
        if task.get_name() == _POLLING_TASK:
            task.add_done_callback(lambda done: _polling_ended(done, running))


def _telegram_webhook(
    settings: Settings,
    running: Running,
    stack: AsyncExitStack,
    routes: list[Sequence[BaseRoute]],
    after_serving: list[Callable[[], Awaitable[None]]],
    application: Any,
    secret: str,
) -> None:
    from handlers.telegram.app import WebhookRefused, set_webhook
    from handlers.telegram.inbox import TelegramInboxWorker
    from handlers.telegram.webhook import TelegramWebhook

    services = running.services
    worker = TelegramInboxWorker(services.storage.inbox, application, services.clock)
    webhook = TelegramWebhook(services.storage.inbox, services.clock, secret=secret, on_stored=worker.wake)
    routes.append(webhook.routes())
    running.telegram_worker = worker

    async def start() -> None:
        await worker.start()
        stack.push_async_callback(worker.stop, INBOX_GRACE_SECONDS)
        assert settings.telegram_webhook_url is not None
        try:
            await set_webhook(application, settings.telegram_webhook_url, secret)
        except WebhookRefused as refused:
            raise SettingsError(str(refused)) from None
        except Exception as exc:
            if logsafety.is_token_refusal(exc):
                raise TelegramTokenRefused() from None
            raise
        log.info("Telegram updates come by webhook")

    after_serving.append(start)


def _polling_ended(task: asyncio.Task[Any], running: Running) -> None:
    if not task.cancelled() and logsafety.is_token_refusal(task.exception()):
        log.error("Telegram refused the bot token (TELEGRAM_BOT_TOKEN); stopping")
        running.token_refused = True
        running.stop.set()


async def _prepare_zalo(
    settings: Settings,
    running: Running,
    stack: AsyncExitStack,
    routes: list[Sequence[BaseRoute]],
    after_serving: list[Callable[[], Awaitable[None]]],
) -> None:
    """The Zalo channel's routes (webhook, signed file links) for the HTTP server; its worker
    and housekeeping start once the server listens."""
    from handlers.http.files import FileLinks
    from handlers.zalo.channel import build_zalo_channel, tidying
    from handlers.zalo.core import conversation_of
    from handlers.zalo.sender import ZaloSender
    from handlers.zalo.tokens import ReauthorisationNeeded
    from handlers.zalo.zns_sender import ReminderEvents, zns_queue

    services = running.services
    storage = services.storage
    assert settings.zalo_app_id is not None and settings.public_base_url is not None
    templates = services.reminders.zns_templates

    async def reauth_needed(error: ReauthorisationNeeded) -> None:
        await _tell_admins_zalo_stopped(running, error)

    links = FileLinks(files_directory(settings, storage), settings.public_base_url, services.clock)
    channel = build_zalo_channel(
        settings,
        conversation=conversation_of(running.conversations),
        clock=services.clock,
        inbox=storage.inbox,
        token_store=storage.zalo_tokens(settings.zalo_app_id, services.clock, settings.zalo_refresh_token),
        links=links,
        on_reauth_needed=reauth_needed,
        # ZNS receipts settle their outbox rows; follows and messages feed the follower table
        # the reminders' channel choice reads.
        on_event=ReminderEvents(
            services.reminders.repo,
            storage.identities.user_id,
            services.clock,
            templates.price_per_message if templates is not None else 0,
        ),
    )
    if channel.pacer is not None:  # one Zalo pace for every instance on this database
        channel.pacer.share(storage.coordination)
    routes.append(channel.routes())
    routes.append(links.routes())

    async def start() -> None:
        await stack.enter_async_context(channel.running())
        await stack.enter_async_context(tidying(links, storage.inbox, services.clock))
        running.zalo = channel
        running.senders[ZALO_OA.name] = ZaloSender(channel.renderer, storage.identities)
        if templates is not None:
            running.runner.zns = zns_queue(
                channel, settings, templates, services.reminders.zns_hours, shared=storage.coordination
            )

    after_serving.append(start)


def files_directory(settings: Settings, storage: Storage) -> Path:
    """FILES_DIR, else `files/` beside the SQLite file (on PostgreSQL: beside DATABASE_PATH).
    Several instances serve each other's links only when they share this folder."""
    if settings.files_dir is not None:
        return settings.files_dir
    return (storage.files_beside or Path(settings.database_path).parent) / "files"


async def _serve_http(
    settings: Settings, running: Running, stack: AsyncExitStack, routes: list[Sequence[BaseRoute]]
) -> None:
    """The one HTTP server: every channel's routes and the health checks, on WEBHOOK_HOST:PORT."""
    from handlers.http.app import build_http_app, serving
    from handlers.http.health import Readiness
    from handlers.http.metrics import Metrics, outbox_gauge

    readiness = Readiness(readiness_checks(running), gate=running.gate)
    metrics = Metrics([outbox_gauge(running.services.storage.reminders.status_counts)])
    app = build_http_app(*routes, readiness.routes(), metrics.routes(), gate=running.gate)
    try:
        served = await stack.enter_async_context(serving(app, settings.webhook_host, settings.webhook_port))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise SettingsError(
            f"WEBHOOK_PORT is invalid: cannot listen on {settings.webhook_host}:{settings.webhook_port} "
            f"({exc.strerror or type(exc).__name__}); the HTTP server (health, metrics, webhooks) needs it"
        ) from None
    running.http_base_url = served.base_url


# Seconds a Telegram getMe answer stands for /readyz: a load balancer probing every few seconds
# costs Telegram one request a minute at most per instance.
TELEGRAM_CHECK_TTL = 30.0


def readiness_checks(running: Running) -> dict[str, Callable[[], Awaitable[None]]]:
    """What /readyz checks: the database (a cheap read), and each configured channel: Telegram
    answers getMe (cached for TELEGRAM_CHECK_TTL), Zalo's tokens still work."""
    from handlers.http.health import NotReady, cached

    settings = running.services.settings
    storage = running.services.storage

    async def database() -> None:
        await storage.units.count()

    checks: dict[str, Callable[[], Awaitable[None]]] = {"database": database}
    if settings.telegram_bot_token:

        async def telegram() -> None:
            if running.telegram is None:
                raise NotReady("not started")
            await running.telegram.bot.get_me()

        checks[TELEGRAM.name] = cached(telegram, TELEGRAM_CHECK_TTL)
    if settings.zalo_configured():

        async def zalo() -> None:
            if running.zalo is None:
                raise NotReady("not started")
            if running.zalo.tokens.reauthorisation_needed is not None:
                raise NotReady("re-authorisation needed")

        checks[ZALO_OA.name] = zalo
    return checks


async def _tell_admins_zalo_stopped(running: Running, error: Exception) -> None:
    """Zalo refused the refresh token: say so in the log (no token in it) and tell every admin
    on a channel that still works; the Zalo channel itself is the one that stopped."""
    log.error("Zalo channel stopped: %s; the other channels keep running", error)
    settings = running.services.settings
    admins = [(TELEGRAM.name, admin) for admin in settings.admin_telegram_ids]
    for channel, admin in admins:
        sender = running.senders.get(channel)
        if sender is None:
            continue
        try:
            result = await sender.send(Person(channel, str(admin)), Reply(t(ZALO_REAUTH_NEEDED)))
        except Exception:  # noqa: BLE001 - one failed notice must not hide the others
            log.exception("could not tell an admin on %s that Zalo stopped", channel)
            continue
        log.info("admin told on %s that Zalo stopped: %s", channel, type(result).__name__)
        running.notices.append(channel)
