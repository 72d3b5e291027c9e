"""One run at a time per week: a lock file in the cache, named after the week's folder.

Two runs of the same week would pay twice for the same prompts and each would take the other's
pages for an editor's edits. The first run holds `<cache_dir>/locks/<week>-<hash>.lock` (the name
and the hash of the week folder's resolved path, so two digests folders' weeks are two locks and a
week reached through a symlink, `2026-W48 -> 2026-W47`, is one) until it ends;
a second run finds it held and stops at once, before anything is spent. The lock lives outside
the digests folder, so the editor's clone never holds a file the tool left there and a pull
request never carries one. The lock is an OS file lock (filelock), so a killed run never leaves
a stale lock behind; the lock file itself stays in the cache, empty, for the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from filelock import FileLock, Timeout

from flows.errors import ConfigError, DraftError

LOCKS = "locks"  # under the cache folder


class WeekLock:
    """The lock of the week whose draft lives in `folder`, kept under `cache_dir` (Settings.cache_dir:
    every run of a digests folder must share it); `acquire` raises DraftError when another run (any
    process, any thread) holds it, ConfigError when the cache folder cannot hold it. Also a context manager."""

    def __init__(self, folder: Path, cache_dir: Path) -> None:
        self.folder = folder
        real = folder.resolve()  # name and hash alike: a week reached through a symlink is the same lock
        where = hashlib.sha256(str(real).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.path = cache_dir / LOCKS / f"{real.name}-{where}.lock"
        self._lock = FileLock(self.path, timeout=0, thread_local=False)

    def acquire(self) -> WeekLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except Timeout:
            raise DraftError(f"another run holds the week {self.folder.name} ({self.path}); this run stops "
                             "before spending anything. Wait for it to finish, or run another week.") from None
        except OSError as exc:
            raise ConfigError(f"cannot lock the week {self.folder.name} in {str(self.path.parent)!r} "
                              f"({exc.strerror}): give TOP5_CACHE_DIR a folder the run may write in") from None
        legacy = self.folder.parent / f".{self.folder.name}.lock"  # where earlier versions left the lock
        with contextlib.suppress(OSError):  # a digests folder we may not write in says so at its first write
            legacy.unlink(missing_ok=True)
        return self

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> WeekLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
