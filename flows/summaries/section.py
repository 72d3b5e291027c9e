"""Summaries: one house-style section per pick, written by the LLM from the paper's text.

The model returns the parts of a section as validated fields; the digest template, not the
model, lays them out. Each section is linted (structure, length, no stray markup) and grounded
(every number and name must appear in the paper); a failing section is asked for once more
with its problems listed, and what is still wrong is marked inline and noted for the editor. When the PDF could not be read the section is written from the
abstract and says so; when the LLM fails the section keeps the abstract as a stand-in and
is flagged for the editor. One bad paper never sinks the week's draft.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from flows import prompts
from flows.candidates.candidate import Candidate
from flows.config import PROMPTS_DIR
from flows.errors import ConfigError, LLMError
from flows.files import edited_since_written
from flows.pdf import Caption, Extraction
from flows.summaries.grounding import Ungrounded, check_section, mark_inline
from flows.summaries.lint import LintProblem, lint_section
from flows.summaries.source import paper_source

SUMMARY_TOKENS = 900
TEXT_BUDGET_TOKENS = 3000

_METHOD_WORDS = re.compile(r"overview|architecture|framework|pipeline|method|approach|illustration|model", re.I)
_RESULT_WORDS = re.compile(r"result|performance|accuracy|comparison|compar|speed|score|ablation", re.I)


class SectionFields(BaseModel):
    """What the LLM must return for one paper."""

    name: str = Field(min_length=2, max_length=120)
    problem: str = Field(min_length=20)
    idea: str = Field(min_length=20)
    results: str = Field(min_length=10)
    take: str = Field(min_length=10)

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


def voice_for(style: str, digests_dir: Path | None = None, except_week: str | None = None,
              merged: dict[str, str] | None = None) -> Voice:
    """The style's guide, with the editor's latest finished section as the exemplar when there is
    one (a digest merged into the base branch, `merged`: week -> README text, or a page in
    `digests_dir` the editor edited or wrote), else the style's own exemplar."""
    folder = digest_style_dir(style)
    guide = (folder / "style.md").read_text(encoding="utf-8")
    if style == "weekly" and digests_dir is not None:
        for week, section in _editor_sections(digests_dir, except_week, merged or {}):
            return Voice(guide, section, f"editor: {week}")
    return Voice(guide, (folder / "exemplar.md").read_text(encoding="utf-8"), f"style: {style}")


def _editor_sections(digests_dir: Path, except_week: str | None, merged: dict[str, str]):
    """(week, first section) of each digest the editor finished, newest week first."""
    local = {p.name: p / "README.md" for p in digests_dir.glob("*") if (p / "README.md").is_file()}
    for week in sorted(set(local) | set(merged), reverse=True):
        if week == except_week:
            continue
        if week in merged:
            text = merged[week]
        elif edited_since_written(local[week]):
            text = local[week].read_text(encoding="utf-8")
        else:
            continue
        match = re.search(r"^## Paper 1:.*?(?=^## |^#weeklytop5|\Z)", text, re.M | re.S)
        if match:
            section = re.sub(r"^<img[^>]*>\s*$|^> ⚠️.*$", "", match.group(0), flags=re.M)
            yield week, re.sub(r"\n{3,}", "\n\n", section).strip()


def summarize(cand: Candidate, extraction: Extraction | None, llm, voice: Voice | None = None) -> Section:
    voice = voice or voice_for("weekly")
    source = paper_source(cand, extraction, TEXT_BUDGET_TOKENS)
    notes = list(source.notes)
    text, captions, source_text = source.text, source.captions, source.grounding
    if llm.offline:
        notes.append("written by the small offline model: check every sentence against the paper.")
    figures = _figures(captions)
    messages = _messages(source.paper, text, voice)
    try:
        fields = llm.complete_json("summarize", messages, SectionFields, max_tokens=SUMMARY_TOKENS)
        problems, ungrounded = _check(fields, source_text)
        if problems or ungrounded:  # one more try, told exactly what was wrong
            retry = messages + [{"role": "assistant", "content": fields.model_dump_json()},
                                {"role": "user", "content": _fix_request(problems, ungrounded)}]
            fields = llm.complete_json("summarize", retry, SectionFields, max_tokens=SUMMARY_TOKENS)
            problems, ungrounded = _check(fields, source_text)
    except LLMError as exc:
        notes.append(f"the LLM could not write this section ({exc.message}); the abstract stands in for it.")
        return Section(cand.arxiv_id, name=_short_title(cand.title), problem=cand.abstract,
                       idea="[needs writing: the key idea]", results="[needs writing: the results, with numbers from the paper]",
                       take="[needs writing: your take]", notes=tuple(notes), **figures)
    notes += [f"{p.field}: {p.message}" for p in problems]
    if ungrounded:
        claims = ", ".join(dict.fromkeys(u.claim for u in ungrounded))
        notes.append(f"not found in the paper, marked ⚠️ inline: {claims}.")
    parts = {name: mark_inline(value, ungrounded) for name, value in fields.model_dump().items()}
    return Section(cand.arxiv_id, **parts, notes=tuple(notes), **figures)


def _check(fields: SectionFields, source: str) -> tuple[list[LintProblem], list[Ungrounded]]:
    problems = [p for p in lint_section(fields.model_dump()) if p.severity == "error"]
    return problems, check_section(fields.model_dump(), source)


def _fix_request(problems: list[LintProblem], ungrounded: list[Ungrounded]) -> str:
    lines = ["Your section has problems. Write it again, as the same JSON object, fixing them:"]
    lines += [f"- {p.field}: {p.message}" for p in problems]
    if ungrounded:
        claims = ", ".join(dict.fromkeys(u.claim for u in ungrounded))
        lines.append(f"- these numbers or names do not appear in the paper: {claims}. "
                     "Use only facts and numbers from the paper text.")
    return "\n".join(lines)


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


def digest_style_dir(style: str) -> Path:
    folder = PROMPTS_DIR / "styles" / style
    if not (folder / "digest.md.j2").is_file():
        known = sorted(p.name for p in (PROMPTS_DIR / "styles").iterdir() if (p / "digest.md.j2").is_file())
        raise ConfigError(f"style {style!r} not found in {PROMPTS_DIR / 'styles'} (TOP5_STYLE / --style); "
                          f"known styles: {', '.join(known)}")
    return folder


def _short_title(title: str) -> str:
    head = re.split(r"[:?]", title, maxsplit=1)[0].strip()
    return head if 2 <= len(head) <= 80 else title[:77].rsplit(" ", 1)[0] + "..."
