"""The OAuth v4 token endpoint of the emulator: `POST /v4/oa/access_token`.

Form-encoded body, header `secret_key: <app secret>` [Z19 goclaw auth.go, Z20, Z21]:
- `grant_type=refresh_token` with `refresh_token`, `app_id`;
- `grant_type=authorization_code` with `code`, `app_id` and (PKCE) `code_verifier`.

Success answers `{"access_token", "refresh_token", "expires_in": "<seconds>"}`; `expires_in` is a
*string*, as goclaw observed live ("returns the latter in practice"). Every success rotates both
tokens. Access tokens expire on the emulator clock; refresh tokens are single-use: a second use
answers −14014, an operator-revoked or expired one −118 (goclaw treats both as "re-consent").
Which of the two Zalo really sends for a reused token is not pinned: a recorded fixture must say.
Error answers carry `error`, `error_name`, `error_description` and `message`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.domain.clock import Clock

from .common import (
    JSON,
    OAUTH_APP_INVALID,
    OAUTH_CODE_INVALID,
    OAUTH_INVALID_GRANT,
    OAUTH_PARAMS_INVALID,
    OAUTH_REFRESH_TOKEN_USED,
    ZaloApiError,
    ZaloLimits,
)


@dataclass(frozen=True)
class TokenPair:
    """What the token endpoint hands out (and what a test seeds the adapter with)."""

    access_token: str
    refresh_token: str
    expires_in: int


@dataclass
class _Refresh:
    expires_at: datetime
    used: bool = False
    revoked: bool = False


@dataclass
class _Code:
    expires_at: datetime
    code_challenge: str | None
    used: bool = False


def pkce_challenge(code_verifier: str) -> str:
    """S256 code challenge: base64url(sha256(verifier)) without padding [Z15]."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class TokenAuthority:
    """Issues, checks, rotates and revokes the OA's tokens on the emulator clock."""

    def __init__(self, app_id: str, app_secret: str, clock: Clock, limits: ZaloLimits) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.clock = clock
        self.limits = limits
        self._access: dict[str, datetime] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._codes: dict[str, _Code] = {}
        # what tests read
        self.refresh_uses: Counter[str] = Counter()  # refresh token -> times presented
        self.refreshes = 0  # successful refresh_token grants
        self.issued: list[TokenPair] = []

    # ---- operator side ---------------------------------------------------------------------

    def issue(self) -> TokenPair:
        """A fresh pair, as after the OA admin's consent; the emulator keeps it valid."""
        now = self.clock.now()
        ttl = self.limits.access_token_ttl
        pair = TokenPair(
            "AT-" + secrets.token_urlsafe(24), "RT-" + secrets.token_urlsafe(24), ttl
        )
        self._access[pair.access_token] = now + timedelta(seconds=ttl)
        self._refresh[pair.refresh_token] = _Refresh(now + self.limits.refresh_token_ttl)
        self.issued.append(pair)
        return pair

    def authorization_code(self, code_challenge: str | None = None) -> str:
        """A consent callback's `code` (10 minutes, single use), optionally bound to PKCE."""
        code = "CODE-" + secrets.token_urlsafe(16)
        self._codes[code] = _Code(self.clock.now() + self.limits.code_ttl, code_challenge)
        return code

    def revoke(self, refresh_token: str | None = None) -> None:
        """The OA admin withdraws the app (all refresh tokens) or one token is revoked: −118."""
        for token, record in self._refresh.items():
            if refresh_token is None or token == refresh_token:
                record.revoked = True

    def expire_access(self, access_token: str | None = None) -> None:
        """Expire one access token (or all) now, whatever its lifetime."""
        now = self.clock.now()
        for token in self._access:
            if access_token is None or token == access_token:
                self._access[token] = now

    def access_valid(self, token: str | None) -> bool:
        """True while `token` is a known access token not yet expired on the clock."""
        if not token:
            return False
        expires = self._access.get(token)
        return expires is not None and self.clock.now() < expires

    @property
    def reused_refresh_tokens(self) -> list[str]:
        """Refresh tokens presented more than once: a correct single-flight refresher leaves
        this empty, however many sends race past an expired access token."""
        return [t for t, n in self.refresh_uses.items() if n > 1]

    @property
    def current_refresh_tokens(self) -> list[str]:
        """Refresh tokens still usable (unused, unrevoked, unexpired)."""
        now = self.clock.now()
        return [
            t
            for t, r in self._refresh.items()
            if not r.used and not r.revoked and now < r.expires_at
        ]

    # ---- HTTP ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> JSON:
        """Answer one token call (raises ZaloApiError for error answers)."""
        form = await request.post()
        fields = {k: str(v) for k, v in form.items()}
        if request.headers.get("secret_key") != self.app_secret:
            raise ZaloApiError(OAUTH_APP_INVALID, "Invalid secret key")
        if fields.get("app_id") != self.app_id:
            raise ZaloApiError(OAUTH_APP_INVALID, "Invalid app_id")
        grant = fields.get("grant_type")
        if grant == "refresh_token":
            self._use_refresh(fields.get("refresh_token", ""))
        elif grant == "authorization_code":
            self._use_code(fields.get("code", ""), fields.get("code_verifier"))
        else:
            raise ZaloApiError(OAUTH_PARAMS_INVALID, "Invalid grant_type")
        pair = self.issue()
        return {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_in": str(pair.expires_in),
        }

    def _use_refresh(self, token: str) -> None:
        if not token:
            raise ZaloApiError(OAUTH_PARAMS_INVALID, "Missing refresh_token")
        self.refresh_uses[token] += 1
        record = self._refresh.get(token)
        if record is None or record.revoked or self.clock.now() >= record.expires_at:
            raise ZaloApiError(OAUTH_INVALID_GRANT, "Invalid refresh token")
        if record.used:
            raise ZaloApiError(OAUTH_REFRESH_TOKEN_USED, "Refresh token has been used")
        record.used = True
        self.refreshes += 1

    def _use_code(self, code: str, verifier: str | None) -> None:
        record = self._codes.get(code)
        if record is None or record.used or self.clock.now() >= record.expires_at:
            raise ZaloApiError(OAUTH_CODE_INVALID, "Invalid authorization code")
        if record.code_challenge is not None and (
            verifier is None or pkce_challenge(verifier) != record.code_challenge
        ):
            raise ZaloApiError(OAUTH_CODE_INVALID, "Invalid code_verifier")
        record.used = True
