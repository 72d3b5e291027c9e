"""Drafts arrive as pull requests: real git repositories (a bare file:// remote) in tmp_path and
GitHub's REST API served by tests/github_server.py on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
from pathlib import Path

import pytest

from flows.config import Settings
from flows.errors import ConfigError, DraftError, PullRequestError
from flows.pull_request import (
    draft_picks,
    merged_picks,
    open_pull_request,
    pull_request_body,
    swaps,
)
from tests.github_server import GitHubServer

TOKEN = "ghp_T0pS3cretValueForTests0123456789"
REPOSITORY = "editor/digests"
WEEK = "2026-W47"
BRANCH = f"digest/{WEEK}"
EDITOR = ("-c", "user.name=Editor", "-c", "user.email=editor@example.com")
PICKS = [f"2611.0000{i}" for i in range(1, 6)]
RUNNERS = [f"2611.000{i:02d}" for i in range(6, 11)]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout.strip()


def has_ref(repo: Path, ref: str) -> bool:
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify", ref], capture_output=True)
    return done.returncode == 0


def write_draft(folder: Path, *, flags=("Paper 2, 2611.00002: written from the abstract (PDF failed)",),
                picks=PICKS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"arxiv_id": a, "title": f"Title of {a}", "reason": f"Reason for {a}", "rank": i,
             "cheap_score": 0.5, "llm_score": 9 - i / 10} for i, a in enumerate(picks + RUNNERS, 1)]
    (folder / "README.md").write_text("# Top 5\n\n" + "".join(f"## Paper {i}: {a}\n\n" for i, a in enumerate(picks, 1)))
    (folder / "papers.md").write_text("".join(f"## Paper {i}\n\n[Paper](https://arxiv.org/abs/{a})\n\n"
                                              for i, a in enumerate(picks, 1)))
    (folder / "candidates.json").write_text(json.dumps({
        "week": folder.name, "picks": picks,
        "runners_up": [{"arxiv_id": a, "title": f"Title of {a}", "reason": f"Reason for {a}"} for a in RUNNERS],
        "shortlist": picks + RUNNERS, "candidates": rows}))
    (folder / "run.json").write_text(json.dumps({
        "week": folder.name, "window": {"start": "2026-11-13T18:00:00+00:00", "end": "2026-11-20T19:00:00+00:00"},
        "counts": {"candidates": 812, "new": 800, "featured_before": 12, "shortlist": 40, "picks": 5, "pdf_text": 4},
        "llm": {"base_url": "https://api.openai.com/v1", "offline": False,
                "models": {"rank": "gpt-4o-mini", "summarize": "gpt-4o-mini"}},
        "tokens": {"total": {"requests": 9, "cached": 1, "prompt_tokens": 51234, "completion_tokens": 4321,
                             "cost_usd": 0.0123}},
        "flags": list(flags), "written": {}}))
    return folder


@pytest.fixture
def repos(tmp_path, monkeypatch):
    """A user's clone `work` (on main, with uncommitted changes) of a bare `remote.git`."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))  # no identity: the tool brings its own
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL", "TOP5_DIGESTS_REPO"):
        monkeypatch.delenv(name, raising=False)
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "notes.md").write_text("house notes\n")
    git(work, "add", "notes.md")
    git(work, *EDITOR, "commit", "-q", "-m", "start")
    git(work, "remote", "add", "origin", bare.as_uri())
    git(work, "push", "-q", "origin", "main")
    (work / "notes.md").write_text("house notes, edited but not committed\n")
    (work / "staged.md").write_text("staged\n")
    git(work, "add", "staged.md")
    return work, bare


@pytest.fixture
def github(repos):
    with GitHubServer(TOKEN, REPOSITORY, bare=repos[1]) as server:
        yield server


def settings(server: GitHubServer, **overrides) -> Settings:
    return Settings(**{"github_token": TOKEN, "github_repository": REPOSITORY, "github_api_url": server.url,
                       **overrides})


def user_state(work: Path) -> tuple[str, ...]:
    return (git(work, "symbolic-ref", "HEAD"), git(work, "rev-parse", "HEAD"), git(work, "status", "--porcelain"),
            git(work, "diff", "--cached"), git(work, "diff"))


