"""Hostile and glitching LLM servers on loopback: nothing crashes, nothing leaks, nothing hangs.

Each test is built from one input: a web page served as HTTP 200, a section that breaks a
checker, a model that echoes the API key, a server that drips one byte at a time, a 2 MB answer,
a local server restarted on another port, a small model's gibberish.
"""

from __future__ import annotations

import json
import time

import pytest

from flows.config import Settings
from flows.errors import LLMError
from flows.llm import LLM
from flows.llm.transport import NoAnswer, Transport
from flows.pdf import Extraction, PaperText
from flows.shortlist.ranking import Profile, rank, score_all
from flows.summaries import section as section_module
from flows.summaries.section import summarize
from tests.helpers import candidate
from tests.loopback import HeaderDrip
from tests.openai_server import OpenAIServer
from tests.test_llm_backends import BODY, FIELDS

KEY = "local-gateway-key-9f8e7d6c5b4a"  # shaped like no known key: only the configured value reveals it
GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
CAND = candidate("2611.00042", "SmallNet: Tiny Models Reason Too",
                 "Small models cannot reason. We distil chains of thought from a big teacher. "
                 "Accuracy rises from 8.11% to 21.99% on GSM8K.")
HTML = {"status": 200, "headers": {"Content-Type": "text/html; charset=utf-8"},
        "body": "<!doctype html><html><body><h1>Sign in to the company gateway</h1></body></html>"}


def _settings(srv, tmp_path, **overrides) -> Settings:
    values = dict(openai_base_url=srv.base_url, openai_api_key=KEY, cache_dir=tmp_path / "cache",
                  llm_max_wait=1, llm_backoff=0.01, llm_max_attempts=2, llm_timeout=5)
    return Settings(**{**values, **overrides})


def _extraction() -> Extraction:
    paper = PaperText(pages=9, pages_read=9, body=BODY + " The gain is 12 per cent.", sections={},
                      captions=(), urls=(), seconds=0.1)
    return Extraction(path="x.pdf", text=paper, reason=None)


def test_an_html_page_served_as_200_is_a_flag_in_both_stages(tmp_path):
    cands = [candidate(f"2611.0000{i}", f"Large language model {i}", "LLM.") for i in (1, 2)]
    with OpenAIServer(lambda request: HTML) as srv:
        llm = LLM(_settings(srv, tmp_path))
        with pytest.raises(LLMError, match="web page.*OPENAI_BASE_URL.*/v1"):
            llm.complete_text("rank", [{"role": "user", "content": "hi"}])
        ranking = rank(score_all(cands, Profile.load()), Profile.load(), llm, size=2)
        section = summarize(CAND, _extraction(), llm)
    assert any("fell back to cheap scores" in f and "web page" in f for f in ranking.flags), ranking.flags
    assert section.fallback and any("web page" in n for n in section.notes)
    assert len(srv.requests) == 1 + 1 + 1  # never retried: a login page does not change by waiting


def test_a_section_that_breaks_a_checker_is_flagged_and_never_cached(tmp_path, monkeypatch):
    def broken_checker(fields, source):
        raise ValueError("not a number: '12 per\\ncent' (unknown unit 'per\\ncent')")

    monkeypatch.setattr(section_module, "check_section", broken_checker)
    answer = dict(FIELDS, results="The gain is 12 per\ncent on GSM8K, without any change to the small model.")
    with OpenAIServer(lambda request: json.dumps(answer)) as srv:
        first = summarize(CAND, _extraction(), LLM(_settings(srv, tmp_path)))
        asked = len(srv.requests)
        again = summarize(CAND, _extraction(), LLM(_settings(srv, tmp_path)))
    assert first.results == answer["results"] and not first.fallback
    assert any("could not be checked" in n and "ValueError" in n for n in first.notes)
    assert asked == 2 and len(srv.requests) == 4  # unusable answers were not cached: the rerun asks again
    assert again == first


def test_a_key_the_model_echoes_is_redacted_before_anything_keeps_it(tmp_path):
    leaky = dict(FIELDS, take=f"My hypothesis is that the key {KEY} and {GITHUB} matter more than the number.")
    ranking_answer = {"rankings": [{"id": "2611.00001", "score": 9, "reason": f"uses {KEY}"}]}

    def reply(request):
        return json.dumps(ranking_answer if '"rankings"' in request["messages"][0]["content"] else leaky)

    with OpenAIServer(reply) as srv:
        llm = LLM(_settings(srv, tmp_path))
        section = summarize(CAND, _extraction(), llm)
        cands = [candidate("2611.00001", "Large language model 1", "LLM.")]
        ranking = rank(score_all(cands, Profile.load()), Profile.load(), llm, size=1)
    stored = [p.read_text() for p in (tmp_path / "cache").rglob("*.json")]
    shown = [json.dumps(section.to_json()), ranking.ranked[0].reason or "", *llm.flags, *stored]
    assert stored and "***" in section.take
    for text in shown:
        assert KEY not in text and GITHUB not in text


