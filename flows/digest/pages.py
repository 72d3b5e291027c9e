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

import logging
import shutil
from pathlib import Path

from jinja2.exceptions import UndefinedError

from flows import prompts
from flows.candidates.candidate import Candidate
from flows.digest.figures import with_all_images
from flows.errors import ConfigError, DraftError, UnreadableFile
from flows.files import (
    edited_since_written,
    read_bounded,
    read_editor_json,
    record_pending,
    sha256_bytes,
    sha256_text,
    write_atomic,
    write_json,
)
from flows.records import paper, read_record, sections_of
from flows.run_record import RunRecord
from flows.shortlist.ranking import Profile, Ranking, injected
from flows.summaries.lint import lint_draft
from flows.summaries.section import Section, digest_style_dir

log = logging.getLogger(__name__)

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


def previous_swaps(folder: Path, flags: list[str] | None = None) -> list[dict]:
    """The editor's `top5 swap`s of this week's earlier draft, from its run.json ([] without
    one). A run.json that cannot be read or has another shape gives [] and a line in `flags`."""
    try:
        return read_record(folder, "run.json").get("swaps", [])
    except DraftError:
        return []
    except UnreadableFile as exc:
        if flags is not None:
            flags.append(f"{exc.message}; the editor's earlier swaps of this week could not be carried into "
                         "this draft.")
        return []


def render_pages(style: str, *, profile: Profile, sections: list[Section], papers: list[Candidate],
                 banners: list[str], week: str, extra: dict | None = None) -> dict[str, str]:
    """The draft's pages in `style`, from the run's data alone: no LLM, no network. `extra`: what
    a style's pages show beyond the sections (a review's opening), kept in sections.json.
    ConfigError (one line) when the style's pages need what `extra` does not hold (the review
    style on a weekly draft)."""
    digest_style_dir(style)  # a clear error for an unknown style
    context = dict(profile=profile, sections=sections, papers=papers, banners=banners, week=week,
                   week_title=f"{week} papers", extra=extra or {})
    try:
        return {page: prompts.render(f"styles/{style}/{template}", **context) for page, template in PAGES.items()}
    except UndefinedError as exc:
        raise ConfigError(f"style {style} cannot render {week}: its pages need what this folder's "
                          f"sections.json does not hold ({exc.message}); a review style renders a folder "
                          "written by `top5 review`") from None


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
    written, lint_flags = write_pages(folder, record.style, profile, sections, picks, offline,
                                      first_stage=record.first_stage)
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
                offline: bool, extra: dict | None = None, first_stage: list[str] | None = None
                ) -> tuple[dict[str, str], list[str]]:
    """The draft's pages and sections.json (with `extra`, see render_pages); returns the pages'
    hashes and what the draft check found."""
    pages = render_pages(style, profile=profile, sections=sections, papers=papers,
                         banners=banners_for(sections, offline, first_stage), week=folder.name, extra=extra)
    flags = []
    if style == "weekly":
        flags = [f"Draft check, {p.field}: {p.message}"
                 for p in lint_draft(pages["README.md"], expected_papers=len(sections))]
    hashes = {name: sha256_text(text) for name, text in pages.items()}
    record_pending(folder, hashes)  # a kill from here on leaves pages the next run knows as its own
    for name, text in pages.items():
        write_atomic(folder / name, text)
    stored = {"offline": offline, "first_stage": first_stage or [], "sections": [s.to_json() for s in sections]}
    write_json(folder / "sections.json", {**stored, "extra": extra} if extra else stored)
    return hashes, flags


def render_again(folder: Path, style: str, profile: Profile) -> dict[str, str]:
    """Render a finished week in another style from its sections.json and candidates.json; DraftError
    when either is missing, UnreadableFile when either is damaged, ConfigError when the style's pages
    need what the folder does not hold (the review style renders only a review's folder)."""
    stored, record = read_record(folder, "sections.json"), read_record(folder, "candidates.json")
    sections = sections_of(folder, stored, record)
    papers = [paper(folder, record, s.arxiv_id) for s in sections]
    return render_pages(style, profile=profile, sections=sections, papers=papers,
                        banners=banners_for(sections, stored.get("offline", False), stored.get("first_stage")),
                        week=folder.name, extra=stored.get("extra"))


def render_to(folder: Path, style: str, out: Path | None, profile: Profile) -> dict[str, str]:
    """The week in `folder` rendered in `style` (see render_again; style "email": the merged README as a
    newsletter, flows/digest/newsletter.py); with `out`, the pages are
    written there with a copy of the week's figures/, so the images they link are found."""
    from flows.digest import newsletter

    pages = newsletter.render_newsletter(folder) if style == newsletter.STYLE else render_again(folder, style, profile)
    if out is not None:
        _check_out(folder, out, pages)
        hashes = {name: sha256_text(text) for name, text in pages.items()}
        write_json(out / RENDERED, {**_rendered(out), **hashes})  # first: a kill leaves pages known as ours
        for name, text in pages.items():
            write_atomic(out / name, text)
        if (folder / "figures").is_dir():
            shutil.copytree(folder / "figures", out / "figures", ignore=_not_plain, dirs_exist_ok=True)
    return pages


def _not_plain(directory: str, names: list[str]) -> list[str]:
    """The entries of a figures folder that are no plain file or folder, left out of the copy with a
    warning: a symlink (git keeps them, so a merged branch may carry one to ~/.ssh) would copy what it
    points at into a published folder, and a pipe would block the copy."""
    left = [name for name in names if (path := Path(directory) / name).is_symlink()
            or not (path.is_file() or path.is_dir())]
    for name in left:
        log.warning("%s is not copied: only plain files of figures/ are (a link or a special file)",
                    Path(directory) / name)
    return left


RENDERED = ".top5-rendered.json"  # in a `top5 render --out` folder: page -> sha256 of what render wrote there


def _check_out(folder: Path, out: Path, pages: dict[str, str]) -> None:
    """DraftError unless every page `render --out` would write is absent from `out` or is what an
    earlier render wrote there: no file the tool did not write is ever replaced."""
    if out.resolve() == folder.resolve():
        raise DraftError(f"--out {out} is the week's own folder: its pages are the draft (and the editor's "
                         "edits); render into another folder")
    ours = _rendered(out)
    for name in pages:
        page = out / name
        if page.exists() and sha256_bytes(read_bounded(page)) != ours.get(name):
            raise DraftError(f"{page} exists and was not written by `top5 render` (or was edited since): "
                             "nothing was written; move it aside or choose another --out folder")


def _rendered(out: Path) -> dict:
    try:
        return read_editor_json(out / RENDERED)
    except (OSError, ValueError):  # UnreadableFile too: not JSON, too deeply nested, not an object
        return {}


def _candidate_row(scored, ranking: Ranking) -> dict:
    final = {s.candidate.arxiv_id: (i + 1, s) for i, s in enumerate(ranking.ranked)}
    place, judged = final.get(scored.candidate.arxiv_id, (None, scored))
    return {"rank": place, "injection_removed": injected(judged.candidate), **judged.to_json()}
