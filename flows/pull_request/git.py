"""git for the draft: one repository, a clean environment, never a secret on the command line.

The user's checkout is never touched: the commit is built with git plumbing in a temporary
index (hash-object, update-index, write-tree, commit-tree) and only refs move. Every commit
this tool makes ends with the trailers

    Drafted-by: weekly-top5
    Draft-tree: <the commit's own tree>

so a re-run can tell its own branch tip from an editor's (no trailers, or a tree that differs
from the recorded one, as after an amend) and stops instead of building over the editor's work.
Over https the token travels only in git's http.extraHeader, handed over in the environment
(GIT_CONFIG_*), never in argv, .git/config or a remote URL.
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from flows.errors import ConfigError, DraftError, PullRequestError
from flows.files import parse_json
from flows.http import safe_url
from flows.pull_request.body import TOOL
from flows.text import redact as redact_secrets

TRAILER = f"Drafted-by: {TOOL}"
IDENTITY = ("-c", f"user.name={TOOL}", "-c", f"user.email={TOOL}@localhost")
ZERO = "0" * 40
NETWORK_TIMEOUT = 300  # seconds for one git command that talks to the remote
RUN_VOLATILE = ("created", "seconds", "tokens")  # run.json keys a re-run of the same draft changes

# set by hooks or a caller's shell, they would point our git at another repository or index
_LOCATION_VARS = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
                  "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX"}


class Git:
    """git in one repository, with a clean environment and never a secret on the command line."""

    def __init__(self, repo: Path, secret: str | None = None):
        self.repo = repo
        self.secret = secret
        self.env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
        self.env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")  # never wait for a password prompt

    def run(self, *args: str, data: bytes | None = None, env: dict | None = None,
            timeout: float = 60, error=PullRequestError, ok: tuple[int, ...] = (0,)) -> str:
        """git's output as text (bytes that are not UTF-8, as in a file name, kept as surrogates);
        raises `error` naming the command when git fails or takes over `timeout` seconds."""
        return self.output(*args, data=data, env=env, timeout=timeout, error=error,
                           ok=ok).decode("utf-8", "surrogateescape")

    def output(self, *args: str, data: bytes | None = None, env: dict | None = None,
               timeout: float = 60, error=PullRequestError, ok: tuple[int, ...] = (0,)) -> bytes:
        """git's output as bytes (a file's content as committed); raises as run() does."""
        try:
            done = subprocess.run(["git", "-C", str(self.repo), *args], input=data, capture_output=True,
                                  env={**self.env, **(env or {})}, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise error(f"git {args[0]} in {self.repo} took over {timeout:.0f} s") from None
        if done.returncode not in ok:
            stderr = done.stderr.decode("utf-8", "replace").strip()
            raise error(redact(f"git {args[0]} failed in {self.repo}: {stderr}", self.secret))
        return done.stdout

    def rev(self, ref: str) -> str | None:
        return self.run("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", ok=(0, 1)).strip() or None

    def remote_url(self, remote: str) -> str | None:
        return self.run("remote", "get-url", remote, ok=(0, 2)).strip() or None

    def network(self, url: str, *args: str, error=PullRequestError) -> str:
        """A command that talks to the remote: over http(s) the token goes in a header, via env."""
        env = {}
        if self.secret and url.startswith(("http://", "https://")):
            basic = base64.b64encode(f"x-access-token:{self.secret}".encode()).decode()
            # the header would follow a redirect to any host: redirects are refused instead
            env = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "http.extraHeader",
                   "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
                   "GIT_CONFIG_KEY_1": "http.followRedirects", "GIT_CONFIG_VALUE_1": "false"}
        return self.run(*args, env=env, timeout=NETWORK_TIMEOUT, error=error)


def redact(text: str, secret: str | None, others: Iterable[str] = ()) -> str:
    """`text` without the token, nor the token as git sends it (Basic x-access-token:<token>),
    nor any of `others` (flows.config.configured_secrets)."""
    basic = base64.b64encode(f"x-access-token:{secret}".encode()).decode() if secret else None
    return redact_secrets(text, [secret, basic, *others])



def in_git_repo(path: Path) -> bool:
    try:
        toplevel(path)
    except ConfigError:
        return False
    return True


def toplevel(path: Path) -> Path:
    start = Path(path)
    probe = start if start.is_dir() else start.parent
    try:
        return Path(Git(probe).run("rev-parse", "--show-toplevel", error=ConfigError).strip())
    except ConfigError:
        raise ConfigError(f"{start} is not inside a git working tree: set TOP5_DIGESTS_REPO to the "
                          "digests repository (a clone with a remote), or `git init` one") from None


def path_in_repo(repo: Path, folder: Path, digests_subdir: str) -> str:
    if folder.is_relative_to(repo.resolve()):
        return folder.relative_to(repo.resolve()).as_posix()
    return f"{digests_subdir.strip('/')}/{folder.name}"


def refuse_checked_out(git: Git, branch: str) -> None:
    listing = git.run("worktree", "list", "--porcelain")
    if f"branch refs/heads/{branch}\n" in listing + "\n":
        raise DraftError(f"branch {branch} is checked out in {git.repo} (or one of its worktrees): "
                         "switch to another branch so the draft can move it without touching your files")


def fetch(git: Git, remote: str, url: str, base: str, branch: str) -> tuple[str, str | None]:
    """The remote's base and draft tips, fetched (into refs/remotes/<remote>/) so we can build on them."""
    try:
        listed = git.network(url, "ls-remote", "--heads", remote, f"refs/heads/{base}", f"refs/heads/{branch}")
    except PullRequestError as exc:
        raise PullRequestError(f"could not read remote {remote} ({safe_url(url)}); over https GITHUB_TOKEN "
                               f"needs access to it. Nothing was committed. {exc.message}") from None
    tips = {ref: sha for sha, ref in (line.split("\t", 1) for line in listed.splitlines() if "\t" in line)}
    if f"refs/heads/{base}" not in tips:
        raise ConfigError(f"branch {base} not found on remote {remote} ({safe_url(url)}): push it, or "
                          "set TOP5_DIGESTS_BASE to the branch the digests are merged into")
    specs = [f"+{ref}:refs/remotes/{remote}/{ref.removeprefix('refs/heads/')}" for ref in tips]
    git.network(url, "fetch", "--no-tags", "--quiet", remote, *specs)
    return tips[f"refs/heads/{base}"], tips.get(f"refs/heads/{branch}")


