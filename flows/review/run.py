"""One run of the year-review flow: what it was asked (the period, the folder), the candidates it
found, its record (run.json) and its stages' timing. Built before anything is spent: a period
with no merged weekly digest, a review the editor edited, a review branch holding their commits
and another run of the same review all stop it here (ConfigError / DraftError)."""

from __future__ import annotations

import logging
from pathlib import Path

from flows import digest, pull_request, shortlist, summaries
from flows.config import Settings
from flows.errors import ConfigError
from flows.pdf import Extraction
from flows.review.candidates import Gathered, YearPick, gather
from flows.review.choose import Choice
from flows.review.period import Period, period_for
from flows.run import Run, StageIo, retry_advice
from flows.run_record import RunRecord
from flows.summaries import Section

TEN_WEEKS = 10


def gathered_or_refused(period: Period, digests_dir: Path, settings: Settings) -> Gathered:
    """The period's merged picks; ConfigError (one line) when there are none."""
    found = gather(period, digests_dir, settings)
    if not found.picks:
        raise ConfigError(f"no merged weekly digest in {period.title} ({period.start} to {period.end}) in "
                          f"{digests_dir} or the imported history: nothing to review. Merge some weeks first, "
                          "or pick another period (--from/--to).")
    return found


class ReviewRun:
    """A context manager like flows.run.Run (whose stage timing it borrows): leaving it releases
    the review's lock."""

    stage = Run.stage
    downloaded = Run.downloaded
    no_pr_reason = Run.no_pr_reason

    def __init__(self, settings: Settings, log: logging.Logger, *, year, start: str | None, end: str | None,
                 digests_dir: str, style: str, open_pr: bool) -> None:
        self.log, self.period = log, period_for(year, start, end)
        summaries.digest_style_dir(style, review=True)
        self.digests_dir = Path(digests_dir).resolve()
        self.gathered = gathered_or_refused(self.period, self.digests_dir, settings)
        self.folder = self.digests_dir / self.period.label
        self.lock = digest.WeekLock(self.folder, settings.cache_dir).acquire()
        try:
            digest.check_unedited(self.folder, advice=retry_advice())
            self.open_pr = open_pr and pull_request.proposing(self.folder)
            if self.open_pr:
                pull_request.check_branch(self.folder)
        except BaseException:
            self.lock.release()
            raise
        self.record = RunRecord(self.period.label, (self.period.start.isoformat(), self.period.end.isoformat()),
                                [], style)
        self.record.flags += self.gathered.flags
        self.record.counts.update(weeks=len(self.gathered.weeks), candidates=len(self.gathered.picks))
        if len(self.gathered.weeks) < TEN_WEEKS:
            self.record.flags.append(f"Drawn from only {len(self.gathered.weeks)} merged weeks of {self.period.title} "
                                     f"({len(self.gathered.picks)} papers): the review covers what there is.")
        self.profile = shortlist.Profile.load(settings.profile)
        self.merged = pull_request.merged_readmes(self.digests_dir, settings)
        self.voice = summaries.voice_for(style)
        self.record.exemplar = self.voice.exemplar_source
        self.by_id = {p.arxiv_id: p for p in self.gathered.picks}
        self._io = StageIo()

    def __enter__(self) -> ReviewRun:
        return self

    def __exit__(self, *exc) -> None:
        self.lock.release()

    def pick(self, arxiv_id: str) -> YearPick:
        return self.by_id[arxiv_id]

    def chosen(self, choice: Choice) -> Choice:
        """The tournament's flags and counts join the record."""
        self.record.flags += choice.ranking.flags
        self.record.counts.update(shortlist=len(choice.ranking.ranked), picks=len(choice.ranking.picks))
        self._io = StageIo(len(self.gathered.picks), len(choice.ranking.picks))
        return choice

    def read(self, texts: dict[str, Extraction]) -> dict[str, Extraction]:
        """Counts the top three whose PDF text could be read."""
        self.record.counts["pdf_text"] = sum(1 for t in texts.values() if t.text is not None)
        self._io = StageIo(len(texts), self.record.counts["pdf_text"])
        return texts

    def written(self, sections: list[Section], llm) -> None:
        """Each section's notes become flags; the LLM's flags and token usage join the record."""
        self.record.flags += [f"Paper {i}, {s.arxiv_id}: {note}" for i, s in enumerate(sections, 1)
                              for note in s.notes] + llm.flags
        self.record.llm = llm.describe()
        self.record.tokens = llm.usage.to_json()
        self._io = StageIo(len(sections), len(sections))
