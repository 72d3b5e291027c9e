"""Writing the review: the top three in depth, the seven others in a paragraph each, and a short
opening on the period's themes, each grounded in the papers as the weekly sections are.

A top-three section starts with the editor's own weekly text of the paper, kept word for word,
and extends it with three paragraphs written from the full PDF text (what it builds on, how it
works with numbers, why it matters); its figures are found by caption as in the weekly draft.
A paper whose PDF could not be had is written from the editor's text and its abstract, flagged.
Every number and name the model writes is checked against the paper's text and the editor's
(flows/summaries/grounding.py); what is not found there is marked inline and noted. An answer the
model could not give leaves a placeholder for the editor and a note; it never sinks the review.

The asks are prompts/review_asks.toml; a configured model answers each kind in one JSON request,
the embedded small model one plain paragraph per field (as it writes weekly sections).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from pydantic import BaseModel, Field, create_model

from flows import prompts
from flows.errors import LLMError
from flows.guard import guard
from flows.pdf import Extraction
from flows.review.candidates import YearPick
from flows.summaries import Section, Voice
from flows.summaries.grounding import check_section, grounding_source, mark_inline
from flows.summaries.lint import lint_section
from flows.summaries.parts import SAMPLING, tidy
from flows.summaries.section import _figures, _short_title
from flows.summaries.source import paper_source

DEEP_TEXT_TOKENS, PARAGRAPH_TEXT_TOKENS, OFFLINE_TEXT_TOKENS = 4000, 700, 600
ANSWER_TOKENS = 1200
OFFLINE_PARAGRAPH = {"max_tokens": 130, "min_tokens": 30}
FIELD_MAX_CHARS = 2400
TOPIC_TITLES = 8  # titles per week in the opening's prompt
PLACEHOLDER = "[needs writing: {}]"


@dataclass(frozen=True)
class Opening:
    """The review's opening paragraph (a draft for the editor) and what it could not ground."""

    text: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"text": self.text, "notes": list(self.notes)}


