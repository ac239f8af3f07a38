"""The Zalo OA token pair on PostgreSQL: the `TokenStore` of handlers/zalo/tokens.py.

The SQLite store's guarantees (storage/sqlite/zalo_tokens.py): `save` commits before it
returns, one row per app, and a pair descending from another ZALO_REFRESH_TOKEN setting is
ignored by `load`. (bot/cli/serve.py still builds the SQLite store only: wiring this one there
lets the Zalo channel run on PostgreSQL.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.clock import Clock
from bot.domain.oauth import TokenState
from storage.postgresql.db import Database
from storage.sqlite.zalo_tokens import _seed_hash


class PostgresTokenStore:
    """Loads and saves the pair of `app_id`; `seed` is the configured ZALO_REFRESH_TOKEN."""

    def __init__(self, db: Database, app_id: str, clock: Clock, seed: str | None = None) -> None:
        self._db = db
        self._clock = clock
        self._app_id = app_id
        self._seed_hash = _seed_hash(seed)

    async def load(self) -> TokenState | None:
        """The stored pair, or None when there is none or it descends from another setting."""
        row = await self._db.fetchrow(
            "SELECT access_token, access_expires_at, refresh_token, seed_hash FROM zalo_tokens WHERE app_id = $1",
            self._app_id,
        )
        if row is None or (self._seed_hash is not None and row["seed_hash"] != self._seed_hash):
            return None
        return TokenState(row["access_token"], datetime.fromisoformat(row["access_expires_at"]), row["refresh_token"])

    async def save(self, state: TokenState) -> None:
        """Replace the app's pair; committed when this returns."""
        await self._db.execute(
            "INSERT INTO zalo_tokens(app_id, access_token, access_expires_at, refresh_token, seed_hash, saved_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(app_id) DO UPDATE SET access_token = excluded.access_token,"
            " access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token,"
            " seed_hash = excluded.seed_hash, saved_at = excluded.saved_at",
            self._app_id, state.access_token, state.access_expires_at.astimezone(UTC).isoformat(),
            state.refresh_token, self._seed_hash, self._clock.now().astimezone(UTC).isoformat(),
        )