def test_first_run_opens_one_pull_request_with_only_the_week_folder(repos, github):
    work, bare = repos
    folder = write_draft(work / "digests" / WEEK)
    before = user_state(work)

    pr = open_pull_request(folder, settings(github))

    assert (pr.branch, pr.created, pr.number) == (BRANCH, True, 1)
    assert pr.url == github.pulls[1]["html_url"] and pr.url in pr.message
    assert git(bare, "rev-parse", BRANCH) == pr.commit
    assert git(bare, "rev-parse", f"{pr.commit}^") == git(bare, "rev-parse", "main")
    changed = git(bare, "diff", "--name-only", "main", BRANCH).splitlines()
    assert sorted(changed) == [f"digests/{WEEK}/{n}" for n in ("README.md", "candidates.json", "papers.md", "run.json")]
    assert git(bare, "show", f"{BRANCH}:digests/{WEEK}/run.json") == (folder / "run.json").read_text()
    assert "Drafted-by: weekly-top5" in git(bare, "log", "-1", "--format=%B", BRANCH)
    assert user_state(work) == before  # branch, HEAD, index and working tree untouched
    [post] = github.calls("POST")
    assert post.body["head"] == BRANCH and post.body["base"] == "main"
    assert post.body["body"] == pull_request_body(folder)


def test_pull_request_body_has_picks_runners_up_flags_funnel_model_cost_and_checklist(tmp_path):
    folder = write_draft(tmp_path / WEEK, flags=("Paper 3, 2611.00003: PDF timed out", "OFFLINE-ish note <b>x</b>"))
    cands = json.loads((folder / "candidates.json").read_text())
    cands["candidates"][0]["title"] = "Ping @octocat <script>alert(1)</script>\nnew line"
    (folder / "candidates.json").write_text(json.dumps(cands))

    body = pull_request_body(folder)

    picks_part = body.split("## Picks")[1].split("## Runners-up")[0]
    runners_part = body.split("## Runners-up")[1].split("## Flags")[0]
    assert [line.split("(https://arxiv.org/abs/")[1][:10] for line in picks_part.strip().splitlines()] == PICKS
    line = "{n}. [Title of {a}](https://arxiv.org/abs/{a}) (shortlist rank {n}): Reason for {a}"
    assert line.format(n=5, a="2611.00005") in picks_part
    # runners-up are numbered R1-R5 as `top5 swap` and `top5 show` number them
    assert "- **R1** [Title of 2611.00006](https://arxiv.org/abs/2611.00006) (shortlist rank 6): Reason for 2611.00006" in runners_part
    assert "- **R5** [Title of 2611.00010]" in runners_part and "6. " not in runners_part
    assert "- ⚠️ Paper 3, 2611.00003: PDF timed out" in body
    assert "\\<b\\>x\\</b\\>" in body and "<b>" not in body
    assert "812 candidates → 800 new (12 featured before) → 40 shortlisted → 5 picks (4 with PDF text)" in body
    assert "rank: `gpt-4o-mini`" in body and "51,234 prompt + 4,321 completion" in body and "$0.0123" in body
    assert "- [ ] every number checked against the paper" in body and "- [ ] figures added" in body
    assert "- [ ] names and takes in my voice" in body
    # paper text stays inert: no mention that would notify anyone, no live HTML, one line
    assert "@octocat" not in body and "<script>" not in body and "Ping &#64;octocat" in body


def test_a_query_in_the_api_url_goes_with_every_call(repos, github):
    """GITHUB_API_URL=https://proxy/api?key=K: each call keeps the key and its own path."""
    work, _ = repos
    pr = open_pull_request(write_draft(work / "digests" / WEEK), settings(github, github_api_url=f"{github.url}?key=K"))
    assert pr.created and github.log
    assert all(r.path.startswith(f"/repos/{REPOSITORY}/pulls") and r.query.get("key") == "K" for r in github.log)


