"""Grounding: a number or name the paper does not contain is flagged, one it does is not."""

from __future__ import annotations

import pytest

from flows.summaries.grounding import Ungrounded, check_section, grounding_source, mark_inline, normalise_number
from tests.conftest import WEEK, require_shared

PAPER = WEEK / "pdf" / "2212.08410v3.pdf"  # "Teaching Small Language Models to Reason"


def flagged(draft: str, paper: str, field: str = "results") -> list[str]:
    return [u.claim for u in check_section({field: draft}, paper)]


# --------------------------------------------------------------------------- normalisation

@pytest.mark.parametrize("forms, canonical", [
    (["16x", "16×", "16 ×", "16-fold", "16 fold", "16 times", "~16x", "≈16×"], "16x"),
    (["55%", "55 %", "55 percent", "55 per cent"], "55%"),
    (["1,000", "1000", "1\u2009000", "1\u202f000", "1\u00a0000"], "1000"),
    (["0.30", ".3", "0.3", "0.300"], "0.3"),
    (["175B", "175 billion", "175000000000"], "175000000000"),
    (["32k", "32K", "32 thousand", "32,000"], "32000"),
    (["−2.5", "-2.5", "\u20132.5"], "-2.5"),
])
def test_every_written_form_of_a_number_has_one_canonical_form(forms, canonical):
    assert {normalise_number(form) for form in forms} == {canonical}


@pytest.mark.parametrize("token", ["abc", "", "16 apples", "x16"])
def test_normalise_number_rejects_what_is_not_a_number(token):
    with pytest.raises(ValueError, match="not a number"):
        normalise_number(token)


@pytest.mark.parametrize("draft, paper", [
    ("a 16x speedup", "we measure a 16-fold speedup"),
    ("a 16-fold speedup", "16× faster than before"),
    ("16 times faster", "a 16x speedup"),
    ("55% of the time", "in 55 percent of the cases"),
    ("55 percent of the time", "55 % of the cases"),
    ("1,000 examples", "we label 1000 examples"),
    ("1000 examples", "we label 1\u2009000 examples"),  # thin space in the paper
    ("1,000 examples", "we label 1\u202f000 examples"),  # narrow no-break space
    ("a gain of 0.30 points", "a gain of .3 points"),
    ("a gain of .3 points", "a gain of 0.3 points"),
    ("drops by 2.3 points", "accuracy changes by \u22122.3 points"),  # unicode minus
    ("~55x faster", "55x faster"),
    ("GPT-3 175B", "GPT-3 with 175 billion parameters"),
    ("accuracy 21.99%", "Acc. 8.11 21.99"),  # a table prints the value without its unit
])
def test_a_number_is_found_whatever_form_paper_and_draft_write_it_in(draft, paper):
    assert check_section({"results": draft}, paper) == []


def test_a_different_number_is_flagged_with_the_claim_as_written():
    paper = "Our method is 16x faster and reaches 21.99% accuracy on 1,000 examples."
    assert check_section({"results": "It is 17x faster and reaches 21.9% accuracy on 1,001 examples."}, paper) == [
        Ungrounded("results", "17x", "number"),
        Ungrounded("results", "21.9%", "number"),
        Ungrounded("results", "1,001", "number"),
    ]


def test_a_rounded_number_is_flagged_because_the_draft_must_quote_the_paper():
    assert flagged("about 22% accuracy", "accuracy of 21.99%") == ["22%"]


def test_both_ends_of_a_range_must_be_in_the_paper():
    assert flagged("a 16-37x speedup", "speedups from 16x to 37x") == []
    assert flagged("a 16–37x speedup", "speedups of 16x and more") == ["37x"]
    assert flagged("a 16-37x speedup", "speedups of up to 37x") == ["16"]
    assert flagged("between 0.3-0.7 points", "an improvement of 0.3 points") == ["0.7"]


def test_a_scale_is_part_of_the_claim():
    assert flagged("a 175B model", "a model with 175 layers") == ["175B"]
    assert flagged("11B parameters", "T5 XXL has 11 billion parameters") == []


def test_a_superscript_lost_by_the_pdf_still_grounds_a_power_of_ten():
    # pypdf reads "10^6.6" printed with a superscript as "106.6".
    assert flagged("there are 10^6.6 of them", "we find 106.6 objects") == []
    assert flagged("there are 10^7 of them", "we find 106.6 objects") == ["10^7"]


def test_years_are_numbers_like_any_other():
    paper = "Chain of thought prompting (Wei et al., 2022) helps large models."
    assert flagged("Since 2022 chain of thought is popular.", paper) == []
    assert flagged("Since 2019 chain of thought is popular.", paper) == ["2019"]


