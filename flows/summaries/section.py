"""Summaries: one house-style section per pick, written by the LLM from the paper's text.

The model returns the parts of a section as validated JSON fields (the embedded small model
writes them one request per part instead: flows/summaries/parts.py); the digest template, not
the model, lays them out. Each section is linted (structure, length, no stray markup) and grounded
(every number and name must appear in the paper); a failing section is asked for once more
with its problems listed, and what is still wrong is marked inline and noted for the editor.
When the PDF could not be read the section is written from the abstract and says so; when the
LLM fails, or what it wrote is unusable (gibberish, markup), the paper's own words stand in
(title and abstract), flagged for the editor. One bad paper never sinks the week's draft.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import jinja2
from pydantic import BaseModel, Field, field_validator

from flows import prompts
from flows.candidates.candidate import Candidate
from flows.config import PROMPTS_DIR
from flows.errors import ConfigError, LLMError
from flows.guard import NOTE
from flows.pdf import Caption, Extraction
from flows.summaries.exemplar import editor_exemplars
from flows.summaries.grounding import Ungrounded, check_section, mark_inline
from flows.summaries.lint import PARTS, LintProblem, lint_section
from flows.summaries.parts import ask_parts, instructions
from flows.summaries.source import PaperSource, paper_source
from flows.text import clip

SUMMARY_TOKENS = 900
TEXT_BUDGET_TOKENS = 3000
# The embedded SmolLM2-135M: a short excerpt keeps it on the paper and its prompt fast to read on
# two busy cores (it reads it once per part: flows/summaries/parts.py).
OFFLINE_TEXT_TOKENS = 800

MIN_SOURCE_WORDS = 20  # the shortest real abstracts run to ~30 words
FIELD_MAX_CHARS = 2000  # a paragraph of the house style is at most ~140 words (~900 characters)

_METHOD_WORDS = re.compile(r"overview|architecture|framework|pipeline|method|approach|illustration|model", re.I)
_RESULT_WORDS = re.compile(r"result|performance|accuracy|comparison|compar|speed|score|ablation", re.I)


class SectionFields(BaseModel):
    """What the LLM must return for one paper."""

    name: str = Field(min_length=2, max_length=120)
    problem: str = Field(min_length=20, max_length=FIELD_MAX_CHARS)
    idea: str = Field(min_length=20, max_length=FIELD_MAX_CHARS)
    results: str = Field(min_length=10, max_length=FIELD_MAX_CHARS)
    take: str = Field(min_length=10, max_length=FIELD_MAX_CHARS)

    @field_validator("*")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


@dataclass(frozen=True)
class Figure:
    """A figure or table the editor may want to show, found by its caption."""

    role: str  # "method" | "results"
    kind: str  # "figure" | "table"
    number: str
    page: int
    caption: str
    image: str | None = None  # path of the extracted raster image, relative to the week's folder

    @property
    def label(self) -> str:
        text = self.caption if len(self.caption) <= 200 else self.caption[:197].rsplit(" ", 1)[0] + "..."
        return f"{self.kind.title()} {self.number} (page {self.page}): {text}"


@dataclass(frozen=True)
class Section:
    arxiv_id: str
    name: str
    problem: str
    idea: str
    results: str
    take: str
    notes: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    fallback: bool = False  # the model's section was unusable: the paper's own words stand in

    def figure(self, role: str) -> Figure | None:
        return next((f for f in self.figures if f.role == role), None)

    def to_json(self) -> dict:
        return dict(asdict(self), notes=list(self.notes), figures=[asdict(f) for f in self.figures])

    @classmethod
    def from_json(cls, data: dict) -> Section:
        return cls(**{**data, "notes": tuple(data.get("notes", ())),
                      "figures": tuple(Figure(**f) for f in data.get("figures", ()))})


@dataclass(frozen=True)
class Voice:
    """How sections should read: the style's guide and one exemplar section."""

    guide: str
    exemplar: str
    exemplar_source: str  # "editor: digests/<week>" or "style: <name>"
    notes: tuple[str, ...] = ()  # what was taken out of the editor's exemplar, for the draft's flags


def voice_for(style: str, digests_dir: Path | None = None, except_week: str | None = None,
              merged: dict[str, str] | None = None) -> Voice:
    """The style's guide, with the editor's latest finished section as the exemplar when there is
    one (a digest merged into the base branch, `merged`: week -> README text, or a page in
    `digests_dir` the editor edited or wrote; made safe and bounded by flows/summaries/exemplar.py),
    else the style's own exemplar."""
    folder = digest_style_dir(style)
    guide = (folder / "style.md").read_text(encoding="utf-8")
    if style == "weekly" and digests_dir is not None:
        for found in editor_exemplars(digests_dir, except_week, merged or {}):
            return Voice(guide, found.text, f"editor: {found.week}", found.notes)
    return Voice(guide, (folder / "exemplar.md").read_text(encoding="utf-8"), f"style: {style}")


