"""What reading a PDF gives: the paper's text (PaperText), its captions, or a typed reason (Extraction)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

REASONS = ("download_failed", "encrypted", "no_text_layer", "broken", "truncated", "timeout", "too_large", "not_pdf",
           "empty")
"""Every reason a paper has no text: a download that failed (HTTP error, arXiv unreachable),
then the reasons reading the file gives (flows/pdf/extract.py, flows/pdf/pool.py)."""


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
    warning: str = ""  # what the editor should know about this text (a degenerate text layer), else ""


@dataclass(frozen=True)
class Extraction:
    path: str
    text: PaperText | None
    reason: str | None
    detail: str = ""



def extraction_to_json(extraction: Extraction) -> dict:
    """A JSON form of an Extraction, so a finished extraction is never done twice."""
    return asdict(extraction)


def extraction_from_json(data: dict) -> Extraction:
    """The Extraction `extraction_to_json` wrote."""
    text = data.get("text")
    if text is not None:
        text = PaperText(**{**text, "captions": tuple(Caption(**c) for c in text["captions"]),
                            "urls": tuple(text["urls"])})
    return Extraction(path=data["path"], text=text, reason=data.get("reason"), detail=data.get("detail", ""))
