"""Summaries: one house-style section per pick, written by the LLM from the paper's text.

The model returns the parts of a section as validated fields; the digest template, not the
model, lays them out. When the PDF could not be read the section is written from the
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
    else:
        reason = extraction.detail or extraction.reason if extraction else "no PDF"
        notes.append(f"written from the abstract only: the PDF text was not available ({reason}).")
        text, captions = f"abstract: {cand.abstract}", ()
    if llm.offline:
        notes.append("written by the small offline model: check every sentence against the paper.")
    figures = _figures(captions)
    try:
        fields = llm.complete_json("summarize", _messages(cand, text), SectionFields,
                                   max_tokens=SUMMARY_TOKENS)
    except LLMError as exc:
        notes.append(f"the LLM could not write this section ({exc.message}); the abstract stands in for it.")
        return Section(cand.arxiv_id, name=_short_title(cand.title), problem=cand.abstract,
                       idea="[needs writing: the key idea]", results="[needs writing: the results, with numbers from the paper]",
                       take="[needs writing: your take]", notes=tuple(notes), **figures)
    return Section(cand.arxiv_id, fields.name, fields.problem, fields.idea, fields.results,
                   fields.take, notes=tuple(notes), **figures)


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
