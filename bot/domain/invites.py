"""Invite codes: random, unambiguous to read aloud or retype, stored only as a hash.

An official reads a code to a collector over the phone or writes it on paper, so the alphabet
leaves out look-alikes (0, O, 1, I, L) and the code is shown in two groups of five. Ten symbols of
a 31-letter alphabet give about 49 bits: with single use, expiry and a throttle on failed
attempts, guessing is hopeless. Only the SHA-256 of the normalised code is stored, so a leaked
database holds no usable code.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
GROUP = 5
MAX_TYPED = 64


def new_code() -> str:
    """A fresh random code from `secrets` (never `random`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display(code: str) -> str:
    """ABCDEFGHJK -> ABCDE-FGHJK: easier to read aloud and to copy."""
    return f"{code[:GROUP]}-{code[GROUP:]}"


def normalize(typed: str) -> str | None:
    """The code a person typed, uppercased without spaces, dashes or dots; None if impossible.

    A code can only contain alphabet symbols; anything else (letters outside it, emoji, a
    10.000-character message) is not a code, and is answered like any wrong code.
    """
    if not isinstance(typed, str) or len(typed) > MAX_TYPED:
        return None
    text = unicodedata.normalize("NFKC", typed).upper()
    text = "".join(ch for ch in text if ch not in " -._\u00a0\t")
    if len(text) != CODE_LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def code_hash(code: str) -> str:
    """SHA-256 hex of a normalised code: what the database keeps."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()
