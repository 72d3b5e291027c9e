"""The one LLM layer: every LLM call of the project goes through `LLM`.

`LLM` is a facade over small parts, each owning one job: transport.py (one request within a
wall-clock deadline), retry.py (the only retries), answers.py (reading what the model meant),
formats.py (which JSON mode the backend takes), budget.py (tokens, cost, budget), cache.py (usable
answers on disk), failures.py (what a failure means and what to change). Errors come out as
`LLMError` (this answer is unusable: the caller flags the paper and goes on) or `ConfigError`
(the backend or model is misconfigured: the run stops). Every answer is redacted (the configured
keys and anything shaped like a key) before it is parsed, cached, logged or returned.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from flows import prompts
from flows.config import Settings, configured_secrets
from flows.errors import LLMError
from flows.http import safe_url, without_credentials
from flows.llm.answers import Answer, NoJson, find_json
from flows.llm.budget import STAGES, Budget, Prices, Usage, check_stage
from flows.llm.cache import AnswerCache
from flows.llm.embedded import MODEL_ALIAS as OFFLINE_MODEL
from flows.llm.embedded import embedded_server
from flows.llm.failures import MODEL_SETTING, Context, explain, rejects_json_mode
from flows.llm.formats import JsonMode
from flows.llm.retry import RetryPolicy
from flows.llm.transport import BackendError, NoAnswer, Transport
from flows.text import clip, estimate_tokens, redact

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_TOKENS = 1024
MAX_TOKENS_CEILING = 8192  # a cut answer is asked again with twice its max_tokens, up to this
BYTES_PER_TOKEN_LIMIT = 64  # an answer body over max_tokens x this (and 256 KiB) is refused
STOP_WAIT = 10.0  # seconds a stopping LLM waits for the requests in flight before it closes
OFFLINE_NOTE = (
    "offline default: SmolLM2-135M-Instruct (Q4_1) run locally by llama.cpp. It is a tiny model: "
    "its ranking is close to random and its summaries can invent facts. Set OPENAI_API_KEY or "
    "OPENAI_BASE_URL for a real digest."
)
SECRET_IN_ANSWER = (
    "The model's answers contained text shaped like a secret (an API key or token); it was replaced "
    "by *** before anything was stored: check the backend"
)
M = TypeVar("M", bound=BaseModel)


class _Rejected(Exception):
    """The backend rejected the JSON mode of the request."""


class LLM:
    """Chat completions for the pipeline's stages, with retries, cache, budget and accounting."""

    def __init__(self, settings: Settings, *, base_url: str | None = None, offline: bool = False,
                 usage: Usage | None = None):
        self.settings, self.offline = settings, offline
        self.usage = usage if usage is not None else Usage()
        self.flags: list[str] = []  # run-level problems for the draft: budget stops, refusals, cut answers
        self._flags_lock = threading.Lock()
        self._base_url = (base_url or settings.openai_base_url or DEFAULT_BASE_URL).rstrip("/")
        self._secrets = configured_secrets(settings, self._base_url)
        self._transport = Transport(self._base_url, settings.openai_api_key, settings.llm_timeout)
        self._prices = Prices(settings.prices, free=offline)
        self._budget = Budget(self.usage, self._prices, settings.budget_tokens, settings.budget_usd, self._flag)
        # llama.cpp generates for one request at a time: more would only queue (and time out) there
        self._slots = threading.BoundedSemaphore(1 if offline else settings.llm_concurrency)
        self._cache = AnswerCache(Path(settings.cache_dir) / "llm")
        self._json = JsonMode(settings.llm_json_mode, offline=offline)
        self._in_flight = threading.Condition()
        self._requests = 0  # requests in flight (in the transport or waiting between retries)

    def close(self) -> None:
        self._transport.close()

    def stop(self, wait: float = STOP_WAIT) -> bool:
        """Ends every request: none is sent from now on (each raises LLMError), one in flight ends
        at its answer's next chunk or retry wait. Waits up to `wait` seconds for those in flight to
        end; whether they all did (a backend that sends nothing holds its request until
        TOP5_LLM_TIMEOUT)."""
        self._transport.stop.set()
        with self._in_flight:
            return self._in_flight.wait_for(lambda: self._requests == 0, timeout=wait)

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc_info) -> None:
        # stopped before closed: a task still in flight (the flow left on an error or a signal)
        # ends with an LLMError, not on a closed client
        self.stop()
        self.close()

    def model_for(self, stage: str) -> str:
        check_stage(stage)
        if self.offline:
            return OFFLINE_MODEL
        return self.settings.rank_model if stage == "rank" else self.settings.summary_model

    def complete_text(self, stage: str, messages: list[dict], *, max_tokens: int | None = None,
                      extra: dict | None = None, usable: Callable[[str], bool] | None = None) -> str:
        """The assistant's text answer (stripped, redacted); a cut answer is returned as it is.
        `extra`: more request fields (sampling, or a backend's own such as llama.cpp's `grammar`
        and `min_tokens`), sent as given and part of the cache key. The answer is cached only when
        `usable(text)` (default: always) says the caller can use it. Raises LLMError if unusable."""
        model, params = self.model_for(stage), {**_params(self.settings, stage, max_tokens), **(extra or {})}
        key = self._cache.key(model, messages, params)
        hit = self._cache.get(key)
        if hit is not None:
            self.usage.record(stage, 0, 0, 0.0, cached=True)
            return hit
        answer = self._ask(stage, model, messages, params)
        if not answer.text:
            raise self._fail(f"{stage}: model {model!r} returned an empty answer{_why_empty(answer)}")
        if answer.cut:  # the embedded model's parts are cut by design: their writer ends them at a sentence
            (log.info if self.offline else log.warning)("%s: answer cut at max_tokens=%s", stage, params["max_tokens"])
        if usable is None or usable(answer.text):
            self._cache.put(key, answer.text)
        return answer.text

    def complete_json(self, stage: str, messages: list[dict], schema: type[M], *, max_tokens: int | None = None,
                      usable: Callable[[M], bool] | None = None) -> M:
        """The answer as a validated `schema`. A cut answer is asked again with a larger max_tokens,
        an invalid one is sent back once for repair; then LLMError. The answer is cached only
        when `usable(result)` (default: always) says the caller can use it."""
        model, mode = self.model_for(stage), self._json.current
        request = _with_json_hint(messages, schema if mode == "prompt" else None)
        params = _params(self.settings, stage, max_tokens)
        response_format = self._json.response_format(schema, mode)
        params = {**params, "response_format": response_format} if response_format else params
        key = self._cache.key(model, request, params, schema.model_json_schema())
        cached = self._from_cache(stage, key, schema)
        if cached is not None:
            return cached
        try:
            value, result = self._json_answer(stage, model, request, params, schema)
        except _Rejected:
            if not self._json.step_down(mode):
                raise self._fail(f"{stage}: the LLM backend at {safe_url(self._base_url)} rejects every JSON "
                                 "mode; set TOP5_LLM_JSON_MODE=prompt") from None
            log.warning("%s: the backend rejected JSON mode %s; using %s from now on", stage, mode, self._json.current)
            return self.complete_json(stage, messages, schema, max_tokens=max_tokens, usable=usable)
        if usable is None or usable(result):
            self._cache.put(key, json.dumps(value, ensure_ascii=False))
        return result

    def prompt_tokens(self, messages: list[dict], schema: type[BaseModel] | None = None) -> int:
        """The prompt tokens the budget reserves for `messages` (with the JSON hint a `schema`
        request adds in the current JSON mode): the count the dry run's estimate uses."""
        if schema is not None:
            messages = _with_json_hint(messages, schema if self._json.current == "prompt" else None)
        return estimate_tokens("".join(str(m.get("content", "")) for m in messages))

    def price(self, stage: str, prompt_tokens: int, completion_tokens: int) -> float:
        """US dollars for that many tokens of `stage`'s model, from the price list (0 when unknown)."""
        return self._prices.cost(self.model_for(stage), prompt_tokens, completion_tokens)

    def describe(self) -> dict:
        """What run.json records about the LLM backend (never a credential)."""
        models = {stage: self.model_for(stage) for stage in STAGES}
        out = {
            "base_url": safe_url(self._base_url),
            "models": models,
            "offline": self.offline,
            "prices": {model: self._prices.describe(model) for model in sorted(set(models.values()))},
            "budget": {"tokens": self.settings.budget_tokens, "usd": self.settings.budget_usd},
            "json_mode": self._json.describe(),
            "timeout_s": self.settings.llm_timeout,
        }
        if self.offline:
            out["note"] = OFFLINE_NOTE
        return out

    # --- answers -------------------------------------------------------------------------------
    def _from_cache(self, stage: str, key: str, schema: type[M]) -> M | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        try:
            _, result = find_json(hit, schema)
        except NoJson:
            log.warning("%s: ignoring a cached answer that no longer validates", stage)
            return None
        self.usage.record(stage, 0, 0, 0.0, cached=True)
        return result

    def _json_answer(self, stage: str, model: str, messages: list[dict], params: dict, schema: type[M]):
        answer = self._uncut(stage, model, messages, params)
        try:
            return find_json(answer, schema)
        except NoJson as first:
            log.warning("%s: invalid JSON answer (%s); asking the model to repair it", stage, first)
            repair = prompts.render("llm_json_repair.j2", error=first, schema=json.dumps(schema.model_json_schema()))
            messages = [*messages, {"role": "assistant", "content": answer.text or "(empty)"},
                        {"role": "user", "content": repair}]
            answer = self._uncut(stage, model, messages, params)
            try:
                return find_json(answer, schema)
            except NoJson as second:
                raise self._fail(f"{stage}: model {model!r} gave no valid {schema.__name__} JSON even after one "
                                 f"repair attempt: {clip(str(second))}; choose a model that follows JSON "
                                 f"instructions with {MODEL_SETTING[stage]}, or try TOP5_LLM_JSON_MODE=json_schema"
                                 ) from None

    def _uncut(self, stage: str, model: str, messages: list[dict], params: dict) -> Answer:
        """An answer that was not cut at max_tokens: a cut one is flagged and asked again once with
        twice the max_tokens (the run's budget still applies)."""
        answer = self._ask(stage, model, messages, params)
        if not answer.cut:
            return answer
        if self.offline:  # the tiny model runs on until the limit when it loops: more tokens only cost time
            raise self._fail(f"{stage}: the offline model was cut at max_tokens={params['max_tokens']}")
        limit, bigger = params["max_tokens"], min(MAX_TOKENS_CEILING, params["max_tokens"] * 2)
        self._flag(f"{stage}: model {model!r} was cut at max_tokens={limit}{_reasoning_used(answer, limit)}; "
                   f"it was asked again with max_tokens={bigger}")
        answer = self._ask(stage, model, messages, {**params, "max_tokens": bigger})
        if answer.cut:
            raise self._fail(f"{stage}: model {model!r} was cut at max_tokens={limit} and again at {bigger}"
                             f"{_reasoning_used(answer, bigger)}: choose a model that reasons less with "
                             f"{MODEL_SETTING[stage]}, or lower its "
                             "reasoning effort at the backend")
        return answer

    def _ask(self, stage: str, model: str, messages: list[dict], params: dict) -> Answer:
        """One answer from the backend (retried by the policy), redacted, counted and checked."""
        estimate = estimate_tokens("".join(str(m.get("content", "")) for m in messages))
        self._budget.reserve(stage, model, estimate, params["max_tokens"])
        try:
            answer = self._request(stage, model, {"model": model, "messages": messages, **params})
        finally:
            self._budget.release(model, estimate, params["max_tokens"])
        clean = replace(answer, text=self._redact(answer.text), reasoning=self._redact(answer.reasoning),
                        refusal=self._redact(answer.refusal) if answer.refusal else None)
        if clean != answer:
            self._flag(SECRET_IN_ANSWER)  # once per run: _flag keeps one copy of each message
        answer = clean
        prompt, completion = answer.usage or (estimate, estimate_tokens(answer.text + answer.reasoning))
        self.usage.record(stage, prompt, completion, self._prices.cost(model, prompt, completion), cached=False,
                          estimated=answer.usage is None)
        return self._checked(stage, model, answer, params["max_tokens"])

    def _request(self, stage: str, model: str, payload: dict) -> Answer:
        payload = {**payload, "stream": True} if self.offline else payload
        max_bytes = max(256 * 1024, payload["max_tokens"] * BYTES_PER_TOKEN_LIMIT)
        policy = RetryPolicy(self.settings, stage, offline=self.offline, stopping=self._transport.stop)
        try:
            with self._counted(), self._slots:
                return policy.run(lambda: self._transport.complete(payload, max_bytes=max_bytes))
        except (BackendError, NoAnswer) as exc:
            if "response_format" in payload and rejects_json_mode(exc):
                raise _Rejected() from None
            exc.detail = self._redact(exc.detail)  # before the advice is added: a pattern may run to the end
            where = Context(stage, model, safe_url(self._base_url), self.offline, policy.describe(),
                            self.settings.llm_max_wait, without_credentials(self._base_url)[1] is not None)
            raise explain(exc, where) from None

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self._in_flight:
            self._requests += 1
        try:
            yield
        finally:
            with self._in_flight:
                self._requests -= 1
                self._in_flight.notify_all()

    def _checked(self, stage: str, model: str, answer: Answer, max_tokens: int) -> Answer:
        if answer.refusal or answer.finish_reason == "content_filter":
            reason = answer.refusal or "content filter"
            raise self._fail(f"{stage}: model {model!r} refused to answer ({clip(reason, 120)})", flag=True)
        if estimate_tokens(answer.text) > max_tokens * 4:
            raise self._fail(f"{stage}: model {model!r} sent ~{estimate_tokens(answer.text)} tokens for "
                             f"max_tokens={max_tokens}: refused as far beyond the limit", flag=True)
        return answer

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _flag(self, message: str) -> None:
        with self._flags_lock:
            if message not in self.flags:
                self.flags.append(message)

    def _fail(self, message: str, *, flag: bool = False) -> LLMError:
        """An LLMError; `flag` also lists it in self.flags (callers report the per-paper ones)."""
        message = self._redact(message)
        if flag:
            self._flag(message)
        return LLMError(message)


