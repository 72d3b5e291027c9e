"""A page as PDFium reads it: lines of text with their boxes, drawing and image objects, the
body text's line height, the text columns, and the running heads and feet repeated on the next
pages. All boxes are (left, bottom, right, top) in PDF points, page coordinates (y grows upwards).
flows/pdf/regions.py finds a figure's region on this layout; see docs/figures.md.
"""

from __future__ import annotations

import ctypes
import re
import statistics
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

Box = tuple[float, float, float, float]

MAX_OBJECTS = 30_000  # a page with more drawing objects than this is cropped from its text alone
_BACKGROUND_SHARE = 0.6  # an object covering this share of the page is a background or a frame
CAPTION = re.compile(r"^\s*(Figure|Fig\.?|FIGURE|FIG\.?|Table|TABLE|Tab\.?)\s*([A-Z]?\d{1,3}|[IVX]{1,5})\b\s*(.?)")


@dataclass(frozen=True)
class Run:
    """A stretch of text on one line, without gaps wider than its own height."""

    text: str
    box: Box

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class Shape:
    """A drawing (path, shading) or image object, with its kind: "path" | "image"."""

    kind: str
    box: Box
    pixels: tuple[int, int] = (0, 0)  # an image's own width and height


@dataclass(frozen=True)
class PageLayout:
    size: tuple[float, float]
    runs: tuple[Run, ...]
    shapes: tuple[Shape, ...]
    body_size: float  # the height of a line of body text, in points
    columns: tuple[tuple[float, float], ...]  # x ranges of the text columns, left to right
    too_many_objects: bool = False
    repeated: frozenset[str] = frozenset()  # running heads and feet: edge lines also on the next page


# --------------------------------------------------------------------------- boxes

def union(boxes) -> Box | None:
    boxes = list(boxes)
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def overlap_x(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0]))


def overlap_y(a: Box, b: Box) -> float:
    return max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: Box, b: Box) -> float:
    return overlap_x(a, b) * overlap_y(a, b)


# --------------------------------------------------------------------------- reading a page

def read_layout(page: pdfium.PdfPage, neighbours: tuple[pdfium.PdfPage, ...] = ()) -> PageLayout:
    """Text runs and drawing/image objects of `page`, with its body text size and columns;
    `neighbours` (nearby pages of the paper) tell running heads and feet from figure text."""
    size = page.get_size()
    runs = _runs(page)
    shapes, too_many = _shapes(page, size)
    body = _body_size(runs)
    elsewhere = set().union(*(_edge_keys(_runs(p), size[1]) for p in neighbours))
    repeated = _edge_keys(runs, size[1]) & elsewhere
    return PageLayout(size, tuple(runs), tuple(shapes), body, _columns(runs, body, size[0]), too_many,
                      frozenset(repeated))


def _edge_keys(runs: list[Run], height: float) -> set[str]:
    """Keys of the short lines near the top and bottom edges: text with digits as #, and where."""
    return {edge_key(r) for r in runs if words(r) <= 12 and min(height - r.box[1], r.box[3]) <= 0.13 * height}


def edge_key(run: Run) -> str:
    return f"{re.sub(r'[0-9ivxlc]+', '#', run.text.lower())}@{round(run.box[1] / 4)}"


def _runs(page: pdfium.PdfPage) -> list[Run]:
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        runs: list[Run] = []
        chars: list[tuple[str, Box]] = []
        for i in range(count):
            ch = chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 32)
            if ch in "\r\n":
                _close_run(chars, runs)
                continue
            box = textpage.get_charbox(i)
            if ch.isspace() or box[2] <= box[0]:
                if chars and chars[-1][0] != " ":
                    chars.append((" ", chars[-1][1]))
                continue
            if chars and _gap(chars[-1][1], box) > max(pdfium_c.FPDFText_GetFontSize(textpage, i), 5.0):
                _close_run(chars, runs)
            chars.append((ch, box))
        _close_run(chars, runs)
        return runs
    finally:
        textpage.close()


