"""A Zalo bot under test: the real HTTP server, webhook, inbox, worker and renderer, talking to
the Zalo emulator over HTTP, on a real SQLite file, with a small test conversation standing in
for the conversation core at the one seam (`handlers.zalo.worker.Conversation`)."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bot.chat.model import Button, Command, File, ForeignContact, Incoming, PhoneShared, Press, Reply, Text, Unsupported
from bot.chat.rich import t
from bot.domain.clock import ManualClock
from bot.domain.inbox import InboxStore
from bot.settings import Settings
from devtools.zalo import ZaloEmulator, ZaloLimits
from handlers.http.app import Serving, build_http_app, serving
from handlers.http.files import FileLinks
from handlers.zalo.channel import ZaloChannel, build_zalo_channel
from storage.contract import Storage
from storage.engines import open_storage
from tests.storage_engines import EngineSettings, database_url

FAST = ZaloLimits(receipt_delay=0.01, webhook_retry_delays=(0.01, 0.02))
PARAGRAPH = "Mức đóng BHYT hộ gia đình năm 2026 được tính theo lương cơ sở và số người trong hộ. "


def long_text(chars: int = 5000) -> str:
    """Paragraphs of Vietnamese text, `chars` characters in all."""
    paragraphs: list[str] = []
    total = 0
    n = 0
    while total < chars:
        n += 1
        paragraph = f"Đoạn {n}. " + PARAGRAPH * 3
        paragraphs.append(paragraph.strip())
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:chars].rstrip()


def png_bytes(size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    """A real PNG; with `noise`, random pixels that compress badly (a large file)."""
    if noise:
        rng = random.Random(7)
        data = bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3))
        image = Image.frombytes("RGB", size, data)
    else:
        image = Image.new("RGB", size, (20, 120, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


XLSX = b"PK\x03\x04" + bytes(range(256)) * 8  # opaque bytes: the link must return them exactly


@dataclass
class ScriptedConversation:
    """Stands in for the conversation core: answers by the words it gets, records every event."""

    received: list[Incoming] = field(default_factory=list)
    block: asyncio.Event | None = None  # when set: "chậm" waits on it (a worker killed mid-event)
    raise_on: str | None = None  # a text that makes it raise

    async def __call__(self, incoming: Incoming) -> Sequence[Reply]:
        self.received.append(incoming)
        if isinstance(incoming, Press):
            return [Reply(t(f"Bạn chọn {incoming.payload}"))]
        if isinstance(incoming, PhoneShared):
            return [Reply(t("Đã nhận số điện thoại của bạn."))]
        if isinstance(incoming, ForeignContact):
            return [Reply(t("Đây không phải số của bạn."))]
        if isinstance(incoming, Command):
            return [Reply(t(f"Lệnh {incoming.name} {' '.join(incoming.args)}".strip()))]
        if isinstance(incoming, Unsupported):
            return [Reply(t(f"Bot chưa đọc được {incoming.kind}."))]
        assert isinstance(incoming, Text)
        word = incoming.text
        if word == self.raise_on:
            raise RuntimeError("test conversation failure 0912345678")
        if word == "chậm" and self.block is not None:
            await self.block.wait()
        if word == "dài":
            return [Reply(t(long_text()))]
        if word == "menu":
            buttons = tuple((Button(f"Lựa chọn {n}", payload=f"opt{n}"),) for n in range(1, 9))
            return [Reply(t("Chọn một mục:"), buttons=buttons)]
        if word == "báo cáo":
            return [
                Reply(
                    t("Báo cáo hôm nay:"),
                    files=(File("bieu-do.png", png_bytes(), "png"), File("Báo cáo tháng 11.xlsx", XLSX, "xlsx")),
                )
            ]
        if word == "ảnh lớn":
            return [Reply(t("Biểu đồ lớn:"), files=(File("lon.png", png_bytes((900, 900), noise=True), "png"),))]
        if word == "số":
            return [Reply(t("Hãy chia sẻ số điện thoại Zalo của bạn."), ask_phone=True)]
        return [Reply(t(f"Bạn viết: {word}"))]


@dataclass
class ZaloWorld:
    emulator: ZaloEmulator
    #: The engine's own handle, for tests that look at rows with SQL (SQLite's, unless the world
    #: was opened with engine="postgresql").
    db: Any
    channel: ZaloChannel
    links: FileLinks
    inbox: InboxStore
    conversation: ScriptedConversation
    clock: ManualClock
    server: Serving
    http: httpx.AsyncClient
    settings: Settings

    @property
    def webhook_url(self) -> str:
        return f"{self.server.base_url}/zalo/webhook"

    async def drain(self) -> int:
        """Handle everything due in the inbox now."""
        return await self.channel.worker.drain()

    async def counts(self) -> dict[str, int]:
        return await self.inbox.counts("zalo")


@asynccontextmanager
async def zalo_world(
    tmp_path: Path,
    clock: ManualClock,
    *,
    conversation: ScriptedConversation | None = None,
    limits: ZaloLimits = FAST,
    worker_options: dict[str, Any] | None = None,
    db_path: Path | None = None,
    on_reauth_needed: Callable[[Any], Awaitable[None]] | None = None,
    engine: str = "sqlite",
) -> AsyncIterator[ZaloWorld]:
    """Emulator + database (a fresh one of `engine`; SQLite: the file `db_path`) + channel +
    HTTP server; the worker is NOT running (tests drain it, or enter `world.channel.running()`)."""
    async with AsyncExitStack() as stack:
        path = db_path or tmp_path / "bot.sqlite3"
        url = await stack.enter_async_context(database_url(engine, path))
        storage = open_storage(EngineSettings(url, path))
        await storage.connect()
        stack.push_async_callback(storage.close)
        async with _world_on(storage, path, tmp_path, clock, conversation, limits, worker_options,
                             on_reauth_needed) as world:
            yield world


@asynccontextmanager
async def _world_on(
    storage: Storage,
    path: Path,
    tmp_path: Path,
    clock: ManualClock,
    conversation: ScriptedConversation | None,
    limits: ZaloLimits,
    worker_options: dict[str, Any] | None,
    on_reauth_needed: Callable[[Any], Awaitable[None]] | None,
) -> AsyncIterator[ZaloWorld]:
    emulator = ZaloEmulator(clock=clock, limits=replace(limits))
    await emulator.start()
    pair = emulator.issue_tokens()
    http = httpx.AsyncClient()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=path,
        zalo_app_id=emulator.app_id,
        zalo_app_secret=emulator.app_secret,
        zalo_oa_secret_key=emulator.oa_secret_key,
        zalo_refresh_token=pair.refresh_token,
        zalo_api_base_url=emulator.api_base_url,
        zalo_oauth_base_url=emulator.oauth_base_url,
        zalo_zns_base_url=emulator.zns_base_url,
    )
    conv = conversation or ScriptedConversation()
    links = FileLinks(tmp_path / "files", "http://127.0.0.1", clock)
    inbox = storage.inbox
    assert settings.zalo_app_id is not None
    channel = build_zalo_channel(
        settings,
        conversation=conv,
        clock=clock,
        inbox=inbox,
        token_store=storage.zalo_tokens(settings.zalo_app_id, clock, settings.zalo_refresh_token),
        links=links,
        http=http,
        on_reauth_needed=on_reauth_needed,
        **(worker_options or {}),
    )
    app = build_http_app(channel.routes(), links.routes())
    try:
        async with serving(app, "127.0.0.1", 0) as server:
            links.public_base_url = server.base_url
            emulator.webhook_url = f"{server.base_url}/zalo/webhook"
            try:
                yield ZaloWorld(emulator, storage.db, channel, links, inbox, conv, clock, server, http, settings)
            finally:
                await channel.worker.stop()
    finally:
        await http.aclose()
        await emulator.stop()