class Writer:
    """Writes the review's parts with `llm` in `voice` (the review style's guide and exemplar)
    for `profile`'s digest; `period` names the span in the prompts ("2026")."""

    def __init__(self, llm, profile, voice: Voice, period: str) -> None:
        self.llm, self.profile, self.voice, self.period = llm, profile, voice, period
        self.asks = tomllib.loads(prompts.read("review_asks.toml"))

    def deep(self, pick: YearPick, extraction: Extraction | None, reason: str) -> Section:
        """A top-three section: the editor's text (problem) kept, then builds_on (idea), details
        (results) and why_it_matters (take); figures by caption from the PDF text."""
        budget = OFFLINE_TEXT_TOKENS if self.llm.offline else DEEP_TEXT_TOKENS
        source = paper_source(pick.candidate, extraction, budget)
        editor = guard(pick.editor_text).text
        notes = list(source.notes)
        if extraction is None or extraction.text is None:
            notes.append("its PDF could not be had: written from the editor's weekly text and the abstract.")
        material = [_material(pick, source.text, editor, self._reason(reason))]
        values, more = self._ask("deep", material, grounding_source(source.grounding, editor, pick.week))
        notes += more
        kept = editor or PLACEHOLDER.format("your own words on this paper (its week's digest had no text for it)")
        return Section(pick.arxiv_id, name=self._name(pick), problem=kept, idea=values["builds_on"],
                       results=values["details"], take=values["why_it_matters"], notes=tuple(notes),
                       **_figures(source.captions))

    def paragraph(self, pick: YearPick, reason: str) -> Section:
        """One of the seven: a single paragraph (in `problem`) from the editor's text and the abstract."""
        source = paper_source(pick.candidate, None, PARAGRAPH_TEXT_TOKENS)
        editor = guard(pick.editor_text).text
        material = [_material(pick, source.text, editor, self._reason(reason))]
        values, notes = self._ask("paragraph", material, grounding_source(source.grounding, editor, pick.week))
        return Section(pick.arxiv_id, name=self._name(pick), problem=values["paragraph"], idea="", results="",
                       take="", notes=tuple(notes))

    def opening(self, ten: list[tuple[YearPick, str]], picks: list[YearPick]) -> Opening:
        """The opening on the period's themes, from the ten (pick, reason) and every week's titles."""
        material = [_material(p, f"abstract: {guard(p.candidate.abstract).text}", "", self._reason(reason))
                    for p, reason in ten]
        topics = _topics(picks)
        source = grounding_source(*(f"{p.week}\n{p.candidate.title}\n{p.candidate.abstract}\n{p.editor_text}"
                                    for p in picks))
        values, notes = self._ask("opening", material, source, topics)
        return Opening(values["opening"], tuple(notes))

    def _reason(self, reason: str) -> str:
        """The LLM's reason for the prompt; none for the offline model, whose order is the signals'
        (it copies their figures into its prose)."""
        return "" if self.llm.offline else reason

    def _name(self, pick: YearPick) -> str:
        return pick.editor_name or _short_title(guard(pick.candidate.title).text)

    def _ask(self, kind: str, papers: list[dict], grounding: str, topics=()) -> tuple[dict[str, str], list[str]]:
        """{field: text} for the fields of `kind`, grounded in `grounding` (claims not found there
        marked inline), and the notes for the editor. A failed answer leaves placeholders."""
        asks = self.asks[kind]
        system = prompts.render("review_system.j2", profile=self.profile, period=self.period, style=self.voice.guide,
                                exemplar="" if self.llm.offline else self.voice.exemplar,
                                fields=None if self.llm.offline else asks).strip()
        try:
            values = (self._by_parts(system, papers, topics, asks) if self.llm.offline
                      else self._as_json(system, papers, topics, asks, kind))
        except LLMError as exc:
            return ({name: _placeholder(ask) for name, ask in asks.items()},
                    [f"the LLM could not write this ({exc.message}): the placeholders are for you."])
        values, notes = self._usable(values, asks, grounding, system)
        ungrounded = check_section(values, grounding)
        if ungrounded:
            claims = ", ".join(dict.fromkeys(u.claim for u in ungrounded))
            notes.append(f"not found in the paper, marked ⚠️ inline: {claims}.")
        if self.llm.offline:
            notes.append("written by the small offline model: check every sentence against the paper.")
        return {name: mark_inline(text, ungrounded) for name, text in values.items()}, notes

    def _usable(self, values: dict[str, str], asks: dict, grounding: str, system: str) -> tuple[dict[str, str], list[str]]:
        """`values` with each paragraph lint finds unusable (gibberish, markup, an echo of the
        instructions: flows/summaries/lint.py) replaced by a placeholder, and a note for each."""
        told = "\n".join([system, *asks.values()])
        kept, notes = {}, []
        for name, text in values.items():
            problems = [p.message for p in lint_section({"problem": text}, source=grounding, prompt=told)
                        if p.unusable and p.field == "problem"]
            kept[name] = _placeholder(asks[name]) if problems else text
            notes += [f"the model's {name.replace('_', ' ')} was unusable ({'; '.join(problems)}): "
                      "the placeholder is for you."] if problems else []
        return kept, notes

    def _as_json(self, system: str, papers: list[dict], topics, asks: dict, kind: str) -> dict[str, str]:
        user = prompts.render("review_user.j2", papers=papers, topics=topics,
                              ask=f"Write the {', '.join(asks)} as the JSON object.").strip()
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        answer = self.llm.complete_json("summarize", messages, _schema(kind, tuple(asks)), max_tokens=ANSWER_TOKENS)
        return {name: " ".join(value.split()) for name, value in answer.model_dump().items()}

    def _by_parts(self, system: str, papers: list[dict], topics, asks: dict) -> dict[str, str]:
        out = {}
        for name, ask in asks.items():
            user = prompts.render("review_user.j2", papers=papers, topics=topics, ask=ask).strip()
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            extra = {**SAMPLING[0], "min_tokens": OFFLINE_PARAGRAPH["min_tokens"],
                     "grammar": prompts.read("part_paragraph.gbnf")}
            text = self.llm.complete_text("summarize", messages, max_tokens=OFFLINE_PARAGRAPH["max_tokens"], extra=extra)
            out[name] = tidy(name, text)
        return out



def _placeholder(ask: str) -> str:
    """'[needs writing: how the method works and ...]' for the ask 'One paragraph ...: how the method works ...'."""
    return PLACEHOLDER.format(ask.split(":", 1)[-1].strip().rstrip("."))


def _material(pick: YearPick, text: str, editor: str, reason: str) -> dict:
    cand = pick.candidate
    return {"arxiv_id": cand.arxiv_id, "title": guard(cand.title).text, "week": pick.week, "editor_text": editor,
            "reason": guard(reason).text, "text": text}


def _topics(picks: list[YearPick]) -> list[tuple[str, list[str]]]:
    weeks: dict[str, list[str]] = {}
    for pick in picks:
        weeks.setdefault(pick.week, []).append(guard(pick.candidate.title).text)
    return [(week, titles[:TOPIC_TITLES]) for week, titles in sorted(weeks.items())]


_SCHEMAS: dict[str, type[BaseModel]] = {}


def _schema(kind: str, fields: tuple[str, ...]) -> type[BaseModel]:
    """The answer's pydantic model: each field a paragraph (20..FIELD_MAX_CHARS characters)."""
    if kind not in _SCHEMAS:
        _SCHEMAS[kind] = create_model(f"Review{kind.title()}Fields", **{
            name: (str, Field(min_length=20, max_length=FIELD_MAX_CHARS)) for name in fields})
    return _SCHEMAS[kind]
