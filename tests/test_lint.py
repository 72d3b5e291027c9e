"""Lint: a drafted section or draft that leaves the house structure is caught, a good one passes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from flows import prompts
from flows.summaries.lint import DEFAULT_RULES, SELECTION_LINE, LintProblem, LintRules, lint_draft, lint_section
from flows.summaries.section import Figure, Section

# Written for these tests in the digest's manner (not the editor's text).
SECTION = {
    "name": "Small students, big teachers",
    "problem": "Big language models can solve maths word problems if you ask them to think step by step. "
               "Small models can't: the trick only kicks in at tens of billions of parameters, which "
               "rules out most of the hardware people actually own.",
    "idea": "The idea is simple. Let a huge model write out its reasoning for thousands of training "
            "questions, keep only the chains that reach the right answer, and fine-tune a small model "
            "to copy them. There is a twist: the big model is shown the answer while it writes.",
    "results": "The results are solid. The small model's accuracy on grade-school maths more than doubles, "
               "and with a calculator bolted on it gets close to the teacher.",
    "take": "My hypothesis is that the twist matters more than the distillation. I would love to see how "
            "far the student gets without it.",
}


def problems(fields: dict[str, str], **kwargs) -> list[tuple[str, str]]:
    return [(p.field, p.severity) for p in lint_section(fields, **kwargs)]


def test_a_section_in_the_house_style_passes():
    assert lint_section(SECTION) == []


@pytest.mark.parametrize("part", ["name", "problem", "idea", "results", "take"])
def test_a_missing_or_empty_part_is_an_error(part):
    missing = {k: v for k, v in SECTION.items() if k != part}
    assert lint_section(missing) == [LintProblem(part, f"the {part} is missing")]
    assert lint_section(dict(SECTION, **{part: "  \n"})) == [LintProblem(part, f"the {part} is empty")]


def test_a_long_name_is_an_error():
    assert problems(dict(SECTION, name="Teaching small language models to reason by distilling chains")) == [
        ("name", "error")]  # 9 words
    assert problems(dict(SECTION, name="Reasoning-distillation-for-small-language-models-everywhere-now")) == [
        ("name", "error")]  # 1 word, 64 characters
    assert problems(dict(SECTION, name="Accelerate transformer inference on CPUs (yes CPUs!)")) == []


def test_a_name_on_two_lines_is_an_error():
    assert problems(dict(SECTION, name="Small students\nbig teachers")) == [("name", "error")]


@pytest.mark.parametrize("part, low", [("problem", 15), ("idea", 15), ("results", 10), ("take", 10)])
def test_each_part_has_a_length_within_the_house_bounds(part, low):
    def words(n: int) -> str:
        return " ".join(["my"] * n)  # "my" keeps the take in the first person

    assert lint_section(dict(SECTION, **{part: words(low - 1)})) == [
        LintProblem(part, f"the {part} is too short ({low - 1} words, at least {low})")]
    assert lint_section(dict(SECTION, **{part: words(low)})) == []
    assert lint_section(dict(SECTION, **{part: words(120)})) == []
    assert lint_section(dict(SECTION, **{part: words(121)})) == [
        LintProblem(part, f"the {part} is too long (121 words, at most 120)")]


def test_custom_rules_change_the_bounds():
    rules = LintRules(name_max_words=3, words=dict(DEFAULT_RULES.words, take=(30, 60)))
    assert problems(SECTION, rules=rules) == [("name", "error"), ("take", "error")]


@pytest.mark.parametrize("junk", [
    "{{ section.results }}",
    "{% if x %}",
    "## Paper 2: Something else",
    "# A heading",
    "```python\nprint(1)\n```",
    '<img width="700" src="figure.png">',
    "<br/>",
    "As an AI language model, I cannot judge this paper.",
    "Sure, here is the section you asked for.",
    "Here is the summary of the paper.",
    "I hope this helps!",
    "Here's a bit more detail about the experiments.",
    "In one or two sentences, the model works.",
    "Let me know if you'd like me to elaborate further.",
    "I'm not sure what you're looking for, but here it is.",
    "Sure! Here you go: it works.",
    "Below is a short summary of the problem.",
    "As requested, it works.",
    "In 2-3 sentences: it works.",
    "Assistant: it works.",
    "[insert the numbers here]",
    '"results": "it works"',
])
def test_text_outside_the_house_structure_is_an_error(junk):
    for part in ("problem", "results"):
        text = SECTION[part] + "\n\n" + junk
        found = lint_section(dict(SECTION, **{part: text}))
        assert [(p.field, p.severity) for p in found] == [(part, "error")], found
        assert part in found[0].message


@pytest.mark.parametrize("junk", ["{{ section.results }}", "{% if x %}", "{# note #}", '<img src="{{ figure }}">'])
def test_a_problem_names_template_markup_without_reproducing_it(junk):
    found = lint_section(dict(SECTION, results=SECTION["results"] + " " + junk))
    assert found and all("template markup" in p.message or "HTML" in p.message for p in found)
    assert not [p.message for p in found if any(d in p.message for d in ("{{", "}}", "{%", "%}", "{#", "#}"))]


def test_markup_the_paper_itself_has_is_no_leftover():
    name = "Mustache {{templates}} for prompts"
    assert lint_section(dict(SECTION, name=name), source=f"{name}\n\nWe study templates.") == []
    assert [p.field for p in lint_section(dict(SECTION, name=name), source="We study templates.")] == ["name"]


PROMPT = ("Explain to a beginner the problem this paper tackles and why it matters.\n"
          "Faster chatbots, smaller drafts\n"
          "Robots doing chores")


def test_a_phrase_about_writing_that_the_paper_itself_says_is_no_meta_talk():
    idea = SECTION["idea"] + " The model summarizes each paper in one sentence."
    paper = "TLDR: we train a model that summarizes each paper in one sentence."
    assert lint_section(dict(SECTION, idea=idea), source=paper) == []
    assert [p.field for p in lint_section(dict(SECTION, idea=idea), source="We train a model.")] == ["idea"]


def test_a_part_that_repeats_its_instructions_is_unusable():
    echo = SECTION["problem"] + " Explain to a beginner the problem this paper tackles, plainly."
    found = lint_section(dict(SECTION, problem=echo), prompt=PROMPT)
    assert [(p.field, p.unusable) for p in found] == [("problem", True)]
    assert "repeats its instructions" in found[0].message and "explain to a beginner the problem" in found[0].message
    copied = lint_section(dict(SECTION, name="Faster chatbots, smaller drafts"), prompt=PROMPT)
    assert [(p.field, p.unusable) for p in copied] == [("name", True)]  # an example name, copied whole


def test_words_the_paper_shares_with_the_instructions_are_no_echo():
    problem = SECTION["problem"] + " It says why it matters and the problem this paper tackles."
    assert lint_section(dict(SECTION, problem=problem), prompt=PROMPT) == []  # five words in a row only
    echo = SECTION["problem"] + " Explain to a beginner the problem this paper tackles."
    paper = "Our tutorial sets out to explain to a beginner the problem this paper tackles."
    assert lint_section(dict(SECTION, problem=echo), prompt=PROMPT, source=paper) == []
    assert lint_section(dict(SECTION, name="Robots doing chores"), prompt=PROMPT) == []  # three words: too few


def test_ordinary_prose_with_symbols_is_not_mistaken_for_markup():
    prose = (SECTION["results"] + " It ranks #1 on the leaderboard, and when x < y > z the loss is "
             "lower; of course, certainly, as a model trained on 50% less data it is cheaper.")
    assert lint_section(dict(SECTION, results=prose)) == []


def test_a_take_without_first_person_is_a_warning():
    found = lint_section(dict(SECTION, take="The authors should test the method on larger models and "
                                          "more diverse datasets in future work."))
    assert [(p.field, p.severity) for p in found] == [("take", "warning")]
    assert "first person" in found[0].message


@pytest.mark.parametrize("voice", ["I think it", "My guess:", "It surprised me", "I'd bet it", "I'm not sure"])
def test_any_first_person_form_makes_the_take_the_editors(voice):
    take = f"{voice} works because the teacher sees the answer, which nobody has tested separately yet."
    assert lint_section(dict(SECTION, take=take)) == []


# --------------------------------------------------------------------------- the rendered draft

IDS = ["2611.00001", "2611.00002", "2611.00003", "2611.00004", "2611.00005"]


def render(n: int = 5, **overrides) -> str:
    """A draft made by the project's real page template, as the flow renders it."""
    sections = [Section(arxiv_id, f"Paper name {i}", SECTION["problem"], SECTION["idea"], SECTION["results"],
                        SECTION["take"], notes=("written from the abstract only",) if i == 2 else (),
                        figures=(Figure("method", "figure", "1", 2, "Overview.", "figures/x.png"),) if i == 1 else ())
                for i, arxiv_id in enumerate(IDS[:n], 1)]
    profile = SimpleNamespace(name="AI-WeeklyTop5", tagline="Top 5 papers in AI every week")
    context = dict(profile=profile, sections=sections, banners=["OFFLINE DRAFT"], week_title="2026-W47 papers",
                   papers=[], week="2026-W47")
    return prompts.render("styles/weekly/digest.md.j2", **dict(context, **overrides))


