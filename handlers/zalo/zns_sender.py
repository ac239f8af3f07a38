"""ZNS for the reminder outbox: the `scheduler.zns.ZnsPort` over `ZNSClient`, and the Zalo
events the reminders need (delivery receipts, followers) turned into outbox writes.

`ZnsSender.send` maps every answer to one `bot.domain.zns` outcome (the scheduler knows no
Zalo code), by the classes of handlers/zalo/errors.py:
- accepted -> `ZnsAccepted` with the quota Zalo reported;
- −133 (night) -> NIGHT; −144/−147 (daily limits) -> DAILY_LIMIT; other STOP_QUEUE -> STOP_QUEUE;
- RETRY_LATER, and REFRESH_TOKEN (a fresh token refused again) -> RETRY_LATER: nothing was sent;
- NEVER_RETRY (and OUTSIDE_WINDOW, which ZNS does not answer) -> NEVER_RETRY; −139/−141 mark
  the person as having refused the OA;
- UNKNOWN_OUTCOME -> UNKNOWN: never resent automatically (the receipt settles it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.chat.model import ZALO_OA
from bot.domain.clock import Clock
from bot.domain.reminders import Hours
from bot.domain.zns import ZnsAccepted, ZnsAction, ZnsFailed, ZnsOutcome, ZnsTemplates
from bot.observability.metrics import RATE_LIMITED, SENDS, ZNS_QUOTA_PAUSES
from bot.settings import Settings
from handlers.pacing import SendPacer, SharedPace
from scheduler.zns import ZnsQueue

from . import events as zevents
from .channel import ZaloChannel
from .errors import ZNS_DAILY_LIMIT_CODES, ErrorClass
from .zns_client import ZNSClient, ZnsSent

log = logging.getLogger(__name__)

__all__ = ["NIGHT_CODE", "REFUSED_BY_USER", "ReminderEvents", "ZnsSender", "zns_outcome", "zns_queue"]

NIGHT_CODE = -133
REFUSED_BY_USER = frozenset({-139, -141})
ZNS_CHANNEL = "zns"  # the metrics' channel label of paid template sends


def zns_outcome(answer: object) -> ZnsOutcome:
    """The outbox's meaning of one `ZNSClient.send_template` answer (see module docstring)."""
    if isinstance(answer, ZnsSent):
        return ZnsAccepted(answer.msg_id, answer.remaining_quota, answer.daily_quota)
    code = getattr(answer, "code", 0)
    cls = getattr(answer, "cls", ErrorClass.UNKNOWN_OUTCOME)
    reason = str(getattr(answer, "reason", "no answer"))
    if cls is ErrorClass.UNKNOWN_OUTCOME:
        action = ZnsAction.UNKNOWN
    elif code == NIGHT_CODE:
        action = ZnsAction.NIGHT
    elif code in ZNS_DAILY_LIMIT_CODES:
        action = ZnsAction.DAILY_LIMIT
    elif cls is ErrorClass.STOP_QUEUE:
        action = ZnsAction.STOP_QUEUE
    elif cls in (ErrorClass.RETRY_LATER, ErrorClass.REFRESH_TOKEN):
        action = ZnsAction.RETRY_LATER
    else:
        action = ZnsAction.NEVER_RETRY
    return ZnsFailed(action, code, reason, refused_by_user=code in REFUSED_BY_USER)


class ZnsSender:
    """`scheduler.zns.ZnsPort` over a `ZNSClient`."""

    def __init__(self, client: ZNSClient) -> None:
        self._client = client

    async def send(self, phone: str, template_id: str, data: dict[str, str], tracking_id: str) -> ZnsOutcome:
        outcome = zns_outcome(await self._client.send_template(phone, template_id, data, tracking_id))
        count_outcome(outcome)
        return outcome


def count_outcome(outcome: ZnsOutcome) -> None:
    """bhxh_sends_total{channel="zns"} by result, and a quota pause when Zalo says the day's
    quota is used up (an error, or an accepted send that leaves none)."""
    if isinstance(outcome, ZnsAccepted):
        SENDS.labels(ZNS_CHANNEL, "accepted").inc()
        if outcome.remaining_quota == 0:
            ZNS_QUOTA_PAUSES.inc()
        return
    SENDS.labels(ZNS_CHANNEL, outcome.action.value).inc()
    if outcome.action is ZnsAction.DAILY_LIMIT:
        ZNS_QUOTA_PAUSES.inc()
        RATE_LIMITED.labels(ZNS_CHANNEL).inc()


class ReminderLedger(Protocol):
    """The outbox writes the events make (storage.contract.ReminderStore provides them)."""

    async def reconcile_receipt(
        self, tracking: str | None, msg_id: str | None, delivered_at: datetime, cost: int
    ) -> bool: ...

    async def record_follower(self, user_id: int, following: bool, at: datetime) -> None: ...

    async def record_interaction(self, user_id: int, at: datetime) -> None: ...


Identify = Callable[[str, str, datetime], Awaitable[int]]  # (channel, Zalo id, at) -> our user id


class ReminderEvents:
    """The worker's `on_event` hook for reminders: a ZNS receipt settles its outbox row
    ('delivered', also an 'unknown' one); follow, unfollow and every message keep the
    follower table the channel choice reads (who the OA may write to for free)."""

    def __init__(self, ledger: ReminderLedger, identify: Identify, clock: Clock, price: int) -> None:
        self._ledger = ledger
        self._identify = identify
        self._clock = clock
        self._price = price

    async def __call__(self, event: zevents.Event) -> None:
        if isinstance(event, zevents.ZnsReceipt):
            delivered = datetime.fromtimestamp(event.delivery_time / 1000, UTC) if event.delivery_time else self._clock.now()
            if not await self._ledger.reconcile_receipt(event.tracking_id, event.msg_id, delivered, self._price):
                log.info("zns receipt for no open outbox row (repeated, or not ours)")
            return
        sender = getattr(event, "sender_id", None)
        if not isinstance(sender, str) or not sender:
            return
        if isinstance(event, (zevents.Follow, zevents.Unfollow, zevents.TextMessage, zevents.SubmitInfo)):
            at = self._clock.now()
            user_id = await self._identify(ZALO_OA.name, sender, at)
            if isinstance(event, zevents.Follow):
                await self._ledger.record_follower(user_id, True, at)
            elif isinstance(event, zevents.Unfollow):
                await self._ledger.record_follower(user_id, False, at)
            else:
                await self._ledger.record_interaction(user_id, at)


def zns_queue(
    channel: ZaloChannel,
    settings: Settings,
    templates: ZnsTemplates,
    hours: Hours,
    shared: SharedPace | None = None,
) -> ZnsQueue:
    """The ZNS queue of a running Zalo channel (its HTTP client and token manager), for
    ``SchedulerRunner.zns``: the reminder rounds then send ZNS when ``ZNS_ENABLED`` is on, at
    most ``ZNS_MAX_PER_SECOND`` (with every instance on ``shared``'s database together)."""
    pacer = SendPacer(settings.zns_max_per_second, ZNS_CHANNEL)
    if shared is not None:
        pacer.share(shared)
    client = ZNSClient(channel.http, settings.zalo_zns_base_url, channel.tokens, pacer=pacer)
    return ZnsQueue(ZnsSender(client), templates, hours, settings.zns_concurrency)
