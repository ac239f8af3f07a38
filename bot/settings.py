"""Settings from the environment and `.env`, validated once at start-up.

A missing or malformed setting must stop the bot with one line naming it, so every field carries
its environment name and `load_settings` turns pydantic's error into a `SettingsError`.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_DEFAULT = "https://api.telegram.org"
ZALO_API_DEFAULT = "https://openapi.zalo.me"
ZALO_OAUTH_DEFAULT = "https://oauth.zaloapp.com"
ZALO_ZNS_DEFAULT = "https://business.openapi.zalo.me"
_URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_BLANK_IS_DEFAULT = {
    "zalo_api_base_url": ZALO_API_DEFAULT,
    "zalo_oauth_base_url": ZALO_OAUTH_DEFAULT,
    "zalo_zns_base_url": ZALO_ZNS_DEFAULT,
}
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# Telegram allows 1 to 256 characters; fewer than 16 would be guessable, so they are refused.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything an operator may set. Documented in `.env.example` and the README."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: str | None = Field(default=None, description="Bot token from @BotFather")
    telegram_api_base_url: str = Field(
        default=TELEGRAM_API_DEFAULT,
        description="Bot API server: Telegram's own, a self-hosted one, or the local emulator",
    )
    database_path: Path = Field(default=Path("data/bhxh-bot.sqlite3"))
    database_url: str | None = Field(
        default=None,
        description="Storage engine and place (storage/engines.py): unset, or sqlite:///path; unset uses database_path",
    )
    files_dir: Path | None = Field(
        default=None,
        description="Where the files behind signed download links are kept; default: files/ beside the database file",
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh")
    admin_telegram_ids: Annotated[tuple[int, ...], NoDecode] = Field(default=())
    # Zalo user ids (the OA's follower ids) of admins; admin rights are per channel.
    admin_zalo_ids: Annotated[tuple[int, ...], NoDecode] = Field(default=())
    rates_path: Path | None = Field(
        default=None, description="Operator copy of the rate tables; default: the packaged file"
    )
    campaigns_path: Path | None = Field(default=None)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    # Reminders (scheduler/reminders.py)
    reminder_hours_start: time = Field(default=time(8, 0))
    reminder_hours_end: time = Field(default=time(20, 0))
    reminder_interval_days: int = Field(default=7, ge=1, le=365)
    reminder_max_count: int = Field(default=3, ge=1, le=50)
    reminder_campaigns_path: Path | None = Field(
        default=None, description="Operator copy of reminders.toml; default: the packaged file"
    )
    # Telegram flood limits the bot keeps to (handlers/telegram/ratelimit.py): messages a second overall,
    # and seconds between two bulk messages to one private chat.
    telegram_max_per_second: float = Field(default=30.0, gt=0, le=1000)
    telegram_chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    # Fraction kept below those limits so that network jitter never puts one message too many
    # into a server-side second (handlers/telegram/ratelimit.py): 0.04 sends at most 28.8 a second.
    telegram_safety_margin: float = Field(default=0.04, ge=0, lt=0.5)
    # Reminder requests in flight at once (scheduler/reminders.py): enough that a real
    # network's round trip does not cap the rate below the limit.
    reminder_concurrency: int = Field(default=8, ge=1, le=64)
    # Daily summaries (scheduler/summaries.py)
    summary_time: time = Field(default=time(17, 0))
    # Whether this process runs the scheduled work (reminder rounds, daily summaries). Until the
    # outbox and ledgers are claimed with leases, exactly one instance of a multi-instance
    # deployment may run it (docs/DEPLOY.md): set false on every other one.
    scheduler_enabled: bool = Field(default=True)
    scheduler_tick_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Joining (bot/organisation.py): how long a /moi invite code stays valid.
    invite_ttl_hours: int = Field(default=72, ge=1, le=720)
    # Zalo (handlers/zalo): the OA channel starts when app id, app secret and OA secret are set
    # (`zalo_configured`). Secrets are kept out of repr() so a logged Settings leaks nothing.
    zalo_app_id: str | None = Field(default=None, description="Zalo app id (developers.zalo.me)")
    zalo_app_secret: str | None = Field(default=None, repr=False, description="app secret: token-call header")
    zalo_oa_secret_key: str | None = Field(default=None, repr=False, description="OA secret: webhook MAC key")
    zalo_refresh_token: str | None = Field(
        default=None, repr=False, description="refresh token of the first authorisation (used once)"
    )
    zalo_api_base_url: str = Field(default=ZALO_API_DEFAULT)
    zalo_oauth_base_url: str = Field(default=ZALO_OAUTH_DEFAULT)
    zalo_zns_base_url: str = Field(default=ZALO_ZNS_DEFAULT)
    zns_enabled: bool = Field(default=False, description="send ZNS template reminders (paid)")
    # ZNS sending hours, local time (scheduler/zns.py); Zalo refuses 22:00-06:00 (−133).
    zns_hours_start: time = Field(default=time(8, 0))
    zns_hours_end: time = Field(default=time(20, 0))
    zns_templates_path: Path | None = Field(
        default=None, description="Operator copy of zns_templates.toml; default: the packaged file"
    )
    zns_concurrency: int = Field(default=4, ge=1, le=32)
    # Zalo publishes no request rates (ZALO.md §6: one guide's guess is 20 sends a second): the
    # bot keeps below these, every instance on one database together (handlers/pacing.py):
    # OA messages and uploads, and ZNS template messages, a second.
    zalo_max_per_second: float = Field(default=10.0, gt=0, le=100)
    zns_max_per_second: float = Field(default=10.0, gt=0, le=100)
    # The HTTP server (handlers/http): Zalo's webhook and the signed download links.
    webhook_host: str = Field(default="127.0.0.1")
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    public_base_url: str | None = Field(
        default=None, description="https://… address where people and Zalo reach the HTTP server"
    )
    # Telegram webhooks (handlers/telegram/webhook.py) instead of long polling: the public https
    # address Telegram posts updates to (routed by the load balancer to POST /telegram/webhook on
    # the HTTP server), and the secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token.
    telegram_webhook_url: str | None = Field(default=None)
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    # Logs: "text" (one readable line per record) or "json" (one JSON object per line, for log
    # shipping); either way the privacy filter of bot/logsafety.py applies.
    log_format: Literal["text", "json"] = Field(default="text")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not _TOKEN_RE.match(value):
            raise ValueError("expected the form 123456789:ABC... given by @BotFather")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not _URL_RE.match(value):
            raise ValueError("expected an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("zalo_api_base_url", "zalo_oauth_base_url", "zalo_zns_base_url", mode="before")
    @classmethod
    def _zalo_url(cls, value: object, info: ValidationInfo) -> object:
        """Blank keeps Zalo's production host; otherwise an http(s) URL without trailing slash."""
        if not isinstance(value, str):
            return value
        value = value.strip().rstrip("/")
        if not value:
            return _BLANK_IS_DEFAULT[str(info.field_name)]
        if not _URL_RE.match(value):
            raise ValueError("expected an http(s) URL such as https://openapi.zalo.me")
        return value

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip().rstrip("/")
        if not value:
            return None
        if not _URL_RE.match(value):
            raise ValueError("expected the public http(s) address of the bot, such as https://bot.example.vn")
        return value

    @field_validator("telegram_webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: object) -> object:
        """Blank is unset; otherwise an http(s) URL (Telegram itself accepts only https on the
        ports 443, 80, 88 and 8443: it says so when `run` calls setWebhook)."""
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        if not _URL_RE.match(value):
            raise ValueError("expected the public https address Telegram posts updates to")
        return value

    @field_validator("telegram_webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        """Telegram's rule for secret_token: 1 to 256 characters of A-Z, a-z, 0-9, _ and -."""
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        if not _SECRET_RE.match(value):
            raise ValueError("expected 16 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's secret_token)")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("zalo_app_id", "zalo_app_secret", "zalo_oa_secret_key", "zalo_refresh_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("admin_telegram_ids", "admin_zalo_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object, info: ValidationInfo) -> object:
        """Ids separated by commas, semicolons or spaces; ASCII digits only ("١٢٣" or "²" are
        refused with the usual one-line error, not read as 123 or crashed on)."""
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s;]+", value.strip()) if p]
            for part in parts:
                if not (part.isascii() and part.isdigit()):
                    where = "Zalo" if info.field_name == "admin_zalo_ids" else "Telegram"
                    raise ValueError(f"{part!r} is not a numeric {where} user id")
            return tuple(int(p) for p in parts)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def zalo_configured(self) -> bool:
        """True when the Zalo OA channel has what it needs to start: the app id, the app secret
        (token calls) and the OA secret key (webhook signatures). The refresh token may come
        from the database of an earlier run, so it is not required here."""
        return bool(self.zalo_app_id and self.zalo_app_secret and self.zalo_oa_secret_key)

    def webhook_secret(self) -> str:
        """The secret of the Telegram webhook, or a SettingsError naming it: a webhook anyone can
        post to would let anyone speak as any Telegram user."""
        if not self.telegram_webhook_secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET is missing: TELEGRAM_WEBHOOK_URL is set, and Telegram's webhook "
                "needs a secret of 16 to 256 characters (A-Z, a-z, 0-9, _ and -)"
            )
        return self.telegram_webhook_secret

    def require_token(self) -> str:
        """The token, or a SettingsError naming the setting (only `run` needs it)."""
        if not self.telegram_bot_token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is missing: set it in the environment or .env "
                "(or run `./dev demo` to try the bot offline)"
            )
        return self.telegram_bot_token


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning the first validation error into a one-line `SettingsError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err.get("loc") else "settings"
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        raise SettingsError(f"{name} is invalid: {message}") from None