def test_a_server_that_drips_bytes_cannot_outlast_the_timeout(tmp_path):
    with OpenAIServer(lambda request: "a fine answer " * 40) as srv:
        srv.drip_next(0.2, times=5)  # one byte every 0.2 s: each read is quick, the whole never ends
        llm = LLM(_settings(srv, tmp_path, llm_timeout=1))
        began = time.monotonic()
        with pytest.raises(LLMError, match="timed out.*within 1 s.*2 attempts.*TOP5_LLM_TIMEOUT"):
            llm.complete_text("summarize", [{"role": "user", "content": "hi"}])
        assert time.monotonic() - began < 4  # 2 attempts of 1 s, not 600 bytes x 0.2 s


@pytest.mark.parametrize("offline", [False, True], ids=["whole answer", "streamed answer"])
def test_a_stopping_llm_ends_the_requests_in_flight_before_it_closes(tmp_path, offline):
    """Leaving `with LLM` (a flow stopped by SIGTERM) while a task's request is in flight: the
    request ends at the answer's next byte as an LLMError, the client is closed only then, and a
    request after that raises LLMError without reaching the server."""
    import threading

    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        srv.drip_next(0.2, times=3)  # minutes for the whole answer; far within the timeout per read
        errors: list[BaseException] = []

        def in_flight():
            try:
                llm.complete_text("summarize", [{"role": "user", "content": "hi"}])
            except BaseException as exc:  # noqa: BLE001 - what the task would see
                errors.append(exc)

        with LLM(_settings(srv, tmp_path, llm_timeout=60), base_url=srv.base_url, offline=offline) as llm:
            task = threading.Thread(target=in_flight)
            task.start()
            time.sleep(0.5)
            began = time.monotonic()
        stopped = time.monotonic() - began
        task.join(5)
        assert not task.is_alive() and stopped < 2, stopped
        [error] = errors
        assert isinstance(error, LLMError) and "stopping" in error.message, error
        with pytest.raises(LLMError, match="not sent: the run is stopping"):
            llm.complete_text("summarize", [{"role": "user", "content": "after"}])
        assert len(srv.requests) == 1


def test_a_streamed_answer_has_the_same_deadline_and_no_retry_for_the_embedded_model(tmp_path):
    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        srv.drip_next(0.1)  # one streamed chunk every 0.1 s: ~70 chunks
        llm = LLM(_settings(srv, tmp_path, llm_timeout=1), base_url=srv.base_url, offline=True)
        began = time.monotonic()
        with pytest.raises(LLMError, match="timed out"):
            llm.complete_text("summarize", [{"role": "user", "content": "hi"}])
        assert time.monotonic() - began < 2.5
        assert len(srv.requests) == 1  # llama.cpp may still be generating: never asked again at once
        assert srv.requests[0]["stream"] is True
        text = llm.complete_text("summarize", [{"role": "user", "content": "again"}])
    assert json.loads(text) == FIELDS  # streamed chunks joined
    assert llm.usage.to_json()["summarize"]["estimated"] == 1  # the stream carried no usage


def test_an_answer_far_beyond_max_tokens_is_refused(tmp_path):
    huge = "All work and no play. " * 100_000  # ~2 MB for max_tokens=100
    with OpenAIServer(lambda request: huge) as srv:
        llm = LLM(_settings(srv, tmp_path))
        with pytest.raises(LLMError, match="far larger than max_tokens"):
            llm.complete_text("summarize", [{"role": "user", "content": "hi"}], max_tokens=100)
        section = summarize(CAND, _extraction(), llm)
    assert section.fallback and len(json.dumps(section.to_json())) < 5_000


def test_a_field_over_its_length_limit_is_not_used(tmp_path):
    long_field = dict(FIELDS, problem="Small models cannot reason. " * 200)  # 5,600 characters
    with OpenAIServer(lambda request: json.dumps(long_field)) as srv:
        section = summarize(CAND, _extraction(), LLM(_settings(srv, tmp_path)))
    assert section.fallback and len(section.problem) < 200


def test_the_cache_does_not_depend_on_the_servers_address(tmp_path):
    messages = [{"role": "user", "content": "Summarize this."}]
    with OpenAIServer(lambda request: "first server") as first:
        assert LLM(_settings(first, tmp_path)).complete_text("summarize", messages) == "first server"
    with OpenAIServer(lambda request: "second server") as second:  # restarted on another port
        assert LLM(_settings(second, tmp_path)).complete_text("summarize", messages) == "first server"
    assert second.requests == []