def summarize(cand: Candidate, extraction: Extraction | None, llm, voice: Voice | None = None) -> Section:
    """The section for `cand`, written by `llm` from the paper's text (or its abstract when the PDF
    text is missing). A section that is still unusable after one more try (the LLM failed, or
    lint finds gibberish or markup) falls back to the paper's own words, marked. Raises only
    ConfigError (the backend is misconfigured): one bad paper never sinks the week."""
    voice = voice or voice_for("weekly")
    source = paper_source(cand, extraction, OFFLINE_TEXT_TOKENS if llm.offline else TEXT_BUDGET_TOKENS)
    notes = list(source.notes)
    if llm.offline:
        notes.append("written by the small offline model: check every sentence against the paper.")
    figures = _figures(source.captions)
    words = len(re.findall(r"\w+", source.grounding.replace(NOTE, "")))
    if words < MIN_SOURCE_WORDS:  # a model would only invent: "Attention helps." is no paper to explain
        return _own_words(source.paper, notes, f"the paper's text has {words} words, too few to summarize", figures)
    write = _write_by_parts if llm.offline else _write
    values, check, failure = write(llm, source, voice)
    if values is None or check.unusable:
        reason = failure or "; ".join(p.message for p in check.problems if p.unusable)
        return _own_words(source.paper, notes, reason, figures)
    notes += check.notes()
    parts = values if check.error else {
        name: mark_inline(values[name], list(check.ungrounded)) for name in PARTS}
    return Section(cand.arxiv_id, **parts, notes=tuple(notes), **figures)


@dataclass(frozen=True)
class _Check:
    """What lint and grounding found in a section; `error` when they could not check it."""

    problems: tuple[LintProblem, ...] = ()
    ungrounded: tuple[Ungrounded, ...] = ()
    error: str | None = None

    @property
    def clean(self) -> bool:
        return not self.problems and not self.ungrounded and self.error is None

    @property
    def unusable(self) -> bool:
        return any(p.unusable for p in self.problems)

    def faults(self, part: str) -> int:
        """How wrong `part` is: each unusable problem weighs 100, each other problem and each
        claim not found in the paper 1 (0: clean)."""
        return (sum(100 if p.unusable else 1 for p in self.problems if p.field == part)
                + sum(1 for u in self.ungrounded if u.field == part))

    def notes(self) -> list[str]:
        notes = [f"{p.field}: {p.message}" for p in self.problems]
        if self.ungrounded:
            claims = ", ".join(dict.fromkeys(u.claim for u in self.ungrounded))
            notes.append(f"not found in the paper, marked ⚠️ inline: {claims}.")
        if self.error:
            notes.append(f"the section could not be checked against the paper ({self.error}): check its "
                         "numbers and names by hand.")
        return notes


def _write(llm, source: PaperSource, voice: Voice) -> tuple[dict[str, str] | None, _Check, str | None]:
    """(the section's parts, their check, why the LLM failed): the first JSON answer, or one more
    try told what was wrong."""
    messages = _messages(source.paper, source.text, voice)
    ask = partial(llm.complete_json, "summarize", schema=SectionFields, max_tokens=SUMMARY_TOKENS,
                  usable=partial(_usable, source=source.grounding))
    try:
        fields = ask(messages)
    except LLMError as exc:
        return None, _Check(), exc.message
    values = fields.model_dump()
    check = _check(values, source.grounding)
    if check.clean:
        return values, check, None
    fix = _fix_request(check)
    retry = [*messages, {"role": "assistant", "content": fields.model_dump_json()}, {"role": "user", "content": fix}]
    try:
        values = ask(retry).model_dump()
    except LLMError as exc:
        return None, check, exc.message
    return values, _check(values, source.grounding, fix), None


def _write_by_parts(llm, source: PaperSource, voice: Voice) -> tuple[dict[str, str] | None, _Check, str | None]:
    """The same triple as `_write`, from the embedded model asked part by part (flows/summaries/
    parts.py; the voice is too much for it). A part that fails lint or grounding is asked once
    more, and the better of its two answers is kept."""
    check_parts = partial(_check, source=source.grounding, prompt=instructions())
    try:
        values = ask_parts(llm, source)
    except LLMError:  # its transport never retries (llama.cpp may still be generating): this is the retry
        try:
            values = ask_parts(llm, source, attempt=1)
        except LLMError as exc:
            return None, _Check(), exc.message
    check = check_parts(values)
    redo = [part for part in PARTS if check.faults(part)]
    if not redo:
        return values, check, None
    try:
        again = {**values, **ask_parts(llm, source, redo, attempt=1)}
    except LLMError:
        return values, check, None
    second = check_parts(again)
    values = {part: again[part] if second.faults(part) < check.faults(part) else values[part] for part in PARTS}
    return values, check_parts(values), None


def _usable(fields: SectionFields, source: str) -> bool:
    """Whether an answer may be cached: lint and grounding could check it and it is no gibberish."""
    check = _check(fields.model_dump(), source)
    return check.error is None and not check.unusable