def test_what_is_not_a_numeric_claim_is_not_checked():
    paper = "We study reasoning."
    draft = ("Like Paper 1 it has (1) a teacher and (2) a student, it is the 2nd such work, three "
             "steps, see https://arxiv.org/abs/2212.08410 for details.")
    assert flagged(draft, paper) == []


# --------------------------------------------------------------------------- references

def test_figure_table_and_section_references_must_exist_in_the_paper():
    paper = ("3 Method\nWe propose a pipeline.\nFigure 1: Overview of the method.\n"
             "Table 2: Accuracy on GSM8K.\nAs shown in Eq. (2) and Appendix A.")
    draft = "See Figure 1, Table 2, Section 3, Eq. (2) and Appendix A."
    assert flagged(draft, paper) == []
    wrong = "See Figure 4, Table 9, Section 7 and Appendix C."
    assert check_section({"idea": wrong}, paper) == [
        Ungrounded("idea", claim, "reference") for claim in ("Figure 4", "Table 9", "Section 7", "Appendix C")]


def test_fig_abbreviation_matches_figure():
    assert flagged("as Fig. 3 shows", "Figure 3: results on ImageNet") == []
    assert flagged("as Figure 2 shows", "see Fig. 2a and 2b") == []
    assert flagged("as Figure 3 shows", "see Figure 31 and 3") == ["Figure 3"]


def test_a_first_person_section_word_is_not_read_as_a_reference():
    assert flagged("In this section I explain the idea.", "We study reasoning.", field="take") == []


# --------------------------------------------------------------------------- names

def test_a_planted_wrong_dataset_or_model_name_is_flagged_and_a_right_one_is_not():
    paper = "We finetune T5 XXL on GSM8K and StrategyQA, with ResNet-50 and BERT as baselines."
    assert flagged("T5-XXL beats BERT and ResNet50 on GSM8K and StrategyQA.", paper) == []
    assert check_section({"results": "T5-XXL beats RoBERTa and ResNet-101 on SVAMP and GSM8K."}, paper) == [
        Ungrounded("results", "RoBERTa", "name"),
        Ungrounded("results", "ResNet-101", "name"),
        Ungrounded("results", "SVAMP", "name"),
    ]


@pytest.mark.parametrize("draft_name, paper", [
    ("GPT-4", "we compare with GPT 4"),
    ("GPT4", "we compare with GPT-4"),
    ("ImageNet", "pretrained on imagenet"),
    ("T5-XXL", "the student is T5\nXXL"),
    ("ViTs", "a ViT backbone"),
    ("CNNs", "a CNN backbone"),
    ("SAM's", "the SAM decoder"),
    ("BERT-like", "a BERT encoder"),
    ("Llama-2", "we finetune Llama 2"),
    ("FLAN", "a FLANbased model"),  # words glued together by the PDF
])
def test_names_are_matched_ignoring_case_hyphens_spaces_plurals_and_possessives(draft_name, paper):
    assert flagged(f"The model {draft_name} does well.", paper) == []


def test_a_name_must_not_be_found_inside_a_longer_name():
    assert flagged("SAM is fast.", "MobileSAM is fast.") == ["SAM"]
    assert flagged("GPT-4 is strong.", "GPT-40 is strong.") == ["GPT-4"]


def test_an_all_caps_name_is_not_found_in_an_ordinary_lowercase_word():
    assert flagged("It solves MATH problems.", "It solves math word problems.") == ["MATH"]
    assert flagged("It solves MATH problems.", "We report results on MATH.") == []


def test_ordinary_words_and_generic_acronyms_are_not_names():
    paper = "We study reasoning in small models."
    draft = ("The results are good. Meta and Google care. I think AI and LLMs on GPUs matter, "
             "e.g. for state-of-the-art small models.")
    assert flagged(draft, paper, field="take") == []


def test_a_number_joined_to_a_word_is_still_a_number():
    assert flagged("an 8-shot prompt and top-5 accuracy", "a 5-shot prompt") == ["8"]


def test_the_short_name_is_checked_for_numbers_only():
    paper = "MobileSAM is 5x faster."
    assert check_section({"name": "FasterSAM, 5x faster segmentation"}, paper) == []
    assert check_section({"name": "FasterSAM, 9x faster"}, paper) == [Ungrounded("name", "9x", "number")]


def test_a_claim_is_reported_once_per_field_in_text_order():
    paper = "It works on GSM8K."
    result = check_section({"problem": "SVAMP, then 99%, then SVAMP again", "results": "SVAMP and 99%"}, paper)
    assert result == [Ungrounded("problem", "SVAMP", "name"), Ungrounded("problem", "99%", "number"),
                      Ungrounded("results", "SVAMP", "name"), Ungrounded("results", "99%", "number")]


