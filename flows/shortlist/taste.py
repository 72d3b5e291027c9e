"""The editor's recorded weeks: each week's candidates.json and the final (merged) digest,
whose arXiv links are the papers the editor picked. With the imported history (archive.py)
they are what the learner (learned.py) learns the editor's taste from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flows.candidates.candidate import Candidate
from flows.candidates.ledger import ordered_ids
from flows.errors import ConfigError
from flows.files import edited_since_written
from flows.shortlist import archive, learned
from flows.shortlist.embeddings import Embedder
from flows.shortlist.learned import History, LearnedTaste


@dataclass(frozen=True)
class Week:
    """One recorded week: its candidates and what the editor finally picked."""

    name: str
    candidates: list[Candidate]
    shortlist: list[str]
    draft_picks: list[str]
    editor_picks: list[str]
    run: dict = field(default_factory=dict)
    runners_up: list[str] = field(default_factory=list)
    upvotes: dict[str, int] | None = None  # the popularity signal as the run saw it; None when it had none

    def history(self) -> History:
        """The week as the learner reads it: every candidate, the editor's picks among them, and
        the papers they were shown and did not keep (the draft's picks they swapped out or cut,
        the runners-up they did not take): hard negatives."""
        listed = {c.arxiv_id for c in self.candidates}
        picks = frozenset(self.editor_picks) & listed
        seen = (frozenset(self.draft_picks) | frozenset(self.runners_up)) & listed - picks
        return History(self.name, self.candidates, picks, seen, self.upvotes)


def recorded_weeks(digests_dir: Path, merged: Mapping[str, str] | None = None) -> list[Week]:
    """Weeks with a candidates.json and a final digest whose arXiv links are the editor's picks:
    the README.md merged into the base branch (`merged`, week -> text) when there is one, else
    the one in `digests_dir`."""
    merged = merged or {}
    weeks = []
    for folder in sorted(p for p in digests_dir.glob("*") if (p / "candidates.json").is_file()):
        record = json.loads((folder / "candidates.json").read_text(encoding="utf-8"))
        final = folder / "README.md"
        if folder.name not in merged and not final.is_file():
            continue
        text = merged.get(folder.name) or final.read_text(encoding="utf-8")
        cands = [Candidate.from_json(row) for row in record["candidates"]]
        run_file = folder / "run.json"
        run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else {}
        counts = {row["arxiv_id"]: row["upvotes"] for row in record["candidates"]
                  if type(row.get("upvotes")) is int and row["upvotes"] >= 0}
        weeks.append(Week(folder.name, cands, record.get("shortlist", []), record.get("picks", []),
                          ordered_ids(text), run, [r.get("arxiv_id") for r in record.get("runners_up", [])],
                          counts or None))
    return weeks


def edited_weeks(digests_dir: Path, merged: Mapping[str, str] | None = None) -> list[Week]:
    """Recorded weeks the editor merged into the base branch (`merged`, week -> README text) or
    whose README.md they edited since the tool wrote it: a draft nobody touched says nothing
    about their taste. Raises ConfigError when `digests_dir` is not a folder."""
    if not Path(digests_dir).is_dir():
        raise ConfigError(f"no such folder: {digests_dir}")
    merged = merged or {}
    return [w for w in recorded_weeks(digests_dir, merged)
            if w.name in merged or edited_since_written(digests_dir / w.name / "README.md")]


def editor_taste(settings, digests_dir: Path, merged: Mapping[str, str] | None, except_week: str,
                 embedder: Embedder) -> LearnedTaste | None:
    """The taste learned from the imported history (settings.history_dir) and the weeks the
    editor merged or edited, minus `except_week`; a recorded week replaces an imported one of the
    same name. Cached until that history changes; None while it holds no pick."""
    weeks = {w.name: w for w in archive.read_history(settings.history_dir)}
    if Path(digests_dir).is_dir():  # a first run has no digests folder yet
        weeks.update((w.name, w.history()) for w in edited_weeks(digests_dir, merged))
    weeks.pop(except_week, None)
    return learned.fit_cached([weeks[name] for name in sorted(weeks)], embedder, settings.cache_dir)