def _check(values: dict[str, str], source: str, prompt: str = "") -> _Check:
    try:
        problems = [p for p in lint_section(values, source=source, prompt=prompt) if p.severity == "error"]
        return _Check(tuple(problems), tuple(check_section(values, source)))
    except Exception as exc:  # a checker's failure on one section is that section's flag, not the run's
        return _Check(error=f"{type(exc).__name__}: {clip(str(exc), 160)}")


def _fix_request(check: _Check) -> str:
    claims = ", ".join(dict.fromkeys(u.claim for u in check.ungrounded))
    return prompts.render("summary_fix.j2", problems=check.problems, claims=claims).strip()


def _own_words(cand: Candidate, notes: list[str], reason: str, figures: dict) -> Section:
    """The section in the paper's own words: its title as the name, its abstract's sentences as
    problem, idea and results (a third each), the take left to the editor."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", " ".join(cand.abstract.split())) if s]
    first, second = max(1, len(sentences) // 3), max(2, 2 * len(sentences) // 3)
    problem, idea, results = (" ".join(sentences[:first]), " ".join(sentences[first:second]),
                              " ".join(sentences[second:]))
    notes.append(f"the LLM could not write this section ({reason}); the paper's own words stand in (its title "
                 "and its abstract's sentences): rewrite it.")
    return Section(cand.arxiv_id, name=_short_title(cand.title), problem=problem or cand.abstract,
                   idea=idea or "[needs writing: the key idea]",
                   results=results or "[needs writing: the results, with numbers from the paper]",
                   take="[needs writing: your take]", notes=tuple(notes), fallback=True, **figures)


def request_messages(cand: Candidate, text: str, voice: Voice) -> list[dict]:
    """The messages of a paper's first summary request (what the dry run's estimate counts)."""
    return _messages(cand, text, voice)


def _messages(cand: Candidate, text: str, voice: Voice) -> list[dict]:
    system = prompts.render("summary_system.j2", style=voice.guide, exemplar=voice.exemplar)
    user = prompts.render("summary_user.j2", paper=cand, text=text)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _figures(captions: tuple[Caption, ...]) -> dict[str, tuple[Figure, ...]]:
    """The method figure (an overview or architecture figure, else the first figure) and the
    main results figure or table, by their captions."""
    figures = [c for c in captions if c.kind == "figure"]
    method = next((c for c in figures if _METHOD_WORDS.search(c.text)), figures[0] if figures else None)
    results = next((c for c in captions if c is not method and _RESULT_WORDS.search(c.text)), None)
    chosen = [(role, c) for role, c in (("method", method), ("results", results)) if c is not None]
    return {"figures": tuple(Figure(role, c.kind, c.number, c.page, c.text) for role, c in chosen)}


def digest_style_dir(style: str, review: bool | None = None) -> Path:
    """The folder of prompts/styles/ named `style`, one holding digest.md.j2; with `review` True
    only a review's style (its digest.md.j2 reads `extra`, the review's opening and period), with
    False only a week's. Raises ConfigError (one line) for an unknown style, one of the other
    kind, or a template of it (*.j2) jinja2 cannot parse."""
    folder = PROMPTS_DIR / "styles" / style
    if not (folder / "digest.md.j2").is_file():
        known = sorted(p.name for p in (PROMPTS_DIR / "styles").iterdir() if (p / "digest.md.j2").is_file())
        raise ConfigError(f"unknown style (TOP5_STYLE / --style): not a folder of {PROMPTS_DIR / 'styles'}; "
                          f"known styles: {', '.join(known)}")  # never the value: it may be a pasted key
    for template in sorted(folder.glob("*.j2")):  # a syntax error shows now, not after the LLM was paid
        _reads(folder, template.name)
    if review is not None and _writes_a_review(folder) != review:
        fits = sorted(p.parent.name for p in folder.parent.glob("*/digest.md.j2") if _is_kind(p.parent, review))
        raise ConfigError(f"style {folder.name} writes {'a week' if review else 'a review'}'s pages, not "
                          f"{'a review' if review else 'a week'}'s (a review's digest.md.j2 reads `extra`, its opening "
                          f"and period); {'review' if review else 'weekly'} styles: {', '.join(fits)}")
    return folder


def _writes_a_review(folder: Path) -> bool:
    return "extra" in _reads(folder, "digest.md.j2")


def _is_kind(folder: Path, review: bool) -> bool:
    """Whether the style in `folder` is a review's (or a week's); a broken one is neither."""
    try:
        for template in folder.glob("*.j2"):
            _reads(folder, template.name)
        return _writes_a_review(folder) == review
    except ConfigError:
        return False


def _reads(folder: Path, name: str) -> set[str]:
    """What template `name` of a style reads; ConfigError naming it when jinja2 cannot parse it."""
    try:
        return prompts.variables(name, folder)
    except (jinja2.TemplateError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{folder / name} cannot be read as a jinja2 template: {clip(str(exc), 200)}") from None


def _short_title(title: str) -> str:
    head = re.split(r"[:?]", title, maxsplit=1)[0].strip()
    return head if 2 <= len(head) <= 80 else title[:77].rsplit(" ", 1)[0] + "..."
