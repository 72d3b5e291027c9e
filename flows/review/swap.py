"""`top5 swap` into a review: the new paper's section written as `top5 review` writes it (at
length from its PDF for the top three, one paragraph for the others, the editor's weekly text
kept), by the review's own Writer, and its reason put where the review's pages show it."""

from __future__ import annotations

from pathlib import Path

from flows.candidates.candidate import Candidate
from flows.config import Settings
from flows.errors import ConfigError
from flows.pdf import Extraction
from flows.review.candidates import gather
from flows.review.pages import DEEP
from flows.review.period import period_of
from flows.review.writing import Writer
from flows.shortlist.ranking import Profile
from flows.summaries import Section, voice_for


class ReviewSwap:
    """Paper `arxiv_id` (a candidate of the review in `folder`, with the LLM's `reason`) written
    as paper `position` of that review in `style`. Raises ConfigError, before anything is spent,
    when the paper is no longer in a merged weekly digest of the period (its editor's text is gone)."""

    def __init__(self, folder: Path, position: int, arxiv_id: str, reason: str, settings: Settings,
                 style: str) -> None:
        self.period = period_of(folder.name)
        picks = {p.arxiv_id: p for p in gather(self.period, folder.parent, settings).picks}
        if arxiv_id not in picks:
            raise ConfigError(f"{arxiv_id} is in no merged weekly digest of {self.period.title} any more, so the "
                              f"review cannot quote the editor's text of it: choose another runner-up, or run "
                              f"`top5 review` again")
        self.pick, self.position, self.reason = picks[arxiv_id], position, reason
        self.voice, self.profile = voice_for(style), Profile.load(settings.profile)

    @property
    def reads_pdf(self) -> bool:
        """Whether the section is one of the top three, written from the PDF text."""
        return self.position <= DEEP

    def section(self, cand: Candidate, extraction: Extraction | None, llm) -> Section:
        writer = Writer(llm, self.profile, self.voice, self.period.title)
        if self.reads_pdf:
            return writer.deep(self.pick, extraction, self.reason)
        return writer.paragraph(self.pick, self.reason)

    def extra(self, extra: dict | None, removed: str) -> dict | None:
        """The review's sections.json "extra" with the swapped-in paper's reason in place of the removed one's."""
        if extra is None:
            return None
        reasons = {k: v for k, v in extra.get("reasons", {}).items() if k != removed}
        return {**extra, "reasons": {**reasons, self.pick.arxiv_id: self.reason}}

    def flags(self) -> list[str]:
        return [f"Paper {self.position}: the opening on the themes of {self.period.title} was written for the "
                "earlier picks; check it still fits."]
