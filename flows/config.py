"""Settings read from the environment, validated once at the start of a run."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from flows.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROMPTS_DIR = PROJECT_DIR / "prompts"
DEFAULT_CATEGORIES = ("cs.AI", "cs.LG", "cs.CL", "cs.CV")

# environment variable -> field name
_ENV = {
    "ARXIV_API_URL": "arxiv_api_url",
    "ARXIV_PDF_URL": "arxiv_pdf_url",
    "ARXIV_DELAY_SECONDS": "arxiv_delay_seconds",
    "OPENAI_API_KEY": "openai_api_key",
    "OPENAI_BASE_URL": "openai_base_url",
    "TOP5_RANK_MODEL": "rank_model",
    "TOP5_SUMMARY_MODEL": "summary_model",
    "TOP5_RANK_TEMPERATURE": "rank_temperature",
    "TOP5_SUMMARY_TEMPERATURE": "summary_temperature",
    "TOP5_LLM_TIMEOUT": "llm_timeout",
    "TOP5_LLM_MAX_WAIT": "llm_max_wait",
    "TOP5_LLM_MAX_ATTEMPTS": "llm_max_attempts",
    "TOP5_LLM_BACKOFF": "llm_backoff",
    "TOP5_LLM_CONCURRENCY": "llm_concurrency",
    "TOP5_LLM_JSON_MODE": "llm_json_mode",
    "TOP5_BUDGET_TOKENS": "budget_tokens",
    "TOP5_BUDGET_USD": "budget_usd",
    "TOP5_PRICES": "prices",
    "TOP5_OFFLINE_THREADS": "offline_threads",
    "TOP5_OFFLINE_N_CTX": "offline_n_ctx",
    "TOP5_CACHE_DIR": "cache_dir",
    "TOP5_PDF_TIMEOUT": "pdf_timeout",
    "TOP5_PDF_MAX_PAGES": "pdf_max_pages",
    "TOP5_PDF_MAX_BYTES": "pdf_max_bytes",
    "TOP5_SHORTLIST_SIZE": "shortlist_size",
    "TOP5_STYLE": "style",
    "HF_PAPERS_URL": "hf_papers_url",
    "TOP5_POPULARITY": "popularity",
}


def from_env(model: type[BaseModel], names: Mapping[str, str], env: Mapping[str, str] | None, what: str):
    """`model` built from the environment variables in `names` (variable -> field); a bad value
    is a ConfigError that names the variable, never the value (it may be a secret)."""
    env = os.environ if env is None else env
    values = {field: env[name] for name, field in names.items() if env.get(name)}
    try:
        return model(**values)
    except ValidationError as exc:
        variable = {field: name for name, field in names.items()}
        problems = "; ".join(f"{variable.get(str(e['loc'][0]), e['loc'][0])}: {e['msg'].removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise ConfigError(f"{what}: {problems}") from None


class Settings(BaseModel):
    """Every knob of a run. Secrets are kept out of repr() so they never reach a log."""

    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_pdf_url: str = "https://arxiv.org/pdf"
    arxiv_delay_seconds: float = Field(3.0, ge=0)  # arXiv's terms: one request every 3 s
    openai_api_key: str | None = Field(None, repr=False)
    openai_base_url: str | None = None
    rank_model: str = "gpt-4o-mini"
    summary_model: str = "gpt-4o-mini"
    # None sends no temperature: the model's default (some models accept no other value)
    rank_temperature: float | None = Field(None, ge=0, le=2)
    summary_temperature: float | None = Field(None, ge=0, le=2)
    llm_timeout: float = Field(120.0, gt=0)
    llm_max_wait: float = Field(120.0, ge=0)  # total time tenacity may spend waiting between tries
    llm_max_attempts: int = Field(5, ge=1)
    llm_backoff: float = Field(1.0, ge=0)  # first wait between tries (s), doubled each time, max 30 s
    llm_concurrency: int = Field(4, ge=1)
    # auto: json_object, then json_schema, then prompt-only, as the backend accepts (flows/llm/formats.py)
    llm_json_mode: Literal["auto", "json_object", "json_schema", "prompt"] = "auto"
    budget_tokens: int | None = Field(None, gt=0)
    budget_usd: float | None = Field(None, gt=0)
    # model -> (USD per 1M prompt tokens, USD per 1M completion tokens); adds to llm.DEFAULT_PRICES
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)
    offline_threads: int | None = Field(None, ge=1)  # None: half the cores, at most 4
    offline_n_ctx: int = Field(8192, ge=512)
    cache_dir: Path = PROJECT_DIR / ".cache"
    pdf_timeout: float = Field(60.0, gt=0)
    pdf_max_pages: int = Field(40, gt=0)
    pdf_max_bytes: int = Field(50_000_000, gt=0)
    shortlist_size: int = Field(40, gt=0)
    style: str = "weekly"  # a folder of prompts/styles/: templates, style guide and exemplar
    hf_papers_url: str = "https://huggingface.co/api/daily_papers"
    popularity: bool = True  # TOP5_POPULARITY=off runs without the Hugging Face signal

    @field_validator("arxiv_api_url", "arxiv_pdf_url", "openai_base_url", "hf_papers_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_json(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    'must be JSON like {"gpt-4o-mini": [0.15, 0.60]} (USD per 1M prompt, '
                    f"completion tokens): {exc}"
                ) from None
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return from_env(cls, _ENV, env, "invalid settings")

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)
