"""`python -m flows.worker --pool local-pool`: a Prefect process worker that stops on one SIGTERM.

Prefect's worker turns SIGTERM into SIGINT to shut down cleanly, but a process started in the
background by a non-interactive shell (`make worker &`, a service script) inherits SIGINT
ignored, so the first SIGTERM did nothing. SIGINT is restored to its default before the worker
replaces this process (same PID, so a service manager's SIGTERM reaches it). A user:password in
PREFECT_API_URL goes to Prefect apart (prefect_setup.credentials_apart), as for `top5 run`."""

from __future__ import annotations

import os
import shutil
import signal
import sys

from flows.errors import ConfigError
from flows.prefect_setup import credentials_apart


def main(argv: list[str] | None = None) -> None:
    prefect = shutil.which("prefect", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    if prefect is None:
        raise SystemExit("worker: the prefect command is not installed next to this Python")
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        credentials_apart()
    except ConfigError as exc:
        raise SystemExit(f"worker: {exc.message}") from None
    os.execv(prefect, [prefect, "worker", "start", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
