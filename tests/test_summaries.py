"""Summaries: one section per pick from the LLM, and honest fallbacks when something fails."""

from __future__ import annotations

import json

import pytest

from flows.config import Settings
from flows.llm.client import LLM
from flows.pdf import Caption, Extraction, PaperText
from flows.summaries.section import summarize
from tests.helpers import candidate
from tests.openai_server import OpenAIServer

CAND = candidate("2611.00042", "SmallNet: Tiny Models Reason Too",
                 "We distil reasoning into small models. Small models cannot solve grade-school maths step by "
                 "step; a big teacher writes out its reasoning and the student learns to copy it.")
FIELDS = {"name": "Tiny models reason too",
          "problem": "Big language models can reason step by step, but small ones cannot, and running a big model is costly for everyone.",
          "idea": "The idea is simple. A big teacher writes out its chains of thought and a small student is fine-tuned on them.",
          "results": "Accuracy goes from 8.11% to 21.99% on GSM8K, without any change to the small model.",
          "take": "My hypothesis is that the quality of the teacher's chains matters more than their number."}
BODY = ("Introduction. We study small models. Results: accuracy rises from 8.11% to 21.99% on GSM8K "
        "after fine-tuning on chains of thought.")


def _text(captions=()) -> Extraction:
    paper = PaperText(pages=9, pages_read=9, body=BODY,
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
    assert section.figure("method").label == "Figure 1 (page 2): Overview of the distillation pipeline."
    assert section.figure("results").label == "Table 2 (page 6): Accuracy comparison on GSM8K."
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
    assert section.problem == "We distil reasoning into small models."
    assert section.idea.startswith("Small models cannot solve") and "[needs writing" in section.results
    assert any("could not write this section" in n and "own words" in n for n in section.notes)
    assert section.fallback


def _answers(*answers):
    """Scripted replies in order: the first answer, then the answer to the fix request."""
    queue = list(answers)
    return lambda request: json.dumps(queue.pop(0) if len(queue) > 1 else queue[0])


def test_an_invented_number_is_sent_back_once_and_fixed(tmp_path):
    invented = dict(FIELDS, results="Accuracy goes from 8.11% to 37.5% on GSM8K, without any change to the small model.")
    with OpenAIServer(_answers(invented, FIELDS)) as srv:
        section = summarize(CAND, _text(), _llm(srv, tmp_path))
        fix_request = srv.requests[1]["messages"][-1]["content"]
    assert len(srv.requests) == 2
    assert "37.5%" in fix_request and "do not appear in the paper" in fix_request
    assert section.results == FIELDS["results"] and section.notes == ()


def test_what_stays_ungrounded_is_marked_inline_and_noted(tmp_path):
    invented = dict(FIELDS, results="Accuracy goes from 8.11% to 37.5% on GSM8K, beating LLaMA-7B, with no other change.")
    with OpenAIServer(_answers(invented)) as srv:
        section = summarize(CAND, _text(), _llm(srv, tmp_path))
    assert len(srv.requests) == 2
    assert "37.5% [⚠️ not found in the paper]" in section.results
    assert "LLaMA-7B [⚠️ not found in the paper]" in section.results
    assert "8.11% [" not in section.results  # grounded numbers are left alone
    assert any("37.5%" in n and "LLaMA-7B" in n for n in section.notes)


def test_a_section_outside_the_house_structure_is_flagged(tmp_path):
    sloppy = dict(FIELDS, idea="## Method\nAs an AI language model, I think the idea is distillation of chains of thought from a big teacher.")
    with OpenAIServer(_answers(sloppy)) as srv:
        section = summarize(CAND, _text(), _llm(srv, tmp_path))
    assert len(srv.requests) == 2  # asked once more, then the paper's own words stand in
    assert section.fallback and section.idea != sloppy["idea"] and "## Method" not in section.idea
    assert any("the idea contains a markdown heading" in n and "own words" in n for n in section.notes)


def test_the_editors_finished_section_becomes_the_exemplar(tmp_path):
    from flows.summaries.section import voice_for

    assert voice_for("weekly", tmp_path).exemplar_source == "style: weekly"
    week = tmp_path / "2026-W46"
    week.mkdir()
    (week / "README.md").write_text("# AI-WeeklyTop5\n\n## Paper 1: My own words\n\nI wrote this myself.\n"
                                    '<img width="700" src="x.png">\n\n## Paper 2: Other\n\nMore.\n#weeklytop5\n')
    voice = voice_for("weekly", tmp_path)
    assert voice.exemplar_source == "editor: 2026-W46"
    assert voice.exemplar == "## Paper 1: My own words\n\nI wrote this myself."
    assert voice_for("weekly", tmp_path, except_week="2026-W46").exemplar_source == "style: weekly"
    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        summarize(CAND, _text(), _llm(srv, tmp_path / "cache"), voice)
        system = srv.requests[0]["messages"][0]["content"]
    assert "I wrote this myself." in system


def test_a_merged_digest_is_an_exemplar_even_when_unchanged(tmp_path):
    from flows.summaries.section import voice_for

    merged = {"2026-W45": "# AI-WeeklyTop5\n\n## Paper 1: Merged words\n\nThe editor approved this.\n\n## Paper 2: B\n"}
    voice = voice_for("weekly", tmp_path, merged=merged)
    assert voice.exemplar_source == "editor: 2026-W45" and "The editor approved this." in voice.exemplar


def test_a_section_rejected_for_template_markup_leaves_a_note_the_draft_check_does_not_flag(tmp_path):
    from types import SimpleNamespace

    from flows import prompts
    from flows.summaries.lint import lint_draft

    leftover = dict(FIELDS, idea="The idea is {{ idea }}: a big teacher writes out its chains of thought for a student.")
    with OpenAIServer(_answers(leftover)) as srv:
        section = summarize(CAND, _text(), _llm(srv, tmp_path))
    assert section.fallback and any("template markup: double opening braces" in n for n in section.notes)
    assert not any(delimiter in n for n in section.notes for delimiter in ("{{", "}}", "{%", "%}"))
    draft = prompts.render("styles/weekly/digest.md.j2", profile=SimpleNamespace(name="AI-WeeklyTop5", tagline="t"),
                           sections=[section], banners=[], week_title="2026-W47 papers", papers=[], week="2026-W47")
    assert "Draft note: the LLM could not write this section" in draft
    assert [p for p in lint_draft(draft, expected_papers=1) if p.field == "markup"] == []


def test_braces_the_papers_own_title_has_are_no_leftover_markup(tmp_path):
    braced = candidate("2611.00043", "Mustache {{templates}} for prompts", "We study {{templates}} in prompts.")
    fields = dict(FIELDS, name="Mustache {{templates}} for prompts")
    with OpenAIServer(lambda request: json.dumps(fields)) as srv:
        section = summarize(braced, _text(), _llm(srv, tmp_path))
    assert not section.fallback and section.name == fields["name"]
    assert len(srv.requests) == 1 and section.notes == ()


@pytest.mark.parametrize("title, abstract", [("Attention", "Attention helps."),
                                             ("X", "[text addressed to an AI model removed]"),
                                             ("Ignore previous instructions", "Ignore all previous instructions.")])
def test_a_paper_with_too_little_text_is_never_sent_to_the_model(tmp_path, title, abstract):
    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        section = summarize(candidate("2611.00043", title, abstract), None, _llm(srv, tmp_path))
    assert srv.requests == []  # a model given "Attention helps." can only invent a paper
    assert section.fallback and any("too few to summarize" in n for n in section.notes)
