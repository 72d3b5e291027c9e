"""The review's candidates: the editor's own published picks of the period, nothing else.

Each weekly digest merged into the base branch (flows/pull_request/merged.py) gives its papers
in the editor's order (flows.candidates.ledger.ordered_ids) with the editor's final text of
each; the paper's metadata comes from that week's candidates.json, else from the history
`top5 taste import` wrote (flows/shortlist/archive.py). Imported weeks with no merged digest
add their picks too, without text and without an order. Papers the editor swapped out, or
drafts never merged, are in no merged digest and so are never candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flows.candidates.candidate import Candidate, cut_note
from flows.candidates.ledger import ordered_ids
from flows.config import Settings
from flows.errors import UnreadableFile
from flows.files import editor_json, read_editor_json
from flows.pull_request import merged_pages
from flows.records import recorded_candidates
from flows.review.period import Period
from flows.shortlist import archive
from flows.summaries.exemplar import as_data

NAME_CHARS = 120  # the house style's names are a few words; a longer heading only costs tokens
_HEADING = re.compile(r"^## ", re.M)
_NAME = re.compile(r"^(?:Paper\s+\d+\s*[:.)-]\s*)?(?P<name>.*)$", re.I)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark's backslash escapes of ASCII punctuation
_NOT_TEXT = re.compile(r"^\s*(?:<img\b.*|!\[.*|> ⚠️.*|> 🖼️.*|\[Paper\]\(.*|#weeklytop5\s*)$", re.M)


@dataclass(frozen=True)
class YearPick:
    """One paper the editor published in a week of the period."""

    candidate: Candidate
    week: str
    position: int | None  # 1-based place in the editor's digest of that week; None for imported history
    of: int  # papers in that week's digest
    editor_name: str = ""  # the editor's short name of the paper ("## Paper 2: <name>")
    editor_text: str = ""  # the editor's final text of the paper, paragraphs split by blank lines
    upvotes: int | None = None  # as the weekly run recorded them

    @property
    def arxiv_id(self) -> str:
        return self.candidate.arxiv_id


@dataclass
class Gathered:
    """The period's picks (first week first, the editor's order within a week), the weeks they
    come from, and what could not be read (flags for the draft)."""

    picks: list[YearPick]
    weeks: list[str]
    flags: list[str] = field(default_factory=list)


def gather(period: Period, digests_dir: Path, settings: Settings) -> Gathered:
    """Every paper the editor published in `period`: see the module doc. A paper published in
    two weeks counts once, in its first week; one whose metadata was cut to the limits where it
    was read (Candidate.cut) is a flag. Raises ConfigError for an unreadable history."""
    merged = {w: pages for w, pages in merged_pages(digests_dir, ("README.md", "candidates.json"), settings).items()
              if period.holds_week(w) and "README.md" in pages}
    imported = {h.name: h for h in archive.read_history(settings.history_dir) if period.holds_week(h.name)}
    gathered = Gathered([], sorted(set(merged) | set(imported)))
    seen: set[str] = set()
    for week in gathered.weeks:
        if week in merged:
            found = _from_digest(week, merged[week], digests_dir, imported.get(week), gathered.flags)
        else:
            found = [YearPick(c, week, None, len(imported[week].picks)) for c in
                     sorted((c for c in imported[week].candidates if c.arxiv_id in imported[week].picks),
                            key=lambda c: c.arxiv_id)]
        gathered.picks += [p for p in found if p.arxiv_id not in seen]
        seen.update(p.arxiv_id for p in found)
    gathered.flags += [cut_note(p.candidate) for p in gathered.picks if p.candidate.cut]
    return gathered


def _from_digest(week: str, pages: dict[str, str], digests_dir: Path, history, flags: list[str]) -> list[YearPick]:
    readme = pages["README.md"]
    ids = ordered_ids(readme)
    rows = _recorded(pages.get("candidates.json"), digests_dir / week / "candidates.json", flags)
    listed = {c.arxiv_id: c for c in history.candidates} if history else {}
    texts = {}
    for arxiv_id, (name, text) in editor_sections(readme).items():
        text, notes = as_data(text, f"the editor's text of {arxiv_id} in {week}")
        name, name_notes = as_data(name, f"the editor's name of {arxiv_id} in {week}", limit=NAME_CHARS)
        texts[arxiv_id] = (name, text)
        flags += notes + name_notes
    picks = []
    for place, arxiv_id in enumerate(ids, 1):
        cand = rows.candidates.get(arxiv_id) or listed.get(arxiv_id)
        if cand is None:
            flags.append(f"{week}: {arxiv_id} is in the merged digest but in neither its candidates.json nor the "
                         "imported history, so its title and abstract are unknown; it was left out.")
            continue
        name, text = texts.get(arxiv_id, ("", ""))
        picks.append(YearPick(cand, week, place, len(ids), name, text, rows.upvotes.get(arxiv_id)))
    return picks


def editor_sections(readme: str) -> dict[str, tuple[str, str]]:
    """arXiv id -> (the editor's name of the paper, their text of it) for each `## ` section of a
    digest, the paper being the section's first arXiv link. Images, figure placeholders, draft
    notes and the paper's link line are left out of the text."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in _HEADING.split(readme)[1:]:
        heading, _, body = chunk.partition("\n")
        ids = ordered_ids(chunk)
        if not ids or ids[0] in found:
            continue
        text = re.sub(r"\n{3,}", "\n\n", _NOT_TEXT.sub("", body)).strip()
        text = _ESCAPED.sub(r"\1", text).replace("&#64;", "@")
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
        found[ids[0]] = (_NAME.match(heading.strip())["name"].strip(), "\n\n".join(paragraphs))
    return found


@dataclass(frozen=True)
class _Rows:
    candidates: dict[str, Candidate] = field(default_factory=dict)
    upvotes: dict[str, int] = field(default_factory=dict)


def _recorded(text: str | None, path: Path, flags: list[str]) -> _Rows:
    """The candidates of a merged week's candidates.json, checked as the weekly run checks them
    (flows/records.py): `text` as merged into the base branch, else the file at `path`. A file
    that is missing gives none; one that cannot be read or is damaged none either, with a flag
    naming it (its picks then come from the imported history, or are left out and flagged)."""
    try:
        record = recorded_candidates(read_editor_json(path) if text is None else editor_json(text, path), path)
    except FileNotFoundError:
        return _Rows()
    except (UnreadableFile, OSError) as exc:
        flags.append(f"{exc.message if isinstance(exc, UnreadableFile) else f'{path}: {exc}'}; the review "
                     "took that week's papers from the imported history, if any")
        return _Rows()
    return _Rows({c.arxiv_id: c for c in record.candidates}, record.upvotes)
