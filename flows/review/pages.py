"""The review's folder, digests/<label>/, laid out as a week's so every tool that reads a week
reads it (`top5 show`, `top5 swap`, `top5 render`, the pull request):

  README.md        the review: the year's themes (a draft), the top three at length, the seven others
  papers.md        the companion page: titles, links, abstracts, the week each paper was featured
  figures/         the top three's method and results figures, cut from their PDFs
  sections.json    the sections, and the opening, weeks and reasons the pages show ("extra")
  candidates.json  every candidate (the period's merged picks) with its signals and the LLM's reason
  run.json         what made the review: counts, model, prompt hashes, tokens, seconds, flags

Written through flows/digest/pages.py: an edited page stops the run, a replaced figure is kept.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from flows.digest.figures import with_all_images
from flows.digest.pages import check_unedited, write_pages
from flows.files import write_json
from flows.review.candidates import Gathered
from flows.review.choose import Choice
from flows.review.period import Period
from flows.review.writing import Opening
from flows.run_record import RunRecord
from flows.summaries import Section

DEEP = 3  # papers discussed at length


def write_review(folder: Path, *, period: Period, profile, choice: Choice, gathered: Gathered,
                 sections: list[Section], opening: Opening, record: RunRecord, offline: bool,
                 pdfs: dict[str, Path]) -> Path:
    """Write the review into `folder` (see the module doc); returns its README.md. Raises
    DraftError, before writing anything, when the editor changed a page the tool wrote."""
    check_unedited(folder)
    deep, images = with_all_images(folder, sections[:DEEP], pdfs)
    sections = deep + sections[DEEP:]
    ranking = choice.ranking
    extra = {"period": period.title, "weeks": len(gathered.weeks), "candidates": len(gathered.picks),
             "signals_only": offline, "opening": opening.to_json(),
             "reasons": {s.candidate.arxiv_id: s.reason for s in ranking.picks},
             "featured": {p.arxiv_id: p.week for p in gathered.picks}}
    written, flags = write_pages(folder, record.style, profile, sections, [s.candidate for s in ranking.picks],
                                 offline, extra, first_stage=["the signals named below"])
    record.flags += flags
    weeks = {p.arxiv_id: p for p in gathered.picks}
    place = {s.candidate.arxiv_id: i for i, s in enumerate(ranking.ranked, 1)}
    reasons = {s.candidate.arxiv_id: s.reason for s in ranking.picks + ranking.runners_up}
    write_json(folder / "candidates.json", {
        "week": record.week,
        "weeks": gathered.weeks,
        "picks": [s.candidate.arxiv_id for s in ranking.picks],
        "runners_up": [{"arxiv_id": s.candidate.arxiv_id, "title": s.candidate.title, "reason": s.reason}
                       for s in ranking.runners_up],
        "shortlist": [s.candidate.arxiv_id for s in ranking.ranked],
        "candidates": [{"rank": place.get(s.candidate.arxiv_id), **s.to_json(),
                        "reason": reasons.get(s.candidate.arxiv_id, s.reason),
                        "featured_in": weeks[s.candidate.arxiv_id].week,
                        "editor_position": weeks[s.candidate.arxiv_id].position,
                        "signals": asdict(choice.signals[s.candidate.arxiv_id])}
                       for s in sorted(ranking.ranked, key=lambda s: place[s.candidate.arxiv_id])],
    })
    write_json(folder / "run.json", record.to_json({**images, **written}))
    return folder / "README.md"
