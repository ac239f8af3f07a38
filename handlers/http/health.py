"""`GET /readyz`: may a load balancer send this instance work? (`/healthz` only says the
process serves.)

Each check is an async callable that returns when its part is usable and raises otherwise;
the server runs them concurrently, each within `timeout`, and answers

    200 {"status": "ready", "checks": {"database": "ok", "telegram": "ok"}}
    503 {"status": "not ready", "failed": ["telegram"], "checks": {..., "telegram": "TimedOut"}}

A failed check is named by its exception's type only (its message may quote a URL or data),
or by the reason a `NotReady` gives.
While the instance is stopping (`Gate.close`), the answer is 503 with `"stopping"`, so the load
balancer stops sending work before the webhooks refuse it.

Checks that cost a request to someone else (Telegram's getMe) are wrapped in `cached`, so a
load balancer probing every second sends Telegram one request per `ttl`, not one per probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from handlers.http.gate import Gate

__all__ = ["Check", "NotReady", "Readiness", "cached"]

Check = Callable[[], Awaitable[None]]


class NotReady(Exception):
    """Raised by a check with a short reason of our own (no data), shown as the check's outcome."""


def cached(check: Check, ttl: float, now: Callable[[], float] = time.monotonic) -> Check:
    """`check`, run at most once per `ttl` seconds: within it, the last outcome (success, or the
    same exception) is given again. Concurrent callers share one run."""
    last: tuple[float, BaseException | None] | None = None
    lock = asyncio.Lock()

    async def run() -> None:
        nonlocal last
        async with lock:
            if last is None or now() - last[0] >= ttl:
                try:
                    await check()
                except Exception as failure:  # noqa: BLE001 - remembered and raised again
                    last = (now(), failure)
                else:
                    last = (now(), None)
            failed = last[1]
        if failed is not None:
            raise failed

    return run


class Readiness:
    """The `/readyz` route over named checks."""

    def __init__(self, checks: Mapping[str, Check], *, gate: Gate | None = None, timeout: float = 3.0) -> None:
        self._checks = dict(checks)
        self._gate = gate
        self._timeout = timeout

    def routes(self) -> list[BaseRoute]:
        return [Route("/readyz", self.handle, methods=["GET"])]

    async def _one(self, check: Check) -> str:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            return "timeout"
        except NotReady as reason:
            return str(reason) or "not ready"
        except Exception as failure:  # noqa: BLE001 - any failure means not ready
            return type(failure).__name__
        return "ok"

    async def results(self) -> dict[str, str]:
        """Every check's outcome: "ok", "timeout" or the exception's type name."""
        names = list(self._checks)
        outcomes = await asyncio.gather(*(self._one(self._checks[name]) for name in names))
        return dict(zip(names, outcomes, strict=True))

    async def handle(self, request: Request) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        if self._gate is not None and not self._gate.open:
            return JSONResponse({"status": "stopping", "failed": ["stopping"], "checks": {}}, 503, headers)
        checks = await self.results()
        failed = [name for name, outcome in checks.items() if outcome != "ok"]
        if failed:
            return JSONResponse({"status": "not ready", "failed": failed, "checks": checks}, 503, headers)
        return JSONResponse({"status": "ready", "checks": checks}, 200, headers)
