"""One local PDF read in-process with pypdf: checked, opened (empty password tried), page by page,
cleaned and structured; every failure a PdfError with a reason of REASONS."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from flows.errors import PdfError
from flows.pdf import layer
from flows.pdf.captions import find_captions
from flows.pdf.clean import clean_pages
from flows.pdf.paper import PaperText
from flows.pdf.sections import body_end, split_sections
from flows.text import find_links

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50_000_000


def _fail(path: Path, reason: str, detail: str) -> PdfError:
    return PdfError(f"{path}: {detail}", reason)


def _check_file(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(path, "not_pdf", f"cannot read file ({exc.strerror})") from None
    if size == 0:
        raise _fail(path, "empty", "file is empty (0 bytes)")
    if size > max_bytes:
        raise _fail(path, "too_large", f"file has {size} bytes, more than the limit of {max_bytes}")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise _fail(path, "not_pdf", f"no %PDF- header (starts with {head[:16]!r})")


def _has_eof(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2048))
        return b"%%EOF" in fh.read()


def _open(path: Path):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(path)  # strict=False: recovers broken xref tables
        if reader.is_encrypted and not reader.decrypt(""):
            raise _fail(path, "encrypted", "encrypted with a password (the empty password does not open it)")
        pages = len(reader.pages)
    except PdfError:
        raise
    except (DependencyError, FileNotDecryptedError) as exc:
        raise _fail(path, "encrypted", f"encrypted and cannot be decrypted here ({exc})") from None
    except MemoryError:
        raise _fail(path, "too_large", "needs more memory than a worker may use") from None
    except Exception as exc:  # pypdf raises many types on damaged files
        reason = "broken" if _has_eof(path) else "truncated"
        raise _fail(path, reason, f"cannot be parsed ({type(exc).__name__}: {exc})") from None
    if pages == 0:
        raise _fail(path, "empty", "PDF has no pages")
    return reader, pages


def _read_pages(path: Path, reader, count: int) -> list[str]:
    from pypdf.errors import DependencyError, FileNotDecryptedError

    texts, failures = [], []
    for i in range(count):
        try:
            texts.append(reader.pages[i].extract_text() or "")
        except (DependencyError, FileNotDecryptedError) as exc:
            raise _fail(path, "encrypted", f"page {i + 1} cannot be decrypted ({exc})") from None
        except MemoryError:
            raise _fail(path, "too_large", f"page {i + 1} needs more memory than a worker may use") from None
        except Exception as exc:  # one damaged page must not lose the paper
            failures.append(f"page {i + 1}: {type(exc).__name__}")
            texts.append("")
    if failures and len(failures) == count:
        reason = "broken" if _has_eof(path) else "truncated"
        raise _fail(path, reason, "no page could be read (" + "; ".join(failures[:3]) + ")")
    if failures:
        log.warning("%s: %d unreadable page(s): %s", path, len(failures), "; ".join(failures[:5]))
    return texts


def extract_pdf(path: str | Path, *, max_pages: int = 40, max_bytes: int = DEFAULT_MAX_BYTES) -> PaperText:
    """Extract, clean and structure one local PDF; raises PdfError(reason in REASONS)."""
    started = time.perf_counter()
    path = Path(path)
    _check_file(path, max_bytes)
    reader, pages = _open(path)
    count = min(pages, max_pages)
    cleaned, warning = _readable_pages(path, reader, count)
    full = "\n".join(p for p in cleaned if p)
    if not re.search(r"[^\W\d_]{2,}", "".join(full.split())):
        raise _fail(path, "no_text_layer", f"no text layer in {count} page(s) (scanned or image-only)")
    body = full[: body_end(full)].strip()
    return PaperText(
        pages=pages,
        pages_read=count,
        body=body,
        sections=split_sections(full),
        captions=find_captions(cleaned),
        urls=find_links(_join_broken_urls(body), cue_for_other_sites=True),
        seconds=time.perf_counter() - started,
        warning=warning,
    )


def _readable_pages(path: Path, reader, count: int) -> tuple[list[str], str]:
    """The cleaned pages, and a warning when pypdf's text layer is degenerate (flows/pdf/layer.py):
    then PDFium reads the pages again and the less degenerate text is kept."""
    cleaned = clean_pages(_read_pages(path, reader, count))
    kind = layer.problem("\n".join(cleaned))
    if kind is None:
        return cleaned, ""
    second = _pdfium_cleaned(path, count)
    if second and layer.degeneracy("\n".join(second)) < layer.degeneracy("\n".join(cleaned)):
        if layer.problem("\n".join(second)) is None:
            return second, f"the PDF's text layer {layer.PROBLEMS[kind]}; the text was read again with PDFium."
        cleaned = second
    log.warning("%s: degenerate text layer (%s)", path, kind)
    return cleaned, (f"the PDF's text layer {layer.PROBLEMS[kind]}, and a second reading (PDFium) did not repair "
                     "it: the summary was written from garbled text; check every sentence and number.")


def _pdfium_cleaned(path: Path, count: int) -> list[str]:
    try:
        return clean_pages(layer.pdfium_pages(path, count))
    except Exception as exc:  # the second reading is a bonus: its failure leaves pypdf's text
        log.warning("%s: PDFium could not read the pages again (%s: %s)", path, type(exc).__name__, exc)
        return []


def _join_broken_urls(text: str) -> str:
    """URLs a PDF broke at a line end after "/", "_" or "-" joined again."""
    return re.sub(r"(https?://\S+[/_-])\n(\S)", r"\1\2", text)
