"""The weekly deployment as a user runs it: `prefect server start`, a process work pool,
`prefect deploy --all` from prefect.yaml, a process worker, and `prefect deployment run` typed
as README.md writes it, in a copy of the project folder with no PREFECT_API_URL set: the
project's prefect.toml alone sends every plain `prefect` command to the server.

Everything is a real subprocess on 127.0.0.1 with a throwaway PREFECT_HOME; arXiv and the
LLM are the local test servers, whose URLs reach the flow run only through the worker's
environment (a process worker's runs inherit it). Every process the test starts is stopped by
its PID, worker first, and checked to be gone.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows.prefect_setup import project_api_url
from tests import scripted_llm
from tests.arxiv_server import ArxivServer
from tests.conftest import REPO, WEEK, require_shared
from tests.loopback import Loopback, healthy
from tests.openai_server import OpenAIServer
from tests.review_fixture import build_year

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PREFECT = str(Path(sys.executable).parent / "prefect")
NEW_YORK = ZoneInfo("America/New_York")
# What a service script does: a background job of a non-interactive shell inherits SIGINT
# ignored (Prefect's worker turns the first SIGTERM into SIGINT, see flows/worker.py).
SIGINT_AS = ("import os, signal, sys; signal.signal(signal.SIGINT, getattr(signal, sys.argv[1])); "
             "os.execv(sys.argv[2], sys.argv[2:])")


class Service:
    """A long-running subprocess in its own session, its output kept in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, logs: Path, cwd: Path = REPO,
                 sigint: str = "SIG_DFL"):
        self.name, self.log = name, logs / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-c", SIGINT_AS, sigint, *args], cwd=cwd, env=env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def tail(self, chars: int = 4000) -> str:
        return f"--- {self.name} log ---\n" + self.log.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM to the PID; True when it and everything it started exited in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while _session_members(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)  # children (uvicorn, flow runs) finish their own shutdown
        clean = self.proc.poll() is not None and not _session_members(self.proc.pid)
        if not clean:  # never leave anything behind, even when the test fails
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        return clean


def _session_members(sid: int) -> list[int]:
    """Live PIDs in session `sid` (the service and every process it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prefect(env: dict, *args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PREFECT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def readme_commands(start: str) -> list[str]:
    """The commands README.md gives in backticks that begin with `start`, as written."""
    text = (REPO / "README.md").read_text()
    return [c for c in re.findall(r"`([^`\n]+)`", text) if c.startswith(start)]


def _project_copy(where: Path) -> Path:
    """The project folder as a user has it (its tracked files, no .venv, .prefect or drafts)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, where / name)
    return where


class WebhookReceiver(Loopback):
    """A chat webhook on 127.0.0.1: keeps the JSON bodies POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler)


def _flow_run_state(api: str, run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


def _wait_final(api: str, run_id: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while not (state := _flow_run_state(api, run_id)).is_final() and time.monotonic() < deadline:
        time.sleep(1)
    return state


def _wait_healthy(api: str, server: Service, timeout: float = 90) -> None:
    if not healthy(api, lambda: server.proc.poll() is None, timeout):
        pytest.fail(f"prefect server not healthy after {timeout} s (or exited)\n" + server.tail())


def next_monday_six_new_york(now: datetime) -> datetime:
    """The next 06:00 on a Monday in New York strictly after `now` (the cron "0 6 * * 1")."""
    local = now.astimezone(NEW_YORK)
    day = local.date() + timedelta(days=(7 - local.weekday()) % 7)
    candidate = datetime(day.year, day.month, day.day, 6, tzinfo=NEW_YORK)
    if candidate <= local:
        day += timedelta(days=7)
        candidate = datetime(day.year, day.month, day.day, 6, tzinfo=NEW_YORK)
    return candidate


def _scheduled_runs(api: str, deployment_id: str) -> list[datetime]:
    """Expected start times of the deployment's SCHEDULED runs, read with the Prefect client."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC)
    return [r.expected_start_time for r in runs]


@pytest.fixture
def week_servers():
    require_shared(WEEK)
    with ArxivServer((WEEK / "api-week.xml").read_bytes(), WEEK / "pdf") as arxiv, \
            OpenAIServer(scripted_llm.reply) as llm:
        yield arxiv, llm


def last_monday_of_december_six_new_york(now: datetime) -> datetime:
    """The next 06:00 on the last Monday of December in New York strictly after `now`."""
    for year in (now.year, now.year + 1):
        day = datetime(year, 12, 31, 6, tzinfo=NEW_YORK)
        day -= timedelta(days=day.weekday())
        if day > now:
            return day
    raise AssertionError("unreachable")


