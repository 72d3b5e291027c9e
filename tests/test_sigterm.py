"""A run stopped by SIGTERM to its process group (a service manager, a closed terminal) while it
writes summaries: it stops the requests in flight, exits within seconds with one line saying what
was kept, and leaves no flow run Running in the Prefect home's database."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests import scripted_llm
from tests.test_cli import run_in_own_session

REPO = Path(__file__).resolve().parent.parent


def _flow_run_states(home: Path) -> list[tuple[str, str]]:
    """(state type, state message) of every flow run the temporary server stored under `home`."""
    with sqlite3.connect(home / "prefect.db") as db:
        return db.execute("SELECT fr.state_type, s.message FROM flow_run fr "
                          "LEFT JOIN flow_run_state s ON s.id = fr.state_id").fetchall()


@pytest.mark.e2e
def test_sigterm_to_the_process_group_during_summaries_stops_in_seconds_and_leaves_no_run_running(
        tmp_path, week_servers):
    _, llm = week_servers

    def dripping(request: dict) -> str:
        if '"take"' in request["messages"][0]["content"]:  # a summary: one byte a second, for minutes
            llm.drip_next(1.0)
        return scripted_llm.reply(request)

    llm.reply = dripping
    home = tmp_path / "prefect"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env.update(PYTHONPATH=str(REPO), PREFECT_HOME=str(home), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300")
    log = tmp_path / "run.log"
    proc = run_in_own_session(tmp_path, env, log)
    try:
        started = deadline = time.monotonic()
        deadline += 400
        while "stage summaries ..." not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        time.sleep(2)  # the summary requests are in flight

        os.killpg(proc.pid, signal.SIGTERM)  # the run and everything in its group
        print(f"SIGTERM sent after {time.monotonic() - started:.1f} s")
        sent = time.monotonic()
        returncode = proc.wait(timeout=400)
        seconds = time.monotonic() - sent
        output = log.read_text(errors="replace")

        assert seconds < 30, f"{seconds:.1f} s to exit\n{output[-3000:]}"
        assert returncode == 128 + signal.SIGTERM, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        [last] = [line for line in output.splitlines() if line.startswith("top5: ")]
        assert last.startswith("top5: stopped by SIGTERM during stage summaries") and "kept" in last, last
        assert not (tmp_path / "digests" / "2026-W47" / "README.md").exists()
        states = _flow_run_states(home)
        assert states and all(state != "RUNNING" for state, _ in states), states
        assert ("CANCELLED", last.removeprefix("top5: ")) in states, states
        print(f"exit {returncode} {seconds:.1f} s after SIGTERM\n{output}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
