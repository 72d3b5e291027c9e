"""The embedded small model writes a section one part at a time (flows/summaries/parts.py).

A scripted llama.cpp-like server on loopback answers each part's request; the tests check what a
user relies on: five parts asked with llama.cpp's length floor and grammar, only a failed part
asked again (warmer, another seed), the better answer kept, and the paper's own words only when a
part is still unusable.
"""

from __future__ import annotations

import pytest

from flows.config import Settings
from flows.llm import LLM
from flows.summaries.parts import PARTS, SAMPLING, tidy
from flows.summaries.section import summarize
from tests.helpers import candidate
from tests.openai_server import OpenAIServer

CAND = candidate("2611.00042", "SmallNet: Tiny Models Reason Too",
                 "Small models cannot reason well on grade-school maths. We distil chains of thought from a "
                 "big teacher model into a small student. Accuracy rises from 8.11% to 21.99% on GSM8K.")
GOOD = {
    "problem": "Small models cannot reason well on grade-school maths, which matters because big models are "
               "too costly to run for most people.",
    "idea": "The authors distil chains of thought from a big teacher model into a small student, so the student "
            "learns to write out its steps.",
    "results": "Accuracy rises from 8.11% to 21.99% on GSM8K, a large jump for a small model.",
    "take": "My hypothesis is that the gains depend on how good the teacher is at writing its steps.",
    "name": "Tiny models that reason",
}
ASKS = {"problem": "the problem this paper tackles", "idea": "what the authors do", "results": "experiments show",
        "take": "check next"}


def _part(request: dict) -> str:
    if "catchy names" in request["messages"][0]["content"]:
        return "name"
    last = request["messages"][-1]["content"]
    return next(part for part, ask in ASKS.items() if ask in last)


def _server(answers: dict):
    """Answers each part from `answers` (part -> text, or part -> [first try, retry])."""
    def reply(request: dict) -> str:
        answer = answers[_part(request)]
        return answer[1 if request["seed"] == SAMPLING[1]["seed"] else 0] if isinstance(answer, list) else answer
    return OpenAIServer(reply)


def _llm(srv, tmp_path, **settings) -> LLM:
    return LLM(Settings(cache_dir=tmp_path / "cache", llm_max_wait=1, llm_backoff=0.01, **settings),
               base_url=srv.base_url, offline=True)


def test_the_embedded_model_writes_each_part_in_its_own_streamed_request(tmp_path):
    with _server(GOOD) as srv:
        section = summarize(CAND, None, _llm(srv, tmp_path))
    assert not section.fallback
    assert {part: getattr(section, part) for part in PARTS} == GOOD
    assert [_part(r) for r in srv.requests] == list(PARTS)
    assert all(r["stream"] is True and r["temperature"] == SAMPLING[0]["temperature"] for r in srv.requests)
    paragraphs, name = srv.requests[:4], srv.requests[4]
    assert all(r["min_tokens"] >= 20 and "root ::=" in r["grammar"] for r in paragraphs)
    assert 'My hypothesis is that' in paragraphs[3]["grammar"]  # the take opens in the first person
    assert name["min_tokens"] >= 1 and "grammar" not in name
    assert all("SmallNet" in r["messages"][-1]["content"] for r in srv.requests)
    assert any("small offline model" in n for n in section.notes)


def test_only_a_failed_part_is_asked_again_and_the_better_answer_is_kept(tmp_path):
    answers = dict(GOOD, idea=["It works.", GOOD["idea"]],  # too short, then fine
                   take=[GOOD["take"], "Too short."])  # never asked again: the first was fine
    with _server(answers) as srv:
        section = summarize(CAND, None, _llm(srv, tmp_path))
    assert not section.fallback and section.idea == GOOD["idea"]
    retries = [r for r in srv.requests if r["seed"] == SAMPLING[1]["seed"]]
    assert [_part(r) for r in retries] == ["idea"]
    assert retries[0]["temperature"] == SAMPLING[1]["temperature"]


def test_the_users_summary_temperature_sets_the_first_try(tmp_path):
    with _server(dict(GOOD, idea=["It works.", GOOD["idea"]])) as srv:
        summarize(CAND, None, _llm(srv, tmp_path, summary_temperature=0.05))
    first, retry = srv.requests[:len(PARTS)], srv.requests[len(PARTS):]
    assert {r["temperature"] for r in first} == {0.05}
    assert [r["temperature"] for r in retry] == [SAMPLING[1]["temperature"]]  # the retry is warmer still