def _gap(prev: Box, box: Box) -> float:
    """Horizontal gap from `prev` to `box` (large when the text jumps back or to another line)."""
    if overlap_y(prev, box) <= 0.3 * min(prev[3] - prev[1], box[3] - box[1]):
        return float("inf")
    return box[0] - prev[2] if box[0] >= prev[0] else float("inf")


def _close_run(chars: list[tuple[str, Box]], runs: list[Run]) -> None:
    text = "".join(c for c, _ in chars).strip()
    if text:
        boxes = [b for c, b in chars if c != " "]
        runs.append(Run(text, union(boxes)))
    chars.clear()


def _shapes(page: pdfium.PdfPage, size: tuple[float, float]) -> tuple[list[Shape], bool]:
    page_area = size[0] * size[1]
    shapes: list[Shape] = []
    budget = [MAX_OBJECTS]

    def visit(count: int, get, matrix: pdfium.PdfMatrix | None) -> None:
        for i in range(count):
            if budget[0] <= 0:
                return
            budget[0] -= 1
            obj = get(i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                continue
            box = _bounds(obj, matrix)
            if box is None:
                continue
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                inner = _form_matrix(obj, matrix)
                visit(pdfium_c.FPDFFormObj_CountObjects(obj),
                      lambda j, form=obj: pdfium_c.FPDFFormObj_GetObject(form, j), inner)
                continue
            if area(box) >= _BACKGROUND_SHARE * page_area or area(box) <= 0.5:
                continue  # a page frame or background, or a speck
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                shapes.append(Shape("image", box, _pixels(obj)))
            else:
                shapes.append(Shape("path", box))

    visit(pdfium_c.FPDFPage_CountObjects(page), lambda i: pdfium_c.FPDFPage_GetObject(page, i), None)
    return shapes, budget[0] <= 0


def _bounds(obj, matrix: pdfium.PdfMatrix | None) -> Box | None:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return None
    box = (left.value, bottom.value, right.value, top.value)
    if matrix is not None:
        box = matrix.on_rect(*box)
    return box


def _pixels(obj) -> tuple[int, int]:
    width, height = ctypes.c_uint(), ctypes.c_uint()
    if not pdfium_c.FPDFImageObj_GetImagePixelSize(obj, width, height):
        return 0, 0
    return width.value, height.value


def _form_matrix(obj, outer: pdfium.PdfMatrix | None) -> pdfium.PdfMatrix:
    raw = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFPageObj_GetMatrix(obj, raw)
    inner = pdfium.PdfMatrix.from_raw(raw)
    return inner.multiply(outer) if outer is not None else inner


def words(run: Run) -> int:
    return len(run.text.split())


def _body_size(runs: list[Run]) -> float:
    heights = [round(r.height * 2) / 2 for r in runs if words(r) >= 5]
    return statistics.mode(heights) if heights else 10.0


def _columns(runs: list[Run], body: float, width: float) -> tuple[tuple[float, float], ...]:
    """The x ranges of the page's text columns, from its lines of body text."""
    lines = [r for r in runs if words(r) >= 6 and abs(r.height - body) <= 0.25 * body + 0.5]
    if not lines:
        return ((0.08 * width, 0.92 * width),)
    mid = width / 2
    left = [r for r in lines if r.box[2] < mid + 5]
    right = [r for r in lines if r.box[0] > mid - 5]
    if len(left) >= 4 and len(right) >= 4 and len(left) + len(right) >= 0.7 * len(lines):
        return ((_edge(left, 0), _edge(left, 2)), (_edge(right, 0), _edge(right, 2)))
    return ((_edge(lines, 0), _edge(lines, 2)),)


def _edge(lines: list[Run], side: int) -> float:
    values = sorted(r.box[side] for r in lines)
    return values[len(values) // 10] if side == 0 else values[-1 - len(values) // 10]
