"""Cleaning pypdf's text: NFKC, control and private-use characters, the arXiv side stamp, running
heads and page numbers, and words hyphenated across lines: what pypdf output needs on real arXiv papers (docs/pdf-text.md)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from flows.text import ARXIV_ID

PAGE_BREAK = "\f"

_SIDE_STAMP = re.compile(
    rf"^[ \t]*arXiv:{ARXIV_ID}(?:v\d+)?[ \t]+\[[^\]\n]{{1,30}}\][ \t]+"
    r"\d{1,2}[ \t]+[A-Z][a-z]{2}[ \t]+\d{4}[ \t]*(?:\n|\Z)",
    re.M,
)
_LINE_END_HYPHEN = re.compile(r"([^\W\d_][\w-]*)-[ \t]*\n[ \t]*([^\W_][\w]*)")
_INLINE_HYPHENATED = re.compile(r"\b[^\W\d_]+(?:-[^\W\d_]+)+\b")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$|^[ivxlc]{1,6}$", re.I)
_WORD = re.compile(r"[^\W\d_]+")


def _strip_chars(text: str) -> str:
    """Drop control characters (keeping newline, tab, page break) and private-use glyphs."""
    out = []
    for ch in text:
        if ch in "\n\t\f":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Co", "Cs", "Cn") or ch in "\ufffe\ufeff\u00ad":
            continue
        out.append(ch)
    return "".join(out)


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def _drop_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers/footers (repeated lines at page edges) and bare page numbers."""
    edge = 3
    counts: Counter[str] = Counter()
    for lines in pages:
        nonblank = [ln for ln in lines if ln.strip()]
        counts.update({_line_key(ln) for ln in nonblank[:edge] + nonblank[-edge:]})
    min_repeats = max(3, len(pages) // 2)
    repeated = {k for k, n in counts.items() if n >= min_repeats and len(k) > 1} if len(pages) >= 3 else set()
    cleaned = []
    for lines in pages:
        idx = [i for i, ln in enumerate(lines) if ln.strip()]
        if len(idx) < 4:  # a page this short is content, not a header over content
            cleaned.append(lines)
            continue
        at_edge = set(idx[:edge] + idx[-edge:])
        kept = []
        for i, ln in enumerate(lines):
            if i in at_edge:
                stripped = ln.strip()
                if _line_key(ln) in repeated or _PAGE_NUMBER.match(stripped):
                    continue
            kept.append(ln)
        cleaned.append(kept)
    return cleaned


def _join_hyphenation(text: str) -> str:
    """Join `train-\\ning` -> `training`, but keep compounds the text also writes with a hyphen."""
    hyphenated = {m.group(0).lower() for m in _INLINE_HYPHENATED.finditer(text)}
    words = {m.group(0).lower() for m in _WORD.finditer(text)}

    def join(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        compound = f"{head}-{tail}".lower()
        joined = f"{head}{tail}".lower()
        if compound in hyphenated and joined not in words:
            return f"{head}-{tail}"
        if tail[0].isupper() or tail[0].isdigit() or (("-" in head) and compound in hyphenated):
            return f"{head}-{tail}"
        return f"{head}{tail}"

    return _LINE_END_HYPHEN.sub(join, text)




def clean_pages(raw_pages: list[str]) -> list[str]:
    """Clean page by page (page-level furniture needs the page boundaries), then hyphenation."""
    pages = []
    for raw in raw_pages:
        text = unicodedata.normalize("NFKC", raw)
        text = _strip_chars(text).replace("\f", "\n")
        text = _SIDE_STAMP.sub("", text)
        pages.append([ln.rstrip() for ln in text.split("\n")])
    pages = _drop_page_furniture(pages)
    joined = PAGE_BREAK.join("\n".join(ln for ln in lines) for lines in pages)
    joined = _join_hyphenation(joined)
    joined = re.sub(r"[ \t]{2,}", " ", joined)
    joined = re.sub(r"\n{3,}", "\n\n", joined)
    return [p.strip("\n") for p in joined.split(PAGE_BREAK)]


def clean_text(raw: str) -> str:
    """Clean pypdf output; pages may be separated by form feeds (\\f) for header/footer removal."""
    return "\n".join(p for p in clean_pages(raw.split(PAGE_BREAK)) if p)

