"""A Zalo emulator (OA API v3, OAuth v4, ZNS) and a signed-webhook driver, for tests only.

Start with `ZaloEmulator` (server.py, whose docstring lists what is emulated and the sources).
"""

from .common import (
    HCM,
    Rejection,
    ZaloApiError,
    ZaloLimits,
    compute_signature,
    normalise_phone,
    signature_header,
)
from .driver import EmulatedZaloUser, NoSuchButton, WebhookPost, ZaloWebhookDriver
from .oa import DeliveredMessage, Upload, ZaloButton, ZaloUserState
from .oauth import TokenAuthority, TokenPair, pkce_challenge
from .server import ReceiptDelivery, ZaloEmulator
from .zns import ZnsMessage, ZnsPhone, ZnsTemplate

__all__ = [
    "HCM",
    "DeliveredMessage",
    "EmulatedZaloUser",
    "NoSuchButton",
    "ReceiptDelivery",
    "Rejection",
    "TokenAuthority",
    "TokenPair",
    "Upload",
    "WebhookPost",
    "ZaloApiError",
    "ZaloButton",
    "ZaloEmulator",
    "ZaloLimits",
    "ZaloUserState",
    "ZaloWebhookDriver",
    "ZnsMessage",
    "ZnsPhone",
    "ZnsTemplate",
    "compute_signature",
    "normalise_phone",
    "pkce_challenge",
    "signature_header",
]
