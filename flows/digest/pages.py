"""Digest: the week's folder under digests/, written atomically, never over an editor's edits.

digests/<week>/
  README.md        the draft, in the house style (a style is a folder in prompts/styles/)
  papers.md        the companion page: full titles, links, verbatim abstracts
  figures/         each section's method and results figure, cut from its PDF (flows/digest/figures.py)
  sections.json    the sections as the LLM wrote them: any style renders from it again
  candidates.json  every candidate with its scores and the LLM's reason
  run.json         what made the draft: counts, model, prompt hashes, tokens, seconds, flags

run.json records the hash of every page and figure image it wrote. Before writing again, the pages
on disk are compared with those hashes: a page the editor changed stops the run instead of being
lost, and an image the editor replaced is kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from flows import prompts
from flows.candidates.candidate import Candidate
from flows.digest.figures import with_all_images
from flows.errors import DraftError
from flows.files import edited_since_written, record_pending, sha256_text, write_atomic, write_json
from flows.run_record import RunRecord
from flows.shortlist.ranking import Profile, Ranking, injected
from flows.summaries.lint import lint_draft
from flows.summaries.section import Section, digest_style_dir

PAGES = {"README.md": "digest.md.j2", "papers.md": "papers.md.j2"}  # page -> its template in a style
OFFLINE_BANNER = ("OFFLINE DRAFT: written by the small embedded model (SmolLM2-135M) because no LLM "
                  "was configured. Its text is unreliable and it cannot rank: the picks are the first "
                  "stage's order, from {first_stage}. Set OPENAI_API_KEY or OPENAI_BASE_URL for a real draft.")


def offline_banner(first_stage: list[str]) -> str:
    """The offline banner, naming what stage 1 scored with in this run (run.record.first_stage,
    e.g. ["the learned taste", "the profile's words"]); an older draft that did not record it
    says "its scores"."""
    names = first_stage or ["its scores"]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return OFFLINE_BANNER.format(first_stage=listed)


def check_unedited(folder: Path, advice: str = "pass another --digests-dir") -> None:
    """Raise DraftError if a page in `folder` differs from what this tool last wrote there;
    `advice` says how to draft the week elsewhere, in the words of how the run was started."""
    for page in (folder / p for p in PAGES):
        if page.exists() and edited_since_written(page):
            raise DraftError(
                f"{page} was changed after this tool wrote it (or was not written by it); "
                f"the draft was not rewritten so those edits are kept. Move the folder aside "
                f"or {advice} to draft this week again."
            )


def previous_swaps(folder: Path) -> list[dict]:
    """The editor's `top5 swap`s of this week's earlier draft, from its run.json."""
    try:
        return json.loads((folder / "run.json").read_text(encoding="utf-8")).get("swaps", [])
    except (OSError, ValueError):
        return []


def render_pages(style: str, *, profile: Profile, sections: list[Section], papers: list[Candidate],
                 banners: list[str], week: str) -> dict[str, str]:
    """The draft's pages in `style`, from the run's data alone: no LLM, no network."""
    digest_style_dir(style)  # a clear error for an unknown style
    context = dict(profile=profile, sections=sections, papers=papers, banners=banners, week=week,
                   week_title=f"{week} papers")
    return {page: prompts.render(f"styles/{style}/{template}", **context) for page, template in PAGES.items()}


def banners_for(sections: list[Section], offline: bool, first_stage: list[str] | None = None) -> list[str]:
    """The draft's banners: the tool's own sentences (pages show them unescaped), never paper or LLM
    text; `first_stage` names what stage 1 scored with (fixed names, see RunRecord.first_stage)."""
    banners = [offline_banner(first_stage or [])] if offline else []
    flagged = sum(1 for s in sections if s.notes)
    if flagged:
        banners.append(f"{flagged} of {len(sections)} sections carry draft notes (⚠️) for the editor to resolve.")
    return banners


def write(folder: Path, *, profile: Profile, ranking: Ranking, sections: list[Section],
          record: RunRecord, offline: bool, pdfs: dict[str, Path] | None = None) -> Path:
    check_unedited(folder)
    picks = [s.candidate for s in ranking.picks]
    sections, images = with_all_images(folder, sections, pdfs or {})
    written, lint_flags = write_pages(folder, record.style, profile, sections, picks, offline, record.first_stage)
    written = {**images, **written}
    record.flags += lint_flags
    write_json(folder / "candidates.json", {
        "week": record.week,
        "picks": [c.arxiv_id for c in picks],
        "runners_up": [{"arxiv_id": s.candidate.arxiv_id, "title": s.candidate.title, "reason": s.reason}
                       for s in ranking.runners_up],
        "shortlist": [s.candidate.arxiv_id for s in ranking.ranked],
        "candidates": [_candidate_row(s, ranking) for s in ranking.scored],
    })
    write_json(folder / "run.json", record.to_json(written))
    return folder / "README.md"


def write_pages(folder: Path, style: str, profile: Profile, sections: list[Section], papers: list[Candidate],
                offline: bool, first_stage: list[str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The draft's pages and sections.json; returns the pages' hashes and what the draft check found."""
    pages = render_pages(style, profile=profile, sections=sections, papers=papers,
                         banners=banners_for(sections, offline, first_stage), week=folder.name)
    flags = []
    if style == "weekly":
        flags = [f"Draft check, {p.field}: {p.message}"
                 for p in lint_draft(pages["README.md"], expected_papers=len(sections))]
    hashes = {name: sha256_text(text) for name, text in pages.items()}
    record_pending(folder, hashes)  # a kill from here on leaves pages the next run knows as its own
    for name, text in pages.items():
        write_atomic(folder / name, text)
    write_json(folder / "sections.json", {"offline": offline, "first_stage": first_stage or [],
                                          "sections": [s.to_json() for s in sections]})
    return hashes, flags


def render_again(folder: Path, style: str, profile: Profile) -> dict[str, str]:
    """Render a finished week in another style from its sections.json and candidates.json."""
    try:
        stored = json.loads((folder / "sections.json").read_text(encoding="utf-8"))
        record = json.loads((folder / "candidates.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DraftError(f"{folder} has no finished draft to render ({exc})") from None
    sections = [Section.from_json(s) for s in stored["sections"]]
    rows = {row["arxiv_id"]: row for row in record["candidates"]}
    papers = [Candidate.from_json(rows[s.arxiv_id]) for s in sections]
    return render_pages(style, profile=profile, sections=sections, papers=papers,
                        banners=banners_for(sections, stored.get("offline", False), stored.get("first_stage")),
                        week=folder.name)


def render_to(folder: Path, style: str, out: Path | None, profile: Profile) -> dict[str, str]:
    """The week in `folder` rendered in `style` (see render_again); with `out`, the pages are
    written there with a copy of the week's figures/, so the images they link are found."""
    pages = render_again(folder, style, profile)
    if out is not None:
        for name, text in pages.items():
            write_atomic(out / name, text)
        if (folder / "figures").is_dir() and out.resolve() != folder.resolve():
            shutil.copytree(folder / "figures", out / "figures", dirs_exist_ok=True)
    return pages


def _candidate_row(scored, ranking: Ranking) -> dict:
    final = {s.candidate.arxiv_id: (i + 1, s) for i, s in enumerate(ranking.ranked)}
    place, judged = final.get(scored.candidate.arxiv_id, (None, scored))
    return {"rank": place, "injection_removed": injected(judged.candidate), **judged.to_json()}
