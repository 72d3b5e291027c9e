"""Where a named figure or table sits on its page, from PDFium's text and page objects.

All boxes are (left, bottom, right, top) in PDF points, page coordinates (y grows upwards).
The region of "Figure N" is found from its caption: the caption's block of lines, the column (or
both columns) it spans, and the drawings, images and figure labels on the caption's far side up
to the nearest paragraph of body text or another caption. See docs/figures.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.pdf.layout import (
    CAPTION,
    Box,
    PageLayout,
    Run,
    Shape,
    area,
    edge_key,
    intersection,
    overlap_x,
    overlap_y,
    union,
    words,
)

_MARGIN_SHARE = 0.075  # the running head and foot live in this share of the page height
_PAGE_NUMBER = re.compile(r"\d{1,4}|[ivxlc]{1,6}")
_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.|[A-H]\.)\s+[A-Z][A-Za-z]")
_SECTION_NUMBER = re.compile(r"\d{1,2}(?:\.\d{1,2})*\.?")


@dataclass(frozen=True)
class Region:
    """Where a figure is: `box` to crop, how it was found, and the caption block that names it."""

    box: Box
    caption: Box
    how: str  # "objects" (drawings and images) | "gap" (the space up to the nearest text)
    bounds: Box  # how far the crop may grow: the caption on one side, body text on the other
    images: tuple[Shape, ...] = ()


# --------------------------------------------------------------------------- the caption

def caption_block(layout: PageLayout, kind: str, number: str, text: str = "") -> Box | None:
    """The box of the caption of `kind` ("figure" | "table") `number`: its first run and the
    lines that continue it; None when the page has no such caption."""
    found = [r for r in layout.runs if _caption_of(r) == (kind, number)]
    if not found:
        return None
    first = max(found, key=lambda r: _caption_score(r, layout.body_size, text))
    block = [first]
    while True:
        nxt = _next_line(block, layout.runs)
        if not nxt:
            break
        block += nxt
    return union(r.box for r in block)


def _caption_of(run: Run) -> tuple[str, str] | None:
    m = CAPTION.match(run.text)
    if not m:
        return None
    return ("table" if m.group(1).lower().startswith("tab") else "figure"), m.group(2)


def _caption_score(run: Run, body: float, text: str) -> float:
    m = CAPTION.match(run.text)
    score = 2.0 if m.group(3) in (":", ".", "|", "-", "—") else 0.0
    rest = _norm(run.text[m.end(2):])
    score += 3.0 * bool(rest and _norm(text).startswith(rest[:20]))
    return score - 0.1 * abs(run.height - body)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _next_line(block: list[Run], runs: tuple[Run, ...]) -> list[Run]:
    """The caption's next line: one run of text of the same size just below its last line and
    within its x range (a table row below a caption is several runs, cell by cell)."""
    box = union(r.box for r in block)
    last = min(block, key=lambda r: r.box[1])
    height = max(last.height, 4.0)
    below = [r for r in runs if r not in block and last.box[1] - 0.8 * height <= r.box[3] <= last.box[1] + 0.3 * height
             and overlap_x(r.box, box) > 0.1 * r.width]
    if len(below) != 1:
        return []
    run = below[0]
    same_size = abs(run.height - last.height) <= 0.12 * height + 0.3
    inside = overlap_x(run.box, box) >= 0.8 * run.width or overlap_x(run.box, box) >= 0.9 * (box[2] - box[0])
    return [run] if same_size and inside and not _caption_of(run) else []


# --------------------------------------------------------------------------- the region

def find_region(layout: PageLayout, kind: str, number: str, text: str = "") -> Region | None:
    """Where figure/table `number` is drawn on this page, or None when its caption is not here."""
    caption = caption_block(layout, kind, number, text)
    if caption is None:
        return None
    span = _span(layout, caption)
    sides = {"up": _side(layout, caption, span, up=True), "down": _side(layout, caption, span, up=False)}
    usual, other = (sides["up"], sides["down"]) if kind == "figure" else (sides["down"], sides["up"])
    near = 2.5 * layout.body_size + 6
    close = [s for s in (usual, other) if s and s[1] <= near]
    if close:  # figures sit above their caption and tables below, unless the other side holds far more
        best = close[0] if len(close) == 1 or area(close[0][0]) >= 0.5 * area(close[1][0]) else close[1]
        return _region(best, caption, layout)
    options = [s for s in (usual, other) if s]
    return _region(min(options, key=lambda s: s[1]), caption, layout) if options else None


def _region(side: tuple[Box, float, Box], caption: Box, layout: PageLayout) -> Region:
    box, _, bounds = side
    images = tuple(s for s in layout.shapes if s.kind == "image" and intersection(s.box, box) > 0.5 * area(s.box))
    return Region(box, caption, "gap" if layout.too_many_objects else "objects", bounds, images)


def _span(layout: PageLayout, caption: Box) -> tuple[float, float]:
    """The x range the figure may use: its caption's column, or the whole text width."""
    width = layout.size[0]
    cols = layout.columns
    whole = (min(cols[0][0], caption[0]), max(cols[-1][1], caption[2]))
    if len(cols) == 1:
        span = whole
    elif caption[0] < width / 2 - 20 and caption[2] > width / 2 + 20:
        span = whole
    else:
        center = (caption[0] + caption[2]) / 2
        col = min(cols, key=lambda c: abs((c[0] + c[1]) / 2 - center))
        span = (min(col[0], caption[0]), max(col[1], caption[2]))
    return _beside(layout, caption, span)


