"""A small OpenAI-compatible HTTP server for tests: real sockets on 127.0.0.1, scripted answers.

The real openai SDK talks to it, so retries, timeouts and response parsing are exercised for real.
`reply(request_json)` returns the assistant's content (str), a refusal ({"refusal": "..."}),
a completion of another shape ({"message": {...}, "finish_reason": "length", "usage": None}: the
message as given, no usage member when usage is None), or a raw answer ({"status": int,
"headers": {...}, "body": str | dict}). A request with "stream": true is answered as server-sent
events, the content in small chunks, as llama.cpp and OpenAI stream.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.loopback import Loopback

Reply = Callable[[dict], "str | dict"]


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _prompt_text(request: dict) -> str:
    parts = []
    for message in request.get("messages", []):
        content = message.get("content") or ""
        if isinstance(content, list):  # content parts
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(str(content))
    return "\n".join(parts)


class OpenAIServer:
    """Context manager: `with OpenAIServer(reply) as srv: ... srv.base_url ...`."""

    def __init__(self, reply: Reply):
        self.reply = reply
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []  # each chat request's, names lowercased
        self.paths: list[str] = []  # each chat request's path and query
        self.base_url = ""
        self._lock = threading.Lock()
        self._failures: list[tuple[int, dict, str]] = []
        self._stalls: list[float] = []
        self._drips: list[float] = []

    # --- scripting -------------------------------------------------------------------------
    def fail_next(
        self, status: int, *, times: int = 1, headers: dict | None = None, body: str = ""
    ) -> None:
        """The next `times` chat requests get this status instead of the scripted reply."""
        with self._lock:
            self._failures.extend([(status, dict(headers or {}), body)] * times)

    def stall_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` chat responses this long before answering."""
        with self._lock:
            self._stalls.extend([seconds] * times)

    def drip_next(self, interval: float, *, times: int = 1) -> None:
        """Send the next `times` answers one byte every `interval` seconds (a server that never
        trips a per-read timeout)."""
        with self._lock:
            self._drips.extend([interval] * times)

    def _take_drip(self) -> float:
        with self._lock:
            return self._drips.pop(0) if self._drips else 0.0

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> OpenAIServer:
        self._loopback = Loopback(type("Handler", (_Handler,), {"owner": self}))
        self.base_url = f"{self._loopback.base}/v1"
        return self

    def __exit__(self, *exc_info) -> None:
        self._loopback.stop()

    # --- called by the handler -------------------------------------------------------------
    def _take_script(self, request: dict) -> tuple[float, tuple[int, dict, str] | None]:
        with self._lock:
            self.requests.append(request)
            stall = self._stalls.pop(0) if self._stalls else 0.0
            failure = self._failures.pop(0) if self._failures else None
        return stall, failure

    def _completion(self, request: dict, answer: str | dict) -> dict:
        if isinstance(answer, dict) and "message" in answer:
            return self._shaped(request, answer)
        refusal = answer.get("refusal") if isinstance(answer, dict) else None
        content = None if refusal else str(answer)
        completion_text = refusal or content or ""
        prompt_tokens = _approx_tokens(_prompt_text(request))
        completion_tokens = _approx_tokens(completion_text)
        return {
            "id": f"chatcmpl-test-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "test-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


    def _shaped(self, request: dict, answer: dict) -> dict:
        message = {"role": "assistant", **answer["message"]}
        body = {"id": f"chatcmpl-test-{len(self.requests)}", "object": "chat.completion",
                "created": int(time.time()), "model": request.get("model", "test-model"),
                "choices": [{"index": 0, "message": message,
                             "finish_reason": answer.get("finish_reason", "stop")}]}
        usage = answer.get("usage", "auto")
        if usage == "auto":
            text = json.dumps(message.get("content")) + str(message.get("reasoning_content") or "")
            usage = {"prompt_tokens": _approx_tokens(_prompt_text(request)), "completion_tokens": _approx_tokens(text)}
        if usage is not None:
            body["usage"] = usage
        return body


def _chunks(completion: dict, size: int = 8) -> list[dict]:
    """A chat completion as streamed chunks: its content and reasoning a few characters at a time."""
    choice = completion["choices"][0]
    message, base = choice["message"], {k: completion[k] for k in ("id", "created", "model")}
    chunks = []
    for field in ("reasoning_content", "content"):
        text = message.get(field)
        if isinstance(text, str):
            chunks += [{"delta": {field: text[i:i + size]}} for i in range(0, len(text), size)]
    chunks.append({"delta": {}, "finish_reason": choice.get("finish_reason", "stop")})
    return [{**base, "object": "chat.completion.chunk",
             "choices": [{"index": 0, "finish_reason": None, **c}]} for c in chunks]


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {}, {"object": "list", "data": [
                {"id": "test-model", "object": "model", "created": 0, "owned_by": "tests"}
            ]})
        else:
            self._not_found()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not urlsplit(self.path).path.rstrip("/").endswith("/chat/completions"):
            self._not_found()
            return
        self.owner.paths.append(self.path)
        try:
            request = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, {}, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        self.owner.headers.append({k.lower(): v for k, v in self.headers.items()})
        stall, failure = self.owner._take_script(request)
        if stall:
            time.sleep(stall)
        if failure is not None:
            status, headers, body = failure
            self._send(status, headers, body or {"error": {"message": f"injected {status}", "type": "test"}})
            return
        answer = self.owner.reply(request)
        if isinstance(answer, dict) and "status" in answer:
            self._send(answer["status"], answer.get("headers", {}), answer.get("body", ""))
            return
        completion = self.owner._completion(request, answer)
        if request.get("stream"):
            self._stream(_chunks(completion))
        else:
            self._send(200, {}, completion)

    def _stream(self, chunks: list[dict]) -> None:
        self.close_connection = True
        drip = self.owner._take_drip()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(drip)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _not_found(self) -> None:
        error = {"message": f"no route {self.path}", "type": "invalid_request_error"}
        self._send(404, {}, {"error": error})

    def _send(self, status: int, headers: dict, body: str | dict) -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        try:
            self.send_response(status)
            if not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", "application/json")
            for key, value in headers.items():
                self.send_header(key, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            drip = self.owner._take_drip()
            if not drip:
                self.wfile.write(data)
            for i in range(len(data) if drip else 0):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(drip)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
