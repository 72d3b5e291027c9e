"""A section written one part at a time: how the embedded small model drafts a section.

SmolLM2-135M cannot hold five JSON fields, a style guide and an exemplar at once: asked for the
whole section as JSON, it wrote paragraphs of 2-7 words, echoed its instructions and left
template markup. Asked for one part at a time, with the paper first and a one-line request last,
it writes prose of the right length.

Each paragraph request carries two llama.cpp request fields (see the README of llama.cpp's
server, "POST /completion" options):
- `min_tokens`: no paragraph shorter than the house style's shortest;
- a GBNF `grammar` (prompts/part_*.gbnf): one paragraph of plain prose with no markup. The
  take opens in the first person, as the house style's takes do.

The requests are in prompts/parts.toml; the name comes from a few made-up examples of
title -> name. Every paragraph prompt starts with the same paper text, so llama.cpp reuses that
evaluated prefix from one part to the next. Sampling is cool on the first try (temperature 0.3). The one retry of a failed part
is warmer, with another seed: the tiny model rambles when hot, and asked the same way twice it
answers the same way.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

from flows import prompts
from flows.summaries.lint import DEFAULT_RULES, lint_section
from flows.summaries.source import PaperSource

PARAGRAPHS = ("problem", "idea", "results", "take")
PARTS = (*PARAGRAPHS, "name")  # the name last: the paragraphs share the paper's prompt prefix
SAMPLING = ({"temperature": 0.3, "seed": 1}, {"temperature": 0.7, "seed": 2})  # first try, retry


@dataclass(frozen=True)
class _Shape:
    max_tokens: int
    min_tokens: int  # the house style's shortest paragraph (lint.py) is 10-15 words, ~1.4 tokens each
    grammar: str | None  # a file of prompts/


_SHAPES = {
    "problem": _Shape(110, 30, "part_paragraph.gbnf"),
    "idea": _Shape(110, 30, "part_paragraph.gbnf"),
    "results": _Shape(90, 20, "part_paragraph.gbnf"),
    "take": _Shape(80, 20, "part_take.gbnf"),
    "name": _Shape(16, 2, None),
}
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s+[A-Z0-9\"'(])")
_ENDED = re.compile(r"[.!?][\"')\]]?$")
_ABBREVIATIONS = {"vs", "etc", "al", "e.g", "i.e", "fig", "figs", "eq", "eqs", "cf", "approx", "resp", "no"}
_LABEL = re.compile(r"^(?:name|title|headline)\s*:\s*", re.I)
_CLAUSE = re.compile(r"[:;,?(]| [-–—] | (?=(?:using|with|for|via|from|through|by|in|on|and|to) )")


def ask_parts(llm, source: PaperSource, parts: Sequence[str] = PARTS, *, attempt: int = 0) -> dict[str, str]:
    """{part: text} for each of `parts` (of PARTS), one request each to the embedded model
    `llm` (flows.llm.LLM), written from `source` (the guarded paper and its prompt text).
    `attempt` 0 is the first try, 1 the retry (SAMPLING; TOP5_SUMMARY_TEMPERATURE, when set,
    replaces the first try's temperature). A paragraph cut at its max_tokens
    ends at its last whole sentence. Raises LLMError when a request fails."""
    asks, told = _asks(), instructions()
    out = {}
    for part in parts:
        shape = _SHAPES[part]
        extra = {**_sampling(llm, attempt), "min_tokens": shape.min_tokens}
        if shape.grammar:
            extra["grammar"] = prompts.read(shape.grammar)
        answer = llm.complete_text("summarize", _messages(part, source, asks), max_tokens=shape.max_tokens,
                                   extra=extra, usable=lambda text, part=part: _usable(part, text, source, told))
        out[part] = tidy(part, answer)
    return out


def _sampling(llm, attempt: int) -> dict:
    """SAMPLING for the attempt; the first try takes TOP5_SUMMARY_TEMPERATURE when it is set."""
    chosen = llm.settings.summary_temperature
    return SAMPLING[attempt] if attempt or chosen is None else {**SAMPLING[0], "temperature": chosen}


def instructions() -> str:
    """Everything the parts' prompts say besides the paper: an answer that repeats it echoes
    its instructions (lint's `prompt`)."""
    asks = _asks()
    examples = [text for pair in asks["name"]["examples"] for text in pair]
    return "\n".join([prompts.read("part_system.j2"), *asks["asks"].values(), asks["name"]["system"], *examples])


def _messages(part: str, source: PaperSource, asks: dict) -> list[dict]:
    if part == "name":
        shots = [m for title, name in asks["name"]["examples"] for m in (_user(_title(title)), _assistant(name))]
        return [_system(asks["name"]["system"]), *shots, _user(_title(source.paper.title))]
    ask = prompts.render("part_user.j2", paper=source.paper, text=source.text, ask=asks["asks"][part])
    return [_system(prompts.render("part_system.j2")), _user(ask)]


def _asks() -> dict:
    return tomllib.loads(prompts.read("parts.toml"))


def _title(title: str) -> str:
    return prompts.render("part_name.j2", title=title)


def _system(text: str) -> dict:
    return {"role": "system", "content": text.strip()}


def _user(text: str) -> dict:
    return {"role": "user", "content": text.strip()}


def _assistant(text: str) -> dict:
    return {"role": "assistant", "content": text.strip()}


def tidy(part: str, text: str) -> str:
    """The answer as the part: a name is its first line without quotes, a label or a closing
    period; a paragraph is one line and, when it stops mid-sentence (cut at its max_tokens),
    ends at its last whole sentence (an abbreviation such as "vs." or "e.g." ends none)."""
    if part == "name":
        line = next((line for line in text.splitlines() if line.strip()), "")
        return _shorter(_LABEL.sub("", line.strip(" \"'“”")).strip(" \"'“”").rstrip(".").strip())
    text = " ".join(text.split())
    if _ENDED.search(text):
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)
            if text[: m.start()].rsplit(" ", 1)[-1].lstrip("(\"'[").lower() not in _ABBREVIATIONS]
    return text[: ends[-1]] if ends else text


def _shorter(name: str) -> str:
    """A name over the house style's length (lint.LintRules) cut at its last clause boundary that
    leaves a name within it ("How to combine TLS and LLM for REST API testing in a comparative
    study" -> "How to combine TLS and LLM"); as it was when there is none."""
    if _fits(name):
        return name
    for cut in reversed(list(_CLAUSE.finditer(name))):
        head = name[: cut.start()].rstrip(" ,;:-–—(")
        if len(head.split()) >= 2 and _fits(head):
            return head
    return name


def _fits(name: str) -> bool:
    return len(name) <= DEFAULT_RULES.name_max_chars and len(name.split()) <= DEFAULT_RULES.name_max_words


def _usable(part: str, text: str, source: PaperSource, told: str) -> bool:
    """Whether an answer may be cached: lint finds nothing in it that makes the part unusable."""
    problems = lint_section({part: tidy(part, text)}, source=source.grounding, prompt=told)
    return not any(p.unusable and p.field == part for p in problems)
