"""The arXiv client: the API query for a window and categories, and PDF downloads.

Politeness lives here and only here: arXiv allows one request every 3 seconds over a single
connection, for the API and the PDFs together. A gate enforces it for every thread and every
process sharing the cache folder, so parallel tasks queue behind each other instead of
hammering arXiv. The client also
owns the retries of arXiv requests (429/503 honouring Retry-After, connection errors, the
empty page arXiv sometimes returns in the middle of paging).
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from flows.candidates.candidate import Candidate, merge
from flows.candidates.feed import FeedPage, parse_api_feed
from flows.candidates.week import Window
from flows.config import Settings
from flows.errors import FeedError, PdfError
from flows.files import write_atomic
from flows.http import (
    BodyTooLarge,
    DeadlineExceeded,
    Fetched,
    fetch_within,
    joined,
    retry_after,
    safe_error,
    safe_url,
    split_credentials,
    with_params,
)
from flows.text import VERSIONED_ARXIV_ID

log = logging.getLogger(__name__)

PAGE_SIZE = 2000  # arXiv's maximum per request
RESULT_CAP = 30000  # arXiv answers 400 past this many results for one query
ATTEMPTS = 5
EMPTY_CHECKS = 2  # times an empty window is asked again before it is believed
FEED_MAX_BYTES = 100_000_000  # a page of 2000 entries is about 5 MB
USER_AGENT = "weekly-top5/0.1 (+https://github.com/weekly-top5/weekly-top5)"


class _Retryable(Exception):
    """A transient arXiv failure; `wait` is what arXiv asked for (Retry-After), if anything."""

    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


class _Gate:
    """One request at a time, and at least `delay` seconds between the starts of two requests,
    across the threads of this process (a lock) and across processes (a file lock whose file
    holds the time of the last request), e.g. the Dask workers of a backfill."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def run(self, delay: float, send, lock_file: Path):
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(lock_file, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                last = _float(handle.read())
                pause = last + delay - time.time()
                if pause > 0:
                    time.sleep(min(pause, delay))  # a clock set back never stalls us longer
                try:
                    return send()
                finally:
                    handle.seek(0)
                    handle.truncate()
                    handle.write(repr(time.time()))
                    handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


GATE = _Gate()  # shared by every ArxivClient of the process


class ArxivClient:
    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.requests = 0
        self._no_connection = False  # the last request found no server to connect to
        self._http = httpx.Client(
            # connect gives up before the wall-clock deadline, so a server that never accepts reads as
            # no connection (download_pdfs stops asking) even with a short TOP5_ARXIV_DEADLINE
            timeout=httpx.Timeout(60.0, connect=min(15.0, settings.arxiv_deadline / 2)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            limits=httpx.Limits(max_connections=1),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------

    def search(self, window: Window, categories: list[str]) -> list[Candidate]:
        """Every paper submitted in `window` in any of `categories`, one per arXiv id. An answer of
        no papers at all is asked again (EMPTY_CHECKS times, a pause apart) before it is believed."""
        found: list[Candidate] = []
        for part in self._parts_under_cap(window, categories, self._confirmed_total(window, categories)):
            for page in self._pages(part, categories):
                found.extend(c for c in page.candidates if part.contains(c.published))
        return merge(found)

    def _confirmed_total(self, window: Window, categories: list[str]) -> int:
        """The window's result count; arXiv sometimes answers a well-formed feed with totalResults
        0 for a busy query, so 0 is asked again after a pause (10 request delays) before it counts."""
        pause = 10 * self.settings.arxiv_delay_seconds
        for attempt in range(1, EMPTY_CHECKS + 2):
            total = self._page(window, categories, start=0, size=1).total_results or 0
            if total or attempt > EMPTY_CHECKS:
                break
            log.warning("%s: arXiv answered 0 results; asking again in %g s", window.label, pause)
            time.sleep(pause)
        if attempt > 1:
            log.warning("%s: %s", window.label, f"arXiv answered 0 results, then {total} on asking again" if total
                        else f"arXiv answered 0 results {attempt} times, {pause:g} s apart: the window has no papers")
        return total

    def _parts_under_cap(self, window: Window, categories: list[str], total: int) -> list[Window]:
        if total == 0:
            return []
        if total <= RESULT_CAP:
            return [window]
        parts = -(-total // (RESULT_CAP // 2))  # halve the cap: leaves room for uneven days
        log.info("%s: %d results exceed arXiv's cap of %d, splitting into %d windows",
                 window.label, total, RESULT_CAP, parts)
        return [p for part in window.split(parts)
                for p in self._parts_under_cap(part, categories, self._page(part, categories, start=0, size=1).total_results or 0)]

    def _pages(self, window: Window, categories: list[str]) -> Iterator[FeedPage]:
        start = 0
        while True:
            page = self._page(window, categories, start=start, size=PAGE_SIZE, expect_entries=True)
            yield page
            start += len(page.candidates) + len(page.skipped)
            if page.total_results is None or start >= page.total_results:
                return

    def _page(self, window, categories, *, start, size, expect_entries=False) -> FeedPage:
        params = {
            "search_query": query_for(window, categories),
            "start": str(start),
            "max_results": str(size),
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
        }
        source = f"arXiv query {params['search_query']!r} (start={start})"

        def fetch() -> FeedPage:
            response = self._get(self.settings.arxiv_api_url, params, source, FEED_MAX_BYTES, FeedError)
            if response.status_code == 400:
                # arXiv explains a bad query in an Atom error feed: parse_api_feed raises it.
                parse_api_feed(response.content, source)
                raise FeedError(f"{source}: HTTP 400 from arXiv")
            _raise_for_status(response.response, source)
            page = parse_api_feed(response.content, source)
            total = page.total_results or 0
            if expect_entries and not page.candidates and not page.skipped and start < total:
                raise _Retryable(f"{source}: empty page although {total} results were announced")
            return page

        return self._retrying(fetch, source)

    # -- PDFs ------------------------------------------------------------------------------

    def download_pdfs(self, cands: list[Candidate], directory: Path) -> dict[str, Path | PdfError]:
        """Each paper's PDF (by arXiv id), or the PdfError that says why there is none: one paper's
        failure never stops the others. But once every attempt for a paper found no server to
        connect to, the papers after it that are not kept already are not asked (each would wait
        through the same retries, 45 s by default); their error says so."""
        found: dict[str, Path | PdfError] = {}
        silent: PdfError | None = None
        for cand in cands:
            try:
                if silent and not _kept(cand, directory).exists():
                    raise _not_asked(cand, silent)
                found[cand.arxiv_id] = self.download_pdf(cand, directory)
            except PdfError as exc:
                found[cand.arxiv_id] = exc
                silent = silent or (exc if self._no_connection else None)
        return found

    def download_pdf(self, cand: Candidate, directory: Path) -> Path:
        """The PDF of this version of the paper, fetched once and kept in `directory`."""
        if not VERSIONED_ARXIV_ID.fullmatch(cand.versioned_id):  # it goes in the PDF's URL and file name
            raise PdfError(f"PDF of {cand.versioned_id!r}: not an arXiv id, not asked", reason="download_failed")
        target = _kept(cand, directory)
        if target.exists():
            return target
        url = str(joined(self.settings.arxiv_pdf_url, cand.versioned_id))
        source = f"PDF of {cand.versioned_id} ({safe_url(url)})"

        def fetch() -> bytes:
            response = self._get(url, None, source, self.settings.pdf_max_bytes, _too_large_pdf)
            if response.status_code == 404:
                raise PdfError(f"{source}: not found (HTTP 404)", reason="download_failed")
            _raise_for_status(response.response, source, error=_failed_pdf)
            kind = response.response.headers.get("content-type", "")
            if not response.content.lstrip()[:5].startswith(b"%PDF"):
                if "html" in kind:  # arXiv answers with an HTML page while it builds a PDF
                    raise _Retryable(f"{source}: got {kind}, not a PDF yet")
                raise PdfError(f"{source}: the answer ({kind or 'no content type'}) is not a PDF",
                               reason="not_pdf")
            return response.content

        try:
            data = self._retrying(fetch, source)
        except FeedError as exc:
            raise PdfError(exc.message, reason="download_failed") from None
        write_atomic(target, data)
        return target

    # -- plumbing --------------------------------------------------------------------------

    def _get(self, url: str, params: dict | None, source: str, max_bytes: int,
             too_large: Callable[[str], Exception]) -> Fetched:
        """The whole answer, read within TOP5_ARXIV_DEADLINE seconds of wall-clock time and at most
        `max_bytes` after decompression (else the error `too_large` makes of the message). A
        user:password in `url` (a proxy's) goes as this request's Basic auth, so no log line shows it."""
        plain, auth = split_credentials(url)

        def send() -> Fetched:
            self.requests += 1
            request = self._http.build_request("GET", with_params(plain, params))
            return fetch_within(self._http, request, deadline=self.settings.arxiv_deadline, max_bytes=max_bytes,
                                what=source, auth=auth)

        self._no_connection = False
        try:
            response = GATE.run(self.settings.arxiv_delay_seconds, send, self.settings.cache_dir / "arxiv.gate")
        except (httpx.TransportError, DeadlineExceeded) as exc:
            self._no_connection = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            raise _Retryable(f"{source}: {type(exc).__name__}: {safe_error(exc)} at {safe_url(url)} "
                             "(ARXIV_API_URL / ARXIV_PDF_URL say where arXiv is; TOP5_ARXIV_DEADLINE how long "
                             "an answer may take)") from None
        except BodyTooLarge as exc:
            raise too_large(str(exc)) from None
        if response.status_code in (429, 500, 502, 503, 504):
            raise _Retryable(f"{source}: HTTP {response.status_code}",
                             wait=retry_after(response.response.headers))
        return response

    def _retrying(self, fetch, source: str):
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(ATTEMPTS),
            wait=self._wait,
            reraise=True,
        )
        try:
            return retrying(fetch)
        except _Retryable as exc:
            raise FeedError(f"{exc} (gave up after {ATTEMPTS} attempts)") from None

    def _wait(self, state: RetryCallState) -> float:
        asked = getattr(state.outcome.exception(), "wait", None)
        if asked is not None:
            return min(asked, 300.0)
        return self.settings.arxiv_delay_seconds * 2 ** (state.attempt_number - 1)


def _kept(cand: Candidate, directory: Path) -> Path:
    return directory / f"{cand.versioned_id.replace('/', '_')}.pdf"


def _not_asked(cand: Candidate, failed: PdfError) -> PdfError:
    return PdfError(f"PDF of {cand.versioned_id} not asked: the PDF server did not answer for an earlier paper "
                    f"({failed.message})", reason="download_failed")


def _too_large_pdf(message: str) -> PdfError:
    return PdfError(f"{message} (TOP5_PDF_MAX_BYTES)", reason="too_large")


def _failed_pdf(message: str) -> PdfError:
    return PdfError(message, reason="download_failed")


def query_for(window: Window, categories: list[str]) -> str:
    cats = " OR ".join(f"cat:{c}" for c in categories)
    return f"({cats}) AND {window.submitted_date_query()}"


def _raise_for_status(response: httpx.Response, source: str, error=FeedError) -> None:
    if response.status_code >= 400:
        raise error(f"{source}: HTTP {response.status_code} from {response.request.url.host}")

