"""Inbound webhook events waiting to be handled: the value a worker claims, and the store's contract.

A webhook channel (Zalo OA) answers the sender at once and leaves the work to a worker, so an
event must survive a crash between "answered 200" and "replied to the person". The store keeps
each event once per (channel, event_key), hands it to one worker at a time under a lease, and
keeps one person's events in order. `storage/inbox.py` is the SQLite implementation; channel
adapters depend only on `InboxStore`, never on storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

__all__ = ["InboxEvent", "InboxStore"]


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One claimed event. `payload` is the body as received and may hold personal data (a
    submitted phone number), so it is left out of repr(): a logged event never shows it.
    `lease_token` proves the claim: finishing with a stale token (the lease was taken over)
    changes nothing."""

    id: int
    channel: str
    event_key: str
    person_id: str | None
    kind: str
    payload: str = field(repr=False)
    attempts: int
    lease_token: str = field(repr=False)
    received_at: datetime


class InboxStore(Protocol):
    """Where accepted events wait. Times are aware datetimes from the caller's clock."""

    async def add(
        self, channel: str, event_key: str, person_id: str | None, kind: str, payload: str, now: datetime
    ) -> bool:
        """Store the event unless (channel, event_key) is already there; True when stored now."""
        ...

    async def claim(
        self, channel: str, now: datetime, lease: timedelta, max_attempts: int
    ) -> InboxEvent | None:
        """The oldest claimable event: pending (and due), or working with an expired lease, and
        the oldest unfinished one of its person. An expired row already tried `max_attempts`
        times is marked failed instead of handed out."""
        ...

    async def complete(self, event: InboxEvent, now: datetime, error: str | None = None) -> bool:
        """Mark done (clearing the payload); False when the lease was lost to another worker."""
        ...

    async def retry_later(self, event: InboxEvent, now: datetime, not_before: datetime, error: str) -> bool:
        """Give the event back as pending, claimable from `not_before`; False if the lease was lost."""
        ...

    async def fail(self, event: InboxEvent, now: datetime, error: str) -> bool:
        """Mark failed for good (kept for an operator); False if the lease was lost."""
        ...

    async def purge_handled(self, before: datetime) -> int:
        """Delete done and failed events handled before `before`; returns how many."""
        ...
