"""`bhxh-bot run`: every configured channel in one process, on one set of services.

The composition root (the CLI is an entry point, so it may name the channel adapters): one
storage opened for the whole run, one conversation core, one scheduler runner that sends through
the sender of every configured channel, and the channels themselves:

- Telegram, when TELEGRAM_BOT_TOKEN is set: the PTB application on the shared services, polling
  (started as `handlers.telegram.app.running` does, not with `run_polling`, which would own the
  event loop and the signals);
- Zalo OA, when `settings.zalo_configured()`: the HTTP server (webhook, signed file links,
  /healthz) and the inbox worker; when Zalo refuses the refresh token the Zalo channel stops
  (the token manager logs how to re-authorise), admins are told on their other channels, and
  Telegram keeps running.

Shutdown (SIGINT/SIGTERM, or the caller's `stop` event): the scheduler runner stops first (it
cancels the rounds in progress, gives back unsent rows and records requests in flight), then the
channels (Telegram polling, the Zalo worker, the HTTP server), and the storage last.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from bot import logsafety
from bot.bootstrap import open_services
from bot.chat.model import TELEGRAM, ZALO_OA, Person, Reply, Sender
from bot.chat.rich import t
from bot.chat.router import Conversations
from bot.chat.texts.channels import ZALO_REAUTH_NEEDED
from bot.domain.clock import Clock
from bot.services import Services
from bot.settings import Settings, SettingsError
from scheduler.runner import SchedulerRunner

log = logging.getLogger(__name__)

__all__ = ["CHANNEL_SETTINGS", "Running", "TelegramTokenRefused", "configured_channels", "serve", "started"]

# What each channel needs to start, as `run` names it when none is configured.
CHANNEL_SETTINGS: dict[str, tuple[str, ...]] = {
    "Telegram": ("TELEGRAM_BOT_TOKEN",),
    "Zalo OA": ("ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_REFRESH_TOKEN", "PUBLIC_BASE_URL"),
}

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
    http_base_url: str | None = None  # where the HTTP server listens, when it runs
    token_refused: bool = False
    notices: list[str] = field(default_factory=list)  # channels admins were told on

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
    from bot.chat.flows import build_conversations
    from scheduler import register_jobs

    async with open_services(settings, clock) as services:
        conversations = build_conversations(services, services.storage.sessions, services.storage.identities)
        senders: dict[str, Sender] = {}
        runner = SchedulerRunner(services, senders)
        register_jobs(runner)
        running = Running(services, conversations, runner, senders, asyncio.Event())
        async with AsyncExitStack() as channels_stack:
            if TELEGRAM.name in channels:
                await _start_telegram(settings, running, channels_stack)
            if ZALO_OA.name in channels:
                await _start_zalo(settings, running, channels_stack)
            runner.start()
            log.info("bot running on %s", ", ".join(running.channels))
            try:
                yield running
            finally:
                await runner.stop()  # first: rounds cancelled, unsent rows given back
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


async def _start_telegram(settings: Settings, running: Running, stack: AsyncExitStack) -> None:
    from handlers.telegram.app import build_application
    from handlers.telegram.app import running as polling
    from handlers.telegram.sender import TelegramSender

    application = build_application(
        settings,
        token=settings.require_token(),
        services=running.services,
        conversations=running.conversations,
        runner=running.runner,
    )
    try:
        await stack.enter_async_context(polling(application))
    except Exception as exc:
        if not logsafety.is_token_refusal(exc):  # PTB's InvalidToken (it quotes the token)
            raise
        with suppress(Exception):
            await application.shutdown()
        raise TelegramTokenRefused() from None
    running.telegram = application
    running.senders[TELEGRAM.name] = TelegramSender(application.bot)
    for task in asyncio.all_tasks():
        if task.get_name() == _POLLING_TASK:
            task.add_done_callback(lambda done: _polling_ended(done, running))


def _polling_ended(task: asyncio.Task[Any], running: Running) -> None:
    if not task.cancelled() and logsafety.is_token_refusal(task.exception()):
        log.error("Telegram refused the bot token (TELEGRAM_BOT_TOKEN); stopping")
        running.token_refused = True
        running.stop.set()


async def _start_zalo(settings: Settings, running: Running, stack: AsyncExitStack) -> None:
    from handlers.http.app import build_http_app, serving
    from handlers.http.files import FileLinks
    from handlers.zalo.channel import build_zalo_channel, tidying
    from handlers.zalo.core import conversation_of
    from handlers.zalo.sender import ZaloSender
    from handlers.zalo.tokens import ReauthorisationNeeded
    from storage.sqlite.engine import SQLiteStorage
    from storage.sqlite.zalo_tokens import SqliteTokenStore

    services = running.services
    storage = services.storage
    if not isinstance(storage, SQLiteStorage):
        raise SettingsError("DATABASE_URL is invalid: the Zalo channel keeps its tokens in SQLite")
    assert settings.zalo_app_id is not None and settings.public_base_url is not None

    async def reauth_needed(error: ReauthorisationNeeded) -> None:
        await _tell_admins_zalo_stopped(running, error)

    links = FileLinks(storage.path.parent / "files", settings.public_base_url, services.clock)
    channel = build_zalo_channel(
        settings,
        conversation=conversation_of(running.conversations),
        clock=services.clock,
        inbox=storage.inbox,
        token_store=SqliteTokenStore(storage.db, settings.zalo_app_id, services.clock, seed=settings.zalo_refresh_token),
        links=links,
        on_reauth_needed=reauth_needed,
    )
    app = build_http_app(channel.routes(), links.routes())
    served = await stack.enter_async_context(serving(app, settings.webhook_host, settings.webhook_port))
    await stack.enter_async_context(channel.running())
    await stack.enter_async_context(tidying(links, storage.inbox, services.clock))
    running.zalo = channel
    running.http_base_url = served.base_url
    running.senders[ZALO_OA.name] = ZaloSender(channel.renderer, storage.identities)


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
