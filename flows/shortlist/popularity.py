"""Popularity: upvotes from the Hugging Face daily papers listing, an optional signal.

The days asked are the window's and the few after it, when its papers are announced. The
requests, in order: for each ISO week holding at least WEEK_MIN_DAYS of those days, the week's
listing `HF_PAPERS_URL?week=YYYY-Www&p=0,1,...&limit=PAGE_SIZE&sort=publishedAt` (at most
MAX_PAGES pages); then `HF_PAPERS_URL?date=YYYY-MM-DD` for each day no week's listing covered.
A week's listing covers the days it lists papers of, and only when it serves: every page answered a list, the last page
came before MAX_PAGES, and its papers were featured (`publishedAt`) on two days or more, all
inside that week (a server that ignores `week` answers today's papers). A paper counts for the day it
was featured; a listing that does not serve is logged, not flagged, and its days are asked one by
one.
The signal takes what each day gives: a day that fails, answers nothing or answers too much is
named in the flag and the other days are kept; an entry whose id is no arXiv id or whose upvotes
are not a non-negative count below MAX_UPVOTES (or, in a week's listing, whose `publishedAt` is
no date) is ignored and counted in the flag; the whole signal has one wall-clock bound
(TOTAL_DEADLINE), after which the days left are named as not asked. The learned taste reads the
counts as features (features.popularity).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import httpx
from pydantic import BaseModel, StringConstraints, ValidationError

from flows.candidates.candidate import split_version
from flows.candidates.week import Window
from flows.config import Settings
from flows.errors import ConfigError, UnreadableFile
from flows.files import MB, read_bounded
from flows.http import (
    BodyTooLarge,
    DeadlineExceeded,
    fetch_within,
    safe_error,
    safe_url,
    split_credentials,
    with_params,
)
from flows.records import MAX_UPVOTES, UpvoteCount  # the one check of a count (candidates.json too)
from flows.text import ARXIV_ID

log = logging.getLogger(__name__)

ANNOUNCEMENT_LAG = timedelta(days=3)  # a paper submitted on Friday is listed on Monday or later
DEADLINE = 15.0  # wall-clock seconds for one request (a day's listing or a page of a week's)
TOTAL_DEADLINE = 45.0  # wall-clock seconds for the whole signal: it never holds the run for minutes
MAX_BYTES = 2_000_000  # a day's listing is 10-60 papers, a page of a week's 100: a few hundred kilobytes
PAGE_SIZE = 100  # the largest `limit` the listing accepts
MAX_PAGES = 8  # a week lists 100-500 papers; a longer listing is asked day by day
WEEK_MIN_DAYS = 4  # a week's listing costs a few pages: for fewer of its days, one request a day is cheaper

_Id = Annotated[str, StringConstraints(pattern=rf"^{ARXIV_ID}(?:v\d+)?$")]
_ASKED = (httpx.HTTPError, ValueError, RecursionError, DeadlineExceeded, BodyTooLarge)  # how one request fails


class _Paper(BaseModel):
    id: _Id
    upvotes: UpvoteCount = 0


class _Listed(BaseModel):
    paper: _Paper
    upvotes: UpvoteCount | None = None  # some versions of the listing repeat it at the top level


class _Featured(BaseModel):
    publishedAt: datetime  # noqa: N815  the listing's name: when the paper was featured


class _Spent(Exception):
    """The signal's TOTAL_DEADLINE was spent before a request could be sent."""


class Featured(BaseModel):
    """One line of an upvotes file (`top5 eval --upvotes`): a paper featured on a day, with its upvotes."""

    id: _Id
    date: date
    upvotes: UpvoteCount


UPVOTES_FILE_LIMIT = 64 * MB  # the shared 28 weeks are 150 KB