def test_second_run_updates_the_same_pull_request(repos, github):
    work, bare = repos
    folder = write_draft(work / "digests" / WEEK)
    first = open_pull_request(folder, settings(github))
    write_draft(folder, flags=("Paper 4, 2611.00004: the LLM could not write the results",))

    second = open_pull_request(folder, settings(github))

    assert len(github.calls("POST")) == 1 and len(github.pulls) == 1
    [patch] = github.calls("PATCH")
    assert patch.path == f"/repos/{REPOSITORY}/pulls/1" and "could not write the results" in patch.body["body"]
    assert (second.number, second.created, second.url) == (1, False, first.url)
    assert git(bare, "rev-parse", BRANCH) == second.commit != first.commit
    assert git(bare, "rev-parse", f"{second.commit}^") == first.commit  # moved forward, not rewritten

    again = open_pull_request(folder, settings(github))  # nothing changed: no empty commit
    assert again.commit == second.commit and len(github.calls("PATCH")) == 2

    run = json.loads((folder / "run.json").read_text())  # a re-run: same draft, new times and tokens
    run.update(created="2026-11-24T07:00:00+00:00", seconds={"candidates": 9.5}, tokens={"total": {"requests": 0}})
    (folder / "run.json").write_text(json.dumps(run))
    rerun = open_pull_request(folder, settings(github))
    assert rerun.commit == second.commit and git(bare, "rev-parse", BRANCH) == second.commit
    run["flags"].append("a new flag")  # what a run found is a change
    (folder / "run.json").write_text(json.dumps(run))
    assert open_pull_request(folder, settings(github)).commit != second.commit


def test_an_update_keeps_the_checklist_items_the_editor_ticked(repos, github):
    work, _ = repos
    folder = write_draft(work / "digests" / WEEK)
    open_pull_request(folder, settings(github))
    first_item = next(line for line in github.pulls[1]["body"].splitlines() if line.startswith("- [ ] "))
    github.pulls[1]["body"] = github.pulls[1]["body"].replace(first_item, "- [x] " + first_item[6:])  # ticked on GitHub
    write_draft(folder, flags=("Paper 4, 2611.00004: new flag",))

    open_pull_request(folder, settings(github))

    body = github.calls("PATCH")[-1].body["body"]
    assert "- [x] " + first_item[6:] in body and "new flag" in body
    assert body.count("- [ ] ") == github.calls("POST")[0].body["body"].count("- [ ] ") - 1


@pytest.mark.parametrize("how", ["new commit", "amended draft commit"])
def test_editor_commits_on_the_branch_stop_the_next_run(repos, github, tmp_path, how):
    work, bare = repos
    folder = write_draft(work / "digests" / WEEK)
    first = open_pull_request(folder, settings(github))
    clone = tmp_path / "editor"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, bare.as_uri(), str(clone)], check=True)
    (clone / "digests" / WEEK / "README.md").write_text("# Top 5, in my voice\n")
    git(clone, "add", "-A")
    if how == "new commit":
        git(clone, *EDITOR, "commit", "-q", "-m", "My take")
        git(clone, "push", "-q", "origin", BRANCH)
    else:  # keeps the tool's message and trailers, but not its tree
        git(clone, *EDITOR, "commit", "-q", "--amend", "--no-edit")
        git(clone, "push", "-q", "--force", "origin", BRANCH)
    editors = git(bare, "rev-parse", BRANCH)
    write_draft(folder, flags=("a newer run",))
    requests_before = len(github.log)

    with pytest.raises(DraftError, match=f"branch {BRANCH} on origin has commits this tool did not make"):
        open_pull_request(folder, settings(github))

    assert git(bare, "rev-parse", BRANCH) == editors
    assert git(work, "rev-parse", BRANCH) == first.commit  # nothing committed locally either
    assert len(github.log) == requests_before


@pytest.mark.parametrize("status, inject, overrides, expected", [
    (401, None, {"github_token": TOKEN + "-revoked"}, ["GITHUB_TOKEN", "401 Bad credentials"]),
    (403, "GET", {}, ["GITHUB_TOKEN", "403", "Pull requests: read and write", REPOSITORY]),
    (404, None, {"github_repository": "editor/typo"}, ["GITHUB_REPOSITORY", "editor/typo", "404"]),
    (422, "POST", {}, [BRANCH, "422 Validation Failed: No commits between main and the head"]),
])
def test_github_errors_say_what_to_fix_and_keep_the_local_commit(repos, github, status, inject, overrides, expected):
    work, bare = repos
    folder = write_draft(work / "digests" / WEEK)
    if inject:
        github.fail_next(status, inject)

    with pytest.raises(PullRequestError) as caught:
        open_pull_request(folder, settings(github, **overrides))

    message = caught.value.message
    for part in expected:
        assert part in message
    assert f"git diff main...{BRANCH}" in message and TOKEN not in message
    assert git(work, "show", f"{BRANCH}:digests/{WEEK}/papers.md") == (folder / "papers.md").read_text().strip()
    assert has_ref(bare, BRANCH) == (status == 422)  # a bad token or repository fails before the push
    assert [r.method for r in github.log].count(inject or "GET") == 1  # a 4xx is never retried
    assert not github.pulls


