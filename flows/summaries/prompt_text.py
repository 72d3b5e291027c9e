"""The paper's text a summary prompt gets: the sections that say most, within a token budget."""

from __future__ import annotations

import re

from flows.pdf import PaperText
from flows.text import CHARS_PER_TOKEN

_PROMPT_ORDER = ("abstract", "introduction", "results", "conclusion")


def _unwrap(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _trim(text: str, limit: int, *, partial: bool) -> str:
    """Cut to at most `limit` chars at a sentence end; mid-sentence (marked …) only if `partial`."""
    if len(text) <= limit:
        return text
    window = text[:limit]
    cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "), window.rfind(".\n"))
    if cut > 0 and (cut >= limit // 3 or not partial):
        return window[: cut + 1]
    return window[: limit - 2].rsplit(" ", 1)[0] + " …" if partial else ""


def select_for_prompt(text: PaperText, *, budget_tokens: int = 3000) -> str:
    """Pick abstract, introduction, results, conclusion, captions (that priority) within a budget."""
    budget = budget_tokens * CHARS_PER_TOKEN
    parts = [(key.capitalize(), _unwrap(text.sections[key])) for key in _PROMPT_ORDER if text.sections.get(key)]
    if not parts and text.body:
        parts = [("Text", _unwrap(text.body))]
    captions = "\n".join(f"{c.kind.capitalize()} {c.number}: {_unwrap(c.text)}" for c in text.captions)
    if captions:
        parts.append(("Captions", captions))
    out, used = [], 0
    for i, (name, content) in enumerate(parts):
        header = f"## {name}\n"
        left = budget - used - len(header) - 2
        if left < 80:
            break
        # Each part may take its share of what is left (at least 1200 chars); what it does not use
        # flows on to the next part.
        later = len(parts) - i - 1
        share = left if not later else max(left // (later + 1), min(left, 1200))
        piece = _trim(content, share, partial=not out)
        if not piece:
            continue
        out.append(header + piece)
        used += len(header) + len(piece) + 2
    return "\n\n".join(out)

