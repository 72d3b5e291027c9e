"""The ledger: which papers earlier digests already featured, read from the digests themselves.

A digest gives each paper it covers a section of its own ("## Paper N", in README.md and the
companion papers.md) ending or starting with that paper's link, https://arxiv.org/abs/<id>, so
the folder of digests is its own record; there is no database to drift. Only that link counts:
an abstract that links another paper, or a summary that names another paper's URL ("builds on
https://arxiv.org/abs/..."), does not make that paper featured.
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.candidates.candidate import split_version
from flows.text import ARXIV_ID, ARXIV_URL

_ABS_LINK = re.compile(rf"{ARXIV_URL}({ARXIV_ID})(v\d+)?", re.IGNORECASE)
_PAPER_HEADING = re.compile(r"^#{2,3}[ \t]*Paper[ \t]+\d+\b", re.IGNORECASE | re.MULTILINE)
# A line whose first thing is an arXiv link: "[Paper](https://arxiv.org/abs/...)", "Paper: https://...",
# a bookmarks row "|2026||[Title, arXiv](https://...)|" or list item "- [Title](https://...)", a bare URL.
_LINK_LINE = re.compile(rf"^[ \t>*|+\-\d.]*(?:[A-Za-z][A-Za-z ]{{0,20}}:[ \t]*)?(?:\[[^\]\n]*\]\([ \t]*)?<?"
                        rf"{ARXIV_URL}({ARXIV_ID})",
                        re.IGNORECASE | re.MULTILINE)


def featured_ids(digests_dir: Path, *, except_week: str | None = None) -> set[str]:
    """arXiv ids (without version) featured by any digest page in `digests_dir` (see ordered_ids).

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
    """arXiv ids (without version) a digest page features, each once, in page order, read from
    its structure: in a page of "## Paper N" sections, each section's own paper link (its first
    line that is an arXiv link, else its first arXiv link); in any other page, its lines that are
    an arXiv link (a bookmarks row or list item), else, for free prose, every arXiv link."""
    starts = [m.start() for m in _PAPER_HEADING.finditer(text)]
    if starts:
        sections = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
        found = [_own_link(section) for section in sections]
    else:
        found = [m.group(1) for m in _LINK_LINE.finditer(text)] or [m.group(1) for m in _ABS_LINK.finditer(text)]
    ids: dict[str, None] = {}
    for arxiv_id in found:
        if arxiv_id:
            ids.setdefault(split_version(arxiv_id)[0])
    return list(ids)


def has_paper_sections(text: str) -> bool:
    """Whether `text` is laid out as the tool's own pages are: "## Paper N" sections."""
    return _PAPER_HEADING.search(text) is not None


def _own_link(section: str) -> str | None:
    match = _LINK_LINE.search(section) or _ABS_LINK.search(section)
    return match.group(1) if match else None
