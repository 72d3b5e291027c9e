"""Popularity: upvotes from the Hugging Face daily papers listing, an optional signal.

For each day of the window (and the few days after it, when its papers are announced) the
listing `HF_PAPERS_URL?date=YYYY-MM-DD` gives the papers readers upvoted. It only nudges the
cheap score; when the listing cannot be reached the run goes on without it and says so.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from flows.candidates.candidate import split_version
from flows.candidates.week import Window
from flows.config import Settings
from flows.http import BodyTooLarge, DeadlineExceeded, fetch_within

log = logging.getLogger(__name__)

ANNOUNCEMENT_LAG = timedelta(days=3)  # a paper submitted on Friday is listed on Monday or later
DEADLINE = 30.0  # wall-clock seconds for one day's listing, however slowly it is sent
MAX_BYTES = 20_000_000  # a day's listing is a few hundred kilobytes


class _Paper(BaseModel):
    id: str
    upvotes: int = 0


class _Listed(BaseModel):
    paper: _Paper
    upvotes: int | None = None  # some versions of the listing repeat it at the top level


_LISTING = TypeAdapter(list[_Listed])


def upvotes(window: Window, settings: Settings, *, transport: httpx.BaseTransport | None = None
            ) -> tuple[dict[str, int], str | None]:
    """arXiv id -> upvotes for the window's days, and None, or ({}, why the signal is missing)."""
    if not settings.popularity:
        return {}, None
    found: dict[str, int] = {}
    day, last = window.start.date(), (window.end + ANNOUNCEMENT_LAG).date()
    with httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0), transport=transport) as client:
        while day <= last:
            try:
                request = client.build_request("GET", settings.hf_papers_url, params={"date": day.isoformat()})
                response = fetch_within(client, request, deadline=DEADLINE, max_bytes=MAX_BYTES,
                                        what="the Hugging Face listing").whole()
                response.raise_for_status()
                listed = _LISTING.validate_json(response.content)
            except (httpx.HTTPError, ValidationError, DeadlineExceeded, BodyTooLarge) as exc:
                why = (f"the popularity signal (Hugging Face daily papers, {settings.hf_papers_url}) was "
                       f"not used: {day.isoformat()}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                log.warning("%s", why)
                return {}, why
            for item in listed:
                arxiv_id = split_version(item.paper.id)[0]
                found[arxiv_id] = max(found.get(arxiv_id, 0), item.upvotes or item.paper.upvotes)
            day += timedelta(days=1)
    return found, None
