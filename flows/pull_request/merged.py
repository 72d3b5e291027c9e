"""Learning from the merge: what the editor merged into the base branch (covered papers, final
picks, final text) and what this tool proposed, read from git objects rather than the working
tree, so drafts that were never merged do not count."""

from __future__ import annotations

import logging
from pathlib import Path

from flows.candidates.ledger import ordered_ids
from flows.config import Settings
from flows.errors import ConfigError, DraftError
from flows.files import EDITOR_FILE_LIMIT, MB, editor_json, editor_text
from flows.pull_request.git import TRAILER, Git, in_git_repo, toplevel
from flows.records import shaped

log = logging.getLogger(__name__)


def merged_picks(repo_path: Path | str, main_branch: str = "main",
                 digests_subdir: str = "digests") -> dict[str, list[str]]:
    """Week -> arXiv ids (no version) the digest on `main_branch` covers, in page order.

    Read from git objects (papers.md, else README.md), not the working tree, so drafts that
    were never merged do not count.
    """
    pages = _pages_on(Git(Path(repo_path)), main_branch, digests_subdir)
    return {week: ordered_ids(found.get("papers.md") or found["README.md"]) for week, found in sorted(pages.items())}


def merged_readmes(digests_dir: Path, settings: Settings | None = None) -> dict[str, str]:
    """Week -> the README.md merged into the base branch: the editor's final text. The remote's
    base as last fetched wins over a local one; empty outside a git repository."""
    found: dict[str, str] = {}
    for git, ref, subdir in _bases(digests_dir, settings):
        for week, pages in _pages_on(git, ref, subdir).items():
            if "README.md" in pages:
                found[week] = pages["README.md"]
    return found


def merged_pages(digests_dir: Path, names: tuple[str, ...],
                 settings: Settings | None = None) -> dict[str, dict[str, str]]:
    """Week folder -> {file name: text} of the files `names` (e.g. candidates.json) of each
    folder merged into the base branch; the remote's base as last fetched wins over a local one.
    Empty outside a git repository."""
    found: dict[str, dict[str, str]] = {}
    for git, ref, subdir in _bases(digests_dir, settings):
        for week, pages in _pages_on(git, ref, subdir, names).items():
            found[week] = {**found.get(week, {}), **pages}
    return found


def _bases(digests_dir: Path, settings: Settings | None):
    """(git, ref, digests subdir) for the local base branch, then the remote-tracking one."""
    settings = settings or Settings.from_env()
    if settings.digests_repo is None and not in_git_repo(digests_dir):
        return
    repo = toplevel(settings.digests_repo or digests_dir)
    where = Path(digests_dir).resolve()
    subdir = where.relative_to(repo.resolve()).as_posix() if where.is_relative_to(repo.resolve()) \
        else settings.digests_subdir
    git = Git(repo)
    for ref in (f"refs/heads/{settings.digests_base}", f"refs/remotes/{settings.digests_remote}/{settings.digests_base}"):
        if git.rev(ref):
            yield git, ref, subdir


def _pages_on(git: Git, branch: str, digests_subdir: str,
              names: tuple[str, ...] = ("papers.md", "README.md")) -> dict[str, dict[str, str]]:
    """Week -> {page name: text} of the digests' files `names` (README.md and papers.md) on `branch`."""
    ref = git.rev(branch if branch.startswith("refs/") else f"refs/heads/{branch}")
    if not ref:
        raise ConfigError(f"branch {branch} not found in {git.repo}")
    prefix = digests_subdir.strip("/") + "/"
    pages: dict[str, dict[str, str]] = {}
    for entry in git.run("ls-tree", "-r", "-z", "--format=%(objectsize) %(path)", ref, "--", prefix).split("\0"):
        size, _, name = entry.partition(" ")
        parts = name.removeprefix(prefix).split("/")
        if len(parts) == 2 and parts[1] in names:
            where = f"{name} on {branch.removeprefix('refs/heads/')}"
            if not size.isdigit() or int(size) > EDITOR_FILE_LIMIT:  # "-" for a submodule
                log.warning("%s is left out: not a file, or over %d MB", where, EDITOR_FILE_LIMIT // MB)
                continue
            read = editor_text(git.output("show", f"{ref}:{name}"), where)
            if read.note:
                log.warning("%s", read.note)
            pages.setdefault(parts[0], {})[parts[1]] = read.text
    return pages


def covered_on_main(digests_dir: Path, settings: Settings | None = None,
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
    else the remote-tracking one), or None when there is no such branch. Raises UnreadableFile
    naming the commit's candidates.json when it is not shaped as the tool wrote it."""
    git = Git(Path(repo_path))
    for ref in (f"refs/heads/digest/{week}", f"refs/remotes/{remote}/digest/{week}"):
        if not git.rev(ref):
            continue
        drafted = git.run("log", "-1", "--format=%H", f"--grep=^{TRAILER}$", ref).strip()
        if drafted:
            path = f"{drafted}:{digests_subdir.strip('/')}/{week}/candidates.json"
            return shaped(editor_json(git.run("show", path, error=DraftError), path), path, "candidates.json")["picks"]
    return None


def swaps(draft: list[str], merged: list[str]) -> tuple[list[str], list[str]]:
    """(picks the editor dropped, papers the editor added)."""
    return [i for i in draft if i not in merged], [i for i in merged if i not in draft]