def _year_review_deployment(env: dict, api: str, tmp_path: Path, worker: Service) -> None:
    """The year-review deployment of the same prefect.yaml: run by hand as the README says, on a
    digests repository of merged editor weeks (their PDFs are not served: flagged, still drafted),
    and scheduled for the last Monday of December."""
    year = build_year(tmp_path / "year", weeks=12, pdfs=False)
    [typed] = readme_commands("prefect deployment run 'weekly-digest/year-review'")
    # as the README types it, then the fixture's year and folder (a later -p of a name wins)
    run = _prefect(env, *shlex.split(typed)[1:], "-p", "year=2025",
                   "-p", f"digests_dir={year.digests}", "-p", "open_pr=false",
                   "--watch", "--watch-interval", "1", timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + "\n" + worker.tail()
    readme = (year.digests / "2025-review" / "README.md").read_text()
    assert "## The year's themes" in readme and "Drawn from 12 merged weekly digests" in readme

    inspected = _prefect(env, "deployment", "inspect", "weekly-digest/year-review", "--output", "json")
    assert inspected.returncode == 0, inspected.stderr
    deployment = json.loads(inspected.stdout)
    assert deployment["entrypoint"] == "flows/year_review.py:year_review"
    [schedule] = deployment["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["day_or"]) == ("0 6 25-31 12 1", False)
    deadline = time.monotonic() + 30
    while not (upcoming := _scheduled_runs(api, deployment["id"])) and time.monotonic() < deadline:
        time.sleep(1)
    assert upcoming and upcoming[0] == last_monday_of_december_six_new_york(datetime.now(NEW_YORK)), upcoming[:1]


def test_the_project_settings_name_the_server_make_server_starts():
    port = re.search(r"^PORT \?= (\d+)$", (REPO / "Makefile").read_text(), re.MULTILINE).group(1)
    host = re.search(r"^HOST \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE).group(1)
    assert project_api_url(REPO) == f"http://{host}:{port}/api"


def test_weekly_deployment_runs_on_a_worker_and_is_scheduled(week_servers, tmp_path):
    arxiv, llm = week_servers
    project = _project_copy(tmp_path / "project")
    api = project_api_url(project)
    port = int(api.split(":")[2].split("/")[0])
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip(f"port {port} is taken: the README's commands reach the server prefect.toml names there")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "ARXIV_", "OPENAI_", "TOP5_"))}  # no PREFECT_API_URL
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    logs = tmp_path / "logs"
    logs.mkdir()
    services: list[Service] = []
    stopped: dict[str, bool] = {}
    webhook = WebhookReceiver()
    try:
        server = Service("server", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                         dict(env, PREFECT_API_URL=api), logs)
        services.append(server)
        _wait_healthy(api, server)

        pool = _prefect(env, "work-pool", "create", "local-pool", "--type", "process", cwd=project)
        assert pool.returncode == 0, pool.stdout + pool.stderr
        [deploy] = readme_commands("prefect deploy ")
        deployed = _prefect(env, "--no-prompt", *shlex.split(deploy)[1:], cwd=project)  # plain: nothing set beforehand
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr

        # The worker carries the run's settings; its flow-run subprocesses inherit them.
        worker_env = dict(env, PREFECT_API_URL=api, PREFECT_WORKER_QUERY_SECONDS="1",  # as `make worker`
                          ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url,
                          ARXIV_DELAY_SECONDS="0.01", OPENAI_BASE_URL=llm.base_url,
                          OPENAI_API_KEY="sk-test-NEVER-LOGGED", TOP5_LLM_MAX_WAIT="2",
                          TOP5_CACHE_DIR=str(tmp_path / "cache"), TOP5_POPULARITY="off",
                          TOP5_HISTORY_DIR=str(tmp_path / "no-history"))
        elsewhere = tmp_path / "elsewhere"  # the worker runs wherever it was started
        elsewhere.mkdir()
        worker = Service("worker", [sys.executable, "-m", "flows.worker", "--pool", "local-pool"],
                         dict(worker_env, PYTHONPATH=str(REPO)), logs, cwd=elsewhere, sigint="SIG_IGN")
        services.insert(0, worker)  # stopped first: a worker outliving its server hangs ~20 s

        # The README's command, typed as written: the draft lands in the project's digests/.
        [typed] = readme_commands("prefect deployment run 'weekly-digest/weekly'")
        shell = dict(env, PATH=os.pathsep.join([str(Path(PREFECT).parent), env.get("PATH", "")]))  # .venv/bin on PATH
        run = subprocess.run(typed, shell=True, cwd=project, env=shell, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "not found" not in run.stdout + run.stderr, run.stdout + run.stderr
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", run.stdout).group(1)
        state = _wait_final(api, run_id)
        assert state.is_completed(), f"{state}\n" + worker.tail()
        digests = project / "digests"

        readme = (digests / "2026-W47" / "README.md").read_text()
        assert len(re.findall(r"^## Paper \d: ", readme, flags=re.MULTILINE)) == 5
        assert {"papers.md", "candidates.json", "run.json"} <= {p.name for p in (digests / "2026-W47").iterdir()}
        # the run reached the local servers only through the worker's environment
        assert arxiv.api_requests() and len([r for r in arxiv.log if r.path.startswith("/pdf/")]) == 5
        assert llm.requests
        assert "sk-test-NEVER-LOGGED" not in run.stdout + run.stderr + worker.log.read_text(errors="replace")

        # `make notify URL=...`: a failed run POSTs its one line to the editor's webhook.
        notify = subprocess.run([sys.executable, "-m", "flows.notify", webhook.base + "/hook"], cwd=project,
                                env=dict(env, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=120)
        assert notify.returncode == 0 and "notifies the webhook" in notify.stdout, notify.stdout + notify.stderr

        # The editor edits the draft; running the week again is refused in one line that
        # speaks of the deployment, and the run ends Failed with that message.
        (digests / "2026-W47" / "README.md").write_text("# edited by the editor\n")
        again = _prefect(env, "deployment", "run", "weekly-digest/weekly", "-p", "week=2026-W47",
                         "-p", f"digests_dir={digests}", "-p", "open_pr=false",
                         "--watch", "--watch-interval", "1", cwd=project, timeout=180)
        assert again.returncode != 0 and "Failed" in again.stdout, again.stdout[-3000:]
        worker_log = worker.log.read_text(errors="replace")
        refusal = [line for line in worker_log.splitlines() if "was changed after this tool wrote it" in line]
        assert refusal and "with another digests_dir parameter" in refusal[-1], worker_log[-3000:]
        assert "--digests-dir" not in refusal[-1] and "Traceback" not in worker_log.split("2026-W47/README.md was")[-1]
        assert (digests / "2026-W47" / "README.md").read_text() == "# edited by the editor\n"
        deadline = time.monotonic() + 60
        while not webhook.received and time.monotonic() < deadline:
            time.sleep(0.5)
        assert webhook.received, "no notification\n" + server.tail()
        [sent] = webhook.received
        assert "ended Failed" in sent["text"] and "was changed after this tool wrote it" in sent["text"], sent
        assert "/runs/flow-run/" in sent["text"] and "sk-test" not in sent["text"]

        artifacts = _prefect(env, "artifact", "ls", "--output", "json", cwd=project)
        assert artifacts.returncode == 0, artifacts.stderr
        assert "digest-draft" in {a["key"] for a in json.loads(artifacts.stdout)}

        inspected = _prefect(env, "deployment", "inspect", "weekly-digest/weekly", "--output", "json", cwd=project)
        assert inspected.returncode == 0, inspected.stderr
        deployment = json.loads(inspected.stdout)
        [pull] = deployment["pull_steps"]  # the folder `prefect deploy` ran in, resolved
        assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == str(project.resolve())
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "0 6 * * 1"
        assert schedule["schedule"]["timezone"] == "America/New_York"
        assert schedule["active"]

        # The server's scheduler turns the cron into SCHEDULED runs (its loop for recently
        # changed deployments runs every 5 s); the first is the next Monday 06:00 in New York.
        expected = next_monday_six_new_york(datetime.now(NEW_YORK))
        deadline = time.monotonic() + 30
        while not (upcoming := _scheduled_runs(api, deployment["id"])) and time.monotonic() < deadline:
            time.sleep(1)
        assert upcoming, "the scheduler created no runs\n" + server.tail()
        assert upcoming[0] == expected, (upcoming[0], expected)
        first = upcoming[0].astimezone(NEW_YORK)
        assert (first.weekday(), first.hour, first.minute) == (0, 6, 0)  # 10:00 or 11:00 UTC
        assert timedelta(0) < upcoming[0] - datetime.now(NEW_YORK) <= timedelta(days=7)

        _year_review_deployment(env, api, tmp_path, worker)
    finally:
        webhook.stop()
        for service in services:
            stopped[service.name] = service.stop()
    assert stopped == {"worker": True, "server": True}, stopped
    assert all(s.proc.returncode is not None and not _session_members(s.proc.pid) for s in services)

