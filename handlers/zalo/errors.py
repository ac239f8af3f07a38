"""Every Zalo error code the project knows, mapped to what the sender should do about it.

One table per API because codes collide: −118 from the OAuth token endpoint means "the refresh
token is dead" while −118 from ZNS means "this phone has no Zalo account". Codes are kept raw
(int) on every result; the class decides the action:

- RETRY_LATER: nothing was sent; the same request may be sent again later (transient, night
  window, rate limit, connection refused before the request was written).
- NEVER_RETRY: nothing was sent and sending this row again cannot succeed (bad data, the person
  refused or has no Zalo account); keep the reason on the row, maybe fall back to SMS/agent.
- STOP_QUEUE: nothing was sent and no other row will succeed either until a person acts or
  the day changes (wallet empty, daily quota, OA not verified, template disabled, scope
  missing, re-authorisation needed). Pause the queue, keep the backlog, tell the admins.
- REFRESH_TOKEN: the access token was refused; refresh it (single-flight) and send again once.
- OUTSIDE_WINDOW: the person is outside the OA's interaction window; an OA message cannot
  reach them now (ZNS may, or wait until they write again).
- UNKNOWN_OUTCOME: the request was written but no usable answer came back (read timeout,
  connection dropped, gateway 5xx): Zalo may have delivered it. Never resend automatically;
  reconcile from the delivery receipt or by an operator.

Sources ([Zn] keys of the research brief ZALO.md §8): OA [Z18 goclaw errors.go, Z19, Z26],
OAuth [Z18, Z19 token_source.go], ZNS [Z29 zalo.cloud handle-error-code + the Odoo copy of the
full table], the rate-limit code is the emulator's GUESS (Zalo publishes none).
Codes not in the tables classify as NEVER_RETRY: Zalo refused the request (so resending is no
duplicate risk), but an unmapped refusal must reach a person, not loop.
"""

from __future__ import annotations

from enum import Enum


class ErrorClass(str, Enum):
    """What a sender does with a failed call (see the module docstring)."""

    RETRY_LATER = "retry_later"
    NEVER_RETRY = "never_retry"
    STOP_QUEUE = "stop_queue"
    REFRESH_TOKEN = "refresh_token"
    OUTSIDE_WINDOW = "outside_window"
    UNKNOWN_OUTCOME = "unknown_outcome"


class Api(str, Enum):
    """Which Zalo API answered: codes mean different things on each."""

    OA = "oa"
    ZNS = "zns"
    OAUTH = "oauth"


# ---- OA API v3 (openapi.zalo.me): message/cs and uploads ------------------------------------
OA_CODES: dict[int, tuple[ErrorClass, str]] = {
    -216: (ErrorClass.REFRESH_TOKEN, "access token invalid or expired"),  # [Z18]
    216: (ErrorClass.REFRESH_TOKEN, "access token invalid"),  # [Z18] (unsigned variant)
    -401: (ErrorClass.REFRESH_TOKEN, "access token invalid"),  # [Z18]
    401: (ErrorClass.REFRESH_TOKEN, "access token invalid"),  # [Z18]
    -201: (ErrorClass.NEVER_RETRY, "payload shape or parameter invalid"),  # [Z18]
    -210: (ErrorClass.NEVER_RETRY, "size exceeded (attachment, or text over 2000 chars)"),  # [Z18][Z19]
    -213: (ErrorClass.OUTSIDE_WINDOW, "outside the 48 h reply window, no proactive quota"),  # [Z26]
    -230: (ErrorClass.OUTSIDE_WINDOW, "user has not interacted in the past 7 days"),  # [Z26]
    210: (ErrorClass.NEVER_RETRY, "user not visible to this OA"),  # [Z18]
    289: (ErrorClass.STOP_QUEUE, "app lacks the permission scope for this call"),  # [Z18]
    -14003: (ErrorClass.STOP_QUEUE, "redirect_uri mismatch (app configuration)"),  # [Z18]
    12007: (ErrorClass.OUTSIDE_WINDOW, "interaction window closed"),  # [Z18]
    12008: (ErrorClass.OUTSIDE_WINDOW, "per-user message quota used up"),  # [Z18]
    12009: (ErrorClass.OUTSIDE_WINDOW, "per-user interaction quota used up"),  # [Z18]
    12000: (ErrorClass.STOP_QUEUE, "app/OA quota exceeded"),  # [Z18]
    12002: (ErrorClass.STOP_QUEUE, "app/OA quota exceeded"),  # [Z18]
    12003: (ErrorClass.STOP_QUEUE, "app/OA quota exceeded"),  # [Z18]
    12004: (ErrorClass.STOP_QUEUE, "app/OA quota exceeded"),  # [Z18]
    12010: (ErrorClass.STOP_QUEUE, "app/OA quota exceeded"),  # [Z18]
    10000: (ErrorClass.RETRY_LATER, "transient Zalo error"),  # [Z18]
    10002: (ErrorClass.RETRY_LATER, "transient Zalo error"),  # [Z18]
    -32: (ErrorClass.RETRY_LATER, "rate limit exceeded"),  # GUESS (emulator common.py)
}

