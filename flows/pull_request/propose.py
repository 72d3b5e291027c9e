"""Proposing the draft: the week's folder committed to branch digest/<week>, pushed, and opened
(or updated) as a GitHub pull request for the editor to review, edit and merge. A branch that
holds commits this tool did not make stops the run before anything is written."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flows.config import Settings
from flows.errors import ConfigError, DraftError
from flows.pull_request.body import keep_ticks, pull_request_body
from flows.pull_request.git import (
    TOOL,
    ZERO,
    Git,
    commit_folder,
    fetch,
    in_git_repo,
    made_here,
    only_run_times_changed,
    path_in_repo,
    push,
    refuse_checked_out,
    toplevel,
)
from flows.pull_request.github import GitHub

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullRequest:
    branch: str
    commit: str
    url: str | None
    number: int | None
    created: bool
    message: str


def open_pull_request(week_dir: Path | str, settings: Settings | None = None) -> PullRequest:
    """Commit `week_dir` (only that folder) to branch digest/<week>, push it and open or update
    its pull request. Without a token or a remote: the local branch only, and how to review it.

    Raises DraftError (nothing written) when the branch holds commits this tool did not make,
    ConfigError for a missing repository or base branch, PullRequestError when git push or
    GitHub refuses (the local commit stays).
    """
    settings = settings or Settings.from_env()
    folder = Path(week_dir).resolve()
    _check_folder(folder)
    body = pull_request_body(folder)  # unreadable JSON fails here, before anything is written
    week, branch, base = folder.name, f"digest/{folder.name}", settings.digests_base
    git = Git(toplevel(settings.digests_repo or folder), settings.github_token)
    path = path_in_repo(git.repo, folder, settings.digests_subdir)
    url, base_tip, remote_tip, local_tip = _branch_state(git, settings, week)
    online = bool(settings.github_token and url)

    parent = remote_tip or local_tip or base_tip
    commit = commit_folder(git, parent, path, folder, week)
    if commit != parent and only_run_times_changed(git, parent, commit, path):
        commit = parent  # a re-run that drafted the same week: nothing for the editor to review
    if commit == base_tip:
        return PullRequest(branch, commit, None, None, False,
                           f"{path} on {base} already matches the draft: nothing to propose.")
    git.run("update-ref", "-m", f"{TOOL}: draft {week}", f"refs/heads/{branch}", commit, local_tip or ZERO)
    if not online:
        why = "no GITHUB_TOKEN" if not settings.github_token else f"no remote {settings.digests_remote!r} in {git.repo}"
        message = _how_to_review(branch, base, commit, git.repo, why)
        log.info("%s", message)
        return PullRequest(branch, commit, None, None, False, message)

    pr, existing = _publish(git, settings, branch, commit, remote_tip, body)
    verb = "Updated" if existing else "Opened"
    moved = "" if commit != remote_tip else " (the draft was unchanged)"
    message = f"{verb} pull request #{pr['number']} {pr['html_url']} from {branch} at {commit[:12]}{moved}."
    log.info("%s", message)
    return PullRequest(branch, commit, pr["html_url"], pr["number"], not existing, message)


def _publish(git: Git, settings: Settings, branch: str, commit: str, remote_tip: str | None,
             body: str) -> tuple[dict, dict | None]:
    """Push `commit` to `branch` and open or update its pull request: (the pull request, the one
    that was already open or None)."""
    where = _how_to_review(branch, settings.digests_base, commit, git.repo, "")
    with GitHub(settings, branch, where) as github:
        existing = github.find_open()  # before pushing: a bad token or repository fails here
        if commit != remote_tip:
            push(git, settings.digests_remote, commit, branch, where)
        if existing:
            return github.update(existing["number"], keep_ticks(existing.get("body") or "", body)), existing
        return github.create(f"Weekly top 5: {branch.removeprefix('digest/')} draft", body), None


def check_branch(week_dir: Path | str, settings: Settings | None = None) -> None:
    """Before a run spends anything: raise DraftError if digest/<week> holds commits this tool
    did not make (locally or on the remote), so the run stops having written nothing."""
    settings = settings or Settings.from_env()
    folder = Path(week_dir).resolve()
    probe = next(p for p in (folder, *folder.parents) if p.exists())
    _branch_state(Git(toplevel(settings.digests_repo or probe), settings.github_token), settings, folder.name)


def _branch_state(git: Git, settings: Settings, week: str):
    """(remote url, base tip, remote branch tip, local branch tip), after refusing a branch that
    is checked out or holds someone else's commits."""
    branch, base = f"digest/{week}", settings.digests_base
    refuse_checked_out(git, branch)
    if settings.github_token and not settings.github_repository:
        raise ConfigError("GITHUB_TOKEN is set but GITHUB_REPOSITORY (owner/name) is not: "
                          "set it to the repository the pull request is for")
    url = git.remote_url(settings.digests_remote)
    remote_tip = None
    if settings.github_token and url:
        base_tip, remote_tip = fetch(git, settings.digests_remote, url, base, branch)
        if remote_tip and not made_here(git, remote_tip):
            raise DraftError(
                f"branch {branch} on {settings.digests_remote} has commits this tool did not make (its tip "
                f"{remote_tip[:12]} is not a weekly-top5 draft): the editor's work is kept, nothing "
                f"was committed or pushed. Merge or close that pull request, or delete the branch, "
                f"to draft {week} again.")
    else:
        base_tip = git.rev(f"refs/heads/{base}")
        if not base_tip:
            raise ConfigError(f"branch {base} not found in {git.repo}: set TOP5_DIGESTS_BASE to the "
                              "branch the digests are merged into")
    local_tip = git.rev(f"refs/heads/{branch}")
    if local_tip and local_tip != remote_tip and not made_here(git, local_tip):
        raise DraftError(f"local branch {branch} in {git.repo} has commits this tool did not make "
                         f"(tip {local_tip[:12]}): nothing was committed. Push or move them, or "
                         f"delete the branch, to draft {week} again.")
    return url, base_tip, remote_tip, local_tip



def _check_folder(folder: Path) -> None:
    missing = [name for name in ("run.json", "candidates.json") if not (folder / name).is_file()]
    if missing:
        raise DraftError(f"{folder} is not a finished draft (no {', '.join(missing)}): run the week first")


def proposing(folder: Path) -> bool:
    """Whether a draft in `folder` goes to a branch and pull request: TOP5_DIGESTS_REPO is set or
    the digests are in a git repository."""
    return Settings.from_env().digests_repo is not None or in_git_repo(folder.parent)



def _how_to_review(branch: str, base: str, commit: str, repo: Path, why: str) -> str:
    head = f"Draft committed on local branch {branch} at {commit[:12]} in {repo}"
    head += f"; not pushed ({why})." if why else "."
    return (f"{head} Review it with `git diff {base}...{branch}` (or `git log -p {base}..{branch}`, "
            f"`git switch {branch}`).")

