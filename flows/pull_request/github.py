"""Pull requests: the week's draft committed to branch digest/<week>, pushed, and opened (or
updated) as a GitHub pull request for the editor to review, edit and merge.

The user's checkout is never touched: the commit is built with git plumbing in a temporary
index (hash-object, update-index, write-tree, commit-tree) and only refs move. Every commit
this tool makes ends with the trailers

    Drafted-by: weekly-top5
    Draft-tree: <the commit's own tree>

so a re-run can tell its own branch tip from an editor's (no trailers, or a tree that differs
from the recorded one, as after an amend) and stops instead of building over the editor's work.

The token only ever travels in HTTP headers: httpx's Authorization header for the REST API,
and git's http.extraHeader handed over in the environment (GIT_CONFIG_*), never in argv,
.git/config or a remote URL.

The merge side of the ledger lives here too: merged_picks() reads what main published,
draft_picks() what the tool proposed, both from git objects rather than the working tree.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, Field, field_validator
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from flows.candidates.ledger import ordered_ids
from flows.config import from_env
from flows.errors import ConfigError, DraftError, PullRequestError
from flows.http import safe_url
from flows.text import clip
from flows.text import redact as redact_secrets

log = logging.getLogger(__name__)

TOOL = "weekly-top5"
TRAILER = f"Drafted-by: {TOOL}"
IDENTITY = ("-c", f"user.name={TOOL}", "-c", f"user.email={TOOL}@localhost")
ZERO = "0" * 40
API_ATTEMPTS = 3  # for 5xx, 429 and dropped connections only; any other 4xx fails at once
API_BACKOFF = 0.5  # seconds before the second try, doubled after, at most 4 s
NETWORK_TIMEOUT = 300  # seconds for one git command that talks to the remote
BODY_LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters
CHECKLIST = (
    "every number checked against the paper",
    "figures added",
    "names and takes in my voice",
    "draft notes (⚠️) and banners resolved",
    "runners-up considered (swap a pick?)",
)

# set by hooks or a caller's shell, they would point our git at another repository or index
_LOCATION_VARS = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
                  "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX"}
_ENV = {
    "GITHUB_TOKEN": "token",
    "GITHUB_REPOSITORY": "repository",
    "GITHUB_API_URL": "api_url",
    "TOP5_DIGESTS_REPO": "repo_path",
    "TOP5_DIGESTS_REMOTE": "remote",
    "TOP5_DIGESTS_BASE": "base",
}


class PullRequestSettings(BaseModel):
    """Where the draft goes. Without a token (or without the remote) it stays on a local branch."""

    token: str | None = Field(None, repr=False)
    repository: str | None = None  # owner/name
    api_url: str = "https://api.github.com"
    repo_path: Path | None = None  # default: the git repository that contains the week's folder
    remote: str = "origin"
    base: str = "main"
    digests_subdir: str = "digests"  # where the week goes when its folder is outside repo_path

    @field_validator("repository")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError(f"must be owner/name, got {value!r}")
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> PullRequestSettings:
        return from_env(cls, _ENV, env, "pull request settings")


@dataclass(frozen=True)
class PullRequest:
    branch: str
    commit: str
    url: str | None
    number: int | None
    created: bool
    message: str


def open_pull_request(week_dir: Path | str, settings: PullRequestSettings | None = None) -> PullRequest:
    """Commit `week_dir` (only that folder) to branch digest/<week>, push it and open or update
    its pull request. Without a token or a remote: the local branch only, and how to review it.

    Raises DraftError (nothing written) when the branch holds commits this tool did not make,
    ConfigError for a missing repository or base branch, PullRequestError when git push or
    GitHub refuses (the local commit stays).
    """
    settings = settings or PullRequestSettings.from_env()
    folder = Path(week_dir).resolve()
    _check_folder(folder)
    body = pull_request_body(folder)  # unreadable JSON fails here, before anything is written
    week, branch, base = folder.name, f"digest/{folder.name}", settings.base
    git = _Git(_toplevel(settings.repo_path or folder), settings.token)
    path = _path_in_repo(git.repo, folder, settings.digests_subdir)
    url, base_tip, remote_tip, local_tip = _branch_state(git, settings, week)
    online = bool(settings.token and url)

    parent = remote_tip or local_tip or base_tip
    commit = _commit_folder(git, parent, path, folder, week)
    if commit == base_tip:
        return PullRequest(branch, commit, None, None, False,
                           f"{path} on {base} already matches the draft: nothing to propose.")
    git.run("update-ref", "-m", f"{TOOL}: draft {week}", f"refs/heads/{branch}", commit, local_tip or ZERO)
    if not online:
        why = "no GITHUB_TOKEN" if not settings.token else f"no remote {settings.remote!r} in {git.repo}"
        message = _how_to_review(branch, base, commit, git.repo, why)
        log.info("%s", message)
        return PullRequest(branch, commit, None, None, False, message)

    where = _how_to_review(branch, base, commit, git.repo, "")
    with _GitHub(settings, branch, where) as github:
        existing = github.find_open()  # before pushing: a bad token or repository fails here
        if commit != remote_tip:
            _push(git, settings.remote, commit, branch, where)
        if existing:
            pr = github.update(existing["number"], keep_ticks(existing.get("body") or "", body))
        else:
            pr = github.create(f"Weekly top 5: {week} draft", body)
    verb = "Updated" if existing else "Opened"
    moved = "" if commit != remote_tip else " (the draft was unchanged)"
    message = f"{verb} pull request #{pr['number']} {pr['html_url']} from {branch} at {commit[:12]}{moved}."
    log.info("%s", message)
    return PullRequest(branch, commit, pr["html_url"], pr["number"], not existing, message)


def check_branch(week_dir: Path | str, settings: PullRequestSettings | None = None) -> None:
    """Before a run spends anything: raise DraftError if digest/<week> holds commits this tool
    did not make (locally or on the remote), so the run stops having written nothing."""
    settings = settings or PullRequestSettings.from_env()
    folder = Path(week_dir).resolve()
    probe = next(p for p in (folder, *folder.parents) if p.exists())
    _branch_state(_Git(_toplevel(settings.repo_path or probe), settings.token), settings, folder.name)


def _branch_state(git: _Git, settings: PullRequestSettings, week: str):
    """(remote url, base tip, remote branch tip, local branch tip), after refusing a branch that
    is checked out or holds someone else's commits."""
    branch, base = f"digest/{week}", settings.base
    _refuse_checked_out(git, branch)
    if settings.token and not settings.repository:
        raise ConfigError("GITHUB_TOKEN is set but GITHUB_REPOSITORY (owner/name) is not: "
                          "set it to the repository the pull request is for")
    url = git.remote_url(settings.remote)
    remote_tip = None
    if settings.token and url:
        base_tip, remote_tip = _fetch(git, settings.remote, url, base, branch)
        if remote_tip and not _made_here(git, remote_tip):
            raise DraftError(
                f"branch {branch} on {settings.remote} has commits this tool did not make (its tip "
                f"{remote_tip[:12]} is not a weekly-top5 draft): the editor's work is kept, nothing "
                f"was committed or pushed. Merge or close that pull request, or delete the branch, "
                f"to draft {week} again.")
    else:
        base_tip = git.rev(f"refs/heads/{base}")
        if not base_tip:
            raise ConfigError(f"branch {base} not found in {git.repo}: set TOP5_DIGESTS_BASE to the "
                              "branch the digests are merged into")
    local_tip = git.rev(f"refs/heads/{branch}")
    if local_tip and local_tip != remote_tip and not _made_here(git, local_tip):
        raise DraftError(f"local branch {branch} in {git.repo} has commits this tool did not make "
                         f"(tip {local_tip[:12]}): nothing was committed. Push or move them, or "
                         f"delete the branch, to draft {week} again.")
    return url, base_tip, remote_tip, local_tip


