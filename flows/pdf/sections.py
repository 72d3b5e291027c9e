"""Sections of a paper's cleaned text: headings (numbered, unnumbered, inline "Abstract—"),
mapped to canonical keys (abstract, introduction, method, results, conclusion, references,
appendix)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CANONICAL = [
    ("abstract", re.compile(r"abstract", re.I)),
    ("introduction", re.compile(r"(introduction|einleitung|overview and motivation)", re.I)),
    ("method", re.compile(r"(methods?|methodology|approach|our approach|proposed (method|approach)|"
                          r"materials and methods|model|proposed model)", re.I)),
    ("results", re.compile(r"((main |experimental )?results( and (discussion|analysis))?|experiments?|"
                           r"experimental (results|setup|evaluation)|evaluation|analysis and results|"
                           r"experiments and results)", re.I)),
    ("conclusion", re.compile(r"(conclusions?|concluding remarks|summary and conclusions?|"
                              r"conclusions? and (future work|outlook|discussion|limitations)|discussion and conclusions?)",
                              re.I)),
    ("references", re.compile(r"(references|bibliography|literatur|literature cited)", re.I)),
    ("appendix", re.compile(r"(appendix|appendices|supplementary materials?)(\s+[A-Z]\b)?(\s*[:.—–-]?\s+[A-Z].*)?",
                            re.I)),
    # not returned, but they end the section before them
    ("discussion", re.compile(r"(general )?discussion( and future work)?", re.I)),
    ("_other", re.compile(r"(acknowledge?ments?|limitations|ethics statement|ethical considerations|"
                          r"broader impacts?( statement)?|author contributions|contribution statement|funding|"
                          r"data availability|impact statement|related work|background)", re.I)),
]
NUMBERED = re.compile(r"^(?P<num>(?:\d{1,2}|[IVX]{1,5}|[A-H])(?:\.\d{1,2})*)\.?\s+(?P<title>\S.{1,80})$")
_UNNUMBERED_MAX_WORDS = 6
_INLINE_ABSTRACT = re.compile(r"^(abstract)\s*[.:—–-]\s*(?=\S)", re.I)


@dataclass(frozen=True)
class _Heading:
    start: int  # offset of the heading line
    end: int  # offset just after the heading line (or the inline "Abstract—" marker)
    number: str  # "" when unnumbered
    title: str
    key: str | None  # canonical key or None


def _canonical(title: str) -> str | None:
    title = re.sub(r"[\s:.]+$", "", title.strip())
    for key, pattern in _CANONICAL:
        if pattern.fullmatch(title):
            return key
    return None


def looks_like_title(title: str) -> bool:
    words = title.split()
    if not words or len(words) > 9 or len(title) > 80:
        return False
    if title[-1] in ",;-" or (title.endswith(".") and not title.endswith("..")) or not title[0].isupper():
        return False
    letters = [c for c in title if c.isalpha()]
    return len(letters) >= 3 and not re.search(r"[=<>{}\\]|\d{3,}", title)


def find_headings(text: str) -> list[_Heading]:
    headings = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        start, end = offset, offset + len(line) + 1
        offset = end
        if not stripped:
            continue
        m = NUMBERED.match(stripped)
        if m and looks_like_title(m.group("title")):
            num, title = m.group("num"), m.group("title").strip()
            headings.append(_Heading(start, end, num, title, _canonical(title)))
            continue
        inline = _INLINE_ABSTRACT.match(stripped)
        if inline:
            headings.append(_Heading(start, start + (len(line) - len(line.lstrip())) + inline.end(), "", "Abstract",
                                     "abstract"))
            continue
        key = _canonical(stripped)
        if key and len(stripped.split()) <= _UNNUMBERED_MAX_WORDS and looks_like_title(stripped):
            headings.append(_Heading(start, end, "", stripped, key))
    return headings


def _level(number: str) -> int:
    return number.count(".") + 1 if number else 1


def _ends_section(h: _Heading, nxt: _Heading) -> bool:
    """Does heading `nxt` close the section opened by `h`?"""
    if nxt.key and nxt.key != h.key:
        return True
    if not nxt.number or nxt.key == h.key:
        return False
    if h.number and h.number[0].isdigit() != nxt.number[0].isdigit():
        return False  # lettered subsections (IEEE "A. Motivation") inside numbered sections
    if h.key == "abstract" and not nxt.number[0].isdigit() and not re.fullmatch(r"[IVX]+", nxt.number):
        return False
    if _level(nxt.number) > _level(h.number):
        return False
    if h.number.isdigit() and nxt.number.split(".")[0].isdigit():
        first = int(nxt.number.split(".")[0])
        return int(h.number) < first <= int(h.number) + 3
    return True


def split_sections(text: str) -> dict[str, str]:
    """Map canonical keys to section text (first occurrence of each; heading line excluded)."""
    headings = _plausible(find_headings(text))
    sections: dict[str, str] = {}
    for i, h in enumerate(headings):
        if not h.key or h.key.startswith("_") or h.key in sections:
            continue
        end = len(text)
        for nxt in headings[i + 1:]:
            if h.key == "appendix":
                break  # the appendix runs to the end
            if h.key == "references":
                if nxt.key == "appendix" or nxt.number == "A":
                    end = nxt.start
                    break
                continue
            if _ends_section(h, nxt):
                end = nxt.start
                break
        body = text[h.end:end].strip()
        if body:
            sections[h.key] = body
    _add_lettered_appendix(text, headings, sections)
    discussion = sections.pop("discussion", None)
    if discussion and "conclusion" not in sections:
        sections["conclusion"] = discussion
    return sections


def _plausible(headings: list[_Heading]) -> list[_Heading]:
    """Drop canonical headings that contradict the paper's layout.

    An unnumbered "Model"/"Results" line in a paper with numbered sections is a figure label, and an
    "Appendix" line before the references is a cross-reference, not the appendix.
    """
    intro = next((h for h in headings if h.key == "introduction"), None)
    numbered = bool(intro and intro.number)
    refs = next((h for h in headings if h.key == "references"), None)
    kept = []
    for h in headings:
        if numbered and not h.number and h.key in ("method", "results", "discussion"):
            h = _Heading(h.start, h.end, h.number, h.title, None)
        if h.key == "appendix" and refs and h.start < refs.start and intro and h.start < intro.start + 1:
            continue
        if h.key == "appendix" and refs and h.start < refs.start:
            h = _Heading(h.start, h.end, h.number, h.title, "_other")
        kept.append(h)
    return kept


def _add_lettered_appendix(text: str, headings: list[_Heading], sections: dict[str, str]) -> None:
    """After the references, a top-level "A <Title>" heading starts the appendix."""
    if "appendix" in sections or "references" not in sections:
        return
    refs = next(h for h in headings if h.key == "references")
    for h in headings:
        if h.start > refs.start and h.number == "A" and not re.search(r"[,&]|^[A-Z]\.", h.title):
            sections["appendix"] = text[h.start:].strip()
            sections["references"] = text[refs.end:h.start].strip()
            return



def body_end(text: str) -> int:
    """Offset where the body ends: the references or the appendix, or the end of `text`."""
    refs = [h.start for h in _plausible(find_headings(text)) if h.key in ("references", "appendix")]
    return min(refs) if refs else len(text)
