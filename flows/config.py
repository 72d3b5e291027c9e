"""Settings: every knob of a run in one validated model, read from the environment and `.env`.

Each field is named after its environment variable (`validation_alias`) and says what it
changes (`description`); the README's settings table is generated from them
(`python -m flows.config`) and a test keeps the two in step. Values come, strongest first,
from the process environment, then a `.env` file in the working folder (or TOP5_ENV_FILE).
Building `Settings(...)` directly uses only the values given and the defaults (tests do).

A bad value is a ConfigError that names the variable and never echoes the value: a secret
pasted into the wrong variable must not reach a terminal, a log or Prefect's database.
"""

from __future__ import annotations

import difflib
import io
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field, NonNegativeFloat, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from flows.errors import ConfigError, UnreadableFile
from flows.files import parse_json
from flows.http import safe_url, url_secrets
from flows.text import redact

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROMPTS_DIR = PROJECT_DIR / "prompts"
DEFAULT_CATEGORIES = ("cs.AI", "cs.LG", "cs.CL", "cs.CV")
ENV_FILE_VARIABLE = "TOP5_ENV_FILE"
DEFAULT_ENV_FILE = ".env"
SECRET_VARIABLES = ("OPENAI_API_KEY", "GITHUB_TOKEN")
URL_FIELDS = ("arxiv_api_url", "arxiv_pdf_url", "openai_base_url", "hf_papers_url", "github_api_url")
"""The settings that are http(s) URLs: each may carry a user:password@."""
_READ = {"case_sensitive": True, "env_ignore_empty": True}  # an empty variable means "the default"


def _env(name: str, default, description: str, **constraints):
    """A field read from environment variable `name`; `description` is its README entry."""
    return Field(default, validation_alias=name, description=description, **constraints)


