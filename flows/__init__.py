"""weekly-top5: a draft top-5 AI papers digest from a week of arXiv.

The data flow, one subpackage per stage, named after what it makes:
arXiv -> candidates/ -> shortlist/ -> pdf/ (PDF text) -> summaries/ -> digest/ -> pull_request/,
with llm/ serving the shortlist and the summaries. flows/weekly_digest.py is the only place
that knows the order of the stages; flows/run_record.py keeps the run's bookkeeping.
"""

import os as _os
from pathlib import Path as _Path

from flows.prefect_setup import EPHEMERAL_STARTUP_TIMEOUT as _EPHEMERAL_STARTUP_TIMEOUT

# Prefect reads these at import time, so they are set before any flows module imports it:
# no telemetry from an offline tool, a project-local Prefect home instead of ~/.prefect, and time
# for the temporary Prefect server to start on a busy machine (flows/prefect_setup.py). Each is
# only a default: a value the user set wins.
for _name, _value in {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": _EPHEMERAL_STARTUP_TIMEOUT,
    "PREFECT_HOME": str(_Path(__file__).resolve().parent.parent / ".prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "INFO",
}.items():
    _os.environ.setdefault(_name, _value)
