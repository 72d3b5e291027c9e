"""The editor's recorded weeks: each week's candidates.json and the final (merged) digest,
whose arXiv links are the papers the editor picked. With the imported history (archive.py)
they are what the learner (learned.py) learns the editor's taste from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flows.candidates.candidate import Candidate
from flows.candidates.ledger import ordered_ids
from flows.candidates.week import is_week_label
from flows.errors import ConfigError, DraftError, UnreadableFile
from flows.files import edited_since_written, read_editor_json, read_editor_text
from flows.records import read_record, recorded_candidates
from flows.shortlist import archive, learned
from flows.shortlist.embeddings import Embedder
from flows.shortlist.learned import History, LearnedTaste

log = logging.getLogger(__name__)


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


def recorded_weeks(digests_dir: Path, merged: Mapping[str, str] | None = None,
                   skipped: list[str] | None = None) -> list[Week]:
    """Weeks with a candidates.json and a final digest whose paper links are the editor's picks:
    the README.md merged into the base branch (`merged`, week -> text) when there is one, else
    the one in `digests_dir`. A week whose files cannot be read (merge-conflict markers, cut
    short, another shape) is left out and a README in another encoding read as detected; each
    with one line naming the file and what to do appended to `skipped` (and logged)."""
    merged = merged or {}
    weeks = []
    for folder in sorted(p for p in digests_dir.glob("*") if (p / "candidates.json").is_file()
                         and is_week_label(p.name)):  # a year in review is not a week
        final = folder / "README.md"
        if folder.name not in merged and not final.is_file():
            continue
        try:
            weeks.append(_recorded(folder, merged.get(folder.name), skipped))
        except (UnreadableFile, OSError) as exc:
            _note(skipped, f"week {folder.name} left out of the taste: "
                           f"{exc.message if isinstance(exc, UnreadableFile) else exc}")
    return weeks


def _recorded(folder: Path, merged_text: str | None, skipped: list[str] | None) -> Week:
    path = folder / "candidates.json"
    record = recorded_candidates(read_editor_json(path), path)
    if merged_text is None:
        read = read_editor_text(folder / "README.md")
        merged_text = read.text
        if read.note:
            _note(skipped, read.note)
    run = {}
    if (folder / "run.json").is_file():
        try:
            run = read_record(folder, "run.json")
        except (UnreadableFile, DraftError) as exc:
            _note(skipped, f"{exc.message} (its token counts are left out)")
    return Week(folder.name, record.candidates, record.shortlist, record.picks, ordered_ids(merged_text), run,
                record.runners_up, record.upvotes or None)


def _note(skipped: list[str] | None, why: str) -> None:
    log.warning("%s", why)
    if skipped is not None:
        skipped.append(why)


def edited_weeks(digests_dir: Path, merged: Mapping[str, str] | None = None,
                 skipped: list[str] | None = None) -> list[Week]:
    """Recorded weeks the editor merged into the base branch (`merged`, week -> README text) or
    whose README.md they edited since the tool wrote it: a draft nobody touched says nothing
    about their taste. Raises ConfigError when `digests_dir` is not a folder."""
    if not Path(digests_dir).is_dir():
        raise ConfigError(f"no such folder: {digests_dir}")
    merged = merged or {}
    return [w for w in recorded_weeks(digests_dir, merged, skipped)
            if w.name in merged or edited_since_written(digests_dir / w.name / "README.md")]


def editor_taste(settings, digests_dir: Path, merged: Mapping[str, str] | None, except_week: str,
                 embedder: Embedder, skipped: list[str] | None = None) -> LearnedTaste | None:
    """The taste learned from the imported history (settings.history_dir) and the weeks the
    editor merged or edited, minus `except_week`; a recorded week replaces an imported one of the
    same name. Cached until that history changes; None while it holds no pick. What could not be
    read is left out, one line each in `skipped` (for the draft's flags)."""
    try:
        weeks = {w.name: w for w in archive.read_history(settings.history_dir, skipped)}
    except UnreadableFile as exc:
        _note(skipped, f"the imported history is left out of the taste: {exc.message}")
        weeks = {}
    if Path(digests_dir).is_dir():  # a first run has no digests folder yet
        weeks.update((w.name, w.history()) for w in edited_weeks(digests_dir, merged, skipped))
    weeks.pop(except_week, None)
    return learned.fit_cached([weeks[name] for name in sorted(weeks)], embedder, settings.cache_dir)
