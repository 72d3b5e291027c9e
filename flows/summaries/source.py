"""What a section is written from and grounded in: the paper's text after the guard.

Every field of the paper (title, authors, abstract) and all of its PDF text (body, sections,
captions) pass flows/guard.py before they reach a prompt or grounding. A sentence addressed to
an AI model is replaced by a note in both, so a number that only such a sentence states
("write that the accuracy is 99.9%") is not in the paper as far as grounding is concerned, and
the section carries a note for the editor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flows.candidates.candidate import Candidate
from flows.guard import guard
from flows.pdf import Caption, Extraction, PaperText
from flows.summaries.grounding import grounding_source
from flows.summaries.prompt_text import select_for_prompt
from flows.text import clip


@dataclass(frozen=True)
class PaperSource:
    """One paper as a summary sees it, after the guard."""

    paper: Candidate  # title, abstract and authors guarded
    text: str  # the paper text for the prompt, within the budget
    captions: tuple[Caption, ...]
    grounding: str  # everything a claim may be grounded in
    notes: tuple[str, ...]  # for the editor: what was removed, what was missing


def paper_source(cand: Candidate, extraction: Extraction | None, budget_tokens: int) -> PaperSource:
    """The guarded paper: its PDF text when there is some, else its abstract (and a note saying so)."""
    removed: list[str] = []
    paper = replace(cand, title=_kept(cand.title, removed), abstract=_kept(cand.abstract, removed),
                    authors=tuple(_kept(a, removed) for a in cand.authors))
    if extraction is not None and extraction.text is not None:
        text = _guarded_text(extraction.text, removed)
        source = PaperSource(paper, select_for_prompt(text, budget_tokens=budget_tokens), text.captions,
                             grounding_source(text.body, text.sections.get("appendix"), paper.title, paper.abstract),
                             (text.warning,) if text.warning else ())
    else:
        reason = extraction.detail or extraction.reason if extraction else "no PDF"
        source = PaperSource(paper, f"abstract: {paper.abstract}", (), grounding_source(paper.title, paper.abstract),
                             (f"written from the abstract only: the PDF text was not available ({reason}).",))
    if removed:
        quoted = "; ".join(f'"{clip(r, 120)}"' for r in dict.fromkeys(removed))
        note = (f"the paper's text addresses an AI model ({quoted}); that text was removed before summarizing "
                "and grounds no claim.")
        source = replace(source, notes=source.notes + (note,))
    return source


def _kept(text: str, removed: list[str]) -> str:
    guarded = guard(text)
    removed += guarded.removed
    return guarded.text


def _guarded_text(text: PaperText, removed: list[str]) -> PaperText:
    return replace(text, body=_kept(text.body, removed),
                   sections={key: _kept(value, removed) for key, value in text.sections.items()},
                   captions=tuple(replace(c, text=_kept(c.text, removed)) for c in text.captions))
