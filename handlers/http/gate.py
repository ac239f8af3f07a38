"""Whether this instance takes new work: closed when it starts stopping.

`bhxh-bot run` closes the gate on SIGTERM/SIGINT before anything stops: from then on webhook
POSTs answer 503 (Telegram and Zalo retry them, and a load balancer sends them to another
instance) and `/readyz` answers 503, while the work already accepted is finished.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Gate", "GateMiddleware"]


class Gate:
    """Open while the instance accepts new work; `close()` is for good (a stopping process)."""

    def __init__(self) -> None:
        self.open = True

    def close(self) -> None:
        self.open = False


class GateMiddleware:
    """ASGI middleware: once the gate is closed, every POST answers 503 without reaching its
    route (nothing is stored); reads (health, metrics, downloads) still work."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and not self.gate.open:
            await send({
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5")],
            })
            await send({"type": "http.response.body", "body": b"stopping"})
            return
        await self.app(scope, receive, send)
