"""Benchmark the figure stage: for each paper, the method and results figure the draft would name,
whether an image was cut, its size and the seconds it took; plus a contact sheet (every crop with
its caption underneath) for a person to check the crops at a glance.

Run: .venv/bin/python bench/figures.py [--out DIR] [PDF or DIR ...]
     (default: ../shared/fixtures/pdf and the PDFs of ../shared/fixtures/week that are not in it)
The crops and the contact sheets (contact-1.png, contact-2.png, ...) go to DIR (default: a new
temporary folder, printed); nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.errors import PdfError  # noqa: E402
from flows.pdf import FigureJob, cut_figures, extract_pdf  # noqa: E402
from flows.summaries.section import _figures  # noqa: E402  (the draft's own choice of figures)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
SHEET_WIDTH = 1400
PER_SHEET = 8


def default_pdfs() -> list[Path]:
    """The fixture PDFs, then the week's PDFs whose bytes are not among them."""
    pdfs = sorted((SHARED / "pdf").glob("*.pdf"))
    seen = {hashlib.sha256(p.read_bytes()).hexdigest() for p in pdfs}
    week = [p for p in sorted((SHARED / "week" / "pdf").glob("*.pdf"))
            if hashlib.sha256(p.read_bytes()).hexdigest() not in seen]
    return pdfs + week


def named_figures(pdf: Path):
    """The figures the draft would name for `pdf`: (Figure, ...), from its extracted captions."""
    try:
        text = extract_pdf(pdf)
    except PdfError as exc:
        print(f"  {pdf.name}: no text ({exc.reason})")
        return ()
    return _figures(text.captions)["figures"]


def bench(pdfs: list[Path], out: Path) -> list[tuple]:
    rows = []
    print(f"{'paper':<34} {'role':<7} {'figure':<10} {'page':>4} {'image':<6} {'px':>10} {'KB':>6} {'how':<7} {'s':>5}")
    for pdf in pdfs:
        figures = named_figures(pdf)
        jobs = [FigureJob(f.kind, f.number, f.page, f.caption, str(out / f"{pdf.stem}-{f.kind}-{f.number}.png"))
                for f in figures]
        started = time.perf_counter()
        cuts = cut_figures(pdf, jobs)
        paper_seconds = time.perf_counter() - started
        for fig, cut in zip(figures, cuts):
            label = f"{fig.kind} {fig.number}"
            px = f"{cut.width}x{cut.height}" if cut.image else "-"
            print(f"{pdf.stem[:34]:<34} {fig.role:<7} {label:<10} {fig.page:>4} {'yes' if cut.image else 'NO':<6} "
                  f"{px:>10} {cut.bytes / 1000:>6.0f} {cut.how:<7} {cut.seconds:>5.2f}"
                  + (f"  ({cut.reason})" if cut.reason else ""))
            rows.append((pdf, fig, cut, paper_seconds / max(len(jobs), 1)))
        if not figures:
            print(f"{pdf.stem[:34]:<34} (the draft names no figure: no caption found in the text)")
        rows.append((pdf, None, None, paper_seconds))
    return rows


def summary(rows: list[tuple], papers: int) -> None:
    cuts = [r for r in rows if r[1] is not None]
    made = [r for r in cuts if r[2].image]
    paper_seconds = [r[3] for r in rows if r[1] is None]
    per_figure = [r[2].seconds for r in made]
    print(f"\npapers: {papers}; figures named: {len(cuts)}; images cut: {len(made)}"
          f" ({sum(1 for r in made if r[2].how == 'objects')} from objects, "
          f"{sum(1 for r in made if r[2].how == 'gap')} from the gap to the text)")
    if made:
        sizes = sorted(r[2].bytes for r in made)
        print(f"PNG size: median {sizes[len(sizes) // 2] / 1000:.0f} KB, max {sizes[-1] / 1000:.0f} KB; "
              f"width median {sorted(r[2].width for r in made)[len(made) // 2]} px")
        print(f"seconds per figure in the worker: median {sorted(per_figure)[len(per_figure) // 2]:.2f}, "
              f"max {max(per_figure):.2f}")
    print(f"seconds per paper (worker start to last figure): median {sorted(paper_seconds)[len(paper_seconds) // 2]:.2f},"
          f" max {max(paper_seconds):.2f}, total {sum(paper_seconds):.1f}")


def contact_sheets(rows: list[tuple], out: Path) -> list[Path]:
    """PNG sheets of every named figure (the crop, or a note that none was cut) with its caption."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=15)
    tiles = []
    for pdf, fig, cut, _ in (r for r in rows if r[1] is not None):
        head = f"{len(tiles) + 1}. {pdf.stem} - {fig.role}: {fig.kind.title()} {fig.number} (page {fig.page})"
        words = textwrap.fill(fig.caption[:300], 150)
        crop = Image.open(cut.image).convert("RGB") if cut.image else None
        if crop is not None and crop.width > SHEET_WIDTH - 20:
            crop = crop.resize((SHEET_WIDTH - 20, crop.height * (SHEET_WIDTH - 20) // crop.width))
        text_h = 22 * (2 + words.count("\n"))
        tile = Image.new("RGB", (SHEET_WIDTH, (crop.height if crop else 30) + text_h + 30), (235, 235, 235))
        draw = ImageDraw.Draw(tile)
        if crop is not None:
            tile.paste(crop, (10, 10))
            draw.rectangle([9, 9, 10 + crop.width, 10 + crop.height], outline=(200, 0, 0))
        else:
            draw.text((10, 10), f"NO IMAGE: {cut.reason}", fill=(200, 0, 0), font=font)
        y = (crop.height if crop else 30) + 16
        draw.text((10, y), head, fill=(0, 0, 160), font=font)
        draw.multiline_text((10, y + 22), words, fill=(0, 0, 0), font=font)
        tiles.append(tile)
    sheets = []
    for start in range(0, len(tiles), PER_SHEET):
        group = tiles[start:start + PER_SHEET]
        sheet = Image.new("RGB", (SHEET_WIDTH, sum(t.height for t in group)), "white")
        y = 0
        for tile in group:
            sheet.paste(tile, (0, y))
            y += tile.height
        path = out / f"contact-{len(sheets) + 1}.png"
        sheet.save(path)
        sheets.append(path)
    return sheets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, help="folder for the crops and contact sheets")
    args = parser.parse_args()
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    pdfs = [p for arg in args.pdfs for p in (sorted(arg.glob("*.pdf")) if arg.is_dir() else [arg])] or default_pdfs()
    out = args.out or Path(tempfile.mkdtemp(prefix="figures-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    rows = bench(pdfs, out)
    summary(rows, len(pdfs))
    for sheet in contact_sheets(rows, out):
        print(f"contact sheet: {sheet}")


if __name__ == "__main__":
    main()
