"""The arXiv client against a local arXiv-like server: paging, politeness, retries, errors."""

from __future__ import annotations

import threading

import pytest

from flows.candidates.arxiv import ArxivClient
from flows.candidates.week import window_between
from flows.config import Settings
from flows.errors import FeedError, PdfError
from tests.arxiv_server import ArxivServer, atom_entry, atom_feed
from tests.helpers import candidate

WINDOW = window_between("2026-11-16", "2026-11-22")


def _entries(n: int, *, day: int = 17, categories=("cs.LG",)) -> list[str]:
    return [atom_entry(f"2611.{i:05d}v1", f"Paper {i}", f"Abstract {i}.", categories=categories,
                       published=f"2026-11-{day}T{i % 24:02d}:{i % 60:02d}:00Z") for i in range(n)]


def _settings(server: ArxivServer, tmp_path, delay: float = 0.0) -> Settings:
    return Settings(arxiv_api_url=server.api_url, arxiv_pdf_url=server.pdf_url,
                    arxiv_delay_seconds=delay, cache_dir=tmp_path)


def test_pages_through_every_result(tmp_path, monkeypatch):
    monkeypatch.setattr("flows.candidates.arxiv.PAGE_SIZE", 7)
    with ArxivServer(atom_feed(_entries(30))) as srv:
        found = ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG"])
    assert sorted(c.arxiv_id for c in found) == [f"2611.{i:05d}" for i in range(30)]
    starts = [r.query["start"] for r in srv.api_requests() if r.query["max_results"] == "7"]
    assert starts == ["0", "7", "14", "21", "28"]


def test_window_and_categories_filter(tmp_path):
    inside = _entries(3)
    outside = [atom_entry("2611.09999v1", "Too late", "x", published="2026-11-23T10:00:00Z")]
    other = [atom_entry("2611.08888v1", "Astro", "x", categories=("astro-ph.EP",))]
    with ArxivServer(atom_feed(inside + outside + other)) as srv:
        found = ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG", "cs.CL"])
    assert {c.arxiv_id for c in found} == {"2611.00000", "2611.00001", "2611.00002"}
    assert "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[" in srv.api_requests()[0].query["search_query"]


def test_a_query_in_arxiv_api_url_is_kept_on_every_request(tmp_path, monkeypatch):
    """A mirror or proxy that needs `?key=...` in ARXIV_API_URL gets it with each page's query."""
    monkeypatch.setattr("flows.candidates.arxiv.PAGE_SIZE", 2)
    with ArxivServer(atom_feed(_entries(3))) as srv:
        settings = Settings(arxiv_api_url=f"{srv.api_url}?key=mirror-k3y", arxiv_pdf_url=srv.pdf_url,
                            arxiv_delay_seconds=0.0, cache_dir=tmp_path)
        found = ArxivClient(settings).search(WINDOW, ["cs.LG"])
    assert len(found) == 3
    asked = srv.api_requests()
    assert len(asked) >= 2 and all(r.query.get("key") == "mirror-k3y" and "search_query" in r.query for r in asked)


def test_cross_listed_and_new_version_count_once(tmp_path):
    entries = [
        atom_entry("2611.00001v1", "A paper", "x", categories=("cs.LG", "cs.CL")),
        atom_entry("2611.00001v2", "A paper", "x", categories=("cs.CL", "cs.AI")),
    ]
    with ArxivServer(atom_feed(entries)) as srv:
        found = ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG", "cs.CL"])
    assert len(found) == 1
    assert found[0].version == 2
    assert set(found[0].categories) == {"cs.LG", "cs.CL", "cs.AI"}


