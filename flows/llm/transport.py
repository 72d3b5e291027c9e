"""One chat-completion request to an OpenAI-compatible backend, within a wall-clock deadline.

The transport owns the deadline of each attempt and nothing else: no retries (flows/llm/retry.py
owns them), no parsing beyond the HTTP answer (flows/llm/answers.py). httpx's timeouts are per
read, so a server that drips a byte every few seconds never trips them: a watchdog shuts the
socket down when the deadline passes (flows.http.wall_clock, which fetch_within uses too), and the
clock is checked after every chunk, and for streamed answers after every line. Answers
larger than the caller accepts are refused while they arrive.

Why httpx and not the openai SDK here: the SDK reads error bodies and non-streamed answers
without a wall-clock limit, parses each backend's quirks into typed objects that lose them
(content parts, reasoning fields, errors inside a 200), and cannot be told to stop at a size.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx

from flows.http import (
    BodyTooLarge,
    DeadlineExceeded,
    Stopped,
    fetch_within,
    joined,
    read_whole,
    retry_after,
    safe_error,
    split_credentials,
    wall_clock,
)
from flows.llm.answers import Answer, InBandError, read_completion, read_stream
from flows.text import clip, whole_characters


class BackendError(Exception):
    """The backend answered with an error status, or with an error inside an HTTP 200 body
    (`in_band`). `detail` is the backend's own message (not yet redacted)."""

    def __init__(self, status: int, detail: str, *, code: str = "", wait: float | None = None,
                 in_band: bool = False):
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail, self.code, self.wait, self.in_band = status, detail, code, wait, in_band


class NoAnswer(Exception):
    """No usable HTTP answer: `kind` is "timeout", "connect", "too_large", "html", "unreadable" or
    "stopped" (the run is stopping: the request was not sent, or its answer left unread)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


class Transport:
    """POSTs chat completions to `base_url`/chat/completions with the key as a Bearer token.
    Once `stop` is set, no request is sent and one in flight ends at its answer's next chunk."""

    def __init__(self, base_url: str, api_key: str | None, deadline: float):
        # a user:password in the URL goes apart, as Basic auth, so httpx's log lines never show it
        self.base_url, auth = split_credentials(base_url.rstrip("/"))
        self.deadline = deadline
        self.stop = threading.Event()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, auth=auth, timeout=deadline, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def complete(self, payload: dict, *, max_bytes: int) -> Answer:
        """The backend's answer to `payload`, read whole within the deadline. Raises BackendError
        or NoAnswer."""
        if self.stop.is_set():
            raise NoAnswer("stopped", "not sent: the run is stopping")
        request = self._client.build_request("POST", joined(self.base_url, "chat/completions"), json=payload)
        try:
            if payload.get("stream"):
                return self._streamed(request, max_bytes)
            fetched = fetch_within(self._client, request, deadline=self.deadline, max_bytes=max_bytes,
                                   what="the LLM answer", stop=self.stop)
        except (DeadlineExceeded, httpx.TimeoutException):
            raise NoAnswer("timeout", f"no complete answer within {self.deadline:g} s") from None
        except BodyTooLarge as exc:
            raise NoAnswer("too_large", str(exc)) from None
        except Stopped as exc:
            raise NoAnswer("stopped", str(exc)) from None
        except httpx.TransportError as exc:
            raise NoAnswer("connect", f"could not connect ({type(exc).__name__}: {safe_error(exc)})") from None
        return _read(fetched.response, fetched.content)

    def _streamed(self, request: httpx.Request, max_bytes: int) -> Answer:
        began = time.monotonic()
        with wall_clock(request, self.deadline, "the LLM answer"):
            response = self._client.send(request, stream=True)
            try:
                if response.status_code >= 400 or "event-stream" not in response.headers.get("content-type", ""):
                    return _read(response, read_whole(response, began, self.deadline, max_bytes, "the LLM answer",
                                                      self.stop))
                return _events_answer(_events(response.iter_lines(), began, self.deadline, max_bytes, self.stop))
            finally:
                response.close()  # an abandoned stream stops llama.cpp generating for it


def _in_time(began: float, deadline: float, stop: threading.Event | None) -> None:
    """DeadlineExceeded once `deadline` seconds passed since `began`; Stopped once `stop` is set."""
    if time.monotonic() - began > deadline:
        raise DeadlineExceeded(f"no complete answer within {deadline:g} s")
    if stop is not None and stop.is_set():
        raise Stopped("the LLM answer was not read to the end: the run is stopping")


def _events(lines: Iterator[str], began: float, deadline: float, max_bytes: int,
            stop: threading.Event | None = None) -> Iterator[dict]:
    """The decoded `data:` events of a server-sent-events answer, until [DONE]."""
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > max_bytes:
            raise BodyTooLarge(f"the streamed LLM answer exceeds the limit of {max_bytes:,} bytes")
        _in_time(began, deadline, stop)
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = whole_characters(json.loads(data))
        except (json.JSONDecodeError, RecursionError):
            continue  # a keep-alive or a comment the server sent as data, or nothing one can read
        if isinstance(event, dict):
            yield event


def _events_answer(events: Iterator[dict]) -> Answer:
    try:
        return read_stream(events)
    except InBandError as exc:
        raise BackendError(exc.status, exc.message, code=exc.code, in_band=True) from None


def _read(response: httpx.Response, content: bytes) -> Answer:
    """The Answer in a whole HTTP answer; BackendError for error statuses and error bodies,
    NoAnswer("html" | "unreadable") for what is no chat completion."""
    body = _json_or_none(content)
    if response.status_code >= 400:
        detail, code = _error_detail(body, content)
        raise BackendError(response.status_code, detail, code=code, wait=retry_after(response.headers))
    kind = response.headers.get("content-type", "")
    if "event-stream" in kind:
        lines = iter(content.decode("utf-8", errors="replace").splitlines())
        return _events_answer(_events(lines, time.monotonic(), float("inf"), len(content) + 1))
    if body is None:
        html = "html" in kind or content.lstrip()[:1] == b"<"
        what = "an HTML page" if html else "a body that is not JSON"
        raise NoAnswer("html" if html else "unreadable",
                       f"HTTP {response.status_code} with {what} ({kind or 'no content type'}, "
                       f"{len(content):,} bytes: {clip(content[:200].decode('utf-8', 'replace'), 80)!r})")
    try:
        return read_completion(body)
    except InBandError as exc:
        raise BackendError(exc.status, exc.message, code=exc.code, wait=retry_after(response.headers),
                           in_band=True) from None
    except ValueError as exc:
        raise NoAnswer("unreadable", f"HTTP {response.status_code}: {exc}") from None


def _json_or_none(content: bytes) -> object | None:
    try:
        return whole_characters(json.loads(content))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # nested too deeply: no answer either
        return None


def _error_detail(body: object, content: bytes) -> tuple[str, str]:
    """(message, code) of an error answer: OpenAI's {"error": {"message", "code"}}, LM Studio's
    {"error": "<text>"}, or the body's first characters."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            code = error.get("code") or error.get("type") or ""
            return clip(str(error.get("message") or error.get("detail") or body)), str(code)
        return clip(str(error)), ""
    return clip(content[:400].decode("utf-8", "replace") or "no details"), ""
