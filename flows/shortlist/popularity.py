"""Popularity: upvotes from the Hugging Face daily papers listing, an optional signal.

For each day of the window (and the few days after it, when its papers are announced) the
listing `HF_PAPERS_URL?date=YYYY-MM-DD` gives the papers readers upvoted. The signal takes what
each day gives: a day that fails, answers nothing or answers too much is named in the flag and
the other days are kept; an entry whose id is no arXiv id or whose upvotes are not a
non-negative count below MAX_UPVOTES is ignored and counted in the flag; the whole signal has
one wall-clock bound (TOTAL_DEADLINE), after which the days left are named as not asked. The
learned taste reads the counts as features (features.popularity).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import httpx
from pydantic import BaseModel, Field, StrictInt, StringConstraints, ValidationError

from flows.candidates.candidate import split_version
from flows.candidates.week import Window
from flows.config import Settings
from flows.errors import ConfigError
from flows.http import BodyTooLarge, DeadlineExceeded, fetch_within, safe_url
from flows.text import ARXIV_ID

log = logging.getLogger(__name__)

ANNOUNCEMENT_LAG = timedelta(days=3)  # a paper submitted on Friday is listed on Monday or later
DEADLINE = 15.0  # wall-clock seconds for one day's listing, however slowly it is sent
TOTAL_DEADLINE = 45.0  # wall-clock seconds for the whole signal: it never holds the run for minutes
MAX_BYTES = 2_000_000  # a day's listing is 10-60 papers, a few hundred kilobytes
MAX_UPVOTES = 100_000  # the most upvoted papers have a few thousand

_Id = Annotated[str, StringConstraints(pattern=rf"^{ARXIV_ID}(?:v\d+)?$")]
_Count = Annotated[StrictInt, Field(ge=0, lt=MAX_UPVOTES)]


class _Paper(BaseModel):
    id: _Id
    upvotes: _Count = 0


class _Listed(BaseModel):
    paper: _Paper
    upvotes: _Count | None = None  # some versions of the listing repeat it at the top level


class Featured(BaseModel):
    """One line of an upvotes file (`top5 eval --upvotes`): a paper featured on a day, with its upvotes."""

    id: _Id
    date: date
    upvotes: _Count


def read_featured(path: Path) -> tuple[list[Featured], int]:
    """The papers of a JSONL file of {"id", "date", "upvotes"} lines, and how many lines were
    ignored (not JSON, or values that fail the same checks as the live listing's). Raises
    ConfigError naming the file when it cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
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
    ignored = 0
    began = time.monotonic()
    first, last = window.start.date(), (window.end + ANNOUNCEMENT_LAG).date()
    with httpx.Client(timeout=httpx.Timeout(DEADLINE, connect=5.0), transport=transport) as client:
        for day in _days(first, last):
            left = TOTAL_DEADLINE - (time.monotonic() - began)
            if left <= 0:
                missing[day.isoformat()] = f"not asked: the signal's {TOTAL_DEADLINE:g} s were spent"
                continue
            try:
                items = _day(client, settings.hf_papers_url, day, min(DEADLINE, left))
            except (httpx.HTTPError, ValueError, DeadlineExceeded, BodyTooLarge) as exc:
                missing[day.isoformat()] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
                continue
            if not items:
                missing[day.isoformat()] = "no papers listed"
            ignored += _count(items, found)
    return found, _why(settings, found, missing, ignored)


def _days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


def _day(client: httpx.Client, url: str, day: date, deadline: float) -> list:
    request = client.build_request("GET", url, params={"date": day.isoformat()},
                                   timeout=httpx.Timeout(deadline, connect=min(5.0, deadline)))
    response = fetch_within(client, request, deadline=deadline, max_bytes=MAX_BYTES,
                            what="the Hugging Face listing").whole()
    response.raise_for_status()
    items = json.loads(response.content)
    if not isinstance(items, list):
        raise ValueError(f"the answer is a JSON {type(items).__name__}, not a list of papers")
    return items


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