class Settings(BaseSettings):
    """Every knob of a run. Secrets are kept out of repr() so they never reach a log."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", allow_inf_nan=False)  # inf/NaN: never a setting

    # arXiv
    arxiv_api_url: str = _env("ARXIV_API_URL", "https://export.arxiv.org/api/query", "arXiv's search API")
    arxiv_pdf_url: str = _env("ARXIV_PDF_URL", "https://arxiv.org/pdf", "where PDFs are downloaded from")
    arxiv_delay_seconds: float = _env("ARXIV_DELAY_SECONDS", 3.0, "seconds between two arXiv requests "
                                      "(arXiv's terms: one every 3 s)", ge=0)
    arxiv_deadline: float = _env("TOP5_ARXIV_DEADLINE", 180.0, "wall-clock seconds one arXiv answer (an API "
                                 "page or a PDF) may take, however the server sends it", gt=0)
    # the LLM
    openai_api_key: str | None = Field(None, validation_alias="OPENAI_API_KEY", repr=False,
                                       description="API key of the OpenAI-compatible server; with neither "
                                       "this nor `OPENAI_BASE_URL` the embedded offline model drafts")
    openai_base_url: str | None = _env("OPENAI_BASE_URL", None, "an OpenAI-compatible server (Ollama, vLLM, "
                                       "LM Studio, a gateway); unset: OpenAI")
    rank_model: str = _env("TOP5_RANK_MODEL", "gpt-4o-mini", "model that ranks the shortlist")
    summary_model: str = _env("TOP5_SUMMARY_MODEL", "gpt-4o-mini", "model that writes the summaries")
    rank_temperature: float | None = _env("TOP5_RANK_TEMPERATURE", None, "temperature of the ranking "
                                          "requests; unset: the model's default", ge=0, le=2)
    summary_temperature: float | None = _env("TOP5_SUMMARY_TEMPERATURE", None, "temperature of the summary "
                                             "requests; unset: the model's default (the embedded "
                                             "model's: 0.3)", ge=0, le=2)
    llm_timeout: float = _env("TOP5_LLM_TIMEOUT", 120.0, "seconds one LLM request may take", gt=0)
    llm_max_wait: float = _env("TOP5_LLM_MAX_WAIT", 120.0, "seconds all retries of one request may "
                               "spend waiting", ge=0)
    llm_max_attempts: int = _env("TOP5_LLM_MAX_ATTEMPTS", 5, "tries of one LLM request", ge=1)
    llm_backoff: float = _env("TOP5_LLM_BACKOFF", 1.0, "first wait between tries (s), doubled each "
                              "time, at most 30 s", ge=0)
    llm_concurrency: int = _env("TOP5_LLM_CONCURRENCY", 4, "LLM requests in flight at once", ge=1)
    llm_json_mode: Literal["auto", "json_object", "json_schema", "prompt"] = _env(
        "TOP5_LLM_JSON_MODE", "auto", "how JSON answers are asked for: `auto` tries `json_object`, then "
        "`json_schema`, then the prompt alone, and remembers what the backend accepts")
    budget_tokens: int | None = _env("TOP5_BUDGET_TOKENS", None, "stop the run's LLM use after this many "
                                     "tokens; unset: no limit", gt=0)
    budget_usd: float | None = _env("TOP5_BUDGET_USD", None, "stop the run's LLM use after this many "
                                    "US dollars; unset: no limit", gt=0)
    prices: Annotated[dict[str, tuple[NonNegativeFloat, NonNegativeFloat]], NoDecode] = _env(
        "TOP5_PRICES", {}, 'JSON `{"model": [USD per 1M prompt tokens, per 1M completion tokens]}`, '
        "added to the built-in price list")
    offline_threads: int | None = _env("TOP5_OFFLINE_THREADS", None, "CPU threads of the embedded model; "
                                       "unset: half the cores, at most 4", ge=1)
    offline_n_ctx: int = _env("TOP5_OFFLINE_N_CTX", 8192, "context window (tokens) of the embedded model",
                              ge=512)
    # PDFs, ranking, style
    cache_dir: Path = _env("TOP5_CACHE_DIR", PROJECT_DIR / ".cache", "PDFs, extracted text, LLM answers, "
                           "embeddings, word counts and the learned taste kept between runs, and the locks that keep two "
                           "runs off one week (runs of one digests folder share it)")
    pdf_timeout: float = _env("TOP5_PDF_TIMEOUT", 60.0, "seconds to download and read one PDF", gt=0)
    pdf_max_pages: int = _env("TOP5_PDF_MAX_PAGES", 40, "pages read from each PDF", gt=0)
    pdf_max_bytes: int = _env("TOP5_PDF_MAX_BYTES", 50_000_000, "largest PDF downloaded (bytes)", gt=0)
    shortlist_size: int = _env("TOP5_SHORTLIST_SIZE", 40, "papers the LLM ranks by abstract after the title screen",
                               gt=0)
    screen_size: int = _env("TOP5_SCREEN_SIZE", 400, "papers whose titles the LLM screens before the "
                            "shortlist (the top of the no-LLM first stage)", gt=0)
    profile: Path | None = _env("TOP5_PROFILE", None, "the editor's profile (TOML: what the digest covers "
                                "in plain words, topics, exclusions); unset: `prompts/profile.toml`")
    history_dir: Path = _env("TOP5_HISTORY_DIR", PROJECT_DIR / "history", "the editor's past weeks from "
                             "`top5 taste import`: listings and picks the taste learns from")
    style: str = _env("TOP5_STYLE", "weekly", "a folder of `prompts/styles/`: page templates, style guide "
                      "and exemplar")
    hf_papers_url: str = _env("HF_PAPERS_URL", "https://huggingface.co/api/daily_papers",
                              "Hugging Face daily papers (the popularity signal)")
    popularity: bool = _env("TOP5_POPULARITY", True, "`off`: rank without the Hugging Face signal")
    # the pull request
    github_token: str | None = Field(None, validation_alias="GITHUB_TOKEN", repr=False,
                                     description="token that pushes the draft branch and opens the pull "
                                     "request (Pull requests and Contents: read and write); unset: a local "
                                     "branch only")
    github_repository: str | None = _env("GITHUB_REPOSITORY", None, "`owner/name` of the digests repository "
                                         "on GitHub (needed with a token)")
    github_api_url: str = _env("GITHUB_API_URL", "https://api.github.com", "GitHub's REST API "
                               "(GitHub Enterprise: `https://HOST/api/v3`)")
    digests_repo: Path | None = _env("TOP5_DIGESTS_REPO", None, "the git clone the drafts are committed "
                                     "in; unset: the repository holding the digests folder")
    digests_remote: str = _env("TOP5_DIGESTS_REMOTE", "origin", "git remote the draft branch is pushed to")
    digests_base: str = _env("TOP5_DIGESTS_BASE", "main", "branch the editor merges the digests into")
    digests_subdir: str = _env("TOP5_DIGESTS_SUBDIR", "digests", "folder of the digests inside "
                               "`TOP5_DIGESTS_REPO`, when the week is written outside it")
    # backfills
    dask_address: str | None = _env("TOP5_DASK_ADDRESS", None, "a Dask scheduler for `top5 backfill "
                                    "--runner dask` (`tcp://HOST:8786`); unset: a local cluster")

    def __repr_args__(self):
        """repr() and str() show a URL setting as safe_url does: no user:password, no query."""
        for name, value in super().__repr_args__():
            yield name, safe_url(value) if name in URL_FIELDS and value else value

    @field_validator(*URL_FIELDS)
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")  # never the value: it may be a key
        if value is not None:
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises for a port out of 0-65535
            except ValueError:
                raise ValueError("is not a valid URL (a bracket, or a port outside 1-65535)") from None
            if not parts.hostname or parts.port == 0:
                raise ValueError("has no host (or port 0)")
            try:
                httpx.URL(value)
            except httpx.InvalidURL:
                raise ValueError("is not a valid URL (a control or other non-printable character, "
                                 "or a character not allowed where it is)") from None  # httpx would refuse it later
        return value.rstrip("/") if value else value

    @field_validator("github_repository")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        parts = (value or "").split("/")
        if value is not None and (len(parts) != 2 or not all(
                part not in ("", ".", "..") and all(c.isalnum() or c in "_.-" for c in part) for part in parts)):
            raise ValueError("must be owner/name, as in github.com/owner/name")
        return value

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_json(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_json(value, "TOP5_PRICES")
            except UnreadableFile:  # not JSON, or nested too deeply; the value is never echoed
                raise ValueError('must be JSON like {"gpt-4o-mini": [0.15, 0.60]} (USD per 1M prompt, '
                                 "completion tokens)") from None
        return value

    @field_validator("*")
    @classmethod
    def _not_a_secret(cls, value: object, info: ValidationInfo) -> object:
        """Free-text settings (model names, style, paths, URLs, price-list models) end up in run.json,
        logs and the pull request: one shaped like a key is refused (runs after the fields' own checks)."""
        if cls.model_fields[info.field_name].repr is False:
            return value  # the secrets themselves
        texts = [str(v) for v in (value if isinstance(value, dict) else [value]) if isinstance(v, (str, Path))]
        if any(redact(text) != text for text in texts):
            raise ValueError("looks like a secret (an API key or token); keys go in OPENAI_API_KEY or "
                             "GITHUB_TOKEN only")  # never the value
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment is read by from_env() only

    def for_digest(self, *, profile: str | None = None, history_dir: str | None = None) -> Settings:
        """These settings for one digest of several drafted from one install: its own profile file
        and history folder (flow parameters) replace TOP5_PROFILE and TOP5_HISTORY_DIR; None keeps them."""
        changes = {name: Path(value) for name, value in (("profile", profile), ("history_dir", history_dir)) if value}
        return self.model_copy(update=changes) if changes else self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, env_file: Path | str | None = None) -> Settings:
        """The settings from `env` (default: the process environment, then the `.env` file named
        by TOP5_ENV_FILE or in the working folder). Raises ConfigError naming each bad variable, and
        when a file named by TOP5_ENV_FILE (or `env_file`) does not exist: only the default may be missing."""
        if env is None:
            env_file = env_file or os.environ.get(ENV_FILE_VARIABLE) or None
            if env_file is not None and not Path(env_file).is_file():
                raise ConfigError(f"{ENV_FILE_VARIABLE}: no such file: {redact(str(env_file))}")
            env_file = env_file or DEFAULT_ENV_FILE
            _check_env_file(Path(env_file))
            _warn_unknown(os.environ)
            sources = (EnvSettingsSource(cls, **_READ), DotEnvSettingsSource(cls, env_file=env_file, **_READ))
        else:
            sources = (_GivenEnvironment(cls, env),)
        try:
            return cls(_build_sources=(sources, {}))
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {_problems(exc, env)}") from None
        except SettingsError as exc:
            raise ConfigError(f"invalid settings: {redact(str(exc))}") from None

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)