@pytest.mark.parametrize("case", ["no token", "no remote"])
def test_without_token_or_remote_the_draft_stays_on_a_local_branch(repos, github, case):
    work, bare = repos
    if case == "no remote":
        git(work, "remote", "remove", "origin")
        config = settings(github)
    else:
        config = Settings(github_api_url=github.url)
    folder = write_draft(work / "digests" / WEEK)
    before = user_state(work)

    pr = open_pull_request(folder, config)

    assert (pr.url, pr.number, pr.created) == (None, None, False)
    assert git(work, "rev-parse", BRANCH) == pr.commit
    assert git(work, "rev-parse", f"{pr.commit}^") == git(work, "rev-parse", "main")
    assert f"git diff main...{BRANCH}" in pr.message
    assert ("no GITHUB_TOKEN" if case == "no token" else "no remote 'origin'") in pr.message
    assert not has_ref(bare, BRANCH) and github.log == []
    assert user_state(work) == before


def test_the_token_never_leaks(repos, github, caplog):
    caplog.set_level(logging.DEBUG)
    work, bare = repos
    folder = write_draft(work / "digests" / WEEK)
    messages = [open_pull_request(folder, settings(github)).message]
    github.fail_next(401, "GET")
    write_draft(folder, flags=("changed",))
    with pytest.raises(PullRequestError) as caught:
        open_pull_request(folder, settings(github))
    messages.append(str(caught.value))
    # an https remote: git gets the token in a header, from the environment only
    git(work, "remote", "set-url", "origin", f"{github.url}/{REPOSITORY}.git")
    with pytest.raises(PullRequestError) as caught:
        open_pull_request(folder, settings(github))
    messages.append(str(caught.value))

    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    [discovery] = [r for r in github.log if r.path.endswith("/info/refs")]
    assert discovery.headers["authorization"] == f"Basic {basic}"
    everything = "\n".join([
        *messages, caplog.text, repr(settings(github)), *(p["body"] for p in github.pulls.values()),
        *(json.dumps(r.body) for r in github.log if r.body),
        (work / ".git" / "config").read_text(), git(work, "config", "--list"),
        git(work, "log", "--all", "-p"), git(bare, "log", "--all", "-p"), git(work, "remote", "-v"),
    ])
    assert TOKEN not in everything and basic not in everything


def test_server_errors_are_retried_a_few_times(repos, github):
    work, _ = repos
    github.fail_next(502, "GET")
    pr = open_pull_request(write_draft(work / "digests" / WEEK), settings(github))
    assert pr.created and len(github.calls("GET")) == 2


def test_missing_repository_setting_is_a_config_error_before_anything(repos, github):
    work, _ = repos
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY"):
        open_pull_request(write_draft(work / "digests" / WEEK), settings(github, github_repository=None))
    assert not has_ref(work, BRANCH)
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY: must be owner/name"):
        Settings.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "just-a-name"})