def test_gibberish_from_a_small_model_falls_back_to_the_papers_own_words(tmp_path):
    gibberish = dict(FIELDS, name="xkqjhwzvbnmfdtrplsgcyoaeuiqwe @deep_coder42")
    with OpenAIServer(lambda request: json.dumps(gibberish)) as srv:
        section = summarize(CAND, _extraction(), LLM(_settings(srv, tmp_path)))
    assert len(srv.requests) == 2  # told what was wrong once
    assert section.fallback and section.name == "SmallNet"
    assert section.problem == "Small models cannot reason."
    assert section.idea == "We distil chains of thought from a big teacher."
    assert section.results == "Accuracy rises from 8.11% to 21.99% on GSM8K."
    assert any("gibberish" in n and "own words" in n for n in section.notes)


def test_an_error_inside_a_200_that_is_no_retry_case_quotes_the_provider(tmp_path):
    error = {"status": 200, "body": {"error": {"message": "Provider returned error", "code": 400,
                                               "metadata": {"raw": "model does not support images"}}}}
    with OpenAIServer(lambda request: error) as srv:
        with pytest.raises(LLMError, match="HTTP 200 with an error inside.*Provider returned error.*images"):
            LLM(_settings(srv, tmp_path)).complete_text("rank", [{"role": "user", "content": "hi"}])
    assert len(srv.requests) == 1


def test_the_embedded_model_cut_at_max_tokens_is_not_asked_for_more(tmp_path):
    looping = {"message": {"content": '{"name": "' + "loop " * 200}, "finish_reason": "length"}
    with OpenAIServer(lambda request: looping) as srv:
        llm = LLM(_settings(srv, tmp_path), base_url=srv.base_url, offline=True)
        with pytest.raises(LLMError, match="cut at max_tokens=450"):
            llm.complete_json("summarize", [{"role": "user", "content": "JSON please"}], section_module.SectionFields,
                              max_tokens=450)
    assert [r["max_tokens"] for r in srv.requests] == [450]  # a loop is not given twice the room


def test_the_embedded_model_gets_a_grammar_without_maximum_lengths(tmp_path):
    """A 2,000-character maxLength spelled out as grammar rules killed llama.cpp's server."""
    with OpenAIServer(lambda request: json.dumps(FIELDS)) as srv:
        llm = LLM(_settings(srv, tmp_path), base_url=srv.base_url, offline=True)
        llm.complete_json("summarize", [{"role": "user", "content": "JSON please"}], section_module.SectionFields)
    grammar = json.dumps(srv.requests[0]["response_format"]["schema"])
    assert "maxLength" not in grammar and '"minLength": 20' in grammar


def test_a_key_in_the_answers_is_flagged_once_for_the_editor(tmp_path):
    answers = iter([f"The key is {KEY}.", "Nothing to hide here.", f"Again: {GITHUB}"])
    with OpenAIServer(lambda request: next(answers)) as srv:
        llm = LLM(_settings(srv, tmp_path))
        texts = [llm.complete_text("rank", [{"role": "user", "content": f"question {i}"}]) for i in range(3)]
    assert texts == ["The key is ***.", "Nothing to hide here.", "Again: ***"]
    secret_flags = [f for f in llm.flags if "shaped like a secret" in f]
    assert len(secret_flags) == 1 and "check the backend" in secret_flags[0]
    assert KEY not in secret_flags[0] and GITHUB not in secret_flags[0]


def test_clean_answers_raise_no_secret_flag(tmp_path):
    with OpenAIServer(lambda request: "A plain answer.") as srv:
        llm = LLM(_settings(srv, tmp_path))
        assert llm.complete_text("rank", [{"role": "user", "content": "hi"}]) == "A plain answer."
    assert llm.flags == []


@pytest.mark.timeout(60)  # a hang, not a speed assertion: the drip never ends
@pytest.mark.parametrize("stream", [False, True], ids=["whole answer", "streamed answer"])
def test_a_backend_dripping_its_headers_meets_the_deadline(stream):
    server = HeaderDrip()
    transport = Transport(server.base + "/v1", None, deadline=1.5)
    try:
        began = time.monotonic()
        with pytest.raises(NoAnswer) as caught:
            transport.complete({"model": "m", "messages": [], "stream": stream}, max_bytes=100_000)
        spent = time.monotonic() - began
    finally:
        transport.close()
        server.stop()
    assert caught.value.kind == "timeout" and "1.5 s" in caught.value.detail
    assert spent < 6
