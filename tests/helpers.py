"""Small builders shared by the unit tests (project-made data, no third-party fixtures)."""

from __future__ import annotations

from datetime import datetime, timezone

from flows.candidates.candidate import Candidate

WHEN = datetime(2026, 11, 17, 12, tzinfo=timezone.utc)


def candidate(arxiv_id: str = "2611.00001", title: str = "A paper", abstract: str = "An abstract.",
              categories=("cs.LG",), links=(), version: int = 1) -> Candidate:
    return Candidate(arxiv_id=arxiv_id, version=version, title=title, abstract=abstract,
                     authors=("Ada Lovelace", "Alan Turing"), primary_category=categories[0],
                     categories=tuple(categories), published=WHEN, updated=WHEN, links=tuple(links))