# --- the pull request's body -------------------------------------------------------------

def keep_ticks(old: str, new: str) -> str:
    """`new` with the checklist items the editor already ticked in `old` still ticked."""
    ticked = {line[len("- [x] "):] for line in old.splitlines() if line.lower().startswith("- [x] ")}
    return "\n".join(f"- [x] {line[6:]}" if line.startswith("- [ ] ") and line[6:] in ticked else line
                     for line in new.split("\n"))


def pull_request_body(week_dir: Path | str) -> str:
    """The pull request's markdown, from the week's run.json and candidates.json."""
    folder = Path(week_dir)
    return render_body(_read_json(folder / "run.json"), _read_json(folder / "candidates.json"))


def render_body(run: dict, candidates: dict) -> str:
    rows = {row.get("arxiv_id"): row for row in candidates.get("candidates", [])}
    window = run.get("window", {})
    lines = [f"Draft of the weekly top 5 for **{_inline(run.get('week', '?'))}** "
             f"({_inline(window.get('start', '?'))} to {_inline(window.get('end', '?'))}), written by "
             f"{TOOL}. Edit `README.md` and `papers.md` on this branch, tick the checklist, then merge.",
             "", "## Picks", ""]
    lines += [_paper_line(i, aid, rows.get(aid, {})) for i, aid in enumerate(candidates.get("picks", []), 1)]
    first = len(candidates.get("picks", [])) + 1
    runners = candidates.get("runners_up", [])
    lines += ["", "## Runners-up", ""]
    lines += [_paper_line(i, r.get("arxiv_id", "?"), {**rows.get(r.get("arxiv_id"), {}), **r})
              for i, r in enumerate(runners, first)] or ["None."]
    lines += ["", "## Flags", ""]
    lines += [f"- ⚠️ {_inline(flag, 600)}" for flag in run.get("flags", [])] or ["None."]
    lines += ["", "## Run", "", f"- Funnel: {_funnel(run.get('counts', {}))}", *_model_lines(run)]
    lines += ["", "## Review checklist", "", *[f"- [ ] {item}" for item in CHECKLIST], ""]
    body = "\n".join(lines)
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + "\n\n… (cut: see run.json and candidates.json on this branch)\n"
    return body


