"""Helpers of the reminder tests: many linked people at once, and the bot-side limiter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from telegram.ext import Application

from bot.domain.cards import Card
from bot.settings import Settings
from devtools.telegram_emulator import BotApiEmulator
from handlers.telegram.ratelimit import BotRateLimiter
from storage.contract import CardStore

LAPSED_ON = date(2026, 9, 18)  # inside the 2026 campaign window, less than 3 months before 23/11

# Telegram's limits twenty times faster (30/s -> 600/s, 1 s -> 0.05 s per chat) in the emulator,
# which answers 429 to any excess; a 5,000-person fan-out then takes ~20 s instead of ~170 s
# (on 2 cores the bot and the emulator are CPU-bound near 300/s). The bot keeps a little under
# them (5% overall, 10 ms per chat), as a bot should keep under Telegram's: at twenty times the
# rate, a few milliseconds of request jitter on a busy machine would otherwise bunch requests
# into a spurious 429 (harmless - it is retried - but slow). The exact 30/s is measured by
# bench/bench_reminders.py.
FAST_LIMITS = {"telegram_max_per_second": 570, "telegram_chat_interval_seconds": 0.06}
FAST_EMULATOR = {"global_per_second": 600, "per_chat_interval": 0.05}


def install_limiter(application: Application, settings: Settings) -> None:
    """Make sure the bot uses handlers.telegram.ratelimit.BotRateLimiter (a no-op once handlers.telegram.app installs it)."""
    if not isinstance(application.bot.rate_limiter, BotRateLimiter):
        application.bot._rate_limiter = BotRateLimiter.from_settings(settings)  # noqa: SLF001


def people(first_id: int, count: int) -> list[int]:
    return list(range(first_id, first_id + count))


def phone_of(user_id: int) -> str:
    return f"09{user_id % 100_000_000:08d}"


def card_of(user_id: int, valid_to: date = LAPSED_ON, unit: str = "CL01") -> Card:
    """One person, one household, one card carrying their phone."""
    return Card(
        bhxh_code=f"{user_id:010d}", full_name=f"Nguyễn Thị Người{user_id}", unit_code=unit, valid_to=valid_to,
        card_code=f"GD48484{user_id:010d}"[:15], household_code=f"H{user_id}", sex="nu",
        birth_date=date(1985, 1, 1), phone=phone_of(user_id),
    )


async def link_people(
    repo: CardStore, user_ids: Iterable[int], at: datetime, valid_to: date = LAPSED_ON, channel: str = "telegram"
) -> None:
    """Cards for these people, each linked as if they had shared their own contact."""
    ids = list(user_ids)
    await repo.import_cards([card_of(u, valid_to) for u in ids], "test", at)
    await repo.link_phones([(user, phone_of(user)) for user in ids], at, channel=channel)


def register_chats(emulator: BotApiEmulator, user_ids: Iterable[int]) -> None:
    for user in user_ids:
        emulator.user(user, first_name=f"Người{user}")


def reminders_per_chat(emulator: BotApiEmulator) -> Counter[int]:
    """How many reminders each chat received (sendMessage calls Telegram accepted)."""
    return Counter(
        m.chat_id for m in emulator.sent if m.method == "sendMessage" and "Tôi đã gia hạn" in m.button_texts
    )
