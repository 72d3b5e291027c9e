"""No secret in anything a run writes: a model that echoes the API key and the GitHub token in
every answer, a whole run with a pull request, then every file the run wrote, the git history
pushed, the pull request's body, Prefect's database and the log are scanned for both secrets.

The scan is the figure issue 17 asks for (secrets found: goal 0); `secret_hits` prints where."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import scripted_llm
from tests.conftest import WEEK, require_shared
from tests.github_server import GitHubServer
from tests.openai_server import OpenAIServer
from tests.test_pull_request import REPOSITORY, TOKEN, repos  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
API_KEY = "sk-or-v1-EchoedKey0123456789abcdef"
SECRETS = (API_KEY, TOKEN)


def _echoing(request: dict):
    """The scripted model, leaking both secrets into every field it writes."""
    answer = json.loads(scripted_llm.reply(request))
    leak = f" (debug: key {API_KEY}, token {TOKEN})"
    if "rankings" in answer:
        answer["rankings"] = [{**r, "reason": r["reason"] + leak} for r in answer["rankings"]]
    else:
        answer = {k: v + leak if isinstance(v, str) and k != "name" else v for k, v in answer.items()}
    return json.dumps(answer)


def secret_hits(root: Path) -> list[str]:
    """Every file under `root` (bytes, so databases and caches count) that holds a secret."""
    return [f"{path} holds {secret[:6]}…" for path in sorted(root.rglob("*")) if path.is_file()
            for secret in SECRETS if secret.encode() in path.read_bytes()]


def test_an_echoing_model_leaks_no_secret_anywhere(settings_env, repos, prefect_harness, tmp_path,  # noqa: F811
                                                   monkeypatch, caplog):
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    from flows.weekly_digest import weekly_digest
    from tests.arxiv_server import ArxivServer

    require_shared(WEEK)
    work, bare = repos
    with ArxivServer((WEEK / "api-week.xml").read_bytes(), WEEK / "pdf") as arxiv, \
            OpenAIServer(_echoing) as llm, GitHubServer(TOKEN, REPOSITORY, bare=bare) as github:
        for name, value in dict(ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url, OPENAI_BASE_URL=llm.base_url,
                                OPENAI_API_KEY=API_KEY, GITHUB_TOKEN=TOKEN, GITHUB_REPOSITORY=REPOSITORY,
                                GITHUB_API_URL=github.url).items():
            monkeypatch.setenv(name, value)
        weekly_digest(start="2026-11-16", end="2026-11-22", categories=["cs.CL", "cs.LG"],
                      digests_dir=str(work / "digests"))
        bodies = [call.body.get("body", "") for call in github.calls("POST") + github.calls("PATCH")]

    assert bodies and any("reason" in b.lower() or "R1" in b for b in bodies)  # the PR was opened
    history = subprocess.run(["git", "log", "-p", "--all"], cwd=bare, capture_output=True, text=True).stdout
    assert "## Paper 1" in history  # the draft was pushed
    database = Path(PREFECT_API_DATABASE_CONNECTION_URL.value().split("///", 1)[-1])
    hits = secret_hits(tmp_path) + secret_hits(database.parent)
    hits += [f"pull request body holds {s[:6]}…" for b in bodies for s in SECRETS if s in b]
    hits += [f"pushed history holds {s[:6]}…" for s in SECRETS if s in history]
    hits += [f"the log holds {s[:6]}…" for s in SECRETS if s in caplog.text]
    assert hits == []
    readme = (work / "digests" / "2026-W47" / "README.md").read_text()
    assert r"debug: key \*\*\*" in readme  # the answers were used, with the secrets redacted (escaped *)
