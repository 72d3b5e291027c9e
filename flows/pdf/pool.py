"""Many PDFs read in killable worker processes: a file that hangs is killed at its timeout, and one
bad file never costs the others their result.

Workers are plain subprocesses (`python -c "...; serve()"`), not multiprocessing children: they
never re-import the caller's __main__ (a Prefect flow script), are safe to start from a threaded
parent, and a killed worker is simply replaced. Each worker reads many jobs, so the interpreter
start-up (~0.3 s) is paid once per worker, not once per file. Jobs and results travel as
length-prefixed pickles (a 4-byte big-endian length, then the pickle).
"""

from __future__ import annotations

import logging
import os
import pickle
import selectors
import struct
import subprocess
import sys
import time
from pathlib import Path

from flows.config import PROJECT_DIR
from flows.errors import PdfError
from flows.pdf.extract import DEFAULT_MAX_BYTES, extract_pdf
from flows.pdf.paper import Extraction

_WORKER_MEMORY_LIMIT = 2 * 1024**3  # address-space cap per worker: a PDF bomb ends as too_large
_HEADER = struct.Struct("!I")


def _run_job(path: str, max_pages: int, max_bytes: int) -> Extraction:
    try:
        return Extraction(path, extract_pdf(path, max_pages=max_pages, max_bytes=max_bytes), None)
    except PdfError as exc:
        return Extraction(path, None, exc.reason, exc.message)
    except MemoryError:
        return Extraction(path, None, "too_large", f"{path}: needs more memory than a worker may use")
    except Exception as exc:  # never let one file end the worker
        return Extraction(path, None, "broken", f"{path}: {type(exc).__name__}: {exc}")


def _read_exact(stream, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve() -> None:
    """Worker main loop: length-prefixed pickled jobs on stdin, pickled Extractions on stdout."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_WORKER_MEMORY_LIMIT, _WORKER_MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the protocol
    jobs = sys.stdin.buffer
    while True:
        header = _read_exact(jobs, _HEADER.size)
        if header is None:
            return
        payload = _read_exact(jobs, _HEADER.unpack(header)[0])
        if payload is None:
            return
        path, max_pages, max_bytes = pickle.loads(payload)
        data = pickle.dumps(_run_job(path, max_pages, max_bytes))
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()


class _Worker:
    """One worker subprocess and the job it is running."""

    def __init__(self) -> None:
        root = str(PROJECT_DIR)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from flows.pdf.pool import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.index = -1
        self.path = ""
        self.deadline = 0.0

    def start(self, index: int, path: str, max_pages: int, max_bytes: int, timeout: float) -> None:
        self.index, self.path, self.buffer = index, path, b""
        self.deadline = time.monotonic() + timeout
        payload = pickle.dumps((path, max_pages, max_bytes))
        self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
        self.proc.stdin.flush()

    def poll(self) -> Extraction | None | bool:
        """The result when complete, None when still running, False when the worker died."""
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                return self._complete() or False
            self.buffer += chunk
        return self._complete()

    def _complete(self) -> Extraction | None:
        if len(self.buffer) < _HEADER.size:
            return None
        size = _HEADER.unpack(self.buffer[: _HEADER.size])[0]
        if len(self.buffer) < _HEADER.size + size:
            return None
        return pickle.loads(self.buffer[_HEADER.size: _HEADER.size + size])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


def extract_many(
    paths: list[Path],
    *,
    timeout: float = 60.0,
    max_pages: int = 40,
    workers: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Extraction]:
    """Extract every file in worker processes; results in the order of `paths`.

    A file still running `timeout` seconds after it was handed to a worker is killed with its
    worker and reported as "timeout"; the other files go on in fresh workers.
    """
    results: list[Extraction | None] = [None] * len(paths)
    queue = sorted(range(len(paths)), key=lambda i: _size(paths[i]))  # pop() takes the largest first
    slots = min(max(1, workers or os.cpu_count() or 1), len(paths))
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    try:
        while queue or busy:
            while queue and len(busy) < slots:
                worker = idle.pop() if idle else _Worker()
                i = queue.pop()
                worker.start(i, str(paths[i]), max_pages, max_bytes, timeout)
                busy.append(worker)
            _wait(busy)
            _collect(busy, idle, results, timeout)
    finally:
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()
    return [r for r in results if r is not None]


def _collect(busy: list[_Worker], idle: list[_Worker], results: list[Extraction | None], timeout: float) -> None:
    """Results of the workers that finished (or timed out); a worker that may go on becomes idle."""
    for worker in list(busy):
        outcome = _outcome(worker, timeout)
        if outcome is None:
            continue
        result, reusable = outcome
        results[worker.index] = result
        busy.remove(worker)
        if reusable:
            idle.append(worker)
        else:
            worker.kill()


def _wait(busy: list[_Worker]) -> None:
    wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
    with selectors.DefaultSelector() as sel:
        for worker in busy:
            sel.register(worker.proc.stdout.fileno(), selectors.EVENT_READ)
        sel.select(timeout=wait_for)


def _outcome(worker: _Worker, timeout: float) -> tuple[Extraction, bool] | None:
    result = worker.poll()
    if isinstance(result, Extraction):
        return result, True
    if result is False:
        code = worker.proc.wait()
        return Extraction(worker.path, None, "broken", f"{worker.path}: worker died (exit code {code})"), False
    if time.monotonic() >= worker.deadline:
        detail = f"{worker.path}: no result after {timeout:g} s; worker killed"
        return Extraction(worker.path, None, "timeout", detail), False
    return None


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0