def made_here(git: Git, sha: str) -> bool:
    message = git.run("log", "-1", "--format=%B", sha)
    trailers = dict(line.split(": ", 1) for line in message.strip().splitlines()[-2:] if ": " in line)
    tree = git.run("rev-parse", f"{sha}^{{tree}}").strip()
    return trailers.get("Drafted-by") == TOOL and trailers.get("Draft-tree") == tree


def commit_folder(git: Git, parent: str, path: str, folder: Path, week: str) -> str:
    """A commit on `parent` whose tree is the parent's with `path` replaced by `folder`'s files;
    `parent` itself when that changes nothing."""
    with tempfile.TemporaryDirectory(prefix="top5-index-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.run("read-tree", parent, env=index)
        old = [p for p in git.run("ls-files", "-z", "--", path, env=index).split("\0") if p]
        entries = [f"0 {ZERO}\t{p}" for p in old]
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder)
            if file.is_symlink() or not file.is_file() or any(part.startswith(".") for part in relative.parts):
                continue  # atomic-write leftovers and symlinks are not part of the draft
            sha = git.run("hash-object", "-w", "--stdin", data=file.read_bytes()).strip()
            mode = "100755" if os.access(file, os.X_OK) else "100644"
            entries.append(f"{mode} {sha}\t{path}/{relative.as_posix()}")
        git.run("update-index", "-z", "--index-info", data="".join(e + "\0" for e in entries).encode(), env=index)
        tree = git.run("write-tree", env=index).strip()
    if tree == git.run("rev-parse", f"{parent}^{{tree}}").strip():
        return parent
    message = (f"Draft digest {week}\n\nDrafted by {TOOL}: review it, make it yours, then merge.\n\n"
               f"{TRAILER}\nDraft-tree: {tree}\n")
    identity = () if has_identity(git) else IDENTITY
    return git.run(*identity, "commit-tree", tree, "-p", parent, data=message.encode()).strip()


def only_run_times_changed(git: Git, old: str, new: str, path: str) -> bool:
    """Whether commit `new` differs from `old` only in `path`/run.json, and there only in when
    the run happened, how long it took and what it cost (RUN_VOLATILE)."""
    changed = [p for p in git.run("diff-tree", "-r", "-z", "--name-only", old, new).split("\0") if p]
    if changed != [f"{path}/run.json"]:
        return False
    try:
        before, after = (parse_json(git.run("show", f"{sha}:{path}/run.json"), f"{sha}:{path}/run.json")
                         for sha in (old, new))
    except (PullRequestError, ValueError):  # UnreadableFile too: not JSON, or nested too deeply
        return False
    return all(isinstance(r, dict) for r in (before, after)) and _stable(before) == _stable(after)


def _stable(run: dict) -> dict:
    return {key: value for key, value in run.items() if key not in RUN_VOLATILE}


def has_identity(git: Git) -> bool:
    return all(git.run("config", "--get", key, ok=(0, 1)).strip() for key in ("user.name", "user.email"))


def push(git: Git, remote: str, commit: str, branch: str, where: str) -> None:
    url = git.remote_url(remote) or remote
    try:  # never forced: if the editor pushed since we looked, the push is refused
        git.network(url, "push", "--quiet", remote, f"{commit}:refs/heads/{branch}")
    except PullRequestError as exc:
        raise PullRequestError(f"could not push {branch} to {remote} ({safe_url(url)}); if it is an "
                               f"https remote, GITHUB_TOKEN needs write access. {exc.message} {where}") from None


