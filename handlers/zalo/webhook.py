"""`POST /zalo/webhook`: check the OA webhook, put the event in the inbox, answer at once.

Zalo wants a 200 within about 2 s and retries otherwise (ZALO.md §2 "Webhooks"), so nothing
here talks to Zalo or runs a conversation: the worker (worker.py) does that from the inbox.

Guarantees:
- the body is read up to `max_body_bytes` (default 64 KiB; OA events are a few hundred
  bytes); a longer one answers 413 and is not read further;
- `X-ZEvent-Signature` is checked on the exact bytes received (signature.verify: sha256 of
  app id + body + timestamp + OA secret key, `mac=` prefix or bare hex), with the replay
  window on the event's own timestamp against the injected clock (default 5 min). A refused
  request answers 401 (signature, app id, stale or future) or 400 (not a JSON event) and
  writes nothing; the log says why, never what the body held;
- an accepted event the bot uses is stored in the inbox under (zalo, events.event_key), so a
  retry of the same event is stored once, then 200. Events the bot does not use (seen,
  oa_send_*) answer 200 and are not stored. When the inbox cannot be written the answer is
  503, so Zalo retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.domain.clock import Clock
from bot.domain.inbox import InboxStore
from bot.logsafety import describe_exception
from bot.observability.metrics import WEBHOOK_REQUESTS
from handlers.http.body import TooLarge, read_capped

from .events import (
    Follow,
    OaReceipt,
    OtherEvent,
    SubmitInfo,
    TextMessage,
    Unfollow,
    Unsupported,
    ZnsReceipt,
    event_key,
    parse_event,
)
from .signature import Rejected, verify

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_REPLAY_WINDOW", "SIGNATURE_HEADER", "WEBHOOK_PATH", "ZaloWebhook"]

CHANNEL = "zalo"
WEBHOOK_PATH = "/zalo/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
DEFAULT_REPLAY_WINDOW = timedelta(minutes=5)
DEFAULT_MAX_BODY_BYTES = 64 * 1024
_BAD_REQUEST_REASONS = frozenset({"malformed_body", "missing_timestamp"})


def person_of(event: object) -> str | None:
    """The Zalo user an event is from (None for receipts, which concern no conversation)."""
    if isinstance(event, (TextMessage, Follow, Unfollow, SubmitInfo, Unsupported)):
        return event.sender_id
    return None


class ZaloWebhook:
    """The webhook route; `on_stored` is called after a new event was stored (wakes the worker)."""

    def __init__(
        self,
        inbox: InboxStore,
        clock: Clock,
        *,
        app_id: str,
        oa_secret_key: str,
        replay_window: timedelta = DEFAULT_REPLAY_WINDOW,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        on_stored: Callable[[], None] | None = None,
        path: str = WEBHOOK_PATH,
    ) -> None:
        if not app_id or not oa_secret_key:
            raise ValueError("the Zalo webhook needs the app id and the OA secret key")
        self._inbox = inbox
        self._clock = clock
        self._app_id = app_id
        self._oa_secret_key = oa_secret_key
        self._window_s = int(replay_window.total_seconds())
        self._max_body = max_body_bytes
        self._on_stored = on_stored
        self.path = path

    def routes(self) -> list[BaseRoute]:
        """The route to pass to handlers.http.app.build_http_app."""
        return [Route(self.path, self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        """One webhook POST (see the module docstring for every answer)."""
        try:
            raw = await read_capped(request, self._max_body)
        except TooLarge:
            log.warning("Zalo webhook refused: body over %s bytes", self._max_body)
            return _answer("too_large", "too large", 413)
        except ClientDisconnect:
            return _answer("invalid", "gone", 400)
        now = self._clock.now()
        checked = verify(
            raw,
            request.headers.get(SIGNATURE_HEADER),
            app_id=self._app_id,
            oa_secret_key=self._oa_secret_key,
            now_ms=int(now.timestamp() * 1000),
            window_s=self._window_s,
        )
        if isinstance(checked, Rejected):
            status = 400 if checked.reason in _BAD_REQUEST_REASONS else 401
            log.warning("Zalo webhook refused (%s): %s", status, checked.reason)
            return _answer("refused", "refused", status)
        event = parse_event(raw)
        if event is None:
            # Authentic but unreadable (a shape we do not know): a retry would not help.
            log.warning("Zalo webhook: authentic event of an unknown shape ignored")
            return _answer("invalid", "ok")
        if isinstance(event, OtherEvent):
            log.debug("Zalo webhook: %s not used", event.event_name)
            return _answer("ignored", "ok")
        assert isinstance(event, (TextMessage, Follow, Unfollow, SubmitInfo, Unsupported, OaReceipt, ZnsReceipt))
        try:
            stored = await self._inbox.add(
                CHANNEL, event_key(event), person_of(event), event.event_name, raw.decode("utf-8"), now
            )
        except Exception as error:  # noqa: BLE001 - any storage failure: let Zalo retry
            log.error("Zalo webhook: the inbox could not be written; answering 503: %s", describe_exception(error))
            return _answer("unavailable", "busy", 503)
        if stored:
            if self._on_stored is not None:
                self._on_stored()
        else:
            log.info("Zalo webhook: %s already in the inbox (retry)", event.event_name)
        return _answer("stored" if stored else "duplicate", "ok")


def _answer(result: str, text: str, status: int = 200) -> Response:
    """The webhook's answer, counted by result (bhxh_webhook_requests_total{channel="zalo"})."""
    WEBHOOK_REQUESTS.labels(CHANNEL, result).inc()
    return PlainTextResponse(text, status_code=status)
