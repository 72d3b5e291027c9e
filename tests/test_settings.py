"""Settings: one model read from the environment and `.env`, every bad value named by its
variable and never echoed, and the README's table generated from the model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from flows.config import Settings, settings_table
from flows.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
KEY = "sk-proj-PastedIntoTheWrongPlace0123456789"
GITHUB_KEY = "ghp_PastedIntoTheWrongPlace0123456789abcd"
PLAIN = "s3cr3t-of-no-known-shape-0123456789"  # a key no redaction pattern knows


def test_environment_beats_dot_env_file_which_beats_the_defaults(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("TOP5_SHORTLIST_SIZE=12\nTOP5_RANK_MODEL=from-file\nGITHUB_REPOSITORY=editor/digests\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOP5_ENV_FILE", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.delenv("TOP5_SHORTLIST_SIZE", raising=False)
    monkeypatch.setenv("TOP5_RANK_MODEL", "from-env")

    settings = Settings.from_env()

    assert (settings.shortlist_size, settings.rank_model, settings.github_repository) == (12, "from-env",
                                                                                         "editor/digests")
    assert settings.summary_model == "gpt-4o-mini"  # neither: the default
    assert Settings().shortlist_size == 40  # built directly: defaults and given values only


def test_env_file_named_by_top5_env_file(tmp_path, monkeypatch):
    (tmp_path / "elsewhere.env").write_text("TOP5_STYLE=bookmarks\n")
    monkeypatch.delenv("TOP5_STYLE", raising=False)
    monkeypatch.setenv("TOP5_ENV_FILE", str(tmp_path / "elsewhere.env"))
    assert Settings.from_env().style == "bookmarks"


@pytest.mark.parametrize("variable, value, expected", [
    ("OPENAI_BASE_URL", KEY, "OPENAI_BASE_URL: must start with http:// or https://"),
    ("GITHUB_REPOSITORY", GITHUB_KEY, "GITHUB_REPOSITORY: must be owner/name"),
    ("GITHUB_API_URL", GITHUB_KEY, "GITHUB_API_URL: must start with http"),
    ("OPENAI_BASE_URL", PLAIN, "OPENAI_BASE_URL: must start with http:// or https://"),
    ("GITHUB_REPOSITORY", PLAIN, "GITHUB_REPOSITORY: must be owner/name"),
    ("TOP5_PRICES", PLAIN, "TOP5_PRICES: must be JSON"),
    ("TOP5_SHORTLIST_SIZE", PLAIN, "TOP5_SHORTLIST_SIZE: Input should be a valid integer"),
    ("TOP5_PRICES", KEY, "TOP5_PRICES: must be JSON"),
    ("TOP5_LLM_TIMEOUT", KEY, "TOP5_LLM_TIMEOUT: Input should be a valid number"),
    ("TOP5_POPULARITY", GITHUB_KEY, "TOP5_POPULARITY: Input should be a valid boolean"),
])
def test_a_secret_in_the_wrong_variable_is_named_never_echoed(variable, value, expected):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert expected in caught.value.message
    assert value not in caught.value.message and value[:12] not in caught.value.message
    assert value not in str(caught.value) and value not in repr(caught.value)


@pytest.mark.parametrize("value", ["editor/..", "./digests", "editor", "editor/digests/pulls"])
def test_a_repository_that_is_no_owner_and_name_is_refused(value):
    """GitHub names are never . or .. (they would climb out of /repos/ in every API call)."""
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY: must be owner/name"):
        Settings.from_env({"GITHUB_REPOSITORY": value})


@pytest.mark.parametrize("variable", ["TOP5_RANK_MODEL", "TOP5_SUMMARY_MODEL", "TOP5_STYLE", "TOP5_DIGESTS_REMOTE",
                                      "TOP5_DIGESTS_SUBDIR", "TOP5_CACHE_DIR", "TOP5_DASK_ADDRESS"])
@pytest.mark.parametrize("value", [KEY, GITHUB_KEY, "sk-LEAKEDkey123456"])
def test_a_secret_pasted_into_a_free_text_setting_is_refused_named_never_echoed(variable, value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert f"{variable}: looks like a secret" in caught.value.message
    assert value not in caught.value.message and value[:12] not in caught.value.message


def test_a_secret_as_a_model_of_the_price_list_is_refused_too():
    with pytest.raises(ConfigError, match="TOP5_PRICES: looks like a secret") as caught:
        Settings.from_env({"TOP5_PRICES": '{"sk-LEAKEDkey123456": [1, 2]}'})
    assert "LEAKED" not in caught.value.message
    assert Settings.from_env({"TOP5_RANK_MODEL": "gpt-4o", "TOP5_STYLE": "bookmarks"}).rank_model == "gpt-4o"


def test_a_secret_in_a_dot_env_file_is_not_echoed_either(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={KEY}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("TOP5_ENV_FILE", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_BASE_URL") as caught:
        Settings.from_env()
    assert KEY not in caught.value.message


def test_keys_stay_out_of_repr():
    shown = repr(Settings(openai_api_key=KEY, github_token=GITHUB_KEY))
    assert KEY not in shown and GITHUB_KEY not in shown


def test_url_passwords_and_queries_stay_out_of_repr_and_str():
    from flows.config import URL_FIELDS

    urls = {name: f"https://proxy-user:Pr0xyPass{i}@host{i}.example/api?key=QueryKey{i}"
            for i, name in enumerate(URL_FIELDS)}
    settings = Settings(**urls)
    for shown in (repr(settings), str(settings)):
        assert "Pr0xyPass" not in shown and "QueryKey" not in shown and "proxy-user" not in shown
        assert all(f"https://host{i}.example/api" in shown for i in range(len(URL_FIELDS)))
    assert settings.arxiv_api_url == urls["arxiv_api_url"]  # the run still sends them


def test_every_field_is_read_from_its_documented_variable():
    for name, field in Settings.model_fields.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", str(field.validation_alias)), name
        assert field.description, f"{name} has no description for the README"


def test_readme_settings_table_is_the_models():
    """The README shows the table `python -m flows.config` prints, row for row."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    printed = subprocess.run([sys.executable, "-m", "flows.config"], capture_output=True, text=True, check=True,
                             cwd=REPO).stdout
    assert printed == settings_table()
    assert printed in readme, "regenerate the README's settings table: python -m flows.config"


