"""One authenticated JSON call to Zalo, with every failure turned into a classified ZaloError.

Zalo answers its errors as HTTP 200 `{"error": <code>, "message": ...}`; success is
`{"error": 0, "data": {...}}` (the token endpoint excepted, see tokens.py). Transport failures
are classified by *when* they happened:
- before the request was written (connection refused, connect/pool timeout): RETRY_LATER;
- after it was written (read/write timeout, connection dropped, gateway 5xx, unreadable
  answer): UNKNOWN_OUTCOME, since Zalo may have acted on it. Never resent here.
The only automatic second attempt is after Zalo refused the access token (OA −216, ZNS −124):
that answer proves nothing was sent, so the call is repeated once with the refreshed token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import Api, ErrorClass, classify, classify_http_status
from .tokens import ReauthorisationNeeded, TokenManager, TokenRefreshUnavailable, TokenStoreFailed

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

JSON = dict[str, Any]


@dataclass(frozen=True)
class ZaloError:
    """A call that did not succeed: Zalo's raw `code` (0 when Zalo gave none: transport, HTTP
    status or a refusal made locally before sending), the class that decides what to do, a
    short English reason (no personal data) and the HTTP status when there was one."""

    code: int
    cls: ErrorClass
    reason: str
    http_status: int | None = None

    @property
    def sent_nothing(self) -> bool:
        """True when Zalo certainly did not act on the request (everything but UNKNOWN_OUTCOME)."""
        return self.cls is not ErrorClass.UNKNOWN_OUTCOME


def local_refusal(reason: str) -> ZaloError:
    """A request refused before sending because Zalo would refuse it (size, length, shape)."""
    return ZaloError(0, ErrorClass.NEVER_RETRY, reason)


def _token_failure(error: Exception) -> ZaloError:
    if isinstance(error, ReauthorisationNeeded):
        return ZaloError(error.code, ErrorClass.STOP_QUEUE, f"re-authorisation needed: {error.reason}")
    if isinstance(error, TokenStoreFailed):
        return ZaloError(0, ErrorClass.RETRY_LATER, "refreshed token not yet persisted")
    return ZaloError(0, ErrorClass.RETRY_LATER, f"token refresh unavailable: {error}")


async def _post_once(
    http: httpx.AsyncClient, url: str, token: str, timeout: httpx.Timeout, **send: Any
) -> JSON | ZaloError:
    try:
        response = await http.post(url, headers={"access_token": token}, timeout=timeout, **send)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        return ZaloError(0, ErrorClass.RETRY_LATER, f"not sent: {type(error).__name__}")
    except httpx.TransportError as error:
        # ReadTimeout, WriteTimeout, ReadError, RemoteProtocolError...: the request (or part of
        # it) was written; Zalo may have acted.
        return ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, f"no answer after sending: {type(error).__name__}")
    if response.status_code != 200:
        cls, reason = classify_http_status(response.status_code)
        return ZaloError(0, cls, reason, response.status_code)
    try:
        body = response.json()
    except ValueError:
        return ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, "unreadable answer", 200)
    if not isinstance(body, dict):
        return ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, "answer is not an object", 200)
    return body


def error_code(body: JSON) -> int | None:
    """Zalo's `error` field as an int (0 = success), None when absent or not a number."""
    code = body.get("error", 0)
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        try:
            return int(code)
        except ValueError:
            return None
    return None


async def call(
    http: httpx.AsyncClient,
    url: str,
    *,
    api: Api,
    tokens: TokenManager,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    pace: Callable[[], Awaitable[None]] | None = None,
    **send: Any,
) -> JSON | ZaloError:
    """POST with the current access token; the success body, or a classified ZaloError.

    `send` is passed to httpx (`json=` or `files=`); it must be re-sendable (bytes, not
    streams), since a −216/−124 answer triggers one refresh and one more attempt. `pace`
    (a `handlers.pacing.SendPacer.acquire`) is awaited right before each request written, the repeat
    included: Zalo counts every request against its rate."""
    for attempt in range(2):
        try:
            token = await tokens.access_token()
        except (ReauthorisationNeeded, TokenRefreshUnavailable, TokenStoreFailed) as error:
            return _token_failure(error)
        if pace is not None:
            await pace()
        outcome = await _post_once(http, url, token, timeout, **send)
        if isinstance(outcome, ZaloError):
            return outcome
        code = error_code(outcome)
        if code is None:
            return ZaloError(0, ErrorClass.UNKNOWN_OUTCOME, "answer without a readable error field", 200)
        if code == 0:
            return outcome
        cls, reason = classify(api, code)
        if cls is ErrorClass.REFRESH_TOKEN and attempt == 0:
            try:
                await tokens.invalidate(token)
            except (ReauthorisationNeeded, TokenRefreshUnavailable, TokenStoreFailed) as error:
                return _token_failure(error)
            continue
        return ZaloError(code, cls, reason)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["DEFAULT_TIMEOUT", "ZaloError", "call", "error_code", "local_refusal"]
