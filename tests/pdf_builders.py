"""Build small, valid PDFs for tests: text pages, a page pypdf is very slow on, and damage."""

from __future__ import annotations

import zlib
from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_stream(lines: list[str], *, size: int = 10, top: int = 760, leading: int = 13) -> bytes:
    """A content stream that shows each line with Helvetica, one below the other."""
    ops = [f"BT /F1 {size} Tf {leading} TL 50 {top} Td"]
    ops += [f"({_escape(line)}) Tj T*" for line in lines]
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def build_pdf(streams: list[bytes], *, compress: bool = False) -> bytes:
    """A PDF with one page per content stream and a correct xref table."""
    n = len(streams)
    font_id, pages_id = 3 + 2 * n, 2
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    kids = []
    for i, stream in enumerate(streams):
        page_id, content_id = 3 + 2 * i, 4 + 2 * i
        kids.append(f"{page_id} 0 R")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"
        ).encode()
        data = zlib.compress(stream, 9) if compress else stream
        flt = b" /Filter /FlateDecode" if compress else b""
        objects[content_id] = b"<< /Length %d%s >>\nstream\n" % (len(data), flt) + data + b"\nendstream"
    objects[pages_id] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def write_text_pdf(path: Path, pages: list[list[str]]) -> Path:
    path.write_bytes(build_pdf([text_stream(lines) for lines in pages]))
    return path


def write_slow_pdf(path: Path, operators: int = 400_000) -> Path:
    """One page whose (compressed, ~100 KB) content stream holds `operators` text-show operations.

    pypdf parses content streams in pure Python, so this single page takes it many seconds:
    a real hang as far as a short timeout is concerned, without any test-only code path.
    """
    body = b"BT /F1 1 Tf 0 0 Td\n" + b"(x) Tj 0.01 0 Td\n" * operators + b"ET"
    path.write_bytes(build_pdf([body], compress=True))
    return path


def glyph_by_glyph_stream(lines: list[str], *, size: int = 10, top: int = 760) -> bytes:
    """A content stream that places every glyph on its own, a wide step apart, with no space characters."""
    ops = [f"BT /F1 {size} Tf"]
    for row, line in enumerate(lines):
        ops += [f"1 0 0 1 {50 + col * size * 1.2:.2f} {top - 14 * row} Tm ({_escape(ch)}) Tj"
                for col, ch in enumerate(line) if ch != " "]
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def word_by_word_stream(lines: list[str], *, size: int = 10, top: int = 760) -> bytes:
    """A content stream that places every word on its own, right after the previous one, with no spaces."""
    ops = [f"BT /F1 {size} Tf"]
    for row, line in enumerate(lines):
        x = 50.0
        for word in line.split(" "):
            ops.append(f"1 0 0 1 {x:.2f} {top - 14 * row} Tm ({_escape(word)}) Tj")
            x += size * 0.45 * len(word)
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")
