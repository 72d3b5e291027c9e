"""The editor's exemplar: paper 1 of the newest digest the editor finished, as the voice every
summary is asked to write in. It is text read back from a merged file, so it is data, never
instructions: HTML comments (invisible on GitHub, so a co-editor's review does not see them) are
taken out, then it passes the same guard as paper text (flows/guard.py), and it is cut to
EXEMPLAR_CHARS at a paragraph boundary. What was taken out is a note for the draft's flags.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from flows.files import edited_since_written, read_editor_text
from flows.guard import guard
from flows.text import clip

EXEMPLAR_CHARS = 3000  # the house style's sections are 1,200-2,500 characters; a longer one only costs tokens
_FIRST_SECTION = re.compile(r"^## Paper 1:.*?(?=^## |^#weeklytop5|\Z)", re.M | re.S)
COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)  # an unterminated comment hides the rest of the page
_NOT_VOICE = re.compile(r"^<img[^>]*>\s*$|^> ⚠️.*$", re.M)


@dataclass(frozen=True)
class Exemplar:
    """An exemplar section as the prompt may see it, where it came from, and what was taken out."""

    text: str
    week: str
    notes: tuple[str, ...] = ()


def editor_exemplars(digests_dir: Path, except_week: str | None, merged: Mapping[str, str]) -> Iterator[Exemplar]:
    """The first section of each digest the editor finished (merged into the base branch, or a
    page in `digests_dir` they edited or wrote), newest week first, made safe (see the module doc)."""
    local = {p.name: p / "README.md" for p in digests_dir.glob("*") if (p / "README.md").is_file()}
    for week in sorted(set(local) | set(merged), reverse=True):
        if week == except_week:
            continue
        notes: list[str] = []
        if week in merged:
            text, where = merged[week], f"the merged {week}/README.md"
        elif edited_since_written(local[week]):
            read = read_editor_text(local[week])
            text, where = read.text, str(local[week])
            notes += [read.note] if read.note else []
        else:
            continue
        found = exemplar_of(text, where)
        if found is not None:
            yield Exemplar(found.text, week, tuple(notes) + found.notes)


def exemplar_of(page: str, where: str) -> Exemplar | None:
    """The first section ("## Paper 1: ...") of a digest page, without comments, images and
    draft notes, guarded and bounded; None when the page has no such section. `where` names the
    page in the notes."""
    comments = COMMENT.findall(page)
    match = _FIRST_SECTION.search(COMMENT.sub("", page))
    if match is None:
        return None
    section = re.sub(r"\n{3,}", "\n\n", _NOT_VOICE.sub("", match.group(0))).strip()
    what = f"the exemplar ({where})"
    text, notes = as_data(section, what)
    return Exemplar(text, "", tuple(_comment_notes(what, comments)) + notes)


def as_data(text: str, what: str, limit: int = EXEMPLAR_CHARS) -> tuple[str, tuple[str, ...]]:
    """The editor's `text` (read back from one of their pages) as a prompt may hold it: HTML
    comments out, through the guard, at most `limit` characters cut at a paragraph; and one note
    for the draft's flags per thing taken out, `what` naming the text ("the exemplar (...)")."""
    comments = COMMENT.findall(text)
    guarded = guard(COMMENT.sub("", text).strip())
    notes = _comment_notes(what, comments)
    if guarded.removed:
        notes.append(f"{what} addressed an AI model; that text was removed from every prompt: "
                     f"{'; '.join(repr(clip(r, 100)) for r in guarded.removed)}")
    bounded = _bounded(guarded.text, limit)
    if len(bounded) < len(guarded.text):
        notes.append(f"{what} is {len(guarded.text):,} characters: only its first "
                     f"{len(bounded):,} were used, cut at a paragraph")
    return bounded, tuple(notes)


def _comment_notes(what: str, comments: list[str]) -> list[str]:
    if not comments:
        return []
    return [f"{what} held {len(comments)} HTML comment(s), left out of every prompt: "
            f"{'; '.join(repr(clip(c, 100)) for c in comments)}; remove them from the page if they are not yours"]


def _bounded(text: str, limit: int = EXEMPLAR_CHARS) -> str:
    """`text` whole when it fits in `limit` characters, else its paragraphs up to the last one that
    fits (a first paragraph longer than that is cut at a line, else at a word)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for boundary in ("\n\n", "\n", " "):
        cut = head.rfind(boundary)
        if cut > limit // 4:
            return head[:cut].rstrip()
    return head
