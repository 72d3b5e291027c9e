"""The weekly-digest flow: the table of contents of a run, and the only place that knows the
order of the stages.

arXiv -> candidates (minus papers already featured) -> shortlist -> PDFs -> PDF text
-> summaries -> digest -> pull request
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import digest, estimate, pdf, prefect_setup, progress, pull_request, shortlist, summaries
from flows.candidates import ArxivClient, Candidate
from flows.config import Settings
from flows.errors import PdfError, Top5Error
from flows.llm import open_llm
from flows.run import Run, refused

prefect_setup.quiet_expected_failures()  # an expected failure is one line, a bug a traceback

# Tasks take live objects (the LLM, the settings, the run): they are not cached by their inputs.
stage = task(cache_policy=NO_CACHE)


@stage
def fetch_candidates(run: Run, settings: Settings) -> list[Candidate]:
    with ArxivClient(settings) as client:
        return client.search(run.window, run.categories)


@stage
def fetch_upvotes(run: Run, settings: Settings) -> tuple[dict[str, int], str | None]:
    return shortlist.upvotes(run.window, settings)


@stage
def learn_taste(run: Run, settings: Settings) -> tuple[shortlist.LearnedTaste | None, list[str]]:
    """The editor's taste, learned from this digest's merged weeks and imported history (or
    None), and one line for each file of that history that could not be read (for the flags)."""
    unread: list[str] = []
    taste = shortlist.editor_taste(settings, run.digests_dir, run.merged, run.week,
                                   shortlist.Embedder(settings.cache_dir), unread)
    return taste, unread


@stage
def rank(run: Run, fresh: list[Candidate], upvotes: dict[str, int], taste, llm, settings: Settings) -> shortlist.Ranking:
    embedder = shortlist.Embedder(settings.cache_dir)
    scored = shortlist.score_all(fresh, run.profile, taste, upvotes, embedder)
    guess = estimate.estimate_run(scored, run.record.counts["candidates"], run.profile, llm, run.voice,
                                  size=settings.shortlist_size, screen_size=settings.screen_size, top_k=run.top_k)
    get_run_logger().info("%s", "\n".join(guess.lines()))  # before the first LLM request
    estimate.check_budget(guess, settings.budget_usd, settings.budget_tokens)
    return shortlist.rank(scored, run.profile, llm, settings.shortlist_size, run.top_k, settings.screen_size)


@stage
def what_was_learned(run: Run, settings: Settings) -> dict:
    return digest.what_was_learned(settings, run.digests_dir, run.merged, run.week, run.profile,
                                   shortlist.Embedder(settings.cache_dir))


@stage
def fetch_pdfs(picks: list[Candidate], settings: Settings) -> dict[str, Path | PdfError]:
    with ArxivClient(settings) as client:
        return client.download_pdfs(picks, settings.cache_dir / "pdf")


@stage
def extract_texts(pdfs: dict[str, Path | PdfError], settings: Settings) -> dict[str, pdf.Extraction]:
    return pdf.read_texts(pdfs, settings)


@task(cache_policy=NO_CACHE, task_run_name="summarize {cand.arxiv_id}")
def summarize(cand: Candidate, extraction: pdf.Extraction | None, llm, voice: summaries.Voice) -> summaries.Section:
    began = time.perf_counter()
    section = summaries.summarize(cand, extraction, llm, voice)
    get_run_logger().info("%s", progress.summary_line(section, time.perf_counter() - began))
    return section


@stage
def write_digest(run: Run, ranking: shortlist.Ranking, sections: list[summaries.Section], offline: bool,
                 pdfs: dict[str, Path | PdfError]) -> Path:
    draft = digest.write(run.folder, profile=run.profile, ranking=ranking, sections=sections, record=run.record,
                         offline=offline, pdfs={i: p for i, p in pdfs.items() if isinstance(p, Path)})
    digest.publish_artifacts(draft.parent)
    return draft


@stage
def propose(run: Run) -> str:
    """The draft as a pull request (or a local branch) in the digests repository."""
    return pull_request.open_pull_request(run.folder).message if run.open_pr else run.no_pr_reason


@flow(name="weekly-digest")
def weekly_digest(week: str | None = None, categories: list[str] | None = None, top_k: int = 5,
                  digests_dir: str = "digests", start: str | None = None, end: str | None = None,
                  open_pr: bool = True, style: str | None = None, profile: str | None = None,
                  history_dir: str | None = None) -> str | None:
    """Draft the top-`top_k` digest of `week` (ISO week such as 2026-W47; default: the last
    complete arXiv week) into `digests_dir`/<week>/. `start`/`end` (YYYY-MM-DD) replace the
    week's window. With `open_pr` the draft is proposed as a pull request. `style` names a folder
    of prompts/styles/ (default: TOP5_STYLE). One install drafts several digests: each gives its
    own `digests_dir` (in its own git clone: its branches and pull requests), `profile` (a TOML
    file, default TOP5_PROFILE), `history_dir` (its imported past weeks, default TOP5_HISTORY_DIR)
    and `style`; its taste is learned from that history and the weeks merged in its own
    digests_dir only. Returns the draft's path, or None when the window
    holds no new papers. A refusal (bad arguments or settings, a week the editor has edited)
    ends the run Failed with its one-line message, before any work; calling the flow then raises
    that error."""
    try:
        settings = Settings.from_env().for_digest(profile=profile, history_dir=history_dir)
        return _draft(settings, week=week, start=start, end=end, categories=categories, top_k=top_k,
                      digests_dir=digests_dir, style=style, open_pr=open_pr)
    except Top5Error as exc:
        return refused(exc)


def _draft(settings: Settings, **asked) -> str | None:
    run = Run(settings, get_run_logger(), **asked)
    with run, open_llm(settings) as llm:
        run.record.llm = llm.describe()
        with run.stage("candidates"):
            fresh = run.new_candidates(fetch_candidates(run, settings))
        if not fresh:
            return run.nothing_new()
        with run.stage("shortlist"):
            upvotes = run.signal(fetch_upvotes(run, settings))
            taste = run.tasted(learn_taste(run, settings), upvotes)
            ranking = run.ranked(rank(run, fresh, upvotes, taste, llm, settings), len(fresh))
            run.record.learned = what_was_learned(run, settings)
        with run.stage("pdf"):
            pdfs = run.downloaded(fetch_pdfs(run.picks, settings))
        with run.stage("pdf_text"):
            texts = run.read(extract_texts(pdfs, settings))
        with run.stage("summaries"):
            futures = [summarize.submit(c, texts.get(c.arxiv_id), llm, run.voice) for c in run.picks]
            sections = run.summarized([f.result() for f in futures], llm)
        with run.stage("digest"):
            draft = write_digest(run, ranking, sections, llm.offline, pdfs)
    run.log.info("draft written to %s; %s", draft, propose(run))
    return str(draft)
