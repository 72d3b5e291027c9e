"""Prefect as this project runs it: the environment defaults (set in flows/__init__.py, before
Prefect is imported) and the one line a user gets when Prefect cannot be reached.

A run with no Prefect server starts a temporary one. Prefect gives it 20 s by default, which a
busy two-core machine misses; EPHEMERAL_STARTUP_TIMEOUT is our default, and the user's own
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS always wins.
"""

from __future__ import annotations

import os

EPHEMERAL_STARTUP_TIMEOUT = "300"
SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def unreachable(exc: BaseException) -> str | None:
    """What to do when `exc` says Prefect could not be reached (one line), or None for any other
    error. Prefect raises RuntimeError for both cases (Prefect 3.8: "Timed out while attempting to
    connect to ephemeral Prefect API server." and "Failed to reach API at <url>")."""
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    if "ephemeral Prefect API server" in text:
        waited = os.environ.get(SETTING, "20")
        return (f"Prefect's temporary server did not start within {SETTING}={waited} s (a busy machine "
                f"needs longer): raise {SETTING}, or start a server with `make server` and set "
                "PREFECT_API_URL=http://127.0.0.1:4200/api")
    if text.startswith("Failed to reach API"):
        url = os.environ.get("PREFECT_API_URL", "PREFECT_API_URL")
        return (f"the Prefect server at {url} (PREFECT_API_URL) does not answer: start it with `make server`, "
                "or unset PREFECT_API_URL to run with a temporary one")
    return None
