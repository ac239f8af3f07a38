"""Short-lived signed download links for files a channel refuses (XLSX and CSV on Zalo).

`FileLinks.store(file)` writes the bytes under a random id in a directory of the data folder and
returns `PUBLIC_BASE_URL/files/<token>`, where

    token = <id>.<expires, unix seconds>.<HMAC-SHA256(key, "<id>.<expires>"), base64url>

`GET /files/<token>` serves the file with its content type and a Content-Disposition carrying
its name, while the link is valid. Guarantees:
- a token whose signature does not match (forged, altered expiry, other id) answers 403, an
  expired one 404, both with a short Vietnamese text (bot/chat/texts/channels.py) and nothing
  about the file: no name, no size, no hint whether the id exists;
- the expiry is part of the signed text, so it cannot be extended; time comes from the
  injected clock;
- the id is 128 random bits in a fixed alphabet and is checked before any path is built, so
  no token can reach outside the directory;
- the key is 32 random bytes made on first use in `<directory>/.link-key` (mode 600) unless
  given, so links survive a restart and nobody but the bot can mint them;
- `purge_expired` deletes files whose links expired (the scheduler or the worker calls it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.chat.model import File
from bot.chat.texts.channels import FILE_LINK_EXPIRED, FILE_LINK_INVALID
from bot.domain.clock import Clock

log = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPES", "DEFAULT_TTL", "FileLinks"]

DEFAULT_TTL = timedelta(hours=24)
CONTENT_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "png": "image/png",
}
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
_TOKEN_RE = re.compile(r"^([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
_KEY_FILE = ".link-key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _disposition(name: str) -> str:
    """attachment; an ASCII fallback name and the real (Vietnamese) one per RFC 6266/5987."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class FileLinks:
    """Stores files for download and serves them by signed, expiring token."""

    def __init__(
        self,
        directory: Path,
        public_base_url: str,
        clock: Clock,
        *,
        ttl: timedelta = DEFAULT_TTL,
        key: bytes | None = None,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        self.directory = Path(directory)
        self.public_base_url = public_base_url.rstrip("/")
        self.ttl = ttl
        self._clock = clock
        self._key = key

    # ---- signing --------------------------------------------------------------------------

    def _signing_key(self) -> bytes:
        if self._key is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / _KEY_FILE
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                self._key = path.read_bytes()
            else:
                key = secrets.token_bytes(32)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(key)
                self._key = key
            if len(self._key) < 32:
                raise RuntimeError(f"{path} holds a key shorter than 32 bytes")
        return self._key

    def _signature(self, file_id: str, expires: int) -> str:
        digest = hmac.new(self._signing_key(), f"{file_id}.{expires}".encode("ascii"), hashlib.sha256).digest()
        return _b64(digest)

    def _token(self, file_id: str, expires: int) -> str:
        return f"{file_id}.{expires}.{self._signature(file_id, expires)}"

    # ---- storing --------------------------------------------------------------------------

    def _write(self, file_id: str, file: File, expires: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{file_id}.bin").write_bytes(file.content)
        meta = {"name": file.name, "kind": file.kind, "expires": expires}
        (self.directory / f"{file_id}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    async def store(self, file: File) -> str:
        """Keep `file` for `ttl` and return its download URL (valid until then)."""
        file_id = _b64(secrets.token_bytes(16))
        expires = int((self._clock.now() + self.ttl).timestamp())
        await asyncio.to_thread(self._write, file_id, file, expires)
        return f"{self.public_base_url}/files/{self._token(file_id, expires)}"

    async def purge_expired(self) -> int:
        """Delete the files whose links have expired; returns how many were deleted."""
        return await asyncio.to_thread(self._purge, int(self._clock.now().timestamp()))

    def _purge(self, now: int) -> int:
        removed = 0
        if not self.directory.is_dir():
            return 0
        for meta_path in self.directory.glob("*.json"):
            try:
                expires = int(json.loads(meta_path.read_text(encoding="utf-8"))["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if expires <= now:
                meta_path.with_suffix(".bin").unlink(missing_ok=True)
                meta_path.unlink(missing_ok=True)
                removed += 1
        return removed

    # ---- serving --------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """`GET /files/{token}` for build_http_app."""
        return [Route("/files/{token}", self._serve, methods=["GET"])]

    def _read(self, file_id: str) -> tuple[bytes, dict[str, object]] | None:
        try:
            meta = json.loads((self.directory / f"{file_id}.json").read_text(encoding="utf-8"))
            return (self.directory / f"{file_id}.bin").read_bytes(), meta
        except (OSError, ValueError):
            return None

    async def _serve(self, request: Request) -> Response:
        token = str(request.path_params.get("token", ""))
        match = _TOKEN_RE.match(token)
        if match is None:
            return _refuse(403, FILE_LINK_INVALID)
        file_id, expires_text, signature = match.groups()
        expires = int(expires_text)
        if not _ID_RE.match(file_id) or not hmac.compare_digest(signature, self._signature(file_id, expires)):
            log.info("download refused: bad signature")
            return _refuse(403, FILE_LINK_INVALID)
        if self._clock.now().timestamp() >= expires:
            return _refuse(404, FILE_LINK_EXPIRED)
        found = await asyncio.to_thread(self._read, file_id)
        if found is None:
            return _refuse(404, FILE_LINK_EXPIRED)  # purged: to the person it has simply expired
        content, meta = found
        name, kind = str(meta.get("name", "file")), str(meta.get("kind", ""))
        return Response(
            content,
            media_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
            headers={
                "Content-Disposition": _disposition(name),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


def _refuse(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status, headers={"Cache-Control": "no-store"})