def test_requests_are_spaced_even_from_parallel_threads(tmp_path):
    with ArxivServer(atom_feed(_entries(2))) as srv:
        settings = _settings(srv, tmp_path, delay=0.3)
        threads = [threading.Thread(target=ArxivClient(settings).search, args=(WINDOW, ["cs.LG"]))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    arrivals = sorted(r.at for r in srv.log)
    assert len(arrivals) == 6
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= 0.28


def test_retries_429_as_retry_after_says_and_empty_pages(tmp_path, monkeypatch):
    monkeypatch.setattr("flows.candidates.arxiv.PAGE_SIZE", 5)
    with ArxivServer(atom_feed(_entries(12))) as srv:
        srv.fail_next(429, headers={"Retry-After": "1"})
        srv.empty_page_next()
        found = ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG"])
    assert len(found) == 12
    first, second = srv.api_requests()[:2]
    assert second.at - first.at >= 0.95  # waited as arXiv asked
    assert [r.query["start"] for r in srv.api_requests()].count("5") == 2  # empty page retried


def test_gives_up_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("flows.candidates.arxiv.ATTEMPTS", 3)
    with ArxivServer(atom_feed(_entries(1))) as srv:
        srv.fail_next(503, times=3, headers={"Retry-After": "0"})
        with pytest.raises(FeedError, match=r"HTTP 503.*gave up after 3 attempts") as err:
            ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG"])
    assert "submittedDate" in str(err.value)  # names the query


def test_error_feed_names_the_query(tmp_path):
    error_feed = atom_feed(['<entry><id>http://arxiv.org/api/errors#incorrect_id_format</id>'
                            '<title>Error</title><summary>incorrect id format for 1234</summary>'
                            '<updated>2026-11-23T00:00:00-05:00</updated></entry>'])
    with ArxivServer(atom_feed([])) as srv:
        srv.fail_next(400, body=error_feed)
        with pytest.raises(FeedError, match="incorrect id format") as err:
            ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG"])
    assert "cat:cs.LG" in str(err.value)


def test_pdf_download_is_cached_and_checked(tmp_path):
    pdf_dir = tmp_path / "mirror"
    pdf_dir.mkdir()
    (pdf_dir / "2611.00000v1.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (pdf_dir / "2611.00001v1.pdf").write_bytes(b"<html>building</html>")
    with ArxivServer(atom_feed(_entries(3)), pdf_dir) as srv:
        client = ArxivClient(_settings(srv, tmp_path))
        cands = client.search(WINDOW, ["cs.LG"])
        by_id = {c.arxiv_id: c for c in cands}
        path = client.download_pdf(by_id["2611.00000"], tmp_path / "pdf")
        assert path.read_bytes().startswith(b"%PDF")
        client.download_pdf(by_id["2611.00000"], tmp_path / "pdf")
        assert len([r for r in srv.log if r.path.startswith("/pdf/")]) == 1  # cached
        with pytest.raises(PdfError, match="2611.00002v1.*404") as missing:
            client.download_pdf(by_id["2611.00002"], tmp_path / "pdf")
        assert missing.value.reason == "download_failed"
        with pytest.raises(PdfError, match="not a PDF") as html:
            client.download_pdf(by_id["2611.00001"], tmp_path / "pdf")
        assert html.value.reason == "not_pdf"
    assert not (tmp_path / "pdf" / "2611.00002v1.pdf").exists()


def test_requests_are_spaced_across_processes(tmp_path):
    """Two processes (like two Dask workers) sharing a cache folder share arXiv's 3-second rule."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    script = ("import sys; from flows.candidates.arxiv import ArxivClient; from flows.config import Settings; "
              "from flows.candidates.week import window_between; "
              "s = Settings(arxiv_api_url=sys.argv[1], arxiv_pdf_url=sys.argv[1], arxiv_delay_seconds=0.4, cache_dir=sys.argv[2]); "
              "ArxivClient(s).search(window_between('2026-11-16', '2026-11-22'), ['cs.LG'])")
    with ArxivServer(atom_feed(_entries(2))) as srv:
        procs = [subprocess.Popen([sys.executable, "-c", script, srv.api_url, str(tmp_path)], cwd=REPO,
                                  env=dict(os.environ, PYTHONPATH=str(REPO))) for _ in range(2)]
        assert [p.wait(timeout=60) for p in procs] == [0, 0]
    arrivals = sorted(r.at for r in srv.log)
    assert len(arrivals) == 4
    assert min(b - a for a, b in zip(arrivals, arrivals[1:])) >= 0.38


def test_a_window_over_the_result_cap_is_split(tmp_path, monkeypatch):
    monkeypatch.setattr("flows.candidates.arxiv.RESULT_CAP", 10)
    entries = [atom_entry(f"2611.{day}{i:03d}v1", "P", "A.", published=f"2026-11-{day}T{2 * i:02d}:00:00Z")
               for day in range(16, 23) for i in range(4)]  # 28 papers over 7 days
    with ArxivServer(atom_feed(entries)) as srv:
        found = ArxivClient(_settings(srv, tmp_path)).search(WINDOW, ["cs.LG"])
    assert len(found) == 28
    ranges = {r.query["search_query"].split("submittedDate:")[1] for r in srv.api_requests()}
    assert len(ranges) > 1  # asked in several sub-windows, none over the cap


def test_an_empty_answer_is_asked_again_before_it_is_believed(tmp_path, caplog):
    with ArxivServer(atom_feed(_entries(5))) as srv:
        srv.zero_results_next(2)  # arXiv's occasional empty feed for a busy query, twice
        found = ArxivClient(_settings(srv, tmp_path, delay=0.01)).search(WINDOW, ["cs.LG", "cs.CL", "cs.CV", "cs.AI"])
    assert len(found) == 5
    assert "arXiv answered 0 results, then 5 on asking again" in caplog.text


def test_a_window_still_empty_after_the_checks_says_so(tmp_path, caplog):
    with ArxivServer(atom_feed(_entries(5))) as srv:
        srv.zero_results_next(10)
        found = ArxivClient(_settings(srv, tmp_path, delay=0.01)).search(WINDOW, ["cs.LG"])
        asked = len(srv.api_requests())
    assert found == [] and asked == 3
    assert "arXiv answered 0 results 3 times, 0.1 s apart: the window has no papers" in caplog.text


def _behind_proxy(url: str, password: str) -> str:
    return url.replace("http://", f"http://user:{password}@")


def test_a_proxy_password_in_the_urls_is_sent_as_basic_auth_and_never_logged(tmp_path, monkeypatch, caplog):
    """ARXIV_API_URL / ARXIV_PDF_URL may name a proxy as user:password@host: the listing and the
    PDF arrive, the proxy gets the Basic auth, and no log record of any logger (httpx's own
    "HTTP Request: GET ..." lines included) nor any error message shows the password."""
    import base64
    import logging
    import socket

    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr("flows.candidates.arxiv.ATTEMPTS", 2)
    secret, basic = "s3cret", base64.b64encode(b"user:s3cret").decode()
    pdf_dir = tmp_path / "mirror"
    pdf_dir.mkdir()
    (pdf_dir / "2611.00000v1.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    with ArxivServer(atom_feed(_entries(2)), pdf_dir) as srv:
        settings = Settings(arxiv_api_url=_behind_proxy(srv.api_url, secret),
                            arxiv_pdf_url=_behind_proxy(srv.pdf_url, secret), arxiv_delay_seconds=0.0,
                            cache_dir=tmp_path)
        with ArxivClient(settings) as client:
            by_id = {c.arxiv_id: c for c in client.search(WINDOW, ["cs.LG"])}
            assert client.download_pdf(by_id["2611.00000"], tmp_path / "pdf").read_bytes().startswith(b"%PDF")
            with pytest.raises(PdfError, match="404") as missing:
                client.download_pdf(by_id["2611.00001"], tmp_path / "pdf")
            srv.fail_next(503, times=2)
            with pytest.raises(FeedError, match="HTTP 503") as gave_up:
                client.search(WINDOW, ["cs.LG"])
    with socket.socket() as closed:  # nothing listens there: the transport error's message
        closed.bind(("127.0.0.1", 0))
        gone = _behind_proxy(f"http://127.0.0.1:{closed.getsockname()[1]}/api/query", secret)
    with ArxivClient(Settings(arxiv_api_url=gone, arxiv_delay_seconds=0.0, cache_dir=tmp_path)) as client:
        with pytest.raises(FeedError, match="ConnectError") as unreachable:
            client.search(WINDOW, ["cs.LG"])

    assert {"/api/query", "/pdf/2611.00000v1", "/pdf/2611.00001v1"} <= {r.path for r in srv.log}
    assert all(r.headers.get("authorization") == f"Basic {basic}" for r in srv.log)
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx" and "HTTP Request: GET" in r.getMessage()]
    assert any(srv.pdf_url.removeprefix("http://") + "/2611.00000v1" in line for line in requests)  # httpx's own lines were captured
    everything = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records),
                            *(str(e.value) for e in (missing, gave_up, unreachable))])
    assert secret not in everything and basic not in everything


def test_a_query_in_arxiv_pdf_url_stays_a_query_and_the_paper_goes_in_the_path(tmp_path):
    """ARXIV_PDF_URL=https://mirror/pdf?key=K: the PDF is asked at /pdf/<versioned id>?key=K
    (written as an f-string, the id would land inside the key)."""
    pdfs = tmp_path / "served"
    pdfs.mkdir()
    (pdfs / "2611.00001v1.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    with ArxivServer(atom_feed([]), pdf_dir=pdfs) as srv:
        settings = Settings(arxiv_api_url=srv.api_url, arxiv_pdf_url=f"{srv.pdf_url}?key=mirror-k3y",
                            arxiv_delay_seconds=0.0, cache_dir=tmp_path)
        with ArxivClient(settings) as client:
            kept = client.download_pdf(candidate("2611.00001"), tmp_path / "pdf")
    assert kept.read_bytes().startswith(b"%PDF")
    assert [(r.path, r.query) for r in srv.log] == [("/pdf/2611.00001v1", {"key": "mirror-k3y"})]
