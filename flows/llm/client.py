"""The one LLM layer: every LLM call of the project goes through `LLM` (openai SDK).

It owns retries (tenacity; the SDK's own retries are off), the disk cache, token/cost
accounting per stage, the run budget, the concurrency cap and JSON validation. Errors come
out as `LLMError` (this answer is unusable: the caller flags the paper and goes on) or
`ConfigError` (the backend or model is misconfigured: the run stops). No message, log line
or exception ever holds the API key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import openai
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception

from flows.config import Settings
from flows.errors import ConfigError, LLMError
from flows.http import retry_after, safe_url
from flows.llm.embedded import MODEL_ALIAS as OFFLINE_MODEL
from flows.llm.embedded import embedded_server
from flows.text import clip, estimate_tokens, redact

log = logging.getLogger(__name__)

STAGES = ("rank", "summarize")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_TOKENS = 1024
MAX_BACKOFF = 30.0
OFFLINE_NOTE = (
    "offline default: SmolLM2-135M-Instruct (Q4_1) run locally by llama.cpp. It is a tiny model: "
    "its ranking is close to random and its summaries can invent facts. Set OPENAI_API_KEY or "
    "OPENAI_BASE_URL for a real digest."
)
# USD per 1M tokens (prompt, completion). Check your provider's current prices; override or
# extend with TOP5_PRICES='{"model": [prompt, completion]}'.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}
_MODEL_SETTING = {"rank": "TOP5_RANK_MODEL", "summarize": "TOP5_SUMMARY_MODEL"}
_JSON_HINT = "Answer with one JSON object only."
_REPAIR = (
    "Your previous answer could not be used: {error}\n"
    "Reply again with only the corrected JSON object, no prose, matching this JSON schema:\n{schema}"
)
M = TypeVar("M", bound=BaseModel)


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown LLM stage {stage!r}; expected one of {STAGES}")


@dataclass
class StageUsage:
    requests: int = 0  # answers received from the backend (repair attempts included)
    cached: int = 0  # answers served from the disk cache (no HTTP request)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class Usage:
    """Thread-safe accumulator of requests, tokens and cost, per stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stages = {stage: StageUsage() for stage in STAGES}

    def record(
        self, stage: str, prompt_tokens: int, completion_tokens: int, cost_usd: float, cached: bool
    ) -> None:
        _check_stage(stage)
        with self._lock:
            usage = self._stages[stage]
            if cached:
                usage.cached += 1
            else:
                usage.requests += 1
            usage.prompt_tokens += prompt_tokens
            usage.completion_tokens += completion_tokens
            usage.cost_usd += cost_usd

    def total(self) -> StageUsage:
        with self._lock:
            total = StageUsage()
            for usage in self._stages.values():
                for name, value in asdict(usage).items():
                    setattr(total, name, getattr(total, name) + value)
            return total

    def to_json(self) -> dict:
        with self._lock:
            out = {stage: asdict(usage) for stage, usage in self._stages.items()}
        out["total"] = asdict(self.total())
        for entry in out.values():
            entry["cost_usd"] = round(entry["cost_usd"], 6)
        return out


