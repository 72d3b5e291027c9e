"""Atomic file writes: a reader, or a crash, sees the old file or the whole new one."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644  # what `touch` makes under the usual umask: readable by all, written by the owner


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` (mode 0644) so that a reader or a crash sees the old file or the whole new one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600: a web server or a colleague could not read the draft
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, value) -> None:
    write_atomic(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def edited_since_written(page: Path, week: Path | None = None) -> bool:
    """Whether `page` (a page or a figure image) differs from what this tool last wrote there, by
    the hash that run.json in `week` (default: the page's own folder) records under the page's
    path relative to `week`; a page with no such record was written by hand."""
    week = week or page.parent
    try:
        written = json.loads((week / "run.json").read_text(encoding="utf-8"))["written"]
    except (OSError, ValueError, KeyError, TypeError):
        written = {}
    return sha256_bytes(page.read_bytes()) != written.get(page.relative_to(week).as_posix())
