"""The run: what a run was asked to do (window, week folder, profile, voice), its record (what
run.json will say, filled stage by stage), and each stage's timing ("N in, M out, T s").

The flow (flows/weekly_digest.py) alone knows the order of the stages; this module keeps the
bookkeeping out of it. Only the flow's own body mutates a Run, never a task.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flows import candidates, digest, preflight, progress, pull_request, shortlist, summaries
from flows.config import Settings
from flows.errors import Stopped, Top5Error
from flows.run_record import RunRecord, first_stage


@dataclass
class StageIo:
    """How many items went into a stage and came out of it, for the log line."""

    went_in: int = 0
    came_out: int = 0


class Run:
    """One run of the weekly-digest flow. Built before anything is spent: no other run holds the
    week, the window is valid, the week's folder holds no edits of the editor and its draft branch
    none of their commits (DraftError otherwise). A context manager: leaving it releases the week,
    and a run left on a signal (SIGTERM, Ctrl-C) raises Stopped, which says what was kept."""

    def __init__(self, settings: Settings, log: logging.Logger, *, week: str | None, start: str | None,
                 end: str | None, categories: list[str] | None, top_k: int, digests_dir: str, style: str | None,
                 open_pr: bool) -> None:
        asked = preflight.check_run(week=week, start=start, end=end, categories=categories, top_k=top_k,
                                    digests_dir=digests_dir, style=style, settings=settings)
        self.log, self.top_k, self.categories, style = log, top_k, asked.categories, asked.style
        week = asked.week
        self.window = (candidates.window_between(start, end) if start and end
                       else candidates.window_for_week(week or candidates.last_complete_week()))
        self.week = week or (_calendar_week(self.window.start) if start else self.window.label)
        self.folder = _resolve(digests_dir) / self.week
        self.digests_dir = self.folder.parent
        self.lock = digest.WeekLock(self.folder, settings.cache_dir).acquire()  # released by __exit__, or below on failure
        try:
            self._prepare(settings, style, open_pr)
        except BaseException:
            self.lock.release()
            raise

    def _prepare(self, settings: Settings, style: str | None, open_pr: bool) -> None:
        if synced := pull_request.sync(self.digests_dir, settings).message:  # read and write the merged text
            self.log.info("%s", synced)
        digest.check_unedited(self.folder, advice=retry_advice())
        self.open_pr = open_pr and pull_request.proposing(self.folder)
        if self.open_pr:
            pull_request.check_branch(self.folder)
        self.record = RunRecord(self.week, (self.window.start.isoformat(), self.window.end.isoformat()),
                                self.categories, style)
        self.profile = shortlist.Profile.load(settings.profile)
        self.merged = pull_request.merged_readmes(self.digests_dir)  # the editor's final digests
        self.voice = summaries.voice_for(style, self.digests_dir, except_week=self.week, merged=self.merged)
        self.record.exemplar = self.voice.exemplar_source
        self.record.flags += [f"Exemplar: {note}" for note in self.voice.notes]
        self.picks: list[candidates.Candidate] = []
        self._io, self._stage = StageIo(), ""

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind, exc, traceback) -> None:
        self.lock.release()
        if (signum := _signal_of(exc)) is not None:
            raise Stopped(self._stopped_line(signum), signum) from None

    def _stopped_line(self, signum: int) -> str:
        where = f"during stage {self._stage}" if self._stage else "before its first stage"
        folder = ("holds the whole new draft or is as it was (it is written at once)" if self._stage == "digest"
                  else "is as it was")
        return (f"stopped by {signal.Signals(signum).name} {where}: {self.week}'s folder {folder}; the PDFs, their "
                "text and the LLM answers received so far are kept in the cache (TOP5_CACHE_DIR), and the next "
                "run reuses them")

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Times the block as stage `name` (s, in run.json) and logs what went in and came out."""
        began, self._io, self._stage = time.perf_counter(), StageIo(), name
        self.log.info("stage %s ...", name)
        yield
        self.record.seconds[name] = time.perf_counter() - began
        self.log.info("stage %s: %d in, %d out, %.1f s", name, self._io.went_in, self._io.came_out,
                      self.record.seconds[name])

    def new_candidates(self, found: list[candidates.Candidate]) -> list[candidates.Candidate]:
        """`found` minus the papers featured in any digest, drafted here or merged on the base branch;
        each new paper whose metadata was cut to the limits (Candidate.cut) becomes a flag."""
        featured = candidates.featured_ids(self.digests_dir, except_week=self.week)
        featured |= pull_request.covered_on_main(self.digests_dir, except_week=self.week)
        fresh = [c for c in found if c.arxiv_id not in featured]
        self.record.flags += [candidates.cut_note(c) for c in fresh if c.cut]
        self.record.counts.update(candidates=len(found), new=len(fresh), featured_before=len(found) - len(fresh))
        self._io = StageIo(len(found), len(fresh))
        return fresh

    def nothing_new(self) -> None:
        """Logs why there is no draft: arXiv had no papers (an empty answer it gave again after a
        pause), or every paper was featured before."""
        found = self.record.counts.get("candidates", 0)
        why = (f"all {found} papers were featured in earlier digests" if found else
               f"arXiv answered no papers in {', '.join(self.categories)}, again after a pause")
        self.log.warning("no new papers between %s and %s (%s): no draft written",
                         self.window.start.isoformat(), self.window.end.isoformat(), why)

    def signal(self, upvotes: tuple[dict[str, int], str | None]) -> dict[str, int]:
        """The popularity signal (arXiv id -> upvotes); its absence becomes a flag."""
        counts, missing = upvotes
        self.record.flags += [missing] if missing else []
        return counts

    def tasted(self, learned: tuple, upvotes: dict[str, int]):
        """The learned taste (or None) of (taste, what of the history could not be read); the
        unread files become flags, and what stage 1 will score with goes into the record."""
        taste, unread = learned
        self.record.flags += unread
        self.record.first_stage = first_stage(taste is not None, bool(upvotes))
        return taste

    def ranked(self, ranking: shortlist.Ranking, fresh: int) -> shortlist.Ranking:
        """The ranking with the editor's earlier swaps applied; the picks are kept on the run."""
        self.record.swaps = digest.previous_swaps(self.folder, self.record.flags)
        ranking = shortlist.apply_swaps(ranking, self.record.swaps)
        self.picks = [s.candidate for s in ranking.picks]
        self.record.counts.update(shortlist=len(ranking.ranked), picks=len(self.picks))
        self.record.flags += ranking.flags
        if len(self.picks) < self.top_k:
            self.record.flags.append(f"Only {len(self.picks)} new papers this week: the draft has "
                                     f"{len(self.picks)} sections, not {self.top_k}.")
        self._io = StageIo(fresh, len(self.picks))
        return ranking

    def downloaded(self, pdfs: dict) -> dict:
        """Counts the papers asked for and those whose PDF arrived (arXiv id -> path, or the
        PdfError that says why not)."""
        self._io = StageIo(len(pdfs), sum(1 for p in pdfs.values() if isinstance(p, Path)))
        return pdfs

    def read(self, texts: dict) -> dict:
        """Counts the picks whose PDF text could be read (arXiv id -> Extraction); one line per paper."""
        for cand in self.picks:
            self.log.info("%s", progress.read_line(cand.arxiv_id, texts.get(cand.arxiv_id)))
        self.record.counts["pdf_text"] = sum(1 for t in texts.values() if t.text is not None)
        self._io = StageIo(len(texts), self.record.counts["pdf_text"])
        return texts

    def summarized(self, sections: list[summaries.Section], llm) -> list[summaries.Section]:
        """Each section's notes become flags; the LLM's own flags and token usage join the record."""
        self.record.flags += [f"Paper {i}, {s.arxiv_id}: {note}" for i, s in enumerate(sections, 1)
                              for note in s.notes]
        self.record.flags += llm.flags
        self.record.llm = llm.describe()  # again: what the run learnt (the JSON mode the backend took)
        self.record.tokens = llm.usage.to_json()
        self.record.counts.update(progress.counts(sections))
        self._io = StageIo(len(sections), self.record.counts["sections_by_model"])
        return sections

    @property
    def no_pr_reason(self) -> str:
        return (f"no pull request: {self.folder} is not in a git repository (or --no-pr); "
                "set TOP5_DIGESTS_REPO")