def _paper_line(place: int, arxiv_id: str, row: dict) -> str:
    reason = _inline(row.get("reason") or "no reason recorded")
    rank = f" (shortlist rank {row['rank']})" if row.get("rank") else ""
    return (f"{place}. [{_inline(row.get('title') or arxiv_id, 200)}](https://arxiv.org/abs/"
            f"{_inline(arxiv_id, 40)}){rank}: {reason}")


def _funnel(counts: dict) -> str:
    steps = [f"{counts.get('candidates', '?')} candidates"]
    if "new" in counts:
        steps.append(f"{counts['new']} new ({counts.get('featured_before', 0)} featured before)")
    steps += [f"{counts.get('shortlist', '?')} shortlisted", f"{counts.get('picks', '?')} picks"]
    tail = f" ({counts['pdf_text']} with PDF text)" if "pdf_text" in counts else ""
    return " → ".join(steps) + tail


def _model_lines(run: dict) -> list[str]:
    llm, total = run.get("llm", {}), run.get("tokens", {}).get("total", {})
    models = ", ".join(f"{stage}: `{_inline(m, 80)}`" for stage, m in llm.get("models", {}).items()) or "?"
    where = " (offline embedded model)" if llm.get("offline") else (
        f" at {_inline(llm['base_url'], 120)}" if llm.get("base_url") else "")
    cost = "no cost (local model)" if llm.get("offline") else f"${total.get('cost_usd', 0):.4f}"
    return [f"- Model: {models}{where}",
            f"- Tokens: {total.get('prompt_tokens', 0):,} prompt + {total.get('completion_tokens', 0):,} "
            f"completion in {total.get('requests', 0)} requests ({total.get('cached', 0)} cached)",
            f"- Cost: {cost}"]