def test_with_no_paper_text_every_claim_is_flagged():
    assert flagged("GSM8K accuracy of 21.99%", "") == ["GSM8K", "21.99%"]


# --------------------------------------------------------------------------- mark_inline

def test_mark_inline_puts_a_marker_after_each_ungrounded_claim():
    text = "It is 37x faster on SVAMP, and 21.99% accurate."
    out = mark_inline(text, [Ungrounded("results", "37x", "number"), Ungrounded("results", "SVAMP", "name")])
    assert out == ("It is 37x [⚠️ not found in the paper] faster on SVAMP [⚠️ not found in the paper], "
                   "and 21.99% accurate.")


def test_mark_inline_names_the_missing_end_of_a_range():
    out = mark_inline("a 16-37x speedup", [Ungrounded("results", "16", "number")])
    assert out == "a 16-37x [⚠️ 16 not found in the paper] speedup"


def test_mark_inline_marks_every_occurrence_in_any_field_and_only_once():
    ungrounded = [Ungrounded("results", "Figure 9", "reference")]
    once = mark_inline("See Figure 9. Again Figure 9.", ungrounded)
    assert once == ("See Figure 9 [⚠️ not found in the paper]. Again Figure 9 [⚠️ not found in the paper].")
    assert mark_inline(once, ungrounded) == once


def test_mark_inline_leaves_grounded_text_alone():
    text = "It is 16x faster, 37x in the best case."
    assert mark_inline(text, []) == text
    assert mark_inline(text, [Ungrounded("results", "38x", "number")]) == text


def test_a_marked_draft_checks_the_same_as_before():
    paper = "It is 16x faster."
    draft = "It is 16x faster, 37x in the best case."
    marked = mark_inline(draft, check_section({"results": draft}, paper))
    assert check_section({"results": marked}, paper) == check_section({"results": draft}, paper)


# --------------------------------------------------------------------------- a real paper

GOOD = {
    "name": "Small models learn to reason from big teachers",
    "problem": "Chain of thought prompting makes big models like PaLM 540B and GPT-3 175B reason step by "
               "step, but it stops helping models with less than 10 billion parameters.",
    "idea": "The idea is simple. Let PaLM write chains of thought for an existing dataset, giving it the "
            "answer in an 8-shot prompt, then finetune T5 XXL on them (Figure 1).",
    "results": "On GSM8K the accuracy of T5-XXL goes from 8.11% to 21.99%, and 38.21% with an external "
               "calculator. On StrategyQA it goes from 68.12% to 71.98%. T5 base, with 44 times fewer "
               "parameters, matches the baseline, and the method is 6x more data efficient (Table 4): "
               "11.22% with only 20% of the data.",
    "take": "My hypothesis is that giving the teacher the answer matters most: without it PaLM gets 59.98% "
            "of the chains right, with it 79.37%.",
}
# The same section with wrong numbers, names, a year and a reference planted; none is in the paper.
BAD = dict(
    GOOD,
    problem="Since 2019, chain of thought prompting makes big models like Llama-2 and GPT-3 175B reason "
            "step by step, but it stops helping models with less than 10 billion parameters.",
    results="On SVAMP the accuracy of T5-XXL goes from 8.11% to 23.5%, and 38.21% with an external "
            "calculator. On StrategyQA it goes from 68.12% to 74.98%. T5 base, with 40x fewer "
            "parameters, matches the baseline, and the method is 6-57x more data efficient (Table 7): "
            "11.22% with only 20% of the data.",
)
PLANTED = {"2019", "Llama-2", "SVAMP", "23.5%", "74.98%", "40x", "57x", "Table 7"}


@pytest.fixture(scope="module")
def paper_text() -> str:
    from flows.pdf import extract_pdf

    text = extract_pdf(require_shared(PAPER))
    return grounding_source(text.body, text.sections.get("appendix"))


def test_a_summary_with_the_papers_numbers_is_fully_grounded(paper_text):
    assert check_section(GOOD, paper_text) == []


def test_every_planted_wrong_claim_in_a_summary_of_a_real_paper_is_flagged(paper_text):
    for absent in ("2019", "Llama", "SVAMP", "23.5", "74.98", "57", "Table 7"):  # the premise
        assert absent not in paper_text
    ungrounded = check_section(BAD, paper_text)
    assert {u.claim for u in ungrounded} == PLANTED
    assert {u.field for u in ungrounded} == {"problem", "results"}
    marked = mark_inline(BAD["results"], ungrounded)
    assert "23.5% [⚠️ not found in the paper]" in marked
    assert "6-57x [⚠️ 57x not found in the paper]" in marked
    assert "8.11% to" in marked and "8.11% [" not in marked


def test_grounding_source_joins_what_is_there():
    assert grounding_source("body", None, "", "abstract") == "body\n\nabstract"
