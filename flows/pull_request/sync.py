"""The tool's digests clone synced with the base branch the editor merges into.

The tool writes each draft into the clone's working tree (digests/<week>/, untracked on the base
branch) and commits it only to digest/<week>. Once the editor merges that branch, a plain
`git pull` aborts ("untracked working tree files would be overwritten") and every command keeps
reading the tool's old draft. `sync` fast-forwards the checked-out base branch to the remote's,
first setting aside the draft files that are the tool's own (pages whose hash run.json records,
the tool's JSON records), so the merged text is what `top5 show`, `top5 render` and the next run
read. Anything else in the way (an edit the editor made on this machine, a local commit) stops
the sync with one line, and nothing is changed.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flows.config import Settings
from flows.errors import DraftError, PullRequestError
from flows.files import edited_since_written
from flows.http import safe_url
from flows.pull_request.git import Git, in_git_repo, toplevel

log = logging.getLogger(__name__)

TOOL_RECORDS = ("candidates.json", "run.json", "sections.json")  # the tool's data, never edited by hand


@dataclass(frozen=True)
class Synced:
    """What the sync did: `moved` is False when it changed nothing; `message` is one line."""

    moved: bool
    message: str


def sync(digests_dir: Path, settings: Settings | None = None) -> Synced:
    """Fast-forward the digests clone holding `digests_dir` to TOP5_DIGESTS_REMOTE's
    TOP5_DIGESTS_BASE. Never raises for git's answers: a clone that cannot fast-forward cleanly
    (local commits, the editor's edits in the way, another branch checked out, the remote out of
    reach) is left as it was and the returned message says why, in one line."""
    settings = settings or Settings.from_env()
    probe = next((p for p in (Path(digests_dir).resolve(), *Path(digests_dir).resolve().parents) if p.exists()))
    if settings.digests_repo is None and not in_git_repo(probe):
        return Synced(False, "")
    git = Git(toplevel(settings.digests_repo or probe), settings.github_token)
    remote, base = settings.digests_remote, settings.digests_base
    url = git.remote_url(remote)
    if not url:
        return Synced(False, "")
    try:
        return _fast_forward(git, url, remote, base)
    except PullRequestError as exc:
        return Synced(False, f"digests clone not synced with {remote}/{base}: {exc.message}")


def _fast_forward(git: Git, url: str, remote: str, base: str) -> Synced:
    tracking = f"refs/remotes/{remote}/{base}"
    try:
        git.network(url, "fetch", "--no-tags", "--quiet", remote, f"+refs/heads/{base}:{tracking}")
    except PullRequestError:
        return Synced(False, f"digests clone not synced: remote {remote} ({safe_url(url)}) could not be read; "
                             "showing the local copy")
    head = git.run("symbolic-ref", "-q", "HEAD", ok=(0, 1)).strip()
    local, merged = git.rev(f"refs/heads/{base}"), git.rev(tracking)
    stop = f"digests clone in {git.repo} not synced with {remote}/{base}"
    if local == merged:
        return Synced(False, "")
    if local and git.run("merge-base", local, merged, ok=(0, 1)).strip() != local:
        return Synced(False, f"{stop}: local {base} has commits {remote} does not; nothing was changed (push or "
                             f"merge them, then run again)")
    if head != f"refs/heads/{base}":
        git.run("update-ref", f"refs/heads/{base}", merged, local or "0" * 40)
        return Synced(True, f"{base} fast-forwarded to {remote}/{base} at {merged[:12]} (not checked out here)")
    in_the_way = _in_the_way(git, local, merged)
    edited = [p for p in in_the_way if not _tools_own(git.repo / p)]
    if edited:
        shown = ", ".join(edited[:3]) + (f" and {len(edited) - 3} more" if len(edited) > 3 else "")
        return Synced(False, f"{stop}: {shown} changed here since the tool wrote it; nothing was changed, so "
                             "those edits are kept (commit or move them, then run again)")
    return _merge_setting_aside(git, merged, in_the_way, stop)


def _in_the_way(git: Git, local: str | None, merged: str) -> list[str]:
    """Working-tree paths the fast-forward would overwrite: changed or untracked here and changed
    between `local` and `merged`."""
    changed = set(git.run("diff-tree", "-r", "-z", "--name-only", local, merged).split("\0")) if local else set(
        git.run("ls-tree", "-r", "-z", "--name-only", merged).split("\0"))
    status = git.run("status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    dirty = {entry[3:] for entry in status if len(entry) > 3}
    return sorted((changed & dirty) - {""})


def _tools_own(path: Path) -> bool:
    """A file of a week folder the tool wrote and nobody edited since: a page or figure whose hash
    run.json records, or one of the tool's JSON records."""
    week = next((p for p in path.parents if (p / "run.json").is_file()), None)
    if week is None or not path.is_file():
        return False
    if path.parent == week and path.name in TOOL_RECORDS:
        return True
    return not edited_since_written(path, week)


def _merge_setting_aside(git: Git, merged: str, paths: list[str], stop: str) -> Synced:
    """Move the tool's own files out of the way, fast-forward, and put them back if git refuses."""
    with tempfile.TemporaryDirectory(prefix="top5-sync-") as aside:
        for rel in paths:
            (Path(aside) / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(git.repo / rel, Path(aside) / rel)
        try:
            git.run("merge", "--ff-only", "--quiet", merged)
        except PullRequestError as exc:
            for rel in paths:
                shutil.move(Path(aside) / rel, git.repo / rel)
            return Synced(False, f"{stop}: {exc.message}; nothing was changed")
    return Synced(True, f"digests clone fast-forwarded to the merged {merged[:12]}: the editor's merged text "
                        f"replaced {len(paths)} draft file(s) of the tool")


def check_not_merged(folder: Path, settings: Settings | None = None) -> None:
    """Raise DraftError when the week in `folder` is merged into the base branch: its text is the
    editor's now, so a command that would redraft it (swap) must not."""
    from flows.pull_request.merged import merged_readmes

    settings = settings or Settings.from_env()
    if folder.name in merged_readmes(folder.parent, settings):
        raise DraftError(f"{folder.name} was merged into {settings.digests_base}: the digest is the editor's now and "
                         f"nothing was changed; edit the merged text ({folder / 'README.md'}) instead of swapping")
