"""Atomic file writes: a reader, or a crash, sees the old file or the whole new one.

A week's pages are several files, so a kill can still land between two of them. Before the
tool replaces a page it records the page's new hash in run.json as pending (`record_pending`);
a page that matches what the tool wrote or what it was about to write is the tool's own, so a
half-finished write never looks like an editor's edit."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from flows.errors import UnreadableFile

log = logging.getLogger(__name__)
T = TypeVar("T")

FILE_MODE = 0o644  # what `touch` makes under the usual umask: readable by all, written by the owner
MB = 2**20
# The most a file read back may hold, in bytes: a file that is a link to /dev/zero, or a runaway
# write, must be one clear error, not a read that eats the run's memory (2 GB at most).
EDITOR_FILE_LIMIT = 64 * MB  # a week's pages and records are well under 1 MB; the editor's archive pages too
CACHE_ENTRY_LIMIT = 512 * MB  # the largest cache entries are embedding matrices (1 KB a paper: 512k papers)


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


def read_bounded(path: Path, limit: int = EDITOR_FILE_LIMIT) -> bytes:
    """The bytes of `path`, which may hold at most `limit` bytes (EDITOR_FILE_LIMIT, CACHE_ENTRY_LIMIT);
    reads at most `limit` + 1 bytes, so a link to /dev/zero costs no more. Raises UnreadableFile
    naming the file when it holds more, OSError as open() does."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"{path} is larger than {limit // MB} MB, more than any file this tool reads there "
                             "(a link to a device, a runaway write?): restore it from git (git checkout -- FILE)")
    return data


def gzip_lines(path: Path, limit: int, line_limit: int, most_lines: int) -> Iterator[bytes]:
    """The lines of the gzip file `path`, decompressed, one by one (bytes, each with its b"\\n"):
    at most `limit` bytes in all, `line_limit` bytes a line and `most_lines` lines. Decompresses
    no more than that (plus a buffer of 128 KB), so a gzip bomb costs no more. Raises
    UnreadableFile naming the file past a limit; OSError, EOFError and zlib.error as gzip does
    for a missing or damaged file."""
    total = 0
    with gzip.open(path, "rb") as handle:
        for number in range(1, most_lines + 2):
            line = handle.readline(line_limit + 1)
            if not line:
                return
            total += len(line)
            if len(line) > line_limit:
                raise _too_big(path, f"line {number} is longer than {line_limit // MB} MB")
            if total > limit:
                raise _too_big(path, f"it holds more than {limit // MB} MB")
            if number > most_lines:
                raise _too_big(path, f"it has more than {most_lines:,} lines")
            yield line


def _too_big(path: Path, what: str) -> UnreadableFile:
    return UnreadableFile(f"{path}: {what} decompressed, more than any file this tool writes there "
                          "(a gzip bomb, a runaway write?)")