def test_merged_picks_reads_main_and_draft_picks_the_tool_draft(repos, tmp_path):
    work, _ = repos
    old = work / "digests"
    (old / "2026-W45").mkdir(parents=True)
    (old / "2026-W45" / "README.md").write_text("## Paper 1\n[Paper](https://arxiv.org/abs/2610.11111v3)\n")
    (old / "2026-W46").mkdir()
    (old / "2026-W46" / "README.md").write_text("arxiv.org/abs/2699.99999 (README is not read when papers.md exists)\n")
    (old / "2026-W46" / "papers.md").write_text(
        "[Paper](https://arxiv.org/abs/2611.00300v2)\n[Paper](https://arxiv.org/abs/2611.00100)\n"
        "[Paper](http://arxiv.org/pdf/2611.00200v1)\nagain https://arxiv.org/abs/2611.00300\n")
    git(work, "add", "digests")
    git(work, *EDITOR, "commit", "-q", "-m", "earlier digests")
    # a draft written outside the repository goes to digests/<week> in it
    pr = open_pull_request(write_draft(tmp_path / "out" / WEEK), Settings(digests_repo=work))
    assert draft_picks(work, WEEK) == PICKS
    # the editor swaps pick 5 for runner-up 2611.00006 and merges
    git(work, "switch", "-q", BRANCH)
    page = work / "digests" / WEEK / "papers.md"
    page.write_text(page.read_text().replace("2611.00005", "2611.00006"))
    git(work, *EDITOR, "commit", "-q", "-am", "swap pick 5")
    git(work, "switch", "-q", "main")
    git(work, *EDITOR, "merge", "-q", "--no-ff", "-m", "merge draft", BRANCH)
    (work / "digests" / "2026-W48").mkdir()
    (work / "digests" / "2026-W48" / "papers.md").write_text("https://arxiv.org/abs/2612.00001\n")  # not merged

    merged = merged_picks(work)

    assert merged == {"2026-W45": ["2610.11111"], "2026-W46": ["2611.00300", "2611.00100", "2611.00200"],
                      WEEK: PICKS[:4] + ["2611.00006"]}
    assert draft_picks(work, WEEK) == PICKS  # the tool's newest draft, not the editor's commit
    assert swaps(draft_picks(work, WEEK), merged[WEEK]) == (["2611.00005"], ["2611.00006"])
    assert pr.commit == git(work, "rev-parse", f"{BRANCH}^")
    assert draft_picks(work, "2026-W01") is None


def test_editor_commits_on_the_local_branch_stop_the_run(repos):
    work, _ = repos
    folder = write_draft(work / "digests" / WEEK)
    first = open_pull_request(folder, Settings())
    mine = git(work, *EDITOR, "commit-tree", f"{BRANCH}^{{tree}}", "-p", BRANCH, "-m", "my local edits")
    git(work, "update-ref", f"refs/heads/{BRANCH}", mine)
    write_draft(folder, flags=("newer",))

    with pytest.raises(DraftError, match=f"local branch {BRANCH} .* has commits this tool did not make"):
        open_pull_request(folder, Settings())
    assert git(work, "rev-parse", BRANCH) == mine != first.commit


def test_papers_of_digests_merged_on_main_count_as_covered(repos):
    from flows.pull_request import covered_on_main

    work, _ = repos
    merged = work / "digests" / "2026-W40"
    merged.mkdir(parents=True)
    (merged / "papers.md").write_text("## Paper 1\n\n[Paper](https://arxiv.org/abs/2610.00001)\n")
    git(work, "add", "digests")
    git(work, *EDITOR, "commit", "-q", "-m", "merge the W40 digest")
    (merged / "papers.md").unlink()  # not in the working tree any more: main still has it
    draft = work / "digests" / "2026-W41"
    draft.mkdir()
    (draft / "papers.md").write_text("[Paper](https://arxiv.org/abs/2610.00002)\n")  # never merged

    assert covered_on_main(work / "digests") == {"2610.00001"}
    assert covered_on_main(work / "digests", except_week="2026-W40") == set()
    assert covered_on_main(work.parent / "not-a-repo" / "digests") == set()


def test_merges_on_the_remote_count_before_anyone_pulls(repos, github):
    from flows.pull_request import check_branch, covered_on_main

    work, bare = repos
    other = work.parent / "editor"
    git(work.parent, "clone", "-q", bare.as_uri(), str(other))
    (other / "digests" / "2026-W40").mkdir(parents=True)
    (other / "digests" / "2026-W40" / "papers.md").write_text("[Paper](https://arxiv.org/abs/2610.00003)\n")
    git(other, "add", "digests")
    git(other, *EDITOR, "commit", "-q", "-m", "merged on GitHub")
    git(other, "push", "-q", "origin", "main")

    assert covered_on_main(work / "digests") == set()  # the local main has not seen it yet
    check_branch(work / "digests" / "2026-W41", settings(github))  # what a run does first: fetch
    assert covered_on_main(work / "digests", settings(github)) == {"2610.00003"}


