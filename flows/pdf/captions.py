"""Figure and table captions found in the cleaned pages of a paper."""

from __future__ import annotations

import re

from flows.pdf.paper import Caption
from flows.pdf.sections import NUMBERED, looks_like_title

_CAPTION = re.compile(
    r"^(?P<kind>Figure|Fig\.|FIGURE|FIG\.|Table|TABLE|Tab\.)\s*(?P<num>[A-Z]?\d{1,3}|[IVX]{1,5})"
    r"(?:(?P<sep>\s*[:.|]\s*)|\s+(?=[A-Z])|\s*$)(?P<rest>.*)$"
)
_CAPTION_MAX_CHARS = 600


def _caption_text(first: str, following: list[str]) -> str:
    parts = [first.strip()] if first.strip() else []
    for line in following:
        stripped = line.strip()
        if not stripped or _CAPTION.match(stripped) or NUMBERED.match(stripped) and looks_like_title(
                NUMBERED.match(stripped).group("title")):
            break
        current = " ".join(parts)
        if current.endswith(".") and len(current) > 40:
            break
        if len(current) > _CAPTION_MAX_CHARS:
            break
        parts.append(stripped)
    text = " ".join(parts)
    if len(text) > _CAPTION_MAX_CHARS:
        cut = text.rfind(". ", 0, _CAPTION_MAX_CHARS)
        text = text[: cut + 1] if cut > 40 else text[:_CAPTION_MAX_CHARS].rsplit(" ", 1)[0]
    return text


def find_captions(pages: list[str]) -> tuple[Caption, ...]:
    """Figure and table captions with their 1-based page; the first caption per number wins."""
    found: dict[tuple[str, str], Caption] = {}
    for page_no, page in enumerate(pages, start=1):
        lines = page.split("\n")
        for i, line in enumerate(lines):
            m = _CAPTION.match(line.strip())
            if not m:
                continue
            kind = "table" if m.group("kind").lower().startswith("tab") else "figure"
            rest = m.group("rest")
            if not m.group("sep") and not rest.strip() and not m.group("kind").isupper():
                continue  # "Figure 3" alone on a line is a figure label, not a caption
            text = _caption_text(rest, lines[i + 1:i + 8])
            if len(text) < 8 or (kind, m.group("num")) in found:
                continue
            found[(kind, m.group("num"))] = Caption(kind, m.group("num"), text, page_no)
    return tuple(found.values())

