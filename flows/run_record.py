"""The run: what a run was asked to do (window, week folder, profile, voice), what run.json says
about it (the record, filled stage by stage), and each stage's timing ("N in, M out, T s").

The flow (flows/weekly_digest.py) alone knows the order of the stages; this module keeps the
bookkeeping out of it. Only the flow's own body mutates a Run, never a task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flows import candidates, digest, progress, prompts, pull_request, shortlist, summaries
from flows.config import PROMPTS_DIR, Settings

PROMPT_FILES = ("rank_system.j2", "rank_user.j2", "summary_system.j2", "summary_user.j2", "profile.toml")
STYLE_FILES = ("digest.md.j2", "papers.md.j2", "style.md", "exemplar.md")


@dataclass
class RunRecord:
    """What run.json says about a run; the flow fills it stage by stage."""

    week: str
    window: tuple[str, str]
    categories: list[str]
    style: str = "weekly"
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    llm: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    exemplar: str = ""
    swaps: list[dict] = field(default_factory=list)  # the editor's swaps, kept across re-drafts

    def to_json(self, written: dict[str, str]) -> dict:
        return {
            "week": self.week,
            "window": {"start": self.window[0], "end": self.window[1]},
            "categories": self.categories,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "llm": self.llm,
            "style": self.style,
            "exemplar": self.exemplar,
            "prompt_hashes": prompt_hashes(self.style),
            "counts": self.counts,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "tokens": self.tokens,
            "flags": self.flags,
            "swaps": self.swaps,
            "written": written,
        }


def prompt_hashes(style: str) -> dict[str, str]:
    hashes = {name: prompts.template_hash(name) for name in PROMPT_FILES}
    hashes.update({f"styles/{style}/{name}": prompts.template_hash(f"styles/{style}/{name}")
                   for name in STYLE_FILES if (PROMPTS_DIR / "styles" / style / name).is_file()})
    return hashes




@dataclass
class StageIo:
    """How many items went into a stage and came out of it, for the log line."""

    went_in: int = 0
    came_out: int = 0


class Run:
    """One run of the weekly-digest flow. Built before anything is spent: the window is valid,
    the week's folder holds no edits of the editor and its draft branch none of their commits
    (DraftError otherwise)."""

    def __init__(self, settings: Settings, log: logging.Logger, *, week: str | None, start: str | None,
                 end: str | None, categories: list[str], top_k: int, digests_dir: str, style: str | None,
                 open_pr: bool) -> None:
        self.log, self.top_k, self.categories = log, top_k, list(categories)
        self.window = (candidates.window_between(start, end) if start and end
                       else candidates.window_for_week(week or candidates.last_complete_week()))
        self.week = week or (_calendar_week(self.window.start) if start else self.window.label)
        self.folder = _resolve(digests_dir) / self.week
        self.digests_dir = self.folder.parent
        digest.check_unedited(self.folder)
        self.open_pr = open_pr and pull_request.proposing(self.folder)
        if self.open_pr:
            pull_request.check_branch(self.folder)
        style = style or settings.style
        self.record = RunRecord(self.week, (self.window.start.isoformat(), self.window.end.isoformat()),
                                self.categories, style)
        self.profile = shortlist.Profile.load()
        self.merged = pull_request.merged_readmes(self.digests_dir)  # the editor's final digests
        self.voice = summaries.voice_for(style, self.digests_dir, except_week=self.week, merged=self.merged)
        self.record.exemplar = self.voice.exemplar_source
        self.picks: list[candidates.Candidate] = []
        self._io = StageIo()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Times the block as stage `name` (s, in run.json) and logs what went in and came out."""
        began, self._io = time.perf_counter(), StageIo()
        self.log.info("stage %s ...", name)
        yield
        self.record.seconds[name] = time.perf_counter() - began
        self.log.info("stage %s: %d in, %d out, %.1f s", name, self._io.went_in, self._io.came_out,
                      self.record.seconds[name])

    def new_candidates(self, found: list[candidates.Candidate]) -> list[candidates.Candidate]:
        """`found` minus the papers featured in any digest, drafted here or merged on the base branch."""
        featured = candidates.featured_ids(self.digests_dir, except_week=self.week)
        featured |= pull_request.covered_on_main(self.digests_dir, except_week=self.week)
        fresh = [c for c in found if c.arxiv_id not in featured]
        self.record.counts.update(candidates=len(found), new=len(fresh), featured_before=len(found) - len(fresh))
        self._io = StageIo(len(found), len(fresh))
        return fresh

    def nothing_new(self) -> None:
        self.log.warning("no new papers between %s and %s: no draft written",
                         self.window.start.isoformat(), self.window.end.isoformat())

    def signal(self, upvotes: tuple[dict[str, int], str | None]) -> dict[str, int]:
        """The popularity signal (arXiv id -> upvotes); its absence becomes a flag."""
        counts, missing = upvotes
        self.record.flags += [missing] if missing else []
        return counts

    def ranked(self, ranking: shortlist.Ranking, fresh: int) -> shortlist.Ranking:
        """The ranking with the editor's earlier swaps applied; the picks are kept on the run."""
        self.record.swaps = digest.previous_swaps(self.folder)
        ranking = shortlist.apply_swaps(ranking, self.record.swaps)
        self.picks = [s.candidate for s in ranking.picks]
        self.record.counts.update(shortlist=len(ranking.ranked), picks=len(self.picks))
        self.record.flags += ranking.flags
        if len(self.picks) < self.top_k:
            self.record.flags.append(f"Only {len(self.picks)} new papers this week: the draft has "
                                     f"{len(self.picks)} sections, not {self.top_k}.")
        self._io = StageIo(fresh, len(self.picks))
        return ranking

    def read(self, texts: dict) -> dict:
        """Counts the picks whose PDF text could be read; one line per paper."""
        for cand in self.picks:
            self.log.info("%s", progress.read_line(cand.arxiv_id, texts.get(cand.arxiv_id)))
        self.record.counts["pdf_text"] = sum(1 for t in texts.values() if t.text is not None)
        self._io = StageIo(len(self.picks), self.record.counts["pdf_text"])
        return texts

    def summarized(self, sections: list[summaries.Section], llm) -> list[summaries.Section]:
        """Each section's notes become flags; the LLM's own flags and token usage join the record."""
        self.record.flags += [f"Paper {i}, {s.arxiv_id}: {note}" for i, s in enumerate(sections, 1)
                              for note in s.notes]
        self.record.flags += llm.flags
        self.record.tokens = llm.usage.to_json()
        self.record.counts.update(progress.counts(sections))
        self._io = StageIo(len(sections), sum(1 for s in sections if not s.notes))
        return sections

    @property
    def no_pr_reason(self) -> str:
        return (f"no pull request: {self.folder} is not in a git repository (or --no-pr); "
                "set TOP5_DIGESTS_REPO")


def _calendar_week(when) -> str:
    """An explicit date range is filed under the calendar ISO week it starts in."""
    year, number, _ = when.date().isocalendar()
    return f"{year}-W{number:02d}"


def _resolve(digests_dir: str) -> Path:
    path = Path(digests_dir)
    return path if path.is_absolute() else Path.cwd() / path
