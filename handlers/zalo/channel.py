"""The Zalo OA channel assembled from settings: webhook route, worker, token manager, OA client.

Storage comes in through protocols (this package never imports storage), so the caller that
owns the database builds the SQLite pieces and passes them:

    db = Database(settings.database_path); await db.connect()
    links = FileLinks(settings.database_path.parent / "files", settings.public_base_url, clock)
    channel = build_zalo_channel(
        settings, conversation=core, clock=clock, inbox=SqliteInbox(db),
        token_store=SqliteTokenStore(db, settings.zalo_app_id, clock, seed=settings.zalo_refresh_token),
        links=links)
    app = build_http_app(channel.routes(), links.routes())
    async with serving(app, settings.webhook_host, settings.webhook_port), channel.running():
        ...  # the bot runs; Zalo posts to PUBLIC_BASE_URL/zalo/webhook
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
from starlette.routing import BaseRoute

from bot.domain.clock import Clock
from bot.domain.inbox import InboxStore
from bot.logsafety import describe_exception
from bot.settings import Settings
from handlers.pacing import SendPacer

from .oa_client import OAClient
from .render import LinkStore, ZaloRenderer
from .tokens import ReauthorisationNeeded, TokenManager, TokenStore
from .webhook import DEFAULT_REPLAY_WINDOW, ZaloWebhook
from .worker import Conversation, ZaloWorker

log = logging.getLogger(__name__)

__all__ = ["KEEP_HANDLED", "OA_STREAM", "ZaloChannel", "build_zalo_channel", "tidy_once", "tidying"]

#: The shared pace's stream of the OA's messages and uploads (ZNS has its own: zns_sender.py).
OA_STREAM = "zalo_oa"


@dataclass
class ZaloChannel:
    """The running parts of the Zalo OA channel."""

    webhook: ZaloWebhook
    worker: ZaloWorker
    tokens: TokenManager
    oa: OAClient
    renderer: ZaloRenderer
    http: httpx.AsyncClient
    _own_http: bool = False
    #: Paces the OA's messages and uploads (ZALO_MAX_PER_SECOND); the wiring shares it with
    #: the other instances on the database (``pacer.share(storage.coordination)``).
    pacer: SendPacer | None = None

    def routes(self) -> list[BaseRoute]:
        """`POST /zalo/webhook`, for handlers.http.app.build_http_app."""
        return self.webhook.routes()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ZaloChannel]:
        """The worker runs inside the block; on exit it stops, the pacer's stall watch ends and
        the HTTP client closes."""
        await self.worker.start()
        try:
            yield self
        finally:
            await self.worker.stop()
            if self.pacer is not None:
                await self.pacer.shutdown()
            if self._own_http:
                await self.http.aclose()


def build_zalo_channel(
    settings: Settings,
    *,
    conversation: Conversation,
    clock: Clock,
    inbox: InboxStore,
    token_store: TokenStore,
    links: LinkStore,
    http: httpx.AsyncClient | None = None,
    on_reauth_needed: Callable[[ReauthorisationNeeded], Awaitable[None]] | None = None,
    replay_window: timedelta = DEFAULT_REPLAY_WINDOW,
    **worker_options: Any,
) -> ZaloChannel:
    """Wire the channel; raises ValueError when `settings.zalo_configured()` is False.
    `worker_options` go to ZaloWorker (lease, max_attempts, retry_backoff, concurrency,
    poll_seconds, on_event)."""
    if not settings.zalo_configured():
        raise ValueError("Zalo needs ZALO_APP_ID, ZALO_APP_SECRET and ZALO_OA_SECRET_KEY")
    assert settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret_key
    own = http is None
    client = http or httpx.AsyncClient()
    tokens = TokenManager(
        client,
        oauth_base_url=settings.zalo_oauth_base_url,
        app_id=settings.zalo_app_id,
        app_secret=settings.zalo_app_secret,
        store=token_store,
        clock=clock,
        initial_refresh_token=settings.zalo_refresh_token,
        on_reauth_needed=on_reauth_needed,
    )
    pacer = SendPacer(settings.zalo_max_per_second, OA_STREAM)
    oa = OAClient(client, settings.zalo_api_base_url, tokens, pacer=pacer)
    renderer = ZaloRenderer(oa, links)
    worker = ZaloWorker(inbox, conversation, renderer, clock, **worker_options)
    webhook = ZaloWebhook(
        inbox,
        clock,
        app_id=settings.zalo_app_id,
        oa_secret_key=settings.zalo_oa_secret_key,
        replay_window=replay_window,
        on_stored=worker.wake,
    )
    return ZaloChannel(webhook, worker, tokens, oa, renderer, client, own, pacer)


class Purgeable(Protocol):
    """Files behind signed links that expire (handlers/http/files.FileLinks)."""

    async def purge_expired(self) -> int: ...


# Handled events are kept a week for operators; far longer than the webhook's replay window, so
# deleting them never lets a retried event through twice (the timestamp check refuses it first).
KEEP_HANDLED = timedelta(days=7)
TIDY_EVERY = timedelta(hours=1)


async def tidy_once(links: Purgeable, inbox: InboxStore, clock: Clock, keep: timedelta = KEEP_HANDLED) -> tuple[int, int]:
    """Delete expired download files and events handled more than `keep` ago; (files, events)."""
    files = await links.purge_expired()
    events = await inbox.purge_handled(clock.now() - keep)
    return files, events


@asynccontextmanager
async def tidying(
    links: Purgeable, inbox: InboxStore, clock: Clock, every: timedelta = TIDY_EVERY
) -> AsyncIterator[None]:
    """Run `tidy_once` now and every `every` while the channel runs, so neither the files of
    expired links nor handled events pile up; a failed pass is logged and tried again later."""

    async def loop() -> None:
        while True:
            try:
                files, events = await tidy_once(links, inbox, clock)
                if files or events:
                    log.info("Zalo housekeeping: %s expired files and %s handled events deleted", files, events)
            except Exception as error:  # noqa: BLE001 - housekeeping must never stop the channel
                log.error("Zalo housekeeping failed: %s", describe_exception(error))
            await asyncio.sleep(every.total_seconds())

    task = asyncio.create_task(loop(), name="zalo-housekeeping")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