def where(markdown: str, expected: int = 5) -> list[str]:
    return [p.field for p in lint_draft(markdown, expected_papers=expected)]


def test_the_draft_the_template_renders_passes():
    assert lint_draft(render(), expected_papers=5) == []
    assert lint_draft(render(3), expected_papers=3) == []


def test_the_wrong_number_of_papers_is_an_error():
    found = lint_draft(render(4), expected_papers=5)
    assert found == [LintProblem("papers", "4 '## Paper N: name' sections, expected 5")]


def test_a_missing_header_or_selection_line_is_an_error():
    draft = render()
    assert where(draft.replace("# AI-WeeklyTop5\n", "", 1)) == ["header"]
    assert where(draft.replace(SELECTION_LINE, "Here are some papers.")) == ["header"]


def test_sections_must_be_numbered_one_to_n():
    draft = render().replace("## Paper 3:", "## Paper 4:")
    found = lint_draft(draft, expected_papers=5)
    assert found == [LintProblem("paper 3", "numbered 4, expected 3 (line %d)" % (
        draft.splitlines().index("## Paper 4: Paper name 3") + 1))]


def test_a_section_needs_a_name_and_an_arxiv_link():
    draft = render()
    assert where(draft.replace("## Paper 2: Paper name 2", "## Paper 2:")) == ["paper 2"]
    assert where(draft.replace(f"https://arxiv.org/abs/{IDS[4]}", "https://example.org/x")) == ["paper 5"]
    assert where(draft.replace(IDS[3], IDS[0])) == ["paper 4"]  # the same paper twice


def test_the_draft_must_end_with_the_hashtag():
    assert where(render().replace("#weeklytop5", "")) == ["footer"]
    assert where(render() + "\nA stray line.\n") == ["footer"]


def test_leftover_template_markup_or_stray_headings_are_errors():
    assert where(render().replace("Small models can't", "{{ oops }} Small models can't", 1)) == ["markup"]
    assert where(render().replace(SECTION["idea"], "### The idea\n\n" + SECTION["idea"], 1)) == ["markup"]


def test_expected_papers_must_be_positive():
    with pytest.raises(ValueError, match="expected_papers"):
        lint_draft(render(), expected_papers=0)
