"""Text layers that lie about spacing, and a second extraction when pypdf's text is one of them.

Some PDFs place every glyph, or every word, at its own position without space characters, so a
text extractor has to guess the spaces: pypdf's text then reads "R o u t e L M r e a c h e s
8 7 . 5 %" (spaced glyphs) or "RouteLMreaches87.5%accuracyonGSM8K" (glued words). Two measures
tell such text from a paper's, language aside (calibrated on 42 real papers, English and German):

- spaced glyphs: the share of one-letter words; at most 0.16 in real papers;
- glued words: the share of letters in words of 15 letters or more; at most 0.11 in real papers
  (German compounds included).

When pypdf's text is degenerate, pypdfium2 (PDFium, which places spaces from glyph geometry) reads
the pages again and the less degenerate text is kept; either way the paper is flagged.
"""

from __future__ import annotations

import re
from pathlib import Path

SPACED_GLYPHS = 0.4  # share of one-letter words from which a text is spaced glyphs
GLUED_WORDS = 0.3  # share of letters in 15+ letter words from which a text is glued words
_MIN_LETTERS = 200  # too little text to judge
_WORD = re.compile(r"[^\W\d_]+")

PROBLEMS = {
    "spaced glyphs": "places every glyph separately, so its words come out spaced letter by letter",
    "glued words": "places every word separately without spaces, so its words come out glued together",
}


def degeneracy(text: str) -> float:
    """How far `text` is from readable: >= 1 for a degenerate layer, 0 for too little text to judge."""
    words = _WORD.findall(text)
    letters = sum(map(len, words))
    if letters < _MIN_LETTERS:
        return 0.0
    single = sum(len(w) == 1 for w in words) / len(words)
    glued = sum(len(w) for w in words if len(w) >= 15) / letters
    return max(single / SPACED_GLYPHS, glued / GLUED_WORDS)


def problem(text: str) -> str | None:
    """"spaced glyphs", "glued words" (keys of PROBLEMS) or None for a readable text layer."""
    if degeneracy(text) < 1:
        return None
    words = _WORD.findall(text)
    return "spaced glyphs" if sum(len(w) == 1 for w in words) / len(words) >= SPACED_GLYPHS else "glued words"


def pdfium_pages(path: Path, count: int) -> list[str]:
    """The first `count` pages' text as PDFium reads it (line ends as \\n; its U+FFFE line-end
    hyphen marks are left for the cleaning, which drops them)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        pages = []
        for i in range(min(count, len(document))):
            page = document[i]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()
