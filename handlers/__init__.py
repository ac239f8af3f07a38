"""Chat handlers per role. Order matters: PTB tries handlers of one group in the order added,
so role-specific commands and conversations come before the citizen's catch-all text handler."""

from __future__ import annotations

from collections.abc import Callable

from telegram.ext import Application

from handlers import common, citizen, agent
from handlers import admin, membership
from handlers import official
from handlers import cards

# Feature modules register here, most specific first; `citizen` stays last (it answers anything).
REGISTRARS: list[Callable[[Application], None]] = [
    common.register,
    agent.register,
    membership.register,
    admin.register,
    official.register,
    cards.register,
    citizen.register,
]


def register_handlers(application: Application) -> None:
    for register in REGISTRARS:
        register(application)