def configured_secrets(settings: Settings, *urls: str | None) -> list[str]:
    """The secret values a run knows, for redaction: fields kept out of repr (API keys), the
    tokens other stages read from the environment (GITHUB_TOKEN, HF_TOKEN), and the password of
    each configured URL (the URL settings and PREFECT_API_URL) with its Basic auth form
    (flows.http.url_secrets), and those of `urls` (addresses given apart from the settings).
    Values shorter than 8 characters are left out: replacing them
    everywhere would mangle ordinary text."""
    values = [getattr(settings, name) for name, field in type(settings).model_fields.items() if field.repr is False]
    values += [os.environ.get(name) for name in (*SECRET_VARIABLES, "GH_TOKEN", "HF_TOKEN")]
    for url in [*(getattr(settings, name) for name in URL_FIELDS), os.environ.get("PREFECT_API_URL"), *urls]:
        values += url_secrets(url)
    return list(dict.fromkeys(v for v in values if isinstance(v, str) and len(v) >= 8))


log = logging.getLogger(__name__)
_OURS = ("TOP5_", "OPENAI_", "ARXIV_")
_NOT_SETTINGS = {ENV_FILE_VARIABLE}  # read before the settings are


def _warn_unknown(env: Mapping[str, str]) -> list[str]:
    """Warn once per variable named like ours (TOP5_, OPENAI_, ARXIV_) that no setting reads, with
    the closest known name (difflib): a misspelled setting must not be ignored silently."""
    known = [str(f.validation_alias) for f in Settings.model_fields.values()]
    lines = []
    for name in sorted(env):
        if name.startswith(_OURS) and name not in known and name not in _NOT_SETTINGS:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
            lines.append(f"{name} is not a setting of this tool and is ignored"
                         + (f"; did you mean {close[0]}?" if close else ""))
    for line in lines:
        log.warning("%s", line)
    return lines


