"""The Zalo OA token pair in SQLite (migration 0040): the `TokenStore` of handlers/zalo/tokens.py.

A refresh token works once, so `TokenManager` saves every new pair here before handing out its
access token; `save` commits before it returns (one write transaction), so a crash after it
loses nothing. One row per Zalo app id.

Re-authorisation: the row remembers (as a sha256) which ZALO_REFRESH_TOKEN setting its chain
started from. When the operator sets a new one after Zalo refused the old chain, `load` no
longer matches and returns None, so the manager starts from the new setting instead of the
dead stored pair. Tokens are stored as given (the database file is the secret; keep it private).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from bot.domain.clock import Clock
from bot.domain.oauth import TokenState
from storage.sqlite.db import Database


def _seed_hash(seed: str | None) -> str | None:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest() if seed else None


class SqliteTokenStore:
    """Loads and saves the pair of `app_id`; `seed` is the configured ZALO_REFRESH_TOKEN; `clock`
    stamps `saved_at`."""

    def __init__(self, db: Database, app_id: str, clock: Clock, seed: str | None = None) -> None:
        self._db = db
        self._clock = clock
        self._app_id = app_id
        self._seed_hash = _seed_hash(seed)

    async def load(self) -> TokenState | None:
        """The stored pair, or None when there is none or it descends from another setting."""
        row = await self._db.fetchone(
            "SELECT access_token, access_expires_at, refresh_token, seed_hash FROM zalo_tokens WHERE app_id = ?",
            (self._app_id,),
        )
        if row is None:
            return None
        if self._seed_hash is not None and row["seed_hash"] != self._seed_hash:
            return None  # the operator re-authorised: start from the new ZALO_REFRESH_TOKEN
        return TokenState(row["access_token"], datetime.fromisoformat(row["access_expires_at"]), row["refresh_token"])

    async def save(self, state: TokenState) -> None:
        """Replace the app's pair; committed when this returns."""
        await self._db.execute(
            "INSERT INTO zalo_tokens(app_id, access_token, access_expires_at, refresh_token, seed_hash, saved_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(app_id) DO UPDATE SET access_token = excluded.access_token,"
            " access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token,"
            " seed_hash = excluded.seed_hash, saved_at = excluded.saved_at",
            (
                self._app_id,
                state.access_token,
                state.access_expires_at.astimezone(UTC).isoformat(),
                state.refresh_token,
                self._seed_hash,
                self._clock.now().astimezone(UTC).isoformat(),
            ),
        )


__all__ = ["SqliteTokenStore"]
