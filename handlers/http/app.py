"""Compose the HTTP app from the routes channels contribute, and serve it with uvicorn in-process.

`build_http_app(zalo_routes, file_routes, ...)` gives one Starlette app with `GET /healthz`
added (the readiness check `/readyz` and `/metrics` are route groups too: health.py, metrics.py); `serving(app, host, port)` runs it in the current event loop (next to PTB and the
workers) and yields the bound address, so tests use port 0 and production WEBHOOK_PORT.

uvicorn's access log is off: request paths carry download tokens (handlers/http/files.py), and
nothing that identifies a person may reach a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from handlers.http.gate import Gate, GateMiddleware

log = logging.getLogger(__name__)

__all__ = ["Serving", "build_http_app", "serving"]


async def _healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_http_app(*route_groups: Sequence[BaseRoute], gate: Gate | None = None) -> Starlette:
    """One app serving every group's routes plus `GET /healthz` (200 "ok" while the process
    serves). Raises ValueError when two groups claim the same path and method, so a channel can
    never silently shadow another's route. With a `gate`, every POST answers 503 once it is
    closed (handlers/http/gate.py)."""
    routes: list[BaseRoute] = [Route("/healthz", _healthz, methods=["GET"])]
    seen: set[tuple[str, str]] = {("/healthz", "GET")}
    for group in route_groups:
        for route in group:
            if isinstance(route, Route):
                for method in route.methods or ():
                    key = (route.path, method)
                    if key in seen and method != "HEAD":
                        raise ValueError(f"two routes for {method} {route.path}")
                    seen.add(key)
            routes.append(route)
    middleware = [Middleware(GateMiddleware, gate=gate)] if gate is not None else []
    return Starlette(routes=routes, middleware=middleware)


@dataclass(frozen=True)
class Serving:
    """A running server: where it listens."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@asynccontextmanager
async def serving(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Serving]:
    """Serve `app` on host:port (0: a free port) until the block ends; yields the bound address.

    The socket is bound before uvicorn starts, so the port is known and a port already in use
    fails here with OSError. On exit the server stops accepting, finishes requests in flight
    (up to 5 s) and closes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it about half the answers on a kept-alive
    # connection wait ~40 ms (Nagle meets the client's delayed ACK; bench zalo-webhook).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn would capture SIGINT/SIGTERM: the process owner (bhxh-bot run, pytest) handles
    # signals and stops this server by leaving the block, so leave them alone.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise why it could not start
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        log.info("HTTP server listening on %s:%s", host, bound)
        yield Serving(host, bound)
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            sock.close()
