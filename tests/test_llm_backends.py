"""Every OpenAI-compatible backend as it really answers, in the ranking stage and the summary stage.

Each shape is what a backend really sends (docs/llm-backends.md gives the bug reports they come
from), served by the loopback OpenAI-compatible server to the real client. The stage must get
the answer the model meant: the ranking keeps the judge's order, the section keeps its fields,
and nothing says the LLM failed when it did not.
"""

from __future__ import annotations

import json
import re

import pytest

from flows.config import Settings
from flows.llm import LLM
from flows.pdf import Extraction, PaperText
from flows.shortlist.ranking import Profile, rank, score_all
from flows.summaries.section import summarize
from tests import scripted_llm
from tests.helpers import candidate
from tests.openai_server import OpenAIServer
from tests.test_summaries import BODY, FIELDS

PROFILE = Profile.load()
IDS = [f"2611.0000{i}" for i in range(1, 8)]
LMSTUDIO_400 = {"status": 400, "body": {"error": "'response_format.type' must be 'json_schema' or 'text'"}}


def _first(n: int, shaped, good):
    """The shaped answer on the first request, the good one after it (a retry that can succeed)."""
    return shaped if n == 0 else good


SHAPES = {
    # 1. content as a list of parts (Anthropic-style gateways, OpenRouter with reasoning models)
    "content_parts": lambda good, n, req: {"message": {"content": [
        {"type": "thinking", "thinking": 'Draft: {"rankings": []}'}, {"type": "text", "text": good}]}},
    # 2. HTTP 200 whose body is an error (OpenRouter, gateways): retried as its status
    "200_error_429": lambda good, n, req: _first(n, {"status": 200, "body": {
        "choices": None, "error": {"message": "Provider returned error", "code": 429}}}, good),
    "200_error_502_only": lambda good, n, req: _first(n, {"status": 200, "body": {
        "error": {"message": "Upstream timed out", "code": 502}}}, good),
    # 3. cut at max_tokens: (a) the JSON cut at 60 %, (b) no content, a long reasoning
    "cut_json": lambda good, n, req: _first(n, {"message": {"content": good[: len(good) * 6 // 10]},
                                                "finish_reason": "length"}, good),
    "cut_reasoning": lambda good, n, req: _first(n, {"message": {"content": None,
                                                                 "reasoning_content": "Let me weigh each paper. " * 200},
                                                     "finish_reason": "length"}, good),
    # 4. a server that rejects JSON mode (LM Studio) but takes json_schema
    "lmstudio_json_schema": lambda good, n, req: (
        LMSTUDIO_400 if (req.get("response_format") or {}).get("type") == "json_object" else good),
    # 5. what real models do around their answer
    "think_tags": lambda good, n, req: f"<think>\nThe user wants JSON. {{maybe}}\n</think>\n\n{good}",
    "dangling_think_end": lambda good, n, req: f"so the answer is clear.\n</think>\n{good}",
    "fence_and_prose": lambda good, n, req: f"Sure! Here is the JSON you asked for:\n```json\n{good}\n```\nHope this helps.",
    "draft_then_final": lambda good, n, req: {"message": {"content": good,
                                                          "reasoning_content": 'First draft: {"rankings": [], "name": "x"}'}},
    "answer_in_reasoning_only": lambda good, n, req: {"message": {"content": None, "reasoning_content": good}},
    "wrapped_in_a_key": lambda good, n, req: json.dumps({"response": json.loads(good)}),
    "double_encoded": lambda good, n, req: json.dumps(good),
    "trailing_comma_single_quoted_keys": lambda good, n, req: re.sub(r'"(\w+)":', r"'\1':", good[:-1] + ",}"),
    "bare_list_or_one_item_list": lambda good, n, req: json.dumps(
        json.loads(good)["rankings"] if "rankings" in good else [json.loads(good)]),
    "ids_restated": lambda good, n, req: re.sub(r'"id": "([\d.]+)"', r'"id": "arXiv:\1v2"', good),
    # 6. no usage member
    "no_usage": lambda good, n, req: {"message": {"content": good}, "usage": None},
}


def _server(shape: str, judge):
    counter = {"n": 0}

    def reply(request):
        good = judge(request)
        answer = SHAPES[shape](good, counter["n"], request)
        counter["n"] += 1
        return answer

    return OpenAIServer(reply)


def _llm(srv, tmp_path) -> LLM:
    return LLM(Settings(openai_base_url=srv.base_url, openai_api_key="sk-test-key-123", cache_dir=tmp_path,
                        llm_max_wait=1, llm_backoff=0.01))


def _judge(request) -> str:
    """Scores each paper by the digit its title ends with (mirrored in the reading against it)."""
    papers = re.findall(r'<paper id="([^"]+)">\ntitle: [^\d]*(\d+)', request["messages"][1]["content"])
    return json.dumps({"rankings": [{"id": i, "score": scripted_llm.framed(request, int(d)), "reason": f"digit {d}"}
                                    for i, d in papers]})


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_ranking_reads_every_backend_shape(shape, tmp_path):
    cands = [candidate(i, f"Large language model {i[-1]}", "LLM.") for i in IDS]
    with _server(shape, _judge) as srv:
        llm = _llm(srv, tmp_path)
        ranking = rank(score_all(cands, PROFILE), PROFILE, llm, size=7)
    assert [s.candidate.arxiv_id for s in ranking.ranked] == IDS[::-1]  # the judge's order
    assert [s.llm for s in ranking.ranked] == [7, 6, 5, 4, 3, 2, 1]
    assert not [f for f in ranking.flags if "fell back" in f or "did not score" in f], ranking.flags
    _check_side_effects(shape, srv, llm)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_summary_reads_every_backend_shape(shape, tmp_path):
    cand = candidate("2611.00042", "SmallNet: Tiny Models Reason Too", "We distil reasoning into small models.")
    paper = PaperText(pages=9, pages_read=9, body=BODY, sections={"introduction": "We study small models."},
                      captions=(), urls=(), seconds=0.1)
    with _server(shape, lambda request: json.dumps(FIELDS)) as srv:
        llm = _llm(srv, tmp_path)
        section = summarize(cand, Extraction(path="x.pdf", text=paper, reason=None), llm)
    assert {k: getattr(section, k) for k in FIELDS} == FIELDS
    assert section.notes == ()
    _check_side_effects(shape, srv, llm)


def _check_side_effects(shape: str, srv: OpenAIServer, llm: LLM) -> None:
    """What each shape must leave behind: a flag naming the limit, the JSON mode remembered, the
    estimate marked."""
    if shape.startswith("cut_"):
        limit = srv.requests[0]["max_tokens"]
        assert any(f"max_tokens={limit}" in f and str(2 * limit) in f for f in llm.flags), llm.flags
        assert srv.requests[1]["max_tokens"] == 2 * srv.requests[0]["max_tokens"]
        if shape == "cut_reasoning":
            assert any("reasoning" in f for f in llm.flags)
    if shape == "lmstudio_json_schema":
        formats = [(r.get("response_format") or {}).get("type") for r in srv.requests]
        assert formats[:2] == ["json_object", "json_schema"]
        assert set(formats[2:]) <= {"json_schema"}  # remembered for the rest of the run
        assert llm.describe()["json_mode"] == "json_schema"
    if shape.startswith("200_error"):
        assert len(srv.requests) >= 2  # retried as its status, not read as an empty answer
    usage = llm.usage.to_json()["total"]
    assert bool(usage["estimated"]) == (shape == "no_usage")
    if shape == "no_usage":
        assert usage["completion_tokens"] > 0 and "estimates" in usage["note"]


@pytest.mark.parametrize("answer", [
    "<think>The user wants one sentence. Maybe: Draft one.</think>\n\nThe final summary.",
    "so one sentence it is.\n</think>\nThe final summary.",
    {"message": {"content": [{"type": "thinking", "thinking": "Draft one."}, {"type": "text", "text": "The final summary."}]}},
    {"message": {"content": "The final summary.", "reasoning_content": "Draft one."}},
])
def test_a_text_answer_is_the_answer_without_the_reasoning(answer, tmp_path):
    with OpenAIServer(lambda request: answer) as srv:
        text = _llm(srv, tmp_path).complete_text("summarize", [{"role": "user", "content": "Summarize."}])
    assert text == "The final summary."
