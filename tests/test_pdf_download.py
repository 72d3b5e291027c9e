"""PDF downloads from a hostile server: huge, inflating or dripping answers end as typed reasons,
within the size limit and the wall-clock deadline, and nothing half-read is kept."""

from __future__ import annotations

import time
import zlib
from http.server import BaseHTTPRequestHandler

import pytest

from flows.candidates.arxiv import ArxivClient
from flows.config import Settings
from flows.errors import PdfError
from tests.helpers import candidate
from tests.loopback import Loopback

LIMIT = 1_000_000  # TOP5_PDF_MAX_BYTES for these tests: the same kind of attack at a thousandth of the size


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of `inflated` zero bytes (a few hundred KB on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * 1_000_000
    return b"".join(packer.compress(chunk) for _ in range(inflated // len(chunk))) + packer.flush()


BOMB = _gzip_bomb(300 * LIMIT)


class _Hostile(BaseHTTPRequestHandler):
    sent: dict[str, int] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        kind = self.path.rsplit("/", 1)[-1]
        if kind.startswith("2611.00001"):  # declares 1.5 GB, then sends it slowly
            self._headers({"content-length": str(1_500_000_000)})
            self._send(b"%PDF-1.7\n" + b"0" * 10_000_000, kind)
        elif kind.startswith("2611.00002"):  # 300 KB of gzip that inflates to 300 MB
            self._headers({"content-encoding": "gzip", "content-length": str(len(BOMB))})
            self._send(BOMB, kind)
        elif kind.startswith("2611.00003"):  # a byte every 0.1 s: no read ever times out
            self._headers({"content-length": "1000"})
            for _ in range(1000):
                self._send(b"%", kind)
                time.sleep(0.1)

    def _headers(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/pdf")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, data: bytes, kind: str) -> None:
        try:
            for start in range(0, len(data), 65536):
                self.wfile.write(data[start:start + 65536])
                self.sent[kind] = self.sent.get(kind, 0) + len(data[start:start + 65536])
        except OSError:
            pass  # the client hung up: what it refused is not sent


@pytest.fixture
def hostile(tmp_path):
    server = Loopback(_Hostile)
    _Hostile.sent = {}
    settings = Settings(arxiv_pdf_url=server.base, arxiv_api_url=server.base, cache_dir=tmp_path, pdf_max_bytes=LIMIT,
                        arxiv_delay_seconds=0.01, arxiv_deadline=1.0)
    with ArxivClient(settings) as client:
        yield client, tmp_path / "pdf"
    server.stop()


def _download(client, folder, arxiv_id: str) -> PdfError:
    with pytest.raises(PdfError) as failed:
        client.download_pdf(candidate(arxiv_id), folder)
    assert not folder.exists() or not list(folder.iterdir())  # nothing half-read is kept
    return failed.value


def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_read(hostile):
    error = _download(*hostile, "2611.00001")
    assert error.reason == "too_large" and "1,500,000,000 bytes" in error.message
    assert _Hostile.sent.get("2611.00001v1", 0) < 10_000_000  # the client hung up long before the end


def test_an_answer_that_inflates_past_the_limit_stops_at_the_limit(hostile):
    error = _download(*hostile, "2611.00002")
    assert error.reason == "too_large" and f"limit of {LIMIT:,} bytes" in error.message


def test_a_dripping_server_meets_the_wall_clock_deadline(hostile):
    error = _download(*hostile, "2611.00003")
    assert error.reason == "download_failed" and "within 1 s" in error.message


class _NotFound(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()


def test_when_the_pdf_server_does_not_answer_the_papers_after_the_first_are_not_asked(tmp_path):
    """No server to connect to: the first paper goes through its retries, the next is not asked
    (its error says why), a PDF kept from an earlier run is still used. A server that answers
    (404 here) is asked for every paper."""
    from flows.candidates.arxiv import ATTEMPTS
    from tests.test_prefect_setup import _free_port

    folder = tmp_path / "pdf"
    folder.mkdir()
    (folder / "2611.00003v1.pdf").write_bytes(b"%PDF-1.7 kept from last week")
    cands = [candidate(f"2611.0000{i}") for i in (1, 2, 3)]
    closed = f"http://127.0.0.1:{_free_port()}"
    settings = Settings(arxiv_pdf_url=closed, arxiv_api_url=closed, cache_dir=tmp_path, arxiv_delay_seconds=0.01)
    with ArxivClient(settings) as client:
        found = client.download_pdfs(cands, folder)
    assert client.requests == ATTEMPTS
    assert found["2611.00001"].reason == "download_failed" and "ConnectError" in found["2611.00001"].message
    assert found["2611.00002"].message.startswith("PDF of 2611.00002v1 not asked: the PDF server did not answer")
    assert found["2611.00003"] == folder / "2611.00003v1.pdf"

    server = Loopback(_NotFound)
    try:
        with ArxivClient(Settings(arxiv_pdf_url=server.base, arxiv_api_url=server.base, cache_dir=tmp_path,
                                  arxiv_delay_seconds=0.01)) as client:
            found = client.download_pdfs(cands[:2], folder)
    finally:
        server.stop()
    assert client.requests == 2 and all("HTTP 404" in found[c.arxiv_id].message for c in cands[:2])


def test_a_server_that_never_accepts_counts_as_no_connection_under_a_short_deadline(tmp_path):
    """A listening socket whose queue is full: connects hang. With TOP5_ARXIV_DEADLINE=2 the
    first paper's attempts end as connect timeouts, not as the wall-clock deadline, so the next
    paper is not asked."""
    import socket

    from flows.candidates.arxiv import ATTEMPTS

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(3):  # fill the accept queue: later SYNs are dropped
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        queued.append(sock)
    try:
        url = f"http://127.0.0.1:{port}"
        settings = Settings(arxiv_pdf_url=url, arxiv_api_url=url, cache_dir=tmp_path, arxiv_delay_seconds=0.01,
                            arxiv_deadline=2.0)
        with ArxivClient(settings) as client:
            found = client.download_pdfs([candidate("2611.00001"), candidate("2611.00002")], tmp_path / "pdf")
    finally:
        for sock in [*queued, listener]:
            sock.close()
    assert client.requests == ATTEMPTS and "ConnectTimeout" in found["2611.00001"].message
    assert found["2611.00002"].message.startswith("PDF of 2611.00002v1 not asked")


def test_a_paper_whose_id_is_no_arxiv_id_is_not_asked_and_the_others_are(tmp_path):
    """An id from a hand-edited candidates.json ("../../admin", a query) never reaches the PDF
    server's URL nor the file name; that paper is flagged, the next is fetched."""
    from tests.arxiv_server import ArxivServer, atom_feed

    served = tmp_path / "served"
    served.mkdir()
    (served / "2611.00002v1.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    with ArxivServer(atom_feed([]), pdf_dir=served) as srv:
        with ArxivClient(Settings(arxiv_api_url=srv.api_url, arxiv_pdf_url=srv.pdf_url, cache_dir=tmp_path,
                                  arxiv_delay_seconds=0.0)) as client:
            found = client.download_pdfs([candidate("../../admin"), candidate("2611.00002")], tmp_path / "pdf")
    assert isinstance(found["../../admin"], PdfError) and "not an arXiv id" in found["../../admin"].message
    assert found["2611.00002"].read_bytes().startswith(b"%PDF")
    assert [r.path for r in srv.log] == ["/pdf/2611.00002v1"]