def _check_env_file(path: Path) -> None:
    """ConfigError naming `path` (and the variable, never its value) when the .env file is not
    UTF-8 or holds a line python-dotenv cannot parse (an unterminated quote), which it would
    otherwise skip silently; its unknown names are warned about like the environment's."""
    try:
        data = path.read_bytes()
    except OSError:
        return  # no .env: only the environment
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 (saved as UTF-16 or Windows-1252?): save it as UTF-8") from None
    from dotenv.parser import parse_stream

    names = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            name = binding.original.string.split("=", 1)[0].strip().removeprefix("export ").strip()
            raise ConfigError(f"{path} line {line}: cannot read {name[:40]!r} (an unterminated quote?): "
                              "the setting would be ignored")
        if binding.key:
            names[binding.key] = ""
    _warn_unknown(names)


class _GivenEnvironment(EnvSettingsSource):
    """An environment given as a mapping instead of os.environ (tests, checks of a worker's env)."""

    def __init__(self, settings_cls, env: Mapping[str, str]):
        self._given = {name: value for name, value in env.items() if value}
        super().__init__(settings_cls, **_READ)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._given


def _problems(exc: ValidationError, env: Mapping[str, str] | None) -> str:
    """'VARIABLE: what is wrong; ...' without any value (our validators' messages hold none,
    pydantic's say what was expected). Known secrets are redacted in case one slipped in."""
    secrets = [v for k, v in (os.environ if env is None else env).items() if k in SECRET_VARIABLES]
    return redact("; ".join(f"{_variable(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                            for e in exc.errors(include_input=False, include_url=False)), secrets)


def _variable(loc: tuple) -> str:
    field = Settings.model_fields.get(str(loc[0])) if loc else None
    return str(field.validation_alias) if field else str(loc[0] if loc else "?")


def settings_table() -> str:
    """The README's settings table (markdown): variable, default, what it changes."""
    rows = ["| Variable | Default | What it changes |", "|---|---|---|"]
    for field in Settings.model_fields.values():
        default = field.default
        if isinstance(default, Path) and default.is_relative_to(PROJECT_DIR):
            default = default.relative_to(PROJECT_DIR).as_posix()
        shown = "unset" if default is None or default == {} else f"`{default}`"
        rows.append(f"| `{field.validation_alias}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(settings_table())
