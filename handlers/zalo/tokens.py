"""The OA access token, refreshed by one refresher and persisted before it is used.

Zalo's rules (ZALO.md §2 "Tokens", [Z20][Z19 token_source.go]): the access token lasts ~25 h
(read `expires_in`), the refresh token 3 months and **works once**; every refresh returns a new
pair. So:
- single flight: one asyncio.Lock; callers that find the token due wait for the one refresh
  in progress and then use its result, so a refresh token is never presented twice;
- refresh a margin before expiry (default 10 min) on the injected clock, and once more when
  Zalo refuses the token anyway (OA −216, ZNS −124: `invalidate`), unless another caller has
  already replaced that token;
- persist before use: the new pair goes through `TokenStore.save` before the new access token
  is handed to anyone. If the save fails, the pair is kept in memory only as "unsaved", no
  caller gets it, and the next call retries the save (never a second refresh: the old refresh
  token is already spent);
- a refused refresh (an error answer of the token endpoint: −118, −14014, −14001, −14002…;
  any code not known to be transient, see errors.OAUTH_CODES)
  means a person with OA-admin rights must consent again. The manager enters the
  "re-authorisation needed" state: every call fails fast with `ReauthorisationNeeded`
  (carrying English operator guidance for the log), the dead token is never presented again,
  and the `on_reauth_needed` hook runs once so the adapter can tell admins. Other channels
  keep running: nothing here raises outside the Zalo calls.
- a transient failure of the token endpoint (connection, timeout, 5xx) raises
  `TokenRefreshUnavailable` and leaves the state as it was; the next call tries again (if Zalo
  did consume the token before the answer was lost, that retry is refused and the manager
  goes to re-authorisation, which is the truth).

Storage: `TokenStore` is a Protocol; `storage/zalo_tokens.py` is the SQLite store (the pair
itself is `bot.domain.oauth.TokenState`, re-exported here); tests may use a store of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Protocol

import httpx

from bot.domain.clock import Clock
from bot.domain.oauth import TokenState

from .errors import Api, ErrorClass, classify

log = logging.getLogger(__name__)

TOKEN_PATH = "/v4/oa/access_token"
DEFAULT_MARGIN = timedelta(minutes=10)
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class TokenStore(Protocol):
    """Where the current pair lives across restarts (SQLite in production)."""

    async def load(self) -> TokenState | None: ...

    async def save(self, state: TokenState) -> None: ...


class ReauthorisationNeeded(Exception):
    """Zalo refused the refresh token: a person must consent again. `guidance` is for the log."""

    def __init__(self, code: int, reason: str, guidance: str) -> None:
        super().__init__(f"Zalo OA re-authorisation needed (error {code}: {reason})")
        self.code = code
        self.reason = reason
        self.guidance = guidance


class TokenRefreshUnavailable(Exception):
    """The token endpoint could not be reached or answered garbage; try again later."""


class TokenStoreFailed(Exception):
    """A refreshed pair could not be persisted; it is held back until it can be."""


def operator_guidance(app_id: str, oauth_base_url: str) -> str:
    """English instructions for the operator, logged and passed to the admin hook."""
    return (
        "Zalo refused the OA refresh token, so the Zalo channel is stopped (Telegram keeps "
        "running). To re-authorise: an OA admin opens "
        f"{oauth_base_url}/v4/oa/permission?app_id={app_id}&redirect_uri=<the app's registered "
        "callback URL>&code_challenge=<PKCE S256 challenge>&state=<random>, approves, and the "
        "returned code is exchanged at /v4/oa/access_token (grant_type=authorization_code with "
        "the code_verifier); put the new refresh token in ZALO_REFRESH_TOKEN and restart the bot "
        "(or call TokenManager.reauthorise). Until then Zalo messages and ZNS reminders stay "
        "queued; nothing is resent with the dead token."
    )


class TokenManager:
    """Hands out a valid OA access token; refreshes single-flight; persists before use."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_base_url: str,
        app_id: str,
        app_secret: str,
        store: TokenStore,
        clock: Clock,
        initial_refresh_token: str | None = None,
        margin: timedelta = DEFAULT_MARGIN,
        on_reauth_needed: Callable[[ReauthorisationNeeded], Awaitable[None]] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = http
        self._url = oauth_base_url.rstrip("/") + TOKEN_PATH
        self._oauth_base_url = oauth_base_url.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._store = store
        self._clock = clock
        self._initial_refresh = initial_refresh_token
        self._margin = margin
        self._on_reauth = on_reauth_needed
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._state: TokenState | None = None
        self._loaded = False
        self._unsaved: TokenState | None = None
        self._dead: ReauthorisationNeeded | None = None
        self.refresh_count = 0  # successful refreshes by this manager (for logs and tests)

    @property
    def reauthorisation_needed(self) -> ReauthorisationNeeded | None:
        """The refusal that stopped the manager, or None while it works."""
        return self._dead

    async def access_token(self) -> str:
        """A token valid for at least `margin` more (refreshing first if needed).

        Raises ReauthorisationNeeded (fast, no HTTP) once the refresh token is dead,
        TokenRefreshUnavailable on a transient token-endpoint failure, TokenStoreFailed when a
        new pair cannot be persisted."""
        if self._dead is not None:
            raise self._dead
        state = self._state
        if state is not None and self._unsaved is None and self._fresh(state):
            return state.access_token
        async with self._lock:
            if self._dead is not None:
                raise self._dead
            await self._ensure_loaded()
            await self._flush_unsaved()
            state = self._state
            if state is None or not self._fresh(state):
                state = await self._refresh(state.refresh_token if state else self._initial_refresh)
            return state.access_token

    async def invalidate(self, rejected_access_token: str) -> None:
        """Zalo refused `rejected_access_token` (−216/−124): refresh, unless already replaced.

        Many callers refused at once cause one refresh: the first replaces the token, the others
        see a different current token and return."""
        async with self._lock:
            if self._dead is not None:
                raise self._dead
            await self._ensure_loaded()
            await self._flush_unsaved()
            state = self._state
            if state is not None and state.access_token != rejected_access_token:
                return
            await self._refresh(state.refresh_token if state else self._initial_refresh)

    async def reauthorise(self, refresh_token: str) -> None:
        """Leave the re-authorisation state with a refresh token from a new consent."""
        async with self._lock:
            self._dead = None
            self._unsaved = None
            await self._refresh(refresh_token)

    # ---- internals ---------------------------------------------------------------------------

    def _fresh(self, state: TokenState) -> bool:
        return self._clock.now() < state.access_expires_at - self._margin

    async def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._state = await self._store.load()
            self._loaded = True

    async def _flush_unsaved(self) -> None:
        if self._unsaved is None:
            return
        try:
            await self._store.save(self._unsaved)
        except Exception as error:
            raise TokenStoreFailed("the refreshed Zalo token pair is still not persisted") from error
        self._state, self._unsaved = self._unsaved, None

    async def _refresh(self, refresh_token: str | None) -> TokenState:
        if not refresh_token:
            await self._die(0, "no refresh token configured or stored")
        assert refresh_token is not None
        form = {"refresh_token": refresh_token, "app_id": self._app_id, "grant_type": "refresh_token"}
        try:
            response = await self._http.post(
                self._url, data=form, headers={"secret_key": self._app_secret}, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            log.warning("Zalo token refresh failed in transport (%s); will retry", type(error).__name__)
            raise TokenRefreshUnavailable(type(error).__name__) from error
        if response.status_code != 200:
            log.warning("Zalo token endpoint answered HTTP %s; will retry", response.status_code)
            raise TokenRefreshUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise TokenRefreshUnavailable("token endpoint answered non-JSON") from error
        if not isinstance(body, dict):
            raise TokenRefreshUnavailable("token endpoint answered a non-object")
        code = body.get("error", 0)
        if isinstance(code, int) and not isinstance(code, bool) and code != 0:
            cls, reason = classify(Api.OAUTH, code)
            if cls is ErrorClass.RETRY_LATER:
                log.warning("Zalo token endpoint answered transient error %s; will retry", code)
                raise TokenRefreshUnavailable(f"error {code}: {reason}")
            await self._die(code, reason)
        access, refresh, expires = body.get("access_token"), body.get("refresh_token"), body.get("expires_in")
        try:
            seconds = int(expires) if isinstance(expires, (str, int, float)) else -1  # Zalo sends a decimal string
        except ValueError:
            seconds = -1
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh or seconds <= 0:
            # The old refresh token may now be spent; say so, but do not guess a state.
            raise TokenRefreshUnavailable("token endpoint answered without a usable pair")
        new = TokenState(access, self._clock.now() + timedelta(seconds=seconds), refresh)
        self.refresh_count += 1
        self._unsaved = new
        await self._flush_unsaved()  # persist before use
        log.info("Zalo OA access token refreshed; valid until %s", new.access_expires_at.astimezone(UTC).isoformat())
        return new

    async def _die(self, code: int, reason: str) -> None:
        error = ReauthorisationNeeded(code, reason, operator_guidance(self._app_id, self._oauth_base_url))
        self._dead = error
        log.error("%s. %s", error, error.guidance)
        if self._on_reauth is not None:
            try:
                await self._on_reauth(error)
            except Exception:  # noqa: BLE001 - a failing notifier must not hide the state
                log.exception("the Zalo re-authorisation hook failed")
        raise error


__all__ = [
    "ReauthorisationNeeded",
    "TokenManager",
    "TokenRefreshUnavailable",
    "TokenState",
    "TokenStore",
    "TokenStoreFailed",
    "operator_guidance",
]
