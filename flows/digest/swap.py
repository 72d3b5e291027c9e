"""`top5 swap <week> <N> <choice>`: replace paper N of a draft by a runner-up (R1-R5) or another
candidate of the week, regenerating only that section and its companion entry. In a review's
folder (`top5 review`) the section is written as the review writes its papers (flows/review/swap.py).

Everything else is reused: the other sections come from sections.json, the new paper's PDF
and text from the cache, and its LLM answer from the LLM cache when it was asked before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flows.candidates.arxiv import ArxivClient
from flows.candidates.candidate import Candidate, split_version
from flows.config import Settings
from flows.digest.figures import FOLDER, with_images
from flows.digest.lock import WeekLock
from flows.digest.pages import check_unedited, render_pages, write_pages
from flows.errors import ConfigError
from flows.files import write_json
from flows.llm.client import open_llm
from flows.pdf import Extraction, read_texts
from flows.pull_request import merged_readmes
from flows.records import paper, read_record, sections_of
from flows.review.period import is_review_label
from flows.review.swap import ReviewSwap
from flows.shortlist.ranking import Profile
from flows.summaries.section import Section, summarize, voice_for


@dataclass(frozen=True)
class Swapped:
    position: int
    removed: str
    added: str
    draft: Path


def swap(folder: Path, position: int, choice: str, settings: Settings) -> Swapped:
    """Replace paper `position` (1-based) of the drafted week in `folder` by `choice` (a runner-up's
    rank or an arXiv id of the week); holds the week's lock while it works (DraftError if another
    run holds it, or if the editor edited the draft; UnreadableFile if a record of the week is damaged)."""
    with WeekLock(folder, settings.cache_dir):
        return _swap(folder, position, choice, settings)


def _swap(folder: Path, position: int, choice: str, settings: Settings) -> Swapped:
    record, run, stored = (read_record(folder, name) for name in ("candidates.json", "run.json", "sections.json"))
    check_unedited(folder)
    sections = sections_of(folder, stored, record)
    if not 1 <= position <= len(sections):
        raise ConfigError(f"paper number {position} is not in the draft of {folder.name} (1..{len(sections)})")
    rows = {row["arxiv_id"]: row for row in record["candidates"]}
    new_id = _resolve(choice, record, rows, folder.name)
    if new_id in record["picks"]:
        raise ConfigError(f"{new_id} is already paper {record['picks'].index(new_id) + 1} of {folder.name}")
    cand = paper(folder, record, new_id)
    papers = [paper(folder, record, i) for i in record["picks"]]  # each checked before anything is spent
    writer = _writer(folder, position, rows[new_id], run, settings)
    profile = Profile.load(settings.profile)
    render_pages(run.get("style", "weekly"), profile=profile, sections=sections, papers=papers, banners=[],
                 week=folder.name, extra=stored.get("extra"))  # a style that cannot render this folder stops here, before any request

    section, images, tokens, offline = _written(folder, cand, writer, settings)
    offline = stored.get("offline", False) or offline
    sections[position - 1], papers[position - 1] = section, cand
    removed = record["picks"][position - 1]
    record["picks"][position - 1] = new_id
    record["runners_up"] = [{"arxiv_id": removed, "title": rows[removed].get("title"), "reason": "swapped out by the editor"}] + [
        r for r in record["runners_up"] if r["arxiv_id"] != new_id]
    written, lint_flags = write_pages(folder, run.get("style", "weekly"), profile, sections, papers,
                                      offline, writer.extra(stored.get("extra"), removed),
                                      first_stage=stored.get("first_stage"))
    earlier_images = {k: v for k, v in run.get("written", {}).items() if k.startswith(f"{FOLDER}/")}
    run["written"] = {**earlier_images, **images, **written}
    run["flags"] = [f for f in run.get("flags", []) if not f.startswith(f"Paper {position}, ")] + lint_flags + [
        f"Paper {position}, {new_id}: {note}" for note in section.notes] + writer.flags() + [
        f"Paper {position} swapped by the editor: {removed} -> {new_id}"]
    run.setdefault("swaps", []).append({"position": position, "removed": removed, "added": new_id, "tokens": tokens})
    write_json(folder / "candidates.json", record)
    write_json(folder / "run.json", run)
    return Swapped(position, removed, new_id, folder / "README.md")


class _WeeklySwap:
    """The weekly draft's section of a paper, in the editor's voice (flows/summaries)."""

    reads_pdf = True

    def __init__(self, folder: Path, style: str) -> None:
        self.voice = voice_for(style, folder.parent, folder.name, merged_readmes(folder.parent))

    def section(self, cand: Candidate, extraction: Extraction | None, llm) -> Section:
        return summarize(cand, extraction, llm, self.voice)

    def extra(self, extra: dict | None, removed: str) -> dict | None:
        return extra

    def flags(self) -> list[str]:
        return []


def _writer(folder: Path, position: int, row: dict, run: dict, settings: Settings):
    """How the new paper's section is written: as the review writes its papers in a review's folder
    (flows/review/swap.py), else as the weekly draft does."""
    if is_review_label(folder.name):
        return ReviewSwap(folder, position, row["arxiv_id"], row.get("reason") or "", settings,
                          run.get("style", "review"))
    return _WeeklySwap(folder, run.get("style", "weekly"))


def _written(folder: Path, cand: Candidate, writer, settings: Settings) -> tuple[Section, dict[str, str], dict, bool]:
    """The new section with its figures' images in `folder`, the LLM's token usage, and whether
    the LLM was the offline model; the PDF is fetched only when the section is written from it."""
    pdf, extraction = None, None
    if writer.reads_pdf:
        with ArxivClient(settings) as client:
            pdfs = client.download_pdfs([cand], settings.cache_dir / "pdf")
        extraction = read_texts(pdfs, settings)[cand.arxiv_id]
        pdf = pdfs[cand.arxiv_id] if isinstance(pdfs[cand.arxiv_id], Path) else None
    with open_llm(settings) as llm:
        section = writer.section(cand, extraction, llm)
        tokens, offline = llm.usage.to_json(), llm.offline
    section, images = with_images(folder, section, pdf)
    return section, images, tokens, offline


def _resolve(choice: str, record: dict, rows: dict, week: str) -> str:
    """A runner-up as the pull request and `top5 show` number them (R1, or 1, is the first) or
    an arXiv id of the week's candidates."""
    choice = choice.strip()
    if not choice or any(not ch.isprintable() for ch in choice):
        raise ConfigError(f"choice {choice[:40]!r} is not one runner-up (R1..R5) or one arXiv id: give exactly one")
    number = choice.upper().removeprefix("R")
    if re.fullmatch(r"[0-9]{1,2}", number):  # ASCII digits only: "R²" is not a rank
        rank, count = int(number), len(record["runners_up"])
        if not 1 <= rank <= count:
            raise ConfigError(f"runner-up R{rank} does not exist for {week} (R1..R{count})")
        return record["runners_up"][rank - 1]["arxiv_id"]
    arxiv_id = split_version(choice.removeprefix("https://arxiv.org/abs/"))[0]
    if arxiv_id not in rows:
        raise ConfigError(f"{choice} is not a candidate of {week}: choose a runner-up (R1..R5) or an id from "
                          "its candidates.json")
    return arxiv_id

