"""A small GitHub-REST-like server for tests: real sockets on 127.0.0.1, the pull-request endpoints.

Implements what GitHub documents for the three calls the tool makes:
  GET   /repos/{owner}/{repo}/pulls?head=owner:branch&state=open  -> 200 [pull, ...]
  POST  /repos/{owner}/{repo}/pulls  {title, head, base, body}    -> 201 pull
  PATCH /repos/{owner}/{repo}/pulls/{number}  {body, ...}         -> 200 pull
with GitHub's error bodies: 401 "Bad credentials" for a wrong token, 404 "Not Found" for another
repository, 422 "Validation Failed" for a head branch the remote lacks (when given the bare
repository to check) or a second open pull request from the same head. `fail_next` injects any
status. Every request is logged (method, path, query, headers, JSON body).

It also answers git's smart-HTTP discovery (`.../info/refs`) with 403 after logging the
request, so a test can see what credentials git sends over https.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.loopback import Loopback

ERRORS = {
    401: {"message": "Bad credentials"},
    403: {"message": "Resource not accessible by personal access token"},
    404: {"message": "Not Found"},
    422: {"message": "Validation Failed",
          "errors": [{"resource": "PullRequest", "code": "custom", "message": "No commits between main and the head"}]},
    500: {"message": "Server Error"},
    502: {"message": "Bad Gateway"},
}


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict | None


class GitHubServer:
    """Context manager: `with GitHubServer("tok", "editor/digests") as gh: ... gh.url ...`."""

    def __init__(self, token: str, repository: str = "editor/digests", bare: Path | None = None):
        self.token, self.repository, self.bare = token, repository, bare
        self.pulls: dict[int, dict] = {}
        self.log: list[Logged] = []
        self.url = ""
        self._failures: list[tuple[int, str | None, str | None]] = []
        self._redirects: list[tuple[int, str]] = []
        self.git_redirect: str | None = None  # set: git's discovery is answered 301 to this base URL
        self._lock = threading.Lock()

    def fail_next(self, status: int, method: str | None = None, times: int = 1, message: str | None = None) -> None:
        """The next `times` API requests (of `method`, if given) get `status` with GitHub's body
        (or one whose message is `message`: a proxy that says what it was sent)."""
        with self._lock:
            self._failures.extend([(status, method, message)] * times)

    def redirect_next(self, status: int, location: str) -> None:
        """The next API request is answered `status` (301, 307, ...) with `Location: location`,
        as GitHub does for a renamed repository or a moved API."""
        with self._lock:
            self._redirects.append((status, location))

    def calls(self, method: str) -> list[Logged]:
        return [r for r in self.log if r.method == method and r.path.startswith("/repos/")]

    def __enter__(self) -> GitHubServer:
        self._loopback = Loopback(type("Handler", (_Handler,), {"owner": self}))
        self.url = self._loopback.base
        return self

    def __exit__(self, *exc_info) -> None:
        self._loopback.stop()

    # --- called by the handler -------------------------------------------------------------
    def answer(self, method: str, path: str, query: dict, headers: dict, body: dict | None) -> tuple:
        """(status, JSON answer) or (status, JSON answer, extra headers)."""
        with self._lock:
            self.log.append(Logged(method, path, query, headers, body))
            moved = self._moved(path)
            if moved:
                return moved
            for i, (status, only, message) in enumerate(self._failures):
                if only in (None, method):
                    del self._failures[i]
                    return status, {"message": message} if message else ERRORS.get(status, {"message": "Injected"})
            if headers.get("authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
                return 401, ERRORS[401]
            prefix = f"/repos/{self.repository}/pulls"
            if not path.startswith(prefix):
                return 404, ERRORS[404]
            rest = path[len(prefix):].strip("/")
            if method == "GET" and not rest:
                return 200, self._list(query)
            if method == "POST" and not rest:
                return self._create(body or {})
            if method == "PATCH" and rest.isdigit() and int(rest) in self.pulls:
                self.pulls[int(rest)].update({k: v for k, v in (body or {}).items() if k in ("title", "body", "state")})
                return 200, self.pulls[int(rest)]
            return 404, ERRORS[404]

    def _moved(self, path: str) -> tuple | None:
        """git's discovery (403, or 301 to git_redirect) and injected redirects of the API."""
        if path.endswith("/info/refs"):
            if self.git_redirect:
                return 301, {"message": "Moved Permanently"}, {"Location": self.git_redirect + path}
            return 403, {"message": "git over http is not served here"}
        if self._redirects:
            status, location = self._redirects.pop(0)
            return status, {"message": "Moved Permanently", "url": location}, {"Location": location}
        return None

    def _list(self, query: dict) -> list[dict]:
        state = query.get("state", "open")
        head = query.get("head")
        return [p for p in self.pulls.values()
                if (state == "all" or p["state"] == state) and (head is None or p["head"]["label"] == head)]

    def _create(self, body: dict) -> tuple[int, object]:
        owner = self.repository.split("/")[0]
        ref = str(body.get("head", "")).split(":")[-1]
        if not body.get("title") or not ref or not body.get("base"):
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "PullRequest", "code": "missing_field", "field": "head"}]}
        if self.bare is not None and not _has_branch(self.bare, ref):
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}
        label = f"{owner}:{ref}"
        if any(p["head"]["label"] == label and p["state"] == "open" for p in self.pulls.values()):
            exists = f"A pull request already exists for {label}."
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "PullRequest", "code": "custom", "message": exists}]}
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "number": number, "state": "open", "title": body["title"], "body": body.get("body"),
            "html_url": f"{self.url}/{self.repository}/pull/{number}",
            "url": f"{self.url}/repos/{self.repository}/pulls/{number}",
            "head": {"ref": ref, "label": label}, "base": {"ref": body["base"]},
        }
        return 201, self.pulls[number]


def _has_branch(bare: Path, ref: str) -> bool:
    done = subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "-q", "--verify", f"refs/heads/{ref}"],
                          capture_output=True, check=False)
    return done.returncode == 0


class _Handler(BaseHTTPRequestHandler):
    owner: GitHubServer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer, *extra = self.owner.answer(method, url.path, query, headers, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in (extra[0] if extra else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")
