"""`GET /metrics`: the Prometheus text exposition of every metric (bot/observability/metrics.py).

Counters and histograms are incremented where things happen; figures that live in the database
(the reminder outbox by state) are read at scrape time through `gauges`, async callables run
before rendering, so they are as fresh as the scrape and cost nothing between scrapes. A gauge
reader that fails is logged (type only) and its gauge keeps its last value: a slow database
must not make the whole scrape fail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.logsafety import describe_exception
from bot.observability.metrics import OUTBOX_ROWS

log = logging.getLogger(__name__)

__all__ = ["Metrics", "outbox_gauge"]

GaugeReader = Callable[[], Awaitable[None]]


def outbox_gauge(status_counts: Callable[[], Awaitable[dict[str, int]]]) -> GaugeReader:
    """A reader setting `bhxh_outbox_rows{state}` from the reminder store's `status_counts`."""

    async def read() -> None:
        counts = await status_counts()
        OUTBOX_ROWS.clear()
        for state, count in counts.items():
            OUTBOX_ROWS.labels(state=state).set(count)

    return read


class Metrics:
    """The `/metrics` route; `gauges` are awaited (each within `timeout`) before each scrape."""

    def __init__(
        self, gauges: Sequence[GaugeReader] = (), *, registry: CollectorRegistry = REGISTRY, timeout: float = 5.0
    ) -> None:
        self._gauges = list(gauges)
        self._registry = registry
        self._timeout = timeout

    def routes(self) -> list[BaseRoute]:
        return [Route("/metrics", self.handle, methods=["GET"])]

    async def _read(self, gauge: GaugeReader) -> None:
        try:
            await asyncio.wait_for(gauge(), self._timeout)
        except Exception as error:  # noqa: BLE001 - the rest of the scrape still matters
            log.warning("metrics: a gauge could not be read: %s", describe_exception(error))

    async def handle(self, request: Request) -> Response:
        await asyncio.gather(*(self._read(gauge) for gauge in self._gauges))
        return Response(
            generate_latest(self._registry), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )
