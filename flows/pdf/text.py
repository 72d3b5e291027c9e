"""PDF text a summarizer can trust: pypdf extraction, cleaning, sections, captions, prompt budget.

`extract_pdf` reads one local file in-process and raises `PdfError` with a typed reason.
`extract_many` reads many files, one worker process per file: a file that hangs is killed at its
timeout, and one bad file never costs the others their result. Text from papers is data only.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import selectors
import struct
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from flows.config import PROJECT_DIR
from flows.errors import PdfError
from flows.files import write_json
from flows.text import ARXIV_ID

log = logging.getLogger(__name__)

REASONS = ("encrypted", "no_text_layer", "broken", "truncated", "timeout", "too_large", "not_pdf", "empty")
DEFAULT_MAX_BYTES = 50_000_000
_WORKER_MEMORY_LIMIT = 2 * 1024**3  # address-space cap per worker: a PDF bomb ends as too_large
_PAGE_BREAK = "\f"


@dataclass(frozen=True)
class Caption:
    kind: str  # "figure" | "table"
    number: str
    text: str
    page: int  # 1-based


@dataclass(frozen=True)
class PaperText:
    pages: int
    pages_read: int
    body: str
    sections: dict[str, str]
    captions: tuple[Caption, ...]
    urls: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class Extraction:
    path: str
    text: PaperText | None
    reason: str | None
    detail: str = ""


# --------------------------------------------------------------------------- cleaning

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


def _clean_pages(raw_pages: list[str]) -> list[str]:
    """Clean page by page (page-level furniture needs the page boundaries), then hyphenation."""
    pages = []
    for raw in raw_pages:
        text = unicodedata.normalize("NFKC", raw)
        text = _strip_chars(text).replace("\f", "\n")
        text = _SIDE_STAMP.sub("", text)
        pages.append([ln.rstrip() for ln in text.split("\n")])
    pages = _drop_page_furniture(pages)
    joined = _PAGE_BREAK.join("\n".join(ln for ln in lines) for lines in pages)
    joined = _join_hyphenation(joined)
    joined = re.sub(r"[ \t]{2,}", " ", joined)
    joined = re.sub(r"\n{3,}", "\n\n", joined)
    return [p.strip("\n") for p in joined.split(_PAGE_BREAK)]


def clean_text(raw: str) -> str:
    """Clean pypdf output; pages may be separated by form feeds (\\f) for header/footer removal."""
    return "\n".join(p for p in _clean_pages(raw.split(_PAGE_BREAK)) if p)


# --------------------------------------------------------------------------- sections

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
_NUMBERED = re.compile(r"^(?P<num>(?:\d{1,2}|[IVX]{1,5}|[A-H])(?:\.\d{1,2})*)\.?\s+(?P<title>\S.{1,80})$")
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


def _looks_like_title(title: str) -> bool:
    words = title.split()
    if not words or len(words) > 9 or len(title) > 80:
        return False
    if title[-1] in ",;-" or (title.endswith(".") and not title.endswith("..")) or not title[0].isupper():
        return False
    letters = [c for c in title if c.isalpha()]
    return len(letters) >= 3 and not re.search(r"[=<>{}\\]|\d{3,}", title)


def _find_headings(text: str) -> list[_Heading]:
    headings = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        start, end = offset, offset + len(line) + 1
        offset = end
        if not stripped:
            continue
        m = _NUMBERED.match(stripped)
        if m and _looks_like_title(m.group("title")):
            num, title = m.group("num"), m.group("title").strip()
            headings.append(_Heading(start, end, num, title, _canonical(title)))
            continue
        inline = _INLINE_ABSTRACT.match(stripped)
        if inline:
            headings.append(_Heading(start, start + (len(line) - len(line.lstrip())) + inline.end(), "", "Abstract",
                                     "abstract"))
            continue
        key = _canonical(stripped)
        if key and len(stripped.split()) <= _UNNUMBERED_MAX_WORDS and _looks_like_title(stripped):
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
    headings = _plausible(_find_headings(text))
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


def _body_end(text: str, headings: list[_Heading]) -> int:
    refs = [h.start for h in _plausible(headings) if h.key in ("references", "appendix")]
    return min(refs) if refs else len(text)


# --------------------------------------------------------------------------- captions and URLs

_CAPTION = re.compile(
    r"^(?P<kind>Figure|Fig\.|FIGURE|FIG\.|Table|TABLE|Tab\.)\s*(?P<num>[A-Z]?\d{1,3}|[IVX]{1,5})"
    r"(?:(?P<sep>\s*[:.|]\s*)|\s+(?=[A-Z])|\s*$)(?P<rest>.*)$"
)
_CAPTION_MAX_CHARS = 600


def _caption_text(first: str, following: list[str]) -> str:
    parts = [first.strip()] if first.strip() else []
    for line in following:
        stripped = line.strip()
        if not stripped or _CAPTION.match(stripped) or _NUMBERED.match(stripped) and _looks_like_title(
                _NUMBERED.match(stripped).group("title")):
            break
        current = " ".join(parts)
        if current.endswith(".") and len(current) > 40:
            break
        if len(current) > _CAPTION_MAX_CHARS:
            break
        parts.append(stripped)
    text = " ".join(parts)
    if len(text) > _CAPTION_MAX_CHARS:
        cut = text.rfind(". ", 0, _CAPTION_MAX_CHARS)
        text = text[: cut + 1] if cut > 40 else text[:_CAPTION_MAX_CHARS].rsplit(" ", 1)[0]
    return text


def find_captions(pages: list[str]) -> tuple[Caption, ...]:
    """Figure and table captions with their 1-based page; the first caption per number wins."""
    found: dict[tuple[str, str], Caption] = {}
    for page_no, page in enumerate(pages, start=1):
        lines = page.split("\n")
        for i, line in enumerate(lines):
            m = _CAPTION.match(line.strip())
            if not m:
                continue
            kind = "table" if m.group("kind").lower().startswith("tab") else "figure"
            rest = m.group("rest")
            if not m.group("sep") and not rest.strip() and not m.group("kind").isupper():
                continue  # "Figure 3" alone on a line is a figure label, not a caption
            text = _caption_text(rest, lines[i + 1:i + 8])
            if len(text) < 8 or (kind, m.group("num")) in found:
                continue
            found[(kind, m.group("num"))] = Caption(kind, m.group("num"), text, page_no)
    return tuple(found.values())


_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+|\b(?:github\.com|gitlab\.com)/[^\s<>\"'()\[\]{}]+", re.I)
_CODE_HOSTS = re.compile(r"^(?:https?://)?(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|"
                         r"[\w-]+\.github\.io|sites\.google\.com|codeberg\.org)(?:/|$)", re.I)
_PROJECT_CUE = re.compile(r"(code|project|page|demo|available|released|website|repository|data ?set|models?)\b",
                          re.I)


def find_urls(text: str) -> tuple[str, ...]:
    """Code and project URLs (code hosts anywhere; other sites only next to a code/project cue)."""
    # URLs broken at a line end after "/", "_" or "-" are joined first.
    text = re.sub(r"(https?://\S+[/_-])\n(\S)", r"\1\2", text)
    seen: dict[str, None] = {}
    for m in _URL.finditer(text):
        url = re.split(r"[^\x21-\x7e]", m.group(0))[0].rstrip(".,;:")
        url = re.sub(r"\.\d*[A-Z][a-z]\w*$", "", url)  # a footnote mark or the next sentence glued on
        if url.lower().startswith("www."):
            url = "https://" + url
        elif not url.lower().startswith("http"):
            url = "https://" + url
        host = _CODE_HOSTS.match(url)
        if host and re.fullmatch(r"(https?://)?(www\.)?(github|gitlab)\.com/?", url, re.I):
            continue  # the bare host names no project
        if not host:
            context = text[max(0, m.start() - 80):m.start()]
            if not _PROJECT_CUE.search(context) or "doi.org" in url or "arxiv.org" in url:
                continue
        key = url.rstrip("/").lower()
        if key not in {k.rstrip("/").lower() for k in seen}:
            seen[url] = None
    return tuple(seen)


# --------------------------------------------------------------------------- extraction

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
    raw_pages = _read_pages(path, reader, min(pages, max_pages))
    cleaned = _clean_pages(raw_pages)
    full = "\n".join(p for p in cleaned if p)
    if not re.search(r"[^\W\d_]{2,}", full):
        raise _fail(path, "no_text_layer", f"no text layer in {len(raw_pages)} page(s) (scanned or image-only)")
    headings = _find_headings(full)
    body = full[: _body_end(full, headings)].strip()
    return PaperText(
        pages=pages,
        pages_read=len(raw_pages),
        body=body,
        sections=split_sections(full),
        captions=find_captions(cleaned),
        urls=find_urls(body),
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- worker pool
#
# Workers are plain subprocesses (`python -c "...; _serve()"`), not multiprocessing children: they
# never re-import the caller's __main__ (a Prefect flow script), are safe to start from a threaded
# parent, and a killed worker is simply replaced. Each worker reads many jobs, so the interpreter
# start-up (~0.3 s) is paid once per worker, not once per file.

_HEADER = struct.Struct("!I")


def _run_job(path: str, max_pages: int, max_bytes: int) -> Extraction:
    try:
        return Extraction(path, extract_pdf(path, max_pages=max_pages, max_bytes=max_bytes), None)
    except PdfError as exc:
        return Extraction(path, None, exc.reason, exc.message)
    except MemoryError:
        return Extraction(path, None, "too_large", f"{path}: needs more memory than a worker may use")
    except Exception as exc:  # never let one file end the worker
        return Extraction(path, None, "broken", f"{path}: {type(exc).__name__}: {exc}")


def _read_exact(stream, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _serve() -> None:
    """Worker main loop: length-prefixed pickled jobs on stdin, pickled Extractions on stdout."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_WORKER_MEMORY_LIMIT, _WORKER_MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the protocol
    jobs = sys.stdin.buffer
    while True:
        header = _read_exact(jobs, _HEADER.size)
        if header is None:
            return
        payload = _read_exact(jobs, _HEADER.unpack(header)[0])
        if payload is None:
            return
        path, max_pages, max_bytes = pickle.loads(payload)
        data = pickle.dumps(_run_job(path, max_pages, max_bytes))
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()


class _Worker:
    """One worker subprocess and the job it is running."""

    def __init__(self) -> None:
        root = str(PROJECT_DIR)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from flows.pdf.text import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.index = -1
        self.path = ""
        self.deadline = 0.0

    def start(self, index: int, path: str, max_pages: int, max_bytes: int, timeout: float) -> None:
        self.index, self.path, self.buffer = index, path, b""
        self.deadline = time.monotonic() + timeout
        payload = pickle.dumps((path, max_pages, max_bytes))
        self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
        self.proc.stdin.flush()

    def poll(self) -> Extraction | None | bool:
        """The result when complete, None when still running, False when the worker died."""
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                return self._complete() or False
            self.buffer += chunk
        return self._complete()

    def _complete(self) -> Extraction | None:
        if len(self.buffer) < _HEADER.size:
            return None
        size = _HEADER.unpack(self.buffer[: _HEADER.size])[0]
        if len(self.buffer) < _HEADER.size + size:
            return None
        return pickle.loads(self.buffer[_HEADER.size: _HEADER.size + size])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


def extract_many(
    paths: list[Path],
    *,
    timeout: float = 60.0,
    max_pages: int = 40,
    workers: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Extraction]:
    """Extract every file in worker processes; results in the order of `paths`.

    A file still running `timeout` seconds after it was handed to a worker is killed with its
    worker and reported as "timeout"; the other files go on in fresh workers.
    """
    results: list[Extraction | None] = [None] * len(paths)
    queue = sorted(range(len(paths)), key=lambda i: _size(paths[i]))  # pop() takes the largest first
    slots = min(max(1, workers or os.cpu_count() or 1), len(paths))
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    try:
        while queue or busy:
            while queue and len(busy) < slots:
                worker = idle.pop() if idle else _Worker()
                i = queue.pop()
                worker.start(i, str(paths[i]), max_pages, max_bytes, timeout)
                busy.append(worker)
            _wait(busy)
            for worker in list(busy):
                outcome = _outcome(worker, timeout)
                if outcome is None:
                    continue
                result, reusable = outcome
                results[worker.index] = result
                busy.remove(worker)
                if reusable:
                    idle.append(worker)
                else:
                    worker.kill()
    finally:
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()
    return [r for r in results if r is not None]


def _wait(busy: list[_Worker]) -> None:
    wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
    with selectors.DefaultSelector() as sel:
        for worker in busy:
            sel.register(worker.proc.stdout.fileno(), selectors.EVENT_READ)
        sel.select(timeout=wait_for)


def _outcome(worker: _Worker, timeout: float) -> tuple[Extraction, bool] | None:
    result = worker.poll()
    if isinstance(result, Extraction):
        return result, True
    if result is False:
        code = worker.proc.wait()
        return Extraction(worker.path, None, "broken", f"{worker.path}: worker died (exit code {code})"), False
    if time.monotonic() >= worker.deadline:
        detail = f"{worker.path}: no result after {timeout:g} s; worker killed"
        return Extraction(worker.path, None, "timeout", detail), False
    return None


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------- prompt selection

_PROMPT_ORDER = ("abstract", "introduction", "results", "conclusion")
_CHARS_PER_TOKEN = 4


def _unwrap(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _trim(text: str, limit: int, *, partial: bool) -> str:
    """Cut to at most `limit` chars at a sentence end; mid-sentence (marked …) only if `partial`."""
    if len(text) <= limit:
        return text
    window = text[:limit]
    cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "), window.rfind(".\n"))
    if cut > 0 and (cut >= limit // 3 or not partial):
        return window[: cut + 1]
    return window[: limit - 2].rsplit(" ", 1)[0] + " …" if partial else ""


def select_for_prompt(text: PaperText, *, budget_tokens: int = 3000) -> str:
    """Pick abstract, introduction, results, conclusion, captions (that priority) within a budget."""
    budget = budget_tokens * _CHARS_PER_TOKEN
    parts = [(key.capitalize(), _unwrap(text.sections[key])) for key in _PROMPT_ORDER if text.sections.get(key)]
    if not parts and text.body:
        parts = [("Text", _unwrap(text.body))]
    captions = "\n".join(f"{c.kind.capitalize()} {c.number}: {_unwrap(c.text)}" for c in text.captions)
    if captions:
        parts.append(("Captions", captions))
    out, used = [], 0
    for i, (name, content) in enumerate(parts):
        header = f"## {name}\n"
        left = budget - used - len(header) - 2
        if left < 80:
            break
        # Each part may take its share of what is left (at least 1200 chars); what it does not use
        # flows on to the next part.
        later = len(parts) - i - 1
        share = left if not later else max(left // (later + 1), min(left, 1200))
        piece = _trim(content, share, partial=not out)
        if not piece:
            continue
        out.append(header + piece)
        used += len(header) + len(piece) + 2
    return "\n\n".join(out)


# --------------------------------------------------------------------------- cache


def extraction_to_json(extraction: Extraction) -> dict:
    """A JSON form of an Extraction, so a finished extraction is never done twice."""
    return asdict(extraction)


def extraction_from_json(data: dict) -> Extraction:
    text = data.get("text")
    if text is not None:
        text = PaperText(**{**text, "captions": tuple(Caption(**c) for c in text["captions"]),
                            "urls": tuple(text["urls"])})
    return Extraction(path=data["path"], text=text, reason=data.get("reason"), detail=data.get("detail", ""))


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
        elif (cache / f"{found.stem}.json").is_file():
            texts[arxiv_id] = extraction_from_json(json.loads((cache / f"{found.stem}.json").read_text()))
        else:
            todo[arxiv_id] = found
    done = extract_many(list(todo.values()), timeout=settings.pdf_timeout,
                        max_pages=settings.pdf_max_pages, max_bytes=settings.pdf_max_bytes)
    for (arxiv_id, path), extraction in zip(todo.items(), done):
        texts[arxiv_id] = extraction
        if extraction.reason != "timeout":  # a timeout may pass on a quieter machine: try again next run
            write_json(cache / f"{path.stem}.json", extraction_to_json(extraction))
    log.info("pdf text: %d read now, %d from earlier runs", len(todo), len(pdfs) - len(todo))
    return texts
