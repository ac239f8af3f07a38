"""Reading a request body within a cap, for the webhooks (a body is never read past it)."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["TooLarge", "read_capped"]


class TooLarge(Exception):
    """The body is longer than the cap (declared or received)."""


async def read_capped(request: Request, cap: int) -> bytes:
    """The whole body, or TooLarge as soon as the declared length or the bytes received pass
    `cap`: a client cannot make the server buffer more than `cap` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
