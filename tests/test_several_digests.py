"""Two digests from one install: two flow runs in one process, each with its own profile, digests
folder (its own git clone) and history, keep their drafts, ledgers and branches apart."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from flows.config import Settings
from tests.conftest import REPO
from tests.test_pull_request import EDITOR, git, has_ref

pytestmark = pytest.mark.e2e

PROFILES = REPO / "prompts" / "profiles"


def _clone(where: Path) -> Path:
    """A digests repository on main with one commit, pushing to a bare remote next to it."""
    bare, work = where / "remote.git", where / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "digests").mkdir()
    (work / "digests" / ".gitkeep").write_text("")
    git(work, "add", ".")
    git(work, *EDITOR, "commit", "-q", "-m", "start")
    git(work, "remote", "add", "origin", bare.as_uri())
    git(work, "push", "-q", "origin", "main")
    return work


def _picks(folder: Path) -> list[str]:
    return json.loads((folder / "candidates.json").read_text())["picks"]


def test_two_digests_from_one_process_keep_apart(week_servers, tmp_path, prefect_harness, monkeypatch):
    from flows.weekly_digest import weekly_digest

    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "TOP5_DIGESTS_REPO", "TOP5_PROFILE", "TOP5_HISTORY_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    vision, language = _clone(tmp_path / "vision"), _clone(tmp_path / "language")

    weekly_digest(week="2026-W47", digests_dir=str(vision / "digests"), profile=str(PROFILES / "vision.toml"),
                  history_dir=str(tmp_path / "history-vision"))
    vision_week = vision / "digests" / "2026-W47"
    vision_picks = _picks(vision_week)
    # the language digest featured the vision digest's first pick last week: only its ledger knows
    (language / "digests" / "2026-W46").mkdir()
    (language / "digests" / "2026-W46" / "papers.md").write_text(
        f"## Paper 1\n\n[Paper](https://arxiv.org/abs/{vision_picks[0]})\n")
    weekly_digest(week="2026-W47", digests_dir=str(language / "digests"),
                  profile=str(PROFILES / "language-models.toml"), history_dir=str(tmp_path / "history-language"))
    language_week = language / "digests" / "2026-W47"

    assert (vision_week / "README.md").read_text().startswith("# Vision-WeeklyTop5\n")
    assert (language_week / "README.md").read_text().startswith("# LM-WeeklyTop5\n")
    assert vision_picks[0] not in _picks(language_week)
    assert json.loads((language_week / "run.json").read_text())["counts"]["featured_before"] == 1
    assert json.loads((vision_week / "run.json").read_text())["counts"]["featured_before"] == 0
    for repo, other in ((vision, language), (language, vision)):  # each branch in its own clone, its own week
        assert has_ref(repo, "digest/2026-W47")
        changed = git(repo, "diff", "--name-only", "main", "digest/2026-W47").splitlines()
        assert changed and all(re.match(r"digests/2026-W47/", path) for path in changed)
        assert not (other / "digests" / "2026-W47" / "README.md").read_text() == (
            repo / "digests" / "2026-W47" / "README.md").read_text()


def test_a_digest_s_settings_replace_the_install_s(tmp_path):
    settings = Settings().for_digest(profile="prompts/profiles/vision.toml", history_dir=str(tmp_path))
    assert settings.profile == Path("prompts/profiles/vision.toml") and settings.history_dir == tmp_path
    assert Settings().for_digest() == Settings()
