"""flows.llm.client against a real OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import traceback

import pytest
from pydantic import BaseModel

from flows.config import Settings
from flows.errors import ConfigError, LLMError
from flows.llm import LLM, STAGES, Usage, extract_json, open_llm
from flows.llm.budget import StageUsage
from tests.openai_server import OpenAIServer

SECRET = "sk-test-SECRET123"
MESSAGES = [{"role": "user", "content": "Rank these papers, reply in JSON."}]


class Score(BaseModel):
    score: int
    reason: str


def make_settings(tmp_path, **overrides) -> Settings:
    values = dict(
        openai_api_key=SECRET,
        cache_dir=tmp_path / "cache",
        llm_timeout=1.0,
        llm_max_wait=3.0,
        llm_backoff=0.01,
        llm_max_attempts=4,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def scripted(*answers):
    """A reply function giving `answers` in order (the last one repeats)."""
    queue = list(answers)
    lock = threading.Lock()

    def reply(request):
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return reply


def test_text_answer_and_request_shape(settings):
    with OpenAIServer(scripted("  A short summary.  ")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        text = llm.complete_text("summarize", [{"role": "user", "content": "Summarize this."}], max_tokens=50)
    assert text == "A short summary."
    (request,) = srv.requests
    assert request["model"] == settings.summary_model
    assert request["max_tokens"] == 50
    assert request["messages"] == [{"role": "user", "content": "Summarize this."}]


def test_a_query_in_openai_base_url_stays_a_query(settings):
    """OPENAI_BASE_URL=https://gateway/v1?key=K (a gateway's key): requests go to
    /v1/chat/completions?key=K, not /v1?key=K/chat/completions."""
    with OpenAIServer(scripted("Fine.")) as srv, LLM(settings, base_url=f"{srv.base_url}?key=g4teway") as llm:
        assert llm.complete_text("summarize", [{"role": "user", "content": "Say fine."}], max_tokens=5) == "Fine."
    assert srv.paths == ["/v1/chat/completions?key=g4teway"]


def test_json_answer_from_fence_or_prose(settings):
    fenced = 'Here you go:\n```json\n{"score": 7, "reason": "novel"}\n```'
    prose = 'Sure! {"score": 3, "reason": "weak"} Hope this helps.'
    with OpenAIServer(scripted(fenced, prose)) as srv, LLM(settings, base_url=srv.base_url) as llm:
        first = llm.complete_json("rank", MESSAGES, Score)
        second = llm.complete_json("rank", [{"role": "user", "content": "again, JSON"}], Score)
    assert first == Score(score=7, reason="novel")
    assert second == Score(score=3, reason="weak")
    assert srv.requests[0]["response_format"] == {"type": "json_object"}


def test_json_mode_adds_a_json_hint_when_the_prompt_never_says_json(settings):
    answer = scripted('{"score": 1, "reason": "x"}')
    with OpenAIServer(answer) as srv, LLM(settings, base_url=srv.base_url) as llm:
        llm.complete_json("rank", [{"role": "user", "content": "Rate this paper."}], Score)
    assert "json" in json.dumps(srv.requests[0]["messages"]).lower()


def test_extract_json_rejects_text_without_json():
    with pytest.raises(ValueError, match="no JSON"):
        extract_json("I cannot rank these.")


def test_429_retry_after_is_honoured(settings):
    with OpenAIServer(scripted("ok")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.fail_next(429, headers={"Retry-After": "1"})
        started = time.monotonic()
        assert llm.complete_text("rank", MESSAGES) == "ok"
        elapsed = time.monotonic() - started
    assert len(srv.requests) == 2
    assert 0.9 <= elapsed < 2.9  # waited what the server asked, not the tiny backoff


def test_429_asking_longer_than_max_wait_fails_without_waiting(settings):
    with OpenAIServer(scripted("ok")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.fail_next(429, headers={"Retry-After": "60"})
        started = time.monotonic()
        with pytest.raises(LLMError, match="HTTP 429.*Retry-After 60 s"):
            llm.complete_text("rank", MESSAGES)
        assert time.monotonic() - started < 2
    assert len(srv.requests) == 1


def test_500_then_success(settings):
    with OpenAIServer(scripted("fine")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.fail_next(500)
        assert llm.complete_text("summarize", MESSAGES) == "fine"
    assert len(srv.requests) == 2
    assert llm.usage.to_json()["summarize"]["requests"] == 1


def test_5xx_forever_stops_after_max_attempts(settings):
    with OpenAIServer(scripted("never")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.fail_next(503, times=10)
        with pytest.raises(LLMError, match=r"summarize: HTTP 503 .*4 attempts"):
            llm.complete_text("summarize", MESSAGES)
    assert len(srv.requests) == settings.llm_max_attempts
    assert llm.flags == []  # the caller reports it with the paper; flags are for run-level problems


def test_stalled_response_times_out_then_succeeds(settings):
    with OpenAIServer(scripted("after the stall")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.stall_next(2.5)  # client timeout is 1 s
        assert llm.complete_text("rank", MESSAGES) == "after the stall"
    assert len(srv.requests) == 2


def test_unreachable_backend_is_an_llm_error_naming_the_setting(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(tmp_path, llm_max_attempts=2)
    with LLM(settings, base_url=f"http://127.0.0.1:{port}/v1") as llm:
        with pytest.raises(LLMError, match="could not connect.*2 attempts.*OPENAI_BASE_URL"):
            llm.complete_text("rank", MESSAGES)


def test_malformed_json_is_repaired_once(settings):
    with OpenAIServer(scripted('{"score": "high"}', '{"score": 9, "reason": "fixed"}')) as srv, LLM(
        settings, base_url=srv.base_url
    ) as llm:
        result = llm.complete_json("rank", MESSAGES, Score)
    assert result == Score(score=9, reason="fixed")
    assert len(srv.requests) == 2
    repair = srv.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"score": "high"}'}
    assert "score" in repair[-1]["content"] and "reason" in repair[-1]["content"]
    assert llm.usage.to_json()["rank"]["requests"] == 2


def test_malformed_twice_raises_llm_error_naming_the_stage(settings):
    answers = scripted("not json at all", "{still not")
    with OpenAIServer(answers) as srv, LLM(settings, base_url=srv.base_url) as llm:
        with pytest.raises(LLMError, match="^rank: .*Score.*repair"):
            llm.complete_json("rank", MESSAGES, Score)
        assert len(srv.requests) == 2
        # an unusable answer is not cached: asking again goes to the server again
        with pytest.raises(LLMError):
            llm.complete_json("rank", MESSAGES, Score)
        assert len(srv.requests) == 4


def test_refusal_is_an_llm_error(settings):
    with OpenAIServer(scripted({"refusal": "I can't help with that."})) as srv, LLM(
        settings, base_url=srv.base_url
    ) as llm:
        with pytest.raises(LLMError, match="summarize: .*refused.*can't help"):
            llm.complete_text("summarize", MESSAGES)
    assert len(srv.requests) == 1
    assert any("refused" in flag for flag in llm.flags)


def test_content_filter_and_empty_answers_are_llm_errors(settings):
    filtered = {"status": 200, "body": {
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "content_filter",
                     "message": {"role": "assistant", "content": None}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5},
    }}
    with OpenAIServer(scripted(filtered, "   ")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        with pytest.raises(LLMError, match="refused.*content filter"):
            llm.complete_text("rank", MESSAGES)
        with pytest.raises(LLMError, match="empty answer"):
            llm.complete_text("rank", [{"role": "user", "content": "other"}])


@pytest.mark.parametrize(
    ("status", "setting"),
    [(401, "OPENAI_API_KEY"), (403, "OPENAI_API_KEY"), (404, "TOP5_RANK_MODEL"), (400, "TOP5_RANK_MODEL")],
)
def test_client_errors_fail_at_once_with_the_setting_to_fix(settings, status, setting):
    with OpenAIServer(scripted("unused")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.fail_next(status, body=json.dumps({"error": {"message": "nope", "code": "x"}}))
        with pytest.raises(ConfigError, match=setting):
            llm.complete_json("rank", MESSAGES, Score)
    assert len(srv.requests) == 1


def test_context_length_400_is_a_per_paper_llm_error(settings):
    body = json.dumps({"error": {"message": "This model's maximum context length is 128000 tokens",
                                 "code": "context_length_exceeded"}})
    with OpenAIServer(scripted("unused")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        srv.fail_next(400, body=body)
        with pytest.raises(LLMError, match="HTTP 400.*context length"):
            llm.complete_text("summarize", MESSAGES)
    assert len(srv.requests) == 1


def test_cache_serves_the_same_request_without_http(settings):
    answer = '{"score": 5, "reason": "ok"}'
    with OpenAIServer(scripted(answer)) as srv:
        with LLM(settings, base_url=srv.base_url) as llm:
            first = llm.complete_json("rank", MESSAGES, Score)
            text = llm.complete_text("summarize", MESSAGES)
            after_first = llm.usage.to_json()
            assert len(srv.requests) == 2
            second = llm.complete_json("rank", MESSAGES, Score)
            assert llm.complete_text("summarize", MESSAGES) == text
        assert first == second == Score(score=5, reason="ok")
        assert len(srv.requests) == 2  # the repeats sent nothing
        usage = llm.usage.to_json()
        for stage in ("rank", "summarize"):  # a cached answer counts as cached, and costs nothing
            assert usage[stage] == dict(after_first[stage], cached=1)
        # a new run (new LLM, same cache dir) also hits the disk cache
        with LLM(settings, base_url=srv.base_url) as again:
            assert again.complete_text("summarize", MESSAGES) == text
        assert len(srv.requests) == 2
        # a different prompt or model is a different request
        with LLM(settings.model_copy(update={"summary_model": "gpt-4.1"}), base_url=srv.base_url) as other:
            other.complete_text("summarize", MESSAGES)
        assert len(srv.requests) == 3
    leftovers = [p for p in (settings.cache_dir / "llm").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_budget_tokens_stops_calls_before_sending(tmp_path):
    # each call: ~9 prompt tokens estimated + max_tokens 100
    settings = make_settings(tmp_path, budget_tokens=150)
    with OpenAIServer(scripted("short")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        assert llm.complete_text("rank", MESSAGES, max_tokens=100) == "short"
        with pytest.raises(LLMError, match="budget.*TOP5_BUDGET_TOKENS=150"):
            llm.complete_text("summarize", [{"role": "user", "content": "x" * 400}], max_tokens=100)
    assert len(srv.requests) == 1
    assert llm.flags == ["LLM budget reached (TOP5_BUDGET_TOKENS=150): later LLM calls were skipped"]


def test_budget_usd_uses_the_price_table(tmp_path):
    settings = make_settings(
        tmp_path, budget_usd=0.01, prices={"pricey": (1000.0, 1000.0)}, rank_model="pricey"
    )
    with OpenAIServer(scripted("x")) as srv, LLM(settings, base_url=srv.base_url) as llm:
        with pytest.raises(LLMError, match="budget.*TOP5_BUDGET_USD=0.01"):
            llm.complete_text("rank", MESSAGES, max_tokens=100)  # ~100 tokens at $1000/1M > $0.01
        assert llm.complete_text("summarize", MESSAGES) == "x"  # gpt-4o-mini: cheap, allowed
    assert len(srv.requests) == 1


def test_usage_and_cost_per_stage(tmp_path):
    settings = make_settings(tmp_path, prices={"gpt-4o-mini": (1.0, 2.0)}, rank_model="mystery-model")
    answer = "a" * 40  # 10 completion tokens on the test server
    prompt = [{"role": "user", "content": "p" * 400}]  # 100 prompt tokens
    with OpenAIServer(scripted(answer)) as srv, LLM(settings, base_url=srv.base_url) as llm:
        llm.complete_text("summarize", prompt)
        llm.complete_text("summarize", [{"role": "user", "content": "q" * 400}])
        llm.complete_text("rank", prompt)
    usage = llm.usage.to_json()
    assert usage["summarize"] == {"requests": 2, "cached": 0, "prompt_tokens": 200, "completion_tokens": 20,
                                  "cost_usd": round((200 * 1 + 20 * 2) / 1e6, 6), "estimated": 0}
    assert usage["rank"]["cost_usd"] == 0  # unknown model: counted as 0 ...
    assert "unknown" in llm.describe()["prices"]["mystery-model"]  # ... and said so
    assert usage["total"]["requests"] == 3 and usage["total"]["prompt_tokens"] == 300
    assert set(usage) == {*STAGES, "total"}


def test_usage_is_thread_safe(monkeypatch):
    """Parallel summaries record at once: no update may be lost. Adding is slowed down so that
    without the lock the threads would overwrite each other's counts every time."""
    real_add = StageUsage.add

    def slow_add(self, other):
        copy = StageUsage(**vars(self))
        time.sleep(0.0005)  # read, wait, write: what a preempted thread does
        real_add(copy, other)
        vars(self).update(vars(copy))

    monkeypatch.setattr(StageUsage, "add", slow_add)
    usage = Usage()
    threads = [threading.Thread(target=lambda: [usage.record("rank", 1, 2, 0.5, False) for _ in range(50)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert usage.to_json()["rank"] == {"requests": 400, "cached": 0, "prompt_tokens": 400,
                                       "completion_tokens": 800, "cost_usd": 200.0, "estimated": 0}


def test_concurrency_cap(tmp_path):
    settings = make_settings(tmp_path, llm_concurrency=2, llm_timeout=5.0)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow_reply(request):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
        return "done"

    with OpenAIServer(slow_reply) as srv, LLM(settings, base_url=srv.base_url) as llm:
        prompts = [[{"role": "user", "content": f"p{i}"}] for i in range(6)]
        threads = [threading.Thread(target=llm.complete_text, args=("rank", p)) for p in prompts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(srv.requests) == 6
    assert peak[0] == 2


def test_secret_never_leaks(tmp_path, caplog):
    def echo_headers_401(request):
        return {"status": 401, "body": {"error": {
            "message": f"Invalid key. You sent Authorization: Bearer {SECRET}", "code": "invalid_api_key"}}}

    settings = make_settings(tmp_path)
    caplog.set_level(logging.DEBUG)
    with OpenAIServer(echo_headers_401) as srv:
        userinfo_url = srv.base_url.replace("http://", f"http://user:{SECRET}@")
        with LLM(settings, base_url=srv.base_url) as llm, pytest.raises(ConfigError) as info:
            llm.complete_text("rank", MESSAGES)
        described = LLM(settings, base_url=userinfo_url + "?key=" + SECRET).describe()
    rendered = "".join(traceback.format_exception(info.value))
    assert "OPENAI_API_KEY" in str(info.value)
    seen = (str(info.value), repr(info.value), rendered, caplog.text, json.dumps(described), repr(settings))
    for text in seen:
        assert SECRET not in text
    assert described["base_url"] == srv.base_url


def test_a_password_in_the_base_url_is_sent_as_basic_auth_and_never_logged(tmp_path, caplog):
    """OPENAI_BASE_URL may name a proxy as user:password@host: the request goes with that Basic
    auth, and neither a log record (httpx's own lines included) nor an error shows the password."""
    import base64

    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    password, basic = "pr0xyS3cret", base64.b64encode(b"user:pr0xyS3cret").decode()
    settings = make_settings(tmp_path, llm_max_attempts=1)
    with OpenAIServer(scripted("through the proxy")) as srv:
        with LLM(settings, base_url=srv.base_url.replace("http://", f"http://user:{password}@")) as llm:
            assert llm.complete_text("rank", MESSAGES) == "through the proxy"
    with socket.socket() as sock:  # a port nobody listens on: the connect error's message
        sock.bind(("127.0.0.1", 0))
        gone = f"http://user:{password}@127.0.0.1:{sock.getsockname()[1]}/v1"
    with LLM(settings, base_url=gone) as llm, pytest.raises(LLMError, match="could not connect") as info:
        llm.complete_text("rank", [{"role": "user", "content": "not cached"}])

    assert [h.get("authorization") for h in srv.headers] == [f"Basic {basic}"]
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx" and "HTTP Request: POST" in r.getMessage()]
    assert any(srv.base_url.removeprefix("http://") + "/chat/completions" in line for line in requests)
    seen = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records), str(info.value),
                      "".join(traceback.format_exception(info.value))])
    assert password not in seen and basic not in seen


@pytest.mark.parametrize("echo", ["proxy: bad credentials for user:{password}", "proxy: got Basic {basic}"])
def test_a_server_that_echoes_a_url_password_never_shows_it(tmp_path, monkeypatch, echo):
    """A proxy that says what it was sent (the password, or the Basic auth built from it) cannot
    put the password of any configured URL in our messages: OPENAI_BASE_URL's, another URL
    setting's (ARXIV_API_URL) or PREFECT_API_URL's."""
    import base64

    passwords = {"llm": "Pa55wordXyz", "arxiv": "arX1vPassw0rd", "prefect": "Pr3fectPassw0rd"}
    monkeypatch.setenv("PREFECT_API_URL", f"http://user:{passwords['prefect']}@127.0.0.1:9/api")
    settings = make_settings(tmp_path, llm_max_attempts=1,
                             arxiv_api_url=f"http://user:{passwords['arxiv']}@127.0.0.1:9/api/query")
    messages = []
    with OpenAIServer(scripted("ok")) as srv:
        for password in passwords.values():
            basic = base64.b64encode(f"user:{password}".encode()).decode()
            said = echo.format(password=password, basic=basic)
            srv.fail_next(401, body=json.dumps({"error": {"message": said, "type": "auth"}}))
            base_url = srv.base_url.replace("http://", f"http://user:{passwords['llm']}@")
            with LLM(settings, base_url=base_url) as llm, pytest.raises(ConfigError) as info:
                llm.complete_text("rank", [{"role": "user", "content": password}])
            messages.append(str(info.value))

    assert all("rejected the user:password in OPENAI_BASE_URL (HTTP 401: proxy: " in m and "***" in m
               and "in place of OPENAI_API_KEY" in m for m in messages), messages
    for password in passwords.values():
        basic = base64.b64encode(f"user:{password}".encode()).decode()
        assert not any(password in m or basic in m for m in messages), messages


def test_open_llm_uses_the_configured_backend(tmp_path):
    with OpenAIServer(scripted("hi")) as srv:
        settings = Settings.from_env({"OPENAI_BASE_URL": srv.base_url, "TOP5_CACHE_DIR": str(tmp_path)})
        with open_llm(settings) as llm:
            assert llm.complete_text("summarize", MESSAGES) == "hi"
            info = llm.describe()
    assert llm.offline is False
    assert info["offline"] is False
    assert info["base_url"] == srv.base_url
    assert info["models"] == {"rank": "gpt-4o-mini", "summarize": "gpt-4o-mini"}
    assert "no-key" not in json.dumps(info)


def test_unknown_stage_is_rejected(settings):
    with LLM(settings, base_url="http://127.0.0.1:9/v1") as llm:
        with pytest.raises(ValueError, match="unknown LLM stage"):
            llm.model_for("draft")


def test_each_stage_sends_its_own_model_and_temperature(tmp_path):
    settings = Settings(openai_base_url="http://x", openai_api_key="sk-test-key-123", cache_dir=tmp_path,
                        rank_model="ranker-1", summary_model="writer-2", rank_temperature=0.0,
                        summary_temperature=0.7)
    with OpenAIServer(lambda request: "ok") as srv:
        llm = LLM(settings.model_copy(update={"openai_base_url": srv.base_url}))
        llm.complete_text("rank", [{"role": "user", "content": "a"}])
        llm.complete_text("summarize", [{"role": "user", "content": "b"}])
    assert [(r["model"], r["temperature"]) for r in srv.requests] == [("ranker-1", 0.0), ("writer-2", 0.7)]
    with OpenAIServer(lambda request: "ok") as srv:
        LLM(Settings(openai_base_url=srv.base_url, cache_dir=tmp_path / "other")).complete_text(
            "rank", [{"role": "user", "content": "a"}])
    assert "temperature" not in srv.requests[0]  # unset: the model's own default


def _completion(content_json: str) -> dict:
    """A raw chat completion whose message content is the JSON string literal `content_json`."""
    return {"status": 200, "body": '{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": '
            '[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": '
            + content_json + '}}], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}'}


def test_a_lone_surrogate_in_an_answer_becomes_a_replacement_character_and_is_cached(settings):
    text = _completion('"A summary \\ud800 of \\ud83d\\ude00."')
    score = _completion('"{\\"score\\": 9, \\"reason\\": \\"fine \\\\udc00 work\\"}"')  # the model wrote the escape
    with OpenAIServer(scripted(text, score)) as srv, LLM(settings, base_url=srv.base_url) as llm:
        assert llm.complete_text("summarize", MESSAGES) == "A summary \ufffd of \U0001F600."
        assert llm.complete_text("summarize", MESSAGES) == "A summary \ufffd of \U0001F600."  # from the cache
        assert llm.complete_json("rank", MESSAGES, Score) == Score(score=9, reason="fine \ufffd work")
    assert len(srv.requests) == 2


def test_an_answer_nested_too_deeply_is_an_llm_error_not_a_crash(settings):
    deep_body = {"status": 200, "body": "[" * 200_000}
    deep_content = _completion('"' + "[" * 200_000 + '"')
    with OpenAIServer(scripted(deep_body, deep_content)) as srv, LLM(settings, base_url=srv.base_url) as llm:
        with pytest.raises(LLMError):
            llm.complete_text("rank", MESSAGES)
        with pytest.raises(LLMError, match="^rank: "):
            llm.complete_json("rank", MESSAGES, Score)


def test_a_value_too_deep_to_write_back_is_no_value_rather_than_one_with_a_lone_surrogate():
    from flows.text import whole_characters

    deep: object = "x\ud800"
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(RecursionError):  # the callers take it for no answer
        whole_characters(deep)
    assert whole_characters({"a": ["x\ud800", "\U0001F600"]}) == {"a": ["x\ufffd", "\U0001F600"]}
