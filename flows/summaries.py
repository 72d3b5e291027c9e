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
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator

from flows import prompts
from flows.candidates import Candidate
from flows.errors import LLMError
from flows.grounding import Ungrounded, check_section, grounding_source, mark_inline
from flows.lint import LintProblem, lint_section
from flows.pdf_text import Caption, Extraction, select_for_prompt

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
class Section:
    arxiv_id: str
    name: str
    problem: str
    idea: str
    results: str
    take: str
    notes: tuple[str, ...] = ()
    method_figure: str | None = None
    results_figure: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__, notes=list(self.notes))


def summarize(cand: Candidate, extraction: Extraction | None, llm) -> Section:
    notes: list[str] = []
    if extraction is not None and extraction.text is not None:
        text = select_for_prompt(extraction.text, budget_tokens=TEXT_BUDGET_TOKENS)
        captions = extraction.text.captions
        source = grounding_source(extraction.text.body, extraction.text.sections.get("appendix"),
                                  cand.title, cand.abstract)
    else:
        reason = extraction.detail or extraction.reason if extraction else "no PDF"
        notes.append(f"written from the abstract only: the PDF text was not available ({reason}).")
        text, captions, source = f"abstract: {cand.abstract}", (), grounding_source(cand.title, cand.abstract)
    if llm.offline:
        notes.append("written by the small offline model: check every sentence against the paper.")
    figures = _figures(captions)
    messages = _messages(cand, text)
    try:
        fields = llm.complete_json("summarize", messages, SectionFields, max_tokens=SUMMARY_TOKENS)
        problems, ungrounded = _check(fields, source)
        if problems or ungrounded:  # one more try, told exactly what was wrong
            retry = messages + [{"role": "assistant", "content": fields.model_dump_json()},
                                {"role": "user", "content": _fix_request(problems, ungrounded)}]
            fields = llm.complete_json("summarize", retry, SectionFields, max_tokens=SUMMARY_TOKENS)
            problems, ungrounded = _check(fields, source)
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


def _messages(cand: Candidate, text: str) -> list[dict]:
    system = prompts.render("summary_system.j2", style=prompts.read("style.md"))
    user = prompts.render("summary_user.j2", paper=cand, text=text)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _figures(captions: tuple[Caption, ...]) -> dict[str, str | None]:
    figures = [c for c in captions if c.kind == "figure"]
    method = next((c for c in figures if _METHOD_WORDS.search(c.text)), figures[0] if figures else None)
    results = next((c for c in captions if c is not method and _RESULT_WORDS.search(c.text)), None)
    return {"method_figure": _describe(method), "results_figure": _describe(results)}


def _describe(caption: Caption | None) -> str | None:
    if caption is None:
        return None
    text = caption.text if len(caption.text) <= 200 else caption.text[:197].rsplit(" ", 1)[0] + "..."
    return f"{caption.kind.title()} {caption.number} (page {caption.page}): {text}"


def _short_title(title: str) -> str:
    head = re.split(r"[:?]", title, maxsplit=1)[0].strip()
    return head if 2 <= len(head) <= 80 else title[:77].rsplit(" ", 1)[0] + "..."
