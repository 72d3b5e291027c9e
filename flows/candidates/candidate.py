"""Candidates: the week's papers as the pipeline sees them, one per arXiv id."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

_VERSIONED = re.compile(r"^(?P<id>.+?)(?:v(?P<version>\d+))?$")


def split_version(arxiv_id: str) -> tuple[str, int | None]:
    """'2306.07400v2' -> ('2306.07400', 2); 'hep-ph/0301050' -> ('hep-ph/0301050', None)."""
    match = _VERSIONED.match(arxiv_id.strip())
    version = match.group("version")
    return match.group("id"), int(version) if version else None


@dataclass(frozen=True)
class Candidate:
    """One paper of the week. `arxiv_id` has no version: a new version is not a new paper."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    primary_category: str
    categories: tuple[str, ...]
    published: datetime
    updated: datetime
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    links: tuple[str, ...] = field(default=())  # code and project pages found in the metadata

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def code_links(self) -> tuple[str, ...]:
        return tuple(u for u in self.links if re.search(r"//(www\.)?(github|gitlab)\.com/", u))

    @property
    def project_links(self) -> tuple[str, ...]:
        return tuple(u for u in self.links if u not in self.code_links)

    def to_json(self) -> dict:
        data = asdict(self)
        data["published"] = self.published.isoformat()
        data["updated"] = self.updated.isoformat()
        data["authors"] = list(self.authors)
        data["categories"] = list(self.categories)
        data["links"] = list(self.links)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Candidate:
        """From to_json(), or a candidates.json row (its scores and other keys are left out)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(
            **{
                **fields,
                "published": datetime.fromisoformat(data["published"]),
                "updated": datetime.fromisoformat(data["updated"]),
                "authors": tuple(data["authors"]),
                "categories": tuple(data["categories"]),
                "links": tuple(data.get("links", ())),
            }
        )


def merge(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per arXiv id: the newest version wins, categories are united.

    The same id arrives twice when a paper is cross-listed in two of the queried categories
    or comes from two sources; it is still one paper.
    """
    by_id: dict[str, Candidate] = {}
    for cand in candidates:
        seen = by_id.get(cand.arxiv_id)
        if seen is None:
            by_id[cand.arxiv_id] = cand
            continue
        newer, older = (cand, seen) if cand.version > seen.version else (seen, cand)
        categories = newer.categories + tuple(c for c in older.categories if c not in newer.categories)
        links = newer.links + tuple(u for u in older.links if u not in newer.links)
        by_id[cand.arxiv_id] = replace(newer, categories=categories, links=links)
    return list(by_id.values())