def test_an_env_file_named_by_top5_env_file_must_exist_the_default_may_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env here: the default is optional
    monkeypatch.delenv("TOP5_ENV_FILE", raising=False)
    assert Settings.from_env().style == "weekly"
    monkeypatch.setenv("TOP5_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError, match=r"^TOP5_ENV_FILE: no such file: .*missing\.env$"):
        Settings.from_env()


@pytest.mark.parametrize("variable, value, expected", [
    ("ARXIV_API_URL", "http://[::1/api", "ARXIV_API_URL: is not a valid URL"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:99999/v1", "OPENAI_BASE_URL: is not a valid URL"),
    ("ARXIV_PDF_URL", "http://user:Pa55\x01wordXyz@127.0.0.1:9/pdf", "ARXIV_PDF_URL: is not a valid URL"),
    ("ARXIV_DELAY_SECONDS", "inf", "ARXIV_DELAY_SECONDS: Input should be a finite number"),
    ("TOP5_BUDGET_USD", "nan", "TOP5_BUDGET_USD: Input should be a finite number"),
    ("TOP5_PRICES", '{"m": [NaN, 1]}', "TOP5_PRICES"),
    ("TOP5_PRICES", '{"gpt-4o-mini": [-100, -100]}', "TOP5_PRICES"),
])
def test_urls_ports_and_numbers_are_checked_when_settings_are_read(variable, value, expected):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({variable: value})
    assert expected in err.value.message and err.value.message.count("\n") == 0


def _from_dot_env(tmp_path, monkeypatch, data: bytes):
    (tmp_path / ".env").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    for name in ("TOP5_ENV_FILE", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_a_dot_env_in_another_encoding_is_one_line_naming_it(tmp_path, monkeypatch, encoding):
    with pytest.raises(ConfigError, match=r"\.env is not UTF-8"):
        _from_dot_env(tmp_path, monkeypatch, "TOP5_STYLE=caf\u00e9\n".encode(encoding))


def test_an_unterminated_quote_names_the_variable_instead_of_falling_back_silently(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as err:
        _from_dot_env(tmp_path, monkeypatch, b'TOP5_STYLE=weekly\nOPENAI_BASE_URL="http://127.0.0.1:8000/v1\n')
    assert "line 2" in err.value.message and "OPENAI_BASE_URL" in err.value.message
    assert "127.0.0.1" not in err.value.message


def test_a_misspelled_setting_is_warned_about_with_the_close_name(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TOP5_SHORTLIST_SZE", "12")
    monkeypatch.setenv("OPENAI_BASEURL", "http://127.0.0.1:1/v1")
    with caplog.at_level("WARNING", logger="flows.config"):
        _from_dot_env(tmp_path, monkeypatch, b"ARXIV_DELAY_SECOND=3\n")
    assert "TOP5_SHORTLIST_SZE is not a setting of this tool and is ignored; did you mean TOP5_SHORTLIST_SIZE?" in caplog.text
    assert "did you mean OPENAI_BASE_URL?" in caplog.text and "did you mean ARXIV_DELAY_SECONDS?" in caplog.text


def test_an_unpriced_model_is_flagged_and_refused_under_a_dollar_budget():
    from flows.errors import LLMError
    from flows.llm.budget import Budget, Prices, Usage

    flags = []
    budget = Budget(Usage(), Prices({}), tokens=None, usd=1.0, on_stop=flags.append)
    with pytest.raises(LLMError, match="has no price"):
        budget.reserve("rank", "my-local-model", 1000, 100)
    assert any("not in the price list" in f for f in flags)
    counted = Budget(Usage(), Prices({}), tokens=500, usd=None, on_stop=flags.append)
    with pytest.raises(LLMError, match="TOP5_BUDGET_TOKENS"):
        counted.reserve("rank", "my-local-model", 1000, 100)  # tokens are still counted
