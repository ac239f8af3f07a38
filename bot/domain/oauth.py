"""An OAuth token pair as a value, shared by the Zalo adapter (handlers/zalo/tokens.py), which
refreshes it, and the repository that persists it (storage/zalo_tokens.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["TokenState"]


@dataclass(frozen=True)
class TokenState:
    """One usable pair: the access token, when it expires (aware datetime) and its refresh token."""

    access_token: str
    access_expires_at: datetime
    refresh_token: str

    def __repr__(self) -> str:  # tokens never reach a log through repr()
        return f"TokenState(access_expires_at={self.access_expires_at.isoformat()})"
