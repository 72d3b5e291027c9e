"""The weekly-digest flow: the table of contents of a run, and the only place that knows
the order of the stages.

arXiv -> candidates -> (minus papers already featured) -> shortlist -> PDFs -> PDF text
-> summaries -> digest
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import digest, ledger, pdf_text, popularity, pull_request, shortlist, summaries, taste
from flows.arxiv import ArxivClient
from flows.candidates import Candidate
from flows.config import DEFAULT_CATEGORIES, Settings
from flows.digest import RunRecord
from flows.errors import PdfError
from flows.llm import open_llm
from flows.pdf_text import Extraction
from flows.week import Window, last_complete_week, window_between, window_for_week

# Tasks take live objects (the LLM, the settings): they are not cached by their inputs.
stage = task(cache_policy=NO_CACHE)


@stage
def fetch_candidates(settings: Settings, window: Window, categories: list[str]) -> list[Candidate]:
    with ArxivClient(settings) as client:
        return client.search(window, categories)


@stage
def drop_featured(candidates: list[Candidate], digests_dir: Path, week: str) -> list[Candidate]:
    featured = ledger.featured_ids(digests_dir, except_week=week)
    featured |= pull_request.covered_on_main(digests_dir, except_week=week)  # merged, even if not checked out
    return [c for c in candidates if c.arxiv_id not in featured]


@stage
def fetch_upvotes(settings: Settings, window: Window) -> tuple[dict[str, int], str | None]:
    return popularity.upvotes(window, settings)


@stage
def rank(candidates: list[Candidate], profile: shortlist.Profile, llm, size: int, top_k: int,
         digests_dir: Path, week: str, upvotes: dict[str, int], merged: dict[str, str]) -> shortlist.Ranking:
    learned = taste.learn([w for w in taste.recorded_weeks(digests_dir, merged) if w.name != week])
    return shortlist.rank(shortlist.score_all(candidates, profile, learned, upvotes), profile, llm, size, top_k)


@stage
def fetch_pdfs(settings: Settings, picks: list[Candidate]) -> dict[str, Path | PdfError]:
    with ArxivClient(settings) as client:
        return client.download_pdfs(picks, settings.cache_dir / "pdf")


@stage
def extract_texts(settings: Settings, pdfs: dict[str, Path | PdfError]) -> dict[str, Extraction]:
    return pdf_text.read_texts(pdfs, settings)


@stage
def summarize(cand: Candidate, extraction: Extraction | None, llm, voice: summaries.Voice) -> summaries.Section:
    return summaries.summarize(cand, extraction, llm, voice)


@stage
def write_digest(folder: Path, **parts) -> Path:
    return digest.write(folder, **parts)


def _proposing(folder: Path) -> bool:
    """Whether the draft goes to a branch and pull request: the digests are in a git repository."""
    settings = pull_request.PullRequestSettings.from_env()
    return settings.repo_path is not None or pull_request.in_git_repo(folder.parent)


@stage
def propose(folder: Path) -> str:
    """The draft as a pull request (or a local branch) in the digests repository."""
    return pull_request.open_pull_request(folder).message


@stage
def publish_artifacts(draft: Path, ranking: shortlist.Ranking, week: str) -> None:
    """The draft and the ranked shortlist, visible in the Prefect UI and `prefect artifact ls`."""
    create_markdown_artifact(key="digest-draft", markdown=draft.read_text(encoding="utf-8"),
                             description=f"Draft top-5 digest for {week}")
    create_table_artifact(key="ranked-candidates", description=f"Shortlist of {week}, in final order", table=[
        {"rank": i, "arxiv_id": s.candidate.arxiv_id, "title": s.candidate.title,
         "cheap_score": round(s.cheap, 2), "llm_score": s.llm, "reason": s.reason}
        for i, s in enumerate(ranking.ranked, 1)])


@flow(name="weekly-digest")
def weekly_digest(
    week: str | None = None,
    categories: list[str] = list(DEFAULT_CATEGORIES),
    top_k: int = 5,
    digests_dir: str = "digests",
    start: str | None = None,
    end: str | None = None,
    open_pr: bool = True,
    style: str | None = None,
) -> str | None:
    """Draft the top-`top_k` digest of `week` (default: the last complete arXiv week).

    `start`/`end` (YYYY-MM-DD) replace the week's window by explicit dates. With `open_pr` the
    draft is proposed as a pull request (see flows/pull_request.py). `style` names a folder of
    prompts/styles/ (default: TOP5_STYLE or "weekly"). Returns the path of the draft, or None
    when the window holds no new papers.
    """
    log = get_run_logger()
    settings = Settings.from_env()
    window = window_between(start, end) if start and end else window_for_week(week or last_complete_week())
    label = week or (_calendar_week(window.start) if start else window.label)
    folder = _resolve(digests_dir) / label
    digest.check_unedited(folder)  # fail before spending anything on a week the editor has touched
    open_pr = open_pr and _proposing(folder)
    if open_pr:
        pull_request.check_branch(folder)  # ... or whose draft branch the editor has committed to
    style = style or settings.style
    record = RunRecord(label, (window.start.isoformat(), window.end.isoformat()), list(categories), style)
    profile = shortlist.Profile.load()
    merged = pull_request.merged_readmes(folder.parent)  # the editor's final digests, as merged
    voice = summaries.voice_for(style, folder.parent, except_week=label, merged=merged)
    record.exemplar = voice.exemplar_source

    with open_llm(settings) as llm:
        record.llm = llm.describe()
        with _stage(record, log, "candidates") as io:
            found = fetch_candidates(settings, window, list(categories))
            fresh = drop_featured(found, folder.parent, label)
            upvotes, missing_signal = fetch_upvotes(settings, window)
            record.flags += [missing_signal] if missing_signal else []
            record.counts.update(candidates=len(found), new=len(fresh), featured_before=len(found) - len(fresh))
            io.went_in, io.came_out = len(found), len(fresh)
        if not fresh:
            log.warning("no new papers between %s and %s: no draft written",
                        window.start.isoformat(), window.end.isoformat())
            return None
        with _stage(record, log, "shortlist") as io:
            ranking = rank(fresh, profile, llm, settings.shortlist_size, top_k, folder.parent, label,
                           upvotes, merged)
            record.swaps = digest.previous_swaps(folder)
            ranking = shortlist.apply_swaps(ranking, record.swaps)
            picks = [s.candidate for s in ranking.picks]
            record.counts.update(shortlist=len(ranking.ranked), picks=len(picks))
            io.went_in, io.came_out = len(fresh), len(picks)
            record.flags += ranking.flags
            if len(picks) < top_k:
                record.flags.append(f"Only {len(picks)} new papers this week: the draft has {len(picks)} sections, not {top_k}.")
        with _stage(record, log, "pdf") as io:
            pdfs = fetch_pdfs(settings, picks)
            io.went_in, io.came_out = len(picks), sum(1 for p in pdfs.values() if isinstance(p, Path))
        with _stage(record, log, "pdf_text") as io:
            texts = extract_texts(settings, pdfs)
            record.counts["pdf_text"] = sum(1 for t in texts.values() if t.text is not None)
            io.went_in, io.came_out = len(pdfs), record.counts["pdf_text"]
        with _stage(record, log, "summaries") as io:
            futures = [summarize.submit(c, texts.get(c.arxiv_id), llm, voice) for c in picks]
            sections = [f.result() for f in futures]
            io.went_in, io.came_out = len(picks), sum(1 for s in sections if not s.notes)
            record.flags += [f"Paper {i}, {s.arxiv_id}: {note}" for i, s in enumerate(sections, 1) for note in s.notes]
        record.flags += llm.flags
        record.tokens = llm.usage.to_json()
        with _stage(record, log, "digest") as io:
            draft = write_digest(folder, profile=profile, ranking=ranking, sections=sections,
                                 record=record, offline=llm.offline,
                                 pdfs={i: p for i, p in pdfs.items() if isinstance(p, Path)})
            io.went_in, io.came_out = len(sections), len(sections)
        publish_artifacts(draft, ranking, label)
    log.info("draft written to %s", draft)
    if open_pr:
        log.info("%s", propose(folder))
    else:
        log.info("no pull request: %s is not in a git repository (or --no-pr); set TOP5_DIGESTS_REPO", folder)
    return str(draft)


@dataclass
class _Io:
    went_in: int = 0
    came_out: int = 0


@contextmanager
def _stage(record: RunRecord, log: logging.Logger, name: str):
    """Times a stage; the block says how many items went in and came out, for the log."""
    began, io = time.perf_counter(), _Io()
    yield io
    record.seconds[name] = time.perf_counter() - began
    log.info("stage %s: %d in, %d out, %.1f s", name, io.went_in, io.came_out, record.seconds[name])


def _calendar_week(when) -> str:
    """An explicit date range is filed under the calendar ISO week it starts in."""
    year, number, _ = when.date().isocalendar()
    return f"{year}-W{number:02d}"


def _resolve(digests_dir: str) -> Path:
    path = Path(digests_dir)
    return path if path.is_absolute() else Path.cwd() / path


if __name__ == "__main__":
    from flows.cli import main

    import sys

    raise SystemExit(main(["run", *sys.argv[1:]]))
