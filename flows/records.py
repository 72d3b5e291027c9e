"""The tool's own records of a drafted week, read back for `top5 show`, `top5 swap` and
`top5 render`, and by what learns from the editor's merged weeks (the taste, `top5 eval`, the
year in review): run.json, sections.json and candidates.json. Each is read through
read_editor_json and checked against the shape its readers rely on, so a damaged record
(hand-edited, a bad merge, cut short) is one UnreadableFile naming the file, not a traceback.

The models are strict (no "5" for 5, no "yes" for true): the commands use the JSON as written,
so what passes the check is exactly what they can use. Sections and candidates that become
pages are validated into the dataclasses themselves (Section, Candidate).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from flows.candidates.candidate import Candidate, within_limits
from flows.errors import DraftError, UnreadableFile
from flows.files import RESTORE, read_editor_json
from flows.summaries.section import Section
from flows.text import ARXIV_ID, clip

MAX_UPVOTES = 100_000  # the most upvoted papers of the Hugging Face listing have a few thousand
UpvoteCount = Annotated[StrictInt, Field(ge=0, lt=MAX_UPVOTES)]
"""Readers' upvotes of one paper as the weekly run counts them (flows/shortlist/popularity.py:
the live listing, an upvotes file) and records them in candidates.json: a whole number 0..99,999."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)  # other keys are kept as written


class _Row(_Record):
    arxiv_id: str
    title: str | None = None
    reason: str | None = None
    upvotes: UpvoteCount | None = None


class _Usage(_Record):
    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class _Learned(_Record):
    before: list[int | None] = []
    after: list[int | None] = []


_ArxivId = Annotated[str, StringConstraints(pattern=rf"^{ARXIV_ID}$")]


class _Swap(_Record):
    """One editor's `top5 swap` (flows/digest/swap.py writes it; shortlist.apply_swaps reads it
    when the week is drafted again): paper `position` (1-based) became `added` in place of `removed`."""

    position: Annotated[int, Field(ge=1)]
    removed: _ArxivId
    added: _ArxivId
    tokens: dict[str, object] = {}


class RunJson(_Record):
    """run.json (flows/run_record.py) as `top5 show` and `top5 swap` use it."""

    week: str = ""
    style: str = "weekly"
    window: dict[str, str] = {}
    flags: list[str] = []
    written: dict[str, str] = {}
    pending: dict[str, str] = {}
    counts: dict[str, object] = {}
    tokens: dict[str, _Usage] = {}  # per LLM stage, and "total"
    learned: _Learned | None = None
    llm: dict[str, object] = {}
    swaps: list[_Swap] = []


class _Opening(_Record):
    text: str
    notes: list[str] = []


class _ReviewExtra(_Record):
    """What a review's pages show beyond its sections (flows/review/pages.py)."""

    period: str
    weeks: int
    candidates: int
    signals_only: bool = False
    opening: _Opening
    reasons: dict[str, str] = {}
    featured: dict[str, str] = {}


class SectionsJson(_Record):
    """sections.json (flows/digest/pages.py write_pages): the sections, and a review's extra."""

    sections: list[dict]  # each a Section (sections_of)
    extra: _ReviewExtra | None = None
    offline: bool = False
    first_stage: list[str] = []


class CandidatesJson(_Record):
    """candidates.json: the picks and runners-up, each one of the candidates' rows."""

    picks: list[str]
    runners_up: list[_Row]
    candidates: list[_Row]
    shortlist: list[str] = []

    @model_validator(mode="after")
    def _named_papers_are_candidates(self) -> CandidatesJson:
        known = {row.arxiv_id for row in self.candidates}
        missing = [i for i in self.picks + [r.arxiv_id for r in self.runners_up] if i not in known]
        if missing:
            raise ValueError(f"{missing[0]} is a pick or runner-up but not one of the candidates")
        return self


class _CandidatesLearned(CandidatesJson):
    """candidates.json as the learner and the year review read it: weeks drafted long ago or
    by hand may lack the picks and runners-up."""

    picks: list[str] = []
    runners_up: list[_Row] = []


