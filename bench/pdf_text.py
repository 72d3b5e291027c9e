"""Benchmark flows.pdf: one process vs the worker pool, against pypdfium2 on the same files.

Run: .venv/bin/python bench/pdf_text.py [DIR]   (default: ../shared/fixtures/pdf)
pypdfium2 is a bench-only extra (`pip install pypdfium2`); without it that line is skipped.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.errors import PdfError  # noqa: E402
from flows.pdf import extract_many, extract_pdf  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "pdf"
MAX_PAGES = 40


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def single_process(files: list[Path]) -> tuple[float, list[float], int]:
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    per_file, pages = [], 0
    started = time.perf_counter()
    for path in files:
        t0 = time.perf_counter()
        try:
            pages += extract_pdf(path, max_pages=MAX_PAGES).pages_read
        except PdfError as exc:
            print(f"  {path.name}: {exc.reason}")
        per_file.append(time.perf_counter() - t0)
    return time.perf_counter() - started, per_file, pages


def pool(files: list[Path]) -> tuple[float, int, int, float]:
    started = time.perf_counter()
    results = extract_many(files, timeout=60, max_pages=MAX_PAGES)
    wall = time.perf_counter() - started
    pages = sum(r.text.pages_read for r in results if r.text)
    busy = sum(r.text.seconds for r in results if r.text)  # time spent extracting inside the workers
    return wall, pages, sum(r.reason is not None for r in results), busy


def pdfium(files: list[Path]) -> float | None:
    try:
        import pypdfium2 as pdfium_lib
    except ImportError:
        return None
    started = time.perf_counter()
    for path in files:
        doc = pdfium_lib.PdfDocument(path)
        for i in range(min(len(doc), MAX_PAGES)):
            page = doc[i]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        doc.close()
    return time.perf_counter() - started


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    files = sorted(folder.glob("*.pdf"))
    if not files:
        sys.exit(f"no PDFs in {folder}")
    cores = os.cpu_count()
    print(f"{len(files)} PDFs in {folder}, page cap {MAX_PAGES}, {cores} cores, "
          f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB")

    one_s, per_file, pages = single_process(files)
    print(f"single process : {one_s:6.2f} s  {pages / one_s:6.1f} pages/s  ({pages} pages)")
    print(f"  per file     : p50 {quantile(per_file, 0.5):.2f} s  p95 {quantile(per_file, 0.95):.2f} s  "
          f"max {max(per_file):.2f} s ({files[per_file.index(max(per_file))].name})")

    pool_s, pool_pages, failed, busy = pool(files)
    print(f"pool ({cores} workers): {pool_s:6.2f} s  {pool_pages / pool_s:6.1f} pages/s  "
          f"speed-up {one_s / pool_s:.2f}x vs single process  ({failed} files without text)")
    print(f"  workers busy : {busy:.2f} s of extraction in {pool_s:.2f} s wall = {busy / pool_s:.2f} workers "
          f"running in parallel on average (a shared host lowers this)")

    fast = pdfium(files)
    if fast is None:
        print("pypdfium2      : not installed (pip install pypdfium2); comparison skipped")
    else:
        print(f"pypdfium2      : {fast:6.2f} s  {pages / fast:6.1f} pages/s  (text only, no cleaning); "
              f"pypdf+cleaning is {one_s / fast:.1f}x slower single-process, {pool_s / fast:.1f}x with the pool")

    to_mb = 1024 if sys.platform != "darwin" else 1024 * 1024
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / to_mb
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / to_mb
    print(f"peak RSS       : this process {self_mb:.0f} MB, largest worker {child_mb:.0f} MB")


if __name__ == "__main__":
    main()
