"""Degenerate text layers: a PDF that places every glyph or every word on its own is flagged, and
grounding still finds the paper's numbers and names in its garbled text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pdf_builders import build_pdf, glyph_by_glyph_stream, word_by_word_stream  # noqa: E402

from flows.pdf import extract_many  # noqa: E402
from flows.summaries.grounding import check_section  # noqa: E402

LINES = ["RouteLM reaches 87.5% accuracy on GSM8K.",
         "It is 2.4x cheaper than GPT-4 and keeps 41.2% of calls local.",
         "We describe the router and its training data in detail here.",
         "The router is a small classifier over the query text.",
         "It learns from preference data which model answers best.",
         "See Figure 3 for the cost and quality trade-off."]
DRAFT = {"results": "RouteLM reaches 87.5% on GSM8K, is 2.4x cheaper than GPT-4 and keeps 41.2% of calls local "
                    "(Figure 3)."}
PDFS = {"glyph by glyph": (glyph_by_glyph_stream, "places every glyph separately"),
        "word by word": (word_by_word_stream, "places every word separately")}


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layers")
    paths = []
    for name, (stream, _) in PDFS.items():
        path = folder / f"{name.replace(' ', '-')}.pdf"
        path.write_bytes(build_pdf([stream(LINES)]))
        paths.append(path)
    return dict(zip(PDFS, extract_many(paths, timeout=60)))


@pytest.mark.parametrize("kind", PDFS)
def test_a_degenerate_text_layer_is_read_and_flagged(degenerate, kind):
    text = degenerate[kind].text
    assert text is not None, degenerate[kind].detail
    assert PDFS[kind][1] in text.warning and "check every sentence" in text.warning


@pytest.mark.parametrize("kind", PDFS)
def test_grounding_finds_the_numbers_and_names_whatever_the_spacing(degenerate, kind):
    assert check_section(DRAFT, degenerate[kind].text.body) == []


@pytest.mark.parametrize("kind", PDFS)
def test_grounding_still_flags_what_the_paper_does_not_say(degenerate, kind):
    wrong = {"results": "RouteLM reaches 91.5% on MMLU (Figure 7)."}
    assert {u.claim for u in check_section(wrong, degenerate[kind].text.body)} == {"91.5%", "MMLU", "Figure 7"}


def test_a_normal_text_layer_carries_no_warning(tmp_path):
    from pdf_builders import write_text_pdf

    [result] = extract_many([write_text_pdf(tmp_path / "ok.pdf", [LINES])], timeout=60)
    assert result.text.warning == "" and check_section(DRAFT, result.text.body) == []