def test_a_retry_that_is_worse_does_not_replace_the_first_answer(tmp_path):
    shortish = "Small models reason badly on maths and big ones cost too much."  # 12 words: short, usable
    answers = dict(GOOD, problem=[shortish, "xkqjhwzvbnmfdtrplsgcyoaeuiqwe is the problem here, plainly put."])
    with _server(answers) as srv:
        section = summarize(CAND, None, _llm(srv, tmp_path))
    assert not section.fallback and section.problem == shortish
    assert any("problem is too short" in n for n in section.notes)


@pytest.mark.parametrize("bad", [
    "Explain to a beginner the problem this paper tackles and why it matters, in plain English.",  # echo
    "Here's a bit more detail about the problem: small models are weak at maths, which is sad.",  # meta talk
    "The problem is @deep_coder42 and the xkqjhwzvbnmfdtrplsgcyoaeuiqwe of small models in maths.",  # gibberish
])
def test_a_part_unusable_twice_falls_back_to_the_papers_own_words(tmp_path, bad):
    with _server(dict(GOOD, problem=bad)) as srv:
        section = summarize(CAND, None, _llm(srv, tmp_path))
    assert section.fallback and section.name == "SmallNet"
    assert section.problem == "Small models cannot reason well on grade-school maths."
    assert len(srv.requests) == len(PARTS) + 1  # the one failed part was asked once more
    assert any("own words" in n for n in section.notes)


def test_a_failed_request_leaves_the_papers_own_words(tmp_path):
    with _server(GOOD) as srv:
        srv.fail_next(500, times=10)
        section = summarize(CAND, None, _llm(srv, tmp_path))
    assert section.fallback and any("HTTP 500" in n for n in section.notes)
    assert {_part(r) for r in srv.requests} == {"problem"}  # the retry policy's attempts, then no more parts


def test_only_usable_parts_are_cached(tmp_path):
    answers = dict(GOOD, idea="It works.")
    with _server(answers) as srv:
        summarize(CAND, None, _llm(srv, tmp_path))
    with _server(GOOD) as again:
        section = summarize(CAND, None, _llm(again, tmp_path))
    assert [_part(r) for r in again.requests] == ["idea"]  # the unusable idea was not kept
    assert not section.fallback and section.idea == GOOD["idea"]


def test_a_cut_paragraph_ends_at_its_last_whole_sentence():
    assert tidy("idea", "It distils steps.  It then\ntrains the student on") == "It distils steps."
    assert tidy("idea", "No sentence end at all") == "No sentence end at all"
    assert tidy("idea", "Models fail on long inputs (e.g. books). This matters because") \
        == "Models fail on long inputs (e.g. books)."


def test_a_whole_answer_is_never_cut_and_an_abbreviation_ends_no_sentence():
    whole = "It works. Accuracy is 21.99% on GSM8K vs. 8.11% for the baseline, i.e. it more than doubles."
    assert tidy("results", whole) == whole
    assert tidy("results", "Accuracy is 21.99% on GSM8K vs. 8.11% for the baseline") \
        == "Accuracy is 21.99% on GSM8K vs. 8.11% for the baseline"


def test_a_name_is_its_first_line_that_has_words():
    assert tidy("name", "\n\n  Tiny models that reason\nTrend: small") == "Tiny models that reason"


def test_a_failed_first_pass_is_asked_once_more_before_giving_up(tmp_path):
    with _server(GOOD) as srv:
        srv.fail_next(500, times=5)  # every attempt of the first request
        section = summarize(CAND, None, _llm(srv, tmp_path))
    assert not section.fallback and section.name == GOOD["name"]
    assert srv.requests[-1]["seed"] == SAMPLING[1]["seed"]


def test_a_long_name_is_cut_at_a_clause_boundary():
    assert tidy("name", '"Name: Testing Gaussian processes with applications to super-resolution."') \
        == "Testing Gaussian processes with applications"
    assert tidy("name", "How to combine TLS and LLM for REST API testing in a comparative study") \
        == "How to combine TLS and LLM"
    unbroken = "Where the size of near earth objects is ten meters"
    assert tidy("name", unbroken) == unbroken  # no boundary leaves a short name: lint flags it
