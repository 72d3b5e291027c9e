"""The ledger: which papers earlier digests already featured, read from the digests themselves.

A digest links every paper it covers as https://arxiv.org/abs/<id> (the companion page does
so by design), so the folder of digests is its own record; there is no database to drift.
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.candidates.candidate import split_version
from flows.text import ARXIV_ID

_ABS_LINK = re.compile(rf"arxiv\.org/(?:abs|pdf)/+({ARXIV_ID})(v\d+)?",
                       re.IGNORECASE)


def featured_ids(digests_dir: Path, *, except_week: str | None = None) -> set[str]:
    """arXiv ids (without version) linked from any digest in `digests_dir`.

    `except_week` leaves out the week being (re)drafted, so re-running a week does not
    exclude its own picks.
    """
    ids: set[str] = set()
    if not digests_dir.is_dir():
        return ids
    for page in sorted(digests_dir.glob("*/*.md")):
        if page.parent.name == except_week:
            continue
        ids.update(ids_in(page.read_text(encoding="utf-8", errors="replace")))
    return ids


def ids_in(text: str) -> set[str]:
    return set(ordered_ids(text))


def ordered_ids(text: str) -> list[str]:
    """arXiv ids (without version) linked from `text`, each once, in order of appearance."""
    ids: dict[str, None] = {}
    for match in _ABS_LINK.finditer(text):
        ids.setdefault(split_version(match.group(1))[0])
    return list(ids)
