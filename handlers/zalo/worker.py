"""The Zalo worker: drains the inbox, asks the conversation, sends its replies.

The seam to the conversation core is one callable:

    Conversation = Callable[[Incoming], Awaitable[Sequence[Reply]]]

Translation of an inbox event into a neutral `Incoming` (no decisions, only Zalo's meaning):
- `user_send_text` with the `#a:<payload>` our buttons carry → `Press(payload)`;
- "/name args…" (name of ASCII letters, digits, underscores) → `Command(name.lower(), args)`;
- other text → `Text`;
- `user_submit_info` → `PhoneShared` only when the submission is the sender's own (the form
  Zalo shows fills in the person's own Zalo number, and the event's sender is the user the
  event is about) and the phone is a Vietnamese mobile; a submission about someone else →
  `ForeignContact` (never linked); an own one without a usable phone → `Unsupported("contact")`.
  A typed number is always `Text`: flows never link a person by it;
- `follow` → `Command("start")`, as pressing Start opens a Telegram bot: the person is
  greeted like any newcomer;
- `unfollow`, delivery receipts → no conversation: the inbox row records them (done), and
  the optional `on_event` hook sees them (every parsed event goes to it first: follower
  records, ZNS receipt reconciliation);
- images, stickers, files… → `Unsupported(<kind>)` so the flow can answer.

Guarantees:
- each event is claimed under a lease (default 2 min); one person's events are handled one at
  a time, oldest first, across any number of workers and restarts (storage/inbox.py);
- a conversation (or `on_event`) that raises is retried after `retry_backoff` up to `max_attempts` claims,
  then the event is marked failed; the log names the exception type and place, never its
  message or the event's content (personal data);
- replies are sent once: after the conversation answered, the event is done whatever Zalo
  said (a refusal is recorded as its error class), so no reply is ever sent twice;
- a worker killed mid-event leaves a lease that expires; the next claim takes it over.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from bot.chat.model import (
    ZALO_OA,
    Command,
    ForeignContact,
    Incoming,
    Person,
    PhoneShared,
    Press,
    Reply,
    Text,
    Unsupported,
)
from bot.domain.clock import Clock
from bot.domain.inbox import InboxEvent, InboxStore
from bot.logsafety import describe_exception
from bot.observability.metrics import REPLY_SECONDS, UPDATES

from . import events as zevents
from .render import ZaloRenderer
from .webhook import CHANNEL

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "Conversation", "ZaloWorker", "to_incoming"]

Conversation = Callable[[Incoming], Awaitable[Sequence[Reply]]]

# The people the worker hands to the core are of the channel the core, its tables and the
# scheduler's senders know ("zalo_oa", bot.chat.model.ZALO_OA); CHANNEL ("zalo") names the inbox.
PERSON_CHANNEL = ZALO_OA.name

_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:\s+(.*))?$", re.DOTALL)
_UNSUPPORTED_KIND = {
    "user_send_image": "image",
    "user_send_sticker": "sticker",
    "user_send_file": "document",
    "user_send_gif": "animation",
    "user_send_audio": "voice",
    "user_send_video": "video",
    "user_send_location": "location",
    "user_send_link": "link",
    "user_send_business_card": "contact",
}


def _own_submission(event: zevents.SubmitInfo, raw: dict[str, object]) -> bool:
    """The sender is the person the event is about: `user_id_by_app`, when present, names the
    same user as `sender.id`."""
    about = raw.get("user_id_by_app")
    return about is None or str(about) == event.sender_id


def to_incoming(event: zevents.Event, raw: dict[str, object] | None = None) -> Incoming | None:
    """The neutral event for a parsed Zalo event, or None when no conversation is involved."""
    if isinstance(event, zevents.TextMessage):
        person = Person(PERSON_CHANNEL, event.sender_id)
        action = event.action_id
        if action is not None:
            return Press(person, action)
        match = _COMMAND_RE.match(event.text.strip())
        if match is not None:
            return Command(person, match.group(1).lower(), tuple((match.group(2) or "").split()))
        return Text(person, event.text)
    if isinstance(event, zevents.SubmitInfo):
        person = Person(PERSON_CHANNEL, event.sender_id)
        if not _own_submission(event, raw or {}):
            return ForeignContact(person)
        if event.phone is not None:
            return PhoneShared(person, event.phone)
        return Unsupported(person, "contact")
    if isinstance(event, zevents.Follow):
        return Command(Person(PERSON_CHANNEL, event.sender_id), "start")
    if isinstance(event, zevents.Unsupported):
        return Unsupported(Person(PERSON_CHANNEL, event.sender_id), _UNSUPPORTED_KIND.get(event.event_name, "other"))
    return None


class ZaloWorker:
    """Handles inbox events of the Zalo channel; run `start()`/`stop()` around the bot's life,
    or `drain()` to handle what is due now (tests, a one-off catch-up)."""

    def __init__(
        self,
        inbox: InboxStore,
        conversation: Conversation,
        renderer: ZaloRenderer,
        clock: Clock,
        *,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 3,
        retry_backoff: timedelta = timedelta(seconds=30),
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        on_event: Callable[[zevents.Event], Awaitable[None]] | None = None,
    ) -> None:
        if max_attempts < 1 or concurrency < 1 or lease <= timedelta(0):
            raise ValueError("max_attempts and concurrency must be >= 1, lease positive")
        self._inbox = inbox
        self._conversation = conversation
        self._renderer = renderer
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff = retry_backoff
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._on_event = on_event
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.handled = 0  # events finished by this worker (done or failed), for logs and tests

    def wake(self) -> None:
        """A new event is in the inbox (the webhook calls this): stop waiting for the next poll."""
        self._wake.set()

    async def run_once(self) -> bool:
        """Claim and handle one due event; False when none is claimable now."""
        event = await self._inbox.claim(CHANNEL, self._clock.now(), self._lease, self._max_attempts)
        if event is None:
            return False
        await self._handle(event)
        return True

    async def drain(self) -> int:
        """Handle events until none is claimable now; returns how many were handled."""
        count = 0
        while await self.run_once():
            count += 1
        return count

    async def start(self) -> None:
        """Start `concurrency` loops in the running event loop."""
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._loop(), name=f"zalo-worker-{n}") for n in range(self._concurrency)]

    async def stop(self) -> None:
        """Stop the loops. An event being handled is abandoned mid-way; its lease expires and the
        next worker takes it over (the same path as a crash)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive a storage hiccup
                log.error("Zalo worker: claim failed: %s", describe_exception(error))
                busy = False
            if busy:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._poll)
            except TimeoutError:
                pass

    async def _handle(self, item: InboxEvent) -> None:
        started = time.perf_counter()
        raw = (item.payload or "").encode("utf-8")
        event = zevents.parse_event(raw)
        if event is None:
            await self._inbox.fail(item, self._clock.now(), "unreadable payload")
            self.handled += 1
            return
        try:
            body = json.loads(raw)
        except ValueError:  # pragma: no cover - parse_event already read it
            body = {}
        incoming = to_incoming(event, body if isinstance(body, dict) else {})
        try:
            if self._on_event is not None:
                await self._on_event(event)
            if incoming is None:
                await self._inbox.complete(item, self._clock.now())
                UPDATES.labels(ZALO_OA.name, "ignored").inc()
                self.handled += 1
                return
            replies = await self._conversation(incoming)
        except Exception as raised:  # noqa: BLE001 - one bad event must not stop the channel
            log.error(
                "Zalo worker: handling failed on %s (attempt %s of %s): %s",
                item.kind, item.attempts, self._max_attempts, describe_exception(raised),
            )
            UPDATES.labels(ZALO_OA.name, "error").inc()
            now = self._clock.now()
            if item.attempts >= self._max_attempts:
                await self._inbox.fail(item, now, f"handling raised {type(raised).__name__}")
                self.handled += 1
            else:
                await self._inbox.retry_later(item, now, now + self._backoff, f"handling raised {type(raised).__name__}")
            return
        reply_to = event.msg_id if isinstance(event, zevents.TextMessage) else None
        try:
            rendered = await self._renderer.send(incoming.person.id, replies, reply_to)
        except Exception as failure:  # noqa: BLE001 - never resend: record and move on
            log.error("Zalo worker: sending the replies failed: %s", describe_exception(failure))
            error: str | None = f"render raised {type(failure).__name__}"
        else:
            error = None if rendered.error is None else f"{rendered.error.cls.value}: {rendered.error.reason}"
        await self._inbox.complete(item, self._clock.now(), error)
        REPLY_SECONDS.labels(ZALO_OA.name).observe(time.perf_counter() - started)
        UPDATES.labels(ZALO_OA.name, "answered" if replies else "silent").inc()
        self.handled += 1