SHAPES = {"run.json": RunJson, "sections.json": SectionsJson, "candidates.json": CandidatesJson}


def read_record(folder: Path, name: str) -> dict:
    """The JSON object of `folder`/`name` (one of SHAPES) as written, once it has the shape its
    model gives. Raises DraftError when the file is missing (no finished draft), UnreadableFile
    (one line naming the file, "restore it from git") when it is unreadable or of another shape."""
    path = folder / name
    try:
        value = read_editor_json(path)
    except FileNotFoundError:
        raise DraftError(f"{folder} holds no finished draft ({name} missing): run the week first, "
                         "or check --digests-dir") from None
    except OSError as exc:
        raise UnreadableFile(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    return shaped(value, path, name)


def shaped(value: object, path: Path | str, name: str) -> dict:
    """`value`, the JSON object of the record `name` (one of SHAPES) read from `path` (a file, or
    a commit's file as `git show` names it), once it has the shape its model gives; UnreadableFile
    naming `path` and the first field at fault when it has not."""
    _checked(TypeAdapter(SHAPES[name]), value, path)
    return value


@dataclass(frozen=True)
class Recorded:
    """What a week's candidates.json records for the learner and the year review."""

    candidates: list[Candidate]  # every row, as a Candidate
    picks: list[str]  # the draft's picks
    shortlist: list[str]
    runners_up: list[str]
    upvotes: dict[str, int]  # arXiv id -> readers' upvotes as the run recorded them (an UpvoteCount)


def recorded_candidates(value: object, path: Path) -> Recorded:
    """`value`, the JSON of candidates.json at `path` (as read_editor_json or editor_json gave
    it), checked as read_record checks it and each row as a Candidate. Raises UnreadableFile
    naming `path` and the first field at fault ("restore it from git"); rows cut to the limits
    (within_limits)."""
    shape = _checked(TypeAdapter(_CandidatesLearned), value, path)
    cands = [within_limits(c) for c in _checked(_CANDIDATES, value["candidates"], path, "candidates")]
    return Recorded(cands, shape.picks, shape.shortlist, [r.arxiv_id for r in shape.runners_up],
                    {r.arxiv_id: r.upvotes for r in shape.candidates if r.upvotes is not None})


def sections_of(folder: Path, stored: dict, record: dict) -> list[Section]:
    """The Sections of sections.json `stored` (as read_record gave it), one for each pick of
    candidates.json `record`, in order; UnreadableFile naming the file(s) when a section lacks a
    field or the two files disagree."""
    sections = _checked(_SECTIONS, stored["sections"], folder / "sections.json", "sections")
    if [s.arxiv_id for s in sections] != record["picks"]:
        raise UnreadableFile(f"{folder / 'sections.json'} and {folder / 'candidates.json'} name different picks: "
                             "restore both from git (git checkout -- FILE)")
    return sections


def paper(folder: Path, record: dict, arxiv_id: str) -> Candidate:
    """The candidate `arxiv_id` of candidates.json `record` (as read_record gave it) as a
    Candidate, cut to the limits (within_limits); UnreadableFile naming the file when its row
    lacks what a page is made from."""
    row = next(r for r in record["candidates"] if r["arxiv_id"] == arxiv_id)
    return within_limits(_checked(_CANDIDATE, row, folder / "candidates.json", f"the candidate {arxiv_id}"))


_SECTIONS, _CANDIDATE = TypeAdapter(list[Section]), TypeAdapter(Candidate)  # the dataclasses' own fields
_CANDIDATES = TypeAdapter(list[Candidate])


def _checked(shape: TypeAdapter, value, path: Path | str, where: str = ""):
    """`value` validated by `shape`; UnreadableFile naming `path` and the first field at fault."""
    try:
        return shape.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "top level"
        what = clip(f"{where + ', ' if where else ''}{place}: {first['msg']}", 200)
        raise UnreadableFile(f"{path} is not shaped as the tool wrote it ({what}): {RESTORE}") from None