def _params(settings: Settings, stage: str, max_tokens: int | None) -> dict:
    temperature = settings.rank_temperature if stage == "rank" else settings.summary_temperature
    params = {"max_tokens": max_tokens or DEFAULT_MAX_TOKENS}
    return params if temperature is None else {**params, "temperature": temperature}


def _with_json_hint(messages: list[dict], schema: type[BaseModel] | None) -> list[dict]:
    # OpenAI's JSON mode refuses requests whose messages never mention JSON; prompt-only mode
    # needs the schema in the prompt
    if schema is None and any("json" in str(m.get("content", "")).lower() for m in messages):
        return list(messages)
    hint = prompts.render("llm_json_hint.j2", schema=json.dumps(schema.model_json_schema()) if schema else None)
    return [*messages, {"role": "system", "content": hint.strip()}]


def _reasoning_used(answer: Answer, limit: int) -> str:
    if not answer.reasoning:
        return ""
    return f" (~{min(limit, estimate_tokens(answer.reasoning))} tokens of it spent on reasoning)"


def _why_empty(answer: Answer) -> str:
    if answer.reasoning:
        return f" (finish_reason {answer.finish_reason!r}; it only reasoned, ~{estimate_tokens(answer.reasoning)} tokens)"
    return f" (finish_reason {answer.finish_reason!r})"


@contextmanager
def open_llm(settings: Settings) -> Iterator[LLM]:
    """The configured backend, or the embedded offline model when none is configured.

    OPENAI_API_KEY and/or OPENAI_BASE_URL set: that backend. Neither: start the embedded
    SmolLM2-135M server (flows.llm.embedded), and always stop it afterwards.
    """
    if settings.llm_configured:
        with LLM(settings) as llm:
            yield llm
        return
    with embedded_server(settings) as base_url, LLM(settings, base_url=base_url, offline=True) as llm:
        log.warning("no LLM configured: using the %s", OFFLINE_NOTE)
        yield llm
