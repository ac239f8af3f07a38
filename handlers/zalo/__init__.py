"""The Zalo channel adapter. Transport: the parts that talk HTTP to Zalo (oa_client, zns_client,
tokens, transport, errors) and verify what Zalo sends (signature, events). Channel: the webhook
route into the inbox (webhook), the worker that turns events into `bot.chat.model.Incoming`
and calls the conversation (worker), the renderer of replies within Zalo's limits (render),
and their wiring from settings (channel). No conversation logic and no user-facing text
lives here.

Layer rule: nothing in this package imports telegram, storage, aiosqlite or devtools
(tests/test_zalo_parsing.py checks it). The wire shapes follow the project's Zalo research
(ZALO.md §2-§3) and are exercised against the in-repo emulator (devtools/zalo).
"""
