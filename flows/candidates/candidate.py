"""Candidates: the week's papers as the pipeline sees them, one per arXiv id.

A paper's metadata is written by its authors and reaches the tool from outside (arXiv's feed,
a week's candidates.json, the history's listings), so every candidate made from outside input
passes `within_limits` once, where it is made: a field longer than its limit below is cut there,
and the candidate names what was cut (`Candidate.cut`, a flag of the draft). One 1.9 MB abstract
otherwise costs gigabytes downstream (the embedding pads a batch to its longest text)."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from flows.text import clip, find_links

log = logging.getLogger(__name__)

# The most of each field a candidate keeps, in characters: generous against what arXiv takes, so
# that no real paper is cut (the 60,431 candidates of 28 real weeks in shared/fixtures/editor-weeks
# have at most a 240-character title, a 3,488-character abstract, a 410-character comment, 3,303
# authors, a 512-character author name, 41,524 characters of authors in all). arXiv's submission
# form takes at most 1,920 characters of abstract; older papers and replacements run longer.
TEXT_LIMITS = {
    "title": 1_000,  # arXiv documents no limit: titles are one line, under 300 characters
    "abstract": 10_000,  # five times arXiv's 1,920
    "comment": 2_000,  # "12 pages, 5 figures, accepted at ...": a few hundred characters
    "journal_ref": 1_000,
    "doi": 1_000,
    "primary_category": 100,  # a taxonomy term: cond-mat.str-el is 15
}
# Lists: (most items, most characters of each, most characters of all together).
LIST_LIMITS = {
    "authors": (6_000, 1_000, 200_000),  # the largest collaborations: ATLAS and CMS together, 5,154 authors
    "categories": (100, 1_000, 10_000),  # a few categories; MSC and ACM classes (imported listings) run to 154
    "links": (100, 2_000, 20_000),  # code and project pages: a handful of URLs
}

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
    cut: tuple[str, ...] = field(default=())  # what within_limits cut, one line a field ("abstract: ...")

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
        data["cut"] = list(self.cut)
        if not self.cut:  # rows of papers nothing was cut of stay as they were
            del data["cut"]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Candidate:
        """From to_json(), or a candidates.json row (its scores and other keys are left out), cut
        to the limits (within_limits). Raises KeyError, TypeError or ValueError for a row of
        another shape."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return within_limits(cls(
            **{
                **fields,
                "published": datetime.fromisoformat(data["published"]),
                "updated": datetime.fromisoformat(data["updated"]),
                "authors": tuple(data["authors"]),
                "categories": tuple(data["categories"]),
                "links": tuple(data.get("links", ())),
                "cut": tuple(clip(line) for line in list(data.get("cut") or ())[:len(TEXT_LIMITS) + len(LIST_LIMITS)]),
            }
        ))


def within_limits(cand: Candidate) -> Candidate:
    """`cand` with each text longer than TEXT_LIMITS, and each list past LIST_LIMITS, cut to its
    limit (a cut text ends with "…"), each cut named in `cut` and logged; `cand` itself when
    nothing is over. Fields that are not strings (a damaged row) are left for the caller's checks."""
    try:
        if _within(cand):  # nearly every paper: nothing to do
            return cand
    except TypeError:  # a field with no length (a damaged row): looked at one by one below
        pass
    changes: dict = {}
    cut: list[str] = []
    for name, limit in TEXT_LIMITS.items():
        value = getattr(cand, name)
        if isinstance(value, str) and len(value) > limit:
            changes[name] = within_limit(name, value)
            cut.append(f"{name}: {len(value):,} characters, cut to {limit:,}")
    for name, limits in LIST_LIMITS.items():
        kept, note = _list_within(getattr(cand, name), *limits)
        if note:
            changes[name] = kept
            cut.append(f"{name}: {note}")
    if not cut:
        return cand
    log.warning("%s: over-long metadata cut: %s", cand.arxiv_id, "; ".join(cut))
    return replace(cand, **changes, cut=cand.cut + tuple(cut))


def within_limit(name: str, text: str) -> str:
    """`text`, the field `name` of a candidate (a key of TEXT_LIMITS), cut as within_limits cuts it."""
    return text if len(text) <= TEXT_LIMITS[name] else clip(text, TEXT_LIMITS[name])


def links_kept(comment: str, abstract: str) -> tuple[str, ...]:
    """The code and project links (flows.text.find_links) in what within_limits keeps of a
    paper's `comment` and `abstract`: a link in a part that is cut is not the paper's."""
    return find_links(f"{within_limit('comment', comment)} {within_limit('abstract', abstract)}")


def _within(cand: Candidate) -> bool:
    """Whether every field of `cand` is within its limit; TypeError when one has no length."""
    return all(len(getattr(cand, name)) <= limit for name, limit in TEXT_LIMITS.items()) and \
        all(_list_fits(getattr(cand, name), *limits) for name, limits in LIST_LIMITS.items())


def _list_fits(values: tuple, most: int, each: int, together: int) -> bool:
    return len(values) <= most and max(map(len, values), default=0) <= each and sum(map(len, values)) <= together


def _list_within(values: tuple, most: int, each: int, together: int) -> tuple[tuple, str]:
    """`values` cut to its first `most` items, each to `each` characters and `together` in all;
    and what was cut ("" when nothing was)."""
    kept, used = [], 0
    for value in values[:most]:
        value = clip(value, each) if isinstance(value, str) and len(value) > each else value
        used += len(value) if isinstance(value, str) else 0
        if used > together:
            break
        kept.append(value)
    if len(kept) == len(values) and all(a is b for a, b in zip(kept, values)):
        return values, ""
    chars = sum(len(v) for v in values if isinstance(v, str))
    return tuple(kept), (f"{len(values):,} items, {chars:,} characters, cut to the first {len(kept):,} "
                         f"(limits: {most:,} items of at most {each:,} characters, {together:,} in all)")


def cut_note(cand: Candidate) -> str:
    """The draft's flag for a candidate whose metadata was cut to the limits (cand.cut not empty)."""
    return (f"{cand.arxiv_id}: its metadata was longer than any real paper's and was cut where it was read "
            f"(flows/candidates/candidate.py; arXiv takes at most 1,920 characters of abstract): {'; '.join(cand.cut)}")


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
