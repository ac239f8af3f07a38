"""Verify the `X-ZEvent-Signature` of an OA webhook on the raw body, with a replay window.

Zalo signs each webhook as sha256_hex(app_id + raw_body + timestamp + OA_secret_key), where
`timestamp` is the body's own `timestamp` field (ms, as written in the body) and the key is the
OA secret key, not the app secret [Z16 chatwoot, Z17 goclaw]. chatwoot compares `mac=<hex>`,
goclaw bare hex; both are accepted. The hash is computed over the exact bytes received (never a
re-serialised JSON), and compared in constant time.

Replay window (goclaw: ±5 min [Z17]): an authentic event whose timestamp is older or newer than
`window_s` is refused, so a captured body cannot be replayed later. Zalo's own retries (30 s to
1 h later, [Z15]) carry the *original* timestamp, so retries beyond the window are refused too;
the inbox de-duplicates those within it. That is the price of replay protection; the OA
catch-up sweep (ZALO.md §6.2) recovers what the window drops.

`verify` never raises: every input, however broken, gives Verified or Rejected(reason).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

RejectReason = Literal[
    "missing_signature",
    "malformed_signature",
    "malformed_body",
    "app_id_mismatch",
    "missing_timestamp",
    "bad_signature",
    "stale",
    "future",
]


@dataclass(frozen=True)
class Verified:
    """The body is authentic, for this app, and fresh; `timestamp_ms` is the body's field."""

    timestamp_ms: int


@dataclass(frozen=True)
class Rejected:
    """Refused, with a machine-readable reason (safe to log: no body content)."""

    reason: RejectReason


def expected_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """sha256 hex of app_id + raw body + timestamp + OA secret key (no prefix)."""
    digest = hashlib.sha256()
    digest.update(app_id.encode("utf-8"))
    digest.update(raw_body)
    digest.update(timestamp.encode("utf-8"))
    digest.update(oa_secret_key.encode("utf-8"))
    return digest.hexdigest()


def _header_digest(header: str) -> str | None:
    value = header.strip()
    if value[:4].lower() == "mac=":
        value = value[4:].strip()
    value = value.lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        return None
    return value


def _timestamp_text(raw: object) -> str | None:
    """The timestamp exactly as signed: a decimal string, or a JSON integer written as such."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 16:
        return raw
    return None


def verify(
    raw_body: bytes,
    header: str | None,
    *,
    app_id: str,
    oa_secret_key: str,
    now_ms: int,
    window_s: int = 300,
) -> Verified | Rejected:
    """Check one webhook POST: signature (mac= or bare hex), app id and replay window.

    The JSON is parsed only to read `app_id` and `timestamp`; the hash covers the raw bytes.
    Order: header present and well-formed → body is a JSON object → app_id is ours →
    timestamp present → signature matches → timestamp within ±window_s of now_ms (so "stale"
    and "future" are only ever said of authentic bodies)."""
    try:
        if not header:
            return Rejected("missing_signature")
        given = _header_digest(header)
        if given is None:
            return Rejected("malformed_signature")
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return Rejected("malformed_body")
        if not isinstance(body, dict):
            return Rejected("malformed_body")
        body_app_id = body.get("app_id")
        if isinstance(body_app_id, int) and not isinstance(body_app_id, bool):
            body_app_id = str(body_app_id)
        if body_app_id != app_id:
            return Rejected("app_id_mismatch")
        timestamp = _timestamp_text(body.get("timestamp"))
        if timestamp is None:
            return Rejected("missing_timestamp")
        wanted = expected_signature(app_id, raw_body, timestamp, oa_secret_key)
        if not hmac.compare_digest(given.encode("ascii"), wanted.encode("ascii")):
            return Rejected("bad_signature")
        stamp = int(timestamp)
        if stamp < now_ms - window_s * 1000:
            return Rejected("stale")
        if stamp > now_ms + window_s * 1000:
            return Rejected("future")
        return Verified(stamp)
    except Exception:  # noqa: BLE001 - the guarantee is "never raises" on hostile input
        return Rejected("malformed_body")


__all__ = ["RejectReason", "Rejected", "Verified", "expected_signature", "verify"]