def refused(error: Top5Error):
    """The Failed state a refused run ends in (Cancelled for a stopped one): its one-line message
    in the Prefect log and UI, no traceback; calling the flow raises `error` again."""
    from prefect.states import Cancelled, Failed

    return (Cancelled if isinstance(error, Stopped) else Failed)(message=error.message, data=error)


def _signal_of(exc: BaseException | None) -> int | None:
    """The signal that `exc` stands for: SIGINT for Ctrl-C, the signal of Prefect's
    TerminationSignal (raised by the SIGTERM handler Prefect installs while a flow runs); else None."""
    from prefect.exceptions import TerminationSignal

    if isinstance(exc, KeyboardInterrupt):
        return getattr(exc, "signal", signal.SIGINT)
    return exc.signal if isinstance(exc, TerminationSignal) else None


def retry_advice() -> str:
    """How to draft a refused week again, in the terms of how this run was started."""
    from prefect.runtime import deployment

    if deployment.id:
        return f"run the deployment {deployment.name!r} with another digests_dir parameter"
    return "pass another --digests-dir"


def _calendar_week(when) -> str:
    """An explicit date range is filed under the calendar ISO week it starts in."""
    year, number, _ = when.date().isocalendar()
    return f"{year}-W{number:02d}"


def _resolve(digests_dir: str) -> Path:
    path = Path(digests_dir)
    return path if path.is_absolute() else Path.cwd() / path
