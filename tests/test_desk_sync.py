"""The editor's copy and the tool's copy: after the editor merges a draft on the remote, the
tool's digests clone is fast-forwarded before a command reads the week, and an edit made on the
tool machine is never lost. Real git repositories: a bare remote and clones in tmp_path."""

from __future__ import annotations

import json

from flows.cli import main as top5
from flows.config import Settings
from flows.files import sha256_bytes
from flows.pull_request import open_pull_request, sync
from tests.test_pull_request import EDITOR, PICKS, WEEK, git, repos, write_draft  # noqa: F401 (fixture)

REPLACEMENT = "2611.09999"


def _drafted(work):
    """A tool draft of WEEK in `work`, its pages' hashes recorded, committed to digest/WEEK and pushed."""
    folder = write_draft(work / "digests" / WEEK)
    (folder / "README.md").write_text("# Top 5\n\n" + "".join(
        f"## Paper {i}: {a}\n\n[Paper](https://arxiv.org/abs/{a})\n\n" for i, a in enumerate(PICKS, 1)))
    run = json.loads((folder / "run.json").read_text())
    run["written"] = {name: sha256_bytes((folder / name).read_bytes()) for name in ("README.md", "papers.md")}
    (folder / "run.json").write_text(json.dumps(run))
    open_pull_request(folder, Settings())
    git(work, "push", "-q", "origin", f"digest/{WEEK}")
    return folder


def _editor_merges(tmp_path, bare) -> str:
    """The editor replaces paper 5 on the draft branch and merges it into main, as on GitHub."""
    clone = tmp_path / "editor"
    git(tmp_path, "clone", "-q", bare.as_uri(), str(clone))
    git(clone, "fetch", "-q", "origin", f"digest/{WEEK}")
    git(clone, *EDITOR, "merge", "-q", "--no-ff", "-m", "merge the draft", "FETCH_HEAD")
    readme = clone / "digests" / WEEK / "README.md"
    text = readme.read_text().replace(PICKS[4], REPLACEMENT)
    readme.write_text(text)
    git(clone, *EDITOR, "commit", "-q", "-am", "my paper 5")
    git(clone, "push", "-q", "origin", "main")
    return text


def test_show_reads_the_merged_text_and_the_clone_pulls_cleanly(repos, tmp_path, capsys):  # noqa: F811
    work, bare = repos
    folder = _drafted(work)
    merged = _editor_merges(tmp_path, bare)

    assert top5(["show", WEEK, "--digests-dir", str(work / "digests")]) == 0

    out = capsys.readouterr().out
    assert (folder / "README.md").read_text() == merged
    assert REPLACEMENT in out and PICKS[4] not in out.split("Runners-up")[0]
    assert git(work, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    assert git(work, "status", "--porcelain", "--", "digests") == ""  # the next `git pull` has nothing in its way
    assert "edited but not committed" in (work / "notes.md").read_text()  # the user's own change is kept


def test_an_edit_on_the_tool_machine_stops_the_sync_and_nothing_changes(repos, tmp_path, capsys):  # noqa: F811
    work, bare = repos
    folder = _drafted(work)
    (folder / "README.md").write_text((folder / "README.md").read_text() + "\nMy note, typed on the server.\n")
    kept, head = (folder / "README.md").read_text(), git(work, "rev-parse", "HEAD")
    _editor_merges(tmp_path, bare)

    done = sync(work / "digests", Settings())

    assert not done.moved and "\n" not in done.message
    assert f"digests/{WEEK}/README.md" in done.message and "kept" in done.message
    assert (folder / "README.md").read_text() == kept and git(work, "rev-parse", "HEAD") == head
    assert top5(["show", WEEK, "--digests-dir", str(work / "digests")]) == 0
    assert "not synced" in capsys.readouterr().err


def test_a_local_commit_on_the_base_branch_is_never_rewound(repos, tmp_path):  # noqa: F811
    work, bare = repos
    _drafted(work)
    _editor_merges(tmp_path, bare)
    git(work, *EDITOR, "commit", "-q", "-m", "a local commit")  # the staged file of the fixture
    head = git(work, "rev-parse", "HEAD")

    done = sync(work / "digests", Settings())

    assert not done.moved and "commits" in done.message and git(work, "rev-parse", "HEAD") == head


def test_swap_refuses_a_merged_week_before_changing_anything(repos, tmp_path, capsys):  # noqa: F811
    work, bare = repos
    folder = _drafted(work)
    _editor_merges(tmp_path, bare)

    assert top5(["swap", WEEK, "5", "R1", "--digests-dir", str(work / "digests")]) == 1

    err = capsys.readouterr().err
    assert "was merged into main" in err and "edit the merged text" in err and "merge or close" not in err.lower()
    assert json.loads((folder / "candidates.json").read_text())["picks"] == PICKS


def test_swap_refuses_an_editors_branch_before_rewriting_the_draft(repos, tmp_path, capsys, monkeypatch):  # noqa: F811
    from tests.github_server import GitHubServer
    from tests.test_pull_request import REPOSITORY, TOKEN

    work, bare = repos
    folder = _drafted(work)
    clone = tmp_path / "editor"
    git(tmp_path, "clone", "-q", "-b", f"digest/{WEEK}", bare.as_uri(), str(clone))
    (clone / "digests" / WEEK / "README.md").write_text("# Mine now\n")
    git(clone, *EDITOR, "commit", "-q", "-am", "my edits")
    git(clone, "push", "-q", "origin", f"digest/{WEEK}")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with GitHubServer(TOKEN, REPOSITORY, bare=bare) as github:
        for name, value in (("GITHUB_TOKEN", TOKEN), ("GITHUB_REPOSITORY", REPOSITORY), ("GITHUB_API_URL", github.url)):
            monkeypatch.setenv(name, value)

        assert top5(["swap", WEEK, "2", "R1", "--digests-dir", str(work / "digests")]) == 1

    assert "commits this tool did not make" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # refused first: nothing rewritten
