"""Atomic file writes: a reader, or a crash, sees the old file or the whole new one.

A week's pages are several files, so a kill can still land between two of them. Before the
tool replaces a page it records the page's new hash in run.json as pending (`record_pending`);
a page that matches what the tool wrote or what it was about to write is the tool's own, so a
half-finished write never looks like an editor's edit."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

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


def read_back(path: Path, load: Callable[[bytes], T], what: str) -> T | None:
    """What `load` makes of the bytes of `path`, a file this tool wrote earlier and reads back (a
    cache entry); None when there is no such file, or when it is damaged in any way (cut short,
    bytes flipped, another shape: whatever `load` raises), which is logged as one warning naming the
    file, so the caller computes the value again. `what` names the kind of entry ("cached taste")."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("%s %s unreadable (%s): computing it again", what, path, exc.strerror or type(exc).__name__)
        return None
    try:
        return load(data)
    except Exception as exc:  # noqa: BLE001 - any damage means the same thing: recompute
        log.warning("%s %s is damaged (%s): computing it again", what, path, type(exc).__name__)
        return None


def write_json(path: Path, value) -> None:
    write_atomic(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def edited_since_written(page: Path, week: Path | None = None) -> bool:
    """Whether `page` (a page or a figure image) differs from what this tool last wrote there, or
    was about to write, by the hashes that run.json in `week` (default: the page's own folder)
    records under the page's path relative to `week` ("written", and "pending" while the tool
    writes); a page with no such record was written by hand."""
    week = week or page.parent
    record, name = _run_record(week), page.relative_to(week).as_posix()
    ours = {_hashes(record, "written").get(name), _hashes(record, "pending").get(name)} - {None}
    return sha256_bytes(page.read_bytes()) not in ours


def record_pending(folder: Path, hashes: dict[str, str]) -> None:
    """Record in `folder`/run.json that the tool is about to write pages with these sha256 hashes
    (path relative to `folder` -> hash); the run.json written after the pages replaces the record."""
    write_json(folder / "run.json", {**_run_record(folder), "pending": hashes})


def _run_record(folder: Path) -> dict:
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _hashes(record: dict, key: str) -> dict:
    value = record.get(key)
    return value if isinstance(value, dict) else {}