def extract_json(text: str) -> object:
    """The JSON object in a model's answer: bare, in a ```json fence, or inside prose."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for fenced in re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL | re.IGNORECASE):
        try:
            return json.loads(fenced.strip())
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        return value
    raise ValueError("no JSON object found in the answer")


class _Invalid(Exception):
    """An answer that is not valid JSON for the schema (the text says why)."""


def _parse(text: str, schema: type[M]) -> tuple[object, M]:
    try:
        value = extract_json(text)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
    try:
        return value, schema.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise _Invalid(f"does not match {schema.__name__}: {problems}") from None


def _error_code(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    return str(error.get("code") or error.get("type") or "")


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429:
            return _error_code(exc) != "insufficient_quota"  # out of credit: waiting won't help
        return exc.status_code >= 500
    return False


class LLM:
    """Chat completions for the pipeline's stages, with retries, cache, budget and accounting."""

    def __init__(
        self,
        settings: Settings,
        *,
        base_url: str | None = None,
        offline: bool = False,
        usage: Usage | None = None,
        http_client=None,
    ):
        self.settings = settings
        self.offline = offline
        self.usage = usage if usage is not None else Usage()
        self.flags: list[str] = []  # run-level problems for the draft: budget stops, refusals
        self._base_url = (base_url or settings.openai_base_url or DEFAULT_BASE_URL).rstrip("/")
        self._secret = settings.openai_api_key
        self._client = openai.OpenAI(
            # a local server needs no key, but the SDK insists on one
            api_key=settings.openai_api_key or "no-key",
            base_url=self._base_url,
            timeout=settings.llm_timeout,
            max_retries=0,  # tenacity owns the retries
            http_client=http_client,
        )
        self._prices = {**DEFAULT_PRICES, **settings.prices}
        self._slots = threading.BoundedSemaphore(settings.llm_concurrency)
        self._lock = threading.Lock()  # guards the budget reservations
        self._flags_lock = threading.Lock()
        self._reserved_tokens = 0
        self._reserved_usd = 0.0
        self._cache_dir = Path(settings.cache_dir) / "llm"
        # The embedded server listens on a new port each run; its answers must still be cached.
        self._cache_identity = f"embedded:{OFFLINE_MODEL}" if offline else self._base_url

    # --- public API ------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def model_for(self, stage: str) -> str:
        _check_stage(stage)
        if self.offline:
            return OFFLINE_MODEL
        return self.settings.rank_model if stage == "rank" else self.settings.summary_model

    def _params(self, stage: str, max_tokens: int | None) -> dict:
        temperature = self.settings.rank_temperature if stage == "rank" else self.settings.summary_temperature
        params = {"max_tokens": max_tokens or DEFAULT_MAX_TOKENS}
        return params if temperature is None else {**params, "temperature": temperature}

    def complete_text(
        self, stage: str, messages: list[dict], *, max_tokens: int | None = None
    ) -> str:
        """The assistant's text answer (stripped). Raises LLMError if unusable."""
        model = self.model_for(stage)
        params = self._params(stage, max_tokens)
        key = self._cache_key(model, messages, params)
        hit = self._cache_get(key)
        if hit is not None:
            self.usage.record(stage, 0, 0, 0.0, cached=True)
            return hit
        content = self._call(stage, model, messages, params)
        self._cache_put(key, content)
        return content

    def complete_json(
        self,
        stage: str,
        messages: list[dict],
        schema: type[M],
        *,
        max_tokens: int | None = None,
    ) -> M:
        """The answer as a validated `schema`; one repair attempt, then LLMError."""
        model = self.model_for(stage)
        messages = _with_json_hint(messages)
        params = {**self._params(stage, max_tokens), "response_format": self._json_format(schema)}
        key = self._cache_key(model, messages, params, schema)
        hit = self._cache_get(key)
        if hit is not None:
            try:
                _, result = _parse(hit, schema)
            except _Invalid:
                log.warning("%s: ignoring a cached answer that no longer validates", stage)
            else:
                self.usage.record(stage, 0, 0, 0.0, cached=True)
                return result
        content = self._call(stage, model, messages, params)
        try:
            value, result = _parse(content, schema)
        except _Invalid as first:
            log.warning("%s: invalid JSON answer (%s); asking the model to repair it", stage, first)
            repair = [
                *messages,
                {"role": "assistant", "content": content},
                {"role": "user", "content": _REPAIR.format(
                    error=first, schema=json.dumps(schema.model_json_schema()))},
            ]
            content = self._call(stage, model, repair, params)
            try:
                value, result = _parse(content, schema)
            except _Invalid as second:
                raise self._fail(
                    f"{stage}: model {model!r} gave no valid {schema.__name__} JSON even after "
                    f"one repair attempt: {clip(str(second))}"
                ) from None
        self._cache_put(key, json.dumps(value, ensure_ascii=False))
        return result

    def describe(self) -> dict:
        """What run.json records about the LLM backend (never a credential)."""
        models = {stage: self.model_for(stage) for stage in STAGES}
        prices = {}
        for model in sorted(set(models.values())):
            price = self._price(model)
            if self.offline:
                prices[model] = "local model: no cost"
            elif price is None:
                prices[model] = "unknown: cost counted as 0 (set TOP5_PRICES)"
            else:
                prices[model] = {"prompt_usd_per_1m": price[0], "completion_usd_per_1m": price[1]}
        out = {
            "base_url": safe_url(self._base_url),
            "models": models,
            "offline": self.offline,
            "prices": prices,
            "budget": {"tokens": self.settings.budget_tokens, "usd": self.settings.budget_usd},
        }
        if self.offline:
            out["note"] = OFFLINE_NOTE
        return out

    # --- one answer from the backend -------------------------------------------------------
    def _call(self, stage: str, model: str, messages: list[dict], params: dict) -> str:
        estimate = estimate_tokens("".join(str(m.get("content", "")) for m in messages))
        self._reserve(stage, model, estimate, params["max_tokens"])
        try:
            completion = self._create_with_retries(stage, model, messages, params)
            usage = completion.usage
            prompt_tokens = usage.prompt_tokens if usage else estimate
            choice = completion.choices[0] if completion.choices else None
            content = (choice.message.content or "") if choice else ""
            completion_tokens = usage.completion_tokens if usage else estimate_tokens(content)
            cost = 0.0 if self.offline else self._cost(model, prompt_tokens, completion_tokens)
            self.usage.record(stage, prompt_tokens, completion_tokens, cost, cached=False)
        finally:
            self._release(model, estimate, params["max_tokens"])
        if choice is not None and (
            getattr(choice.message, "refusal", None) or choice.finish_reason == "content_filter"
        ):
            reason = getattr(choice.message, "refusal", None) or "content filter"
            raise self._fail(
                f"{stage}: model {model!r} refused to answer ({clip(reason, 120)})", flag=True
            )
        if not content.strip():
            raise self._fail(f"{stage}: model {model!r} returned an empty answer")
        if choice.finish_reason == "length":
            log.warning("%s: answer cut at max_tokens=%s", stage, params["max_tokens"])
        return content.strip()

    def _create_with_retries(self, stage: str, model: str, messages: list[dict], params: dict):
        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            wait=self._wait,
            stop=self._stop,
            before_sleep=lambda state: self._log_retry(stage, state),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    with self._slots:
                        return self._client.chat.completions.create(
                            model=model, messages=messages, **params
                        )
        except openai.APIStatusError as exc:
            raise self._status_error(stage, model, exc, retrying) from None
        except openai.APIConnectionError as exc:
            what = "timed out" if isinstance(exc, openai.APITimeoutError) else "could not connect"
            raise self._fail(
                f"{stage}: the LLM backend at {safe_url(self._base_url)} {what} "
                f"({_attempts(retrying)}); check OPENAI_BASE_URL and TOP5_LLM_TIMEOUT"
            ) from None
        raise AssertionError("unreachable: tenacity returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        asked = retry_after(_headers(state.outcome.exception()))
        if asked is not None:
            return asked
        backoff = min(MAX_BACKOFF, self.settings.llm_backoff * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(1.0, 1.1)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.settings.llm_max_attempts:
            return True
        return state.idle_for + state.upcoming_sleep > self.settings.llm_max_wait

    def _log_retry(self, stage: str, state: RetryCallState) -> None:
        exc = state.outcome.exception()
        what = f"HTTP {exc.status_code}" if isinstance(exc, openai.APIStatusError) else type(exc).__name__
        log.warning(
            "%s: %s from the LLM backend; retry %d/%d in %.2f s",
            stage, what, state.attempt_number, self.settings.llm_max_attempts - 1, state.upcoming_sleep,
        )

    def _status_error(
        self, stage: str, model: str, exc: openai.APIStatusError, retrying: Retrying
    ) -> Exception:
        status, url = exc.status_code, safe_url(self._base_url)
        detail = self._redact(_error_detail(exc))
        setting = _MODEL_SETTING[stage] if not self.offline else "the embedded model"
        if status == 401:
            return ConfigError(
                f"the LLM backend at {url} rejected the API key (HTTP 401: {detail}); "
                "set OPENAI_API_KEY to a valid key, or OPENAI_BASE_URL to the right server"
            )
        if status == 403:
            return ConfigError(
                f"the LLM backend at {url} refused access to model {model!r} (HTTP 403: {detail}); "
                f"check that OPENAI_API_KEY may use it, or choose another model with {setting}"
            )
        if status == 404:
            return ConfigError(
                f"model {model!r} or its endpoint was not found at {url} (HTTP 404: {detail}); "
                f"check {setting} and OPENAI_BASE_URL"
            )
        if status == 429 and _error_code(exc) == "insufficient_quota":
            return ConfigError(
                f"the account behind OPENAI_API_KEY has no quota left at {url} (HTTP 429: {detail})"
            )
        if status == 400 and "context" not in detail.lower():
            return ConfigError(
                f"the LLM backend at {url} rejected the request for model {model!r} "
                f"(HTTP 400: {detail}); check {setting} and OPENAI_BASE_URL"
            )
        waited = ""
        if status == 429 and (asked := retry_after(_headers(exc))) is not None:
            waited = f", last Retry-After {asked:g} s, TOP5_LLM_MAX_WAIT={self.settings.llm_max_wait:g} s"
        return self._fail(
            f"{stage}: HTTP {status} from the LLM backend at {url} for model {model!r} "
            f"({_attempts(retrying)}{waited}): {detail}"
        )

    # --- budget and cost -------------------------------------------------------------------
    def _price(self, model: str) -> tuple[float, float] | None:
        if model in self._prices:
            return self._prices[model]
        # dated snapshots such as gpt-4o-mini-2024-07-18 cost what their family costs
        family = [name for name in self._prices if model.startswith(name + "-")]
        return self._prices[max(family, key=len)] if family else None

    def _cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self._price(model)
        if price is None:
            return 0.0
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000

    def _reserve(self, stage: str, model: str, prompt_tokens: int, max_tokens: int) -> None:
        """Check the budget before a call and hold its worst case while it runs."""
        tokens = prompt_tokens + max_tokens
        usd = 0.0 if self.offline else self._cost(model, prompt_tokens, max_tokens)
        budget_tokens, budget_usd = self.settings.budget_tokens, self.settings.budget_usd
        with self._lock:
            used = self.usage.total()
            if budget_tokens is not None:
                spent = used.prompt_tokens + used.completion_tokens + self._reserved_tokens
                if spent + tokens > budget_tokens:
                    raise self._budget_stop(
                        f"{stage}: budget: this call may use ~{tokens} tokens and {spent} are "
                        f"used or in flight, over TOP5_BUDGET_TOKENS={budget_tokens}",
                        f"TOP5_BUDGET_TOKENS={budget_tokens}",
                    )
            if budget_usd is not None:
                spent_usd = used.cost_usd + self._reserved_usd
                if spent_usd + usd > budget_usd:
                    raise self._budget_stop(
                        f"{stage}: budget: this call may cost ~${usd:.4f} and ${spent_usd:.4f} is "
                        f"spent or in flight, over TOP5_BUDGET_USD={budget_usd:g}",
                        f"TOP5_BUDGET_USD={budget_usd:g}",
                    )
            self._reserved_tokens += tokens
            self._reserved_usd += usd

    def _release(self, model: str, prompt_tokens: int, max_tokens: int) -> None:
        with self._lock:
            self._reserved_tokens -= prompt_tokens + max_tokens
            self._reserved_usd -= 0.0 if self.offline else self._cost(model, prompt_tokens, max_tokens)

    def _budget_stop(self, message: str, setting: str) -> LLMError:
        self._flag(f"LLM budget reached ({setting}): later LLM calls were skipped")
        log.warning("%s", message)
        return LLMError(message)

    # --- cache -----------------------------------------------------------------------------
    def _cache_key(
        self, model: str, messages: list[dict], params: dict, schema: type[BaseModel] | None = None
    ) -> str:
        blob = json.dumps(
            {
                "backend": self._cache_identity,
                "model": model,
                "messages": messages,
                "params": params,
                "schema": schema.model_json_schema() if schema else None,
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self._cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> str | None:
        path = self._cache_path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))["content"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable LLM cache entry %s (%s)", path, type(exc).__name__)
            return None

    def _cache_put(self, key: str, content: str) -> None:
        path = self._cache_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"content": content}, handle, ensure_ascii=False)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a cache that cannot be written must not fail the run
            log.warning("could not write LLM cache entry %s: %s", path, exc)

    # --- helpers ---------------------------------------------------------------------------
    def _json_format(self, schema: type[BaseModel]) -> dict:
        if self.offline:  # llama.cpp turns the schema into a grammar: the tiny model stays on it
            return {"type": "json_object", "schema": schema.model_json_schema()}
        return {"type": "json_object"}

    def _redact(self, text: str) -> str:
        return redact(text, [self._secret])

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


def _with_json_hint(messages: list[dict]) -> list[dict]:
    # OpenAI's JSON mode refuses requests whose messages never mention JSON
    if any("json" in str(m.get("content", "")).lower() for m in messages):
        return list(messages)
    return [*messages, {"role": "system", "content": _JSON_HINT}]


def _headers(exc: BaseException | None):
    response = getattr(exc, "response", None)
    return response.headers if response is not None else None


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        return clip(str(message or body))
    return clip(str(body or "no details"))


def _attempts(retrying: Retrying) -> str:
    count = retrying.statistics.get("attempt_number", 1)
    return f"{count} attempt{'s' if count != 1 else ''}"


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
