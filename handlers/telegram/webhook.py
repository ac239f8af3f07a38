"""`POST /telegram/webhook`: check Telegram's secret, put the update in the inbox, answer at once.

The alternative to long polling when several instances sit behind one load balancer: Telegram
posts each update to TELEGRAM_WEBHOOK_URL, any instance may receive it, and the shared inbox
(bot.domain.inbox, the one the Zalo webhook uses) makes it handled once and in order per person
by whichever instance's worker claims it (handlers/telegram/inbox.py). Modelled on PTB's
custom-webhook example (Starlette + uvicorn), with the inbox between the route and the
Application instead of `update_queue`, so that an answered update survives a crash.

Guarantees:
- `X-Telegram-Bot-Api-Secret-Token` is compared in constant time with TELEGRAM_WEBHOOK_SECRET
  before the body is read: missing answers 401, wrong 403, and nothing is stored;
- the body is read up to `max_body_bytes` (default 1 MiB; an update is a few KiB): a longer
  one answers 413 and is not read further;
- a body that is not a JSON object with an integer `update_id` answers 400;
- an accepted update is stored under (telegram, <update_id>), so an update Telegram retries,
  or delivers to two instances, is stored once; then 200. When the inbox cannot be written the
  answer is 503, so Telegram retries later. The log never shows the body (personal data).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.domain.clock import Clock
from bot.domain.inbox import InboxStore
from bot.logsafety import describe_exception
from bot.observability.metrics import WEBHOOK_REQUESTS
from handlers.http.body import TooLarge, read_capped

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "DEFAULT_MAX_BODY_BYTES", "SECRET_HEADER", "WEBHOOK_PATH", "TelegramWebhook", "update_person"]

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def update_person(update: dict[str, Any]) -> str | None:
    """Whose update this is, as the inbox orders them: the sending user ("<id>"), else the chat
    ("chat:<id>"), else None (no conversation: handled without ordering). The same rule as
    handlers.telegram.updates.person_key, read from the JSON without building PTB objects."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return str(sender["id"])
        chat = value.get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return f"chat:{chat['id']}"
    return None


def update_kind(update: dict[str, Any]) -> str:
    """The update's kind ("message", "callback_query", ...): its one key besides update_id."""
    return next((key for key in update if key != "update_id"), "unknown")[:40]


class TelegramWebhook:
    """The webhook route; `on_stored` is called after a new update was stored (wakes the worker)."""

    def __init__(
        self,
        inbox: InboxStore,
        clock: Clock,
        *,
        secret: str,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        on_stored: Callable[[], None] | None = None,
        path: str = WEBHOOK_PATH,
    ) -> None:
        if not secret:
            raise ValueError("the Telegram webhook needs its secret token")
        self._inbox = inbox
        self._clock = clock
        self._secret = secret.encode("utf-8")
        self._max_body = max_body_bytes
        self._on_stored = on_stored
        self.path = path

    def routes(self) -> list[BaseRoute]:
        """The route to pass to handlers.http.app.build_http_app."""
        return [Route(self.path, self.handle, methods=["POST"])]

    def _authentic(self, request: Request) -> int | None:
        """None when the secret header matches; otherwise the status to answer."""
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return 401
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret):
            return 403
        return None

    async def handle(self, request: Request) -> Response:
        """One webhook POST (see the module docstring for every answer), counted in
        `bhxh_webhook_requests_total` by answer."""
        response, result = await self._answer(request)
        WEBHOOK_REQUESTS.labels(CHANNEL, result).inc()
        return response

    async def _answer(self, request: Request) -> tuple[Response, str]:
        refused = self._authentic(request)
        if refused is not None:
            log.warning("Telegram webhook refused (%s): secret token %s", refused, "missing" if refused == 401 else "wrong")
            return PlainTextResponse("refused", status_code=refused), "refused"
        try:
            raw = await read_capped(request, self._max_body)
        except TooLarge:
            log.warning("Telegram webhook refused: body over %s bytes", self._max_body)
            return PlainTextResponse("too large", status_code=413), "too_large"
        except ClientDisconnect:
            return PlainTextResponse("gone", status_code=400), "invalid"
        try:
            update = json.loads(raw)
        except ValueError:
            update = None
        if not isinstance(update, dict) or type(update.get("update_id")) is not int:
            log.warning("Telegram webhook refused (400): not an update")
            return PlainTextResponse("not an update", status_code=400), "invalid"
        kind = update_kind(update)
        try:
            stored = await self._inbox.add(
                CHANNEL, str(update["update_id"]), update_person(update), kind, raw.decode("utf-8", "replace"), self._clock.now()
            )
        except Exception as error:  # noqa: BLE001 - any storage failure: let Telegram retry
            log.error("Telegram webhook: the inbox could not be written; answering 503: %s", describe_exception(error))
            return PlainTextResponse("busy", status_code=503), "unavailable"
        if not stored:
            log.info("Telegram webhook: update %s already in the inbox (retry)", update["update_id"])
            return PlainTextResponse("ok"), "duplicate"
        if self._on_stored is not None:
            self._on_stored()
        return PlainTextResponse("ok"), "stored"