def read_featured(path: Path) -> tuple[list[Featured], int]:
    """The papers of a JSONL file of {"id", "date", "upvotes"} lines, and how many lines were
    ignored (not JSON, or values that fail the same checks as the live listing's). Raises
    ConfigError naming the file when it cannot be read."""
    try:
        lines = read_bounded(path, UPVOTES_FILE_LIMIT).decode("utf-8").splitlines()
    except UnreadableFile:
        raise ConfigError(f"upvotes file {path}: larger than {UPVOTES_FILE_LIMIT // MB} MB, more than years of "
                          "the listing hold") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"upvotes file {path}: {exc}") from None
    rows, ignored = [], 0
    for line in filter(str.strip, lines):
        try:
            rows.append(Featured.model_validate_json(line))
        except ValidationError:
            ignored += 1
    return rows, ignored


def upvotes(window: Window, settings: Settings, *, transport: httpx.BaseTransport | None = None
            ) -> tuple[dict[str, int], str | None]:
    """arXiv id -> upvotes for the window's days, and None, or what the signal lacks (days that
    failed or were not asked, entries ignored) in one sentence for the draft's flags."""
    if not settings.popularity:
        return {}, None
    found: dict[str, int] = {}
    missing: dict[str, str] = {}  # day -> why
    days = list(_days(window.start.date(), (window.end + ANNOUNCEMENT_LAG).date()))
    url, auth = split_credentials(settings.hf_papers_url)
    with httpx.Client(timeout=httpx.Timeout(DEADLINE, connect=5.0), auth=auth, transport=transport) as client:
        listing = _Listing(client, url)
        listed, ignored = _weeks(listing, days)
        for day in days:
            try:
                items = listed[day] if day in listed else listing.get({"date": day.isoformat()})
            except _Spent as exc:
                missing[day.isoformat()] = str(exc)
                continue
            except _ASKED as exc:
                missing[day.isoformat()] = f"{type(exc).__name__}: {safe_error(exc)}"
                continue
            if not items:
                missing[day.isoformat()] = "no papers listed"
            ignored += _count(items, found)
    return found, _why(settings, found, missing, ignored)


def _days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


class _Listing:
    """The listing under the signal's one wall-clock budget: each request gets DEADLINE seconds
    or what is left of TOTAL_DEADLINE, whichever is less."""

    def __init__(self, client: httpx.Client, url: str):
        self.client, self.url, self.began = client, url, time.monotonic()

    def get(self, params: dict) -> list:
        """The JSON list the listing answers to `params`. Raises _Spent when no time is left,
        ValueError when the answer is no JSON list, and what fetch_within raises."""
        deadline = min(DEADLINE, TOTAL_DEADLINE - (time.monotonic() - self.began))
        if deadline <= 0:
            raise _Spent(f"not asked: the signal's {TOTAL_DEADLINE:g} s were spent")
        request = self.client.build_request("GET", with_params(self.url, params),
                                            timeout=httpx.Timeout(deadline, connect=min(5.0, deadline)))
        response = fetch_within(self.client, request, deadline=deadline, max_bytes=MAX_BYTES,
                                what="the Hugging Face listing").whole()
        response.raise_for_status()
        items = json.loads(response.content)
        if not isinstance(items, list):
            raise ValueError(f"the answer is a JSON {type(items).__name__}, not a list of papers")
        return items


def _weeks(listing: _Listing, days: list[date]) -> tuple[dict[date, list], int]:
    """day -> the entries featured that day, for the `days` a week's listing covered, and how
    many entries of those listings had no readable `publishedAt`. A week whose listing does not
    serve covers none of its days (logged): they are left to the per-day requests."""
    weeks: dict[str, list[date]] = {}
    for day in days:
        weeks.setdefault(day.strftime("%G-W%V"), []).append(day)
    listed: dict[date, list] = {}
    undated = 0
    for week, its_days in weeks.items():
        if len(its_days) < WEEK_MIN_DAYS:
            continue
        try:
            by_day, no_date = _by_day(_pages(listing, {"week": week}), week)
        except (*_ASKED, _Spent) as exc:
            log.info("Hugging Face listing of %s not used, its days are asked one by one: %s: %s",
                     week, type(exc).__name__, safe_error(exc))
            continue
        listed.update((day, by_day[day]) for day in its_days if day in by_day)  # a day it lacks is asked alone
        undated += no_date
    return listed, undated


