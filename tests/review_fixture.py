"""A digests repository with a year of merged weeks, built at test time from the shared editor
weeks (real arXiv papers, a real editor's picks): each week's picks as the editor's merged
digest on main, in the weekly style, with a text of the editor's own for each paper.

Also on disk, to show what is never a candidate: each week's candidates.json lists a dozen
papers the editor did not publish, one drafted pick the editor swapped out before merging, and a
branch digest/<week> holds a draft that was never merged. PDFs are built for the picks
(text pages with a method and a results caption) for the arXiv test server.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from flows.candidates.candidate import Candidate
from flows.digest.pages import render_pages
from flows.files import write_json
from flows.shortlist import Profile
from flows.shortlist.archive import read_listing
from flows.summaries import Section
from tests.conftest import FIXTURES, require_shared
from tests.pdf_builders import write_text_pdf

PICKS_PER_WEEK, OTHERS_PER_WEEK = 5, 12
GIT_ENV = {"GIT_AUTHOR_NAME": "Editor", "GIT_AUTHOR_EMAIL": "editor@example.org", "GIT_COMMITTER_NAME": "Editor",
           "GIT_COMMITTER_EMAIL": "editor@example.org", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": "/nonexistent"}


@dataclass
class Year:
    """What the fixture holds: the repository, the digests folder, the PDFs folder, and by week
    the merged picks, the editor's text of each, and the papers that were never published."""

    repo: Path
    digests: Path
    pdfs: Path
    merged: dict[str, list[str]] = field(default_factory=dict)
    editor_text: dict[str, str] = field(default_factory=dict)
    unpublished: set[str] = field(default_factory=set)
    listings: dict[str, Candidate] = field(default_factory=dict)


def editor_words(cand: Candidate) -> str:
    """The editor's own sentence for a paper: a marker only they wrote, then the abstract's start."""
    first = cand.abstract.split(". ")[0].rstrip(".")
    return f"EDITOR-NOTE-{cand.arxiv_id}: I picked this one because of one line in it: {first}."


def build_year(root: Path, weeks: int = 26, pdfs: bool = True) -> Year:
    """The repository under `root` (see the module doc) with the first `weeks` editor weeks merged."""
    shared = require_shared(FIXTURES / "editor-weeks")
    picks = json.loads((shared / "picks.json").read_text())
    year = Year(root / "digests-repo", root / "digests-repo" / "digests", root / "pdf")
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main", str(year.repo))
    for week in sorted(picks)[:weeks]:
        listing = {c.arxiv_id: c for c in read_listing(shared / f"{week}.jsonl.gz")}
        chosen = [listing[i] for i in picks[week]["picks"] if i in listing]
        published, swapped = chosen[:PICKS_PER_WEEK], chosen[PICKS_PER_WEEK:PICKS_PER_WEEK + 1]
        others = [c for i, c in sorted(listing.items()) if i not in picks[week]["picks"]][:OTHERS_PER_WEEK]
        _write_week(year.digests / week, week, published, published + swapped, others)
        year.merged[week] = [c.arxiv_id for c in published]
        year.editor_text.update((c.arxiv_id, editor_words(c)) for c in published)
        year.unpublished |= {c.arxiv_id for c in swapped + others}
        year.listings.update((c.arxiv_id, c) for c in published + swapped + others)
        if pdfs:
            for cand in published:
                _pdf(year.pdfs, cand)
    _git(year.repo, "add", "-A")
    _git(year.repo, "commit", "-qm", "merged weekly digests")
    _unmerged_draft(year, sorted(picks)[weeks] if weeks < len(picks) else None, shared)
    return year


def _write_week(folder: Path, week: str, published: list[Candidate], drafted: list[Candidate],
                others: list[Candidate]) -> None:
    sections = [Section(c.arxiv_id, name=f"Editor's name {i} of {week}", problem=editor_words(c),
                        idea="The idea is simple, as I wrote it that week.", results="The results were good.",
                        take="My take then: worth watching.") for i, c in enumerate(published, 1)]
    pages = render_pages("weekly", profile=Profile.load(), sections=sections, papers=published, banners=[], week=week)
    for name, text in pages.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    write_json(folder / "candidates.json", {"week": week, "picks": [c.arxiv_id for c in drafted],
                                            "candidates": [c.to_json() for c in drafted + others]})


def _unmerged_draft(year: Year, week: str | None, shared: Path) -> None:
    """A later week drafted on its own branch and never merged: none of its papers may count."""
    if week is None:
        return
    listing = read_listing(shared / f"{week}.jsonl.gz")[:PICKS_PER_WEEK]
    _git(year.repo, "switch", "-q", "-c", f"digest/{week}")
    _write_week(year.digests / week, week, listing, listing, [])
    _git(year.repo, "add", "-A")
    _git(year.repo, "commit", "-qm", f"draft {week}, never merged")
    _git(year.repo, "switch", "-q", "main")
    year.unpublished |= {c.arxiv_id for c in listing}


def _pdf(folder: Path, cand: Candidate) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    words = cand.abstract.encode("latin-1", "replace").decode("latin-1").split()  # the builder's font is latin-1
    lines = [cand.title[:90].encode("latin-1", "replace").decode("latin-1"), ""] + [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
    method = ["1 Introduction", "We build on earlier work and change one step of it.",
              "Figure 1: Overview of the method architecture."]
    results = ["4 Results", "Our method reaches 87.5 accuracy, 12 points above the baseline.",
               "Table 1: Results comparison on the main benchmark."]
    write_text_pdf(folder / f"{cand.versioned_id.replace('/', '_')}.pdf", [lines, method + results])


def _git(where: Path, *args: str) -> None:
    import os

    subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})
