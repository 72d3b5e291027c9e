"""A local server that behaves like arXiv, for tests and the offline demo.

It serves `/api/query` (Atom, paged with start/max_results, filtered by the query's
`submittedDate:[A TO B]` on each entry's <published> and by its `cat:` terms) and
`/pdf/<id>v<N>` from a folder of PDFs (404 when there is none), over real sockets on
127.0.0.1. Failures can be injected, and every request is logged with its arrival time and headers.

Run it by hand to serve a mirror folder: python tests/arxiv_server.py ../shared/fixtures/week
"""

from __future__ import annotations

import re
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

try:
    from tests.loopback import Loopback
except ImportError:  # run as a script: python tests/arxiv_server.py
    from loopback import Loopback

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
ET.register_namespace("", ATOM)
ET.register_namespace("arxiv", ARXIV)
ET.register_namespace("opensearch", OPENSEARCH)


def atom_entry(arxiv_id: str, title: str, abstract: str, *, categories=("cs.LG",),
               published: str = "2026-11-17T10:00:00Z", updated: str | None = None,
               authors=("Ada Lovelace",), comment: str | None = None) -> str:
    """One API entry as arXiv writes it; `arxiv_id` carries its version (2611.00001v1)."""
    cats = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in categories)
    names = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
    extra = f"<arxiv:comment>{escape(comment)}</arxiv:comment>" if comment else ""
    return (
        f"<entry><id>http://arxiv.org/abs/{arxiv_id}</id><title>{escape(title)}</title>"
        f"<updated>{updated or published}</updated>"
        f'<link href="https://arxiv.org/abs/{arxiv_id}" rel="alternate" type="text/html"/>'
        f'<link href="https://arxiv.org/pdf/{arxiv_id}" rel="related" type="application/pdf" title="pdf"/>'
        f"<summary>{escape(abstract)}</summary>{cats}<published>{published}</published>{extra}"
        f'<arxiv:primary_category term="{categories[0]}"/>{names}</entry>'
    )


def atom_feed(entries: list[str]) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="{ATOM}" xmlns:arxiv="{ARXIV}" '
            f'xmlns:opensearch="{OPENSEARCH}">{"".join(entries)}</feed>').encode()


@dataclass
class Logged:
    path: str
    query: dict
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]  # names lowercased


class ArxivServer:
    """with ArxivServer(feed_bytes, pdf_dir) as srv: srv.api_url, srv.pdf_url"""

    def __init__(self, feed: bytes, pdf_dir: Path | None = None):
        root = ET.fromstring(feed)
        self.entries = root.findall(f"{{{ATOM}}}entry")
        self.pdf_dir = pdf_dir
        self.log: list[Logged] = []
        self._failures: list[tuple[int, dict, bytes]] = []
        self._empty_pages = 0
        self._zero_results = 0
        self._lock = threading.Lock()

    # -- test controls ---------------------------------------------------------------------
    def fail_next(self, status: int, *, times: int = 1, headers: dict | None = None, body: bytes = b"") -> None:
        with self._lock:
            self._failures += [(status, headers or {}, body)] * times

    def empty_page_next(self, times: int = 1) -> None:
        with self._lock:
            self._empty_pages += times

    def zero_results_next(self, times: int = 1) -> None:
        """The next `times` API answers are well-formed feeds with totalResults 0, as arXiv sometimes sends."""
        with self._lock:
            self._zero_results += times

    def api_requests(self) -> list[Logged]:
        return [r for r in self.log if r.path.startswith("/api/")]

    # -- serving ---------------------------------------------------------------------------
    def __enter__(self) -> ArxivServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server._handle(self)

            def log_message(self, *args):
                pass

        self._loopback = Loopback(Handler)
        self.api_url, self.pdf_url = f"{self._loopback.base}/api/query", f"{self._loopback.base}/pdf"
        return self

    def __exit__(self, *exc) -> None:
        self._loopback.stop()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.log.append(Logged(url.path, query, time.monotonic(), {k.lower(): v for k, v in request.headers.items()}))
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            status, headers, body = failure
            return _send(request, status, body, "text/plain", headers)
        if url.path == "/api/query":
            return _send(request, 200, self._api(query), "application/atom+xml")
        if url.path.startswith("/pdf/"):
            return self._pdf(request, url.path.removeprefix("/pdf/"))
        _send(request, 404, b"not found", "text/plain")

    def _api(self, query: dict) -> bytes:
        matching = [e for e in self.entries if _matches(e, query.get("search_query", ""))]
        start, size = int(query.get("start", 0)), int(query.get("max_results", 10))
        page = matching[start : start + size]
        with self._lock:
            if self._empty_pages and start > 0:
                self._empty_pages -= 1
                page = []
            if self._zero_results:
                self._zero_results -= 1
                matching, page = [], []
        body = "".join(ET.tostring(e, encoding="unicode") for e in page)
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="{ATOM}" xmlns:arxiv="{ARXIV}" '
            f'xmlns:opensearch="{OPENSEARCH}"><title>arXiv Query</title>'
            f"<opensearch:totalResults>{len(matching)}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>"
            f"<opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>{body}</feed>"
        ).encode()

    def _pdf(self, request, versioned_id: str) -> None:
        path = self.pdf_dir / f"{versioned_id.replace('/', '_')}.pdf" if self.pdf_dir else None
        if path is None or not path.is_file():
            return _send(request, 404, b"no such PDF", "text/plain")
        _send(request, 200, path.read_bytes(), "application/pdf")


def _matches(entry: ET.Element, search_query: str) -> bool:
    dates = re.search(r"submittedDate:\[(\d{12})\s+TO\s+(\d{12})\]", search_query)
    if dates:
        published = datetime.fromisoformat(entry.findtext(f"{{{ATOM}}}published").replace("Z", "+00:00"))
        stamp = published.astimezone(timezone.utc).strftime("%Y%m%d%H%M")
        if not dates.group(1) <= stamp <= dates.group(2):
            return False
    wanted = set(re.findall(r"cat:([\w.\-]+)", search_query))
    have = {c.get("term") for c in entry.findall(f"{{{ATOM}}}category")}
    return not wanted or bool(wanted & have)


def _send(request, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
    request.send_response(status)
    request.send_header("Content-Type", kind)
    request.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        request.send_header(name, str(value))
    request.end_headers()
    request.wfile.write(body)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/week")
    port_file = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    with ArxivServer((folder / "api-week.xml").read_bytes(), folder / "pdf") as srv:
        print(f"ARXIV_API_URL={srv.api_url}\nARXIV_PDF_URL={srv.pdf_url}", flush=True)
        if port_file:
            port_file.write_text(f"ARXIV_API_URL={srv.api_url}\nARXIV_PDF_URL={srv.pdf_url}\n")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
