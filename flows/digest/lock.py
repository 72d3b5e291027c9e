"""One run at a time per week: a lock file next to the week's folder.

Two runs of the same week would pay twice for the same prompts and each would take the other's
pages for an editor's edits. The first run holds `.<week>.lock` in the digests folder (a dotfile:
never part of a pull request) until it ends; a second run finds it held and stops at once,
before anything is spent. The lock is an OS file lock (filelock), so a killed run never leaves
a stale lock behind.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from flows.errors import ConfigError, DraftError


class WeekLock:
    """The lock of the week whose draft lives in `folder`; `acquire` raises DraftError when
    another run (any process, any thread) holds it. Also a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder.parent / f".{folder.name}.lock"
        self._lock = FileLock(self.path, timeout=0, thread_local=False)
        self._made_folder = False

    def acquire(self) -> WeekLock:
        self._made_folder = not self.path.parent.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--digests-dir / digests_dir {str(self.path.parent)!r} cannot be made "
                              f"({exc.strerror}): give a folder the run may write in") from None
        try:
            self._lock.acquire()
        except Timeout:
            raise DraftError(f"another run holds the week {self.folder.name} ({self.path}); this run stops "
                             "before spending anything. Wait for it to finish, or run another week.") from None
        except OSError as exc:
            raise ConfigError(f"cannot lock the week in {str(self.path.parent)!r} ({exc.strerror}): give "
                              "--digests-dir / digests_dir a folder the run may write in") from None
        return self

    def release(self) -> None:
        """Releases the lock; a digests folder this lock had to make goes again when the run left
        nothing else in it (a week with no new papers writes nothing)."""
        self._lock.release()
        if self._made_folder and [p.name for p in self.path.parent.iterdir()] == [self.path.name]:
            self.path.unlink(missing_ok=True)
            self.path.parent.rmdir()

    def __enter__(self) -> WeekLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