def _inline(value, limit: int = 300) -> str:
    """Paper and LLM text as one inert line: no HTML, no @mentions that would notify people."""
    text = " ".join(str(value).split())
    return clip(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;"), limit)


# --- git -------------------------------------------------------------------------------

class _Git:
    """git in one repository, with a clean environment and never a secret on the command line."""

    def __init__(self, repo: Path, secret: str | None = None):
        self.repo = repo
        self.secret = secret
        self.env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
        self.env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")  # never wait for a password prompt

    def run(self, *args: str, data: bytes | None = None, env: dict | None = None,
            timeout: float = 60, error=PullRequestError, ok: tuple[int, ...] = (0,)) -> str:
        try:
            done = subprocess.run(["git", "-C", str(self.repo), *args], input=data, capture_output=True,
                                  env={**self.env, **(env or {})}, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise error(f"git {args[0]} in {self.repo} took over {timeout:.0f} s") from None
        if done.returncode not in ok:
            stderr = done.stderr.decode("utf-8", "replace").strip()
            raise error(redact(f"git {args[0]} failed in {self.repo}: {stderr}", self.secret))
        return done.stdout.decode("utf-8", "surrogateescape")

    def rev(self, ref: str) -> str | None:
        return self.run("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", ok=(0, 1)).strip() or None

    def remote_url(self, remote: str) -> str | None:
        return self.run("remote", "get-url", remote, ok=(0, 2)).strip() or None

    def network(self, url: str, *args: str, error=PullRequestError) -> str:
        """A command that talks to the remote: over http(s) the token goes in a header, via env."""
        env = {}
        if self.secret and url.startswith(("http://", "https://")):
            basic = base64.b64encode(f"x-access-token:{self.secret}".encode()).decode()
            env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                   "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}"}
        return self.run(*args, env=env, timeout=NETWORK_TIMEOUT, error=error)


def redact(text: str, secret: str | None) -> str:
    """`text` without the token, nor the token as git sends it (Basic x-access-token:<token>)."""
    basic = base64.b64encode(f"x-access-token:{secret}".encode()).decode() if secret else None
    return redact_secrets(text, [secret, basic])


def _check_folder(folder: Path) -> None:
    missing = [name for name in ("run.json", "candidates.json") if not (folder / name).is_file()]
    if missing:
        raise DraftError(f"{folder} is not a finished draft (no {', '.join(missing)}): run the week first")


def proposing(folder: Path) -> bool:
    """Whether a draft in `folder` goes to a branch and pull request: TOP5_DIGESTS_REPO is set or
    the digests are in a git repository."""
    return PullRequestSettings.from_env().repo_path is not None or in_git_repo(folder.parent)


def in_git_repo(path: Path) -> bool:
    try:
        _toplevel(path)
    except ConfigError:
        return False
    return True


def _toplevel(path: Path) -> Path:
    start = Path(path)
    probe = start if start.is_dir() else start.parent
    try:
        return Path(_Git(probe).run("rev-parse", "--show-toplevel", error=ConfigError).strip())
    except ConfigError:
        raise ConfigError(f"{start} is not inside a git working tree: set TOP5_DIGESTS_REPO to the "
                          "digests repository (a clone with a remote), or `git init` one") from None


def _path_in_repo(repo: Path, folder: Path, digests_subdir: str) -> str:
    if folder.is_relative_to(repo.resolve()):
        return folder.relative_to(repo.resolve()).as_posix()
    return f"{digests_subdir.strip('/')}/{folder.name}"


def _refuse_checked_out(git: _Git, branch: str) -> None:
    listing = git.run("worktree", "list", "--porcelain")
    if f"branch refs/heads/{branch}\n" in listing + "\n":
        raise DraftError(f"branch {branch} is checked out in {git.repo} (or one of its worktrees): "
                         "switch to another branch so the draft can move it without touching your files")


def _fetch(git: _Git, remote: str, url: str, base: str, branch: str) -> tuple[str, str | None]:
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


def _made_here(git: _Git, sha: str) -> bool:
    message = git.run("log", "-1", "--format=%B", sha)
    trailers = dict(line.split(": ", 1) for line in message.strip().splitlines()[-2:] if ": " in line)
    tree = git.run("rev-parse", f"{sha}^{{tree}}").strip()
    return trailers.get("Drafted-by") == TOOL and trailers.get("Draft-tree") == tree


def _commit_folder(git: _Git, parent: str, path: str, folder: Path, week: str) -> str:
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
    identity = () if _has_identity(git) else IDENTITY
    return git.run(*identity, "commit-tree", tree, "-p", parent, data=message.encode()).strip()


def _has_identity(git: _Git) -> bool:
    return all(git.run("config", "--get", key, ok=(0, 1)).strip() for key in ("user.name", "user.email"))


def _push(git: _Git, remote: str, commit: str, branch: str, where: str) -> None:
    url = git.remote_url(remote) or remote
    try:  # never forced: if the editor pushed since we looked, the push is refused
        git.network(url, "push", "--quiet", remote, f"{commit}:refs/heads/{branch}")
    except PullRequestError as exc:
        raise PullRequestError(f"could not push {branch} to {remote} ({safe_url(url)}); if it is an "
                               f"https remote, GITHUB_TOKEN needs write access. {exc.message} {where}") from None


def _how_to_review(branch: str, base: str, commit: str, repo: Path, why: str) -> str:
    head = f"Draft committed on local branch {branch} at {commit[:12]} in {repo}"
    head += f"; not pushed ({why})." if why else "."
    return (f"{head} Review it with `git diff {base}...{branch}` (or `git log -p {base}..{branch}`, "
            f"`git switch {branch}`).")


# --- GitHub's REST API ---------------------------------------------------------------------

class _Transient(Exception):
    """A 5xx or 429 answer: worth another try."""


class _GitHub:
    """The three pull-request endpoints, one branch, errors that say what to fix."""

    def __init__(self, settings: PullRequestSettings, branch: str, where: str):
        self.settings, self.branch, self.where = settings, branch, where
        self.repo = settings.repository
        self.client = httpx.Client(base_url=settings.api_url, timeout=30, headers={
            "Authorization": f"Bearer {settings.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": TOOL,
        })

    def __enter__(self) -> _GitHub:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def find_open(self) -> dict | None:
        owner = self.repo.split("/")[0]
        found = self._call("GET", f"/repos/{self.repo}/pulls", "look up pull requests",
                           params={"head": f"{owner}:{self.branch}", "state": "open"})
        return found[0] if found else None

    def create(self, title: str, body: str) -> dict:
        return self._call("POST", f"/repos/{self.repo}/pulls", "open a pull request",
                          json={"title": title, "head": self.branch, "base": self.settings.base, "body": body})

    def update(self, number: int, body: str) -> dict:
        return self._call("PATCH", f"/repos/{self.repo}/pulls/{number}", f"update pull request #{number}",
                          json={"body": body})

    def _call(self, method: str, path: str, action: str, **kwargs):
        try:
            response = self._send(method, path, **kwargs)
        except (_Transient, httpx.TransportError) as exc:
            raise PullRequestError(redact(
                f"GitHub API at {self.settings.api_url} could not {action} after {API_ATTEMPTS} tries "
                f"({type(exc).__name__}: {exc}). {self.where}", self.settings.token)) from None
        if response.status_code >= 400:
            raise PullRequestError(redact(self._explain(response, action), self.settings.token))
        return response.json()

    @retry(retry=retry_if_exception_type((_Transient, httpx.TransportError)), reraise=True,
           stop=stop_after_attempt(API_ATTEMPTS), wait=wait_exponential(multiplier=API_BACKOFF, max=4))
    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 500 or response.status_code == 429:
            raise _Transient(f"{response.status_code} {_github_message(response)}")
        return response

    def _explain(self, response: httpx.Response, action: str) -> str:
        status, said, repo = response.status_code, _github_message(response), self.repo
        if status == 401:
            what = f"GitHub rejected GITHUB_TOKEN (401 {said}): set GITHUB_TOKEN to a valid token for {repo}."
        elif status == 403:
            what = (f"GITHUB_TOKEN may not {action} in {repo} (403 {said}): it needs 'Pull requests: "
                    f"read and write' and 'Contents: read and write' on {repo} (or a rate limit was hit).")
        elif status == 404:
            what = (f"GitHub found no repository {repo} (404 {said}) when trying to {action}: check "
                    f"GITHUB_REPOSITORY (owner/name) and that GITHUB_TOKEN can see it.")
        elif status == 422:
            what = (f"GitHub refused to {action} from {self.branch} into {self.settings.base} (422 {said}): "
                    f"check that {self.branch} was pushed to {repo} and differs from {self.settings.base}.")
        else:
            what = f"GitHub answered {status} ({said}) when trying to {action} in {repo}."
        return f"{what} {self.where}"


def _github_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return _inline(response.text or response.reason_phrase, 200)
    if not isinstance(data, dict):
        return response.reason_phrase
    details = [e.get("message") or f"{e.get('field', '')} {e.get('code', '')}".strip()
               for e in data.get("errors", []) if isinstance(e, dict)]
    return _inline(": ".join(filter(None, [data.get("message", ""), "; ".join(details)])), 300)


# --- learning from the merge ---------------------------------------------------------------

def merged_picks(repo_path: Path | str, main_branch: str = "main",
                 digests_subdir: str = "digests") -> dict[str, list[str]]:
    """Week -> arXiv ids (no version) the digest on `main_branch` covers, in page order.

    Read from git objects (papers.md, else README.md), not the working tree, so drafts that
    were never merged do not count.
    """
    pages = _pages_on(_Git(Path(repo_path)), main_branch, digests_subdir)
    return {week: ordered_ids(found.get("papers.md") or found["README.md"]) for week, found in sorted(pages.items())}


def merged_readmes(digests_dir: Path, settings: PullRequestSettings | None = None) -> dict[str, str]:
    """Week -> the README.md merged into the base branch: the editor's final text. The remote's
    base as last fetched wins over a local one; empty outside a git repository."""
    found: dict[str, str] = {}
    for git, ref, subdir in _bases(digests_dir, settings):
        for week, pages in _pages_on(git, ref, subdir).items():
            if "README.md" in pages:
                found[week] = pages["README.md"]
    return found


def _bases(digests_dir: Path, settings: PullRequestSettings | None):
    """(git, ref, digests subdir) for the local base branch, then the remote-tracking one."""
    settings = settings or PullRequestSettings.from_env()
    if settings.repo_path is None and not in_git_repo(digests_dir):
        return
    repo = _toplevel(settings.repo_path or digests_dir)
    where = Path(digests_dir).resolve()
    subdir = where.relative_to(repo.resolve()).as_posix() if where.is_relative_to(repo.resolve()) \
        else settings.digests_subdir
    git = _Git(repo)
    for ref in (f"refs/heads/{settings.base}", f"refs/remotes/{settings.remote}/{settings.base}"):
        if git.rev(ref):
            yield git, ref, subdir


def _pages_on(git: _Git, branch: str, digests_subdir: str) -> dict[str, dict[str, str]]:
    """Week -> {page name: text} of the digests' README.md and papers.md on `branch`."""
    ref = git.rev(branch if branch.startswith("refs/") else f"refs/heads/{branch}")
    if not ref:
        raise ConfigError(f"branch {branch} not found in {git.repo}")
    prefix = digests_subdir.strip("/") + "/"
    pages: dict[str, dict[str, str]] = {}
    for name in git.run("ls-tree", "-r", "-z", "--name-only", ref, "--", prefix).split("\0"):
        parts = name.removeprefix(prefix).split("/")
        if len(parts) == 2 and parts[1] in ("papers.md", "README.md"):
            pages.setdefault(parts[0], {})[parts[1]] = git.run("show", f"{ref}:{name}")
    return pages


def covered_on_main(digests_dir: Path, settings: PullRequestSettings | None = None,
                    except_week: str | None = None) -> set[str]:
    """arXiv ids the digests merged into the base branch cover, locally or on the remote as last
    fetched (check_branch fetches it): a server's clone nobody pulls still sees the merges."""
    covered: set[str] = set()
    for git, ref, subdir in _bases(digests_dir, settings):
        for week, found in _pages_on(git, ref, subdir).items():
            if week != except_week:
                covered.update(ordered_ids(found.get("papers.md") or found["README.md"]))
    return covered


def draft_picks(repo_path: Path | str, week: str, remote: str = "origin",
                digests_subdir: str = "digests") -> list[str] | None:
    """The picks of the newest draft this tool committed on digest/<week> (the local branch,
    else the remote-tracking one), or None when there is no such branch."""
    git = _Git(Path(repo_path))
    for ref in (f"refs/heads/digest/{week}", f"refs/remotes/{remote}/digest/{week}"):
        if not git.rev(ref):
            continue
        drafted = git.run("log", "-1", "--format=%H", f"--grep=^{TRAILER}$", ref).strip()
        if drafted:
            path = f"{drafted}:{digests_subdir.strip('/')}/{week}/candidates.json"
            return list(json.loads(git.run("show", path, error=DraftError))["picks"])
    return None


def swaps(draft: list[str], merged: list[str]) -> tuple[list[str], list[str]]:
    """(picks the editor dropped, papers the editor added)."""
    return [i for i in draft if i not in merged], [i for i in merged if i not in draft]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DraftError(f"{path} could not be read as JSON: {exc}") from None
