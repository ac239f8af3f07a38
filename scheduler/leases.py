"""Who this process is, and how long its claims on shared work last (the outbox, the ledger).

Several instances may share one database (docs/DEPLOY.md). A claim on an outbox row or a
summary run records ``INSTANCE_ID`` and a lease of ``LEASE`` on the injected clock; another
instance's recovery takes a row left in flight only once its lease has ended, so a live
instance's sends are never taken over, and a dead one's are after at most ``LEASE``.

Why 5 minutes: between its claim and the record of its outcome a row waits for its channel's
slot (at most the sender's ``max_wait``: 120 s for Telegram, the longest 429 a round waits
out), then makes one request (Zalo's HTTP timeout is 15 s, Telegram's shorter), then commits.
That is at most ~140 s; twice that leaves room for a loaded machine and a slow database, and a
dead instance's rows wait at most 5 minutes for the next round of another.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

LEASE = timedelta(minutes=5)
INSTANCE_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_until(now: datetime) -> datetime:
    """The end of a lease taken at ``now``."""
    return now + LEASE
