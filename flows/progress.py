"""What a person watching a run sees: one line per paper as it is read and summarized, and the
closing line of `top5 run` (how many sections the model wrote, how many fell back to the
paper's own words). The stage lines come from flows/run_record.py."""

from __future__ import annotations

from pathlib import Path

from flows.files import read_editor_json


def read_line(arxiv_id: str, extraction) -> str:
    """"read 2611.00042: 14 pages" or "read 2611.00042: no text (encrypted)"."""
    if extraction is not None and extraction.text is not None:
        return f"read {arxiv_id}: {extraction.text.pages_read} pages"
    reason = (extraction.reason if extraction else None) or "no PDF"
    return f"read {arxiv_id}: no text ({reason}); its section will be written from the abstract"


def summary_line(section, seconds: float) -> str:
    """"summarized 2611.00042 in 41 s: written by the model" (or: fell back to its own words)."""
    how = ("fell back to the paper's own words (see the flags)" if section.fallback
           else "written by the model")
    return f"summarized {section.arxiv_id} in {seconds:.0f} s: {how}"


def counts(sections) -> dict[str, int]:
    """The run record's counts of sections the model wrote and those that fell back."""
    fell_back = sum(1 for s in sections if s.fallback)
    return {"sections_by_model": len(sections) - fell_back, "sections_fallback": fell_back}


def closing_line(draft: str | Path) -> str:
    """The summary of a finished run, from the run.json beside `draft` (its README.md)."""
    try:
        record = read_editor_json(Path(draft).parent / "run.json")
        by_model, fell_back = record["counts"]["sections_by_model"], record["counts"]["sections_fallback"]
    except (OSError, ValueError, KeyError, TypeError):
        return "Sections: see run.json."
    flags = len(record.get("flags", []))
    return (f"Sections: {by_model} written by the model, {fell_back} fell back to the paper's own words; "
            f"{flags} flag{'s' if flags != 1 else ''} for the editor in run.json.")
