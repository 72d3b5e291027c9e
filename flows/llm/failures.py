"""What a failed request means for the run, in one line that says what the backend did and what
to change: ConfigError (the backend or model is misconfigured: the run stops) or LLMError (this
answer is unusable: the caller flags its paper or batch and goes on)."""

from __future__ import annotations

from dataclasses import dataclass

from flows.errors import ConfigError, LLMError, Top5Error
from flows.llm.transport import BackendError, NoAnswer

MODEL_SETTING = {"rank": "TOP5_RANK_MODEL", "summarize": "TOP5_SUMMARY_MODEL"}


@dataclass(frozen=True)
class Context:
    """Where a request went: its stage, model, the backend's safe URL, and the tries it took."""

    stage: str
    model: str
    url: str
    offline: bool
    attempts: str  # "3 attempts"
    max_wait: float
    url_credentials: bool = False  # OPENAI_BASE_URL held user:password, sent in place of the key

    @property
    def setting(self) -> str:
        return "the embedded model" if self.offline else MODEL_SETTING[self.stage]


def explain(exc: BackendError | NoAnswer, where: Context) -> Top5Error:
    """The error to raise for `exc` (its detail not yet redacted: the caller redacts)."""
    if isinstance(exc, NoAnswer):
        return LLMError(_no_answer(exc, where))
    if exc.in_band:
        return LLMError(f"{where.stage}: the LLM backend at {where.url} answered HTTP 200 with an error inside "
                        f"(code {exc.status}) for model {where.model!r} ({where.attempts}): {exc.detail}; "
                        "its provider failed: try again later or choose another model with " + where.setting)
    config = _config_error(exc, where)
    if config is not None:
        return config
    waited = ""
    if exc.status == 429 and exc.wait is not None:
        waited = f", last Retry-After {exc.wait:g} s, TOP5_LLM_MAX_WAIT={where.max_wait:g} s"
    return LLMError(f"{where.stage}: HTTP {exc.status} from the LLM backend at {where.url} for model "
                    f"{where.model!r} ({where.attempts}{waited}): {exc.detail}")


def _no_answer(exc: NoAnswer, where: Context) -> str:
    head = f"{where.stage}: the LLM backend at {where.url}"
    if exc.kind == "timeout":
        return (f"{head} timed out: {exc.detail} ({where.attempts}); raise TOP5_LLM_TIMEOUT, or check "
                "OPENAI_BASE_URL")
    if exc.kind == "stopped":
        return f"{where.stage}: no answer used from the LLM backend at {where.url}: {exc.detail}"
    if exc.kind == "connect":
        return f"{head} {exc.detail} ({where.attempts}); check OPENAI_BASE_URL and TOP5_LLM_TIMEOUT"
    if exc.kind == "too_large":
        return (f"{head} sent an answer far larger than max_tokens allows ({exc.detail}): refused; "
                f"check the model set by {where.setting}")
    if exc.kind == "html":
        return (f"{head} answered with a web page, not a chat completion ({exc.detail}); OPENAI_BASE_URL "
                "must point at the OpenAI-compatible API (it usually ends in /v1), not at a web UI or a "
                "login page of a proxy")
    return f"{head} answered with something that is no chat completion ({exc.detail}); check OPENAI_BASE_URL"


def _config_error(exc: BackendError, where: Context) -> ConfigError | None:
    status, detail, url, model = exc.status, exc.detail, where.url, where.model
    if status == 401 and where.url_credentials:
        return ConfigError(f"the LLM backend at {url} rejected the user:password in OPENAI_BASE_URL (HTTP 401: "
                           f"{detail}), sent in place of OPENAI_API_KEY; correct them, or remove them from the URL "
                           "to send the key")
    if status == 401:
        return ConfigError(f"the LLM backend at {url} rejected the API key (HTTP 401: {detail}); set "
                           "OPENAI_API_KEY to a valid key, or OPENAI_BASE_URL to the right server")
    if status == 403:
        return ConfigError(f"the LLM backend at {url} refused access to model {model!r} (HTTP 403: {detail}); "
                           f"check that OPENAI_API_KEY may use it, or choose another model with {where.setting}")
    if status == 404:
        return ConfigError(f"model {model!r} or its endpoint was not found at {url} (HTTP 404: {detail}); "
                           f"check {where.setting} and OPENAI_BASE_URL")
    if status == 429 and exc.code == "insufficient_quota":
        return ConfigError(f"the account behind OPENAI_API_KEY has no quota left at {url} (HTTP 429: {detail})")
    if status == 400 and "context" not in detail.lower():
        return ConfigError(f"the LLM backend at {url} rejected the request for model {model!r} "
                           f"(HTTP 400: {detail}); check {where.setting} and OPENAI_BASE_URL")
    return None


def rejects_json_mode(exc: BaseException) -> bool:
    """Whether an HTTP 400 says the backend does not take the `response_format` we sent (LM
    Studio: "'response_format.type' must be 'json_schema' or 'text'"; others name json_object or
    structured output)."""
    if not isinstance(exc, BackendError) or exc.status not in (400, 422):
        return False
    detail = exc.detail.lower()
    return any(word in detail for word in ("response_format", "json_object", "json_schema", "json mode",
                                           "structured output", "guided_json"))
