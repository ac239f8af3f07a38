"""Chat handlers per role. Order matters: PTB tries handlers of one group in the order added,
so role-specific commands and conversations come before the citizen's catch-all text handler."""

from __future__ import annotations

from collections.abc import Callable

from telegram.ext import Application

from handlers.telegram import adapter, cards, common

# Feature modules register here, most specific first; `citizen` stays last (it answers anything).
REGISTRARS: list[Callable[[Application], None]] = [
    common.register,
    cards.register,
    # The conversation core (bot/chat/router.py): every update no feature handler above took.
    # Feature handlers move into bot/chat/flows one by one and leave this list.
    adapter.register,
]


def register_handlers(application: Application) -> None:
    for register in REGISTRARS:
        register(application)
