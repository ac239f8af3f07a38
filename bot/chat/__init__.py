"""The channel-neutral chat model: events in, replies out, rich text, layout per channel.

Nothing in this package imports a channel library (telegram, aiohttp), storage or handlers:
conversations written against it run unchanged on Telegram and on a Zalo Official Account.
See docs/ARCHITECTURE.md, "The neutral chat model (bot/chat/)".
"""