@pytest.mark.parametrize("status, where, fix", [
    (301, "same host", "set GITHUB_REPOSITORY to its new owner/name"),
    (307, "other host", "set GITHUB_API_URL to the API's real address"),
])
def test_a_redirected_api_is_an_error_naming_the_fix_and_the_token_stays_home(repos, github, status, where, fix):
    """GitHub answers 301 for a renamed repository; a proxy may send 307 elsewhere. Neither is
    followed: the token never reaches another host, and the message says what to set."""
    work, bare = repos
    with GitHubServer(TOKEN, "editor/renamed") as elsewhere:
        target = (f"{github.url}/repos/editor/renamed/pulls" if where == "same host"
                  else f"{elsewhere.url.replace('127.0.0.1', 'localhost')}/repos/{REPOSITORY}/pulls")
        github.redirect_next(status, target)
        with pytest.raises(PullRequestError) as caught:
            open_pull_request(write_draft(work / "digests" / WEEK), settings(github))
        assert elsewhere.log == []
    message = caught.value.message
    assert f"answered {status}" in message and fix in message and "GITHUB_TOKEN was not sent there" in message
    assert TOKEN not in message and "\n" not in message
    assert [r.method for r in github.log] == ["GET"]  # not followed, not retried
    assert not has_ref(bare, BRANCH) and not github.pulls


def test_an_api_that_answers_something_else_than_github_names_the_setting(repos, github):
    work, _ = repos
    github.redirect_next(200, "")  # 200 with a JSON object where GitHub sends a list
    with pytest.raises(PullRequestError, match="did not answer like GitHub.*check GITHUB_API_URL"):
        open_pull_request(write_draft(work / "digests" / WEEK), settings(github))


def test_a_password_in_the_api_url_is_sent_as_basic_auth_and_never_shown(repos, github, caplog):
    """GITHUB_API_URL may carry user:password@ (a proxy's, or a token as GitHub's Basic auth): it is
    sent as the Basic auth it always was, and no message nor log record (httpx's own included) shows it."""
    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    work, _ = repos
    secret, basic = "s3cret", base64.b64encode(b"user:s3cret").decode()
    config = settings(github, github_api_url=github.url.replace("http://", f"http://user:{secret}@"))
    folder = write_draft(work / "digests" / WEEK)
    messages = []
    for answer in [(307, f"{github.url.replace('127.0.0.1', 'localhost')}/repos/{REPOSITORY}/pulls"), (200, ""), None]:
        if answer:  # moved elsewhere; something else than GitHub; none: the Basic auth is no GitHub token (401)
            github.redirect_next(*answer)
        with pytest.raises(PullRequestError) as caught:
            open_pull_request(folder, config)
        messages.append(caught.value.message)

    assert "answered 307" in messages[0] and "did not answer like GitHub" in messages[1] and "401" in messages[2]
    assert all(f"GitHub API at {github.url} " in m for m in messages[:2])
    assert [r.headers.get("authorization") for r in github.log] == [f"Basic {basic}"] * 3
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx" and "HTTP Request: GET" in r.getMessage()]
    assert len(requests) == 3 and all(github.url.removeprefix("http://") in line for line in requests)
    everything = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records), *messages])
    assert secret not in everything and basic not in everything


@pytest.mark.parametrize("echo", ["bad credentials for user:{password}", "got Basic {basic}"])
def test_an_api_that_echoes_a_url_password_never_shows_it(repos, github, echo):
    """A proxy in front of GitHub that says what it was sent cannot put the password of
    GITHUB_API_URL, nor of another URL setting (HF_PAPERS_URL), in the error."""
    work, _ = repos
    passwords = ("Pa55wordXyz", "Hf0nlyPassw0rd")
    config = settings(github, github_api_url=github.url.replace("http://", f"http://user:{passwords[0]}@"),
                      hf_papers_url=f"http://user:{passwords[1]}@127.0.0.1:9/api/daily_papers")
    folder = write_draft(work / "digests" / WEEK)
    messages = []
    for password in passwords:
        basic = base64.b64encode(f"user:{password}".encode()).decode()
        github.fail_next(401, message=echo.format(password=password, basic=basic))
        with pytest.raises(PullRequestError) as caught:
            open_pull_request(folder, config)
        messages.append(caught.value.message)

    assert all("GitHub rejected the user:password in GITHUB_API_URL (401 " in m and "***" in m
               and "in place of GITHUB_TOKEN" in m for m in messages), messages
    for password in passwords:
        basic = base64.b64encode(f"user:{password}".encode()).decode()
        assert not any(password in m or basic in m for m in messages), messages


