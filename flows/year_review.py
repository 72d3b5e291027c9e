"""The year-review flow: the table of contents of a review, and the only place that knows the
order of its stages.

merged weekly digests (+ imported history) -> candidates -> signals -> LLM tournament -> the ten
-> PDFs and PDF text of the top three -> writing -> the review's pages -> pull request

The flow is named "weekly-digest", like the weekly one: a Prefect deployment is addressed as
<flow name>/<deployment name>, so the `year-review` deployment of prefect.yaml runs as
`prefect deployment run 'weekly-digest/year-review' -p year=2026`. Both flows share the flow
record on the server; each deployment keeps its own entrypoint and parameters.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows import pdf
from flows.config import Settings
from flows.errors import Top5Error
from flows.llm import open_llm
from flows.review.choose import Choice, choose
from flows.review.pages import DEEP, write_review
from flows.review.run import ReviewRun
from flows.review.writing import Writer
from flows.run import refused
from flows.summaries import Section
from flows.weekly_digest import extract_texts, fetch_pdfs, propose, stage


@stage
def choose_ten(run: ReviewRun, llm, settings: Settings) -> Choice:
    return choose(run.gathered.picks, run.profile, llm, settings, run.digests_dir, run.merged, run.period.label)


@stage
def write_sections(run: ReviewRun, choice: Choice, texts: dict[str, pdf.Extraction], llm) -> list[Section]:
    writer = Writer(llm, run.profile, run.voice, run.period.title)
    ten = choice.ranking.picks
    return ([writer.deep(run.pick(s.candidate.arxiv_id), texts.get(s.candidate.arxiv_id), s.reason) for s in ten[:DEEP]]
            + [writer.paragraph(run.pick(s.candidate.arxiv_id), s.reason) for s in ten[DEEP:]])


@stage
def write_opening(run: ReviewRun, choice: Choice, llm):
    writer = Writer(llm, run.profile, run.voice, run.period.title)
    return writer.opening([(run.pick(s.candidate.arxiv_id), s.reason) for s in choice.ranking.picks],
                          run.gathered.picks)


@flow(name="weekly-digest")
def year_review(year: int | None = None, start: str | None = None, end: str | None = None,
                digests_dir: str = "digests", open_pr: bool = True, style: str = "review") -> str | None:
    """Draft the papers of `year` (default: this year), or of the days `start`..`end`
    (YYYY-MM-DD, both included), from the weekly digests the editor merged into `digests_dir`,
    into `digests_dir`/<label>/ (2026-review, 2026-Q1-review, ...). With `open_pr` the review is
    proposed as a pull request. `style` names a folder of prompts/styles/. Returns the review's
    path. A refusal (no merged digest in the period, a review the editor edited, bad arguments)
    ends the run Failed with its one-line message before anything is spent."""
    try:
        return _draft(year=year, start=start, end=end, digests_dir=digests_dir, style=style, open_pr=open_pr)
    except Top5Error as exc:
        return refused(exc)


def _draft(**asked) -> str:
    settings = Settings.from_env()
    run = ReviewRun(settings, get_run_logger(), **asked)
    with run, open_llm(settings) as llm:
        run.record.llm = llm.describe()
        with run.stage("tournament"):
            choice = run.chosen(choose_ten(run, llm, settings))
        top = [s.candidate for s in choice.ranking.picks[:DEEP]]
        with run.stage("pdf"):
            pdfs = run.downloaded(fetch_pdfs(top, settings))
        with run.stage("pdf_text"):
            texts = run.read(extract_texts(pdfs, settings))
        with run.stage("writing"):
            sections = write_sections(run, choice, texts, llm)
            opening = write_opening(run, choice, llm)
            run.written(sections, llm)
        with run.stage("review"):
            draft = write_review(run.folder, period=run.period, profile=run.profile, choice=choice,
                                 gathered=run.gathered, sections=sections, opening=opening, record=run.record,
                                 offline=llm.offline, pdfs={i: p for i, p in pdfs.items() if not isinstance(p, Exception)})
    run.log.info("review written to %s; %s", draft, propose(run))
    return str(draft)
