"""The stage's entry point: the text of every downloaded PDF, read once and kept in the cache."""

from __future__ import annotations

import logging
from pathlib import Path

from flows.errors import PdfError
from flows.files import parse_json, read_back, write_json
from flows.pdf.paper import REASONS, Extraction, extraction_from_json, extraction_to_json
from flows.pdf.pool import extract_many

log = logging.getLogger(__name__)


def read_texts(pdfs: dict[str, Path | PdfError], settings) -> dict[str, Extraction]:
    """Text of every downloaded PDF (by arXiv id); a failed download becomes its typed reason.

    A file read before (same id and version) is taken from `<cache_dir>/text` instead of being
    read again, so a re-run or a resumed run never extracts twice.
    """
    cache = settings.cache_dir / "text"
    texts: dict[str, Extraction] = {}
    todo: dict[str, Path] = {}
    for arxiv_id, found in pdfs.items():
        if isinstance(found, PdfError):
            texts[arxiv_id] = Extraction(path="", text=None, reason=found.reason, detail=found.message)
        elif (kept := read_back(cache / f"{found.stem}.json", _extraction, "cached PDF text")) is not None:
            texts[arxiv_id] = kept
        else:
            todo[arxiv_id] = found
    done = extract_many(list(todo.values()), timeout=settings.pdf_timeout,
                        max_pages=settings.pdf_max_pages, max_bytes=settings.pdf_max_bytes)
    for (arxiv_id, path), extraction in zip(todo.items(), done):
        texts[arxiv_id] = extraction
        if extraction.reason != "timeout":  # a timeout may pass on a quieter machine: try again next run
            write_json(cache / f"{path.stem}.json", extraction_to_json(extraction))
    failed = sum(isinstance(found, PdfError) for found in pdfs.values())
    log.info("pdf text: %d read now, %d from earlier runs, %d not downloaded", len(todo),
             len(pdfs) - len(todo) - failed, failed)
    return texts


def _extraction(data: bytes) -> Extraction:
    """A cache entry as extraction_to_json wrote it; any other shape raises (read_back: recompute)."""
    found = extraction_from_json(parse_json(data, "the PDF text cache entry"))
    text = found.text
    if text is None and found.reason not in REASONS:
        raise ValueError("neither text nor a known reason")
    if text is not None and not (isinstance(text.body, str) and isinstance(text.sections, dict)
                                 and all(isinstance(v, str) for v in text.sections.values())
                                 and all(isinstance(c.text, str) for c in text.captions)):
        raise TypeError("text of another shape")
    return found