def test_git_does_not_follow_a_redirect_with_the_token(repos, github):
    work, _ = repos
    with GitHubServer(TOKEN, REPOSITORY) as elsewhere:
        github.git_redirect = elsewhere.url.replace("127.0.0.1", "localhost")
        git(work, "remote", "set-url", "origin", f"{github.url}/{REPOSITORY}.git")
        with pytest.raises(PullRequestError, match="could not read remote origin"):
            open_pull_request(write_draft(work / "digests" / WEEK), settings(github))
        assert [r.path for r in github.log if r.path.endswith("/info/refs")]  # git asked, was redirected
        assert elsewhere.log == []  # and did not follow with the token


def test_the_body_swap_command_is_one_the_cli_accepts_and_the_model_line_is_spaced(tmp_path):
    from flows.cli import _parser

    body = pull_request_body(write_draft(tmp_path / WEEK))

    command = body.split("Swap one in with `")[1].split("`")[0]
    assert command == f"top5 swap {WEEK} PAPER R1"
    args = _parser().parse_args(command.replace("PAPER", "3").split()[1:])
    assert (args.command, args.week, args.position, args.choice) == ("swap", WEEK, 3, "R1")
    assert "summarize: `gpt-4o-mini` at https://api.openai.com/v1\n" in body


def test_docs_and_prompts_give_the_week_of_swap_show_render_positionally():
    root = Path(__file__).resolve().parents[1]
    texts = [p for folder in ("docs", "prompts") for p in (root / folder).rglob("*")
             if p.suffix in (".md", ".j2")]
    wrong = [f"{p.name}: {line.strip()}" for p in texts for line in p.read_text(encoding="utf-8").splitlines()
             if any(f"top5 {verb} --week" in line for verb in ("swap", "show", "render"))]
    assert texts and wrong == []


def test_a_merged_page_saved_in_another_encoding_is_read_as_text_and_an_oversized_one_left_out(
        repos, caplog, monkeypatch):
    from flows.pull_request import merged, merged_readmes

    work, _ = repos
    week = work / "digests" / "2026-W46"
    week.mkdir(parents=True)
    saved = "# Week 46\n\n## Paper 1: A naïve but clever idea – café style\n\nThe editor's words, in Windows-1252.\n"
    (week / "README.md").write_bytes(saved.encode("cp1252"))
    big = work / "digests" / "2026-W47"
    big.mkdir()
    (big / "README.md").write_text("## Paper 1\n\n" + "words " * 2000)
    git(work, "add", "digests")
    git(work, *EDITOR, "commit", "-q", "-m", "merge W46 and W47")
    monkeypatch.setattr(merged, "EDITOR_FILE_LIMIT", 5000)

    with caplog.at_level(logging.WARNING):
        found = merged_readmes(work / "digests")
    text = found["2026-W46"]
    text.encode("utf-8")  # no surrogates left: the LLM's cache keys the exemplar made of it
    assert "## Paper 1: A na" in text and "but clever idea – caf" in text  # charset-normalizer's guess
    assert "digests/2026-W46/README.md on main is not UTF-8" in caplog.text
    assert "2026-W47" not in found and "digests/2026-W47/README.md on main is left out" in caplog.text


@pytest.mark.parametrize("answer, said", [
    ({}, "Unauthorized"),
    ({"message": 5, "errors": "not a list"}, "5"),
    ({"message": "Validation Failed", "errors": [{"message": {"nested": 1}}, {"field": "head", "code": "invalid"}]},
     "Validation Failed: {'nested': 1}; head invalid"),
])
def test_a_github_error_answer_of_another_shape_still_makes_a_message(answer, said):
    import httpx

    from flows.pull_request.github import _github_message

    assert _github_message(httpx.Response(401, json=answer)) == said
