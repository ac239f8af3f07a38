"""Zalo settings, read from the environment under the names of the Zalo channel issue.

TEMPORARY HOME: these fields belong in bot/settings.py (`Settings`); they live here only until
that file is free to edit, and are to be folded into it with the same names and defaults.
Secrets are kept out of repr() so a logged config leaks nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class ZaloConfig(BaseModel):
    """Everything the Zalo transport needs; defaults are Zalo's production hosts."""

    model_config = ConfigDict(frozen=True)

    zalo_app_id: str | None = Field(default=None, description="Zalo app id (developers.zalo.me)")
    zalo_app_secret: str | None = Field(default=None, repr=False, description="app secret: token-call header")
    zalo_oa_secret_key: str | None = Field(default=None, repr=False, description="OA secret: webhook MAC key")
    zalo_refresh_token: str | None = Field(
        default=None, repr=False, description="refresh token of the first authorisation (used once)"
    )
    zalo_api_base_url: str = "https://openapi.zalo.me"
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    zalo_zns_base_url: str = "https://business.openapi.zalo.me"
    zns_enabled: bool = False
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    public_base_url: str | None = Field(default=None, description="https://… where Zalo reaches /zalo/webhook")

    @property
    def oa_enabled(self) -> bool:
        """True when the OA channel has what it needs to start (ids and secrets)."""
        return bool(self.zalo_app_id and self.zalo_app_secret and self.zalo_oa_secret_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ZaloConfig:
        """Read `ZALO_APP_ID`, …, `PUBLIC_BASE_URL` (upper-case field names) from `env`
        (default os.environ); unset or empty variables keep the default. Raises
        pydantic.ValidationError on a malformed value (e.g. `WEBHOOK_PORT=abc`)."""
        source = os.environ if env is None else env
        values = {
            name: source[name.upper()]
            for name in cls.model_fields
            if source.get(name.upper(), "").strip()
        }
        return cls.model_validate(values)


__all__ = ["ZaloConfig"]
