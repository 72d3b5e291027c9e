"""Summaries: one section per pick from the LLM, and honest fallbacks when something fails."""

from __future__ import annotations

import json

from flows.config import Settings
from flows.llm import LLM
from flows.pdf_text import Caption, Extraction, PaperText
from flows.summaries import summarize
from tests.helpers import candidate
from tests.openai_server import OpenAIServer

CAND = candidate("2611.00042", "SmallNet: Tiny Models Reason Too", "We distil reasoning into small models.")
FIELDS = {"name": "Tiny models reason too", "problem": "Big models reason, small ones do not, and that is costly.",
          "idea": "The idea is simple. Distil chains of thought from a big teacher.",
          "results": "Accuracy goes from 8.11% to 21.99% on GSM8K.", "take": "My hypothesis is that data matters most."}


def _text(captions=()) -> Extraction:
    paper = PaperText(pages=9, pages_read=9, body="Introduction. We study small models. Results: 21.99%.",
                      sections={"introduction": "We study small models.", "results": "Accuracy 21.99%."},
                      captions=tuple(captions), urls=(), seconds=0.1)
    return Extraction(path="x.pdf", text=paper, reason=None)


def _llm(srv, tmp_path) -> LLM:
    return LLM(Settings(openai_base_url=srv.base_url, openai_api_key="sk-test-key-123",
                        cache_dir=tmp_path, llm_max_wait=1))


def test_section_from_the_paper_text_with_its_figures(tmp_path):
    captions = [Caption("figure", "1", "Overview of the distillation pipeline.", 2),
                Caption("table", "2", "Accuracy comparison on GSM8K.", 6)]
    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        section = summarize(CAND, _text(captions), _llm(srv, tmp_path))
        prompt = srv.requests[0]["messages"][1]["content"]
    assert (section.name, section.results) == (FIELDS["name"], FIELDS["results"])
    assert section.notes == ()
    assert section.method_figure == "Figure 1 (page 2): Overview of the distillation pipeline."
    assert section.results_figure == "Table 2 (page 6): Accuracy comparison on GSM8K."
    assert "We study small models." in prompt and prompt.startswith('<paper id="2611.00042">')


def test_without_pdf_text_the_abstract_is_used_and_flagged(tmp_path):
    failed = Extraction(path="x.pdf", text=None, reason="encrypted", detail="x.pdf: encrypted")
    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        section = summarize(CAND, failed, _llm(srv, tmp_path))
        prompt = srv.requests[0]["messages"][1]["content"]
    assert "We distil reasoning into small models." in prompt
    assert any("abstract only" in n and "encrypted" in n for n in section.notes)


def test_an_llm_failure_leaves_a_flagged_stand_in(tmp_path):
    with OpenAIServer(lambda request: "not json at all") as srv:
        section = summarize(CAND, _text(), _llm(srv, tmp_path))
    assert section.name == "SmallNet"
    assert section.problem == CAND.abstract
    assert "[needs writing" in section.idea
    assert any("could not write this section" in n for n in section.notes)