def _pages(listing: _Listing, params: dict) -> list:
    """The entries of a paged listing: pages p=0, 1, ... of PAGE_SIZE, until a page is empty,
    shorter than a full page (PAGE_SIZE, or the first page's length when the server serves fewer
    than `limit` a page) or lists only papers earlier pages listed (a server that ignores `p`).
    Page 1 may repeat page 0: a listing that counts pages from 1 answers p=0 with its first page.
    Raises ValueError when MAX_PAGES full pages did not reach the end."""
    entries: list = []
    seen: set[str] = set()
    full = PAGE_SIZE
    for page in range(MAX_PAGES):
        items = listing.get({**params, "p": page, "limit": PAGE_SIZE, "sort": "publishedAt"})
        ids = {_paper_id(raw) for raw in items}
        if ids <= seen and page != 1:
            return entries
        if not ids <= seen:
            entries.extend(items)
            seen |= ids
        if page == 0:
            full = min(full, len(items))  # a server may serve fewer than `limit` a page
        if not items or len(items) < full:
            return entries
    raise ValueError(f"the listing goes on past {MAX_PAGES} pages of {PAGE_SIZE}")


def _paper_id(raw) -> str:
    """An entry's `paper.id` as text, or the entry itself for one without it: what tells pages apart."""
    paper = raw.get("paper") if isinstance(raw, dict) else None
    return str(paper.get("id")) if isinstance(paper, dict) else repr(raw)[:200]


def _by_day(items: list, week: str) -> tuple[dict[date, list], int]:
    """`items` of ISO week `week`'s listing by the UTC day each was featured, and how many had no
    readable `publishedAt`. Raises ValueError when the listing holds a paper featured outside
    `week` or papers of fewer than two days: a server that ignores `week` answers one day's."""
    by_day: dict[date, list] = {}
    undated = 0
    for raw in items:
        day = _featured_day(raw)
        if day is None:
            undated += 1
            continue
        if day.strftime("%G-W%V") != week:
            raise ValueError(f"the listing of {week} holds a paper featured on {day}: `week` was ignored")
        by_day.setdefault(day, []).append(raw)
    if len(by_day) < 2:  # one day's papers: maybe today's, answered by a server that ignored `week`
        raise ValueError(f"the listing of {week} holds papers of {len(by_day)} day(s), not a week's")
    return by_day, undated


def _featured_day(raw) -> date | None:
    """The UTC day an entry was featured (its `publishedAt`; without an offset, UTC), or None."""
    try:
        when = _Featured.model_validate(raw).publishedAt
        return (when if when.utcoffset() is not None else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).date()
    except (ValidationError, OverflowError):  # OverflowError: year 1 or 9999 moved into UTC
        return None


def _count(items: list, found: dict[str, int]) -> int:
    """Adds each valid entry's upvotes to `found` (the largest count of a paper wins); returns
    how many entries were ignored."""
    ignored = 0
    for raw in items:
        try:
            item = _Listed.model_validate(raw)
        except ValidationError:
            ignored += 1
            continue
        arxiv_id = split_version(item.paper.id)[0]
        count = item.upvotes if item.upvotes is not None else item.paper.upvotes
        found[arxiv_id] = max(found.get(arxiv_id, 0), count)
    return ignored


def _why(settings: Settings, found: dict, missing: dict[str, str], ignored: int) -> str | None:
    parts = []
    if missing:
        parts.append("days missing: " + "; ".join(f"{day} ({why})" for day, why in missing.items()))
    if ignored:
        parts.append(f"{ignored} entries ignored (an id that is no arXiv id, or upvotes that are not a "
                     f"whole number from 0 to {MAX_UPVOTES - 1:,})")
    if not parts:
        return None
    used = "was not used" if not found else f"is partial ({len(found)} papers)"
    why = f"The popularity signal (Hugging Face daily papers, {safe_url(settings.hf_papers_url)}) {used}: {'; '.join(parts)}."
    log.warning("%s", why)
    return why
