"""What the Telegram channel registers on PTB: the error safety net, then one handler that
passes every private message and button press to the conversation core (bot/chat/router.py).
Features are flows in bot/chat/flows; nothing here knows one."""

from __future__ import annotations

from telegram.ext import Application

from handlers.telegram import adapter, common


def register_handlers(application: Application) -> None:
    common.register(application)
    adapter.register(application)