# ---- OAuth v4 (oauth.zaloapp.com): /v4/oa/access_token ----------------------------------------
# Every refusal of the token endpoint is STOP_QUEUE: a retry with the same refresh token cannot
# cure it (a refresh token works once), so the TokenManager enters "re-authorisation needed".
# Only the transient codes (RETRY_LATER) leave the refresh token alone for a later attempt.
OAUTH_CODES: dict[int, tuple[ErrorClass, str]] = {
    10000: (ErrorClass.RETRY_LATER, "transient Zalo error"),  # [Z18] (OA); GUESS the same here
    10002: (ErrorClass.RETRY_LATER, "transient Zalo error"),  # [Z18] (OA); GUESS the same here
    -32: (ErrorClass.RETRY_LATER, "rate limit exceeded"),  # GUESS (emulator common.py)
    -118: (ErrorClass.STOP_QUEUE, "refresh token invalid, expired or revoked"),  # [Z18][Z19 token_source.go]
    -14014: (ErrorClass.STOP_QUEUE, "refresh token already used or dead"),  # [Z18][Z19]
    -14001: (ErrorClass.STOP_QUEUE, "app id or app secret invalid"),  # GUESS (emulator oauth.py)
    -14002: (ErrorClass.STOP_QUEUE, "token request parameters invalid"),  # GUESS (emulator)
    -14003: (ErrorClass.STOP_QUEUE, "redirect_uri mismatch"),  # [Z18]
    -14019: (ErrorClass.STOP_QUEUE, "authorization code invalid or PKCE mismatch"),  # GUESS (emulator)
}

# ---- ZNS (business.openapi.zalo.me): /message/template -------------------------------------
ZNS_CODES: dict[int, tuple[ErrorClass, str]] = {
    -108: (ErrorClass.NEVER_RETRY, "phone number invalid"),  # [Z29]
    # Template id/approval/quality problems hit every row of the template: stopping the queue
    # keeps the backlog instead of failing each row for a configuration fault. (ZALO.md lists
    # −109/−131 as "permanent"; per row that is true, for the queue it is a stop.)
    -109: (ErrorClass.STOP_QUEUE, "template id invalid"),  # [Z29]
    -112: (ErrorClass.NEVER_RETRY, "template data invalid"),  # [Z29]
    -114: (ErrorClass.NEVER_RETRY, "user inactive, refused, or on an old app"),  # [Z29]
    -115: (ErrorClass.STOP_QUEUE, "ZCA wallet out of funds"),  # [Z29]
    -118: (ErrorClass.NEVER_RETRY, "no Zalo account for this phone, or disabled"),  # [Z29]
    -124: (ErrorClass.REFRESH_TOKEN, "access token invalid"),  # [Z29]
    -126: (ErrorClass.STOP_QUEUE, "development-mode wallet out of funds"),  # [Z29][Z21]
    -127: (ErrorClass.NEVER_RETRY, "development mode sends only to OA/app admins"),  # [Z29][Z21]
    -131: (ErrorClass.STOP_QUEUE, "template not approved"),  # [Z29]
    -133: (ErrorClass.RETRY_LATER, "template may not be sent at night (22:00-06:00)"),  # [Z29]
    -134: (ErrorClass.NEVER_RETRY, "user has not answered the ZNS opt-in prompt"),  # [Z29]
    -135: (ErrorClass.STOP_QUEUE, "OA not verified or on the free plan"),  # [Z29]
    -137: (ErrorClass.STOP_QUEUE, "ZCA wallet problem (unfunded)"),  # ZALO.md §3 preconditions [Z33]
    -139: (ErrorClass.NEVER_RETRY, "user refused this message type"),  # [Z29]
    -141: (ErrorClass.NEVER_RETRY, "user refused messages from this OA"),  # [Z29]
    -144: (ErrorClass.STOP_QUEUE, "OA daily ZNS quota reached"),  # [Z29][Z30]
    -146: (ErrorClass.STOP_QUEUE, "template disabled for low quality"),  # [Z29][Z30]
    -147: (ErrorClass.STOP_QUEUE, "template daily quota reached"),  # [Z29][Z30]
    -32: (ErrorClass.RETRY_LATER, "rate limit exceeded"),  # GUESS (emulator common.py)
}

_TABLES: dict[Api, dict[int, tuple[ErrorClass, str]]] = {
    Api.OA: OA_CODES,
    Api.ZNS: ZNS_CODES,
    Api.OAUTH: OAUTH_CODES,
}

#: ZNS codes after which the queue waits for the next local day rather than for a person.
ZNS_DAILY_LIMIT_CODES = frozenset({-144, -147})


def classify(api: Api, code: int) -> tuple[ErrorClass, str]:
    """The class and a short English reason for Zalo error `code` answered by `api`.

    Never raises; an unmapped code is NEVER_RETRY with the code in the reason (see module
    docstring for why)."""
    known = _TABLES[api].get(code)
    if known is not None:
        return known
    return ErrorClass.NEVER_RETRY, f"unmapped Zalo {api.value} error {code}"


def classify_http_status(status: int) -> tuple[ErrorClass, str]:
    """A non-200 HTTP answer (Zalo answers its own errors with HTTP 200).

    429/503 say the request was not processed: RETRY_LATER. Other 5xx (500, 502, 504) come from
    a gateway that may have passed the request on: UNKNOWN_OUTCOME. Other 4xx: NEVER_RETRY."""
    if status in (429, 503):
        return ErrorClass.RETRY_LATER, f"HTTP {status}: not processed, try later"
    if status >= 500:
        return ErrorClass.UNKNOWN_OUTCOME, f"HTTP {status}: Zalo may have processed the request"
    return ErrorClass.NEVER_RETRY, f"HTTP {status}"


__all__ = [
    "OAUTH_CODES",
    "OA_CODES",
    "ZNS_CODES",
    "ZNS_DAILY_LIMIT_CODES",
    "Api",
    "ErrorClass",
    "classify",
    "classify_http_status",
]