def _beside(layout: PageLayout, caption: Box, span: tuple[float, float]) -> tuple[float, float]:
    """Narrow the span when another caption sits beside this one (figures side by side)."""
    left, right = span
    for run in layout.runs:
        if not _caption_of(run) or overlap_y(run.box, caption) <= 0 or overlap_x(run.box, caption) > 0:
            continue
        if run.box[0] >= caption[2]:
            right = min(right, (caption[2] + run.box[0]) / 2)
        elif run.box[2] <= caption[0]:
            left = max(left, (run.box[2] + caption[0]) / 2)
    return left, right


def _side(layout: PageLayout, caption: Box, span: tuple[float, float], *, up: bool) -> tuple[Box, float, Box] | None:
    """The content on one side of the caption up to the nearest body text: its box, its distance
    from the caption (points) and the window it was looked for in; None when there is nothing."""
    limit = _limit(layout, caption, span, up=up)
    lo, hi = (caption[3], limit) if up else (limit, caption[1])
    if hi - lo < 8:
        return None
    window = (span[0] - 2, lo, span[1] + 2, hi)
    items = [s.box for s in layout.shapes if intersection(s.box, window) > 0.5 * area(s.box)]
    items += [r.box for r in layout.runs if intersection(r.box, window) > 0.5 * area(r.box) and not _caption_of(r)]
    content = union(items)
    if content is None:
        return None
    content = (max(content[0], window[0]), max(content[1], lo), min(content[2], window[2]), min(content[3], hi))
    distance = content[1] - caption[3] if up else caption[1] - content[3]
    return content, max(0.0, distance), window


def _limit(layout: PageLayout, caption: Box, span: tuple[float, float], *, up: bool) -> float:
    """The y where the figure's side ends: the nearest body text or other caption, else the
    running head (or foot) or the page edge."""
    stops = [r for r in _stops(layout, caption, span) if (r.box[1] >= caption[3] - 1 if up else r.box[3] <= caption[1] + 1)]
    height = layout.size[1]
    in_span = [r for r in layout.runs if overlap_x(r.box, (span[0], 0, span[1], 0)) > 0]
    if up:
        head = [r.box[1] for r in in_span if _furniture(r, layout, top=True)]
        return min([r.box[1] for r in stops] + [min(head, default=height - 18) - 1])
    foot = [r.box[3] for r in in_span if _furniture(r, layout, top=False)]
    return max([r.box[3] for r in stops] + [max(foot, default=18) + 1])


