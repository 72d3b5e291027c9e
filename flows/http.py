"""HTTP helpers every client shares: how long a server asked us to wait, URLs safe to show, and
answers read whole within a wall-clock deadline and a size limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds (>= 0) a server asked us to wait before trying again, or None when it did not say.

    Reads `retry-after-ms` (milliseconds; OpenAI and its compatible servers send it) first, then
    `Retry-After` as delay-seconds or an HTTP-date (RFC 9110, section 10.2.3). Unreadable values
    count as not said.
    """
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = (headers.get("retry-after") or "").strip()
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def safe_url(url: str) -> str:
    """`url` without user:password, query or fragment: the parts where credentials may hide
    (for logs, errors and run.json)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Fetched:
    """A whole HTTP answer read within a deadline: the (closed) response for its status, headers
    and URL, and its body as decoded bytes (after Content-Encoding)."""

    response: httpx.Response
    content: bytes

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.content.decode(self.response.encoding or "utf-8", errors="replace")

    def whole(self) -> httpx.Response:
        """The answer as an ordinary, fully read httpx.Response (its body already decoded, so the
        headers that described the encoding on the wire are left out)."""
        headers = [(k, v) for k, v in self.response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(self.response.status_code, headers=headers, content=self.content,
                              request=self.response.request)


def fetch_within(client: httpx.Client, request: httpx.Request, *, deadline: float,
                 max_bytes: int | None = None, what: str, stop: threading.Event | None = None) -> Fetched:
    """Sends `request` and reads its whole body within `deadline` seconds of wall-clock time.

    httpx's timeouts are per read: a server that drips a byte every few seconds never trips them,
    so the clock is checked after every chunk. With `max_bytes`, a Content-Length over the limit
    is refused before the body is read, and the body is counted after decompression (a small
    gzip that inflates to gigabytes stops at the limit). Once `stop` is set, reading ends at the
    next chunk with Stopped. Raises DeadlineExceeded, BodyTooLarge or Stopped (each names `what`,
    never a URL's credentials) and httpx.HTTPError for transport failures.
    """
    began = time.monotonic()
    response = client.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
            raise BodyTooLarge(f"{what}: the answer declares {int(declared):,} bytes, more than the limit of "
                               f"{max_bytes:,}")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise BodyTooLarge(f"{what}: the answer exceeds the limit of {max_bytes:,} bytes")
            if time.monotonic() - began > deadline:
                raise DeadlineExceeded(f"{what}: no complete answer within {deadline:g} s")
            if stop is not None and stop.is_set():
                raise Stopped(f"{what}: not read to the end, the run is stopping")
            chunks.append(chunk)
    finally:
        response.close()
    return Fetched(response, b"".join(chunks))


class DeadlineExceeded(Exception):
    """An answer did not arrive whole within its wall-clock deadline."""


class BodyTooLarge(Exception):
    """An answer was larger than the caller accepts."""


class Stopped(Exception):
    """An answer was left unread because the run is stopping (SIGTERM, Ctrl-C)."""
