"""Zalo transport: the parts that talk HTTP to Zalo (OA API v3, OAuth v4, ZNS) and verify what
Zalo sends (webhook signatures, event parsing). No conversation logic and no user-facing text
lives here; the Zalo channel adapter builds on these modules.

Layer rule: nothing in this package imports telegram, storage, aiosqlite or devtools
(tests/test_zalo_parsing.py checks it). The wire shapes follow the project's Zalo research
(ZALO.md §2-§3) and are exercised against the in-repo emulator (devtools/zalo).
"""
