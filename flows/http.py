"""HTTP helpers every client shares: how long a server asked us to wait, URLs safe to show, and
answers read whole within a wall-clock deadline and a size limit."""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

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
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without its user:password, and those percent-decoded as (user, password); None when
    it has none."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    return str(parsed.copy_with(userinfo=b"")), (parsed.username, parsed.password)


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """`url` without its user:password, and those as HTTP Basic auth (None when it has none):
    a client given them apart sends the same request, and httpx's own log lines show no secret."""
    plain, pair = without_credentials(url)
    return plain, httpx.BasicAuth(*pair) if pair else None


def with_params(url: str, params: Mapping[str, str | int] | None) -> httpx.URL:
    """`url` with `params` added to the query it already holds (a key a proxy or mirror needs,
    say), that query kept as written (`?TOKEN`, `a/b:c`); a name in both takes `params`' value.
    httpx's own `params=` replaces that query instead (httpx 0.28: `Client.build_request`)."""
    parsed = httpx.URL(url)
    if not params:
        return parsed
    added = httpx.QueryParams(params)
    kept = [part for part in parsed.query.decode("ascii").split("&")
            if part and unquote_plus(part.partition("=")[0]) not in added]
    return parsed.copy_with(query="&".join([*kept, str(added)]).encode("ascii"))


def joined(base: str, path: str) -> httpx.URL:
    """`base` (a setting's URL, its query included) with `path` appended to its path, percent-encoded
    (RFC 3986) but for its slashes: joined("https://mirror/pdf?key=K", "2611.01234v1") is
    https://mirror/pdf/2611.01234v1?key=K, where an f-string would put the path inside the query.
    Raises ValueError for a `path` with a . or .. segment (it would climb out of `base`)."""
    segments = path.strip("/").split("/")
    if any(segment in (".", "..") for segment in segments):
        raise ValueError(f"a path with a . or .. segment: {path!r}")
    parsed = httpx.URL(base)
    where = parsed.raw_path.partition(b"?")[0].rstrip(b"/") + b"/" + quote("/".join(segments), safe="/").encode("ascii")
    return parsed.copy_with(raw_path=where + (b"?" + parsed.query if parsed.query else b""))


def url_secrets(url: str | None) -> list[str]:
    """The password in `url`'s user:password@, as written (percent-encoded) and decoded, and
    base64(user:password) as HTTP Basic auth sends it: what a server echoing credentials could show.
    Empty for no URL, no password, or a URL httpx cannot read."""
    try:
        parsed = httpx.URL(url) if url else None
    except (httpx.InvalidURL, TypeError):
        return []
    if parsed is None or not parsed.password:
        return []
    written = parsed.userinfo.decode("ascii").partition(":")[2]
    basic = base64.b64encode(f"{parsed.username}:{parsed.password}".encode()).decode()
    return list(dict.fromkeys([parsed.password, written, basic]))


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
                 max_bytes: int | None = None, what: str, stop: threading.Event | None = None,
                 auth: httpx.Auth | None = None) -> Fetched:
    """Sends `request` and reads its whole answer (status line, headers, body) within `deadline`
    seconds of wall-clock time.

    httpx's timeouts are per read: a server that drips a byte every few seconds never trips them.
    So the exchange runs under wall_clock (a watchdog that shuts the socket down wherever the
    exchange is blocked, headers included), and the clock is also checked after every chunk.
    With `max_bytes`, a Content-Length over the limit is refused before the body is read, and the
    body is counted after decompression (a small gzip that inflates to gigabytes stops at the
    limit). Once `stop` is set, reading ends at the next chunk with Stopped. `auth` (split_credentials'
    second half) is sent with this request only; None leaves the client's own. Raises DeadlineExceeded,
    BodyTooLarge or Stopped (each names `what`, never a URL's credentials) and httpx.HTTPError for
    transport failures.
    """
    began = time.monotonic()
    with wall_clock(request, deadline, what):
        response = client.send(request, stream=True, auth=httpx.USE_CLIENT_DEFAULT if auth is None else auth)
        try:
            content = read_whole(response, began, deadline, max_bytes, what, stop)
        finally:
            response.close()
    return Fetched(response, content)


@contextmanager
def wall_clock(request: httpx.Request, deadline: float, what: str) -> Iterator[None]:
    """Bounds the exchange of `request` sent inside the block to `deadline` seconds of wall-clock
    time, from connect to the body's last byte: once the time passes, a watchdog shuts the
    request's socket down, and the block's httpx error (or its normal end: a shut-down socket may
    read as a close-delimited body's end) becomes DeadlineExceeded naming `what`. The request asks
    for `Connection: close`, so each exchange opens the connection the watchdog can reach."""
    watchdog = _Watchdog(request, deadline)
    try:
        yield
    except httpx.HTTPError:
        if watchdog.fired.is_set():
            raise _late(what, deadline) from None
        raise
    finally:
        watchdog.cancel()
    if watchdog.fired.is_set():
        raise _late(what, deadline)


def _late(what: str, deadline: float) -> DeadlineExceeded:
    return DeadlineExceeded(f"{what}: no complete answer within {round(deadline, 1):g} s")


def read_whole(response: httpx.Response, began: float, deadline: float, max_bytes: int | None, what: str,
               stop: threading.Event | None = None) -> bytes:
    """The body of a streamed `response`, read by chunks: BodyTooLarge past `max_bytes` (declared
    or counted after decompression), DeadlineExceeded once `deadline` seconds passed since `began`
    (time.monotonic), Stopped once `stop` is set; each names `what`."""
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
            raise _late(what, deadline)
        if stop is not None and stop.is_set():
            raise Stopped(f"{what}: not read to the end, the run is stopping")
        chunks.append(chunk)
    return b"".join(chunks)


class _Watchdog:
    """Shuts down the socket `request` goes out on once `deadline` seconds have passed: a read
    blocked on a server that drips its headers then fails at once. The socket is learned from
    httpcore's `trace` extension (the stream each connect and TLS handshake return)."""

    def __init__(self, request: httpx.Request, deadline: float):
        self.fired = threading.Event()
        self._stream = None
        self._lock = threading.Lock()
        earlier = request.extensions.get("trace")

        def trace(event: str, info: dict) -> None:
            if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                with self._lock:
                    self._stream = info.get("return_value")
            if earlier is not None:
                earlier(event, info)

        request.extensions["trace"] = trace
        request.headers["Connection"] = "close"  # a pooled connection would reach the watchdog no socket
        self._timer = threading.Timer(max(deadline, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired.set()
        with self._lock:
            sock = self._stream.get_extra_info("socket") if self._stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed: the exchange ended on its own
                pass

    def cancel(self) -> None:
        self._timer.cancel()


def safe_error(exc: BaseException) -> str:
    """An httpx (or any) error as one short line safe to show: `HTTP 500` for an error status
    (httpx's own message carries the whole URL), otherwise the first line of its text with any
    `scheme://user:password@` cut down to `scheme://`."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return _CREDENTIALS.sub(r"\1", text)[:120]


# greedy up to the last '@' before the path: a password may hold a raw '@' (httpx reads it so)
_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s]*@")


class DeadlineExceeded(Exception):
    """An answer did not arrive whole within its wall-clock deadline."""


class BodyTooLarge(Exception):
    """An answer was larger than the caller accepts."""


class Stopped(Exception):
    """An answer was left unread because the run is stopping (SIGTERM, Ctrl-C)."""
