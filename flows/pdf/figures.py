"""Figure images for the draft: the named figure or table rendered with PDFium and cropped to its
region on the page, as an editor would screenshot it.

`cut_figure` works in-process on an open page. `cut_figures` cuts all the named figures of one
paper in a worker subprocess with a wall-clock timeout and a memory cap, so a PDF that hangs or
explodes costs only its own figures; every figure comes back with an image or a one-line reason.
Where the region is found is flows/pdf/regions.py (on the page read by flows/pdf/layout.py); the design is in docs/figures.md.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageOps

from flows.files import write_atomic
from flows.pdf.layout import area, intersection, read_layout
from flows.pdf.regions import caption_block, find_region

log = logging.getLogger(__name__)

TARGET_WIDTH = 1000  # px: reads well at the house style's <img width="700"> and on a wide screen
MAX_WIDTH = 1200  # px: a photo figure is shown at its own resolution up to this width
MAX_SIDE = 1600  # px: a tall figure is scaled down to this height
MAX_SCALE = 4.0  # px per point: more only magnifies anti-aliasing
MAX_BYTES = 900_000  # a PNG above this is reduced to a 256-colour palette, then scaled down
MARGIN = 4.0  # points of white around the figure's objects
WORKER_MEMORY = 1024**3  # address-space cap of the worker, bytes
DEFAULT_TIMEOUT = 30.0  # seconds for all the figures of one paper


@dataclass(frozen=True)
class FigureJob:
    """One figure to cut: `kind` "figure" | "table", its number and 1-based page as the text
    extraction found them, the caption's text (to tell the caption from a mention) and the PNG
    path to write."""

    kind: str
    number: str
    page: int
    caption: str
    target: str


@dataclass(frozen=True)
class FigureCut:
    """What became of a FigureJob: `image` is the PNG written, or None and `reason` says why.
    `how` is "objects" (cropped to the figure's drawings, images and labels) or "gap" (the space
    between the caption and the nearest text, when the page has too many objects to sort)."""

    target: str
    image: str | None
    reason: str | None = None
    how: str = ""
    width: int = 0
    height: int = 0
    bytes: int = 0
    seconds: float = 0.0


# --------------------------------------------------------------------------- in-process

def cut_figure(pdf, job: FigureJob) -> FigureCut:
    """Render `job`'s region of `pdf` (an open pypdfium2.PdfDocument) and write it as PNG.

    Never raises for a bad page: the FigureCut carries the reason instead.
    """
    started = time.perf_counter()
    if not 1 <= job.page <= len(pdf):
        return FigureCut(job.target, None, f"page {job.page} is not in the PDF ({len(pdf)} pages)")
    try:
        page = pdf[job.page - 1]
        layout = read_layout(page, tuple(pdf[i] for i in _neighbours(job.page - 1, len(pdf))))
        region = find_region(layout, job.kind, job.number, job.caption)
        if region is None:
            return FigureCut(job.target, None, _not_found(layout, job), seconds=time.perf_counter() - started)
        png, size = _render(page, region)
    except MemoryError:
        return FigureCut(job.target, None, "the page needs more memory than the figure worker may use")
    except Exception as exc:  # a damaged page must not cost the other figures
        return FigureCut(job.target, None, f"the page could not be read ({type(exc).__name__}: {exc})")
    write_atomic(Path(job.target), png)
    return FigureCut(job.target, job.target, None, region.how, size[0], size[1], len(png),
                     time.perf_counter() - started)


def _neighbours(index: int, count: int) -> list[int]:
    """The pages next to `index` and two away (running heads alternate between odd and even pages)."""
    return [i for i in (index + 1 if index + 1 < count else index - 1, index + 2 if index + 2 < count else index - 2)
            if 0 <= i < count and i != index]


def _not_found(layout, job: FigureJob) -> str:
    name = f"{job.kind.title()} {job.number}"
    if caption_block(layout, job.kind, job.number, job.caption) is None:
        return f"{name}'s caption was not found on page {job.page} by the renderer"
    return f"no drawing, image or table was found next to {name}'s caption on page {job.page}"


def _render(page, region) -> tuple[bytes, tuple[int, int]]:
    """The region as PNG bytes and its pixel size: rendered, trimmed of the white an object's
    clipped-away part leaves, and given a white margin."""
    left, bottom, right, top = page.get_cropbox()
    x0, y0, x1, y1 = _padded(region.box, region.bounds, (left, bottom, right, top))
    scale = min(MAX_SCALE, TARGET_WIDTH / max(x1 - x0, 1.0), MAX_SIDE / max(y1 - y0, 1.0))
    scale = max(scale, _native_scale(region, (x0, y0, x1, y1)))
    bitmap = page.render(scale=scale, crop=(x0 - left, y0 - bottom, right - x1, top - y1))
    image = _trim(bitmap.to_pil().convert("RGB"))
    image = ImageOps.expand(image, border=round(MARGIN * scale), fill="white")
    return _png(image), image.size


def _padded(box, bounds, page) -> tuple[float, float, float, float]:
    """`box` grown by a little, never past `bounds` (the caption, the body text) or the page."""
    pad = 1.0
    return (max(page[0], bounds[0], box[0] - pad), max(page[1], bounds[1], box[1] - pad),
            min(page[2], bounds[2], box[2] + pad), min(page[3], bounds[3], box[3] + pad))


def _trim(image):
    """`image` without its white border (an image clipped by the page keeps its full bounds)."""
    ink = ImageChops.difference(image, Image.new("RGB", image.size, "white")).convert("L")
    ink = ink.point(lambda v: 255 if v > 12 else 0)
    box = ink.getbbox()
    return image.crop(box) if box else image


def _native_scale(region, box) -> float:
    """For a photo figure (one embedded image filling most of the region), the scale that shows
    the image at its own resolution, up to MAX_WIDTH x MAX_SIDE px; else 0."""
    for image in region.images:
        if image.pixels[0] and intersection(image.box, box) >= 0.8 * area(box):
            native = image.pixels[0] / max(image.box[2] - image.box[0], 1.0)
            return min(native, MAX_WIDTH / max(box[2] - box[0], 1.0), MAX_SIDE / max(box[3] - box[1], 1.0))
    return 0.0


def _png(image) -> bytes:
    """PNG bytes of `image`, at most MAX_BYTES: lossless first, then a 256-colour palette (figures
    are mostly flat colour), then smaller."""
    data = _encode(image)
    if len(data) > MAX_BYTES:
        image = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        data = _encode(image)
    while len(data) > MAX_BYTES and min(image.size) > 200:
        image = image.resize((int(image.width * 0.8), int(image.height * 0.8)), Image.Resampling.LANCZOS)
        data = _encode(image)
    return data


def _encode(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)  # optimize=True costs 3x the time for ~5% of size
    return out.getvalue()


def cut_all(pdf_path: str | Path, jobs: list[FigureJob]) -> Iterator[FigureCut]:
    """Every job of one PDF, in-process, as each is done; a PDF the renderer cannot open fails
    each job with the reason."""
    try:
        pdf = pdfium.PdfDocument(str(pdf_path))
    except Exception as exc:
        for job in jobs:
            yield FigureCut(job.target, None, f"the PDF could not be opened by the renderer ({exc})")
        return
    try:
        for job in jobs:
            yield cut_figure(pdf, job)
    finally:
        pdf.close()


# --------------------------------------------------------------------------- bounded worker

def cut_figures(pdf_path: str | Path, jobs: list[FigureJob], *, timeout: float = DEFAULT_TIMEOUT,
                memory: int = WORKER_MEMORY) -> list[FigureCut]:
    """`cut_all` in a worker subprocess killed after `timeout` seconds, its address space capped
    at `memory` bytes. Returns one FigureCut per job, in order; a job the worker did not finish
    (timeout, crash, memory) has image None and the reason."""
    if not jobs:
        return []
    request = json.dumps({"pdf": str(pdf_path), "memory": memory, "jobs": [asdict(j) for j in jobs]})
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run([sys.executable, "-m", "flows.pdf.figures"], input=request, capture_output=True,
                              text=True, timeout=timeout, env=env)
        output, failure = done.stdout, None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
            failure = f"the figure worker failed ({last[:200]})"
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        failure = f"no result within {timeout:g} s; the figure worker was stopped"
    finished = {c["target"]: FigureCut(**c) for c in _lines(output)}
    return [finished.get(j.target) or FigureCut(j.target, None, failure or "the figure worker gave no result")
            for j in jobs]


def _lines(output: str) -> list[dict]:
    rows = []
    for line in output.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def _serve() -> None:
    """Worker: a request on stdin, one JSON FigureCut per line on stdout as each figure is done."""
    request = json.loads(sys.stdin.read())
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    except (ImportError, ValueError, OSError):
        pass
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # a stray print() must not corrupt the answer
    for cut in cut_all(request["pdf"], [FigureJob(**j) for j in request["jobs"]]):
        out.write(json.dumps(asdict(cut)) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve()
