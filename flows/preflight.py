"""What a run is asked to do, checked before anything is spent: no Prefect server started, no
arXiv request, no LLM token. The command line calls check_run() before it imports Prefect,
and the flow calls it again first thing (a deployment's parameters come from elsewhere).
Each problem is one ConfigError naming the argument or setting at fault."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flows import candidates, summaries
from flows.config import DEFAULT_CATEGORIES, Settings
from flows.errors import ConfigError

TOP_K = range(1, 11)  # a "top 5" digest; more than 10 sections is a typo, not a digest


@dataclass(frozen=True)
class RunRequest:
    """A run's arguments, checked: categories as arXiv spells them, a style that exists."""

    week: str | None
    start: str | None
    end: str | None
    categories: list[str]
    top_k: int
    digests_dir: str
    style: str


def check_run(*, week: str | None = None, start: str | None = None, end: str | None = None,
              categories: str | Iterable[str] | None = None, top_k: int = 5, digests_dir: str = "digests",
              style: str | None = None, settings: Settings | None = None) -> RunRequest:
    """The run's arguments checked and normalised; ConfigError names the first bad one.
    Settings are read from the environment when not given (a bad variable is an error too)."""
    settings = settings or Settings.from_env()
    week = _check_window(week, start, end)
    if top_k not in TOP_K:
        raise ConfigError(f"--top-k / top_k must be {TOP_K.start}..{TOP_K.stop - 1}, got {top_k}")
    if not str(digests_dir).strip():
        raise ConfigError("--digests-dir / digests_dir is empty: give a folder for the drafts (default: digests)")
    check_digests_dir(Path(digests_dir))
    style = style or settings.style
    summaries.digest_style_dir(style, review=False)
    chosen = candidates.parse_categories(DEFAULT_CATEGORIES if categories is None else categories)
    return RunRequest(week, start, end, chosen, top_k, digests_dir, style)


def check_digests_dir(path: Path) -> None:
    """ConfigError when `path` (or the nearest part of it that exists) is not a folder we may write in."""
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        what = "is a file" if existing == path else f"is under {existing}, which is a file"
        raise ConfigError(f"--digests-dir / digests_dir {str(path)!r} {what}: give a folder for the drafts")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--digests-dir / digests_dir {str(path)!r}: {existing} is not writable")


def _check_window(week: str | None, start: str | None, end: str | None) -> str | None:
    """The week as arXiv's calendar spells it ("2026-w47" -> "2026-W47"), after checking that the
    window can be drafted now (a complete week, a window that has begun)."""
    if (start is None) != (end is None):
        raise ConfigError("--start and --end go together")
    if start:
        candidates.check_complete(candidates.window_between(start, end))
    elif week:
        return candidates.check_complete(candidates.window_for_week(week)).label
    return week
