"""Shared test setup: a private Prefect home, the ../shared fixtures, one Prefect harness."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports Prefect (flows/__init__ only sets defaults): a throwaway home.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="top5-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The project's Prefect profile names `make server`'s address; tests never talk to a server they
# did not start (a temporary server, or the harness's).
os.environ.setdefault("PREFECT_PROFILE", "ephemeral")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
WEEK = FIXTURES / "week"


def require_shared(path: Path = FIXTURES) -> Path:
    """The shared third-party fixtures, or a skip that says why (CI always has them)."""
    if not path.exists():
        pytest.skip(f"{path} not found: these tests read the shared third-party fixtures "
                    "from ../shared next to the repository (never copied into it)")
    return path


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness  # lazy: starts a server (~15 s)

    from flows.prefect_setup import EPHEMERAL_STARTUP_TIMEOUT

    with prefect_test_harness(server_startup_timeout=int(EPHEMERAL_STARTUP_TIMEOUT)):  # a busy machine is slow
        yield


@pytest.fixture
def settings_env(monkeypatch, tmp_path):
    """Environment for a run against local servers: no real arXiv, no real LLM, no delay."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ARXIV_API_URL", "ARXIV_PDF_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.01")
    monkeypatch.setenv("TOP5_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TOP5_LLM_MAX_WAIT", "2")
    monkeypatch.setenv("TOP5_POPULARITY", "off")  # tests that want the Hugging Face signal serve it
    return monkeypatch


@pytest.fixture
def week_servers(settings_env):
    """The shared arXiv week served like arXiv, and a scripted OpenAI-compatible server, both on
    127.0.0.1, with the run's environment pointing at them."""
    from tests import scripted_llm
    from tests.arxiv_server import ArxivServer
    from tests.openai_server import OpenAIServer

    require_shared(WEEK)
    with ArxivServer((WEEK / "api-week.xml").read_bytes(), WEEK / "pdf") as arxiv, \
            OpenAIServer(scripted_llm.reply) as llm:
        settings_env.setenv("ARXIV_API_URL", arxiv.api_url)
        settings_env.setenv("ARXIV_PDF_URL", arxiv.pdf_url)
        settings_env.setenv("OPENAI_BASE_URL", llm.base_url)
        settings_env.setenv("OPENAI_API_KEY", "sk-test-NEVER-LOGGED")
        yield arxiv, llm
