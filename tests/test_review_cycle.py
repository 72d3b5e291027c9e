"""The editor's review cycle end to end: a run opens a pull request, `top5 swap` replaces a
pick and updates it, and an editor's commit on the branch stops the next run cleanly.

Real git (a clone and a bare remote on disk), the GitHub API through tests/github_server.py,
arXiv and the LLM through the local servers, the real Prefect flow.
"""

from __future__ import annotations

import json
import re

import pytest

from flows.cli import main as top5
from tests.github_server import GitHubServer
from tests.test_pipeline_e2e import CATEGORIES
from tests.test_pull_request import EDITOR, REPOSITORY, TOKEN, git, repos  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
WEEK_ARGS = dict(start="2026-11-16", end="2026-11-22", categories=CATEGORIES)


def _sections(readme: str) -> list[str]:
    return re.split(r"^(?=## Paper \d)", readme, flags=re.M)[1:]


def test_pull_request_swap_and_editor_commit(week_servers, repos, prefect_harness, monkeypatch):  # noqa: F811
    from flows.errors import DraftError
    from flows.weekly_digest import weekly_digest

    arxiv, llm = week_servers
    work, bare = repos
    with GitHubServer(TOKEN, REPOSITORY, bare=bare) as github:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        monkeypatch.setenv("GITHUB_API_URL", github.url)

        draft = weekly_digest(**WEEK_ARGS, digests_dir=str(work / "digests"))
        folder = work / "digests" / "2026-W47"
        assert len(github.calls("POST")) == 1
        assert git(bare, "show", "digest/2026-W47:digests/2026-W47/README.md") == open(draft).read().rstrip("\n")
        before = (folder / "README.md").read_text()
        record = json.loads((folder / "candidates.json").read_text())
        runner_up = record["runners_up"][0]["arxiv_id"]
        asked = len(llm.requests)

        assert top5(["swap", "2026-W47", "2", "1", "--digests-dir", str(work / "digests")]) == 0

        after = (folder / "README.md").read_text()
        old, new = _sections(before), _sections(after)
        assert [o == n for o, n in zip(old, new)] == [True, False, True, True, True]
        assert f"abs/{runner_up})" in new[1] and f"abs/{record['picks'][1]})" not in after
        papers = (folder / "papers.md").read_text()
        assert re.findall(r"abs/([^)]+)\)", papers)[1] == runner_up
        assert len(llm.requests) - asked == 1  # only the new section was written
        swapped = json.loads((folder / "candidates.json").read_text())
        assert swapped["picks"][1] == runner_up and swapped["runners_up"][0]["arxiv_id"] == record["picks"][1]
        assert len(github.calls("POST")) == 1 and len(github.calls("PATCH")) == 1  # the same PR, updated
        assert git(bare, "show", "digest/2026-W47:digests/2026-W47/README.md") == after.rstrip("\n")
        # the week's lock is no file of the editor's clone, nor of the pull request
        assert not list(work.rglob("*.lock")) and ".lock" not in git(work, "status", "--porcelain", "--ignored")
        assert ".lock" not in git(bare, "ls-tree", "-r", "--name-only", "digest/2026-W47")

        # drafting the week again keeps the editor's swap, and costs nothing: all is cached
        asked = len(llm.requests)
        weekly_digest(**WEEK_ARGS, digests_dir=str(work / "digests"))
        assert (folder / "README.md").read_text() == after and len(llm.requests) == asked
        assert json.loads((folder / "candidates.json").read_text())["picks"] == swapped["picks"]

        # the editor pushes a commit of their own to the draft branch
        other = work.parent / "editor-clone"
        git(work.parent, "clone", "-q", "-b", "digest/2026-W47", bare.as_uri(), str(other))
        (other / "digests" / "2026-W47" / "README.md").write_text(after.replace("## Paper 1:", "## Paper 1: Mine,", 1))
        git(other, *EDITOR, "commit", "-q", "-am", "my edits")
        git(other, "push", "-q", "origin", "digest/2026-W47")
        tip = git(bare, "rev-parse", "digest/2026-W47")

        asked, queried = len(llm.requests), len(arxiv.api_requests())
        with pytest.raises(DraftError, match="digest/2026-W47"):
            weekly_digest(**WEEK_ARGS, digests_dir=str(work / "digests"))
        assert git(bare, "rev-parse", "digest/2026-W47") == tip  # nothing pushed over the editor
        assert (folder / "README.md").read_text() == after  # nothing written
        assert (len(llm.requests), len(arxiv.api_requests())) == (asked, queried)  # nothing spent
        assert len(github.calls("POST")) == 1