def _furniture(run: Run, layout: PageLayout, *, top: bool) -> bool:
    """A running head or foot: short text at the very top or bottom of the page, or near it and
    also on the paper's next page, or a page number with no text beyond it."""
    height = layout.size[1]
    edge = height - run.box[1] if top else run.box[3]
    if words(run) > 12 or edge > 0.13 * height:
        return False
    if edge <= _MARGIN_SHARE * height or edge_key(run) in layout.repeated:
        return True
    beyond = (r for r in layout.runs if (r.box[1] > run.box[3] if top else r.box[3] < run.box[1]))
    return _PAGE_NUMBER.fullmatch(run.text) is not None and next(beyond, None) is None


def _stops(layout: PageLayout, caption: Box, span: tuple[float, float]) -> list[Run]:
    """The runs a figure cannot reach past: lines of body text and other captions in the span,
    and the lines of the same paragraphs (a paragraph's short last line is body text too)."""
    runs = [r for r in layout.runs if overlap_x(r.box, (span[0], 0, span[1], 0)) >= 0.5 * r.width
            and intersection(r.box, caption) < 0.5 * area(r.box)]
    stops = [r for r in runs if _is_prose(r, layout) or _starts_caption(r) or _is_heading(r, layout)]
    rest = [r for r in runs if r not in stops]
    grown = True
    while grown:
        joined = [r for r in rest if any(_same_paragraph(r, s) for s in stops)]
        stops += joined
        rest = [r for r in rest if r not in joined]
        grown = bool(joined)
    return stops


def _starts_caption(run: Run) -> bool:
    m = CAPTION.match(run.text)
    return bool(m and m.group(3) in (":", ".", "|"))


def _is_prose(run: Run, layout: PageLayout) -> bool:
    """A line of body text: body-sized words filling most of one column, flush with its left edge
    (or a paragraph's indent) or its right edge. Text inside a figure rarely lines up so."""
    col = min(layout.columns, key=lambda c: abs((c[0] + c[1]) / 2 - (run.box[0] + run.box[2]) / 2))
    body_sized = abs(run.height - layout.body_size) <= 0.2 * layout.body_size + 0.5
    inside = run.box[0] >= col[0] - 3 and run.box[2] <= col[1] + 3
    flush = run.box[0] - col[0] <= 2 * layout.body_size or col[1] - run.box[2] <= 3
    return body_sized and inside and flush and words(run) >= 5 and run.width >= 0.6 * (col[1] - col[0])


def _is_heading(run: Run, layout: PageLayout) -> bool:
    """A numbered section heading ("2 Datasets", "3.1 Setup") flush with its column's left edge;
    its number and its title may be two runs."""
    number = [r for r in layout.runs if overlap_y(r.box, run.box) > 0.5 * run.height and r.box[2] <= run.box[0]
              and run.box[0] - r.box[2] <= 3 * run.height and _SECTION_NUMBER.fullmatch(r.text)]
    text = f"{number[0].text} {run.text}" if number else run.text
    start = number[0] if number else run
    col = min(layout.columns, key=lambda c: abs(c[0] - start.box[0]))
    return (_HEADING.match(text) is not None and words(run) <= 10 and abs(start.box[0] - col[0]) <= 3
            and run.height >= 0.75 * layout.body_size)


def _same_paragraph(run: Run, line: Run) -> bool:
    """Is `run` the line just above or below `line`, in the same type size?"""
    gap = max(run.box[1] - line.box[3], line.box[1] - run.box[3])
    return (-0.3 * line.height <= gap <= 0.5 * line.height and overlap_x(run.box, line.box) > 0
            and abs(run.height - line.height) <= 0.15 * line.height + 0.5)