def read_back(path: Path, load: Callable[[bytes], T], what: str) -> T | None:
    """What `load` makes of the bytes of `path`, a file this tool wrote earlier and reads back (a
    cache entry); None when there is no such file, or when it is damaged in any way (cut short,
    bytes flipped, another shape: whatever `load` raises), which is logged as one warning naming the
    file, so the caller computes the value again. `what` names the kind of entry ("cached taste").
    An entry larger than CACHE_ENTRY_LIMIT is damaged too, and is never read whole."""
    try:
        data = read_bounded(path, CACHE_ENTRY_LIMIT)
    except FileNotFoundError:
        return None
    except UnreadableFile:
        log.warning("%s %s is larger than %d MB: computing it again", what, path, CACHE_ENTRY_LIMIT // MB)
        return None
    except OSError as exc:
        log.warning("%s %s unreadable (%s): computing it again", what, path, exc.strerror or type(exc).__name__)
        return None
    try:
        return load(data)
    except Exception as exc:  # noqa: BLE001 - any damage means the same thing: recompute
        log.warning("%s %s is damaged (%s): computing it again", what, path, type(exc).__name__)
        return None


# -- files the editor edits and merges (a week's README.md, candidates.json, run.json) ----------

_CONFLICT = re.compile(r"^(?:<{7}|>{7})(?: |$)|^={7}$", re.MULTILINE)  # what `git merge` leaves in a file


@dataclass(frozen=True)
class EditorText:
    """The text of an editor's file, and how it was read when that was not plain UTF-8 (a note
    for the draft's flags, naming the file), else None."""

    text: str
    note: str | None = None


def read_editor_text(path: Path) -> EditorText:
    """The text of `path`, a file the editor may have saved in another encoding, as
    editor_text() decodes it. Raises OSError as open() does, UnreadableFile naming the file when
    it is larger than EDITOR_FILE_LIMIT."""
    return editor_text(read_bounded(path), str(path))


def editor_text(data: bytes, where: str) -> EditorText:
    """`data` (a file the editor may have saved in another encoding, named `where` in the note) as
    text: UTF-8 (a BOM is dropped), else the encoding charset-normalizer detects, else UTF-8 with
    U+FFFD for each byte that is not; either of the last two comes with a note saying so."""
    try:
        return EditorText(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    import charset_normalizer  # only for the rare file that is not UTF-8

    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return EditorText(str(best), f"{where} is not UTF-8: read as {best.encoding}; save it as UTF-8 to be sure "
                                     "it reads as you meant")
    return EditorText(data.decode("utf-8", errors="replace"),
                      f"{where} is not UTF-8 and its encoding could not be told: unreadable bytes were replaced "
                      "by \ufffd; save it as UTF-8")


RESTORE = "restore it from git (git checkout -- FILE)"


def parse_json(data: str | bytes, path: Path | str) -> object:
    """The JSON value of `data`, the content of `path` (a file this tool reads back: a week's
    record, the history, a cache entry, a page shown from git). Raises UnreadableFile (a
    ValueError) naming `path` when it is not JSON, nesting deeper than the parser can follow
    (a RecursionError, not a ValueError, from json) and an escaped lone surrogate (json reads it,
    but no text holding it can be encoded, hashed or written) included; never a traceback."""
    try:
        value = json.loads(data)
        if _SURROGATE_ESCAPE.search(data if isinstance(data, str) else data.decode("utf-8", "replace")):
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone half of a pair cannot be written back
        return value
    except RecursionError:
        why = "nested too deeply to be read"
    except UnicodeEncodeError:
        why = "a \\ud800-\\udfff escape that is half of a character"
    except ValueError as exc:  # UnicodeDecodeError too
        why = str(exc)[:200]
    raise UnreadableFile(f"{path} is not valid JSON ({why}): {RESTORE}")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # JSON may escape one half of a pair alone


def editor_json(text: str, path: Path | str, shape: type = dict) -> object:
    """The JSON value of `text`, the content of `path` (an editor's or our own file of a week
    folder, read from disk or from git), which must be a `shape`. Raises UnreadableFile naming
    the file and what to do: git merge-conflict markers, invalid or too deeply nested JSON,
    another shape."""
    if _CONFLICT.search(text):
        raise UnreadableFile(f"{path} holds git merge-conflict markers (<<<<<<< ... >>>>>>>): resolve the "
                             "conflict, keeping one side, and commit")
    value = parse_json(text, path)
    if not isinstance(value, shape):
        raise UnreadableFile(f"{path} holds a JSON {type(value).__name__}, not the {shape.__name__} the tool "
                             "wrote: restore it from git")
    return value


def read_editor_json(path: Path, shape: type = dict) -> object:
    """The JSON value of `path` (an editor's or our own file of a week folder), which must be a
    `shape`. Raises UnreadableFile naming the file and what to do (see editor_json; also when it
    is larger than EDITOR_FILE_LIMIT); OSError as open() does."""
    return editor_json(read_editor_text(path).text, path, shape)


def has_conflict_markers(text: str) -> bool:
    """Whether `text` holds the lines `git merge` writes around a conflict."""
    return bool(_CONFLICT.search(text))


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
    return sha256_bytes(read_bounded(page)) not in ours


def record_pending(folder: Path, hashes: dict[str, str]) -> None:
    """Record in `folder`/run.json that the tool is about to write pages with these sha256 hashes
    (path relative to `folder` -> hash); the run.json written after the pages replaces the record."""
    write_json(folder / "run.json", {**_run_record(folder), "pending": hashes})


def _run_record(folder: Path) -> dict:
    try:
        return read_editor_json(folder / "run.json")
    except (OSError, ValueError):
        return {}


def _hashes(record: dict, key: str) -> dict:
    value = record.get(key)
    return value if isinstance(value, dict) else {}
